/*
 * test_pipeline.c -- the multi-language pipeline (include/voxclone/pipeline.h).
 *
 * DESIGN: one reference voice is built once (group setup) from a real
 * recording of ../shared (VX_SHARED_DIR, overridable by the environment),
 * else from a synthetic vowel-like signal; when neither gives a voice the
 * tests that need one are skipped and say why.  Checked: parallel runs give
 * the same bytes as sequential ones and as vx_clone_text with the item's
 * seed; a bad language / empty / over-long text fails alone with a code and
 * a message; progress is per item, in stage order, monotone, ending at 1.0;
 * at most max_workers items run at once (an atomic counter in the
 * callback); misuse is EINVAL, too many targets or too much text ELIMIT;
 * the result JSON.  A watchdog (alarm) turns a hang into a failure.
 */
#include <math.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>

#include "voxclone/voxclone.h"

#define PI 3.14159265358979323846

static vx_voice *g_voice;
static char g_why[2048];

static const char *shared_dir(void)
{
    const char *e = getenv("VX_SHARED_DIR");
    return e && *e ? e : VX_SHARED_DIR;
}

/* A 3 s synthetic "voice": glottal-like pulses at 110..150 Hz through three
 * vowel resonances changing every 250 ms, with short pauses, as 16-bit WAV. */
static unsigned char *synthetic_wav(size_t *size)
{
    const int sr = 22050;
    const size_t n = (size_t)sr * 3;
    size_t bytes = 44 + 2 * n;
    unsigned char *w = calloc(1, bytes);
    if (!w)
        return NULL;
    static const double formants[4][3] = {
        {730, 1090, 2440}, {270, 2290, 3010}, {300, 870, 2240}, {530, 1840, 2480}};
    double y1[3] = {0}, y2[3] = {0}, phase = 0.0;
    uint32_t rng = 12345u;
    for (size_t i = 0; i < n; i++) {
        double t = (double)i / sr;
        int seg = (int)(t / 0.25);
        int pause = (seg % 4) == 3 && fmod(t, 0.25) < 0.08;
        double f0 = 110.0 + 40.0 * sin(2.0 * PI * 0.7 * t);
        phase += f0 / sr;
        double src = 0.0;
        if (phase >= 1.0) {
            phase -= 1.0;
            src = 1.0;
        }
        rng = rng * 1664525u + 1013904223u;
        src += 0.02 * ((double)(rng >> 8) / 16777216.0 - 0.5);
        if (pause)
            src *= 0.01;
        double out = 0.0;
        for (int k = 0; k < 3; k++) {
            double fc = formants[seg % 4][k], bw = 80.0 + 40.0 * k;
            double r = exp(-PI * bw / sr), th = 2.0 * PI * fc / sr;
            double y = (1.0 - r) * src + 2.0 * r * cos(th) * y1[k] - r * r * y2[k];
            y2[k] = y1[k];
            y1[k] = y;
            out += y / (k + 1);
        }
        double v = 0.3 * out;
        v = v > 1.0 ? 1.0 : v < -1.0 ? -1.0 : v;
        int16_t s = (int16_t)lrint(v * 32000.0);
        w[44 + 2 * i] = (unsigned char)(s & 0xff);
        w[45 + 2 * i] = (unsigned char)((s >> 8) & 0xff);
    }
    uint32_t data = (uint32_t)(2 * n);
    const unsigned char hdr[44] = {
        'R', 'I', 'F', 'F', (unsigned char)((36 + data) & 0xff),
        (unsigned char)(((36 + data) >> 8) & 0xff), (unsigned char)(((36 + data) >> 16) & 0xff),
        (unsigned char)((36 + data) >> 24), 'W', 'A', 'V', 'E', 'f', 'm', 't', ' ', 16, 0, 0, 0,
        1, 0, 1, 0, (unsigned char)(sr & 0xff), (unsigned char)(sr >> 8), 0, 0,
        (unsigned char)((2 * sr) & 0xff), (unsigned char)(((2 * sr) >> 8) & 0xff),
        (unsigned char)((2 * sr) >> 16), 0, 2, 0, 16, 0, 'd', 'a', 't', 'a',
        (unsigned char)(data & 0xff), (unsigned char)((data >> 8) & 0xff),
        (unsigned char)((data >> 16) & 0xff), (unsigned char)(data >> 24)};
    memcpy(w, hdr, 44);
    *size = bytes;
    return w;
}

