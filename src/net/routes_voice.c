/*
 * routes_voice.c -- profiles, analyses, comparisons, history, nearest
 * voices, health and metrics.
 *
 * DESIGN: a profile version is immutable: its analysis JSON (detailed:
 * metrics + voiceprint, no frames) is stored with it and its audio is kept
 * once per content hash in data/audio/<sha256>.bin, so a comparison by
 * profile ids parses two stored JSONs and never re-analyses audio.  Uploads
 * go through the cache keyed by the audio's SHA-256 and the analysis
 * version, so the same recording is analysed once whoever sends it.
 * Per-frame tracks (for the page's pitch plot) are computed on demand from
 * the stored audio and cached the same way.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "analysis/json_internal.h"
#include "core/error.h"
#include "net/server_internal.h"

#define ANALYSIS_KEY_VERSION "vxa1-vxvp-1"

/* ------------------------------------------------------------------ */
/* files                                                               */
/* ------------------------------------------------------------------ */
int vx__file_write_atomic(const char *path, const void *data, size_t len, vx_error *err)
{
    /* unique per process and thread (a stack address): the same file may be
     * written by two requests at once */
    char tmp[1200];
    if ((size_t)snprintf(tmp, sizeof tmp, "%s.tmp.%ld.%lx", path, (long)getpid(),
                         (unsigned long)(uintptr_t)&tmp) >= sizeof tmp)
        return vx__error_set(err, VX_EINVAL, "path too long");
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0)
        return vx__error_set(err, VX_EIO, "cannot create %s: %s", tmp, strerror(errno));
    const char *p = data;
    size_t left = len;
    while (left > 0) {
        ssize_t w = write(fd, p, left);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            int e = errno;
            close(fd);
            unlink(tmp);
            return vx__error_set(err, VX_EIO, "cannot write %s: %s", tmp, strerror(e));
        }
        p += w;
        left -= (size_t)w;
    }
    if (fsync(fd) != 0 || close(fd) != 0) {
        unlink(tmp);
        return vx__error_set(err, VX_EIO, "cannot flush %s", tmp);
    }
    if (rename(tmp, path) != 0) {
        int e = errno;
        unlink(tmp);
        return vx__error_set(err, VX_EIO, "cannot rename to %s: %s", path, strerror(e));
    }
    return VX_OK;
}

int vx__file_read(const char *path, size_t cap, void **data, size_t *len, vx_error *err)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return vx__error_set(err, errno == ENOENT ? VX_ENOTFOUND : VX_EIO, "cannot open %s: %s",
                             path, strerror(errno));
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || (size_t)st.st_size > cap) {
        close(fd);
        return vx__error_set(err, VX_EIO, "%s is not a regular file of at most %zu bytes", path,
                             cap);
    }
    size_t n = (size_t)st.st_size;
    char *buf = malloc(n + 1);
    if (!buf) {
        close(fd);
        return vx__error_set(err, VX_ENOMEM, "out of memory");
    }
    size_t got = 0;
    while (got < n) {
        ssize_t r = read(fd, buf + got, n - got);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break;
        got += (size_t)r;
    }
    close(fd);
    if (got != n) {
        free(buf);
        return vx__error_set(err, VX_EIO, "short read on %s", path);
    }
    buf[n] = '\0';
    *data = buf;
    *len = n;
    return VX_OK;
}

static void audio_path(vx_server *s, const char *sha, char *out, size_t cap)
{
    snprintf(out, cap, "%s/audio/%s.bin", s->data_dir, sha);
}

int vx__audio_load(vx_server *s, const char *sha, void **data, size_t *len, vx_error *err)
{
    char p[700];
    audio_path(s, sha, p, sizeof p);
    return vx__file_read(p, (size_t)1 << 31, data, len, err);
}

int vx__audio_save(vx_server *s, const char *sha, const void *data, size_t len, vx_error *err)
{
    char p[700];
    audio_path(s, sha, p, sizeof p);
    struct stat st;
    if (stat(p, &st) == 0 && (size_t)st.st_size == len)
        return VX_OK;
    return vx__file_write_atomic(p, data, len, err);
}

/* ------------------------------------------------------------------ */
/* analysis through the cache                                          */
/* ------------------------------------------------------------------ */
static void cache_count(vx_server *s, int rc)
{
    if (rc == VX_OK)
        vx_metrics_inc(s->metrics, "voxclone_cache_hits_total", NULL, 1);
    else if (rc == VX_ENOTFOUND)
        vx_metrics_inc(s->metrics, "voxclone_cache_misses_total", NULL, 1);
    else {
        vx_metrics_inc(s->metrics, "voxclone_cache_misses_total", NULL, 1);
        vx_metrics_inc(s->metrics, "voxclone_cache_errors_total", NULL, 1);
    }
}

