# aios: split AI/real-time system for the Raspberry Pi 5, developed on QEMU virt.
#
#   make run      set up, build, boot the split system in QEMU to the RT shell
#   make test     set up, build, run the host unit tests, a short fuzz run and the QEMU
#                 integration tests
#   make bench    latency figures and histogram PNGs, and inference speed, into bench/results/
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

# `make` alone builds everything (the first rule below would otherwise be the default).
.DEFAULT_GOAL := all

# ---------------------------------------------------------------- bare-metal images
# Asked of the cross compiler only when first needed: `make run` installs it first.
GCC_INCLUDE = $(eval GCC_INCLUDE := $(shell $(CC_TARGET) -print-file-name=include))$(GCC_INCLUDE)
TARGET_CFLAGS = -std=c11 -O2 -g -Wall -Wextra -Werror -ffreestanding -nostdinc \
    -isystem $(GCC_INCLUDE) \
    -Ishared/libc/include -Ishared/include -idirafter $(DEPS)/usr/include \
    -mcpu=cortex-a76 $(GENERAL_REGS) $(STRICT_ALIGN) -mno-outline-atomics \
    -fpie -fno-stack-protector -fno-common -MMD -MP
# Kernel code keeps to the general registers and to aligned accesses (some of it runs
# with the MMU off, where an unaligned access faults). The AI partition's inference code
# runs only with its MMU on and uses FP/SIMD (NEON, and SDOT for int8), rounded exactly
# as on the host (docs/inference.md), with unaligned vector loads.
GENERAL_REGS := -mgeneral-regs-only
STRICT_ALIGN := -mstrict-align
TARGET_ASFLAGS := -Ishared/include -Ihyp/include -MMD -MP
TARGET_LDFLAGS := -pie --no-dynamic-linker -z notext -z noexecstack -nostdlib \
    -T shared/arch/image.ld --no-warn-rwx-segments --fatal-warnings

# The compiler's own helpers (128-bit division in the RT calculator), from Debian's gcc.
LIBGCC_A = $(eval LIBGCC_A := $(shell $(CC_TARGET) -print-libgcc-file-name))$(LIBGCC_A)
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
             $(B)/target/rtkernel/perf.o $(B)/target/rtkernel/isolation.o \
             $(B)/target/rtkernel/ask.o $(B)/target/rtkernel/calc.o $(B)/target/rtkernel/status.o \
             $(B)/target/rtkernel/intent.o \
             $(B)/target/shared/lib/esr.o
# libaios: one source list for the partition image, the host tools, tests and fuzzers.
AIOS_LIB_SRC := aios/lib/model.c aios/lib/forward.c aios/lib/sampler.c aios/lib/kernels.c \
                aios/lib/aios_math.c aios/lib/tokenizer.c aios/lib/encoder.c aios/lib/hnsw.c \
                aios/lib/intent.c shared/lib/sha256.c
AIOS_OBJ  := $(B)/target/aios/runtime/main.o $(B)/target/aios/runtime/infer.o \
             $(B)/target/aios/runtime/understand.o $(B)/target/aios/runtime/channel.o \
             $(patsubst %.c,$(B)/target/%.o,$(AIOS_LIB_SRC))
FAULT_OBJ := $(B)/target/tests/images/ai_fault.o

IMAGES  := $(B)/images/rtkernel.bin $(B)/images/aios.bin $(B)/images/ai_fault.bin \
           $(B)/images/model.bin $(B)/images/tokenizer.bin $(B)/images/encoder.bin \
           $(B)/images/intents.bin
LAYOUTS := qemu-virt test-ai-fault test-core-twice test-three-partitions

$(B)/target/hyp/%.o: CFLAGS_EXTRA := -Ihyp/include
$(B)/target/shared/lib/string.o: CFLAGS_EXTRA := -fno-builtin -fno-tree-loop-distribute-patterns
$(B)/target/rtkernel/%.o: CFLAGS_EXTRA := -Irtkernel
$(B)/target/aios/%.o: CFLAGS_EXTRA := -Iaios/include -ffp-contract=off -fno-math-errno
$(B)/target/aios/%.o: GENERAL_REGS :=
$(B)/target/aios/%.o: STRICT_ALIGN :=

$(B)/target/%.o: %.c | $(LIBFDT_A)
	$(call say,CC,$<)
	@mkdir -p $(dir $@)
	$(Q)$(CC_TARGET) $(TARGET_CFLAGS) $(CFLAGS_EXTRA) -c $< -o $@

