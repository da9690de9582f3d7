/*
 * espeak_zygote.h -- the espeak-ng fork server ("zygote", espeak_zygote.c)
 * and the two hooks it calls in espeak.c.
 *
 * The zygote is a helper process (one working thread) that initialises
 * espeak-ng once and then forks one worker per synthesis; a caller gets a
 * stream socket connected to its own fresh worker.  See the DESIGN note in
 * espeak_zygote.c.
 */
#ifndef VX_TTS_ESPEAK_ZYGOTE_H
#define VX_TTS_ESPEAK_ZYGOTE_H

#include <stdint.h>
#include <sys/types.h>

#include "voxclone/voxclone.h"

/** Longest espeak-ng data path reported by the zygote (with the NUL). */
#define VX__ZYG_DATA_MAX 512

/** What the zygote reports once espeak-ng is initialised. */
typedef struct vx__zyg_info {
    int32_t rate_hz;                 /**< espeak-ng's output rate; <= 0: init failed */
    char data_dir[VX__ZYG_DATA_MAX]; /**< espeak-ng-data directory; when rate_hz <= 0,
                                          empty or why espeak-ng could not be loaded */
} vx__zyg_info;

/* ---- caller side (any thread of the library's process) ----------------- */

/** A fresh worker process forked from the zygote (started, or restarted
 *  after it died, as needed).  *fd: a blocking SOCK_STREAM socket connected
 *  to the worker only (close it when done); *worker: the worker's pid (for
 *  messages); *info: what the zygote reported.  Errors: EINTERNAL (espeak-ng
 *  cannot be initialised, no process could be started). */
int vx__zyg_open(int *fd, pid_t *worker, vx__zyg_info *info, vx_error *err);

/** Tests only: pid of the running zygote, 0 when none. */
pid_t vx__espeak_zygote_pid(void);
/** Tests only: how the running zygote was started: "fork"
 *  (vx_tts_global_init in a single-threaded process, or the fallback),
 *  "exec" (posix_spawn of /proc/self/exe) or "none". */
const char *vx__espeak_zygote_method(void);

/** Exactly n bytes from the socket fd within timeout_ms (negative: no time
 *  limit): 0, -1 on EOF or error, -2 when the time ran out.  For the zygote's
 *  control socket and the per-synthesis sockets. */
int vx__zyg_recv_full(int fd, void *p, size_t n, long timeout_ms);

/** Tests only (espeak.c): the next espeak-ng synthesis's worker kills
 *  itself with SIGKILL after reading its request. */
void vx__espeak_test_crash_next(void);
/** Tests only: the next synthesis's worker never replies, and the caller
 *  waits timeout_ms (instead of 30 s + 5 ms per text byte) before killing
 *  it and failing with EINTERNAL. */
void vx__espeak_test_hang_next(long timeout_ms);

/* ---- zygote side: implemented in espeak.c ------------------------------ */

/** In the zygote, once, before any worker is forked: initialise espeak-ng
 *  and fill *info (rate_hz <= 0 when it cannot be initialised). */
void vx__espeak_zygote_init(vx__zyg_info *info);

/** In a worker: read one request from fd, synthesise, write the reply.
 *  The caller _exit()s afterwards. */
void vx__espeak_worker_serve(int fd);

#endif
