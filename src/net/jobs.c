/*
 * jobs.c -- multi-language message jobs: a bounded queue, worker threads,
 * progress in the store, results on disk.
 *
 * DESIGN: the store is the truth, memory only holds job ids: a job and all
 * its items are written (queued) before 202 is answered, every stage of
 * every item is written as it happens, and each finished language's audio is
 * written to disk (temp file + rename) *before* the item is marked done.  So
 * a crash or restart loses no finished result: on start the jobs still
 * queued or running are re-queued and only their unfinished items run
 * again.  The queue is bounded (max_queued_jobs counts queued + running):
 * beyond it a new job gets 429 with Retry-After and nothing is stored.
 * A job runs its languages in parallel on the pipeline's pool
 * (settings.max_workers); job_workers jobs run at once.
 */
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "net/server_internal.h"

struct vx__jobs {
    pthread_mutex_t m;
    pthread_cond_t cv;
    char (*ring)[VX_STORE_ID_LEN + 1];
    size_t cap, head, n;
    size_t running;
    size_t reserved;
    int stop;
    pthread_t *threads;
    int n_threads;
};

void vx__jobs_counts(vx_server *s, size_t *queued, size_t *running)
{
    vx__jobs *q = s->jobs;
    *queued = *running = 0;
    if (!q)
        return;
    pthread_mutex_lock(&q->m);
    *queued = q->n;
    *running = q->running;
    pthread_mutex_unlock(&q->m);
}

static int push_locked(vx__jobs *q, const char *id)
{
    if (q->n == q->cap) {
        size_t nc = q->cap ? q->cap * 2 : 16;
        char(*nr)[VX_STORE_ID_LEN + 1] = malloc(nc * sizeof *nr);
        if (!nr)
            return VX_ENOMEM;
        for (size_t i = 0; i < q->n; i++)
            memcpy(nr[i], q->ring[(q->head + i) % q->cap], sizeof nr[i]);
        free(q->ring);
        q->ring = nr;
        q->cap = nc;
        q->head = 0;
    }
    snprintf(q->ring[(q->head + q->n) % q->cap], VX_STORE_ID_LEN + 1, "%s", id);
    q->n++;
    pthread_cond_signal(&q->cv);
    return VX_OK;
}

/* ------------------------------------------------------------------ */
/* running one job                                                     */
/* ------------------------------------------------------------------ */
typedef struct run_ctx {
    vx_server *s;
    const vx_job *job;
    const size_t *map;        /* run index -> job item index */
    const char *ext;
    double t_start[VX_PIPELINE_MAX_TARGETS];
} run_ctx;

/* One language finished: its audio goes to disk first (temp + rename), then
 * the item is marked done, so a done item always has its file.  sim (may be
 * NULL) is stolen. */
static void store_done(vx_server *s, const vx_job *job, size_t idx, const char *ext,
                       const void *audio, size_t len, json_t *sim, double overall)
{
    const char *lang = job->items[idx].language;
    vx_error e;
    char name[120], path[800];
    snprintf(name, sizeof name, "results/%s-%zu.%s", job->id, idx, ext);
    snprintf(path, sizeof path, "%s/%s", s->data_dir, name);
    if (!audio || len == 0 || vx__file_write_atomic(path, audio, len, &e) != VX_OK) {
        const char *lf[] = {lang, "EIO"};
        vx_metrics_inc(s->metrics, "voxclone_clone_failures_total", lf, 1);
        vx_store_job_item_update(s->store, job->id, idx, "failed", 1.0, NULL, NULL,
                                 "cannot write the result audio", &e);
        json_decref(sim);
        return;
    }
    char *simt = NULL;
    if (sim) {
        vx_metrics_observe(s->metrics, "voxclone_similarity_overall", NULL, overall);
        simt = json_dumps(sim, JSON_COMPACT | JSON_REAL_PRECISION(12) | JSON_PRESERVE_ORDER);
        json_decref(sim);
    }
    vx_store_job_item_update(s->store, job->id, idx, "done", 1.0, name, simt, NULL, &e);
    if (simt) { /* a verified clone is a comparison too: keep it in the user's history */
        char cloned[120];
        snprintf(cloned, sizeof cloned, "job:%s/%zu", job->id, idx);
        vx_store_history_add(s->store, job->user, job->profile_id, cloned, overall, simt, NULL, &e);
    }
    free(simt);
}

