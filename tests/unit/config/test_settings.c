/*
 * test_settings.c -- the 14 parameters and 5 presets (SPEC section 4,
 * ../shared/presets.md): a validation table covering every parameter at and
 * just beyond its limits, every allowed and refused string, wrong types;
 * unknown keys, non-object / malformed / oversize JSON; each preset's values
 * cell by cell; defaults == balanced; preset + overrides; auto_optimize;
 * failed calls leave their output unchanged; exact JSON round trip; error
 * messages; argument misuse; docs/settings.md generated from the table.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "voxclone/voxclone.h"

#define KNOWN_PARAMS                                                                   \
    "exaggeration, cfg_weight, temperature, top_p, min_p, repetition_penalty, "          \
    "auto_optimize, use_gpu, batch_size, max_workers, enable_caching, audio_format, "    \
    "sample_rate, verify_quality"

static int apply(vx_settings *s, const char *json, vx_error *e)
{
    return vx_settings_apply_json(s, json, strlen(json), e);
}

static vx_settings preset(const char *name)
{
    vx_settings s;
    vx_error e;
    assert_int_equal(vx_preset_get(name, &s, &e), VX_OK);
    return s;
}

/* ------------------------------------------------------------------ */
/* The validation table                                                */
/* ------------------------------------------------------------------ */

typedef struct vcase {
    const char *key;
    const char *value;  /* JSON text of the value */
    const char *stored; /* accepted: the value read back (format_value); NULL = refused */
    const char *msg;    /* refused: the exact message, or NULL to check only field + allowed */
} vcase;

#define OK(k, v, st) {k, v, st, NULL}
#define NO(k, v, m) {k, v, NULL, m}

static const vcase k_cases[] = {
    /* numbers: min, max, just below, just above, wrong types */
    OK("exaggeration", "0", "0.0"), OK("exaggeration", "0.0", "0.0"),
    OK("exaggeration", "1.0", "1.0"), OK("exaggeration", "1", "1.0"),
    OK("exaggeration", "0.73", "0.73"),
    NO("exaggeration", "-0.001", "exaggeration = -0.001 is out of range 0.0..1.0"),
    NO("exaggeration", "1.001", "exaggeration = 1.001 is out of range 0.0..1.0"),
    NO("exaggeration", "\"0.5\"",
       "exaggeration = \"0.5\" has the wrong type: expected a number in 0.0..1.0"),
    NO("exaggeration", "true", "exaggeration = true has the wrong type: expected a number in 0.0..1.0"),
    NO("exaggeration", "null", "exaggeration = null has the wrong type: expected a number in 0.0..1.0"),
    NO("exaggeration", "[0.5]", "exaggeration = an array has the wrong type: expected a number in 0.0..1.0"),
    NO("exaggeration", "{}", "exaggeration = an object has the wrong type: expected a number in 0.0..1.0"),

    OK("cfg_weight", "0.0", "0.0"), OK("cfg_weight", "1.0", "1.0"),
    NO("cfg_weight", "-0.001", "cfg_weight = -0.001 is out of range 0.0..1.0"),
    NO("cfg_weight", "1.001", NULL), NO("cfg_weight", "-1", "cfg_weight = -1 is out of range 0.0..1.0"),
    NO("cfg_weight", "\"high\"", NULL), NO("cfg_weight", "false", NULL), NO("cfg_weight", "null", NULL),

    OK("temperature", "0.1", "0.1"), OK("temperature", "2.0", "2.0"), OK("temperature", "2", "2.0"),
    NO("temperature", "0.099", "temperature = 0.099 is out of range 0.1..2.0"),
    NO("temperature", "2.001", "temperature = 2.001 is out of range 0.1..2.0"),
    NO("temperature", "2.5", "temperature = 2.5 is out of range 0.1..2.0"),
    NO("temperature", "0", "temperature = 0 is out of range 0.1..2.0"),
    NO("temperature", "1e300", "temperature = 1e+300 is out of range 0.1..2.0"),
    NO("temperature", "\"hot\"",
       "temperature = \"hot\" has the wrong type: expected a number in 0.1..2.0"),
    NO("temperature", "null", NULL), NO("temperature", "true", NULL),

    OK("top_p", "0.0", "0.0"), OK("top_p", "1.0", "1.0"),
    NO("top_p", "-0.001", NULL), NO("top_p", "1.001", "top_p = 1.001 is out of range 0.0..1.0"),
    NO("top_p", "\"0.9\"", NULL), NO("top_p", "null", NULL),

    OK("min_p", "0.0", "0.0"), OK("min_p", "1.0", "1.0"),
    NO("min_p", "-0.001", "min_p = -0.001 is out of range 0.0..1.0"), NO("min_p", "1.001", NULL),
    NO("min_p", "false", NULL),

    OK("repetition_penalty", "1.0", "1.0"), OK("repetition_penalty", "3.0", "3.0"),
    OK("repetition_penalty", "3", "3.0"),
    NO("repetition_penalty", "0.999", "repetition_penalty = 0.999 is out of range 1.0..3.0"),
    NO("repetition_penalty", "3.001", "repetition_penalty = 3.001 is out of range 1.0..3.0"),
    NO("repetition_penalty", "4", "repetition_penalty = 4 is out of range 1.0..3.0"),
    NO("repetition_penalty", "\"1.2\"", NULL),

    /* booleans */
    OK("auto_optimize", "true", "true"), OK("auto_optimize", "false", "false"),
    NO("auto_optimize", "1", "auto_optimize = 1 has the wrong type: expected a boolean (true or false)"),
    NO("auto_optimize", "0", NULL), NO("auto_optimize", "\"true\"", NULL),
    NO("auto_optimize", "null", "auto_optimize = null has the wrong type: expected a boolean (true or false)"),
    OK("enable_caching", "true", "true"), OK("enable_caching", "false", "false"),
    NO("enable_caching", "1", NULL), NO("enable_caching", "\"false\"", NULL),
    NO("enable_caching", "null", NULL),
    OK("verify_quality", "true", "true"), OK("verify_quality", "false", "false"),
    NO("verify_quality", "0", NULL), NO("verify_quality", "\"yes\"", NULL),
    NO("verify_quality", "[]", NULL),

    /* use_gpu: "auto", true, false */
    OK("use_gpu", "\"auto\"", "\"auto\""), OK("use_gpu", "true", "true"),
    OK("use_gpu", "false", "false"),
    NO("use_gpu", "\"AUTO\"", "use_gpu = \"AUTO\" is not allowed: expected \"auto\", true or false"),
    NO("use_gpu", "\"yes\"", NULL), NO("use_gpu", "\"cpu\"", NULL), NO("use_gpu", "\"true\"", NULL),
    NO("use_gpu", "\"\"", "use_gpu = \"\" is not allowed: expected \"auto\", true or false"),
    NO("use_gpu", "1", "use_gpu = 1 has the wrong type: expected \"auto\", true or false"),
    NO("use_gpu", "0", NULL), NO("use_gpu", "null", NULL),

    /* integers */
    OK("batch_size", "1", "1"), OK("batch_size", "10", "10"), OK("batch_size", "4.0", "4"),
    OK("batch_size", "1e1", "10"),
    NO("batch_size", "0", "batch_size = 0 is out of range 1..10"),
    NO("batch_size", "11", "batch_size = 11 is out of range 1..10"),
    NO("batch_size", "-1", NULL),
    NO("batch_size", "1.5", "batch_size = 1.5 has the wrong type: expected an integer in 1..10"),
    NO("batch_size", "10.5", NULL), NO("batch_size", "0.5", NULL),
    NO("batch_size", "\"4\"", "batch_size = \"4\" has the wrong type: expected an integer in 1..10"),
    NO("batch_size", "true", NULL), NO("batch_size", "null", NULL),
    NO("batch_size", "9223372036854775807", "batch_size = 9223372036854775807 is out of range 1..10"),

    OK("max_workers", "1", "1"), OK("max_workers", "4", "4"),
    NO("max_workers", "0", "max_workers = 0 is out of range 1..4"),
    NO("max_workers", "5", "max_workers = 5 is out of range 1..4"),
    NO("max_workers", "2.5", "max_workers = 2.5 has the wrong type: expected an integer in 1..4"),
    NO("max_workers", "\"2\"", NULL), NO("max_workers", "null", NULL),

    OK("sample_rate", "16000", "16000"), OK("sample_rate", "48000", "48000"),
    OK("sample_rate", "22050", "22050"), OK("sample_rate", "44100.0", "44100"),
    NO("sample_rate", "15999", "sample_rate = 15999 is out of range 16000..48000 Hz"),
    NO("sample_rate", "48001", "sample_rate = 48001 is out of range 16000..48000 Hz"),
    NO("sample_rate", "8000", NULL),
    NO("sample_rate", "22050.5",
       "sample_rate = 22050.5 has the wrong type: expected an integer in 16000..48000 Hz"),
    NO("sample_rate", "\"24000\"", NULL), NO("sample_rate", "null", NULL),

    /* audio_format: "wav", "mp3" */
    OK("audio_format", "\"wav\"", "\"wav\""), OK("audio_format", "\"mp3\"", "\"mp3\""),
    NO("audio_format", "\"ogg\"", "audio_format = \"ogg\" is not allowed: expected \"wav\" or \"mp3\""),
    NO("audio_format", "\"WAV\"", NULL), NO("audio_format", "\"MP3\"", NULL),
    NO("audio_format", "\"flac\"", NULL), NO("audio_format", "\"\"", NULL),
    NO("audio_format", "1", "audio_format = 1 has the wrong type: expected \"wav\" or \"mp3\""),
    NO("audio_format", "true", NULL), NO("audio_format", "null", NULL),
};

