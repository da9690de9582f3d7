/*
 * espeak_zygote.c -- the espeak-ng fork server ("zygote"): one helper
 * process that initialises espeak-ng once and forks a fresh worker per
 * synthesis, so that no synthesis ever forks the library's (threaded)
 * process.
 *
 * DESIGN: espeak-ng's output depends on its history (espeak.c), so each
 * synthesis runs in a new process that starts from a state where espeak-ng
 * was initialised but never spoke.  Forking that process from the caller's
 * process, as before, is unsafe once the caller has threads: the child gets
 * a copy of locks other threads held (measured: ASan's allocator deadlocks
 * intermittently; release bench_pipeline runs lost items).  Here the forks
 * happen in the zygote, where nothing runs beside the forking thread (the
 * only other thread is espeak-ng's fifo thread, which espeak_Initialize
 * starts even in synchronous mode and which sleeps in a condition wait,
 * holding no lock, for the life of the process; synchronous synthesis
 * never wakes it):
 *   start   the first request starts it with posix_spawn() of /proc/self/exe
 *           and VX_ESPEAK_ZYGOTE=3:<parent pid> in its environment; a
 *           constructor of this file (linked into every executable that can
 *           start a zygote) turns that process into the zygote before main()
 *           runs.  Spawn+exec is safe from any number of threads, and the
 *           zygote is a small fresh process however large this one has grown
 *           (each worker fork copies the zygote's page tables: beside a
 *           500 MB heap a synthesis took 120 ms when forked from the caller,
 *           26 ms from the zygote).  vx_tts_global_init, called at start-up,
 *           simply fork()s it while the process is single-threaded and small
 *           (checked in /proc/self/stat) -- the way that needs no exec.  If
 *           exec is impossible or the re-executed program does not answer
 *           (the library is dlopen()ed, not linked into the executable),
 *           plain fork() is the fallback: safe when single-threaded, the old
 *           risk otherwise, but taken once per zygote, not per synthesis.
 *   zygote  names itself vx-espeak-zyg (comm), closes every inherited descriptor but stderr and its control
 *           socket (fd 3), points stdin/stdout at /dev/null, resets signal
 *           dispositions and mask, ignores SIGCHLD (the kernel reaps its
 *           workers), initialises espeak-ng, sends a hello (rate, data dir)
 *           and then waits on the control socket.  It exits on EOF there
 *           (every copy of the parent's end closed: the parent exited; its
 *           fork()ed children drop their copy in a pthread_atfork handler)
 *           or when getppid() changes (checked every second), so it never
 *           outlives the library's process.  (PR_SET_PDEATHSIG is not used:
 *           it fires when the *thread* that forked exits, e.g. a pipeline
 *           worker.)
 *   request the caller makes a socketpair per synthesis and passes one end
 *           to the zygote over the SOCK_SEQPACKET control socket
 *           (SCM_RIGHTS; each message is atomic, so any number of threads
 *           submit at once, under a mutex held only for the sendmsg).  The
 *           zygote forks a worker that owns that socket: it sends an ack
 *           (its pid), reads the request, synthesises, replies and _exit()s.
 *           The zygote never reads request data, so a slow or huge request
 *           delays nobody else; requests run in parallel in their workers.
 *   failure no ack (EOF, send error, 30 s): the zygote is dead or broken --
 *           it is killed, reaped, restarted and the request resubmitted once
 *           (nothing was synthesised).  EOF after the ack: that worker
 *           crashed; only that synthesis fails (EINTERNAL, espeak.c).  A
 *           zygote that died between requests is noticed (waitpid WNOHANG)
 *           and replaced before the next one.
 * Never prints, never exits the caller's process; only the zygote and its
 * workers _exit().
 */
#define _GNU_SOURCE /* syscall(), close_range, MSG_CMSG_CLOEXEC */

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "core/error.h"
#include "tts/espeak_zygote.h"
#include "voxclone/clone.h"

extern char **environ;

