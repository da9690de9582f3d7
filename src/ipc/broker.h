/*
 * broker.h -- the gateway side of the scale-out: a task queue dispatched to
 * ZeroMQ workers (docs/protocol.md).
 *
 * DESIGN: one I/O thread owns the ROUTER socket (ZeroMQ sockets are not
 * thread-safe); every other thread talks to it through a mutex-protected
 * state and a wake-up pipe polled next to the socket.  Submitting never
 * blocks: a task is copied into the bounded queue (VX_EBUSY when full) and
 * the I/O thread dispatches it to the least loaded registered worker with a
 * free slot (ties: the one idle longest).  Workers send HELLO with their
 * capacity; both sides heartbeat; a worker silent for heartbeat_timeout_ms,
 * unreachable, or saying BYE is lost and its tasks go back to the front of
 * the queue with attempt+1 (at most max_attempts, then the caller gets an
 * error).  A result is accepted only from the worker holding the current
 * attempt of the task; anything else is a duplicate, ignored and counted.
 * Every submitted task gets exactly one terminal callback (RESULT or ERROR:
 * the worker's error, timeout, attempts exhausted, shutdown).
 * Callbacks run on the I/O thread, without any broker lock held: they must
 * be short, may call vx_broker_submit / _stats / _workers, and must never
 * call vx_broker_call or vx_broker_free.
 */
#ifndef VX_IPC_BROKER_H
#define VX_IPC_BROKER_H

#include <stddef.h>
#include <stdint.h>

#include "ipc/protocol.h"
#include "voxclone/voxclone.h"

typedef struct vx_broker vx_broker;

typedef struct vx_broker_opts {
    size_t max_queue;          /**< tasks waiting for a worker; beyond: EBUSY. Default 64 */
    size_t max_queued_bytes;   /**< payload bytes held by waiting + running tasks. Default 1 GiB */
    int max_attempts;          /**< dispatches of one task (1 = no re-queue). Default 3 */
    int heartbeat_ms;          /**< heartbeat period, both ways. Default 1000 */
    int heartbeat_timeout_ms;  /**< silence after which a worker is lost. Default 3000 */
    int default_timeout_ms;    /**< submit timeout when 0 is given. Default 600000 */
    int reject_without_workers;/**< 1: submit fails with EUNAVAIL when no worker is
                                    registered (instead of queueing). Default 0 */
    void *zmq_context;         /**< shared ZeroMQ context (required for inproc://; the
                                    caller terminates it after freeing everything that
                                    uses it); NULL: the broker owns one */
} vx_broker_opts;

void vx_broker_opts_init(vx_broker_opts *o);

typedef enum vx_task_event_type {
    VX_TASK_PROGRESS = 1,
    VX_TASK_RESULT = 2,  /**< terminal */
    VX_TASK_ERROR = 3    /**< terminal */
} vx_task_event_type;

/** What a callback receives; every pointer is valid only during the call. */
typedef struct vx_task_event {
    int type;                     /**< vx_task_event_type */
    const char *task_id;
    const char *kind;
    int attempt;                  /**< attempt that produced the event (0: never dispatched) */
    const char *worker_id;        /**< "" when none */
    double progress;              /**< PROGRESS */
    const char *stage;            /**< PROGRESS ("" when none) */
    const char *result_json;      /**< RESULT: JSON object text ("{}" at least) */
    const vx_frame *frames;       /**< RESULT payloads */
    size_t n_frames;
    int status;                   /**< ERROR: VX_E* (EUNAVAIL for timeout/lost/shutdown) */
    const char *message;          /**< ERROR: one line */
} vx_task_event;

typedef void (*vx_broker_cb)(const vx_task_event *ev, void *user);

/**
 * Binds a ROUTER to bind_endpoint ("tcp://127.0.0.1:5555", "tcp://127.0.0.1:*"
 * for a free port, "inproc://voxclone" with opts->zmq_context) and starts the
 * I/O thread.  opts may be NULL (defaults).  Errors: EINVAL (bad endpoint or
 * options; inproc without a context), EIO (cannot bind), ENOMEM.
 */
int vx_broker_new(const char *bind_endpoint, const vx_broker_opts *opts, vx_broker **out,
                  vx_error *err);