$(B)/target/%.o: %.S
	$(call say,AS,$<)
	@mkdir -p $(dir $@)
	$(Q)$(CC_TARGET) $(TARGET_ASFLAGS) -c $< -o $@

$(LIBFDT_A):
	$(Q)tools/unpack-deb.sh libfdt-dev:arm64 $(DEPS)

define link_image
	$(call say,LD,$@)
	@mkdir -p $(dir $@)
	$(Q)$(LD_TARGET) $(TARGET_LDFLAGS) -o $(basename $@).elf $(1) $(LIBFDT_A) $(LIBGCC_A)
	$(Q)$(OBJCOPY) -O binary $(basename $@).elf $@
endef

$(B)/images/rtkernel.bin: $(GUEST_OBJ) $(RT_OBJ) $(LIBFDT_A) shared/arch/image.ld
	$(call link_image,$(GUEST_OBJ) $(RT_OBJ))
$(B)/images/aios.bin: $(GUEST_OBJ) $(AIOS_OBJ) $(LIBFDT_A) shared/arch/image.ld
	$(call link_image,$(GUEST_OBJ) $(AIOS_OBJ))
$(B)/images/ai_fault.bin: $(GUEST_OBJ) $(FAULT_OBJ) $(LIBFDT_A) shared/arch/image.ld
	$(call link_image,$(GUEST_OBJ) $(FAULT_OBJ))

# The AI partition's model and tokenizer modules. By default a small random-weight int8
# model (no download; its text is noise) and a tokenizer that matches its vocabulary;
# MODEL=<llama2.c checkpoint> TOKENIZER=<tokenizer.bin> boot a real one instead.
MODEL_VOCAB := 512
MODEL_ARGS  := --int8 --group-size 32 --dim 96 --hidden 256 --layers 4 --heads 4 --kv-heads 2 \
               --vocab $(MODEL_VOCAB) --seq 128 --seed 42
# Remade on every build but replaced only when the content changes, so switching MODEL
# or TOKENIZER (or back to the defaults) always takes effect and nothing else rebuilds.
$(B)/images/model.bin: $(if $(MODEL),$(MODEL),$(B)/host/aios-genmodel) FORCE
	@mkdir -p $(dir $@)
	$(Q)$(if $(MODEL),cp $(MODEL) $@.new,$(B)/host/aios-genmodel $(MODEL_ARGS) -o $@.new)
	$(Q)if cmp -s $@.new $@; then rm $@.new; else mv $@.new $@; printf '  %-8s %s\n' MODEL $@; fi
$(B)/images/tokenizer.bin: $(if $(TOKENIZER),$(TOKENIZER),$(B)/host/aios-gentok) FORCE
	@mkdir -p $(dir $@)
	$(Q)$(if $(TOKENIZER),cp $(TOKENIZER) $@.new,$(B)/host/aios-gentok $(MODEL_VOCAB) $@.new)
	$(Q)if cmp -s $@.new $@; then rm $@.new; else mv $@.new $@; printf '  %-8s %s\n' TOKENIZER $@; fi
FORCE:

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

# A synthetic tokenizer of any vocab_size, for tests with small random-weight models.
$(B)/host/aios-gentok: tools/aios-gentok.c aios/lib/tokenizer.c shared/lib/kprintf.c
	$(call say,HOSTCC,$@)
	@mkdir -p $(dir $@)
	$(Q)$(HOSTCC) $(HOST_CFLAGS) -Iaios/include $^ -o $@

# libaios on the host: the engine's objects, and the CLI and tools built on them. No fused
# multiply-add (-ffp-contract=off), so the host computes the partition's bits exactly
# (docs/inference.md); -fno-math-errno makes sqrtf one instruction, no libm call.
AIOS_HOST_CFLAGS := $(HOST_CFLAGS) -O3 -ffp-contract=off -fno-math-errno -Iaios/include
AIOS_HOST_OBJ := $(patsubst %.c,$(B)/host/obj/%.o,$(AIOS_LIB_SRC) shared/lib/kprintf.c)

$(B)/host/obj/%.o: %.c
	$(call say,HOSTCC,$@)
	@mkdir -p $(dir $@)
	$(Q)$(HOSTCC) $(AIOS_HOST_CFLAGS) -c $< -o $@

$(B)/host/aios-run: aios/cli/aios_run.c $(AIOS_HOST_OBJ)
	$(call say,HOSTCC,$@)
	@mkdir -p $(dir $@)
	$(Q)$(HOSTCC) $(AIOS_HOST_CFLAGS) $^ -lpthread -o $@
