/*
 * test_broker.c -- broker + workers over tcp loopback and inproc: load
 * spread, re-queue after a worker is stopped or SIGKILLed, duplicate and
 * late results, queue full, no worker, late worker, malformed frames from a
 * raw peer, gateway restart.
 *
 * DESIGN: real sockets, real threads, no mocks.  A "raw" DEALER speaking
 * the protocol by hand plays the misbehaving worker (duplicates, silence,
 * garbage).  The SIGKILL case re-executes this binary (/proc/self/exe
 * --child-worker ENDPOINT) so the killed worker is a separate process with
 * its own sockets.  Timing: every wait is a poll with a generous upper
 * bound (robust on a loaded 2-core machine); the only timing assertions
 * are upper limits ("re-queued and done < 5 s after the kill").
 */
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>
#include <zmq.h>

#include "ipc/broker.h"
#include "ipc/worker.h"

#define WAIT_S 20.0 /* upper bound of any wait that is not itself under test */

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* ------------------------------------------------------------------ */
/* the test handler                                                    */
/* ------------------------------------------------------------------ */
typedef struct wctx {
    const char *name;       /* reported in results */
    int hang_forever;       /* "hang" waits until cancelled (else it is quick) */
    atomic_int started;
} wctx;

/* kinds: echo (args.sleep_ms, echoes payloads), fail (ETOOSHORT), hang */
static int handler(void *user, const vx_worker_task *t, vx_worker_reply *reply, vx_error *err)
{
    wctx *c = user;
    atomic_fetch_add(&c->started, 1);
    json_t *args = json_loads(t->args_json, 0, NULL);
    int sleep = args ? (int)json_integer_value(json_object_get(args, "sleep_ms")) : 0;
    json_decref(args);
    if (strcmp(t->kind, "fail") == 0) {
        snprintf(err->message, sizeof err->message, "too short for the test (attempt %d)", t->attempt);
        return VX_ETOOSHORT;
    }
    if (strcmp(t->kind, "hang") == 0 && c->hang_forever) {
        vx_worker_progress(t, 0.1, "hanging");
        while (!vx_worker_progress(t, 0.1, "hanging"))
            sleep_ms(20);
        return VX_EUNAVAIL;
    }
    vx_worker_progress(t, 0.0, "started");
    for (int slept = 0; slept < sleep; slept += 20) {
        if (vx_worker_progress(t, (double)slept / sleep, "working"))
            return VX_EUNAVAIL;
        sleep_ms(20);
    }
    json_t *r = json_pack("{s:s, s:i, s:s}", "worker", c->name, "attempt", t->attempt, "kind", t->kind);
    reply->result_json = json_dumps(r, JSON_COMPACT);
    json_decref(r);
    for (size_t i = 0; i < t->n_frames; i++) {
        reply->frame_data[i] = malloc(t->frames[i].len + 1);
        memcpy(reply->frame_data[i], t->frames[i].data, t->frames[i].len);
        reply->frame_len[i] = t->frames[i].len;
        reply->n_frames = i + 1;
    }
    return VX_OK;
}

/* ------------------------------------------------------------------ */
/* async collector                                                     */
/* ------------------------------------------------------------------ */
#define MAXT 64
typedef struct coll {
    pthread_mutex_t m;
    pthread_cond_t cv;
    int results, errors, progress;
    int terminal[MAXT];           /* terminal events per slot (must end at 1) */
    char worker[MAXT][64];        /* "worker" field of each result */
    int attempt[MAXT];
    int status[MAXT];
    char message[MAXT][256];
    double done_s[MAXT];
    char progress_worker[64];
} coll;

typedef struct slotref {
    coll *c;
    int i;
} slotref;

static slotref refs[MAXT];

static void coll_init(coll *c)
{
    memset(c, 0, sizeof *c);
    pthread_mutex_init(&c->m, NULL);
    pthread_cond_init(&c->cv, NULL);
    for (int i = 0; i < MAXT; i++) {
        refs[i].c = c;
        refs[i].i = i;
    }
}

static void coll_destroy(coll *c)
{
    pthread_cond_destroy(&c->cv);
    pthread_mutex_destroy(&c->m);
}

static void on_event(const vx_task_event *ev, void *user)
{
    slotref *r = user;
    coll *c = r->c;
    pthread_mutex_lock(&c->m);
    if (ev->type == VX_TASK_PROGRESS) {
        c->progress++;
        snprintf(c->progress_worker, sizeof c->progress_worker, "%s", ev->worker_id);
    } else {
        c->terminal[r->i]++;
        c->attempt[r->i] = ev->attempt;
        c->done_s[r->i] = now_s();
        if (ev->type == VX_TASK_RESULT) {
            c->results++;
            json_t *j = json_loads(ev->result_json, 0, NULL);
            const char *w = json_string_value(json_object_get(j, "worker"));
            snprintf(c->worker[r->i], sizeof c->worker[r->i], "%s", w ? w : "?");
            json_decref(j);
        } else {
            c->errors++;
            c->status[r->i] = ev->status;
            snprintf(c->message[r->i], sizeof c->message[r->i], "%s", ev->message);
        }
    }
    pthread_cond_broadcast(&c->cv);
    pthread_mutex_unlock(&c->m);
}

