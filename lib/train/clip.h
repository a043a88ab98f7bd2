/* clip.h — gradient clipping, the lecture's answer to exploding gradients.
 *
 *   by value:        g_i ← max(−c, min(c, g_i))
 *   by global norm:  ‖g‖ = √(Σ_i g_i²) over *all* parameters; if ‖g‖ > c then g ← g · c / (‖g‖ + 1e-6)
 *                    (PyTorch's clip_grad_norm_; it rescales to the threshold c, not to 1). */
#ifndef EXPRUN_CLIP_H
#define EXPRUN_CLIP_H

#include <stddef.h>

/* The global L2 norm of g (accumulated in double: blocks of 16384 values, each in eight
 * interleaved partial sums; the blocks shared out over threads and added in order). */
double grad_global_norm(const float *g, size_t n);
/* The same with one running sum, the plain definition (tests compare the two). */
double grad_global_norm_reference(const float *g, size_t n);
void clip_by_value(float *g, size_t n, float c);
/* Clip to global norm c; returns the norm before clipping. */
double clip_by_global_norm(float *g, size_t n, double c);
/* The same when the caller already has norm = grad_global_norm(g, n) (one pass fewer). */
void clip_to_global_norm(float *g, size_t n, double c, double norm);

#endif
