/*
 * The RT partition's kernel: brings up its console and runs the RT shell. (The scheduler,
 * EL0 tasks and drivers grow around this in later steps.)
 */
#include "guest.h"
#include "shell.h"

void kernel_main(void)
{
    kprintf("aios rt kernel %d.%d: %s %s, %llu MiB at 0x%llx, %u cpu%s\n",
            RT_VERSION_MAJOR, RT_VERSION_MINOR,
            guest.hypervisor ? "partition" : "alone on the board,",
            guest.hypervisor ? guest.name : "no hypervisor",
            (unsigned long long)(guest.ram_size >> 20), (unsigned long long)guest.ram_base,
            guest.ncpus, guest.ncpus == 1 ? "" : "s");
    perf_init();
    shell_run();
}

void kernel_secondary_main(unsigned cpu)
{
    (void)cpu;
    /* The RT partition runs on one core; a stray CPU_ON finds nothing to do here. */
}
