/*
 * fftw_lock.h -- FFTW's planner is not thread-safe; every plan creation and
 * destruction in the library goes through this one lock.  Executing a plan on
 * new arrays (fftwf_execute_dft_r2c etc.) is thread-safe and needs no lock.
 */
#ifndef VX_CORE_FFTW_LOCK_H
#define VX_CORE_FFTW_LOCK_H

void vx__fftw_lock(void);
void vx__fftw_unlock(void);

#endif
