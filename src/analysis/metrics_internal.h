/*
 * metrics_internal.h -- the pieces of vx__metrics_compute (detailed.h), one
 * file each:
 *   metrics.c           orchestration, argument checks, voiced ratio
 *   metrics_praat.c     Praat's pitch (ac), periodic pulses (cc), jitter,
 *                       shimmer and harmonicity (cc)
 *   metrics_formant.c   Praat's "To Formant (burg)" and the F1-F3 medians
 *   metrics_rate.c      de Jong & Wempe (2009) syllable nuclei
 *   metrics_loudness.c  ITU-R BS.1770-4 integrated loudness
 *
 * Conventions shared by all of them (they follow Praat's Sampled objects so
 * that the code can be read side by side with the Praat manual): a signal of
 * n samples at fs Hz spans [0, n/fs] seconds and sample j (0-based) sits at
 * time (j + 0.5) / fs.  Every function allocates its work buffers once per
 * call, never per analysis frame, and returns VX_OK or VX_ENOMEM.  NaN means
 * "not measurable" (Praat's --undefined--).
 */
#ifndef VX_ANALYSIS_METRICS_INTERNAL_H
#define VX_ANALYSIS_METRICS_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "analysis/detailed.h"
#include "analysis/spectral.h"

#define VX__MET_PI 3.14159265358979323846
/* pYIN frame i (vx__frame_data) is centred on sample i * VX__HOP_SAMPLES */
#define VX__HOP_SAMPLES VX__HOP

/** Index of the pYIN frame nearest to time t (seconds, sample j at
 *  (j + 0.5) / fs), clipped to the frame range; n_frames must be > 0. */
static inline size_t vx__nearest_pyin_frame(double t, double fs, size_t n_frames)
{
    double fi = (t * fs - 0.5) / (double)VX__HOP_SAMPLES + 0.5;
    if (!(fi >= 0.0))
        return 0;
    if (fi >= (double)n_frames)
        return n_frames - 1;
    return (size_t)fi;
}

/* ---- metrics.c ---------------------------------------------------------- */

/* vx__metrics_compute_mt is declared in detailed.h */

/* ---- metrics_praat.c ---------------------------------------------------- */

/** A pitch contour on Praat's frame grid: frame i (0-based) is centred at
 *  t1 + i*dt; f0_hz[i] is 0 when the frame is unvoiced. */
typedef struct vx__praat_pitch {
    size_t n_frames;
    double t1, dt, ceiling_hz;
    double *f0_hz; /* n_frames, malloc'd */
} vx__praat_pitch;

/** Praat "Sound: To Pitch (ac)" with the standard settings of "To Pitch:
 *  0, floor, ceiling" (3 periods per window, 15 candidates, silence 0.03,
 *  voicing 0.45, octave 0.01, octave jump 0.35, voiced/unvoiced 0.14).
 *  On VX_OK the caller frees out->f0_hz.  n_frames may be 0 (sound shorter
 *  than one window). */
int vx__praat_pitch_ac(const float *x, size_t n, double fs, double floor_hz, double ceiling_hz,
                       vx__praat_pitch *out);

/** 1 when Praat's "Get value at time" (linear) of the pitch is defined at t,
 *  i.e. the frame nearest to t is voiced (xmax: end of the sound). */
int vx__praat_pitch_voiced_at(const vx__praat_pitch *p, double xmax, double t);

/** Praat "Sound & Pitch: To PointProcess (cc)": glottal pulse times in
 *  seconds, ascending, no duplicates.  *times is malloc'd (NULL when none). */
int vx__praat_pulses_cc(const float *x, size_t n, double fs, const vx__praat_pitch *p,
                        double **times, size_t *n_times);

/** Praat "PointProcess: Get jitter (local)" over the whole point process,
 *  as a fraction (not %).  NaN when fewer than 2 usable periods. */
double vx__praat_jitter_local(const double *t, size_t n, double pmin, double pmax,
                              double max_period_factor);

/** Praat "Sound & PointProcess: Get shimmer (local)" over the whole point
 *  process, as a fraction.  NaN when not measurable.  VX_ENOMEM possible. */
int vx__praat_shimmer_local(const float *x, size_t n, double fs, const double *t, size_t nt,
                            double pmin, double pmax, double max_period_factor,
                            double max_amplitude_factor, double *out);

/** Praat "Sound: To Harmonicity (cc)" (time step, minimum pitch, silence
 *  threshold, periods per window) followed by "Harmonicity: Get mean" over
 *  the whole sound (frames at -200 dB are left out).  NaN when no frame is
 *  voiced. */
int vx__praat_hnr_cc(const float *x, size_t n, double fs, double dt, double min_pitch,
                     double silence_threshold, double periods_per_window, double *out_db);

/* ---- metrics_formant.c -------------------------------------------------- */

/** Praat "Sound: To Formant (burg)" (time step 0, 5 formants, ceiling
 *  5500 Hz, window 0.025 s, pre-emphasis from 50 Hz), then the median of
 *  F1, F2, F3 over the formant frames at which the pitch p is voiced.
 *  out_hz[k] is NaN when no voiced frame has formant k+1. */
int vx__formant_medians(const float *x, size_t n, double fs, const vx__praat_pitch *p,
                        double out_hz[3]);

/* ---- metrics_rate.c ----------------------------------------------------- */

/** Syllable nuclei per second (de Jong & Wempe 2009), voicing from fd. */
int vx__speaking_rate(const float *x, size_t n, double fs, const vx__frame_data *fd,
                      double *out);

/* ---- metrics_loudness.c ------------------------------------------------- */

/** ITU-R BS.1770-4 integrated loudness of a mono signal (channel weight 1),
 *  LUFS; NaN when no 400 ms block passes the gates. */
int vx__loudness_lufs(const float *x, size_t n, double fs, double *out);

/* ---- shared numerics (metrics_praat.c) ---------------------------------- */

/** Praat's NUM_interpolate_sinc: y is 1-based in Praat, here y[0..size-1]
 *  holds Praat's y[1..size]; x is Praat's (1-based) real index. */
double vx__sinc_interpolate(const double *y, long size, double x, long max_depth);

/** Median of v[0..n-1] (sorts v in place); NaN when n == 0. */
double vx__median_inplace(double *v, size_t n);

#endif
