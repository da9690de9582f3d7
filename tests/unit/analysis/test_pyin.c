/*
 * test_pyin.c -- pYIN and the analyser on signals made here with known
 * answers: sines, harmonic stacks, glides, silence, noise, clipping, DC.
 */
#include <float.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
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

/* ---- Viterbi against librosa's dense decoder ---------------------------- */
static uint64_t vrng = 0x9E3779B97F4A7C15ull;
static double vrand(void)
{
    vrng ^= vrng << 13;
    vrng ^= vrng >> 7;
    vrng ^= vrng << 17;
    return (double)(vrng >> 11) / 9007199254740992.0;
}

/* One random observation; kind picks the regime (sparse voiced, dense,
 * unvoiced, voiced probability clipped at 1, exact ties). */
static void random_obs(vx__pyin_obs *o, int kind)
{
    memset(o, 0, sizeof *o);
    int n = kind == 2 ? 0 : kind == 1 ? 30 + (int)(vrand() * 150) : 1 + (int)(vrand() * 12);
    int b = (int)(vrand() * 40);
    double sum = 0.0;
    for (int c = 0; c < n && b < VX__PYIN_N_BINS; c++) {
        o->bin[o->n] = (uint16_t)b;
        double p = kind == 4 ? 0.125 : vrand() * vrand();
        if (vrand() < 0.1)
            p *= 1e-30; /* far below the others */
        o->prob[o->n++] = p;
        sum += p;
        b += 1 + (int)(vrand() * (kind == 1 ? 3 : 60));
    }
    if (kind == 3 && sum > 0.0) /* probabilities summing past 1: clipped */
        for (int c = 0; c < o->n; c++)
            o->prob[c] *= 1.5 / sum;
    else if (sum > 1.0)
        for (int c = 0; c < o->n; c++)
            o->prob[c] /= sum;
    double vp = 0.0;
    for (int c = 0; c < o->n; c++)
        vp += o->prob[c];
    o->voiced_prob = vp > 1.0 ? 1.0 : vp;
}

/* librosa.sequence._viterbi over the dense 798 x 798 log transition matrix
 * (log(DBL_MIN) outside the band), brute force over every source state,
 * with the decoder's one documented shortcut: within each source block the
 * argmax is taken under the stay kernel for both target blocks (in exact
 * arithmetic the switch kernel is the stay kernel plus a constant; in
 * floating point the two can order a near-tie differently, and a fully
 * dense argmax then decides an occasional random near-tie frame the other
 * way -- none of the librosa fixtures). */
static void dense_viterbi(const vx__pyin_tables *t, const vx__pyin_obs *obs, size_t nf,
                          uint16_t *states)
{
    enum { NS = VX__PYIN_N_STATES, NB = VX__PYIN_N_BINS };
    double *lt = malloc(sizeof(double) * NS * NS); /* [to][from] */
    uint16_t *ptr = malloc(sizeof(uint16_t) * NS * nf);
    double val[NS], nval[NS], lobs[NS];
    assert_non_null(lt);
    assert_non_null(ptr);
    for (int j = 0; j < NS; j++)
        for (int i = 0; i < NS; i++)
            lt[(size_t)j * NS + i] = vx__pyin_log_trans(t, i, j);
    for (size_t f = 0; f < nf; f++) {
        for (int b = 0; b < NB; b++)
            lobs[b] = log(0.0 + DBL_MIN);
        for (int c = 0; c < obs[f].n; c++)
            lobs[obs[f].bin[c]] = log(obs[f].prob[c] + DBL_MIN);
        for (int b = 0; b < NB; b++)
            lobs[NB + b] = log((1.0 - obs[f].voiced_prob) / NB + DBL_MIN);
        if (f == 0) {
            for (int s = 0; s < NS; s++)
                val[s] = lobs[s] + vx__pyin_log_init(t);
            continue;
        }
        for (int j = 0; j < NS; j++) {
            const double *row = lt + (size_t)j * NS;
            /* per source block: first-index argmax under the stay kernel
             * (the switch kernel is the same plus log(0.01/0.99)), then
             * the exact value of the transition taken; voiced wins ties */
            const int jb = j % NB;
            double bv[2];
            int ba[2];
            for (int blk = 0; blk < 2; blk++) {
                bv[blk] = -INFINITY;
                ba[blk] = blk * NB;
                for (int i = blk * NB; i < (blk + 1) * NB; i++) {
                    double x = val[i] + lt[(size_t)jb * NS + i % NB];
                    if (x > bv[blk]) {
                        bv[blk] = x;
                        ba[blk] = i;
                    }
                }
            }
            double xv = val[ba[0]] + row[ba[0]], xu = val[ba[1]] + row[ba[1]];
            double best = xv >= xu ? xv : xu;
            int arg = xv >= xu ? ba[0] : ba[1];
            nval[j] = lobs[j] + best;
            ptr[f * NS + (size_t)j] = (uint16_t)arg;
        }
        memcpy(val, nval, sizeof val);
    }
    int s = 0;
    for (int i = 1; i < NS; i++)
        if (val[i] > val[s])
            s = i;
    for (size_t f = nf; f-- > 0;) {
        states[f] = (uint16_t)s;
        if (f > 0)
            s = ptr[f * NS + (size_t)s];
    }
    free(lt);
    free(ptr);
}

