/*
 * cache.c -- the analysis / voiceprint cache: in-process LRU, Redis, none.
 *
 * DESIGN: a cache only saves work, so every back-end fails towards "miss":
 * callers treat ENOTFOUND and EUNAVAIL alike and recompute.  The argument
 * checks are shared so all back-ends accept and refuse exactly the same
 * calls (a test that passes on "memory" means the same on Redis).
 *
 * memory: one mutex around a chained hash map plus a doubly linked LRU list
 * (head = most recently used).  Each entry is one malloc block holding key
 * and value, built before the lock is taken, so the critical section of a
 * put is only unlink/evict/link.  The budget counts key + value bytes; a put
 * evicts from the tail until the new entry fits.  TTLs use the monotonic
 * clock and are checked lazily (an expired entry is dropped when met; the
 * LRU tail evicts the rest).
 *
 * redis: one blocking hiredis context behind a mutex (a local round trip is
 * tens of microseconds, small next to the seconds an analysis costs, so a
 * pool would buy nothing measurable).  Connect timeout 200 ms, command
 * timeout 500 ms.  Any I/O error frees the context and marks the back-end
 * down; while it is down every call returns EUNAVAIL at once, and one call
 * per second (the first to arrive) tries to reconnect, outside the mutex so
 * other callers never wait behind a connect.  A Redis error reply (OOM,
 * WRONGTYPE...) is EIO and keeps the connection.  hiredis 0.14 writes with
 * write(), so SIGPIPE is blocked on the calling thread around each command
 * and a pending one is consumed: the library never changes process-wide
 * signal state.
 */
#include "cache/cache.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <hiredis/hiredis.h>

#include "core/error.h"

enum { VX__CACHE_NONE, VX__CACHE_MEMORY, VX__CACHE_REDIS };

#define VX__CACHE_DEFAULT_BYTES ((uint64_t)64 << 20)
#define VX__REDIS_CONNECT_MS 200
#define VX__REDIS_COMMAND_MS 500
#define VX__REDIS_RETRY_NS 1000000000LL
#define VX__REDIS_MAX_HOST 255

typedef struct vx__lru_entry {
    struct vx__lru_entry *hnext;       /* hash chain */
    struct vx__lru_entry *prev, *next; /* LRU list, head = most recent */
    uint64_t hash;
    int64_t expires_ns; /* 0 = never */
    size_t klen, vlen;
    unsigned char *value; /* inside the same block, after key */
    char key[];           /* klen + 1 bytes, then the value */
} vx__lru_entry;

struct vx_cache {
    int kind;
    pthread_mutex_t mu;
    _Atomic uint64_t hits, misses, errors;

    /* memory */
    vx__lru_entry **buckets;
    size_t nbuckets; /* power of two */
    size_t entries;
    uint64_t bytes, budget;
    vx__lru_entry *head, *tail;

    /* redis */
    redisContext *ctx; /* NULL = down */
    int connecting;    /* a thread is connecting (outside mu) */
    int64_t last_attempt_ns;
    char host[VX__REDIS_MAX_HOST + 1];
    int port;
    int db;
};

/* ------------------------------------------------------------------ */
/* helpers                                                             */
/* ------------------------------------------------------------------ */

static int64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static uint64_t hash_key(const char *key, size_t len)
{
    uint64_t h = 1469598103934665603ULL; /* FNV-1a */
    for (size_t i = 0; i < len; i++) {
        h ^= (unsigned char)key[i];
        h *= 1099511628211ULL;
    }
    return h ^ (h >> 29);
}

/* Decimal digits s[0..len) into *out (<= max).  0 on success. */
static int parse_u64(const char *s, size_t len, uint64_t max, uint64_t *out)
{
    uint64_t v = 0;
    if (len == 0)
        return -1;
    for (size_t i = 0; i < len; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        unsigned d = (unsigned)(s[i] - '0');
        if (v > (max - d) / 10)
            return -1;
        v = v * 10 + d;
    }
    *out = v;
    return 0;
}

