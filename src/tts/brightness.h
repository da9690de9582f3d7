/*
 * brightness.h -- the converter's brightness match (brightness.c): a static
 * spectral tilt that brings a VX__CV_RATE signal's mean spectral centroid
 * (librosa framing) to a target.  Internal; reentrant; no static state.
 */
#ifndef VX_TTS_BRIGHTNESS_H
#define VX_TTS_BRIGHTNESS_H

#include <stddef.h>

/** The tilt (dB per octave about 1 kHz, limited to -9..+6) that brings the
 *  mean spectral centroid of x (n samples at 22050 Hz) to target_hz; 0 when
 *  n is 0, the target is not positive or the centroid is already within 2 %.
 *  *predicted_hz (may be NULL) gets the centroid predicted after the tilt.
 *  Returns VX_OK, VX_EINVAL (x or beta_db_oct NULL) or VX_ENOMEM. */
int vx__brightness_plan(const double *x, size_t n, double target_hz, double *beta_db_oct,
                        double *predicted_hz);

/** Filters x in place with the tilt (zero-phase 513-tap FIR).  beta 0 leaves
 *  x unchanged.  Returns VX_OK, VX_EINVAL (x NULL) or VX_ENOMEM. */
int vx__brightness_apply(double *x, size_t n, double beta_db_oct);

#endif
