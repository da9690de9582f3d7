/*
 * convert.c -- tone-colour converter: moves a base synthesizer's speech
 * toward the reference speaker (vx__conv_stats_new, vx__convert).
 *
 * DESIGN: the base synthesizer (espeak-ng, flite) is already told the
 * reference's pitch level, range and rate (fit.c), so this stage corrects
 * what it cannot: the spectral envelope, the residual pitch error and range,
 * the speaking rate and the level.  Everything runs at 22050 Hz inside;
 * convert_dsp.c has the signal processing.  docs/converter.md has the
 * measurements behind each choice.
 *
 *  0. Analysis of the unmodified synthetic speech: the library's pYIN (the
 *     statistic the similarity and the reference analysis use) gives F0 and
 *     voicing; a pitch-adaptive spectral envelope (CheapTrick, Morise 2015)
 *     every 5 ms as a mel-cepstrum (order 24, alpha 0.42); per voicing class
 *     the mean over frames within 25 dB of the loudest.  The reference gets
 *     the same treatment once (vx__conv_stats), plus its level.
 *  1. F0: log-F0 deviations from the synthetic mean are scaled by
 *     g = clamp(reference spread / synthetic spread, 0.5, 2) * (0.5 +
 *     exaggeration) -- the range fit.c asks the synthesizer for, so only its
 *     shortfall is corrected -- and the contour is moved so that its mean
 *     lands on the reference's pYIN mean.  When the mean is within 1
 *     semitone and g within 10 % of 1 nothing is done.  temperature adds a
 *     slow seeded wander (0.5 semitone RMS at 1.0).  The ratio rho is applied
 *     by band-limited variable-rate resampling, WSOLA (Verhelst & Roelands
 *     1993) restores the timing, the finished signal's pYIN mean (after
 *     steps 3 and 3b) is checked once and steps 1-3b redone when it misses
 *     by > 0.3 semitone.  Resampling moves
 *     formants by rho; step 3 puts them back, and when rho < 1 the band it
 *     emptied (above rho * bandwidth) is refilled from the original,
 *     time-scaled by WSOLA alone, through a linear-phase crossover.
 *  2. Timing: the same WSOLA pass follows a speed contour: (reference /
 *     synthetic speaking rate, syllable nuclei per second after de Jong &
 *     Wempe 2009, limited to 0.7..1.43) ^ cfg_weight (0 keeps the
 *     synthesizer's rate; changes under 3 % are skipped), times a seeded
 *     tempo wander from temperature (4 % RMS at 1.0).
 *  3. Envelope: one time-varying differential MLSA filter (Imai 1983; the
 *     MLSA filter and freqt are reentrant ports of SPTK's) whose per-frame
 *     mel-cepstrum is (a) target class mean - source class mean, c0 = 0
 *     (level is step 4), response limited to -18..+12 dB, smoothed over 25
 *     ms across class changes -- the mean mel-cepstral transfer of the
 *     prototype in shared/notes/engine.md, the step that lets a speaker-ID
 *     find the speaker -- plus (b) where step 1 resampled, log E(w) -
 *     log E(w / rho) from the frame's own source envelope E: a
 *     formant-preserving pitch shift (without it, pocketsphinx's WER on
 *     flite rose from 5 % to 13-22 % for +-10 % shifts).
 * 3b. Long-term spectrum and brightness (brightness.c): one static filter,
 *     an equaliser from the difference of the mean dB spectra over speech
 *     frames (1/24-octave smooth, +-12 dB) times a tilt that brings the
 *     mean spectral centroid (librosa framing, all frames) to the
 *     reference's: step 3's limited, smooth mel-cepstral transfer left the
 *     output 20-80 % brighter than the reference and its voiceprint nearest
 *     its own speaker in 60 % of cases (72 % after this step).
 *  4. Output: soxr HQ resampling to the requested rate, active-speech level
 *     (mean power of the 20 ms frames within 40 dB of the loudest) matched
 *     to the reference's, a look-ahead peak limiter at -0.3 dBFS, NaN guard.
 *
 * Determinism and threads: no threads inside (pYIN with n_threads = 1, soxr
 * with one thread), no clock, no static state; the only randomness is an
 * xorshift64* generator seeded from the caller's seed via splitmix64, used
 * only when temperature > 0.1.  Same input + same seed -> same bytes.
 * Reentrant: any number of conversions may run at once.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <soxr.h>

#include "analysis/metrics_internal.h"
#include "core/error.h"
#include "tts/brightness.h"
#include "tts/convert_dsp.h"
#include "tts/tts_internal.h"

#ifndef M_PI
#define M_PI 3.14159265358979323846
#endif

/* Tuning constants (the #ifndef ones may be overridden with -D by
 * evaluation builds; the library uses these values). */