static void on_progress(const vx_pipeline_progress *p, void *user)
{
    run_ctx *c = user;
    vx_server *s = c->s;
    size_t idx = c->map[p->index];
    const char *lang = c->job->items[idx].language;
    const char *ll[] = {lang};
    vx_error e;
    switch (p->stage) {
    case VX_PIPELINE_STARTED:
        c->t_start[p->index] = vx__now_s();
        vx_metrics_inc(s->metrics, "voxclone_clones_total", ll, 1);
        vx_store_job_item_update(s->store, c->job->id, idx, "running", 0.0, NULL, NULL, NULL, &e);
        break;
    case VX_PIPELINE_CLONED:
        vx_store_job_item_update(s->store, c->job->id, idx, "running", p->progress, NULL, NULL,
                                 NULL, &e);
        break;
    case VX_PIPELINE_DONE: {
        const vx_pipeline_item *it = p->item;
        vx_metrics_observe(s->metrics, "voxclone_clone_duration_seconds", ll,
                           vx__now_s() - c->t_start[p->index]);
        json_t *sim = NULL;
        double overall = 0;
        if (it && it->clone && it->clone->has_similarity) {
            vx__clone_out o;
            memset(&o, 0, sizeof o);
            o.has_similarity = 1;
            o.sim = it->clone->similarity;
            o.vp_sim = it->clone->voiceprint_similarity;
            sim = vx__clone_out_similarity_json(&o);
            overall = o.sim.overall;
        }
        store_done(s, c->job, idx, c->ext, it ? it->audio : NULL, it ? it->audio_size : 0, sim,
                   overall);
        break;
    }
    case VX_PIPELINE_FAILED: {
        const char *lf[] = {lang, vx_status_name(p->status)};
        vx_metrics_inc(s->metrics, "voxclone_clone_failures_total", lf, 1);
        vx_store_job_item_update(s->store, c->job->id, idx, "failed", 1.0, NULL, NULL,
                                 p->message[0] ? p->message : vx_strerror(p->status), &e);
        break;
    }
    }
}

static void finish_job(vx_server *s, const char *id, const char *status)
{
    vx_error e;
    vx_store_job_set_status(s->store, id, status, &e);
    const char *lv[] = {status};
    vx_metrics_inc(s->metrics, "voxclone_jobs_total", lv, 1);
}

/* The final status from what the store holds now. */
static void finish_from_store(vx_server *s, const char *id)
{
    vx_error e;
    vx_job now;
    memset(&now, 0, sizeof now);
    if (vx_store_job_get(s->store, id, &now, &e) == VX_OK) {
        size_t ok = 0;
        for (size_t i = 0; i < now.n_items; i++)
            ok += strcmp(now.items[i].status, "done") == 0;
        finish_job(s, id, ok == now.n_items ? "done" : ok > 0 ? "partial" : "failed");
        vx_job_clear(&now);
    }
}

static void fail_all(vx_server *s, vx_job *job, const char *msg)
{
    vx_error e;
    for (size_t i = 0; i < job->n_items; i++)
        if (strcmp(job->items[i].status, "done") != 0)
            vx_store_job_item_update(s->store, job->id, i, "failed", 1.0, NULL, NULL, msg, &e);
}

/* ---- jobs on workers: one task per language ------------------------- */
/* Each unfinished language becomes one "clone" task, so the languages of
 * one message run on different workers at once.  Broker callbacks run on
 * its I/O thread and must be short: they only queue the event; this job's
 * thread writes files and the store. */
typedef struct rev {
    struct rev *next;
    size_t idx;
    int type;          /* VX_TASK_PROGRESS / RESULT / ERROR */
    double progress;
    int status;
    char message[256];
    vx__clone_out out; /* RESULT */
    int parse_rc;
} rev;

