/*
 * server_internal.h -- what the HTTP server's files share.
 *
 * DESIGN: server.c owns the libmicrohttpd daemon, request bodies (with hard
 * caps), routing, auth and the error shape; the route files only turn a
 * parsed request into a response.  A handler never touches MHD directly, so
 * routes stay testable and the gateway of the scale-out issue can reuse them.
 */
#ifndef VX_NET_SERVER_INTERNAL_H
#define VX_NET_SERVER_INTERNAL_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "cache/cache.h"
#include "ipc/broker.h"
#include "ipc/worker.h"
#include "net/metrics.h"
#include "similarity/vpindex.h"
#include "store/store.h"
#include "voxclone/voxclone.h"

#define VX__MAX_PARAMS 3
#define VX__MAX_PARTS 8

typedef struct vx__part {
    char name[64];
    char filename[128];
    char content_type[96];
    char *data;
    size_t len;
} vx__part;

typedef struct vx__req {
    const char *method;
    const char *path;
    const char *content_type;     /**< "" when absent */
    void *conn;                   /**< struct MHD_Connection * (server.c only) */
    char *body;                   /**< NUL-terminated copy */
    size_t body_len;
    const char *params[VX__MAX_PARAMS]; /**< path parameters, in pattern order */
    char param_buf[VX__MAX_PARAMS][192];
    /* auth (set before the handler when the route needs it) */
    int authed;
    char user[VX_STORE_MAX_USER + 1];
    int is_admin;
    /* multipart (parsed on demand by vx__req_parts) */
    vx__part parts[VX__MAX_PARTS];
    size_t n_parts;
    int parts_parsed;
} vx__req;

typedef struct vx__resp {
    int status;
    char *body;                   /**< malloc'd, owned */
    size_t len;
    char content_type[64];
    char headers[12][2][160];      /**< extra headers */
    int n_headers;
} vx__resp;

typedef struct vx__jobs vx__jobs;
typedef struct vx__workctx vx__workctx;

#define VX__MAX_INPROC_WORKERS 16
/** Room for the summary JSON of one analysis (similarity's original_metrics). */
#define VX__METRICS_JSON_MAX 1024
#define VX__MAX_SEEN_WORKERS 256 /* = the registry's series cap per family */
typedef struct vx__voices vx__voices;

struct vx_server {
    vx_server_opts o;
    char data_dir[512];
    char web_dir[512];
    char db_url[600];
    char cache_url[300];
    vx_store *store;
    vx_cache *cache;
    vx_metrics *metrics;
    vx_vpindex *index;
    vx__jobs *jobs;
    /* heavy work: in this process (broker NULL) or on workers over ZeroMQ */
    vx_broker *broker;
    void *zmq_ctx;                /**< owned when inproc workers run here */
    vx_worker *inproc[VX__MAX_INPROC_WORKERS];
    int n_inproc;
    vx__workctx *inproc_ctx;
    uint64_t broker_seen[4];      /**< broker totals already exported (metrics) */
    char seen_workers[VX__MAX_SEEN_WORKERS][VX_WORKER_ID_MAX + 1]; /**< exported worker series */
    size_t n_seen_workers;
    vx__voices *voices;
    struct vx__ratelimit *ratelimit; /**< NULL: no per-user limit */
    struct pa_table *profile_analyses;
    void *daemon;                 /**< struct MHD_Daemon * */
    int port;
    pthread_mutex_t lock;
    pthread_cond_t idle;
    long in_flight;
    int stopping;
    double started_s;
};