static int check_key(const vx_cache *c, const char *key, size_t *klen, vx_error *err)
{
    if (!c)
        return vx__error_set(err, VX_EINVAL, "cache: NULL cache handle");
    if (!key)
        return vx__error_set(err, VX_EINVAL, "cache: NULL key");
    size_t n = strnlen(key, VX_CACHE_MAX_KEY + 1);
    if (n == 0)
        return vx__error_set(err, VX_EINVAL, "cache: empty key");
    if (n > VX_CACHE_MAX_KEY)
        return vx__error_set(err, VX_EINVAL, "cache: key longer than %d bytes", VX_CACHE_MAX_KEY);
    *klen = n;
    return VX_OK;
}

static void count(_Atomic uint64_t *counter)
{
    atomic_fetch_add_explicit(counter, 1, memory_order_relaxed);
}

/* ------------------------------------------------------------------ */
/* memory back-end                                                     */
/* ------------------------------------------------------------------ */

static vx__lru_entry **mem_slot(vx_cache *c, const char *key, size_t klen, uint64_t h)
{
    vx__lru_entry **p = &c->buckets[h & (c->nbuckets - 1)];
    while (*p && !((*p)->hash == h && (*p)->klen == klen && memcmp((*p)->key, key, klen) == 0))
        p = &(*p)->hnext;
    return p;
}

static void lru_unlink(vx_cache *c, vx__lru_entry *e)
{
    if (e->prev)
        e->prev->next = e->next;
    else
        c->head = e->next;
    if (e->next)
        e->next->prev = e->prev;
    else
        c->tail = e->prev;
    e->prev = e->next = NULL;
}

static void lru_push_front(vx_cache *c, vx__lru_entry *e)
{
    e->prev = NULL;
    e->next = c->head;
    if (c->head)
        c->head->prev = e;
    c->head = e;
    if (!c->tail)
        c->tail = e;
}

/* Unlinks e (hash chain and LRU) and frees it.  mu held. */
static void mem_drop(vx_cache *c, vx__lru_entry *e)
{
    vx__lru_entry **p = mem_slot(c, e->key, e->klen, e->hash);
    if (*p == e)
        *p = e->hnext;
    lru_unlink(c, e);
    c->entries--;
    c->bytes -= e->klen + e->vlen;
    free(e);
}

/* Doubles the bucket array when the load factor passes 1; failure to grow is
 * harmless (chains get longer).  mu held. */
static void mem_maybe_grow(vx_cache *c)
{
    if (c->entries <= c->nbuckets || c->nbuckets > ((size_t)1 << 30))
        return;
    size_t nb = c->nbuckets * 2;
    vx__lru_entry **b = calloc(nb, sizeof *b);
    if (!b)
        return;
    for (size_t i = 0; i < c->nbuckets; i++) {
        vx__lru_entry *e = c->buckets[i];
        while (e) {
            vx__lru_entry *next = e->hnext;
            size_t j = e->hash & (nb - 1);
            e->hnext = b[j];
            b[j] = e;
            e = next;
        }
    }
    free(c->buckets);
    c->buckets = b;
    c->nbuckets = nb;
}

static int mem_get(vx_cache *c, const char *key, size_t klen, void **data, size_t *size,
                   vx_error *err)
{
    uint64_t h = hash_key(key, klen);
    int rc;
    pthread_mutex_lock(&c->mu);
    vx__lru_entry *e = *mem_slot(c, key, klen, h);
    if (e && e->expires_ns && now_ns() >= e->expires_ns) {
        mem_drop(c, e);
        e = NULL;
    }
    if (!e) {
        rc = vx__error_set(err, VX_ENOTFOUND, "cache: key not found");
    } else {
        void *copy = malloc(e->vlen ? e->vlen : 1);
        if (!copy) {
            rc = vx__error_set(err, VX_ENOMEM, "cache: out of memory copying %zu bytes", e->vlen);
        } else {
            if (e->vlen)
                memcpy(copy, e->value, e->vlen);
            *data = copy;
            *size = e->vlen;
            lru_unlink(c, e);
            lru_push_front(c, e);
            rc = VX_OK;
        }
    }
    pthread_mutex_unlock(&c->mu);
    if (rc == VX_OK)
        count(&c->hits);
    else if (rc == VX_ENOTFOUND)
        count(&c->misses);
    return rc;
}

