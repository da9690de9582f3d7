/*
 * test_pitch_accurate.c -- the accurate pitch mode (VX_PITCH_ACCURATE) on
 * signals made here: tone bursts in silence and in low-level noise (voicing
 * decision and f0 to a few cents), pure tones across the range, a glide,
 * silence, very short input, aliasing of inputs and outputs, and argument
 * misuse of the internal entry points.
 *
 * DESIGN: every signal is synthesised here (harmonic stacks with decaying
 * harmonics, 10 ms ramps, a fixed-seed xorshift noise), so the expected
 * voicing and f0 are known exactly; tolerances are a few cents, far below
 * the default mode's 10-cent grid.  Frames within 12 ms (outside) or 35 ms
 * (inside) of a burst edge are not judged.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "analysis/detailed.h"
#include "analysis/pitch_accurate.h"
#include "voxclone/voxclone.h"

#define SR 22050
#define HOP 512
#define PI 3.14159265358979323846
#define LN2 0.69314718055994530942

static uint64_t rng = 0x9E3779B97F4A7C15ull;
static double uniform(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (double)(rng >> 11) / 9007199254740992.0;
}

/* harmonic stack with decaying harmonics (a crude voiced source) */
static double stack(double phase)
{
    double s = 0.0;
    for (int h = 1; h <= 10; h++)
        s += sin((double)h * phase + 0.4 * h) / (double)h;
    return s / 2.0;
}

/* silence or noise at noise_amp, with a tone burst of f0 Hz in [t0, t1) s
 * (10 ms raised-cosine ramps). */
static float *burst(size_t n, double f0, double t0, double t1, double amp, double noise_amp)
{
    float *x = malloc(n * sizeof *x);
    assert_non_null(x);
    for (size_t i = 0; i < n; i++) {
        double t = (double)i / SR, v = 0.0;
        if (t >= t0 && t < t1) {
            double g = 1.0, r = 0.010;
            if (t - t0 < r)
                g = 0.5 - 0.5 * cos(PI * (t - t0) / r);
            else if (t1 - t < r)
                g = 0.5 - 0.5 * cos(PI * (t1 - t) / r);
            v = amp * g * stack(2.0 * PI * f0 * t);
        }
        if (noise_amp > 0.0)
            v += noise_amp * (2.0 * uniform() - 1.0);
        x[i] = (float)v;
    }
    return x;
}

static vx_analysis *analyze(const float *x, size_t n, vx_pitch_mode mode)
{
    vx_analysis_opts o;
    vx_analysis_opts_init(&o);
    o.keep_frames = 1;
    o.n_threads = 1;
    o.pitch_mode = mode;
    vx_analysis *a = NULL;
    vx_error e;
    int rc = vx_analyze_samples(x, n, SR, &o, &a, &e);
    assert_int_equal(rc, VX_OK);
    assert_non_null(a);
    assert_int_equal(a->pitch_mode, mode);
    return a;
}

static double cents(double f, double ref) { return 1200.0 * fabs(log2(f / ref)); }

/* Checks a burst analysis: frames whose centre is >= out_margin s outside
 * the burst are unvoiced; frames >= in_margin s inside are voiced within tol
 * cents. */
static void check_burst(const vx_analysis *a, double f0, double t0, double t1, double out_margin,
                        double in_margin, double tol)
{
    size_t inside = 0, inside_ok = 0, outside = 0, outside_ok = 0;
    for (size_t i = 0; i < a->n_frames; i++) {
        double t = a->frames->times_s[i];
        if (t <= t0 - out_margin || t >= t1 + out_margin) {
            outside++;
            outside_ok += a->frames->voiced_flag[i] == 0;
            if (!a->frames->voiced_flag[i])
                assert_true(isnan(a->frames->f0_hz[i]));
        } else if (t >= t0 + in_margin && t <= t1 - in_margin) {
            inside++;
            if (a->frames->voiced_flag[i] && cents(a->frames->f0_hz[i], f0) <= tol)
                inside_ok++;
        }
    }
    assert_true(outside > 10 && inside > 10);
    assert_int_equal(outside_ok, outside);
    assert_int_equal(inside_ok, inside);
}

