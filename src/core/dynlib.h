/*
 * dynlib.h -- optional shared libraries, loaded on first use.
 *
 * The server-side parts of voxclone use libraries that one-shot commands such
 * as `voxclone analyze` never touch: libpq, libzmq, libmicrohttpd, espeak-ng,
 * flite, MeCab.  Linked normally they and their own dependencies (GnuTLS,
 * OpenSSL, Kerberos, LDAP, PulseAudio, X11, libstdc++ ...: ~60 objects) are
 * mapped and relocated at every process start.  Instead, the module that uses
 * such a library declares a table of the functions it calls and loads it with
 * vx__dynlib_load() when the object that needs it is created; calls then go
 * through the table.
 *
 * Usage, in the one .c file that uses the library:
 *
 *     #define VX_PQ_SYMS(X) X(PQexec) X(PQclear) ...
 *     VX__DYNLIB_TABLE(pq, VX_PQ_SYMS, VX_SONAME_PQ)
 *     ...
 *     if (VX__DYNLIB_LOAD(pq, err) != VX_OK) return ...;
 *     pq.PQexec(...);
 *
 * VX__DL_FIELD declares each pointer with the type of the library's own
 * prototype (from its header), so a call with wrong arguments still fails to
 * compile.
 */
#ifndef VX_CORE_DYNLIB_H
#define VX_CORE_DYNLIB_H

#include <pthread.h>
#include <stddef.h>

#include "voxclone/voxclone.h"

/* Sonames; the build passes the ones it found (CMakeLists.txt), these are
 * Debian 12's. */
#ifndef VX_SONAME_PQ
#define VX_SONAME_PQ "libpq.so.5"
#endif
#ifndef VX_SONAME_ZMQ
#define VX_SONAME_ZMQ "libzmq.so.5"
#endif
#ifndef VX_SONAME_MHD
#define VX_SONAME_MHD "libmicrohttpd.so.12"
#endif
#ifndef VX_SONAME_ESPEAK
#define VX_SONAME_ESPEAK "libespeak-ng.so.1"
#endif
#ifndef VX_SONAME_MECAB
#define VX_SONAME_MECAB "libmecab.so.2"
#endif
#ifndef VX_SONAME_FLITE
#define VX_SONAME_FLITE "libflite.so.1"
#endif
#ifndef VX_SONAME_FLITE_SLT
#define VX_SONAME_FLITE_SLT "libflite_cmu_us_slt.so.1"
#endif
#ifndef VX_SONAME_FLITE_RMS
#define VX_SONAME_FLITE_RMS "libflite_cmu_us_rms.so.1"
#endif
#ifndef VX_SONAME_FLITE_AWB
#define VX_SONAME_FLITE_AWB "libflite_cmu_us_awb.so.1"
#endif
#ifndef VX_SONAME_FLITE_KAL
#define VX_SONAME_FLITE_KAL "libflite_cmu_us_kal16.so.1"
#endif

typedef struct vx__dynlib {
    const char *soname;
    pthread_mutex_t mutex;
    int state;        /* 0 not tried, 1 loaded, -1 failed (sticky) */
    void *handle;     /* never closed: the tables stay valid for the process */
    char error[192];  /* why it failed, for every later caller */
} vx__dynlib;

#define VX__DYNLIB_INIT(soname) { (soname), PTHREAD_MUTEX_INITIALIZER, 0, NULL, "" }
#define VX__DL_FIELD(name) __typeof__(name) *name;
#define VX__DL_NAME(name) #name,
#define VX__DL_COUNT(array) (sizeof(array) / sizeof((array)[0]))

/** Declares, at file scope, `table` (a struct with one pointer per symbol of
 *  the X-macro SYMS, typed from the library's own prototypes), its name list
 *  and its vx__dynlib. */
#define VX__DYNLIB_TABLE(table, SYMS, soname)                                  \
    static struct {                                                            \
        SYMS(VX__DL_FIELD)                                                     \
    } table;                                                                   \
    VX__DYNLIB_BIND(table, SYMS, soname)

/** The name list and vx__dynlib of an existing table object (for a table
 *  shared between files: declare its struct type from SYMS with
 *  VX__DL_FIELD in a header, define the object and bind it in one .c). */
#define VX__DYNLIB_BIND(table, SYMS, soname)                                   \
    static const char *const table##_names[] = {SYMS(VX__DL_NAME)};           \
    static vx__dynlib table##_lib = VX__DYNLIB_INIT(soname);                   \
    _Static_assert(sizeof(table) == sizeof(table##_names) / sizeof(char *) * sizeof(void *), \
                   "a dynlib table holds one pointer per name")

/** Loads the library of a VX__DYNLIB_TABLE (or _BIND) and fills the table. */
#define VX__DYNLIB_LOAD(table, err)                                             \
    vx__dynlib_load(&table##_lib, table##_names, VX__DL_COUNT(table##_names),   \
                    (void **)(void *)&(table), (err))

/** Loads lib->soname (dlopen, RTLD_NOW | RTLD_LOCAL) once per process and
 *  stores dlsym(names[i]) in slots[i] for i in [0, n).  Returns VX_OK when
 *  all are there; otherwise VX_EUNAVAIL with a message naming the library
 *  and the loader's reason (the failure is remembered: later calls fail the
 *  same way without retrying).  Thread-safe; without the lock once loaded.
 *  Pass the same names and slots on every call for one lib. */
int vx__dynlib_load(vx__dynlib *lib, const char *const *names, size_t n, void **slots,
                    vx_error *err);

/** Whether lib is loaded (after a successful vx__dynlib_load). */
int vx__dynlib_loaded(vx__dynlib *lib);

#endif
