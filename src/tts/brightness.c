/*
 * brightness.c -- the converter's step 3b: a static equaliser and spectral
 * tilt that bring the output's long-term spectrum and mean spectral centroid
 * to the reference's.
 *
 * DESIGN: step 3 (the differential MLSA filter) moves the mel-cepstral class
 * means, but its response is limited to -18..+12 dB for intelligibility, an
 * order-24 mel-cepstrum is smooth, and CheapTrick envelopes are not what a
 * listener's or a speaker-ID model's spectrum is: measured on the 27
 * evaluation speakers (bench_clone_quality) converted speech was still
 * 20-80 % brighter than its reference and its voiceprint nearest to its own
 * speaker in 60 % of cases.  So after step 3 one static filter is applied:
 *   - the equaliser: the difference of the two mean dB spectra (86 Hz bands,
 *     n_fft 2048, hop 512, Hann; the mean of each band's dB over the speech
 *     frames, i.e. within SPEC_VAD_DB of the loudest frame -- the voiceprint's
 *     VAD), level removed (mean over 86 Hz..7.2 kHz), smoothed over
 *     +-EQ_SMOOTH_OCT octave, limited to +-EQ_LIM_DB, held constant outside
 *     86 Hz..7.2 kHz (the band every corpus has; above it 16 kHz references
 *     are empty, and the tilt below takes care of the centroid).  Measured:
 *     smoothing over 1/6, 1/12, 1/24 octave put the clone nearest its own
 *     speaker in 65, 69, 72 % of cases (tilt alone: 60 %); an equaliser from
 *     the mean *power* spectra, 1/3-octave-smooth, lowered it to 44-59 %:
 *     the mean of dB is what the voiceprint and MFCC average;
 *   - the tilt: the old service's similarity gives brightness (mean
 *     spectral centroid over all frames, librosa's framing) 30 % of its
 *     weight.  The output's magnitude spectra are summed per frame into the
 *     same bands as sum |X| and sum f |X|; the centroid after gains g_b is
 *     then sum_b g F_b / sum_b g S_b (exact when g is constant over a band),
 *     averaged over all frames, silent ones (centroid 0) included, as librosa
 *     does.  The tilt is w(f) = ((f + F_KNEE) / (F_PIVOT + F_KNEE)) ^
 *     (beta / 6.02), beta in dB per octave, its gain limited to
 *     GAIN_LO_DB..GAIN_HI_DB; the centroid is monotonic in beta, so
 *     bisection finds it (on top of the equaliser), limited to
 *     BETA_MIN..BETA_MAX; no tilt when within DEAD_ZONE of the target;
 *   - the filter is a zero-phase FIR (513 taps, Hann-windowed frequency
 *     sampling of the equaliser, interpolated between band centres, times
 *     the tilt) applied by FFT overlap-add, two real blocks per complex
 *     transform; the level is matched afterwards by step 4 anyway.
 * Memory: NBANDS * 3 floats per 23 ms frame; no allocation per frame.
 * Deterministic (no randomness, fixed arithmetic order).
 */
#include "tts/brightness.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "tts/convert_dsp.h"
#include "voxclone/voxclone.h"

#ifndef M_PI
#define M_PI 3.14159265358979323846
#endif

#define N_FFT 2048
#define HOP 512
#define N_BINS (N_FFT / 2 + 1)
#define NBANDS VX__BRIGHT_NBANDS
#define BAND_BINS 8        /* bins 0..1023 in 128 bands, bin 1024 joins the last */
#define F_PIVOT 1000.0     /* Hz: the tilt's 0 dB point */
#define F_KNEE 300.0       /* Hz: the tilt flattens below this */
#define GAIN_LO_DB (-40.0)
#define GAIN_HI_DB 15.0
#define BETA_MIN (-9.0)    /* dB per octave */
#define BETA_MAX 6.0
#define DEAD_ZONE 0.02     /* relative centroid error left alone */
#define SPEC_B0 1          /* bands 1..83 (86 Hz .. 7.2 kHz): the voiceprint's range */
#define SPEC_B1 84
#define SPEC_VAD_DB 30.0
#ifndef EQ_WEIGHT
#define EQ_WEIGHT 1.0      /* share of the difference applied (evaluation builds: -D) */
#endif
#define EQ_LIM_DB 12.0
#define EQ_SMOOTH_OCT (1.0 / 24.0)
#define FIR_HALF 256       /* taps -256..256 */
#define OLA_N 2048
#define OLA_BLOCK (OLA_N - 2 * FIR_HALF)