static void test_burst_in_silence(void **state)
{
    (void)state;
    const double f0 = 140.0, t0 = 0.5, t1 = 1.5;
    size_t n = 2 * SR;
    float *x = burst(n, f0, t0, t1, 0.4, 0.0);
    vx_analysis *a = analyze(x, n, VX_PITCH_ACCURATE);
    check_burst(a, f0, t0, t1, 0.012, 0.035, 3.0);
    assert_true(fabs(a->pitch_mean_hz - f0) < 0.5);
    assert_true(a->n_voiced > 0 && a->n_voiced < a->n_frames);
    vx_analysis_free(a);
    free(x);
}

static void test_burst_in_noise(void **state)
{
    (void)state;
    const double f0 = 220.0, t0 = 0.6, t1 = 1.6;
    size_t n = (size_t)(2.2 * SR);
    /* noise 40 dB below the tone's peak */
    float *x = burst(n, f0, t0, t1, 0.4, 0.004);
    vx_analysis *acc = analyze(x, n, VX_PITCH_ACCURATE);
    check_burst(acc, f0, t0, t1, 0.012, 0.035, 5.0);
    /* the default (librosa) mode, with its 93 ms window, calls frames voiced
     * whose centre is already in the noise; the accurate mode calls none */
    vx_analysis *def = analyze(x, n, VX_PITCH_LIBROSA);
    size_t out_def = 0, out_acc = 0;
    for (size_t i = 0; i < acc->n_frames; i++) {
        double t = acc->frames->times_s[i];
        if (t < t0 || t > t1) {
            out_def += def->frames->voiced_flag[i];
            out_acc += acc->frames->voiced_flag[i];
        }
    }
    assert_int_equal(out_acc, 0);
    assert_true(out_def > 0);
    vx_analysis_free(def);
    vx_analysis_free(acc);
    free(x);
}

static void test_tones_within_cents(void **state)
{
    (void)state;
    const double freqs[] = {65.0, 98.0, 150.0, 247.0, 330.0, 440.0};
    size_t n = SR;
    for (size_t k = 0; k < sizeof freqs / sizeof freqs[0]; k++) {
        double f0 = freqs[k];
        float *x = burst(n, f0, 0.0, 2.0, 0.4, 0.0);
        vx_analysis *a = analyze(x, n, VX_PITCH_ACCURATE);
        size_t inner = 0, ok = 0;
        for (size_t i = 3; i + 3 < a->n_frames; i++) {
            inner++;
            ok += a->frames->voiced_flag[i] && cents(a->frames->f0_hz[i], f0) <= 3.0;
        }
        assert_int_equal(ok, inner);
        vx_analysis_free(a);
        free(x);
    }
}

static double glide_f(double t) { return 150.0 * pow(2.0, t); } /* 1 octave per second */

static void test_glide(void **state)
{
    (void)state;
    size_t n = SR;
    float *x = malloc(n * sizeof *x);
    assert_non_null(x);
    for (size_t i = 0; i < n; i++) {
        double t = (double)i / SR;
        x[i] = (float)(0.4 * stack(2.0 * PI * 150.0 * (pow(2.0, t) - 1.0) / LN2));
    }
    vx_analysis *a = analyze(x, n, VX_PITCH_ACCURATE);
    size_t inner = 0, ok = 0;
    double worst = 0.0;
    for (size_t i = 3; i + 3 < a->n_frames; i++) {
        inner++;
        if (a->frames->voiced_flag[i]) {
            double c = cents(a->frames->f0_hz[i], glide_f(a->frames->times_s[i]));
            ok += c <= 15.0;
            worst = c > worst ? c : worst;
        }
    }
    assert_int_equal(ok, inner);
    vx_analysis_free(a);
    free(x);
}

