/*
 * arm64-logits: the libaios engine built exactly as for the partition (freestanding,
 * -nostdinc with shared/libc, -mcpu=cortex-a76 -mstrict-align -ffp-contract=off, NEON
 * and SDOT kernels), wrapped as a static AArch64 Linux program so that qemu-aarch64 can
 * run it on the host. test_reference.py compares its logits with the host build's, bit
 * for bit: the engine's claim that both give identical results, checked on the real
 * AArch64 code paths.
 *
 *   qemu-aarch64 -cpu max build/arm64-user/arm64-logits model.bin 1,5,9 > logits.bin
 *
 * Writes the fp32 logits of each position of the token sequence to stdout (as
 * aios-run --logits does). No libc: the few system calls it needs are made directly.
 *
 *   qemu-aarch64 -cpu max build/arm64-user/arm64-logits --kernels
 *
 * runs tests/reference/kernel_checks.c instead: the NEON kernels against their plain
 * definitions, bit for bit (exit status 1 and the first mismatches on stderr if not).
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "aios/common.h"
#include "aios/forward.h"
#include "aios/model.h"
#include "kernel_checks.h"
#include "kprintf.h"

enum { SYS_OPENAT = 56, SYS_CLOSE = 57, SYS_LSEEK = 62, SYS_READ = 63, SYS_WRITE = 64,
       SYS_EXIT = 93, SYS_MMAP = 222 };

static long syscall6(long n, long a, long b, long c, long d, long e, long f)
{
    register long x8 __asm__("x8") = n;
    register long x0 __asm__("x0") = a;
    register long x1 __asm__("x1") = b;
    register long x2 __asm__("x2") = c;
    register long x3 __asm__("x3") = d;
    register long x4 __asm__("x4") = e;
    register long x5 __asm__("x5") = f;

    __asm__ volatile("svc #0"
                     : "+r"(x0)
                     : "r"(x8), "r"(x1), "r"(x2), "r"(x3), "r"(x4), "r"(x5)
                     : "memory");
    return x0;
}

static void put(int fd, const void *p, size_t n)
{
    const char *c = p;

    while (n > 0) {
        long w = syscall6(SYS_WRITE, fd, (long)c, (long)n, 0, 0, 0);
        if (w <= 0)
            break;
        c += w;
        n -= (size_t)w;
    }
}

__attribute__((noreturn)) static void leave(int code)
{
    syscall6(SYS_EXIT, code, 0, 0, 0, 0, 0);
    __builtin_unreachable();
}

__attribute__((noreturn)) static void fail(const char *msg)
{
    put(2, "arm64-logits: ", 14);
    put(2, msg, strlen(msg));
    put(2, "\n", 1);
    leave(1);
}

static void *map(size_t size)
{
    long p = syscall6(SYS_MMAP, 0, (long)size, 3 /* read, write */,
                      0x22 /* private, anonymous */, -1, 0);
    if (p < 0 && p > -4096)
        fail("out of memory");
    return (void *)p;
}

static void *read_file(const char *path, size_t *size)
{
    long fd = syscall6(SYS_OPENAT, -100 /* AT_FDCWD */, (long)path, 0, 0, 0, 0);
    if (fd < 0)
        fail("cannot open the model");
    long len = syscall6(SYS_LSEEK, fd, 0, 2 /* SEEK_END */, 0, 0, 0);
    if (len < 0 || syscall6(SYS_LSEEK, fd, 0, 0, 0, 0, 0) != 0)
        fail("cannot size the model");
    char *buf = map((size_t)len + 1);   /* page-aligned, so 4-byte aligned */
    for (long got = 0; got < len;) {
        long r = syscall6(SYS_READ, fd, (long)(buf + got), len - got, 0, 0, 0);
        if (r <= 0)
            fail("read failed");
        got += r;
    }
    syscall6(SYS_CLOSE, fd, 0, 0, 0, 0, 0);
    *size = (size_t)len;
    return buf;
}

static void say_line(const char *line)
{
    put(2, line, strlen(line));
    put(2, "\n", 1);
}

static int run(int argc, char **argv)
{
    static char err[256];
    struct aios_model m;
    struct aios_state s;
    struct aios_arena arena;
    size_t size;

    if (argc == 2 && strcmp(argv[1], "--kernels") == 0) {
        int failures = aios_kernel_checks(say_line);

        ksnprintf(err, sizeof(err), "arm64-logits: kernel checks: %d mismatches\n", failures);
        put(failures ? 2 : 1, err, strlen(err));
        return failures ? 1 : 0;
    }
    if (argc != 3)
        fail("usage: arm64-logits model.bin id,id,... | arm64-logits --kernels");
    void *buf = read_file(argv[1], &size);
    if (aios_model_load(&m, buf, size, err, sizeof(err)) != AIOS_OK)
        fail(err);
    size_t need = aios_state_size(&m);
    aios_arena_init(&arena, map(need), need);
    if (aios_state_init(&s, &m, &arena, err, sizeof(err)) != AIOS_OK)
        fail(err);
    const char *p = argv[2];
    for (int32_t pos = 0; *p != '\0'; pos++) {
        int32_t tok = 0;
        if (*p < '0' || *p > '9')
            fail("bad token list");
        while (*p >= '0' && *p <= '9')
            tok = tok * 10 + (*p++ - '0');
        if (*p == ',')
            p++;
        const float *logits = aios_forward(&s, tok, pos, NULL);
        if (logits == NULL)
            fail("token or position out of range");
        put(1, logits, (size_t)m.cfg.vocab_size * sizeof(float));
    }
    return 0;
}

/* The kernel enters here with sp at argc, then argv[]. */
__attribute__((used, noreturn)) static void start_c(long *sp)
{
    leave(run((int)sp[0], (char **)(sp + 1)));
}

__asm__(".text\n"
        ".global _start\n"
        "_start:\n"
        "    mov x0, sp\n"
        "    bl start_c\n");
