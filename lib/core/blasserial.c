#include "blasserial.h"

#include <cblas.h>

int blas_serial_begin(void) {
    int before = openblas_get_num_threads();
    openblas_set_num_threads(1);
    return before;
}

void blas_serial_end(int threads_before) { openblas_set_num_threads(threads_before); }
