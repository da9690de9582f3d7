/*
 * store.c -- the store API on top of a back-end (store_sqlite.c,
 * store_pg.c): URL dispatch, connection pool, transactions, validation.
 *
 * DESIGN: everything that decides behaviour lives here, once, so SQLite and
 * PostgreSQL cannot drift apart: argument checks, the SQL (written in the
 * common subset of both dialects, "$N" placeholders), the transaction around
 * every write, version numbering and the mapping of "no row" to ENOTFOUND.
 * Each call is a small function run by run_tx() on one pooled connection
 * inside BEGIN ... COMMIT (or ROLLBACK on any error, so a failed call
 * changes nothing).  The pool is a mutex + condition variable over at most
 * ops->max_conns connections (1 for SQLite: the pool then is the
 * serialising mutex; 4 for PostgreSQL).  A connection found broken is
 * reset once; when the transaction failed before doing anything (BEGIN on
 * a connection that died while idle), or it only read, it is run again on
 * the fresh connection; a write that broke half-way is not repeated (it may
 * have been committed), and the caller gets EUNAVAIL.  Rows are copied out
 * of the database before callbacks run, so a callback may call the store.
 * Times come from this process's clock, so both back-ends store the same
 * values; uint64 seeds are stored as decimal text (exact, both dialects).
 */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "core/error.h"
#include "store/store_internal.h"

#define MAX_TOKEN_HASH 128
#define MAX_JSON (16u << 20)
#define DEFAULT_HISTORY_LIMIT 100

struct vx_store {
    const vx__store_ops *ops;
    char *url;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    size_t max_conns, n_open, n_idle;
    vx__conn **idle;
    /* group commit of similarity-history inserts (see history_add) */
    pthread_mutex_t hist_mu;
    pthread_cond_t hist_cv;
    struct history_args *hist_pending; /* linked through ->next */
    int hist_leader;
};

/* ---- small helpers --------------------------------------------------- */

#define PT(x) pt(x)
#define PI(x) ((vx__val){.type = VX__V_INT64, .i = (int64_t)(x)})
#define PD(x) ((vx__val){.type = VX__V_DOUBLE, .d = (x)})
#define PB(ptr, n) ((vx__val){.type = VX__V_BLOB, .p = (ptr), .len = (n)})
#define NP(a) (sizeof(a) / sizeof((a)[0]))

static vx__val pt(const char *x)
{
    return (vx__val){.type = x ? VX__V_TEXT : VX__V_NULL, .s = x};
}

void vx__res_clear(vx__res *res)
{
    if (!res)
        return;
    if (res->cells) {
        for (size_t i = 0; i < res->nrows * res->ncols; i++)
            free(res->cells[i].data);
        free(res->cells);
    }
    memset(res, 0, sizeof *res);
}

int vx__res_alloc(vx__res *res, size_t nrows, size_t ncols, vx_error *err)
{
    memset(res, 0, sizeof *res);
    if (ncols && nrows > SIZE_MAX / ncols / sizeof(vx__cell))
        return vx__error_set(err, VX_ENOMEM, "store: result too large");
    size_t count = nrows * ncols;
    res->cells = calloc(count ? count : 1, sizeof(vx__cell));
    if (!res->cells)
        return vx__error_set(err, VX_ENOMEM, "store: out of memory");
    res->nrows = nrows;
    res->ncols = ncols;
    return VX_OK;
}

void vx__voiceprint_encode(const float *v, unsigned char out[VX_VOICEPRINT_DIM * 4])
{
    for (size_t i = 0; i < VX_VOICEPRINT_DIM; i++) {
        uint32_t u;
        memcpy(&u, &v[i], 4);
        out[4 * i] = (unsigned char)(u & 0xff);
        out[4 * i + 1] = (unsigned char)((u >> 8) & 0xff);
        out[4 * i + 2] = (unsigned char)((u >> 16) & 0xff);
        out[4 * i + 3] = (unsigned char)(u >> 24);
    }
}

void vx__voiceprint_decode(const unsigned char *in, float *v)
{
    for (size_t i = 0; i < VX_VOICEPRINT_DIM; i++) {
        uint32_t u = (uint32_t)in[4 * i] | (uint32_t)in[4 * i + 1] << 8 |
                     (uint32_t)in[4 * i + 2] << 16 | (uint32_t)in[4 * i + 3] << 24;
        memcpy(&v[i], &u, 4);
    }
}

static const vx__cell *cell(const vx__res *r, size_t row, size_t col)
{
    return &r->cells[row * r->ncols + col];
}

static int64_t cell_i64(const vx__cell *c)
{
    if (c->null)
        return 0;
    if (c->kind == VX__V_INT64 || c->kind == VX__V_DOUBLE)
        return c->i;
    return (int64_t)strtoll(c->data, NULL, 10);
}

static double cell_d(const vx__cell *c)
{
    if (c->null)
        return 0;
    if (c->kind == VX__V_INT64 || c->kind == VX__V_DOUBLE)
        return c->d;
    return strtod(c->data, NULL);
}

/* text of a TEXT cell ("" when NULL or not text) */
static const char *cell_s(const vx__cell *c)
{
    return (!c->null && c->data) ? c->data : "";
}

/* malloc'd copy of a text cell, NULL when the cell is NULL; *oom set on
 * allocation failure */
static char *cell_dup(const vx__cell *c, int *oom)
{
    if (c->null || !c->data)
        return NULL;
    char *p = malloc(c->len + 1);
    if (!p) {
        *oom = 1;
        return NULL;
    }
    memcpy(p, c->data, c->len + 1);
    return p;
}

static void cell_copy(char *dst, size_t cap, const vx__cell *c)
{
    snprintf(dst, cap, "%s", cell_s(c));
}

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int is_hex(const char *s, size_t min, size_t max)
{
    size_t n = 0;
    for (; s[n]; n++) {
        char ch = s[n];
        if (n >= max ||
            !((ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'f') || (ch >= 'A' && ch <= 'F')))
            return 0;
    }
    return n >= min;
}

static int check_user(const char *user, vx_error *err)
{
    if (!vx_store_user_name_valid(user))
        return vx__error_set(err, VX_EINVAL,
                             "user: invalid name (1-%d characters of A-Z a-z 0-9 _ . @ -)",
                             VX_STORE_MAX_USER);
    return VX_OK;
}

static int check_text(const char *what, const char *s, size_t max, vx_error *err)
{
    if (!s)
        return vx__error_set(err, VX_EINVAL, "%s: missing", what);
    if (strlen(s) > max)
        return vx__error_set(err, VX_EINVAL, "%s: longer than %zu bytes", what, max);
    return VX_OK;
}

static int check_token_hash(const char *h, vx_error *err)
{
    if (!h || !is_hex(h, 1, MAX_TOKEN_HASH))
        return vx__error_set(err, VX_EINVAL, "token hash: expected 1-%d hex digits",
                             MAX_TOKEN_HASH);
    return VX_OK;
}

