/* tasks.h — synthetic sequence tasks that test long-range memory, generated from an Rng.
 *
 * Adding problem (Hochreiter & Schmidhuber 1997, in the form of Le, Jaitly & Hinton 2015 and
 * Arjovsky, Shah & Bengio 2016): a sequence of T steps with two features per step,
 *     x[t] = (v_t, m_t),   v_t ~ U[0, 1),   m_t ∈ {0, 1},
 * with exactly two markers: m_p = m_q = 1 for p ~ U{0 .. ⌊T/2⌋ − 1} (first half) and
 * q ~ U{⌊T/2⌋ .. T − 1} (second half), all other m_t = 0. Target (Ty = dy = 1):
 *     y = v_p + v_q.
 * Since v_p, v_q are independent U[0, 1): E[y] = 1 and Var[y] = 2 · 1/12 = 1/6, so the trivial
 * predictor y ≡ 1 scores MSE ≈ 0.167 — a model has learned the task only well below that.
 *
 * Copy (memory) task (Hochreiter & Schmidhuber 1997; Arjovsky et al. 2016): tokens from an
 * alphabet of K symbols {0 .. K−1}, plus blank = K and delimiter = K + 1 (vocab = K + 2).
 * A sample has T = 2S + delay + 1 steps:
 *     t ∈ [0, S)                      x = a_t ~ U{0 .. K−1}   (the S symbols to remember)
 *     t ∈ [S, S + delay)              x = blank               (the wait)
 *     t = S + delay                   x = delimiter           ("now repeat")
 *     t ∈ [S + delay + 1, T)          x = blank
 * y_tokens = −1 (no target) everywhere except the last S steps, where
 *     y[S + delay + 1 + i] = a_i,  i ∈ [0, S).
 * A model without memory can do no better than chance there: cross-entropy log K per target.
 *
 * Running parity (synced many-to-many): x_tokens = T random bits b_t ∈ {0, 1} (vocab 2) and at
 * every step the label y_t = b_0 ⊕ b_1 ⊕ … ⊕ b_t. The bits are independent and uniform, so y_t is
 * independent of any fixed window of recent inputs that misses one earlier bit: a model that sees
 * only the current step (no recurrence) is exactly at chance, 50% per step; only a model that
 * carries state through the whole prefix can solve it. */
#ifndef EXPRUN_TASKS_H
#define EXPRUN_TASKS_H

#include "dataset.h"
#include "error.h"
#include "rng.h"

/* n samples of the adding problem: x (n, T, 2), y (n, 1, 1). T ≥ 2. */
int task_adding(Dataset *out, int n, int T, Rng *rng, ExError *err);

/* n samples of the copy task: x_tokens (n, T), y_tokens (n, T), T = 2S + delay + 1,
 * vocab = K + 2. S ≥ 1, delay ≥ 0, K ≥ 1. */
/* n samples of running parity over T bits: x_tokens (n, T), y_tokens (n, T), vocab 2. */
int task_parity(Dataset *out, int n, int T, Rng *rng, ExError *err);

int task_copy(Dataset *out, int n, int S, int delay, int K, Rng *rng, ExError *err);

/* The blank and delimiter tokens of the copy task for alphabet size K. */
static inline int copy_blank(int K) { return K; }
static inline int copy_delimiter(int K) { return K + 1; }

#endif
