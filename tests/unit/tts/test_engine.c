/*
 * test_engine.c -- the cloning engines: choice per language and fallback,
 * language tags, espeak-ng synthesis of all 12 languages, flite, Japanese
 * kanji -> kana, determinism of each engine, the voice fit and how the
 * settings move it.  The reference voice is a speaker of ../shared/evaldata
 * when present, otherwise a synthetic one (espeak-ng) -- said on stderr.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "tts/engine_private.h"
#include "tts/tts_internal.h"
#include "voxclone/voxclone.h"

static const char *shared_dir(void)
{
    const char *e = getenv("VX_SHARED_DIR");
    return e && *e ? e : VX_SHARED_DIR;
}

static const vx__voice_fit k_male = {115.0, 15.0, 175.0, 1.0, 0.0, 0};

static double rms(const float *x, size_t n)
{
    double s = 0.0;
    size_t i;
    for (i = 0; i < n; i++)
        s += (double)x[i] * x[i];
    return n ? sqrt(s / (double)n) : 0.0;
}

/* A reference voice: a shared speaker, else synthetic (espeak-ng, male). */
static vx_voice *load_voice(void)
{
    char path[1024];
    FILE *f;
    vx_voice *v = NULL;
    vx_error e;
    snprintf(path, sizeof path, "%s/evaldata/speakers/keele-m1/m1nw0000_seg01.wav", shared_dir());
    f = fopen(path, "rb");
    if (f) {
        fclose(f);
        assert_int_equal(vx_voice_from_file(path, &v, &e), VX_OK);
        return v;
    }
    fprintf(stderr, "note: %s not found: using a synthetic reference voice\n", path);
    {
        vx__pcm p = {0};
        vx_clone_result r;
        unsigned char *wav = NULL;
        size_t size = 0;
        assert_int_equal(vx__engine_espeak.synth("en",
                                                 "This is a synthetic reference voice. It speaks "
                                                 "a few sentences, slowly and clearly, so that "
                                                 "the analysis finds enough voiced speech.",
                                                 &k_male, NULL, 7, &p, &e),
                         VX_OK);
        memset(&r, 0, sizeof r);
        r.samples = p.x;
        r.n_samples = p.n;
        r.rate_hz = p.rate_hz;
        assert_int_equal(vx_clone_result_encode(&r, VX_AUDIO_FORMAT_WAV, &wav, &size, &e), VX_OK);
        assert_int_equal(vx_voice_from_memory(wav, size, &v, &e), VX_OK);
        free(wav);
        free(p.x);
    }
    return v;
}

/* ---- choice and fallback ------------------------------------------------ */

static void test_choice_per_language(void **state)
{
    vx_error e;
    const vx__engine *en;
    static const char *const others[] = {"fr", "es", "de", "it", "pt", "ru",
                                         "ar", "hi", "ja", "ko", "zh"};
    size_t i;
    (void)state;
    en = vx__engine_choose("en", 0, &e);
    assert_non_null(en);
    assert_string_equal(en->name, "flite");
    assert_string_equal(vx__engine_choose("en-US", 0, &e)->name, "flite");
    assert_string_equal(vx__engine_choose("EN_gb", 0, &e)->name, "flite");
    /* fallback order for English */
    assert_string_equal(vx__engine_choose("en", 1, &e)->name, "espeak-ng");
    assert_null(vx__engine_choose("en", 2, &e));
    for (i = 0; i < sizeof others / sizeof others[0]; i++) {
        const vx__engine *x = vx__engine_choose(others[i], 0, &e);
        assert_non_null(x);
        assert_string_equal(x->name, "espeak-ng");
        assert_null(vx__engine_choose(others[i], 1, &e));
    }
    assert_string_equal(vx__engine_choose("pt-BR", 0, &e)->name, "espeak-ng");
    assert_string_equal(vx__engine_choose("zh-CN", 0, &e)->name, "espeak-ng");
}