static double tilt_gain(double f_hz, double beta)
{
    double db = beta * log2((f_hz + F_KNEE) / (F_PIVOT + F_KNEE));
    if (db < GAIN_LO_DB)
        db = GAIN_LO_DB;
    if (db > GAIN_HI_DB)
        db = GAIN_HI_DB;
    return pow(10.0, db / 20.0);
}

/* Band sums of every frame: bands[t][b] = {sum |X|, sum f |X|}. */
static int band_sums(const double *x, size_t n, float **out, size_t *n_frames, double *spec_db)
{
    const size_t nf = 1 + n / HOP;
    vx__cv_fft plan;
    double *win = NULL, *buf = NULL, *re = NULL, *im = NULL, *work = NULL;
    float *bands = NULL, *pdb = NULL;
    double *fe = NULL;
    size_t t, k;
    int rc = VX_ENOMEM;
    if (vx__cv_fft_init(&plan, N_FFT / 2) != VX_OK)
        return VX_ENOMEM;
    win = malloc(N_FFT * sizeof *win);
    buf = malloc(N_FFT * sizeof *buf);
    re = malloc(N_BINS * sizeof *re);
    im = malloc(N_BINS * sizeof *im);
    work = malloc(N_FFT * sizeof *work);
    bands = malloc(nf * NBANDS * 2 * sizeof *bands);
    if (spec_db) {
        pdb = malloc(nf * NBANDS * sizeof *pdb);
        fe = malloc(nf * sizeof *fe);
    }
    if (!win || !buf || !re || !im || !work || !bands || (spec_db && (!pdb || !fe)))
        goto done;
    for (k = 0; k < N_FFT; k++)
        win[k] = 0.5 - 0.5 * cos(2.0 * M_PI * (double)k / N_FFT);
    for (t = 0; t < nf; t++) {
        const long start = (long)(t * HOP) - N_FFT / 2;
        float *bt = bands + t * NBANDS * 2;
        for (k = 0; k < N_FFT; k++) {
            const long i = start + (long)k;
            buf[k] = i >= 0 && (size_t)i < n ? win[k] * x[i] : 0.0;
        }
        vx__cv_rfft(&plan, buf, re, im, work);
        for (int b = 0; b < NBANDS; b++) {
            double s = 0.0, fs = 0.0, p = 0.0;
            const size_t k0 = (size_t)b * BAND_BINS;
            const size_t k1 = b == NBANDS - 1 ? N_BINS : k0 + BAND_BINS;
            for (k = k0; k < k1; k++) {
                const double p2 = re[k] * re[k] + im[k] * im[k], m = sqrt(p2);
                s += m;
                fs += m * (double)k * VX__CV_RATE / N_FFT;
                p += p2;
            }
            bt[2 * b] = (float)s;
            bt[2 * b + 1] = (float)fs;
            if (pdb)
                pdb[t * NBANDS + b] = (float)p;
        }
        if (pdb) {
            double e = 0.0;
            for (int b = SPEC_B0; b < SPEC_B1; b++)
                e += pdb[t * NBANDS + b];
            fe[t] = 10.0 * log10(e + 1e-20);
            for (int b = 0; b < NBANDS; b++)
                pdb[t * NBANDS + b] = (float)(10.0 * log10((double)pdb[t * NBANDS + b] + 1e-12));
        }
    }
    if (spec_db) {
        /* mean dB spectrum over the speech frames: within SPEC_VAD_DB of the
         * loudest frame (the voiceprint's VAD, src/analysis/voiceprint.c) */
        double loud = -1e300, acc[NBANDS] = {0};
        size_t used = 0;
        for (t = 0; t < nf; t++)
            loud = fe[t] > loud ? fe[t] : loud;
        for (t = 0; t < nf; t++) {
            if (fe[t] <= loud - SPEC_VAD_DB || fe[t] < -100.0)
                continue;
            for (int b = 0; b < NBANDS; b++)
                acc[b] += pdb[t * NBANDS + b];
            used++;
        }
        for (int b = 0; b < NBANDS; b++)
            spec_db[b] = used ? acc[b] / (double)used : 0.0;
    }
    *out = bands;
    *n_frames = nf;
    bands = NULL;
    rc = VX_OK;
done:
    vx__cv_fft_free(&plan);
    free(win);
    free(buf);
    free(re);
    free(im);
    free(work);
    free(bands);
    free(pdb);
    free(fe);
    return rc;
}

/* Mean centroid over all frames after the per-band gains g (linear). */
static double predicted_centroid(const float *bands, size_t nf, const double *g)
{
    double acc = 0.0;
    for (size_t t = 0; t < nf; t++) {
        const float *bt = bands + t * NBANDS * 2;
        double s = 0.0, fs = 0.0;
        for (int b = 0; b < NBANDS; b++) {
            s += g[b] * (double)bt[2 * b];
            fs += g[b] * (double)bt[2 * b + 1];
        }
        acc += s > 1e-20 ? fs / s : 0.0;
    }
    return nf ? acc / (double)nf : 0.0;
}

