/* dropout.h — inverted dropout between recurrent layers [Srivastava et al. 2014; Zaremba et al. 2014].
 *
 * Training: each unit is kept with probability 1 − p and scaled by 1/(1 − p), so its expected
 * value is unchanged and evaluation needs no rescaling:
 *   mask_k = 1/(1 − p) with probability 1 − p, else 0;   out = in ⊙ mask;   ∂L/∂in = ∂L/∂out ⊙ mask
 * Evaluation (train = 0) or p = 0: out = in, mask = 1.
 * The mask is drawn from the caller's Rng (one uniform per unit), so a run is reproducible. */
#ifndef EXPRUN_DROPOUT_H
#define EXPRUN_DROPOUT_H

#include <stddef.h>

#include "rng.h"

/* out (n) and mask (n) from in (n); out may alias in. rng is used only when train and p > 0. */
void dropout_forward(float *out, float *mask, const float *in, size_t n, float p, int train, Rng *rng);
/* din (n) = dout ⊙ mask; din may alias dout. */
void dropout_backward(float *din, const float *dout, const float *mask, size_t n);

#endif
