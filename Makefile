# ddvm — top-level build.  `make demo` and `make test` are the two entry points
# (see README.md); both install missing Debian packages themselves.
#
# Every host object is built once, into $(BUILD)/obj/<source path>.o, with the
# one set of flags below and dependency tracking (-MMD); programs link those
# objects and libddvm.a.  Shared code lives in proto/ (protocol, freestanding)
# and lib/ (libddvm: the client side, freestanding; lib/posix: its POSIX
# transport and the host helpers every host program shares); nothing under
# host/ or another program's folder is compiled into a second program.

# The default goal: everything (declared first; its prerequisites come later).
.PHONY: all
all:

CC      := gcc
BUILD   ?= build
OPT     ?= -O2 -g
WARN    := -Wall -Wextra -Werror
# The one definition of the flags for host code.  -fPIC: libddvm.a also goes
# into the nbdkit plugin, a shared object.
HOST_CFLAGS := -std=c11 -D_GNU_SOURCE $(WARN) $(OPT) -fPIC -Iinclude $(EXTRA_CFLAGS)
LIBS    := $(shell pkg-config --libs json-c libconfig 2>/dev/null || echo -ljson-c -lconfig)
OBJ     := $(BUILD)/obj

# Extra flags per source folder (only what that folder needs).
CFLAGS_host           := -Ihost -DDDVM_SRCDIR='"$(CURDIR)"'
CFLAGS_frontends      := -Ifrontends -fvisibility=hidden $(shell pkg-config --cflags nbdkit 2>/dev/null)
CFLAGS_frontends/tap  := -Ifrontends/tap
CFLAGS_tests/tools    := -Itests/tools
folder_flags = $(CFLAGS_$(patsubst %/,%,$(dir $<)))

$(OBJ)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(HOST_CFLAGS) $(folder_flags) -MMD -MP -c -o $@ $<

objs = $(patsubst %.c,$(OBJ)/%.o,$(1))

# --- libddvm ---------------------------------------------------------------------
PROTO_SRCS    := $(wildcard proto/*.c)
LIB_SRCS      := $(wildcard lib/*.c)
LIB_POSIX_SRCS := $(wildcard lib/posix/*.c)
LIBDDVM       := $(BUILD)/lib/libddvm.a

$(LIBDDVM): $(call objs,$(PROTO_SRCS) $(LIB_SRCS) $(LIB_POSIX_SRCS))
	@mkdir -p $(dir $@)
	rm -f $@
	ar rcs $@ $^

# --- the supervisor --------------------------------------------------------------
HOST_SRCS := $(wildcard host/*.c)
DDVM := $(BUILD)/bin/ddvm

$(DDVM): $(call objs,$(HOST_SRCS)) $(LIBDDVM)
	@mkdir -p $(dir $@)
	$(CC) $(OPT) -o $@ $(call objs,$(HOST_SRCS)) $(LIBDDVM) $(LIBS)

# The ~50-line libddvm client of docs/libddvm.md, built and tested like the rest.
BLK_EXAMPLE := $(BUILD)/examples/blk_example
$(BLK_EXAMPLE): $(call objs,examples/libddvm/blk_example.c) $(LIBDDVM)
	@mkdir -p $(dir $@)
	$(CC) $(OPT) -o $@ $^

.PHONY: all deps demo test unit fuzz image bench clean lib
all: $(DDVM) $(BLK_EXAMPLE)
lib: $(LIBDDVM)

deps:
	@scripts/install-deps.sh

# The driver-VM image (kernel, initramfs with drivers + our modules).
image: $(DDVM)
	$(DDVM) image build

demo: deps
	@$(MAKE) --no-print-directory all
	@scripts/demo.sh

test: deps
	@$(MAKE) --no-print-directory all
	@tests/run

bench: deps all
	@bench/run-all.sh

clean:
	rm -rf $(BUILD)

include tests/unit.mk
include frontends/tap/build.mk
include frontends/build.mk
include install.mk
include examples/tinyos/build.mk
include tests/drivers.mk

-include $(shell find $(OBJ) -name '*.d' 2>/dev/null)