/* Waits until results + errors >= n; fails after WAIT_S. */
static void coll_wait(coll *c, int n)
{
    double end = now_s() + WAIT_S;
    pthread_mutex_lock(&c->m);
    while (c->results + c->errors < n && now_s() < end) {
        pthread_mutex_unlock(&c->m);
        sleep_ms(10);
        pthread_mutex_lock(&c->m);
    }
    int got = c->results + c->errors;
    pthread_mutex_unlock(&c->m);
    if (got < n)
        fail_msg("only %d of %d tasks finished within %.0f s", got, n, WAIT_S);
}

static void wait_progress(coll *c, int n)
{
    double end = now_s() + WAIT_S;
    for (;;) {
        pthread_mutex_lock(&c->m);
        int p = c->progress;
        pthread_mutex_unlock(&c->m);
        if (p >= n)
            return;
        if (now_s() > end)
            fail_msg("no progress event within %.0f s", WAIT_S);
        sleep_ms(10);
    }
}

static void wait_workers(vx_broker *b, size_t n)
{
    double end = now_s() + WAIT_S;
    while (vx_broker_workers(b) != n) {
        if (now_s() > end)
            fail_msg("%zu workers registered, expected %zu", vx_broker_workers(b), n);
        sleep_ms(10);
    }
}

static void submit_ok(vx_broker *b, const char *kind, const char *args, const vx_frame *fr, size_t nf,
                      int timeout_ms, int slot)
{
    vx_error err;
    char id[VX_TASK_ID_LEN + 1];
    int rc = vx_broker_submit(b, kind, args, fr, nf, timeout_ms, on_event, &refs[slot], id, &err);
    if (rc != VX_OK)
        fail_msg("submit %s: %s", kind, err.message);
    assert_true(vx_proto_is_uuid(id));
}

static vx_broker *broker_new(const char *ep, void *ctx, size_t max_queue)
{
    vx_broker_opts o;
    vx_broker_opts_init(&o);
    o.zmq_context = ctx;
    if (max_queue)
        o.max_queue = max_queue;
    vx_broker *b = NULL;
    vx_error err;
    if (vx_broker_new(ep, &o, &b, &err) != VX_OK)
        fail_msg("vx_broker_new(%s): %s", ep, err.message);
    return b;
}

static vx_worker *worker_start(const char *ep, void *ctx, int threads, wctx *c)
{
    vx_worker_opts o;
    vx_worker_opts_init(&o);
    o.threads = threads;
    o.zmq_context = ctx;
    vx_worker *w = NULL;
    vx_error err;
    if (vx_worker_new_opts(ep, &o, handler, c, &w, &err) != VX_OK)
        fail_msg("vx_worker_new(%s): %s", ep, err.message);
    if (vx_worker_start(w, &err) != VX_OK)
        fail_msg("vx_worker_start: %s", err.message);
    return w;
}

static void get_stats(vx_broker *b, vx_broker_stats *st)
{
    vx_error err;
    if (vx_broker_stats_get(b, st, &err) != VX_OK)
        fail_msg("stats: %s", err.message);
}

/* ------------------------------------------------------------------ */
/* a raw DEALER speaking the protocol by hand                          */
/* ------------------------------------------------------------------ */
typedef struct raw {
    void *ctx;
    void *s;
    double last_hb;
} raw;

static void raw_open(raw *r, const char *ep, const char *id)
{
    r->ctx = zmq_ctx_new();
    r->s = zmq_socket(r->ctx, ZMQ_DEALER);
    int linger = 0;
    zmq_setsockopt(r->s, ZMQ_LINGER, &linger, sizeof linger);
    zmq_setsockopt(r->s, ZMQ_ROUTING_ID, id, strlen(id));
    assert_int_equal(zmq_connect(r->s, ep), 0);
    r->last_hb = 0;
}

static void raw_close(raw *r)
{
    zmq_close(r->s);
    zmq_ctx_term(r->ctx);
}

static void raw_frames(raw *r, const vx_frame *fr, size_t n)
{
    for (size_t i = 0; i < n; i++)
        assert_true(zmq_send(r->s, fr[i].data, fr[i].len, i + 1 < n ? ZMQ_SNDMORE : 0) >= 0);
}