/* Decodes obs with the streaming decoder and with dense_viterbi and fails
 * on the first frame where the paths differ (got, want: nf entries). */
static void decode_matches_dense(const vx__pyin_tables *t, const vx__pyin_obs *obs, size_t nf,
                                 uint16_t *got, uint16_t *want, int seq)
{
    vx__viterbi *v = vx__viterbi_new(t);
    assert_non_null(v);
    for (size_t f = 0; f < nf; f++)
        assert_int_equal(vx__viterbi_push(v, &obs[f]), VX_OK);
    assert_int_equal(vx__viterbi_decode(v, got), VX_OK);
    vx__viterbi_free(v);
    dense_viterbi(t, obs, nf, want);
    for (size_t f = 0; f < nf; f++)
        if (got[f] != want[f]) {
            print_error("sequence %d frame %zu: state %u, dense %u\n", seq, f, got[f], want[f]);
            fail();
        }
}

/* The sparse / banded decoder must give librosa's dense decoder's path on
 * random observation sequences of every regime, including exact ties and
 * frames whose unvoiced observation is the log(DBL_MIN) floor. */
static void test_viterbi_matches_dense(void **state)
{
    (void)state;
    vx__pyin_tables *t = vx__pyin_tables_new();
    assert_non_null(t);
    const size_t nf = 200; /* past a convergence check */
    vx__pyin_obs *obs = malloc(nf * sizeof *obs);
    uint16_t *got = malloc(nf * sizeof *got), *want = malloc(nf * sizeof *want);
    assert_non_null(obs);
    for (int seq = 0; seq < 8; seq++) {
        int regime = seq % 5; /* 0..4 as in random_obs; mixed within a run */
        for (size_t f = 0; f < nf; f++) {
            int kind = vrand() < 0.6 ? regime : (int)(vrand() * 5);
            if (seq == 7 && f > 0 && vrand() < 0.5) {
                obs[f] = obs[f - 1]; /* repeated frames */
                continue;
            }
            random_obs(&obs[f], kind);
        }
        decode_matches_dense(t, obs, nf, got, want, seq);
    }
    free(obs);
    free(got);
    free(want);
    vx__pyin_tables_free(t);
}

/* The decoder keeps per-frame shortcuts that depend on the previous frame
 * (the significant voiced sources are looked up among its candidate bins
 * when its other voiced values are provably below the threshold; the
 * out-of-band floor is skipped when a bound of its maximum settles it): long
 * runs of one regime and switches between them, candidate bins in any order
 * (the shortcut must notice), exact ties and voiced probability 1 (the
 * unvoiced observation at the floor), against the dense decoder. */
static void test_viterbi_shortcuts_match_dense(void **state)
{
    (void)state;
    vx__pyin_tables *t = vx__pyin_tables_new();
    assert_non_null(t);
    const size_t nf = 300;
    vx__pyin_obs *obs = malloc(nf * sizeof *obs);
    uint16_t *got = malloc(nf * sizeof *got), *want = malloc(nf * sizeof *want);
    assert_non_null(obs);
    for (int seq = 0; seq < 6; seq++) {
        int kind = seq % 5;
        for (size_t f = 0; f < nf; f++) {
            if (vrand() < 0.05) /* runs of one regime */
                kind = (int)(vrand() * 5);
            random_obs(&obs[f], kind);
            if (vrand() < 0.2) /* the same candidates in another order */
                for (int c = obs[f].n - 1; c > 0; c--) {
                    int j = (int)(vrand() * (c + 1));
                    uint16_t tb = obs[f].bin[c];
                    double tp = obs[f].prob[c];
                    obs[f].bin[c] = obs[f].bin[j];
                    obs[f].prob[c] = obs[f].prob[j];
                    obs[f].bin[j] = tb;
                    obs[f].prob[j] = tp;
                }
        }
        decode_matches_dense(t, obs, nf, got, want, seq);
    }
    free(obs);
    free(got);
    free(want);
    vx__pyin_tables_free(t);
}

