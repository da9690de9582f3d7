/*
 * test_pyin.c -- pYIN and the analyser on signals made here with known
 * answers: sines, harmonic stacks, glides, silence, noise, clipping, DC.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "analysis/pyin.h"
#include "voxclone/voxclone.h"

#define SR 22050
#ifndef M_PI
#define M_PI 3.14159265358979323846
#endif
#ifndef M_LN2
#define M_LN2 0.69314718055994530942
#endif

static float *make_signal(size_t n, double (*gen)(size_t i, void *ctx), void *ctx)
{
    float *x = malloc(n * sizeof *x);
    assert_non_null(x);
    for (size_t i = 0; i < n; i++)
        x[i] = (float)gen(i, ctx);
    return x;
}

static double gen_sine(size_t i, void *ctx)
{
    double f = *(double *)ctx;
    return 0.5 * sin(2.0 * M_PI * f * (double)i / SR);
}

static double gen_stack(size_t i, void *ctx)
{
    double f = *(double *)ctx, s = 0.0;
    for (int h = 1; h <= 8; h++)
        s += (0.6 / h) * sin(2.0 * M_PI * f * h * (double)i / SR + 0.3 * h);
    return 0.5 * s;
}

static uint64_t rng = 88172645463325252ull;
static double gen_noise(size_t i, void *ctx)
{
    (void)i;
    (void)ctx;
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return ((double)(rng >> 11) / 9007199254740992.0 - 0.5) * 0.5;
}

static vx_analysis *analyze(const float *x, size_t n, int threads)
{
    vx_analysis_opts o;
    vx_analysis_opts_init(&o);
    o.keep_frames = 1;
    o.n_threads = threads;
    vx_analysis *a = NULL;
    vx_error e;
    int rc = vx_analyze_samples(x, n, SR, &o, &a, &e);
    assert_int_equal(rc, VX_OK);
    assert_non_null(a);
    return a;
}

/* fraction of interior frames voiced with f0 within `cents` of expected */
static double frac_near(const vx_analysis *a, double (*expect)(double t), double cents)
{
    size_t ok = 0, n = 0;
    for (size_t i = 4; i + 4 < a->n_frames; i++) {
        n++;
        if (a->frames->voiced_flag[i]) {
            double c = 1200.0 * fabs(log2(a->frames->f0_hz[i] / expect(a->frames->times_s[i])));
            ok += c <= cents;
        }
    }
    return n ? (double)ok / (double)n : 0.0;
}

static double g_f;
static double expect_const(double t)
{
    (void)t;
    return g_f;
}

static void test_sines(void **state)
{
    (void)state;
    const double freqs[] = {80.0, 110.0, 196.0, 261.63, 440.0};
    for (size_t k = 0; k < sizeof freqs / sizeof freqs[0]; k++) {
        double f = freqs[k];
        g_f = f;
        float *x = make_signal(SR, gen_sine, &f);
        vx_analysis *a = analyze(x, SR, 1);
        /* librosa's grid is 10 cents and its YIN variant is slightly biased
         * on pure tones (up to ~7 cents here): within 12 cents */
        assert_true(frac_near(a, expect_const, 12.0) > 0.95);
        assert_true(fabs(a->pitch_mean_hz - f) / f < 0.01);
        assert_int_equal(a->n_frames, 1 + SR / 512);
        vx_analysis_free(a);
        free(x);
    }
}

static void test_harmonic_stack_not_octave_error(void **state)
{
    (void)state;
    double f = 120.0;
    g_f = f;
    float *x = make_signal(SR, gen_stack, &f);
    vx_analysis *a = analyze(x, SR, 1);
    assert_true(frac_near(a, expect_const, 6.0) > 0.95);
    assert_string_equal(a->voice_type, "Low (male)");
    vx_analysis_free(a);
    free(x);
}

static double glide_f(double t) { return 150.0 * pow(2.0, t); } /* 1 oct/s */
static double gen_glide(size_t i, void *ctx)
{
    (void)ctx;
    /* phase = integral of 150 * 2^t dt = 150 (2^t - 1) / ln 2 */
    double t = (double)i / SR;
    return 0.5 * sin(2.0 * M_PI * 150.0 * (pow(2.0, t) - 1.0) / M_LN2);
}