int vx__analyse_audio(vx_server *s, const void *data, size_t len, const char sha[65], char **json,
                      vx_analysis **analysis, vx_error *err)
{
    char key[128];
    snprintf(key, sizeof key, "vx:analysis:%s:%s", ANALYSIS_KEY_VERSION, sha);
    void *cached = NULL;
    size_t clen = 0;
    int rc = vx_cache_get(s->cache, key, &cached, &clen, NULL);
    cache_count(s, rc);
    if (rc == VX_OK) {
        vx_analysis *a = NULL;
        if (vx_analysis_from_json(cached, clen, &a, NULL) == VX_OK) {
            if (analysis)
                *analysis = a;
            else
                vx_analysis_free(a);
            char *t = realloc(cached, clen + 1);
            if (t) {
                t[clen] = '\0';
                *json = t;
                return VX_OK;
            }
            if (analysis) {
                vx_analysis_free(*analysis);
                *analysis = NULL;
            }
        }
        free(cached);
    }
    double t0 = vx__now_s();
    char *j = NULL;
    rc = vx__work_analyse(s, data, len, 0, &j, err);
    if (rc != VX_OK)
        return rc;
    vx_metrics_observe(s->metrics, "voxclone_analysis_duration_seconds", NULL, vx__now_s() - t0);
    vx_analysis *a = NULL;
    rc = vx_analysis_from_json(j, strlen(j), &a, err);
    if (rc != VX_OK) {
        free(j);
        return rc;
    }
    if (vx_cache_put(s->cache, key, j, strlen(j), 0, NULL) != VX_OK)
        vx_metrics_inc(s->metrics, "voxclone_cache_errors_total", NULL, 1);
    *json = j;
    if (analysis)
        *analysis = a;
    else
        vx_analysis_free(a);
    return VX_OK;
}

/* ------------------------------------------------------------------ */
/* helpers                                                             */
/* ------------------------------------------------------------------ */
static json_t *time_json(int64_t ms)
{
    time_t t = (time_t)(ms / 1000);
    struct tm tm;
    gmtime_r(&t, &tm);
    char buf[96];
    snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
             tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (int)(ms % 1000));
    return json_string(buf);
}

static json_t *profile_json(const vx_profile *p, int with_analysis)
{
    json_t *j = json_object();
    json_object_set_new(j, "id", json_string(p->id));
    json_object_set_new(j, "user", json_string(p->user));
    json_object_set_new(j, "version", json_integer(p->version));
    json_object_set_new(j, "created_at", time_json(p->created_at_ms));
    json_object_set_new(j, "audio_sha256", json_string(p->audio_sha256));
    if (with_analysis) {
        json_t *a = p->analysis_json ? json_loads(p->analysis_json, 0, NULL) : NULL;
        json_object_set_new(j, "analysis", a ? a : json_null());
    }
    return j;
}

/* Extracts the audio of an upload: a raw audio body (audio/..., or octet-stream) body or
 * the multipart field `field`.  Returns 0 or an HTTP status (rs filled). */
static int upload_audio(vx__req *rq, vx__resp *rs, const char *field, const char **data,
                        size_t *len)
{
    if (vx__ctype_is(rq, "multipart/form-data")) {
        int st = vx__req_parts(rq, rs);
        if (st)
            return st;
        const vx__part *p = vx__part_get(rq, field);
        if (!p || p->len == 0)
            return vx__error(rs, 400, field, "multipart field '%s' with the audio file is missing",
                             field);
        *data = p->data;
        *len = p->len;
        return 0;
    }
    if (strncasecmp(rq->content_type, "audio/", 6) == 0 ||
        vx__ctype_is(rq, "application/octet-stream")) {
        if (rq->body_len == 0)
            return vx__error(rs, 400, field, "the audio body is empty");
        *data = rq->body;
        *len = rq->body_len;
        return 0;
    }
    return vx__error(rs, 415, "Content-Type",
                     "send the audio as Content-Type audio/* or multipart/form-data field '%s' "
                     "(got '%s')",
                     field, rq->content_type[0] ? rq->content_type : "(none)");
}

/* ------------------------------------------------------------------ */
/* routes                                                              */
/* ------------------------------------------------------------------ */
int vx__h_health(vx_server *s, vx__req *rq, vx__resp *rs)
{
    (void)rq;
    vx_error e;
    int db_ok = vx_store_ping(s->store, &e) == VX_OK;
    int cache_ok = vx_cache_healthy(s->cache);
    size_t queued = 0, running = 0;
    vx__jobs_counts(s, &queued, &running);
    vx_metrics_set(s->metrics, "voxclone_store_up", NULL, db_ok);
    vx_metrics_set(s->metrics, "voxclone_cache_up", NULL, cache_ok);
    json_t *j = json_object();
    json_object_set_new(j, "status", json_string(!db_ok ? "unavailable"
                                                 : !cache_ok ? "degraded" : "ok"));
    json_object_set_new(j, "version", json_string(VX_VERSION_STRING));
    json_object_set_new(j, "uptime_s", json_real(vx__now_s() - s->started_s));
    json_t *st = json_object();
    json_object_set_new(st, "backend", json_string(vx_store_backend(s->store)));
    json_object_set_new(st, "ok", json_boolean(db_ok));
    if (!db_ok)
        json_object_set_new(st, "error", json_string(e.message));
    json_object_set_new(j, "store", st);
    json_t *c = json_object();
    json_object_set_new(c, "backend", json_string(vx_cache_backend(s->cache)));
    json_object_set_new(c, "ok", json_boolean(cache_ok));
    if (!cache_ok)
        json_object_set_new(c, "note", json_string("cache unreachable: serving uncached"));
    json_object_set_new(j, "cache", c);
    json_t *jb = json_object();
    json_object_set_new(jb, "queued", json_integer((json_int_t)queued));
    json_object_set_new(jb, "running", json_integer((json_int_t)running));
    json_object_set_new(jb, "max_queued", json_integer((json_int_t)s->o.max_queued_jobs));
    json_object_set_new(j, "jobs", jb);
    json_object_set_new(j, "voices_indexed", json_integer((json_int_t)vx_vpindex_size(s->index)));
    json_t *w = json_object();
    size_t nw = s->broker ? vx_broker_workers(s->broker) : 0;
    json_object_set_new(w, "mode", json_string(!s->broker ? "local"
                                               : s->n_inproc ? "inproc" : "remote"));
    json_object_set_new(w, "connected", json_integer((json_int_t)nw));
    if (s->broker && nw == 0) {
        json_object_set_new(w, "note", json_string("no worker is connected: analysis, cloning "
                                                   "and message jobs answer 503"));
        json_object_set_new(j, "status", json_string(db_ok ? "degraded" : "unavailable"));
    }
    json_object_set_new(j, "workers", w);
    return vx__json(rs, db_ok ? 200 : 503, j);
}

