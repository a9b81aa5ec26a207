// OpenBLAS's CBLAS interface (Debian: libopenblas-dev, pkg-config `openblas`).
#include <cblas.h>
// Thread control is OpenBLAS-specific and not part of cblas.h on every build.
void openblas_set_num_threads(int num_threads);
int openblas_get_num_threads(void);
// SSE min/max for the vectorised kernels in LTMTensor/VectorMath.swift: Swift's generic `pointwiseMin` and
// masked selects compile to out-of-line calls, these to single minps/maxps instructions (SSE is x86-64 baseline).
#if defined(__x86_64__)
#include <xmmintrin.h>
#endif
