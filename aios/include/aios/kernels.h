/*
 * libaios kernels: the numeric building blocks of the forward pass (dot products,
 * matrix-vector products, RMSNorm, softmax, Q8_0 quantization).
 *
 * Every float reduction here adds in an order fixed by the source, the same on every
 * machine, so that the host and the AArch64 build return identical bits (see
 * docs/inference.md, "Determinism"):
 *   - aios_dot_f32 keeps 8 lane accumulators (lane j sums the products of elements
 *     i = j mod 8 of the 8-aligned prefix, in order), combines them as
 *     ((l0+l4) + (l2+l6)) + ((l1+l5) + (l3+l7)), then adds the products of the remaining
 *     n mod 8 elements one by one. Products and sums are separate roundings (no FMA).
 *   - Q8_0: the integer dot product of each group is exact in int32 (any order gives
 *     the same value); the groups then accumulate as val += ((float)idot * ws) * xs, in
 *     group order.
 *   - aios_softmax and everything else sums sequentially.
 * A matrix-vector product computes each output row with exactly one of these dot
 * products (the fast paths do several rows at once, each row in this order), so
 * splitting the rows across cores does not change any result.
 */
#ifndef AIOS_KERNELS_H
#define AIOS_KERNELS_H

#include <stddef.h>
#include <stdint.h>

#include "aios/exec.h"

/* sum a[i] * b[i], i < n, in the order described above. */
float aios_dot_f32(const float *a, const float *b, size_t n);

/* Exact sum a[i] * b[i] over n int8 pairs (n * 128 * 128 must fit int32: n < 2^17). */
int32_t aios_dot_i8(const int8_t *a, const int8_t *b, size_t n);

/* Q8_0 dot product of two vectors of n values (n a multiple of gs), each stored as int8
 * values and one float scale per group of gs. */
float aios_dot_q8(const int8_t *aq, const float *as, const int8_t *bq, const float *bs,
                  size_t n, size_t gs);

/* out[r] = aios_dot_f32(w + r * stride, x, n) for r < rows: rows stride floats apart
 * (stride >= n), e.g. the cached keys of one attention head. */
void aios_dot_f32_rows(float *out, const float *w, size_t stride, const float *x, size_t n,
                       size_t rows);

/* out[r] = W[r] . x for rows r in [lo, hi) of the row-major W[rows][n]. */
void aios_matvec_f32_rows(float *out, const float *w, const float *x, size_t n,
                          size_t lo, size_t hi);
/* The same for a Q8_0 matrix (wq[rows][n], ws[rows][n / gs]) and a Q8_0 vector. */
void aios_matvec_q8_rows(float *out, const int8_t *wq, const float *ws, const int8_t *xq,
                         const float *xs, size_t n, size_t gs, size_t lo, size_t hi);

/* Whole products, rows split over exec's parts (NULL: this thread). */
void aios_matmul_f32(float *out, const float *w, const float *x, size_t n, size_t rows,
                     struct aios_exec *exec);
void aios_matmul_q8(float *out, const int8_t *wq, const float *ws, const int8_t *xq,
                    const float *xs, size_t n, size_t gs, size_t rows,
                    struct aios_exec *exec);

/* out = w * x / sqrt(mean(x^2) + 1e-5), element-wise; out may be x. */
void aios_rmsnorm(float *out, const float *x, const float *w, size_t n);

/* x[i] += y[i], i < n. */
void aios_add(float *x, const float *y, size_t n);

/* out[i] = sum over t < count of a[t] * v[t * stride + i], for i < n: each sum starts
 * from 0 and adds its terms in order of t (the attention's weighted sum of values). */
void aios_weighted_sum(float *out, const float *a, const float *v, size_t stride, size_t n,
                       size_t count);

/* RoPE: in each head of head_size elements of v (n a multiple of head_size), pair p
 * (elements 2p, 2p+1) = (a, b) becomes (a cs[p] - b sn[p], a sn[p] + b cs[p]). */
void aios_rope(float *v, size_t n, const float *cs, const float *sn, size_t head_size);

/* gate[i] = silu(gate[i]) * up[i] = (g / (1 + e^-g)) * up[i], i < n (SwiGLU). */
void aios_swiglu(float *gate, const float *up, size_t n);

/* x = exp(x - max x) / sum, in place; n >= 1. */
void aios_softmax(float *x, size_t n);

/* Q8_0 of n values (n a multiple of gs): per group, s = max|x| / 127 and
 * q = round(x / s), halves away from zero, clamped to [-127, 127]; a group of zeros
 * gets s = 0 and q = 0, and NaN values become 0. */
void aios_quantize_q8(int8_t *q, float *s, const float *x, size_t n, size_t gs);

/* out[i] = q[i] * s[i / gs] for i < n. */
void aios_dequantize_q8(float *out, const int8_t *q, const float *s, size_t n, size_t gs);

#endif /* AIOS_KERNELS_H */
