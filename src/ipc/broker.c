/*
 * broker.c -- the gateway's task queue and its ZeroMQ ROUTER.
 *
 * DESIGN: all state (tasks, queue, workers, counters) sits behind one mutex;
 * the I/O thread is the only one that touches the ROUTER socket, frees
 * tasks and runs callbacks.  Other threads only append to the queue (submit)
 * or read counters (stats), then wake the I/O thread by writing a byte to a
 * pipe that zmq_poll watches next to the socket.  The loop: poll (<= 100 ms)
 * -> read every waiting message -> timers (heartbeats out, silent workers
 * lost, deadlines) -> dispatch.  A worker's taken slots are a small array of
 * (task id, attempt, task) so a result is matched to the exact attempt it
 * belongs to; a task that timed out leaves its slot "orphaned" (task NULL)
 * so the still-busy worker is not sent more work until it answers or is
 * lost.  Terminal events are collected under the lock and fired after it is
 * released, so a callback may call submit or stats.
 * Sends are non-blocking (ZMQ_DONTWAIT) with ZMQ_ROUTER_MANDATORY: an
 * unreachable worker (process gone, connection closed) is detected on the
 * next heartbeat or dispatch instead of after the silence timeout.
 */
#include "ipc/broker.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/error.h"
#include "ipc/zmq_dl.h"
#include "store/store.h"

const double vx_broker_latency_bounds_s[VX_BROKER_LATENCY_BUCKETS] = {
    0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1.0, 5.0, 10.0, 60.0};

#define RID_MAX 255
#define MAX_MSGS_PER_ROUND 1000

enum { T_QUEUED = 1, T_RUNNING = 2 };

typedef struct bworker bworker;

typedef struct task {
    char id[VX_TASK_ID_LEN + 1];
    char kind[VX_KIND_MAX + 1];
    char *args;                   /* NULL = {} */
    void *pay[VX_PROTO_MAX_PAYLOAD_FRAMES];
    size_t pay_len[VX_PROTO_MAX_PAYLOAD_FRAMES];
    size_t n_pay, bytes;
    int attempt;                  /* of the current / last dispatch; 0 = never */
    int state;
    int timeout_ms;
    double queued_s, deadline_s;
    int64_t deadline_unix_ms;
    vx_broker_cb cb;
    void *user;
    bworker *w;                   /* T_RUNNING */
    char last_worker[VX_WORKER_ID_MAX + 1];
    struct task *qprev, *qnext;   /* queue (T_QUEUED) */
    struct task *aprev, *anext;   /* every unfinished task */
    struct task *dnext;           /* dead list (terminal error pending) */
    int err_status;
    char err_msg[256];
} task;

typedef struct slot {
    char task_id[VX_TASK_ID_LEN + 1];
    int attempt;
    task *t;                      /* NULL: orphaned (timed out, worker still busy) */
} slot;

struct bworker {
    unsigned char rid[RID_MAX];
    size_t rid_len;
    char id[VX_WORKER_ID_MAX + 1];
    char instance[VX_WORKER_ID_MAX + 1];
    int capacity;
    slot *slots;
    size_t n_slots, cap_slots;
    double last_seen_s, last_busy_s;
    uint64_t dispatched, completed, failed, requeued, duplicates, dropped;
};

struct vx_broker {
    vx_broker_opts o;
    char endpoint[300];
    char broker_id[VX_WORKER_ID_MAX + 1];
    void *ctx;
    int own_ctx;
    void *router;
    int wake[2];
    pthread_t thread;
    int thread_started;

    pthread_mutex_t m;
    int stopping;
    task *qhead, *qtail;
    size_t qlen;
    task *all;
    task *dead;
    size_t bytes;
    bworker **workers;
    size_t n_workers, cap_workers;
    double next_hb_s;
    vx_broker_stats st;           /* counters only (per_worker unused) */
};

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static int64_t unix_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void vx_broker_opts_init(vx_broker_opts *o)
{
    memset(o, 0, sizeof *o);
    o->max_queue = 64;
    o->max_queued_bytes = (size_t)1 << 30;
    o->max_attempts = 3;
    o->heartbeat_ms = 1000;
    o->heartbeat_timeout_ms = 3000;
    o->default_timeout_ms = 600000;
}

static void wake(vx_broker *b)
{
    char c = 1;
    ssize_t r = write(b->wake[1], &c, 1);
    (void)r; /* EAGAIN: a wake-up is already pending */
}

/* ------------------------------------------------------------------ */
/* tasks                                                               */
/* ------------------------------------------------------------------ */
static void task_free(task *t)
{
    if (!t)
        return;
    free(t->args);
    for (size_t i = 0; i < t->n_pay; i++)
        free(t->pay[i]);
    free(t);
}

static void q_push_back(vx_broker *b, task *t)
{
    t->qnext = NULL;
    t->qprev = b->qtail;
    if (b->qtail)
        b->qtail->qnext = t;
    else
        b->qhead = t;
    b->qtail = t;
    b->qlen++;
    t->state = T_QUEUED;
}

static void q_push_front(vx_broker *b, task *t)
{
    t->qprev = NULL;
    t->qnext = b->qhead;
    if (b->qhead)
        b->qhead->qprev = t;
    else
        b->qtail = t;
    b->qhead = t;
    b->qlen++;
    t->state = T_QUEUED;
}