typedef struct rjob {
    pthread_mutex_t m;
    pthread_cond_t cv;
    rev *head, *tail;
} rjob;

typedef struct ritem {
    rjob *rj;
    size_t idx;
} ritem;

static void on_task_event(const vx_task_event *ev, void *user)
{
    ritem *ri = user;
    rev *r = calloc(1, sizeof *r);
    if (!r)
        return; /* the task's end still arrives: the job thread counts RESULT/ERROR only */
    r->idx = ri->idx;
    r->type = ev->type;
    r->progress = ev->progress;
    r->status = ev->status;
    if (ev->type == VX_TASK_RESULT) {
        vx_error e;
        r->parse_rc = vx__clone_out_from_result(ev->result_json, ev->frames, ev->n_frames, &r->out,
                                                &e);
        if (r->parse_rc != VX_OK)
            snprintf(r->message, sizeof r->message, "%s", e.message);
    } else if (ev->type == VX_TASK_ERROR) {
        snprintf(r->message, sizeof r->message, "%s", ev->message ? ev->message : "");
    }
    pthread_mutex_lock(&ri->rj->m);
    if (ri->rj->tail)
        ri->rj->tail->next = r;
    else
        ri->rj->head = r;
    ri->rj->tail = r;
    pthread_cond_signal(&ri->rj->cv);
    pthread_mutex_unlock(&ri->rj->m);
}

static int stopping(vx_server *s)
{
    pthread_mutex_lock(&s->lock);
    int st = s->stopping;
    pthread_mutex_unlock(&s->lock);
    return st;
}

static void run_job_remote(vx_server *s, vx_job *job, const vx_settings *st, const vx_profile *p)
{
    vx_error e;
    void *audio = NULL;
    size_t alen = 0;
    if (vx__audio_load(s, p->audio_sha256, &audio, &alen, &e) != VX_OK) {
        fail_all(s, job, "the voice profile's audio is missing");
        return;
    }
    rjob rj;
    memset(&rj, 0, sizeof rj);
    pthread_mutex_init(&rj.m, NULL);
    pthread_cond_init(&rj.cv, NULL);
    ritem items[VX_PIPELINE_MAX_TARGETS];
    double t0[VX_PIPELINE_MAX_TARGETS];
    size_t pending = 0;
    const char *ext = st->audio_format == VX_AUDIO_FORMAT_MP3 ? "mp3" : "wav";
    for (size_t i = 0; i < job->n_items && i < VX_PIPELINE_MAX_TARGETS; i++) {
        if (strcmp(job->items[i].status, "done") == 0 || strcmp(job->items[i].status, "failed") == 0)
            continue;
        const char *lang = job->items[i].language;
        /* the same seed as the in-process pipeline: same bytes either way */
        char *args = vx__clone_args(p, lang, job->items[i].text ? job->items[i].text : "", st,
                                    vx_pipeline_item_seed(job->seed, i));
        items[i].rj = &rj;
        items[i].idx = i;
        vx_frame f = {audio, alen};
        char tid[VX_TASK_ID_LEN + 1];
        int rc = args ? vx_broker_submit(s->broker, "clone", args, &f, 1, 300000, on_task_event,
                                         &items[i], tid, &e)
                      : vx__error_set(&e, VX_ENOMEM, "out of memory");
        free(args);
        const char *ll[] = {lang};
        vx_metrics_inc(s->metrics, "voxclone_clones_total", ll, 1);
        if (rc != VX_OK) {
            const char *lf[] = {lang, vx_status_name(rc)};
            vx_metrics_inc(s->metrics, "voxclone_clone_failures_total", lf, 1);
            vx_store_job_item_update(s->store, job->id, i, "failed", 1.0, NULL, NULL, e.message,
                                     &e);
            continue;
        }
        t0[i] = vx__now_s();
        pending++;
    }
    free(audio);
    while (pending > 0) {
        pthread_mutex_lock(&rj.m);
        while (!rj.head)
            pthread_cond_wait(&rj.cv, &rj.m);
        rev *r = rj.head;
        rj.head = r->next;
        if (!rj.head)
            rj.tail = NULL;
        pthread_mutex_unlock(&rj.m);
        const char *lang = job->items[r->idx].language;
        const char *ll[] = {lang};
        if (r->type == VX_TASK_PROGRESS) {
            vx_store_job_item_update(s->store, job->id, r->idx, "running",
                                     r->progress > 0 ? r->progress : 0.0, NULL, NULL, NULL, &e);
        } else if (r->type == VX_TASK_RESULT) {
            pending--;
            if (r->parse_rc == VX_OK) {
                vx_metrics_observe(s->metrics, "voxclone_clone_duration_seconds", ll,
                                   vx__now_s() - t0[r->idx]);
                store_done(s, job, r->idx, ext, r->out.audio, r->out.audio_len,
                           vx__clone_out_similarity_json(&r->out), r->out.sim.overall);
            } else {
                vx_store_job_item_update(s->store, job->id, r->idx, "failed", 1.0, NULL, NULL,
                                         r->message, &e);
            }
        } else if (r->type == VX_TASK_ERROR) {
            pending--;
            /* a shutdown fails the broker's tasks: leave the item as it is
             * so the job resumes on the next start */
            if (!stopping(s)) {
                const char *lf[] = {lang, vx_status_name(r->status)};
                vx_metrics_inc(s->metrics, "voxclone_clone_failures_total", lf, 1);
                vx_store_job_item_update(s->store, job->id, r->idx, "failed", 1.0, NULL, NULL,
                                         r->message[0] ? r->message : vx_strerror(r->status), &e);
            }
        }
        vx__clone_out_clear(&r->out);
        free(r);
    }
    pthread_mutex_lock(&rj.m);
    while (rj.head) { /* late progress events */
        rev *r = rj.head;
        rj.head = r->next;
        vx__clone_out_clear(&r->out);
        free(r);
    }
    pthread_mutex_unlock(&rj.m);
    pthread_cond_destroy(&rj.cv);
    pthread_mutex_destroy(&rj.m);
}