#define ZYG_ENV "VX_ESPEAK_ZYGOTE"
#define ZYG_FD 3 /* the control socket in the zygote */
#define MAGIC_HELLO 0x56585a48u    /* "VXZH" zygote -> parent, once */
#define MAGIC_REQ 0x56585a52u      /* "VXZR" parent -> zygote, with an fd */
#define MAGIC_ACK 0x56585a41u      /* "VXZA" worker -> caller: started */
#define MAGIC_FORKFAIL 0x56585a46u /* "VXZF" zygote -> caller: fork failed */
#define HELLO_TIMEOUT_MS 30000
#define ACK_TIMEOUT_MS 30000

enum { M_NONE, M_FORK, M_EXEC };
enum { Z_NONE, Z_STARTING, Z_PENDING, Z_READY };

typedef struct zyg_hello {
    uint32_t magic;
    vx__zyg_info info;
} zyg_hello;

typedef struct zyg_ack {
    uint32_t magic;
    int32_t value; /* worker pid, or errno of the failed fork */
} zyg_ack;

typedef struct zproc {
    int ctl; /* our end of the control socket */
    pid_t pid;
    int method;
    vx__zyg_info info;
} zproc;

static struct {
    pthread_mutex_t lock;
    pthread_cond_t cond;
    int state;
    unsigned gen; /* +1 per zygote made ready */
    zproc z;
} g = {.lock = PTHREAD_MUTEX_INITIALIZER,
       .cond = PTHREAD_COND_INITIALIZER,
       .state = Z_NONE,
       .z = {.ctl = -1}};

static pthread_once_t g_atfork_once = PTHREAD_ONCE_INIT;
static atomic_int g_exec_broken; /* re-exec gave no zygote: fork instead */

static const int k_reset_signals[] = {SIGINT,  SIGTERM, SIGHUP,  SIGQUIT, SIGPIPE,
                                      SIGUSR1, SIGUSR2, SIGALRM, SIGCHLD};

/* ---- small helpers ------------------------------------------------------- */

static long ms_since(const struct timespec *t0)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (long)(t.tv_sec - t0->tv_sec) * 1000L + (t.tv_nsec - t0->tv_nsec) / 1000000L;
}

int vx__zyg_recv_full(int fd, void *p, size_t n, long timeout_ms)
{
    char *c = p;
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    while (n > 0) {
        ssize_t r;
        if (timeout_ms >= 0) {
            struct pollfd pf = {fd, POLLIN, 0};
            long left = timeout_ms - ms_since(&t0);
            int pr;
            if (left <= 0)
                return -2;
            pr = poll(&pf, 1, left > 60000L ? 60000 : (int)left);
            if (pr < 0) {
                if (errno == EINTR)
                    continue;
                return -1;
            }
            if (pr == 0)
                continue; /* the loop checks the time left */
        }
        r = recv(fd, c, n, 0);
        if (r < 0) {
            if (errno == EINTR || errno == EAGAIN)
                continue;
            return -1;
        }
        if (r == 0)
            return -1;
        c += r;
        n -= (size_t)r;
    }
    return 0;
}

/* Kills and reaps a zygote of ours (ECHILD: the host reaped it already). */
static void reap(pid_t pid)
{
    if (pid <= 0)
        return;
    kill(pid, SIGKILL);
    while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
        ;
}