static void q_remove(vx_broker *b, task *t)
{
    if (t->qprev)
        t->qprev->qnext = t->qnext;
    else
        b->qhead = t->qnext;
    if (t->qnext)
        t->qnext->qprev = t->qprev;
    else
        b->qtail = t->qprev;
    t->qprev = t->qnext = NULL;
    b->qlen--;
    t->state = 0;
}

static void all_remove(vx_broker *b, task *t)
{
    if (t->aprev)
        t->aprev->anext = t->anext;
    else
        b->all = t->anext;
    if (t->anext)
        t->anext->aprev = t->aprev;
    t->aprev = t->anext = NULL;
    b->bytes -= t->bytes;
}

/* Takes t out of everything and puts it on the dead list (callback fired
 * after unlocking).  Locked. */
static void task_kill(vx_broker *b, task *t, int status, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void task_kill(vx_broker *b, task *t, int status, const char *fmt, ...)
{
    if (t->state == T_QUEUED)
        q_remove(b, t);
    t->state = 0;
    t->w = NULL;
    all_remove(b, t);
    t->err_status = status;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(t->err_msg, sizeof t->err_msg, fmt, ap);
    va_end(ap);
    t->dnext = b->dead;
    b->dead = t;
    b->st.failed++;
}

/* Fires and frees the dead list.  Unlocked, I/O thread only. */
static void fire_dead(task *dead)
{
    while (dead) {
        task *t = dead;
        dead = t->dnext;
        if (t->cb) {
            vx_task_event ev;
            memset(&ev, 0, sizeof ev);
            ev.type = VX_TASK_ERROR;
            ev.task_id = t->id;
            ev.kind = t->kind;
            ev.attempt = t->attempt;
            ev.worker_id = t->last_worker;
            ev.stage = "";
            ev.result_json = "";
            ev.status = t->err_status;
            ev.message = t->err_msg;
            t->cb(&ev, t->user);
        }
        task_free(t);
    }
}

static task *take_dead(vx_broker *b)
{
    /* reverse so callbacks fire in the order tasks died */
    task *in = b->dead, *out = NULL;
    b->dead = NULL;
    while (in) {
        task *n = in->dnext;
        in->dnext = out;
        out = in;
        in = n;
    }
    return out;
}

/* ------------------------------------------------------------------ */
/* sending                                                             */
/* ------------------------------------------------------------------ */
/* 0, or -errno of the first frame (EHOSTUNREACH: peer gone; EAGAIN: full),
 * or -EINVAL when the message cannot be encoded (err filled). */
static int send_to(vx_broker *b, const unsigned char *rid, size_t rid_len, const vx_msg *m,
                   vx_error *err)
{
    uint8_t tf[VX_PROTO_TYPE_FRAME_LEN];
    char *hdr = NULL;
    size_t hl = 0;
    if (vx_proto_encode(m, tf, &hdr, &hl, err) != VX_OK)
        return -EINVAL;
    int rc = 0;
    if (vx__zmq.zmq_send(b->router, rid, rid_len, ZMQ_SNDMORE | ZMQ_DONTWAIT) < 0) {
        rc = -vx__zmq.zmq_errno();
    } else {
        /* the rest of a multipart message cannot fail once the first frame is in */
        vx__zmq.zmq_send(b->router, tf, sizeof tf, ZMQ_SNDMORE | ZMQ_DONTWAIT);
        vx__zmq.zmq_send(b->router, hdr, hl, (m->n_payload ? ZMQ_SNDMORE : 0) | ZMQ_DONTWAIT);
        for (size_t i = 0; i < m->n_payload; i++)
            vx__zmq.zmq_send(b->router, m->payload[i].data, m->payload[i].len,
                             (i + 1 < m->n_payload ? ZMQ_SNDMORE : 0) | ZMQ_DONTWAIT);
    }
    free(hdr);
    return rc;
}

static void send_simple(vx_broker *b, const unsigned char *rid, size_t rid_len, int type,
                        const char *reason)
{
    vx_msg m;
    vx_msg_init(&m, type);
    if (reason)
        snprintf(m.message, sizeof m.message, "%s", reason);
    if (type == VX_MSG_READY) {
        snprintf(m.broker_id, sizeof m.broker_id, "%s", b->broker_id);
        m.heartbeat_ms = b->o.heartbeat_ms;
        m.heartbeat_timeout_ms = b->o.heartbeat_timeout_ms;
    }
    send_to(b, rid, rid_len, &m, NULL);
}

/* ------------------------------------------------------------------ */
/* workers                                                             */
/* ------------------------------------------------------------------ */
static bworker *worker_find(vx_broker *b, const void *rid, size_t len)
{
    for (size_t i = 0; i < b->n_workers; i++)
        if (b->workers[i]->rid_len == len && memcmp(b->workers[i]->rid, rid, len) == 0)
            return b->workers[i];
    return NULL;
}

static void requeue_or_fail(vx_broker *b, task *t, bworker *w, const char *why)
{
    double now = now_s();
    t->w = NULL;
    t->state = 0;
    if (now >= t->deadline_s) {
        b->st.timed_out++;
        task_kill(b, t, VX_EUNAVAIL, "task timed out after %d ms (worker %s lost on attempt %d: %s)",
                  t->timeout_ms, w->id, t->attempt, why);
    } else if (t->attempt >= b->o.max_attempts) {
        task_kill(b, t, VX_EUNAVAIL, "task failed after %d attempts: worker %s lost (%s)", t->attempt,
                  w->id, why);
    } else {
        q_push_front(b, t);
        t->queued_s = now;
        b->st.requeued++;
        w->requeued++;
    }
}

/* Removes w, re-queueing its tasks.  Locked. */
static void worker_lost(vx_broker *b, bworker *w, const char *why)
{
    for (size_t i = 0; i < w->n_slots; i++)
        if (w->slots[i].t)
            requeue_or_fail(b, w->slots[i].t, w, why);
    for (size_t i = 0; i < b->n_workers; i++) {
        if (b->workers[i] == w) {
            b->workers[i] = b->workers[--b->n_workers];
            break;
        }
    }
    b->st.workers_lost++;
    free(w->slots);
    free(w);
}

/* ------------------------------------------------------------------ */
/* dispatch                                                            */
/* ------------------------------------------------------------------ */
static bworker *pick_worker(vx_broker *b)
{
    bworker *best = NULL;
    for (size_t i = 0; i < b->n_workers; i++) {
        bworker *w = b->workers[i];
        if (w->n_slots >= (size_t)w->capacity)
            continue;
        if (!best || w->n_slots < best->n_slots ||
            (w->n_slots == best->n_slots && w->last_busy_s < best->last_busy_s))
            best = w;
    }
    return best;
}

static void latency_observe(vx_broker *b, double d)
{
    if (d < 0)
        d = 0;
    b->st.latency_count++;
    b->st.latency_sum_s += d;
    if (d > b->st.latency_max_s)
        b->st.latency_max_s = d;
    for (int i = 0; i < VX_BROKER_LATENCY_BUCKETS; i++)
        if (d <= vx_broker_latency_bounds_s[i])
            b->st.latency_buckets[i]++;
}

static void dispatch(vx_broker *b)
{
    while (b->qhead) {
        bworker *w = pick_worker(b);
        if (!w)
            return;
        if (w->n_slots == w->cap_slots) {
            size_t nc = w->cap_slots ? w->cap_slots * 2 : 4;
            slot *ns = realloc(w->slots, nc * sizeof *ns);
            if (!ns)
                return; /* retried next round */
            w->slots = ns;
            w->cap_slots = nc;
        }
        task *t = b->qhead;
        vx_msg m;
        vx_msg_init(&m, VX_MSG_TASK);
        memcpy(m.task_id, t->id, sizeof m.task_id);
        memcpy(m.kind, t->kind, sizeof m.kind);
        m.attempt = t->attempt + 1;
        m.deadline_ms = t->deadline_unix_ms;
        m.body_json = t->args;
        m.n_payload = t->n_pay;
        for (size_t i = 0; i < t->n_pay; i++) {
            m.payload[i].data = t->pay[i];
            m.payload[i].len = t->pay_len[i];
        }
        vx_error e;
        int rc = send_to(b, w->rid, w->rid_len, &m, &e);
        if (rc == -EINVAL) {
            task_kill(b, t, e.code, "%s", e.message);
            continue;
        }
        if (rc == -EAGAIN)
            return; /* the worker's pipe is full: next round */
        if (rc != 0) {
            worker_lost(b, w, "unreachable");
            continue;
        }
        double now = now_s();
        q_remove(b, t);
        t->attempt++;
        t->state = T_RUNNING;
        t->w = w;
        snprintf(t->last_worker, sizeof t->last_worker, "%s", w->id);
        slot *s = &w->slots[w->n_slots++];
        memcpy(s->task_id, t->id, sizeof s->task_id);
        s->attempt = t->attempt;
        s->t = t;
        w->dispatched++;
        w->last_busy_s = now;
        latency_observe(b, now - t->queued_s);
    }
}

/* ------------------------------------------------------------------ */
/* timers                                                              */
/* ------------------------------------------------------------------ */
static void timers(vx_broker *b)
{
    double now = now_s();
    /* silent workers */
    for (size_t i = 0; i < b->n_workers;) {
        bworker *w = b->workers[i];
        double silent = now - w->last_seen_s;
        if (silent * 1000.0 > b->o.heartbeat_timeout_ms) {
            char why[64];
            snprintf(why, sizeof why, "silent for %.1f s", silent);
            worker_lost(b, w, why);
            continue; /* workers[i] is now another worker */
        }
        i++;
    }
    /* heartbeats out (an unreachable worker is lost at once) */
    if (now >= b->next_hb_s) {
        b->next_hb_s = now + b->o.heartbeat_ms / 1000.0;
        for (size_t i = 0; i < b->n_workers;) {
            bworker *w = b->workers[i];
            vx_msg m;
            vx_msg_init(&m, VX_MSG_HEARTBEAT);
            int rc = send_to(b, w->rid, w->rid_len, &m, NULL);
            if (rc == -EHOSTUNREACH) {
                worker_lost(b, w, "unreachable");
                continue;
            }
            i++;
        }
    }
    /* deadlines */
    for (task *t = b->all, *next; t; t = next) {
        next = t->anext;
        if (now < t->deadline_s)
            continue;
        b->st.timed_out++;
        if (t->state == T_RUNNING && t->w) {
            bworker *w = t->w;
            for (size_t i = 0; i < w->n_slots; i++)
                if (w->slots[i].t == t)
                    w->slots[i].t = NULL; /* the worker stays busy until it answers */
            task_kill(b, t, VX_EUNAVAIL, "task timed out after %d ms on worker %s (attempt %d)",
                      t->timeout_ms, w->id, t->attempt);
        } else if (b->n_workers == 0) {
            task_kill(b, t, VX_EUNAVAIL,
                      "task timed out after %d ms in the queue: no worker connected", t->timeout_ms);
        } else {
            task_kill(b, t, VX_EUNAVAIL,
                      "task timed out after %d ms in the queue: all %zu workers busy", t->timeout_ms,
                      b->n_workers);
        }
    }
}

/* ------------------------------------------------------------------ */
/* incoming                                                            */
/* ------------------------------------------------------------------ */
static void handle(vx_broker *b, const zmq_msg_t *parts, size_t n, int too_many)
{
    const void *rid = vx__zmq.zmq_msg_data((zmq_msg_t *)&parts[0]);
    size_t rid_len = vx__zmq.zmq_msg_size((zmq_msg_t *)&parts[0]);
    vx_frame fr[VX_PROTO_MAX_FRAMES];
    size_t nf = 0;
    for (size_t i = 1; i < n && nf < VX_PROTO_MAX_FRAMES; i++) {
        fr[nf].data = vx__zmq.zmq_msg_data((zmq_msg_t *)&parts[i]);
        fr[nf].len = vx__zmq.zmq_msg_size((zmq_msg_t *)&parts[i]);
        nf++;
    }
    vx_msg m;
    int rc = too_many ? VX_ELIMIT : vx_proto_decode(fr, nf, &m, NULL);

    pthread_mutex_lock(&b->m);
    bworker *w = rid_len <= RID_MAX ? worker_find(b, rid, rid_len) : NULL;
    if (rc != VX_OK || m.type == VX_MSG_READY || m.type == VX_MSG_TASK) {
        b->st.dropped_frames++;
        if (w)
            w->dropped++;
        pthread_mutex_unlock(&b->m);
        if (rc == VX_OK)
            vx_msg_clear(&m);
        return;
    }
    double now = now_s();
    if (w)
        w->last_seen_s = now;
    task *fire = NULL;   /* progress / result target */
    switch (m.type) {
    case VX_MSG_HELLO:
        if (rid_len > RID_MAX || rid_len == 0) {
            b->st.dropped_frames++;
            break;
        }
        if (w && m.instance[0] && strcmp(w->instance, m.instance) != 0) {
            /* same id, new process: what the old one ran is lost */
            worker_lost(b, w, "restarted");
            w = NULL;
        }
        if (!w) {
            if (b->n_workers == b->cap_workers) {
                size_t nc = b->cap_workers ? b->cap_workers * 2 : 8;
                bworker **nw = realloc(b->workers, nc * sizeof *nw);
                if (!nw)
                    break;
                b->workers = nw;
                b->cap_workers = nc;
            }
            w = calloc(1, sizeof *w);
            if (!w)
                break;
            memcpy(w->rid, rid, rid_len);
            w->rid_len = rid_len;
            w->last_seen_s = now;
            w->last_busy_s = now;
            b->workers[b->n_workers++] = w;
        }
        snprintf(w->id, sizeof w->id, "%s", m.worker_id);
        snprintf(w->instance, sizeof w->instance, "%s", m.instance);
        w->capacity = m.capacity;
        send_simple(b, w->rid, w->rid_len, VX_MSG_READY, NULL);
        break;
    case VX_MSG_HEARTBEAT:
        if (!w)
            send_simple(b, rid, rid_len, VX_MSG_BYE, "unknown worker: send HELLO");
        break;
    case VX_MSG_BYE:
        if (w) {
            char why[300];
            snprintf(why, sizeof why, "said BYE: %s", m.message[0] ? m.message : "no reason");
            worker_lost(b, w, why);
            w = NULL;
        }
        break;
    case VX_MSG_PROGRESS:
    case VX_MSG_RESULT:
    case VX_MSG_ERROR: {
        if (!w) {
            if (m.type != VX_MSG_PROGRESS)
                b->st.duplicates++;
            send_simple(b, rid, rid_len, VX_MSG_BYE, "unknown worker: send HELLO");
            break;
        }
        size_t i = 0;
        while (i < w->n_slots &&
               !(w->slots[i].attempt == m.attempt && strcmp(w->slots[i].task_id, m.task_id) == 0))
            i++;
        task *t = i < w->n_slots ? w->slots[i].t : NULL;
        if (m.type == VX_MSG_PROGRESS) {
            fire = t;
            break;
        }
        if (i == w->n_slots || !t) {
            /* not this worker's current attempt, or it timed out meanwhile */
            b->st.duplicates++;
            w->duplicates++;
            if (i < w->n_slots)
                w->slots[i] = w->slots[--w->n_slots];
            break;
        }
        w->slots[i] = w->slots[--w->n_slots];
        w->last_busy_s = now;
        t->w = NULL;
        t->state = 0;
        if (m.type == VX_MSG_RESULT) {
            all_remove(b, t);
            b->st.completed++;
            w->completed++;
            fire = t;
        } else {
            w->failed++;
            task_kill(b, t, m.status, "%s", m.message[0] ? m.message : vx_strerror(m.status));
        }
        break;
    }
    default:
        break;
    }
    task *dead = take_dead(b);
    pthread_mutex_unlock(&b->m);

    /* only this thread frees tasks, so fire stays valid unlocked */
    if (fire && fire->cb) {
        vx_task_event ev;
        memset(&ev, 0, sizeof ev);
        ev.task_id = fire->id;
        ev.kind = fire->kind;
        ev.attempt = m.attempt;
        ev.worker_id = fire->last_worker;
        ev.stage = m.stage;
        ev.result_json = m.body_json ? m.body_json : "{}";
        ev.message = "";
        if (m.type == VX_MSG_PROGRESS) {
            ev.type = VX_TASK_PROGRESS;
            ev.progress = m.progress;
        } else {
            ev.type = VX_TASK_RESULT;
            ev.progress = 1.0;
            ev.frames = m.payload;
            ev.n_frames = m.n_payload;
        }
        fire->cb(&ev, fire->user);
    }
    if (fire && m.type == VX_MSG_RESULT)
        task_free(fire);
    fire_dead(dead);
    vx_msg_clear(&m);
}

/* Reads one multipart message; 0 = none waiting. */
static int recv_one(vx_broker *b)
{
    zmq_msg_t parts[VX_PROTO_MAX_FRAMES + 1];
    size_t n = 0;
    int too_many = 0, more = 1;
    while (more) {
        zmq_msg_t tmp;
        zmq_msg_t *dst = n < VX_PROTO_MAX_FRAMES + 1 ? &parts[n] : &tmp;
        vx__zmq.zmq_msg_init(dst);
        /* the parts of a multipart message arrive together: only the first may wait */
        if (vx__zmq.zmq_msg_recv(dst, b->router, n == 0 ? ZMQ_DONTWAIT : 0) < 0) {
            vx__zmq.zmq_msg_close(dst);
            for (size_t i = 0; i < n; i++)
                vx__zmq.zmq_msg_close(&parts[i]);
            return 0;
        }
        more = vx__zmq.zmq_msg_more(dst);
        if (dst == &tmp) {
            too_many = 1;
            vx__zmq.zmq_msg_close(&tmp);
        } else {
            n++;
        }
    }
    handle(b, parts, n, too_many);
    for (size_t i = 0; i < n; i++)
        vx__zmq.zmq_msg_close(&parts[i]);
    return 1;
}

static void *io_main(void *arg)
{
    vx_broker *b = arg;
    for (;;) {
        pthread_mutex_lock(&b->m);
        int stop = b->stopping;
        pthread_mutex_unlock(&b->m);
        if (stop)
            break;
        zmq_pollitem_t items[2] = {{b->router, 0, ZMQ_POLLIN, 0}, {NULL, b->wake[0], ZMQ_POLLIN, 0}};
        int timeout = b->o.heartbeat_ms < 100 ? b->o.heartbeat_ms : 100;
        if (vx__zmq.zmq_poll(items, 2, timeout) < 0 && vx__zmq.zmq_errno() == ETERM)
            break;
        if (items[1].revents & ZMQ_POLLIN) {
            char buf[64];
            while (read(b->wake[0], buf, sizeof buf) > 0) {
            }
        }
        for (int k = 0; k < MAX_MSGS_PER_ROUND && recv_one(b); k++) {
        }
        pthread_mutex_lock(&b->m);
        timers(b);
        dispatch(b);
        task *dead = take_dead(b);
        pthread_mutex_unlock(&b->m);
        fire_dead(dead);
    }
    /* shutdown: fail what is left, tell the workers */
    pthread_mutex_lock(&b->m);
    while (b->all)
        task_kill(b, b->all, VX_EUNAVAIL, "broker shutting down");
    for (size_t i = 0; i < b->n_workers; i++)
        send_simple(b, b->workers[i]->rid, b->workers[i]->rid_len, VX_MSG_BYE, "broker shutting down");
    task *dead = take_dead(b);
    pthread_mutex_unlock(&b->m);
    fire_dead(dead);
    return NULL;
}

/* ------------------------------------------------------------------ */
/* public                                                              */
/* ------------------------------------------------------------------ */
static int endpoint_ok(const char *ep)
{
    return ep && strlen(ep) < 256 &&
           (strncmp(ep, "tcp://", 6) == 0 || strncmp(ep, "ipc://", 6) == 0 ||
            strncmp(ep, "inproc://", 9) == 0);
}

int vx_broker_new(const char *bind_endpoint, const vx_broker_opts *opts, vx_broker **out,
                  vx_error *err)
{
    if (out)
        *out = NULL;
    if (!out)
        return vx__error_set(err, VX_EINVAL, "broker: NULL argument");
    if (!endpoint_ok(bind_endpoint))
        return vx__error_set(err, VX_EINVAL,
                             "broker: endpoint must be tcp://HOST:PORT, ipc://PATH or inproc://NAME");
    vx_broker_opts o;
    if (opts)
        o = *opts;
    else
        vx_broker_opts_init(&o);
    if (o.max_queue < 1 || o.max_attempts < 1 || o.max_attempts > VX_PROTO_MAX_ATTEMPT ||
        o.heartbeat_ms < 10 || o.heartbeat_ms > 60000 || o.heartbeat_timeout_ms < o.heartbeat_ms ||
        o.heartbeat_timeout_ms > 600000 || o.default_timeout_ms < 1 || o.max_queued_bytes < 1)
        return vx__error_set(err, VX_EINVAL,
                             "broker: options out of range (max_queue >= 1, max_attempts 1..%d, "
                             "heartbeat_ms 10..60000 <= heartbeat_timeout_ms <= 600000, "
                             "default_timeout_ms >= 1)",
                             VX_PROTO_MAX_ATTEMPT);
    if (strncmp(bind_endpoint, "inproc://", 9) == 0 && !o.zmq_context)
        return vx__error_set(err, VX_EINVAL,
                             "broker: inproc:// needs a shared zmq_context in the options");
    int lrc = vx__zmq_load(err);
    if (lrc != VX_OK)
        return lrc;
    vx_broker *b = calloc(1, sizeof *b);
    if (!b)
        return vx__error_set(err, VX_ENOMEM, "broker: out of memory");
    b->o = o;
    b->wake[0] = b->wake[1] = -1;
    pthread_mutex_init(&b->m, NULL);
    char uuid[VX_STORE_ID_LEN + 1];
    vx_store_new_id(uuid);
    snprintf(b->broker_id, sizeof b->broker_id, "broker-%s", uuid);
    int rc = VX_OK;
    b->ctx = o.zmq_context;
    if (!b->ctx) {
        b->ctx = vx__zmq.zmq_ctx_new();
        b->own_ctx = 1;
        if (!b->ctx) {
            rc = vx__error_set(err, VX_ENOMEM, "broker: cannot create a ZeroMQ context");
            goto fail;
        }
    }
    if (pipe(b->wake) != 0) {
        b->wake[0] = b->wake[1] = -1;
        rc = vx__error_set(err, VX_EIO, "broker: cannot create the wake-up pipe");
        goto fail;
    }
    for (int i = 0; i < 2; i++) {
        fcntl(b->wake[i], F_SETFL, fcntl(b->wake[i], F_GETFL) | O_NONBLOCK);
        fcntl(b->wake[i], F_SETFD, FD_CLOEXEC);
    }
    b->router = vx__zmq.zmq_socket(b->ctx, ZMQ_ROUTER);
    if (!b->router) {
        rc = vx__error_set(err, VX_EIO, "broker: cannot create the ROUTER socket: %s",
                           vx__zmq.zmq_strerror(vx__zmq.zmq_errno()));
        goto fail;
    }
    int one = 1, linger = 200;
    int64_t maxmsg = VX_PROTO_MAX_FRAME;
    vx__zmq.zmq_setsockopt(b->router, ZMQ_ROUTER_MANDATORY, &one, sizeof one);
    vx__zmq.zmq_setsockopt(b->router, ZMQ_ROUTER_HANDOVER, &one, sizeof one);
    vx__zmq.zmq_setsockopt(b->router, ZMQ_LINGER, &linger, sizeof linger);
    vx__zmq.zmq_setsockopt(b->router, ZMQ_MAXMSGSIZE, &maxmsg, sizeof maxmsg);
    if (vx__zmq.zmq_bind(b->router, bind_endpoint) != 0) {
        rc = vx__error_set(err, VX_EIO, "broker: cannot bind %s: %s", bind_endpoint,
                           vx__zmq.zmq_strerror(vx__zmq.zmq_errno()));
        goto fail;
    }
    size_t elen = sizeof b->endpoint;
    if (vx__zmq.zmq_getsockopt(b->router, ZMQ_LAST_ENDPOINT, b->endpoint, &elen) != 0 || !b->endpoint[0])
        snprintf(b->endpoint, sizeof b->endpoint, "%s", bind_endpoint);
    b->next_hb_s = now_s() + o.heartbeat_ms / 1000.0;
    if (pthread_create(&b->thread, NULL, io_main, b) != 0) {
        rc = vx__error_set(err, VX_ENOMEM, "broker: cannot start the I/O thread");
        goto fail;
    }
    b->thread_started = 1;
    *out = b;
    return VX_OK;
fail:
    vx_broker_free(b);
    return rc;
}

void vx_broker_free(vx_broker *b)
{
    if (!b)
        return;
    if (b->thread_started) {
        pthread_mutex_lock(&b->m);
        b->stopping = 1;
        pthread_mutex_unlock(&b->m);
        wake(b);
        pthread_join(b->thread, NULL);
    }
    /* without the thread (failed start) nothing was ever submitted */
    if (b->router)
        vx__zmq.zmq_close(b->router);
    if (b->own_ctx && b->ctx)
        vx__zmq.zmq_ctx_term(b->ctx);
    for (int i = 0; i < 2; i++)
        if (b->wake[i] >= 0)
            close(b->wake[i]);
    for (size_t i = 0; i < b->n_workers; i++) {
        free(b->workers[i]->slots);
        free(b->workers[i]);
    }
    free(b->workers);
    pthread_mutex_destroy(&b->m);
    free(b);
}

const char *vx_broker_endpoint(const vx_broker *b)
{
    return b ? b->endpoint : "";
}

int vx_broker_submit(vx_broker *b, const char *kind, const char *args_json, const vx_frame *frames,
                     size_t n_frames, int timeout_ms, vx_broker_cb cb, void *user,
                     char task_id[VX_TASK_ID_LEN + 1], vx_error *err)
{
    if (task_id)
        task_id[0] = '\0';
    if (!b || !kind || (n_frames && !frames))
        return vx__error_set(err, VX_EINVAL, "broker: NULL argument");
    if (!vx_proto_kind_valid(kind))
        return vx__error_set(err, VX_EINVAL, "broker: kind must be 1..32 of [a-z0-9_]");
    if (timeout_ms < 0)
        return vx__error_set(err, VX_EINVAL, "broker: timeout_ms must be >= 0");
    if (timeout_ms == 0)
        timeout_ms = b->o.default_timeout_ms;
    task *t = calloc(1, sizeof *t);
    if (!t)
        return vx__error_set(err, VX_ENOMEM, "broker: out of memory");
    vx_store_new_id(t->id);
    snprintf(t->kind, sizeof t->kind, "%s", kind);
    /* validate exactly what will go on the wire */
    vx_msg m;
    vx_msg_init(&m, VX_MSG_TASK);
    memcpy(m.task_id, t->id, sizeof m.task_id);
    memcpy(m.kind, t->kind, sizeof m.kind);
    m.attempt = b->o.max_attempts;
    m.deadline_ms = unix_ms() + timeout_ms;
    m.body_json = (char *)args_json;
    m.n_payload = n_frames;
    for (size_t i = 0; i < n_frames && i < VX_PROTO_MAX_PAYLOAD_FRAMES; i++)
        m.payload[i] = frames[i];
    uint8_t tf[VX_PROTO_TYPE_FRAME_LEN];
    char *hdr = NULL;
    size_t hl = 0;
    int rc = vx_proto_encode(&m, tf, &hdr, &hl, err);
    free(hdr);
    if (rc != VX_OK) {
        free(t);
        return rc;
    }
    if (args_json && !(t->args = strdup(args_json))) {
        task_free(t);
        return vx__error_set(err, VX_ENOMEM, "broker: out of memory");
    }
    for (size_t i = 0; i < n_frames; i++) {
        t->pay[i] = malloc(frames[i].len ? frames[i].len : 1);
        if (!t->pay[i]) {
            task_free(t);
            return vx__error_set(err, VX_ENOMEM, "broker: out of memory");
        }
        t->n_pay = i + 1;
        if (frames[i].len)
            memcpy(t->pay[i], frames[i].data, frames[i].len);
        t->pay_len[i] = frames[i].len;
        t->bytes += frames[i].len;
    }
    t->timeout_ms = timeout_ms;
    t->cb = cb;
    t->user = user;
    t->deadline_unix_ms = m.deadline_ms;

    pthread_mutex_lock(&b->m);
    if (b->stopping) {
        rc = vx__error_set(err, VX_EUNAVAIL, "broker: shutting down");
    } else if (b->o.reject_without_workers && b->n_workers == 0) {
        rc = vx__error_set(err, VX_EUNAVAIL, "broker: no worker connected");
    } else if (b->qlen >= b->o.max_queue) {
        b->st.rejected_busy++;
        rc = vx__error_set(err, VX_EBUSY, "broker: queue full (%zu tasks waiting)", b->qlen);
    } else if (b->bytes + t->bytes > b->o.max_queued_bytes) {
        b->st.rejected_busy++;
        rc = vx__error_set(err, VX_EBUSY, "broker: queue full (%zu payload bytes held, limit %zu)",
                           b->bytes, b->o.max_queued_bytes);
    }
    if (rc != VX_OK) {
        pthread_mutex_unlock(&b->m);
        task_free(t);
        return rc;
    }
    double now = now_s();
    t->queued_s = now;
    t->deadline_s = now + timeout_ms / 1000.0;
    if (task_id)
        memcpy(task_id, t->id, VX_TASK_ID_LEN + 1);
    t->anext = b->all;
    if (b->all)
        b->all->aprev = t;
    b->all = t;
    b->bytes += t->bytes;
    q_push_back(b, t);
    b->st.submitted++;
    pthread_mutex_unlock(&b->m);
    wake(b);
    vx__error_clear(err);
    return VX_OK;
}

void vx_task_result_clear(vx_task_result *r)
{
    if (!r)
        return;
    free(r->result_json);
    for (size_t i = 0; i < r->n_frames && i < VX_PROTO_MAX_PAYLOAD_FRAMES; i++)
        free(r->frame_data[i]);
    memset(r, 0, sizeof *r);
}

typedef struct call_ctx {
    pthread_mutex_t m;
    pthread_cond_t cv;
    int done;
    int status;
    char message[256];
    vx_task_result *out;
    vx_broker_progress_fn progress;
    void *user;
} call_ctx;

static void call_cb(const vx_task_event *ev, void *user)
{
    call_ctx *c = user;
    if (ev->type == VX_TASK_PROGRESS) {
        if (c->progress)
            c->progress(ev->progress, ev->stage, c->user);
        return;
    }
    int status = VX_OK;
    char msg[256] = "";
    if (ev->type == VX_TASK_RESULT) {
        vx_task_result *r = c->out;
        memset(r, 0, sizeof *r);
        snprintf(r->task_id, sizeof r->task_id, "%s", ev->task_id);
        snprintf(r->worker_id, sizeof r->worker_id, "%s", ev->worker_id);
        r->attempt = ev->attempt;
        r->result_json = strdup(ev->result_json);
        if (!r->result_json)
            status = VX_ENOMEM;
        for (size_t i = 0; status == VX_OK && i < ev->n_frames; i++) {
            r->frame_data[i] = malloc(ev->frames[i].len ? ev->frames[i].len : 1);
            if (!r->frame_data[i]) {
                status = VX_ENOMEM;
                break;
            }
            r->n_frames = i + 1;
            if (ev->frames[i].len)
                memcpy(r->frame_data[i], ev->frames[i].data, ev->frames[i].len);
            r->frame_len[i] = ev->frames[i].len;
        }
        if (status != VX_OK) {
            vx_task_result_clear(r);
            snprintf(msg, sizeof msg, "broker: out of memory copying the result");
        }
    } else {
        status = ev->status ? ev->status : VX_EINTERNAL;
        snprintf(msg, sizeof msg, "%s", ev->message);
    }
    pthread_mutex_lock(&c->m);
    c->status = status;
    memcpy(c->message, msg, sizeof msg);
    c->done = 1;
    pthread_cond_signal(&c->cv);
    pthread_mutex_unlock(&c->m);
}

int vx_broker_call(vx_broker *b, const char *kind, const char *args_json, const vx_frame *frames,
                   size_t n_frames, int timeout_ms, vx_broker_progress_fn progress, void *user,
                   vx_task_result *out, vx_error *err)
{
    if (!out)
        return vx__error_set(err, VX_EINVAL, "broker: NULL result");
    memset(out, 0, sizeof *out);
    call_ctx c;
    memset(&c, 0, sizeof c);
    pthread_mutex_init(&c.m, NULL);
    pthread_cond_init(&c.cv, NULL);
    c.out = out;
    c.progress = progress;
    c.user = user;
    int rc = vx_broker_submit(b, kind, args_json, frames, n_frames, timeout_ms, call_cb, &c, NULL, err);
    if (rc == VX_OK) {
        pthread_mutex_lock(&c.m);
        while (!c.done)
            pthread_cond_wait(&c.cv, &c.m);
        pthread_mutex_unlock(&c.m);
        rc = c.status;
        if (rc != VX_OK)
            vx__error_set(err, rc, "%s", c.message);
    }
    pthread_cond_destroy(&c.cv);
    pthread_mutex_destroy(&c.m);
    return rc;
}

size_t vx_broker_workers(vx_broker *b)
{
    if (!b)
        return 0;
    pthread_mutex_lock(&b->m);
    size_t n = b->n_workers;
    pthread_mutex_unlock(&b->m);
    return n;
}

int vx_broker_stats_get(vx_broker *b, vx_broker_stats *out, vx_error *err)
{
    if (!out)
        return vx__error_set(err, VX_EINVAL, "broker: NULL argument");
    memset(out, 0, sizeof *out);
    if (!b)
        return vx__error_set(err, VX_EINVAL, "broker: NULL argument");
    pthread_mutex_lock(&b->m);
    *out = b->st;
    out->per_worker = NULL;
    out->n_workers = 0;
    out->workers = b->n_workers;
    out->queue_depth = b->qlen;
    out->queue_max = b->o.max_queue;
    out->queued_bytes = b->bytes;
    out->capacity = 0;
    out->in_flight = 0;
    if (b->n_workers) {
        out->per_worker = calloc(b->n_workers, sizeof *out->per_worker);
        if (!out->per_worker) {
            pthread_mutex_unlock(&b->m);
            return vx__error_set(err, VX_ENOMEM, "broker: out of memory");
        }
    }
    double now = now_s();
    for (size_t i = 0; i < b->n_workers; i++) {
        const bworker *w = b->workers[i];
        vx_broker_worker_stats *ws = &out->per_worker[i];
        snprintf(ws->worker_id, sizeof ws->worker_id, "%s", w->id);
        ws->capacity = w->capacity;
        ws->in_flight = (int)w->n_slots;
        ws->idle_s = now - w->last_busy_s;
        ws->last_seen_s = now - w->last_seen_s;
        ws->dispatched = w->dispatched;
        ws->completed = w->completed;
        ws->failed = w->failed;
        ws->requeued = w->requeued;
        ws->duplicates = w->duplicates;
        ws->dropped_frames = w->dropped;
        out->capacity += (size_t)w->capacity;
        out->in_flight += w->n_slots;
    }
    out->n_workers = b->n_workers;
    pthread_mutex_unlock(&b->m);
    return VX_OK;
}

void vx_broker_stats_free(vx_broker_stats *s)
{
    if (!s)
        return;
    free(s->per_worker);
    s->per_worker = NULL;
    s->n_workers = 0;
}
