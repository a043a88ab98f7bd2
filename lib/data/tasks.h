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

/* ---- sequence to sequence ---------------------------------------------------------------------
 * String reversal and addition written as text share one token set:
 *   S2S_PAD = 0   fills an input row after its last character (the encoder stops before it)
 *   S2S_GO  = 1   the decoder's first input
 *   S2S_END = 2   ends every output
 *   3, 4, …       the characters: token 3 + i is character i of the task's character string
 *                 (REVERSE_CHARS, ADDITION_CHARS below)
 * A sample: x_tokens (n, Tx) = the input characters, then PAD up to Tx (the longest possible
 * input); y_tokens (n, Ty) = the output characters, END, then −1 (no target) up to Ty. The same
 * token ids are used on both sides, vocab = 3 + number of characters.
 *
 * Every call returns n DISTINCT inputs (rejection against a hash set of the rows drawn so far),
 * so generating training and test data in one call and cutting it gives held-out examples that
 * never occur in training. It fails when n exceeds half of the possible distinct inputs (the
 * rejection would crawl). Draws past the first copy of an input are discarded, so small pools
 * (e.g. the 100 one-digit sums) are used up and then no longer drawn.
 *
 * Reversal: a string of L ~ U{min_len … max_len} characters, each ~ U of the first K of
 * REVERSE_CHARS, and its reverse: "abcd" → "dcba". Tx = max_len, Ty = max_len + 1.
 *
 * Addition: "a+b" → the decimal digits of a + b, for operands of d ~ U{1 … digits} digits each
 * (the leading digit non-zero unless d = 1, then uniform), e.g. "123+45" → "168". With
 * reversed_digits every number — both operands and the answer — is written least-significant
 * digit first ("321+54" → "861"): the first output digit then depends only on the first digits
 * read in, and the carry flows in writing order. Tx = 2·digits + 1, Ty = digits + 2. */
enum { S2S_PAD = 0, S2S_GO = 1, S2S_END = 2, S2S_FIRST_CHAR = 3 };

#define REVERSE_CHARS "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
#define ADDITION_CHARS "0123456789+"

/* n distinct reversal samples, alphabet K (2..62), lengths in [min_len, max_len] (1 ≤ min ≤ max ≤ 1000). */
int task_reverse(Dataset *out, int n, int K, int min_len, int max_len, Rng *rng, ExError *err);

/* n distinct addition samples, operands of 1..digits digits (1 ≤ digits ≤ 9). */
int task_addition(Dataset *out, int n, int digits, int reversed_digits, Rng *rng, ExError *err);

/* Tokens as text, for messages and examples: characters of `chars`, PAD '_', GO '^', END '$',
 * −1 ends the text, anything else '?'. Writes at most cap − 1 characters and a NUL; returns out. */
char *s2s_tokens_text(char *out, size_t cap, const int32_t *tokens, int n, const char *chars);

#endif