static void test_glide_tracks(void **state)
{
    (void)state;
    size_t n = SR; /* 150 -> 300 Hz */
    float *x = make_signal(n, gen_glide, NULL);
    vx_analysis *a = analyze(x, n, 1);
    assert_true(frac_near(a, glide_f, 25.0) > 0.9);
    vx_analysis_free(a);
    free(x);
}

static void test_silence_unvoiced(void **state)
{
    (void)state;
    float *x = calloc(SR, sizeof *x);
    vx_analysis *a = analyze(x, SR, 1);
    assert_int_equal(a->n_voiced, 0);
    assert_true(a->pitch_mean_hz == 0.0);
    assert_string_equal(a->voice_type, "unknown");
    assert_true(a->centroid_mean_hz == 0.0);
    for (size_t i = 0; i < a->n_frames; i++)
        assert_true(isnan(a->frames->f0_hz[i]));
    vx_analysis_free(a);
    free(x);
}

static void test_noise_mostly_unvoiced(void **state)
{
    (void)state;
    float *x = make_signal(SR, gen_noise, NULL);
    vx_analysis *a = analyze(x, SR, 1);
    assert_true(a->n_voiced < a->n_frames / 4);
    /* white noise: centroid near sr/4 */
    assert_true(fabs(a->centroid_mean_hz - SR / 4.0) < 1000.0);
    vx_analysis_free(a);
    free(x);
}

static void test_clipping_and_dc_keep_pitch(void **state)
{
    (void)state;
    double f = 200.0;
    g_f = f;
    float *x = make_signal(SR, gen_sine, &f);
    for (size_t i = 0; i < SR; i++) {
        float v = 4.0f * x[i];
        x[i] = v > 0.9f ? 0.9f : (v < -0.9f ? -0.9f : v); /* hard clip */
    }
    vx_analysis *a = analyze(x, SR, 1);
    assert_true(frac_near(a, expect_const, 6.0) > 0.9);
    vx_analysis_free(a);
    for (size_t i = 0; i < SR; i++)
        x[i] = 0.3f + 0.2f * (float)sin(2.0 * M_PI * f * (double)i / SR); /* DC */
    a = analyze(x, SR, 1);
    /* a DC offset biases librosa's difference function: bins 241-242 (10-20
     * cents) for a 200 Hz tone */
    assert_true(frac_near(a, expect_const, 25.0) > 0.9);
    vx_analysis_free(a);
    free(x);
}

static void test_threads_identical(void **state)
{
    (void)state;
    double f = 150.0;
    size_t n = 5 * SR;
    float *x = make_signal(n, gen_stack, &f);
    for (size_t i = 0; i < n; i++)
        x[i] = x[i] * (float)(0.5 + 0.5 * sin((double)i / 3000.0)) + 0.01f * (float)gen_noise(i, NULL);
    vx_analysis *a1 = analyze(x, n, 1), *a2 = analyze(x, n, 3);
    assert_int_equal(a1->n_frames, a2->n_frames);
    for (size_t i = 0; i < a1->n_frames; i++) {
        assert_int_equal(a1->frames->voiced_flag[i], a2->frames->voiced_flag[i]);
        assert_true(a1->frames->voiced_prob[i] == a2->frames->voiced_prob[i]);
        assert_true(a1->frames->centroid_hz[i] == a2->frames->centroid_hz[i]);
    }
    assert_memory_equal(a1->mfcc_mean, a2->mfcc_mean, sizeof a1->mfcc_mean);
    vx_analysis_free(a1);
    vx_analysis_free(a2);
    free(x);
}

