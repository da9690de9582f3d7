/*
 * test_clone.c -- vx_voice, vx_clone_text, vx_convert_audio and encoding:
 * reference checks (silent / too short), bad inputs with clear errors,
 * determinism (same input + seed -> same bytes, also from 4 threads at
 * once), unused and adjusted parameter masks, device, sample rates, WAV and
 * MP3 (decoded back), long text split at sentences and joined without
 * clicks, Japanese kanji, verify_quality, audio -> audio.  References: a
 * female and a male speaker of ../shared/evaldata when present, otherwise
 * synthetic voices made with espeak-ng (said on stderr).
 */
#include <math.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "tts/engine_private.h"
#include "tts/tts_internal.h"
#include "voxclone/voxclone.h"

static const char *shared_dir(void)
{
    const char *e = getenv("VX_SHARED_DIR");
    return e && *e ? e : VX_SHARED_DIR;
}

static double rms(const float *x, size_t n)
{
    double s = 0.0;
    size_t i;
    for (i = 0; i < n; i++)
        s += (double)x[i] * x[i];
    return n ? sqrt(s / (double)n) : 0.0;
}

static unsigned char *wav_of(const float *x, size_t n, int rate, size_t *size)
{
    vx_clone_result r;
    unsigned char *wav = NULL;
    vx_error e;
    memset(&r, 0, sizeof r);
    r.samples = (float *)x;
    r.n_samples = n;
    r.rate_hz = rate;
    assert_int_equal(vx_clone_result_encode(&r, VX_AUDIO_FORMAT_WAV, &wav, size, &e), VX_OK);
    return wav;
}

static vx_voice *synthetic_voice(int female)
{
    vx__voice_fit f = {female ? 210.0 : 110.0, female ? 25.0 : 14.0, 165.0, 1.0, 0.0, female};
    vx__pcm p = {0};
    vx_voice *v = NULL;
    vx_error e;
    unsigned char *wav;
    size_t size;
    assert_int_equal(vx__engine_espeak.synth("en",
                                             "This is a synthetic reference voice. It reads a "
                                             "few sentences, calmly and clearly, so that the "
                                             "analysis finds enough voiced speech.",
                                             &f, NULL, 11, &p, &e),
                     VX_OK);
    wav = wav_of(p.x, p.n, p.rate_hz, &size);
    assert_int_equal(vx_voice_from_memory(wav, size, &v, &e), VX_OK);
    free(wav);
    free(p.x);
    return v;
}

static vx_voice *g_female, *g_male;

static vx_voice *voice_file(const char *rel, int female)
{
    char path[1024];
    FILE *f;
    vx_voice *v = NULL;
    vx_error e;
    snprintf(path, sizeof path, "%s/evaldata/speakers/%s", shared_dir(), rel);
    f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "note: %s not found: using a synthetic %s reference voice\n", path,
                female ? "female" : "male");
        return synthetic_voice(female);
    }
    fclose(f);
    if (vx_voice_from_file(path, &v, &e) != VX_OK)
        fprintf(stderr, "%s: %s\n", path, e.message);
    assert_non_null(v);
    return v;
}

static int setup(void **state)
{
    (void)state;
    g_female = voice_file("arctic-slt/slt_arctic_a0001.wav", 1);
    g_male = voice_file("keele-m1/m1nw0000_seg01.wav", 0);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    vx_voice_free(g_female);
    vx_voice_free(g_male);
    return 0;
}

static vx_clone_result *clone_ok(const vx_voice *v, const char *lang, const char *text,
                                 const vx_settings *s, uint64_t seed)
{
    vx_clone_result *r = NULL;
    vx_error e;
    int rc = vx_clone_text(v, lang, text, s, seed, &r, &e);
    if (rc != VX_OK)
        fprintf(stderr, "%s: %s\n", lang, e.message);
    assert_int_equal(rc, VX_OK);
    assert_non_null(r);
    return r;
}

