/*
 * The hypervisor's boot flow, top to bottom (docs/architecture.md tells the same story):
 *
 *  1. head.S: entered at EL2 on the boot core, relocated, .bss cleared, vectors set.
 *  2. EL2 MMU on over the image and the DTB, so parsing runs with caches on.
 *  3. Board facts from the DTB in x0; the console comes up.
 *  4. The partition layout linked into this image: parsed, then checked against the
 *     board. A bad layout stops the boot, saying what is wrong.
 *  5. The hypervisor's own map (all RAM, its devices) replaces the early one.
 *  6. One stage-2 table per partition (its RAM, and the channels it is one end of); the
 *     channels' rings laid out; each image copied from the boot bundle and its SHA-256
 *     checked against the layout; a mismatch refuses that partition only.
 *  7. The other cores come up through firmware PSCI CPU_ON; every core enters the
 *     partition that owns it.
 */
#include <string.h>

#include "aarch64.h"
#include "hyp.h"
#include "kprintf.h"

extern const uint8_t __layout_dtb[];
extern uint8_t __image_start[], __image_end[];
void secondary_entry(void);
int mmu_map_early_device(uint64_t base);

struct board board;
struct layout layout;
struct core cores[BOARD_MAX_CORES];
static uint8_t core_stacks[BOARD_MAX_CORES][HYP_CORE_STACK] __attribute__((aligned(16)));
static struct core_boot_args boot_args[BOARD_MAX_CORES];

static void halt(void) __attribute__((noreturn));
static void halt(void)
{
    for (;;)
        wfi();
}

static struct trap_frame *frame_of(unsigned core)
{
    return (struct trap_frame *)(core_stacks[core] + HYP_CORE_STACK - FRAME_SIZE);
}

static int core_of_mpidr(uint64_t mpidr)
{
    /* Affinity fields only: Aff3 in bits 39:32, Aff2..Aff0 in bits 23:0. */
    mpidr &= 0xff00ffffffull;
    for (unsigned i = 0; i < board.ncores; i++)
        if (board.mpidr[i] == mpidr)
            return (int)i;
    return -1;
}

static void core_setup(unsigned index)
{
    struct core *c = &cores[index];

    c->index = index;
    c->frame = frame_of(index);
    write_sysreg(tpidr_el2, c);
    mmu_init_el2_controls();
    gic_init_cpu();
}

static void start_secondaries(unsigned boot_core)
{
    for (unsigned i = 0; i < board.ncores; i++) {
        struct smccc_res r;

        if (i == boot_core || !cores[i].vcpu)
            continue;   /* a core no partition owns stays with the firmware */
        mmu_fill_boot_args(&boot_args[i], i, (uintptr_t)frame_of(i));
        r = smccc_smc(PSCI_CPU_ON, board.mpidr[i], (uintptr_t)secondary_entry,
                      (uintptr_t)&boot_args[i]);
        if ((int64_t)r.x0 != PSCI_SUCCESS)
            hyp_log("core %u did not start: PSCI CPU_ON returned %lld; partition %s lacks it", i,
                    (long long)(int64_t)r.x0, cores[i].vcpu->part->cfg->name);
    }
}

void hyp_main(const void *dtb, uint64_t load_address)
{
    char err[200];
    int boot_core;
    uint64_t ram_total = 0;

    mmu_prepare_boot_core(load_address, dtb);

    if (board_parse(dtb, &board, err, sizeof(err))) {
        /* Tell the user if the parse got as far as the console. */
        if (board.uart.base && !mmu_map_early_device(board.uart.base)) {
            console_init(board.uart.base);
            hyp_panic("board device tree: %s", err);
        }
        halt();
    }
    mmu_map_early_device(board.uart.base);
    console_init(board.uart.base);
    if (board_reserve(&board, load_address, (uintptr_t)(__image_end - __image_start), "the hypervisor"))
        hyp_panic("board reserves too many ranges to add the hypervisor's own");
    boot_core = core_of_mpidr(read_sysreg(mpidr_el1));
    if (boot_core < 0)
        hyp_panic("the boot core's MPIDR 0x%llx is not among the DTB's cpus",
                  (unsigned long long)read_sysreg(mpidr_el1));
    for (unsigned i = 0; i < board.nram; i++)
        ram_total += board.ram[i].size;
    hyp_log("aios hypervisor %d.%d: %u cores, %llu MiB RAM, console PL011 at 0x%llx, booted on core %d",
            HYP_VERSION_MAJOR, HYP_VERSION_MINOR, board.ncores, (unsigned long long)(ram_total >> 20),
            (unsigned long long)board.uart.base, boot_core);

    if (layout_parse(__layout_dtb, &layout, err, sizeof(err)) ||
        layout_validate(&layout, &board, err, sizeof(err)))
        hyp_panic("partition layout refused: %s", err);

    mmu_build_final();
    mmu_activate_final();
    gic_init_distributor();
    if (partitions_create())
        hyp_panic("out of memory for stage-2 translation tables");
    core_setup((unsigned)boot_core);   /* after: it looks at the partition owning the core */
    channels_format();
    partitions_load_all();
    start_secondaries((unsigned)boot_core);

    if (!cores[boot_core].vcpu)
        halt();
    vcpu_run(&cores[boot_core]);
}

void hyp_secondary_main(uint64_t core)
{
    core_setup((unsigned)core);
    vcpu_run(&cores[core]);
}

_Static_assert(__builtin_offsetof(struct core_boot_args, mair) == BOOT_ARGS_MAIR, "asm offsets");
_Static_assert(__builtin_offsetof(struct core_boot_args, tcr) == BOOT_ARGS_TCR, "asm offsets");
_Static_assert(__builtin_offsetof(struct core_boot_args, ttbr) == BOOT_ARGS_TTBR, "asm offsets");
_Static_assert(__builtin_offsetof(struct core_boot_args, sctlr) == BOOT_ARGS_SCTLR, "asm offsets");
_Static_assert(__builtin_offsetof(struct core_boot_args, vbar) == BOOT_ARGS_VBAR, "asm offsets");
_Static_assert(__builtin_offsetof(struct core_boot_args, stack) == BOOT_ARGS_STACK, "asm offsets");
_Static_assert(__builtin_offsetof(struct core_boot_args, core) == BOOT_ARGS_CORE, "asm offsets");
_Static_assert(__builtin_offsetof(struct trap_frame, elr) == FRAME_ELR, "asm offsets");
_Static_assert(__builtin_offsetof(struct trap_frame, spsr) == FRAME_SPSR, "asm offsets");
_Static_assert(__builtin_offsetof(struct trap_frame, entry_cycles) == FRAME_CYCLES, "asm offsets");
_Static_assert(sizeof(struct trap_frame) == FRAME_SIZE, "asm offsets");
