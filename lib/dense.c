#include "dense.h"

#include <cblas.h>
#include <string.h>

void dense_forward(float *out, const float *in, const float *W, const float *b, int B, int n_in,
                   int n_out, int transposed, Activation act) {
    /* pre = b broadcast over rows, then pre += in · Wᵀ (or in · W when tied). */
    for (int r = 0; r < B; r++) {
        if (b) memcpy(out + (size_t)r * n_out, b, (size_t)n_out * sizeof *out);
        else memset(out + (size_t)r * n_out, 0, (size_t)n_out * sizeof *out);
    }
    if (!transposed)
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, B, n_out, n_in, 1.0f, in, n_in, W, n_in, 1.0f,
                    out, n_out);
    else
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, B, n_out, n_in, 1.0f, in, n_in, W, n_out, 1.0f,
                    out, n_out);
    act_forward(out, out, B, n_out, act);
}

void dense_backward(float *din, float *dW, float *db, float *dout, const float *out,
                    const float *in, const float *W, int B, int n_in, int n_out, int transposed,
                    Activation act) {
    float *dpre = dout;
    act_backward(dpre, dout, out, B, n_out, act);
    if (db)
        for (int r = 0; r < B; r++) {
            const float *row = dpre + (size_t)r * n_out;
            for (int j = 0; j < n_out; j++) db[j] += row[j];
        }
    if (!transposed) {
        /* dW (n_out,n_in) += dpreᵀ (n_out,B) · in (B,n_in) */
        cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, n_out, n_in, B, 1.0f, dpre, n_out, in, n_in, 1.0f,
                    dW, n_in);
        /* din (B,n_in) = dpre (B,n_out) · W (n_out,n_in) */
        if (din)
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, B, n_in, n_out, 1.0f, dpre, n_out, W, n_in,
                        0.0f, din, n_in);
    } else {
        /* W is (n_in,n_out): dW (n_in,n_out) += inᵀ (n_in,B) · dpre (B,n_out); din (B,n_in) = dpre · Wᵀ */
        cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, n_in, n_out, B, 1.0f, in, n_in, dpre, n_out, 1.0f,
                    dW, n_out);
        if (din)
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, B, n_in, n_out, 1.0f, dpre, n_out, W, n_out,
                        0.0f, din, n_in);
    }
}