/* The unvoiced block's divide and conquer (a static tree whose nodes
 * search fixed 32- or 48-source windows widened inside their bands, longer
 * ranges in a loop, leaves of 11 or 12 targets) against the dense decoder
 * on observations that make the unvoiced values steep and far-moving:
 * one or two strong candidates jumping across the whole range, voiced
 * probabilities near 0 and 1, so the argmax offsets swing between the band
 * edges and the node ranges cross both window sizes. */
static void test_viterbi_jumps_match_dense(void **state)
{
    (void)state;
    vx__pyin_tables *t = vx__pyin_tables_new();
    assert_non_null(t);
    const size_t nf = 240;
    vx__pyin_obs *obs = malloc(nf * sizeof *obs);
    uint16_t *got = malloc(nf * sizeof *got), *want = malloc(nf * sizeof *want);
    assert_non_null(obs);
    for (int seq = 0; seq < 4; seq++) {
        for (size_t f = 0; f < nf; f++) {
            vx__pyin_obs *o = &obs[f];
            memset(o, 0, sizeof *o);
            int b0 = (int)(vrand() * 399), b1 = (int)(vrand() * 399);
            if (b1 < b0) {
                int tb = b0;
                b0 = b1;
                b1 = tb;
            }
            o->bin[o->n] = (uint16_t)b0;
            o->prob[o->n++] = 0.3 + 0.6 * vrand();
            if (b1 > b0 && vrand() < 0.5) {
                o->bin[o->n] = (uint16_t)b1;
                o->prob[o->n++] = 0.05 * vrand();
            }
            double vp = 0.0;
            for (int c = 0; c < o->n; c++)
                vp += o->prob[c];
            o->voiced_prob = seq & 1 ? (vp > 1.0 ? 1.0 : vp) : 0.02 * vrand();
        }
        decode_matches_dense(t, obs, nf, got, want, seq);
    }
    free(obs);
    free(got);
    free(want);
    vx__pyin_tables_free(t);
}

/* The block-assembled autocorrelation behind the CMND against a direct
 * O(n * lag) sum in double, and the batched front end against single
 * frames, bit for bit. */
static void test_yin_blocks_match_direct_acf(void **state)
{
    (void)state;
    enum { NF = 9, NX = (NF - 1) * VX__PYIN_HOP + VX__PYIN_FRAME };
    float *x = malloc(NX * sizeof *x);
    assert_non_null(x);
    for (int i = 0; i < NX; i++) /* harmonic + noise + a loud and a silent stretch */
        x[i] = (float)(0.4 * sin(2.0 * M_PI * 173.0 * i / SR) + 0.2 * (vrand() - 0.5)) *
               (i > 3000 && i < 3600 ? 0.0f : (i > 5000 && i < 5400 ? 8.0f : 1.0f));
    vx__yin *y = vx__yin_new();
    vx__pyin_tables *t = vx__pyin_tables_new();
    assert_non_null(y);
    assert_non_null(t);
    double cm[VX__PYIN_N_YIN];
    for (int f = 0; f < NF; f++) {
        const float *fr = x + f * VX__PYIN_HOP;
        vx__yin_cmnd(y, fr, cm);
        /* reference: the same float32 CMND arithmetic on the exact ACF */
        double r[VX__PYIN_MAX_PERIOD + 1];
        for (int tau = 0; tau <= VX__PYIN_MAX_PERIOD; tau++) {
            double acc = 0.0;
            for (int j = 0; j + tau < VX__PYIN_FRAME; j++)
                acc += (double)fr[j] * (double)fr[j + tau];
            r[tau] = acc;
        }
        double cs = 0.0, run = 0.0, worst = 0.0;
        for (int tau = 1; tau <= VX__PYIN_MAX_PERIOD; tau++) {
            cs += (double)fr[tau - 1] * fr[tau - 1];
            double d = 2.0 * (r[0] - r[tau]) - cs;
            run += d;
            if (tau >= VX__PYIN_MIN_PERIOD) {
                double want = d / (run / tau + DBL_MIN);
                double err = fabs(cm[tau - VX__PYIN_MIN_PERIOD] - want) / (1.0 + fabs(want));
                worst = err > worst ? err : worst;
            }
        }
        assert_true(worst < 2e-4);
    }
    vx__pyin_obs one[NF], many[NF];
    for (int f = 0; f < NF; f++)
        vx__pyin_frame(y, t, x + f * VX__PYIN_HOP, &one[f]);
    vx__pyin_frames(y, t, x, NF, many);
    for (int f = 0; f < NF; f++) {
        assert_int_equal(one[f].n, many[f].n);
        assert_true(one[f].voiced_prob == many[f].voiced_prob);
        for (int c = 0; c < one[f].n; c++) {
            assert_int_equal(one[f].bin[c], many[f].bin[c]);
            assert_true(one[f].prob[c] == many[f].prob[c]);
        }
    }
    vx__yin_free(y);
    vx__pyin_tables_free(t);
    free(x);
}