static void test_unknown_language_lists_supported(void **state)
{
    vx_error e;
    static const char *const bad[] = {"xx", "klingon", "e", "", "en-", "1a", "fr fr", "é"};
    size_t i;
    (void)state;
    assert_null(vx__engine_choose("xx", 0, &e));
    assert_int_equal(e.code, VX_EINVAL);
    assert_non_null(strstr(e.message, "en fr es de it pt ru ar hi ja ko zh"));
    assert_non_null(strstr(e.message, "'xx'"));
    for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        assert_null(vx__engine_choose(bad[i], 0, &e));
        assert_int_equal(e.code, VX_EINVAL);
        assert_non_null(strstr(e.message, "supported"));
    }
    assert_null(vx__engine_choose(NULL, 0, &e));
    assert_string_equal(vx_clone_languages(), "en fr es de it pt ru ar hi ja ko zh");
}

static void test_lang_normalize(void **state)
{
    char tag[VX__LANG_TAG_MAX + 1], base[8];
    vx_error e;
    (void)state;
    assert_int_equal(vx__lang_normalize("pt_BR", tag, base, &e), VX_OK);
    assert_string_equal(tag, "pt-br");
    assert_string_equal(base, "pt");
    assert_int_equal(vx__lang_normalize("ZH-Hans-CN", tag, base, &e), VX_OK);
    assert_string_equal(tag, "zh-hans-cn");
    assert_string_equal(base, "zh");
    assert_int_equal(vx__lang_normalize("en-US-x-really-too-long-tag-here-1234", tag, base, &e),
                     VX_EINVAL);
}

static void test_engines_declare_parameters(void **state)
{
    (void)state;
    /* built-in engines honour everything but the token-sampling parameters */
    assert_int_equal(vx__engine_espeak.honoured, vx_param_mask_builtin());
    assert_int_equal(vx__engine_flite.honoured, vx_param_mask_builtin());
    assert_int_equal(vx_param_mask_unused(vx__engine_flite.honoured),
                     VX_PARAM_MASK_TOKEN_SAMPLING);
    assert_true(vx__engine_flite.supports("en"));
    assert_false(vx__engine_flite.supports("fr"));
    assert_true(vx__engine_espeak.supports("zh"));
    assert_false(vx__engine_espeak.supports("xx"));
}

static void test_fallback_when_flite_fails(void **state)
{
    vx_voice *v = load_voice();
    vx_clone_result *r = NULL;
    vx_error e;
    (void)state;
    assert_int_equal(vx_clone_text(v, "en", "Hello world.", NULL, 1, &r, &e), VX_OK);
    assert_string_equal(r->engine, "flite");
    vx_clone_result_free(r);
    vx__engine_test_force_failure("flite");
    r = NULL;
    assert_int_equal(vx_clone_text(v, "en", "Hello world.", NULL, 1, &r, &e), VX_OK);
    assert_string_equal(r->engine, "espeak-ng");
    assert_true(rms(r->samples, r->n_samples) > 0.01);
    vx_clone_result_free(r);
    /* no engine left: the error names both failures */
    vx__engine_test_force_failure("espeak-ng");
    r = NULL;
    assert_int_equal(vx_clone_text(v, "fr", "Bonjour.", NULL, 1, &r, &e), VX_EINTERNAL);
    assert_null(r);
    assert_non_null(strstr(e.message, "espeak-ng"));
    vx__engine_test_force_failure(NULL);
    assert_int_equal(vx_clone_text(v, "fr", "Bonjour.", NULL, 1, &r, &e), VX_OK);
    assert_string_equal(r->engine, "espeak-ng");
    vx_clone_result_free(r);
    vx_voice_free(v);
}

/* ---- synthesis ----------------------------------------------------------- */

static const char *const k_texts[][2] = {
    {"en", "Hello, how are you today? The weather is nice."},
    {"fr", "Bonjour, comment allez-vous aujourd'hui ?"},
    {"es", "Hola, ¿cómo estás hoy? Hace buen tiempo."},
    {"de", "Hallo, wie geht es dir heute?"},
    {"it", "Ciao, come stai oggi?"},
    {"pt", "Olá, como você está hoje?"},
    {"ru", "Привет, как дела сегодня?"},
    {"ar", "مرحبا، كيف حالك اليوم؟"},
    {"hi", "नमस्ते, आज आप कैसे हैं?"},
    {"ja", "こんにちは、きょうは いい てんきですね。"},
    {"ko", "안녕하세요, 오늘 어떠세요?"},
    {"zh", "你好，你今天怎么样？"},
};