/* 1 when this process has exactly one thread (fork() is then safe). */
static int single_threaded(void)
{
    char buf[1024];
    char *p, *end;
    ssize_t n;
    long v;
    int k, fd = open("/proc/self/stat", O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return 0;
    n = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (n <= 0)
        return 0;
    buf[n] = '\0';
    p = strrchr(buf, ')'); /* the command name may hold spaces */
    if (!p)
        return 0;
    for (k = 0; k < 18; k++) { /* field 20: num_threads */
        p = strchr(p, ' ');
        if (!p)
            return 0;
        p++;
    }
    v = strtol(p, &end, 10);
    return end != p && v == 1;
}

/* ---- the zygote process ------------------------------------------------- */

static void close_from(int lowfd)
{
    long max, fd;
#ifdef SYS_close_range
    if (syscall(SYS_close_range, (unsigned)lowfd, ~0u, 0u) == 0)
        return;
#endif
    max = sysconf(_SC_OPEN_MAX);
    if (max < 0 || max > 65536)
        max = 65536;
    for (fd = lowfd; fd < max; fd++)
        close((int)fd);
}

/* In a worker just forked by the zygote: never returns. */
static void worker_run(int ctl, int fd)
{
    struct sigaction sa;
    zyg_ack a;
    close(ctl);
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = SIG_DFL;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGCHLD, &sa, NULL);
    a.magic = MAGIC_ACK;
    a.value = (int32_t)getpid();
    if (send(fd, &a, sizeof a, MSG_NOSIGNAL) == (ssize_t)sizeof a)
        vx__espeak_worker_serve(fd);
    _exit(0);
}

/* Waits for requests on ctl and forks a worker for each. */
static void zygote_loop(int ctl, pid_t parent)
{
    for (;;) {
        struct pollfd pf = {ctl, POLLIN, 0};
        struct msghdr mh;
        struct iovec iov;
        struct cmsghdr *cm;
        union {
            struct cmsghdr h;
            char b[CMSG_SPACE(sizeof(int))];
        } cb;
        uint32_t magic = 0;
        ssize_t n;
        pid_t pid;
        int fd = -1, r = poll(&pf, 1, 1000);
        if (getppid() != parent)
            _exit(0); /* the library's process is gone */
        if (r < 0 && errno != EINTR)
            _exit(1);
        if (r <= 0)
            continue;
        memset(&mh, 0, sizeof mh);
        iov.iov_base = &magic;
        iov.iov_len = sizeof magic;
        mh.msg_iov = &iov;
        mh.msg_iovlen = 1;
        mh.msg_control = cb.b;
        mh.msg_controllen = sizeof cb.b;
        n = recvmsg(ctl, &mh, MSG_CMSG_CLOEXEC);
        if (n == 0)
            _exit(0); /* EOF: every copy of the parent's end is closed */
        if (n < 0) {
            if (errno == EINTR || errno == EAGAIN)
                continue;
            _exit(1);
        }
        for (cm = CMSG_FIRSTHDR(&mh); cm; cm = CMSG_NXTHDR(&mh, cm))
            if (cm->cmsg_level == SOL_SOCKET && cm->cmsg_type == SCM_RIGHTS &&
                cm->cmsg_len >= CMSG_LEN(sizeof(int)))
                memcpy(&fd, CMSG_DATA(cm), sizeof fd);
        if (fd < 0)
            continue;
        if (n != (ssize_t)sizeof magic || magic != MAGIC_REQ) {
            close(fd);
            continue;
        }
        pid = fork();
        if (pid == 0)
            worker_run(ctl, fd);
        if (pid < 0) {
            zyg_ack a;
            a.magic = MAGIC_FORKFAIL;
            a.value = errno;
            (void)!send(fd, &a, sizeof a, MSG_NOSIGNAL | MSG_DONTWAIT);
        }
        close(fd);
    }
}

/* The zygote's life, from a fork of the library's process or from the
 * constructor of a re-executed one.  Never returns. */