static void raw_send(raw *r, const vx_msg *m)
{
    uint8_t tf[VX_PROTO_TYPE_FRAME_LEN];
    char *hdr = NULL;
    size_t hl = 0;
    vx_error err;
    if (vx_proto_encode(m, tf, &hdr, &hl, &err) != VX_OK)
        fail_msg("raw encode: %s", err.message);
    vx_frame fr[VX_PROTO_MAX_FRAMES] = {{tf, sizeof tf}, {hdr, hl}};
    for (size_t i = 0; i < m->n_payload; i++)
        fr[2 + i] = m->payload[i];
    raw_frames(r, fr, 2 + m->n_payload);
    free(hdr);
}

/* Receives until a message of type want (others skipped), heartbeating
 * every 300 ms when beat is set.  Payloads are not kept. */
static void raw_expect(raw *r, int want, int beat, vx_msg *out)
{
    double end = now_s() + WAIT_S;
    while (now_s() < end) {
        if (beat && now_s() - r->last_hb > 0.3) {
            vx_msg hb;
            vx_msg_init(&hb, VX_MSG_HEARTBEAT);
            raw_send(r, &hb);
            r->last_hb = now_s();
        }
        zmq_pollitem_t it = {r->s, 0, ZMQ_POLLIN, 0};
        if (zmq_poll(&it, 1, 50) <= 0)
            continue;
        zmq_msg_t parts[16];
        size_t n = 0;
        int more = 1;
        while (more && n < 16) {
            zmq_msg_init(&parts[n]);
            assert_true(zmq_msg_recv(&parts[n], r->s, 0) >= 0);
            more = zmq_msg_more(&parts[n]);
            n++;
        }
        vx_frame fr[16];
        for (size_t i = 0; i < n; i++) {
            fr[i].data = zmq_msg_data(&parts[i]);
            fr[i].len = zmq_msg_size(&parts[i]);
        }
        vx_msg m;
        vx_error err;
        int rc = vx_proto_decode(fr, n, &m, &err);
        for (size_t i = 0; i < n; i++)
            zmq_msg_close(&parts[i]);
        if (rc != VX_OK)
            fail_msg("raw peer got a malformed message: %s", err.message);
        m.n_payload = 0;
        if (m.type == want) {
            *out = m;
            return;
        }
        vx_msg_clear(&m);
    }
    fail_msg("raw peer: no %s within %.0f s", vx_proto_type_name(want), WAIT_S);
}

static void raw_hello(raw *r, const char *id, int capacity, const char *instance)
{
    vx_msg m;
    vx_msg_init(&m, VX_MSG_HELLO);
    snprintf(m.worker_id, sizeof m.worker_id, "%s", id);
    if (instance)
        snprintf(m.instance, sizeof m.instance, "%s", instance);
    m.capacity = capacity;
    m.protocol = 1;
    raw_send(r, &m);
    vx_msg ready;
    raw_expect(r, VX_MSG_READY, 1, &ready);
    assert_true(ready.heartbeat_ms > 0);
    vx_msg_clear(&ready);
}

static void raw_result(raw *r, const char *task_id, int attempt, const char *worker)
{
    vx_msg m;
    vx_msg_init(&m, VX_MSG_RESULT);
    snprintf(m.task_id, sizeof m.task_id, "%s", task_id);
    m.attempt = attempt;
    char body[128];
    snprintf(body, sizeof body, "{\"worker\":\"%s\"}", worker);
    m.body_json = body;
    raw_send(r, &m);
}

/* ------------------------------------------------------------------ */
/* spread + results + errors, over a transport                         */
/* ------------------------------------------------------------------ */
typedef struct caller_arg {
    vx_broker *b;
    int ok;
} caller_arg;

static void *caller_main(void *arg)
{
    caller_arg *a = arg;
    for (int i = 0; i < 5; i++) {
        char payload[64];
        int len = snprintf(payload, sizeof payload, "payload %d from %p", i, (void *)a);
        vx_frame fr = {payload, (size_t)len};
        vx_task_result res;
        vx_error err;
        if (vx_broker_call(a->b, "echo", NULL, &fr, 1, 30000, NULL, NULL, &res, &err) == VX_OK &&
            res.n_frames == 1 && res.frame_len[0] == (size_t)len &&
            memcmp(res.frame_data[0], payload, (size_t)len) == 0)
            a->ok++;
        vx_task_result_clear(&res);
    }
    return NULL;
}

static void progress_count(double p, const char *stage, void *user)
{
    (void)stage;
    if (p >= 0.0 && p <= 1.0)
        (*(int *)user)++;
}

