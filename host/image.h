/* SPDX-License-Identifier: MIT */
/* Finding the driver-VM and client-VM images (kernel, initramfs, image.conf). */
#ifndef DDVM_HOST_IMAGE_H
#define DDVM_HOST_IMAGE_H

#include <limits.h>
#include <stddef.h>

struct image_info {
	char dir[PATH_MAX];
	char kernel[PATH_MAX];		/* absolute */
	char initramfs[PATH_MAX];	/* absolute, "" if none */
	char cmdline[1024];
	char release[128];
	int pvh;			/* boot = "pvh" (else "bzimage") */
	char modules[1024];		/* drivers in the image, comma-separated ("" = unknown) */
};

/*
 * Where ddvm's own files are (see image.c): run from a build tree, that tree;
 * installed (make install), the install paths under the running binary's root.
 */
int ddvm_installed(void);
/* The image builder and its inputs: $DDVM_SRCDIR, the sources, or DATADIR/ddvm. */
const char *image_srcdir(void);
/* The nbdkit plugin (disk) or ddvm-tap (!disk) that ships with this ddvm. */
void ddvm_frontend_path(int disk, char *out, size_t len);
/* Default image dir: BUILD/image, BUILD/client-image; installed: STATEDIR/images/{driver,client}. */
void image_default_dir(int client, char *out, size_t len);

/*
 * Image dir: $DDVM_IMAGE_DIR, else cfg_dir (config `image =`, may be ""),
 * else image_default_dir(0).  Reads DIR/image.conf.  Returns 0, or -1 with
 * one error line in err.
 */
int image_load(const char *cfg_dir, struct image_info *out, char *err, size_t errlen);

/*
 * The client-VM image (`ddvm image build --client`: the same kernel,
 * ddvm_front.ko, mkfs.ext4): $DDVM_CLIENT_IMAGE_DIR, else
 * image_default_dir(1).  0, or -1 with one error line in err.
 */
int image_load_client(struct image_info *out, char *err, size_t errlen);

/* Is module m (or its '-'/'_' spelling) in the image's list?  Unknown list: yes. */
int image_has_module(const struct image_info *img, const char *m);

/*
 * `ddvm image build ARGS`: exec image_srcdir()/image/build.sh, which takes
 * the arguments (--client: the client-VM image), with DDVM_IMAGE_DIR and
 * DDVM_CLIENT_IMAGE_DIR defaulting to image_default_dir().  Returns only on error.
 */
int image_build_exec(int argc, char **argv);

#endif