#ifndef SEL_DB
#define SEL_DB 25.0           /* envelope statistics: frames within this of the loudest */
#endif
#define LEVEL_GATE_DB 40.0    /* level: 20 ms frames within this of the loudest */
#define MIN_CLASS_FRAMES 20   /* per class, for an envelope transfer (100 ms) */
#ifndef SKIP_SEMITONES
#define SKIP_SEMITONES 1.0    /* F0 mean error below which F0 is left alone */
#endif
#define SKIP_RANGE 0.10       /* |g - 1| below which the range is left alone */
#ifndef ENV_LO_DB
#define ENV_LO_DB (-18.0)     /* limits of the differential filter's response */
#endif
#ifndef ENV_HI_DB
#define ENV_HI_DB 12.0
#endif
#ifndef VAR_WEIGHT
#define VAR_WEIGHT 0.0        /* 0: mean transfer only; 1: full variance transfer */
#endif
#ifndef BRIGHTNESS_MATCH
#define BRIGHTNESS_MATCH 1    /* step 3b on (1) or off (0) */
#endif
#define LIMIT_PEAK 0.966      /* -0.3 dBFS */
#define UNWARP_LIM_DB 24.0    /* limit of the formant-preservation filter */
#define PYIN_HOP 512          /* vx_frames: frame i centred on sample i * 512 */
#define RATE_DEAD_ZONE 0.03   /* |log speed| below which the rate is left alone */
#define RATE_MIN 0.7          /* speaking-rate ratio limited to 0.7..1/0.7 */
#define RETRY_SEMITONES 0.3   /* F0 mean error after the first pass that earns a second */
#define MIN_RATE 8000
#define MAX_RATE 192000

struct vx__conv_stats {
    int has_pitch;
    double pitch_mean_hz, pitch_std_hz;
    vx_pitch_mode pitch_mode;
    double rate_syl_s; /* NaN when unknown */
    int has_level;
    double level_db;
    vx__brightness_ref bright; /* step 3b's targets */
    vx__cv_class_stats env;
};

void vx__pcm_free(vx__pcm *p)
{
    if (!p)
        return;
    free(p->x);
    p->x = NULL;
    p->n = 0;
}

/* ------------------------------------------------------------------------ */
/* helpers                                                                   */
/* ------------------------------------------------------------------------ */