static void check_case(const vcase *c, int rc, const vx_error *e, const vx_settings *after,
                       const vx_settings *before, const char *how)
{
    char ctx[160];
    snprintf(ctx, sizeof ctx, "%s %s=%s", how, c->key, c->value);
    if (c->stored) {
        if (rc != VX_OK)
            fail_msg("%s: refused: %s", ctx, e->message);
        char got[48];
        assert_int_equal(vx_settings_format_value(after, (vx_param)vx_param_from_name(c->key), got,
                                                  sizeof got),
                         VX_OK);
        if (strcmp(got, c->stored))
            fail_msg("%s: stored %s, expected %s", ctx, got, c->stored);
        assert_int_equal(vx_settings_validate(after, NULL), VX_OK);
        return;
    }
    if (rc != VX_EINVAL)
        fail_msg("%s: expected EINVAL, got %d", ctx, rc);
    assert_int_equal(e->code, VX_EINVAL);
    if (c->msg && strcmp(e->message, c->msg))
        fail_msg("%s: message\n  '%s'\nexpected\n  '%s'", ctx, e->message, c->msg);
    /* every message names the field and what is allowed */
    char head[64];
    snprintf(head, sizeof head, "%s = ", c->key);
    const vx_param_info *pi = vx_param_info_get((vx_param)vx_param_from_name(c->key));
    if (strncmp(e->message, head, strlen(head)) || !strstr(e->message, pi->allowed))
        fail_msg("%s: message '%s' does not name the field and '%s'", ctx, e->message, pi->allowed);
    if (!vx_settings_equal(after, before))
        fail_msg("%s: settings changed by a refused value", ctx);
}

static void test_validation_table(void **state)
{
    (void)state;
    int seen[VX_PARAM_COUNT][2] = {{0}};
    for (size_t i = 0; i < sizeof k_cases / sizeof k_cases[0]; i++) {
        const vcase *c = &k_cases[i];
        int p = vx_param_from_name(c->key);
        assert_true(p >= 0);
        seen[p][c->stored ? 0 : 1]++;
        /* start from a preset with distinctive values */
        vx_settings base = preset("conversational"), s = base;
        vx_error e;
        char json[256];
        snprintf(json, sizeof json, "{\"%s\": %s}", c->key, c->value);
        check_case(c, apply(&s, json, &e), &e, &s, &base, "json");
        /* --set KEY=VALUE reads the same text the same way */
        s = base;
        check_case(c, vx_settings_set(&s, c->key, c->value, &e), &e, &s, &base, "set");
        /* ... and a bare word is a string for the string-valued parameters */
        size_t n = strlen(c->value);
        if ((p == VX_PARAM_USE_GPU || p == VX_PARAM_AUDIO_FORMAT) && n >= 2 && c->value[0] == '"') {
            char bare[64];
            snprintf(bare, sizeof bare, "%.*s", (int)(n - 2), c->value + 1);
            if (!strcmp(bare, "true") || !strcmp(bare, "false"))
                continue; /* a bare true is the boolean */
            s = base;
            check_case(c, vx_settings_set(&s, c->key, bare, &e), &e, &s, &base, "set bare");
        }
    }
    for (int p = 0; p < VX_PARAM_COUNT; p++) {
        if (!seen[p][0] || !seen[p][1])
            fail_msg("parameter %s lacks accepted or refused cases", vx_param_name((vx_param)p));
    }
}

/* The limits themselves, exactly, and the nearest doubles beyond them. */
static void test_exact_limits(void **state)
{
    (void)state;
    for (int p = 0; p < VX_PARAM_COUNT; p++) {
        const vx_param_info *pi = vx_param_info_get((vx_param)p);
        if (pi->type != VX_PTYPE_NUMBER)
            continue;
        const double ok[] = {pi->min, pi->max};
        const double bad[] = {nextafter(pi->min, -INFINITY), nextafter(pi->max, INFINITY)};
        for (int k = 0; k < 2; k++) {
            char json[128];
            vx_settings s;
            vx_settings_defaults(&s);
            snprintf(json, sizeof json, "{\"%s\": %.17g}", pi->name, ok[k]);
            assert_int_equal(apply(&s, json, NULL), VX_OK);
            snprintf(json, sizeof json, "{\"%s\": %.17g}", pi->name, bad[k]);
            assert_int_equal(apply(&s, json, NULL), VX_EINVAL);
        }
    }
}

