/*
 * dynlib.c -- optional shared libraries, loaded on first use (see dynlib.h).
 *
 * DESIGN: measured on this project's CLI, linking every library up front cost
 * 28 ms per process start (79 shared objects; dynamic loader and page faults),
 * more than analysing a 1.5 s voice message.  Only the libraries the
 * analysis needs (libsndfile, soxr, FFTW, jansson, SQLite ...) stay linked.
 * A load is tried once per library and its outcome kept, so a missing
 * library gives every caller the same clear error instead of a crash at
 * start-up, and handles are never closed, so function pointers handed out
 * stay valid for the life of the process.  The state is read with an acquire
 * load so that a thread that sees "loaded" also sees the filled table.
 */
#include "core/dynlib.h"

#include <dlfcn.h>
#include <stdio.h>
#include <string.h>

#include "core/error.h"

int vx__dynlib_loaded(vx__dynlib *lib)
{
    return lib && __atomic_load_n(&lib->state, __ATOMIC_ACQUIRE) == 1;
}

int vx__dynlib_load(vx__dynlib *lib, const char *const *names, size_t n, void **slots,
                    vx_error *err)
{
    if (!lib || !lib->soname || (n && (!names || !slots)))
        return vx__error_set(err, VX_EINVAL, "dynlib: invalid argument");
    if (vx__dynlib_loaded(lib))
        return VX_OK;
    pthread_mutex_lock(&lib->mutex);
    if (lib->state == 0) {
        void *h = dlopen(lib->soname, RTLD_NOW | RTLD_LOCAL);
        if (!h) {
            const char *why = dlerror();
            snprintf(lib->error, sizeof lib->error, "cannot load %s: %s", lib->soname,
                     why ? why : "unknown reason");
            lib->state = -1;
        } else {
            size_t i;
            for (i = 0; i < n; i++) {
                void *p;
                dlerror();
                p = dlsym(h, names[i]);
                if (!p) {
                    snprintf(lib->error, sizeof lib->error, "%s has no symbol %s", lib->soname,
                             names[i]);
                    break;
                }
                slots[i] = p;
            }
            lib->handle = h;
            __atomic_store_n(&lib->state, i == n ? 1 : -1, __ATOMIC_RELEASE);
        }
    }
    pthread_mutex_unlock(&lib->mutex);
    if (lib->state != 1)
        return vx__error_set(err, VX_EUNAVAIL, "%s", lib->error);
    return VX_OK;
}
