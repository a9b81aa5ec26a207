// The 8-lane kernels declared in CLTMPlatform.h. KERNELS(suffix, attribute) is expanded twice from the same body:
// with the "avx2" target attribute and without one; `use_avx2` chooses once. No FMA contraction anywhere: a fused
// multiply-add rounds differently, and the two variants must agree bit for bit. The lane arithmetic of `exp` is
// that of VectorMath.exp (which SwiGLU still uses); the lane sums run in the fixed order of `hsum`.
#pragma clang fp contract(off)
#include "CLTMPlatform.h"
#include <math.h>
#include <string.h>

typedef float f8 __attribute__((ext_vector_type(8)));
typedef int i8 __attribute__((ext_vector_type(8)));
typedef _Bool b8 __attribute__((ext_vector_type(8)));

#define SPLAT(v) ((f8){v, v, v, v, v, v, v, v})

#define KERNELS(SUFFIX, ATTR)                                                                                       \
  ATTR static inline f8 load_##SUFFIX(const float *p) {                                                            \
    f8 v;                                                                                                          \
    memcpy(&v, p, sizeof v);                                                                                       \
    return v;                                                                                                      \
  }                                                                                                                \
  ATTR static inline void store_##SUFFIX(f8 v, float *p) { memcpy(p, &v, sizeof v); }                              \
  /* Lane sum in a fixed order. */                                                                                 \
  ATTR static inline float hsum_##SUFFIX(f8 a) {                                                                   \
    return ((a[0] + a[1]) + (a[2] + a[3])) + ((a[4] + a[5]) + (a[6] + a[7]));                                      \
  }                                                                                                                \
  /* Cephes expf after range reduction, as VectorMath.exp documents. */                                            \
  ATTR static inline f8 exp_##SUFFIX(f8 x) {                                                                       \
    const float magic = 12582912.0f;                                                                               \
    f8 xc = __builtin_elementwise_min(__builtin_elementwise_max(x, SPLAT(-87.33654f)), SPLAT(88.37626f));          \
    f8 shifted = xc * 1.442695040888963f + magic;                                                                  \
    f8 n = shifted - magic;                                                                                        \
    f8 r = xc - n * 0.693359375f + n * 2.12194440e-4f;                                                             \
    f8 p = SPLAT(1.9875691500e-4f);                                                                                \
    p = p * r + 1.3981999507e-3f;                                                                                  \
    p = p * r + 8.3334519073e-3f;                                                                                  \
    p = p * r + 4.1665795894e-2f;                                                                                  \
    p = p * r + 1.6666665459e-1f;                                                                                  \
    p = p * r + 5.0000001201e-1f;                                                                                  \
    f8 y = p * (r * r) + r + 1.0f;                                                                                 \
    i8 bits = __builtin_bit_cast(i8, shifted) - 0x4B400000;                                                        \
    f8 scale = __builtin_bit_cast(f8, (bits + 127) << 23);                                                         \
    return y * scale;                                                                                              \
  }                                                                                                                \
  ATTR static float vmax_##SUFFIX(const float *x, long n) {                                                        \
    long i = 0;                                                                                                    \
    f8 m = SPLAT(-INFINITY);                                                                                       \
    for (; i + 8 <= n; i += 8) m = __builtin_elementwise_max(m, load_##SUFFIX(x + i));                            \
    float best = m[0];                                                                                             \
    for (int l = 1; l < 8; l++) best = best > m[l] ? best : m[l];                                                 \
    for (; i < n; i++) best = best > x[i] ? best : x[i];                                                           \
    return best;                                                                                                   \
  }                                                                                                                \
  ATTR static double vexp_shifted_##SUFFIX(const float *x, float shift, long n, float *out) {                      \
    long i = 0;                                                                                                    \
    f8 acc = SPLAT(0.0f), s = SPLAT(shift);                                                                        \
    for (; i + 8 <= n; i += 8) {                                                                                   \
      f8 v = exp_##SUFFIX(load_##SUFFIX(x + i) - s);                                                               \
      store_##SUFFIX(v, out + i);                                                                                  \
      acc += v;                                                                                                    \
    }                                                                                                              \
    double total = (double)hsum_##SUFFIX(acc);                                                                     \
    for (; i < n; i++) {                                                                                           \
      float e = expf(x[i] - shift);                                                                                \
      out[i] = e;                                                                                                  \
      total += (double)e;                                                                                          \
    }                                                                                                              \
    return total;                                                                                                  \
  }                                                                                                                \
  ATTR static double vsum_exp_shifted_##SUFFIX(const float *x, float shift, long n) {                              \
    long i = 0;                                                                                                    \
    f8 acc0 = SPLAT(0.0f), acc1 = SPLAT(0.0f), s = SPLAT(shift);                                                   \
    for (; i + 16 <= n; i += 16) {                                                                                 \
      acc0 += exp_##SUFFIX(load_##SUFFIX(x + i) - s);                                                              \
      acc1 += exp_##SUFFIX(load_##SUFFIX(x + i + 8) - s);                                                          \
    }                                                                                                              \
    double total = (double)hsum_##SUFFIX(acc0 + acc1);                                                             \
    for (; i < n; i++) total += (double)expf(x[i] - shift);                                                        \
    return total;                                                                                                  \
  }                                                                                                                \
  ATTR static void vgelu_tanh_##SUFFIX(float *x, long n) {                                                         \
    long i = 0;                                                                                                    \
    const f8 k = SPLAT(0.7978845608028654f);                                                                       \
    for (; i + 8 <= n; i += 8) {                                                                                   \
      f8 v = load_##SUFFIX(x + i);                                                                                 \
      f8 u = k * (v + 0.044715f * v * v * v);                                                                      \
      f8 uc = __builtin_elementwise_min(__builtin_elementwise_max(u, SPLAT(-20.0f)), SPLAT(20.0f));                \
      f8 t = 1.0f - 2.0f / (exp_##SUFFIX(2.0f * uc) + 1.0f);                                                       \
      store_##SUFFIX(0.5f * v * (1.0f + t), x + i);                                                                \
    }                                                                                                              \
    for (; i < n; i++) {                                                                                           \
      float v = x[i];                                                                                              \
      x[i] = 0.5f * v * (1.0f + tanhf(0.7978845608028654f * (v + 0.044715f * v * v * v)));                         \
    }                                                                                                              \
  }                                                                                                                \
  /* Σ (x[i] − c[i])² in fp32: four 8-lane accumulators (independent add chains), one 8-lane step, hsum, the     \
     tail in order. */                                                                                             \
  ATTR static float vsquared_distance_##SUFFIX(const float *x, const float *c, long n) {                           \
    long i = 0;                                                                                                    \
    f8 a0 = SPLAT(0.0f), a1 = SPLAT(0.0f), a2 = SPLAT(0.0f), a3 = SPLAT(0.0f);                                     \
    for (; i + 32 <= n; i += 32) {                                                                                 \
      f8 d0 = load_##SUFFIX(x + i) - load_##SUFFIX(c + i);                                                         \
      f8 d1 = load_##SUFFIX(x + i + 8) - load_##SUFFIX(c + i + 8);                                                 \
      f8 d2 = load_##SUFFIX(x + i + 16) - load_##SUFFIX(c + i + 16);                                               \
      f8 d3 = load_##SUFFIX(x + i + 24) - load_##SUFFIX(c + i + 24);                                               \
      a0 += d0 * d0;                                                                                               \
      a1 += d1 * d1;                                                                                               \
      a2 += d2 * d2;                                                                                               \
      a3 += d3 * d3;                                                                                               \
    }                                                                                                              \
    f8 acc = (a0 + a1) + (a2 + a3);                                                                                \
    for (; i + 8 <= n; i += 8) {                                                                                   \
      f8 d = load_##SUFFIX(x + i) - load_##SUFFIX(c + i);                                                          \
      acc += d * d;                                                                                                \
    }                                                                                                              \
    float s = hsum_##SUFFIX(acc);                                                                                  \
    for (; i < n; i++) s += (x[i] - c[i]) * (x[i] - c[i]);                                                         \
    return s;                                                                                                      \
  }                                                                                                                \
  /* min over i of b[i] − s[i]. */                                                                                 \
  ATTR static float vmin_difference_##SUFFIX(const float *b, const float *s, long n) {                             \
    long i = 0;                                                                                                    \
    f8 m = SPLAT(INFINITY), m1 = SPLAT(INFINITY);                                                                  \
    for (; i + 16 <= n; i += 16) {                                                                                 \
      m = __builtin_elementwise_min(m, load_##SUFFIX(b + i) - load_##SUFFIX(s + i));                               \
      m1 = __builtin_elementwise_min(m1, load_##SUFFIX(b + i + 8) - load_##SUFFIX(s + i + 8));                     \
    }                                                                                                              \
    m = __builtin_elementwise_min(m, m1);                                                                          \
    for (; i + 8 <= n; i += 8) m = __builtin_elementwise_min(m, load_##SUFFIX(b + i) - load_##SUFFIX(s + i));      \
    float best = m[0];                                                                                             \
    for (int l = 1; l < 8; l++) best = best < m[l] ? best : m[l];                                                  \
    for (; i < n; i++) best = best < b[i] - s[i] ? best : b[i] - s[i];                                             \
    return best;                                                                                                   \
  }                                                                                                                \
  /* The i with !(b[i] − s[i] > reach), at most limit of them: their count, or −1 when there are more. */          \
  ATTR static long vopen_indices_##SUFFIX(const float *b, const float *s, long n, float reach, long *out, long limit) {\
    long i = 0, count = 0;                                                                                         \
    for (; i + 8 <= n; i += 8) {                                                                                   \
      f8 v = load_##SUFFIX(b + i) - load_##SUFFIX(s + i);                                                          \
      /* One bit per open lane (a movemask), walked lowest first. */                                               \
      unsigned bits = __builtin_bit_cast(unsigned char, __builtin_convertvector(!(v > SPLAT(reach)), b8));          \
      for (; bits != 0; bits &= bits - 1) {                                                                        \
        if (count == limit) return -1;                                                                             \
        out[count++] = i + __builtin_ctz(bits);                                                                    \
      }                                                                                                            \
    }                                                                                                              \
    for (; i < n; i++) {                                                                                           \
      if (b[i] - s[i] > reach) continue;                                                                           \
      if (count == limit) return -1;                                                                               \
      out[count++] = i;                                                                                            \
    }                                                                                                              \
    return count;                                                                                                  \
  }

#if defined(__x86_64__)
KERNELS(avx2, __attribute__((target("avx2"))))
#endif
KERNELS(base, )

#if defined(__x86_64__)
static int decided = -1;

/// 1 when the AVX2 variants may run (CPUID and the OS's ymm state), decided once.
static int use_avx2(void) {
  if (decided < 0) decided = ltm_cpu_detect().avx2 ? 1 : 0;
  return decided;
}

int ltm_vector_select_avx2(int enable) {
  decided = enable && ltm_cpu_detect().avx2 ? 1 : 0;
  return decided;
}
#define DISPATCH(call_avx2, call_base) return use_avx2() ? call_avx2 : call_base
#else
#define DISPATCH(call_avx2, call_base) return call_base
int ltm_vector_select_avx2(int enable) { (void)enable; return 0; }
#endif

float ltm_vmax(const float *x, long n) { DISPATCH(vmax_avx2(x, n), vmax_base(x, n)); }
double ltm_vexp_shifted(const float *x, float shift, long n, float *out) {
  DISPATCH(vexp_shifted_avx2(x, shift, n, out), vexp_shifted_base(x, shift, n, out));
}
double ltm_vsum_exp_shifted(const float *x, float shift, long n) {
  DISPATCH(vsum_exp_shifted_avx2(x, shift, n), vsum_exp_shifted_base(x, shift, n));
}
float ltm_vsquared_distance(const float *x, const float *c, long n) {
  DISPATCH(vsquared_distance_avx2(x, c, n), vsquared_distance_base(x, c, n));
}
float ltm_vmin_difference(const float *b, const float *s, long n) {
  DISPATCH(vmin_difference_avx2(b, s, n), vmin_difference_base(b, s, n));
}
long ltm_vopen_indices(const float *b, const float *s, long n, float reach, long *out, long limit) {
  DISPATCH(vopen_indices_avx2(b, s, n, reach, out, limit), vopen_indices_base(b, s, n, reach, out, limit));
}
void ltm_vgelu_tanh(float *x, long n) {
#if defined(__x86_64__)
  if (use_avx2()) {
    vgelu_tanh_avx2(x, n);
    return;
  }
#endif
  vgelu_tanh_base(x, n);
}