static int group_setup(void **state)
{
    (void)state;
    char path[1024];
    snprintf(path, sizeof path, "%s/evaldata/speakers/arctic-slt/slt_arctic_a0001.wav", shared_dir());
    vx_error e;
    if (vx_voice_from_file(path, &g_voice, &e) == VX_OK) {
        printf("reference voice: %s\n", path);
        return 0;
    }
    snprintf(g_why, sizeof g_why, "%s: %s", path, e.message);
    size_t size = 0;
    unsigned char *w = synthetic_wav(&size);
    if (w && vx_voice_from_memory(w, size, &g_voice, &e) != VX_OK) {
        size_t k = strlen(g_why);
        snprintf(g_why + k, sizeof g_why - k, "; synthetic reference: %s", e.message);
        g_voice = NULL;
    }
    if (g_voice)
        printf("reference voice: synthetic (%s)\n", g_why);
    free(w);
    return 0;
}

static int group_teardown(void **state)
{
    (void)state;
    vx_voice_free(g_voice);
    return 0;
}

#define NEED_VOICE()                                                                   \
    do {                                                                               \
        if (!g_voice) {                                                                \
            printf("SKIPPED: no reference voice (%s)\n", g_why);                       \
            skip();                                                                    \
        }                                                                              \
    } while (0)

static void settings_workers(vx_settings *s, int workers)
{
    vx_settings_defaults(s);
    s->max_workers = workers;
}

static const vx_pipeline_target k_three[3] = {
    {"fr", "Bonjour, comment allez-vous aujourd'hui?"},
    {"es", "Hola, ¿cómo estás hoy?"},
    {"de", "Guten Tag, wie geht es Ihnen heute?"},
};

/* ------------------------------------------------------------------ */

static void test_item_seed(void **state)
{
    (void)state;
    assert_true(vx_pipeline_item_seed(1, 0) == vx_pipeline_item_seed(1, 0));
    assert_true(vx_pipeline_item_seed(1, 0) != vx_pipeline_item_seed(1, 1));
    assert_true(vx_pipeline_item_seed(1, 0) != vx_pipeline_item_seed(2, 0));
    assert_true(vx_pipeline_item_seed(0, 0) != 0);
}

static void test_misuse(void **state)
{
    (void)state;
    vx_pipeline_result *out = (vx_pipeline_result *)(uintptr_t)0x1;
    vx_error e;
    /* no voice: EINVAL whatever else is given, *out untouched */
    assert_int_equal(vx_pipeline_run(NULL, NULL, k_three, 3, 0, NULL, NULL, &out, &e), VX_EINVAL);
    assert_int_equal(e.code, VX_EINVAL);
    assert_true(strlen(e.message) > 0);
    assert_true(out == (vx_pipeline_result *)(uintptr_t)0x1);
    assert_int_equal(vx_pipeline_run(NULL, NULL, k_three, 40, 0, NULL, NULL, &out, NULL),
                     VX_EINVAL);
    vx_pipeline_result_free(NULL);
    assert_null(vx_pipeline_result_to_json(NULL, NULL));

    NEED_VOICE();
    assert_int_equal(vx_pipeline_run(g_voice, NULL, k_three, 3, 0, NULL, NULL, NULL, &e),
                     VX_EINVAL);
    assert_int_equal(vx_pipeline_run(g_voice, NULL, k_three, 0, 0, NULL, NULL, &out, &e),
                     VX_EINVAL);
    assert_non_null(strstr(e.message, "no target"));
    assert_int_equal(vx_pipeline_run(g_voice, NULL, NULL, 3, 0, NULL, NULL, &out, &e), VX_EINVAL);
    vx_settings s;
    vx_settings_defaults(&s);
    s.temperature = 5.0;
    assert_int_equal(vx_pipeline_run(g_voice, &s, k_three, 3, 0, NULL, NULL, &out, &e), VX_EINVAL);
    assert_non_null(strstr(e.message, "temperature"));
    vx_settings_defaults(&s);
    s.max_workers = 0;
    assert_int_equal(vx_pipeline_run(g_voice, &s, k_three, 3, 0, NULL, NULL, &out, &e), VX_EINVAL);
    /* too many targets */
    vx_pipeline_target many[VX_PIPELINE_MAX_TARGETS + 1];
    for (size_t i = 0; i < VX_PIPELINE_MAX_TARGETS + 1; i++)
        many[i] = k_three[i % 3];
    assert_int_equal(vx_pipeline_run(g_voice, NULL, many, VX_PIPELINE_MAX_TARGETS + 1, 0, NULL,
                                     NULL, &out, &e),
                     VX_ELIMIT);
    assert_int_equal(e.code, VX_ELIMIT);
    assert_non_null(strstr(e.message, "32"));
    assert_true(out == (vx_pipeline_result *)(uintptr_t)0x1);
    /* too much text together (each text alone is within its limit) */
    static char big[VX_PIPELINE_MAX_TEXT + 1];
    memset(big, 'a', VX_PIPELINE_MAX_TEXT);
    big[VX_PIPELINE_MAX_TEXT] = '\0';
    vx_pipeline_target four[4] = {{"fr", big}, {"es", big}, {"de", big}, {"it", big}};
    assert_int_equal(vx_pipeline_run(g_voice, NULL, four, 4, 0, NULL, NULL, &out, &e), VX_ELIMIT);
    assert_non_null(strstr(e.message, "65536"));
    assert_true(out == (vx_pipeline_result *)(uintptr_t)0x1);
}

