/* bf16gemm.h — the bfloat16 side of packgemm (train.precision: bf16); private to packgemm.c
 * except the conversion, which tests check.
 *
 * bfloat16 keeps float's sign and 8-bit exponent and the top 7 bits of its 23-bit fraction: a
 * float rounded to 8 significant bits (relative error ≤ 2⁻⁹), with float's whole range. The
 * products multiply bf16 operands and accumulate in fp32 with AVX512-BF16's vdpbf16ps, which
 * does per 32-bit lane  c += a₀·b₀ + a₁·b₁  for a pair of bf16 values of each operand. So both
 * operands are stored as pairs along k: a panel of P (K, N) holds, for every pair of rows
 * (2q, 2q+1) and each of its NR = 32 columns, the two values side by side (32 bits); A's
 * rows are converted to the same pairs (a zero after an odd K). */
#ifndef EXPRUN_BF16GEMM_H
#define EXPRUN_BF16GEMM_H

#include <stddef.h>
#include <stdint.h>

/* Whether this CPU runs AVX512-BF16 (vdpbf16ps). */
int bf16_cpu_supported(void);

/* x rounded to the nearest bfloat16, ties to even, exactly as vcvtneps2bf16 does: a denormal
 * becomes a zero of its sign, a NaN stays a (quiet) NaN. */
uint16_t bf16_from_float(float x);
float bf16_to_float(uint16_t b);
/* The same, 16 floats at a time with vcvtneps2bf16 (for tests: the two must agree bit for bit). */
void bf16_convert(uint16_t *dst, const float *src, size_t n);

/* Panels [j0, j1) of P (K, N) as bf16 pairs, 32 columns each, into panels (64-byte aligned):
 * P = Wᵀ with W (N, K) when transposed, else P = W with W (K, N); W's row stride ld. */
void bf16_pack_panels(uint32_t *panels, const float *W, int ld, int K, int N, int transposed, int j0, int j1);

/* C (M, N) = A · P + beta · C over column panels [j0, j1) of P (K, N) packed by bf16_pack_panels,
 * A's element (m, k) at A[m·rs + k·cs] (rs = 1 or cs = 1). */
void bf16_run_kernels(float *C, int ldc, const float *A, size_t rs, size_t cs, const uint32_t *panels, int K, int N,
                      int M, float beta, int j0, int j1);

#endif
