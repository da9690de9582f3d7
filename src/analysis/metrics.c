/*
 * metrics.c -- vx__metrics_compute: the voice-quality metrics of a detailed
 * analysis (jitter, shimmer, HNR, F1-F3, voiced ratio, speaking rate,
 * loudness).  Definitions and the agreement with Praat: docs/metrics.md.
 *
 * DESIGN: users compare these numbers with Praat's voice report, so each
 * Praat-defined metric re-implements the Praat command chain with Praat's
 * own settings instead of a look-alike (metrics_praat.c,
 * metrics_formant.c):
 *   jitter / shimmer  To PointProcess (periodic, cc): 75, 600, then
 *                     Get jitter (local): 0, 0, 0.0001, 0.02, 1.3 and
 *                     Get shimmer (local): ..., 1.3, 1.6 (Praat manual pages
 *                     "PointProcess: Get jitter (local)...", "Sound &
 *                     PointProcess: Get shimmer (local)...", "Sound: To
 *                     PointProcess (periodic, cc)...");
 *   HNR               To Harmonicity (cc): 0.01, 75, 0.1, 1.0 + Get mean
 *                     ("Sound: To Harmonicity (cc)...");
 *   F1-F3             To Formant (burg): 0, 5, 5500, 0.025, 50, median over
 *                     voiced frames ("Sound: To Formant (burg)...").
 * The pulses use Praat's own (ac) pitch rather than the pYIN track: the
 * jitter value depends on exactly which periods are found, and only Praat's
 * voicing decisions give Praat's periods.  Everything that says "voiced"
 * without reference to Praat (formant frames, voiced ratio, speaking rate)
 * uses the pYIN decisions of the default analysis, so the detailed metrics
 * agree with the pitch statistics of the same analysis.
 *
 * Loudness follows ITU-R BS.1770-4 (metrics_loudness.c), speaking rate
 * de Jong & Wempe (2009) (metrics_rate.c).  Every sub-analysis allocates its
 * buffers once per call; NaN marks a value that cannot be measured (no
 * voiced speech, too few pulses, silence).
 */
#include <math.h>
#include <stdlib.h>

#include "analysis/metrics_internal.h"

/* Praat voice report settings */
#define PITCH_FLOOR_HZ 75.0
#define PITCH_CEILING_HZ 600.0
#define SHORTEST_PERIOD_S 0.0001
#define LONGEST_PERIOD_S 0.02
#define MAX_PERIOD_FACTOR 1.3
#define MAX_AMPLITUDE_FACTOR 1.6
#define HNR_TIME_STEP_S 0.01
#define HNR_MIN_PITCH_HZ 75.0
#define HNR_SILENCE 0.1
#define HNR_PERIODS_PER_WINDOW 1.0

int vx__metrics_compute(const float *x, size_t n, int sr_hz, const vx__frame_data *fd,
                        vx_voice_metrics *out)
{
    if (!x || !fd || !out || n == 0 || sr_hz <= 0 || (fd->n_frames > 0 && !fd->voiced))
        return VX_EINVAL;
    const double fs = (double)sr_hz;
    out->jitter_local_pct = NAN;
    out->shimmer_local_pct = NAN;
    out->hnr_db = NAN;
    out->formant_hz[0] = out->formant_hz[1] = out->formant_hz[2] = NAN;
    out->voiced_ratio = NAN;
    out->speaking_rate_syl_s = NAN;
    out->loudness_lufs = NAN;

    if (fd->n_frames > 0) {
        size_t nv = 0;
        for (size_t i = 0; i < fd->n_frames; i++)
            nv += fd->voiced[i] != 0;
        out->voiced_ratio = (double)nv / (double)fd->n_frames;
    }

    /* jitter and shimmer from Praat's periodic (cc) pulses */
    vx__praat_pitch pitch;
    int rc = vx__praat_pitch_ac(x, n, fs, PITCH_FLOOR_HZ, PITCH_CEILING_HZ, &pitch);
    if (rc != VX_OK)
        return rc;
    double *pulses = NULL;
    size_t npulses = 0;
    rc = vx__praat_pulses_cc(x, n, fs, &pitch, &pulses, &npulses);
    if (rc == VX_OK)
        rc = vx__formant_medians(x, n, fs, &pitch, out->formant_hz);
    free(pitch.f0_hz);
    if (rc != VX_OK) {
        free(pulses);
        return rc;
    }
    out->jitter_local_pct = 100.0 * vx__praat_jitter_local(pulses, npulses, SHORTEST_PERIOD_S,
                                                          LONGEST_PERIOD_S, MAX_PERIOD_FACTOR);
    double shimmer = NAN;
    rc = vx__praat_shimmer_local(x, n, fs, pulses, npulses, SHORTEST_PERIOD_S, LONGEST_PERIOD_S,
                                 MAX_PERIOD_FACTOR, MAX_AMPLITUDE_FACTOR, &shimmer);
    free(pulses);
    if (rc != VX_OK)
        return rc;
    out->shimmer_local_pct = 100.0 * shimmer;

    if ((rc = vx__praat_hnr_cc(x, n, fs, HNR_TIME_STEP_S, HNR_MIN_PITCH_HZ, HNR_SILENCE,
                               HNR_PERIODS_PER_WINDOW, &out->hnr_db)) != VX_OK)
        return rc;
    if ((rc = vx__speaking_rate(x, n, fs, fd, &out->speaking_rate_syl_s)) != VX_OK)
        return rc;
    return vx__loudness_lufs(x, n, fs, &out->loudness_lufs);
}