static void zygote_run(int ctl, pid_t parent)
{
    struct sigaction sa;
    sigset_t none;
    zyg_hello h;
    size_t i;
    int fd;
    prctl(PR_SET_NAME, "vx-espeak-zyg", 0L, 0L, 0L); /* for ps/top (a fork keeps argv) */
    memset(&sa, 0, sizeof sa);
    sigemptyset(&sa.sa_mask);
    sa.sa_handler = SIG_DFL;
    for (i = 0; i < sizeof k_reset_signals / sizeof k_reset_signals[0]; i++)
        sigaction(k_reset_signals[i], &sa, NULL);
    sa.sa_handler = SIG_IGN; /* workers are reaped by the kernel */
    sigaction(SIGCHLD, &sa, NULL);
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    if (ctl != ZYG_FD) {
        if (dup2(ctl, ZYG_FD) < 0)
            _exit(1);
        close(ctl);
        ctl = ZYG_FD;
    }
    fd = open("/dev/null", O_RDWR);
    if (fd >= 0) {
        dup2(fd, 0);
        dup2(fd, 1);
        if (fd > 2 && fd != ZYG_FD)
            close(fd);
    }
    close_from(ZYG_FD + 1);
    if (getppid() != parent)
        _exit(0);
    memset(&h, 0, sizeof h);
    h.magic = MAGIC_HELLO;
    vx__espeak_zygote_init(&h.info);
    h.info.data_dir[sizeof h.info.data_dir - 1] = '\0';
    if (send(ctl, &h, sizeof h, MSG_NOSIGNAL) != (ssize_t)sizeof h || h.info.rate_hz <= 0)
        _exit(0);
    zygote_loop(ctl, parent);
    _exit(0);
}

/* A process started as /proc/self/exe by spawn_exec becomes the zygote here,
 * before main().  Anything else (the variable absent, or not meant for this
 * process: wrong fd or parent) runs normally. */
__attribute__((constructor)) static void zygote_ctor(void)
{
    const char *m = getenv(ZYG_ENV);
    char *end;
    long fd, ppid;
    int type = 0;
    socklen_t tl = sizeof type;
    if (!m)
        return;
    fd = strtol(m, &end, 10);
    if (end == m || *end != ':')
        return;
    m = end + 1;
    ppid = strtol(m, &end, 10);
    if (end == m || *end != '\0')
        return;
    unsetenv(ZYG_ENV);
    if (fd != ZYG_FD || ppid <= 1 || (pid_t)ppid != getppid() ||
        getsockopt(ZYG_FD, SOL_SOCKET, SO_TYPE, &type, &tl) != 0 || type != SOCK_SEQPACKET)
        return;
    zygote_run(ZYG_FD, (pid_t)ppid);
}

/* ---- starting it (the library's process) -------------------------------- */

/* posix_spawn of /proc/self/exe with cfd as fd 3: 0 or an errno. */
static int spawn_exec(int cfd, pid_t parent, pid_t *pid)
{
    posix_spawn_file_actions_t fa;
    posix_spawnattr_t at;
    sigset_t none, dfl;
    char marker[64], arg0[] = "voxclone-espeak-zygote";
    char *argv[] = {arg0, NULL};
    char **envp;
    size_t n = 0, i, k = 0, el = strlen(ZYG_ENV);
    int rc, dfd = cfd;
    if (cfd == ZYG_FD) {
        /* dup2 onto itself would keep close-on-exec */
        dfd = fcntl(cfd, F_DUPFD_CLOEXEC, ZYG_FD + 1);
        if (dfd < 0)
            return errno;
    }
    snprintf(marker, sizeof marker, "%s=%d:%ld", ZYG_ENV, ZYG_FD, (long)parent);
    while (environ && environ[n])
        n++;
    envp = malloc((n + 2) * sizeof *envp);
    if (!envp) {
        if (dfd != cfd)
            close(dfd);
        return ENOMEM;
    }
    for (i = 0; i < n; i++)
        if (strncmp(environ[i], ZYG_ENV, el) || environ[i][el] != '=')
            envp[k++] = environ[i];
    envp[k++] = marker;
    envp[k] = NULL;
    sigemptyset(&none);
    sigemptyset(&dfl);
    for (i = 0; i < sizeof k_reset_signals / sizeof k_reset_signals[0]; i++)
        sigaddset(&dfl, k_reset_signals[i]);
    rc = posix_spawn_file_actions_init(&fa);
    if (rc == 0) {
        rc = posix_spawnattr_init(&at);
        if (rc == 0) {
            if (!(rc = posix_spawn_file_actions_adddup2(&fa, dfd, ZYG_FD)) &&
                !(rc = posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0)) &&
                !(rc = posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0)) &&
                !(rc = posix_spawnattr_setsigmask(&at, &none)) &&
                !(rc = posix_spawnattr_setsigdefault(&at, &dfl)) &&
                !(rc = posix_spawnattr_setflags(&at, POSIX_SPAWN_SETSIGMASK |
                                                         POSIX_SPAWN_SETSIGDEF)))
                rc = posix_spawn(pid, "/proc/self/exe", &fa, &at, argv, envp);
            posix_spawnattr_destroy(&at);
        }
        posix_spawn_file_actions_destroy(&fa);
    }
    free(envp);
    if (dfd != cfd)
        close(dfd);
    return rc;
}