static int check_id(const char *what, const char *id, vx_error *err)
{
    if (!id || !id[0] || strlen(id) > VX_STORE_ID_LEN)
        return vx__error_set(err, VX_EINVAL, "%s: expected an id of 1-%d characters", what,
                             VX_STORE_ID_LEN);
    return VX_OK;
}

static int status_in(const char *st, const char *const *set)
{
    for (; *set; set++)
        if (strcmp(st, *set) == 0)
            return 1;
    return 0;
}

static const char *const job_states[] = {"queued", "running", "done", "partial", "failed", NULL};
static const char *const item_states[] = {"queued", "running", "done", "failed", NULL};

/* ---- pool and transactions ------------------------------------------- */

static int pool_acquire(vx_store *s, vx__conn **out, vx_error *err)
{
    vx__conn *c = NULL;
    pthread_mutex_lock(&s->mu);
    for (;;) {
        if (s->n_idle > 0) {
            c = s->idle[--s->n_idle];
            break;
        }
        if (s->n_open < s->max_conns) {
            s->n_open++;
            break;
        }
        pthread_cond_wait(&s->cv, &s->mu);
    }
    pthread_mutex_unlock(&s->mu);
    if (!c) {
        int rc = s->ops->connect(s->url, &c, err);
        if (rc != VX_OK) {
            pthread_mutex_lock(&s->mu);
            s->n_open--;
            pthread_cond_signal(&s->cv);
            pthread_mutex_unlock(&s->mu);
            return rc;
        }
    }
    *out = c;
    return VX_OK;
}

static void pool_release(vx_store *s, vx__conn *c)
{
    pthread_mutex_lock(&s->mu);
    s->idle[s->n_idle++] = c;
    pthread_cond_signal(&s->cv);
    pthread_mutex_unlock(&s->mu);
}

typedef int (*tx_fn)(vx_store *s, vx__conn *c, void *arg, vx_error *err);

static int run_tx(vx_store *s, vx__tx_mode mode, tx_fn fn, void *arg, vx_error *err)
{
    for (int attempt = 0;; attempt++) {
        vx__conn *c;
        int rc = pool_acquire(s, &c, err);
        if (rc != VX_OK)
            return rc;
        int began = 0, was_healthy = s->ops->healthy(c);
        if (!was_healthy)
            rc = s->ops->reset(c, err); /* the one reconnect attempt */
        if (rc == VX_OK)
            rc = s->ops->begin(c, mode, err);
        if (rc == VX_OK) {
            began = 1;
            rc = fn(s, c, arg, err);
            if (rc == VX_OK)
                rc = s->ops->commit(c, err);
            else
                s->ops->rollback(c);
        }
        int broken = !s->ops->healthy(c);
        pool_release(s, c);
        /* the connection broke under this attempt (not a failed reconnect):
         * reset it and try once more, unless a write may have gone through */
        if (rc == VX_EUNAVAIL && broken && was_healthy && attempt == 0 &&
            (!began || mode != VX__TX_WRITE))
            continue;
        return rc;
    }
}

static int q(vx_store *s, vx__conn *c, const char *sql, const vx__val *p, size_t n,
             vx__res *res, vx_error *err)
{
    return s->ops->exec(c, sql, p, n, res, err);
}

/* ---- open / close ---------------------------------------------------- */

int vx_store_open(const char *url, vx_store **out, vx_error *err)
{
    if (!out)
        return vx__error_set(err, VX_EINVAL, "store: out is NULL");
    *out = NULL;
    if (!url)
        return vx__error_set(err, VX_EINVAL, "store url: missing");
    const vx__store_ops *ops;
    if (strncmp(url, "sqlite:", 7) == 0)
        ops = &vx__store_sqlite_ops;
    else if (strncmp(url, "postgresql://", 13) == 0 || strncmp(url, "postgres://", 11) == 0)
        ops = &vx__store_pg_ops;
    else
        return vx__error_set(err, VX_EINVAL,
                             "store url: unknown scheme (expected sqlite:PATH or postgresql://)");
    vx_store *s = calloc(1, sizeof *s);
    if (!s)
        return vx__error_set(err, VX_ENOMEM, "store: out of memory");
    s->ops = ops;
    s->max_conns = ops->max_conns(url);
    size_t len = strlen(url);
    s->url = malloc(len + 1);
    s->idle = calloc(s->max_conns, sizeof *s->idle);
    if (!s->url || !s->idle) {
        free(s->url);
        free(s->idle);
        free(s);
        return vx__error_set(err, VX_ENOMEM, "store: out of memory");
    }
    memcpy(s->url, url, len + 1);
    pthread_mutex_init(&s->mu, NULL);
    pthread_cond_init(&s->cv, NULL);
    pthread_mutex_init(&s->hist_mu, NULL);
    pthread_cond_init(&s->hist_cv, NULL);
    vx__conn *c;
    int rc = ops->connect(url, &c, err);
    if (rc != VX_OK) {
        vx_store_free(s);
        return rc;
    }
    s->n_open = 1;
    rc = ops->migrate(c, err);
    pool_release(s, c);
    if (rc != VX_OK) {
        vx_store_free(s);
        return rc;
    }
    *out = s;
    return VX_OK;
}

void vx_store_free(vx_store *s)
{
    if (!s)
        return;
    for (size_t i = 0; i < s->n_idle; i++)
        s->ops->disconnect(s->idle[i]);
    pthread_cond_destroy(&s->cv);
    pthread_mutex_destroy(&s->mu);
    pthread_cond_destroy(&s->hist_cv);
    pthread_mutex_destroy(&s->hist_mu);
    free(s->idle);
    free(s->url);
    free(s);
}

const char *vx_store_backend(const vx_store *s)
{
    return s ? s->ops->name : "";
}

static int ping_fn(vx_store *s, vx__conn *c, void *arg, vx_error *err)
{
    (void)arg;
    return q(s, c, "SELECT 1", NULL, 0, NULL, err);
}

int vx_store_ping(vx_store *s, vx_error *err)
{
    if (!s)
        return vx__error_set(err, VX_EINVAL, "store: NULL");
    return run_tx(s, VX__TX_NONE, ping_fn, NULL, err);
}

static pthread_once_t sodium_once = PTHREAD_ONCE_INIT;

static void sodium_setup(void)
{
    /* fails only without a usable random source; randombytes_buf then
     * still reads the kernel's getrandom */
    if (sodium_init() < 0)
        return;
}

void vx_store_new_id(char out[VX_STORE_ID_LEN + 1])
{
    static const char hex[] = "0123456789abcdef";
    unsigned char b[16];
    pthread_once(&sodium_once, sodium_setup);
    randombytes_buf(b, sizeof b);
    b[6] = (unsigned char)((b[6] & 0x0f) | 0x40); /* version 4 */
    b[8] = (unsigned char)((b[8] & 0x3f) | 0x80); /* RFC 4122 variant */
    size_t o = 0;
    for (size_t i = 0; i < 16; i++) {
        if (i == 4 || i == 6 || i == 8 || i == 10)
            out[o++] = '-';
        out[o++] = hex[b[i] >> 4];
        out[o++] = hex[b[i] & 0x0f];
    }
    out[o] = '\0';
}