/* ---- references ----------------------------------------------------------- */

static void test_reference_checks(void **state)
{
    const int rate = 22050;
    float *x = calloc((size_t)rate * 3, sizeof *x);
    unsigned char *wav;
    size_t size, i;
    vx_voice *v = (vx_voice *)1;
    vx_error e;
    (void)state;
    assert_non_null(x);
    /* 3 s of silence */
    wav = wav_of(x, (size_t)rate * 3, rate, &size);
    assert_int_equal(vx_voice_from_memory(wav, size, &v, &e), VX_EINVAL);
    assert_non_null(strstr(e.message, "voiced speech"));
    assert_non_null(strstr(e.message, "1.0 s"));
    free(wav);
    /* 0.3 s: too short for any analysis */
    for (i = 0; i < (size_t)rate * 3 / 10; i++)
        x[i] = 0.3f * (float)sin(2.0 * 3.141592653589793 * 150.0 * (double)i / rate);
    wav = wav_of(x, (size_t)rate * 3 / 10, rate, &size);
    assert_int_equal(vx_voice_from_memory(wav, size, &v, &e), VX_ETOOSHORT);
    free(wav);
    /* 2 s of which 0.5 s voiced: not enough to fit a voice */
    memset(x, 0, (size_t)rate * 3 * sizeof *x);
    for (i = 0; i < (size_t)rate / 2; i++)
        x[i] = 0.3f * (float)sin(2.0 * 3.141592653589793 * 150.0 * (double)i / rate);
    wav = wav_of(x, (size_t)rate * 2, rate, &size);
    assert_int_equal(vx_voice_from_memory(wav, size, &v, &e), VX_EINVAL);
    assert_non_null(strstr(e.message, "voiced speech"));
    free(wav);
    assert_true(v == (vx_voice *)1); /* untouched on error */
    assert_int_equal(vx_voice_from_file("/nonexistent/ref.wav", &v, &e), VX_EIO);
    assert_int_equal(vx_voice_from_file(NULL, &v, &e), VX_EINVAL);
    free(x);
    assert_non_null(vx_voice_analysis(g_female));
    assert_true(vx_voice_analysis(g_female)->has_voiceprint);
    assert_null(vx_voice_analysis(NULL));
    vx_voice_free(NULL);
}

/* ---- bad inputs ------------------------------------------------------------- */

static void test_bad_inputs(void **state)
{
    vx_clone_result *r = NULL;
    vx_error e;
    vx_settings s;
    char *big;
    (void)state;
    assert_int_equal(vx_clone_text(g_male, "en", "", NULL, 0, &r, &e), VX_EINVAL);
    assert_non_null(strstr(e.message, "empty"));
    assert_int_equal(vx_clone_text(g_male, "en", "  \n\t ", NULL, 0, &r, &e), VX_EINVAL);
    assert_int_equal(vx_clone_text(g_male, "en", NULL, NULL, 0, &r, &e), VX_EINVAL);
    assert_int_equal(vx_clone_text(g_male, "en", "...", NULL, 0, &r, &e), VX_EINVAL);
    assert_non_null(strstr(e.message, "nothing to speak"));
    assert_int_equal(vx_clone_text(g_male, "fr", " ... ", NULL, 0, &r, &e), VX_EINVAL);
    assert_int_equal(vx_clone_text(NULL, "en", "Hi.", NULL, 0, &r, &e), VX_EINVAL);
    assert_int_equal(vx_clone_text(g_male, "en", "Hi.", NULL, 0, NULL, &e), VX_EINVAL);
    big = malloc(VX_CLONE_MAX_TEXT + 2);
    assert_non_null(big);
    memset(big, 'a', VX_CLONE_MAX_TEXT + 1);
    big[VX_CLONE_MAX_TEXT + 1] = '\0';
    assert_int_equal(vx_clone_text(g_male, "en", big, NULL, 0, &r, &e), VX_EINVAL);
    assert_non_null(strstr(e.message, "20000"));
    free(big);
    assert_int_equal(vx_clone_text(g_male, "xx", "Hi.", NULL, 0, &r, &e), VX_EINVAL);
    assert_non_null(strstr(e.message, "en fr es de it pt ru ar hi ja ko zh"));
    assert_int_equal(vx_clone_text(g_male, NULL, "Hi.", NULL, 0, &r, &e), VX_EINVAL);
    assert_int_equal(vx_clone_text(g_male, "en", "bad \xC3\x28 utf8", NULL, 0, &r, &e), VX_EINVAL);
    assert_non_null(strstr(e.message, "UTF-8"));
    vx_settings_defaults(&s);
    s.temperature = 5.0;
    assert_int_equal(vx_clone_text(g_male, "en", "Hi.", &s, 0, &r, &e), VX_EINVAL);
    assert_non_null(strstr(e.message, "temperature"));
    assert_null(r);
}