static void test_unknown_keys(void **state)
{
    (void)state;
    vx_settings s, before;
    vx_settings_defaults(&s);
    before = s;
    vx_error e;
    assert_int_equal(apply(&s, "{\"foo\": 1}", &e), VX_EINVAL);
    assert_string_equal(e.message, "unknown setting 'foo' (known: preset, " KNOWN_PARAMS ")");
    assert_int_equal(apply(&s, "{\"Temperature\": 1}", &e), VX_EINVAL);
    assert_non_null(strstr(e.message, "unknown setting 'Temperature'"));
    assert_int_equal(apply(&s, "{\"\": 1}", &e), VX_EINVAL);
    assert_non_null(strstr(e.message, "unknown setting ''"));
    /* an unknown key refuses the whole object, even beside valid ones */
    assert_int_equal(apply(&s, "{\"temperature\": 0.7, \"sample_rate_hz\": 24000}", &e), VX_EINVAL);
    assert_non_null(strstr(e.message, "'sample_rate_hz'"));
    /* a long key is shortened, the list stays whole */
    char json[400];
    char key[201];
    memset(key, 'k', 200);
    key[200] = '\0';
    snprintf(json, sizeof json, "{\"%s\": 1}", key);
    assert_int_equal(apply(&s, json, &e), VX_EINVAL);
    assert_non_null(strstr(e.message, "'kkkkkkkkkkkkkkkkkkkkkkkkkkkkk...'"));
    assert_non_null(strstr(e.message, "sample_rate, verify_quality)"));
    assert_true(vx_settings_equal(&s, &before));
    /* vx_settings_set: "preset" is not a parameter */
    assert_int_equal(vx_settings_set(&s, "foo", "1", &e), VX_EINVAL);
    assert_string_equal(e.message, "unknown setting 'foo' (known: " KNOWN_PARAMS ")");
    assert_int_equal(vx_settings_set(&s, "preset", "fast", &e), VX_EINVAL);
    assert_true(vx_settings_equal(&s, &before));
}

static void test_not_an_object(void **state)
{
    (void)state;
    const char *docs[][2] = {{"[]", "an array"},         {"[{\"temperature\": 1}]", "an array"},
                             {"1", "a number"},          {"0.5", "a number"},
                             {"\"temperature\"", "a string"}, {"null", "null"},
                             {"true", "a boolean"}};
    for (size_t i = 0; i < sizeof docs / sizeof docs[0]; i++) {
        vx_settings s, before;
        vx_settings_defaults(&s);
        before = s;
        vx_error e;
        assert_int_equal(apply(&s, docs[i][0], &e), VX_EINVAL);
        char want[80];
        snprintf(want, sizeof want, "settings JSON must be an object, got %s", docs[i][1]);
        assert_string_equal(e.message, want);
        assert_true(vx_settings_equal(&s, &before));
        assert_int_equal(vx_settings_from_json(docs[i][0], strlen(docs[i][0]), &s, &e), VX_EINVAL);
    }
}

static void test_malformed(void **state)
{
    (void)state;
    const char *docs[] = {"",
                          "{",
                          "}",
                          "{\"temperature\": }",
                          "{\"temperature\": 0.5,}",
                          "{\"temperature\" 0.5}",
                          "{'temperature': 0.5}",
                          "{temperature: 0.5}",
                          "{} x",
                          "{}{}",
                          "{\"temperature\": NaN}",
                          "{\"temperature\": Infinity}",
                          "{\"temperature\": 1e999}",
                          "{\"temperature\": 0.5, \"temperature\": 0.6}",
                          "{\"audio_format\": \"wa\\u0000v\"}",
                          "{\"audio_format\": \"\xff\"}",
                          "{\"batch_size\": 99999999999999999999999}"};
    for (size_t i = 0; i < sizeof docs / sizeof docs[0]; i++) {
        vx_settings s, before;
        vx_settings_defaults(&s);
        before = s;
        vx_error e;
        int rc = apply(&s, docs[i], &e);
        if (rc != VX_EINVAL || strncmp(e.message, "settings JSON is malformed: ", 28))
            fail_msg("'%s': rc %d '%s'", docs[i], rc, e.message);
        assert_non_null(strstr(e.message, " at line "));
        assert_true(vx_settings_equal(&s, &before));
    }
    /* len counts bytes: a NUL inside is not the end */
    vx_settings s;
    vx_settings_defaults(&s);
    assert_int_equal(vx_settings_apply_json(&s, "{}\0", 3, NULL), VX_EINVAL);
    assert_int_equal(vx_settings_apply_json(&s, "{}xyz", 2, NULL), VX_OK);
}

static void test_oversize(void **state)
{
    (void)state;
    size_t n = VX_SETTINGS_JSON_MAX + 1;
    char *big = malloc(n + 1);
    assert_non_null(big);
    const char *body = "{\"temperature\": 0.7";
    memset(big, ' ', n);
    memcpy(big, body, strlen(body));
    big[n - 1] = '}';
    big[n] = '\0';
    vx_settings s, before;
    vx_settings_defaults(&s);
    before = s;
    vx_error e;
    assert_int_equal(vx_settings_apply_json(&s, big, n, &e), VX_ELIMIT);
    assert_int_equal(e.code, VX_ELIMIT);
    assert_string_equal(e.message, "settings JSON is 65537 bytes, more than the 65536-byte limit");
    assert_true(vx_settings_equal(&s, &before));
    assert_int_equal(vx_settings_from_json(big, n, &s, &e), VX_ELIMIT);
    /* exactly at the limit is fine */
    big[n - 2] = '}';
    assert_int_equal(vx_settings_apply_json(&s, big, n - 1, &e), VX_OK);
    assert_true(s.temperature == 0.7);
    /* the --set value is capped the same way */
    big[n - 1] = '\0';
    memset(big, '1', n - 1);
    assert_int_equal(vx_settings_set(&s, "batch_size", big, &e), VX_EINVAL);
    big[n - 1] = '1';
    assert_int_equal(vx_settings_set(&s, "batch_size", big, &e), VX_ELIMIT);
    free(big);
}

/* ------------------------------------------------------------------ */
/* Presets and defaults                                                */
/* ------------------------------------------------------------------ */

typedef struct expected_preset {
    const char *name;
    double exaggeration, cfg_weight, temperature, top_p, min_p, repetition_penalty;
    int auto_optimize;
    vx_use_gpu use_gpu;
    int batch_size, max_workers, enable_caching;
    vx_audio_format audio_format;
    int sample_rate_hz, verify_quality;
} expected_preset;

