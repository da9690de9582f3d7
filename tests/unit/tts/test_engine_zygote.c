/*
 * test_engine_zygote.c -- the espeak-ng process model (src/tts/espeak_zygote.c):
 * syntheses from 8 threads at once give the bytes of sequential ones, in
 * any order; nothing runs in the fork server beside its own thread; it is restarted after it is
 * killed (also while syntheses are running), a crashed worker fails only its
 * own synthesis, no descriptor leaks, and no helper process outlives the
 * process that started it (lazily, by exec, or by vx_tts_global_init, by
 * fork).  Runs under ASan too (the point of the fork server).
 */
#include <dirent.h>
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "tts/engine_private.h"
#include "tts/espeak_zygote.h"
#include "tts/tts_internal.h"
#include "voxclone/voxclone.h"

static const vx__voice_fit k_male = {115.0, 15.0, 175.0, 1.0, 0.0, 0};
static const vx__voice_fit k_female = {210.0, 30.0, 175.0, 1.07, 0.0, 1};

typedef struct job {
    const char *lang, *text;
    const vx__voice_fit *fit;
    uint64_t seed;
} job;

#define N_JOBS 8
static const job k_jobs[N_JOBS] = {
    {"fr", "Bonjour à tous, la réunion aura lieu jeudi.", &k_male, 1},
    {"de", "Guten Morgen, wie geht es Ihnen heute?", &k_female, 2},
    {"es", "Hola a todos, nos vemos el jueves.", &k_male, 3},
    {"it", "Buongiorno a tutti.", &k_female, 4},
    {"ru", "Привет всем, до встречи в четверг.", &k_male, 5},
    {"zh", "你好，我们星期四见。", &k_female, 6},
    {"ko", "안녕하세요 여러분", &k_male, 7},
    {"en", "Hello everybody, see you on Thursday.", &k_female, 8},
};

static double now_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec * 1e3 + (double)t.tv_nsec / 1e6;
}

static void sleep_ms(long ms)
{
    struct timespec t = {ms / 1000, (ms % 1000) * 1000000L};
    while (nanosleep(&t, &t) != 0 && errno == EINTR)
        ;
}

static int synth_job(const job *j, vx__pcm *p, vx_error *e)
{
    memset(p, 0, sizeof *p);
    return vx__engine_espeak.synth(j->lang, j->text, j->fit, NULL, j->seed, p, e);
}

static int same_pcm(const vx__pcm *a, const vx__pcm *b)
{
    return a->n == b->n && a->rate_hz == b->rate_hz && a->n > 0 &&
           memcmp(a->x, b->x, a->n * sizeof *a->x) == 0;
}

static vx__pcm g_ref[N_JOBS]; /* sequential results */

static void make_refs(void)
{
    vx_error e;
    int i;
    if (g_ref[0].x)
        return;
    for (i = 0; i < N_JOBS; i++) {
        int rc = synth_job(&k_jobs[i], &g_ref[i], &e);
        if (rc != VX_OK)
            fprintf(stderr, "%s: %s\n", k_jobs[i].lang, e.message);
        assert_int_equal(rc, VX_OK);
        assert_true(g_ref[i].n > 1000);
    }
}

/* ---- threads -------------------------------------------------------------- */

#define N_THREADS 8
#define PER_THREAD 3

typedef struct worker_arg {
    int id;
    int rc[PER_THREAD];
    int same[PER_THREAD];
    char msg[PER_THREAD][sizeof(((vx_error *)0)->message)];
} worker_arg;

static void *thread_main(void *p)
{
    worker_arg *w = p;
    int k;
    for (k = 0; k < PER_THREAD; k++) {
        int idx = (w->id * 3 + k) % N_JOBS; /* every thread a different mix */
        vx__pcm x;
        vx_error e;
        w->rc[k] = synth_job(&k_jobs[idx], &x, &e);
        w->same[k] = w->rc[k] == VX_OK && same_pcm(&x, &g_ref[idx]);
        if (w->rc[k] != VX_OK)
            snprintf(w->msg[k], sizeof w->msg[k], "%s", e.message);
        free(x.x);
    }
    return NULL;
}

static void run_threads(worker_arg *w)
{
    pthread_t th[N_THREADS];
    int i;
    for (i = 0; i < N_THREADS; i++) {
        memset(&w[i], 0, sizeof w[i]);
        w[i].id = i;
        assert_int_equal(pthread_create(&th[i], NULL, thread_main, &w[i]), 0);
    }
    for (i = 0; i < N_THREADS; i++)
        pthread_join(th[i], NULL);
}