/** Fails every unfinished task (ERROR EUNAVAIL "broker shutting down", callbacks
 *  run), says BYE to the workers, joins the I/O thread.  NULL ok.  No other call
 *  on b may be running or start. */
void vx_broker_free(vx_broker *b);

/** The endpoint actually bound (the port filled in for "tcp://...:*"). */
const char *vx_broker_endpoint(const vx_broker *b);

/**
 * Queues a task.  args_json: JSON object text (NULL = {}); frames: 0..8
 * payloads, copied.  timeout_ms covers waiting + every attempt (0: the default).
 * task_id (may be NULL) receives the uuid before any callback can run.
 * cb is called on progress and exactly once with RESULT or ERROR.
 * Errors: EINVAL (kind, args, frames), ELIMIT (sizes), EBUSY (queue or bytes
 * full: retry later), EUNAVAIL (shutting down, or no worker with
 * reject_without_workers), ENOMEM.  Thread-safe.
 */
int vx_broker_submit(vx_broker *b, const char *kind, const char *args_json, const vx_frame *frames,
                     size_t n_frames, int timeout_ms, vx_broker_cb cb, void *user,
                     char task_id[VX_TASK_ID_LEN + 1], vx_error *err);

/** Owned copy of a RESULT (vx_broker_call). */
typedef struct vx_task_result {
    char task_id[VX_TASK_ID_LEN + 1];
    char worker_id[VX_WORKER_ID_MAX + 1];
    int attempt;
    char *result_json;            /**< malloc'd JSON object text */
    size_t n_frames;
    void *frame_data[VX_PROTO_MAX_PAYLOAD_FRAMES]; /**< malloc'd copies */
    size_t frame_len[VX_PROTO_MAX_PAYLOAD_FRAMES];
} vx_task_result;

void vx_task_result_clear(vx_task_result *r);

/** Progress observer of vx_broker_call (runs on the I/O thread). */
typedef void (*vx_broker_progress_fn)(double progress, const char *stage, void *user);

/**
 * Submits and waits for the terminal event.  On VX_OK *out holds the result
 * (vx_task_result_clear it); otherwise err names the reason: the worker's
 * own status and message, EUNAVAIL on timeout / no worker / lost workers,
 * EBUSY when the queue is full.  Must not be called from a broker callback.
 */
int vx_broker_call(vx_broker *b, const char *kind, const char *args_json, const vx_frame *frames,
                   size_t n_frames, int timeout_ms, vx_broker_progress_fn progress, void *user,
                   vx_task_result *out, vx_error *err);

/** Registered (live) workers right now.  Thread-safe. */
size_t vx_broker_workers(vx_broker *b);

#define VX_BROKER_LATENCY_BUCKETS 10
/** Upper bounds (s) of the dispatch latency histogram buckets (+Inf implied). */
extern const double vx_broker_latency_bounds_s[VX_BROKER_LATENCY_BUCKETS];

typedef struct vx_broker_worker_stats {
    char worker_id[VX_WORKER_ID_MAX + 1];
    int capacity;
    int in_flight;                /**< slots taken (incl. tasks that timed out while running) */
    double idle_s;                /**< since the last dispatch or result */
    double last_seen_s;           /**< since the last message */
    uint64_t dispatched, completed, failed, requeued, duplicates, dropped_frames;
} vx_broker_worker_stats;

typedef struct vx_broker_stats {
    size_t workers;               /**< registered */
    size_t capacity;              /**< sum of their capacities */
    size_t in_flight;             /**< running on workers */
    size_t queue_depth;           /**< waiting for a worker */
    size_t queue_max;
    size_t queued_bytes;
    uint64_t submitted, completed, failed, timed_out, rejected_busy;
    uint64_t requeued, workers_lost, duplicates, dropped_frames;
    /** time from (re)queueing to dispatch */
    uint64_t latency_count;
    double latency_sum_s, latency_max_s;
    uint64_t latency_buckets[VX_BROKER_LATENCY_BUCKETS]; /**< cumulative (<= bound) */
    size_t n_workers;
    vx_broker_worker_stats *per_worker; /**< malloc'd, n_workers */
} vx_broker_stats;

/** Snapshot (thread-safe).  Free with vx_broker_stats_free. */
int vx_broker_stats_get(vx_broker *b, vx_broker_stats *out, vx_error *err);
void vx_broker_stats_free(vx_broker_stats *s);

#endif