static void run_job(vx_server *s, const char *id)
{
    vx_job job;
    memset(&job, 0, sizeof job);
    vx_error e;
    if (vx_store_job_get(s->store, id, &job, &e) != VX_OK)
        return; /* store gone: the job stays queued and is recovered later */
    vx_store_job_set_status(s->store, id, "running", &e);
    vx_settings st;
    vx_settings_defaults(&st);
    if (job.settings_json &&
        vx_settings_apply_json(&st, job.settings_json, strlen(job.settings_json), &e) != VX_OK) {
        fail_all(s, &job, "stored settings are invalid");
        finish_job(s, id, "failed");
        vx_job_clear(&job);
        return;
    }
    vx_profile p;
    memset(&p, 0, sizeof p);
    const vx_voice *voice = NULL;
    if (s->broker) {
        if (vx_store_profile_get_id(s->store, job.profile_id, &p, &e) != VX_OK) {
            char msg[300];
            snprintf(msg, sizeof msg, "voice profile unusable: %s", e.message);
            fail_all(s, &job, msg);
            finish_job(s, id, "failed");
        } else {
            run_job_remote(s, &job, &st, &p);
            if (!stopping(s))
                finish_from_store(s, id);
        }
        vx_profile_clear(&p);
        vx_job_clear(&job);
        return;
    }
    if (vx_store_profile_get_id(s->store, job.profile_id, &p, &e) != VX_OK ||
        vx__voice_get(s, &p, &voice, &e) != VX_OK) {
        char msg[300];
        snprintf(msg, sizeof msg, "voice profile unusable: %s", e.message);
        fail_all(s, &job, msg);
        finish_job(s, id, "failed");
        vx_profile_clear(&p);
        vx_job_clear(&job);
        return;
    }
    vx_pipeline_target targets[VX_PIPELINE_MAX_TARGETS];
    size_t map[VX_PIPELINE_MAX_TARGETS];
    uint64_t seeds[VX_PIPELINE_MAX_TARGETS];
    size_t n = 0;
    for (size_t i = 0; i < job.n_items && n < VX_PIPELINE_MAX_TARGETS; i++) {
        if (strcmp(job.items[i].status, "done") == 0 || strcmp(job.items[i].status, "failed") == 0)
            continue;
        targets[n].language = job.items[i].language;
        targets[n].text = job.items[i].text ? job.items[i].text : "";
        /* the seed of the item's place in the whole job, so a job resumed
         * after a restart produces the same bytes as an uninterrupted one */
        seeds[n] = vx_pipeline_item_seed(job.seed, i);
        map[n++] = i;
    }
    if (n > 0) {
        run_ctx c;
        memset(&c, 0, sizeof c);
        c.s = s;
        c.job = &job;
        c.map = map;
        c.ext = st.audio_format == VX_AUDIO_FORMAT_MP3 ? "mp3" : "wav";
        vx_pipeline_result *r = NULL;
        int rc = vx_pipeline_run_seeded(voice, &st, targets, n, job.seed, seeds, on_progress, &c, &r,
                                        &e);
        if (rc != VX_OK)
            fail_all(s, &job, e.message);
        vx_pipeline_result_free(r);
    }
    vx__voice_put(s, voice);
    vx_profile_clear(&p);
    finish_from_store(s, id);
    vx_job_clear(&job);
}

