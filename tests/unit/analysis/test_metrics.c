/*
 * test_metrics.c -- the voice metrics (src/analysis/metrics*.c) on signals
 * made here whose answers are known by construction, plus argument misuse.
 *
 * Tolerances and why:
 *   jitter, shimmer (5 % relative): the pulse train's periods and amplitudes
 *     are drawn here, so the true local jitter / shimmer are computed from
 *     the drawn sequences with the Praat definitions.  The pulse tracker
 *     finds identical pulse shapes by cross-correlation with parabolic
 *     interpolation (~0.01 sample = 0.5 us, 0.005 % of a 8.3 ms period) and
 *     the amplitude of a pulse is a Hann-windowed RMS whose window width
 *     follows the neighbouring periods (+-1 % here); both errors are well
 *     below 1 % relative, 5 % leaves room for libm / FFT rounding.
 *   F1-F3 (5 %): an all-pole vowel with formants 700 / 1200 / 2600 Hz on a
 *     100 Hz source (harmonics on the formants); Burg LPC of order 10 puts
 *     the poles within ~4 % (Praat's own "To Formant (burg)" gives 726 /
 *     1217 / 2577 Hz on this signal).
 *   HNR (1.5 dB): harmonic complex + white noise at 10 and 20 dB.  The
 *     cross-correlation estimate r = S / (S + N) is unbiased for stationary
 *     signals (Boersma 1993); with 3 s of signal the spread is ~0.2 dB.
 *   loudness (0.2 LU): BS.1770-4's own calibration: a 0 dBFS 997 Hz sine
 *     reads -3.01 LUFS, so a -20 dBFS 1 kHz sine reads -23.01 LUFS (the
 *     K-weighting gain differs by < 0.01 dB between 997 and 1000 Hz).
 *   speaking rate (exact): N vowel bursts -> N intensity peaks with deep dips;
 *     de Jong & Wempe's rule counts every peak but the last.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "analysis/metrics_internal.h"

#define SR 22050
#define PI 3.14159265358979323846

static uint64_t rng;
static double urand(void) /* uniform in (0, 1) */
{
    rng = rng * 6364136223846793005ULL + 1442695040888963407ULL;
    return ((double)(rng >> 11) + 0.5) * (1.0 / 9007199254740992.0);
}
static double grand(void) /* standard normal (Box-Muller) */
{
    return sqrt(-2.0 * log(urand())) * cos(2.0 * PI * urand());
}

