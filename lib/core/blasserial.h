/* blasserial.h — OpenBLAS on one thread around a LAPACK call, for the same bits everywhere.
 *
 * LAPACK's blocked factorisations (QR, the symmetric eigensolver's tridiagonal reduction) do
 * their updates through OpenBLAS's level-3 routines, whose sums follow OpenBLAS's thread count:
 * the same input gave a different Q, or different eigenvectors, with OPENBLAS_NUM_THREADS 1 and 2
 * (tests/test_exploding.c, tests/test_pca.c). The results exprun writes must not depend on the
 * machine's cores, so these calls run on one thread; each is a fraction of a second. */
#ifndef EXPRUN_BLASSERIAL_H
#define EXPRUN_BLASSERIAL_H

/* Sets OpenBLAS to one thread; returns the count before, for blas_serial_end. */
int blas_serial_begin(void);
void blas_serial_end(int threads_before);

#endif
