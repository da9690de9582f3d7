/*
 * worker.c -- a ZeroMQ worker: DEALER socket, registration, heartbeats and
 * N handler threads.
 *
 * DESIGN: the I/O loop (vx_worker_run_until_stopped) is the only code that
 * touches the socket.  A received TASK keeps its zmq_msg_t parts (no copy
 * of the audio) and goes to the inbox, where handler threads take one job
 * each; they put RESULT / ERROR / PROGRESS items in the outbox and wake the
 * loop through a pipe.  Sends use ZMQ_DONTWAIT with ZMQ_IMMEDIATE: while
 * the gateway is unreachable heartbeats and HELLOs are simply skipped (they
 * repeat), but a RESULT or ERROR stays at the head of the outbox and is
 * retried, so a connection blip loses nothing.  Registration is a small
 * state machine: unregistered -> HELLO every 250 ms -> READY -> registered;
 * BYE from the broker or heartbeat_timeout_ms of silence -> unregistered.
 * Stop is an atomic flag plus a pipe write, hence async-signal-safe.
 */
#include "ipc/worker.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/error.h"
#include "ipc/zmq_dl.h"
#include "store/store.h"

#define HELLO_RETRY_S 0.25

typedef struct job {
    char task_id[VX_TASK_ID_LEN + 1];
    char kind[VX_KIND_MAX + 1];
    int attempt;
    int64_t deadline_ms;
    char *args;                     /* from the decoded message (owned) */
    zmq_msg_t parts[VX_PROTO_MAX_FRAMES];
    size_t n_parts;
    vx_frame frames[VX_PROTO_MAX_PAYLOAD_FRAMES];
    size_t n_frames;
    atomic_int cancelled;
    struct vx_worker *w;
    struct job *next;
} job;

typedef struct out_item {
    int type;
    char task_id[VX_TASK_ID_LEN + 1];
    int attempt;
    double progress;
    char stage[64];
    int status;
    char message[256];
    vx_worker_reply reply;
    struct out_item *next;
} out_item;

struct vx_worker {
    char endpoint[300];
    char id[VX_WORKER_ID_MAX + 1];
    char instance[VX_WORKER_ID_MAX + 1];
    int threads;
    int hb_ms, hb_timeout_ms;
    vx_worker_handler_fn handler;
    void *user;
    void *ctx;
    int own_ctx;
    int wake[2];
    atomic_int stop;
    atomic_int running;
    pthread_t bg;
    int bg_started;

    pthread_mutex_t m;
    pthread_cond_t cv;
    int quit;
    job *inbox, *inbox_tail;
    job *active;                    /* taken by a handler (for cancel) */
    out_item *out, *out_tail;
    vx_worker_stats st;
};

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

void vx_worker_opts_init(vx_worker_opts *o)
{
    memset(o, 0, sizeof *o);
    o->threads = 1;
    o->heartbeat_ms = 1000;
    o->heartbeat_timeout_ms = 3000;
}

static void wake(vx_worker *w)
{
    char c = 1;
    ssize_t r = write(w->wake[1], &c, 1);
    (void)r;
}

static void reply_clear(vx_worker_reply *r)
{
    free(r->result_json);
    for (size_t i = 0; i < r->n_frames && i < VX_PROTO_MAX_PAYLOAD_FRAMES; i++)
        free(r->frame_data[i]);
    memset(r, 0, sizeof *r);
}

static void job_free(job *j)
{
    if (!j)
        return;
    for (size_t i = 0; i < j->n_parts; i++)
        vx__zmq.zmq_msg_close(&j->parts[i]);
    free(j->args);
    free(j);
}

static void out_push(vx_worker *w, out_item *it)
{
    it->next = NULL;
    if (w->out_tail)
        w->out_tail->next = it;
    else
        w->out = it;
    w->out_tail = it;
}