static void *worker(void *arg)
{
    vx_server *s = arg;
    vx__jobs *q = s->jobs;
    pthread_mutex_lock(&q->m);
    for (;;) {
        while (!q->stop && q->n == 0)
            pthread_cond_wait(&q->cv, &q->m);
        if (q->stop)
            break;
        char id[VX_STORE_ID_LEN + 1];
        memcpy(id, q->ring[q->head], sizeof id);
        q->head = (q->head + 1) % q->cap;
        q->n--;
        q->running++;
        pthread_mutex_unlock(&q->m);
        run_job(s, id);
        pthread_mutex_lock(&q->m);
        q->running--;
    }
    pthread_mutex_unlock(&q->m);
    return NULL;
}

int vx__jobs_start(vx_server *s, vx_error *err)
{
    vx__jobs *q = calloc(1, sizeof *q);
    if (!q)
        return vx__error_set(err, VX_ENOMEM, "out of memory");
    pthread_mutex_init(&q->m, NULL);
    pthread_cond_init(&q->cv, NULL);
    s->jobs = q;
    char(*ids)[VX_STORE_ID_LEN + 1] = NULL;
    size_t n = 0;
    int rc = vx_store_jobs_unfinished(s->store, &ids, &n, err);
    if (rc != VX_OK)
        return rc;
    for (size_t i = 0; i < n; i++)
        if (push_locked(q, ids[i]) != VX_OK) {
            free(ids);
            return vx__error_set(err, VX_ENOMEM, "out of memory");
        }
    free(ids);
    q->threads = calloc((size_t)s->o.job_workers, sizeof *q->threads);
    if (!q->threads)
        return vx__error_set(err, VX_ENOMEM, "out of memory");
    for (int i = 0; i < s->o.job_workers; i++) {
        if (pthread_create(&q->threads[i], NULL, worker, s) != 0)
            return vx__error_set(err, VX_EINTERNAL, "cannot start job worker threads");
        q->n_threads++;
    }
    return VX_OK;
}

void vx__jobs_stop(vx_server *s)
{
    vx__jobs *q = s ? s->jobs : NULL;
    if (!q)
        return;
    pthread_mutex_lock(&q->m);
    q->stop = 1;
    pthread_cond_broadcast(&q->cv);
    pthread_mutex_unlock(&q->m);
    /* jobs running on workers wait for broker events: freeing the broker
     * fails their tasks (left unfinished in the store: they resume on the
     * next start), so their threads return */
    if (s->broker) {
        vx_broker_free(s->broker);
        s->broker = NULL;
    }
    for (int i = 0; i < q->n_threads; i++)
        pthread_join(q->threads[i], NULL);
    free(q->threads);
    free(q->ring);
    pthread_cond_destroy(&q->cv);
    pthread_mutex_destroy(&q->m);
    free(q);
    s->jobs = NULL;
}