static void test_espeak_all_12_languages(void **state)
{
    size_t i;
    (void)state;
    for (i = 0; i < sizeof k_texts / sizeof k_texts[0]; i++) {
        vx__pcm p = {0};
        vx_error e;
        int rc = vx__engine_espeak.synth(k_texts[i][0], k_texts[i][1], &k_male, NULL, 3, &p, &e);
        if (rc != VX_OK)
            fprintf(stderr, "%s: %s\n", k_texts[i][0], e.message);
        assert_int_equal(rc, VX_OK);
        assert_int_equal(p.rate_hz, 22050);
        assert_true(p.n > (size_t)(0.5 * p.rate_hz)); /* > 0.5 s */
        assert_true(rms(p.x, p.n) > 0.02);
        free(p.x);
    }
}

static void test_zh_reads_hanzi(void **state)
{
    /* cmn-latn-pinyin reads hanzi like their pinyin; plain cmn would read
     * the tone digits as English numbers (much longer) */
    vx__pcm a = {0}, b = {0};
    vx_error e;
    double da, db;
    (void)state;
    assert_int_equal(vx__engine_espeak.synth("zh", "你好", &k_male, NULL, 1, &a, &e), VX_OK);
    assert_int_equal(vx__engine_espeak.synth("zh", "ni3 hao3", &k_male, NULL, 1, &b, &e), VX_OK);
    da = (double)a.n / a.rate_hz;
    db = (double)b.n / b.rate_hz;
    assert_true(fabs(da - db) < 0.15 * db);
    free(a.x);
    free(b.x);
}

static void test_flite_english(void **state)
{
    vx__pcm a = {0}, b = {0};
    vx_error e;
    vx__voice_fit female = {210.0, 25.0, 175.0, 1.05, 0.0, 1};
    (void)state;
    assert_int_equal(vx__engine_flite.synth("en", "Hello, this is flite.", &female, NULL, 9, &a, &e),
                     VX_OK);
    assert_int_equal(a.rate_hz, 16000);
    assert_true(rms(a.x, a.n) > 0.02);
    /* same input + seed -> same samples, even after another synthesis */
    assert_int_equal(vx__engine_flite.synth("en", "Something else.", &k_male, NULL, 2, &b, &e), VX_OK);
    free(b.x);
    b.x = NULL;
    assert_int_equal(vx__engine_flite.synth("en", "Hello, this is flite.", &female, NULL, 9, &b, &e),
                     VX_OK);
    assert_int_equal(a.n, b.n);
    assert_memory_equal(a.x, b.x, a.n * sizeof *a.x);
    free(a.x);
    free(b.x);
}

static void test_espeak_deterministic(void **state)
{
    vx__pcm a = {0}, b = {0}, c = {0};
    vx_error e;
    vx_settings s;
    (void)state;
    vx_settings_defaults(&s);
    assert_int_equal(vx__engine_espeak.synth("de", "Guten Morgen, wie geht es?", &k_male, &s, 5, &a,
                                             &e),
                     VX_OK);
    assert_int_equal(vx__engine_espeak.synth("fr", "Autre chose.", &k_male, &s, 6, &c, &e), VX_OK);
    free(c.x);
    assert_int_equal(vx__engine_espeak.synth("de", "Guten Morgen, wie geht es?", &k_male, &s, 5, &b,
                                             &e),
                     VX_OK);
    assert_int_equal(a.n, b.n);
    assert_memory_equal(a.x, b.x, a.n * sizeof *a.x);
    free(a.x);
    free(b.x);
}

static void test_espeak_follows_pitch(void **state)
{
    /* the fitted pitch reaches the synthesizer (open loop: within 20 %) */
    vx__voice_fit hi = k_male;
    vx__pcm lo_p = {0}, hi_p = {0};
    vx_analysis *a1 = NULL, *a2 = NULL;
    vx_analysis_opts o;
    vx_error e;
    (void)state;
    hi.pitch_hz = 220.0;
    assert_int_equal(vx__engine_espeak.synth("fr", k_texts[1][1], &k_male, NULL, 1, &lo_p, &e), VX_OK);
    assert_int_equal(vx__engine_espeak.synth("fr", k_texts[1][1], &hi, NULL, 1, &hi_p, &e), VX_OK);
    vx_analysis_opts_init(&o);
    o.n_threads = 1;
    assert_int_equal(vx_analyze_samples(lo_p.x, lo_p.n, 22050, &o, &a1, &e), VX_OK);
    assert_int_equal(vx_analyze_samples(hi_p.x, hi_p.n, 22050, &o, &a2, &e), VX_OK);
    assert_true(fabs(a1->pitch_mean_hz / 115.0 - 1.0) < 0.2);
    assert_true(fabs(a2->pitch_mean_hz / 220.0 - 1.0) < 0.2);
    vx_analysis_free(a1);
    vx_analysis_free(a2);
    free(lo_p.x);
    free(hi_p.x);
}