/* ---- determinism, masks, device ---------------------------------------------- */

static void test_deterministic_bytes(void **state)
{
    static const char *const langs[][2] = {{"en", "Good morning. How are you?"},
                                           {"fr", "Bonjour. Comment allez-vous ?"}};
    size_t i;
    (void)state;
    for (i = 0; i < 2; i++) {
        vx_clone_result *a = clone_ok(g_female, langs[i][0], langs[i][1], NULL, 77);
        vx_clone_result *b = clone_ok(g_female, langs[i][0], langs[i][1], NULL, 77);
        vx_clone_result *c = clone_ok(g_female, langs[i][0], langs[i][1], NULL, 78);
        unsigned char *wa, *wb;
        size_t na, nb;
        vx_error e;
        assert_int_equal(a->n_samples, b->n_samples);
        assert_memory_equal(a->samples, b->samples, a->n_samples * sizeof *a->samples);
        assert_int_equal(vx_clone_result_encode(a, VX_AUDIO_FORMAT_MP3, &wa, &na, &e), VX_OK);
        assert_int_equal(vx_clone_result_encode(b, VX_AUDIO_FORMAT_MP3, &wb, &nb, &e), VX_OK);
        assert_int_equal(na, nb);
        assert_memory_equal(wa, wb, na);
        free(wa);
        free(wb);
        /* another seed: another natural variation */
        assert_true(c->n_samples != a->n_samples ||
                    memcmp(a->samples, c->samples, a->n_samples * sizeof *a->samples) != 0);
        vx_clone_result_free(a);
        vx_clone_result_free(b);
        vx_clone_result_free(c);
    }
}

static void test_caching_does_not_change_audio(void **state)
{
    vx_settings s;
    vx_clone_result *a, *b;
    (void)state;
    vx_settings_defaults(&s);
    a = clone_ok(g_male, "de", "Guten Tag.", &s, 3);
    s.enable_caching = 0;
    b = clone_ok(g_male, "de", "Guten Tag.", &s, 3);
    assert_int_equal(a->n_samples, b->n_samples);
    assert_memory_equal(a->samples, b->samples, a->n_samples * sizeof *a->samples);
    vx_clone_result_free(a);
    vx_clone_result_free(b);
}