int vx_store_user_name_valid(const char *name)
{
    if (!name || !name[0])
        return 0;
    size_t n = 0;
    for (; name[n]; n++) {
        char ch = name[n];
        if (n >= VX_STORE_MAX_USER)
            return 0;
        if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
              ch == '_' || ch == '.' || ch == '@' || ch == '-'))
            return 0;
    }
    return 1;
}

/* ---- users and tokens ------------------------------------------------ */

/* creates user (not admin) when missing */
static int ensure_user(vx_store *s, vx__conn *c, const char *user, int64_t now, vx_error *err)
{
    vx__val p[] = {PT(user), PI(now)};
    return q(s, c,
             "INSERT INTO users(name, is_admin, created_at) VALUES ($1, 0, $2)"
             " ON CONFLICT (name) DO NOTHING",
             p, NP(p), NULL, err);
}

typedef struct {
    const char *user, *hash;
    int is_admin;
    int count;
    char *user_out;
} user_args;

static int user_ensure_fn(vx_store *s, vx__conn *c, void *arg, vx_error *err)
{
    user_args *a = arg;
    vx__val p[] = {PT(a->user), PI(a->is_admin ? 1 : 0), PI(now_ms())};
    return q(s, c,
             "INSERT INTO users(name, is_admin, created_at) VALUES ($1, $2, $3)"
             " ON CONFLICT (name) DO UPDATE SET is_admin = excluded.is_admin",
             p, NP(p), NULL, err);
}

int vx_store_user_ensure(vx_store *s, const char *user, int is_admin, vx_error *err)
{
    if (!s)
        return vx__error_set(err, VX_EINVAL, "store: NULL");
    int rc = check_user(user, err);
    if (rc != VX_OK)
        return rc;
    user_args a = {.user = user, .is_admin = is_admin};
    return run_tx(s, VX__TX_WRITE, user_ensure_fn, &a, err);
}

static int token_add_fn(vx_store *s, vx__conn *c, void *arg, vx_error *err)
{
    user_args *a = arg;
    vx__val pu[] = {PT(a->user)};
    vx__res r;
    int rc = q(s, c, "SELECT 1 FROM users WHERE name = $1", pu, NP(pu), &r, err);
    if (rc != VX_OK)
        return rc;
    size_t found = r.nrows;
    vx__res_clear(&r);
    if (!found)
        return vx__error_set(err, VX_ENOTFOUND, "user %s not found", a->user);
    vx__val p[] = {PT(a->hash), PT(a->user), PI(now_ms())};
    rc = q(s, c, "INSERT INTO tokens(hash, user_name, created_at) VALUES ($1, $2, $3)", p, NP(p),
           NULL, err);
    if (rc == VX_ECONFLICT)
        return vx__error_set(err, VX_ECONFLICT, "token: this hash is already stored");
    return rc;
}

int vx_store_token_add(vx_store *s, const char *user, const char *token_hash, vx_error *err)
{
    if (!s)
        return vx__error_set(err, VX_EINVAL, "store: NULL");
    int rc = check_user(user, err);
    if (rc == VX_OK)
        rc = check_token_hash(token_hash, err);
    if (rc != VX_OK)
        return rc;
    user_args a = {.user = user, .hash = token_hash};
    return run_tx(s, VX__TX_WRITE, token_add_fn, &a, err);
}

static int token_find_fn(vx_store *s, vx__conn *c, void *arg, vx_error *err)
{
    user_args *a = arg;
    vx__val p[] = {PT(a->hash)};
    vx__res r;
    int rc = q(s, c,
               "SELECT t.user_name, u.is_admin FROM tokens t JOIN users u ON u.name = t.user_name"
               " WHERE t.hash = $1 AND t.revoked_at IS NULL",
               p, NP(p), &r, err);
    if (rc != VX_OK)
        return rc;
    if (r.nrows == 0) {
        vx__res_clear(&r);
        return vx__error_set(err, VX_ENOTFOUND, "token not found or revoked");
    }
    cell_copy(a->user_out, VX_STORE_MAX_USER + 1, cell(&r, 0, 0));
    a->is_admin = cell_i64(cell(&r, 0, 1)) != 0;
    vx__res_clear(&r);
    return VX_OK;
}

int vx_store_token_find(vx_store *s, const char *token_hash, char user[VX_STORE_MAX_USER + 1],
                        int *is_admin, vx_error *err)
{
    if (user)
        user[0] = '\0';
    if (is_admin)
        *is_admin = 0;
    if (!s || !user)
        return vx__error_set(err, VX_EINVAL, "store: NULL argument");
    int rc = check_token_hash(token_hash, err);
    if (rc != VX_OK)
        return rc;
    user_args a = {.hash = token_hash, .user_out = user};
    rc = run_tx(s, VX__TX_NONE, token_find_fn, &a, err);
    if (rc == VX_OK && is_admin)
        *is_admin = a.is_admin;
    return rc;
}

static int token_revoke_fn(vx_store *s, vx__conn *c, void *arg, vx_error *err)
{
    user_args *a = arg;
    vx__res r;
    int rc;
    if (a->hash) {
        vx__val p[] = {PT(a->hash), PI(now_ms())};
        rc = q(s, c, "UPDATE tokens SET revoked_at = $2 WHERE hash = $1 AND revoked_at IS NULL",
               p, NP(p), &r, err);
    } else {
        vx__val p[] = {PT(a->user), PI(now_ms())};
        rc = q(s, c,
               "UPDATE tokens SET revoked_at = $2 WHERE user_name = $1 AND revoked_at IS NULL", p,
               NP(p), &r, err);
    }
    if (rc != VX_OK)
        return rc;
    a->count = (int)r.changes;
    vx__res_clear(&r);
    if (a->hash && a->count == 0)
        return vx__error_set(err, VX_ENOTFOUND, "token not found or already revoked");
    return VX_OK;
}

int vx_store_token_revoke(vx_store *s, const char *token_hash, vx_error *err)
{
    if (!s)
        return vx__error_set(err, VX_EINVAL, "store: NULL");
    int rc = check_token_hash(token_hash, err);
    if (rc != VX_OK)
        return rc;
    user_args a = {.hash = token_hash};
    return run_tx(s, VX__TX_WRITE, token_revoke_fn, &a, err);
}

int vx_store_token_revoke_user(vx_store *s, const char *user, int *n_revoked, vx_error *err)
{
    if (n_revoked)
        *n_revoked = 0;
    if (!s)
        return vx__error_set(err, VX_EINVAL, "store: NULL");
    int rc = check_user(user, err);
    if (rc != VX_OK)
        return rc;
    user_args a = {.user = user};
    rc = run_tx(s, VX__TX_WRITE, token_revoke_fn, &a, err);
    if (rc == VX_OK && n_revoked)
        *n_revoked = a.count;
    return rc;
}

/* ---- voice profiles -------------------------------------------------- */