/* Starts a zygote (fork or exec); the hello is not awaited. */
static int zyg_spawn(int use_exec, zproc *z, vx_error *err)
{
    int sv[2], rc = 0;
    pid_t parent = getpid(), pid = -1;
    if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) != 0)
        return vx__error_set(err, VX_EINTERNAL, "espeak-ng: cannot create a socket: %s",
                             strerror(errno));
    if (use_exec) {
        rc = spawn_exec(sv[1], parent, &pid);
    } else {
        pid = fork();
        if (pid == 0) {
            close(sv[0]);
            zygote_run(sv[1], parent);
        }
        if (pid < 0)
            rc = errno;
    }
    close(sv[1]);
    if (rc != 0) {
        close(sv[0]);
        return vx__error_set(err, VX_EINTERNAL,
                             "espeak-ng: cannot start the synthesis server process: %s",
                             strerror(rc));
    }
    memset(z, 0, sizeof *z);
    z->ctl = sv[0];
    z->pid = pid;
    z->method = use_exec ? M_EXEC : M_FORK;
    return VX_OK;
}

/* Lazily (early = 0): exec, so that the zygote is a small fresh process
 * whatever this one has grown to (a worker fork copies the zygote's page
 * tables: measured 26 ms instead of 120 ms per synthesis beside a 500 MB
 * heap); fork() only when exec failed.  vx_tts_global_init (early = 1):
 * fork() while the process is single-threaded and still small. */
static int zyg_launch(zproc *z, int early, vx_error *err)
{
    int use_exec = !atomic_load(&g_exec_broken) && !(early && single_threaded());
    int rc = zyg_spawn(use_exec, z, err);
    if (rc != VX_OK && use_exec) {
        atomic_store(&g_exec_broken, 1);
        rc = zyg_spawn(0, z, err);
    }
    return rc;
}

/* Waits for the hello of a started zygote.  *spoke: a hello came.  On
 * failure the zygote is killed and reaped. */
static int zyg_confirm(zproc *z, int *spoke, vx_error *err)
{
    zyg_hello h;
    int r, rc = VX_OK;
    *spoke = 0;
    memset(&h, 0, sizeof h);
    r = vx__zyg_recv_full(z->ctl, &h, sizeof h, HELLO_TIMEOUT_MS); /* one datagram */
    if (r == 0 && h.magic == MAGIC_HELLO) {
        *spoke = 1;
        h.info.data_dir[sizeof h.info.data_dir - 1] = '\0';
        z->info = h.info;
        if (h.info.rate_hz <= 0)
            rc = h.info.data_dir[0]
                     ? vx__error_set(err, VX_EUNAVAIL, "espeak-ng: %s", h.info.data_dir)
                     : vx__error_set(err, VX_EINTERNAL, "espeak-ng could not be initialised "
                                                        "(is espeak-ng-data installed?)");
    } else {
        rc = vx__error_set(err, VX_EINTERNAL,
                           "espeak-ng: the synthesis server process (pid %ld, %s) %s",
                           (long)z->pid, z->method == M_EXEC ? "exec" : "fork",
                           r == -2 ? "did not start within 30 s" : "ended before it was ready");
    }
    if (rc != VX_OK) {
        close(z->ctl);
        z->ctl = -1;
        reap(z->pid);
        z->pid = 0;
    }
    return rc;
}