$(B)/host/aios-genmodel $(B)/host/aios-quantize: $(B)/host/aios-%: tools/aios-%.c $(AIOS_HOST_OBJ)
	$(call say,HOSTCC,$@)
	@mkdir -p $(dir $@)
	$(Q)$(HOSTCC) $(AIOS_HOST_CFLAGS) $^ -o $@
# HNSW recall/QPS sweep; zlib reads the gzipped Fashion-MNIST files when present.
$(B)/host/aios-hnsw-bench: tools/aios-hnsw-bench.c $(patsubst %.c,$(B)/host/obj/%.o,\
                           aios/lib/hnsw.c aios/lib/kernels.c aios/lib/aios_math.c \
                           shared/lib/sha256.c shared/lib/kprintf.c)
	$(call say,HOSTCC,$@)
	@mkdir -p $(dir $@)
	$(Q)$(HOSTCC) $(AIOS_HOST_CFLAGS) $^ -lz -o $@

# The sentence encoder (docs/encoder.md): its trainer and its k-NN evaluation.
ENC_TOOL_SRC := tools/encoder_train.c tools/encoder_pretrain.c tools/intent_data.c tools/wordnet.c
$(B)/host/aios-train-encoder $(B)/host/aios-encoder-eval: $(B)/host/aios-%: tools/aios-%.c \
                          $(ENC_TOOL_SRC) $(ENC_TOOL_SRC:.c=.h) aios/include/aios/encoder.h $(AIOS_HOST_OBJ)
	$(call say,HOSTCC,$@)
	@mkdir -p $(dir $@)
	$(Q)$(HOSTCC) $(AIOS_HOST_CFLAGS) -Itools $(filter %.c %.o,$^) -lpthread -o $@