#define PROFILE_COLS                                                                       \
    "SELECT id, user_name, version, created_at, audio_sha256, audio_ref, analysis_json," \
    " voiceprint FROM voice_profiles "

void vx_profile_clear(vx_profile *p)
{
    if (!p)
        return;
    free(p->audio_ref);
    free(p->analysis_json);
    memset(p, 0, sizeof *p);
}

/* fills out from row 0 of a PROFILE_COLS result */
static int fill_profile(const vx__res *r, size_t row, vx_profile *out, vx_error *err)
{
    int oom = 0;
    memset(out, 0, sizeof *out);
    cell_copy(out->id, sizeof out->id, cell(r, row, 0));
    cell_copy(out->user, sizeof out->user, cell(r, row, 1));
    out->version = (int)cell_i64(cell(r, row, 2));
    out->created_at_ms = cell_i64(cell(r, row, 3));
    cell_copy(out->audio_sha256, sizeof out->audio_sha256, cell(r, row, 4));
    out->audio_ref = cell_dup(cell(r, row, 5), &oom);
    out->analysis_json = cell_dup(cell(r, row, 6), &oom);
    const vx__cell *vp = cell(r, row, 7);
    if (!vp->null) {
        if (vp->len != VX_VOICEPRINT_DIM * 4) {
            vx_profile_clear(out);
            return vx__error_set(err, VX_EIO, "store: profile %s: voiceprint has %zu bytes",
                                 cell_s(cell(r, row, 0)), vp->len);
        }
        vx__voiceprint_decode((const unsigned char *)vp->data, out->voiceprint);
        out->has_voiceprint = 1;
    }
    if (oom) {
        vx_profile_clear(out);
        return vx__error_set(err, VX_ENOMEM, "store: out of memory");
    }
    return VX_OK;
}

typedef struct {
    const char *user, *analysis_json, *audio_sha256, *audio_ref;
    const float *voiceprint;
    char id[VX_STORE_ID_LEN + 1];
    int version;
    int64_t created;
} profile_add_args;

static int profile_add_fn(vx_store *s, vx__conn *c, void *arg, vx_error *err)
{
    profile_add_args *a = arg;
    a->created = now_ms();
    int rc = ensure_user(s, c, a->user, a->created, err);
    vx__val pu[] = {PT(a->user)};
    vx__res r;
    if (rc == VX_OK && s->ops->dialect == VX__DIALECT_PG) {
        /* serialises concurrent adds of one user (SQLite: BEGIN IMMEDIATE);
         * NO KEY: foreign-key checks of other writes need not wait */
        rc = q(s, c, "SELECT name FROM users WHERE name = $1 FOR NO KEY UPDATE", pu, NP(pu), NULL, err);
    }
    if (rc == VX_OK)
        rc = q(s, c, "SELECT COALESCE(MAX(version), 0) FROM voice_profiles WHERE user_name = $1",
               pu, NP(pu), &r, err);
    if (rc != VX_OK)
        return rc;
    int64_t max = r.nrows ? cell_i64(cell(&r, 0, 0)) : 0;
    vx__res_clear(&r);
    if (max >= INT32_MAX)
        return vx__error_set(err, VX_ELIMIT, "store: user %s has too many versions", a->user);
    a->version = (int)max + 1;
    vx_store_new_id(a->id);
    unsigned char blob[VX_VOICEPRINT_DIM * 4];
    vx__val vp = {.type = VX__V_NULL};
    if (a->voiceprint) {
        vx__voiceprint_encode(a->voiceprint, blob);
        vp = PB(blob, sizeof blob);
    }
    vx__val p[] = {PT(a->id),           PT(a->user),      PI(a->version),  PT(a->analysis_json),
                   vp,                  PT(a->audio_sha256), PT(a->audio_ref), PI(a->created)};
    return q(s, c,
             "INSERT INTO voice_profiles(id, user_name, version, analysis_json, voiceprint,"
             " audio_sha256, audio_ref, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
             p, NP(p), NULL, err);
}

static char *dup_or_null(const char *s, int *oom)
{
    if (!s)
        return NULL;
    size_t n = strlen(s);
    char *p = malloc(n + 1);
    if (!p) {
        *oom = 1;
        return NULL;
    }
    memcpy(p, s, n + 1);
    return p;
}

int vx_store_profile_add(vx_store *s, const char *user, const char *analysis_json,
                         const float *voiceprint, const char *audio_sha256,
                         const char *audio_ref, vx_profile *out, vx_error *err)
{
    if (out)
        memset(out, 0, sizeof *out);
    if (!s)
        return vx__error_set(err, VX_EINVAL, "store: NULL");
    int rc = check_user(user, err);
    if (rc == VX_OK)
        rc = check_text("analysis_json", analysis_json, MAX_JSON, err);
    if (rc == VX_OK && (!audio_sha256 || !is_hex(audio_sha256, 64, 64)))
        rc = vx__error_set(err, VX_EINVAL, "audio_sha256: expected 64 hex digits");
    if (rc == VX_OK && audio_ref)
        rc = check_text("audio_ref", audio_ref, 4096, err);
    if (rc == VX_OK && voiceprint) {
        for (size_t i = 0; i < VX_VOICEPRINT_DIM; i++)
            if (!isfinite(voiceprint[i]))
                return vx__error_set(err, VX_EINVAL, "voiceprint: value %zu is not finite", i);
    }
    if (rc != VX_OK)
        return rc;
    profile_add_args a = {.user = user,
                          .analysis_json = analysis_json,
                          .audio_sha256 = audio_sha256,
                          .audio_ref = audio_ref,
                          .voiceprint = voiceprint};
    rc = run_tx(s, VX__TX_WRITE, profile_add_fn, &a, err);
    if (rc != VX_OK || !out)
        return rc;
    int oom = 0;
    memcpy(out->id, a.id, sizeof out->id);
    snprintf(out->user, sizeof out->user, "%s", user);
    out->version = a.version;
    out->created_at_ms = a.created;
    snprintf(out->audio_sha256, sizeof out->audio_sha256, "%s", audio_sha256);
    out->audio_ref = dup_or_null(audio_ref, &oom);
    out->analysis_json = dup_or_null(analysis_json, &oom);
    if (voiceprint) {
        out->has_voiceprint = 1;
        memcpy(out->voiceprint, voiceprint, sizeof out->voiceprint);
    }
    if (oom) {
        vx_profile_clear(out);
        /* the profile is stored; only the copy failed */
        return vx__error_set(err, VX_ENOMEM, "store: out of memory copying the stored profile");
    }
    return VX_OK;
}

typedef struct {
    const char *user, *id;
    int version;
    vx_profile *out;
} profile_get_args;