static void assert_obs_equal(const vx__pyin_obs *a, const vx__pyin_obs *b)
{
    assert_int_equal(a->n, b->n);
    assert_memory_equal(&a->voiced_prob, &b->voiced_prob, sizeof a->voiced_prob);
    assert_memory_equal(a->bin, b->bin, (size_t)a->n * sizeof a->bin[0]);
    assert_memory_equal(a->prob, b->prob, (size_t)a->n * sizeof a->prob[0]);
}

/* vx__pyin_frames computes four frames side by side plus single tail
 * frames, and reuses the last three blocks of the previous call when the
 * next call's first blocks hold the same samples: every way of splitting
 * the frames into calls must give the same bits, and changed samples at
 * the same address must not be reused.  The signal mixes noise (many
 * troughs, frames where no trough is below the thresholds), a tone,
 * silence and a loud stretch. */
static void test_frames_batching_and_reuse(void **state)
{
    (void)state;
    enum { NF = 43, NX = (NF - 1) * VX__PYIN_HOP + VX__PYIN_FRAME };
    float *x = malloc(NX * sizeof *x), *buf = malloc(NX * sizeof *buf);
    assert_non_null(x);
    assert_non_null(buf);
    for (int i = 0; i < NX; i++) {
        double v = i < NX / 3 ? 0.6 * (vrand() - 0.5)
                              : 0.4 * sin(2.0 * M_PI * 211.0 * i / SR) + 0.05 * (vrand() - 0.5);
        if (i > NX / 2 && i < NX / 2 + 3000)
            v = 0.0;
        if (i > 3 * NX / 4 && i < 3 * NX / 4 + 1500)
            v *= 20.0;
        x[i] = (float)v;
    }
    vx__pyin_tables *t = vx__pyin_tables_new();
    assert_non_null(t);
    vx__pyin_obs *ref = malloc(NF * sizeof *ref), *got = malloc(NF * sizeof *got);
    assert_non_null(ref);
    assert_non_null(got);

    vx__yin *y = vx__yin_new();
    assert_non_null(y);
    vx__pyin_frames(y, t, x, NF, ref);
    vx__yin_free(y);
    int voiced = 0, unvoiced = 0;
    for (int f = 0; f < NF; f++) {
        voiced += ref[f].voiced_prob > 0.5;
        unvoiced += ref[f].voiced_prob < 0.1;
    }
    assert_true(voiced > 5 && unvoiced > 5);

    /* frame by frame, then calls of 1, 2, 3, 5, 7, ... frames */
    y = vx__yin_new();
    assert_non_null(y);
    for (int f = 0; f < NF; f++)
        vx__pyin_frame(y, t, x + f * VX__PYIN_HOP, &got[f]);
    for (int f = 0; f < NF; f++)
        assert_obs_equal(&ref[f], &got[f]);
    static const int sizes[] = {1, 2, 3, 5, 7, 4, 8, 6};
    for (int f = 0, k = 0; f < NF; k++) {
        int c = sizes[k % 8] < NF - f ? sizes[k % 8] : NF - f;
        vx__pyin_frames(y, t, x + f * VX__PYIN_HOP, (size_t)c, &got[f]);
        f += c;
    }
    for (int f = 0; f < NF; f++)
        assert_obs_equal(&ref[f], &got[f]);

    /* the same address with other samples: run frames 0..9 on buf, change
     * samples in block 10 (the first block of frame 10 and one of the last
     * call's last three blocks), then run frames 10.. from the same place */
    memcpy(buf, x, NX * sizeof *buf);
    vx__pyin_frames(y, t, buf, 10, got);
    for (int f = 0; f < 10; f++)
        assert_obs_equal(&ref[f], &got[f]);
    for (int i = 10 * VX__PYIN_HOP + 100; i < NX; i++)
        buf[i] = buf[i] * 0.5f + 0.01f;
    vx__pyin_frames(y, t, buf + 10 * VX__PYIN_HOP, NF - 10, &got[10]);
    vx__yin *y2 = vx__yin_new();
    assert_non_null(y2);
    vx__pyin_frames(y2, t, buf, NF, ref);
    for (int f = 10; f < NF; f++)
        assert_obs_equal(&ref[f], &got[f]);

    vx__yin_free(y);
    vx__yin_free(y2);
    vx__pyin_tables_free(t);
    free(ref);
    free(got);
    free(x);
    free(buf);
}