/* ------------------------------------------------------------------ */
/* handler threads                                                     */
/* ------------------------------------------------------------------ */
int vx_worker_progress(const vx_worker_task *task, double progress, const char *stage)
{
    if (!task || !task->internal)
        return 0;
    job *j = task->internal;
    if (atomic_load(&j->cancelled))
        return 1;
    out_item *it = calloc(1, sizeof *it);
    if (!it)
        return 0; /* progress is best effort */
    it->type = VX_MSG_PROGRESS;
    memcpy(it->task_id, j->task_id, sizeof it->task_id);
    it->attempt = j->attempt;
    it->progress = progress != progress ? 0.0 : progress < 0 ? 0.0 : progress > 1 ? 1.0 : progress;
    if (stage)
        snprintf(it->stage, sizeof it->stage, "%s", stage);
    vx_worker *w = j->w;
    pthread_mutex_lock(&w->m);
    out_push(w, it);
    pthread_mutex_unlock(&w->m);
    wake(w);
    return 0;
}

static void unlink_active(vx_worker *w, job *j)
{
    for (job **p = &w->active; *p; p = &(*p)->next)
        if (*p == j) {
            *p = j->next;
            break;
        }
    j->next = NULL;
}

static void *handler_main(void *arg)
{
    vx_worker *w = arg;
    for (;;) {
        pthread_mutex_lock(&w->m);
        while (!w->inbox && !w->quit)
            pthread_cond_wait(&w->cv, &w->m);
        if (w->quit) {
            pthread_mutex_unlock(&w->m);
            return NULL;
        }
        job *j = w->inbox;
        w->inbox = j->next;
        if (!w->inbox)
            w->inbox_tail = NULL;
        j->next = w->active;
        w->active = j;
        pthread_mutex_unlock(&w->m);

        vx_worker_task t;
        t.task_id = j->task_id;
        t.kind = j->kind;
        t.attempt = j->attempt;
        t.deadline_ms = j->deadline_ms;
        t.args_json = j->args ? j->args : "{}";
        t.frames = j->frames;
        t.n_frames = j->n_frames;
        t.internal = j;
        vx_worker_reply reply;
        memset(&reply, 0, sizeof reply);
        vx_error e;
        vx__error_clear(&e);
        int rc = w->handler(w->user, &t, &reply, &e);

        out_item *it = calloc(1, sizeof *it);
        pthread_mutex_lock(&w->m);
        unlink_active(w, j);
        if (atomic_load(&j->cancelled) || !it) {
            w->st.tasks_abandoned++;
            reply_clear(&reply);
            free(it);
        } else {
            memcpy(it->task_id, j->task_id, sizeof it->task_id);
            it->attempt = j->attempt;
            if (rc == VX_OK) {
                it->type = VX_MSG_RESULT;
                it->reply = reply;
            } else {
                reply_clear(&reply);
                it->type = VX_MSG_ERROR;
                it->status = rc < 0 ? rc : VX_EINTERNAL;
                snprintf(it->message, sizeof it->message, "%s",
                         e.message[0] ? e.message : vx_strerror(it->status));
            }
            out_push(w, it);
        }
        pthread_mutex_unlock(&w->m);
        wake(w);
        job_free(j);
    }
}

/* ------------------------------------------------------------------ */
/* I/O loop                                                            */
/* ------------------------------------------------------------------ */
/* 0 sent, 1 could not send now (EAGAIN), -1 encode error (err filled). */
static int send_msg(void *sock, const vx_msg *m, vx_error *err)
{
    uint8_t tf[VX_PROTO_TYPE_FRAME_LEN];
    char *hdr = NULL;
    size_t hl = 0;
    if (vx_proto_encode(m, tf, &hdr, &hl, err) != VX_OK)
        return -1;
    int rc = 0;
    if (vx__zmq.zmq_send(sock, tf, sizeof tf, ZMQ_SNDMORE | ZMQ_DONTWAIT) < 0) {
        rc = 1;
    } else {
        vx__zmq.zmq_send(sock, hdr, hl, (m->n_payload ? ZMQ_SNDMORE : 0) | ZMQ_DONTWAIT);
        for (size_t i = 0; i < m->n_payload; i++)
            vx__zmq.zmq_send(sock, m->payload[i].data, m->payload[i].len,
                             (i + 1 < m->n_payload ? ZMQ_SNDMORE : 0) | ZMQ_DONTWAIT);
    }
    free(hdr);
    return rc;
}

