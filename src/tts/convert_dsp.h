/*
 * convert_dsp.h -- signal-processing blocks of the tone-colour converter
 * (convert_dsp.c): FFT, pitch-adaptive mel-cepstral envelope analysis,
 * per-class statistics, the time-varying MLSA filter and the filters built
 * for it, a variable-rate resampler, WSOLA and a band-fill crossover.  All reentrant (no static state), all in double
 * precision, all deterministic.  Frame grid: frame i is centred on sample
 * i * VX__CV_HOP of a VX__CV_RATE signal.
 */
#ifndef VX_TTS_CONVERT_DSP_H
#define VX_TTS_CONVERT_DSP_H

#include <stddef.h>
#include <stdint.h>

#define VX__CV_RATE 22050 /* internal rate of the converter, Hz */
#define VX__CV_HOP 110    /* 4.99 ms analysis hop */
#define VX__CV_ORDER 24   /* mel-cepstral order */
#define VX__CV_ALPHA 0.42 /* all-pass constant: mel scale at 22050 Hz */
#define VX__CV_DIM (VX__CV_ORDER + 1)
#define VX__CV_PADE 5     /* Pade order of the MLSA filter */

/* ---- FFT ----------------------------------------------------------------- */

/** Radix-2 complex FFT plan of size n (a power of two, >= 2). */
typedef struct vx__cv_fft {
    size_t n;
    double *tw;     /* n/2 cos, n/2 sin */
    double *rtw;    /* n cos, n sin of 2 pi k / 2n: real-input post-processing */
    size_t *rev;    /* bit reversal */
    double *stw;    /* per stage of half-length h: h cos, h sin, at 2 (h - 1) */
    size_t *swp;    /* the bit-reversal swaps: nswp pairs (i, rev[i]), i < rev[i] */
    size_t nswp;
} vx__cv_fft;

int vx__cv_fft_init(vx__cv_fft *f, size_t n); /* VX_OK / VX_ENOMEM */
void vx__cv_fft_free(vx__cv_fft *f);
/** In-place transform; inverse = 1 computes the unscaled inverse. */
void vx__cv_fft_run(const vx__cv_fft *f, double *re, double *im, int inverse);

/** Real-input FFT of size 2 * f->n through the half-size complex plan f:
 *  x (2n samples, preserved) -> re, im (n + 1 bins each).  work: 2n doubles. */
void vx__cv_rfft(const vx__cv_fft *f, const double *x, double *re, double *im, double *work);

/* ---- mel-cepstral analysis ---------------------------------------------- */

/** SPTK freqt: cepstrum c1 (order m1) -> frequency-warped cepstrum c2
 *  (order m2) with all-pass constant a (Oppenheim & Johnson 1972). */
void vx__cv_freqt(const double *c1, int m1, double *c2, int m2, double a, double *work);
/** SPTK mc2b: mel-cepstrum -> MLSA filter coefficients (may alias). */
void vx__cv_mc2b(const double *mc, double *b, int m, double a);

/** Per-frame analysis of a VX__CV_RATE signal. */
typedef struct vx__cv_frames {
    size_t n;          /* frames: 1 + len / VX__CV_HOP */
    double *mc;        /* n * VX__CV_DIM mel-cepstra (natural log amplitude) */
    uint8_t *voiced;   /* n, 0/1 (from the pitch track given) */
    double *energy_db; /* n, power of the unit-power-windowed frame, dB */
} vx__cv_frames;

/** Per-frame analysis of x (len samples at VX__CV_RATE): a pitch-adaptive
 *  spectral envelope (CheapTrick, Morise 2015: Hann window of three pitch
 *  periods, power spectrum smoothed over 2/3 F0, smoothing and compensation
 *  lifters) as a mel-cepstrum of order 24, alpha 0.42, every 5 ms.
 *  f0_track (n_track values, one every track_hop samples, <= 0 or NaN when
 *  unvoiced; may be NULL) gives each frame's F0 and voicing; unvoiced frames
 *  use 500 Hz.  Returns VX_OK or VX_ENOMEM.  len may be 0. */
int vx__cv_analyze(const double *x, size_t len, const double *f0_track, size_t n_track,
                   size_t track_hop, vx__cv_frames *out);
void vx__cv_frames_free(vx__cv_frames *f);

