/*
 * server.c -- the HTTP front of the service: libmicrohttpd daemon, bodies
 * with hard caps, routing, auth, the error shape, metrics per request,
 * static files of the page, graceful stop.
 *
 * DESIGN: libmicrohttpd runs a fixed pool of threads (no thread per
 * connection, so load cannot grow threads); a handler runs to completion on
 * its pool thread.  The body is accumulated into one buffer capped at
 * max_body_bytes: the cap is checked against Content-Length before a byte is
 * read and again while reading chunked uploads, so no request can make the
 * server hold more than the cap.  Every refusal goes through vx__error, so
 * every 4xx/5xx has the same JSON shape and names the field at fault.
 * Graceful stop: quiesce (stop accepting), wait until the in-flight counter
 * drops to zero (bounded wait), then stop the daemon and the job workers.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <sodium.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core/error.h"
#include "ipc/zmq_dl.h"
#include "net/ratelimit.h"
#include "net/server_internal.h"

/* libmicrohttpd (and the GnuTLS it brings) is loaded when a server starts
 * (core/dynlib.h), not at every start of the CLI. */
#define VX_MHD_SYMS(X)                                                          \
    X(MHD_add_response_header) X(MHD_create_post_processor)                    \
    X(MHD_create_response_from_buffer) X(MHD_destroy_post_processor)           \
    X(MHD_destroy_response) X(MHD_get_daemon_info)                             \
    X(MHD_lookup_connection_value) X(MHD_post_process) X(MHD_queue_response)   \
    X(MHD_quiesce_daemon) X(MHD_start_daemon) X(MHD_stop_daemon)
VX__DYNLIB_TABLE(mhd, VX_MHD_SYMS, VX_SONAME_MHD);

double vx__now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

void vx_server_opts_init(vx_server_opts *o)
{
    if (!o)
        return;
    memset(o, 0, sizeof *o);
    o->listen_addr = "127.0.0.1";
    o->port = 8080;
    o->cache_url = "memory";
    o->data_dir = "./data";
    o->http_threads = 4;
    o->job_workers = 1;
    o->max_body_bytes = 25u << 20;
    o->max_json_bytes = 256u << 10;
    o->max_audio_s = 600.0;
    o->max_queued_jobs = 64;
    o->max_text_bytes = 5000;
    o->inproc_workers = 2;
}

/* ------------------------------------------------------------------ */
/* responses                                                           */
/* ------------------------------------------------------------------ */
static const char *error_code_name(int status)
{
    switch (status) {
    case 400: return "bad_request";
    case 401: return "unauthorized";
    case 403: return "forbidden";
    case 404: return "not_found";
    case 405: return "method_not_allowed";
    case 409: return "conflict";
    case 413: return "payload_too_large";
    case 415: return "unsupported_media_type";
    case 422: return "unprocessable";
    case 429: return "too_many_requests";
    case 503: return "unavailable";
    default: return status >= 500 ? "internal" : "error";
    }
}

int vx__json(vx__resp *rs, int status, json_t *j)
{
    char *t = j ? json_dumps(j, JSON_COMPACT | JSON_REAL_PRECISION(12) | JSON_PRESERVE_ORDER)
                : NULL;
    json_decref(j);
    return vx__json_text(rs, status, t);
}

int vx__json_text(vx__resp *rs, int status, char *text)
{
    free(rs->body);
    if (!text) {
        static const char oom[] = "{\"error\":{\"code\":\"internal\",\"message\":\"out of memory\",\"field\":null}}";
        rs->body = malloc(sizeof oom);
        rs->len = rs->body ? sizeof oom - 1 : 0;
        if (rs->body)
            memcpy(rs->body, oom, sizeof oom);
        status = 500;
    } else {
        rs->body = text;
        rs->len = strlen(text);
    }
    rs->status = status;
    snprintf(rs->content_type, sizeof rs->content_type, "application/json");
    return status;
}

int vx__error(vx__resp *rs, int status, const char *field, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    json_t *e = json_object();
    json_object_set_new(e, "code", json_string(error_code_name(status)));
    json_object_set_new(e, "message", json_string(msg));
    json_object_set_new(e, "field", field ? json_string(field) : json_null());
    json_t *j = json_object();
    json_object_set_new(j, "error", e);
    vx__json(rs, status, j);
    return status;
}

int vx__bytes(vx__resp *rs, int status, const char *content_type, const void *data, size_t len)
{
    free(rs->body);
    rs->body = malloc(len ? len : 1);
    if (!rs->body)
        return vx__error(rs, 500, NULL, "out of memory");
    if (len)
        memcpy(rs->body, data, len);
    rs->len = len;
    rs->status = status;
    snprintf(rs->content_type, sizeof rs->content_type, "%s", content_type);
    return status;
}

void vx__header(vx__resp *rs, const char *name, const char *value)
{
    if (rs->n_headers >= 12)
        return;
    snprintf(rs->headers[rs->n_headers][0], sizeof rs->headers[0][0], "%s", name);
    snprintf(rs->headers[rs->n_headers][1], sizeof rs->headers[0][1], "%s", value);
    rs->n_headers++;
}

int vx__http_status(int code)
{
    switch (code) {
    case VX_OK: return 200;
    case VX_EINVAL: return 400;
    case VX_ENOTFOUND: return 404;
    case VX_ECONFLICT: return 409;
    case VX_ELIMIT: return 413;
    case VX_EFORMAT: case VX_EEMPTY: case VX_ETRUNC: case VX_ETOOSHORT: case VX_ETOOLONG:
        return 422;
    case VX_EBUSY: return 429;
    case VX_EUNAVAIL: return 503;
    case VX_EAUTH: return 401;
    default: return 500;
    }
}