static void run_spread(const char *ep, void *ctx)
{
    vx_broker *b = broker_new(ep, ctx, 0);
    const char *bound = vx_broker_endpoint(b);
    assert_true(strncmp(bound, ep, 6) == 0);
    assert_null(strchr(bound, '*'));
    wctx ca = {"A", 0, 0}, cb = {"B", 0, 0};
    vx_worker *wa = worker_start(bound, ctx, 2, &ca);
    vx_worker *wb = worker_start(bound, ctx, 2, &cb);
    wait_workers(b, 2);

    /* 4 slow tasks while both are idle: both workers get some */
    coll c;
    coll_init(&c);
    static const char audio[] = "RIFF fake audio";
    vx_frame fr = {audio, sizeof audio};
    for (int i = 0; i < 4; i++)
        submit_ok(b, "echo", "{\"sleep_ms\":400}", &fr, 1, 30000, i);
    coll_wait(&c, 4);
    int na = 0, nb = 0;
    for (int i = 0; i < 4; i++) {
        assert_int_equal(c.terminal[i], 1);
        assert_int_equal(c.attempt[i], 1);
        na += strcmp(c.worker[i], "A") == 0;
        nb += strcmp(c.worker[i], "B") == 0;
    }
    if (na == 0 || nb == 0)
        fail_msg("tasks not spread: A ran %d, B ran %d", na, nb);
    assert_true(c.progress >= 4);

    /* blocking call with progress, payload round trip */
    int prog = 0;
    vx_task_result res;
    vx_error err;
    int rc = vx_broker_call(b, "echo", "{\"sleep_ms\":100}", &fr, 1, 30000, progress_count, &prog, &res,
                            &err);
    if (rc != VX_OK)
        fail_msg("call: %s", err.message);
    assert_int_equal(res.n_frames, 1);
    assert_int_equal(res.frame_len[0], sizeof audio);
    assert_memory_equal(res.frame_data[0], audio, sizeof audio);
    assert_non_null(strstr(res.result_json, "\"kind\":\"echo\""));
    assert_int_equal(res.attempt, 1);
    assert_true(prog >= 1);
    vx_task_result_clear(&res);

    /* the worker's own error reaches the caller, not re-queued */
    rc = vx_broker_call(b, "fail", NULL, NULL, 0, 30000, NULL, NULL, &res, &err);
    assert_int_equal(rc, VX_ETOOSHORT);
    assert_non_null(strstr(err.message, "too short for the test (attempt 1)"));

    /* many submitting threads at once */
    pthread_t th[4];
    caller_arg args[4];
    for (int i = 0; i < 4; i++) {
        args[i].b = b;
        args[i].ok = 0;
        assert_int_equal(pthread_create(&th[i], NULL, caller_main, &args[i]), 0);
    }
    for (int i = 0; i < 4; i++) {
        pthread_join(th[i], NULL);
        assert_int_equal(args[i].ok, 5);
    }

    vx_broker_stats st;
    get_stats(b, &st);
    assert_int_equal(st.workers, 2);
    assert_int_equal(st.capacity, 4);
    assert_int_equal(st.completed, 4 + 1 + 20);
    assert_int_equal(st.failed, 1);
    assert_int_equal(st.requeued, 0);
    assert_int_equal(st.duplicates, 0);
    assert_int_equal(st.dropped_frames, 0);
    assert_int_equal(st.queue_depth, 0);
    assert_int_equal(st.latency_count, 26);
    assert_true(st.latency_buckets[VX_BROKER_LATENCY_BUCKETS - 1] <= st.latency_count);
    assert_int_equal(st.n_workers, 2);
    uint64_t disp = 0;
    for (size_t i = 0; i < st.n_workers; i++) {
        assert_true(st.per_worker[i].dispatched > 0);
        assert_int_equal(st.per_worker[i].capacity, 2);
        disp += st.per_worker[i].dispatched;
    }
    assert_int_equal(disp, 26);
    vx_broker_stats_free(&st);

    vx_worker_free(wa);
    vx_worker_free(wb);
    vx_broker_free(b);
    coll_destroy(&c);
}

static void test_spread_tcp(void **state)
{
    (void)state;
    run_spread("tcp://127.0.0.1:*", NULL);
}

static void test_spread_inproc(void **state)
{
    (void)state;
    void *ctx = zmq_ctx_new();
    run_spread("inproc://voxclone-test", ctx);
    zmq_ctx_term(ctx);
}

/* ------------------------------------------------------------------ */
/* a worker stopped mid-task (BYE), inproc                             */
/* ------------------------------------------------------------------ */
static void test_worker_stopped_midtask(void **state)
{
    (void)state;
    void *ctx = zmq_ctx_new();
    vx_broker *b = broker_new("inproc://stop-test", ctx, 0);
    wctx ca = {"A", 1, 0}, cb = {"B", 0, 0};
    vx_worker *wa = worker_start("inproc://stop-test", ctx, 1, &ca);
    wait_workers(b, 1);
    coll c;
    coll_init(&c);
    submit_ok(b, "hang", NULL, NULL, 0, 60000, 0);
    wait_progress(&c, 1); /* A is running it */
    vx_worker *wb = worker_start("inproc://stop-test", ctx, 1, &cb);
    wait_workers(b, 2);
    double t0 = now_s();
    vx_worker_free(wa); /* BYE: re-queued at once, A's late result is discarded */
    coll_wait(&c, 1);
    double took = c.done_s[0] - t0;
    assert_int_equal(c.results, 1);
    assert_string_equal(c.worker[0], "B");
    assert_int_equal(c.attempt[0], 2);
    if (took >= 5.0)
        fail_msg("re-queue after stop took %.2f s", took);
    vx_broker_stats st;
    get_stats(b, &st);
    assert_int_equal(st.requeued, 1);
    assert_int_equal(st.workers_lost, 1);
    assert_int_equal(st.workers, 1);
    vx_broker_stats_free(&st);
    vx_worker_free(wb);
    vx_broker_free(b);
    zmq_ctx_term(ctx);
    coll_destroy(&c);
}