static void check_threads(const worker_arg *w)
{
    int i, k;
    for (i = 0; i < N_THREADS; i++)
        for (k = 0; k < PER_THREAD; k++) {
            if (w[i].rc[k] != VX_OK)
                fprintf(stderr, "thread %d item %d: %s\n", i, k, w[i].msg[k]);
            assert_int_equal(w[i].rc[k], VX_OK);
            assert_true(w[i].same[k]);
        }
}

static void test_8_threads_equal_sequential(void **state)
{
    worker_arg w[N_THREADS];
    int round;
    (void)state;
    make_refs();
    for (round = 0; round < 2; round++) {
        run_threads(w);
        check_threads(w);
    }
}

static void test_order_does_not_matter(void **state)
{
    vx_error e;
    int i;
    (void)state;
    make_refs();
    /* reverse order, each twice: every synthesis starts from the same state */
    for (i = N_JOBS - 1; i >= 0; i--) {
        vx__pcm x, y;
        assert_int_equal(synth_job(&k_jobs[i], &x, &e), VX_OK);
        assert_int_equal(synth_job(&k_jobs[i], &y, &e), VX_OK);
        assert_true(same_pcm(&x, &g_ref[i]));
        assert_true(same_pcm(&y, &g_ref[i]));
        free(x.x);
        free(y.x);
    }
}

/* ---- the helper process ------------------------------------------------- */

/* Threads of pid other than its main one that are not sleeping, or -1. */
static int busy_threads(pid_t pid, int *n_threads)
{
    char path[320], buf[512];
    DIR *d;
    struct dirent *de;
    int busy = 0;
    *n_threads = 0;
    snprintf(path, sizeof path, "/proc/%ld/task", (long)pid);
    d = opendir(path);
    if (!d)
        return -1;
    while ((de = readdir(d))) {
        FILE *f;
        size_t n;
        char *p;
        if (de->d_name[0] == '.')
            continue;
        (*n_threads)++;
        if (strtol(de->d_name, NULL, 10) == (long)pid)
            continue;
        snprintf(path, sizeof path, "/proc/%ld/task/%s/stat", (long)pid, de->d_name);
        f = fopen(path, "r");
        if (!f)
            continue;
        n = fread(buf, 1, sizeof buf - 1, f);
        fclose(f);
        buf[n] = '\0';
        p = strrchr(buf, ')');
        if (!p || p[2] != 'S')
            busy++;
    }
    closedir(d);
    return busy;
}

static void test_zygote_single_threaded(void **state)
{
    vx__pcm x;
    vx_error e;
    pid_t z;
    int n = 0;
    (void)state;
    assert_int_equal(synth_job(&k_jobs[0], &x, &e), VX_OK);
    free(x.x);
    z = vx__espeak_zygote_pid();
    assert_true(z > 0);
    /* its own thread, plus espeak-ng's fifo thread (espeak_Initialize starts
     * it even in synchronous mode), which sleeps for ever in a condition
     * wait holding no lock: nothing runs beside the forks */
    assert_int_equal(busy_threads(z, &n), 0);
    printf("zygote %ld: %d thread(s), all but the main one asleep\n", (long)z, n);
    assert_true(n >= 1 && n <= 2);
    /* started lazily: re-executed, never a fork of this process */
    assert_string_equal(vx__espeak_zygote_method(), "exec");
}

static int count_fds(void)
{
    DIR *d = opendir("/proc/self/fd");
    struct dirent *de;
    int n = 0;
    if (!d)
        return -1;
    while ((de = readdir(d)))
        if (de->d_name[0] != '.')
            n++;
    closedir(d);
    return n;
}

static void test_no_fd_leak(void **state)
{
    vx_error e;
    int i, before;
    (void)state;
    make_refs();
    before = count_fds();
    for (i = 0; i < 10; i++) {
        vx__pcm x;
        assert_int_equal(synth_job(&k_jobs[i % N_JOBS], &x, &e), VX_OK);
        free(x.x);
    }
    assert_int_equal(count_fds(), before);
}

/* 1 when pid is gone or a zombie (not running). */
static int proc_gone(pid_t pid)
{
    char path[64], buf[512];
    FILE *f;
    char *p;
    size_t n;
    snprintf(path, sizeof path, "/proc/%ld/stat", (long)pid);
    f = fopen(path, "r");
    if (!f)
        return 1;
    n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    p = strrchr(buf, ')');
    return p && (p[2] == 'Z' || p[2] == 'X');
}