int vx__error_from(vx__resp *rs, const vx_error *e, const char *field)
{
    int st = vx__http_status(e->code);
    if (st == 503 || st == 429)
        vx__header(rs, "Retry-After", "5");
    return vx__error(rs, st, field, "%s", e->message[0] ? e->message : vx_strerror(e->code));
}

int vx__store_fail(vx_server *s, vx__resp *rs, const char *op, const vx_error *e)
{
    const char *lv[] = {op};
    vx_metrics_inc(s->metrics, "voxclone_store_errors_total", lv, 1);
    if (e->code == VX_EUNAVAIL) {
        vx__header(rs, "Retry-After", "5");
        return vx__error(rs, 503, NULL, "database unavailable: %s", e->message);
    }
    if (e->code == VX_ENOTFOUND || e->code == VX_ECONFLICT || e->code == VX_EINVAL)
        return vx__error_from(rs, e, NULL);
    return vx__error(rs, 500, NULL, "database error: %s", e->message);
}

/* ------------------------------------------------------------------ */
/* requests                                                            */
/* ------------------------------------------------------------------ */
const char *vx__query(vx__req *rq, const char *key)
{
    return mhd.MHD_lookup_connection_value((struct MHD_Connection *)rq->conn, MHD_GET_ARGUMENT_KIND,
                                           key);
}

int vx__ctype_is(const vx__req *rq, const char *type)
{
    size_t n = strlen(type);
    const char *c = rq->content_type;
    while (*c == ' ')
        c++;
    return strncasecmp(c, type, n) == 0 && (c[n] == '\0' || c[n] == ';' || c[n] == ' ');
}

int vx__req_json(vx_server *s, vx__req *rq, vx__resp *rs, json_t **out)
{
    *out = NULL;
    if (!vx__ctype_is(rq, "application/json"))
        return vx__error(rs, 415, "Content-Type",
                         "expected Content-Type: application/json, got '%s'",
                         rq->content_type[0] ? rq->content_type : "(none)");
    if (rq->body_len > s->o.max_json_bytes)
        return vx__error(rs, 413, "body", "JSON body of %zu bytes is over the limit of %zu bytes",
                         rq->body_len, s->o.max_json_bytes);
    if (rq->body_len == 0)
        return vx__error(rs, 400, "body", "the JSON body is empty");
    json_error_t je;
    json_t *j = json_loadb(rq->body, rq->body_len, JSON_REJECT_DUPLICATES, &je);
    if (!j)
        return vx__error(rs, 400, "body", "malformed JSON: %s at line %d column %d", je.text,
                         je.line, je.column);
    if (!json_is_object(j)) {
        json_decref(j);
        return vx__error(rs, 400, "body", "the JSON body must be an object");
    }
    *out = j;
    return 0;
}

typedef struct part_ctx {
    vx__req *rq;
    size_t total;
    int overflow;
} part_ctx;

static enum MHD_Result part_iter(void *cls, enum MHD_ValueKind kind, const char *key,
                                 const char *filename, const char *content_type,
                                 const char *transfer_encoding, const char *data, uint64_t off,
                                 size_t size)
{
    (void)kind;
    (void)transfer_encoding;
    part_ctx *pc = cls;
    vx__req *rq = pc->rq;
    if (!key)
        return MHD_YES;
    vx__part *p = NULL;
    if (rq->n_parts > 0 && strcmp(rq->parts[rq->n_parts - 1].name, key) == 0 &&
        off == rq->parts[rq->n_parts - 1].len)
        p = &rq->parts[rq->n_parts - 1];
    if (!p) {
        if (rq->n_parts >= VX__MAX_PARTS) {
            pc->overflow = 1;
            return MHD_NO;
        }
        p = &rq->parts[rq->n_parts++];
        memset(p, 0, sizeof *p);
        snprintf(p->name, sizeof p->name, "%s", key);
        snprintf(p->filename, sizeof p->filename, "%s", filename ? filename : "");
        snprintf(p->content_type, sizeof p->content_type, "%s", content_type ? content_type : "");
    }
    if (size == 0)
        return MHD_YES;
    pc->total += size;
    if (pc->total > rq->body_len) { /* cannot happen: parts come from the body */
        pc->overflow = 1;
        return MHD_NO;
    }
    char *nd = realloc(p->data, p->len + size + 1);
    if (!nd)
        return MHD_NO;
    memcpy(nd + p->len, data, size);
    p->data = nd;
    p->len += size;
    p->data[p->len] = '\0';
    return MHD_YES;
}

int vx__req_parts(vx__req *rq, vx__resp *rs)
{
    if (rq->parts_parsed)
        return 0;
    rq->parts_parsed = 1;
    if (!vx__ctype_is(rq, "multipart/form-data"))
        return vx__error(rs, 415, "Content-Type", "expected multipart/form-data, got '%s'",
                         rq->content_type[0] ? rq->content_type : "(none)");
    part_ctx pc = {rq, 0, 0};
    struct MHD_PostProcessor *pp =
        mhd.MHD_create_post_processor((struct MHD_Connection *)rq->conn, 64 * 1024, part_iter, &pc);
    if (!pp)
        return vx__error(rs, 400, "Content-Type",
                         "multipart/form-data without a usable boundary parameter");
    enum MHD_Result r = mhd.MHD_post_process(pp, rq->body, rq->body_len);
    mhd.MHD_destroy_post_processor(pp);
    if (pc.overflow)
        return vx__error(rs, 400, "body", "too many multipart fields (at most %d)", VX__MAX_PARTS);
    if (r != MHD_YES)
        return vx__error(rs, 400, "body", "malformed multipart/form-data body");
    return 0;
}