static void test_silence_and_short(void **state)
{
    (void)state;
    size_t n = SR / 2;
    float *x = calloc(n, sizeof *x);
    assert_non_null(x);
    vx_analysis *a = analyze(x, n, VX_PITCH_ACCURATE);
    assert_int_equal(a->n_voiced, 0);
    for (size_t i = 0; i < a->n_frames; i++) {
        assert_int_equal(a->frames->voiced_flag[i], 0);
        assert_true(isnan(a->frames->f0_hz[i]));
    }
    vx_analysis_free(a);
    /* fewer samples than one hop: one frame */
    float *y = burst(300, 200.0, 0.0, 1.0, 0.4, 0.0);
    a = analyze(y, 300, VX_PITCH_ACCURATE);
    assert_int_equal(a->n_frames, 1);
    vx_analysis_free(a);
    free(y);
    free(x);
}

/* builds a default-mode frame_data for x by running the librosa mode */
typedef struct fd_holder {
    vx__frame_data fd;
    double *f0, *vp, *cen;
    uint8_t *v;
} fd_holder;

static void make_fd(const float *x, size_t n, fd_holder *h)
{
    vx_analysis *a = analyze(x, n, VX_PITCH_LIBROSA);
    size_t nf = a->n_frames;
    h->f0 = malloc(nf * sizeof *h->f0);
    h->vp = malloc(nf * sizeof *h->vp);
    h->cen = malloc(nf * sizeof *h->cen);
    h->v = malloc(nf);
    assert_true(h->f0 && h->vp && h->cen && h->v);
    memcpy(h->f0, a->frames->f0_hz, nf * sizeof *h->f0);
    memcpy(h->vp, a->frames->voiced_prob, nf * sizeof *h->vp);
    memcpy(h->cen, a->frames->centroid_hz, nf * sizeof *h->cen);
    memcpy(h->v, a->frames->voiced_flag, nf);
    h->fd = (vx__frame_data){nf, h->f0, h->v, h->vp, NULL, h->cen};
    vx_analysis_free(a);
}

static void free_fd(fd_holder *h)
{
    free(h->f0);
    free(h->vp);
    free(h->cen);
    free(h->v);
}

static void test_aliasing_and_features(void **state)
{
    (void)state;
    size_t n = 2 * SR;
    float *x = burst(n, 180.0, 0.5, 1.5, 0.4, 0.002);
    fd_holder h;
    make_fd(x, n, &h);
    size_t nf = h.fd.n_frames;
    double *f0 = malloc(nf * sizeof *f0), *cmin = malloc(nf * sizeof *cmin);
    double *erel = malloc(nf * sizeof *erel), *zcr = malloc(nf * sizeof *zcr);
    double *p = malloc(nf * sizeof *p);
    uint8_t *v = malloc(nf);
    assert_true(f0 && v && cmin && erel && zcr && p);
    vx__pacc_params prm;
    vx__pacc_params_default(&prm);
    vx__pacc_frames feat = {cmin, erel, zcr, p};
    assert_int_equal(vx__pitch_accurate_ex(x, n, SR, &h.fd, &prm, f0, v, &feat), VX_OK);
    for (size_t i = 0; i < nf; i++) {
        assert_true(p[i] >= 0.0 && p[i] <= 1.0);
        assert_true(erel[i] <= 10.0);
        assert_true(zcr[i] >= 0.0 && zcr[i] <= 1.0);
    }
    /* in place: outputs are the input arrays, as the analyser passes them */
    assert_int_equal(vx__pitch_accurate(x, n, SR, &h.fd, h.f0, h.v), VX_OK);
    for (size_t i = 0; i < nf; i++) {
        assert_int_equal(h.v[i], v[i]);
        if (v[i])
            assert_true(h.f0[i] == f0[i]);
        else
            assert_true(isnan(h.f0[i]) && isnan(f0[i]));
    }
    free_fd(&h);
    free(f0);
    free(v);
    free(cmin);
    free(erel);
    free(zcr);
    free(p);
    free(x);
}

