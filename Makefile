# ddvm — top-level build.  `make demo` and `make test` are the two entry points
# (see README.md); both install missing Debian packages themselves.

CC      := gcc
BUILD   ?= build
WARN    := -Wall -Wextra -Werror
CFLAGS  ?= -O2 -g
CFLAGS  += -std=c11 -D_GNU_SOURCE $(WARN) -Iinclude -Ihost
LIBS    := $(shell pkg-config --libs json-c libconfig 2>/dev/null || echo -ljson-c -lconfig)

PROTO_SRCS := proto/ring.c proto/region.c
HOST_LIB_SRCS := $(filter-out host/main.c,$(wildcard host/*.c))
HOST_SRCS  := host/main.c $(HOST_LIB_SRCS)

DDVM := $(BUILD)/bin/ddvm

.PHONY: all deps demo test unit fuzz image bench clean
all: $(DDVM)

deps:
	@scripts/install-deps.sh

$(DDVM): $(HOST_SRCS) $(PROTO_SRCS) $(wildcard host/*.h include/ddvm/*.h)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -DDDVM_SRCDIR='"$(CURDIR)"' -o $@ $(HOST_SRCS) $(PROTO_SRCS) $(LIBS)

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