static void test_streaming_equals_oneshot(void **state)
{
    (void)state;
    double f = 175.0;
    size_t n = 3 * SR + 123;
    float *x = make_signal(n, gen_stack, &f);
    vx_analysis *a1 = analyze(x, n, 1);
    vx_analysis_opts o;
    vx_analysis_opts_init(&o);
    o.keep_frames = 1;
    o.n_threads = 2;
    vx_analyzer *an = NULL;
    assert_int_equal(vx_analyzer_new(&o, &an, NULL), VX_OK);
    size_t pos = 0, step = 1;
    while (pos < n) {
        size_t k = step < n - pos ? step : n - pos;
        assert_int_equal(vx_analyzer_push(an, x + pos, k, NULL), VX_OK);
        pos += k;
        step = step * 3 + 7;
    }
    vx_analysis *a2 = NULL;
    assert_int_equal(vx_analyzer_finish(an, &a2, NULL), VX_OK);
    vx_analyzer_free(an);
    assert_int_equal(a1->n_frames, a2->n_frames);
    assert_true(a1->pitch_mean_hz == a2->pitch_mean_hz);
    assert_memory_equal(a1->frames->voiced_flag, a2->frames->voiced_flag, a1->n_frames);
    vx_analysis_free(a1);
    vx_analysis_free(a2);
    free(x);
}

static void test_frame_count_rule(void **state)
{
    (void)state;
    const size_t lens[] = {1, 511, 512, 513, 2047, 2048, 11025};
    for (size_t k = 0; k < sizeof lens / sizeof lens[0]; k++) {
        float *x = calloc(lens[k], sizeof *x);
        vx_analysis *a = analyze(x, lens[k], 1);
        assert_int_equal(a->n_frames, 1 + lens[k] / 512);
        vx_analysis_free(a);
        free(x);
    }
}

static void test_voice_type(void **state)
{
    (void)state;
    assert_string_equal(vx_voice_type(250.0), "High (female/child)");
    assert_string_equal(vx_voice_type(200.0), "Medium");
    assert_string_equal(vx_voice_type(140.5), "Medium");
    assert_string_equal(vx_voice_type(140.0), "Low (male)");
    assert_string_equal(vx_voice_type(0.0), "unknown");
    assert_string_equal(vx_voice_type(NAN), "unknown");
}

static void test_tables(void **state)
{
    (void)state;
    vx__pyin_tables *t = vx__pyin_tables_new();
    assert_non_null(t);
    assert_true(fabs(vx__pyin_bin_hz(t, 0) - 50.0) < 1e-12);
    assert_true(fabs(vx__pyin_bin_hz(t, 120) - 100.0) < 1e-9);
    assert_true(isnan(vx__pyin_bin_hz(t, 399)));
    assert_true(isnan(vx__pyin_bin_hz(NULL, 0)));
    vx__pyin_tables_free(t);
    vx__pyin_tables_free(NULL);
    vx__yin_free(NULL);
    vx__viterbi_free(NULL);
}

static void test_yin_cmnd_periodic_minimum(void **state)
{
    (void)state;
    /* period of exactly 100 samples: the CMND minimum is at tau = 100 */
    float frame[VX__PYIN_FRAME];
    for (int i = 0; i < VX__PYIN_FRAME; i++)
        frame[i] = (float)(sin(2.0 * M_PI * i / 100.0) + 0.3 * sin(4.0 * M_PI * i / 100.0));
    vx__yin *y = vx__yin_new();
    double cm[VX__PYIN_N_YIN];
    vx__yin_cmnd(y, frame, cm);
    int best = 0;
    for (int i = 1; i < VX__PYIN_N_YIN; i++)
        if (cm[i] < cm[best])
            best = i;
    assert_int_equal(best + VX__PYIN_MIN_PERIOD, 100);
    vx__yin_free(y);
}