/* presets.md, column by column */
static const expected_preset k_presets[5] = {
    {"fast", 0.4, 0.5, 0.8, 0.9, 0.0, 1.2, 1, VX_USE_GPU_AUTO, 4, 4, 1, VX_AUDIO_FORMAT_WAV, 16000, 0},
    {"balanced", 0.5, 0.5, 1.0, 0.9, 0.0, 1.2, 1, VX_USE_GPU_AUTO, 1, 2, 1, VX_AUDIO_FORMAT_WAV, 24000, 0},
    {"high_quality", 0.5, 0.6, 0.8, 0.95, 0.05, 1.3, 1, VX_USE_GPU_AUTO, 1, 2, 1, VX_AUDIO_FORMAT_WAV,
     48000, 1},
    {"conversational", 0.65, 0.3, 1.1, 0.95, 0.02, 1.1, 1, VX_USE_GPU_AUTO, 1, 2, 1,
     VX_AUDIO_FORMAT_MP3, 24000, 0},
    {"low_resource", 0.4, 0.5, 0.8, 0.85, 0.0, 1.2, 1, VX_USE_GPU_FALSE, 1, 1, 1, VX_AUDIO_FORMAT_MP3,
     16000, 0},
};

static void test_presets_values(void **state)
{
    (void)state;
    assert_int_equal(vx_preset_count(), 5);
    for (size_t i = 0; i < 5; i++) {
        const expected_preset *x = &k_presets[i];
        assert_string_equal(vx_preset_name(i), x->name);
        assert_non_null(vx_preset_purpose(i));
        assert_true(strlen(vx_preset_description(i)) > 20);
        vx_settings s = preset(x->name);
        assert_true(s.exaggeration == x->exaggeration);
        assert_true(s.cfg_weight == x->cfg_weight);
        assert_true(s.temperature == x->temperature);
        assert_true(s.top_p == x->top_p);
        assert_true(s.min_p == x->min_p);
        assert_true(s.repetition_penalty == x->repetition_penalty);
        assert_int_equal(s.auto_optimize, x->auto_optimize);
        assert_int_equal(s.use_gpu, x->use_gpu);
        assert_int_equal(s.batch_size, x->batch_size);
        assert_int_equal(s.max_workers, x->max_workers);
        assert_int_equal(s.enable_caching, x->enable_caching);
        assert_int_equal(s.audio_format, x->audio_format);
        assert_int_equal(s.sample_rate_hz, x->sample_rate_hz);
        assert_int_equal(s.verify_quality, x->verify_quality);
        assert_int_equal(vx_settings_validate(&s, NULL), VX_OK);
    }
    assert_string_equal(vx_preset_purpose(0), "lowest latency");
    assert_string_equal(vx_preset_purpose(1), "quality/speed compromise (default)");
    assert_string_equal(vx_preset_purpose(2), "best quality");
    assert_string_equal(vx_preset_purpose(3), "natural dialogue");
    assert_string_equal(vx_preset_purpose(4), "small machines");
    assert_null(vx_preset_name(5));
    assert_null(vx_preset_purpose(5));
    assert_null(vx_preset_description(5));
    assert_string_equal(vx_preset_default_name(), "balanced");

    vx_settings s = preset("fast"), before = s;
    vx_error e;
    assert_int_equal(vx_preset_get("Balanced", &s, &e), VX_EINVAL);
    assert_string_equal(e.message, "unknown preset 'Balanced' (valid: fast, balanced, high_quality, "
                                   "conversational, low_resource)");
    assert_int_equal(vx_preset_get("", &s, &e), VX_EINVAL);
    assert_true(vx_settings_equal(&s, &before));
}

static void test_defaults_are_balanced(void **state)
{
    (void)state;
    vx_settings d, b = preset("balanced");
    memset(&d, 0x5a, sizeof d);
    vx_settings_defaults(&d);
    assert_true(vx_settings_equal(&d, &b));
    assert_int_equal(vx_settings_validate(&d, NULL), VX_OK);
    /* the table's default column is presets.md's default column */
    const char *want[VX_PARAM_COUNT] = {"0.5",  "0.5",    "1.0", "0.9",  "0.0",     "1.2",   "true",
                                        "\"auto\"", "1",  "2",   "true", "\"wav\"", "24000", "false"};
    for (int p = 0; p < VX_PARAM_COUNT; p++) {
        char got[48];
        vx_settings_format_value(&d, (vx_param)p, got, sizeof got);
        assert_string_equal(got, want[p]);
    }
}

static void test_preset_plus_overrides(void **state)
{
    (void)state;
    vx_settings s, want;
    vx_error e;
    const char *j1 = "{\"preset\": \"fast\", \"temperature\": 1.5, \"use_gpu\": false}";
    const char *j2 = "{\"temperature\": 1.5, \"use_gpu\": false, \"preset\": \"fast\"}";
    want = preset("fast");
    want.temperature = 1.5;
    want.use_gpu = VX_USE_GPU_FALSE;
    assert_int_equal(vx_settings_from_json(j1, strlen(j1), &s, &e), VX_OK);
    assert_true(vx_settings_equal(&s, &want));
    /* the preset comes first wherever the key is */
    assert_int_equal(vx_settings_from_json(j2, strlen(j2), &s, &e), VX_OK);
    assert_true(vx_settings_equal(&s, &want));
    /* apply_json with "preset" replaces everything, then overrides */
    s = preset("high_quality");
    assert_int_equal(apply(&s, j2, &e), VX_OK);
    assert_true(vx_settings_equal(&s, &want));
    /* no preset: balanced + overrides */
    want = preset("balanced");
    want.sample_rate_hz = 16000;
    assert_int_equal(vx_settings_from_json("{\"sample_rate\": 16000}", 22, &s, &e), VX_OK);
    assert_true(vx_settings_equal(&s, &want));
    assert_int_equal(vx_settings_from_json("{}", 2, &s, &e), VX_OK);
    want = preset("balanced");
    assert_true(vx_settings_equal(&s, &want));
    assert_int_equal(vx_settings_from_json("{\"preset\": \"low_resource\"}", 26, &s, &e), VX_OK);
    want = preset("low_resource");
    assert_true(vx_settings_equal(&s, &want));

    /* errors leave out unchanged */
    vx_settings out = preset("conversational"), keep = out;
    const char *bad[][2] = {
        {"{\"preset\": \"turbo\"}", "unknown preset 'turbo' (valid: fast, balanced, high_quality, "
                                    "conversational, low_resource)"},
        {"{\"preset\": 1}", "preset = 1 has the wrong type: expected a preset name (a string)"},
        {"{\"preset\": null}", "preset = null has the wrong type: expected a preset name (a string)"},
        {"{\"preset\": \"fast\", \"batch_size\": 11}", "batch_size = 11 is out of range 1..10"},
        {"{\"preset\": \"fast\", \"foo\": 1}", NULL},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        assert_int_equal(vx_settings_from_json(bad[i][0], strlen(bad[i][0]), &out, &e), VX_EINVAL);
        if (bad[i][1])
            assert_string_equal(e.message, bad[i][1]);
        assert_true(vx_settings_equal(&out, &keep));
        assert_int_equal(apply(&out, bad[i][0], &e), VX_EINVAL);
        assert_true(vx_settings_equal(&out, &keep));
    }
}