static void assert_same_items(const vx_pipeline_result *a, const vx_pipeline_result *b)
{
    assert_int_equal(a->n_items, b->n_items);
    for (size_t i = 0; i < a->n_items; i++) {
        const vx_pipeline_item *x = &a->items[i], *y = &b->items[i];
        assert_int_equal(x->status, y->status);
        assert_true(x->seed == y->seed);
        assert_string_equal(x->language, y->language);
        if (x->status != VX_OK)
            continue;
        assert_int_equal(x->audio_size, y->audio_size);
        assert_memory_equal(x->audio, y->audio, x->audio_size);
        assert_int_equal(x->clone->n_samples, y->clone->n_samples);
        assert_memory_equal(x->clone->samples, y->clone->samples,
                            x->clone->n_samples * sizeof(float));
    }
}

static void test_parallel_equals_sequential(void **state)
{
    (void)state;
    NEED_VOICE();
    vx_settings s1, s3;
    settings_workers(&s1, 1);
    settings_workers(&s3, 3);
    vx_pipeline_result *seq = NULL, *par = NULL, *par2 = NULL;
    vx_error e;
    assert_int_equal(vx_pipeline_run(g_voice, &s1, k_three, 3, 42, NULL, NULL, &seq, &e), VX_OK);
    assert_int_equal(vx_pipeline_run(g_voice, &s3, k_three, 3, 42, NULL, NULL, &par, &e), VX_OK);
    settings_workers(&s3, 2);
    assert_int_equal(vx_pipeline_run(g_voice, &s3, k_three, 3, 42, NULL, NULL, &par2, &e), VX_OK);
    assert_int_equal(seq->n_workers, 1);
    assert_int_equal(par->n_workers, 3);
    assert_int_equal(par2->n_workers, 2);
    for (size_t i = 0; i < 3; i++) {
        const vx_pipeline_item *it = &par->items[i];
        if (it->status != VX_OK)
            fprintf(stderr, "%s: %s\n", it->language, it->error.message);
        assert_int_equal(it->status, VX_OK);
        assert_int_equal(it->index, i);
        assert_string_equal(it->language, k_three[i].language);
        assert_string_equal(it->clone->language, k_three[i].language);
        assert_true(it->clone->n_samples > 0);
        assert_int_equal(it->clone->rate_hz, s3.sample_rate_hz);
        assert_true(it->audio_size > 44 && memcmp(it->audio, "RIFF", 4) == 0);
        assert_true(it->processing_ms >= it->clone_ms);
    }
    assert_int_equal(par->n_ok, 3);
    assert_int_equal(par->n_failed, 0);
    assert_same_items(seq, par);
    assert_same_items(seq, par2);

    /* any item is reproduced by vx_clone_text with its seed */
    vx_clone_result *r = NULL;
    assert_int_equal(vx_clone_text(g_voice, "es", k_three[1].text, &s1, seq->items[1].seed, &r, &e),
                     VX_OK);
    assert_int_equal(r->n_samples, seq->items[1].clone->n_samples);
    assert_memory_equal(r->samples, seq->items[1].clone->samples, r->n_samples * sizeof(float));
    vx_clone_result_free(r);

    /* another seed: items get other seeds */
    vx_pipeline_result *other = NULL;
    assert_int_equal(vx_pipeline_run(g_voice, &s1, k_three, 1, 43, NULL, NULL, &other, &e), VX_OK);
    assert_true(other->items[0].seed != seq->items[0].seed);
    vx_pipeline_result_free(other);

    /* resuming part of a run with the original items' seeds gives the same
     * bytes (what a job resumed after a restart relies on) */
    const uint64_t rest_seed[1] = {vx_pipeline_item_seed(42, 2)};
    vx_pipeline_result *resumed = NULL;
    assert_int_equal(vx_pipeline_run_seeded(g_voice, &s1, &k_three[2], 1, 999, rest_seed, NULL,
                                            NULL, &resumed, &e),
                     VX_OK);
    assert_true(resumed->items[0].seed == seq->items[2].seed);
    assert_int_equal(resumed->items[0].audio_size, seq->items[2].audio_size);
    assert_memory_equal(resumed->items[0].audio, seq->items[2].audio, seq->items[2].audio_size);
    vx_pipeline_result_free(resumed);
    vx_pipeline_result_free(seq);
    vx_pipeline_result_free(par);
    vx_pipeline_result_free(par2);
}