static void test_misuse(void **state)
{
    (void)state;
    vx_analysis *a = NULL;
    vx_error e;
    float x[4] = {0};
    assert_int_equal(vx_analyze_samples(NULL, 10, SR, NULL, &a, &e), VX_EINVAL);
    assert_int_equal(vx_analyze_samples(x, 4, SR, NULL, NULL, &e), VX_EINVAL);
    assert_int_equal(vx_analyze_samples(x, 4, 16000, NULL, &a, &e), VX_EINVAL);
    assert_non_null(strstr(e.message, "22050"));
    assert_int_equal(vx_analyze_samples(x, 0, SR, NULL, &a, &e), VX_EEMPTY);
    x[2] = NAN;
    assert_int_equal(vx_analyze_samples(x, 4, SR, NULL, &a, &e), VX_EINVAL);
    assert_non_null(strstr(e.message, "not finite"));
    assert_int_equal(vx_analyzer_new(NULL, NULL, &e), VX_EINVAL);
    vx_analysis_opts o;
    vx_analysis_opts_init(&o);
    o.n_threads = -1;
    vx_analyzer *an = NULL;
    assert_int_equal(vx_analyzer_new(&o, &an, &e), VX_EINVAL);
    assert_null(an);
    o.n_threads = 1;
    o.pitch_mode = (vx_pitch_mode)42;
    assert_int_equal(vx_analyzer_new(&o, &an, &e), VX_EINVAL);
    assert_int_equal(vx_analyzer_new(NULL, &an, &e), VX_OK);
    assert_int_equal(vx_analyzer_push(NULL, x, 1, &e), VX_EINVAL);
    assert_int_equal(vx_analyzer_push(an, NULL, 1, &e), VX_EINVAL);
    assert_int_equal(vx_analyzer_finish(an, &a, &e), VX_EEMPTY);
    assert_int_equal(vx_analyzer_finish(an, NULL, &e), VX_EINVAL);
    vx_analyzer_free(an);
    vx_analyzer_free(NULL);
    vx_analysis_free(NULL);
    assert_null(vx_analysis_to_json(NULL, 0));
    assert_int_equal(vx_analyze_file(NULL, NULL, &a, &e), VX_EINVAL);
    assert_int_equal(vx_analyze_memory(NULL, 3, NULL, &a, &e), VX_EINVAL);
    assert_int_equal(vx_analyze_file("/nonexistent/x.wav", NULL, &a, &e), VX_EIO);
    /* errors without an error struct must not crash */
    assert_int_equal(vx_analyze_samples(NULL, 1, SR, NULL, &a, NULL), VX_EINVAL);
}

static void test_json_shape(void **state)
{
    (void)state;
    double f = 220.0;
    float *x = make_signal(SR, gen_sine, &f);
    vx_analysis *a = analyze(x, SR, 1);
    char *s = vx_analysis_to_json(a, 0);
    assert_non_null(s);
    const char *keys[] = {"\"pitch\":{\"mean_hz\"", "\"std_hz\"", "\"min_hz\"", "\"max_hz\"",
                          "\"voice_type\":\"High (female/child)\"", "\"spectral\":{\"centroid_mean_hz\"",
                          "\"brightness\"", "\"mfcc\":null", "\"duration_seconds\":1.0",
                          "\"sample_rate\":22050", "\"pitch_hz\"", "\"pitch_std\"", "\"duration\":1.0"};
    for (size_t k = 0; k < sizeof keys / sizeof keys[0]; k++)
        assert_non_null(strstr(s, keys[k]));
    assert_null(strstr(s, "\"frames\""));
    free(s);
    s = vx_analysis_to_json(a, VX_JSON_DETAILED | VX_JSON_FRAMES);
    assert_non_null(strstr(s, "\"mfcc\":{\"coefficients\":["));
    assert_non_null(strstr(s, "\"frames\":{\"times\":[0.0,"));
    assert_non_null(strstr(s, "\"f0\":["));
    assert_non_null(strstr(s, "\"voiced_flag\":[true,"));
    assert_non_null(strstr(s, "\"centroid\":["));
    free(s);
    vx_analysis_free(a);
    free(x);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sines),
        cmocka_unit_test(test_harmonic_stack_not_octave_error),
        cmocka_unit_test(test_glide_tracks),
        cmocka_unit_test(test_silence_unvoiced),
        cmocka_unit_test(test_noise_mostly_unvoiced),
        cmocka_unit_test(test_clipping_and_dc_keep_pitch),
        cmocka_unit_test(test_threads_identical),
        cmocka_unit_test(test_streaming_equals_oneshot),
        cmocka_unit_test(test_frame_count_rule),
        cmocka_unit_test(test_voice_type),
        cmocka_unit_test(test_tables),
        cmocka_unit_test(test_yin_cmnd_periodic_minimum),
        cmocka_unit_test(test_misuse),
        cmocka_unit_test(test_json_shape),
    };
    return cmocka_run_group_tests_name("pyin", tests, NULL, NULL);
}
