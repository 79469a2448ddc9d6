# aios: split AI/real-time system for the Raspberry Pi 5, developed on QEMU virt.
#
#   make run      set up, build, boot the split system in QEMU to the RT shell
#   make test     set up, build, run the host unit tests, a short fuzz run and the QEMU
#                 integration tests
#   make bench    deterministic latency figures and histogram PNGs into bench/results/
#   make fuzz     each libFuzzer target for FUZZ_SECONDS (default 60)
#   make          build everything (build/)
#   make clean    remove build/
#
# Board: QEMU virt with 4 Cortex-A76, a GICv2 (as the Pi 5's GIC-400), virtualization on.

CROSS     ?= aarch64-linux-gnu-
CC_TARGET := $(CROSS)gcc
LD_TARGET := $(CROSS)ld
OBJCOPY   := $(CROSS)objcopy
HOSTCC    ?= gcc
PYTEST    ?= /usr/bin/pytest-3
B         := build
DEPS      := $(B)/deps/arm64
LIBFDT_A  := $(DEPS)/usr/lib/aarch64-linux-gnu/libfdt.a

QEMU       := qemu-system-aarch64
QEMU_FLAGS := -M virt,virtualization=on,gic-version=2 -cpu cortex-a76 -smp 4 -m 2G \
              -nographic -nic none
LAYOUT     ?= qemu-virt

V ?= 0
ifeq ($(V),0)
Q := @
say = @printf '  %-8s %s\n' $(1) $(2);
else
Q :=
say :=
endif

# ---------------------------------------------------------------- bare-metal images
# Asked of the cross compiler only when first needed: `make run` installs it first.
GCC_INCLUDE = $(eval GCC_INCLUDE := $(shell $(CC_TARGET) -print-file-name=include))$(GCC_INCLUDE)
TARGET_CFLAGS = -std=c11 -O2 -g -Wall -Wextra -Werror -ffreestanding -nostdinc \
    -isystem $(GCC_INCLUDE) \
    -Ishared/libc/include -Ishared/include -idirafter $(DEPS)/usr/include \
    -mcpu=cortex-a76 -mgeneral-regs-only -mstrict-align -mno-outline-atomics \
    -fpie -fno-stack-protector -fno-common -MMD -MP
TARGET_ASFLAGS := -Ishared/include -Ihyp/include -MMD -MP
TARGET_LDFLAGS := -pie --no-dynamic-linker -z notext -z noexecstack -nostdlib \
    -T shared/arch/image.ld --no-warn-rwx-segments --fatal-warnings

LIBC_SRC   := shared/lib/string.c shared/lib/kprintf.c
COMMON_OBJ := $(B)/target/shared/arch/reloc.o $(B)/target/shared/lib/string.o \
              $(B)/target/shared/lib/kprintf.o $(B)/target/shared/lib/pgtable.o

HYP_SRC := hyp/arch/aarch64/head.S hyp/arch/aarch64/vectors.S hyp/arch/aarch64/gic.c \
    hyp/arch/aarch64/gich.c hyp/core/vgic.c \
    hyp/arch/aarch64/mmu.c hyp/core/main.c hyp/core/board.c hyp/core/layout.c \
    hyp/core/partition.c hyp/core/console.c hyp/core/vuart.c shared/lib/esr.c \
    hyp/core/trap.c hyp/core/hypercall.c hyp/core/guest_fdt.c hyp/core/bundle_reader.c \
    shared/lib/sha256.c shared/lib/ring.c
HYP_OBJ := $(patsubst %,$(B)/target/%.o,$(basename $(HYP_SRC))) $(COMMON_OBJ)

GUEST_OBJ := $(B)/target/shared/guest/start.o $(B)/target/shared/guest/guest.o \
             $(B)/target/shared/lib/line.o $(B)/target/shared/lib/ring.o $(COMMON_OBJ)
RT_OBJ    := $(B)/target/rtkernel/main.o $(B)/target/rtkernel/shell.o $(B)/target/rtkernel/link.o \
             $(B)/target/rtkernel/perf.o $(B)/target/rtkernel/isolation.o $(B)/target/shared/lib/esr.o
AIOS_OBJ  := $(B)/target/aios/runtime/main.o
FAULT_OBJ := $(B)/target/tests/images/ai_fault.o

IMAGES  := $(B)/images/rtkernel.bin $(B)/images/aios.bin $(B)/images/ai_fault.bin
LAYOUTS := qemu-virt test-ai-fault test-core-twice test-three-partitions