static void test_masks_and_device(void **state)
{
    vx_settings s;
    vx_clone_result *r;
    const char *names[VX_PARAM_COUNT];
    static const vx_use_gpu gpus[] = {VX_USE_GPU_AUTO, VX_USE_GPU_TRUE, VX_USE_GPU_FALSE};
    size_t i;
    (void)state;
    vx_settings_defaults(&s);
    r = clone_ok(g_male, "fr", "Bonjour.", &s, 1);
    assert_int_equal(r->unused, VX_PARAM_MASK_TOKEN_SAMPLING);
    assert_int_equal(vx_param_mask_names(r->unused, names, VX_PARAM_COUNT), 3);
    assert_string_equal(names[0], "top_p");
    assert_string_equal(names[1], "min_p");
    assert_string_equal(names[2], "repetition_penalty");
    assert_int_equal(r->adjusted, VX_PARAM_BIT(VX_PARAM_CFG_WEIGHT));
    assert_true(r->effective.cfg_weight == 0.0);
    assert_string_equal(r->engine, "espeak-ng");
    assert_string_equal(r->language, "fr");
    vx_clone_result_free(r);
    r = clone_ok(g_male, "en-US", "Hello.", &s, 1);
    assert_int_equal(r->adjusted, 0);
    assert_true(r->effective.cfg_weight == 0.5);
    assert_string_equal(r->language, "en-US");
    vx_clone_result_free(r);
    s.auto_optimize = 0;
    r = clone_ok(g_male, "fr", "Bonjour.", &s, 1);
    assert_int_equal(r->adjusted, 0);
    assert_true(r->effective.cfg_weight == 0.5);
    vx_clone_result_free(r);
    for (i = 0; i < 3; i++) {
        s.use_gpu = gpus[i];
        r = clone_ok(g_male, "es", "Hola.", &s, 1);
        assert_string_equal(r->device, "cpu");
        vx_clone_result_free(r);
    }
}

static void test_sample_rates(void **state)
{
    static const int rates[] = {16000, 24000, 48000, 22050};
    vx_settings s;
    double d0 = 0.0;
    size_t i;
    (void)state;
    vx_settings_defaults(&s);
    for (i = 0; i < sizeof rates / sizeof rates[0]; i++) {
        vx_clone_result *r;
        s.sample_rate_hz = rates[i];
        r = clone_ok(g_female, "it", "Buongiorno a tutti.", &s, 2);
        assert_int_equal(r->rate_hz, rates[i]);
        assert_true(fabs(r->duration_s - (double)r->n_samples / rates[i]) < 1e-9);
        if (i == 0)
            d0 = r->duration_s;
        assert_true(fabs(r->duration_s - d0) < 0.01);
        assert_true(rms(r->samples, r->n_samples) > 0.01);
        vx_clone_result_free(r);
    }
}

/* ---- encoding --------------------------------------------------------------- */

static void test_encode_wav_mp3(void **state)
{
    vx_settings s;
    vx_clone_result *r;
    unsigned char *data = NULL;
    size_t size = 0, i;
    vx_audio *au = NULL;
    vx_decode_opts d;
    vx_error e;
    double maxd = 0.0;
    char path[256];
    (void)state;
    vx_settings_defaults(&s);
    s.sample_rate_hz = 24000;
    r = clone_ok(g_female, "en", "The quick brown fox jumps over the lazy dog.", &s, 4);
    vx_decode_opts_init(&d);
    d.target_rate_hz = 0;
    /* WAV: exact up to 16-bit rounding */
    assert_int_equal(vx_clone_result_encode(r, VX_AUDIO_FORMAT_WAV, &data, &size, &e), VX_OK);
    assert_int_equal(size, 44 + 2 * r->n_samples);
    assert_memory_equal(data, "RIFF", 4);
    assert_int_equal(vx_audio_decode_memory(data, size, &d, &au, &e), VX_OK);
    assert_int_equal(au->sample_rate_hz, 24000);
    assert_int_equal(au->n_samples, r->n_samples);
    for (i = 0; i < r->n_samples; i++) {
        double df = fabs((double)au->samples[i] - r->samples[i]);
        maxd = df > maxd ? df : maxd;
    }
    assert_true(maxd < 2.0 / 32768.0);
    vx_audio_free(au);
    free(data);
    /* MP3 at each sample rate of the range ends */
    assert_int_equal(vx_clone_result_encode(r, VX_AUDIO_FORMAT_MP3, &data, &size, &e), VX_OK);
    assert_true(size > 1000 && size < 2 * r->n_samples);
    au = NULL;
    assert_int_equal(vx_audio_decode_memory(data, size, &d, &au, &e), VX_OK);
    assert_int_equal(au->sample_rate_hz, 24000);
    assert_true(fabs((double)au->n_samples / 24000.0 - r->duration_s) < 0.1);
    assert_true(fabs(rms(au->samples, au->n_samples) - rms(r->samples, r->n_samples)) <
                0.25 * rms(r->samples, r->n_samples));
    vx_audio_free(au);
    free(data);
    /* files: the extension decides */
    snprintf(path, sizeof path, "/tmp/vx_test_clone_%ld.MP3", (long)getpid());
    assert_int_equal(vx_clone_result_write(r, path, &e), VX_OK);
    au = NULL;
    assert_int_equal(vx_audio_decode_file(path, &d, &au, &e), VX_OK);
    vx_audio_free(au);
    unlink(path);
    snprintf(path, sizeof path, "/tmp/vx_test_clone_%ld.wav", (long)getpid());
    assert_int_equal(vx_clone_result_write(r, path, &e), VX_OK);
    unlink(path);
    assert_int_equal(vx_clone_result_write(r, "/tmp/out.ogg", &e), VX_EINVAL);
    assert_non_null(strstr(e.message, ".wav or .mp3"));
    assert_int_equal(vx_clone_result_write(r, "/nonexistent-dir/x.wav", &e), VX_EIO);
    vx_clone_result_free(r);
}