/* ------------------------------------------------------------------ */
/* a worker process SIGKILLed mid-task, tcp                            */
/* ------------------------------------------------------------------ */
static int child_worker(const char *ep)
{
    wctx c = {"child", 1, 0};
    vx_worker *w = NULL;
    if (vx_worker_new(ep, 1, handler, &c, &w, NULL) != VX_OK)
        return 2;
    vx_worker_run_until_stopped(w, NULL); /* until SIGKILL */
    vx_worker_free(w);
    return 0;
}

static void test_worker_killed_midtask(void **state)
{
    (void)state;
    vx_broker *b = broker_new("tcp://127.0.0.1:*", NULL, 0);
    char ep[300];
    snprintf(ep, sizeof ep, "%s", vx_broker_endpoint(b));
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        execl("/proc/self/exe", "test_broker", "--child-worker", ep, (char *)NULL);
        _exit(127);
    }
    wait_workers(b, 1);
    coll c;
    coll_init(&c);
    submit_ok(b, "hang", NULL, NULL, 0, 60000, 0);
    wait_progress(&c, 1); /* the child is running it */
    wctx cb = {"B", 0, 0};
    vx_worker *wb = worker_start(ep, NULL, 1, &cb);
    wait_workers(b, 2);
    double t0 = now_s();
    assert_int_equal(kill(pid, SIGKILL), 0);
    int status = 0;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFSIGNALED(status));
    coll_wait(&c, 1);
    double took = c.done_s[0] - t0;
    assert_int_equal(c.results, 1);
    assert_int_equal(c.terminal[0], 1);
    assert_string_equal(c.worker[0], "B");
    assert_int_equal(c.attempt[0], 2);
    if (took >= 5.0)
        fail_msg("re-queue after SIGKILL took %.2f s (limit 5 s)", took);
    vx_broker_stats st;
    get_stats(b, &st);
    assert_int_equal(st.requeued, 1);
    assert_int_equal(st.workers_lost, 1);
    assert_int_equal(st.workers, 1);
    vx_broker_stats_free(&st);
    vx_worker_free(wb);
    vx_broker_free(b);
    coll_destroy(&c);
}

/* ------------------------------------------------------------------ */
/* duplicate and late results (raw worker)                             */
/* ------------------------------------------------------------------ */
static void test_duplicate_and_late_results(void **state)
{
    (void)state;
    vx_broker *b = broker_new("tcp://127.0.0.1:*", NULL, 0);
    const char *ep = vx_broker_endpoint(b);
    raw r;
    raw_open(&r, ep, "raw-1");
    raw_hello(&r, "raw-1", 1, NULL);
    wait_workers(b, 1);
    coll c;
    coll_init(&c);

    /* 1: the same result twice, then a wrong attempt */
    submit_ok(b, "echo", NULL, NULL, 0, 60000, 0);
    vx_msg task;
    raw_expect(&r, VX_MSG_TASK, 1, &task);
    assert_int_equal(task.attempt, 1);
    assert_string_equal(task.kind, "echo");
    assert_true(task.deadline_ms > 0);
    raw_result(&r, task.task_id, 1, "raw");
    raw_result(&r, task.task_id, 1, "raw-again");
    raw_result(&r, task.task_id, 7, "raw-wrong-attempt");
    coll_wait(&c, 1);
    assert_string_equal(c.worker[0], "raw");
    vx_broker_stats st;
    double end = now_s() + WAIT_S;
    do {
        sleep_ms(20);
        get_stats(b, &st);
        vx_broker_stats_free(&st);
    } while (st.duplicates < 2 && now_s() < end);
    assert_int_equal(st.duplicates, 2);
    vx_msg_clear(&task);

    /* 2: the raw worker takes a task and goes silent: lost, re-queued to B;
     * its late result is then ignored */
    submit_ok(b, "echo", NULL, NULL, 0, 60000, 1);
    raw_expect(&r, VX_MSG_TASK, 1, &task);
    wctx cb = {"B", 0, 0};
    vx_worker *wb = worker_start(ep, NULL, 1, &cb);
    wait_workers(b, 2);
    double t0 = now_s(); /* silent from here: lost after ~3 s */
    coll_wait(&c, 2);
    assert_string_equal(c.worker[1], "B");
    assert_int_equal(c.attempt[1], 2);
    if (c.done_s[1] - t0 >= 5.0 + 1.0)
        fail_msg("silent worker: re-queue took %.2f s", c.done_s[1] - t0);
    raw_result(&r, task.task_id, 1, "raw-late");
    vx_msg bye; /* the broker no longer knows us */
    raw_expect(&r, VX_MSG_BYE, 0, &bye);
    assert_non_null(strstr(bye.message, "unknown worker"));
    vx_msg_clear(&bye);
    vx_msg_clear(&task);
    get_stats(b, &st);
    assert_int_equal(st.duplicates, 3);
    assert_int_equal(st.requeued, 1);
    assert_int_equal(st.workers_lost, 1);
    assert_int_equal(st.completed, 2);
    vx_broker_stats_free(&st);
    sleep_ms(100);
    assert_int_equal(c.terminal[0], 1);
    assert_int_equal(c.terminal[1], 1);
    assert_int_equal(c.results, 2);

    raw_close(&r);
    vx_worker_free(wb);
    vx_broker_free(b);
    coll_destroy(&c);
}

