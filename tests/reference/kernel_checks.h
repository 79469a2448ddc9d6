/*
 * The libaios kernels against plain transcriptions of the orders kernels.h documents,
 * bit for bit. The same file runs in two places: in the host unit tests (test_model.c,
 * checking the x86-64 SSE2 and plain C paths) and in arm64-logits --kernels under
 * qemu-aarch64 (checking the NEON and SDOT paths the partition runs). It uses nothing
 * but libaios, memcpy and ksnprintf, so it builds freestanding.
 */
#ifndef AIOS_KERNEL_CHECKS_H
#define AIOS_KERNEL_CHECKS_H

/* Runs every check; returns the number of mismatches, describing the first few (one
 * line each) through say. */
int aios_kernel_checks(void (*say)(const char *line));

#endif
