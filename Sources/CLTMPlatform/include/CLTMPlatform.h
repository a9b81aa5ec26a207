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

/// Vector kernels for the row loops (softmax, log-sum-exp, GELU), written once with 8-lane vectors and compiled
/// twice: for AVX2 (one ymm register) and for baseline x86-64 (two xmm), the variant picked once from CPUID. Both
/// run the same lane operations in the same order, without FMA contraction, so their results are bit-identical.
/// max of x[0..<n] (n ≥ 1).
float ltm_vmax(const float *x, long n);
/// e^(x[i] − shift) into out (may alias x); returns Σ in double.
double ltm_vexp_shifted(const float *x, float shift, long n, float *out);
/// Σ e^(x[i] − shift) in double, without storing the terms.
double ltm_vsum_exp_shifted(const float *x, float shift, long n);
/// x ← 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³))) in place (GPT-2's gelu_new).
void ltm_vgelu_tanh(float *x, long n);
/// The bounds of LTMMauve's exact k-means pruning (the same two variants): Σ (x[i] − c[i])² in fp32.
float ltm_vsquared_distance(const float *x, const float *c, long n);
/// min over i of b[i] − s[i].
float ltm_vmin_difference(const float *b, const float *s, long n);
/// The i with !(b[i] − s[i] > reach) into out, at most limit of them: their count, or −1 when there are more.
long ltm_vopen_indices(const float *b, const float *s, long n, float reach, long *out, long limit);
/// Tests: selects the AVX2 variants (when the CPU has AVX2) or the baseline ones; returns 1 if AVX2 is now in use.
int ltm_vector_select_avx2(int enable);

#endif