static int mem_put(vx_cache *c, const char *key, size_t klen, const void *data, size_t size,
                   unsigned ttl_s, vx_error *err)
{
    if ((uint64_t)klen + size > c->budget)
        return vx__error_set(err, VX_ELIMIT,
                             "cache: entry of %zu bytes exceeds the memory budget of %llu bytes",
                             klen + size, (unsigned long long)c->budget);
    vx__lru_entry *e = malloc(sizeof *e + klen + 1 + size);
    if (!e)
        return vx__error_set(err, VX_ENOMEM, "cache: out of memory for a %zu-byte entry", size);
    memset(e, 0, sizeof *e);
    memcpy(e->key, key, klen);
    e->key[klen] = '\0';
    e->value = (unsigned char *)e->key + klen + 1;
    if (size)
        memcpy(e->value, data, size);
    e->klen = klen;
    e->vlen = size;
    e->hash = hash_key(key, klen);
    e->expires_ns = ttl_s ? now_ns() + (int64_t)ttl_s * 1000000000LL : 0;

    pthread_mutex_lock(&c->mu);
    vx__lru_entry *old = *mem_slot(c, key, klen, e->hash);
    if (old)
        mem_drop(c, old);
    while (c->tail && c->bytes + klen + size > c->budget)
        mem_drop(c, c->tail);
    vx__lru_entry **slot = &c->buckets[e->hash & (c->nbuckets - 1)];
    e->hnext = *slot;
    *slot = e;
    lru_push_front(c, e);
    c->entries++;
    c->bytes += klen + size;
    mem_maybe_grow(c);
    pthread_mutex_unlock(&c->mu);
    return VX_OK;
}

static int mem_del(vx_cache *c, const char *key, size_t klen)
{
    uint64_t h = hash_key(key, klen);
    pthread_mutex_lock(&c->mu);
    vx__lru_entry *e = *mem_slot(c, key, klen, h);
    if (e)
        mem_drop(c, e);
    pthread_mutex_unlock(&c->mu);
    return VX_OK;
}

static void mem_clear(vx_cache *c)
{
    vx__lru_entry *e = c->head;
    while (e) {
        vx__lru_entry *next = e->next;
        free(e);
        e = next;
    }
    c->head = c->tail = NULL;
    free(c->buckets);
    c->buckets = NULL;
}

/* ------------------------------------------------------------------ */
/* redis back-end                                                      */
/* ------------------------------------------------------------------ */

/* SIGPIPE guard: block on this thread, consume one raised meanwhile. */
typedef struct {
    sigset_t old;
    int was_pending;
} vx__sigpipe_guard;

static void sigpipe_block(vx__sigpipe_guard *g)
{
    sigset_t set, pending;
    sigemptyset(&set);
    sigaddset(&set, SIGPIPE);
    sigemptyset(&pending);
    sigpending(&pending);
    g->was_pending = sigismember(&pending, SIGPIPE) == 1;
    pthread_sigmask(SIG_BLOCK, &set, &g->old);
}

static void sigpipe_restore(vx__sigpipe_guard *g)
{
    if (!g->was_pending) {
        sigset_t set, pending;
        sigemptyset(&set);
        sigaddset(&set, SIGPIPE);
        sigemptyset(&pending);
        if (sigpending(&pending) == 0 && sigismember(&pending, SIGPIPE) == 1) {
            struct timespec zero = {0, 0};
            while (sigtimedwait(&set, NULL, &zero) < 0 && errno == EINTR) {
            }
        }
    }
    pthread_sigmask(SIG_SETMASK, &g->old, NULL);
}

static redisReply *redis_command(redisContext *ctx, int argc, const char **argv,
                                 const size_t *argvlen)
{
    vx__sigpipe_guard g;
    sigpipe_block(&g);
    redisReply *r = redisCommandArgv(ctx, argc, argv, argvlen);
    sigpipe_restore(&g);
    return r;
}

