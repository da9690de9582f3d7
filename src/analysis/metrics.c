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
 * The pulses use Praat's own (ac) pitch rather than the pYIN track: jitter
 * depends on exactly which periods are found, and pulses placed along the
 * pYIN track (which also calls voicing onsets and offsets voiced) read 20-60 %
 * more jitter than Praat (8 of 24 evaluation clips within 20 %).  The same
 * Praat pitch decides which formant frames are voiced, as in Praat.  The
 * voiced ratio and the speaking rate, which are not Praat measures, use the
 * pYIN decisions of the default analysis, so they agree with the pitch
 * statistics of the same analysis.
 *
 * Loudness follows ITU-R BS.1770-4 (metrics_loudness.c), speaking rate
 * de Jong & Wempe (2009) (metrics_rate.c).  Every sub-analysis allocates its
 * buffers once per call; NaN marks a value that cannot be measured (no
 * voiced speech, too few pulses, silence).
 *
 * Threads: vx__metrics_compute (the detailed.h contract) runs on the calling
 * thread.  vx__metrics_compute_mt may use one extra thread: the pitch, then
 * pulses and formants, only depend on each other through the pitch, so the
 * work splits into two fork-join phases of about equal halves (the wall time
 * drops to ~60 %).  Results do not depend on the number of threads.
 */
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

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

/* The work falls into tasks that depend on each other only through the
 * Praat pitch: "pitch" first, then "pulses" (jitter, shimmer) and "formants";
 * "hnr" and "rest" (speaking rate, loudness) need nothing. */
typedef struct job {
    const float *x;
    size_t n;
    double fs;
    const vx__frame_data *fd;
    vx_voice_metrics *out;
    vx__praat_pitch pitch;
    int rc_pitch, rc_pulses, rc_formants, rc_side;
} job;

static void task_pitch(job *j)
{
    j->rc_pitch = vx__praat_pitch_ac(j->x, j->n, j->fs, PITCH_FLOOR_HZ, PITCH_CEILING_HZ, &j->pitch);
}

static void task_pulses(job *j)
{
    double *pulses = NULL;
    size_t npulses = 0;
    j->rc_pulses = vx__praat_pulses_cc(j->x, j->n, j->fs, &j->pitch, &pulses, &npulses);
    if (j->rc_pulses != VX_OK)
        return;
    j->out->jitter_local_pct =
        100.0 * vx__praat_jitter_local(pulses, npulses, SHORTEST_PERIOD_S, LONGEST_PERIOD_S,
                                       MAX_PERIOD_FACTOR);
    double shimmer = NAN;
    j->rc_pulses = vx__praat_shimmer_local(j->x, j->n, j->fs, pulses, npulses, SHORTEST_PERIOD_S,
                                           LONGEST_PERIOD_S, MAX_PERIOD_FACTOR,
                                           MAX_AMPLITUDE_FACTOR, &shimmer);
    j->out->shimmer_local_pct = 100.0 * shimmer;
    free(pulses);
}

static void *task_formants(void *arg)
{
    job *j = arg;
    j->rc_formants = vx__formant_medians(j->x, j->n, j->fs, &j->pitch, j->out->formant_hz);
    return NULL;
}

static void *task_side(void *arg)
{
    job *j = arg;
    j->rc_side = vx__praat_hnr_cc(j->x, j->n, j->fs, HNR_TIME_STEP_S, HNR_MIN_PITCH_HZ,
                                  HNR_SILENCE, HNR_PERIODS_PER_WINDOW, &j->out->hnr_db);
    if (j->rc_side == VX_OK)
        j->rc_side = vx__speaking_rate(j->x, j->n, j->fs, j->fd, &j->out->speaking_rate_syl_s);
    if (j->rc_side == VX_OK)
        j->rc_side = vx__loudness_lufs(j->x, j->n, j->fs, &j->out->loudness_lufs);
    return NULL;
}

/* runs fn on a second thread when two threads are allowed and one can be
 * started, otherwise here; returns 1 when a thread must be joined */
static int run_beside(void *(*fn)(void *), job *j, int threads, pthread_t *tid)
{
    if (threads > 1 && pthread_create(tid, NULL, fn, j) == 0)
        return 1;
    fn(j);
    return 0;
}

int vx__metrics_compute_mt(const float *x, size_t n, int sr_hz, const vx__frame_data *fd,
                           vx_voice_metrics *out, int n_threads)
{
    if (!x || !fd || !out || n == 0 || sr_hz <= 0 || (fd->n_frames > 0 && !fd->voiced))
        return VX_EINVAL;
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

    /* two phases, each split over at most two threads:
     *   1. pitch            | harmonicity, speaking rate, loudness
     *   2. pulses, jitter, shimmer | formants (need the pitch)  */
    job j;
    memset(&j, 0, sizeof j);
    j.x = x;
    j.n = n;
    j.fs = (double)sr_hz;
    j.fd = fd;
    j.out = out;
    j.rc_formants = VX_OK;
    pthread_t tid;
    int joined = run_beside(task_side, &j, n_threads, &tid);
    task_pitch(&j);
    if (joined)
        pthread_join(tid, NULL);
    if (j.rc_pitch == VX_OK) {
        joined = run_beside(task_formants, &j, n_threads, &tid);
        task_pulses(&j);
        if (joined)
            pthread_join(tid, NULL);
    }
    free(j.pitch.f0_hz);
    if (j.rc_pitch != VX_OK)
        return j.rc_pitch;
    if (j.rc_side != VX_OK)
        return j.rc_side;
    if (j.rc_pulses != VX_OK)
        return j.rc_pulses;
    return j.rc_formants;
}

int vx__metrics_compute(const float *x, size_t n, int sr_hz, const vx__frame_data *fd,
                        vx_voice_metrics *out)
{
    return vx__metrics_compute_mt(x, n, sr_hz, fd, out, 1);
}