static void send_hello(vx_worker *w, void *sock)
{
    vx_msg m;
    vx_msg_init(&m, VX_MSG_HELLO);
    snprintf(m.worker_id, sizeof m.worker_id, "%s", w->id);
    m.capacity = w->threads;
    m.protocol = VX_PROTO_VERSION;
    memcpy(m.instance, w->instance, sizeof m.instance);
    send_msg(sock, &m, NULL);
}

/* Sends outbox items in order; stops at the first that cannot go yet. */
static void flush_outbox(vx_worker *w, void *sock)
{
    for (;;) {
        pthread_mutex_lock(&w->m);
        out_item *it = w->out;
        pthread_mutex_unlock(&w->m);
        if (!it)
            return;
        vx_msg m;
        vx_msg_init(&m, it->type);
        memcpy(m.task_id, it->task_id, sizeof m.task_id);
        m.attempt = it->attempt;
        m.progress = it->progress;
        memcpy(m.stage, it->stage, sizeof m.stage);
        m.status = it->status;
        memcpy(m.message, it->message, sizeof m.message);
        if (it->type == VX_MSG_RESULT) {
            m.body_json = it->reply.result_json;
            m.n_payload = it->reply.n_frames;
            for (size_t i = 0; i < m.n_payload && i < VX_PROTO_MAX_PAYLOAD_FRAMES; i++) {
                m.payload[i].data = it->reply.frame_data[i];
                m.payload[i].len = it->reply.frame_len[i];
            }
        }
        vx_error e;
        int rc = send_msg(sock, &m, &e);
        if (rc == -1 && it->type == VX_MSG_RESULT) {
            /* the handler's reply breaks the protocol: tell the caller why */
            vx_msg em;
            vx_msg_init(&em, VX_MSG_ERROR);
            memcpy(em.task_id, it->task_id, sizeof em.task_id);
            em.attempt = it->attempt;
            em.status = e.code == VX_ELIMIT ? VX_ELIMIT : VX_EINTERNAL;
            snprintf(em.message, sizeof em.message, "worker: invalid handler result: %.200s", e.message);
            rc = send_msg(sock, &em, NULL);
        }
        if (rc == 1 && it->type != VX_MSG_PROGRESS)
            return; /* not connected: retry later, in order */
        pthread_mutex_lock(&w->m);
        if (rc == 0 || rc == -1) {
            if (it->type == VX_MSG_RESULT && rc == 0)
                w->st.tasks_ok++;
            else if (it->type != VX_MSG_PROGRESS)
                w->st.tasks_failed++;
        }
        w->out = it->next;
        if (!w->out)
            w->out_tail = NULL;
        pthread_mutex_unlock(&w->m);
        reply_clear(&it->reply);
        free(it);
    }
}

