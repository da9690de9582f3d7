/*
 * simd.h -- function attributes for the hot DSP loops (internal).
 *
 * DESIGN: with GCC on x86-64 Linux the marked functions are compiled twice,
 * for AVX2 and for the baseline ISA, and the loader picks one at run time
 * (ifunc), so the library runs on any x86-64 and uses AVX2 where present.
 * Results are bit-identical between the two: "avx2" does not enable FMA
 * (nothing is contracted), vectorisation keeps every operation and its
 * order (no -ffast-math reassociation), and IEEE add/mul/div/sqrt are
 * correctly rounded in every lane.  Keep libm calls out of marked
 * functions: with -fno-math-errno GCC may leave the upper AVX state dirty
 * across a call, and glibc's log then ran ~6x slower (measured in
 * vx__spectral_frame).  VX_NO_TARGET_CLONES turns the clones off.
 *
 *   VX__HOT        clones + the dynamic vectoriser cost model (loops that
 *                  the default cost model would leave scalar)
 *   VX__HOT_PLAIN  clones only
 */
#ifndef VX_CORE_SIMD_H
#define VX_CORE_SIMD_H

#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) && defined(__linux__) && \
    !defined(VX_NO_TARGET_CLONES)
#define VX__HOT __attribute__((target_clones("avx2", "default"), optimize("vect-cost-model=dynamic")))
#define VX__HOT_PLAIN __attribute__((target_clones("avx2", "default")))
#else
#define VX__HOT
#define VX__HOT_PLAIN
#endif

#endif