/** Mean and standard deviation of the mel-cepstra per class (0 unvoiced,
 *  1 voiced) over the frames within sel_db of the loudest frame. */
typedef struct vx__cv_class_stats {
    size_t count[2];
    double mean[2][VX__CV_DIM];
    double std[2][VX__CV_DIM];
} vx__cv_class_stats;

void vx__cv_class_stats_compute(const vx__cv_frames *f, double sel_db, vx__cv_class_stats *out);

/** Limits the log-magnitude response of the mel-cepstrum d (order
 *  VX__CV_ORDER, warped frequency) to [lo_db, hi_db], and fades it to 0 dB
 *  above the warped frequency that corresponds to fmax_hz. */
void vx__cv_limit_response(double *d, double lo_db, double hi_db, double fmax_hz);

/** Mel-cepstrum d (order VX__CV_ORDER) of the filter that undoes the
 *  frequency scaling of a resampling by rho (spectrum E(w / rho) after it):
 *  log|D(w)| = log E(w) - log E(w / rho), E the envelope of the mel-cepstrum
 *  c; limited to +/-lim_db, and faded to 0 dB above fmax_hz (where the
 *  signal was not resampled).  c0 keeps the mean log-gain difference. */
void vx__cv_unwarp_filter(const double *c, double rho, double lim_db, double fmax_hz, double *d);

/** Crossover: z[i] += HP(w - z)[i], a linear-phase high-pass (Kaiser
 *  windowed sinc, 60 dB, ~500 Hz transition) at fc_hz: z keeps its band
 *  below fc_hz and takes w's above.  z and w have len samples.  VX_OK /
 *  VX_ENOMEM. */
int vx__cv_band_fill(double *z, const double *w, size_t len, double fc_hz);

/* ---- MLSA filter ---------------------------------------------------------- */

/** Filters x (len samples) in place through a time-varying MLSA filter
 *  (Imai 1983; SPTK mlsadf with Pade order 5) whose mel-cepstrum for frame
 *  i (centred on sample i*VX__CV_HOP) is mc[i*VX__CV_DIM ..]; coefficients
 *  are interpolated linearly between frames.  Returns VX_OK / VX_ENOMEM. */
int vx__cv_mlsa_filter(double *x, size_t len, const double *mc, size_t n_frames);
/** The same filter as a line-by-line port of SPTK's mc2b + mlsadf (the
 *  reference the unit test holds vx__cv_mlsa_filter and SPTK to; slower). */
int vx__cv_mlsa_filter_ref(double *x, size_t len, const double *mc, size_t n_frames);

/* ---- time and pitch modification ----------------------------------------- */

/**
 * Variable-rate resampling: y[j] = x(p_j), p_0 = 0, p_{j+1} = p_j +
 * rho[floor(p_j)] (band-limited Kaiser-windowed sinc interpolation whose
 * cutoff follows min(1, 1/rho)).  Reading faster (rho > 1) raises pitch and
 * shortens.  *y and *pos (the p_j, increasing) are malloc'd, *ny samples.
 */
int vx__cv_vr_resample(const double *x, size_t len, const double *rho, double **y, double **pos,
                       size_t *ny);
/** The same resampler in plain scalar code (the reference the unit test
 *  holds vx__cv_vr_resample to, byte for byte; slower). */
int vx__cv_vr_resample_ref(const double *x, size_t len, const double *rho, double **y,
                           double **pos, size_t *ny);

/**
 * WSOLA time-scale modification (Verhelst & Roelands 1993).  y (ny samples)
 * came from an original signal of n_orig samples, sample j of y sitting at
 * original position pos[j] (increasing).  speed[p] (p < n_orig) is the
 * playback speed wanted at original sample p (1 = original timing).  The
 * output follows original time at that speed: output time q maps to the
 * original position P(q) with dP/dq = speed.  *out malloc'd, *nout samples.
 */
int vx__cv_wsola(const double *y, size_t ny, const double *pos, size_t n_orig,
                 const double *speed, double **out, size_t *nout);
/** The same WSOLA with the plain candidate correlations (the reference the
 *  unit test holds vx__cv_wsola to, byte for byte; slower). */
int vx__cv_wsola_ref(const double *y, size_t ny, const double *pos, size_t n_orig,
                     const double *speed, double **out, size_t *nout);

#endif