static void test_killed_zygote_restarts(void **state)
{
    vx__pcm x;
    vx_error e;
    pid_t z0, z1;
    int i;
    (void)state;
    make_refs();
    assert_int_equal(synth_job(&k_jobs[1], &x, &e), VX_OK);
    free(x.x);
    for (i = 0; i < 3; i++) {
        z0 = vx__espeak_zygote_pid();
        assert_true(z0 > 0);
        assert_int_equal(kill(z0, SIGKILL), 0);
        if (i == 1) /* let it die first: noticed before the request is sent */
            while (!proc_gone(z0))
                sleep_ms(1);
        assert_int_equal(synth_job(&k_jobs[1], &x, &e), VX_OK);
        assert_true(same_pcm(&x, &g_ref[1]));
        free(x.x);
        z1 = vx__espeak_zygote_pid();
        assert_true(z1 > 0 && z1 != z0);
        /* the old one was reaped: no zombie left behind */
        assert_int_equal(waitpid(z0, NULL, WNOHANG), -1);
        assert_int_equal(errno, ECHILD);
    }
}

typedef struct killer_arg {
    volatile int stop;
    int kills;
} killer_arg;

static void *killer_main(void *p)
{
    killer_arg *k = p;
    sleep_ms(30);
    /* once: a request resubmitted after a kill must not meet a second one */
    while (!k->stop && k->kills < 1) {
        pid_t z = vx__espeak_zygote_pid();
        if (z > 0 && kill(z, SIGKILL) == 0)
            k->kills++;
        sleep_ms(150);
    }
    return NULL;
}

static void test_kill_under_load(void **state)
{
    worker_arg w[N_THREADS];
    killer_arg k = {0, 0};
    pthread_t kt;
    (void)state;
    make_refs();
    assert_int_equal(pthread_create(&kt, NULL, killer_main, &k), 0);
    run_threads(w);
    k.stop = 1;
    pthread_join(kt, NULL);
    printf("zygote killed %d times during %d syntheses\n", k.kills, N_THREADS * PER_THREAD);
    check_threads(w);
}

static void test_worker_crash_fails_only_that(void **state)
{
    vx__pcm x;
    vx_error e;
    pid_t z;
    (void)state;
    make_refs();
    assert_int_equal(synth_job(&k_jobs[2], &x, &e), VX_OK);
    free(x.x);
    z = vx__espeak_zygote_pid();
    vx__espeak_test_crash_next();
    memset(&x, 0, sizeof x);
    assert_int_equal(vx__engine_espeak.synth(k_jobs[2].lang, k_jobs[2].text, k_jobs[2].fit, NULL,
                                             k_jobs[2].seed, &x, &e),
                     VX_EINTERNAL);
    assert_int_equal(e.code, VX_EINTERNAL);
    printf("crash message: %s\n", e.message);
    assert_non_null(strstr(e.message, "worker process"));
    assert_non_null(strstr(e.message, "died"));
    assert_null(x.x);
    /* the next one works, from the same zygote */
    assert_int_equal(synth_job(&k_jobs[2], &x, &e), VX_OK);
    assert_true(same_pcm(&x, &g_ref[2]));
    free(x.x);
    assert_int_equal(vx__espeak_zygote_pid(), z);
}

static void test_hung_worker_times_out(void **state)
{
    /* a worker that never replies is killed after the timeout and fails
     * only its synthesis; the next one works from the same zygote */
    vx__pcm x;
    vx_error e;
    pid_t z;
    struct timespec t0, t1;
    double s;
    (void)state;
    make_refs();
    z = vx__espeak_zygote_pid();
    vx__espeak_test_hang_next(500);
    memset(&x, 0, sizeof x);
    clock_gettime(CLOCK_MONOTONIC, &t0);
    assert_int_equal(vx__engine_espeak.synth(k_jobs[2].lang, k_jobs[2].text, k_jobs[2].fit, NULL,
                                             k_jobs[2].seed, &x, &e),
                     VX_EINTERNAL);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    s = (double)(t1.tv_sec - t0.tv_sec) + 1e-9 * (double)(t1.tv_nsec - t0.tv_nsec);
    printf("hang message after %.2f s: %s\n", s, e.message);
    assert_non_null(strstr(e.message, "did not reply"));
    assert_non_null(strstr(e.message, "killed"));
    assert_true(s >= 0.45); /* it waited for the timeout, not for ever */
    assert_null(x.x);
    assert_int_equal(synth_job(&k_jobs[2], &x, &e), VX_OK);
    assert_true(same_pcm(&x, &g_ref[2]));
    free(x.x);
    assert_int_equal(vx__espeak_zygote_pid(), z);
}

/* ---- no orphans ---------------------------------------------------------- */

