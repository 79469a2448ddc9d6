/*
 * GICv2 register offsets (ARM IHI 0048B): distributor (GICD), CPU interface (GICC) and
 * virtual interface control (GICH). Used by the hypervisor's driver, its virtual
 * distributor and the partitions' driver.
 */
#ifndef SHARED_GICV2_H
#define SHARED_GICV2_H

#define GICD_CTLR        0x000
#define GICD_TYPER       0x004
#define GICD_IIDR        0x008
#define GICD_ISENABLER   0x100
#define GICD_ICENABLER   0x180
#define GICD_ISPENDR     0x200
#define GICD_ICPENDR     0x280
#define GICD_ISACTIVER   0x300
#define GICD_ICACTIVER   0x380
#define GICD_IPRIORITYR  0x400
#define GICD_ITARGETSR   0x800
#define GICD_ICFGR       0xc00
#define GICD_SGIR        0xf00
#define GICD_CPENDSGIR   0xf10
#define GICD_SPENDSGIR   0xf20
#define GICD_PIDR4       0xfd0

#define GICC_CTLR        0x000
#define GICC_PMR         0x004
#define GICC_IAR         0x00c
#define GICC_EOIR        0x010
#define GICC_APR0        0x0d0
#define GICC_DIR         0x1000

#define GICH_HCR         0x000
#define GICH_VTR         0x004
#define GICH_VMCR        0x008
#define GICH_APR         0x0f0
#define GICH_LR0         0x100

#define GIC_INTID_SPURIOUS 1020   /* IAR values from here on: nothing to acknowledge */

#endif /* SHARED_GICV2_H */
