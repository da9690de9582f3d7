/*
 * zmq_dl.h -- libzmq, loaded on first use (core/dynlib.h).  The broker, the
 * worker and the gateway server call ZeroMQ through vx__zmq after
 * vx__zmq_load() has succeeded; nothing else in the process maps libzmq
 * (and the libstdc++, GnuTLS, OpenPGM, NORM it brings).
 */
#ifndef VX_IPC_ZMQ_DL_H
#define VX_IPC_ZMQ_DL_H

#include <zmq.h>

#include "core/dynlib.h"

#define VX_ZMQ_SYMS(X)                                                          \
    X(zmq_bind) X(zmq_close) X(zmq_connect) X(zmq_ctx_new) X(zmq_ctx_term)      \
    X(zmq_errno) X(zmq_getsockopt) X(zmq_msg_close) X(zmq_msg_data)             \
    X(zmq_msg_init) X(zmq_msg_more) X(zmq_msg_move) X(zmq_msg_recv)             \
    X(zmq_msg_size) X(zmq_poll) X(zmq_send) X(zmq_setsockopt) X(zmq_socket)     \
    X(zmq_strerror)

typedef struct vx__zmq_api {
    VX_ZMQ_SYMS(VX__DL_FIELD)
} vx__zmq_api;

/** The table; valid after vx__zmq_load() returned VX_OK. */
extern vx__zmq_api vx__zmq;

/** Loads libzmq once per process.  VX_OK, or VX_EUNAVAIL with the reason in
 *  err.  Thread-safe. */
int vx__zmq_load(vx_error *err);

#endif
