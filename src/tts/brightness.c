/*
 * brightness.c -- the converter's brightness match: a static spectral tilt
 * that brings the output's mean spectral centroid to the reference's.
 *
 * DESIGN: the old service's similarity gives brightness (mean spectral
 * centroid, librosa framing) 30 % of its weight, and a listener hears it as
 * part of the voice's colour (a dark close-talking microphone versus
 * espeak-ng's bright Klatt source).  The envelope transfer (step 3) matches
 * mel-cepstral class means, but its response is limited to -18..+12 dB for
 * intelligibility and a mel-cepstrum of order 24 weights the high band
 * lightly, while the centroid is a magnitude-weighted mean over linear
 * frequency: measured on the evaluation speakers the converted output was
 * still 20-80 % brighter than its reference (brightness term 0.82 against
 * 0.87 for two real recordings of the same person).  So after step 3 the
 * output's centroid is predicted for a family of tilts and the tilt that
 * hits the reference's mean is applied:
 *   - the output's magnitude spectra on librosa's grid (n_fft 2048, hop 512,
 *     periodic Hann, centred frames with zero padding) are summed into
 *     NBANDS bands per frame, as sum |X| and sum f |X|; the centroid of a
 *     tilted frame is then sum_b w(f_b) F_b / sum_b w(f_b) S_b (exact when w
 *     is constant over a band; bands are 86 Hz wide), averaged over all
 *     frames, silent ones (centroid 0) included, as librosa does;
 *   - the tilt is w(f) = ((f + F_KNEE) / (F_PIVOT + F_KNEE)) ^ (beta / 6.02),
 *     beta in dB per octave, its gain limited to GAIN_LO_DB..GAIN_HI_DB;
 *     the centroid is monotonic in beta, so bisection finds it; beta is
 *     limited to BETA_MIN..BETA_MAX (intelligibility first), and nothing is
 *     done when the prediction is already within DEAD_ZONE of the target;
 *   - it is applied as a zero-phase FIR (513 taps, Hann-windowed frequency
 *     sampling) by FFT overlap-add, two real blocks per complex transform;
 *     the level is matched afterwards by step 4 anyway.
 * No allocation per frame; memory is NBANDS * 2 floats per 23 ms frame.
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
#define NBANDS 128
#define BAND_BINS 8        /* bins 0..1023 in 128 bands, bin 1024 joins the last */
#define F_PIVOT 1000.0     /* Hz: the tilt's 0 dB point */
#define F_KNEE 300.0       /* Hz: the tilt flattens below this */
#define GAIN_LO_DB (-40.0)
#define GAIN_HI_DB 15.0
#define BETA_MIN (-9.0)    /* dB per octave */
#define BETA_MAX 6.0
#define DEAD_ZONE 0.02     /* relative centroid error left alone */
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
static int band_sums(const double *x, size_t n, float **out, size_t *n_frames)
{
    const size_t nf = 1 + n / HOP;
    vx__cv_fft plan;
    double *win = NULL, *buf = NULL, *re = NULL, *im = NULL, *work = NULL;
    float *bands = NULL;
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
    if (!win || !buf || !re || !im || !work || !bands)
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
            double s = 0.0, fs = 0.0;
            const size_t k0 = (size_t)b * BAND_BINS;
            const size_t k1 = b == NBANDS - 1 ? N_BINS : k0 + BAND_BINS;
            for (k = k0; k < k1; k++) {
                const double m = sqrt(re[k] * re[k] + im[k] * im[k]);
                s += m;
                fs += m * (double)k * VX__CV_RATE / N_FFT;
            }
            bt[2 * b] = (float)s;
            bt[2 * b + 1] = (float)fs;
        }
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

static double band_hz(int b)
{
    return ((double)b + 0.5) * BAND_BINS * VX__CV_RATE / N_FFT;
}

/* per-band linear gains of the tilt beta */
static void band_gains(double beta, double *g)
{
    for (int b = 0; b < NBANDS; b++)
        g[b] = tilt_gain(band_hz(b), beta);
}

int vx__brightness_plan(const double *x, size_t n, double target_hz, double *beta_db_oct,
                        double *predicted_hz)
{
    float *bands = NULL;
    size_t nf = 0;
    double lo = BETA_MIN, hi = BETA_MAX, c0, g[NBANDS];
    if (!x || !beta_db_oct)
        return VX_EINVAL;
    *beta_db_oct = 0.0;
    if (predicted_hz)
        *predicted_hz = 0.0;
    if (n == 0 || !(target_hz > 0.0))
        return VX_OK;
    if (band_sums(x, n, &bands, &nf) != VX_OK)
        return VX_ENOMEM;
    band_gains(0.0, g);
    c0 = predicted_centroid(bands, nf, g);
    if (predicted_hz)
        *predicted_hz = c0;
    if (!(c0 > 0.0) || fabs(c0 / target_hz - 1.0) < DEAD_ZONE) {
        free(bands);
        return VX_OK;
    }
    band_gains(lo, g);
    if (predicted_centroid(bands, nf, g) >= target_hz)
        hi = lo; /* cannot get dark enough: the limit */
    band_gains(hi, g);
    if (hi > lo && predicted_centroid(bands, nf, g) <= target_hz)
        lo = hi; /* cannot get bright enough */
    for (int it = 0; it < 30 && hi - lo > 1e-3; it++) {
        const double mid = 0.5 * (lo + hi);
        band_gains(mid, g);
        if (predicted_centroid(bands, nf, g) < target_hz)
            lo = mid;
        else
            hi = mid;
    }
    *beta_db_oct = 0.5 * (lo + hi);
    if (predicted_hz) {
        band_gains(*beta_db_oct, g);
        *predicted_hz = predicted_centroid(bands, nf, g);
    }
    free(bands);
    return VX_OK;
}

int vx__brightness_apply(double *x, size_t n, double beta_db_oct)
{
    vx__cv_fft plan;
    double *hk = NULL, *hr = NULL, *hi = NULL, *re = NULL, *im = NULL, *y = NULL;
    size_t k, pos;
    int rc = VX_ENOMEM;
    if (!x)
        return VX_EINVAL;
    if (n == 0 || beta_db_oct == 0.0)
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
        hr[k] = tilt_gain((double)kk * VX__CV_RATE / OLA_N, beta_db_oct);
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
