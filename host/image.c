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

/*
 * Where ddvm's files are.  From the build tree (BUILD/bin/ddvm of a source
 * tree): the sources (image builder, module sources) and BUILD (front-ends,
 * images).  Installed: the paths of install.mk (ddvm_paths.h, generated),
 * under the root the running binary sits in -- "" for /usr/local/bin/ddvm,
 * DIR for DIR/usr/local/bin/ddvm (a DESTDIR tree or a copy of one).  An
 * installed ddvm never looks at a source tree; $DDVM_SRCDIR names one
 * explicitly (then used as a build tree).
 */
#include "ddvm_paths.h"
#ifndef DDVM_SRCDIR
#define DDVM_SRCDIR "."
#endif

static struct {
	int done, installed;
	char src[PATH_MAX];	/* build tree: the sources */
	char build[PATH_MAX];	/* build tree: BUILD */
	char root[PATH_MAX];	/* installed: prefix of the install paths ("" = /) */
	char data[PATH_MAX];	/* installed: root + DDVM_INST_DATADIR */
} where;

static int exists(const char *dir, const char *file)
{
	char p[PATH_MAX * 2];

	strfmt(p, sizeof(p), "%s/%s", dir, file);
	return access(p, F_OK) == 0;
}

/* dir without its last component ("/" stays "/"). */
static void parent_of(const char *dir, char *out, size_t len)
{
	char *slash;

	strfmt(out, len, "%s", dir);
	slash = strrchr(out, '/');
	if (slash && slash != out)
		*slash = '\0';
	else if (slash)
		slash[1] = '\0';
}

static void resolve_where(void)
{
	const char *env = getenv("DDVM_SRCDIR");
	char exe[PATH_MAX], bindir[PATH_MAX], up[PATH_MAX], up2[PATH_MAX], inst[PATH_MAX];
	size_t n, m;

	if (where.done)
		return;
	where.done = 1;
	if (env && *env) {
		strfmt(where.src, sizeof(where.src), "%s", env);
		strfmt(where.build, sizeof(where.build), "%s/build", env);
		return;
	}
	if (!realpath("/proc/self/exe", exe))
		strfmt(exe, sizeof(exe), "%s", DDVM_INST_BINDIR "/ddvm");
	parent_of(exe, bindir, sizeof(bindir));
	parent_of(bindir, up, sizeof(up));
	parent_of(up, up2, sizeof(up2));
	/* BUILD/bin/ddvm with BUILD in the sources, or the BUILD it was built in */
	if ((exists(up2, "image/build.sh") && exists(up2, "host/main.c")) ||
	    !strcmp(bindir, DDVM_BUILD_BINDIR)) {
		if (!strcmp(bindir, DDVM_BUILD_BINDIR) && !exists(up2, "image/build.sh"))
			strfmt(where.src, sizeof(where.src), "%s", DDVM_SRCDIR);
		else
			strfmt(where.src, sizeof(where.src), "%s", up2);
		strfmt(where.build, sizeof(where.build), "%s", up);
		return;
	}
	where.installed = 1;
	strfmt(inst, sizeof(inst), "%s", DDVM_INST_BINDIR);
	while (strlen(inst) > 1 && inst[strlen(inst) - 1] == '/')
		inst[strlen(inst) - 1] = '\0';
	n = strlen(bindir);
	m = strlen(inst);
	if (n >= m && !strcmp(bindir + n - m, inst))
		strfmt(where.root, sizeof(where.root), "%.*s", (int)(n - m), bindir);
	strfmt(where.data, sizeof(where.data), "%s%s", where.root, DDVM_INST_DATADIR);
	pr_debug("installed ddvm: root '%s', data %s", where.root, where.data);
}

int ddvm_installed(void)
{
	resolve_where();
	return where.installed;
}

const char *image_srcdir(void)
{
	resolve_where();
	return where.installed ? where.data : where.src;
}

void ddvm_frontend_path(int disk, char *out, size_t len)
{
	resolve_where();
	if (where.installed && disk)
		strfmt(out, len, "%s%s/nbdkit-ddvm-plugin.so", where.root, DDVM_INST_PLUGINDIR);
	else if (where.installed)
		strfmt(out, len, "%s%s/ddvm-tap", where.root, DDVM_INST_BINDIR);
	else
		strfmt(out, len, "%s/%s", where.build,
		       disk ? "frontends/nbdkit-ddvm-plugin.so" : "bin/ddvm-tap");
}

void image_default_dir(int client, char *out, size_t len)
{
	resolve_where();
	if (where.installed)
		strfmt(out, len, "%s%s/images/%s", where.root, DDVM_INST_STATEDIR,
		       client ? "client" : "driver");
	else
		strfmt(out, len, "%s/%s", where.build, client ? "client-image" : "image");
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
		image_default_dir(0, out->dir, sizeof(out->dir));
	return load_dir(out, "driver VM", "ddvm image build", err, errlen);
}

int image_load_client(struct image_info *out, char *err, size_t errlen)
{
	const char *env = getenv("DDVM_CLIENT_IMAGE_DIR");

	memset(out, 0, sizeof(*out));
	if (env && *env)
		strfmt(out->dir, sizeof(out->dir), "%s", env);
	else
		image_default_dir(1, out->dir, sizeof(out->dir));
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
	char script[PATH_MAX], dir[PATH_MAX];
	char **args = calloc((size_t)argc + 2, sizeof(*args));
	int i;

	strfmt(script, sizeof(script), "%s/image/build.sh", image_srcdir());
	if (!args)
		return -ENOMEM;
	/* The script's default output dirs are its own tree's: tell it ours. */
	image_default_dir(0, dir, sizeof(dir));
	setenv("DDVM_IMAGE_DIR", dir, 0);
	image_default_dir(1, dir, sizeof(dir));
	setenv("DDVM_CLIENT_IMAGE_DIR", dir, 0);
	args[0] = script;
	for (i = 0; i < argc; i++)
		args[i + 1] = argv[i];
	execv(script, args);
	if (ddvm_installed())
		cli_err("cannot run %s: %s (the image builder is installed with ddvm: reinstall it)",
			script, strerror(errno));
	else
		cli_err("cannot run %s: %s (set DDVM_SRCDIR to the ddvm source tree)", script,
			strerror(errno));
	free(args);
	return -errno;
}
