/*
 * server.h -- the HTTP service (SPEC sections 7-8).  Included by voxclone.h.
 *
 * DESIGN: `voxclone serve` is a thin wrapper around these calls, so tests
 * and benchmarks can run the real service in-process on an ephemeral port.
 * The server owns a store (SQLite or PostgreSQL), a cache (memory or Redis),
 * a Prometheus registry, a nearest-voice index and a bounded job queue with
 * its worker threads; libmicrohttpd serves requests on a thread pool.
 * Routes, limits and error shapes: docs/api.md and docs/openapi.json.
 *
 * Thread-safety: vx_server_start/stop are called by one controlling thread;
 * everything inside is thread-safe.
 */
#ifndef VOXCLONE_SERVER_H
#define VOXCLONE_SERVER_H

#include <stddef.h>
#include <stdint.h>

typedef struct vx_server_opts {
    const char *listen_addr;   /**< IPv4 address, default "127.0.0.1" */
    int port;                  /**< default 8080; 0 = pick a free port */
    const char *db_url;        /**< default "sqlite:<data_dir>/voxclone.db" */
    const char *cache_url;     /**< "memory" (default), "memory:BYTES", "redis://H:P", "none" */
    const char *data_dir;      /**< default "./data": profiles' audio, job results */
    const char *web_dir;       /**< static page; NULL = "<source>/web" if present, else none */
    int http_threads;          /**< libmicrohttpd pool, default 4 */
    int job_workers;           /**< jobs run at once, default 1 (each uses max_workers threads) */
    size_t max_body_bytes;     /**< default 25 MiB (413 above) */
    size_t max_json_bytes;     /**< default 256 KiB (413 above) */
    double max_audio_s;        /**< default 600 (422 above) */
    size_t max_queued_jobs;    /**< default 64 (429 above) */
    size_t max_text_bytes;     /**< per target / tts input, default 5000 (422 above) */
    /** Where the audio work (analysis, cloning) runs.  NULL: in the request
     *  and job threads of this process (no ZeroMQ).  "inproc": on
     *  inproc_workers worker threads of this process, through the same
     *  broker a gateway uses.  "tcp://HOST:PORT": gateway mode -- the work
     *  goes to `voxclone worker` processes connecting there; with none
     *  connected, work routes answer 503 and /health says why. */
    const char *worker_bind;
    int inproc_workers;        /**< with "inproc": worker threads, default 2 */
    /** Per-user limit on authenticated requests, per minute (token bucket);
     *  0 (default) = no limit.  Above it: 429 with Retry-After. */
    double rate_limit_per_min;
    /** Requests a user may make at once before the rate applies; 0 =
     *  max(10, rate_limit_per_min / 6), i.e. ten seconds' worth. */
    double rate_limit_burst;
} vx_server_opts;

void vx_server_opts_init(vx_server_opts *o);

typedef struct vx_server vx_server;

/** Opens the store and cache, recovers unfinished jobs, starts listening.
 *  Errors: EINVAL (bad option, named), EUNAVAIL (database unreachable, port
 *  in use), EIO, ENOMEM. */
int vx_server_start(const vx_server_opts *opts, vx_server **out, vx_error *err);
/** The port actually bound (useful with port 0). */
int vx_server_port(const vx_server *s);
/** Graceful stop: stops accepting (new requests get 503), lets in-flight
 *  requests finish (30 s at most), lets the jobs being run finish (a job is
 *  seconds of work; queued jobs stay queued in the store and run on the next
 *  start), frees everything. */
void vx_server_stop(vx_server *s);

/** The i-th route of the API (pattern like "/api/voice-settings/:userId"),
 *  its method and whether it needs a token; NULL past the end.  Static
 *  strings.  Used by `voxclone serve --routes` and the OpenAPI test. */
const char *vx_server_route(size_t i, const char **method, int *needs_token);

/** Creates user (admin or not) and a new token; writes the token (43
 *  url-safe characters prefixed "vxt_") into token_out[64].  Creates the
 *  database and its schema if needed. */
int vx_token_create(const char *db_url, const char *user, int is_admin, char token_out[64],
                    vx_error *err);
/** Revokes one token (token != NULL) or all tokens of user (token NULL);
 *  *n_revoked may be NULL. */
int vx_token_revoke(const char *db_url, const char *user, const char *token, int *n_revoked,
                    vx_error *err);

#endif
