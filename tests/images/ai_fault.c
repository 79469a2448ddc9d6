/*
 * Test image for the AI partition. It first checks that an unknown hypercall is answered
 * with SMCCC NOT_SUPPORTED and that resetting the counters is refused (the layout does
 * not grant it perf-control), then maps the RT partition's RAM into its own stage-1 table
 * and writes to it. Its stage-2 table does not map that memory: the hypervisor must log
 * the fault, contain it and apply the layout's restart policy, and the RT shell must not
 * notice.
 */
#include <string.h>

#include "aarch64.h"
#include "guest.h"

void kernel_main(void)
{
    struct hyp_partition_info info;
    int n = hyp_partition_count(NULL);

    kprintf("fault-test: unknown hypercall returned %lld\n",
            (long long)smccc_hvc(HYP_CALL(0xff), 0, 0, 0).x0);
    kprintf("fault-test: perf reset returned %d\n", hyp_perf_reset());
    for (int i = 0; i < n; i++) {
        if (hyp_partition_info((unsigned)i, &info) || strcmp(info.name, "rt"))
            continue;
        if (guest_map_range(info.ram_base, 4096, false))
            guest_panic("cannot map 0x%llx", (unsigned long long)info.ram_base);
        kprintf("fault-test: writing to rt memory at 0x%llx\n", (unsigned long long)info.ram_base);
        *(volatile uint64_t *)(uintptr_t)info.ram_base = 0xdeadbeef;
        kprintf("fault-test: the write went through: isolation is broken\n");
    }
    for (;;)
        wfi();
}

void kernel_secondary_main(unsigned cpu)
{
    (void)cpu;
}
