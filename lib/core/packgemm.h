/* packgemm.h — matrix products for the recurrent layers, against a packed right-hand operand.
 *
 * Every time step of a recurrent layer multiplies a small (B, ·) block by the same weights:
 *   forward   z_t (B, G·H) += h_{t−1} (B, H) · W_hᵀ
 *   backward  ∂L/∂h_{t−1} (B, H) = ∂L/∂z_t (B, G·H) · W_h
 * A general GEMM re-packs W_h (1 MB for an LSTM of 256) into its cache-friendly layout at every
 * call — as much work as the product itself when B is 32. Here W_h is packed ONCE per batch into
 * column panels of NR floats, (K, NR) each, contiguous and zero-padded, and each step runs a
 * register-blocked micro-kernel over them: MR rows of A × NR columns of accumulators, one
 * broadcast of A and one vector load of the panel per k (the technique of BLIS, of MKL's
 * cblas_sgemm_pack and of oneDNN's RNN primitive). The once-per-batch products over all T·B
 * rows (input projection, weight gradients, ∂L/∂x) use the same kernel through pk_gemm_nt/nn/tn,
 * which pack their right operand into a workspace the caller allocated once.
 *
 * Kernels, chosen at run time from the CPU: AVX-512 (MR 8 × NR 32), AVX2+FMA (MR 6 × NR 16),
 * else none — then nothing is packed and every product is one cblas_sgemm on the original
 * matrices. (The project is compiled for x86-64-v2; the kernels carry their own target
 * attributes.) Loops are blocked as in BLIS: K in slices of 256 (a panel slice stays in L1),
 * M in blocks of 128 rows (the A block stays in L2). packed_force_kernel() lets tests run every
 * path on one machine. Results differ from BLAS only by summation order (~1e-7 relative).
 *
 * Threads (parallel.h): a product big enough to pay for waking a thread (par_min_flops()),
 * and the packing of a big operand, are cut into contiguous ranges of column panels, one per
 * thread. Every element of C is still computed by one thread in the same order, so the result
 * is bit-identical for every thread count. The recurrent layers share out their time loops
 * themselves (stepsplit.h): by batch rows, or by hidden units with packed_gemm_cols and
 * packed_unit_split. */
#ifndef EXPRUN_PACKGEMM_H
#define EXPRUN_PACKGEMM_H

#include <stddef.h>

typedef enum PackKernel { PACK_KERNEL_BLAS, PACK_KERNEL_AVX2, PACK_KERNEL_AVX512 } PackKernel;

/* P (K, N), the right operand of C = A · P. */
typedef struct PackedMat {
    int K, N;
    int NR;              /* panel width of the kernel used to pack; 0: not packed (BLAS path) */
    float *panels;       /* ceil(N / NR) panels of (K, NR), 64-byte aligned, inside block */
    size_t cap;          /* floats of room for panels */
    void *block;         /* the allocation */
    const float *src;    /* the original matrix (for the BLAS path) */
    int ld;              /* its row stride */
    int transposed;      /* 1: P = srcᵀ, src is (N, K); 0: P = src, src is (K, N) */
    int bf16;            /* 1: packed as bfloat16 pairs (bf16gemm.h), the products in bf16 */
    int in_place;        /* 1: full panels are read from src in place (a one-off product's P = W;
                            packgemm.c's packed_set_in_place); only a last partial one is packed */
    const float *src2;   /* P = [src | src2] (pk_gemm_tn_pair_sums): columns [N1, N) from src2,
                            (K, N − N1) with row stride ld2; NULL: every column from src */
    int ld2, N1;
} PackedMat;

/* The kernel in use (the best the CPU supports unless forced, or capped by the environment:
 * EXPRUN_KERNEL=avx2 or blas). */
PackKernel packed_kernel(void);
const char *packed_kernel_name(PackKernel k);
/* For tests: use kernel k from now on (one the CPU lacks is refused: returns -1). */
int packed_force_kernel(PackKernel k);

/* The precision of the products packed from now on (train.precision): PACK_FP32, or PACK_BF16 —
 * operands rounded to bfloat16, products accumulated in fp32 (AVX512-BF16's vdpbf16ps; see
 * bf16gemm.h). PACK_BF16 needs a CPU with AVX512-BF16 and the AVX-512 kernel in use: otherwise
 * packed_set_precision returns −1 and nothing changes. Operands packed before a change keep
 * the precision they were packed in. */
typedef enum PackPrecision { PACK_FP32, PACK_BF16 } PackPrecision;
int packed_set_precision(PackPrecision precision);
PackPrecision packed_precision(void);
const char *packed_precision_name(PackPrecision precision);

/* Room for any P with K·N ≤ max_K·max_N (panels are padded to the widest kernel). */
void packed_alloc(PackedMat *p, int max_K, int max_N);
void packed_free(PackedMat *p);

/* Packing room shared by operands that are never live at the same time — the layers of a
 * stack run one after another, and within a layer each product's operand is dead before the
 * next is packed — so that it costs memory once, not once per operand:
 *   packed_room(p)            the floats p has room for;
 *   packed_share(p, storage)  from now on p packs into storage's room (its own is freed);
 *                             storage must have at least packed_room(p) and outlive p. */
size_t packed_room(const PackedMat *p);
void packed_share(PackedMat *p, const PackedMat *storage);

/* P = Wᵀ, W (N, K) with row stride ld — for C = A · Wᵀ (forward: z += h · W_hᵀ). */
void packed_set_transposed(PackedMat *p, const float *W, int ld, int N, int K);
/* P = W, W (K, N) with row stride ld — for C = A · W (backward: dh = dz · W_h). */
void packed_set(PackedMat *p, const float *W, int ld, int K, int N);