static void test_failed_apply_leaves_unchanged(void **state)
{
    (void)state;
    const char *docs[] = {
        "{\"temperature\": 0.7, \"batch_size\": 11}",
        "{\"batch_size\": 11, \"temperature\": 0.7}",
        "{\"exaggeration\": 0.1, \"cfg_weight\": 0.2, \"audio_format\": \"ogg\"}",
        "{\"verify_quality\": true, \"use_gpu\": \"maybe\"}",
        "{\"preset\": \"fast\", \"sample_rate\": 96000}",
    };
    for (size_t i = 0; i < sizeof docs / sizeof docs[0]; i++) {
        vx_settings s = preset("high_quality"), before = s;
        char *j0 = vx_settings_to_json(&s);
        vx_error e;
        assert_int_equal(apply(&s, docs[i], &e), VX_EINVAL);
        char *j1 = vx_settings_to_json(&s);
        assert_string_equal(j0, j1);
        assert_true(vx_settings_equal(&s, &before));
        free(j0);
        free(j1);
    }
    /* settings that are already invalid are reported, not silently kept */
    vx_settings s = preset("fast");
    s.max_workers = 9;
    vx_settings before = s;
    vx_error e;
    assert_int_equal(apply(&s, "{\"temperature\": 0.7}", &e), VX_EINVAL);
    assert_string_equal(e.message, "max_workers = 9 is out of range 1..4");
    assert_int_equal(s.max_workers, 9);
    assert_true(s.temperature == before.temperature);
    /* the invalid field can be repaired by an override */
    assert_int_equal(apply(&s, "{\"max_workers\": 3}", &e), VX_OK);
    assert_int_equal(s.max_workers, 3);
}

/* ------------------------------------------------------------------ */
/* JSON output                                                         */
/* ------------------------------------------------------------------ */

static void test_to_json(void **state)
{
    (void)state;
    vx_settings s;
    vx_settings_defaults(&s);
    char *j = vx_settings_to_json(&s);
    assert_string_equal(j, "{\"exaggeration\": 0.5, \"cfg_weight\": 0.5, \"temperature\": 1.0, "
                           "\"top_p\": 0.9, \"min_p\": 0.0, \"repetition_penalty\": 1.2, "
                           "\"auto_optimize\": true, \"use_gpu\": \"auto\", \"batch_size\": 1, "
                           "\"max_workers\": 2, \"enable_caching\": true, \"audio_format\": \"wav\", "
                           "\"sample_rate\": 24000, \"verify_quality\": false}");
    free(j);
    s = preset("low_resource");
    j = vx_settings_to_json(&s);
    assert_non_null(strstr(j, "\"use_gpu\": false"));
    assert_non_null(strstr(j, "\"audio_format\": \"mp3\""));
    assert_non_null(strstr(j, "\"top_p\": 0.85"));
    free(j);
    s.use_gpu = VX_USE_GPU_TRUE;
    j = vx_settings_to_json(&s);
    assert_non_null(strstr(j, "\"use_gpu\": true"));
    free(j);
    assert_null(vx_settings_to_json(NULL));

    char buf[8];
    s = preset("balanced");
    assert_int_equal(vx_settings_format_value(&s, VX_PARAM_SAMPLE_RATE, buf, 6), VX_OK);
    assert_string_equal(buf, "24000");
    assert_int_equal(vx_settings_format_value(&s, VX_PARAM_SAMPLE_RATE, buf, 5), VX_ELIMIT);
    assert_string_equal(buf, "2400");
    assert_int_equal(vx_settings_format_value(&s, VX_PARAM_SAMPLE_RATE, buf, 0), VX_ELIMIT);
    assert_int_equal(vx_settings_format_value(&s, (vx_param)14, buf, sizeof buf), VX_EINVAL);
}

static void test_json_round_trip(void **state)
{
    (void)state;
    for (size_t i = 0; i < vx_preset_count(); i++) {
        vx_settings a = preset(vx_preset_name(i)), b;
        char *j = vx_settings_to_json(&a);
        /* apply onto a different preset: every field is overwritten */
        b = preset(vx_preset_name((i + 1) % vx_preset_count()));
        assert_int_equal(apply(&b, j, NULL), VX_OK);
        assert_true(vx_settings_equal(&a, &b));
        assert_int_equal(vx_settings_from_json(j, strlen(j), &b, NULL), VX_OK);
        assert_true(vx_settings_equal(&a, &b));
        free(j);
    }
    /* doubles with no short decimal form come back bit-exact */
    vx_settings a, b;
    vx_settings_defaults(&a);
    a.exaggeration = 0.1 + 0.2;
    a.cfg_weight = nextafter(1.0, 0.0);
    a.temperature = nextafter(0.1, 1.0);
    a.top_p = 1e-300;
    a.min_p = 4.9406564584124654e-324; /* smallest denormal */
    a.repetition_penalty = 1.0 + 1.0 / 3.0;
    a.use_gpu = VX_USE_GPU_TRUE;
    a.audio_format = VX_AUDIO_FORMAT_MP3;
    a.auto_optimize = 0;
    a.sample_rate_hz = 44100;
    assert_int_equal(vx_settings_validate(&a, NULL), VX_OK);
    char *j = vx_settings_to_json(&a);
    vx_settings_defaults(&b);
    vx_error e;
    if (apply(&b, j, &e) != VX_OK)
        fail_msg("%s: %s", j, e.message);
    assert_true(vx_settings_equal(&a, &b));
    assert_true(memcmp(&a.min_p, &b.min_p, sizeof a.min_p) == 0);
    /* and jansson reads it as the same JSON */
    json_error_t je;
    json_t *root = json_loads(j, 0, &je);
    assert_non_null(root);
    assert_int_equal(json_object_size(root), VX_PARAM_COUNT);
    assert_true(json_real_value(json_object_get(root, "exaggeration")) == 0.1 + 0.2);
    json_decref(root);
    free(j);
}