/* A ready zygote in *z: the pending one confirmed, else a new one. */
static int zyg_bring_up(zproc *z, int pending, vx_error *err)
{
    int spoke = 0, rc;
    if (pending) {
        rc = zyg_confirm(z, &spoke, err);
        if (rc == VX_OK || spoke)
            return rc;
    }
    rc = zyg_launch(z, 0, err);
    if (rc != VX_OK)
        return rc;
    rc = zyg_confirm(z, &spoke, err);
    if (rc != VX_OK && !spoke && z->method == M_EXEC) {
        /* the re-executed program did not become a zygote (the library is
         * not linked into the executable?): fork from here instead */
        atomic_store(&g_exec_broken, 1);
        rc = zyg_spawn(0, z, err);
        if (rc == VX_OK)
            rc = zyg_confirm(z, &spoke, err);
    }
    return rc;
}

/* With g.lock held: a ready zygote (starting or replacing it as needed). */
static int zyg_ready_locked(vx_error *err)
{
    for (;;) {
        zproc z;
        int pending, rc;
        if (g.state == Z_READY) {
            if (waitpid(g.z.pid, NULL, WNOHANG) != g.z.pid)
                return VX_OK;
            /* it died since the last request (now reaped): replace it */
            close(g.z.ctl);
            g.z.ctl = -1;
            g.z.pid = 0;
            g.state = Z_NONE;
        }
        if (g.state == Z_STARTING) {
            pthread_cond_wait(&g.cond, &g.lock);
            continue;
        }
        pending = g.state == Z_PENDING;
        z = g.z;
        g.state = Z_STARTING;
        pthread_mutex_unlock(&g.lock);
        rc = zyg_bring_up(&z, pending, err);
        pthread_mutex_lock(&g.lock);
        if (rc == VX_OK) {
            g.z = z;
            g.gen++;
            g.state = Z_READY;
        } else {
            g.z.ctl = -1;
            g.z.pid = 0;
            g.state = Z_NONE;
        }
        pthread_cond_broadcast(&g.cond);
        if (rc != VX_OK)
            return rc;
    }
}

/* The zygote of generation gen failed a request: kill it (next call restarts). */
static void zyg_retire(unsigned gen)
{
    pid_t old = 0;
    pthread_mutex_lock(&g.lock);
    if (g.state == Z_READY && g.gen == gen) {
        close(g.z.ctl);
        g.z.ctl = -1;
        old = g.z.pid;
        g.z.pid = 0;
        g.state = Z_NONE;
    }
    pthread_mutex_unlock(&g.lock);
    reap(old);
}

/* fork() of the library's process: the child gets no zygote (it must not
 * share the parent's, and its copy of the control socket would keep the
 * zygote alive after the parent exits). */
static void atfork_prepare(void)
{
    pthread_mutex_lock(&g.lock);
}

static void atfork_parent(void)
{
    pthread_mutex_unlock(&g.lock);
}

static void atfork_child(void)
{
    pthread_mutex_init(&g.lock, NULL);
    pthread_cond_init(&g.cond, NULL);
    if (g.z.ctl >= 0)
        close(g.z.ctl);
    g.z.ctl = -1;
    g.z.pid = 0;
    g.state = Z_NONE;
}

static void atfork_register(void)
{
    pthread_atfork(atfork_prepare, atfork_parent, atfork_child);
}

/* ---- the interface ------------------------------------------------------- */

int vx_tts_global_init(vx_error *err)
{
    zproc z;
    int rc = VX_OK;
    pthread_once(&g_atfork_once, atfork_register);
    pthread_mutex_lock(&g.lock);
    if (g.state != Z_NONE) {
        pthread_mutex_unlock(&g.lock);
        return VX_OK;
    }
    g.state = Z_STARTING;
    pthread_mutex_unlock(&g.lock);
    rc = zyg_launch(&z, 1, err);
    pthread_mutex_lock(&g.lock);
    if (rc == VX_OK) {
        g.z = z;
        g.state = Z_PENDING;
    } else {
        g.state = Z_NONE;
    }
    pthread_cond_broadcast(&g.cond);
    pthread_mutex_unlock(&g.lock);
    return rc;
}