static int profile_get_fn(vx_store *s, vx__conn *c, void *arg, vx_error *err)
{
    profile_get_args *a = arg;
    vx__res r;
    int rc;
    if (a->id) {
        vx__val p[] = {PT(a->id)};
        rc = q(s, c, PROFILE_COLS "WHERE id = $1", p, NP(p), &r, err);
    } else if (a->version == 0) {
        vx__val p[] = {PT(a->user)};
        rc = q(s, c, PROFILE_COLS "WHERE user_name = $1 ORDER BY version DESC LIMIT 1", p, NP(p),
               &r, err);
    } else {
        vx__val p[] = {PT(a->user), PI(a->version)};
        rc = q(s, c, PROFILE_COLS "WHERE user_name = $1 AND version = $2", p, NP(p), &r, err);
    }
    if (rc != VX_OK)
        return rc;
    if (r.nrows == 0) {
        vx__res_clear(&r);
        if (a->id)
            return vx__error_set(err, VX_ENOTFOUND, "profile %s not found", a->id);
        if (a->version == 0)
            return vx__error_set(err, VX_ENOTFOUND, "user %s has no voice profile", a->user);
        return vx__error_set(err, VX_ENOTFOUND, "user %s has no profile version %d", a->user,
                             a->version);
    }
    rc = fill_profile(&r, 0, a->out, err);
    vx__res_clear(&r);
    return rc;
}

int vx_store_profile_get(vx_store *s, const char *user, int version, vx_profile *out,
                         vx_error *err)
{
    if (out)
        memset(out, 0, sizeof *out);
    if (!s || !out)
        return vx__error_set(err, VX_EINVAL, "store: NULL argument");
    int rc = check_user(user, err);
    if (rc != VX_OK)
        return rc;
    if (version < 0)
        return vx__error_set(err, VX_EINVAL, "version: must be >= 0 (0 = latest)");
    profile_get_args a = {.user = user, .version = version, .out = out};
    return run_tx(s, VX__TX_NONE, profile_get_fn, &a, err);
}

int vx_store_profile_get_id(vx_store *s, const char *id, vx_profile *out, vx_error *err)
{
    if (out)
        memset(out, 0, sizeof *out);
    if (!s || !out)
        return vx__error_set(err, VX_EINVAL, "store: NULL argument");
    int rc = check_id("profile id", id, err);
    if (rc != VX_OK)
        return rc;
    profile_get_args a = {.id = id, .out = out};
    return run_tx(s, VX__TX_NONE, profile_get_fn, &a, err);
}

typedef struct {
    const char *user;
    vx__res res;
} list_args;

static int profile_versions_fn(vx_store *s, vx__conn *c, void *arg, vx_error *err)
{
    list_args *a = arg;
    vx__val p[] = {PT(a->user)};
    return q(s, c,
             "SELECT id, version, created_at FROM voice_profiles WHERE user_name = $1"
             " ORDER BY version DESC",
             p, NP(p), &a->res, err);
}

int vx_store_profile_versions(vx_store *s, const char *user, vx_profile_version **out,
                              size_t *n, vx_error *err)
{
    if (out)
        *out = NULL;
    if (n)
        *n = 0;
    if (!s || !out || !n)
        return vx__error_set(err, VX_EINVAL, "store: NULL argument");
    int rc = check_user(user, err);
    if (rc != VX_OK)
        return rc;
    list_args a = {.user = user};
    rc = run_tx(s, VX__TX_NONE, profile_versions_fn, &a, err);
    if (rc != VX_OK)
        return rc;
    if (a.res.nrows) {
        vx_profile_version *v = calloc(a.res.nrows, sizeof *v);
        if (!v) {
            vx__res_clear(&a.res);
            return vx__error_set(err, VX_ENOMEM, "store: out of memory");
        }
        for (size_t i = 0; i < a.res.nrows; i++) {
            cell_copy(v[i].id, sizeof v[i].id, cell(&a.res, i, 0));
            v[i].version = (int)cell_i64(cell(&a.res, i, 1));
            v[i].created_at_ms = cell_i64(cell(&a.res, i, 2));
        }
        *out = v;
        *n = a.res.nrows;
    }
    vx__res_clear(&a.res);
    return VX_OK;
}

static int voiceprints_fn(vx_store *s, vx__conn *c, void *arg, vx_error *err)
{
    list_args *a = arg;
    return q(s, c,
             "SELECT p.id, p.user_name, p.version, p.voiceprint FROM voice_profiles p"
             " JOIN (SELECT user_name, MAX(version) AS v FROM voice_profiles"
             "       WHERE voiceprint IS NOT NULL GROUP BY user_name) m"
             " ON p.user_name = m.user_name AND p.version = m.v"
             " ORDER BY p.user_name",
             NULL, 0, &a->res, err);
}

int vx_store_voiceprints_each(vx_store *s, vx_store_voiceprint_fn fn, void *ud, vx_error *err)
{
    if (!s || !fn)
        return vx__error_set(err, VX_EINVAL, "store: NULL argument");
    list_args a = {0};
    int rc = run_tx(s, VX__TX_NONE, voiceprints_fn, &a, err);
    if (rc != VX_OK)
        return rc;
    float *v = malloc(VX_VOICEPRINT_DIM * sizeof *v);
    if (!v) {
        vx__res_clear(&a.res);
        return vx__error_set(err, VX_ENOMEM, "store: out of memory");
    }
    for (size_t i = 0; i < a.res.nrows; i++) {
        const vx__cell *vp = cell(&a.res, i, 3);
        if (vp->null || vp->len != VX_VOICEPRINT_DIM * 4) {
            rc = vx__error_set(err, VX_EIO, "store: profile %s: voiceprint has %zu bytes",
                               cell_s(cell(&a.res, i, 0)), vp->len);
            break;
        }
        vx__voiceprint_decode((const unsigned char *)vp->data, v);
        if (fn(cell_s(cell(&a.res, i, 0)), cell_s(cell(&a.res, i, 1)),
               (int)cell_i64(cell(&a.res, i, 2)), v, ud) != 0)
            break;
    }
    free(v);
    vx__res_clear(&a.res);
    return rc;
}

/* ---- settings -------------------------------------------------------- */

typedef struct {
    const char *user, *json;
    char *out;
} settings_args;

static int settings_get_fn(vx_store *s, vx__conn *c, void *arg, vx_error *err)
{
    settings_args *a = arg;
    vx__val p[] = {PT(a->user)};
    vx__res r;
    int rc = q(s, c, "SELECT json FROM voice_settings WHERE user_name = $1", p, NP(p), &r, err);
    if (rc != VX_OK)
        return rc;
    if (r.nrows == 0) {
        vx__res_clear(&r);
        return vx__error_set(err, VX_ENOTFOUND, "user %s has no stored settings", a->user);
    }
    int oom = 0;
    a->out = cell_dup(cell(&r, 0, 0), &oom);
    vx__res_clear(&r);
    if (oom || !a->out)
        return vx__error_set(err, VX_ENOMEM, "store: out of memory");
    return VX_OK;
}

int vx_store_settings_get(vx_store *s, const char *user, char **json, vx_error *err)
{
    if (json)
        *json = NULL;
    if (!s || !json)
        return vx__error_set(err, VX_EINVAL, "store: NULL argument");
    int rc = check_user(user, err);
    if (rc != VX_OK)
        return rc;
    settings_args a = {.user = user};
    rc = run_tx(s, VX__TX_NONE, settings_get_fn, &a, err);
    if (rc == VX_OK)
        *json = a.out;
    else
        free(a.out);
    return rc;
}

