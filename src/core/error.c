/*
 * error.c -- per-call error detail.
 *
 * DESIGN: errors are values, not globals: each call that can fail takes an
 * optional vx_error* and writes a bounded one-line message into it, so two
 * threads never see each other's errors and the library never prints.
 */
#include "core/error.h"

#include <stdarg.h>
#include <stdio.h>

int vx__error_set(vx_error *err, int code, const char *fmt, ...)
{
    if (err) {
        va_list ap;
        err->code = code;
        va_start(ap, fmt);
        vsnprintf(err->message, sizeof err->message, fmt, ap);
        va_end(ap);
    }
    return code;
}

void vx__error_clear(vx_error *err)
{
    if (err) {
        err->code = VX_OK;
        err->message[0] = '\0';
    }
}