/* The broker's counters are cumulative totals: the registry's counters only
 * go up, so each scrape adds what happened since the previous one. */
static void export_broker_stats(vx_server *s)
{
    vx_broker_stats bs;
    memset(&bs, 0, sizeof bs);
    if (!s->broker || vx_broker_stats_get(s->broker, &bs, NULL) != VX_OK) {
        vx_metrics_set(s->metrics, "voxclone_workers_connected", NULL, 0);
        return;
    }
    vx_metrics_set(s->metrics, "voxclone_workers_connected", NULL, (double)bs.workers);
    vx_metrics_set(s->metrics, "voxclone_worker_capacity", NULL, (double)bs.capacity);
    vx_metrics_set(s->metrics, "voxclone_tasks_in_flight", NULL, (double)bs.in_flight);
    vx_metrics_set(s->metrics, "voxclone_tasks_queue_depth", NULL, (double)bs.queue_depth);
    vx_metrics_set(s->metrics, "voxclone_dispatch_latency_mean_seconds", NULL,
                   bs.latency_count ? bs.latency_sum_s / (double)bs.latency_count : 0.0);
    vx_metrics_set(s->metrics, "voxclone_dispatch_latency_max_seconds", NULL, bs.latency_max_s);
    uint64_t now[4] = {bs.requeued, bs.workers_lost, bs.duplicates, bs.dropped_frames};
    static const char *const names[4] = {"voxclone_tasks_requeued_total", "voxclone_workers_lost_total",
                                         "voxclone_task_duplicates_total",
                                         "voxclone_frames_dropped_total"};
    pthread_mutex_lock(&s->lock);
    for (int i = 0; i < 4; i++) {
        if (now[i] > s->broker_seen[i])
            vx_metrics_inc(s->metrics, names[i], NULL, (double)(now[i] - s->broker_seen[i]));
        s->broker_seen[i] = now[i];
    }
    pthread_mutex_unlock(&s->lock);
    /* a worker that left keeps its series (Prometheus cannot delete one
     * here), but nothing runs on it any more */
    pthread_mutex_lock(&s->lock);
    for (size_t k = 0; k < s->n_seen_workers; k++) {
        size_t i = 0;
        while (i < bs.n_workers && strcmp(bs.per_worker[i].worker_id, s->seen_workers[k]) != 0)
            i++;
        if (i == bs.n_workers) {
            const char *lv[] = {s->seen_workers[k]};
            vx_metrics_set(s->metrics, "voxclone_worker_in_flight", lv, 0);
        }
    }
    for (size_t i = 0; i < bs.n_workers; i++) {
        const vx_broker_worker_stats *w = &bs.per_worker[i];
        const char *lv[] = {w->worker_id};
        vx_metrics_set(s->metrics, "voxclone_worker_in_flight", lv, (double)w->in_flight);
        vx_metrics_set(s->metrics, "voxclone_worker_completed", lv, (double)w->completed);
        vx_metrics_set(s->metrics, "voxclone_worker_requeued", lv, (double)w->requeued);
        size_t k = 0;
        while (k < s->n_seen_workers && strcmp(s->seen_workers[k], w->worker_id) != 0)
            k++;
        if (k == s->n_seen_workers && k < VX__MAX_SEEN_WORKERS)
            snprintf(s->seen_workers[s->n_seen_workers++], sizeof s->seen_workers[0], "%s",
                     w->worker_id);
    }
    pthread_mutex_unlock(&s->lock);
    vx_broker_stats_free(&bs);
}

