/*
 * pitch_accurate.h -- internals of the accurate pitch mode (VX_PITCH_ACCURATE),
 * exposed for the unit tests and for the fitting tool in scripts/pitch/.
 * The library itself only calls vx__pitch_accurate() (detailed.h).
 *
 * Method and figures: docs/pitch.md.
 */
#ifndef VX_ANALYSIS_PITCH_ACCURATE_H
#define VX_ANALYSIS_PITCH_ACCURATE_H

#include <stddef.h>
#include <stdint.h>

#include "analysis/detailed.h"

/** Number of coefficients of the logistic voicing model:
 *  bias, aperiodicity (cmin), relative level (erel_db), zero-crossing rate. */
#define VX__PACC_N_COEF 4

/** Tunable constants of the accurate mode.  vx__pacc_params_default() gives
 *  the shipped values (fitted once, see scripts/pitch/fit_voicing.c). */
typedef struct vx__pacc_params {
    double coef[VX__PACC_N_COEF]; /**< logistic model: bias, cmin, erel_db, zcr */
    double p_threshold;           /**< voiced when P(voiced) > this */
    double gate_aperiodicity;     /**< unvoice frames whose tracked trough is above
                                       this, unless pYIN agrees within a semitone */
    double w_jump;                /**< tracking cost per octave of f0 jump */
    double w_pyin;                /**< cost per octave away from the pYIN f0 */
    double w_range;               /**< cost per octave beyond +-0.7 oct of the median */
} vx__pacc_params;

void vx__pacc_params_default(vx__pacc_params *p);

/** Per-frame quantities, for the fitting tool (all n_frames long). */
typedef struct vx__pacc_frames {
    double *cmin;    /**< min of the short-window CMND of the 1 kHz low-passed signal */
    double *erel_db; /**< Hann-512 level minus the 95th percentile over frames, dB */
    double *zcr;     /**< zero crossings per sample over 512 samples */
    double *p_voiced;/**< logistic model output */
} vx__pacc_frames;

/**
 * vx__pitch_accurate with explicit parameters; when feat is non-NULL its
 * arrays (n_frames each, caller-allocated) receive the per-frame features.
 * f0_hz_out / voiced_out may alias fd->f0_hz / fd->voiced.
 * Returns VX_OK, VX_EINVAL (NULL arguments, sr_hz != 22050, frame count not
 * 1 + n/512) or VX_ENOMEM.
 */
int vx__pitch_accurate_ex(const float *x, size_t n, int sr_hz, const vx__frame_data *fd,
                          const vx__pacc_params *params, double *f0_hz_out,
                          uint8_t *voiced_out, vx__pacc_frames *feat);

#endif
