/*
 * test_brightness.c -- the converter's brightness match (src/tts/brightness.c)
 * on signals made here: seeded white noise (mean centroid ~5.5 kHz at 22050
 * Hz) is tilted to given centroids and measured by the library's own
 * analysis (librosa's centroid); a sine keeps its level at the 1 kHz pivot
 * and loses the predicted gain at 4 kHz; silence, the dead zone, the limits
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
        assert_int_equal(vx__brightness_plan(x, n, targets[t], &beta, &pred), VX_OK);
        assert_true(beta < 0.0); /* noise is brighter than every target */
        assert_true(fabs(pred / targets[t] - 1.0) < 0.01);
        assert_int_equal(vx__brightness_apply(x, n, beta), VX_OK);
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
    assert_int_equal(vx__brightness_plan(x, n, 2000.0, &b1, NULL), VX_OK);
    assert_int_equal(vx__brightness_plan(x, n, 3000.0, &b2, NULL), VX_OK);
    assert_true(b1 < b2);
    /* unreachable targets stop at the limits (-9 / +6 dB per octave) */
    assert_int_equal(vx__brightness_plan(x, n, 50.0, &b_lo, NULL), VX_OK);
    assert_true(fabs(b_lo + 9.0) < 1e-9);
    assert_int_equal(vx__brightness_plan(x, n, 10000.0, &b_hi, NULL), VX_OK);
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
    assert_int_equal(vx__brightness_plan(x, n, c, &beta, &pred), VX_OK);
    assert_true(beta == 0.0);
    assert_true(fabs(pred / c - 1.0) < 0.01);
    /* silence: centroid 0, nothing to do, nothing changed */
    assert_int_equal(vx__brightness_plan(z, n, 2000.0, &beta, &pred), VX_OK);
    assert_true(beta == 0.0);
    assert_true(pred == 0.0);
    assert_int_equal(vx__brightness_apply(z, n, -6.0), VX_OK);
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
    assert_int_equal(vx__brightness_apply(a, n, -6.0), VX_OK);
    assert_int_equal(vx__brightness_apply(b, n, -6.0), VX_OK);
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

static void test_misuse(void **state)
{
    double x[4] = {0}, beta = 3.0, pred = 1.0;
    (void)state;
    assert_int_equal(vx__brightness_plan(NULL, 4, 1000.0, &beta, NULL), VX_EINVAL);
    assert_int_equal(vx__brightness_plan(x, 4, 1000.0, NULL, NULL), VX_EINVAL);
    assert_int_equal(vx__brightness_apply(NULL, 4, -3.0), VX_EINVAL);
    /* empty input, no target, NaN target: nothing to do */
    assert_int_equal(vx__brightness_plan(x, 0, 1000.0, &beta, &pred), VX_OK);
    assert_true(beta == 0.0 && pred == 0.0);
    assert_int_equal(vx__brightness_plan(x, 4, 0.0, &beta, NULL), VX_OK);
    assert_true(beta == 0.0);
    assert_int_equal(vx__brightness_plan(x, 4, NAN, &beta, NULL), VX_OK);
    assert_true(beta == 0.0);
    assert_int_equal(vx__brightness_apply(x, 0, -3.0), VX_OK);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_reaches_target),
        cmocka_unit_test(test_monotonic_and_limited),
        cmocka_unit_test(test_dead_zone_and_silence),
        cmocka_unit_test(test_sine_gains),
        cmocka_unit_test(test_misuse),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