static void *idle_main(void *p)
{
    (void)p;
    for (;;)
        pause();
    return NULL;
}

enum { CHILD_LAZY, CHILD_LAZY_THREADED, CHILD_GLOBAL_INIT, CHILD_GLOBAL_INIT_UNUSED };

/* Child process: uses the engine as told, reports its zygote's pid, the
 * method and whether the bytes match, then exits without cleaning up. */
static void child_main(int mode, int fd)
{
    struct {
        int32_t pid, ok;
        char method[8];
    } rep;
    vx__pcm x;
    vx_error e;
    pthread_t t;
    memset(&rep, 0, sizeof rep);
    if (mode == CHILD_LAZY_THREADED)
        pthread_create(&t, NULL, idle_main, NULL);
    if (mode == CHILD_GLOBAL_INIT || mode == CHILD_GLOBAL_INIT_UNUSED)
        rep.ok = vx_tts_global_init(&e) == VX_OK;
    if (mode != CHILD_GLOBAL_INIT_UNUSED) {
        rep.ok = synth_job(&k_jobs[3], &x, &e) == VX_OK && same_pcm(&x, &g_ref[3]);
    }
    rep.pid = (int32_t)vx__espeak_zygote_pid();
    snprintf(rep.method, sizeof rep.method, "%s", vx__espeak_zygote_method());
    if (write(fd, &rep, sizeof rep) != (ssize_t)sizeof rep)
        _exit(3);
    _exit(0);
}

static void run_child(int mode, const char *expect_method)
{
    struct {
        int32_t pid, ok;
        char method[8];
    } rep;
    int fds[2], st = 0;
    pid_t c, z, parent_zygote = vx__espeak_zygote_pid();
    double t0;
    assert_int_equal(pipe(fds), 0);
    c = fork();
    assert_true(c >= 0);
    if (c == 0) {
        close(fds[0]);
        child_main(mode, fds[1]);
    }
    close(fds[1]);
    assert_int_equal(read(fds[0], &rep, sizeof rep), (ssize_t)sizeof rep);
    close(fds[0]);
    assert_int_equal(waitpid(c, &st, 0), c);
    assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    z = rep.pid;
    t0 = now_ms();
    assert_true(rep.ok);
    assert_true(z > 0);
    assert_true(z != parent_zygote); /* the child never shares ours */
    rep.method[sizeof rep.method - 1] = '\0';
    assert_string_equal(rep.method, expect_method);
    /* as subreaper we adopt the orphan: it must exit (and is reaped here) */
    for (;;) {
        pid_t r = waitpid(z, NULL, WNOHANG);
        if (r == z || proc_gone(z))
            break;
        assert_true(now_ms() - t0 < 1000.0);
        sleep_ms(2);
    }
    printf("mode %d (%s): the child's zygote %ld exited %.1f ms after the child\n", mode,
           rep.method, (long)z, now_ms() - t0);
    /* ours is unaffected */
    if (parent_zygote > 0)
        assert_int_equal(vx__espeak_zygote_pid(), parent_zygote);
}

static void test_no_orphan_after_parent_exit(void **state)
{
    vx__pcm x;
    vx_error e;
    (void)state;
    make_refs();
    assert_int_equal(prctl(PR_SET_CHILD_SUBREAPER, 1L, 0L, 0L, 0L), 0);
    run_child(CHILD_LAZY, "exec");
    run_child(CHILD_LAZY_THREADED, "exec");
    run_child(CHILD_GLOBAL_INIT, "fork");
    run_child(CHILD_GLOBAL_INIT_UNUSED, "fork");
    assert_int_equal(prctl(PR_SET_CHILD_SUBREAPER, 0L, 0L, 0L, 0L), 0);
    /* and ours still works */
    assert_int_equal(synth_job(&k_jobs[0], &x, &e), VX_OK);
    assert_true(same_pcm(&x, &g_ref[0]));
    free(x.x);
}

static int teardown(void **state)
{
    int i;
    (void)state;
    for (i = 0; i < N_JOBS; i++)
        free(g_ref[i].x);
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_zygote_single_threaded),
        cmocka_unit_test(test_8_threads_equal_sequential),
        cmocka_unit_test(test_order_does_not_matter),
        cmocka_unit_test(test_no_fd_leak),
        cmocka_unit_test(test_worker_crash_fails_only_that),
        cmocka_unit_test(test_hung_worker_times_out),
        cmocka_unit_test(test_killed_zygote_restarts),
        cmocka_unit_test(test_kill_under_load),
        cmocka_unit_test(test_no_orphan_after_parent_exit),
    };
    return cmocka_run_group_tests(tests, NULL, teardown);
}
