/*
 * test_brightness.c -- the converter's brightness match (src/tts/brightness.c)
 * on signals made here: seeded white noise (mean centroid ~5.5 kHz at 22050
 * Hz) is tilted to given centroids and measured by the library's own
 * analysis (librosa's centroid); a sine keeps its level at the 1 kHz pivot
 * and loses the predicted gain at 4 kHz; the equaliser moves a resonant
 * noise's spectrum toward a reference's; silence, the dead zone, the limits
 * and misuse.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "tts/brightness.h"
#include "voxclone/voxclone.h"

#ifndef M_PI
#define M_PI 3.14159265358979323846
#endif

#define RATE 22050

static double *white_noise(size_t n, uint32_t seed)
{
    double *x = malloc(n * sizeof *x);
    assert_non_null(x);
    for (size_t i = 0; i < n; i++) {
        seed = seed * 1664525u + 1013904223u;
        x[i] = 0.3 * ((double)(seed >> 8) / 16777216.0 - 0.5);
    }
    return x;
}

/* a reference with a centroid target only: the pure tilt */
static vx__brightness_ref centroid_ref(double hz)
{
    vx__brightness_ref r;
    memset(&r, 0, sizeof r);
    r.centroid_hz = hz;
    return r;
}

static int plan_tilt(const double *x, size_t n, double target_hz, double *beta, double *pred)
{
    vx__brightness_ref r = centroid_ref(target_hz);
    vx__brightness_filter f;
    int rc = vx__brightness_plan(x, n, &r, &f, pred);
    *beta = f.beta_db_oct;
    if (rc == VX_OK && !f.active)
        assert_true(f.beta_db_oct == 0.0);
    return rc;
}

static int apply_tilt(double *x, size_t n, double beta)
{
    vx__brightness_filter f;
    memset(&f, 0, sizeof f);
    f.active = beta != 0.0;
    f.beta_db_oct = beta;
    return vx__brightness_apply(x, n, &f);
}

static double measured_centroid(const double *x, size_t n)
{
    float *f = malloc(n * sizeof *f);
    vx_analysis_opts o;
    vx_analysis *a = NULL;
    vx_error e;
    double c;
    assert_non_null(f);
    for (size_t i = 0; i < n; i++)
        f[i] = (float)x[i];
    vx_analysis_opts_init(&o);
    o.n_threads = 1;
    assert_int_equal(vx_analyze_samples(f, n, RATE, &o, &a, &e), VX_OK);
    c = a->centroid_mean_hz;
    vx_analysis_free(a);
    free(f);
    return c;
}

static void test_reaches_target(void **state)
{
    const size_t n = 2 * RATE;
    const double targets[] = {1800.0, 3000.0, 4500.0};
    (void)state;
    for (size_t t = 0; t < 3; t++) {
        double *x = white_noise(n, 7), beta = 0.0, pred = 0.0, before, after;
        before = measured_centroid(x, n);
        assert_int_equal(plan_tilt(x, n, targets[t], &beta, &pred), VX_OK);
        assert_true(beta < 0.0); /* noise is brighter than every target */
        assert_true(fabs(pred / targets[t] - 1.0) < 0.01);
        assert_int_equal(apply_tilt(x, n, beta), VX_OK);
        after = measured_centroid(x, n);
        if (getenv("VX_TEST_VERBOSE"))
            printf("target %.0f: before %.0f, beta %.2f dB/oct, predicted %.0f, measured %.0f\n",
                   targets[t], before, beta, pred, after);
        assert_true(fabs(after / targets[t] - 1.0) < 0.03);
        free(x);
    }
}

static void test_monotonic_and_limited(void **state)
{
    const size_t n = RATE;
    double *x = white_noise(n, 3), b1, b2, b_lo, b_hi;
    (void)state;
    assert_int_equal(plan_tilt(x, n, 2000.0, &b1, NULL), VX_OK);
    assert_int_equal(plan_tilt(x, n, 3000.0, &b2, NULL), VX_OK);
    assert_true(b1 < b2);
    /* unreachable targets stop at the limits (-9 / +6 dB per octave) */
    assert_int_equal(plan_tilt(x, n, 50.0, &b_lo, NULL), VX_OK);
    assert_true(fabs(b_lo + 9.0) < 1e-9);
    assert_int_equal(plan_tilt(x, n, 10000.0, &b_hi, NULL), VX_OK);
    assert_true(fabs(b_hi - 6.0) < 1e-9);
    free(x);
}