/* ------------------------------------------------------------------ */
/* routes                                                              */
/* ------------------------------------------------------------------ */
static int is_uuid(const char *id)
{
    if (strlen(id) != VX_STORE_ID_LEN)
        return 0;
    for (const char *c = id; *c; c++)
        if (!((*c >= '0' && *c <= '9') || (*c >= 'a' && *c <= 'f') || *c == '-'))
            return 0;
    return 1;
}

int vx__h_job_post(vx_server *s, vx__req *rq, vx__resp *rs)
{
    if (vx__work_unavailable(s, rs))
        return rs->status;
    json_t *body = NULL;
    if (vx__req_json(s, rq, rs, &body))
        return rs->status;
    vx_job job;
    memset(&job, 0, sizeof job);
    const char *user = rq->user;
    int reserved = 0;
    vx__jobs *q = s->jobs;
    const char *k;
    json_t *v;
    json_object_foreach(body, k, v) {
        if (strcmp(k, "targets") && strcmp(k, "settings") && strcmp(k, "seed") &&
            strcmp(k, "user")) {
            vx__error(rs, 400, k, "unknown field '%s' (known: targets, settings, seed, user)", k);
            goto out;
        }
    }
    json_t *uv = json_object_get(body, "user");
    if (uv) {
        if (!json_is_string(uv)) {
            vx__error(rs, 400, "user", "'user' must be a string");
            goto out;
        }
        user = json_string_value(uv);
        if (vx__may_access(rq, rs, user, "user"))
            goto out;
    }
    json_t *tv = json_object_get(body, "targets");
    if (!json_is_array(tv) || json_array_size(tv) == 0) {
        vx__error(rs, 400, "targets", "'targets' must be a non-empty array of {language, text}");
        goto out;
    }
    size_t n = json_array_size(tv);
    if (n > VX_PIPELINE_MAX_TARGETS) {
        vx__error(rs, 422, "targets", "%zu targets; the limit is 1..%d", n, VX_PIPELINE_MAX_TARGETS);
        goto out;
    }
    json_t *seedv = json_object_get(body, "seed");
    if (seedv && (!json_is_integer(seedv) || json_integer_value(seedv) < 0)) {
        vx__error(rs, 400, "seed", "'seed' must be an integer in 0..9223372036854775807");
        goto out;
    }
    json_t *sv = json_object_get(body, "settings");
    if (sv && !json_is_object(sv)) {
        vx__error(rs, 400, "settings", "'settings' must be a JSON object of overrides");
        goto out;
    }
    job.items = calloc(n, sizeof *job.items);
    if (!job.items) {
        vx__error(rs, 500, NULL, "out of memory");
        goto out;
    }
    job.n_items = n;
    size_t total = 0;
    const char *langs = vx_clone_languages();
    for (size_t i = 0; i < n; i++) {
        json_t *t = json_array_get(tv, i);
        char f[48];
        if (!json_is_object(t)) {
            snprintf(f, sizeof f, "targets[%zu]", i);
            vx__error(rs, 400, f, "each target must be an object {language, text}");
            goto out;
        }
        json_object_foreach(t, k, v) {
            if (strcmp(k, "language") && strcmp(k, "text")) {
                snprintf(f, sizeof f, "targets[%zu].%.20s", i, k);
                vx__error(rs, 400, f, "unknown field '%s' in a target (known: language, text)", k);
                goto out;
            }
        }
        json_t *lv = json_object_get(t, "language"), *xv = json_object_get(t, "text");
        snprintf(f, sizeof f, "targets[%zu].language", i);
        if (!json_is_string(lv) || json_string_length(lv) == 0 ||
            json_string_length(lv) > VX_STORE_MAX_LANG) {
            vx__error(rs, 400, f, "language must be a string (one of %s)", langs);
            goto out;
        }
        const char *lang = json_string_value(lv);
        if (vx__check_language(rs, lang, f))
            goto out;
        snprintf(f, sizeof f, "targets[%zu].text", i);
        if (!json_is_string(xv) || json_string_length(xv) == 0) {
            vx__error(rs, 400, f, "text must be a non-empty string");
            goto out;
        }
        size_t tl = json_string_length(xv);
        if (strlen(json_string_value(xv)) != tl) {
            vx__error(rs, 400, f, "text contains a NUL character");
            goto out;
        }
        if (tl > s->o.max_text_bytes) {
            vx__error(rs, 422, f, "text has %zu bytes; the limit is 1..%zu bytes", tl,
                      s->o.max_text_bytes);
            goto out;
        }
        total += tl;
        snprintf(job.items[i].language, sizeof job.items[i].language, "%s", lang);
        job.items[i].text = (char *)json_string_value(xv); /* borrowed until the store copy */
        snprintf(job.items[i].status, sizeof job.items[i].status, "queued");
    }
    if (total > VX_PIPELINE_MAX_TOTAL_TEXT) {
        vx__error(rs, 422, "targets", "the texts total %zu bytes; the limit is %d", total,
                  VX_PIPELINE_MAX_TOTAL_TEXT);
        goto out;
    }
    vx_settings st;
    if (vx__user_settings(s, user, sv, &st, rs))
        goto out;
    vx_profile p;
    if (vx__latest_profile(s, rs, user, &p))
        goto out;
    vx_error e;
    int rc;
    snprintf(job.profile_id, sizeof job.profile_id, "%s", p.id);
    vx_profile_clear(&p);
    /* reserve a queue slot first: a refused job stores nothing */
    pthread_mutex_lock(&q->m);
    if (q->n + q->running + q->reserved >= s->o.max_queued_jobs) {
        pthread_mutex_unlock(&q->m);
        vx__header(rs, "Retry-After", "10");
        vx__error(rs, 429, NULL, "the job queue is full (%zu jobs); retry later",
                  s->o.max_queued_jobs);
        goto out;
    }
    q->reserved++;
    reserved = 1;
    pthread_mutex_unlock(&q->m);
    vx_store_new_id(job.id);
    snprintf(job.user, sizeof job.user, "%s", user);
    snprintf(job.status, sizeof job.status, "queued");
    job.seed = seedv ? (uint64_t)json_integer_value(seedv) : 0;
    if (!seedv) {
        randombytes_buf(&job.seed, sizeof job.seed);
        job.seed &= 0x7fffffffffffffffULL;
    }
    job.settings_json = vx_settings_to_json(&st);
    rc = job.settings_json ? vx_store_job_create(s->store, &job, &e)
                           : vx__error_set(&e, VX_ENOMEM, "out of memory");
    if (rc != VX_OK) {
        vx__store_fail(s, rs, "job_create", &e);
        goto out;
    }
    pthread_mutex_lock(&q->m);
    q->reserved--;
    reserved = 0;
    rc = push_locked(q, job.id);
    pthread_mutex_unlock(&q->m);
    if (rc != VX_OK) { /* stored but not queued: fail it rather than let it wait for a restart */
        vx_store_job_set_status(s->store, job.id, "failed", &e);
        vx__header(rs, "Retry-After", "10");
        vx__error(rs, 503, NULL, "out of memory while queueing the job");
        goto out;
    }
    json_t *j = json_object();
    json_object_set_new(j, "id", json_string(job.id));
    json_object_set_new(j, "status", json_string("queued"));
    char url[120];
    snprintf(url, sizeof url, "/api/audio-messages/%s", job.id);
    json_object_set_new(j, "status_url", json_string(url));
    json_object_set_new(j, "seed", json_integer((json_int_t)job.seed));
    json_object_set_new(j, "n_targets", json_integer((json_int_t)n));
    vx__header(rs, "Location", url);
    vx__json(rs, 202, j);
out:
    if (reserved) {
        pthread_mutex_lock(&q->m);
        q->reserved--;
        pthread_mutex_unlock(&q->m);
    }
    for (size_t i = 0; i < job.n_items; i++)
        job.items[i].text = NULL; /* borrowed from body */
    vx_job_clear(&job);
    json_decref(body);
    return rs->status;
}