static void test_argument_misuse(void **state)
{
    (void)state;
    size_t n = SR;
    float *x = burst(n, 150.0, 0.2, 0.8, 0.4, 0.0);
    fd_holder h;
    make_fd(x, n, &h);
    size_t nf = h.fd.n_frames;
    double *f0 = malloc(nf * sizeof *f0);
    uint8_t *v = malloc(nf);
    assert_true(f0 && v);
    vx__pacc_params prm;
    vx__pacc_params_default(&prm);
    assert_int_equal(vx__pitch_accurate(NULL, n, SR, &h.fd, f0, v), VX_EINVAL);
    assert_int_equal(vx__pitch_accurate(x, 0, SR, &h.fd, f0, v), VX_EINVAL);
    assert_int_equal(vx__pitch_accurate(x, n, SR, NULL, f0, v), VX_EINVAL);
    assert_int_equal(vx__pitch_accurate(x, n, SR, &h.fd, NULL, v), VX_EINVAL);
    assert_int_equal(vx__pitch_accurate(x, n, SR, &h.fd, f0, NULL), VX_EINVAL);
    assert_int_equal(vx__pitch_accurate(x, n, 16000, &h.fd, f0, v), VX_EINVAL);
    assert_int_equal(vx__pitch_accurate(x, n - HOP, SR, &h.fd, f0, v), VX_EINVAL);
    assert_int_equal(vx__pitch_accurate_ex(x, n, SR, &h.fd, NULL, f0, v, NULL), VX_EINVAL);
    vx__frame_data bad = h.fd;
    bad.f0_hz = NULL;
    assert_int_equal(vx__pitch_accurate(x, n, SR, &bad, f0, v), VX_EINVAL);
    vx__pacc_params_default(NULL); /* no crash */

    /* public API: an unknown mode is refused */
    vx_analysis_opts o;
    vx_analysis_opts_init(&o);
    o.pitch_mode = (vx_pitch_mode)7;
    vx_analyzer *an = NULL;
    vx_error e;
    assert_int_equal(vx_analyzer_new(&o, &an, &e), VX_EINVAL);
    assert_null(an);
    free_fd(&h);
    free(f0);
    free(v);
    free(x);
}

static void test_threads_identical(void **state)
{
    (void)state;
    size_t n = 3 * SR;
    float *x = burst(n, 120.0, 0.4, 2.4, 0.3, 0.003);
    vx_analysis_opts o;
    vx_analysis_opts_init(&o);
    o.keep_frames = 1;
    o.pitch_mode = VX_PITCH_ACCURATE;
    vx_analysis *a1 = NULL, *a2 = NULL;
    o.n_threads = 1;
    assert_int_equal(vx_analyze_samples(x, n, SR, &o, &a1, NULL), VX_OK);
    o.n_threads = 3;
    assert_int_equal(vx_analyze_samples(x, n, SR, &o, &a2, NULL), VX_OK);
    assert_int_equal(a1->n_frames, a2->n_frames);
    for (size_t i = 0; i < a1->n_frames; i++) {
        assert_int_equal(a1->frames->voiced_flag[i], a2->frames->voiced_flag[i]);
        if (a1->frames->voiced_flag[i])
            assert_true(a1->frames->f0_hz[i] == a2->frames->f0_hz[i]);
    }
    vx_analysis_free(a1);
    vx_analysis_free(a2);
    free(x);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_burst_in_silence),
        cmocka_unit_test(test_burst_in_noise),
        cmocka_unit_test(test_tones_within_cents),
        cmocka_unit_test(test_glide),
        cmocka_unit_test(test_silence_and_short),
        cmocka_unit_test(test_aliasing_and_features),
        cmocka_unit_test(test_argument_misuse),
        cmocka_unit_test(test_threads_identical),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