/* Non-finite samples are reported at their exact index wherever they sit
 * (vector body, block ends, scalar tail), in one push or after earlier
 * pushes; the largest finite values and subnormals are accepted. */
static void test_nonfinite_sample_index(void **state)
{
    (void)state;
    enum { N = 5000 };
    float *x = malloc(N * sizeof *x);
    assert_non_null(x);
    for (int i = 0; i < N; i++)
        x[i] = (float)(0.3 * sin(0.01 * i));
    x[10] = FLT_MAX;
    x[11] = -FLT_MAX;
    x[12] = FLT_MIN / 8.0f;
    x[13] = -0.0f;
    vx_analysis *a = NULL;
    vx_error e;
    assert_int_equal(vx_analyze_samples(x, N, SR, NULL, &a, &e), VX_OK);
    vx_analysis_free(a);
    static const size_t pos[] = {0, 7, 31, 32, 33, 2047, 2048, 2049, 4095, 4096, 4990, 4999};
    const float bad[] = {NAN, INFINITY, -INFINITY, -NAN};
    for (size_t p = 0; p < sizeof pos / sizeof pos[0]; p++)
        for (size_t b = 0; b < sizeof bad / sizeof bad[0]; b++) {
            float keep = x[pos[p]];
            x[pos[p]] = bad[b];
            char want[64];
            snprintf(want, sizeof want, "sample %zu is not finite", pos[p]);
            a = NULL;
            assert_int_equal(vx_analyze_samples(x, N, SR, NULL, &a, &e), VX_EINVAL);
            assert_null(a);
            assert_non_null(strstr(e.message, want));
            /* pushed after 1000 good samples: the index counts from the start */
            if (pos[p] >= 1000) {
                vx_analyzer *an = NULL;
                assert_int_equal(vx_analyzer_new(NULL, &an, &e), VX_OK);
                assert_int_equal(vx_analyzer_push(an, x, 1000, &e), VX_OK);
                assert_int_equal(vx_analyzer_push(an, x + 1000, N - 1000, &e), VX_EINVAL);
                assert_non_null(strstr(e.message, want));
                vx_analyzer_free(an);
            }
            x[pos[p]] = keep;
        }
    free(x);
}

/* Frames with many troughs below the thresholds (more than 64
 * candidates: several words of candidate bits), frames whose sums
 * overflow (NaN or infinite means: the front end's exact trough path) and
 * subnormal frames give the same bits however the frames are batched. */