static void test_mp3_rates(void **state)
{
    static const int rates[] = {16000, 48000};
    size_t i;
    (void)state;
    for (i = 0; i < 2; i++) {
        vx_clone_result r;
        unsigned char *data = NULL;
        size_t size = 0, k, n = (size_t)rates[i];
        vx_audio *au = NULL;
        vx_decode_opts d;
        vx_error e;
        float *x = malloc(n * sizeof *x);
        assert_non_null(x);
        for (k = 0; k < n; k++)
            x[k] = 0.4f * (float)sin(2.0 * 3.141592653589793 * 440.0 * (double)k / rates[i]);
        memset(&r, 0, sizeof r);
        r.samples = x;
        r.n_samples = n;
        r.rate_hz = rates[i];
        assert_int_equal(vx_clone_result_encode(&r, VX_AUDIO_FORMAT_MP3, &data, &size, &e), VX_OK);
        vx_decode_opts_init(&d);
        d.target_rate_hz = 0;
        assert_int_equal(vx_audio_decode_memory(data, size, &d, &au, &e), VX_OK);
        assert_int_equal(au->sample_rate_hz, rates[i]);
        vx_audio_free(au);
        free(data);
        free(x);
    }
}

/* ---- long text ---------------------------------------------------------------- */

static void test_long_text_no_clicks(void **state)
{
    const char *one = "The first sentence is here.";
    const char *many =
        "The first sentence is here. The second one follows it! Is this the third one? "
        "Yes, and here is the fourth. A fifth sentence, with a comma, ends the text.";
    vx_clone_result *a, *b;
    size_t i, run = 0, pauses = 0, hop;
    double jump_max = 0.0;
    (void)state;
    a = clone_ok(g_male, "en", one, NULL, 5);
    b = clone_ok(g_male, "en", many, NULL, 5);
    assert_true(b->duration_s > 3.0 * a->duration_s);
    /* pauses between sentences: >= 150 ms of 10 ms frames under -50 dBFS */
    hop = (size_t)b->rate_hz / 100;
    for (i = 0; i + hop <= b->n_samples; i += hop) {
        if (rms(b->samples + i, hop) < 0.003) {
            run++;
        } else {
            if (run >= 15 && i > run * hop)
                pauses++;
            run = 0;
        }
    }
    assert_true(pauses >= 4);
    /* no full-scale discontinuity anywhere (speech itself -- plosive
     * bursts of a level-matched voice -- has jumps up to ~0.5) */
    for (i = 1; i < b->n_samples; i++) {
        double j = fabs((double)b->samples[i] - b->samples[i - 1]);
        jump_max = j > jump_max ? j : jump_max;
    }
    assert_true(jump_max < 0.9);
    /* inside the pauses, where the pieces are joined, it is tiny: a hard
     * cut of speech would show as a jump of the speech's own size */
    run = 0;
    for (i = 0; i + hop <= b->n_samples; i += hop) {
        if (rms(b->samples + i, hop) < 0.003) {
            size_t k;
            for (k = i + 1; k < i + hop; k++)
                assert_true(fabs((double)b->samples[k] - b->samples[k - 1]) < 0.02);
        }
    }
    vx_clone_result_free(a);
    vx_clone_result_free(b);
}