#define BAND_HZ (BAND_BINS * (double)VX__CV_RATE / N_FFT) /* 86.1 Hz */

static double band_hz(int b)
{
    return ((double)b + 0.5) * BAND_HZ;
}

/* per-band linear gains: the equaliser (dB) times the tilt beta */
static void band_gains(const double *eq_db, double beta, double *g)
{
    for (int b = 0; b < NBANDS; b++)
        g[b] = pow(10.0, eq_db[b] / 20.0) * tilt_gain(band_hz(b), beta);
}

int vx__brightness_ref_compute(const double *x, size_t n, double centroid_hz,
                               vx__brightness_ref *out)
{
    float *bands = NULL;
    size_t nf = 0;
    if (!x || !out)
        return VX_EINVAL;
    memset(out, 0, sizeof *out);
    out->centroid_hz = centroid_hz > 0.0 ? centroid_hz : 0.0;
    if (n == 0)
        return VX_OK;
    if (band_sums(x, n, &bands, &nf, out->spec_db) != VX_OK)
        return VX_ENOMEM;
    free(bands);
    out->has_spec = 1;
    return VX_OK;
}

static void make_eq(const double *ref_db, const double *out_db, double *eq)
{
    double raw[NBANDS], mean = 0.0;
    int b, nb = 0;
    for (b = 0; b < NBANDS; b++)
        raw[b] = ref_db[b] - out_db[b];
    for (b = SPEC_B0; b < SPEC_B1; b++) {
        mean += raw[b];
        nb++;
    }
    mean /= nb;
    for (b = 0; b < NBANDS; b++) {
        const int bb = b < SPEC_B0 ? SPEC_B0 : b >= SPEC_B1 ? SPEC_B1 - 1 : b;
        const double fc = band_hz(bb), lo = fc * pow(2.0, -EQ_SMOOTH_OCT),
                     hi = fc * pow(2.0, EQ_SMOOTH_OCT);
        double acc = 0.0;
        int cnt = 0;
        /* every band that overlaps the window (half a band of slack) */
        for (int j = SPEC_B0; j < SPEC_B1; j++)
            if (band_hz(j) >= lo - 0.5 * BAND_HZ && band_hz(j) <= hi + 0.5 * BAND_HZ) {
                acc += raw[j] - mean;
                cnt++;
            }
        double v = cnt ? acc / cnt : 0.0;
        v = v < -EQ_LIM_DB ? -EQ_LIM_DB : v > EQ_LIM_DB ? EQ_LIM_DB : v;
        eq[b] = EQ_WEIGHT * v;
    }
}

int vx__brightness_plan(const double *x, size_t n, const vx__brightness_ref *ref,
                        vx__brightness_filter *f, double *predicted_hz)
{
    float *bands = NULL;
    size_t nf = 0;
    double lo = BETA_MIN, hi = BETA_MAX, c0, g[NBANDS], spec[NBANDS];
    const double target_hz = ref ? ref->centroid_hz : 0.0;
    if (!x || !ref || !f)
        return VX_EINVAL;
    memset(f, 0, sizeof *f);
    if (predicted_hz)
        *predicted_hz = 0.0;
    if (n == 0)
        return VX_OK;
    if (band_sums(x, n, &bands, &nf, spec) != VX_OK)
        return VX_ENOMEM;
    if (ref->has_spec && EQ_WEIGHT > 0.0) {
        make_eq(ref->spec_db, spec, f->eq_db);
        f->active = 1;
    }
    band_gains(f->eq_db, 0.0, g);
    c0 = predicted_centroid(bands, nf, g);
    if (predicted_hz)
        *predicted_hz = c0;
    if (!(target_hz > 0.0) || !(c0 > 0.0) || fabs(c0 / target_hz - 1.0) < DEAD_ZONE) {
        free(bands);
        return VX_OK;
    }
    band_gains(f->eq_db, lo, g);
    if (predicted_centroid(bands, nf, g) >= target_hz)
        hi = lo; /* cannot get dark enough: the limit */
    band_gains(f->eq_db, hi, g);
    if (hi > lo && predicted_centroid(bands, nf, g) <= target_hz)
        lo = hi; /* cannot get bright enough */
    for (int it = 0; it < 30 && hi - lo > 1e-3; it++) {
        const double mid = 0.5 * (lo + hi);
        band_gains(f->eq_db, mid, g);
        if (predicted_centroid(bands, nf, g) < target_hz)
            lo = mid;
        else
            hi = mid;
    }
    f->beta_db_oct = 0.5 * (lo + hi);
    f->active = 1;
    if (predicted_hz) {
        band_gains(f->eq_db, f->beta_db_oct, g);
        *predicted_hz = predicted_centroid(bands, nf, g);
    }
    free(bands);
    return VX_OK;
}