static int load_job(vx_server *s, vx__req *rq, vx__resp *rs, vx_job *job)
{
    const char *id = rq->params[0];
    if (!is_uuid(id))
        return vx__error(rs, 404, "id", "no job '%.40s'", id);
    vx_error e;
    int rc = vx_store_job_get(s->store, id, job, &e);
    if (rc == VX_ENOTFOUND)
        return vx__error(rs, 404, "id", "no job '%s'", id);
    if (rc != VX_OK)
        return vx__store_fail(s, rs, "job_get", &e);
    if (!rq->is_admin && strcmp(job->user, rq->user) != 0) {
        vx_job_clear(job);
        return vx__error(rs, 403, "id", "job %s belongs to another user", id);
    }
    return 0;
}

int vx__h_job_get(vx_server *s, vx__req *rq, vx__resp *rs)
{
    vx_job job;
    memset(&job, 0, sizeof job);
    if (load_job(s, rq, rs, &job))
        return rs->status;
    json_t *j = json_object();
    json_object_set_new(j, "id", json_string(job.id));
    json_object_set_new(j, "status", json_string(job.status));
    json_object_set_new(j, "user", json_string(job.user));
    json_object_set_new(j, "profile_id", json_string(job.profile_id));
    json_object_set_new(j, "seed", json_integer((json_int_t)job.seed));
    double prog = 0;
    json_t *arr = json_array();
    for (size_t i = 0; i < job.n_items; i++) {
        const vx_job_item *it = &job.items[i];
        json_t *o = json_object();
        json_object_set_new(o, "language", json_string(it->language));
        json_object_set_new(o, "status", json_string(it->status));
        json_object_set_new(o, "progress", json_real(it->progress));
        prog += it->progress;
        if (strcmp(it->status, "done") == 0) {
            char url[160];
            snprintf(url, sizeof url, "/api/audio-messages/%s/audio/%zu", job.id, i);
            json_object_set_new(o, "audio_url", json_string(url));
        }
        if (it->similarity_json) {
            json_t *sj = json_loads(it->similarity_json, 0, NULL);
            if (sj)
                json_object_set_new(o, "similarity", sj);
        }
        if (it->error)
            json_object_set_new(o, "error", json_string(it->error));
        json_array_append_new(arr, o);
    }
    json_object_set_new(j, "progress", json_real(job.n_items ? prog / (double)job.n_items : 0));
    json_object_set_new(j, "results", arr);
    vx_job_clear(&job);
    return vx__json(rs, 200, j);
}