static void test_long_text_without_punctuation(void **state)
{
    /* one 1200-byte "sentence": cut at spaces into pieces, still spoken */
    char *t = malloc(1300);
    size_t n = 0;
    vx_clone_result *r;
    (void)state;
    assert_non_null(t);
    while (n + 10 < 1200) {
        memcpy(t + n, "hola amigo ", 11);
        n += 11;
    }
    t[n] = '\0';
    r = clone_ok(g_male, "es", t, NULL, 1);
    assert_true(r->duration_s > 20.0);
    vx_clone_result_free(r);
    free(t);
}

/* ---- Japanese ----------------------------------------------------------------- */

static void test_ja_kanji_clone(void **state)
{
    vx_clone_result *r = NULL;
    vx_error e;
    (void)state;
    r = clone_ok(g_female, "ja", "今日は良い天気ですね。明日も晴れるでしょう。", NULL, 1);
    assert_true(r->duration_s > 1.0);
    assert_true(rms(r->samples, r->n_samples) > 0.01);
    vx_clone_result_free(r);
    r = NULL;
    assert_int_equal(vx_clone_text(g_female, "ja", "彁です。", NULL, 1, &r, &e), VX_EINVAL);
    assert_non_null(strstr(e.message, "kana"));
    assert_null(r);
}

/* ---- verify_quality ------------------------------------------------------------- */

static void test_verify_quality(void **state)
{
    vx_settings s;
    vx_clone_result *r;
    (void)state;
    vx_settings_defaults(&s);
    r = clone_ok(g_female, "en", "Hello, how are you doing today?", &s, 1);
    assert_false(r->has_similarity);
    vx_clone_result_free(r);
    s.verify_quality = 1;
    r = clone_ok(g_female, "en", "Hello, how are you doing today?", &s, 1);
    assert_true(r->has_similarity);
    assert_true(r->similarity.overall > 0.3 && r->similarity.overall <= 1.0);
    assert_true(r->similarity.pitch_similarity > 0.7); /* the fit reaches the pitch */
    assert_true(r->voiceprint_similarity >= -1.0 && r->voiceprint_similarity <= 1.0);
    assert_true(r->total_ms >= r->synth_ms + r->convert_ms - 1e-6);
    vx_clone_result_free(r);
}

/* ---- audio -> audio --------------------------------------------------------------- */