static void test_presets_json(void **state)
{
    (void)state;
    char *txt = vx_presets_to_json();
    assert_non_null(txt);
    json_error_t je;
    json_t *arr = json_loads(txt, 0, &je);
    assert_non_null(arr);
    assert_true(json_is_array(arr));
    assert_int_equal(json_array_size(arr), 5);
    const char *order[] = {"fast", "balanced", "high_quality", "conversational", "low_resource"};
    for (size_t i = 0; i < 5; i++) {
        json_t *o = json_array_get(arr, i);
        assert_true(json_is_object(o));
        assert_int_equal(json_object_size(o), 4);
        /* keys in the contract's order */
        const char *keys[] = {"name", "description", "default", "parameters"};
        void *it = json_object_iter(o);
        for (int k = 0; k < 4; k++, it = json_object_iter_next(o, it))
            assert_string_equal(json_object_iter_key(it), keys[k]);
        assert_string_equal(json_string_value(json_object_get(o, "name")), order[i]);
        assert_string_equal(json_string_value(json_object_get(o, "description")),
                            vx_preset_description(i));
        assert_true(json_is_boolean(json_object_get(o, "default")));
        assert_int_equal(json_is_true(json_object_get(o, "default")), i == 1);
        json_t *params = json_object_get(o, "parameters");
        assert_int_equal(json_object_size(params), VX_PARAM_COUNT);
        it = json_object_iter(params);
        for (int p = 0; p < VX_PARAM_COUNT; p++, it = json_object_iter_next(params, it))
            assert_string_equal(json_object_iter_key(it), vx_param_name((vx_param)p));
        char *pj = json_dumps(params, JSON_COMPACT);
        vx_settings s, want = preset(order[i]);
        assert_int_equal(vx_settings_from_json(pj, strlen(pj), &s, NULL), VX_OK);
        assert_true(vx_settings_equal(&s, &want));
        free(pj);
    }
    json_decref(arr);
    /* shape and separators as served by the old service */
    const char *head = "[{\"name\": \"fast\", \"description\": \"";
    assert_int_equal(strncmp(txt, head, strlen(head)), 0);
    assert_non_null(strstr(txt, "\"name\": \"balanced\", \"description\": "));
    assert_non_null(strstr(txt, "\"default\": true, \"parameters\": {\"exaggeration\": 0.5, "));
    assert_non_null(strstr(txt, "\"exaggeration\": 0.65, \"cfg_weight\": 0.3, \"temperature\": 1.1"));
    free(txt);
}

/* ------------------------------------------------------------------ */
/* auto_optimize                                                       */
/* ------------------------------------------------------------------ */

static void test_auto_optimize(void **state)
{
    (void)state;
    vx_settings in = preset("balanced"), out;
    vx_param_mask adj = 0xffff;
    vx_error e;
    /* non-English target: cfg_weight = 0, reported */
    const char *foreign[] = {"fr", "de", "zh", "ar", "ja", "es-MX", "fr_CA", "eng", "e", "enx"};
    for (size_t i = 0; i < sizeof foreign / sizeof foreign[0]; i++) {
        adj = 0xffff;
        assert_int_equal(vx_settings_auto_optimize(&in, foreign[i], &out, &adj, &e), VX_OK);
        assert_true(out.cfg_weight == 0.0);
        assert_int_equal(adj, VX_PARAM_BIT(VX_PARAM_CFG_WEIGHT));
        vx_settings rest = out;
        rest.cfg_weight = in.cfg_weight;
        assert_true(vx_settings_equal(&rest, &in)); /* nothing else moved */
    }
    const char *names[4];
    assert_int_equal(vx_param_mask_names(adj, names, 4), 1);
    assert_string_equal(names[0], "cfg_weight");
    char *j = vx_param_mask_to_json(adj);
    assert_string_equal(j, "[\"cfg_weight\"]");
    free(j);
    /* English targets: unchanged */
    const char *english[] = {"en", "en-US", "en-GB", "EN", "En-au", "en_US"};
    for (size_t i = 0; i < sizeof english / sizeof english[0]; i++) {
        adj = 0xffff;
        assert_int_equal(vx_settings_auto_optimize(&in, english[i], &out, &adj, &e), VX_OK);
        assert_true(vx_settings_equal(&out, &in));
        assert_int_equal(adj, 0);
        assert_true(vx_language_is_english(english[i]));
    }
    assert_false(vx_language_is_english("fr"));
    assert_false(vx_language_is_english(""));
    assert_false(vx_language_is_english(NULL));
    /* auto_optimize false: nothing changes */
    vx_settings off = in;
    off.auto_optimize = 0;
    assert_int_equal(vx_settings_auto_optimize(&off, "fr", &out, &adj, &e), VX_OK);
    assert_true(vx_settings_equal(&out, &off));
    assert_int_equal(adj, 0);
    /* cfg_weight already 0: not an adjustment */
    vx_settings zero = in;
    zero.cfg_weight = 0.0;
    assert_int_equal(vx_settings_auto_optimize(&zero, "fr", &out, &adj, &e), VX_OK);
    assert_int_equal(adj, 0);
    assert_true(out.cfg_weight == 0.0);
    /* in place, without an adjusted mask */
    vx_settings s = preset("conversational");
    assert_int_equal(vx_settings_auto_optimize(&s, "ar", &s, NULL, &e), VX_OK);
    assert_true(s.cfg_weight == 0.0);
    /* bad language or settings: EINVAL, outputs untouched */
    const char *badlang[] = {"", "1fr", "fr CA", "fr/CA", "français", "-en",
                             "abcdefghijklmnopqrstuvwxyzabcdefghij"};
    for (size_t i = 0; i < sizeof badlang / sizeof badlang[0]; i++) {
        out = preset("fast");
        vx_settings keep = out;
        adj = 0x1234;
        assert_int_equal(vx_settings_auto_optimize(&in, badlang[i], &out, &adj, &e), VX_EINVAL);
        assert_non_null(strstr(e.message, "target language"));
        assert_true(vx_settings_equal(&out, &keep));
        assert_int_equal(adj, 0x1234);
    }
    vx_settings bad = in;
    bad.temperature = 5.0;
    assert_int_equal(vx_settings_auto_optimize(&bad, "fr", &out, &adj, &e), VX_EINVAL);
    assert_string_equal(e.message, "temperature = 5.0 is out of range 0.1..2.0");
}

/* ------------------------------------------------------------------ */
/* The table itself, masks, struct validation                          */
/* ------------------------------------------------------------------ */

