/*
 * protocol.h -- the gateway <-> worker wire protocol (docs/protocol.md).
 *
 * DESIGN: a message is a ZeroMQ multipart message of 2..10 frames:
 *   [type frame: 'V' 'X' version type][JSON header][0..8 binary payloads]
 * (the broker's ROUTER socket adds the peer's routing id in front; that
 * frame is not part of the protocol message).  This file only turns a
 * vx_msg into frames and frames into a vx_msg: pure functions on byte
 * buffers, no ZeroMQ, no I/O, so the decoder can be fuzzed and unit tested
 * on its own.  Every limit is checked before anything is allocated from it,
 * and every failure is VX_EINVAL (malformed) or VX_ELIMIT (too big) with a
 * one-line message: a peer can never crash or exhaust the receiver.
 * Decoded payload frames are borrowed (they point into the input frames);
 * the only allocation a decoded message owns is body_json (vx_msg_clear).
 */
#ifndef VX_IPC_PROTOCOL_H
#define VX_IPC_PROTOCOL_H

#include <stddef.h>
#include <stdint.h>

#include "voxclone/voxclone.h"

#define VX_PROTO_VERSION 1
#define VX_PROTO_TYPE_FRAME_LEN 4                  /**< 'V' 'X' version type */
#define VX_PROTO_MAX_HEADER (64u * 1024u)          /**< JSON header frame */
#define VX_PROTO_MAX_FRAME (32u * 1024u * 1024u)   /**< one payload frame */
#define VX_PROTO_MAX_PAYLOAD_FRAMES 8
#define VX_PROTO_MAX_FRAMES (2 + VX_PROTO_MAX_PAYLOAD_FRAMES)
#define VX_PROTO_MAX_TOTAL (64u * 1024u * 1024u)   /**< all frames of a message */
#define VX_TASK_ID_LEN 36                          /**< uuid text */
#define VX_WORKER_ID_MAX 64
#define VX_KIND_MAX 32
#define VX_PROTO_MAX_ATTEMPT 1000
#define VX_PROTO_MAX_CAPACITY 1024

typedef enum vx_msg_type {
    VX_MSG_HELLO = 1,     /**< worker -> broker: register (worker_id, capacity, protocol) */
    VX_MSG_READY = 2,     /**< broker -> worker: registered (broker_id, heartbeat timing) */
    VX_MSG_TASK = 3,      /**< broker -> worker: run (task_id, kind, attempt, deadline, args) */
    VX_MSG_PROGRESS = 4,  /**< worker -> broker: (task_id, attempt, progress, stage) */
    VX_MSG_RESULT = 5,    /**< worker -> broker: (task_id, attempt, result) + payloads */
    VX_MSG_ERROR = 6,     /**< worker -> broker: (task_id, attempt, code, message) */
    VX_MSG_HEARTBEAT = 7, /**< both ways: liveness (in_flight from workers) */
    VX_MSG_BYE = 8        /**< both ways: leaving / "you are not registered" */
} vx_msg_type;

/** A borrowed byte range (one frame). */
typedef struct vx_frame {
    const void *data;
    size_t len;
} vx_frame;

/** One decoded (or to-be-encoded) message.  Which fields matter depends on
 *  type (docs/protocol.md); the others are zero / empty. */
typedef struct vx_msg {
    int type;                            /**< vx_msg_type */
    int version;                         /**< VX_PROTO_VERSION */
    char task_id[VX_TASK_ID_LEN + 1];    /**< TASK PROGRESS RESULT ERROR */
    char kind[VX_KIND_MAX + 1];          /**< TASK */
    int attempt;                         /**< TASK PROGRESS RESULT ERROR, 1.. */
    int64_t deadline_ms;                 /**< TASK: Unix time in ms, 0 = none */
    char worker_id[VX_WORKER_ID_MAX + 1];/**< HELLO */
    int capacity;                        /**< HELLO: handler threads */
    int protocol;                        /**< HELLO: highest version spoken */
    char instance[VX_WORKER_ID_MAX + 1]; /**< HELLO (optional): new on every worker start */
    char broker_id[VX_WORKER_ID_MAX + 1];/**< READY */
    int heartbeat_ms;                    /**< READY */
    int heartbeat_timeout_ms;            /**< READY */
    int in_flight;                       /**< HEARTBEAT from a worker, -1 = absent */
    double progress;                     /**< PROGRESS, 0..1 */
    char stage[64];                      /**< PROGRESS (optional) */
    int status;                          /**< ERROR: VX_E* (from "code") */
    char message[256];                   /**< ERROR message / BYE reason */
    char *body_json;                     /**< TASK "args" / RESULT "result": compact
                                              JSON object text; NULL = {} (owned after
                                              decode; borrowed when encoding) */
    size_t n_payload;
    vx_frame payload[VX_PROTO_MAX_PAYLOAD_FRAMES]; /**< borrowed */
} vx_msg;

/** Zeroes m and sets type and version (in_flight = -1). */
void vx_msg_init(vx_msg *m, int type);
/** Frees what a decode allocated (body_json) and zeroes m.  NULL ok. */
void vx_msg_clear(vx_msg *m);

/** "HELLO", "TASK"... or "UNKNOWN". */
const char *vx_proto_type_name(int type);
/** VX_E* status of a name from vx_status_name ("EINVAL"); VX_EINTERNAL when
 *  unknown (never VX_OK). */
int vx_proto_status_from_name(const char *name);

/**
 * Encodes m: fills type_frame and *header (malloc'd, NUL-terminated JSON,
 * *header_len without the NUL).  The payload frames are sent as they are
 * (m->payload); they are checked against the limits here.
 * Errors: EINVAL (bad type, missing/invalid field, body_json not a JSON
 * object), ELIMIT (header > 64 KiB, > 8 payloads, payload > 32 MiB, total
 * > 64 MiB), ENOMEM.
 */
int vx_proto_encode(const vx_msg *m, uint8_t type_frame[VX_PROTO_TYPE_FRAME_LEN],
                    char **header, size_t *header_len, vx_error *err);

/**
 * Decodes n frames (type frame, header, payloads) into out (initialised
 * here; call vx_msg_clear after success -- on failure nothing is owned).
 * out->payload points into frames.  Errors: EINVAL (bad magic, unsupported
 * version, unknown type, header not a JSON object, missing/invalid fields,
 * payloads on a type that takes none), ELIMIT (too many frames, a frame or
 * the whole message too large), ENOMEM.
 */
int vx_proto_decode(const vx_frame *frames, size_t n, vx_msg *out, vx_error *err);

/**
 * Flat form of a multipart message: per frame a 4-byte big-endian length
 * then the bytes.  Used by the fuzz target and for storing a message.
 * pack: *out malloc'd.  unpack: frames point into buf; at most max frames
 * (ELIMIT beyond), truncated input is EINVAL.
 */
int vx_proto_pack(const vx_frame *frames, size_t n, uint8_t **out, size_t *len, vx_error *err);
int vx_proto_unpack(const uint8_t *buf, size_t len, vx_frame *frames, size_t max, size_t *n,
                    vx_error *err);

/** 1 when s is a 36-character uuid (hex digits and dashes at 8-4-4-4-12). */
int vx_proto_is_uuid(const char *s);
/** 1 when s is a valid worker / broker id: 1..64 of [A-Za-z0-9._:-]. */
int vx_proto_id_valid(const char *s);
/** 1 when s is a valid task kind: 1..32 of [a-z0-9_]. */
int vx_proto_kind_valid(const char *s);

#endif