int vx__h_metrics(vx_server *s, vx__req *rq, vx__resp *rs)
{
    (void)rq;
    vx_cache_stats cs;
    vx_cache_stats_get(s->cache, &cs);
    vx_metrics_set(s->metrics, "voxclone_cache_up", NULL, cs.healthy);
    size_t queued = 0, running = 0;
    vx__jobs_counts(s, &queued, &running);
    vx_metrics_set(s->metrics, "voxclone_jobs_queue_depth", NULL, (double)queued);
    vx_metrics_set(s->metrics, "voxclone_jobs_running", NULL, (double)running);
    export_broker_stats(s);
    char *t = vx_metrics_render(s->metrics);
    if (!t)
        return vx__error(rs, 500, NULL, "out of memory");
    free(rs->body);
    rs->body = t;
    rs->len = strlen(t);
    rs->status = 200;
    snprintf(rs->content_type, sizeof rs->content_type, "text/plain; version=0.0.4; charset=utf-8");
    return 200;
}

static int parse_int_arg(const char *v, long lo, long hi, long *out);

/* Profile `version` of user (0 = the latest) into *p, or rs filled with 404
 * naming the version or the user (or the store's error). */
static int requested_profile(vx_server *s, vx__resp *rs, const char *user, long version,
                             vx_profile *p)
{
    memset(p, 0, sizeof *p);
    vx_error e;
    int rc = vx_store_profile_get(s->store, user, (int)version, p, &e);
    if (rc == VX_ENOTFOUND)
        return version ? vx__error(rs, 404, "version", "user '%s' has no profile version %ld",
                                   user, version)
                       : vx__error(rs, 404, "userId", "user '%s' has no voice profile", user);
    if (rc != VX_OK)
        return vx__store_fail(s, rs, "profile_get", &e);
    return 0;
}

/* The similarity scores a history entry keeps (not the two analyses: those
 * are in the profiles, or were uploads); also what GET history returns. */
static const char *const k_score_names[] = {"pitch_similarity",   "brightness_similarity",
                                            "mfcc_similarity",    "overall_similarity",
                                            "quality_alert",      "voiceprint_similarity"};
#define N_SCORE_NAMES (sizeof k_score_names / sizeof k_score_names[0])

int vx__h_whoami(vx_server *s, vx__req *rq, vx__resp *rs)
{
    vx_profile_version *vs = NULL;
    size_t nv = 0;
    vx_error e;
    if (vx_store_profile_versions(s->store, rq->user, &vs, &nv, &e) != VX_OK)
        return vx__store_fail(s, rs, "profile_versions", &e);
    json_t *j = json_object();
    json_object_set_new(j, "user", json_string(rq->user));
    json_object_set_new(j, "admin", json_boolean(rq->is_admin));
    /* so a client can tell "no profile yet" without provoking a 404 */
    json_object_set_new(j, "profile_version", nv ? json_integer(vs[0].version) : json_null());
    free(vs);
    return vx__json(rs, 200, j);
}

static const char *sniff_audio_type(const unsigned char *d, size_t n)
{
    if (n >= 12 && memcmp(d, "RIFF", 4) == 0 && memcmp(d + 8, "WAVE", 4) == 0)
        return "audio/wav";
    if (n >= 4 && memcmp(d, "fLaC", 4) == 0)
        return "audio/flac";
    if (n >= 4 && memcmp(d, "OggS", 4) == 0)
        return "audio/ogg";
    if ((n >= 3 && memcmp(d, "ID3", 3) == 0) || (n >= 2 && d[0] == 0xFF && (d[1] & 0xE0) == 0xE0))
        return "audio/mpeg";
    return "application/octet-stream";
}

/* The :userId the caller may read and the optional ?version=N (0: the
 * latest) of the profile routes; non-zero (the response set) on refusal. */
static int profile_args(vx__req *rq, vx__resp *rs, const char *user, long *version)
{
    const char *v = vx__query(rq, "version");
    if (vx__may_access(rq, rs, user, "userId"))
        return 1;
    if (v && parse_int_arg(v, 1, 1000000000L, version) != 0) {
        vx__error(rs, 400, "version", "version must be an integer >= 1 (got '%s')", v);
        return 1;
    }
    return 0;
}

int vx__h_profile_audio(vx_server *s, vx__req *rq, vx__resp *rs)
{
    const char *user = rq->params[0];
    long version = 0;
    if (profile_args(rq, rs, user, &version))
        return rs->status;
    vx_profile p;
    vx_error e;
    int rc;
    if (requested_profile(s, rs, user, version, &p))
        return rs->status;
    void *data = NULL;
    size_t len = 0;
    rc = vx__audio_load(s, p.audio_sha256, &data, &len, &e);
    vx_profile_clear(&p);
    if (rc != VX_OK)
        return vx__error(rs, 500, NULL, "the profile's audio is missing: %s", e.message);
    free(rs->body);
    rs->body = data;
    rs->len = len;
    rs->status = 200;
    snprintf(rs->content_type, sizeof rs->content_type, "%s", sniff_audio_type(data, len));
    vx__header(rs, "Cache-Control", "private, max-age=86400"); /* a version never changes */
    return 200;
}