/* Opens a context (no lock held).  NULL with why filled on failure. */
static redisContext *redis_connect(const char *host, int port, int db, char *why, size_t why_size)
{
    struct timeval ct = {0, VX__REDIS_CONNECT_MS * 1000};
    struct timeval cmd = {0, VX__REDIS_COMMAND_MS * 1000};
    redisContext *ctx = redisConnectWithTimeout(host, port, ct);
    if (!ctx) {
        snprintf(why, why_size, "out of memory");
        return NULL;
    }
    if (ctx->err) {
        snprintf(why, why_size, "%s", ctx->errstr);
        redisFree(ctx);
        return NULL;
    }
    if (redisSetTimeout(ctx, cmd) != REDIS_OK) {
        snprintf(why, why_size, "cannot set timeout: %s", ctx->errstr);
        redisFree(ctx);
        return NULL;
    }
    if (db > 0) {
        char dbs[16];
        snprintf(dbs, sizeof dbs, "%d", db);
        const char *argv[2] = {"SELECT", dbs};
        size_t lens[2] = {6, strlen(dbs)};
        redisReply *r = redis_command(ctx, 2, argv, lens);
        if (!r || r->type == REDIS_REPLY_ERROR) {
            snprintf(why, why_size, "SELECT %d: %s", db, r ? r->str : ctx->errstr);
            if (r)
                freeReplyObject(r);
            redisFree(ctx);
            return NULL;
        }
        freeReplyObject(r);
    }
    return ctx;
}

/* Makes sure c->ctx is usable.  Called and returns with mu held; drops it
 * while connecting so other callers get EUNAVAIL instead of waiting. */
static int redis_ensure(vx_cache *c, vx_error *err)
{
    if (c->ctx)
        return VX_OK;
    int64_t now = now_ns();
    if (c->connecting || now - c->last_attempt_ns < VX__REDIS_RETRY_NS)
        return vx__error_set(err, VX_EUNAVAIL,
                             "cache: redis %s:%d is down (reconnect tried at most once a second)",
                             c->host, c->port);
    c->connecting = 1;
    c->last_attempt_ns = now;
    pthread_mutex_unlock(&c->mu);
    char why[160];
    why[0] = '\0';
    redisContext *ctx = redis_connect(c->host, c->port, c->db, why, sizeof why);
    pthread_mutex_lock(&c->mu);
    c->connecting = 0;
    c->last_attempt_ns = now_ns();
    if (!ctx)
        return vx__error_set(err, VX_EUNAVAIL, "cache: redis %s:%d unreachable: %s", c->host,
                             c->port, why);
    c->ctx = ctx;
    return VX_OK;
}

/* Runs one command; on success returns the reply with mu STILL HELD (the
 * caller reads it, frees it and unlocks).  On failure mu is released. */
static int redis_run(vx_cache *c, int argc, const char **argv, const size_t *lens,
                     redisReply **out, vx_error *err)
{
    pthread_mutex_lock(&c->mu);
    int rc = redis_ensure(c, err);
    if (rc != VX_OK) {
        pthread_mutex_unlock(&c->mu);
        count(&c->errors);
        return rc;
    }
    redisReply *r = redis_command(c->ctx, argc, argv, lens);
    if (!r || c->ctx->err) {
        rc = vx__error_set(err, VX_EUNAVAIL, "cache: redis %s:%d: %s %s", c->host, c->port,
                           argv[0], c->ctx->err ? c->ctx->errstr : "no reply");
        if (r)
            freeReplyObject(r);
        redisFree(c->ctx);
        c->ctx = NULL;
        c->last_attempt_ns = now_ns();
        pthread_mutex_unlock(&c->mu);
        count(&c->errors);
        return rc;
    }
    if (r->type == REDIS_REPLY_ERROR) {
        rc = vx__error_set(err, VX_EIO, "cache: redis %s: %s", argv[0], r->str);
        freeReplyObject(r);
        pthread_mutex_unlock(&c->mu);
        count(&c->errors);
        return rc;
    }
    *out = r;
    return VX_OK;
}