static void on_task(vx_worker *w, vx_msg *m, zmq_msg_t *parts, size_t n)
{
    job *j = calloc(1, sizeof *j);
    if (!j) {
        for (size_t i = 0; i < n; i++)
            vx__zmq.zmq_msg_close(&parts[i]);
        return; /* the broker re-queues it when we are lost or times it out */
    }
    memcpy(j->task_id, m->task_id, sizeof j->task_id);
    memcpy(j->kind, m->kind, sizeof j->kind);
    j->attempt = m->attempt;
    j->deadline_ms = m->deadline_ms;
    j->args = m->body_json;
    m->body_json = NULL;
    for (size_t i = 0; i < n; i++) {
        vx__zmq.zmq_msg_init(&j->parts[i]);
        vx__zmq.zmq_msg_move(&j->parts[i], &parts[i]);
        vx__zmq.zmq_msg_close(&parts[i]);
    }
    j->n_parts = n;
    j->n_frames = m->n_payload;
    for (size_t i = 0; i < j->n_frames; i++) {
        j->frames[i].data = vx__zmq.zmq_msg_data(&j->parts[i + 2]);
        j->frames[i].len = vx__zmq.zmq_msg_size(&j->parts[i + 2]);
    }
    atomic_init(&j->cancelled, 0);
    j->w = w;
    pthread_mutex_lock(&w->m);
    w->st.tasks_received++;
    if (w->inbox_tail)
        w->inbox_tail->next = j;
    else
        w->inbox = j;
    w->inbox_tail = j;
    pthread_cond_signal(&w->cv);
    pthread_mutex_unlock(&w->m);
}

typedef struct loop_state {
    int registered;
    double last_recv, last_hb, last_hello;
} loop_state;

