/*
 * worker.h -- the worker side of the scale-out: runs tasks sent by a
 * gateway's broker over ZeroMQ (docs/protocol.md).
 *
 * DESIGN: one I/O thread owns a DEALER socket (routing id = worker id) and
 * N handler threads each run one task at a time, so the worker advertises
 * capacity N in its HELLO and the broker never sends more.  Handler threads
 * hand results and progress to the I/O thread through a mutex-protected
 * outbox and a wake-up pipe; they never touch the socket.  ZeroMQ reconnects
 * by itself; the worker re-sends HELLO whenever it is not registered: at
 * start, after a BYE from the broker ("unknown worker" after a gateway
 * restart), and after heartbeat_timeout_ms of broker silence.  A result that
 * cannot be sent yet (no connection) stays in the outbox and is retried.
 * Stopping says BYE (the broker re-queues the worker's tasks at once),
 * tells running handlers through vx_worker_progress() returning 1, discards
 * their results and joins the threads.
 */
#ifndef VX_IPC_WORKER_H
#define VX_IPC_WORKER_H

#include <stddef.h>
#include <stdint.h>

#include "ipc/protocol.h"
#include "voxclone/voxclone.h"

typedef struct vx_worker vx_worker;

/** One task as the handler sees it; valid until the handler returns. */
typedef struct vx_worker_task {
    const char *task_id;
    const char *kind;
    int attempt;
    int64_t deadline_ms;          /**< Unix ms set by the gateway, 0 = none (advisory) */
    const char *args_json;        /**< JSON object text, "{}" at least */
    const vx_frame *frames;       /**< payloads (raw audio...) */
    size_t n_frames;
    void *internal;               /**< for vx_worker_progress */
} vx_worker_task;

/** What a handler returns on success.  Everything malloc'd; the worker frees it. */
typedef struct vx_worker_reply {
    char *result_json;            /**< JSON object text; NULL = {} */
    size_t n_frames;
    void *frame_data[VX_PROTO_MAX_PAYLOAD_FRAMES];
    size_t frame_len[VX_PROTO_MAX_PAYLOAD_FRAMES];
} vx_worker_reply;

/**
 * Runs one task on a handler thread.  Return VX_OK with *reply filled (a
 * RESULT is sent), or a VX_E* status with err's message (an ERROR is sent
 * and the broker passes it to the caller; a reply filled anyway is freed).
 * A reply that breaks the protocol limits becomes an ERROR (EINTERNAL /
 * ELIMIT).  Called concurrently from the worker's threads.
 */
typedef int (*vx_worker_handler_fn)(void *user, const vx_worker_task *task, vx_worker_reply *reply,
                                    vx_error *err);

/** Reports progress (0..1, clamped; stage may be NULL) from inside a handler.
 *  Returns 1 when the task has been abandoned (worker stopping): the handler
 *  should return soon; its result will be discarded. */
int vx_worker_progress(const vx_worker_task *task, double progress, const char *stage);

typedef struct vx_worker_opts {
    int threads;                  /**< handler threads = capacity, 1..1024. Default 1 */
    int heartbeat_ms;             /**< until the broker's READY says otherwise. Default 1000 */
    int heartbeat_timeout_ms;     /**< broker silence before re-HELLO. Default 3000 */
    const char *worker_id;        /**< NULL: "w-<uuid>" */
    void *zmq_context;            /**< shared context (required for inproc://) */
} vx_worker_opts;

void vx_worker_opts_init(vx_worker_opts *o);

/** Creates a worker (nothing runs yet).  Errors: EINVAL (endpoint, threads,
 *  id, inproc without a context), ENOMEM. */
int vx_worker_new(const char *connect_endpoint, int threads, vx_worker_handler_fn handler, void *user,
                  vx_worker **out, vx_error *err);
int vx_worker_new_opts(const char *connect_endpoint, const vx_worker_opts *opts,
                       vx_worker_handler_fn handler, void *user, vx_worker **out, vx_error *err);

/** Connects and serves tasks in the calling thread until vx_worker_stop.
 *  Errors: EIO (socket / connect), ENOMEM, EINVAL (already running). */
int vx_worker_run_until_stopped(vx_worker *w, vx_error *err);
/** The same on a background thread (vx_worker_free joins it). */
int vx_worker_start(vx_worker *w, vx_error *err);
/** Asks the loop to stop.  Async-signal-safe (an atomic flag and a write()),
 *  so it may be called from a SIGTERM handler. */
void vx_worker_stop(vx_worker *w);
/** Stops, joins a vx_worker_start thread, frees.  A thread running
 *  vx_worker_run_until_stopped itself must have returned.  NULL ok. */
void vx_worker_free(vx_worker *w);

const char *vx_worker_id(const vx_worker *w);

typedef struct vx_worker_stats {
    int registered;               /**< READY received and broker not silent */
    int in_flight;                /**< tasks running or waiting for a thread */
    uint64_t registrations;       /**< READY messages received */
    uint64_t broker_lost;         /**< times the broker went silent */
    uint64_t tasks_received, tasks_ok, tasks_failed, tasks_abandoned;
    uint64_t dropped_frames;      /**< malformed / unexpected messages */
} vx_worker_stats;

void vx_worker_stats_get(vx_worker *w, vx_worker_stats *out);

#endif
