/*
 * status.c -- status codes to text.
 *
 * DESIGN: one X-macro (VX_STATUS_MAP in voxclone.h) is the single source of
 * truth for codes, names and messages, so the enum, vx_strerror() and
 * vx_status_name() can never drift apart.
 */
#include "voxclone/voxclone.h"

const char *vx_strerror(int status)
{
    switch (status) {
#define VX__CASE(name, value, msg) \
    case value:                    \
        return msg;
        VX_STATUS_MAP(VX__CASE)
#undef VX__CASE
    default:
        return "unknown status";
    }
}

const char *vx_status_name(int status)
{
    switch (status) {
#define VX__CASE(name, value, msg) \
    case value:                    \
        return #name;
        VX_STATUS_MAP(VX__CASE)
#undef VX__CASE
    default:
        return "UNKNOWN";
    }
}