int vx__h_profile_post(vx_server *s, vx__req *rq, vx__resp *rs)
{
    const char *user = rq->params[0];
    if (vx__may_access(rq, rs, user, "userId"))
        return rs->status;
    const char *data = NULL;
    size_t len = 0;
    if (upload_audio(rq, rs, "audio", &data, &len))
        return rs->status;
    char sha[65];
    vx__sha256_hex(data, len, sha);
    char *json = NULL;
    vx_analysis *a = NULL;
    vx_error e;
    int rc = vx__analyse_audio(s, data, len, sha, &json, &a, &e);
    if (rc != VX_OK)
        return vx__error_from(rs, &e, "audio");
    if (a->n_voiced == 0) {
        free(json);
        vx_analysis_free(a);
        return vx__error(rs, 422, "audio", "no voiced speech was found in the recording");
    }
    if (vx__audio_save(s, sha, data, len, &e) != VX_OK) {
        free(json);
        vx_analysis_free(a);
        return vx__error(rs, 500, NULL, "cannot keep the audio: %s", e.message);
    }
    char ref[80];
    snprintf(ref, sizeof ref, "audio/%s.bin", sha);
    vx_profile p;
    memset(&p, 0, sizeof p);
    rc = vx_store_profile_add(s->store, user, json, a->has_voiceprint ? a->voiceprint : NULL, sha,
                              ref, &p, &e);
    if (rc != VX_OK) {
        free(json);
        vx_analysis_free(a);
        return vx__store_fail(s, rs, "profile_add", &e);
    }
    if (a->has_voiceprint)
        vx_vpindex_upsert(s->index, user, p.id, p.version, a->voiceprint, NULL);
    if (!p.analysis_json)
        p.analysis_json = json, json = NULL;
    json_t *j = profile_json(&p, 1);
    char loc[200];
    snprintf(loc, sizeof loc, "/api/voice-analysis/%s?version=%d", user, p.version);
    vx__header(rs, "Location", loc);
    vx_profile_clear(&p);
    free(json);
    vx_analysis_free(a);
    return vx__json(rs, 201, j);
}

static int parse_int_arg(const char *v, long lo, long hi, long *out)
{
    if (!v || !*v)
        return -1;
    char *end = NULL;
    errno = 0;
    long x = strtol(v, &end, 10);
    if (errno || !end || *end || x < lo || x > hi)
        return -1;
    *out = x;
    return 0;
}

static json_t *frames_json(vx_server *s, const vx_profile *p, vx_error *e)
{
    char key[128];
    snprintf(key, sizeof key, "vx:frames:%s:%s", ANALYSIS_KEY_VERSION, p->audio_sha256);
    void *cached = NULL;
    size_t clen = 0;
    int rc = vx_cache_get(s->cache, key, &cached, &clen, NULL);
    cache_count(s, rc);
    if (rc == VX_OK) {
        json_t *f = json_loadb(cached, clen, 0, NULL);
        free(cached);
        if (f)
            return f;
    }
    void *audio = NULL;
    size_t len = 0;
    if (vx__audio_load(s, p->audio_sha256, &audio, &len, e) != VX_OK)
        return NULL;
    char *t = NULL;
    rc = vx__work_analyse(s, audio, len, 1, &t, e);
    free(audio);
    if (rc != VX_OK)
        return NULL;
    json_t *all = t ? json_loads(t, 0, NULL) : NULL;
    free(t);
    json_t *f = all ? json_incref(json_object_get(all, "frames")) : NULL;
    json_decref(all);
    if (f) {
        char *ft = json_dumps(f, JSON_COMPACT | JSON_REAL_PRECISION(7));
        if (ft) {
            vx_cache_put(s->cache, key, ft, strlen(ft), 0, NULL);
            free(ft);
        }
    }
    return f;
}

int vx__h_analysis_get(vx_server *s, vx__req *rq, vx__resp *rs)
{
    const char *user = rq->params[0];
    long version = 0;
    if (profile_args(rq, rs, user, &version))
        return rs->status;
    const char *fr = vx__query(rq, "frames");
    int want_frames = fr && (strcmp(fr, "1") == 0 || strcmp(fr, "true") == 0);
    if (fr && !want_frames && strcmp(fr, "0") != 0 && strcmp(fr, "false") != 0)
        return vx__error(rs, 400, "frames", "frames must be 0, 1, true or false (got '%s')", fr);
    vx_profile p;
    vx_error e;
    int rc;
    if (requested_profile(s, rs, user, version, &p))
        return rs->status;
    vx_profile_version *vs = NULL;
    size_t nv = 0;
    rc = vx_store_profile_versions(s->store, user, &vs, &nv, &e);
    if (rc != VX_OK) {
        vx_profile_clear(&p);
        return vx__store_fail(s, rs, "profile_versions", &e);
    }
    json_t *j = profile_json(&p, 1);
    json_t *arr = json_array();
    for (size_t i = 0; i < nv; i++) {
        json_t *o = json_object();
        json_object_set_new(o, "id", json_string(vs[i].id));
        json_object_set_new(o, "version", json_integer(vs[i].version));
        json_object_set_new(o, "created_at", time_json(vs[i].created_at_ms));
        json_array_append_new(arr, o);
    }
    int latest = nv ? vs[0].version : 0;
    free(vs);
    json_object_set_new(j, "latest_version", json_integer(latest));
    json_object_set_new(j, "versions", arr);
    if (want_frames) {
        json_t *f = frames_json(s, &p, &e);
        if (!f) {
            vx_profile_clear(&p);
            json_decref(j);
            if (e.code == VX_EUNAVAIL || e.code == VX_EBUSY)
                return vx__error_from(rs, &e, NULL);
            return vx__error(rs, 500, NULL, "cannot compute frames: %s", e.message);
        }
        json_object_set_new(j, "frames", f);
    }
    vx_profile_clear(&p);
    return vx__json(rs, 200, j);
}