const vx__part *vx__part_get(const vx__req *rq, const char *name)
{
    for (size_t i = 0; i < rq->n_parts; i++)
        if (strcmp(rq->parts[i].name, name) == 0)
            return &rq->parts[i];
    return NULL;
}

int vx__may_access(const vx__req *rq, vx__resp *rs, const char *user, const char *field)
{
    if (!vx_store_user_name_valid(user))
        return vx__error(rs, 400, field,
                         "user id must be 1..%d characters of letters, digits, '_', '.', '@', '-'",
                         VX_STORE_MAX_USER);
    if (rq->is_admin || strcmp(rq->user, user) == 0)
        return 0;
    return vx__error(rs, 403, field, "user '%s' may not access user '%s'", rq->user, user);
}

/* ------------------------------------------------------------------ */
/* routing                                                             */
/* ------------------------------------------------------------------ */
typedef struct route {
    const char *method;
    const char *pattern;
    vx__handler fn;
    int auth;
} route;

static const route ROUTES[] = {
    {"GET", "/health", vx__h_health, 0},
    {"GET", "/metrics", vx__h_metrics, 0},
    {"GET", "/api/whoami", vx__h_whoami, 1},
    {"POST", "/api/voice-profiles/:userId", vx__h_profile_post, 1},
    {"GET", "/api/voice-profiles/:userId/audio", vx__h_profile_audio, 1},
    {"POST", "/api/voice-analysis/compare", vx__h_compare, 1},
    {"GET", "/api/voice-analysis/:userId", vx__h_analysis_get, 1},
    {"GET", "/api/voice-presets", vx__h_presets, 1},
    {"GET", "/api/voice-settings/:userId", vx__h_settings_get, 1},
    {"PUT", "/api/voice-settings/:userId", vx__h_settings_put, 1},
    {"POST", "/api/tts", vx__h_tts, 1},
    {"POST", "/api/audio-messages", vx__h_job_post, 1},
    {"GET", "/api/audio-messages/:id", vx__h_job_get, 1},
    {"GET", "/api/audio-messages/:id/audio/:index", vx__h_job_audio, 1},
    {"POST", "/v1/audio/speech", vx__h_speech, 1},
    {"GET", "/api/voice-similarity/history/:userId", vx__h_history, 1},
    {"GET", "/api/voices/similar", vx__h_similar, 1},
};
#define N_ROUTES (sizeof ROUTES / sizeof ROUTES[0])
#define RATELIMIT_USERS 4096 /* users tracked by the per-user rate limit */

const char *vx_server_route(size_t i, const char **method, int *needs_token)
{
    if (i >= N_ROUTES)
        return NULL;
    if (method)
        *method = ROUTES[i].method;
    if (needs_token)
        *needs_token = ROUTES[i].auth;
    return ROUTES[i].pattern;
}

/* Matches path against pattern; fills params.  1 on match. */
static int match(const char *pattern, const char *path, vx__req *rq)
{
    size_t np = 0;
    const char *p = pattern, *u = path;
    while (*p && *u) {
        if (*p == ':') {
            while (*p && *p != '/')
                p++;
            const char *e = strchr(u, '/');
            size_t n = e ? (size_t)(e - u) : strlen(u);
            if (n == 0 || np >= VX__MAX_PARAMS)
                return 0;
            if (rq) { /* longer than any valid id: kept truncated, refused by the handler */
                size_t c = n < sizeof rq->param_buf[0] ? n : sizeof rq->param_buf[0] - 1;
                memcpy(rq->param_buf[np], u, c);
                rq->param_buf[np][c] = '\0';
                rq->params[np] = rq->param_buf[np];
            }
            np++;
            u += n;
            continue;
        }
        if (*p != *u)
            return 0;
        p++;
        u++;
    }
    return *p == '\0' && *u == '\0';
}

/* ------------------------------------------------------------------ */
/* static files                                                        */
/* ------------------------------------------------------------------ */
static const char *mime_of(const char *path)
{
    const char *dot = strrchr(path, '.');
    if (!dot)
        return "application/octet-stream";
    static const char *const map[][2] = {
        {".html", "text/html; charset=utf-8"}, {".js", "text/javascript; charset=utf-8"},
        {".mjs", "text/javascript; charset=utf-8"}, {".css", "text/css; charset=utf-8"},
        {".json", "application/json"}, {".svg", "image/svg+xml"}, {".png", "image/png"},
        {".ico", "image/x-icon"}, {".md", "text/markdown; charset=utf-8"},
        {".wav", "audio/wav"}, {".txt", "text/plain; charset=utf-8"}};
    for (size_t i = 0; i < sizeof map / sizeof map[0]; i++)
        if (strcmp(dot, map[i][0]) == 0)
            return map[i][1];
    return "application/octet-stream";
}

