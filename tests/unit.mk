# Host unit tests, the freestanding build check and bounded fuzzing.
# Included from the top-level Makefile; run from the repository root.
#
#   make unit           tests/unit/test-*.c under ASan+UBSan, each run once
#   make freestanding   protocol headers and proto/*.c build with no libc and
#                       leave no undefined symbol (gcc, and clang if present)
#   make fuzz           tests/fuzz/fuzz-*.c (clang libFuzzer), FUZZ_SECONDS each
#   make fuzz-seeds     regenerate the checked-in seed corpora
#
# Another test binary joins `make unit` with, after the include:
#   unit: build/unit/test-foo      and      UNIT_BINS += build/unit/test-foo

BUILD ?= build
UNIT_DIR := $(BUILD)/unit
FUZZ_DIR := $(BUILD)/fuzz
FS_DIR   := $(BUILD)/freestanding
FUZZ_SECONDS ?= 11
FUZZ_CC  ?= clang

# libddvm's freestanding part (proto/, lib/) is built again with sanitizers
# into every test; lib/posix/ only where a test needs it.
UNIT_PROTO := $(wildcard proto/*.c) $(wildcard lib/*.c)
UNIT_LIB   := $(UNIT_PROTO) lib/posix/region_setup.c
UNIT_DEPS  := $(UNIT_LIB) tests/unit/check.h $(wildcard include/ddvm/*.h include/ddvm/posix/*.h)
UNIT_CFLAGS := -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror -Iinclude -Ihost \
	-fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer -g -O1

UNIT_SRCS := $(filter-out tests/unit/test-ivshmem-server.c tests/unit/test-vm-reclaim.c \
	tests/unit/test-spawn.c,$(wildcard tests/unit/test-*.c))
UNIT_BINS += $(patsubst tests/unit/%.c,$(UNIT_DIR)/%,$(UNIT_SRCS))

.PHONY: unit freestanding fuzz fuzz-seeds

$(UNIT_DIR)/test-%: tests/unit/test-%.c $(UNIT_DEPS)
	@mkdir -p $(dir $@)
	$(CC) $(UNIT_CFLAGS) -o $@ $< $(UNIT_LIB) -pthread

unit: $(UNIT_BINS)
	@fail=0; for t in $(UNIT_BINS); do \
		ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 \
		UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 $$t || \
		{ echo "$$t: FAILED (exit $$?)"; fail=1; }; \
	done; exit $$fail

# --- freestanding ---------------------------------------------------------
# Each header alone, and proto/*.c and lib/*.c (libddvm's freestanding part),
# as a bare-metal client would build them.  Linked together (ld -r), nm -u
# may name only what GCC and Clang require of every freestanding environment
# (memcpy, memmove, memset, memcmp: the compiler emits them for struct
# copies) -- the Linux kernel has them, a new OS provides them (docs/libddvm.md).
FS_SRCS  := tests/freestanding/header-proto.c tests/freestanding/header-ring.c \
	tests/freestanding/header-region.c tests/freestanding/header-libddvm.c $(UNIT_PROTO)
FS_SRCS  += tests/freestanding/header-net-offload.c tests/freestanding/header-net-client.c
FS_FLAGS := -std=c11 -ffreestanding -nostdlib -fno-builtin -Wall -Wextra -Werror -pedantic \
	-Iinclude
FS_CCS   := gcc $(shell command -v clang >/dev/null 2>&1 && echo clang)

freestanding: $(FS_SRCS) $(wildcard include/ddvm/*.h)
	@set -e; mkdir -p $(FS_DIR); n=0; \
	for cc in $(FS_CCS); do for opt in -O0 -O2 -Os; do objs=; \
		for src in $(FS_SRCS); do \
			obj=$(FS_DIR)/$$cc$$opt-$$(basename $$src .c).o; \
			$$cc $(FS_FLAGS) $$opt -c $$src -o $$obj; \
			objs="$$objs $$obj"; n=$$((n + 1)); \
		done; \
		ld -r -o $(FS_DIR)/$$cc$$opt-libddvm.o $$objs; \
		undef=$$(nm -u $(FS_DIR)/$$cc$$opt-libddvm.o | grep -vwE 'memcpy|memmove|memset|memcmp' || true); \
		if [ -n "$$undef" ]; then \
			echo "libddvm ($$cc $$opt): undefined symbols: $$(echo $$undef)"; exit 1; \
		fi; \
	done; done; \
	echo "freestanding: $$n objects ($(FS_CCS); -O0 -O2 -Os), linked: no undefined symbols"

# --- fuzzing --------------------------------------------------------------
FUZZ_SRCS := $(wildcard tests/fuzz/fuzz-*.c)
FUZZ_BINS := $(patsubst tests/fuzz/%.c,$(FUZZ_DIR)/%,$(FUZZ_SRCS))
FUZZ_CFLAGS := -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror -Iinclude -Ihost -g -O1 \
	-fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all
# Regions are at least 64 KiB; let the fuzzer grow inputs that far.
FUZZ_MAXLEN_fuzz-region := 70000
FUZZ_MAXLEN_fuzz-ring   := 4096
# name=maxlen for every target that sets one (default 4096).
FUZZ_MAXLENS = $(foreach b,$(FUZZ_BINS),$(if $(FUZZ_MAXLEN_$(notdir $b)),$(notdir $b)=$(FUZZ_MAXLEN_$(notdir $b))))

# Per target: FUZZ_FLAGS_fuzz-NAME (compile flags), FUZZ_LINK_fuzz-NAME (more
# sources and libraries), FUZZ_MAXLEN_fuzz-NAME (largest input).
$(FUZZ_DIR)/fuzz-%: tests/fuzz/fuzz-%.c tests/fuzz/must.h $(UNIT_DEPS)
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_CFLAGS) $(FUZZ_FLAGS_fuzz-$*) -o $@ $< $(UNIT_LIB) $(FUZZ_LINK_fuzz-$*)

# A crash, leak, sanitizer report or timeout fails the target; the input
# is left in $(FUZZ_DIR)/crash-* (reproduce: $(FUZZ_DIR)/fuzz-NAME FILE).
fuzz: $(FUZZ_BINS)
	@fail=0; for b in $(FUZZ_BINS); do \
		name=$$(basename $$b); corpus=$(FUZZ_DIR)/corpus-$${name#fuzz-}; \
		mkdir -p $$corpus; \
		ml=4096; for p in $(FUZZ_MAXLENS); do \
			[ "$${p%%=*}" = "$$name" ] && ml=$${p#*=}; done; \
		if LSAN_OPTIONS=suppressions=$(CURDIR)/tests/fuzz/lsan.supp \
			$$b -max_total_time=$(FUZZ_SECONDS) -max_len=$$ml -timeout=10 -rss_limit_mb=2048 \
			-artifact_prefix=$(FUZZ_DIR)/ -print_final_stats=1 \
			$$corpus tests/fuzz/corpus-$${name#fuzz-} >$(FUZZ_DIR)/$$name.log 2>&1; then \
			runs=$$(sed -n 's/^stat::number_of_executed_units: *//p' $(FUZZ_DIR)/$$name.log); \
			cov=$$(grep -o 'cov: [0-9]*' $(FUZZ_DIR)/$$name.log | tail -1); \
			echo "$$name: $$runs runs in $(FUZZ_SECONDS)s, $$cov, no crash"; \
		else \
			echo "$$name: FAILED, see $(FUZZ_DIR)/$$name.log"; \
			grep -E 'invariant violated|ERROR: |runtime error|SUMMARY|Test unit written' \
				$(FUZZ_DIR)/$$name.log | head -8; \
			fail=1; \
		fi; \
	done; exit $$fail

$(FUZZ_DIR)/gen-seeds: tests/fuzz/gen-seeds.c $(UNIT_DEPS)
	@mkdir -p $(dir $@)
	$(CC) -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror -Iinclude -Ihost -g -o $@ $< $(UNIT_LIB)

fuzz-seeds: $(FUZZ_DIR)/gen-seeds
	$(FUZZ_DIR)/gen-seeds tests/fuzz

# The ivshmem server test links the supervisor's server code.
UNIT_BINS += $(UNIT_DIR)/test-ivshmem-server
unit: $(UNIT_DIR)/test-ivshmem-server
$(UNIT_DIR)/test-ivshmem-server: tests/unit/test-ivshmem-server.c lib/posix/ivshmem_server.c \
		lib/posix/log.c $(UNIT_DEPS)
	@mkdir -p $(dir $@)
	$(CC) $(UNIT_CFLAGS) -o $@ $< lib/posix/ivshmem_server.c lib/posix/log.c

# The boot-file reclaim test links the supervisor's vm_reclaim.c.
UNIT_BINS += $(UNIT_DIR)/test-vm-reclaim
unit: $(UNIT_DIR)/test-vm-reclaim
$(UNIT_DIR)/test-vm-reclaim: tests/unit/test-vm-reclaim.c host/vm_reclaim.c host/vm_reclaim.h
	@mkdir -p $(dir $@)
	$(CC) $(UNIT_CFLAGS) -o $@ $< host/vm_reclaim.c

# The restart policy test includes host/restart_policy.c.
$(UNIT_DIR)/test-restart-policy: host/restart_policy.c host/restart_policy.h

# test-peer includes the POSIX ivshmem client.
$(UNIT_DIR)/test-peer: lib/posix/peer.c

# The block client tests share a fake transport and driver VM.
$(UNIT_DIR)/test-blkc $(FUZZ_DIR)/fuzz-blkc-model: tests/lib/blkc_harness.h
# ... (tests/lib/fake_chan.h), as do the net client's.
$(UNIT_DIR)/test-blkc $(FUZZ_DIR)/fuzz-blkc-model: tests/lib/fake_chan.h
$(UNIT_DIR)/test-netc $(FUZZ_DIR)/fuzz-netc: tests/lib/netc_harness.h tests/lib/fake_chan.h
$(UNIT_DIR)/test-reap-budget: tests/lib/blkc_harness.h tests/lib/netc_harness.h tests/lib/fake_chan.h

# The guest's target parser (kernel C) against a shim of the kernel headers it uses.
FUZZ_FLAGS_fuzz-target := -Itests/fuzz/kshim
$(FUZZ_DIR)/fuzz-target: guest/target.c guest/chan.h $(wildcard tests/fuzz/kshim/*.h tests/fuzz/kshim/linux/*.h)

# The QMP reader, with the supervisor's event loop and logging.
FUZZ_LINK_fuzz-qmp := host/loop.c lib/posix/log.c lib/posix/private_sock.c -ljson-c
FUZZ_MAXLEN_fuzz-qmp := 20000
$(FUZZ_DIR)/fuzz-qmp: host/qmp.c host/qmp.h host/loop.c

# The ivshmem peer, included by its fuzz target.
$(FUZZ_DIR)/fuzz-peer: lib/posix/peer.c include/ddvm/posix/peer.h

# The ivshmem server, with logging and private sockets.
FUZZ_LINK_fuzz-ivshmem-server := lib/posix/ivshmem_server.c lib/posix/log.c lib/posix/private_sock.c
$(FUZZ_DIR)/fuzz-ivshmem-server: lib/posix/ivshmem_server.c include/ddvm/posix/ivshmem_server.h

# The control socket: the supervisor's side (VMs stubbed) and the CLI's.
FUZZ_LINK_fuzz-control := host/loop.c lib/posix/log.c lib/posix/private_sock.c host/rundir.c host/privilege.c host/confine.c -ljson-c -pthread
FUZZ_MAXLEN_fuzz-control := 8192
$(FUZZ_DIR)/fuzz-control: host/supervisor.c host/client.c host/supervisor.h host/privilege.c host/privilege.h host/confine.c

# The config loader, through libconfig.
FUZZ_LINK_fuzz-config := host/config.c host/config_dev.c host/config_clients.c host/layout.c host/vfio_check.c \
	lib/posix/log.c -lconfig
FUZZ_MAXLEN_fuzz-config := 8192
$(FUZZ_DIR)/fuzz-config: host/config.c host/config_dev.c host/config_clients.c host/config.h

# ddvm-tap's reaction to what a driver VM publishes (the TAP device stubbed).
FUZZ_FLAGS_fuzz-tap := -Ifrontends/tap
FUZZ_LINK_fuzz-tap := lib/posix/log.c
$(FUZZ_DIR)/fuzz-tap: frontends/tap/tap_loop.c frontends/tap/tap_app.h tests/lib/netc_harness.h \
	tests/lib/fake_chan.h

# The layout argument parser, included by its unit test and fuzz target.
$(UNIT_DIR)/test-layout-arg $(FUZZ_DIR)/fuzz-layout-arg: lib/posix/layout_arg.c

# The children's seccomp filter: test-confine includes host/confine.c.
$(UNIT_DIR)/test-confine: host/confine.c host/confine.h

# The children's fd plumbing and log reading: test-spawn includes host/spawn.c.
UNIT_BINS += $(UNIT_DIR)/test-spawn
unit: $(UNIT_DIR)/test-spawn
$(UNIT_DIR)/test-spawn: tests/unit/test-spawn.c host/spawn.c host/spawn.h host/loop.c lib/posix/log.c
	@mkdir -p $(dir $@)
	$(CC) $(UNIT_CFLAGS) -o $@ $< host/loop.c lib/posix/log.c