static void test_frames_many_troughs_and_overflow(void **state)
{
    (void)state;
    enum { NF = 60, NX = (NF - 1) * VX__PYIN_HOP + VX__PYIN_FRAME };
    float *x = malloc(NX * sizeof *x);
    assert_non_null(x);
    for (int i = 0; i < NX; i++) {
        int kind = i / VX__PYIN_HOP / 12;
        double t = (double)i / SR, v;
        if (kind == 0)
            v = 0.4 * sin(2.0 * M_PI * 4900.0 * t) + 0.001 * (vrand() - 0.5);
        else if (kind == 1)
            v = 1e18 * (vrand() - 0.5);
        else if (kind == 2)
            v = 3e16 * (vrand() - 0.5);
        else if (kind == 3)
            v = 1e-30 * (vrand() - 0.5);
        else
            v = 0.3 * sin(2.0 * M_PI * 7000.0 * t) + 0.2 * sin(2.0 * M_PI * 5100.0 * t);
        x[i] = (float)v;
    }
    vx__pyin_tables *t = vx__pyin_tables_new();
    vx__yin *y = vx__yin_new();
    assert_non_null(t);
    assert_non_null(y);
    vx__pyin_obs *ref = malloc(NF * sizeof *ref), *got = malloc(NF * sizeof *got);
    assert_non_null(ref);
    assert_non_null(got);
    vx__pyin_frames(y, t, x, NF, ref);
    int most = 0;
    for (int f = 0; f < NF; f++)
        most = ref[f].n > most ? ref[f].n : most;
    assert_true(most > 64);
    for (int f = 0; f < NF; f++)
        vx__pyin_frame(y, t, x + f * VX__PYIN_HOP, &got[f]);
    for (int f = 0; f < NF; f++)
        assert_obs_equal(&ref[f], &got[f]);
    for (int f = 0; f < NF; f += 3)
        vx__pyin_frames(y, t, x + f * VX__PYIN_HOP, NF - f < 3 ? (size_t)(NF - f) : 3, &got[f]);
    for (int f = 0; f < NF; f++)
        assert_obs_equal(&ref[f], &got[f]);
    vx__yin_free(y);
    vx__pyin_tables_free(t);
    free(ref);
    free(got);
    free(x);
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

/* The log transition table against librosa's definition computed here
 * plainly (triangular window of half-width 50 bins, rows normalised, 1 %
 * voicing switch, log(p + tiny)): the table may differ only by the
 * rounding of numpy's summation order in the row sums (a few ulps), never
 * by a misplaced entry. */
static void test_transition_table_formula(void **state)
{
    (void)state;
    const vx__pyin_tables *t = vx__pyin_tables_shared();
    assert_non_null(t);
    const int n = VX__PYIN_N_BINS, band = VX__PYIN_BAND;
    const double log_tiny = log(DBL_MIN);
    for (int from = 0; from < VX__PYIN_N_STATES; from++) {
        int bf = from % n;
        double s = 0.0;
        for (int j = 0; j < n; j++)
            if (abs(bf - j) <= band)
                s += (double)(2 * (band + 1 - abs(bf - j))) / (double)(2 * band + 2);
        for (int to = 0; to < VX__PYIN_N_STATES; to++) {
            int bt = to % n, d = abs(bf - bt);
            double got = vx__pyin_log_trans(t, from, to);
            if (d > band) {
                assert_true(got == log_tiny);
                continue;
            }
            double p = (from < n) == (to < n) ? 0.99 : 0.01;
            double want = log(p * ((double)(2 * (band + 1 - d)) / (double)(2 * band + 2)) / s + DBL_MIN);
            if (fabs(got - want) > 1e-13 * fabs(want))
                fail_msg("log_trans(%d, %d) = %.17g, formula %.17g", from, to, got, want);
        }
    }
}

/* vx_analysis_from_json: argument misuse, bad documents, and a round trip
 * through vx_analysis_to_json. */
static void test_json_parse(void **state)
{
    (void)state;
    vx_analysis *a = (vx_analysis *)&a, *b = NULL;
    vx_error e;
    assert_int_equal(vx_analysis_from_json(NULL, 0, &b, &e), VX_EINVAL);
    assert_non_null(strstr(e.message, "NULL argument"));
    assert_int_equal(vx_analysis_from_json("{}", 2, NULL, &e), VX_EINVAL);
    assert_int_equal(vx_analysis_from_json("{}", 2, &a, NULL), VX_EINVAL);
    assert_null(a); /* *out is cleared on every error */
    static const struct {
        const char *doc, *msg;
    } bad[] = {
        {"", "analysis JSON"},
        {"not json", "analysis JSON"},
        {"[1,2]", "not an object"},
        {"{\"pitch\":{\"mean_hz\":120}}", "spectral.centroid_mean_hz"},
        {"{\"pitch\":{\"mean_hz\":\"x\"},\"spectral\":{\"centroid_mean_hz\":1}}", "pitch.mean_hz"},
        {"{\"pitch\":{\"mean_hz\":1},\"pitch\":{\"mean_hz\":2},\"spectral\":{\"centroid_mean_hz\":1}}",
         "duplicate"},
    };
    for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++) {
        b = (vx_analysis *)&b;
        assert_int_equal(vx_analysis_from_json(bad[k].doc, strlen(bad[k].doc), &b, &e), VX_EINVAL);
        assert_null(b);
        if (!strstr(e.message, bad[k].msg))
            fail_msg("%s: message '%s' lacks '%s'", bad[k].doc, e.message, bad[k].msg);
    }
    /* len bounds the document: a valid prefix is not read past */
    const char *two = "{\"pitch\":{\"mean_hz\":100},\"spectral\":{\"centroid_mean_hz\":5}}XYZ";
    assert_int_equal(vx_analysis_from_json(two, strlen(two) - 3, &b, &e), VX_OK);
    assert_true(b->pitch_mean_hz == 100.0 && b->centroid_mean_hz == 5.0 && !b->has_mfcc);
    assert_string_equal(b->voice_type, "Low (male)");
    vx_analysis_free(b);

    double f = 180.0;
    float *x = make_signal(SR, gen_sine, &f);
    vx_analysis *o = analyze(x, SR, 1);
    char *js = vx_analysis_to_json(o, VX_JSON_DETAILED);
    assert_non_null(js);
    assert_int_equal(vx_analysis_from_json(js, strlen(js), &b, &e), VX_OK);
    assert_true(fabs(b->pitch_mean_hz - o->pitch_mean_hz) <= 1e-9 * o->pitch_mean_hz);
    assert_true(fabs(b->pitch_std_hz - o->pitch_std_hz) <= 1e-9 * (o->pitch_std_hz + 1.0));
    assert_true(fabs(b->centroid_mean_hz - o->centroid_mean_hz) <= 1e-9 * o->centroid_mean_hz);
    assert_string_equal(b->voice_type, o->voice_type);
    assert_int_equal(b->n_voiced, o->n_voiced);
    assert_int_equal(b->sample_rate_hz, o->sample_rate_hz);
    assert_true(b->has_mfcc);
    for (int k = 0; k < VX_N_MFCC; k++)
        assert_true(fabsf(b->mfcc_mean[k] - o->mfcc_mean[k]) <= 1e-5f * (fabsf(o->mfcc_mean[k]) + 1.0f));
    assert_null(b->frames);
    vx_analysis_free(b);
    free(js);
    vx_analysis_free(o);
    free(x);
}

