# nbdkit front-end for block queues.  Included from the top-level Makefile:
#   make nbdkit-plugin   ->  build/frontends/nbdkit-ddvm-plugin.so
#   make fake-vm         ->  build/tools/ddvm-fake-vm (tests' stand-in driver VM)

FRONT_DIR     := $(BUILD)/frontends
NBDKIT_PLUGIN := $(FRONT_DIR)/nbdkit-ddvm-plugin.so
FAKE_VM       := $(BUILD)/tools/ddvm-fake-vm

FRONT_SRCS := frontends/nbdkit-ddvm-plugin.c frontends/blk_mt.c
FAKE_SRCS  := tests/tools/fake-driver-vm.c tests/tools/fake_blk.c

.PHONY: nbdkit-plugin fake-vm
all: $(NBDKIT_PLUGIN) $(FAKE_VM)
nbdkit-plugin: $(NBDKIT_PLUGIN)
fake-vm: $(FAKE_VM)

$(NBDKIT_PLUGIN): $(call objs,$(FRONT_SRCS)) $(LIBDDVM)
	@mkdir -p $(dir $@)
	$(CC) $(OPT) -shared -Wl,--exclude-libs,ALL -pthread -o $@ $(call objs,$(FRONT_SRCS)) $(LIBDDVM)

$(FAKE_VM): $(call objs,$(FAKE_SRCS)) $(LIBDDVM)
	@mkdir -p $(dir $@)
	$(CC) $(OPT) -pthread -o $@ $^