static int redis_get(vx_cache *c, const char *key, size_t klen, void **data, size_t *size,
                     vx_error *err)
{
    const char *argv[2] = {"GET", key};
    size_t lens[2] = {3, klen};
    redisReply *r = NULL;
    int rc = redis_run(c, 2, argv, lens, &r, err);
    if (rc != VX_OK)
        return rc;
    if (r->type == REDIS_REPLY_NIL) {
        rc = vx__error_set(err, VX_ENOTFOUND, "cache: key not found");
    } else if (r->type != REDIS_REPLY_STRING) {
        rc = vx__error_set(err, VX_EIO, "cache: redis GET: unexpected reply type %d", r->type);
    } else if (r->len > VX_CACHE_MAX_VALUE) {
        rc = vx__error_set(err, VX_ELIMIT, "cache: redis value of %zu bytes exceeds the limit",
                           (size_t)r->len);
    } else {
        void *copy = malloc(r->len ? (size_t)r->len : 1);
        if (!copy) {
            rc = vx__error_set(err, VX_ENOMEM, "cache: out of memory copying %zu bytes",
                               (size_t)r->len);
        } else {
            if (r->len)
                memcpy(copy, r->str, (size_t)r->len);
            *data = copy;
            *size = (size_t)r->len;
        }
    }
    freeReplyObject(r);
    pthread_mutex_unlock(&c->mu);
    if (rc == VX_OK)
        count(&c->hits);
    else if (rc == VX_ENOTFOUND)
        count(&c->misses);
    else if (rc == VX_EIO)
        count(&c->errors);
    return rc;
}

static int redis_put(vx_cache *c, const char *key, size_t klen, const void *data, size_t size,
                     unsigned ttl_s, vx_error *err)
{
    char ttl[16];
    snprintf(ttl, sizeof ttl, "%u", ttl_s);
    const char *argv[5] = {"SET", key, size ? (const char *)data : "", "EX", ttl};
    size_t lens[5] = {3, klen, size, 2, strlen(ttl)};
    redisReply *r = NULL;
    int rc = redis_run(c, ttl_s ? 5 : 3, argv, lens, &r, err);
    if (rc != VX_OK)
        return rc;
    if (r->type != REDIS_REPLY_STATUS) {
        rc = vx__error_set(err, VX_EIO, "cache: redis SET: unexpected reply type %d", r->type);
        count(&c->errors);
    }
    freeReplyObject(r);
    pthread_mutex_unlock(&c->mu);
    return rc;
}

static int redis_del(vx_cache *c, const char *key, size_t klen, vx_error *err)
{
    const char *argv[2] = {"DEL", key};
    size_t lens[2] = {3, klen};
    redisReply *r = NULL;
    int rc = redis_run(c, 2, argv, lens, &r, err);
    if (rc != VX_OK)
        return rc;
    freeReplyObject(r);
    pthread_mutex_unlock(&c->mu);
    return VX_OK;
}

/* "HOST:PORT[/DB]" (HOST may be [v6]); port defaults to 6379. */
static int parse_redis_url(vx_cache *c, const char *url, const char *rest, vx_error *err)
{
    const char *slash = strchr(rest, '/');
    const char *end = slash ? slash : rest + strlen(rest);
    const char *host = rest, *host_end, *port_s = NULL;
    if (*rest == '[') {
        host = rest + 1;
        host_end = memchr(host, ']', (size_t)(end - host));
        if (!host_end)
            return vx__error_set(err, VX_EINVAL, "cache: bad redis URL '%s' (unclosed '[')", url);
        if (host_end + 1 < end) {
            if (host_end[1] != ':')
                return vx__error_set(err, VX_EINVAL, "cache: bad redis URL '%s'", url);
            port_s = host_end + 2;
        }
    } else {
        const char *colon = memchr(rest, ':', (size_t)(end - rest));
        host_end = colon ? colon : end;
        if (colon) {
            port_s = colon + 1;
            if (memchr(port_s, ':', (size_t)(end - port_s)))
                return vx__error_set(err, VX_EINVAL,
                                     "cache: bad redis URL '%s' (IPv6 hosts need [brackets])", url);
        }
    }
    size_t hlen = (size_t)(host_end - host);
    if (hlen == 0 || hlen > VX__REDIS_MAX_HOST || memchr(host, '@', hlen))
        return vx__error_set(err, VX_EINVAL,
                             "cache: bad redis URL '%s' (expected redis://HOST:PORT[/DB])", url);
    memcpy(c->host, host, hlen);
    c->host[hlen] = '\0';
    uint64_t v = 6379;
    if (port_s && (parse_u64(port_s, (size_t)(end - port_s), 65535, &v) != 0 || v == 0))
        return vx__error_set(err, VX_EINVAL, "cache: bad port in redis URL '%s'", url);
    c->port = (int)v;
    c->db = 0;
    if (slash && slash[1]) {
        if (parse_u64(slash + 1, strlen(slash + 1), 1000000, &v) != 0)
            return vx__error_set(err, VX_EINVAL, "cache: bad database number in redis URL '%s'",
                                 url);
        c->db = (int)v;
    }
    return VX_OK;
}

