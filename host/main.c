// SPDX-License-Identifier: MIT
/* ddvm: the driver-VM supervisor's command line. */
#include <errno.h>
#include <fcntl.h>
#include <libconfig.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "accel.h"
#include "client.h"
#include "config.h"
#include "config_check.h"
#include "privilege.h"
#include "image.h"
#include "ddvm/posix/log.h"
#include "rundir.h"
#include "spawn.h"
#include "storm.h"
#include "sd_notify.h"
#include "supervisor.h"
#include "vfio_check.h"

#define DDVM_VERSION	"0.1.0"
#define EXIT_USAGE	2

static const char usage_text[] =
	"usage: ddvm [--rundir DIR] COMMAND [ARGS]\n"
	"\n"
	"Run unmodified Linux device drivers in driver VMs and serve them over shared memory.\n"
	"\n"
	"commands:\n"
	"  up [-d] [--bind] CONFIG start the driver VMs in CONFIG and supervise them\n"
	"  check [-q] CONFIG...    validate configs without starting anything (exit 1: errors)\n"
	"  status [--json]         show each driver VM, its health and its devices\n"
	"  down [--timeout SEC]    stop all driver VMs and the supervisor\n"
	"  ping [VM] [-n COUNT] [--json]\n"
	"                          time doorbell round trips over a VM's control queue\n"
	"  inject [VM] FAULT       inject a fault: kill, panic, hang, oops, poison, ioerr, link,\n"
	"                          storm (fault injection; tests)\n"
	"  crash [VM]              make a driver VM panic (= inject VM panic)\n"
	"  link [VM] DEVICE up|down  plug or pull a NIC's cable (QMP set_link; tests)\n"
	"  qemu-args CLIENT        the QEMU options that attach a client VM to its disks and NICs\n"
	"  image build [ARGS]      build the driver-VM image (image/build.sh; --client: the\n"
	"                          client-VM image)\n"
	"  help [COMMAND]          this help, or a command's\n"
	"\n"
	"options:\n"
	"  --rundir DIR            run folder (env DDVM_RUNDIR; default /run/ddvm for root,\n"
	"                          else $XDG_RUNTIME_DIR/ddvm, else /tmp/ddvm-UID)\n"
	"  -h, --help              this help; 'ddvm COMMAND --help' for a command\n"
	"  -V, --version           print the version\n"
	"\n"
	"environment: DDVM_ACCEL=kvm|tcg, DDVM_IMAGE_DIR, DDVM_CLIENT_IMAGE_DIR, DDVM_SRCDIR,\n"
	"             DDVM_QEMU, DDVM_LOG_MAX, DDVM_DEBUG=1, DDVM_NBDKIT_PLUGIN, DDVM_TAP_BIN (front-ends;\n"
	"             default: the ones installed with ddvm, or the build tree's), DDVM_SYSFS_ROOT\n"
	"See ddvm(1) and ddvm.conf(5).\n";