static void test_dead_zone_and_silence(void **state)
{
    const size_t n = RATE;
    double *x = white_noise(n, 5), *z = calloc(n, sizeof *z), c, beta = 1.0, pred;
    (void)state;
    assert_non_null(z);
    /* the target is the signal's own centroid: within 2 %, nothing to do,
     * and the prediction of the untouched signal agrees with librosa's */
    c = measured_centroid(x, n);
    assert_int_equal(plan_tilt(x, n, c, &beta, &pred), VX_OK);
    assert_true(beta == 0.0);
    assert_true(fabs(pred / c - 1.0) < 0.01);
    /* silence: centroid 0, nothing to do, nothing changed */
    assert_int_equal(plan_tilt(z, n, 2000.0, &beta, &pred), VX_OK);
    assert_true(beta == 0.0);
    assert_true(pred == 0.0);
    assert_int_equal(apply_tilt(z, n, -6.0), VX_OK);
    for (size_t i = 0; i < n; i++)
        assert_true(z[i] == 0.0);
    free(x);
    free(z);
}

static double rms_mid(const double *x, size_t n)
{
    double acc = 0.0;
    for (size_t i = n / 4; i < 3 * n / 4; i++)
        acc += x[i] * x[i];
    return sqrt(acc / (double)(n / 2));
}

static void test_sine_gains(void **state)
{
    const size_t n = RATE;
    double *a = malloc(n * sizeof *a), *b = malloc(n * sizeof *b), ga, gb, want;
    (void)state;
    assert_non_null(a);
    assert_non_null(b);
    for (size_t i = 0; i < n; i++) {
        a[i] = 0.5 * sin(2.0 * M_PI * 1000.0 * (double)i / RATE);
        b[i] = 0.5 * sin(2.0 * M_PI * 4000.0 * (double)i / RATE);
    }
    ga = rms_mid(a, n);
    gb = rms_mid(b, n);
    assert_int_equal(apply_tilt(a, n, -6.0), VX_OK);
    assert_int_equal(apply_tilt(b, n, -6.0), VX_OK);
    ga = rms_mid(a, n) / ga;
    gb = rms_mid(b, n) / gb;
    /* w(f) = ((f + 300) / 1300) ^ (beta / 6.02) in amplitude */
    want = pow(10.0, -6.0 * log2(4300.0 / 1300.0) / 20.0);
    if (getenv("VX_TEST_VERBOSE"))
        printf("gain at 1 kHz %.4f, at 4 kHz %.4f (want %.4f)\n", ga, gb, want);
    assert_true(fabs(ga - 1.0) < 0.02);
    assert_true(fabs(gb / want - 1.0) < 0.02);
    free(a);
    free(b);
}

/* two-pole resonator on white noise: a "voice" with a spectral peak */
static double *coloured_noise(size_t n, uint32_t seed, double fc_hz)
{
    double *x = white_noise(n, seed), y1 = 0.0, y2 = 0.0;
    const double r = 0.97, th = 2.0 * M_PI * fc_hz / RATE;
    for (size_t i = 0; i < n; i++) {
        const double y = x[i] + 2.0 * r * cos(th) * y1 - r * r * y2;
        y2 = y1;
        y1 = y;
        x[i] = 0.05 * y;
    }
    return x;
}

static double band_db(const double *x, size_t n, double f_hz)
{
    /* power of x at f_hz by correlation with a Hann-windowed complex tone */
    double re = 0.0, im = 0.0;
    for (size_t i = 0; i < n; i++) {
        const double w = 0.5 - 0.5 * cos(2.0 * M_PI * (double)i / (double)n);
        re += w * x[i] * cos(2.0 * M_PI * f_hz * (double)i / RATE);
        im += w * x[i] * sin(2.0 * M_PI * f_hz * (double)i / RATE);
    }
    return 10.0 * log10(re * re + im * im + 1e-30);
}