static void test_table(void **state)
{
    (void)state;
    const char *order[VX_PARAM_COUNT] = {
        "exaggeration", "cfg_weight", "temperature", "top_p",          "min_p",
        "repetition_penalty", "auto_optimize", "use_gpu", "batch_size", "max_workers",
        "enable_caching", "audio_format", "sample_rate", "verify_quality"};
    const char *groups[VX_PARAM_COUNT] = {"voice",       "voice",       "voice",       "voice",
                                          "voice",       "voice",       "voice",       "performance",
                                          "performance", "performance", "performance", "quality",
                                          "quality",     "quality"};
    vx_settings d;
    vx_settings_defaults(&d);
    for (int p = 0; p < VX_PARAM_COUNT; p++) {
        const vx_param_info *pi = vx_param_info_get((vx_param)p);
        assert_non_null(pi);
        assert_int_equal(pi->id, p);
        assert_string_equal(pi->name, order[p]);
        assert_string_equal(vx_param_name((vx_param)p), order[p]);
        assert_int_equal(vx_param_from_name(order[p]), p);
        assert_string_equal(pi->group, groups[p]);
        assert_true(strlen(pi->meaning) > 10 && strlen(pi->builtin) > 10);
        assert_null(strchr(pi->meaning, '|'));
        assert_null(strchr(pi->builtin, '|'));
        assert_null(strchr(pi->allowed, '|'));
        /* the allowed text is min..max */
        char want[64];
        if (pi->type == VX_PTYPE_NUMBER) {
            snprintf(want, sizeof want, "%.1f..%.1f", pi->min, pi->max);
            assert_string_equal(pi->allowed, want);
            assert_string_equal(pi->type_name, "number");
        } else if (pi->type == VX_PTYPE_INTEGER) {
            snprintf(want, sizeof want, "%.0f..%.0f", pi->min, pi->max);
            assert_string_equal(pi->allowed, want);
            assert_string_equal(pi->type_name, "integer");
        } else if (pi->type == VX_PTYPE_BOOLEAN) {
            assert_string_equal(pi->allowed, "true or false");
            assert_string_equal(pi->type_name, "boolean");
        }
        /* the token-sampling ones, and only they, are unused by built-ins */
        int sampling = p == VX_PARAM_TOP_P || p == VX_PARAM_MIN_P || p == VX_PARAM_REPETITION_PENALTY;
        assert_int_equal(pi->builtin_honoured, !sampling);
        if (sampling)
            assert_non_null(strstr(pi->builtin, "Unused"));
    }
    assert_string_equal(vx_param_info_get(VX_PARAM_USE_GPU)->type_name, "string or boolean");
    assert_non_null(strstr(vx_param_info_get(VX_PARAM_USE_GPU)->builtin, "cpu"));
    assert_string_equal(vx_param_info_get(VX_PARAM_SAMPLE_RATE)->unit, "Hz");
    assert_null(vx_param_info_get((vx_param)VX_PARAM_COUNT));
    assert_null(vx_param_info_get((vx_param)-1));
    assert_null(vx_param_name((vx_param)VX_PARAM_COUNT));
    assert_int_equal(vx_param_from_name("preset"), -1);
    assert_int_equal(vx_param_from_name(NULL), -1);
}

static void test_masks(void **state)
{
    (void)state;
    vx_param_mask builtin = vx_param_mask_builtin();
    vx_param_mask unused = vx_param_mask_unused(builtin);
    assert_int_equal(unused, VX_PARAM_MASK_TOKEN_SAMPLING);
    const char *names[VX_PARAM_COUNT];
    assert_int_equal(vx_param_mask_names(unused, names, VX_PARAM_COUNT), 3);
    assert_string_equal(names[0], "top_p");
    assert_string_equal(names[1], "min_p");
    assert_string_equal(names[2], "repetition_penalty");
    /* too small a buffer: the count is still returned, nothing overflows */
    const char *two[2] = {NULL, NULL};
    assert_int_equal(vx_param_mask_names(unused, two, 1), 3);
    assert_string_equal(two[0], "top_p");
    assert_null(two[1]);
    assert_int_equal(vx_param_mask_names(VX_PARAM_MASK_ALL, NULL, 0), VX_PARAM_COUNT);
    assert_int_equal(vx_param_mask_names(0xffffffffu, NULL, 0), VX_PARAM_COUNT);
    assert_int_equal(vx_param_mask_unused(VX_PARAM_MASK_ALL), 0);
    assert_int_equal(vx_param_mask_unused(0), VX_PARAM_MASK_ALL);
    char *j = vx_param_mask_to_json(unused);
    assert_string_equal(j, "[\"top_p\", \"min_p\", \"repetition_penalty\"]");
    free(j);
    j = vx_param_mask_to_json(0);
    assert_string_equal(j, "[]");
    free(j);
}

static void test_validate_struct(void **state)
{
    (void)state;
    vx_settings s;
    vx_error e;
#define BAD(stmt, want)                                                                        \
    do {                                                                                          \
        vx_settings_defaults(&s);                                                                 \
        stmt;                                                                                     \
        assert_int_equal(vx_settings_validate(&s, &e), VX_EINVAL);                                \
        assert_int_equal(e.code, VX_EINVAL);                                                      \
        assert_string_equal(e.message, want);                                                     \
    } while (0)
    BAD(s.temperature = NAN, "temperature = nan is out of range 0.1..2.0");
    BAD(s.top_p = INFINITY, "top_p = inf is out of range 0.0..1.0");
    BAD(s.exaggeration = -0.5, "exaggeration = -0.5 is out of range 0.0..1.0");
    BAD(s.auto_optimize = 2, "auto_optimize = 2.0 is not a boolean (0 = false or 1 = true)");
    BAD(s.use_gpu = (vx_use_gpu)7,
        "use_gpu = 7.0 is not a valid vx_use_gpu (expected \"auto\", true or false)");
    BAD(s.audio_format = (vx_audio_format)-1,
        "audio_format = -1.0 is not a valid vx_audio_format (expected \"wav\" or \"mp3\")");
    BAD(s.batch_size = 0, "batch_size = 0 is out of range 1..10");
    BAD(s.sample_rate_hz = 8000, "sample_rate = 8000 is out of range 16000..48000 Hz");
    BAD(s.verify_quality = -1, "verify_quality = -1.0 is not a boolean (0 = false or 1 = true)");
    /* the first bad field in table order is named */
    BAD((s.sample_rate_hz = 1, s.cfg_weight = 2), "cfg_weight = 2.0 is out of range 0.0..1.0");
#undef BAD
    vx_settings_defaults(&s);
    e.code = 99;
    assert_int_equal(vx_settings_validate(&s, &e), VX_OK);
    assert_int_equal(e.code, VX_OK);
}