static int serve_static(vx_server *s, const char *path, vx__resp *rs)
{
    if (!s->web_dir[0])
        return vx__error(rs, 404, NULL, "no page is installed (web directory not found)");
    const char *rel = strcmp(path, "/") == 0 ? "/index.html" : path;
    for (const char *c = rel; *c; c++)
        if (!(isalnum((unsigned char)*c) || *c == '/' || *c == '.' || *c == '-' || *c == '_'))
            return vx__error(rs, 404, NULL, "not found: %s", path);
    if (strstr(rel, "..") || strstr(rel, "//"))
        return vx__error(rs, 404, NULL, "not found: %s", path);
    char full[1024];
    if ((size_t)snprintf(full, sizeof full, "%s%s", s->web_dir, rel) >= sizeof full)
        return vx__error(rs, 404, NULL, "not found: %s", path);
    void *data = NULL;
    size_t len = 0;
    vx_error e;
    if (vx__file_read(full, 8u << 20, &data, &len, &e) != VX_OK)
        return vx__error(rs, 404, NULL, "not found: %s", path);
    free(rs->body);
    rs->body = data;
    rs->len = len;
    rs->status = 200;
    snprintf(rs->content_type, sizeof rs->content_type, "%s", mime_of(rel));
    vx__header(rs, "Cache-Control", "no-cache");
    return 200;
}

/* ------------------------------------------------------------------ */
/* libmicrohttpd glue                                                  */
/* ------------------------------------------------------------------ */
typedef struct conn_ctx {
    double t0;
    char *body;
    size_t len, cap;
    int too_large;
    int responded;
    int late;       /* arrived after a stop began: refused with 503 */
} conn_ctx;

static void record(vx_server *s, const char *route_label, const char *method, int status,
                   double t0)
{
    char code[8];
    snprintf(code, sizeof code, "%d", status);
    const char *lv[] = {route_label, method, code};
    vx_metrics_inc(s->metrics, "voxclone_http_requests_total", lv, 1);
    const char *lr[] = {route_label};
    vx_metrics_observe(s->metrics, "voxclone_http_request_duration_seconds", lr, vx__now_s() - t0);
}

static enum MHD_Result send_resp(struct MHD_Connection *c, vx__resp *rs)
{
    struct MHD_Response *r =
        mhd.MHD_create_response_from_buffer(rs->len, rs->body, MHD_RESPMEM_MUST_FREE);
    if (!r)
        return MHD_NO;
    rs->body = NULL;
    mhd.MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, rs->content_type);
    mhd.MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
    for (int i = 0; i < rs->n_headers; i++)
        mhd.MHD_add_response_header(r, rs->headers[i][0], rs->headers[i][1]);
    enum MHD_Result ret = mhd.MHD_queue_response(c, (unsigned)rs->status, r);
    mhd.MHD_destroy_response(r);
    return ret;
}

static void free_parts(vx__req *rq)
{
    for (size_t i = 0; i < rq->n_parts; i++)
        free(rq->parts[i].data);
}

