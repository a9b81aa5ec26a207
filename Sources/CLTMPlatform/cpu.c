#define _GNU_SOURCE
#include "CLTMPlatform.h"
#include <sched.h>
#include <string.h>
#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>

static unsigned long long xgetbv0(void) {
  unsigned int eax, edx;
  __asm__ volatile("xgetbv" : "=a"(eax), "=d"(edx) : "c"(0));
  return ((unsigned long long)edx << 32) | eax;
}

ltm_cpu_features ltm_cpu_detect(void) {
  ltm_cpu_features f;
  memset(&f, 0, sizeof f);
  unsigned int a, b, c, d;
  if (!__get_cpuid(0, &a, &b, &c, &d)) return f;
  unsigned int max_leaf = a;
  char vendor[13];
  memcpy(vendor, &b, 4); memcpy(vendor + 4, &d, 4); memcpy(vendor + 8, &c, 4); vendor[12] = 0;
  f.is_amd = strcmp(vendor, "AuthenticAMD") == 0 || strcmp(vendor, "HygonGenuine") == 0;
  f.is_intel = strcmp(vendor, "GenuineIntel") == 0;
  __get_cpuid(1, &a, &b, &c, &d);
  int base_family = (a >> 8) & 0xf, base_model = (a >> 4) & 0xf;
  f.family = base_family == 0xf ? base_family + (int)((a >> 20) & 0xff) : base_family;
  f.model = (base_family == 0x6 || base_family == 0xf) ? base_model + (int)(((a >> 16) & 0xf) << 4) : base_model;
  f.sse3 = (c >> 0) & 1;
  int fma = (c >> 12) & 1, osxsave = (c >> 27) & 1, avx = (c >> 28) & 1;
  unsigned long long xcr0 = osxsave ? xgetbv0() : 0;
  int os_ymm = (xcr0 & 0x6) == 0x6;            // SSE and AVX state
  int os_zmm = os_ymm && (xcr0 & 0xe0) == 0xe0;  // opmask, ZMM_Hi256, Hi16_ZMM state
  f.avx = avx && os_ymm;
  f.fma = fma && os_ymm;
  if (max_leaf >= 7) {
    __get_cpuid_count(7, 0, &a, &b, &c, &d);
    f.avx2 = ((b >> 5) & 1) && os_ymm;
    f.avx512f = ((b >> 16) & 1) && os_zmm;
    f.avx512dq = ((b >> 17) & 1) && os_zmm;
    f.avx512bw = ((b >> 30) & 1) && os_zmm;
    f.avx512vl = ((b >> 31) & 1) && os_zmm;
  }
  return f;
}
#else
ltm_cpu_features ltm_cpu_detect(void) {
  ltm_cpu_features f;
  memset(&f, 0, sizeof f);
  return f;
}
#endif

int ltm_affinity_cpu_count(void) {
  cpu_set_t set;
  CPU_ZERO(&set);
  if (sched_getaffinity(0, sizeof set, &set) != 0) return 0;
  return CPU_COUNT(&set);
}