static void test_set_text(void **state)
{
    (void)state;
    vx_settings s = preset("balanced"), before;
    vx_error e;
    assert_int_equal(vx_settings_set_arg(&s, "temperature=0.7", &e), VX_OK);
    assert_true(s.temperature == 0.7);
    assert_int_equal(vx_settings_set_arg(&s, "use_gpu=auto", &e), VX_OK);
    assert_int_equal(vx_settings_set_arg(&s, "use_gpu=false", &e), VX_OK);
    assert_int_equal(s.use_gpu, VX_USE_GPU_FALSE);
    assert_int_equal(vx_settings_set_arg(&s, "audio_format=mp3", &e), VX_OK);
    assert_int_equal(s.audio_format, VX_AUDIO_FORMAT_MP3);
    assert_int_equal(vx_settings_set_arg(&s, "verify_quality=true", &e), VX_OK);
    assert_int_equal(s.verify_quality, 1);
    assert_int_equal(vx_settings_set_arg(&s, "sample_rate= 16000 ", &e), VX_OK);
    assert_int_equal(s.sample_rate_hz, 16000);
    before = s;
    const char *bad[][2] = {
        {"temperature", "'temperature' is not KEY=VALUE (e.g. temperature=0.8)"},
        {"=0.7", "'=0.7' has no KEY before '=' (e.g. temperature=0.8)"},
        {"temperature=", "temperature = \"\" has the wrong type: expected a number in 0.1..2.0"},
        {"temperature=hot", "temperature = \"hot\" has the wrong type: expected a number in 0.1..2.0"},
        {"temperature=nan", NULL},
        {"temperature=0x1p-1", NULL},
        {"temperature=1,5", NULL},
        {"batch_size=1.5", "batch_size = 1.5 has the wrong type: expected an integer in 1..10"},
        {"auto_optimize=yes", "auto_optimize = \"yes\" has the wrong type: expected a boolean (true or false)"},
        {"auto_optimize=1", NULL},
        {"use_gpu=gpu", "use_gpu = \"gpu\" is not allowed: expected \"auto\", true or false"},
        {"preset=fast", "unknown setting 'preset' (known: " KNOWN_PARAMS ")"},
        {"Temperature=0.7", NULL},
        {"temperature==0.7", NULL},
        {"audio_format=\xff", "audio_format: the value is not valid UTF-8 text"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        int rc = vx_settings_set_arg(&s, bad[i][0], &e);
        if (rc != VX_EINVAL)
            fail_msg("'%s' accepted", bad[i][0]);
        if (bad[i][1] && strcmp(e.message, bad[i][1]))
            fail_msg("'%s': '%s'", bad[i][0], e.message);
        assert_true(vx_settings_equal(&s, &before));
    }
    char longkey[200];
    memset(longkey, 'x', sizeof longkey);
    memcpy(longkey + 150, "=1", 3);
    assert_int_equal(vx_settings_set_arg(&s, longkey, &e), VX_EINVAL);
    assert_non_null(strstr(e.message, "unknown setting 'xxxxxxxxxxxxxxxxxxxxxxxxxxxxx...'"));
}

static void test_misuse(void **state)
{
    (void)state;
    vx_settings s;
    vx_settings_defaults(&s);
    vx_error e;
    char buf[32];
    vx_param_mask m;
    assert_int_equal(vx_settings_apply_json(NULL, "{}", 2, &e), VX_EINVAL);
    assert_int_equal(e.code, VX_EINVAL);
    assert_non_null(strstr(e.message, "NULL"));
    assert_int_equal(vx_settings_apply_json(&s, NULL, 2, &e), VX_EINVAL);
    assert_int_equal(vx_settings_from_json(NULL, 2, &s, &e), VX_EINVAL);
    assert_int_equal(vx_settings_from_json("{}", 2, NULL, &e), VX_EINVAL);
    assert_int_equal(vx_settings_set(NULL, "temperature", "1", &e), VX_EINVAL);
    assert_int_equal(vx_settings_set(&s, NULL, "1", &e), VX_EINVAL);
    assert_int_equal(vx_settings_set(&s, "temperature", NULL, &e), VX_EINVAL);
    assert_int_equal(vx_settings_set_arg(NULL, "temperature=1", &e), VX_EINVAL);
    assert_int_equal(vx_settings_set_arg(&s, NULL, &e), VX_EINVAL);
    assert_int_equal(vx_preset_get(NULL, &s, &e), VX_EINVAL);
    assert_int_equal(vx_preset_get("fast", NULL, &e), VX_EINVAL);
    assert_int_equal(vx_settings_validate(NULL, &e), VX_EINVAL);
    assert_int_equal(vx_settings_auto_optimize(NULL, "fr", &s, &m, &e), VX_EINVAL);
    assert_int_equal(vx_settings_auto_optimize(&s, NULL, &s, &m, &e), VX_EINVAL);
    assert_int_equal(vx_settings_auto_optimize(&s, "fr", NULL, &m, &e), VX_EINVAL);
    assert_int_equal(vx_settings_format_value(NULL, VX_PARAM_TOP_P, buf, sizeof buf), VX_EINVAL);
    assert_int_equal(vx_settings_format_value(&s, VX_PARAM_TOP_P, NULL, sizeof buf), VX_EINVAL);
    assert_int_equal(vx_settings_equal(NULL, &s), 0);
    assert_int_equal(vx_settings_equal(&s, NULL), 0);
    vx_settings_defaults(NULL); /* no-op */
    /* a NULL vx_error is allowed everywhere */
    assert_int_equal(vx_settings_apply_json(&s, "x", 1, NULL), VX_EINVAL);
    assert_int_equal(vx_settings_set(&s, "temperature", "9", NULL), VX_EINVAL);
    assert_int_equal(vx_preset_get("nope", &s, NULL), VX_EINVAL);
    assert_int_equal(vx_settings_auto_optimize(&s, "", &s, NULL, NULL), VX_EINVAL);
    /* success clears the error */
    e.code = 5;
    snprintf(e.message, sizeof e.message, "stale");
    assert_int_equal(vx_settings_apply_json(&s, "{}", 2, &e), VX_OK);
    assert_int_equal(e.code, VX_OK);
    assert_string_equal(e.message, "");
}

/* ------------------------------------------------------------------ */
/* docs/settings.md is generated from the table                       */
/* ------------------------------------------------------------------ */

static char *read_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    char *buf = calloc(1, 1);
    size_t len = 0, cap = 1;
    char chunk[4096];
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0) {
        if (len + n + 1 > cap) {
            cap = (len + n + 1) * 2;
            char *p = realloc(buf, cap);
            if (!p) {
                free(buf);
                fclose(f);
                return NULL;
            }
            buf = p;
        }
        memcpy(buf + len, chunk, n);
        len += n;
        buf[len] = '\0';
    }
    fclose(f);
    return buf;
}

static void test_docs_match_table(void **state)
{
    (void)state;
    char *md = vx_settings_markdown();
    assert_non_null(md);
    assert_non_null(strstr(md, "| 3 | `temperature` | voice | number | 0.1..2.0 | `1.0` |"));
    assert_non_null(strstr(md, "| `cfg_weight` | 0.5 | 0.5 | 0.6 | 0.3 | 0.5 |"));
    char *doc = read_file(VX_SOURCE_DIR "/docs/settings.md");
    if (!doc)
        fail_msg("cannot read %s", VX_SOURCE_DIR "/docs/settings.md");
    if (!strstr(doc, md))
        fail_msg("docs/settings.md does not contain the generated tables: regenerate them with "
                 "'voxclone presets --markdown'");
    free(doc);
    free(md);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_validation_table),
        cmocka_unit_test(test_exact_limits),
        cmocka_unit_test(test_unknown_keys),
        cmocka_unit_test(test_not_an_object),
        cmocka_unit_test(test_malformed),
        cmocka_unit_test(test_oversize),
        cmocka_unit_test(test_presets_values),
        cmocka_unit_test(test_defaults_are_balanced),
        cmocka_unit_test(test_preset_plus_overrides),
        cmocka_unit_test(test_failed_apply_leaves_unchanged),
        cmocka_unit_test(test_to_json),
        cmocka_unit_test(test_json_round_trip),
        cmocka_unit_test(test_presets_json),
        cmocka_unit_test(test_auto_optimize),
        cmocka_unit_test(test_table),
        cmocka_unit_test(test_masks),
        cmocka_unit_test(test_validate_struct),
        cmocka_unit_test(test_set_text),
        cmocka_unit_test(test_misuse),
        cmocka_unit_test(test_docs_match_table),
    };
    return cmocka_run_group_tests_name("settings", tests, NULL, NULL);
}