static const char *const cmd_help[][2] = {
	{ "up", "usage: ddvm up [-d|--detach] [--bind] CONFIG\n"
		"Start every driver VM in CONFIG and supervise them in the foreground (logs on\n"
		"stderr; Ctrl-C or SIGTERM stops everything; under systemd, READY=1 once all VMs\n"
		"are ready).  With -d, run in the background (logs in RUNDIR/ddvm.log) and return\n"
		"once all VMs are ready (exit 0) or one failed (exit 1).  Host PCI devices (vfio)\n"
		"are checked first (IOMMU, vfio-pci, IOMMU group, interrupt remapping); --bind\n"
		"binds those not yet bound to vfio-pci (see docs/vfio.md).\n" },
	{ "check", "usage: ddvm check [-q|--quiet] CONFIG...\n"
		   "Validate each CONFIG without starting anything: every error as FILE:LINE: KEY:\n"
		   "message on stderr, then 'FILE: ok' or 'FILE: N errors' on stdout (-q: errors\n"
		   "only).  Also checks host PCI devices (vfio) as 'up' would, and warns about a\n"
		   "missing image.  Exit 0 if every config is valid, 1 if not.\n" },
	{ "status", "usage: ddvm status [--json]\n"
		    "Show each driver VM: state, accelerator, uptime, restarts, generation, heartbeat,\n"
		    "QEMU pid, console log, the PCI devices its Linux sees with their drivers, and\n"
		    "its exports: per disk the NBD URI, per NIC the TAP device, link and counters.\n"
		    "Exit 1 if no supervisor runs in the run folder.\n" },
	{ "down", "usage: ddvm down [--timeout SEC]\n"
		  "Stop all driver VMs (QEMU killed after SEC seconds, default 10) and the supervisor.\n" },
	{ "ping", "usage: ddvm ping [VM] [-n COUNT] [--json]\n"
		  "Send COUNT (default 10) PING requests over VM's control queue, one at a time, each\n"
		  "with a doorbell both ways; print min/p50/p99/max round-trip microseconds.\n" },
	{ "inject", "usage: ddvm inject [VM] FAULT\n"
		    "Inject FAULT into driver VM VM to exercise recovery.  Only for a VM with\n"
		    "fault_injection = true in its config, and ready.  FAULT is one of:\n"
		    "  kill    SIGKILL its QEMU\n"
		    "  panic   its kernel panics (as ddvm crash)\n"
		    "  hang    it stops answering, heartbeat and queues (the heartbeat watchdog\n"
		    "          restarts it)\n"
		    "  oops    an oops in the block translation's I/O path, requests in flight\n"
		    "  poison  its next block write is a poison pill (that write fails with EIO\n"
		    "          after killing two driver VMs; the rest complete)\n"
		    "  ioerr   its disks fail every request with an I/O error for 3 s\n"
		    "  link    its NICs' cables are pulled for 2 s\n"
		    "  storm   a hostile client floods garbage requests and doorbells on the VM's\n"
		    "          last channel (give it a device of its own) for 5 s\n" },
	{ "crash", "usage: ddvm crash [VM]\n"
		   "Make VM's kernel panic, as a crashing driver would, to exercise recovery: the\n"
		   "same as 'ddvm inject VM panic'.  Only for a VM with fault_injection = true in\n"
		   "its config.\n" },
	{ "link", "usage: ddvm link [VM] DEVICE up|down\n"
		  "Plug or pull the cable of NIC number DEVICE (as in config errors and status:\n"
		  "1 = the VM's first device) by setting its QEMU backend's link; the driver VM's\n"
		  "driver sees carrier change as with real hardware, and the TAP front-end follows.\n" },
	{ "qemu-args", "usage: ddvm qemu-args [--virtio] CLIENT\n"
		       "Print the QEMU options (shell-quoted) that attach client VM CLIENT of the\n"
		       "running config to its disks and NICs: a chardev and an ivshmem-doorbell device\n"
		       "per disk and NIC, each on a channel of its own; or, for a client with\n"
		       "virtio = true (--virtio insists on it), a virtio-blk on each disk's NBD export\n"
		       "and a virtio-net on the TAP ddvm joined to each NIC's host bridge.  For a\n"
		       "client with start = false, started by you.\n" },
	{ "image", "usage: ddvm image build [--client] [ARGS]\n"
		   "Build the driver-VM image (--client: the client-VM image) with image/build.sh:\n"
		   "from the build tree into BUILD/image, or installed into /var/lib/ddvm/images/\n"
		   "(driver, client); DDVM_IMAGE_DIR / DDVM_CLIENT_IMAGE_DIR or --out choose\n"
		   "another.  'ddvm image build --help' lists ARGS.\n" },
	{ "help", "usage: ddvm help [COMMAND]\n"
		  "The list of commands, or COMMAND's help.\n" },
};

static int usage_error(const char *fmt, const char *arg)
{
	fputs("ddvm: ", stderr);
	fprintf(stderr, fmt, arg);
	fputs(" (see 'ddvm --help')\n", stderr);
	return EXIT_USAGE;
}

static int is_help(const char *a)
{
	return !strcmp(a, "-h") || !strcmp(a, "--help");
}