static int settings_put_fn(vx_store *s, vx__conn *c, void *arg, vx_error *err)
{
    settings_args *a = arg;
    int64_t now = now_ms();
    int rc = ensure_user(s, c, a->user, now, err);
    if (rc != VX_OK)
        return rc;
    vx__val p[] = {PT(a->user), PT(a->json), PI(now)};
    return q(s, c,
             "INSERT INTO voice_settings(user_name, json, updated_at) VALUES ($1, $2, $3)"
             " ON CONFLICT (user_name) DO UPDATE SET json = excluded.json,"
             " updated_at = excluded.updated_at",
             p, NP(p), NULL, err);
}

int vx_store_settings_put(vx_store *s, const char *user, const char *json, vx_error *err)
{
    if (!s)
        return vx__error_set(err, VX_EINVAL, "store: NULL");
    int rc = check_user(user, err);
    if (rc == VX_OK)
        rc = check_text("settings json", json, MAX_JSON, err);
    if (rc != VX_OK)
        return rc;
    settings_args a = {.user = user, .json = json};
    return run_tx(s, VX__TX_WRITE, settings_put_fn, &a, err);
}

/* ---- similarity history ---------------------------------------------- */

typedef struct history_args {
    const char *user, *original, *cloned, *json;
    double overall;
    int64_t id;
    size_t limit;
    vx__res res;
    /* group commit */
    struct history_args *next;
    int done, rc;
    vx_error err;
} history_args;

static int history_add_fn(vx_store *s, vx__conn *c, void *arg, vx_error *err)
{
    history_args *a = arg;
    int64_t now = now_ms();
    int rc = ensure_user(s, c, a->user, now, err);
    if (rc != VX_OK)
        return rc;
    vx__val p[] = {PT(a->user), PT(a->original), PT(a->cloned),
                   PD(a->overall), PT(a->json), PI(now)};
    vx__res r;
    rc = q(s, c,
           "INSERT INTO similarity_history(user_name, original, cloned, overall,"
           " similarity_json, created_at) VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
           p, NP(p), &r, err);
    if (rc != VX_OK)
        return rc;
    a->id = r.nrows ? cell_i64(cell(&r, 0, 0)) : 0;
    vx__res_clear(&r);
    return VX_OK;
}

/* Every comparison writes one history row, so under load the commit (a WAL
 * append, and with PostgreSQL a round trip and a flush) dominates the
 * request.  Group commit: the first caller to arrive becomes the leader and
 * writes every row queued so far in ONE transaction while later callers
 * wait; each caller still returns only after its own row is committed, so
 * the guarantee is unchanged (a 200 means the row is stored).  If a batch
 * fails, its rows are retried one by one so one bad row cannot fail others. */
static int history_batch_fn(vx_store *s, vx__conn *c, void *arg, vx_error *err)
{
    for (history_args *a = arg; a; a = a->next) {
        int rc = history_add_fn(s, c, a, err);
        if (rc != VX_OK)
            return rc;
    }
    return VX_OK;
}

static int history_group_commit(vx_store *s, history_args *me, vx_error *err)
{
    pthread_mutex_lock(&s->hist_mu);
    me->next = s->hist_pending;
    s->hist_pending = me;
    while (!me->done) {
        if (s->hist_leader) {
            pthread_cond_wait(&s->hist_cv, &s->hist_mu);
            continue;
        }
        s->hist_leader = 1;
        history_args *batch = s->hist_pending;
        s->hist_pending = NULL;
        pthread_mutex_unlock(&s->hist_mu);
        /* oldest first, so ids follow arrival order */
        history_args *rev = NULL;
        while (batch) {
            history_args *n = batch->next;
            batch->next = rev;
            rev = batch;
            batch = n;
        }
        vx_error e;
        int rc = rev && rev->next ? run_tx(s, VX__TX_WRITE, history_batch_fn, rev, &e) : -1;
        for (history_args *a = rev; a; a = a->next) /* a single row, or the batch failed */
            a->rc = rc == VX_OK ? VX_OK : run_tx(s, VX__TX_WRITE, history_add_fn, a, &a->err);
        pthread_mutex_lock(&s->hist_mu);
        s->hist_leader = 0;
        for (history_args *a = rev; a;) {
            history_args *n = a->next; /* read first: once done, a's owner may return */
            a->done = 1;
            a = n;
        }
        pthread_cond_broadcast(&s->hist_cv);
    }
    pthread_mutex_unlock(&s->hist_mu);
    if (me->rc != VX_OK && err)
        *err = me->err;
    return me->rc;
}

int vx_store_history_add(vx_store *s, const char *user, const char *original, const char *cloned,
                         double overall, const char *similarity_json, int64_t *id,
                         vx_error *err)
{
    if (id)
        *id = 0;
    if (!s)
        return vx__error_set(err, VX_EINVAL, "store: NULL");
    int rc = check_user(user, err);
    if (rc == VX_OK)
        rc = check_text("original", original, 4096, err);
    if (rc == VX_OK)
        rc = check_text("cloned", cloned, 4096, err);
    if (rc == VX_OK)
        rc = check_text("similarity_json", similarity_json, MAX_JSON, err);
    if (rc == VX_OK && !isfinite(overall))
        rc = vx__error_set(err, VX_EINVAL, "overall: not a finite number");
    if (rc != VX_OK)
        return rc;
    history_args a = {.user = user,
                      .original = original,
                      .cloned = cloned,
                      .json = similarity_json,
                      .overall = overall};
    rc = history_group_commit(s, &a, err);
    if (rc == VX_OK && id)
        *id = a.id;
    return rc;
}

static int history_list_fn(vx_store *s, vx__conn *c, void *arg, vx_error *err)
{
    history_args *a = arg;
    vx__val p[] = {PT(a->user), PI(a->limit)};
    return q(s, c,
             "SELECT id, created_at, overall, original, cloned, similarity_json"
             " FROM similarity_history WHERE user_name = $1 ORDER BY id DESC LIMIT $2",
             p, NP(p), &a->res, err);
}

void vx_history_free(vx_history_entry *e, size_t n)
{
    if (!e)
        return;
    for (size_t i = 0; i < n; i++) {
        free(e[i].original);
        free(e[i].cloned);
        free(e[i].similarity_json);
    }
    free(e);
}