/* ------------------------------------------------------------------ */
/* public                                                              */
/* ------------------------------------------------------------------ */

static int parse_bytes(const char *s, uint64_t *out)
{
    size_t n = strlen(s);
    uint64_t mult = 1;
    if (n > 0) {
        switch (s[n - 1]) {
        case 'k': case 'K': mult = (uint64_t)1 << 10; n--; break;
        case 'm': case 'M': mult = (uint64_t)1 << 20; n--; break;
        case 'g': case 'G': mult = (uint64_t)1 << 30; n--; break;
        default: break;
        }
    }
    uint64_t v;
    if (parse_u64(s, n, UINT64_MAX / mult, &v) != 0 || v == 0)
        return -1;
    *out = v * mult;
    return 0;
}

int vx_cache_open(const char *url, vx_cache **out, vx_error *err)
{
    if (!out)
        return vx__error_set(err, VX_EINVAL, "cache: NULL output pointer");
    *out = NULL;
    if (!url)
        return vx__error_set(err, VX_EINVAL, "cache: NULL URL");
    vx_cache *c = calloc(1, sizeof *c);
    if (!c)
        return vx__error_set(err, VX_ENOMEM, "cache: out of memory");
    int rc = VX_OK;
    if (strcmp(url, "none") == 0) {
        c->kind = VX__CACHE_NONE;
    } else if (strcmp(url, "memory") == 0 || strncmp(url, "memory:", 7) == 0) {
        c->kind = VX__CACHE_MEMORY;
        c->budget = VX__CACHE_DEFAULT_BYTES;
        if (url[6] == ':' && parse_bytes(url + 7, &c->budget) != 0)
            rc = vx__error_set(err, VX_EINVAL,
                               "cache: bad memory size in '%s' (expected memory:BYTES[K|M|G])", url);
        if (rc == VX_OK) {
            c->nbuckets = 64;
            c->buckets = calloc(c->nbuckets, sizeof *c->buckets);
            if (!c->buckets)
                rc = vx__error_set(err, VX_ENOMEM, "cache: out of memory");
        }
    } else if (strncmp(url, "redis://", 8) == 0) {
        c->kind = VX__CACHE_REDIS;
        rc = parse_redis_url(c, url, url + 8, err);
    } else {
        rc = vx__error_set(err, VX_EINVAL,
                           "cache: unknown cache URL '%s' (expected memory[:BYTES], "
                           "redis://HOST:PORT[/DB] or none)",
                           url);
    }
    if (rc != VX_OK) {
        free(c->buckets);
        free(c);
        return rc;
    }
    if (pthread_mutex_init(&c->mu, NULL) != 0) {
        free(c->buckets);
        free(c);
        return vx__error_set(err, VX_ENOMEM, "cache: cannot create mutex");
    }
    if (c->kind == VX__CACHE_REDIS) {
        /* down at open time is not an error: start unhealthy, retry later */
        c->last_attempt_ns = now_ns() - VX__REDIS_RETRY_NS;
        pthread_mutex_lock(&c->mu);
        (void)redis_ensure(c, NULL);
        pthread_mutex_unlock(&c->mu);
    }
    *out = c;
    vx__error_clear(err);
    return VX_OK;
}

