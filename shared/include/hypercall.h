/*
 * The hypervisor's call interface, shared by the hypervisor and every partition image.
 *
 * Calls are HVC #0 following the SMC Calling Convention (Arm DEN 0028): the function ID
 * in x0, arguments in x1..x5, results in x0..x3. Our own calls sit in the SMC64 fast-call
 * range owned by the "vendor-specific hypervisor service" (owning entity 6), so they can
 * never collide with PSCI or with the architecture's own SMCCC calls.
 */
#ifndef SHARED_HYPERCALL_H
#define SHARED_HYPERCALL_H

/* SMCCC return values. */
#define SMCCC_SUCCESS            0
#define SMCCC_NOT_SUPPORTED      (-1)
#define SMCCC_NOT_REQUIRED       (-2)
#define SMCCC_INVALID_PARAMETER  (-3)
#define SMCCC_DENIED             (-4)   /* ours: the layout does not grant this */

/* Function ID fields: bit 31 fast call, bit 30 SMC64, bits 29:24 owning entity. */
#define SMCCC_FAST_CALL          0x80000000u
#define SMCCC_64                 0x40000000u
#define SMCCC_OWNER_SHIFT        24
#define SMCCC_OWNER_MASK         0x3fu
#define SMCCC_OWNER_ARCH         0u
#define SMCCC_OWNER_STANDARD     4u     /* PSCI lives here */
#define SMCCC_OWNER_VENDOR_HYP   6u

#define HYP_CALL(n) (SMCCC_FAST_CALL | SMCCC_64 | (SMCCC_OWNER_VENDOR_HYP << SMCCC_OWNER_SHIFT) | (n))

/* x0 = HYP_VERSION_MAJOR << 16 | HYP_VERSION_MINOR. */
#define HYP_CALL_VERSION         HYP_CALL(0x00)
/* x0 = number of partitions in the layout, x1 = index of the calling partition. */
#define HYP_CALL_PARTITION_COUNT HYP_CALL(0x01)
/*
 * x1 = partition index. Returns x0 = 0, x1 = name (up to 8 bytes, little-endian, NUL
 * padded), x2 = bitmap of physical cores, x3 = RAM size in bytes,
 * x4 = state | restarts << 8 | restart limit << 32, x5 = RAM base (intermediate
 * physical address, equal to the physical address in this design).
 */
#define HYP_CALL_PARTITION_INFO  HYP_CALL(0x02)
/* x1 = partition index: stop and restart it. Only where the layout grants it. */
#define HYP_CALL_PARTITION_RESTART HYP_CALL(0x03)

/* x1 = core, x2 = counter (shared/include/perf.h). Returns x0 = 0, x1 = its value
 * since the last reset; -3 for a core or counter that does not exist. */
#define HYP_CALL_PERF_READ       HYP_CALL(0x04)
/* Zero every core's counters. Only where the layout grants perf-control. */
#define HYP_CALL_PERF_RESET      HYP_CALL(0x05)

/* x1 = partition index. Returns x0 = 0, x1 = stage-2 faults so far, x2 = address of the
 * last one, x3 = its ESR; -3 for a bad index. */
#define HYP_CALL_PARTITION_FAULTS HYP_CALL(0x06)
/* x1 = HYP_REGION_*. Returns x0 = 0, x1 = physical base, x2 = size; -3 otherwise. For
 * diagnostics such as the RT shell's isolation test: none of it is mapped anywhere. */
#define HYP_CALL_PLATFORM_REGION HYP_CALL(0x07)
#define HYP_REGION_HYPERVISOR    0   /* the hypervisor's own image */
#define HYP_REGION_GICD          1   /* the physical GIC distributor */

/* x1 = channel index (the layout's; a partition's device tree gives it as
 * aios,channel-index). Raises the channel's doorbell interrupt in the other partition
 * (the one its device tree names). x2 = how many messages the caller has rejected on
 * this channel so far, in total: the hypervisor counts them per core (PERF_RING_REJECTED),
 * as it counts the messages each doorbell announces (PERF_RING_SENT). -3 for a bad
 * index, -4 when the caller is not an end of the channel. */
#define HYP_CALL_DOORBELL        HYP_CALL(0x08)

#define HYP_VERSION_MAJOR        0
#define HYP_VERSION_MINOR        1

/* Partition states reported by HYP_CALL_PARTITION_INFO. */
enum partition_state {
    PARTITION_OFF = 0,       /* not started yet */
    PARTITION_RUNNING = 1,
    PARTITION_RESTARTING = 2,
    PARTITION_STOPPED = 3,   /* faulted, and its policy says do not restart */
    PARTITION_FAILED = 4,    /* faulted again after its restart limit */
    PARTITION_REFUSED = 5,   /* image missing or its SHA-256 does not match the layout */
};

#endif /* SHARED_HYPERCALL_H */
