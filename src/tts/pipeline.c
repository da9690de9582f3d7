/*
 * pipeline.c -- one message -> N target languages on a bounded pthread pool
 * (SPEC section 6, include/voxclone/pipeline.h).
 *
 * DESIGN: the run is a shared counter of the next item to take and
 * min(max_workers, n) workers that take items from it until none is left;
 * the calling thread is worker 0, so max_workers = 1 starts no thread at all
 * and a failed pthread_create only makes the pool smaller.  Each worker
 * writes only its own item of the result array (in input order), so the
 * only shared state besides the counter is the progress bookkeeping, kept
 * under one mutex that also serialises the user's callbacks.  Every item is
 * cloned with a seed derived from (run seed, index) alone, which makes the
 * output bytes independent of the number of workers and of scheduling.
 * Items check their own language and text and fail alone with a coded error;
 * only misuse of the call (NULL, no targets, too many targets or too much
 * text together, invalid settings) fails the whole run, before any work
 * starts.  The total-text cap bounds the memory a result can hold.  The
 * library never prints.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "analysis/json_internal.h"
#include "core/error.h"
#include "tts/tts_internal.h"
#include "voxclone/voxclone.h"

/* Progress reported after vx_clone_text (the encoding is the remaining 0.2). */
#define CLONED_PROGRESS 0.8

typedef struct run_ctx {
    const vx_voice *voice;
    const vx_settings *settings;
    const vx_pipeline_target *targets;
    size_t n;
    uint64_t seed;
    vx_pipeline_progress_fn cb;
    void *user;
    vx_pipeline_result *res;
    double t0_ms;
    atomic_size_t next;
    pthread_mutex_t lock; /* n_finished, n_ok, n_failed, callbacks */
    size_t n_finished;
} run_ctx;

typedef struct worker_arg {
    run_ctx *ctx;
    int id;
} worker_arg;

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec * 1e-6;
}

static double thread_cpu_ms(void)
{
    struct timespec ts;
    if (clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts) != 0)
        return 0.0;
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec * 1e-6;
}