/* A worker restarted under the same fixed id (new instance): what the old
 * process held is re-queued at once, not left to time out. */
static void test_worker_restarted_same_id(void **state)
{
    (void)state;
    vx_broker *b = broker_new("tcp://127.0.0.1:*", NULL, 0);
    const char *ep = vx_broker_endpoint(b);
    raw r1, r2;
    raw_open(&r1, ep, "fixed-1");
    raw_hello(&r1, "fixed-1", 1, "i-first");
    wait_workers(b, 1);
    coll c;
    coll_init(&c);
    submit_ok(b, "echo", NULL, NULL, 0, 60000, 0);
    vx_msg task;
    raw_expect(&r1, VX_MSG_TASK, 1, &task);
    assert_int_equal(task.attempt, 1);
    vx_msg_clear(&task);
    raw_close(&r1); /* "crash" */
    double t0 = now_s();
    raw_open(&r2, ep, "fixed-1");
    raw_hello(&r2, "fixed-1", 1, "i-second");
    raw_expect(&r2, VX_MSG_TASK, 1, &task);
    assert_int_equal(task.attempt, 2);
    assert_true(now_s() - t0 < 5.0);
    raw_result(&r2, task.task_id, 2, "second");
    coll_wait(&c, 1);
    assert_string_equal(c.worker[0], "second");
    vx_msg_clear(&task);
    vx_broker_stats st;
    get_stats(b, &st);
    assert_int_equal(st.requeued, 1);
    assert_int_equal(st.workers, 1);
    vx_broker_stats_free(&st);
    raw_close(&r2);
    vx_broker_free(b);
    coll_destroy(&c);
}

/* ------------------------------------------------------------------ */
/* backpressure, no worker, late worker                                */
/* ------------------------------------------------------------------ */
static void test_queue_full(void **state)
{
    (void)state;
    vx_broker *b = broker_new("tcp://127.0.0.1:*", NULL, 2);
    coll c;
    coll_init(&c);
    submit_ok(b, "echo", NULL, NULL, 0, 60000, 0);
    submit_ok(b, "echo", NULL, NULL, 0, 60000, 1);
    vx_error err;
    char id[VX_TASK_ID_LEN + 1] = "x";
    int rc = vx_broker_submit(b, "echo", NULL, NULL, 0, 60000, on_event, &refs[2], id, &err);
    assert_int_equal(rc, VX_EBUSY);
    assert_int_equal(err.code, VX_EBUSY);
    assert_non_null(strstr(err.message, "queue full"));
    assert_string_equal(id, "");
    /* bad submissions */
    assert_int_equal(vx_broker_submit(b, "Bad", NULL, NULL, 0, 0, NULL, NULL, NULL, &err), VX_EINVAL);
    assert_int_equal(vx_broker_submit(b, "echo", "[1]", NULL, 0, 0, NULL, NULL, NULL, &err), VX_EINVAL);
    assert_int_equal(vx_broker_submit(b, "echo", NULL, NULL, 0, -1, NULL, NULL, NULL, &err), VX_EINVAL);
    vx_frame many[9];
    for (int i = 0; i < 9; i++) {
        many[i].data = "x";
        many[i].len = 1;
    }
    assert_int_equal(vx_broker_submit(b, "echo", NULL, many, 9, 0, NULL, NULL, NULL, &err), VX_ELIMIT);
    vx_broker_stats st;
    get_stats(b, &st);
    assert_int_equal(st.queue_depth, 2);
    assert_int_equal(st.queue_max, 2);
    assert_int_equal(st.rejected_busy, 1);
    assert_int_equal(st.submitted, 2);
    assert_int_equal(st.workers, 0);
    vx_broker_stats_free(&st);
    vx_broker_free(b); /* the two accepted tasks are failed, never dropped silently */
    assert_int_equal(c.errors, 2);
    assert_int_equal(c.terminal[0], 1);
    assert_int_equal(c.terminal[1], 1);
    assert_int_equal(c.status[0], VX_EUNAVAIL);
    assert_non_null(strstr(c.message[0], "shutting down"));
    assert_int_equal(c.terminal[2], 0);
    coll_destroy(&c);
}