/* ---- responses (server.c) ---- */
/** 4xx/5xx JSON error {"error": {"code", "message", "field"}}.  Returns status. */
int vx__error(vx__resp *rs, int status, const char *field, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/** Status + JSON body from a jansson value (stolen). */
int vx__json(vx__resp *rs, int status, json_t *j);
/** Status + a malloc'd JSON text (stolen). */
int vx__json_text(vx__resp *rs, int status, char *text);
/** Status + a copy of bytes with content type. */
int vx__bytes(vx__resp *rs, int status, const char *content_type, const void *data, size_t len);
void vx__header(vx__resp *rs, const char *name, const char *value);
/** The HTTP status that fits a library status code. */
int vx__http_status(int vx_code);
/** Maps a library error to a JSON error response (field may be NULL). */
int vx__error_from(vx__resp *rs, const vx_error *e, const char *field);

/* ---- requests (server.c) ---- */
/** Query argument or NULL. */
const char *vx__query(vx__req *rq, const char *key);
/** 1 when the content type (without parameters) equals type, case-insensitive. */
int vx__ctype_is(const vx__req *rq, const char *type);
/** Parses the JSON body (object) into *out; on failure fills rs and returns
 *  the HTTP status (400/413/415), else 0. */
int vx__req_json(vx_server *s, vx__req *rq, vx__resp *rs, json_t **out);
/** Parses multipart/form-data into rq->parts; on failure fills rs and
 *  returns the HTTP status, else 0. */
int vx__req_parts(vx__req *rq, vx__resp *rs);
const vx__part *vx__part_get(const vx__req *rq, const char *name);
/** 0 when the caller may act for user (self or admin), else fills rs with
 *  400 (invalid name) or 403 naming field, and returns the status. */
int vx__may_access(const vx__req *rq, vx__resp *rs, const char *user, const char *field);
/** Records a store error in metrics and maps it (503 when unavailable). */
int vx__store_fail(vx_server *s, vx__resp *rs, const char *op, const vx_error *e);

/* ---- auth (auth.c) ---- */
void vx__token_hash(const char *token, char hex[65]);
/** Looks up "Authorization: Bearer ..." (value given); fills rq->user. */
int vx__authenticate(vx_server *s, vx__req *rq, const char *authorization, vx__resp *rs);

/* ---- analyses (routes_voice.c) ---- */
/** SHA-256 hex of bytes. */
void vx__sha256_hex(const void *data, size_t len, char hex[65]);
/** The analysis JSON (detailed + voiceprint) of encoded audio, through the
 *  cache.  *json malloc'd.  *analysis (may be NULL) receives the parsed
 *  analysis.  Errors: the decoder's / analyzer's codes. */
int vx__analyse_audio(vx_server *s, const void *data, size_t len, const char sha[65], char **json,
                      vx_analysis **analysis, vx_error *err);
/** Reads data_dir/audio/<sha>.bin (malloc'd). */
int vx__audio_load(vx_server *s, const char *sha, void **data, size_t *len, vx_error *err);
/** Writes it atomically (temp file + rename); no-op when present. */
int vx__audio_save(vx_server *s, const char *sha, const void *data, size_t len, vx_error *err);
/** Writes path atomically. */
int vx__file_write_atomic(const char *path, const void *data, size_t len, vx_error *err);
int vx__file_read(const char *path, size_t cap, void **data, size_t *len, vx_error *err);

/* ---- voices of profiles (voices.c): vx_voice objects, LRU, refcounted ---- */
int vx__voices_new(vx__voices **out);
void vx__voices_free(vx__voices *v);
typedef int (*vx__voice_build_fn)(void *ud, vx_voice **out, vx_error *err);
/** The voice cached under key (the reference audio's SHA-256), built with
 *  build(ud) on a miss.  Release with vx__voices_release. */
int vx__voices_acquire(vx__voices *vs, const char *key, vx__voice_build_fn build, void *ud,
                       const vx_voice **out, vx_error *err);
void vx__voices_release(vx__voices *vs, const vx_voice *v);
/** The voice of a stored profile (built from its audio on a miss). */
int vx__voice_get(vx_server *s, const vx_profile *p, const vx_voice **out, vx_error *err);
void vx__voice_put(vx_server *s, const vx_voice *v);
/** The parsed analysis of profile id (a copy, frames NULL) and its owner;
 *  cached (profiles never change).  Errors: the store's (ENOTFOUND...). */
int vx__profile_analysis(vx_server *s, const char *id, char user[VX_STORE_MAX_USER + 1],
                         vx_analysis *out, char metrics_json[VX__METRICS_JSON_MAX], vx_error *err);
int vx__profile_analyses_new(vx_server *s);
void vx__profile_analyses_free(vx_server *s);

/* ---- user settings (routes_clone.c) ---- */
/** Effective settings of user (stored preset + overrides, else defaults),
 *  then the request's overrides (JSON object, may be NULL).  On a bad
 *  override fills rs (400, field named) and returns 400. */
int vx__user_settings(vx_server *s, const char *user, json_t *overrides, vx_settings *out,
                      vx__resp *rs);
/** 0 when lang (e.g. "fr", "pt-BR") is one the engines speak, else fills rs
 *  (400 naming field, with the supported list) and returns 400. */
int vx__check_language(vx__resp *rs, const char *lang, const char *field);
/** The latest profile of user into *out (vx_profile_clear it), or fills rs
 *  (404 "upload a sample first", 503 store down) and returns the status. */
int vx__latest_profile(vx_server *s, vx__resp *rs, const char *user, vx_profile *out);
/** Extracts the field name from a settings error message. */
void vx__settings_field(const char *message, char *field, size_t cap);

/* ---- heavy work (work.c): local, or on workers through the broker ---- */
typedef struct vx__clone_out {
    unsigned char *audio;         /**< encoded (WAV or MP3), malloc'd */
    size_t audio_len;
    int mp3;
    char engine[16], device[8];
    double duration_s, total_ms;
    char unused[200], adjusted[200]; /**< comma-separated parameter names */
    int has_similarity;
    vx_similarity sim;
    double vp_sim;
} vx__clone_out;
void vx__clone_out_clear(vx__clone_out *o);
/** The similarity object of a verified clone (NULL when not verified). */
json_t *vx__clone_out_similarity_json(const vx__clone_out *o);
int vx__analyse_local(const void *data, size_t len, int frames, double max_audio_s, char **json,
                      vx_error *err);
int vx__clone_local(const vx_voice *voice, const char *lang, const char *text,
                    const vx_settings *st, uint64_t seed, vx__clone_out *out, vx_error *err);
/** Analysis JSON (frames: per-frame tracks; else detailed) of encoded audio,
 *  here or on a worker. */
int vx__work_analyse(vx_server *s, const void *data, size_t len, int frames, char **json,
                     vx_error *err);
/** Clones text in the voice of profile p, here or on a worker. */
int vx__work_clone(vx_server *s, const vx_profile *p, const char *lang, const char *text,
                   const vx_settings *st, uint64_t seed, vx__clone_out *out, vx_error *err);
/** The arguments of a "clone" task (malloc'd JSON). */
char *vx__clone_args(const vx_profile *p, const char *lang, const char *text,
                     const vx_settings *st, uint64_t seed);
int vx__clone_out_from_result(const char *result_json, const vx_frame *frames, size_t n,
                              vx__clone_out *out, vx_error *err);
/** 503 + Retry-After (returns 503) when work goes to workers and none is
 *  connected; else 0. */
int vx__work_unavailable(vx_server *s, vx__resp *rs);
/** Worker side: a context (voice cache) and the task handler. */
int vx__workctx_new(vx__workctx **out);
void vx__workctx_free(vx__workctx *w);
int vx__work_handle(void *user, const vx_worker_task *t, vx_worker_reply *reply, vx_error *err);

/* ---- jobs (jobs.c) ---- */
int vx__jobs_start(vx_server *s, vx_error *err);
void vx__jobs_stop(vx_server *s);
void vx__jobs_counts(vx_server *s, size_t *queued, size_t *running);

/* ---- route handlers ---- */
typedef int (*vx__handler)(vx_server *s, vx__req *rq, vx__resp *rs);
int vx__h_health(vx_server *s, vx__req *rq, vx__resp *rs);
int vx__h_metrics(vx_server *s, vx__req *rq, vx__resp *rs);
int vx__h_profile_post(vx_server *s, vx__req *rq, vx__resp *rs);
int vx__h_analysis_get(vx_server *s, vx__req *rq, vx__resp *rs);
int vx__h_compare(vx_server *s, vx__req *rq, vx__resp *rs);
int vx__h_history(vx_server *s, vx__req *rq, vx__resp *rs);
int vx__h_similar(vx_server *s, vx__req *rq, vx__resp *rs);
int vx__h_presets(vx_server *s, vx__req *rq, vx__resp *rs);
int vx__h_settings_get(vx_server *s, vx__req *rq, vx__resp *rs);
int vx__h_settings_put(vx_server *s, vx__req *rq, vx__resp *rs);
int vx__h_tts(vx_server *s, vx__req *rq, vx__resp *rs);
int vx__h_speech(vx_server *s, vx__req *rq, vx__resp *rs);
int vx__h_job_post(vx_server *s, vx__req *rq, vx__resp *rs);
int vx__h_job_get(vx_server *s, vx__req *rq, vx__resp *rs);
int vx__h_job_audio(vx_server *s, vx__req *rq, vx__resp *rs);
int vx__h_whoami(vx_server *s, vx__req *rq, vx__resp *rs);
int vx__h_profile_audio(vx_server *s, vx__req *rq, vx__resp *rs);

double vx__now_s(void);

#endif
