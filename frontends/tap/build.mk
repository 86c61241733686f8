# TAP front-end for net queues, and the fake net driver VM its tests use.
# Included from the top-level Makefile:
#   make ddvm-tap        ->  build/bin/ddvm-tap
#   make fake-net-vm     ->  build/tools/ddvm-fake-net-vm

TAP_BIN      := $(BUILD)/bin/ddvm-tap
FAKE_NET_VM  := $(BUILD)/tools/ddvm-fake-net-vm
TAP_LIBS     := $(shell pkg-config --libs json-c 2>/dev/null || echo -ljson-c)

TAP_SRCS := frontends/tap/tap_main.c frontends/tap/tap_loop.c frontends/tap/tap_stats.c

.PHONY: ddvm-tap fake-net-vm
all: $(TAP_BIN) $(FAKE_NET_VM)
ddvm-tap: $(TAP_BIN)
fake-net-vm: $(FAKE_NET_VM)

$(TAP_BIN): $(call objs,$(TAP_SRCS)) $(LIBDDVM)
	@mkdir -p $(dir $@)
	$(CC) $(OPT) -pthread -o $@ $^ $(TAP_LIBS)

$(FAKE_NET_VM): $(call objs,tests/tools/fake-net-vm.c) $(LIBDDVM)
	@mkdir -p $(dir $@)
	$(CC) $(OPT) -o $@ $^
