/*
 * pyin.h -- probabilistic YIN exactly as librosa 0.11 librosa.pyin computes it
 * with voxclone's fixed parameters (fmin 50 Hz, fmax 500 Hz, sr 22050,
 * frame_length 2048, hop 512, n_thresholds 100, beta(2, 18) prior,
 * boltzmann_parameter 2, resolution 0.1 semitone, max_transition_rate
 * 35.92 oct/s, switch_prob 0.01, no_trough_prob 0.01).
 *
 * References:
 *  - M. Mauch, S. Dixon, "pYIN: A fundamental frequency estimator using
 *    probabilistic threshold distributions", ICASSP 2014 (eq. 1-4: threshold
 *    prior, trough prior; section 2.2: HMM with voiced/unvoiced states).
 *  - A. de Cheveigne, H. Kawahara, "YIN, a fundamental frequency estimator for
 *    speech and music", JASA 111(4), 2002 (eq. 6-8: difference function and
 *    cumulative mean normalised difference).
 *  - librosa 0.11 core/pitch.py and sequence.py (the numerical contract:
 *    autocorrelation-based difference function, parabolic shifts, trough
 *    bookkeeping, triangular local transition matrix, log-domain Viterbi with
 *    tiny-epsilon floors and first-index argmax).
 */
#ifndef VX_ANALYSIS_PYIN_H
#define VX_ANALYSIS_PYIN_H

#include <stddef.h>
#include <stdint.h>

#define VX__PYIN_FRAME 2048
#define VX__PYIN_HOP 512
#define VX__PYIN_MIN_PERIOD 44   /* floor(22050 / 500) */
#define VX__PYIN_MAX_PERIOD 441  /* min(ceil(22050 / 50), 2047) */
#define VX__PYIN_N_YIN (VX__PYIN_MAX_PERIOD - VX__PYIN_MIN_PERIOD + 1) /* 398 */
#define VX__PYIN_N_BINS 399      /* floor(120 * log2(10)) + 1 */
#define VX__PYIN_N_STATES (2 * VX__PYIN_N_BINS)
#define VX__PYIN_BAND 50         /* transition half-width in bins (width 101) */
#define VX__PYIN_MAX_CAND VX__PYIN_N_YIN

/** Read-only tables shared by all threads of one analysis. */
typedef struct vx__pyin_tables vx__pyin_tables;

vx__pyin_tables *vx__pyin_tables_new(void);
void vx__pyin_tables_free(vx__pyin_tables *t);
/** The process-wide read-only tables (made by vx__pyin_tables_new on first
 *  use, never freed), or NULL when out of memory (a later call tries again).
 *  Thread-safe; saves ~12 M instructions of table building per analyzer. */
const vx__pyin_tables *vx__pyin_tables_shared(void);
/** Centre frequency of pitch bin b (0..398), Hz: 50 * 2^(b/120). */
double vx__pyin_bin_hz(const vx__pyin_tables *t, int b);

/** Sparse observation of one frame. */
typedef struct vx__pyin_obs {
    int n;                              /**< number of voiced candidates */
    uint16_t bin[VX__PYIN_MAX_CAND];    /**< ascending bins, unique */
    double prob[VX__PYIN_MAX_CAND];     /**< observation probability */
    double voiced_prob;                 /**< clip(sum prob, 0, 1) */
} vx__pyin_obs;

/** Per-thread YIN front end (owns FFTW plans and work buffers). */
typedef struct vx__yin vx__yin;

vx__yin *vx__yin_new(void);
void vx__yin_free(vx__yin *y);

/** One frame of VX__PYIN_FRAME samples (centred, zero-padded by caller).
 *  Fills obs.  No allocation. */
void vx__pyin_frame(vx__yin *y, const vx__pyin_tables *t, const float *frame,
                    vx__pyin_obs *obs);

/** n consecutive frames at hop VX__PYIN_HOP: frame i is x + i * VX__PYIN_HOP
 *  (x holds (n - 1) * VX__PYIN_HOP + VX__PYIN_FRAME samples).  Fills obs[i];
 *  the same values as n calls of vx__pyin_frame, in less time (the
 *  autocorrelation terms of each hop-sized block are shared by the four
 *  frames that contain it).  No allocation. */
void vx__pyin_frames(vx__yin *y, const vx__pyin_tables *t, const float *x, size_t n,
                     vx__pyin_obs *obs);

/** Low-level pieces, exposed for unit tests. */
/** Cumulative mean normalised difference for tau = 44..441 (398 values). */
void vx__yin_cmnd(vx__yin *y, const float *frame, double *yin_out);

/** Log transition probability from state `from` to state `to` (0..797) as
 *  librosa's dense matrix holds it, log(p + DBL_MIN) (for reference
 *  decoders in tests), and the log initial probability of every state. */
double vx__pyin_log_trans(const vx__pyin_tables *t, int from, int to);
double vx__pyin_log_init(const vx__pyin_tables *t);

/** Streaming Viterbi decoder over the 798-state pYIN HMM. */
typedef struct vx__viterbi vx__viterbi;

vx__viterbi *vx__viterbi_new(const vx__pyin_tables *t);
void vx__viterbi_free(vx__viterbi *v);
/** Feeds one frame's observation.  Returns VX_OK or VX_ENOMEM. */
int vx__viterbi_push(vx__viterbi *v, const vx__pyin_obs *obs);
/** Number of frames pushed so far. */
size_t vx__viterbi_frames(const vx__viterbi *v);
/** Backtracks; writes state per pushed frame (0..398 voiced bin,
 *  399..797 unvoiced).  states must hold vx__viterbi_frames() entries. */
int vx__viterbi_decode(vx__viterbi *v, uint16_t *states);

#endif