static void test_convert_audio(void **state)
{
    vx__voice_fit f = {120.0, 15.0, 175.0, 1.0, 0.0, 0};
    vx__pcm p = {0};
    vx_clone_result *r = NULL;
    vx_settings s;
    vx_error e;
    (void)state;
    assert_int_equal(vx__engine_espeak.synth("en", "This recording is spoken in another voice.", &f,
                                             NULL, 1, &p, &e),
                     VX_OK);
    vx_settings_defaults(&s);
    s.sample_rate_hz = 16000;
    s.cfg_weight = 0.0;  /* keep the recording's pace ... */
    s.temperature = 0.1; /* ... and no tempo wander: same duration */
    assert_int_equal(vx_convert_audio(g_female, p.x, p.n, p.rate_hz, &s, 1, &r, &e), VX_OK);
    assert_int_equal(r->rate_hz, 16000);
    assert_true(fabs(r->duration_s - (double)p.n / p.rate_hz) < 0.05);
    assert_string_equal(r->engine, "converter");
    assert_string_equal(r->device, "cpu");
    assert_true((r->unused & VX_PARAM_MASK_TOKEN_SAMPLING) == VX_PARAM_MASK_TOKEN_SAMPLING);
    assert_int_equal(r->adjusted, 0);
    vx_clone_result_free(r);
    r = NULL;
    assert_int_equal(vx_convert_audio(g_female, p.x, 100, p.rate_hz, &s, 1, &r, &e), VX_ETOOSHORT);
    assert_int_equal(vx_convert_audio(g_female, p.x, p.n, 1000, &s, 1, &r, &e), VX_EINVAL);
    p.x[10] = NAN;
    assert_int_equal(vx_convert_audio(g_female, p.x, p.n, p.rate_hz, &s, 1, &r, &e), VX_EINVAL);
    assert_null(r);
    free(p.x);
}

/* ---- threads ---------------------------------------------------------------------- */

typedef struct job {
    const char *lang, *text;
    uint64_t seed;
    vx_clone_result *r;
    int rc;
} job;

static void *run_job(void *arg)
{
    job *j = arg;
    vx_error e;
    j->rc = vx_clone_text(g_male, j->lang, j->text, NULL, j->seed, &j->r, &e);
    return NULL;
}

static void test_concurrent_equals_sequential(void **state)
{
    job jobs[4] = {{"en", "Hello from the first thread. It speaks English.", 11, NULL, 0},
                   {"fr", "Bonjour du deuxième fil. Il parle français.", 12, NULL, 0},
                   {"de", "Hallo vom dritten Faden. Er spricht Deutsch.", 13, NULL, 0},
                   {"zh", "你好，这是第四个线程。它说中文。", 14, NULL, 0}};
    job seq[4];
    pthread_t th[4];
    int round, i;
    (void)state;
    memcpy(seq, jobs, sizeof jobs);
    for (i = 0; i < 4; i++) {
        run_job(&seq[i]);
        assert_int_equal(seq[i].rc, VX_OK);
    }
    for (round = 0; round < 2; round++) {
        job par[4];
        memcpy(par, jobs, sizeof jobs);
        for (i = 0; i < 4; i++)
            assert_int_equal(pthread_create(&th[i], NULL, run_job, &par[i]), 0);
        for (i = 0; i < 4; i++)
            pthread_join(th[i], NULL);
        for (i = 0; i < 4; i++) {
            assert_int_equal(par[i].rc, VX_OK);
            assert_string_equal(par[i].r->engine, seq[i].r->engine);
            assert_int_equal(par[i].r->n_samples, seq[i].r->n_samples);
            assert_memory_equal(par[i].r->samples, seq[i].r->samples,
                                seq[i].r->n_samples * sizeof *seq[i].r->samples);
            vx_clone_result_free(par[i].r);
        }
    }
    for (i = 0; i < 4; i++)
        vx_clone_result_free(seq[i].r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_reference_checks),
        cmocka_unit_test(test_bad_inputs),
        cmocka_unit_test(test_deterministic_bytes),
        cmocka_unit_test(test_caching_does_not_change_audio),
        cmocka_unit_test(test_masks_and_device),
        cmocka_unit_test(test_sample_rates),
        cmocka_unit_test(test_encode_wav_mp3),
        cmocka_unit_test(test_mp3_rates),
        cmocka_unit_test(test_long_text_no_clicks),
        cmocka_unit_test(test_long_text_without_punctuation),
        cmocka_unit_test(test_ja_kanji_clone),
        cmocka_unit_test(test_verify_quality),
        cmocka_unit_test(test_convert_audio),
        cmocka_unit_test(test_concurrent_equals_sequential),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