void vx_cache_free(vx_cache *c)
{
    if (!c)
        return;
    if (c->kind == VX__CACHE_MEMORY)
        mem_clear(c);
    if (c->ctx)
        redisFree(c->ctx);
    pthread_mutex_destroy(&c->mu);
    free(c);
}

const char *vx_cache_backend(const vx_cache *c)
{
    if (!c)
        return "none";
    switch (c->kind) {
    case VX__CACHE_MEMORY: return "memory";
    case VX__CACHE_REDIS: return "redis";
    default: return "none";
    }
}

int vx_cache_get(vx_cache *c, const char *key, void **data, size_t *size, vx_error *err)
{
    if (data)
        *data = NULL;
    if (size)
        *size = 0;
    size_t klen = 0;
    int rc = check_key(c, key, &klen, err);
    if (rc != VX_OK)
        return rc;
    if (!data || !size)
        return vx__error_set(err, VX_EINVAL, "cache: NULL output pointer");
    switch (c->kind) {
    case VX__CACHE_MEMORY: rc = mem_get(c, key, klen, data, size, err); break;
    case VX__CACHE_REDIS: rc = redis_get(c, key, klen, data, size, err); break;
    default:
        count(&c->misses);
        rc = vx__error_set(err, VX_ENOTFOUND, "cache: disabled (none)");
        break;
    }
    if (rc == VX_OK)
        vx__error_clear(err);
    return rc;
}

int vx_cache_put(vx_cache *c, const char *key, const void *data, size_t size, unsigned ttl_s,
                 vx_error *err)
{
    size_t klen = 0;
    int rc = check_key(c, key, &klen, err);
    if (rc != VX_OK)
        return rc;
    if (!data && size)
        return vx__error_set(err, VX_EINVAL, "cache: NULL data with size %zu", size);
    if (size > VX_CACHE_MAX_VALUE)
        return vx__error_set(err, VX_ELIMIT, "cache: value of %zu bytes exceeds the %u-byte limit",
                             size, VX_CACHE_MAX_VALUE);
    switch (c->kind) {
    case VX__CACHE_MEMORY: rc = mem_put(c, key, klen, data, size, ttl_s, err); break;
    case VX__CACHE_REDIS: rc = redis_put(c, key, klen, data, size, ttl_s, err); break;
    default: rc = VX_OK; break;
    }
    if (rc == VX_OK)
        vx__error_clear(err);
    return rc;
}

int vx_cache_del(vx_cache *c, const char *key, vx_error *err)
{
    size_t klen = 0;
    int rc = check_key(c, key, &klen, err);
    if (rc != VX_OK)
        return rc;
    switch (c->kind) {
    case VX__CACHE_MEMORY: rc = mem_del(c, key, klen); break;
    case VX__CACHE_REDIS: rc = redis_del(c, key, klen, err); break;
    default: rc = VX_OK; break;
    }
    if (rc == VX_OK)
        vx__error_clear(err);
    return rc;
}

int vx_cache_healthy(vx_cache *c)
{
    if (!c)
        return 0;
    if (c->kind != VX__CACHE_REDIS)
        return 1;
    pthread_mutex_lock(&c->mu);
    int ok = redis_ensure(c, NULL) == VX_OK;
    pthread_mutex_unlock(&c->mu);
    return ok;
}

void vx_cache_stats_get(vx_cache *c, vx_cache_stats *out)
{
    if (!out)
        return;
    memset(out, 0, sizeof *out);
    if (!c)
        return;
    out->hits = atomic_load_explicit(&c->hits, memory_order_relaxed);
    out->misses = atomic_load_explicit(&c->misses, memory_order_relaxed);
    out->errors = atomic_load_explicit(&c->errors, memory_order_relaxed);
    out->healthy = 1;
    if (c->kind == VX__CACHE_MEMORY) {
        pthread_mutex_lock(&c->mu);
        out->entries = c->entries;
        out->bytes = c->bytes;
        pthread_mutex_unlock(&c->mu);
    } else if (c->kind == VX__CACHE_REDIS) {
        pthread_mutex_lock(&c->mu);
        out->healthy = c->ctx != NULL;
        pthread_mutex_unlock(&c->mu);
    }
}