int vx_store_history_list(vx_store *s, const char *user, size_t limit, vx_history_entry **out,
                          size_t *n, vx_error *err)
{
    if (out)
        *out = NULL;
    if (n)
        *n = 0;
    if (!s || !out || !n)
        return vx__error_set(err, VX_EINVAL, "store: NULL argument");
    int rc = check_user(user, err);
    if (rc != VX_OK)
        return rc;
    history_args a = {.user = user, .limit = limit ? limit : DEFAULT_HISTORY_LIMIT};
    if (a.limit > (size_t)INT32_MAX)
        a.limit = (size_t)INT32_MAX;
    rc = run_tx(s, VX__TX_NONE, history_list_fn, &a, err);
    if (rc != VX_OK)
        return rc;
    if (a.res.nrows == 0) {
        vx__res_clear(&a.res);
        return VX_OK;
    }
    vx_history_entry *e = calloc(a.res.nrows, sizeof *e);
    int oom = !e;
    for (size_t i = 0; e && i < a.res.nrows; i++) {
        e[i].id = cell_i64(cell(&a.res, i, 0));
        e[i].created_at_ms = cell_i64(cell(&a.res, i, 1));
        e[i].overall = cell_d(cell(&a.res, i, 2));
        e[i].original = cell_dup(cell(&a.res, i, 3), &oom);
        e[i].cloned = cell_dup(cell(&a.res, i, 4), &oom);
        e[i].similarity_json = cell_dup(cell(&a.res, i, 5), &oom);
    }
    size_t count = a.res.nrows;
    vx__res_clear(&a.res);
    if (oom) {
        vx_history_free(e, e ? count : 0);
        return vx__error_set(err, VX_ENOMEM, "store: out of memory");
    }
    *out = e;
    *n = count;
    return VX_OK;
}

/* ---- jobs -------------------------------------------------------------- */

void vx_job_clear(vx_job *j)
{
    if (!j)
        return;
    free(j->settings_json);
    for (size_t i = 0; j->items && i < j->n_items; i++) {
        free(j->items[i].text);
        free(j->items[i].audio_ref);
        free(j->items[i].similarity_json);
        free(j->items[i].error);
    }
    free(j->items);
    memset(j, 0, sizeof *j);
}

static int job_create_fn(vx_store *s, vx__conn *c, void *arg, vx_error *err)
{
    vx_job *j = arg;
    int64_t now = now_ms();
    int rc = ensure_user(s, c, j->user, now, err);
    if (rc != VX_OK)
        return rc;
    char seed[24];
    snprintf(seed, sizeof seed, "%" PRIu64, j->seed);
    vx__val p[] = {PT(j->id),   PT(j->user), PT(j->profile_id), PT(j->status),
                   PT(j->settings_json), PT(seed), PI(now), PI(now)};
    rc = q(s, c,
           "INSERT INTO jobs(id, user_name, profile_id, status, settings_json, seed, created_at,"
           " updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
           p, NP(p), NULL, err);
    if (rc == VX_ECONFLICT)
        return vx__error_set(err, VX_ECONFLICT, "job %s already exists", j->id);
    for (size_t i = 0; rc == VX_OK && i < j->n_items; i++) {
        const vx_job_item *it = &j->items[i];
        vx__val pi[] = {PT(j->id),          PI(i),           PT(it->language), PT(it->text),
                        PT(it->status[0] ? it->status : "queued"), PD(it->progress),
                        PT(it->audio_ref),  PT(it->similarity_json), PT(it->error)};
        rc = q(s, c,
               "INSERT INTO job_results(job_id, idx, language, text, status, progress,"
               " audio_ref, similarity_json, error) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
               pi, NP(pi), NULL, err);
    }
    if (rc == VX_OK)
        j->created_at_ms = j->updated_at_ms = now;
    return rc;
}

int vx_store_job_create(vx_store *s, vx_job *job, vx_error *err)
{
    if (!s || !job)
        return vx__error_set(err, VX_EINVAL, "store: NULL argument");
    int rc = check_id("job id", memchr(job->id, '\0', sizeof job->id) ? job->id : NULL, err);
    if (rc == VX_OK)
        rc = check_user(memchr(job->user, '\0', sizeof job->user) ? job->user : NULL, err);
    if (rc != VX_OK)
        return rc;
    if (!memchr(job->profile_id, '\0', sizeof job->profile_id) ||
        !memchr(job->status, '\0', sizeof job->status))
        return vx__error_set(err, VX_EINVAL, "job: profile_id or status not terminated");
    if (!job->status[0])
        memcpy(job->status, "queued", 7);
    if (!status_in(job->status, job_states))
        return vx__error_set(err, VX_EINVAL, "job status: unknown state '%s'", job->status);
    if (job->settings_json && strlen(job->settings_json) > MAX_JSON)
        return vx__error_set(err, VX_EINVAL, "job settings_json: too long");
    if (job->n_items && !job->items)
        return vx__error_set(err, VX_EINVAL, "job: items is NULL");
    for (size_t i = 0; i < job->n_items; i++) {
        vx_job_item *it = &job->items[i];
        if (!memchr(it->language, '\0', sizeof it->language) || !it->language[0])
            return vx__error_set(err, VX_EINVAL, "job item %zu: language missing", i);
        if (!it->text)
            return vx__error_set(err, VX_EINVAL, "job item %zu: text missing", i);
        if (!memchr(it->status, '\0', sizeof it->status) ||
            (it->status[0] && !status_in(it->status, item_states)))
            return vx__error_set(err, VX_EINVAL, "job item %zu: unknown status", i);
        if (!isfinite(it->progress) || it->progress < 0 || it->progress > 1)
            return vx__error_set(err, VX_EINVAL, "job item %zu: progress outside 0..1", i);
    }
    return run_tx(s, VX__TX_WRITE, job_create_fn, job, err);
}

typedef struct {
    const char *id, *status, *audio_ref, *similarity_json, *error;
    size_t index;
    double progress;
    vx_job *out;
    vx__res res;
} job_args;

static int job_set_status_fn(vx_store *s, vx__conn *c, void *arg, vx_error *err)
{
    job_args *a = arg;
    vx__val p[] = {PT(a->id), PT(a->status), PI(now_ms())};
    vx__res r;
    int rc = q(s, c, "UPDATE jobs SET status = $2, updated_at = $3 WHERE id = $1", p, NP(p), &r,
               err);
    if (rc != VX_OK)
        return rc;
    int64_t changed = r.changes;
    vx__res_clear(&r);
    if (changed == 0)
        return vx__error_set(err, VX_ENOTFOUND, "job %s not found", a->id);
    return VX_OK;
}

int vx_store_job_set_status(vx_store *s, const char *job_id, const char *status, vx_error *err)
{
    if (!s)
        return vx__error_set(err, VX_EINVAL, "store: NULL");
    int rc = check_id("job id", job_id, err);
    if (rc != VX_OK)
        return rc;
    if (!status || !status_in(status, job_states))
        return vx__error_set(err, VX_EINVAL,
                             "job status: expected queued, running, done, partial or failed");
    job_args a = {.id = job_id, .status = status};
    return run_tx(s, VX__TX_WRITE, job_set_status_fn, &a, err);
}