static int help_for(const char *cmd)
{
	size_t i;

	for (i = 0; i < sizeof(cmd_help) / sizeof(cmd_help[0]); i++)
		if (!strcmp(cmd_help[i][0], cmd)) {
			fputs(cmd_help[i][1], stdout);
			return 0;
		}
	return usage_error("unknown command '%s'", cmd);
}

static int parse_uint(const char *s, unsigned int max, unsigned int *out)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || end == s || *end || v > max || s[0] == '-')
		return -1;
	*out = (unsigned int)v;
	return 0;
}

/* Wait for the detached supervisor's one-line verdict. */
static int up_wait_child(int rfd, pid_t child, const char *rundir)
{
	char line[1100];
	size_t len = 0;
	ssize_t n;

	while (len < sizeof(line) - 1 && (n = read(rfd, line + len, sizeof(line) - 1 - len)) != 0) {
		if (n < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		len += (size_t)n;
	}
	close(rfd);
	line[len] = '\0';
	if (len && line[len - 1] == '\n')
		line[len - 1] = '\0';
	if (!strcmp(line, "ok")) {
		fprintf(stderr, "ddvm: driver VMs ready; supervisor pid %d, log %s/ddvm.log\n", (int)child, rundir);
		return 0;
	}
	if (line[0])
		cli_err("%s", line);
	else
		cli_err("supervisor exited during startup; see %s/ddvm.log", rundir);
	return 1;
}

/*
 * A device whose driver the image lacks would never be served: an error
 * naming the device (`up` refuses the config, `check` counts it).  A module
 * only the config's own `modules` list names gets a warning.  Returns the
 * number of errors.
 */
static unsigned int check_image_drivers(const struct ddvm_config *cfg, const struct image_info *img)
{
	char mods[1024], *tok, *save;
	unsigned int i, j, bad = 0;

	for (i = 0; i < cfg->nvms; i++) {
		const struct vm_config *vm = &cfg->vms[i];

		for (j = 0; j < vm->ndevs; j++) {
			snprintf(mods, sizeof(mods), "%s", dev_type_modules(vm->devs[j].type));
			for (tok = strtok_r(mods, ",", &save); tok; tok = strtok_r(NULL, ",", &save))
				if (!image_has_module(img, tok)) {
					cli_err("vm '%s': device %u (%s): the image has no driver for it: module "
						"'%s' is not in the image's module list (%s); rebuild the image "
						"with 'ddvm image build'", vm->name, j + 1,
						dev_type_name(vm->devs[j].type), tok, img->modules);
					bad++;
					break;
				}
		}
		for (j = 0; j < vm->nmodules; j++)
			if (!image_has_module(img, vm->modules[j]))
				fprintf(stderr, "ddvm: warning: vm '%s' needs module '%s', which is not in the "
					"image's module list (%s); rebuild with 'ddvm image build --modules-list ...'\n",
					vm->name, vm->modules[j], img->modules);
	}
	return bad;
}

static int cmd_up(int argc, char **argv, const char *rundir)
{
	static struct ddvm_config cfg;
	static struct image_info img;
	static struct supervisor sv;
	const char *conf = NULL;
	char err[1024], path[PATH_MAX + 16];
	int detach = 0, bind = 0, lockfd, fds[2], i, r;
	pid_t holder, child;

	sdn_init();	/* under systemd: ours, not QEMU's */
	for (i = 1; i < argc; i++) {
		if (is_help(argv[i]))
			return help_for("up");
		if (!strcmp(argv[i], "-d") || !strcmp(argv[i], "--detach"))
			detach = 1;
		else if (!strcmp(argv[i], "--bind"))
			bind = 1;
		else if (argv[i][0] == '-' && argv[i][1])
			return usage_error("up: unknown option '%s'", argv[i]);
		else if (conf)
			return usage_error("up: more than one config given ('%s')", argv[i]);
		else
			conf = argv[i];
	}
	if (!conf)
		return usage_error("up: no config file given%s", "");

	if (config_load(conf, &cfg, err, sizeof(err)) < 0 ||
	    accel_choose(&sv.accel, sv.accel_reason, sizeof(sv.accel_reason)) < 0 ||
	    image_load(cfg.image_dir, &img, err, sizeof(err)) < 0) {
		cli_err("%s", err[0] ? err : sv.accel_reason);
		return 1;
	}
	if (check_image_drivers(&cfg, &img))
		return 1;
	for (i = 0; i < (int)cfg.nvms; i++)	/* host PCI devices (vfio): before anything starts */
		if (vfio_check_vm(&cfg.vms[i], bind, err, sizeof(err)) < 0) {
			cli_err("%s", err);
			return 1;
		}
	if (rundir_make(rundir, err, sizeof(err)) < 0) {
		cli_err("%s", err);
		return 1;
	}
	for (i = 0; i < (int)cfg.nvms; i++)	/* the longest socket name: chan-diskNN[-CLIENT].sock */
		if (strlen(rundir) + strlen(cfg.vms[i].name) + sizeof("//chan-disk15-.sock") +
		    (cfg.vms[i].nattach ? CFG_NAME_MAX - 1 : 0) > 108) {
			cli_err("run folder path %s is too long for unix sockets (use a shorter DDVM_RUNDIR)", rundir);
			return 1;
		}
	lockfd = rundir_lock(rundir, &holder);
	if (lockfd == -EBUSY) {
		cli_err("a supervisor (pid %d) is already running in %s (use 'ddvm down' or another DDVM_RUNDIR)",
			(int)holder, rundir);
		return 1;
	} else if (lockfd < 0) {
		cli_err("cannot lock %s/supervisor.lock: %s", rundir, strerror(-lockfd));
		return 1;
	}
	if (config_create_backing(&cfg, err, sizeof(err)) < 0) {
		cli_err("%s", err);
		return 1;
	}
	sv.cfg = &cfg;
	sv.img = &img;
	snprintf(sv.rundir, sizeof(sv.rundir), "%s", rundir);
	sv.notify_fd = -1;
	if (!detach) {
		rundir_lock_set_pid(lockfd, getpid());
		return supervisor_run(&sv);
	}
	if (pipe2(fds, O_CLOEXEC) < 0) {
		cli_err("pipe: %s", strerror(errno));
		return 1;
	}
	fflush(NULL);
	child = fork();
	if (child < 0) {
		cli_err("fork: %s", strerror(errno));
		return 1;
	}
	if (child > 0) {
		close(fds[1]);
		return up_wait_child(fds[0], child, rundir);
	}
	close(fds[0]);
	setsid();
	rundir_lock_set_pid(lockfd, getpid());
	snprintf(path, sizeof(path), "%s/ddvm.log", rundir);
	r = open(path, O_WRONLY | O_CREAT | O_APPEND | O_NOFOLLOW | O_CLOEXEC, 0644);
	i = open("/dev/null", O_RDONLY);
	if (r < 0 || i < 0 || dup2(i, 0) < 0 || dup2(r, 1) < 0 || dup2(r, 2) < 0)
		_exit(1);
	close(r);
	close(i);
	sv.notify_fd = fds[1];
	_exit(supervisor_run(&sv));
}

struct check_out {
	int quiet;
	unsigned int n;
};

static void check_print(const struct cfg_error *e, void *arg)
{
	struct check_out *o = arg;

	o->n++;
	if (e->line > 0)
		fprintf(stderr, "%s:%d: ", e->file, e->line);
	else
		fprintf(stderr, "%s: ", e->file);
	fprintf(stderr, "%s%s%s\n", e->key, e->key[0] ? ": " : "", e->msg);
}

/* The line of setting path ("vms.[0].devices.[1].host") in conf, 0 if unknown. */
static int line_of(const char *conf, const char *path)
{
	config_setting_t *s;
	config_t lc;
	int line = 0;

	config_init(&lc);
	if (config_read_file(&lc, conf) == CONFIG_TRUE && (s = config_lookup(&lc, path)))
		line = config_setting_source_line(s);
	config_destroy(&lc);
	return line;
}

/* What `up` would refuse on this host beyond the config: host PCI devices. */
static void check_host(const char *conf, const struct ddvm_config *cfg, struct check_out *o)
{
	char msg[900], warn[512], path[96];
	unsigned int i, j;

	/* who QEMU and the front-ends would run as (the config resolved the name already) */
	if (run_user_init(cfg->run_user, msg, sizeof(msg)) < 0)
		fprintf(stderr, "%s: %s\n", conf, msg), o->n++;
	else if (run_user_why_root())
		fprintf(stderr, "%s: warning: QEMU and the front-ends would run as root: %s\n", conf,
			run_user_why_root());
	for (i = 0; i < cfg->nvms; i++)
		for (j = 0; j < cfg->vms[i].ndevs; j++) {
			struct cfg_error e = { 0 };

			if (cfg->vms[i].devs[j].type != DEV_VFIO)
				continue;
			snprintf(path, sizeof(path), "vms.[%u].devices.[%u].host", i, j);
			if (vfio_check_device(cfg->vms[i].devs[j].host, msg, sizeof(msg), warn,
					      sizeof(warn)) == 0) {
				if (warn[0])
					fprintf(stderr, "%s:%d: warning: vm '%s': device %u: %s\n", conf,
						line_of(conf, path), cfg->vms[i].name, j + 1, warn);
				continue;
			}
			snprintf(e.file, sizeof(e.file), "%s", conf);
			e.line = line_of(conf, path);
			snprintf(e.key, sizeof(e.key), "vms[%u].devices[%u].host", i, j);
			snprintf(e.msg, sizeof(e.msg), "vm '%s': device %u: %s", cfg->vms[i].name, j + 1, msg);
			check_print(&e, o);
		}
}

static int cmd_check(int argc, char **argv)
{
	static struct ddvm_config cfg;
	static struct image_info img;
	struct check_out o = { 0 };
	unsigned int before, bad = 0, nconf = 0;
	char err[1024];
	int i;

	for (i = 1; i < argc; i++) {
		if (is_help(argv[i]))
			return help_for("check");
		if (!strcmp(argv[i], "-q") || !strcmp(argv[i], "--quiet"))
			o.quiet = 1;
		else if (argv[i][0] == '-' && argv[i][1])
			return usage_error("check: unknown option '%s'", argv[i]);
	}
	for (i = 1; i < argc; i++) {
		if (argv[i][0] == '-' && argv[i][1])
			continue;
		nconf++;
		before = o.n;
		if (config_check(argv[i], &cfg, check_print, &o) == 0) {
			check_host(argv[i], &cfg, &o);
			if (image_load(cfg.image_dir, &img, err, sizeof(err)) < 0) {
				if (cfg.image_dir[0]) {	/* the config names it: its error */
					struct cfg_error e = { .line = line_of(argv[i], "image") };

					snprintf(e.file, sizeof(e.file), "%s", argv[i]);
					snprintf(e.key, sizeof(e.key), "image");
					snprintf(e.msg, sizeof(e.msg), "%s", err);
					check_print(&e, &o);
				} else {		/* this host's: 'ddvm image build' */
					fprintf(stderr, "%s: warning: %s\n", argv[i], err);
				}
			} else {
				o.n += check_image_drivers(&cfg, &img);
			}
		}
		if (o.n != before)
			bad++;
		if (o.n != before && !o.quiet)
			printf("%s: %u error%s\n", argv[i], o.n - before, o.n - before == 1 ? "" : "s");
		else if (!o.quiet)
			printf("%s: ok\n", argv[i]);
	}
	if (!nconf)
		return usage_error("check: no config file given%s", "");
	fflush(stdout);
	return bad ? 1 : 0;
}

static int cmd_status(int argc, char **argv, const char *rundir)
{
	int json = 0, i;

	for (i = 1; i < argc; i++) {
		if (is_help(argv[i]))
			return help_for("status");
		if (!strcmp(argv[i], "--json") || !strcmp(argv[i], "-j"))
			json = 1;
		else
			return usage_error("status: unknown argument '%s'", argv[i]);
	}
	return client_status(rundir, json);
}

static int cmd_down(int argc, char **argv, const char *rundir)
{
	unsigned int timeout = 10;
	int i;

	for (i = 1; i < argc; i++) {
		if (is_help(argv[i]))
			return help_for("down");
		if ((!strcmp(argv[i], "--timeout") || !strcmp(argv[i], "-t")) && i + 1 < argc) {
			if (parse_uint(argv[++i], 3600, &timeout) < 0)
				return usage_error("down: bad timeout '%s' (seconds, 0..3600)", argv[i]);
		} else if (!strncmp(argv[i], "--timeout=", 10)) {
			if (parse_uint(argv[i] + 10, 3600, &timeout) < 0)
				return usage_error("down: bad timeout '%s' (seconds, 0..3600)", argv[i] + 10);
		} else {
			return usage_error("down: unknown argument '%s'", argv[i]);
		}
	}
	return client_down(rundir, timeout);
}

static int cmd_ping(int argc, char **argv, const char *rundir)
{
	const char *vm = NULL;
	unsigned int count = 10;
	int json = 0, i;

	for (i = 1; i < argc; i++) {
		if (is_help(argv[i]))
			return help_for("ping");
		if ((!strcmp(argv[i], "-n") || !strcmp(argv[i], "--count")) && i + 1 < argc) {
			if (parse_uint(argv[++i], 1000000, &count) < 0 || count == 0)
				return usage_error("ping: bad count '%s' (1..1000000)", argv[i]);
		} else if (!strcmp(argv[i], "--json") || !strcmp(argv[i], "-j")) {
			json = 1;
		} else if (argv[i][0] == '-') {
			return usage_error("ping: unknown option '%s'", argv[i]);
		} else if (vm) {
			return usage_error("ping: more than one VM given ('%s')", argv[i]);
		} else {
			vm = argv[i];
		}
	}
	return client_ping(rundir, vm, count, json);
}

static int cmd_crash(int argc, char **argv, const char *rundir)
{
	const char *vm = NULL;
	int i;

	for (i = 1; i < argc; i++) {
		if (is_help(argv[i]))
			return help_for("crash");
		if (argv[i][0] == '-')
			return usage_error("crash: unknown option '%s'", argv[i]);
		if (vm)
			return usage_error("crash: more than one VM given ('%s')", argv[i]);
		vm = argv[i];
	}
	return client_crash(rundir, vm);
}

static int cmd_inject(int argc, char **argv, const char *rundir)
{
	const char *pos[2];
	int i, n = 0;

	for (i = 1; i < argc; i++) {
		if (is_help(argv[i]))
			return help_for("inject");
		if (argv[i][0] == '-')
			return usage_error("inject: unknown option '%s'", argv[i]);
		if (n == 2)
			return usage_error("inject: too many arguments ('%s')", argv[i]);
		pos[n++] = argv[i];
	}
	if (!n)
		return usage_error("inject: expected [VM] FAULT%s", "");
	if (!vm_fault_known(pos[n - 1]))
		return usage_error("inject: unknown fault '%s' (kill, panic, hang, oops, poison, ioerr, "
				   "link, storm)", pos[n - 1]);
	return client_inject(rundir, n == 2 ? pos[0] : NULL, pos[n - 1]);
}

static int cmd_link(int argc, char **argv, const char *rundir)
{
	const char *pos[3];
	unsigned int dev;
	int i, n = 0;

	for (i = 1; i < argc; i++) {
		if (is_help(argv[i]))
			return help_for("link");
		if (argv[i][0] == '-')
			return usage_error("link: unknown option '%s'", argv[i]);
		if (n == 3)
			return usage_error("link: too many arguments ('%s')", argv[i]);
		pos[n++] = argv[i];
	}
	if (n < 2)
		return usage_error("link: expected [VM] DEVICE up|down%s", "");
	if (strcmp(pos[n - 1], "up") && strcmp(pos[n - 1], "down"))
		return usage_error("link: expected up or down, not '%s'", pos[n - 1]);
	if (parse_uint(pos[n - 2], 1000, &dev) < 0 || dev == 0)
		return usage_error("link: bad device number '%s' (1 = the VM's first device)", pos[n - 2]);
	return client_link(rundir, n == 3 ? pos[0] : NULL, dev, !strcmp(pos[n - 1], "up"));
}

static int cmd_qemu_args(int argc, char **argv, const char *rundir)
{
	const char *name = NULL;
	int i, virtio = 0;

	for (i = 1; i < argc; i++) {
		if (is_help(argv[i]))
			return help_for("qemu-args");
		if (!strcmp(argv[i], "--virtio"))
			virtio = 1;
		else if (argv[i][0] == '-')
			return usage_error("qemu-args: unknown option '%s'", argv[i]);
		else if (name)
			return usage_error("qemu-args: more than one client given ('%s')", argv[i]);
		else
			name = argv[i];
	}
	if (!name)
		return usage_error("qemu-args: no client VM given%s", "");
	return client_qemu_args(rundir, name, virtio);
}

static int cmd_image(int argc, char **argv)
{
	if (argc < 2 || is_help(argv[1]))
		return argc < 2 ? usage_error("image: expected 'image build'%s", "") : help_for("image");
	if (strcmp(argv[1], "build"))
		return usage_error("image: unknown subcommand '%s' (expected build)", argv[1]);
	image_build_exec(argc - 2, argv + 2);
	return 1;
}

/*
 * Started with stdin, stdout or stderr closed (a CI runner, a service
 * manager): /dev/null there, so none of our own fds -- a lock, a channel --
 * is 0, 1 or 2, where every child puts its stdio.
 */
static void std_fds_open(void)
{
	int fd;

	for (fd = 0; fd <= 2; fd++)
		if (fcntl(fd, F_GETFD) < 0 && errno == EBADF)
			open("/dev/null", O_RDWR);	/* the lowest free: fd itself */
}

int main(int argc, char **argv)
{
	const char *opt_rundir = NULL, *cmd;
	char rundir[PATH_MAX];
	int i;

	std_fds_open();
	if (argc > 1 && !strcmp(argv[1], "__log"))	/* a log pump (spawn.h), not for people */
		return spawn_log_pump(argc - 1, argv + 1);
	if (argc > 1 && !strcmp(argv[1], "__storm"))	/* inject's storm client (storm.h) */
		return storm_main(argc - 1, argv + 1);
	log_set_debug(getenv("DDVM_DEBUG") && getenv("DDVM_DEBUG")[0] == '1');
	for (i = 1; i < argc && argv[i][0] == '-'; i++) {
		if (is_help(argv[i])) {
			fputs(usage_text, stdout);
			return 0;
		} else if (!strcmp(argv[i], "-V") || !strcmp(argv[i], "--version")) {
			printf("ddvm %s (protocol %d.%d)\n", DDVM_VERSION, DDVM_PROTO_MAJOR, DDVM_PROTO_MINOR);
			return 0;
		} else if (!strcmp(argv[i], "--rundir") && i + 1 < argc) {
			opt_rundir = argv[++i];
		} else if (!strncmp(argv[i], "--rundir=", 9)) {
			opt_rundir = argv[i] + 9;
		} else {
			return usage_error("unknown option '%s'", argv[i]);
		}
	}
	if (i >= argc) {
		fputs(usage_text, stderr);
		return EXIT_USAGE;
	}
	cmd = argv[i];
	argc -= i;
	argv += i;
	rundir_resolve(opt_rundir, rundir, sizeof(rundir));
	if (!strcmp(cmd, "up"))
		return cmd_up(argc, argv, rundir);
	if (!strcmp(cmd, "status"))
		return cmd_status(argc, argv, rundir);
	if (!strcmp(cmd, "down"))
		return cmd_down(argc, argv, rundir);
	if (!strcmp(cmd, "ping"))
		return cmd_ping(argc, argv, rundir);
	if (!strcmp(cmd, "crash"))
		return cmd_crash(argc, argv, rundir);
	if (!strcmp(cmd, "inject"))
		return cmd_inject(argc, argv, rundir);
	if (!strcmp(cmd, "link"))
		return cmd_link(argc, argv, rundir);
	if (!strcmp(cmd, "qemu-args"))
		return cmd_qemu_args(argc, argv, rundir);
	if (!strcmp(cmd, "image"))
		return cmd_image(argc, argv);
	if (!strcmp(cmd, "check"))
		return cmd_check(argc, argv);
	if (!strcmp(cmd, "help"))
		return argc > 1 ? help_for(argv[1]) : (fputs(usage_text, stdout), 0);
	return usage_error("unknown command '%s'", cmd);
}