static int dispatch(vx_server *s, vx__req *rq, const char *auth_hdr, vx__resp *rs,
                    const char **route_label)
{
    *route_label = "static";
    int path_matched = 0;
    char allow[64] = "";
    for (size_t i = 0; i < N_ROUTES; i++) {
        if (!match(ROUTES[i].pattern, rq->path, NULL))
            continue;
        path_matched = 1;
        int same = strcmp(ROUTES[i].method, rq->method) == 0 ||
                   (strcmp(rq->method, "HEAD") == 0 && strcmp(ROUTES[i].method, "GET") == 0);
        if (!same) {
            size_t l = strlen(allow);
            snprintf(allow + l, sizeof allow - l, "%s%s", l ? ", " : "", ROUTES[i].method);
            continue;
        }
        *route_label = ROUTES[i].pattern;
        match(ROUTES[i].pattern, rq->path, rq);
        if (ROUTES[i].auth && vx__authenticate(s, rq, auth_hdr, rs) != 0)
            return rs->status;
        double retry_s = 0.0;
        if (ROUTES[i].auth && !vx__ratelimit_take(s->ratelimit, rq->user, vx__now_s(), &retry_s)) {
            char ra[32];
            snprintf(ra, sizeof ra, "%.0f", ceil(retry_s > 1.0 ? retry_s : 1.0));
            vx__header(rs, "Retry-After", ra);
            vx_metrics_inc(s->metrics, "voxclone_rate_limited_total", NULL, 1);
            return vx__error(rs, 429, "Authorization",
                             "user '%s' is over the limit of %g requests per minute; retry in %s s",
                             rq->user, s->o.rate_limit_per_min, ra);
        }
        return ROUTES[i].fn(s, rq, rs);
    }
    if (path_matched) {
        *route_label = "unmatched";
        vx__header(rs, "Allow", allow);
        return vx__error(rs, 405, NULL, "method %s is not allowed here (allowed: %s)", rq->method,
                         allow);
    }
    if (strncmp(rq->path, "/api/", 5) == 0 || strncmp(rq->path, "/v1/", 4) == 0 ||
        (strcmp(rq->method, "GET") != 0 && strcmp(rq->method, "HEAD") != 0)) {
        *route_label = "unmatched";
        return vx__error(rs, 404, NULL, "no route %s %s", rq->method, rq->path);
    }
    return serve_static(s, rq->path, rs);
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
                                  const char *method, const char *version,
                                  const char *upload_data, size_t *upload_data_size,
                                  void **con_cls)
{
    (void)version;
    vx_server *s = cls;
    conn_ctx *cc = *con_cls;
    if (!cc) {
        cc = calloc(1, sizeof *cc);
        if (!cc)
            return MHD_NO;
        cc->t0 = vx__now_s();
        *con_cls = cc;
        pthread_mutex_lock(&s->lock);
        s->in_flight++;
        cc->late = s->stopping;
        pthread_mutex_unlock(&s->lock);
        const char *cl = mhd.MHD_lookup_connection_value(c, MHD_HEADER_KIND,
                                                         MHD_HTTP_HEADER_CONTENT_LENGTH);
        if (cl) {
            char *end = NULL;
            unsigned long long n = strtoull(cl, &end, 10);
            if (end && *end == '\0' && n > s->o.max_body_bytes) {
                vx__resp rs = {0};
                vx__error(&rs, 413, "body", "body of %llu bytes is over the limit of %zu bytes", n,
                          s->o.max_body_bytes);
                record(s, "unmatched", method, 413, cc->t0);
                cc->responded = 1;
                return send_resp(c, &rs);
            }
        }
        return MHD_YES;
    }
    if (*upload_data_size != 0) {
        size_t n = *upload_data_size;
        *upload_data_size = 0;
        if (cc->responded || cc->too_large)
            return MHD_YES;
        if (cc->len + n > s->o.max_body_bytes) {
            cc->too_large = 1;
            free(cc->body);
            cc->body = NULL;
            return MHD_YES;
        }
        if (cc->len + n + 1 > cc->cap) {
            size_t nc = cc->cap ? cc->cap : 16384;
            while (nc < cc->len + n + 1)
                nc *= 2;
            if (nc > s->o.max_body_bytes + 1)
                nc = s->o.max_body_bytes + 1;
            char *nb = realloc(cc->body, nc);
            if (!nb)
                return MHD_NO;
            cc->body = nb;
            cc->cap = nc;
        }
        memcpy(cc->body + cc->len, upload_data, n);
        cc->len += n;
        return MHD_YES;
    }
    if (cc->responded)
        return MHD_YES;
    cc->responded = 1;
    vx__resp rs = {0};
    const char *label = "unmatched";
    if (cc->too_large) {
        vx__error(&rs, 413, "body", "body is over the limit of %zu bytes", s->o.max_body_bytes);
    } else {
        vx__req rq;
        memset(&rq, 0, sizeof rq);
        rq.method = method;
        /* the path without the query string (MHD already split it off) */
        rq.path = url;
        const char *ct = mhd.MHD_lookup_connection_value(c, MHD_HEADER_KIND,
                                                         MHD_HTTP_HEADER_CONTENT_TYPE);
        rq.content_type = ct ? ct : "";
        rq.conn = c;
        if (!cc->body)
            cc->body = calloc(1, 1);
        if (!cc->body)
            return MHD_NO;
        cc->body[cc->len] = '\0';
        rq.body = cc->body;
        rq.body_len = cc->len;
        const char *auth = mhd.MHD_lookup_connection_value(c, MHD_HEADER_KIND,
                                                           MHD_HTTP_HEADER_AUTHORIZATION);
        if (cc->late) {
            vx__header(&rs, "Retry-After", "5");
            vx__error(&rs, 503, NULL, "the server is shutting down");
        } else {
            dispatch(s, &rq, auth, &rs, &label);
        }
        free_parts(&rq);
        if (!rs.body)
            vx__error(&rs, 500, NULL, "handler produced no response");
    }
    record(s, label, method, rs.status, cc->t0);
    enum MHD_Result r = send_resp(c, &rs);
    free(rs.body);
    return r;
}

static void on_completed(void *cls, struct MHD_Connection *c, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    (void)c;
    (void)toe;
    vx_server *s = cls;
    conn_ctx *cc = *con_cls;
    if (!cc)
        return;
    free(cc->body);
    free(cc);
    *con_cls = NULL;
    pthread_mutex_lock(&s->lock);
    s->in_flight--;
    if (s->in_flight == 0)
        pthread_cond_broadcast(&s->idle);
    pthread_mutex_unlock(&s->lock);
}

