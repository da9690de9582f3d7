/*
 * fftw_lock.h -- FFTW's planner is not thread-safe; every plan creation and
 * destruction in the library goes through this one lock.  Executing a plan on
 * new arrays (fftwf_execute_dft_r2c etc.) is thread-safe and needs no lock.
 *
 * The hot analysis objects (pYIN's blocks, the STFT) do not plan at all: they
 * take process-wide shared plans from vx__fftwf_plan_shared_*, made once per
 * (kind, size) under the lock and never destroyed, and run them with the
 * new-array execute functions on their own fftwf_malloc'd buffers.
 */
#ifndef VX_CORE_FFTW_LOCK_H
#define VX_CORE_FFTW_LOCK_H

#include <fftw3.h>

/** The planner lock.  Its first use in a process imports the FFTW wisdom
 *  the build recorded (see fftw_lock.c). */
void vx__fftw_lock(void);
void vx__fftw_unlock(void);

/** 1 when the build's wisdom was accepted by the FFTW in use, else 0 (not
 *  built in, or rejected: planning then works as without it). */
int vx__fftw_wisdom_imported(void);

/** A shared FFTW_ESTIMATE plan for an out-of-place single-precision real-to-
 *  complex transform of n points (n >= 1), or NULL when out of memory or when
 *  the cache (a few distinct shapes) is full.  The plan lives for the whole
 *  process and must not be destroyed; execute it only with
 *  fftwf_execute_dft_r2c on fftwf_malloc'd arrays (in != out).  Thread-safe. */
fftwf_plan vx__fftwf_plan_shared_r2c(int n);
/** The same for an out-of-place complex transform of n points; sign is
 *  FFTW_FORWARD or FFTW_BACKWARD.  Execute with fftwf_execute_dft. */
fftwf_plan vx__fftwf_plan_shared_c2c(int n, int sign);

#endif
