/*
 * error.h -- internal helpers to fill a vx_error and return its code.
 */
#ifndef VX_CORE_ERROR_H
#define VX_CORE_ERROR_H

#include "voxclone/voxclone.h"

/** Sets err (when non-NULL) to code and a printf-style message; returns code.
 *  The message is truncated to fit vx_error.message. */
int vx__error_set(vx_error *err, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/** Clears err (code VX_OK, empty message) when non-NULL. */
void vx__error_clear(vx_error *err);

#endif