static void test_espeak_low_voice_stays_voiced(void **state)
{
    /* a low voice with a wide range: espeak-ng's base pitch is floored, so
     * its phrase-final falls stay periodic and pYIN finds most of the speech
     * voiced (without the floor, base 30-45 Hz: 4-20 % of the frames) */
    static const char *langs[] = {"de", "es", "fr"};
    static const char *texts[] = {
        "Ich möchte für morgen Abend einen Tisch für zwei Personen reservieren.",
        "Me gustaría reservar una mesa para dos personas mañana por la noche.",
        "Je voudrais réserver une table pour deux personnes demain soir."};
    vx__voice_fit low = k_male;
    vx_analysis_opts o;
    vx_error e;
    (void)state;
    low.pitch_hz = 78.0;
    low.pitch_range_hz = 19.0; /* the 25 % bound of fit.c */
    vx_analysis_opts_init(&o);
    o.n_threads = 1;
    for (size_t i = 0; i < 3; i++) {
        vx__pcm p = {0};
        vx_analysis *a = NULL;
        assert_int_equal(vx__engine_espeak.synth(langs[i], texts[i], &low, NULL, 1, &p, &e), VX_OK);
        assert_int_equal(vx_analyze_samples(p.x, p.n, 22050, &o, &a, &e), VX_OK);
        if (getenv("VX_TEST_VERBOSE"))
            printf("%s: %zu of %zu frames voiced, mean %.1f Hz\n", langs[i], a->n_voiced,
                   a->n_frames, a->pitch_mean_hz);
        assert_true((double)a->n_voiced >= 0.4 * (double)a->n_frames);
        assert_true(fabs(a->pitch_mean_hz / 78.0 - 1.0) < 0.25);
        vx_analysis_free(a);
        free(p.x);
    }
}

/* ---- Japanese -------------------------------------------------------------- */

static void test_ja_kanji(void **state)
{
    char *k = NULL;
    vx_error e;
    vx__pcm a = {0}, b = {0};
    (void)state;
    assert_true(vx__text_has_kanji("今日は"));
    assert_false(vx__text_has_kanji("きょうは カタカナ abc"));
    assert_int_equal(vx__ja_to_kana("今日は良い天気ですね。", &k, &e), VX_OK);
    assert_false(vx__text_has_kanji(k));
    assert_non_null(strstr(k, "テンキ"));
    free(k);
    /* a kanji without any reading is refused with a clear message */
    assert_int_equal(vx__ja_to_kana("彁を読む。", &k, &e), VX_EINVAL);
    assert_non_null(strstr(e.message, "kana"));
    /* the engine converts by itself: kanji text sounds like its kana form */
    assert_int_equal(vx__engine_espeak.synth("ja", "今日は良い天気です。", &k_male, NULL, 1, &a, &e),
                     VX_OK);
    assert_int_equal(vx__engine_espeak.synth("ja", "きょうは よい てんきです。", &k_male, NULL, 1, &b,
                                             &e),
                     VX_OK);
    assert_true(fabs((double)a.n - (double)b.n) < 0.3 * (double)b.n);
    free(a.x);
    free(b.x);
    assert_int_equal(vx__engine_espeak.synth("ja", "彁です。", &k_male, NULL, 1, &a, &e), VX_EINVAL);
}

/* ---- fit ------------------------------------------------------------------- */