#define assert_close(a, b, tol)                                                \
    do {                                                                       \
        double a_ = (double)(a), b_ = (double)(b), t_ = (double)(tol);         \
        if (!(fabs(a_ - b_) <= t_))                                            \
            fail_msg("%s = %.6g, expected %.6g +- %.3g", #a, a_, b_, t_);      \
    } while (0)

/* frame data with every pYIN frame voiced (or none) */
typedef struct frames {
    vx__frame_data fd;
    uint8_t *voiced;
} frames;

static frames make_frames(size_t n, int voiced)
{
    frames f;
    memset(&f, 0, sizeof f);
    f.fd.n_frames = 1 + n / 512;
    f.voiced = malloc(f.fd.n_frames);
    assert_non_null(f.voiced);
    memset(f.voiced, voiced ? 1 : 0, f.fd.n_frames);
    f.fd.voiced = f.voiced;
    return f;
}

static void compute(const float *x, size_t n, int voiced, vx_voice_metrics *m)
{
    frames f = make_frames(n, voiced);
    assert_int_equal(vx__metrics_compute(x, n, SR, &f.fd, m), VX_OK);
    free(f.voiced);
}

/* ---------------------------------------------------------------- */

static void test_argument_misuse(void **state)
{
    (void)state;
    float x[1024] = {0};
    frames f = make_frames(1024, 1);
    vx_voice_metrics m;
    assert_int_equal(vx__metrics_compute(NULL, 1024, SR, &f.fd, &m), VX_EINVAL);
    assert_int_equal(vx__metrics_compute(x, 1024, SR, NULL, &m), VX_EINVAL);
    assert_int_equal(vx__metrics_compute(x, 1024, SR, &f.fd, NULL), VX_EINVAL);
    assert_int_equal(vx__metrics_compute(x, 0, SR, &f.fd, &m), VX_EINVAL);
    assert_int_equal(vx__metrics_compute(x, 1024, 0, &f.fd, &m), VX_EINVAL);
    assert_int_equal(vx__metrics_compute(x, 1024, -22050, &f.fd, &m), VX_EINVAL);
    vx__frame_data bad = f.fd;
    bad.voiced = NULL; /* frames announced but no voicing track */
    assert_int_equal(vx__metrics_compute(x, 1024, SR, &bad, &m), VX_EINVAL);
    free(f.voiced);
}

static void test_silence(void **state)
{
    (void)state;
    const size_t n = 2 * SR;
    float *x = calloc(n, sizeof *x);
    assert_non_null(x);
    vx_voice_metrics m;
    compute(x, n, 0, &m);
    assert_true(isnan(m.jitter_local_pct));
    assert_true(isnan(m.shimmer_local_pct));
    assert_true(isnan(m.hnr_db));
    for (int k = 0; k < 3; k++)
        assert_true(isnan(m.formant_hz[k]));
    assert_true(m.voiced_ratio == 0.0);
    assert_true(m.speaking_rate_syl_s == 0.0);
    assert_true(isnan(m.loudness_lufs)); /* every block below the -70 LUFS gate */
    free(x);
}

/* 120 Hz train of damped 800 Hz "glottal" pulses with drawn periods and
 * amplitudes; true jitter / shimmer from the drawn sequences. */
static void test_jitter_shimmer(void **state)
{
    (void)state;
    const size_t n = 3 * SR;
    float *x = calloc(n, sizeof *x);
    double *per = malloc(1000 * sizeof *per), *amp = malloc(1000 * sizeof *amp);
    assert_true(x && per && amp);
    rng = 12345;
    int k = 0;
    for (double t = 0.05; t < 2.95; k++) {
        per[k] = (1.0 / 120.0) * (1.0 + 0.0088 * grand());
        amp[k] = 1.0 + 0.044 * grand();
        for (long i = (long)(t * SR); i < (long)n && i < (long)((t + 0.02) * SR); i++) {
            const double d = ((double)i + 0.5) / SR - t;
            if (d >= 0.0)
                x[i] += (float)(0.5 * amp[k] * exp(-d / 0.001) * sin(2.0 * PI * 800.0 * d));
        }
        t += per[k];
    }
    /* Praat's definitions on the true sequence: mean |T_i - T_i+1| / mean T,
     * mean |A_i - A_i+1| / mean A */
    double dj = 0.0, sp = 0.0, da = 0.0, sa = 0.0;
    for (int i = 0; i + 1 < k; i++) {
        dj += fabs(per[i] - per[i + 1]);
        sp += per[i];
        da += fabs(amp[i] - amp[i + 1]);
        sa += amp[i];
    }
    const double jitter = 100.0 * (dj / (k - 2)) / (sp / (k - 1));
    const double shimmer = 100.0 * (da / (k - 1)) / (sa / (k - 1));
    assert_true(jitter > 0.8 && jitter < 1.2);   /* ~1 % by construction */
    assert_true(shimmer > 4.0 && shimmer < 6.0); /* ~5 % */
    vx_voice_metrics m;
    compute(x, n, 1, &m);
    assert_close(m.jitter_local_pct, jitter, 0.05 * jitter);
    assert_close(m.shimmer_local_pct, shimmer, 0.05 * shimmer);
    assert_true(m.hnr_db > 15.0); /* a clean periodic signal */
    free(x);
    free(per);
    free(amp);
}

/* impulse train (100 Hz) through five two-pole resonators */
static void test_formants(void **state)
{
    (void)state;
    const size_t n = 3 * SR;
    double *e = calloc(n, sizeof *e);
    float *x = malloc(n * sizeof *x);
    assert_true(e && x);
    for (double t = 0.02; t < 2.98; t += 0.01)
        e[(long)(t * SR)] = 1.0;
    const double f[5] = {700, 1200, 2600, 3500, 4500}, bw[5] = {60, 70, 100, 150, 200};
    for (int r = 0; r < 5; r++) {
        const double rad = exp(-PI * bw[r] / SR), th = 2.0 * PI * f[r] / SR;
        const double a1 = 2.0 * rad * cos(th), a2 = -rad * rad;
        double y1 = 0.0, y2 = 0.0;
        for (size_t i = 0; i < n; i++) {
            const double y = e[i] * (1.0 - a1 - a2) + a1 * y1 + a2 * y2;
            y2 = y1;
            y1 = y;
            e[i] = y;
        }
    }
    double mx = 0.0;
    for (size_t i = 0; i < n; i++)
        mx = fmax(mx, fabs(e[i]));
    for (size_t i = 0; i < n; i++)
        x[i] = (float)(0.5 * e[i] / mx);
    vx_voice_metrics m;
    compute(x, n, 1, &m);
    assert_close(m.formant_hz[0], 700.0, 0.05 * 700.0);
    assert_close(m.formant_hz[1], 1200.0, 0.05 * 1200.0);
    assert_close(m.formant_hz[2], 2600.0, 0.05 * 2600.0);
    assert_close(m.voiced_ratio, 1.0, 0.0);
    free(e);
    free(x);
}

/* 150 Hz harmonic complex plus white Gaussian noise at a set power ratio */
static void hnr_case(double hnr_db)
{
    const size_t n = 3 * SR;
    float *x = malloc(n * sizeof *x);
    assert_non_null(x);
    double s = 0.0;
    for (size_t i = 0; i < n; i++) {
        const double t = (double)i / SR;
        double v = 0.0;
        for (int k = 1; k <= 10; k++)
            v += sin(2.0 * PI * 150.0 * k * t + 0.3 * k * k) / k;
        x[i] = (float)(0.1 * v);
        s += (double)x[i] * x[i];
    }
    s /= (double)n;
    const double sigma = sqrt(s / pow(10.0, hnr_db / 10.0));
    rng = 777;
    for (size_t i = 0; i < n; i++)
        x[i] += (float)(sigma * grand());
    vx_voice_metrics m;
    compute(x, n, 1, &m);
    assert_close(m.hnr_db, hnr_db, 1.5);
    free(x);
}

static void test_hnr_10db(void **state)
{
    (void)state;
    hnr_case(10.0);
}

static void test_hnr_20db(void **state)
{
    (void)state;
    hnr_case(20.0);
}

static void test_loudness_sine(void **state)
{
    (void)state;
    const size_t n = 3 * SR;
    float *x = malloc(n * sizeof *x);
    assert_non_null(x);
    double lufs;
    for (size_t i = 0; i < n; i++) /* -20 dBFS: peak 0.1 of full scale */
        x[i] = (float)(0.1 * sin(2.0 * PI * 1000.0 * (double)i / SR));
    assert_int_equal(vx__loudness_lufs(x, n, SR, &lufs), VX_OK);
    assert_close(lufs, -23.01, 0.2);
    for (size_t i = 0; i < n; i++) /* the recommendation's own calibration */
        x[i] = (float)sin(2.0 * PI * 997.0 * (double)i / SR);
    assert_int_equal(vx__loudness_lufs(x, n, SR, &lufs), VX_OK);
    assert_close(lufs, -3.01, 0.2);
    /* shorter than one 400 ms block: not measurable */
    assert_int_equal(vx__loudness_lufs(x, SR / 4, SR, &lufs), VX_OK);
    assert_true(isnan(lufs));
    free(x);
}

/* 12 vowel bursts in 3 s: 11 counted nuclei (the last peak never is) */
static void test_speaking_rate(void **state)
{
    (void)state;
    const size_t n = 3 * SR;
    const int bursts = 12;
    float *x = calloc(n, sizeof *x);
    assert_non_null(x);
    const double period = 3.0 / bursts, len = 0.6 * period;
    for (int b = 0; b < bursts; b++) {
        const double t0 = b * period + 0.05;
        for (long i = (long)(t0 * SR); i < (long)((t0 + len) * SR) && i < (long)n; i++) {
            const double t = (double)i / SR, u = (t - t0) / len;
            double v = 0.0;
            for (int k = 1; k <= 8; k++)
                v += sin(2.0 * PI * 150.0 * k * t) / k;
            x[i] = (float)(0.2 * (0.5 - 0.5 * cos(2.0 * PI * u)) * v);
        }
    }
    frames f = make_frames(n, 1);
    double rate;
    assert_int_equal(vx__speaking_rate(x, n, SR, &f.fd, &rate), VX_OK);
    assert_close(rate, (bursts - 1) / 3.0, 1e-9);
    memset(f.voiced, 0, f.fd.n_frames); /* unvoiced peaks are not nuclei */
    assert_int_equal(vx__speaking_rate(x, n, SR, &f.fd, &rate), VX_OK);
    assert_close(rate, 0.0, 0.0);
    free(f.voiced);
    free(x);
}

static void test_voiced_ratio(void **state)
{
    (void)state;
    const size_t n = SR;
    float *x = calloc(n, sizeof *x);
    frames f = make_frames(n, 0);
    assert_non_null(x);
    for (size_t i = 0; i < f.fd.n_frames; i += 4)
        f.voiced[i] = 1;
    const double expected = (double)((f.fd.n_frames + 3) / 4) / (double)f.fd.n_frames;
    vx_voice_metrics m;
    assert_int_equal(vx__metrics_compute(x, n, SR, &f.fd, &m), VX_OK);
    assert_close(m.voiced_ratio, expected, 1e-12);
    free(f.voiced);
    free(x);
}

/* jitter (local) on a hand-made point process: periods alternate 10 and
 * 11 ms -> mean |dT| = 1 ms over the mean period */
static void test_jitter_definition(void **state)
{
    (void)state;
    double t[12];
    t[0] = 0.1;
    for (int i = 1; i < 10; i++)
        t[i] = t[i - 1] + (i % 2 ? 0.010 : 0.011);
    /* 9 periods: 5 x 10 ms, 4 x 11 ms; 8 neighbouring pairs, |dT| = 1 ms */
    const double j = vx__praat_jitter_local(t, 10, 0.0001, 0.02, 1.3);
    assert_close(j, 0.001 / ((5 * 0.010 + 4 * 0.011) / 9.0), 1e-12);
    assert_true(isnan(vx__praat_jitter_local(t, 2, 0.0001, 0.02, 1.3)));
    /* a 30 ms interval (> longest period) and a last 10 ms period: the two
     * pairs around the gap are left out of the differences (still 8 pairs of
     * 1 ms); the last period has no neighbour within the period factor on
     * the right, so Praat's mean period counts it: 10 periods */
    t[10] = t[9] + 0.030;
    t[11] = t[10] + 0.010;
    const double j2 = vx__praat_jitter_local(t, 12, 0.0001, 0.02, 1.3);
    assert_close(j2, 0.001 / ((5 * 0.010 + 4 * 0.011 + 0.010) / 10.0), 1e-12);
}

/* the sinc interpolation goes through the samples and reproduces a
 * band-limited signal between them */
static void test_sinc_interpolation(void **state)
{
    (void)state;
    double y[400];
    for (int i = 0; i < 400; i++)
        y[i] = cos(2.0 * PI * 0.05 * i);
    assert_close(vx__sinc_interpolate(y, 400, 101.0, 70), y[100], 0.0);
    for (double xr = 150.0; xr < 160.0; xr += 0.37) /* Praat index = xr */
        assert_close(vx__sinc_interpolate(y, 400, xr, 70), cos(2.0 * PI * 0.05 * (xr - 1.0)),
                     1e-3);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_argument_misuse),
        cmocka_unit_test(test_silence),
        cmocka_unit_test(test_jitter_shimmer),
        cmocka_unit_test(test_formants),
        cmocka_unit_test(test_hnr_10db),
        cmocka_unit_test(test_hnr_20db),
        cmocka_unit_test(test_loudness_sine),
        cmocka_unit_test(test_speaking_rate),
        cmocka_unit_test(test_voiced_ratio),
        cmocka_unit_test(test_jitter_definition),
        cmocka_unit_test(test_sinc_interpolation),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