/* The process-wide tables: one object, the same values as fresh tables. */
static void test_tables_shared(void **state)
{
    (void)state;
    const vx__pyin_tables *s1 = vx__pyin_tables_shared();
    assert_non_null(s1);
    assert_ptr_equal(s1, vx__pyin_tables_shared());
    vx__pyin_tables *t = vx__pyin_tables_new();
    assert_non_null(t);
    for (int b = 0; b < VX__PYIN_N_BINS; b++)
        assert_true(vx__pyin_bin_hz(s1, b) == vx__pyin_bin_hz(t, b));
    for (int i = 0; i < VX__PYIN_N_STATES; i += 37)
        for (int j = 0; j < VX__PYIN_N_STATES; j += 41)
            assert_true(vx__pyin_log_trans(s1, i, j) == vx__pyin_log_trans(t, i, j));
    assert_true(vx__pyin_log_init(s1) == vx__pyin_log_init(t));
    vx__pyin_tables_free(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_tables_shared),
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
        cmocka_unit_test(test_viterbi_matches_dense),
        cmocka_unit_test(test_viterbi_shortcuts_match_dense),
        cmocka_unit_test(test_viterbi_jumps_match_dense),
        cmocka_unit_test(test_yin_blocks_match_direct_acf),
        cmocka_unit_test(test_frames_batching_and_reuse),
        cmocka_unit_test(test_misuse),
        cmocka_unit_test(test_nonfinite_sample_index),
        cmocka_unit_test(test_frames_many_troughs_and_overflow),
        cmocka_unit_test(test_json_shape),
        cmocka_unit_test(test_json_parse),
        cmocka_unit_test(test_transition_table_formula),
    };
    return cmocka_run_group_tests_name("pyin", tests, NULL, NULL);
}
