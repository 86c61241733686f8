// SPDX-License-Identifier: MIT
/*
 * Image lookup: image.conf written by image/build.sh, for the driver-VM
 * image and for the client-VM image (`ddvm image build --client`).
 */
#include <errno.h>
#include <libconfig.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "image.h"
#include "ddvm/posix/log.h"

#ifndef DDVM_SRCDIR
#define DDVM_SRCDIR "."
#endif

const char *image_srcdir(void)
{
	const char *e = getenv("DDVM_SRCDIR");

	return e && *e ? e : DDVM_SRCDIR;
}

static int get_str(config_t *lc, const char *key, char *out, size_t len, int required)
{
	const char *s;

	if (config_lookup_string(lc, key, &s) != CONFIG_TRUE) {
		out[0] = '\0';
		return required ? -1 : 0;
	}
	strfmt(out, len, "%s", s);
	return 0;
}

static void abs_in(const char *dir, const char *p, char *out, size_t len)
{
	char tmp[PATH_MAX];

	strfmt(tmp, sizeof(tmp), "%s", p);
	if (tmp[0] == '/')
		strfmt(out, len, "%s", tmp);
	else
		strfmt(out, len, "%s/%s", dir, tmp);
}

/* Read DIR/image.conf (out->dir); what = "driver VM" or "client VM", build = its command. */
static int load_dir(struct image_info *out, const char *what, const char *build, char *err,
		    size_t errlen)
{
	char conf[PATH_MAX + 16], val[PATH_MAX], boot[32];
	config_t lc;
	int ret = -1;

	strfmt(conf, sizeof(conf), "%s/image.conf", out->dir);
	if (access(conf, R_OK) < 0) {
		strfmt(err, errlen, "%s image not found in %s (run '%s')", what, out->dir, build);
		return -1;
	}
	config_init(&lc);
	if (config_read_file(&lc, conf) != CONFIG_TRUE) {
		strfmt(err, errlen, "%s:%d: %s", conf, config_error_line(&lc), config_error_text(&lc));
		goto out;
	}
	if (get_str(&lc, "kernel", val, sizeof(val), 1) < 0) {
		strfmt(err, errlen, "%s: no kernel = \"...\"", conf);
		goto out;
	}
	abs_in(out->dir, val, out->kernel, sizeof(out->kernel));
	get_str(&lc, "initramfs", val, sizeof(val), 0);
	if (val[0])
		abs_in(out->dir, val, out->initramfs, sizeof(out->initramfs));
	get_str(&lc, "cmdline", out->cmdline, sizeof(out->cmdline), 0);
	get_str(&lc, "release", out->release, sizeof(out->release), 0);
	get_str(&lc, "modules", out->modules, sizeof(out->modules), 0);
	get_str(&lc, "boot", boot, sizeof(boot), 0);
	/* image/build.sh writes "linux" for a bzImage; "bzimage" is accepted too. */
	if (boot[0] && strcmp(boot, "pvh") && strcmp(boot, "linux") && strcmp(boot, "bzimage")) {
		strfmt(err, errlen, "%s: boot = \"%s\" is not pvh or linux", conf, boot);
		goto out;
	}
	out->pvh = !strcmp(boot, "pvh");
	if (access(out->kernel, R_OK) < 0 || (out->initramfs[0] && access(out->initramfs, R_OK) < 0)) {
		strfmt(err, errlen, "%s image not found in %s (run '%s'): %s missing", what,
		       out->dir, build, access(out->kernel, R_OK) < 0 ? out->kernel : out->initramfs);
		goto out;
	}
	ret = 0;
out:
	config_destroy(&lc);
	return ret;
}

int image_load(const char *cfg_dir, struct image_info *out, char *err, size_t errlen)
{
	const char *env = getenv("DDVM_IMAGE_DIR");

	memset(out, 0, sizeof(*out));
	if (env && *env)
		strfmt(out->dir, sizeof(out->dir), "%s", env);
	else if (cfg_dir && *cfg_dir)
		strfmt(out->dir, sizeof(out->dir), "%s", cfg_dir);
	else
		strfmt(out->dir, sizeof(out->dir), "%s/build/image", image_srcdir());
	return load_dir(out, "driver VM", "ddvm image build", err, errlen);
}

int image_load_client(struct image_info *out, char *err, size_t errlen)
{
	const char *env = getenv("DDVM_CLIENT_IMAGE_DIR");

	memset(out, 0, sizeof(*out));
	if (env && *env)
		strfmt(out->dir, sizeof(out->dir), "%s", env);
	else
		strfmt(out->dir, sizeof(out->dir), "%s/build/client-image", image_srcdir());
	return load_dir(out, "client VM", "ddvm image build --client", err, errlen);
}

static int same_module(const char *a, size_t alen, const char *b)
{
	size_t i;

	if (strlen(b) != alen)
		return 0;
	for (i = 0; i < alen; i++) {
		char x = a[i] == '-' ? '_' : a[i], y = b[i] == '-' ? '_' : b[i];

		if (x != y)
			return 0;
	}
	return 1;
}

int image_has_module(const struct image_info *img, const char *m)
{
	const char *p = img->modules;

	if (!p[0])
		return 1;
	while (*p) {
		size_t n = strcspn(p, ", ");

		if (n && same_module(p, n, m))
			return 1;
		p += n;
		p += strspn(p, ", ");
	}
	return 0;
}

int image_build_exec(int argc, char **argv)
{
	char script[PATH_MAX];
	char **args = calloc((size_t)argc + 2, sizeof(*args));
	int i;

	strfmt(script, sizeof(script), "%s/image/build.sh", image_srcdir());
	if (!args)
		return -ENOMEM;
	args[0] = script;
	for (i = 0; i < argc; i++)
		args[i + 1] = argv[i];
	execv(script, args);
	cli_err("cannot run %s: %s (set DDVM_SRCDIR to the ddvm source tree)", script, strerror(errno));
	free(args);
	return -errno;
}