static void test_no_worker(void **state)
{
    (void)state;
    vx_broker *b = broker_new("tcp://127.0.0.1:*", NULL, 0);
    assert_int_equal(vx_broker_workers(b), 0);
    vx_task_result res;
    vx_error err;
    double t0 = now_s();
    int rc = vx_broker_call(b, "echo", NULL, NULL, 0, 300, NULL, NULL, &res, &err);
    assert_int_equal(rc, VX_EUNAVAIL);
    assert_non_null(strstr(err.message, "no worker connected"));
    assert_true(now_s() - t0 < 5.0);
    vx_broker_stats st;
    get_stats(b, &st);
    assert_int_equal(st.timed_out, 1);
    assert_int_equal(st.queue_depth, 0);
    vx_broker_stats_free(&st);
    vx_broker_free(b);

    /* fail fast instead of queueing */
    vx_broker_opts o;
    vx_broker_opts_init(&o);
    o.reject_without_workers = 1;
    assert_int_equal(vx_broker_new("tcp://127.0.0.1:*", &o, &b, &err), VX_OK);
    rc = vx_broker_submit(b, "echo", NULL, NULL, 0, 0, NULL, NULL, NULL, &err);
    assert_int_equal(rc, VX_EUNAVAIL);
    assert_non_null(strstr(err.message, "no worker"));
    vx_broker_free(b);

    /* bad construction */
    assert_int_equal(vx_broker_new("http://x", NULL, &b, &err), VX_EINVAL);
    assert_null(b);
    assert_int_equal(vx_broker_new("inproc://x", NULL, &b, &err), VX_EINVAL); /* no shared context */
    assert_int_equal(vx_broker_new("tcp://256.0.0.1:1", NULL, &b, &err), VX_EIO);
    vx_worker *w = NULL;
    assert_int_equal(vx_worker_new("tcp://127.0.0.1:1", 0, handler, NULL, &w, &err), VX_EINVAL);
    assert_int_equal(vx_worker_new("inproc://x", 1, handler, NULL, &w, &err), VX_EINVAL);
    assert_null(w);
}

static void test_late_worker(void **state)
{
    (void)state;
    vx_broker *b = broker_new("tcp://127.0.0.1:*", NULL, 0);
    coll c;
    coll_init(&c);
    for (int i = 0; i < 3; i++)
        submit_ok(b, "echo", NULL, NULL, 0, 60000, i);
    sleep_ms(300);
    assert_int_equal(c.results + c.errors, 0);
    wctx ca = {"late", 0, 0};
    vx_worker *w = worker_start(vx_broker_endpoint(b), NULL, 2, &ca);
    coll_wait(&c, 3);
    assert_int_equal(c.results, 3);
    for (int i = 0; i < 3; i++)
        assert_string_equal(c.worker[i], "late");
    vx_broker_stats st;
    get_stats(b, &st);
    assert_true(st.latency_max_s >= 0.2); /* they waited in the queue */
    vx_broker_stats_free(&st);
    vx_worker_free(w);
    vx_broker_free(b);
    coll_destroy(&c);
}