uint64_t vx_pipeline_item_seed(uint64_t seed, size_t index)
{
    /* splitmix64 of the seed, then of (that + index): neighbouring seeds and
     * neighbouring indexes give unrelated streams. */
    uint64_t z = seed + 0x9E3779B97F4A7C15ull;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    z ^= z >> 31;
    z += ((uint64_t)index + 1u) * 0x9E3779B97F4A7C15ull;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

/* Reports one stage of item it; FAILED / DONE also count it as finished. */
static void report(run_ctx *c, vx_pipeline_item *it, vx_pipeline_stage stage, double progress)
{
    pthread_mutex_lock(&c->lock);
    if (stage == VX_PIPELINE_DONE || stage == VX_PIPELINE_FAILED) {
        c->n_finished++;
        if (stage == VX_PIPELINE_DONE)
            c->res->n_ok++;
        else
            c->res->n_failed++;
    }
    if (c->cb) {
        vx_pipeline_progress p;
        p.index = it->index;
        p.language = it->language;
        p.stage = stage;
        p.progress = progress;
        p.status = stage == VX_PIPELINE_FAILED ? it->status : VX_OK;
        p.message = stage == VX_PIPELINE_FAILED ? it->error.message : "";
        p.n_finished = c->n_finished;
        p.n_targets = c->n;
        p.item = stage == VX_PIPELINE_DONE ? it : NULL;
        c->cb(&p, c->user);
    }
    pthread_mutex_unlock(&c->lock);
}

/* Checks the target's own fields; fills it->error on failure. */
static int check_target(const vx_pipeline_target *t, vx_pipeline_item *it)
{
    if (!t->language || !t->language[0])
        return vx__error_set(&it->error, VX_EINVAL, "target %zu: language is missing", it->index);
    if (strnlen(t->language, VX_PIPELINE_MAX_LANGUAGE + 1) > VX_PIPELINE_MAX_LANGUAGE)
        return vx__error_set(&it->error, VX_EINVAL,
                             "target %zu: language code is longer than %d characters", it->index,
                             VX_PIPELINE_MAX_LANGUAGE);
    if (!t->text)
        return vx__error_set(&it->error, VX_EINVAL, "target %zu (%s): text is missing", it->index,
                             it->language);
    size_t len = strnlen(t->text, (size_t)VX_PIPELINE_MAX_TEXT + 1);
    if (len == 0)
        return vx__error_set(&it->error, VX_EINVAL, "target %zu (%s): text is empty", it->index,
                             it->language);
    if (len > (size_t)VX_PIPELINE_MAX_TEXT)
        return vx__error_set(&it->error, VX_ELIMIT,
                             "target %zu (%s): text is longer than %d bytes", it->index,
                             it->language, VX_PIPELINE_MAX_TEXT);
    return VX_OK;
}

static void run_item(run_ctx *c, size_t i, int worker)
{
    vx_pipeline_item *it = &c->res->items[i];
    const vx_pipeline_target *t = &c->targets[i];
    double t_start = now_ms(), cpu_start = thread_cpu_ms();
    it->worker = worker;
    it->queue_ms = t_start - c->t0_ms;
    report(c, it, VX_PIPELINE_STARTED, 0.0);

    int rc = check_target(t, it);
    if (rc == VX_OK) {
        double a = now_ms();
        rc = vx_clone_text(c->voice, t->language, t->text, c->settings, it->seed, &it->clone,
                           &it->error);
        it->clone_ms = now_ms() - a;
        if (rc == VX_OK && !it->clone)
            rc = vx__error_set(&it->error, VX_EINTERNAL, "%s: the engine returned no audio",
                               it->language);
    }
    if (rc == VX_OK) {
        report(c, it, VX_PIPELINE_CLONED, CLONED_PROGRESS);
        double a = now_ms();
        rc = vx_clone_result_encode(it->clone, it->audio_format, &it->audio, &it->audio_size,
                                    &it->error);
        it->encode_ms = now_ms() - a;
        if (rc == VX_OK && (!it->audio || it->audio_size == 0))
            rc = vx__error_set(&it->error, VX_EINTERNAL, "%s: the encoder returned no audio",
                               it->language);
    }
    if (rc != VX_OK) {
        /* keep the code the callee returned even if it forgot to fill err */
        it->status = rc;
        it->error.code = rc;
        if (!it->error.message[0])
            vx__error_set(&it->error, rc, "%s: %s", it->language[0] ? it->language : "?",
                          vx_strerror(rc));
        vx_clone_result_free(it->clone);
        it->clone = NULL;
        free(it->audio);
        it->audio = NULL;
        it->audio_size = 0;
    } else {
        it->status = VX_OK;
        vx__error_clear(&it->error);
    }
    it->processing_ms = now_ms() - t_start;
    it->cpu_ms = thread_cpu_ms() - cpu_start;
    report(c, it, rc == VX_OK ? VX_PIPELINE_DONE : VX_PIPELINE_FAILED, 1.0);
}

static void work(run_ctx *c, int worker)
{
    for (;;) {
        size_t i = atomic_fetch_add(&c->next, 1);
        if (i >= c->n)
            break;
        run_item(c, i, worker);
    }
}

static void *worker_main(void *p)
{
    worker_arg *w = p;
    work(w->ctx, w->id);
    return NULL;
}

void vx_pipeline_result_free(vx_pipeline_result *r)
{
    if (!r)
        return;
    for (size_t i = 0; i < r->n_items; i++) {
        vx_clone_result_free(r->items[i].clone);
        free(r->items[i].audio);
    }
    free(r->items);
    free(r);
}

int vx_pipeline_run(const vx_voice *voice, const vx_settings *settings,
                    const vx_pipeline_target *targets, size_t n, uint64_t seed,
                    vx_pipeline_progress_fn progress, void *user, vx_pipeline_result **out,
                    vx_error *err)
{
    return vx_pipeline_run_seeded(voice, settings, targets, n, seed, NULL, progress, user, out,
                                  err);
}

int vx_pipeline_run_seeded(const vx_voice *voice, const vx_settings *settings,
                           const vx_pipeline_target *targets, size_t n, uint64_t seed,
                           const uint64_t *item_seeds, vx_pipeline_progress_fn progress,
                           void *user, vx_pipeline_result **out, vx_error *err)
{
    vx__error_clear(err);
    if (!voice || !out)
        return vx__error_set(err, VX_EINVAL, "pipeline: %s is NULL", !voice ? "voice" : "out");
    if (n == 0)
        return vx__error_set(err, VX_EINVAL, "pipeline: no target languages");
    if (!targets)
        return vx__error_set(err, VX_EINVAL, "pipeline: targets is NULL");
    if (n > VX_PIPELINE_MAX_TARGETS)
        return vx__error_set(err, VX_ELIMIT,
                             "pipeline: %zu target languages, at most %d are allowed", n,
                             VX_PIPELINE_MAX_TARGETS);
    size_t total = 0;
    for (size_t i = 0; i < n; i++)
        total += targets[i].text ? strnlen(targets[i].text, (size_t)VX_PIPELINE_MAX_TEXT + 1) : 0;
    if (total > VX_PIPELINE_MAX_TOTAL_TEXT)
        return vx__error_set(err, VX_ELIMIT,
                             "pipeline: the texts hold %zu bytes together, at most %d are allowed",
                             total, VX_PIPELINE_MAX_TOTAL_TEXT);
    vx_settings s;
    if (settings) {
        vx_error e;
        if (vx_settings_validate(settings, &e) != VX_OK)
            return vx__error_set(err, VX_EINVAL, "pipeline: %s", e.message);
        s = *settings;
    } else {
        vx_settings_defaults(&s);
    }

    vx_pipeline_result *res = calloc(1, sizeof *res);
    vx_pipeline_item *items = calloc(n, sizeof *items);
    if (!res || !items) {
        free(res);
        free(items);
        return vx__error_set(err, VX_ENOMEM, "pipeline: out of memory");
    }
    res->items = items;
    res->n_items = n;
    res->seed = seed;
    res->settings = s;
    for (size_t i = 0; i < n; i++) {
        vx_pipeline_item *it = &items[i];
        it->index = i;
        it->seed = item_seeds ? item_seeds[i] : vx_pipeline_item_seed(seed, i);
        it->audio_format = s.audio_format;
        it->status = VX_OK;
        it->worker = -1;
        const char *lang = targets[i].language;
        if (lang && strnlen(lang, VX_PIPELINE_MAX_LANGUAGE + 1) <= VX_PIPELINE_MAX_LANGUAGE)
            memcpy(it->language, lang, strlen(lang) + 1);
    }

    run_ctx c;
    memset(&c, 0, sizeof c);
    c.voice = voice;
    c.settings = &res->settings;
    c.targets = targets;
    c.n = n;
    c.seed = seed;
    c.cb = progress;
    c.user = user;
    c.res = res;
    atomic_init(&c.next, 0);
    if (pthread_mutex_init(&c.lock, NULL) != 0) {
        vx_pipeline_result_free(res);
        return vx__error_set(err, VX_EINTERNAL, "pipeline: cannot create a mutex");
    }

    size_t want = (size_t)(s.max_workers > 0 ? s.max_workers : 1);
    if (want > n)
        want = n;
    pthread_t th[VX_PIPELINE_MAX_TARGETS];
    worker_arg args[VX_PIPELINE_MAX_TARGETS];
    size_t started = 0;
    c.t0_ms = now_ms();
    /* workers 1..want-1 on new threads; a failed create just shrinks the pool */
    for (size_t w = 1; w < want; w++) {
        args[started].ctx = &c;
        args[started].id = (int)(started + 1);
        if (pthread_create(&th[started], NULL, worker_main, &args[started]) != 0)
            break;
        started++;
    }
    work(&c, 0);
    for (size_t w = 0; w < started; w++)
        pthread_join(th[w], NULL);
    res->wall_ms = now_ms() - c.t0_ms;
    res->n_workers = (int)started + 1;
    pthread_mutex_destroy(&c.lock);
    *out = res;
    return VX_OK;
}

/* ------------------------------------------------------------------ */
/* JSON                                                                */
/* ------------------------------------------------------------------ */

static json_t *mask_json(vx_param_mask m)
{
    json_t *a = json_array();
    const char *names[VX_PARAM_COUNT];
    size_t k = vx_param_mask_names(m, names, VX_PARAM_COUNT);
    for (size_t i = 0; i < k && i < VX_PARAM_COUNT; i++)
        json_array_append_new(a, json_string(names[i]));
    return a;
}

static json_t *loads_or_null(char *txt)
{
    json_t *j = txt ? json_loads(txt, 0, NULL) : NULL;
    free(txt);
    return j ? j : json_null();
}

static json_t *item_json(const vx_pipeline_item *it, const char *file)
{
    json_t *j = json_object();
    json_object_set_new(j, "index", json_integer((json_int_t)it->index));
    json_object_set_new(j, "language", json_string(it->language));
    json_object_set_new(j, "status", json_string(it->status == VX_OK ? "ok" : "failed"));
    const vx_clone_result *r = it->clone;
    json_object_set_new(j, "engine", r ? json_string(r->engine) : json_null());
    json_object_set_new(j, "device", r ? json_string(r->device) : json_null());
    json_object_set_new(j, "audio_file", file ? json_string(file) : json_null());
    json_object_set_new(j, "audio_format",
                        json_string(it->audio_format == VX_AUDIO_FORMAT_MP3 ? "mp3" : "wav"));
    json_object_set_new(j, "audio_bytes", json_integer((json_int_t)it->audio_size));
    json_object_set_new(j, "sample_rate", r ? json_integer(r->rate_hz) : json_null());
    json_object_set_new(j, "duration_s", r ? json_real(r->duration_s) : json_null());
    json_object_set_new(j, "processing_time_s", json_real(it->processing_ms / 1e3));
    json_t *t = json_object();
    json_object_set_new(t, "queue", json_real(it->queue_ms));
    json_object_set_new(t, "synth", r ? json_real(r->synth_ms) : json_null());
    json_object_set_new(t, "convert", r ? json_real(r->convert_ms) : json_null());
    /* rest of vx_clone_text: verification (analysis + similarity), resampling */
    json_object_set_new(t, "verify_other",
                        r ? json_real(r->total_ms - r->synth_ms - r->convert_ms) : json_null());
    json_object_set_new(t, "clone", json_real(it->clone_ms));
    json_object_set_new(t, "encode", json_real(it->encode_ms));
    json_object_set_new(t, "processing", json_real(it->processing_ms));
    json_object_set_new(t, "cpu", json_real(it->cpu_ms));
    json_object_set_new(j, "timings_ms", t);
    json_object_set_new(j, "real_time_factor",
                        r && r->duration_s > 0.0 ? json_real(it->processing_ms / 1e3 / r->duration_s)
                                                 : json_null());
    if (r && r->has_similarity) {
        json_t *s = json_object();
        json_object_set_new(s, "pitch_similarity", json_real(r->similarity.pitch_similarity));
        json_object_set_new(s, "brightness_similarity",
                            json_real(r->similarity.brightness_similarity));
        json_object_set_new(s, "mfcc_similarity", json_real(r->similarity.mfcc_similarity));
        json_object_set_new(s, "overall", json_real(r->similarity.overall));
        json_object_set_new(s, "quality_alert", json_boolean(r->similarity.overall < 0.7));
        json_object_set_new(s, "voiceprint_similarity", json_real(r->voiceprint_similarity));
        json_object_set_new(j, "similarity", s);
    } else {
        json_object_set_new(j, "similarity", json_null());
    }
    json_object_set_new(j, "unused_parameters", r ? mask_json(r->unused) : json_array());
    json_object_set_new(j, "adjusted_parameters", r ? mask_json(r->adjusted) : json_array());
    /* 64-bit seeds exceed JSON's exact integer range: decimal strings */
    json_object_set_new(j, "seed", json_sprintf("%llu", (unsigned long long)it->seed));
    if (it->status != VX_OK) {
        json_t *e = json_object();
        json_object_set_new(e, "code", json_string(vx_status_name(it->status)));
        json_object_set_new(e, "status", json_integer(it->status));
        json_object_set_new(e, "message", json_string(it->error.message));
        json_object_set_new(j, "error", e);
    } else {
        json_object_set_new(j, "error", json_null());
    }
    return j;
}

char *vx_pipeline_result_to_json(const vx_pipeline_result *r, const char *const *audio_files)
{
    if (!r)
        return NULL;
    json_t *j = json_object();
    if (!j)
        return NULL;
    json_object_set_new(j, "seed", json_sprintf("%llu", (unsigned long long)r->seed));
    json_object_set_new(j, "settings", loads_or_null(vx_settings_to_json(&r->settings)));
    json_object_set_new(j, "n_targets", json_integer((json_int_t)r->n_items));
    json_object_set_new(j, "n_ok", json_integer((json_int_t)r->n_ok));
    json_object_set_new(j, "n_failed", json_integer((json_int_t)r->n_failed));
    json_object_set_new(j, "workers", json_integer(r->n_workers));
    json_object_set_new(j, "wall_time_s", json_real(r->wall_ms / 1e3));
    json_t *a = json_array();
    for (size_t i = 0; i < r->n_items; i++)
        json_array_append_new(a, item_json(&r->items[i], audio_files ? audio_files[i] : NULL));
    json_object_set_new(j, "results", a);
    char *txt = vx__json_dump(j);
    json_decref(j);
    return txt;
}