static void test_fit_from_analysis(void **state)
{
    vx_analysis a;
    vx__voice_fit f;
    vx_error e;
    (void)state;
    memset(&a, 0, sizeof a);
    a.pitch_mean_hz = 210.0;
    a.pitch_std_hz = 120.0; /* octave errors: bounded */
    a.n_voiced = 100;
    a.has_metrics = 1;
    a.metrics.speaking_rate_syl_s = 7.6; /* very fast: bounded */
    a.metrics.formant_hz[0] = 900.0;     /* far above the base: bounded */
    a.metrics.formant_hz[1] = 2600.0;
    a.metrics.formant_hz[2] = 3900.0;
    a.metrics.hnr_db = 4.0;
    assert_int_equal(vx__fit_from_analysis(&a, &f, &e), VX_OK);
    assert_true(f.female);
    assert_true(fabs(f.pitch_hz - 210.0) < 1e-9);
    assert_true(f.pitch_range_hz <= 0.25 * 210.0 + 1e-9);
    assert_true(f.formant_scale <= 1.1 + 1e-9 && f.formant_scale >= 0.9 - 1e-9);
    assert_true(fabs(f.formant_scale - 1.1) < 1e-9);
    assert_true(f.rate_wpm <= 175.0 * 1.35 + 1e-9);
    assert_true(f.breath > 0.9 && f.breath <= 1.0);
    a.pitch_mean_hz = 95.0;
    a.pitch_std_hz = 10.0;
    a.metrics.formant_hz[0] = 300.0;
    a.metrics.formant_hz[1] = 1000.0;
    a.metrics.formant_hz[2] = 2000.0;
    a.metrics.hnr_db = 20.0;
    assert_int_equal(vx__fit_from_analysis(&a, &f, &e), VX_OK);
    assert_false(f.female);
    assert_true(fabs(f.formant_scale - 0.9) < 1e-9);
    assert_true(f.breath == 0.0);
    a.n_voiced = 0;
    a.pitch_mean_hz = 0.0;
    assert_int_equal(vx__fit_from_analysis(&a, &f, &e), VX_EINVAL);
}

static void test_fit_command_settings(void **state)
{
    vx__voice_fit f = {150.0, 20.0, 175.0 * 1.2, 1.0, 0.0, 0};
    vx__synth_cmd c0, c1, c2, n;
    vx_settings s;
    (void)state;
    vx_settings_defaults(&s);
    /* neutral (calibration): as fitted, engine's normal rate */
    vx__fit_command(&f, NULL, 1, &n);
    assert_true(n.pitch_hz == 150.0 && n.pitch_std_hz == 20.0 && n.rate_ratio == 1.0);
    /* exaggeration scales the range; temperature minimal */
    s.temperature = 0.1;
    s.exaggeration = 0.0;
    vx__fit_command(&f, &s, 1, &c0);
    s.exaggeration = 1.0;
    vx__fit_command(&f, &s, 1, &c1);
    assert_true(c1.pitch_std_hz > 2.5 * c0.pitch_std_hz);
    /* cfg_weight: the engines speak at their normal rate whatever it is (the
     * converter follows the reference's rate; applying it twice is wrong) */
    s.exaggeration = 0.5;
    s.cfg_weight = 0.0;
    vx__fit_command(&f, &s, 1, &c0);
    s.cfg_weight = 1.0;
    vx__fit_command(&f, &s, 1, &c1);
    assert_true(c0.rate_ratio == 1.0 && c1.rate_ratio == 1.0);
    /* temperature: seeded variation, reproducible, larger when hotter */
    s.temperature = 2.0;
    vx__fit_command(&f, &s, 42, &c1);
    vx__fit_command(&f, &s, 42, &c2);
    assert_true(c1.pitch_hz == c2.pitch_hz && c1.pitch_std_hz == c2.pitch_std_hz);
    vx__fit_command(&f, &s, 43, &c2);
    assert_true(c1.pitch_hz != c2.pitch_hz);
    assert_true(fabs(c1.pitch_hz / 150.0 - 1.0) < 0.2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_choice_per_language),
        cmocka_unit_test(test_unknown_language_lists_supported),
        cmocka_unit_test(test_lang_normalize),
        cmocka_unit_test(test_engines_declare_parameters),
        cmocka_unit_test(test_espeak_all_12_languages),
        cmocka_unit_test(test_zh_reads_hanzi),
        cmocka_unit_test(test_flite_english),
        cmocka_unit_test(test_espeak_deterministic),
        cmocka_unit_test(test_espeak_follows_pitch),
        cmocka_unit_test(test_espeak_low_voice_stays_voiced),
        cmocka_unit_test(test_ja_kanji),
        cmocka_unit_test(test_fit_from_analysis),
        cmocka_unit_test(test_fit_command_settings),
        cmocka_unit_test(test_fallback_when_flite_fails),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