/* ------------------------------------------------------------------ */
/* malformed frames                                                    */
/* ------------------------------------------------------------------ */
static void test_malformed_frames(void **state)
{
    (void)state;
    vx_broker *b = broker_new("tcp://127.0.0.1:*", NULL, 0);
    const char *ep = vx_broker_endpoint(b);
    raw r;
    raw_open(&r, ep, "evil");
    uint8_t hb[4] = {'V', 'X', 1, VX_MSG_HEARTBEAT};
    uint8_t v2[4] = {'V', 'X', 2, VX_MSG_HEARTBEAT};
    uint8_t task[4] = {'V', 'X', 1, VX_MSG_TASK};
    uint8_t hello[4] = {'V', 'X', 1, VX_MSG_HELLO};
    char *big = malloc(VX_PROTO_MAX_HEADER + 10);
    memset(big, ' ', VX_PROTO_MAX_HEADER + 10);
    big[0] = '{';
    big[VX_PROTO_MAX_HEADER + 9] = '}';
    const char *hello_hdr = "{\"worker_id\":\"evil\",\"capacity\":1,\"protocol\":1}";
    const char *task_hdr = "{\"task_id\":\"0f8fad5b-d9cb-469f-a165-70867728950e\",\"attempt\":1,\"kind\":\"a\"}";
    int sent = 0;
    {
        vx_frame f[1] = {{"garbage", 7}};
        raw_frames(&r, f, 1);
        sent++;
    }
    {
        vx_frame f[2] = {{"XX\x01\x07", 4}, {"{}", 2}};
        raw_frames(&r, f, 2);
        sent++;
    }
    {
        vx_frame f[2] = {{v2, 4}, {"{}", 2}};
        raw_frames(&r, f, 2);
        sent++;
    }
    {
        vx_frame f[2] = {{hb, 4}, {"{\"in_flight\":", 13}};
        raw_frames(&r, f, 2);
        sent++;
    }
    {
        vx_frame f[2] = {{hb, 4}, {big, VX_PROTO_MAX_HEADER + 10}};
        raw_frames(&r, f, 2);
        sent++;
    }
    {
        vx_frame f[14];
        f[0].data = hb;
        f[0].len = 4;
        for (int i = 1; i < 14; i++) {
            f[i].data = "{}";
            f[i].len = 2;
        }
        raw_frames(&r, f, 14);
        sent++;
    }
    {
        vx_frame f[2] = {{task, 4}, {task_hdr, strlen(task_hdr)}}; /* wrong direction */
        raw_frames(&r, f, 2);
        sent++;
    }
    {
        vx_frame f[3] = {{hello, 4}, {hello_hdr, strlen(hello_hdr)}, {"x", 1}}; /* payload on HELLO */
        raw_frames(&r, f, 3);
        sent++;
    }
    {
        vx_frame f[2] = {{hello, 4}, {"{\"worker_id\":\"evil\",\"capacity\":0,\"protocol\":1}", 46}};
        raw_frames(&r, f, 2);
        sent++;
    }
    free(big);
    vx_broker_stats st;
    double end = now_s() + WAIT_S;
    do {
        sleep_ms(20);
        get_stats(b, &st);
        vx_broker_stats_free(&st);
    } while (st.dropped_frames < (uint64_t)sent && now_s() < end);
    assert_int_equal(st.dropped_frames, sent);
    assert_int_equal(st.workers, 0); /* none of it registered anything */

    /* the broker keeps working */
    wctx ca = {"A", 0, 0};
    vx_worker *w = worker_start(ep, NULL, 1, &ca);
    vx_task_result res;
    vx_error err;
    int rc = vx_broker_call(b, "echo", "{\"x\":1}", NULL, 0, 30000, NULL, NULL, &res, &err);
    if (rc != VX_OK)
        fail_msg("call after garbage: %s", err.message);
    vx_task_result_clear(&res);
    raw_close(&r);
    vx_worker_free(w);
    vx_broker_free(b);
}

/* ------------------------------------------------------------------ */
/* gateway restart: the worker re-registers with the new broker        */
/* ------------------------------------------------------------------ */
static void test_gateway_restart(void **state)
{
    (void)state;
    vx_broker *b = broker_new("tcp://127.0.0.1:*", NULL, 0);
    char ep[300];
    snprintf(ep, sizeof ep, "%s", vx_broker_endpoint(b));
    wctx ca = {"A", 0, 0};
    vx_worker *w = worker_start(ep, NULL, 1, &ca);
    vx_task_result res;
    vx_error err;
    assert_int_equal(vx_broker_call(b, "echo", NULL, NULL, 0, 30000, NULL, NULL, &res, &err), VX_OK);
    vx_task_result_clear(&res);
    vx_broker_free(b);
    sleep_ms(200);
    b = broker_new(ep, NULL, 0); /* same port */
    wait_workers(b, 1);
    int rc = vx_broker_call(b, "echo", NULL, NULL, 0, 30000, NULL, NULL, &res, &err);
    if (rc != VX_OK)
        fail_msg("call after restart: %s", err.message);
    vx_task_result_clear(&res);
    vx_worker_stats ws;
    vx_worker_stats_get(w, &ws);
    assert_true(ws.registrations >= 2);
    assert_int_equal(ws.tasks_ok, 2);
    assert_int_equal(ws.dropped_frames, 0);
    vx_worker_free(w);
    vx_broker_free(b);
}

int main(int argc, char **argv)
{
    if (argc == 3 && strcmp(argv[1], "--child-worker") == 0)
        return child_worker(argv[2]);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_spread_tcp),
        cmocka_unit_test(test_spread_inproc),
        cmocka_unit_test(test_worker_stopped_midtask),
        cmocka_unit_test(test_worker_killed_midtask),
        cmocka_unit_test(test_duplicate_and_late_results),
        cmocka_unit_test(test_worker_restarted_same_id),
        cmocka_unit_test(test_queue_full),
        cmocka_unit_test(test_no_worker),
        cmocka_unit_test(test_late_worker),
        cmocka_unit_test(test_malformed_frames),
        cmocka_unit_test(test_gateway_restart),
    };
    return cmocka_run_group_tests_name("ipc_broker", tests, NULL, NULL);
}
