/*
 * zmq_dl.c -- the libzmq function table (see zmq_dl.h and core/dynlib.h).
 */
#include "ipc/zmq_dl.h"

vx__zmq_api vx__zmq;

VX__DYNLIB_BIND(vx__zmq, VX_ZMQ_SYMS, VX_SONAME_ZMQ);

int vx__zmq_load(vx_error *err) { return VX__DYNLIB_LOAD(vx__zmq, err); }
