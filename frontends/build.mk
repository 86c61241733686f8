# nbdkit front-end for block queues.  Included from the top-level Makefile:
#   make nbdkit-plugin   ->  build/frontends/nbdkit-ddvm-plugin.so
#   make fake-vm         ->  build/tools/ddvm-fake-vm (tests' stand-in driver VM)

NBDKIT_CFLAGS := $(shell pkg-config --cflags nbdkit 2>/dev/null)
FRONT_DIR     := $(BUILD)/frontends
NBDKIT_PLUGIN := $(FRONT_DIR)/nbdkit-ddvm-plugin.so
FAKE_VM       := $(BUILD)/tools/ddvm-fake-vm
FRONT_CFLAGS  := -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror -O2 -g -Iinclude -Ihost

FRONT_SRCS := frontends/nbdkit-ddvm-plugin.c frontends/blk_client.c host/peer.c \
	proto/ring.c proto/region.c proto/blk_check.c
FAKE_SRCS  := tests/tools/fake-driver-vm.c tests/tools/fake_blk.c host/peer.c \
	host/ivshmem_server.c host/log.c host/region_setup.c proto/ring.c proto/region.c

.PHONY: nbdkit-plugin fake-vm
all: $(NBDKIT_PLUGIN)
nbdkit-plugin: $(NBDKIT_PLUGIN)
fake-vm: $(FAKE_VM)

$(NBDKIT_PLUGIN): $(FRONT_SRCS) frontends/blk_client.h host/peer.h $(wildcard include/ddvm/*.h)
	@mkdir -p $(dir $@)
	$(CC) $(FRONT_CFLAGS) $(NBDKIT_CFLAGS) -fPIC -shared -fvisibility=hidden -pthread \
		-o $@ $(FRONT_SRCS)

$(FAKE_VM): $(FAKE_SRCS) tests/tools/fake_blk.h host/peer.h host/ivshmem_server.h \
		host/region_setup.h $(wildcard include/ddvm/*.h)
	@mkdir -p $(dir $@)
	$(CC) $(FRONT_CFLAGS) -pthread -o $@ $(FAKE_SRCS)