/* One side of a comparison: a profile id (field NAME_profile_id, JSON or
 * multipart text) or an uploaded file (multipart field NAME). */
typedef struct side {
    vx_analysis *a;
    char ref[80];
    char metrics_json[VX__METRICS_JSON_MAX]; /* "" unless a stored profile */
} side;

static int load_side(vx_server *s, vx__req *rq, vx__resp *rs, json_t *body, const char *name,
                     side *out)
{
    char idfield[64];
    snprintf(idfield, sizeof idfield, "%s_profile_id", name);
    const char *id = NULL;
    const vx__part *part = NULL;
    if (body) {
        json_t *v = json_object_get(body, idfield);
        if (!v)
            return vx__error(rs, 400, idfield, "'%s' (a profile id) is missing", idfield);
        if (!json_is_string(v))
            return vx__error(rs, 400, idfield, "'%s' must be a string", idfield);
        id = json_string_value(v);
    } else {
        const vx__part *ip = vx__part_get(rq, idfield);
        part = vx__part_get(rq, name);
        if (ip && part)
            return vx__error(rs, 400, name, "give either the file '%s' or '%s', not both", name,
                             idfield);
        if (ip)
            id = ip->data ? ip->data : "";
        else if (!part || part->len == 0)
            return vx__error(rs, 400, name, "multipart field '%s' (audio file) or '%s' is missing",
                             name, idfield);
    }
    vx_error e;
    if (id) {
        size_t n = strlen(id);
        if (n != VX_STORE_ID_LEN)
            return vx__error(rs, 400, idfield, "'%s' is not a profile id (36-character uuid)",
                             idfield);
        out->a = calloc(1, sizeof *out->a);
        if (!out->a)
            return vx__error(rs, 500, NULL, "out of memory");
        char owner[VX_STORE_MAX_USER + 1];
        int rc = vx__profile_analysis(s, id, owner, out->a, out->metrics_json, &e);
        if (rc != VX_OK) {
            free(out->a); /* not a complete analysis: plain free */
            out->a = NULL;
        }
        if (rc == VX_ENOTFOUND)
            return vx__error(rs, 404, idfield, "no profile with id %s", id);
        if (rc == VX_EINVAL)
            return vx__error(rs, 500, NULL, "stored analysis unreadable: %s", e.message);
        if (rc != VX_OK)
            return vx__store_fail(s, rs, "profile_get", &e);
        if (!rq->is_admin && strcmp(owner, rq->user) != 0)
            return vx__error(rs, 403, idfield, "profile %s belongs to another user", id);
        snprintf(out->ref, sizeof out->ref, "%s", id);
        return 0;
    }
    char sha[65];
    vx__sha256_hex(part->data, part->len, sha);
    char *json = NULL;
    int rc = vx__analyse_audio(s, part->data, part->len, sha, &json, &out->a, &e);
    free(json);
    if (rc != VX_OK)
        return vx__error_from(rs, &e, name);
    snprintf(out->ref, sizeof out->ref, "upload:%s", sha);
    return 0;
}

/* A real as jansson writes it with JSON_REAL_PRECISION(12): "%.12g", ".0"
 * added to integral values, exponent without '+' and leading zeros. */
static void fmt_real(char *out, size_t cap, double v)
{
    char t[32]; /* "%.12g" needs at most 19 */
    snprintf(t, sizeof t, "%.12g", v);
    char *e = strchr(t, 'e');
    if (!e) {
        snprintf(out, cap, "%s%s", t, strchr(t, '.') ? "" : ".0");
        return;
    }
    *e = '\0';
    const char *p = e + 1;
    const char *sign = "";
    if (*p == '+' || *p == '-')
        sign = *p++ == '-' ? "-" : "";
    while (*p == '0' && p[1])
        p++;
    snprintf(out, cap, "%se%s%s", t, sign, p);
}

/* Comparison of two stored profiles, the hot path of the service: the same
 * JSON as vx__similarity_json + the history fields, written directly, with
 * each side's summary serialised once per profile (vx__profile_analysis). */