$(B)/target/hyp/%.o: CFLAGS_EXTRA := -Ihyp/include
$(B)/target/shared/lib/string.o: CFLAGS_EXTRA := -fno-builtin -fno-tree-loop-distribute-patterns
$(B)/target/rtkernel/%.o: CFLAGS_EXTRA := -Irtkernel

$(B)/target/%.o: %.c | $(LIBFDT_A)
	$(call say,CC,$<)
	@mkdir -p $(dir $@)
	$(Q)$(CC_TARGET) $(TARGET_CFLAGS) $(CFLAGS_EXTRA) -c $< -o $@

$(B)/target/%.o: %.S
	$(call say,AS,$<)
	@mkdir -p $(dir $@)
	$(Q)$(CC_TARGET) $(TARGET_ASFLAGS) -c $< -o $@

$(LIBFDT_A):
	$(Q)tools/fetch-arm64-deps.sh $(DEPS)

define link_image
	$(call say,LD,$@)
	@mkdir -p $(dir $@)
	$(Q)$(LD_TARGET) $(TARGET_LDFLAGS) -o $(basename $@).elf $(1) $(LIBFDT_A)
	$(Q)$(OBJCOPY) -O binary $(basename $@).elf $@
endef

$(B)/images/rtkernel.bin: $(GUEST_OBJ) $(RT_OBJ) $(LIBFDT_A) shared/arch/image.ld
	$(call link_image,$(GUEST_OBJ) $(RT_OBJ))
$(B)/images/aios.bin: $(GUEST_OBJ) $(AIOS_OBJ) $(LIBFDT_A) shared/arch/image.ld
	$(call link_image,$(GUEST_OBJ) $(AIOS_OBJ))
$(B)/images/ai_fault.bin: $(GUEST_OBJ) $(FAULT_OBJ) $(LIBFDT_A) shared/arch/image.ld
	$(call link_image,$(GUEST_OBJ) $(FAULT_OBJ))

# A layout: dts -> dtb (dtc), + image hashes and the bundle (mkbundle), linked into hyp.
layout_src = $(if $(filter test-%,$(1)),tests/layouts/$(patsubst test-%,%,$(1)).dts,dts/$(1).dts)

define layout_rules
$(B)/$(1)/layout-src.dtb: $(call layout_src,$(1))
	$$(call say,DTC,$$<)
	@mkdir -p $$(dir $$@)
	$$(Q)dtc -q -I dts -O dtb -o $$@ $$<
$(B)/$(1)/layout.dtb $(B)/$(1)/bundle.img &: $(B)/$(1)/layout-src.dtb $(IMAGES) $(B)/host/mkbundle
	$$(call say,BUNDLE,$(B)/$(1)/bundle.img)
	$$(Q)$(B)/host/mkbundle $$< $(B)/images $(B)/$(1)/layout.dtb $(B)/$(1)/bundle.img
$(B)/$(1)/layout_blob.o: hyp/core/layout_blob.S $(B)/$(1)/layout.dtb
	$$(call say,AS,$$@)
	$$(Q)$(CC_TARGET) -DLAYOUT_DTB='"$(B)/$(1)/layout.dtb"' -c $$< -o $$@
$(B)/$(1)/hyp.img: $(HYP_OBJ) $(B)/$(1)/layout_blob.o $(LIBFDT_A) shared/arch/image.ld
	$$(call link_image,$(HYP_OBJ) $(B)/$(1)/layout_blob.o)
endef
$(foreach l,$(LAYOUTS),$(eval $(call layout_rules,$(l))))

# ---------------------------------------------------------------- host tools and tests
HOST_CFLAGS := -std=c11 -O2 -g -Wall -Wextra -Werror -D_DEFAULT_SOURCE -Ishared/include -MMD -MP

$(B)/host/mkbundle: tools/mkbundle.c shared/lib/sha256.c
	$(call say,HOSTCC,$@)
	@mkdir -p $(dir $@)
	$(Q)$(HOSTCC) $(HOST_CFLAGS) $^ -lfdt -o $@

