# nbdkit front-end for block queues.  Included from the top-level Makefile:
#   make nbdkit-plugin   ->  build/frontends/nbdkit-ddvm-plugin.so
#   make fake-vm         ->  build/tools/ddvm-fake-vm (tests' stand-in driver VM)
#   (all)                ->  build/tools/ddvm-hostile-client (a client gone bad)

FRONT_DIR     := $(BUILD)/frontends
NBDKIT_PLUGIN := $(FRONT_DIR)/nbdkit-ddvm-plugin.so
FAKE_VM       := $(BUILD)/tools/ddvm-fake-vm
HOSTILE_CLIENT := $(BUILD)/tools/ddvm-hostile-client

FRONT_SRCS := frontends/nbdkit-ddvm-plugin.c frontends/blk_mt.c
FAKE_SRCS  := tests/tools/fake-driver-vm.c tests/tools/fake_blk.c

.PHONY: nbdkit-plugin fake-vm
all: $(NBDKIT_PLUGIN) $(FAKE_VM) $(HOSTILE_CLIENT)
nbdkit-plugin: $(NBDKIT_PLUGIN)
fake-vm: $(FAKE_VM)

$(NBDKIT_PLUGIN): $(call objs,$(FRONT_SRCS)) $(LIBDDVM)
	@mkdir -p $(dir $@)
	$(CC) $(OPT) -shared -Wl,--exclude-libs,ALL -pthread -o $@ $(call objs,$(FRONT_SRCS)) $(LIBDDVM)

$(FAKE_VM): $(call objs,$(FAKE_SRCS)) $(LIBDDVM)
	@mkdir -p $(dir $@)
	$(CC) $(OPT) -pthread -o $@ $^

# A client gone bad (tests/integration/test-channel-isolation.sh).
$(HOSTILE_CLIENT): $(call objs,tests/tools/hostile-client.c) $(LIBDDVM)
	@mkdir -p $(dir $@)
	$(CC) $(OPT) -o $@ $^