static int compare_profiles_fast(vx_server *s, vx__req *rq, vx__resp *rs, side *a, side *b,
                                 const vx_similarity *sim)
{
    double vp = vx_voiceprint_similarity(a->a->voiceprint, b->a->voiceprint);
    int has_vp = a->a->has_voiceprint && b->a->has_voiceprint;
    char f[7][48];
    fmt_real(f[0], sizeof f[0], sim->pitch_similarity);
    fmt_real(f[1], sizeof f[1], sim->brightness_similarity);
    fmt_real(f[2], sizeof f[2], sim->mfcc_similarity);
    fmt_real(f[3], sizeof f[3], sim->overall);
    fmt_real(f[4], sizeof f[4], vp);
    const char *alert = sim->overall < 0.7 ? "true" : "false";
    char scores[512], vps[80] = "";
    if (has_vp)
        snprintf(vps, sizeof vps, ",\"voiceprint_similarity\":%s", f[4]);
    snprintf(scores, sizeof scores,
             "\"pitch_similarity\":%s,\"brightness_similarity\":%s,\"mfcc_similarity\":%s",
             f[0], f[1], f[2]);
    char hist[768];
    snprintf(hist, sizeof hist, "{%s,\"overall_similarity\":%s,\"quality_alert\":%s%s}", scores,
             f[3], alert, vps);
    int64_t hid = 0;
    vx_error e;
    int rc = vx_store_history_add(s->store, rq->user, a->ref, b->ref, sim->overall, hist, &hid, &e);
    vx_analysis_free(a->a);
    vx_analysis_free(b->a);
    a->a = b->a = NULL;
    if (rc != VX_OK)
        return vx__store_fail(s, rs, "history_add", &e);
    size_t cap = 2 * VX__METRICS_JSON_MAX + 1024;
    char *out = malloc(cap);
    if (!out)
        return vx__error(rs, 500, NULL, "out of memory");
    snprintf(out, cap,
             "{%s,\"overall\":%s,\"overall_similarity\":%s,\"quality_alert\":%s%s,"
             "\"original_metrics\":%s,\"cloned_metrics\":%s,\"history_id\":%lld,"
             "\"original\":\"%s\",\"cloned\":\"%s\"}",
             scores, f[3], f[3], alert, vps, a->metrics_json, b->metrics_json, (long long)hid,
             a->ref, b->ref);
    return vx__json_text(rs, 200, out);
}

int vx__h_compare(vx_server *s, vx__req *rq, vx__resp *rs)
{
    json_t *body = NULL;
    if (vx__ctype_is(rq, "application/json")) {
        if (vx__req_json(s, rq, rs, &body))
            return rs->status;
        const char *known[] = {"original_profile_id", "cloned_profile_id"};
        const char *k;
        json_t *v;
        json_object_foreach(body, k, v) {
            if (strcmp(k, known[0]) != 0 && strcmp(k, known[1]) != 0) {
                vx__error(rs, 400, k, "unknown field '%s' (known: %s, %s)", k, known[0], known[1]);
                json_decref(body); /* k lives in body: free it after the message */
                return rs->status;
            }
        }
    } else if (vx__ctype_is(rq, "multipart/form-data")) {
        if (vx__req_parts(rq, rs))
            return rs->status;
    } else {
        return vx__error(rs, 415, "Content-Type",
                         "send multipart/form-data (original, cloned) or application/json "
                         "(original_profile_id, cloned_profile_id); got '%s'",
                         rq->content_type[0] ? rq->content_type : "(none)");
    }
    side a = {0}, b = {0};
    if (load_side(s, rq, rs, body, "original", &a) || load_side(s, rq, rs, body, "cloned", &b)) {
        json_decref(body);
        vx_analysis_free(a.a);
        vx_analysis_free(b.a);
        return rs->status;
    }
    json_decref(body);
    vx_similarity sim;
    vx_similarity_compute(a.a, b.a, &sim);
    if (a.metrics_json[0] && b.metrics_json[0]) /* two stored profiles: the fast path */
        return compare_profiles_fast(s, rq, rs, &a, &b, &sim);
    json_t *j = vx__similarity_json(&sim, a.a, b.a);
    if (!j) {
        vx_analysis_free(a.a);
        vx_analysis_free(b.a);
        return vx__error(rs, 500, NULL, "out of memory");
    }
    vx_analysis_free(a.a);
    vx_analysis_free(b.a);
    /* not observed in voxclone_similarity_overall: that histogram is about
     * clones (its alert fires below 0.7), while a comparison may pit two
     * different people against each other on purpose */
    /* the history keeps the scores, not the two analyses (those are in the
     * profiles, or were uploads) */
    json_t *hj = json_object();
    for (size_t k = 0; k < N_SCORE_NAMES; k++) {
        json_t *v = json_object_get(j, k_score_names[k]);
        if (v)
            json_object_set(hj, k_score_names[k], v);
    }
    char *compact = json_dumps(hj, JSON_COMPACT | JSON_REAL_PRECISION(12) | JSON_PRESERVE_ORDER);
    json_decref(hj);
    int64_t hid = 0;
    vx_error e;
    int rc = compact ? vx_store_history_add(s->store, rq->user, a.ref, b.ref, sim.overall, compact,
                                            &hid, &e)
                     : vx__error_set(&e, VX_ENOMEM, "out of memory");
    free(compact);
    if (rc != VX_OK) {
        json_decref(j);
        return vx__store_fail(s, rs, "history_add", &e);
    }
    json_object_set_new(j, "history_id", json_integer((json_int_t)hid));
    json_object_set_new(j, "original", json_string(a.ref));
    json_object_set_new(j, "cloned", json_string(b.ref));
    return vx__json(rs, 200, j);
}