UNIT_TESTS := sha256 kprintf pgtable layout vuart esr line bundle ring vgic
unit_src_sha256  := shared/lib/sha256.c
unit_src_kprintf := shared/lib/kprintf.c
unit_src_pgtable := shared/lib/pgtable.c
unit_src_layout  := hyp/core/layout.c hyp/core/board.c shared/lib/kprintf.c
unit_src_vuart   := hyp/core/vuart.c
unit_src_esr     := shared/lib/esr.c shared/lib/kprintf.c
unit_src_line    := shared/lib/line.c
unit_src_bundle  := hyp/core/bundle_reader.c
unit_src_ring    := shared/lib/ring.c
unit_src_vgic    := hyp/core/vgic.c
UNIT_BINS := $(patsubst %,$(B)/host/tests/test_%,$(UNIT_TESTS))

$(B)/host/tests/test_%: tests/unit/test_%.c
	$(call say,HOSTCC,$@)
	@mkdir -p $(dir $@)
	$(Q)$(HOSTCC) $(HOST_CFLAGS) -Ihyp/include $< $(unit_src_$*) -lcmocka -lfdt -o $@
$(foreach t,$(UNIT_TESTS),$(eval $(B)/host/tests/test_$(t): $(unit_src_$(t))))

# ---------------------------------------------------------------- fuzzing (libFuzzer)
FUZZ_TARGETS := ring
fuzz_src_ring := shared/lib/ring.c
FUZZ_SECONDS ?= 60
FUZZ_BINS := $(patsubst %,$(B)/fuzz/fuzz_%,$(FUZZ_TARGETS))

$(B)/fuzz/fuzz_%: tests/fuzz/fuzz_%.c
	$(call say,CLANG,$@)
	@mkdir -p $(dir $@)
	$(Q)clang -std=c11 -g -O1 -Wall -Wextra -Werror -fsanitize=fuzzer,address,undefined \
	    -fno-sanitize-recover=all -Ishared/include $< $(fuzz_src_$*) -o $@
$(foreach t,$(FUZZ_TARGETS),$(eval $(B)/fuzz/fuzz_$(t): $(fuzz_src_$(t))))

# ---------------------------------------------------------------- top-level targets
.PHONY: all setup run test unit integration fuzz fuzz-short bench clean
all: $(foreach l,$(LAYOUTS),$(B)/$(l)/hyp.img $(B)/$(l)/bundle.img) $(UNIT_BINS) $(FUZZ_BINS)

setup:
	$(Q)tools/setup.sh

run: setup
	$(Q)$(MAKE) --no-print-directory $(B)/$(LAYOUT)/hyp.img $(B)/$(LAYOUT)/bundle.img
	@echo "Booting QEMU. Keys: Ctrl-] then 0/1 focuses the rt/ai console; Ctrl-A x quits QEMU."
	$(QEMU) $(QEMU_FLAGS) -kernel $(B)/$(LAYOUT)/hyp.img -initrd $(B)/$(LAYOUT)/bundle.img

test: setup
	$(Q)$(MAKE) --no-print-directory all
	$(Q)$(MAKE) --no-print-directory unit fuzz-short integration

unit: $(UNIT_BINS)
	$(Q)tools/run-unit-tests.sh $(UNIT_BINS)

# Each target for FUZZ_SECONDS, growing a corpus in build/fuzz/; a crash fails the run.
fuzz: $(FUZZ_BINS)
	$(Q)for t in $(FUZZ_BINS); do \
	    mkdir -p $$t.corpus && \
	    echo "fuzz: $$(basename $$t) for $(FUZZ_SECONDS) s" && \
	    $$t -max_total_time=$(FUZZ_SECONDS) $$t.corpus > $$t.log 2>&1; rc=$$?; \
	    grep -E '^Done|^#[0-9]+.*DONE' $$t.log | tail -1; \
	    [ $$rc -eq 0 ] || { tail -30 $$t.log; echo "fuzz: $$t found a failure (log: $$t.log)"; exit 1; }; \
	done

fuzz-short:
	$(Q)$(MAKE) --no-print-directory fuzz FUZZ_SECONDS=15

# Deterministic latency figures (-icount shift=0) into bench/results/; never fails on speed.
bench: setup
	$(Q)$(MAKE) --no-print-directory $(B)/qemu-virt/hyp.img $(B)/qemu-virt/bundle.img
	$(Q)/usr/bin/python3 bench/latency.py $(B) bench/results
	$(Q)tools/latency-plot bench/results

integration: all
	$(Q)cd tests/integration && $(PYTEST) -q -p no:cacheprovider

clean:
	rm -rf $(B)

-include $(shell find $(B) -name '*.d' 2>/dev/null)
