// OpenBLAS's CBLAS interface (Debian: libopenblas-dev, pkg-config `openblas`).
#include <cblas.h>
// Thread control is OpenBLAS-specific and not part of cblas.h on every build.
void openblas_set_num_threads(int num_threads);
int openblas_get_num_threads(void);
