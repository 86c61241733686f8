# TAP front-end for net queues, and the fake net driver VM its tests use.
# Included from the top-level Makefile:
#   make ddvm-tap        ->  build/bin/ddvm-tap
#   make fake-net-vm     ->  build/tools/ddvm-fake-net-vm
#   fuzz target tests/fuzz/fuzz-net-desc.c builds through tests/unit.mk's
#   pattern rule plus TAP_FUZZ_SRCS below.

TAP_BIN      := $(BUILD)/bin/ddvm-tap
FAKE_NET_VM  := $(BUILD)/tools/ddvm-fake-net-vm
TAP_CFLAGS   := -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror -O2 -g -Iinclude -Ihost -Ifrontends/tap
TAP_LIBS     := $(shell pkg-config --libs json-c 2>/dev/null || echo -ljson-c)

TAP_SRCS := frontends/tap/tap_main.c frontends/tap/tap_queue.c frontends/tap/tap_dev.c \
	frontends/tap/tap_loop.c frontends/tap/tap_stats.c frontends/tap/net_resp.c host/peer.c host/log.c \
	host/region_setup.c proto/ring.c proto/region.c proto/net_check.c
TAP_HDRS := $(wildcard frontends/tap/*.h) host/peer.h host/log.h host/region_setup.h \
	$(wildcard include/ddvm/*.h)
FAKE_NET_SRCS := tests/tools/fake-net-vm.c frontends/tap/tap_dev.c host/ivshmem_server.c \
	host/log.c host/region_setup.c proto/ring.c proto/region.c proto/net_check.c

.PHONY: ddvm-tap fake-net-vm
all: $(TAP_BIN) $(FAKE_NET_VM)
ddvm-tap: $(TAP_BIN)
fake-net-vm: $(FAKE_NET_VM)

$(TAP_BIN): $(TAP_SRCS) $(TAP_HDRS)
	@mkdir -p $(dir $@)
	$(CC) $(TAP_CFLAGS) -pthread -o $@ $(TAP_SRCS) $(TAP_LIBS)

$(FAKE_NET_VM): $(FAKE_NET_SRCS) $(TAP_HDRS) host/ivshmem_server.h
	@mkdir -p $(dir $@)
	$(CC) $(TAP_CFLAGS) -o $@ $(FAKE_NET_SRCS)

# The fuzz target links the pure response validation.
$(FUZZ_DIR)/fuzz-net-desc: tests/fuzz/fuzz-net-desc.c frontends/tap/net_resp.c \
		frontends/tap/net_resp.h $(UNIT_DEPS)
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -Ifrontends/tap -o $@ $< frontends/tap/net_resp.c $(UNIT_LIB)