/* ------------------------------------------------------------------ */
/* start / stop                                                        */
/* ------------------------------------------------------------------ */
static int register_metrics(vx_server *s, vx_error *err)
{
    static const double lat[] = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
                                 0.1,    0.25,  0.5,    1,     2.5,  5,     10};
    static const double dur[] = {0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30};
    static const double sim[] = {0.5, 0.55, 0.6, 0.65, 0.7, 0.75, 0.8, 0.85, 0.9, 0.95, 1.0};
    static const char *const l_http[] = {"route", "method", "code", NULL};
    static const char *const l_route[] = {"route", NULL};
    static const char *const l_lang[] = {"language", NULL};
    static const char *const l_fail[] = {"language", "reason", NULL};
    static const char *const l_status[] = {"status", NULL};
    static const char *const l_op[] = {"op", NULL};
    static const char *const l_ver[] = {"version", NULL};
    static const char *const l_worker[] = {"worker", NULL};
    struct {
        const char *name, *help;
        vx_metric_type t;
        const char *const *labels;
        const double *b;
        size_t nb;
    } fams[] = {
        {"voxclone_http_requests_total", "HTTP requests by route, method and status code.",
         VX_COUNTER, l_http, NULL, 0},
        {"voxclone_http_request_duration_seconds", "HTTP request latency by route.", VX_HISTOGRAM,
         l_route, lat, sizeof lat / sizeof lat[0]},
        {"voxclone_analysis_duration_seconds", "Voice analysis time (cache misses).", VX_HISTOGRAM,
         NULL, dur, sizeof dur / sizeof dur[0]},
        {"voxclone_clone_duration_seconds", "Clone time per language.", VX_HISTOGRAM, l_lang, dur,
         sizeof dur / sizeof dur[0]},
        {"voxclone_similarity_overall", "Overall similarity (seed formula) of verified clones to their reference.",
         VX_HISTOGRAM, NULL, sim, sizeof sim / sizeof sim[0]},
        {"voxclone_clone_failures_total", "Clone failures by language and reason.", VX_COUNTER,
         l_fail, NULL, 0},
        {"voxclone_clones_total", "Clones attempted by language.", VX_COUNTER, l_lang, NULL, 0},
        {"voxclone_rate_limited_total", "Requests refused by the per-user rate limit.", VX_COUNTER,
         NULL, NULL, 0},
        {"voxclone_cache_hits_total", "Analysis cache hits.", VX_COUNTER, NULL, NULL, 0},
        {"voxclone_cache_misses_total", "Analysis cache misses.", VX_COUNTER, NULL, NULL, 0},
        {"voxclone_cache_errors_total", "Cache calls that failed (back-end down).", VX_COUNTER,
         NULL, NULL, 0},
        {"voxclone_cache_up", "1 when the cache back-end is reachable.", VX_GAUGE, NULL, NULL, 0},
        {"voxclone_jobs_queue_depth", "Jobs waiting for a worker.", VX_GAUGE, NULL, NULL, 0},
        {"voxclone_jobs_running", "Jobs being processed.", VX_GAUGE, NULL, NULL, 0},
        {"voxclone_jobs_total", "Jobs finished by final status.", VX_COUNTER, l_status, NULL, 0},
        {"voxclone_store_errors_total", "Store (database) errors by operation.", VX_COUNTER, l_op,
         NULL, 0},
        {"voxclone_store_up", "1 when the database answers.", VX_GAUGE, NULL, NULL, 0},
        {"voxclone_build_info", "Build information.", VX_GAUGE, l_ver, NULL, 0},
        {"voxclone_workers_connected", "Workers registered with the broker (0 without one).",
         VX_GAUGE, NULL, NULL, 0},
        {"voxclone_worker_capacity", "Task slots of all connected workers.", VX_GAUGE, NULL, NULL, 0},
        {"voxclone_tasks_in_flight", "Tasks running on workers.", VX_GAUGE, NULL, NULL, 0},
        {"voxclone_tasks_queue_depth", "Tasks waiting for a free worker.", VX_GAUGE, NULL, NULL, 0},
        {"voxclone_tasks_requeued_total", "Tasks re-queued after their worker was lost.", VX_COUNTER,
         NULL, NULL, 0},
        {"voxclone_workers_lost_total", "Workers declared lost (killed, silent, gone).", VX_COUNTER,
         NULL, NULL, 0},
        {"voxclone_task_duplicates_total", "Late or duplicate task results ignored.", VX_COUNTER,
         NULL, NULL, 0},
        {"voxclone_frames_dropped_total", "Malformed or oversized protocol frames dropped.",
         VX_COUNTER, NULL, NULL, 0},
        {"voxclone_dispatch_latency_mean_seconds", "Mean time from queueing a task to its dispatch.",
         VX_GAUGE, NULL, NULL, 0},
        {"voxclone_dispatch_latency_max_seconds", "Longest time from queueing a task to its dispatch.",
         VX_GAUGE, NULL, NULL, 0},
        {"voxclone_worker_in_flight", "Tasks running on one worker.", VX_GAUGE, l_worker, NULL, 0},
        {"voxclone_worker_completed", "Tasks one worker completed (since it registered).", VX_GAUGE,
         l_worker, NULL, 0},
        {"voxclone_worker_requeued", "Tasks re-queued away from one worker.", VX_GAUGE, l_worker,
         NULL, 0},
    };
    for (size_t i = 0; i < sizeof fams / sizeof fams[0]; i++) {
        int rc = vx_metrics_register(s->metrics, fams[i].name, fams[i].help, fams[i].t,
                                     fams[i].labels, fams[i].b, fams[i].nb, err);
        if (rc != VX_OK)
            return rc;
    }
    const char *v[] = {VX_VERSION_STRING};
    vx_metrics_set(s->metrics, "voxclone_build_info", v, 1);
    return VX_OK;
}

static int mkdir_p(const char *dir)
{
    char tmp[600];
    if ((size_t)snprintf(tmp, sizeof tmp, "%s", dir) >= sizeof tmp)
        return -1;
    for (char *p = tmp + 1; *p; p++) {
        if (*p == '/') {
            *p = '\0';
            if (mkdir(tmp, 0755) != 0 && errno != EEXIST)
                return -1;
            *p = '/';
        }
    }
    return (mkdir(tmp, 0755) != 0 && errno != EEXIST) ? -1 : 0;
}