# Its weights, trained from the intent corpus (and WordNet when installed): int8 for the
# partition, fp32 for the host. Retrained only when the corpus, the trainer, libaios or
# the WordNet files change (wordnet.stamp is rewritten only when their listing changes).
ENC_CORPUS := $(wildcard aios/intents/*.txt)

# The intent corpus as the engine reads it, one "intent<TAB>sentence" line per example:
# a module of the AI partition (docs/intents.md).
$(B)/images/intents.bin: $(ENC_CORPUS)
	$(call say,INTENTS,$@)
	@mkdir -p $(dir $@)
	$(Q)for f in $(sort $(ENC_CORPUS)); do n=$$(basename $$f .txt); \
	    grep -v '^[[:space:]]*\(#\|$$\)' $$f | sed "s/^/$$n\t/"; done > $@

# The intent engine on the host, with the partition's files.
$(B)/host/aios-intent: aios/cli/aios_intent.c $(AIOS_HOST_OBJ) $(B)/images/encoder.bin \
                       $(B)/images/intents.bin
	$(call say,HOSTCC,$@)
	@mkdir -p $(dir $@)
	$(Q)$(HOSTCC) $(AIOS_HOST_CFLAGS) aios/cli/aios_intent.c $(AIOS_HOST_OBJ) -o $@
ENC_ARGS   := --seed 1
$(B)/images/encoder.bin $(B)/host/encoder-f32.bin &: $(B)/host/aios-train-encoder $(ENC_CORPUS) \
                                                    aios/intents $(B)/host/wordnet.stamp
	$(call say,TRAIN,$(B)/images/encoder.bin)
	@mkdir -p $(B)/images
	$(Q)$(B)/host/aios-train-encoder --corpus aios/intents $(ENC_ARGS) --quiet \
	    --out-f32 $(B)/host/encoder-f32.bin --out-int8 $(B)/images/encoder.bin
$(B)/host/wordnet.stamp: FORCE
	@mkdir -p $(dir $@)
	$(Q)ls -ln --time-style=+%s /usr/share/wordnet > $@.new 2>/dev/null || true
	$(Q)if cmp -s $@.new $@; then rm $@.new; else mv $@.new $@; fi

# libaios built as for the partition (freestanding, NEON and SDOT) into a static AArch64
# Linux program: the reference test runs it under qemu-aarch64 and checks its logits
# equal the host's bit for bit.
AIOS_ARM64_CFLAGS = -std=c11 -O2 -Wall -Wextra -Werror -ffreestanding -nostdinc \
    -isystem $(GCC_INCLUDE) -Ishared/libc/include -Ishared/include -Iaios/include \
    -mcpu=cortex-a76 -fpie -ffp-contract=off -fno-math-errno
$(B)/arm64-user/arm64-logits: tests/reference/arm64_logits.c tests/reference/kernel_checks.c \
                              $(AIOS_LIB_SRC) shared/lib/kprintf.c shared/lib/string.c
	$(call say,CC,$@)
	@mkdir -p $(dir $@)
	$(Q)$(CC_TARGET) $(AIOS_ARM64_CFLAGS) -fno-builtin -fno-tree-loop-distribute-patterns \
	    -c shared/lib/string.c -o $(B)/arm64-user/string.o
	$(Q)$(CC_TARGET) $(AIOS_ARM64_CFLAGS) $(filter-out %/string.c,$^) $(B)/arm64-user/string.o \
	    -nostdlib -static -no-pie -lgcc -o $@

UNIT_TESTS := sha256 kprintf pgtable layout vuart esr line bundle ring vgic tokenizer model calc hnsw \
              encoder string
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
unit_src_tokenizer := aios/lib/tokenizer.c shared/lib/kprintf.c
unit_src_calc    := rtkernel/calc.c shared/lib/kprintf.c
unit_src_model   := $(AIOS_LIB_SRC) shared/lib/kprintf.c tests/reference/kernel_checks.c
unit_flags_model := -O3 -ffp-contract=off -fno-math-errno -lm
unit_src_hnsw    := aios/lib/hnsw.c aios/lib/kernels.c aios/lib/aios_math.c shared/lib/sha256.c \
                    shared/lib/kprintf.c
unit_flags_hnsw  := -O3 -ffp-contract=off -fno-math-errno
unit_src_encoder := aios/lib/encoder.c aios/lib/kernels.c aios/lib/aios_math.c shared/lib/sha256.c \
                    shared/lib/kprintf.c tools/encoder_train.c tools/encoder_pretrain.c
unit_flags_encoder := -O3 -ffp-contract=off -fno-math-errno -Itools
# The images' own <string.h>, under other names so the host C library keeps its own.
STRING_FUNCS := memcpy memmove memset memcmp memchr strlen strnlen strcmp strncmp strchr strrchr \
                strtoul
unit_src_string  := shared/lib/string.c
unit_flags_string := -fno-builtin -fno-tree-loop-distribute-patterns -U_FORTIFY_SOURCE \
                     $(foreach f,$(STRING_FUNCS),-D$(f)=aios_$(f))
UNIT_BINS := $(patsubst %,$(B)/host/tests/test_%,$(UNIT_TESTS))

$(B)/host/tests/test_%: tests/unit/test_%.c
	$(call say,HOSTCC,$@)
	@mkdir -p $(dir $@)
	$(Q)$(HOSTCC) $(HOST_CFLAGS) -Ihyp/include -Iaios/include -Irtkernel $< $(unit_src_$*) -lcmocka -lfdt \
	    $(unit_flags_$*) -o $@
$(foreach t,$(UNIT_TESTS),$(eval $(B)/host/tests/test_$(t): $(unit_src_$(t))))

# ---------------------------------------------------------------- fuzzing (libFuzzer)
FUZZ_TARGETS := ring tokenizer model calc hnsw encoder
fuzz_src_ring := shared/lib/ring.c
fuzz_src_tokenizer := aios/lib/tokenizer.c shared/lib/kprintf.c
fuzz_src_calc := rtkernel/calc.c shared/lib/kprintf.c
fuzz_src_model := $(AIOS_LIB_SRC) shared/lib/kprintf.c
fuzz_flags_model := -ffp-contract=off -fno-math-errno
fuzz_src_hnsw := aios/lib/hnsw.c aios/lib/kernels.c aios/lib/aios_math.c shared/lib/sha256.c \
                 shared/lib/kprintf.c
fuzz_flags_hnsw := -ffp-contract=off -fno-math-errno
fuzz_src_encoder := aios/lib/encoder.c aios/lib/kernels.c aios/lib/aios_math.c shared/lib/sha256.c \
                    shared/lib/kprintf.c
fuzz_flags_encoder := -ffp-contract=off -fno-math-errno
FUZZ_SECONDS ?= 60
FUZZ_BINS := $(patsubst %,$(B)/fuzz/fuzz_%,$(FUZZ_TARGETS))

$(B)/fuzz/fuzz_%: tests/fuzz/fuzz_%.c
	$(call say,CLANG,$@)
	@mkdir -p $(dir $@)
	$(Q)clang -std=c11 -g -O1 -Wall -Wextra -Werror -fsanitize=fuzzer,address,undefined \
	    -fno-sanitize-recover=all -D_DEFAULT_SOURCE -Ishared/include -Iaios/include -Irtkernel \
	    $(fuzz_flags_$*) $< \
	    $(fuzz_src_$*) -o $@
$(foreach t,$(FUZZ_TARGETS),$(eval $(B)/fuzz/fuzz_$(t): $(fuzz_src_$(t))))

# ---------------------------------------------------------------- top-level targets
.PHONY: all setup run test unit integration fuzz fuzz-short bench clean host reference intents FORCE
all: $(foreach l,$(LAYOUTS),$(B)/$(l)/hyp.img $(B)/$(l)/bundle.img) $(UNIT_BINS) $(FUZZ_BINS) host

host: $(B)/host/aios-gentok $(B)/host/aios-run $(B)/host/aios-genmodel $(B)/host/aios-quantize \
      $(B)/host/aios-intent \
      $(B)/host/aios-hnsw-bench $(B)/host/aios-train-encoder $(B)/host/aios-encoder-eval \
      $(B)/host/encoder-f32.bin

setup:
	$(Q)tools/setup.sh

run: setup
	$(Q)$(MAKE) --no-print-directory $(B)/$(LAYOUT)/hyp.img $(B)/$(LAYOUT)/bundle.img
	@echo "Booting QEMU. Keys: Ctrl-] then 0/1 focuses the rt/ai console; Ctrl-A x quits QEMU."
	$(QEMU) $(QEMU_FLAGS) -kernel $(B)/$(LAYOUT)/hyp.img -initrd $(B)/$(LAYOUT)/bundle.img

test: setup
	$(Q)$(MAKE) --no-print-directory all
	$(Q)$(MAKE) --no-print-directory unit fuzz-short reference intents integration

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
	$(Q)$(MAKE) --no-print-directory fuzz FUZZ_SECONDS=10

# Deterministic latency figures (-icount shift=0) into bench/results/; never fails on speed.
# Then inference speed (bench/inference.py): host tokens/s against a textbook baseline, and
# the partition's instructions per token and two-core speedup, into inference.json.
bench: setup
	$(Q)tools/setup.sh bench
	$(Q)$(MAKE) --no-print-directory $(B)/qemu-virt/hyp.img $(B)/qemu-virt/bundle.img \
	    $(B)/host/aios-run $(B)/host/aios-genmodel $(B)/host/aios-gentok $(B)/host/aios-baseline \
	    $(B)/host/aios-train-encoder $(B)/host/aios-encoder-eval $(B)/host/aios-hnsw-bench \
	    $(if $(wildcard $(CLINC150)),$(B)/pretrain/text.txt)
	$(Q)/usr/bin/python3 bench/latency.py $(B) bench/results
	$(Q)tools/latency-plot bench/results
	$(Q)/usr/bin/python3 bench/inference.py $(B) bench/results
	$(Q)/usr/bin/python3 bench/intents.py $(B) bench/results

# The text two members of the bench's CLINC150 encoder are pretrained on (docs/encoder.md):
# Debian's GCIDE and WordNet's glosses, made plain. Only made when the data set is there.
CLINC150 := ../shared/datasets/clinc150/data_full.json
$(B)/pretrain/text.txt: tools/pretrain-text.py tools/unpack-deb.sh
	$(Q)tools/unpack-deb.sh dict-gcide $(B)/deps/gcide
	@mkdir -p $(dir $@)
	$(Q)/usr/bin/python3 tools/pretrain-text.py $(B)/deps/gcide/usr/share/dictd/gcide.dict.dz \
	    /usr/share/wordnet $@

# The yardstick of bench/inference.py: a plain textbook forward pass, built the way one
# would build it for speed on this machine (-Ofast -march=native); not part of libaios.
$(B)/host/aios-baseline: bench/baseline.c
	$(call say,HOSTCC,$@)
	@mkdir -p $(dir $@)
	$(Q)$(HOSTCC) -std=c11 -Ofast -march=native -Wall -Wextra -Werror $< -lm -o $@

# The intent engine on paraphrases it never saw and conversations, and the encoder tools'
# CLINC150 evaluation on a small set in its format (tests/intents).
intents: $(B)/host/aios-intent $(B)/host/aios-train-encoder $(B)/host/aios-encoder-eval
	$(Q)cd tests/intents && $(PYTEST) -q -p no:cacheprovider -s

# The C engine against an independent numpy forward pass (tests/reference).
reference: $(B)/host/aios-run $(B)/host/aios-genmodel $(B)/host/aios-quantize \
           $(B)/arm64-user/arm64-logits
	$(Q)cd tests/reference && $(PYTEST) -q -p no:cacheprovider

integration: all
	$(Q)cd tests/integration && $(PYTEST) -q -p no:cacheprovider

clean:
	rm -rf $(B)

-include $(shell find $(B) -name '*.d' 2>/dev/null)