static int job_item_update_fn(vx_store *s, vx__conn *c, void *arg, vx_error *err)
{
    job_args *a = arg;
    vx__val prog = a->progress < 0 ? (vx__val){.type = VX__V_NULL} : PD(a->progress);
    vx__val p[] = {PT(a->id),        PI(a->index),           PT(a->status), prog,
                   PT(a->audio_ref), PT(a->similarity_json), PT(a->error)};
    vx__res r;
    int rc = q(s, c,
               "UPDATE job_results SET status = COALESCE($3, status),"
               " progress = COALESCE($4, progress), audio_ref = COALESCE($5, audio_ref),"
               " similarity_json = COALESCE($6, similarity_json), error = COALESCE($7, error)"
               " WHERE job_id = $1 AND idx = $2",
               p, NP(p), &r, err);
    if (rc != VX_OK)
        return rc;
    int64_t changed = r.changes;
    vx__res_clear(&r);
    if (changed == 0)
        return vx__error_set(err, VX_ENOTFOUND, "job %s has no item %zu", a->id, a->index);
    vx__val pj[] = {PT(a->id), PI(now_ms())};
    return q(s, c, "UPDATE jobs SET updated_at = $2 WHERE id = $1", pj, NP(pj), NULL, err);
}

int vx_store_job_item_update(vx_store *s, const char *job_id, size_t index, const char *status,
                             double progress, const char *audio_ref,
                             const char *similarity_json, const char *error, vx_error *err)
{
    if (!s)
        return vx__error_set(err, VX_EINVAL, "store: NULL");
    int rc = check_id("job id", job_id, err);
    if (rc != VX_OK)
        return rc;
    if (status && !status_in(status, item_states))
        return vx__error_set(err, VX_EINVAL,
                             "job item status: expected queued, running, done or failed");
    if (isnan(progress) || progress > 1)
        return vx__error_set(err, VX_EINVAL, "job item progress: outside 0..1");
    if (index > (size_t)INT32_MAX)
        return vx__error_set(err, VX_ENOTFOUND, "job %s has no item %zu", job_id, index);
    job_args a = {.id = job_id,
                  .index = index,
                  .status = status,
                  .progress = progress,
                  .audio_ref = audio_ref,
                  .similarity_json = similarity_json,
                  .error = error};
    return run_tx(s, VX__TX_WRITE, job_item_update_fn, &a, err);
}

static int job_get_fn(vx_store *s, vx__conn *c, void *arg, vx_error *err)
{
    job_args *a = arg;
    vx_job *j = a->out;
    vx_job_clear(j); /* a retried attempt starts afresh */
    vx__val p[] = {PT(a->id)};
    vx__res r;
    int rc = q(s, c,
               "SELECT id, user_name, profile_id, status, settings_json, seed, created_at,"
               " updated_at FROM jobs WHERE id = $1",
               p, NP(p), &r, err);
    if (rc != VX_OK)
        return rc;
    if (r.nrows == 0) {
        vx__res_clear(&r);
        return vx__error_set(err, VX_ENOTFOUND, "job %s not found", a->id);
    }
    int oom = 0;
    cell_copy(j->id, sizeof j->id, cell(&r, 0, 0));
    cell_copy(j->user, sizeof j->user, cell(&r, 0, 1));
    cell_copy(j->profile_id, sizeof j->profile_id, cell(&r, 0, 2));
    cell_copy(j->status, sizeof j->status, cell(&r, 0, 3));
    j->settings_json = cell_dup(cell(&r, 0, 4), &oom);
    j->seed = (uint64_t)strtoull(cell_s(cell(&r, 0, 5)), NULL, 10);
    j->created_at_ms = cell_i64(cell(&r, 0, 6));
    j->updated_at_ms = cell_i64(cell(&r, 0, 7));
    vx__res_clear(&r);
    rc = q(s, c,
           "SELECT language, text, status, progress, audio_ref, similarity_json, error"
           " FROM job_results WHERE job_id = $1 ORDER BY idx",
           p, NP(p), &r, err);
    if (rc != VX_OK)
        return rc;
    if (r.nrows) {
        j->items = calloc(r.nrows, sizeof *j->items);
        if (!j->items) {
            vx__res_clear(&r);
            return vx__error_set(err, VX_ENOMEM, "store: out of memory");
        }
        j->n_items = r.nrows;
        for (size_t i = 0; i < r.nrows; i++) {
            vx_job_item *it = &j->items[i];
            cell_copy(it->language, sizeof it->language, cell(&r, i, 0));
            it->text = cell_dup(cell(&r, i, 1), &oom);
            cell_copy(it->status, sizeof it->status, cell(&r, i, 2));
            it->progress = cell_d(cell(&r, i, 3));
            it->audio_ref = cell_dup(cell(&r, i, 4), &oom);
            it->similarity_json = cell_dup(cell(&r, i, 5), &oom);
            it->error = cell_dup(cell(&r, i, 6), &oom);
        }
    }
    vx__res_clear(&r);
    if (oom)
        return vx__error_set(err, VX_ENOMEM, "store: out of memory");
    return VX_OK;
}

int vx_store_job_get(vx_store *s, const char *job_id, vx_job *out, vx_error *err)
{
    if (out)
        memset(out, 0, sizeof *out);
    if (!s || !out)
        return vx__error_set(err, VX_EINVAL, "store: NULL argument");
    int rc = check_id("job id", job_id, err);
    if (rc != VX_OK)
        return rc;
    job_args a = {.id = job_id, .out = out};
    rc = run_tx(s, VX__TX_READ, job_get_fn, &a, err);
    if (rc != VX_OK)
        vx_job_clear(out);
    return rc;
}

static int jobs_unfinished_fn(vx_store *s, vx__conn *c, void *arg, vx_error *err)
{
    job_args *a = arg;
    /* oldest first = insertion order: rowid (SQLite), identity column (PG) */
    const char *sql = s->ops->dialect == VX__DIALECT_PG
                          ? "SELECT id FROM jobs WHERE status IN ('queued', 'running') ORDER BY seq"
                          : "SELECT id FROM jobs WHERE status IN ('queued', 'running')"
                            " ORDER BY rowid";
    return q(s, c, sql, NULL, 0, &a->res, err);
}

int vx_store_jobs_unfinished(vx_store *s, char (**ids)[VX_STORE_ID_LEN + 1], size_t *n,
                             vx_error *err)
{
    if (ids)
        *ids = NULL;
    if (n)
        *n = 0;
    if (!s || !ids || !n)
        return vx__error_set(err, VX_EINVAL, "store: NULL argument");
    job_args a = {0};
    int rc = run_tx(s, VX__TX_NONE, jobs_unfinished_fn, &a, err);
    if (rc != VX_OK)
        return rc;
    if (a.res.nrows) {
        char (*v)[VX_STORE_ID_LEN + 1] = calloc(a.res.nrows, sizeof *v);
        if (!v) {
            vx__res_clear(&a.res);
            return vx__error_set(err, VX_ENOMEM, "store: out of memory");
        }
        for (size_t i = 0; i < a.res.nrows; i++)
            cell_copy(v[i], sizeof v[i], cell(&a.res, i, 0));
        *ids = v;
        *n = a.res.nrows;
    }
    vx__res_clear(&a.res);
    return VX_OK;
}