static void test_equaliser_moves_spectrum(void **state)
{
    /* reference: a resonance at 1500 Hz; output: one at 800 Hz.  The
     * equaliser must raise 1500 Hz against 800 Hz by several dB, bounded by
     * its +-12 dB limit, and the plan must be deterministic. */
    const size_t n = 2 * RATE;
    double *ref = coloured_noise(n, 11, 1500.0), *x = coloured_noise(n, 12, 800.0);
    double *x2 = malloc(n * sizeof *x2), before, after;
    vx__brightness_ref r;
    vx__brightness_filter f, f2;
    (void)state;
    assert_non_null(x2);
    memcpy(x2, x, n * sizeof *x);
    assert_int_equal(vx__brightness_ref_compute(ref, n, 0.0, &r), VX_OK);
    assert_true(r.has_spec);
    assert_int_equal(vx__brightness_plan(x, n, &r, &f, NULL), VX_OK);
    assert_int_equal(vx__brightness_plan(x2, n, &r, &f2, NULL), VX_OK);
    assert_memory_equal(&f, &f2, sizeof f);
    assert_true(f.active);
    assert_true(f.beta_db_oct == 0.0); /* no centroid target */
    for (int b = 0; b < VX__BRIGHT_NBANDS; b++)
        assert_true(fabs(f.eq_db[b]) <= 12.0 + 1e-9);
    before = band_db(x, n, 1500.0) - band_db(x, n, 800.0);
    assert_int_equal(vx__brightness_apply(x, n, &f), VX_OK);
    after = band_db(x, n, 1500.0) - band_db(x, n, 800.0);
    if (getenv("VX_TEST_VERBOSE"))
        printf("1500 Hz vs 800 Hz: %.1f dB -> %.1f dB\n", before, after);
    assert_true(after - before > 6.0);
    free(ref);
    free(x);
    free(x2);
}

static void test_misuse(void **state)
{
    double x[4] = {0}, pred = 1.0;
    vx__brightness_ref r;
    vx__brightness_filter f;
    (void)state;
    r = centroid_ref(1000.0);
    assert_int_equal(vx__brightness_plan(NULL, 4, &r, &f, NULL), VX_EINVAL);
    assert_int_equal(vx__brightness_plan(x, 4, NULL, &f, NULL), VX_EINVAL);
    assert_int_equal(vx__brightness_plan(x, 4, &r, NULL, NULL), VX_EINVAL);
    assert_int_equal(vx__brightness_apply(NULL, 4, &f), VX_EINVAL);
    assert_int_equal(vx__brightness_apply(x, 4, NULL), VX_EINVAL);
    assert_int_equal(vx__brightness_ref_compute(NULL, 4, 0.0, &r), VX_EINVAL);
    assert_int_equal(vx__brightness_ref_compute(x, 4, 0.0, NULL), VX_EINVAL);
    /* empty input, no target, NaN target: nothing to do */
    assert_int_equal(vx__brightness_plan(x, 0, &r, &f, &pred), VX_OK);
    assert_true(!f.active && pred == 0.0);
    r = centroid_ref(0.0);
    assert_int_equal(vx__brightness_plan(x, 4, &r, &f, NULL), VX_OK);
    assert_true(f.beta_db_oct == 0.0);
    r = centroid_ref(NAN);
    assert_int_equal(vx__brightness_plan(x, 4, &r, &f, NULL), VX_OK);
    assert_true(f.beta_db_oct == 0.0);
    assert_int_equal(vx__brightness_ref_compute(x, 0, 1000.0, &r), VX_OK);
    assert_true(!r.has_spec && r.centroid_hz == 1000.0);
    f.active = 1;
    assert_int_equal(vx__brightness_apply(x, 0, &f), VX_OK);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_reaches_target),
        cmocka_unit_test(test_monotonic_and_limited),
        cmocka_unit_test(test_dead_zone_and_silence),
        cmocka_unit_test(test_sine_gains),
        cmocka_unit_test(test_equaliser_moves_spectrum),
        cmocka_unit_test(test_misuse),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