/* C (M, N; row stride ldc) = A · P + beta · C, beta 0 or 1, where A (M, K) has row stride lda.
 * P's source matrix must be unchanged since packed_set*. */
void packed_gemm(float *C, int ldc, const float *A, int lda, const PackedMat *p, int M, float beta);
/* Only columns [n0, n1) of C, on the calling thread; n0 must be a multiple of p->NR (a panel
 * boundary) and n1 one too or p->N. For a thread's share of a recurrent step. */
void packed_gemm_cols(float *C, int ldc, const float *A, int lda, const PackedMat *p, int M, float beta, int n0,
                      int n1);

/* Splitting a recurrent step over threads by hidden units: a step multiplies (B, H) by the
 * packed (H, G·H) [or (G·H, H)] matrix p whose G column blocks of H hold the gates of units
 * 0..H−1. Unit ranges are multiples of PACK_UNIT_GRAIN, so that every block's share of the
 * columns starts on a panel boundary. Returns the number of parts to use (1 when the step is
 * too small to pay for a wake-up, or H is not a multiple of the panel width). */
enum { PACK_UNIT_GRAIN = 32 };
int packed_unit_split(const PackedMat *p, int B, int H, int G);

/* The same with A given transposed: At (K, M) with row stride lda, C = Atᵀ · P + beta · C. */
void packed_gemm_at(float *C, int ldc, const float *At, int lda, const PackedMat *p, int M, float beta);

/* One-off products (row-major, beta 0 or 1), packing the right operand into ws:
 *   nt  C (M, N) = A (M, K) · B (N, K)ᵀ + beta C      ws room for (K, N)
 *   nn  C (M, N) = A (M, K) · B (K, N)  + beta C      ws room for (K, N)
 *   tn  C (M, N) = A (K, M)ᵀ · B (K, N) + beta C      ws room for (K, N)
 * nn and tn read B's full panels in place instead when the product is small (M, K ≤ 1024) and
 * the AVX-512 kernel runs in fp32 (packgemm.c's packed_set_in_place): the same bits. */
void pk_gemm_nt(float *C, int ldc, const float *A, int lda, const float *B, int ldb, int M, int N, int K, float beta,
                PackedMat *ws);
void pk_gemm_nn(float *C, int ldc, const float *A, int lda, const float *B, int ldb, int M, int N, int K, float beta,
                PackedMat *ws);
void pk_gemm_tn(float *C, int ldc, const float *A, int lda, const float *B, int ldb, int M, int N, int K, float beta,
                PackedMat *ws);
/* pk_gemm_tn, and sums[m − m0] += Σ_k A[k, m] for m in [m0, M), the k in order — a layer's bias
 * gradient, the row sums of the gate gradients whose transpose the weight gradient's product
 * reads: taken while the product packs them (each value once), not in a pass of their own. The
 * same bits as that loop. */
void pk_gemm_tn_sums(float *C, int ldc, const float *A, int lda, const float *B, int ldb, int M, int N, int K,
                     float beta, PackedMat *ws, float *sums, int m0);

/* pk_gemm_tn_sums over two right operands side by side:
 *   C (M, N1 + N2) = A (K, M)ᵀ · [B1 (K, N1) | B2 (K, N2)] + beta C      ws room for (K, N1 + N2)
 * — a layer's weight gradient dW = dZᵀ [H | X] in ONE product, so that dZᵀ is packed once, not
 * once per operand. The same bits as the two products (every element of C the same sum in the
 * same order); with the BLAS kernel, in bf16, or without room in ws it is the two products. */
void pk_gemm_tn_pair_sums(float *C, int ldc, const float *A, int lda, const float *B1, int ldb1, int N1,
                          const float *B2, int ldb2, int N2, int M, int K, float beta, PackedMat *ws, float *sums,
                          int m0);

/* pk_gemm_nt with beta 0, the AVX-512 kernel in fp32, a small batch against a big weight matrix
 * (2·M·(K + N) ≤ N·K) and room in ws for K·⌈M/32⌉·32 + N·M floats computes Cᵀ = B · Aᵀ instead:
 * only Aᵀ is packed (packgemm.c's gemm_nt_swapped). The same bits. */
/* Floats of room pk_gemm_nt of M rows needs in its workspace to take its fastest path. */
size_t pk_gemm_nt_room(int M, int N, int K);
/* An element-wise pass over a product's result (a dense layer's bias and activation), run on
 * each part of C by the thread that has just computed it, while the part is still in its
 * cache, instead of as a pass of its own with its own wake-up of the threads:
 * fn(ctx, C, ldc, m0, m1, n0, n1) on rows [m0, m1) × columns [n0, n1). Every element of C is in
 * exactly one part; the parts depend on the split, so fn must not depend on it (no sums across
 * rows or columns) — beyond this: every part starts at a row that is a multiple of 8 and a
 * column that is a multiple of 32 (whole units of a sum, as loss.h's fused loss takes them). */
typedef struct PkEpilogue {
    void (*fn)(void *ctx, float *C, int ldc, int m0, int m1, int n0, int n1);
    void *ctx;
} PkEpilogue;

/* pk_gemm_nt and pk_gemm_nn, then `then` (NULL: nothing) over all of C (beta 0 or 1 as above). */
void pk_gemm_nt_then(float *C, int ldc, const float *A, int lda, const float *B, int ldb, int M, int N, int K,
                     float beta, PackedMat *ws, const PkEpilogue *then);
void pk_gemm_nn_then(float *C, int ldc, const float *A, int lda, const float *B, int ldb, int M, int N, int K,
                     float beta, PackedMat *ws, const PkEpilogue *then);

#endif