static void test_one_fails_others_arrive(void **state)
{
    (void)state;
    NEED_VOICE();
    static char long_text[VX_PIPELINE_MAX_TEXT + 2];
    memset(long_text, 'a', sizeof long_text - 1);
    long_text[sizeof long_text - 1] = '\0';
    const vx_pipeline_target t[7] = {
        {"fr", "Bonjour tout le monde."}, {"xx", "Hello."},        {"de", "Guten Morgen."},
        {"es", ""},                       {NULL, "Hello."},        {"en", long_text},
        {"es", "Buenos días."},
    };
    vx_settings s;
    settings_workers(&s, 2);
    vx_pipeline_result *r = NULL;
    vx_error e;
    assert_int_equal(vx_pipeline_run(g_voice, &s, t, 7, 7, NULL, NULL, &r, &e), VX_OK);
    assert_int_equal(r->n_items, 7);
    assert_int_equal(r->n_ok, 3);
    assert_int_equal(r->n_failed, 4);
    const int expect[7] = {VX_OK, VX_EINVAL, VX_OK, VX_EINVAL, VX_EINVAL, VX_ELIMIT, VX_OK};
    for (size_t i = 0; i < 7; i++) {
        const vx_pipeline_item *it = &r->items[i];
        assert_int_equal(it->index, i);
        if (it->status != expect[i])
            fprintf(stderr, "item %zu (%s): %d %s\n", i, it->language, it->status,
                    it->error.message);
        assert_int_equal(it->status, expect[i]);
        if (expect[i] == VX_OK) {
            assert_non_null(it->clone);
            assert_non_null(it->audio);
            assert_int_equal(it->error.code, VX_OK);
        } else {
            assert_null(it->clone);
            assert_null(it->audio);
            assert_int_equal(it->audio_size, 0);
            assert_int_equal(it->error.code, expect[i]);
            assert_true(strlen(it->error.message) > 0);
        }
    }
    /* the unknown language's message names it or lists the supported ones */
    assert_true(strstr(r->items[1].error.message, "xx") != NULL ||
                strstr(r->items[1].error.message, "fr") != NULL);
    assert_non_null(strstr(r->items[3].error.message, "empty"));
    assert_string_equal(r->items[4].language, "");

    /* the JSON reports the same */
    char *txt = vx_pipeline_result_to_json(r, NULL);
    assert_non_null(txt);
    json_error_t je;
    json_t *j = json_loads(txt, 0, &je);
    assert_non_null(j);
    assert_int_equal(json_integer_value(json_object_get(j, "n_ok")), 3);
    json_t *items = json_object_get(j, "results");
    assert_int_equal(json_array_size(items), 7);
    json_t *x = json_array_get(items, 1);
    assert_string_equal(json_string_value(json_object_get(x, "status")), "failed");
    assert_string_equal(
        json_string_value(json_object_get(json_object_get(x, "error"), "code")), "EINVAL");
    json_t *ok = json_array_get(items, 0);
    assert_string_equal(json_string_value(json_object_get(ok, "status")), "ok");
    assert_true(json_is_null(json_object_get(ok, "error")));
    assert_true(json_is_string(json_object_get(ok, "engine")));
    assert_true(json_is_real(json_object_get(ok, "duration_s")));
    assert_true(json_is_object(json_object_get(ok, "timings_ms")));
    /* fr is not English: auto_optimize adjusts cfg_weight; top_p etc. unused */
    json_t *unused = json_object_get(ok, "unused_parameters");
    assert_true(json_is_array(unused) && json_array_size(unused) >= 1);
    json_decref(j);
    free(txt);
    vx_pipeline_result_free(r);
}

