/*
 * detailed.h -- internal interfaces of the "detailed" analysis: voice-quality
 * metrics, the voiceprint and the accurate pitch mode.  Each takes the whole
 * 22050 Hz mono signal and/or the per-frame results of the default analysis
 * (frame i centred on sample i*512, n_frames = 1 + n/512).
 */
#ifndef VX_ANALYSIS_DETAILED_H
#define VX_ANALYSIS_DETAILED_H

#include <stddef.h>

#include "voxclone/voxclone.h"

/** Per-frame results of the default analysis that later stages may use. */
typedef struct vx__frame_data {
    size_t n_frames;
    const double *f0_hz;       /**< NaN when unvoiced (pYIN, librosa mode) */
    const uint8_t *voiced;     /**< 0/1 */
    const double *voiced_prob; /**< pYIN voiced probability */
    const float *mel_db;       /**< n_frames x 128, power_to_db before top_db */
    const double *centroid_hz;
} vx__frame_data;

/** Jitter, shimmer, HNR, formants, voiced ratio, speaking rate, loudness of
 *  x (n samples at sr_hz).  Fills every field (NaN when not measurable).
 *  Returns VX_OK or VX_ENOMEM. */
int vx__metrics_compute(const float *x, size_t n, int sr_hz, const vx__frame_data *fd,
                        vx_voice_metrics *out);

/** vx__metrics_compute with up to n_threads threads (1 or less: the calling
 *  thread only; 2 or more: one extra thread).  Same results. */
int vx__metrics_compute_mt(const float *x, size_t n, int sr_hz, const vx__frame_data *fd,
                           vx_voice_metrics *out, int n_threads);

/** 512-d L2-normalised voiceprint; returns VX_OK, VX_EINVAL (no frames) or
 *  VX_ENOMEM.  *version is set to a static version string. */
int vx__voiceprint_compute(const float *x, size_t n, int sr_hz, const vx__frame_data *fd,
                           float *out512, const char **version);

/** Accurate pitch mode: rewrites f0_hz / voiced (n_frames entries, same grid)
 *  from the signal and the default-mode results.  Returns VX_OK / VX_ENOMEM. */
int vx__pitch_accurate(const float *x, size_t n, int sr_hz, const vx__frame_data *fd,
                       double *f0_hz_out, uint8_t *voiced_out);

#endif