static uint64_t splitmix64(uint64_t *s)
{
    uint64_t z = (*s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

typedef struct rng {
    uint64_t s;
} rng;

static double rng_uniform(rng *r) /* xorshift64* -> [0, 1) */
{
    uint64_t x = r->s;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    r->s = x;
    return (double)((x * 0x2545F4914F6CDD1Dull) >> 11) * (1.0 / 9007199254740992.0);
}

/* Active-speech level in dB: mean power of the 20 ms frames within
 * LEVEL_GATE_DB of the loudest.  *ok = 0 for silence. */
static double active_level_db(const double *x, size_t n, int rate_hz, int *ok)
{
    size_t hop = (size_t)(rate_hz / 50), nf, i, j, cnt = 0;
    double maxe = 0.0, sum = 0.0, *e;
    *ok = 0;
    if (hop == 0)
        return -200.0;
    nf = n / hop;
    if (nf == 0) {
        nf = 1;
        hop = n;
    }
    if (hop == 0)
        return -200.0;
    e = malloc(nf * sizeof *e);
    if (!e)
        return -200.0;
    for (i = 0; i < nf; i++) {
        double s = 0.0;
        for (j = 0; j < hop; j++)
            s += x[i * hop + j] * x[i * hop + j];
        e[i] = s / (double)hop;
        if (e[i] > maxe)
            maxe = e[i];
    }
    if (maxe > 1e-14) {
        const double gate = maxe * pow(10.0, -LEVEL_GATE_DB / 10.0);
        for (i = 0; i < nf; i++)
            if (e[i] >= gate) {
                sum += e[i];
                cnt++;
            }
    }
    free(e);
    if (cnt == 0)
        return -200.0;
    *ok = 1;
    return 10.0 * log10(sum / (double)cnt);
}

/* soxr HQ, one thread: in (float) -> out (double), ceil(n * out / in) samples */
static int resample_to(const float *x, size_t n, int in_rate, int out_rate, double **y,
                       size_t *ny, vx_error *err)
{
    size_t m = (size_t)ceil((double)n * (double)out_rate / (double)in_rate), i;
    double *o = calloc(m ? m : 1, sizeof *o);
    *y = NULL;
    *ny = 0;
    if (!o)
        return vx__error_set(err, VX_ENOMEM, "convert: out of memory");
    if (in_rate == out_rate) {
        for (i = 0; i < n; i++)
            o[i] = x[i];
    } else if (n > 0) {
        soxr_io_spec_t io = soxr_io_spec(SOXR_FLOAT32_I, SOXR_FLOAT64_I);
        soxr_quality_spec_t q = soxr_quality_spec(SOXR_HQ, 0);
        soxr_runtime_spec_t rt = soxr_runtime_spec(1);
        size_t done = 0;
        soxr_error_t e = soxr_oneshot((double)in_rate, (double)out_rate, 1, x, n, NULL, o, m,
                                      &done, &io, &q, &rt);
        if (e) {
            free(o);
            return vx__error_set(err, VX_EINTERNAL, "convert: resampler failed: %s", e);
        }
    }
    *y = o;
    *ny = m;
    return VX_OK;
}

static int resample_d(const double *x, size_t n, int in_rate, int out_rate, double **y,
                      size_t *ny, vx_error *err)
{
    size_t m = (size_t)ceil((double)n * (double)out_rate / (double)in_rate);
    double *o = calloc(m ? m : 1, sizeof *o);
    *y = NULL;
    *ny = 0;
    if (!o)
        return vx__error_set(err, VX_ENOMEM, "convert: out of memory");
    if (in_rate == out_rate) {
        memcpy(o, x, n * sizeof *o);
    } else if (n > 0) {
        soxr_io_spec_t io = soxr_io_spec(SOXR_FLOAT64_I, SOXR_FLOAT64_I);
        soxr_quality_spec_t q = soxr_quality_spec(SOXR_HQ, 0);
        soxr_runtime_spec_t rt = soxr_runtime_spec(1);
        size_t done = 0;
        soxr_error_t e = soxr_oneshot((double)in_rate, (double)out_rate, 1, x, n, NULL, o, m,
                                      &done, &io, &q, &rt);
        if (e) {
            free(o);
            return vx__error_set(err, VX_EINTERNAL, "convert: resampler failed: %s", e);
        }
    }
    *y = o;
    *ny = m;
    return VX_OK;
}

/* pYIN of a 22050 Hz double signal, frames kept, one thread. */
static int pitch_analysis(const double *x, size_t n, vx_pitch_mode mode, vx_analysis **out,
                          vx_error *err)
{
    vx_analysis_opts o;
    float *f = malloc((n ? n : 1) * sizeof *f);
    size_t i;
    int rc;
    *out = NULL;
    if (!f)
        return vx__error_set(err, VX_ENOMEM, "convert: out of memory");
    for (i = 0; i < n; i++)
        f[i] = (float)x[i];
    vx_analysis_opts_init(&o);
    o.keep_frames = 1;
    o.n_threads = 1;
    o.pitch_mode = mode;
    rc = vx_analyze_samples(f, n, VX__CV_RATE, &o, out, err);
    free(f);
    return rc;
}

/* syllable nuclei per second from an analysis with frames; NaN if unknown */
static double speaking_rate(const double *x, size_t n, const vx_analysis *a)
{
    vx__frame_data fd;
    float *f;
    double r = NAN;
    size_t i;
    if (!a || !a->frames || a->frames->n == 0 || n == 0)
        return NAN;
    f = malloc(n * sizeof *f);
    if (!f)
        return NAN;
    for (i = 0; i < n; i++)
        f[i] = (float)x[i];
    memset(&fd, 0, sizeof fd);
    fd.n_frames = a->frames->n;
    fd.f0_hz = a->frames->f0_hz;
    fd.voiced = a->frames->voiced_flag;
    fd.voiced_prob = a->frames->voiced_prob;
    fd.centroid_hz = a->frames->centroid_hz;
    if (vx__speaking_rate(f, n, (double)VX__CV_RATE, &fd, &r) != VX_OK)
        r = NAN;
    free(f);
    return r;
}

/* log-F0 spread from a Hz mean and standard deviation (log-normal relation) */
static double log_spread(double mean_hz, double std_hz)
{
    if (!(mean_hz > 0.0) || !(std_hz >= 0.0))
        return 0.0;
    return sqrt(log(1.0 + (std_hz / mean_hz) * (std_hz / mean_hz)));
}

static int all_finite(const float *x, size_t n)
{
    size_t i;
    for (i = 0; i < n; i++)
        if (!isfinite(x[i]))
            return 0;
    return 1;
}

/* ------------------------------------------------------------------------ */
/* statistics of the reference                                               */
/* ------------------------------------------------------------------------ */

int vx__conv_stats_new(const float *x, size_t n, int rate_hz, const vx_analysis *a,
                       vx__conv_stats **out, vx_error *err)
{
    vx__conv_stats *s;
    double *x22 = NULL;
    size_t n22 = 0;
    vx__cv_frames fr;
    vx_analysis *own = NULL;
    int rc;

    if (!x || n == 0 || !out)
        return vx__error_set(err, VX_EINVAL, "converter statistics: %s",
                             !out ? "output pointer is NULL" : "reference signal is empty");
    if (rate_hz < MIN_RATE || rate_hz > MAX_RATE)
        return vx__error_set(err, VX_EINVAL,
                             "converter statistics: rate %d Hz is outside %d..%d", rate_hz,
                             MIN_RATE, MAX_RATE);
    if (!all_finite(x, n))
        return vx__error_set(err, VX_EINVAL, "converter statistics: reference has NaN/Inf");
    s = calloc(1, sizeof *s);
    if (!s)
        return vx__error_set(err, VX_ENOMEM, "converter statistics: out of memory");
    rc = resample_to(x, n, rate_hz, VX__CV_RATE, &x22, &n22, err);
    if (rc != VX_OK) {
        free(s);
        return rc;
    }
    /* pYIN with frames: the F0 track of the envelope analysis (and the
     * speaking rate when the analysis given has no metrics) */
    rc = pitch_analysis(x22, n22, a ? a->pitch_mode : VX_PITCH_LIBROSA, &own, err);
    if (rc != VX_OK) {
        free(x22);
        free(s);
        return rc;
    }
    s->rate_syl_s = NAN;
    if (a && a->has_metrics && isfinite(a->metrics.speaking_rate_syl_s))
        s->rate_syl_s = a->metrics.speaking_rate_syl_s;
    else
        s->rate_syl_s = speaking_rate(x22, n22, own);
    if (!a)
        a = own;
    s->pitch_mode = a->pitch_mode;
    s->has_pitch = a->n_voiced > 0 && a->pitch_mean_hz > 0.0;
    s->pitch_mean_hz = a->pitch_mean_hz;
    s->pitch_std_hz = a->pitch_std_hz;

    s->level_db = active_level_db(x22, n22, VX__CV_RATE, &s->has_level);
    if (vx__brightness_ref_compute(x22, n22, a->centroid_mean_hz, &s->bright) != VX_OK) {
        vx_analysis_free(own);
        free(x22);
        free(s);
        return vx__error_set(err, VX_ENOMEM, "converter statistics: out of memory");
    }
    rc = vx__cv_analyze(x22, n22, own->frames ? own->frames->f0_hz : NULL,
                        own->frames ? own->frames->n : 0, PYIN_HOP, &fr);
    vx_analysis_free(own);
    free(x22);
    if (rc != VX_OK) {
        free(s);
        return vx__error_set(err, VX_ENOMEM, "converter statistics: out of memory");
    }
    vx__cv_class_stats_compute(&fr, SEL_DB, &s->env);
    vx__cv_frames_free(&fr);
    *out = s;
    return VX_OK;
}

void vx__conv_stats_free(vx__conv_stats *s)
{
    free(s);
}

/* ------------------------------------------------------------------------ */
/* conversion                                                                */
/* ------------------------------------------------------------------------ */

static int cmp_double(const void *a, const void *b)
{
    const double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* 5th percentile of v (every 64th value); 1 when n == 0 or out of memory */
static double low_percentile(const double *v, size_t n)
{
    const size_t m = (n + 63) / 64;
    double *t, r;
    size_t i;
    if (m == 0)
        return 1.0;
    t = malloc(m * sizeof *t);
    if (!t)
        return 1.0;
    for (i = 0; i < m; i++)
        t[i] = v[i * 64];
    qsort(t, m, sizeof *t, cmp_double);
    r = t[(size_t)(0.05 * (double)(m - 1))];
    free(t);
    return r;
}

/* A slow random contour: sum of three sinusoids (frequencies in [flo, fhi]
 * Hz, random phases), unit RMS. */
typedef struct wander {
    double f[3], ph[3];
} wander;

static void wander_init(wander *w, rng *r, double flo, double fhi)
{
    int k;
    for (k = 0; k < 3; k++) {
        w->f[k] = flo + (fhi - flo) * rng_uniform(r);
        w->ph[k] = 2.0 * M_PI * rng_uniform(r);
    }
}

static double wander_at(const wander *w, double t)
{
    double s = 0.0;
    int k;
    for (k = 0; k < 3; k++)
        s += sin(2.0 * M_PI * w->f[k] * t + w->ph[k]);
    return s * sqrt(2.0 / 3.0);
}

/* Per-sample pitch ratio (rho, length n) and speed (length n).  Returns -1
 * on ENOMEM, else PLAN_ACTIVE when either is not identically 1, plus
 * PLAN_F0 when the F0 mean/range correction is on. */
#define PLAN_ACTIVE 1
#define PLAN_F0 2
static int plan_prosody(const vx_analysis *syn, const vx__conv_stats *t, const vx_settings *s,
                        uint64_t seed, size_t n, double speed0, double *rho, double *speed)
{
    const vx_frames *fr = syn->frames;
    const double amp = (s->temperature - 0.1) / 0.9; /* 0 at the minimum */
    const double jit_st = 0.5 * amp, jit_tempo = 0.04 * amp;
    double k = 1.0, g = 1.0, *lr = NULL;
    int f0_active = 0, active = 0;
    size_t i, nfr = fr ? fr->n : 0;
    wander wf, wt;
    uint64_t sm = seed ^ 0x766F78636C6F6E65ull; /* "voxclone" */
    rng r;

    r.s = splitmix64(&sm);
    if (r.s == 0)
        r.s = 1;
    wander_init(&wf, &r, 0.4, 2.5);
    wander_init(&wt, &r, 0.15, 0.8);

    if (t->has_pitch && syn->n_voiced >= 3 && syn->pitch_mean_hz > 0.0 && nfr > 0) {
        const double st = log_spread(t->pitch_mean_hz, t->pitch_std_hz);
        const double ss = log_spread(syn->pitch_mean_hz, syn->pitch_std_hz);
        const double err_st = 12.0 * log2(t->pitch_mean_hz / syn->pitch_mean_hz);
        /* spread ratio limited to 0.5..2: pYIN's octave errors in natural
         * speech inflate the reference spread */
        g = ss > 1e-3 ? st / ss : 1.0;
        if (g < 0.5)
            g = 0.5;
        if (g > 2.0)
            g = 2.0;
        g *= 0.5 + s->exaggeration;
        f0_active = fabs(err_st) >= SKIP_SEMITONES || fabs(g - 1.0) >= SKIP_RANGE;
    }
    lr = malloc((nfr ? nfr : 1) * sizeof *lr);
    if (!lr)
        return -1;
    for (i = 0; i < nfr; i++)
        lr[i] = NAN;
    if (f0_active) {
        /* per voiced frame log ratio, range first, then the mean */
        double sum = 0.0;
        size_t nv = 0;
        for (i = 0; i < nfr; i++) {
            double f = fr->f0_hz[i], rel;
            if (!fr->voiced_flag[i] || !(f > 0.0))
                continue;
            rel = f / syn->pitch_mean_hz;
            if (rel < 0.5)
                rel = 0.5;
            if (rel > 2.0)
                rel = 2.0;
            lr[i] = (g - 1.0) * log(rel);
            sum += f * exp(lr[i]);
            nv++;
        }
        if (nv > 0 && sum > 0.0)
            k = t->pitch_mean_hz / (sum / (double)nv);
        for (i = 0; i < nfr; i++)
            if (!isnan(lr[i]))
                lr[i] += log(k);
        /* unvoiced frames: linear between voiced neighbours, held at ends */
        {
            long last = -1;
            for (i = 0; i < nfr; i++) {
                if (isnan(lr[i]))
                    continue;
                if (last < 0) {
                    size_t j;
                    for (j = 0; j < i; j++)
                        lr[j] = lr[i];
                } else {
                    size_t j;
                    for (j = (size_t)last + 1; j < i; j++)
                        lr[j] = lr[last] + (lr[i] - lr[last]) * (double)(j - (size_t)last) /
                                               (double)(i - (size_t)last);
                }
                last = (long)i;
            }
            if (last >= 0)
                for (i = (size_t)last + 1; i < nfr; i++)
                    lr[i] = lr[last];
            else
                for (i = 0; i < nfr; i++)
                    lr[i] = 0.0; /* no usable voiced frame: no change */
        }
        active = 1;
    } else {
        for (i = 0; i < nfr; i++)
            lr[i] = 0.0;
    }
    if (amp > 0.0)
        active = 1;
    if (speed0 != 1.0)
        active = 1;
    /* per sample: interpolate the frame log ratios (frame i at sample
     * i*512), add the wander, then smooth over 20 ms */
    for (i = 0; i < n; i++) {
        double v = 0.0, fi = (double)i / 512.0;
        if (nfr > 0) {
            size_t i0 = (size_t)fi;
            if (i0 >= nfr - 1)
                v = lr[nfr - 1];
            else
                v = lr[i0] + (lr[i0 + 1] - lr[i0]) * (fi - (double)i0);
        }
        rho[i] = v;
        speed[i] = speed0;
    }
    if (amp > 0.0) {
        /* the wanders, evaluated every 32 samples and interpolated */
        double a0 = 0.0, b0 = 0.0, a1 = 0.0, b1 = 0.0;
        for (i = 0; i < n; i++) {
            double fr32;
            if (i % 32 == 0) {
                a0 = wander_at(&wf, (double)i / VX__CV_RATE);
                b0 = wander_at(&wt, (double)i / VX__CV_RATE);
                a1 = wander_at(&wf, (double)(i + 32) / VX__CV_RATE);
                b1 = wander_at(&wt, (double)(i + 32) / VX__CV_RATE);
            }
            fr32 = (double)(i % 32) / 32.0;
            rho[i] += jit_st * (a0 + (a1 - a0) * fr32) * log(2.0) / 12.0;
            speed[i] *= exp(jit_tempo * (b0 + (b1 - b0) * fr32));
        }
    }
    free(lr);
    if (!active)
        return 0;
    {
        /* 20 ms moving average of the log ratio (running sum, in place via
         * a copy of the window) */
        const size_t W = 441;
        double *tmp = malloc((n + 1) * sizeof *tmp);
        if (!tmp)
            return -1;
        tmp[0] = 0.0;
        for (i = 0; i < n; i++)
            tmp[i + 1] = tmp[i] + rho[i];
        for (i = 0; i < n; i++) {
            size_t lo = i >= W / 2 ? i - W / 2 : 0, hi = i + W / 2 + 1;
            double v;
            if (hi > n)
                hi = n;
            v = exp((tmp[hi] - tmp[lo]) / (double)(hi - lo));
            if (v < 0.5)
                v = 0.5;
            if (v > 2.0)
                v = 2.0;
            rho[i] = v;
        }
        free(tmp);
    }
    return PLAN_ACTIVE | (f0_active ? PLAN_F0 : 0);
}

/* Differential MLSA filter on z (nz samples): toward the target class means
 * (class statistics src of the unmodified synthetic signal, analysed in
 * frx), plus, when the prosody step resampled by rho, the per-frame filter
 * that puts the original envelope back (formant preservation).  Output
 * sample q of z sits at original position P(q), dP/dq = speed (rho, speed
 * per original sample, NULL when the prosody step did nothing). */
static int envelope_transfer(double *z, size_t nz, const vx__cv_frames *frx,
                             const vx__cv_class_stats *src, const vx__conv_stats *t,
                             double fmax_hz, const double *rho, const double *speed,
                             size_t n_orig, double unwarp_fmax_hz)
{
    double diff[2][VX__CV_DIM], *d = NULL, *sm = NULL, *Pf = NULL;
    const size_t nf = nz / VX__CV_HOP + 1;
    int cl, k, any = 0, diff_ok[2];
    size_t i;
    for (cl = 0; cl < 2; cl++) {
        int ok = src->count[cl] >= MIN_CLASS_FRAMES && t->env.count[cl] >= MIN_CLASS_FRAMES;
        diff_ok[cl] = ok;
        for (k = 0; k < VX__CV_DIM; k++)
            diff[cl][k] = ok ? t->env.mean[cl][k] - src->mean[cl][k] : 0.0;
        diff[cl][0] = 0.0;
        if (ok) {
            vx__cv_limit_response(diff[cl], ENV_LO_DB, ENV_HI_DB, fmax_hz);
            diff[cl][0] = 0.0;
            any = 1;
        }
    }
    if (!any && !rho)
        return VX_OK;
    d = malloc(nf * VX__CV_DIM * sizeof *d);
    sm = malloc(nf * VX__CV_DIM * sizeof *sm);
    Pf = malloc(nf * sizeof *Pf);
    if (!d || !sm || !Pf) {
        free(d);
        free(sm);
        free(Pf);
        return VX_ENOMEM;
    }
    /* original position of every output frame */
    if (speed) {
        double Q = 0.0;
        size_t p = 0;
        for (i = 0; i < nf; i++) {
            const double q = (double)(i * VX__CV_HOP);
            while (p < n_orig && Q + 1.0 / speed[p] <= q) {
                Q += 1.0 / speed[p];
                p++;
            }
            Pf[i] = p < n_orig ? (double)p + (q - Q) * speed[p] : (double)n_orig;
        }
    } else {
        for (i = 0; i < nf; i++)
            Pf[i] = (double)(i * VX__CV_HOP);
    }
    for (i = 0; i < nf; i++) {
        size_t fo = (size_t)(Pf[i] / VX__CV_HOP + 0.5);
        int c;
        if (fo >= frx->n)
            fo = frx->n - 1;
        c = frx->voiced[fo] ? 1 : 0;
        memcpy(d + i * VX__CV_DIM, diff[c], sizeof diff[0]);
        if (VAR_WEIGHT > 0.0 && diff_ok[c]) {
            /* variance normalisation of the frame's deviation from its
             * class mean: (sigma_t / sigma_s - 1) * (c - mu_s), ratio
             * limited to 0.5..2 */
            for (k = 1; k < VX__CV_DIM; k++) {
                double r = src->std[c][k] > 1e-9 ? t->env.std[c][k] / src->std[c][k] : 1.0;
                if (r < 0.5)
                    r = 0.5;
                if (r > 2.0)
                    r = 2.0;
                d[i * VX__CV_DIM + k] +=
                    VAR_WEIGHT * (r - 1.0) * (frx->mc[fo * VX__CV_DIM + k] - src->mean[c][k]);
            }
        }
    }
    /* 5-frame (25 ms) moving average across class changes */
    for (i = 0; i < nf; i++) {
        size_t lo = i >= 2 ? i - 2 : 0, hi = i + 2 < nf ? i + 2 : nf - 1, j;
        for (k = 0; k < VX__CV_DIM; k++) {
            double acc = 0.0;
            for (j = lo; j <= hi; j++)
                acc += d[j * VX__CV_DIM + k];
            sm[i * VX__CV_DIM + k] = acc / (double)(hi - lo + 1);
        }
    }
    /* formant preservation: undo the resampling's frequency scaling */
    if (rho) {
        double c[VX__CV_DIM], u[VX__CV_DIM];
        for (i = 0; i < nf; i++) {
            const double fp = Pf[i] / VX__CV_HOP;
            size_t f0 = (size_t)fp, ip = (size_t)Pf[i];
            double fr = fp - (double)f0, r;
            if (f0 + 1 >= frx->n) {
                f0 = frx->n - 1;
                fr = 0.0;
            }
            if (ip >= n_orig)
                ip = n_orig - 1;
            r = rho[ip];
            if (fabs(r - 1.0) < 1e-3)
                continue;
            for (k = 0; k < VX__CV_DIM; k++) {
                const double a = frx->mc[f0 * VX__CV_DIM + k];
                const double b = f0 + 1 < frx->n ? frx->mc[(f0 + 1) * VX__CV_DIM + k] : a;
                c[k] = a + (b - a) * fr;
            }
            vx__cv_unwarp_filter(c, r, UNWARP_LIM_DB, unwarp_fmax_hz, u);
            for (k = 0; k < VX__CV_DIM; k++)
                sm[i * VX__CV_DIM + k] += u[k];
        }
    }
    free(d);
    free(Pf);
    k = vx__cv_mlsa_filter(z, nz, sm, nf);
    free(sm);
    return k;
}

/* Look-ahead peak limiter: gain <= LIMIT_PEAK / |x| around every peak,
 * min-filtered then averaged over +/- W samples (the average of minima over
 * windows that all contain a sample never exceeds that sample's need). */
static int limit_peaks(double *x, size_t n, int rate_hz)
{
    const size_t W = (size_t)(rate_hz / 400) + 1; /* 2.5 ms */
    double *g, *m, *c, peak = 0.0;
    size_t i, j;
    for (i = 0; i < n; i++)
        if (fabs(x[i]) > peak)
            peak = fabs(x[i]);
    if (peak <= LIMIT_PEAK)
        return VX_OK;
    g = malloc(n * sizeof *g);
    m = malloc(n * sizeof *m);
    c = malloc((n + 1) * sizeof *c);
    if (!g || !m || !c) {
        free(g);
        free(m);
        free(c);
        return VX_ENOMEM;
    }
    for (i = 0; i < n; i++) {
        const double a = fabs(x[i]);
        g[i] = a > LIMIT_PEAK ? LIMIT_PEAK / a : 1.0;
    }
    /* running minimum over [i-W, i+W]: only needed where g < 1; a plain scan
     * that skips stretches of 1 */
    for (i = 0; i < n; i++)
        m[i] = 1.0;
    for (i = 0; i < n; i++) {
        if (g[i] < 1.0) {
            size_t lo = i >= W ? i - W : 0, hi = i + W < n ? i + W : n - 1;
            for (j = lo; j <= hi; j++)
                if (g[i] < m[j])
                    m[j] = g[i];
        }
    }
    c[0] = 0.0;
    for (i = 0; i < n; i++)
        c[i + 1] = c[i] + m[i];
    for (i = 0; i < n; i++) {
        size_t lo = i >= W ? i - W : 0, hi = i + W + 1 < n ? i + W + 1 : n;
        double gi;
        /* windows cut by the signal ends count the missing part as 1 */
        gi = (c[hi] - c[lo] + (double)(2 * W + 1 - (hi - lo))) / (double)(2 * W + 1);
        x[i] *= gi < g[i] ? gi : g[i];
    }
    free(g);
    free(m);
    free(c);
    return VX_OK;
}

/* Steps 1-3b on the 22050 Hz synthetic signal x: with rho and speed (the
 * prosody plan), variable-rate resampling, WSOLA and the band fill; then
 * the envelope transfer (with formant preservation where rho moved) and the
 * brightness filter.  *z (malloc'd, *nz samples) is the result; x is kept.
 * *xw / *nxw cache the band fill's time-scaled original between passes
 * (NULL / 0 at first; the caller frees *xw). */
static int render(const double *x, size_t n, int in_rate_hz, const double *rho,
                  const double *speed, const vx__cv_frames *frx, const vx__cv_class_stats *src,
                  const vx__conv_stats *target, double **xw, size_t *nxw, double **z_out,
                  size_t *nz_out, vx_error *err)
{
    double *y = NULL, *pos = NULL, *z = NULL, fill_hz = 0.5 * VX__CV_RATE + 1000.0;
    size_t ny = 0, nz = 0, i;
    int rc = VX_OK;
    *z_out = NULL;
    *nz_out = 0;
    if (rho) {
        rc = vx__cv_vr_resample(x, n, rho, &y, &pos, &ny);
        if (rc == VX_OK)
            rc = vx__cv_wsola(y, ny, pos, n, speed, &z, &nz);
        free(y);
        free(pos);
        if (rc != VX_OK)
            goto oom;
        /* a lowered pitch leaves the band above rho * B empty (B: the
         * input's bandwidth): refill it from the original, time-scaled by
         * the same speed map but not resampled */
        {
            const double band = 0.97 * (in_rate_hz < VX__CV_RATE ? 0.5 * in_rate_hz
                                                                  : 0.5 * VX__CV_RATE);
            const double r5 = low_percentile(rho, n);
            if (r5 < 0.97 && !*xw) {
                /* the original time-scaled: depends on x and speed only, so
                 * a second pass reuses it */
                double *pid = malloc(n * sizeof *pid);
                if (!pid)
                    goto oom;
                for (i = 0; i < n; i++)
                    pid[i] = (double)i;
                rc = vx__cv_wsola(x, n, pid, n, speed, xw, nxw);
                free(pid);
                if (rc != VX_OK)
                    goto oom;
            }
            if (r5 < 0.97 && *nxw == nz) {
                fill_hz = 0.95 * r5 * band;
                if (vx__cv_band_fill(z, *xw, nz, fill_hz) != VX_OK)
                    goto oom;
            }
        }
    } else {
        z = malloc((n ? n : 1) * sizeof *z);
        if (!z)
            goto oom;
        memcpy(z, x, n * sizeof *z);
        nz = n;
    }
    /* 3: envelope (and formant preservation) */
    if (envelope_transfer(z, nz, frx, src, target, 0.5 * in_rate_hz, rho, speed, n, fill_hz) !=
        VX_OK)
        goto oom;
    /* 3b: long-term spectrum and brightness (brightness.c) */
    if (BRIGHTNESS_MATCH) {
        vx__brightness_filter bf;
        if (vx__brightness_plan(z, nz, &target->bright, &bf, NULL) != VX_OK ||
            vx__brightness_apply(z, nz, &bf) != VX_OK)
            goto oom;
    }
    *z_out = z;
    *nz_out = nz;
    return VX_OK;
oom:
    free(z);
    return vx__error_set(err, VX_ENOMEM, "convert: out of memory");
}

int vx__convert(const vx__pcm *in, const vx__conv_stats *target, const vx_settings *s,
                uint64_t seed, int out_rate_hz, vx__pcm *out, vx_error *err)
{
    double *x = NULL, *rho = NULL, *speed = NULL, *z = NULL, *xw = NULL;
    double *o = NULL;
    size_t n = 0, nz = 0, no = 0, nxw = 0, i;
    vx_analysis *syn = NULL;
    vx__cv_frames frx;
    vx__cv_class_stats src;
    double speed0 = 1.0, lvl, gain = 1.0;
    float *res = NULL;
    int rc, ok = 0, act;

    if (!in || !target || !s || !out)
        return vx__error_set(err, VX_EINVAL, "convert: %s is NULL",
                             !in ? "input" : !target ? "target statistics"
                                           : !s     ? "settings"
                                                    : "output");
    if (!in->x || in->n == 0)
        return vx__error_set(err, VX_EINVAL, "convert: input has no samples");
    if (in->rate_hz < MIN_RATE || in->rate_hz > MAX_RATE)
        return vx__error_set(err, VX_EINVAL, "convert: input rate %d Hz is outside %d..%d",
                             in->rate_hz, MIN_RATE, MAX_RATE);
    if (out_rate_hz < MIN_RATE || out_rate_hz > MAX_RATE)
        return vx__error_set(err, VX_EINVAL, "convert: output rate %d Hz is outside %d..%d",
                             out_rate_hz, MIN_RATE, MAX_RATE);
    rc = vx_settings_validate(s, err);
    if (rc != VX_OK)
        return rc;
    if (!all_finite(in->x, in->n))
        return vx__error_set(err, VX_EINVAL, "convert: input has NaN/Inf samples");

    memset(&frx, 0, sizeof frx);
    rc = resample_to(in->x, in->n, in->rate_hz, VX__CV_RATE, &x, &n, err);
    if (rc != VX_OK)
        return rc;

    /* the unmodified synthetic speech: pYIN, envelope frames and class
     * statistics */
    rc = pitch_analysis(x, n, target->pitch_mode, &syn, err);
    if (rc != VX_OK)
        goto fail;
    if (vx__cv_analyze(x, n, syn->frames ? syn->frames->f0_hz : NULL,
                       syn->frames ? syn->frames->n : 0, PYIN_HOP, &frx) != VX_OK) {
        rc = vx__error_set(err, VX_ENOMEM, "convert: out of memory");
        goto fail;
    }
    vx__cv_class_stats_compute(&frx, SEL_DB, &src);

    /* 1-2: prosody (pitch, timing) */
    if (s->cfg_weight > 0.0 && isfinite(target->rate_syl_s) && target->rate_syl_s > 0.0) {
        const double sr = speaking_rate(x, n, syn);
        if (isfinite(sr) && sr > 0.0) {
            double ratio = target->rate_syl_s / sr;
            if (ratio < RATE_MIN)
                ratio = RATE_MIN;
            if (ratio > 1.0 / RATE_MIN)
                ratio = 1.0 / RATE_MIN;
            speed0 = pow(ratio, s->cfg_weight);
            if (fabs(log(speed0)) < RATE_DEAD_ZONE)
                speed0 = 1.0; /* not worth a WSOLA pass */
        }
    }
    rho = malloc(n * sizeof *rho);
    speed = malloc(n * sizeof *speed);
    if (!rho || !speed) {
        rc = vx__error_set(err, VX_ENOMEM, "convert: out of memory");
        goto fail;
    }
    act = plan_prosody(syn, target, s, seed, n, speed0, rho, speed);
    vx_analysis_free(syn);
    syn = NULL;
    if (act < 0) {
        rc = vx__error_set(err, VX_ENOMEM, "convert: out of memory");
        goto fail;
    }
    if (act) {
        int pass;
        for (pass = 0; pass < 2; pass++) {
            double corr = 1.0;
            rc = render(x, n, in->rate_hz, rho, speed, &frx, &src, target, &xw, &nxw, &z, &nz,
                        err);
            if (rc != VX_OK)
                goto fail;
            if (pass > 0 || !(act & PLAN_F0))
                break;
            /* closed loop on the finished signal (steps 1-3b: the envelope
             * and brightness filters move pYIN's voicing decisions, by up
             * to 4 % in the mean at low F0): measure the pYIN mean once and,
             * when it misses the reference by more than RETRY_SEMITONES,
             * redo the whole pass with the contour moved by the miss */
            rc = pitch_analysis(z, nz, target->pitch_mode, &syn, err);
            if (rc != VX_OK)
                goto fail;
            if (syn->n_voiced >= 3 && syn->pitch_mean_hz > 0.0)
                corr = target->pitch_mean_hz / syn->pitch_mean_hz;
            vx_analysis_free(syn);
            syn = NULL;
            if (fabs(12.0 * log2(corr)) < RETRY_SEMITONES)
                break;
            for (i = 0; i < n; i++) {
                double v = rho[i] * corr;
                rho[i] = v < 0.5 ? 0.5 : v > 2.0 ? 2.0 : v;
            }
            free(z);
            z = NULL;
        }
    } else {
        rc = render(x, n, in->rate_hz, NULL, NULL, &frx, &src, target, &xw, &nxw, &z, &nz,
                    err);
        if (rc != VX_OK)
            goto fail;
    }
    vx__cv_frames_free(&frx);
    free(x);
    free(rho);
    free(speed);
    free(xw);
    x = rho = speed = xw = NULL;
    x = z;
    n = nz;
    z = NULL;

    /* 4: rate, level, peaks */
    rc = resample_d(x, n, VX__CV_RATE, out_rate_hz, &o, &no, err);
    if (rc != VX_OK)
        goto fail;
    free(x);
    x = NULL;
    lvl = active_level_db(o, no, out_rate_hz, &ok);
    if (ok && target->has_level) {
        gain = pow(10.0, (target->level_db - lvl) / 20.0);
        if (gain > 1000.0)
            gain = 1000.0;
    }
    for (i = 0; i < no; i++) {
        o[i] *= gain;
        if (!isfinite(o[i]))
            o[i] = 0.0;
    }
    if (limit_peaks(o, no, out_rate_hz) != VX_OK) {
        rc = vx__error_set(err, VX_ENOMEM, "convert: out of memory");
        goto fail;
    }
    res = malloc((no ? no : 1) * sizeof *res);
    if (!res) {
        rc = vx__error_set(err, VX_ENOMEM, "convert: out of memory");
        goto fail;
    }
    for (i = 0; i < no; i++) {
        double v = o[i];
        if (!(v >= -1.0))
            v = v < -1.0 ? -1.0 : 0.0;
        if (v > 1.0)
            v = 1.0;
        res[i] = (float)v;
    }
    free(o);
    out->x = res;
    out->n = no;
    out->rate_hz = out_rate_hz;
    return VX_OK;
fail:
    vx_analysis_free(syn);
    vx__cv_frames_free(&frx);
    free(x);
    free(rho);
    free(speed);
    free(xw);
    free(z);
    free(o);
    return rc;
}