int vx__h_job_audio(vx_server *s, vx__req *rq, vx__resp *rs)
{
    vx_job job;
    memset(&job, 0, sizeof job);
    if (load_job(s, rq, rs, &job))
        return rs->status;
    const char *is = rq->params[1];
    char *end = NULL;
    unsigned long idx = strtoul(is, &end, 10);
    if (!end || *end || is[0] == '-' || idx >= job.n_items) {
        vx__error(rs, 404, "index", "no result '%.20s' (the job has %zu: 0..%zu)", is, job.n_items,
                  job.n_items ? job.n_items - 1 : 0);
        vx_job_clear(&job);
        return rs->status;
    }
    const vx_job_item *it = &job.items[idx];
    if (strcmp(it->status, "done") != 0 || !it->audio_ref) {
        int st = vx__error(rs, 409, "index", "result %lu is %s, not done", idx, it->status);
        vx_job_clear(&job);
        return st;
    }
    char path[800];
    snprintf(path, sizeof path, "%s/%s", s->data_dir, it->audio_ref);
    void *data = NULL;
    size_t len = 0;
    vx_error e;
    int rc = vx__file_read(path, (size_t)1 << 31, &data, &len, &e);
    int mp3 = strstr(it->audio_ref, ".mp3") != NULL;
    vx_job_clear(&job);
    if (rc != VX_OK)
        return vx__error(rs, 500, NULL, "result audio missing: %s", e.message);
    free(rs->body);
    rs->body = data;
    rs->len = len;
    rs->status = 200;
    snprintf(rs->content_type, sizeof rs->content_type, "%s", mp3 ? "audio/mpeg" : "audio/wav");
    return 200;
}