int vx__h_history(vx_server *s, vx__req *rq, vx__resp *rs)
{
    const char *user = rq->params[0];
    if (vx__may_access(rq, rs, user, "userId"))
        return rs->status;
    long limit = 100;
    const char *l = vx__query(rq, "limit");
    if (l && parse_int_arg(l, 1, 1000, &limit) != 0)
        return vx__error(rs, 400, "limit", "limit must be an integer in 1..1000 (got '%s')", l);
    vx_history_entry *h = NULL;
    size_t n = 0;
    vx_error e;
    int rc = vx_store_history_list(s->store, user, (size_t)limit, &h, &n, &e);
    if (rc != VX_OK)
        return vx__store_fail(s, rs, "history_list", &e);
    json_t *arr = json_array();
    for (size_t i = 0; i < n; i++) {
        json_t *o = json_object();
        json_object_set_new(o, "id", json_integer((json_int_t)h[i].id));
        json_object_set_new(o, "created_at", time_json(h[i].created_at_ms));
        json_object_set_new(o, "original", json_string(h[i].original ? h[i].original : ""));
        json_object_set_new(o, "cloned", json_string(h[i].cloned ? h[i].cloned : ""));
        json_object_set_new(o, "overall", json_real(h[i].overall));
        json_t *sj = h[i].similarity_json ? json_loads(h[i].similarity_json, 0, NULL) : NULL;
        if (sj) {
            json_t *keep = json_object();
            for (size_t k = 0; k < N_SCORE_NAMES; k++) {
                json_t *v = json_object_get(sj, k_score_names[k]);
                if (v)
                    json_object_set(keep, k_score_names[k], v);
            }
            json_decref(sj);
            json_object_set_new(o, "similarity", keep);
        }
        json_array_append_new(arr, o);
    }
    vx_history_free(h, n);
    json_t *j = json_object();
    json_object_set_new(j, "user", json_string(user));
    json_object_set_new(j, "count", json_integer((json_int_t)n));
    json_object_set_new(j, "entries", arr);
    return vx__json(rs, 200, j);
}

int vx__h_similar(vx_server *s, vx__req *rq, vx__resp *rs)
{
    const char *id = vx__query(rq, "profile");
    if (!id || !*id)
        return vx__error(rs, 400, "profile", "query parameter 'profile' (a profile id) is missing");
    if (strlen(id) != VX_STORE_ID_LEN)
        return vx__error(rs, 400, "profile", "'profile' is not a profile id (36-character uuid)");
    long k = 10;
    const char *ks = vx__query(rq, "k");
    if (ks && parse_int_arg(ks, 1, VX_VPINDEX_MAX_K, &k) != 0)
        return vx__error(rs, 400, "k", "k must be an integer in 1..%d (got '%s')",
                         VX_VPINDEX_MAX_K, ks);
    vx_profile p;
    memset(&p, 0, sizeof p);
    vx_error e;
    int rc = vx_store_profile_get_id(s->store, id, &p, &e);
    if (rc == VX_ENOTFOUND)
        return vx__error(rs, 404, "profile", "no profile with id %s", id);
    if (rc != VX_OK)
        return vx__store_fail(s, rs, "profile_get", &e);
    if (!rq->is_admin && strcmp(p.user, rq->user) != 0) {
        vx_profile_clear(&p);
        return vx__error(rs, 403, "profile", "profile %s belongs to another user", id);
    }
    /* other users' names and profile ids are shown to admins only; a user
     * sees how close the nearest voices are, not whose they are */
    int reveal = rq->is_admin;
    if (!p.has_voiceprint) {
        vx_profile_clear(&p);
        return vx__error(rs, 422, "profile", "profile %s has no voiceprint", id);
    }
    vx_vpindex_hit hits[VX_VPINDEX_MAX_K];
    size_t nh = 0;
    double t0 = vx__now_s();
    rc = vx_vpindex_search(s->index, p.voiceprint, (size_t)k, p.user, hits, &nh, &e);
    double ms = (vx__now_s() - t0) * 1e3;
    if (rc != VX_OK) {
        vx_profile_clear(&p);
        return vx__error_from(rs, &e, NULL);
    }
    json_t *arr = json_array();
    for (size_t i = 0; i < nh; i++) {
        json_t *o = json_object();
        json_object_set_new(o, "user", reveal ? json_string(hits[i].user) : json_null());
        json_object_set_new(o, "profile_id", reveal ? json_string(hits[i].profile_id) : json_null());
        json_object_set_new(o, "version", json_integer(hits[i].version));
        json_object_set_new(o, "similarity", json_real(hits[i].similarity));
        json_array_append_new(arr, o);
    }
    json_t *j = json_object();
    json_object_set_new(j, "profile", json_string(p.id));
    json_object_set_new(j, "user", json_string(p.user));
    json_object_set_new(j, "k", json_integer(k));
    json_object_set_new(j, "searched", json_integer((json_int_t)vx_vpindex_size(s->index)));
    json_object_set_new(j, "search_ms", json_real(ms));
    json_object_set_new(j, "results", arr);
    vx_profile_clear(&p);
    return vx__json(rs, 200, j);
}