/* Reads one message; 0 when none waiting. */
static int recv_one(vx_worker *w, void *sock, loop_state *ls)
{
    zmq_msg_t parts[VX_PROTO_MAX_FRAMES];
    size_t n = 0;
    int too_many = 0, more = 1;
    while (more) {
        zmq_msg_t tmp;
        zmq_msg_t *dst = n < VX_PROTO_MAX_FRAMES ? &parts[n] : &tmp;
        vx__zmq.zmq_msg_init(dst);
        if (vx__zmq.zmq_msg_recv(dst, sock, n == 0 ? ZMQ_DONTWAIT : 0) < 0) {
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
    vx_frame fr[VX_PROTO_MAX_FRAMES];
    for (size_t i = 0; i < n; i++) {
        fr[i].data = vx__zmq.zmq_msg_data(&parts[i]);
        fr[i].len = vx__zmq.zmq_msg_size(&parts[i]);
    }
    vx_msg m;
    int rc = too_many ? VX_ELIMIT : vx_proto_decode(fr, n, &m, NULL);
    int bad = rc != VX_OK;
    if (!bad) {
        switch (m.type) {
        case VX_MSG_READY:
            ls->registered = 1;
            w->hb_ms = m.heartbeat_ms;
            w->hb_timeout_ms = m.heartbeat_timeout_ms;
            pthread_mutex_lock(&w->m);
            w->st.registrations++;
            pthread_mutex_unlock(&w->m);
            break;
        case VX_MSG_HEARTBEAT:
            break;
        case VX_MSG_TASK:
            on_task(w, &m, parts, n);
            n = 0; /* moved */
            break;
        case VX_MSG_BYE:
            ls->registered = 0;
            send_hello(w, sock);
            ls->last_hello = now_s();
            break;
        default:
            bad = 1;
            break;
        }
        vx_msg_clear(&m);
    }
    if (bad) {
        pthread_mutex_lock(&w->m);
        w->st.dropped_frames++;
        pthread_mutex_unlock(&w->m);
    } else {
        ls->last_recv = now_s();
    }
    for (size_t i = 0; i < n; i++)
        vx__zmq.zmq_msg_close(&parts[i]);
    return 1;
}

static int in_flight(vx_worker *w)
{
    int n = 0;
    pthread_mutex_lock(&w->m);
    for (job *j = w->inbox; j; j = j->next)
        n++;
    for (job *j = w->active; j; j = j->next)
        n++;
    pthread_mutex_unlock(&w->m);
    return n;
}

int vx_worker_run_until_stopped(vx_worker *w, vx_error *err)
{
    if (!w)
        return vx__error_set(err, VX_EINVAL, "worker: NULL");
    int expected = 0;
    if (!atomic_compare_exchange_strong(&w->running, &expected, 1))
        return vx__error_set(err, VX_EINVAL, "worker: already running");
    void *sock = vx__zmq.zmq_socket(w->ctx, ZMQ_DEALER);
    if (!sock) {
        atomic_store(&w->running, 0);
        return vx__error_set(err, VX_EIO, "worker: cannot create the DEALER socket: %s",
                             vx__zmq.zmq_strerror(vx__zmq.zmq_errno()));
    }
    int one = 1, linger = 1000, ivl = 100, ivl_max = 1000;
    int64_t maxmsg = VX_PROTO_MAX_FRAME;
    vx__zmq.zmq_setsockopt(sock, ZMQ_ROUTING_ID, w->id, strlen(w->id));
    vx__zmq.zmq_setsockopt(sock, ZMQ_IMMEDIATE, &one, sizeof one);
    vx__zmq.zmq_setsockopt(sock, ZMQ_LINGER, &linger, sizeof linger);
    vx__zmq.zmq_setsockopt(sock, ZMQ_RECONNECT_IVL, &ivl, sizeof ivl);
    vx__zmq.zmq_setsockopt(sock, ZMQ_RECONNECT_IVL_MAX, &ivl_max, sizeof ivl_max);
    vx__zmq.zmq_setsockopt(sock, ZMQ_MAXMSGSIZE, &maxmsg, sizeof maxmsg);
    if (vx__zmq.zmq_connect(sock, w->endpoint) != 0) {
        int e = vx__zmq.zmq_errno();
        vx__zmq.zmq_close(sock);
        atomic_store(&w->running, 0);
        return vx__error_set(err, VX_EIO, "worker: cannot connect to %s: %s", w->endpoint,
                             vx__zmq.zmq_strerror(e));
    }
    pthread_t *th = calloc((size_t)w->threads, sizeof *th);
    int started = 0;
    int rc = VX_OK;
    if (!th)
        rc = vx__error_set(err, VX_ENOMEM, "worker: out of memory");
    pthread_mutex_lock(&w->m);
    w->quit = 0;
    pthread_mutex_unlock(&w->m);
    for (; rc == VX_OK && started < w->threads; started++)
        if (pthread_create(&th[started], NULL, handler_main, w) != 0) {
            rc = vx__error_set(err, VX_ENOMEM, "worker: cannot start handler thread %d", started);
            break;
        }

    loop_state ls;
    memset(&ls, 0, sizeof ls);
    double t0 = now_s();
    ls.last_recv = ls.last_hb = t0;
    ls.last_hello = t0 - 1.0;
    while (rc == VX_OK && !atomic_load(&w->stop)) {
        double now = now_s();
        /* registration and heartbeats */
        if (ls.registered && (now - ls.last_recv) * 1000.0 > w->hb_timeout_ms) {
            ls.registered = 0; /* gateway gone or restarted */
            pthread_mutex_lock(&w->m);
            w->st.broker_lost++;
            pthread_mutex_unlock(&w->m);
        }
        if (!ls.registered && now - ls.last_hello >= HELLO_RETRY_S) {
            send_hello(w, sock);
            ls.last_hello = now;
        }
        if ((now - ls.last_hb) * 1000.0 >= w->hb_ms) {
            vx_msg hb;
            vx_msg_init(&hb, VX_MSG_HEARTBEAT);
            hb.in_flight = in_flight(w);
            send_msg(sock, &hb, NULL);
            ls.last_hb = now;
        }
        pthread_mutex_lock(&w->m);
        w->st.registered = ls.registered;
        pthread_mutex_unlock(&w->m);
        flush_outbox(w, sock);

        zmq_pollitem_t items[2] = {{sock, 0, ZMQ_POLLIN, 0}, {NULL, w->wake[0], ZMQ_POLLIN, 0}};
        int timeout = w->hb_ms < 100 ? w->hb_ms : 100;
        if (vx__zmq.zmq_poll(items, 2, timeout) < 0 && vx__zmq.zmq_errno() == ETERM)
            break;
        if (items[1].revents & ZMQ_POLLIN) {
            char buf[64];
            while (read(w->wake[0], buf, sizeof buf) > 0) {
            }
        }
        for (int k = 0; k < 1000 && recv_one(w, sock, &ls); k++) {
        }
        flush_outbox(w, sock);
    }

    /* stop: say BYE, abandon what runs, discard what waits */
    vx_msg bye;
    vx_msg_init(&bye, VX_MSG_BYE);
    snprintf(bye.message, sizeof bye.message, "worker stopping");
    send_msg(sock, &bye, NULL);
    pthread_mutex_lock(&w->m);
    w->quit = 1;
    for (job *j = w->active; j; j = j->next)
        atomic_store(&j->cancelled, 1);
    job *waiting = w->inbox;
    w->inbox = w->inbox_tail = NULL;
    for (job *j = waiting; j; j = j->next)
        w->st.tasks_abandoned++;
    pthread_cond_broadcast(&w->cv);
    pthread_mutex_unlock(&w->m);
    while (waiting) {
        job *n = waiting->next;
        job_free(waiting);
        waiting = n;
    }
    for (int i = 0; i < started; i++)
        pthread_join(th[i], NULL);
    free(th);
    pthread_mutex_lock(&w->m);
    out_item *o = w->out;
    w->out = w->out_tail = NULL;
    w->st.registered = 0;
    pthread_mutex_unlock(&w->m);
    while (o) {
        out_item *n = o->next;
        reply_clear(&o->reply);
        free(o);
        o = n;
    }
    vx__zmq.zmq_close(sock);
    atomic_store(&w->running, 0);
    return rc;
}

/* ------------------------------------------------------------------ */
/* lifecycle                                                           */
/* ------------------------------------------------------------------ */
int vx_worker_new(const char *connect_endpoint, int threads, vx_worker_handler_fn handler, void *user,
                  vx_worker **out, vx_error *err)
{
    vx_worker_opts o;
    vx_worker_opts_init(&o);
    o.threads = threads;
    return vx_worker_new_opts(connect_endpoint, &o, handler, user, out, err);
}

int vx_worker_new_opts(const char *connect_endpoint, const vx_worker_opts *opts,
                       vx_worker_handler_fn handler, void *user, vx_worker **out, vx_error *err)
{
    if (out)
        *out = NULL;
    if (!out || !handler)
        return vx__error_set(err, VX_EINVAL, "worker: NULL argument");
    vx_worker_opts o;
    if (opts)
        o = *opts;
    else
        vx_worker_opts_init(&o);
    if (!connect_endpoint || strlen(connect_endpoint) >= 256 ||
        !(strncmp(connect_endpoint, "tcp://", 6) == 0 || strncmp(connect_endpoint, "ipc://", 6) == 0 ||
          strncmp(connect_endpoint, "inproc://", 9) == 0))
        return vx__error_set(err, VX_EINVAL,
                             "worker: endpoint must be tcp://HOST:PORT, ipc://PATH or inproc://NAME");
    if (strncmp(connect_endpoint, "inproc://", 9) == 0 && !o.zmq_context)
        return vx__error_set(err, VX_EINVAL, "worker: inproc:// needs the broker's zmq_context");
    if (o.threads < 1 || o.threads > VX_PROTO_MAX_CAPACITY)
        return vx__error_set(err, VX_EINVAL, "worker: threads must be 1..%d", VX_PROTO_MAX_CAPACITY);
    if (o.heartbeat_ms < 10 || o.heartbeat_ms > 60000 || o.heartbeat_timeout_ms < o.heartbeat_ms ||
        o.heartbeat_timeout_ms > 600000)
        return vx__error_set(err, VX_EINVAL,
                             "worker: heartbeat_ms 10..60000 <= heartbeat_timeout_ms <= 600000");
    if (o.worker_id && !vx_proto_id_valid(o.worker_id))
        return vx__error_set(err, VX_EINVAL, "worker: worker_id must be 1..64 of [A-Za-z0-9._:-]");
    int lrc = vx__zmq_load(err);
    if (lrc != VX_OK)
        return lrc;
    vx_worker *w = calloc(1, sizeof *w);
    if (!w)
        return vx__error_set(err, VX_ENOMEM, "worker: out of memory");
    snprintf(w->endpoint, sizeof w->endpoint, "%s", connect_endpoint);
    if (o.worker_id) {
        snprintf(w->id, sizeof w->id, "%s", o.worker_id);
    } else {
        char uuid[VX_STORE_ID_LEN + 1];
        vx_store_new_id(uuid);
        snprintf(w->id, sizeof w->id, "w-%s", uuid);
    }
    char nonce[VX_STORE_ID_LEN + 1];
    vx_store_new_id(nonce);
    snprintf(w->instance, sizeof w->instance, "i-%s", nonce);
    w->threads = o.threads;
    w->hb_ms = o.heartbeat_ms;
    w->hb_timeout_ms = o.heartbeat_timeout_ms;
    w->handler = handler;
    w->user = user;
    w->wake[0] = w->wake[1] = -1;
    atomic_init(&w->stop, 0);
    atomic_init(&w->running, 0);
    pthread_mutex_init(&w->m, NULL);
    pthread_cond_init(&w->cv, NULL);
    w->ctx = o.zmq_context;
    if (!w->ctx) {
        w->ctx = vx__zmq.zmq_ctx_new();
        w->own_ctx = 1;
    }
    if (!w->ctx || pipe(w->wake) != 0) {
        if (w->wake[0] < 0)
            w->wake[1] = -1;
        vx_worker_free(w);
        return vx__error_set(err, VX_ENOMEM, "worker: cannot create a ZeroMQ context or a pipe");
    }
    for (int i = 0; i < 2; i++) {
        fcntl(w->wake[i], F_SETFL, fcntl(w->wake[i], F_GETFL) | O_NONBLOCK);
        fcntl(w->wake[i], F_SETFD, FD_CLOEXEC);
    }
    *out = w;
    return VX_OK;
}

static void *bg_main(void *arg)
{
    vx_worker *w = arg;
    vx_worker_run_until_stopped(w, NULL);
    return NULL;
}

int vx_worker_start(vx_worker *w, vx_error *err)
{
    if (!w)
        return vx__error_set(err, VX_EINVAL, "worker: NULL");
    if (w->bg_started)
        return vx__error_set(err, VX_EINVAL, "worker: already started");
    if (pthread_create(&w->bg, NULL, bg_main, w) != 0)
        return vx__error_set(err, VX_ENOMEM, "worker: cannot start the I/O thread");
    w->bg_started = 1;
    return VX_OK;
}

void vx_worker_stop(vx_worker *w)
{
    if (!w)
        return;
    atomic_store(&w->stop, 1);
    if (w->wake[1] >= 0) {
        char c = 1;
        ssize_t r = write(w->wake[1], &c, 1);
        (void)r;
    }
}

void vx_worker_free(vx_worker *w)
{
    if (!w)
        return;
    vx_worker_stop(w);
    if (w->bg_started)
        pthread_join(w->bg, NULL);
    if (w->own_ctx && w->ctx)
        vx__zmq.zmq_ctx_term(w->ctx);
    for (int i = 0; i < 2; i++)
        if (w->wake[i] >= 0)
            close(w->wake[i]);
    pthread_cond_destroy(&w->cv);
    pthread_mutex_destroy(&w->m);
    free(w);
}

const char *vx_worker_id(const vx_worker *w)
{
    return w ? w->id : "";
}

void vx_worker_stats_get(vx_worker *w, vx_worker_stats *out)
{
    memset(out, 0, sizeof *out);
    if (!w)
        return;
    int n = in_flight(w);
    pthread_mutex_lock(&w->m);
    *out = w->st;
    pthread_mutex_unlock(&w->m);
    out->in_flight = n;
}
