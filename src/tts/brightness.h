/*
 * brightness.h -- the converter's step 3b (brightness.c): a static equaliser
 * and spectral tilt that bring a VX__CV_RATE (22050 Hz) signal's mean dB
 * spectrum over speech frames and its mean spectral centroid (librosa
 * framing) to a reference's.  Internal; reentrant; no static state.
 */
#ifndef VX_TTS_BRIGHTNESS_H
#define VX_TTS_BRIGHTNESS_H

#include <stddef.h>

#define VX__BRIGHT_NBANDS 128 /* 86 Hz bands */

/** What the output is matched to: the reference's mean spectral centroid and
 *  its mean dB spectrum over speech frames. */
typedef struct vx__brightness_ref {
    double centroid_hz; /* 0: no centroid target */
    int has_spec;
    double spec_db[VX__BRIGHT_NBANDS];
} vx__brightness_ref;

/** The static filter vx__brightness_plan finds. */
typedef struct vx__brightness_filter {
    int active;
    double eq_db[VX__BRIGHT_NBANDS]; /* equaliser per band */
    double beta_db_oct;              /* tilt about 1 kHz */
} vx__brightness_filter;

/** Fills *out from the reference x (n samples at 22050 Hz, not kept) and its
 *  mean centroid (<= 0 or NaN: no centroid target).  n == 0 gives a
 *  reference without spectrum.  VX_OK, VX_EINVAL (NULL) or VX_ENOMEM. */
int vx__brightness_ref_compute(const double *x, size_t n, double centroid_hz,
                               vx__brightness_ref *out);

/** The filter for x (n samples at 22050 Hz): the equaliser (when the
 *  reference has a spectrum; +-12 dB at most), then the tilt (dB per octave
 *  about 1 kHz, -9..+6) that brings the mean centroid to ref->centroid_hz
 *  (none when within 2 % or without a target).  *predicted_hz (may be NULL)
 *  gets the centroid predicted after the filter.  An empty x gives an
 *  inactive filter.  VX_OK, VX_EINVAL (NULL) or VX_ENOMEM. */
int vx__brightness_plan(const double *x, size_t n, const vx__brightness_ref *ref,
                        vx__brightness_filter *f, double *predicted_hz);

/** Filters x in place (zero-phase 513-tap FIR); an inactive filter leaves x
 *  unchanged.  VX_OK, VX_EINVAL (NULL) or VX_ENOMEM. */
int vx__brightness_apply(double *x, size_t n, const vx__brightness_filter *f);

#endif
