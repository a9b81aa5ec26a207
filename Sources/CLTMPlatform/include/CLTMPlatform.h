// Facts about the machine that Swift cannot ask for directly: CPUID feature bits (with the OS's consent to use
// the wide registers) and the CPUs this process may run on. Used to pick OpenBLAS kernels and the thread count.
#ifndef CLTMPLATFORM_H
#define CLTMPLATFORM_H

typedef struct {
  int is_amd, is_intel;
  /// Display family and model (family 6 model 207 = Emerald Rapids; AMD family 25 = Zen 3/4, 26 = Zen 5).
  int family, model;
  int sse3, avx, avx2, fma;
  int avx512f, avx512bw, avx512vl, avx512dq;
} ltm_cpu_features;

/// CPUID leaves 0, 1 and 7, with each vector extension reported only when XGETBV says the OS saves its registers.
/// All zeros on a CPU that is not x86-64.
ltm_cpu_features ltm_cpu_detect(void);

/// CPUs in this process's affinity mask (sched_getaffinity); 0 when it cannot be read.
int ltm_affinity_cpu_count(void);

#endif
