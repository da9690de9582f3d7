/*
 * zmq_dl.c -- the libzmq function table (see zmq_dl.h and core/dynlib.h).
 */
#include "ipc/zmq_dl.h"

vx__zmq_api vx__zmq;

static const char *const zmq_names[] = {VX_ZMQ_SYMS(VX__DL_NAME)};
static vx__dynlib zmq_lib = VX__DYNLIB_INIT(VX_SONAME_ZMQ);
_Static_assert(sizeof vx__zmq == VX__DL_COUNT(zmq_names) * sizeof(void *),
               "one pointer per name");

int vx__zmq_load(vx_error *err)
{
    return vx__dynlib_load(&zmq_lib, zmq_names, VX__DL_COUNT(zmq_names),
                           (void **)(void *)&vx__zmq, err);
}
