/* clip.h — gradient clipping, the lecture's answer to exploding gradients.
 *
 *   by value:        g_i ← max(−c, min(c, g_i))
 *   by global norm:  ‖g‖ = √(Σ_i g_i²) over *all* parameters; if ‖g‖ > c then g ← g · c / (‖g‖ + 1e-6)
 *                    (PyTorch's clip_grad_norm_; it rescales to the threshold c, not to 1). */
#ifndef EXPRUN_CLIP_H
#define EXPRUN_CLIP_H

#include <stddef.h>

/* The global L2 norm of g (accumulated in double). */
double grad_global_norm(const float *g, size_t n);
void clip_by_value(float *g, size_t n, float c);
/* Clip to global norm c; returns the norm before clipping. */
double clip_by_global_norm(float *g, size_t n, double c);

#endif