/* the filter's gain at f_hz: the equaliser interpolated between band
 * centres, times the tilt */
static double filter_gain(const vx__brightness_filter *f, double f_hz)
{
    const double pos = f_hz / BAND_HZ - 0.5;
    double db;
    if (pos <= 0.0)
        db = f->eq_db[0];
    else if (pos >= NBANDS - 1)
        db = f->eq_db[NBANDS - 1];
    else {
        const int b0 = (int)pos;
        db = f->eq_db[b0] + (f->eq_db[b0 + 1] - f->eq_db[b0]) * (pos - b0);
    }
    return pow(10.0, db / 20.0) * tilt_gain(f_hz, f->beta_db_oct);
}

int vx__brightness_apply(double *x, size_t n, const vx__brightness_filter *f)
{
    vx__cv_fft plan;
    double *hk = NULL, *hr = NULL, *hi = NULL, *re = NULL, *im = NULL, *y = NULL;
    size_t k, pos;
    int rc = VX_ENOMEM;
    if (!x || !f)
        return VX_EINVAL;
    if (n == 0 || !f->active)
        return VX_OK;
    if (vx__cv_fft_init(&plan, OLA_N) != VX_OK)
        return VX_ENOMEM;
    hk = malloc(OLA_N * sizeof *hk);
    hr = malloc(OLA_N * sizeof *hr);
    hi = malloc(OLA_N * sizeof *hi);
    re = malloc(OLA_N * sizeof *re);
    im = malloc(OLA_N * sizeof *im);
    y = calloc(n + OLA_N, sizeof *y);
    if (!hk || !hr || !hi || !re || !im || !y)
        goto done;
    /* zero-phase impulse response: frequency sampling, then a Hann window
     * over -FIR_HALF..FIR_HALF, then its (real, even) spectrum */
    for (k = 0; k < OLA_N; k++) {
        const size_t kk = k <= OLA_N / 2 ? k : OLA_N - k;
        hr[k] = filter_gain(f, (double)kk * VX__CV_RATE / OLA_N);
        hi[k] = 0.0;
    }
    vx__cv_fft_run(&plan, hr, hi, 1);
    for (k = 0; k < OLA_N; k++) {
        const size_t d = k <= OLA_N / 2 ? k : OLA_N - k;
        const double w = d <= FIR_HALF ? 0.5 + 0.5 * cos(M_PI * (double)d / (FIR_HALF + 1)) : 0.0;
        hr[k] = hr[k] / OLA_N * w;
        hi[k] = 0.0;
    }
    vx__cv_fft_run(&plan, hr, hi, 0);
    for (k = 0; k < OLA_N; k++)
        hk[k] = hr[k] / OLA_N; /* real: h is even; 1/N of the inverse below */
    /* overlap-add: blocks of OLA_BLOCK samples at offset FIR_HALF of the
     * transform, two blocks per transform (real and imaginary parts) */
    for (pos = 0; pos < n; pos += 2 * OLA_BLOCK) {
        for (k = 0; k < OLA_N; k++)
            re[k] = im[k] = 0.0;
        for (k = 0; k < OLA_BLOCK && pos + k < n; k++)
            re[FIR_HALF + k] = x[pos + k];
        for (k = 0; k < OLA_BLOCK && pos + OLA_BLOCK + k < n; k++)
            im[FIR_HALF + k] = x[pos + OLA_BLOCK + k];
        vx__cv_fft_run(&plan, re, im, 0);
        for (k = 0; k < OLA_N; k++) {
            re[k] *= hk[k];
            im[k] *= hk[k];
        }
        vx__cv_fft_run(&plan, re, im, 1);
        /* output sample pos + j - FIR_HALF sits at transform index j */
        for (k = 0; k < OLA_N; k++) {
            const long a = (long)pos + (long)k - FIR_HALF;
            const long b = a + OLA_BLOCK;
            if (a >= 0 && (size_t)a < n)
                y[a] += re[k];
            if (b >= 0 && (size_t)b < n)
                y[b] += im[k];
        }
    }
    memcpy(x, y, n * sizeof *x);
    rc = VX_OK;
done:
    vx__cv_fft_free(&plan);
    free(hk);
    free(hr);
    free(hi);
    free(re);
    free(im);
    free(y);
    return rc;
}