/* The broker (and, with "inproc", the worker threads of this process). */
static int start_workers(vx_server *s, vx_error *err)
{
    const char *bind = s->o.worker_bind;
    if (!bind || !bind[0])
        return VX_OK;
    vx_broker_opts bo;
    vx_broker_opts_init(&bo);
    bo.max_queue = 4096; /* jobs are bounded by max_queued_jobs; this bounds their languages */
    int inproc = strcmp(bind, "inproc") == 0;
    const char *endpoint = inproc ? "inproc://voxclone-work" : bind;
    if (inproc) {
        if (s->o.inproc_workers < 1 || s->o.inproc_workers > 64)
            return vx__error_set(err, VX_EINVAL, "inproc workers %d out of range 1..64",
                                 s->o.inproc_workers);
        int lrc = vx__zmq_load(err);
        if (lrc != VX_OK)
            return lrc;
        s->zmq_ctx = vx__zmq.zmq_ctx_new();
        if (!s->zmq_ctx)
            return vx__error_set(err, VX_ENOMEM, "cannot create a ZeroMQ context");
        bo.zmq_context = s->zmq_ctx;
    }
    /* tasks of accepted jobs wait in the broker's queue for a worker (a job
     * recovered at start-up must not fail because the workers reconnect a
     * moment later); requests that need an answer now check for a worker
     * first (vx__work_analyse / vx__work_clone / job submission) */
    int rc = vx_broker_new(endpoint, &bo, &s->broker, err);
    if (rc != VX_OK)
        return rc;
    if (!inproc)
        return VX_OK;
    if ((rc = vx__workctx_new(&s->inproc_ctx)) != VX_OK)
        return vx__error_set(err, rc, "out of memory");
    vx_worker_opts wo;
    vx_worker_opts_init(&wo);
    wo.threads = s->o.inproc_workers;
    wo.zmq_context = s->zmq_ctx;
    wo.worker_id = "inproc";
    rc = vx_worker_new_opts(endpoint, &wo, vx__work_handle, s->inproc_ctx, &s->inproc[0], err);
    if (rc == VX_OK)
        rc = vx_worker_start(s->inproc[0], err);
    if (rc != VX_OK)
        return rc;
    s->n_inproc = 1;
    /* wait (briefly) until the worker registered, so the first request does
     * not race it */
    for (int i = 0; i < 200 && vx_broker_workers(s->broker) == 0; i++) {
        struct timespec ts = {0, 5 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    return VX_OK;
}

static void stop_workers(vx_server *s)
{
    if (s->broker) {
        vx_broker_free(s->broker);
        s->broker = NULL;
    }
    for (int i = 0; i < s->n_inproc; i++) {
        vx_worker_stop(s->inproc[i]);
        vx_worker_free(s->inproc[i]);
    }
    s->n_inproc = 0;
    vx__workctx_free(s->inproc_ctx);
    s->inproc_ctx = NULL;
    if (s->zmq_ctx) {
        vx__zmq.zmq_ctx_term(s->zmq_ctx);
        s->zmq_ctx = NULL;
    }
}

/* Frees everything a server owns, whatever part of vx_server_start got
 * done (the rest is NULL): jobs first (it frees the broker, so waiting jobs
 * return), then the workers, caches, store, metrics. */
static void server_free(vx_server *s)
{
    vx__jobs_stop(s);
    stop_workers(s);
    vx__voices_free(s->voices);
    vx__profile_analyses_free(s);
    vx_vpindex_free(s->index);
    vx_cache_free(s->cache);
    vx_store_free(s->store);
    vx_metrics_free(s->metrics);
    vx__ratelimit_free(s->ratelimit);
    pthread_cond_destroy(&s->idle);
    pthread_mutex_destroy(&s->lock);
    free(s);
}

static int index_add(const char *profile_id, const char *user, int version, const float *vp,
                     void *ud)
{
    vx_server *s = ud;
    vx_vpindex_upsert(s->index, user, profile_id, version, vp, NULL);
    return 0;
}

int vx_server_start(const vx_server_opts *opts, vx_server **out, vx_error *err)
{
    vx__error_clear(err);
    if (!out)
        return vx__error_set(err, VX_EINVAL, "vx_server_start: NULL argument");
    {
        int lrc = VX__DYNLIB_LOAD(mhd, err);
        if (lrc != VX_OK)
            return lrc;
    }
    vx_server_opts o;
    vx_server_opts_init(&o);
    if (opts)
        o = *opts;
    if (!o.listen_addr)
        o.listen_addr = "127.0.0.1";
    if (!o.data_dir)
        o.data_dir = "./data";
    if (!o.cache_url)
        o.cache_url = "memory";
    if (o.port < 0 || o.port > 65535)
        return vx__error_set(err, VX_EINVAL, "port %d is out of range 0..65535", o.port);
    if (o.http_threads < 1 || o.http_threads > 256)
        return vx__error_set(err, VX_EINVAL, "http threads %d out of range 1..256", o.http_threads);
    if (o.job_workers < 1 || o.job_workers > 64)
        return vx__error_set(err, VX_EINVAL, "job workers %d out of range 1..64", o.job_workers);
    if (o.max_body_bytes < 1024 || o.max_json_bytes < 256 || o.max_queued_jobs < 1 ||
        !(o.max_audio_s >= 1.0) || o.max_text_bytes < 1)
        return vx__error_set(err, VX_EINVAL, "server limits out of range");
    if (!(o.rate_limit_per_min >= 0.0 && o.rate_limit_per_min <= 1e6))
        return vx__error_set(err, VX_EINVAL, "rate limit %g is out of range 0..1000000 per minute",
                             o.rate_limit_per_min);
    if (!(o.rate_limit_burst >= 0.0 && o.rate_limit_burst <= 1e6))
        return vx__error_set(err, VX_EINVAL, "rate limit burst %g is out of range 0..1000000",
                             o.rate_limit_burst);
    struct sockaddr_in sa;
    memset(&sa, 0, sizeof sa);
    sa.sin_family = AF_INET;
    sa.sin_port = htons((uint16_t)o.port);
    if (inet_pton(AF_INET, o.listen_addr, &sa.sin_addr) != 1)
        return vx__error_set(err, VX_EINVAL, "listen address '%s' is not an IPv4 address",
                             o.listen_addr);

    if (sodium_init() < 0)
        return vx__error_set(err, VX_EINTERNAL, "libsodium failed to initialise");
    vx_server *s = calloc(1, sizeof *s);
    if (!s)
        return vx__error_set(err, VX_ENOMEM, "out of memory");
    s->o = o;
    pthread_mutex_init(&s->lock, NULL);
    pthread_cond_init(&s->idle, NULL);
    s->started_s = vx__now_s();
    if (o.rate_limit_per_min > 0.0) {
        double burst = o.rate_limit_burst > 0.0 ? o.rate_limit_burst
                                                : (o.rate_limit_per_min / 6.0 > 10.0
                                                       ? o.rate_limit_per_min / 6.0
                                                       : 10.0);
        s->ratelimit = vx__ratelimit_new(o.rate_limit_per_min, burst, RATELIMIT_USERS);
        if (!s->ratelimit) {
            server_free(s);
            return vx__error_set(err, VX_ENOMEM, "out of memory");
        }
    }
    snprintf(s->data_dir, sizeof s->data_dir, "%s", o.data_dir);
    s->o.data_dir = s->data_dir;
    if (o.db_url)
        snprintf(s->db_url, sizeof s->db_url, "%s", o.db_url);
    else
        snprintf(s->db_url, sizeof s->db_url, "sqlite:%s/voxclone.db", s->data_dir);
    s->o.db_url = s->db_url;
    snprintf(s->cache_url, sizeof s->cache_url, "%s", o.cache_url);
    s->o.cache_url = s->cache_url;
    if (o.web_dir) {
        snprintf(s->web_dir, sizeof s->web_dir, "%s", o.web_dir);
    } else {
        struct stat st;
        if (stat("web/index.html", &st) == 0)
            snprintf(s->web_dir, sizeof s->web_dir, "web");
    }
    s->o.web_dir = s->web_dir;

    char sub[600];
    int rc;
    snprintf(sub, sizeof sub, "%s/audio", s->data_dir);
    if (mkdir_p(sub) != 0) {
        rc = vx__error_set(err, VX_EIO, "cannot create data directory %s: %s", sub,
                           strerror(errno));
        goto fail;
    }
    snprintf(sub, sizeof sub, "%s/results", s->data_dir);
    if (mkdir_p(sub) != 0) {
        rc = vx__error_set(err, VX_EIO, "cannot create data directory %s: %s", sub,
                           strerror(errno));
        goto fail;
    }
    if ((rc = vx_metrics_new(&s->metrics, err)) != VX_OK ||
        (rc = register_metrics(s, err)) != VX_OK)
        goto fail;
    if ((rc = vx_store_open(s->db_url, &s->store, err)) != VX_OK)
        goto fail;
    if ((rc = vx_cache_open(s->cache_url, &s->cache, err)) != VX_OK)
        goto fail;
    if ((rc = vx_vpindex_new(&s->index, err)) != VX_OK)
        goto fail;
    if ((rc = vx_store_voiceprints_each(s->store, index_add, s, err)) != VX_OK)
        goto fail;
    if (vx__voices_new(&s->voices) != VX_OK || vx__profile_analyses_new(s) != VX_OK) {
        rc = vx__error_set(err, VX_ENOMEM, "out of memory");
        goto fail;
    }
    if ((rc = start_workers(s, err)) != VX_OK)
        goto fail;
    if ((rc = vx__jobs_start(s, err)) != VX_OK)
        goto fail;

    struct MHD_Daemon *d = mhd.MHD_start_daemon(
        MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_ALLOW_SUSPEND_RESUME,
        (uint16_t)o.port, NULL, NULL, on_request, s, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sa,
        MHD_OPTION_THREAD_POOL_SIZE, (unsigned)o.http_threads, MHD_OPTION_NOTIFY_COMPLETED,
        on_completed, s, MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)60,
        MHD_OPTION_CONNECTION_LIMIT, (unsigned)1000, MHD_OPTION_LISTENING_ADDRESS_REUSE,
        (unsigned)1, MHD_OPTION_END);
    if (!d) {
        rc = vx__error_set(err, VX_EUNAVAIL, "cannot listen on %s:%d (port in use?)",
                           o.listen_addr, o.port);
        goto fail;
    }
    s->daemon = d;
    const union MHD_DaemonInfo *di = mhd.MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT);
    s->port = di ? di->port : o.port;
    *out = s;
    return VX_OK;
fail:
    server_free(s);
    return rc;
}

int vx_server_port(const vx_server *s)
{
    return s ? s->port : 0;
}

void vx_server_stop(vx_server *s)
{
    if (!s)
        return;
    struct MHD_Daemon *d = s->daemon;
    if (d)
        mhd.MHD_quiesce_daemon(d);
    pthread_mutex_lock(&s->lock);
    s->stopping = 1;
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += 30;
    while (s->in_flight > 0) {
        if (pthread_cond_timedwait(&s->idle, &s->lock, &until) != 0)
            break;
    }
    pthread_mutex_unlock(&s->lock);
    if (d)
        mhd.MHD_stop_daemon(d);
    server_free(s);
}
