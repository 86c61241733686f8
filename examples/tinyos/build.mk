# tinyos: a tiny x86-64 OS with no disk or NIC driver of its own; it uses a
# driver VM's disk and NIC over ddvm channels through libddvm's bare-metal
# transport (lib/bare/).  Included from the top-level Makefile.
#
#   make tinyos    build/tinyos/tinyos.elf: boot it with QEMU's -kernel (PVH),
#                  e.g. as a ddvm client VM (examples/tinyos.conf)
#
# libddvm (proto/, lib/, lib/bare/) is compiled again with tinyos's flags: no
# red zone (interrupts share the stack), no SSE (no FPU state is saved), no
# PIC; lib/bare/ also -pedantic, as `make freestanding` builds libddvm.
TINYOS_DIR    := $(BUILD)/tinyos
TINYOS_ELF    := $(TINYOS_DIR)/tinyos.elf
TINYOS_CFLAGS := -std=c11 -ffreestanding -nostdlib -fno-builtin -fno-pic -fno-pie \
	-mno-red-zone -mgeneral-regs-only -fno-stack-protector -fno-asynchronous-unwind-tables \
	-fno-tree-loop-distribute-patterns -O2 -g $(WARN) -Iinclude
TINYOS_SRCS   := $(wildcard examples/tinyos/*.c examples/tinyos/*.S proto/*.c lib/*.c lib/bare/*.c)
TINYOS_OBJS   := $(patsubst %,$(TINYOS_DIR)/obj/%.o,$(TINYOS_SRCS))

$(TINYOS_DIR)/obj/%.c.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(TINYOS_CFLAGS) $(if $(filter lib/bare/%,$<),-pedantic) -MMD -MP -c -o $@ $<

$(TINYOS_DIR)/obj/%.S.o: %.S
	@mkdir -p $(dir $@)
	$(CC) $(TINYOS_CFLAGS) -MMD -MP -c -o $@ $<

$(TINYOS_ELF): $(TINYOS_OBJS) examples/tinyos/link.ld
	$(CC) -nostdlib -static -no-pie -Wl,-T,examples/tinyos/link.ld -Wl,-z,max-page-size=4096 \
		-Wl,--build-id=none -Wl,--no-warn-rwx-segments -o $@ $(TINYOS_OBJS)

.PHONY: tinyos
tinyos: $(TINYOS_ELF)

-include $(TINYOS_OBJS:.o=.d)

# lib/bare/ as `make freestanding` checks libddvm: gcc and clang (if present)
# at -O0 -O2 -Os, -pedantic, linked with libddvm's freestanding part: no
# undefined symbol but memcpy, memmove, memset, memcmp.
BARE_FS_CCS := gcc $(shell command -v clang >/dev/null 2>&1 && echo clang)
.PHONY: freestanding-bare
freestanding-bare:
	@set -e; mkdir -p $(TINYOS_DIR)/fs; for cc in $(BARE_FS_CCS); do for opt in -O0 -O2 -Os; do \
		objs=; for src in $(wildcard lib/bare/*.c proto/*.c lib/*.c); do \
			obj=$(TINYOS_DIR)/fs/$$cc$$opt-$$(echo $$src | tr / -).o; \
			$$cc -std=c11 -ffreestanding -nostdlib -fno-builtin $(WARN) -pedantic -Iinclude \
				$$opt -c $$src -o $$obj; objs="$$objs $$obj"; \
		done; \
		ld -r -o $(TINYOS_DIR)/fs/$$cc$$opt.o $$objs; \
		undef=$$(nm -u $(TINYOS_DIR)/fs/$$cc$$opt.o | grep -vwE 'memcpy|memmove|memset|memcmp' || true); \
		[ -z "$$undef" ] || { echo "lib/bare ($$cc $$opt): undefined: $$(echo $$undef)"; exit 1; }; \
	done; done; echo "freestanding-bare: lib/bare with libddvm ($(BARE_FS_CCS); -O0 -O2 -Os): no undefined symbols"