/* Passes fd to the zygote: 0, or an errno. */
static int send_fd(int ctl, int fd)
{
    struct msghdr mh;
    struct iovec iov;
    struct cmsghdr *cm;
    union {
        struct cmsghdr h;
        char b[CMSG_SPACE(sizeof(int))];
    } cb;
    uint32_t magic = MAGIC_REQ;
    memset(&mh, 0, sizeof mh);
    memset(&cb, 0, sizeof cb);
    iov.iov_base = &magic;
    iov.iov_len = sizeof magic;
    mh.msg_iov = &iov;
    mh.msg_iovlen = 1;
    mh.msg_control = cb.b;
    mh.msg_controllen = sizeof cb.b;
    cm = CMSG_FIRSTHDR(&mh);
    cm->cmsg_level = SOL_SOCKET;
    cm->cmsg_type = SCM_RIGHTS;
    cm->cmsg_len = CMSG_LEN(sizeof(int));
    memcpy(CMSG_DATA(cm), &fd, sizeof fd);
    for (;;) {
        ssize_t r = sendmsg(ctl, &mh, MSG_NOSIGNAL);
        if (r == (ssize_t)sizeof magic)
            return 0;
        if (r < 0 && errno == EINTR)
            continue;
        return r < 0 ? errno : EIO;
    }
}

int vx__zyg_open(int *fd, pid_t *worker, vx__zyg_info *info, vx_error *err)
{
    char why[160] = "";
    int attempt;
    pthread_once(&g_atfork_once, atfork_register);
    for (attempt = 0; attempt < 2; attempt++) {
        int sv[2], rc, se, r;
        unsigned gen;
        zyg_ack a;
        if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0)
            return vx__error_set(err, VX_EINTERNAL, "espeak-ng: cannot create a socket: %s",
                                 strerror(errno));
        pthread_mutex_lock(&g.lock);
        rc = zyg_ready_locked(err);
        if (rc != VX_OK) {
            pthread_mutex_unlock(&g.lock);
            close(sv[0]);
            close(sv[1]);
            return rc;
        }
        gen = g.gen;
        *info = g.z.info;
        se = send_fd(g.z.ctl, sv[1]);
        pthread_mutex_unlock(&g.lock);
        close(sv[1]);
        if (se != 0) {
            snprintf(why, sizeof why, "cannot reach it: %s", strerror(se));
            close(sv[0]);
            zyg_retire(gen);
            continue;
        }
        memset(&a, 0, sizeof a);
        r = vx__zyg_recv_full(sv[0], &a, sizeof a, ACK_TIMEOUT_MS);
        if (r == 0 && a.magic == MAGIC_ACK) {
            *fd = sv[0];
            *worker = (pid_t)a.value;
            return VX_OK;
        }
        close(sv[0]);
        if (r == 0 && a.magic == MAGIC_FORKFAIL)
            return vx__error_set(err, VX_EINTERNAL,
                                 "espeak-ng: cannot start a worker process: %s",
                                 strerror((int)a.value));
        snprintf(why, sizeof why, "%s",
                 r == -2 ? "no worker started within 30 s" : "it ended without starting a worker");
        zyg_retire(gen);
    }
    return vx__error_set(err, VX_EINTERNAL,
                         "espeak-ng: the synthesis server process failed twice (%s)", why);
}

pid_t vx__espeak_zygote_pid(void)
{
    pid_t pid = 0;
    pthread_mutex_lock(&g.lock);
    if (g.state == Z_READY || g.state == Z_PENDING)
        pid = g.z.pid;
    pthread_mutex_unlock(&g.lock);
    return pid;
}

const char *vx__espeak_zygote_method(void)
{
    int m = M_NONE;
    pthread_mutex_lock(&g.lock);
    if (g.state == Z_READY || g.state == Z_PENDING)
        m = g.z.method;
    pthread_mutex_unlock(&g.lock);
    return m == M_FORK ? "fork" : m == M_EXEC ? "exec" : "none";
}
