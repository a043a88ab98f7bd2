#include "sparsity.h"

#include <math.h>
#include <string.h>

static const char *const NAMES[] = {"none", "kl", "l1"};

const char *sparsity_name(SparsityType t) { return NAMES[t]; }

int sparsity_from_name(const char *name, SparsityType *t) {
    for (int i = 0; i < 3; i++)
        if (strcmp(name, NAMES[i]) == 0) {
            *t = (SparsityType)i;
            return 0;
        }
    return -1;
}

/* ρ̂ is kept inside (0, 1) so that the KL term stays finite when a unit saturates. */
#define RHO_EPS 1e-6

double sparsity_penalty(float *dh, const float *h, int m, int K, const SparsityConfig *cfg,
                        double *rho_hat) {
    const double beta = cfg->weight;
    if (cfg->type == SPARSITY_NONE || beta == 0.0) return 0.0;
    if (cfg->type == SPARSITY_L1) {
        double sum = 0.0;
        const float scale = (float)(beta / m);
        for (size_t i = 0; i < (size_t)m * K; i++) {
            sum += fabs((double)h[i]);
            if (dh) dh[i] += h[i] > 0.0f ? scale : (h[i] < 0.0f ? -scale : 0.0f);
        }
        return beta * sum / m;
    }
    const double rho = cfg->target;
    for (int j = 0; j < K; j++) rho_hat[j] = 0.0;
    for (int i = 0; i < m; i++)
        for (int j = 0; j < K; j++) rho_hat[j] += h[(size_t)i * K + j];
    double penalty = 0.0;
    for (int j = 0; j < K; j++) {
        double r = rho_hat[j] / m;
        r = r < RHO_EPS ? RHO_EPS : (r > 1.0 - RHO_EPS ? 1.0 - RHO_EPS : r);
        rho_hat[j] = r;
        penalty += rho * log(rho / r) + (1.0 - rho) * log((1.0 - rho) / (1.0 - r));
    }
    if (dh)
        for (int j = 0; j < K; j++) {
            float g = (float)(beta / m * (-rho / rho_hat[j] + (1.0 - rho) / (1.0 - rho_hat[j])));
            for (int i = 0; i < m; i++) dh[(size_t)i * K + j] += g;
        }
    return beta * penalty;
}
