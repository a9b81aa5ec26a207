// OpenBLAS's CBLAS interface (Debian: libopenblas-dev, pkg-config `openblas`).
#include <cblas.h>
// Thread control is OpenBLAS-specific and not part of cblas.h on every build.
void openblas_set_num_threads(int num_threads);
int openblas_get_num_threads(void);
// The kernel family ("core") OpenBLAS chose at load time: from CPUID, or from OPENBLAS_CORETYPE when set.
char *openblas_get_corename(void);
// SSE min/max for the vectorised kernels in LTMTensor/VectorMath.swift: Swift's generic `pointwiseMin` and
// masked selects compile to out-of-line calls, these to single minps/maxps instructions (SSE is x86-64 baseline).
#if defined(__x86_64__)
#include <xmmintrin.h>
#endif
// LAPACK (Fortran symbols exported by OpenBLAS; there is no lapacke.h). Fortran passes every argument by reference
// and appends one hidden length per CHARACTER argument; the lengths are declared so the call is ABI-exact.
#include <stddef.h>
void dsyevd_(const char *jobz, const char *uplo, const int *n, double *a, const int *lda, double *w, double *work,
             const int *lwork, int *iwork, const int *liwork, int *info, size_t jobz_len, size_t uplo_len);
// The three stages of dsyevd, called one by one so that the last runs on the kept eigenvectors only (MauvePCA).
void dsytrd_(const char *uplo, const int *n, double *a, const int *lda, double *d, double *e, double *tau, double *work,
             const int *lwork, int *info, size_t uplo_len);
void dstedc_(const char *compz, const int *n, double *d, double *e, double *z, const int *ldz, double *work,
             const int *lwork, int *iwork, const int *liwork, int *info, size_t compz_len);
void dormtr_(const char *side, const char *uplo, const char *trans, const int *m, const int *n, const double *a,
             const int *lda, const double *tau, double *c, const int *ldc, double *work, const int *lwork, int *info,
             size_t side_len, size_t uplo_len, size_t trans_len);