typedef struct prog_state {
    atomic_int active;
    atomic_int max_active;
    size_t n;
    int calls[8];
    int last_stage[8];
    double last_progress[8];
    int terminal[8];
    int order_ok;
    size_t last_finished;
} prog_state;

static void on_progress(const vx_pipeline_progress *p, void *user)
{
    prog_state *ps = user;
    if (p->index >= 8 || p->n_targets != ps->n) {
        ps->order_ok = 0;
        return;
    }
    size_t i = p->index;
    if (p->stage == VX_PIPELINE_STARTED) {
        int a = atomic_fetch_add(&ps->active, 1) + 1;
        int m = atomic_load(&ps->max_active);
        while (a > m && !atomic_compare_exchange_weak(&ps->max_active, &m, a))
            ;
        if (ps->calls[i] != 0 || p->progress != 0.0)
            ps->order_ok = 0;
    } else {
        if (ps->calls[i] == 0 || (int)p->stage <= ps->last_stage[i] ||
            p->progress < ps->last_progress[i] || ps->terminal[i])
            ps->order_ok = 0;
    }
    if (p->stage == VX_PIPELINE_DONE || p->stage == VX_PIPELINE_FAILED) {
        atomic_fetch_sub(&ps->active, 1);
        ps->terminal[i] = 1;
        if (p->progress != 1.0 || p->n_finished != ps->last_finished + 1)
            ps->order_ok = 0;
        ps->last_finished = p->n_finished;
        if ((p->stage == VX_PIPELINE_FAILED) != (p->status != VX_OK))
            ps->order_ok = 0;
        if (p->stage == VX_PIPELINE_FAILED && !p->message[0])
            ps->order_ok = 0;
    }
    ps->calls[i]++;
    ps->last_stage[i] = (int)p->stage;
    ps->last_progress[i] = p->progress;
}

static void run_progress(int workers, int *max_active)
{
    const vx_pipeline_target t[6] = {
        {"fr", "Un deux trois quatre."}, {"es", "Uno dos tres cuatro."},
        {"de", "Eins zwei drei vier."},  {"xx", "nope"},
        {"it", "Uno due tre quattro."},  {"en", "One two three four."},
    };
    prog_state ps;
    memset(&ps, 0, sizeof ps);
    atomic_init(&ps.active, 0);
    atomic_init(&ps.max_active, 0);
    ps.n = 6;
    ps.order_ok = 1;
    vx_settings s;
    settings_workers(&s, workers);
    vx_pipeline_result *r = NULL;
    vx_error e;
    assert_int_equal(vx_pipeline_run(g_voice, &s, t, 6, 1, on_progress, &ps, &r, &e), VX_OK);
    assert_true(ps.order_ok);
    assert_int_equal(ps.last_finished, 6);
    assert_int_equal(atomic_load(&ps.active), 0);
    for (size_t i = 0; i < 6; i++) {
        assert_true(ps.terminal[i]);
        assert_true(ps.last_progress[i] == 1.0);
        /* ok items: STARTED, CLONED, DONE; the failed one: STARTED, FAILED */
        assert_int_equal(ps.calls[i], r->items[i].status == VX_OK ? 3 : 2);
        assert_true(r->items[i].worker >= 0 && r->items[i].worker < workers);
    }
    assert_int_equal(r->items[3].status, VX_EINVAL);
    assert_int_equal(r->n_workers, workers);
    *max_active = atomic_load(&ps.max_active);
    assert_true(*max_active >= 1 && *max_active <= workers);
    vx_pipeline_result_free(r);
}

static void test_progress_and_max_workers(void **state)
{
    (void)state;
    NEED_VOICE();
    int m1 = 0, m2 = 0, m4 = 0;
    run_progress(1, &m1);
    run_progress(2, &m2);
    run_progress(4, &m4);
    assert_int_equal(m1, 1);
    printf("max concurrent items: %d (max_workers 1), %d (2), %d (4)\n", m1, m2, m4);
}

static void test_defaults_and_mp3(void **state)
{
    (void)state;
    NEED_VOICE();
    /* NULL settings = defaults; mp3 + verify_quality give similarity */
    vx_pipeline_result *r = NULL;
    vx_error e;
    assert_int_equal(vx_pipeline_run(g_voice, NULL, k_three, 1, 0, NULL, NULL, &r, &e), VX_OK);
    vx_settings d;
    vx_settings_defaults(&d);
    assert_true(vx_settings_equal(&r->settings, &d));
    assert_int_equal(r->items[0].audio_format, VX_AUDIO_FORMAT_WAV);
    vx_pipeline_result_free(r);

    vx_settings s;
    vx_settings_defaults(&s);
    s.audio_format = VX_AUDIO_FORMAT_MP3;
    s.verify_quality = 1;
    s.sample_rate_hz = 16000;
    assert_int_equal(vx_pipeline_run(g_voice, &s, k_three, 2, 0, NULL, NULL, &r, &e), VX_OK);
    for (size_t i = 0; i < 2; i++) {
        const vx_pipeline_item *it = &r->items[i];
        assert_int_equal(it->status, VX_OK);
        assert_int_equal(it->audio_format, VX_AUDIO_FORMAT_MP3);
        assert_int_equal(it->clone->rate_hz, 16000);
        assert_true(it->clone->has_similarity);
        assert_true(it->clone->similarity.overall > 0.0 && it->clone->similarity.overall <= 1.0);
        /* an MP3 frame sync or an ID3 tag */
        assert_true(it->audio_size > 4 &&
                    ((it->audio[0] == 0xff && (it->audio[1] & 0xe0) == 0xe0) ||
                     memcmp(it->audio, "ID3", 3) == 0));
    }
    const char *files[2] = {"fr.mp3", NULL};
    char *txt = vx_pipeline_result_to_json(r, files);
    json_t *j = json_loads(txt, 0, NULL);
    assert_non_null(j);
    json_t *it0 = json_array_get(json_object_get(j, "results"), 0);
    assert_string_equal(json_string_value(json_object_get(it0, "audio_file")), "fr.mp3");
    assert_string_equal(json_string_value(json_object_get(it0, "audio_format")), "mp3");
    assert_true(json_is_object(json_object_get(it0, "similarity")));
    assert_true(json_is_null(
        json_object_get(json_array_get(json_object_get(j, "results"), 1), "audio_file")));
    json_decref(j);
    free(txt);
    vx_pipeline_result_free(r);
}

/* A hang must fail the test, not stall ctest: the whole file normally runs
 * in a few seconds (longer under sanitizers, far below the limit). */
#define WATCHDOG_S 300

static void on_watchdog(int sig)
{
    static const char msg[] =
        "test_pipeline: still running after 300 s: deadlock (known case: under ASan, the "
        "espeak-ng engine's forked synthesis worker can block on an allocator lock another "
        "thread held at fork time)\n";
    (void)sig;
    if (write(2, msg, sizeof msg - 1) < 0)
        _exit(2);
    _exit(1);
}

int main(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_watchdog;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGALRM, &sa, NULL);
    alarm(WATCHDOG_S);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_item_seed),
        cmocka_unit_test(test_misuse),
        cmocka_unit_test(test_parallel_equals_sequential),
        cmocka_unit_test(test_one_fails_others_arrive),
        cmocka_unit_test(test_progress_and_max_workers),
        cmocka_unit_test(test_defaults_and_mp3),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
