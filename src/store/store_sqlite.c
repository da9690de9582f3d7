/*
 * store_sqlite.c -- the SQLite back-end of the store.
 *
 * DESIGN: one connection per store, serialised by the pool in store.c (a
 * pool of size 1 is a mutex): the simplest arrangement that is obviously
 * correct, and SQLite writes are serialised anyway.  Other processes may
 * share the file: WAL lets readers run beside the writer, busy_timeout (5 s)
 * waits for a competing writer, and writes start with BEGIN IMMEDIATE so the
 * write lock is taken before anything is read (a read-then-write transaction
 * can then never fail half-way with SQLITE_BUSY).  synchronous=NORMAL (the
 * usual WAL setting): a commit is atomic and survives a crash of the
 * process; a power cut may lose the last commits but never corrupts the
 * file.  FULL (an fsync per commit) cost 3x in request rate on
 * compare-by-ids; the audio files are fsynced before their rows refer to
 * them either way.  Statements are prepared once per
 * connection and cached by their text; "$N" placeholders of the shared SQL
 * become "?N".  The migrations are the SQLite spelling of the schema in
 * docs/store.md; store_pg.c holds the PostgreSQL spelling of the same tables.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <sqlite3.h>

#include "core/error.h"
#include "store/store_internal.h"

#define STMT_CACHE 64

struct vx__conn {
    sqlite3 *db;
    size_t n_cache;
    struct {
        char *sql; /* the original ($N) text */
        sqlite3_stmt *st;
    } cache[STMT_CACHE];
};

/* ---- migrations ------------------------------------------------------ */

static const char *const migrations[] = {
    /* 1: initial schema */
    "CREATE TABLE users ("
    "  name TEXT PRIMARY KEY,"
    "  is_admin INTEGER NOT NULL DEFAULT 0,"
    "  created_at INTEGER NOT NULL);"
    "CREATE TABLE tokens ("
    "  hash TEXT PRIMARY KEY,"
    "  user_name TEXT NOT NULL REFERENCES users(name),"
    "  created_at INTEGER NOT NULL,"
    "  revoked_at INTEGER);"
    "CREATE INDEX tokens_user ON tokens(user_name);"
    "CREATE TABLE voice_profiles ("
    "  id TEXT PRIMARY KEY,"
    "  user_name TEXT NOT NULL REFERENCES users(name),"
    "  version INTEGER NOT NULL,"
    "  analysis_json TEXT NOT NULL,"
    "  voiceprint BLOB,"
    "  audio_sha256 TEXT NOT NULL,"
    "  audio_ref TEXT,"
    "  created_at INTEGER NOT NULL,"
    "  UNIQUE (user_name, version));"
    "CREATE TABLE voice_settings ("
    "  user_name TEXT PRIMARY KEY REFERENCES users(name),"
    "  json TEXT NOT NULL,"
    "  updated_at INTEGER NOT NULL);"
    "CREATE TABLE similarity_history ("
    "  id INTEGER PRIMARY KEY AUTOINCREMENT,"
    "  user_name TEXT NOT NULL REFERENCES users(name),"
    "  original TEXT NOT NULL,"
    "  cloned TEXT NOT NULL,"
    "  overall REAL NOT NULL,"
    "  similarity_json TEXT NOT NULL,"
    "  created_at INTEGER NOT NULL);"
    "CREATE INDEX similarity_history_user ON similarity_history(user_name, id);"
    "CREATE TABLE jobs ("
    "  id TEXT PRIMARY KEY,"
    "  user_name TEXT NOT NULL REFERENCES users(name),"
    "  profile_id TEXT NOT NULL,"
    "  status TEXT NOT NULL,"
    "  settings_json TEXT,"
    "  seed TEXT NOT NULL,"
    "  created_at INTEGER NOT NULL,"
    "  updated_at INTEGER NOT NULL);"
    "CREATE INDEX jobs_status ON jobs(status);"
    "CREATE INDEX jobs_user ON jobs(user_name);"
    "CREATE TABLE job_results ("
    "  job_id TEXT NOT NULL REFERENCES jobs(id) ON DELETE CASCADE,"
    "  idx INTEGER NOT NULL,"
    "  language TEXT NOT NULL,"
    "  text TEXT NOT NULL,"
    "  status TEXT NOT NULL,"
    "  progress REAL NOT NULL,"
    "  audio_ref TEXT,"
    "  similarity_json TEXT,"
    "  error TEXT,"
    "  PRIMARY KEY (job_id, idx));",
};

/* ---- errors ---------------------------------------------------------- */

static int map_rc(sqlite3 *db, int rc, const char *what, vx_error *err)
{
    const char *msg = db ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
    int ext = db ? sqlite3_extended_errcode(db) : rc;
    switch (ext) {
    case SQLITE_CONSTRAINT_PRIMARYKEY:
    case SQLITE_CONSTRAINT_UNIQUE:
        return vx__error_set(err, VX_ECONFLICT, "sqlite: %s: %s", what, msg);
    case SQLITE_CONSTRAINT_FOREIGNKEY:
        return vx__error_set(err, VX_ENOTFOUND, "sqlite: %s: %s", what, msg);
    default:
        break;
    }
    switch (rc & 0xff) {
    case SQLITE_NOMEM:
        return vx__error_set(err, VX_ENOMEM, "sqlite: %s: out of memory", what);
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
    case SQLITE_CANTOPEN:
        return vx__error_set(err, VX_EUNAVAIL, "sqlite: %s: %s", what, msg);
    default:
        return vx__error_set(err, VX_EIO, "sqlite: %s: %s", what, msg);
    }
}

/* ---- connection ------------------------------------------------------ */

/* mkdir -p of the directory part of path */
static int make_parent_dirs(const char *path, vx_error *err)
{
    size_t len = strlen(path);
    char *buf = malloc(len + 1);
    if (!buf)
        return vx__error_set(err, VX_ENOMEM, "sqlite: out of memory");
    memcpy(buf, path, len + 1);
    char *slash = strrchr(buf, '/');
    if (!slash || slash == buf) {
        free(buf);
        return VX_OK;
    }
    *slash = '\0';
    for (char *p = buf + 1;; p++) {
        if (*p == '/' || *p == '\0') {
            char c = *p;
            *p = '\0';
            if (mkdir(buf, 0755) != 0 && errno != EEXIST) {
                int e = errno;
                vx__error_set(err, VX_EUNAVAIL, "sqlite: cannot create directory %s: %s", buf,
                              strerror(e));
                free(buf);
                return VX_EUNAVAIL;
            }
            *p = c;
            if (c == '\0')
                break;
        }
    }
    free(buf);
    return VX_OK;
}

static int exec_simple(vx__conn *c, const char *sql, vx_error *err)
{
    char *msg = NULL;
    int rc = sqlite3_exec(c->db, sql, NULL, NULL, &msg);
    sqlite3_free(msg);
    if (rc != SQLITE_OK)
        return map_rc(c->db, rc, sql, err);
    return VX_OK;
}

/* How long a connection waits for a competing one (busy_timeout, and the
 * journal-mode switch below). */
#define VX__SQ_BUSY_MS 5000

/* PRAGMA journal_mode=WAL.  Switching a file out of rollback mode needs an
 * exclusive lock, and SQLite returns SQLITE_BUSY at once, without calling
 * the busy handler, when two connections race for it (several processes
 * opening one new database): so the switch is retried here, every 5 ms, for
 * up to VX__SQ_BUSY_MS.  Once the file is in WAL mode the pragma is a read
 * and does not contend. */
static int set_wal(vx__conn *c, vx_error *err)
{
    const struct timespec nap = {0, 5 * 1000 * 1000};
    int rc = SQLITE_BUSY;
    for (int waited_ms = 0;; waited_ms += 5) {
        rc = sqlite3_exec(c->db, "PRAGMA journal_mode=WAL;", NULL, NULL, NULL);
        if ((rc & 0xff) != SQLITE_BUSY || waited_ms >= VX__SQ_BUSY_MS)
            break;
        nanosleep(&nap, NULL);
    }
    if (rc != SQLITE_OK)
        return map_rc(c->db, rc, "PRAGMA journal_mode=WAL;", err);
    return VX_OK;
}

static void sq_disconnect(vx__conn *c)
{
    if (!c)
        return;
    for (size_t i = 0; i < c->n_cache; i++) {
        sqlite3_finalize(c->cache[i].st);
        free(c->cache[i].sql);
    }
    sqlite3_close_v2(c->db);
    free(c);
}

static int sq_connect(const char *url, vx__conn **out, vx_error *err)
{
    *out = NULL;
    if (strncmp(url, "sqlite:", 7) != 0 || url[7] == '\0')
        return vx__error_set(err, VX_EINVAL, "store url: expected sqlite:PATH");
    const char *path = url + 7;
    int memory = strcmp(path, ":memory:") == 0;
    if (!memory) {
        int rc = make_parent_dirs(path, err);
        if (rc != VX_OK)
            return rc;
    }
    vx__conn *c = calloc(1, sizeof *c);
    if (!c)
        return vx__error_set(err, VX_ENOMEM, "sqlite: out of memory");
    int rc = sqlite3_open_v2(path, &c->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL);
    if (rc != SQLITE_OK) {
        int code = c->db ? (rc == SQLITE_NOMEM ? VX_ENOMEM : VX_EUNAVAIL) : VX_ENOMEM;
        vx__error_set(err, code, "sqlite: cannot open %s: %s", path,
                      c->db ? sqlite3_errmsg(c->db) : "out of memory");
        sq_disconnect(c);
        return code;
    }
    sqlite3_extended_result_codes(c->db, 1);
    sqlite3_busy_timeout(c->db, VX__SQ_BUSY_MS);
    rc = memory ? VX_OK : set_wal(c, err);
    if (rc == VX_OK)
        rc = exec_simple(c, memory ? "PRAGMA foreign_keys=ON;"
                                   : "PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;",
                         err);
    if (rc != VX_OK) {
        sq_disconnect(c);
        return rc;
    }
    *out = c;
    return VX_OK;
}

static int sq_healthy(vx__conn *c)
{
    (void)c;
    return 1;
}

static int sq_reset(vx__conn *c, vx_error *err)
{
    (void)c;
    (void)err;
    return VX_OK;
}

static size_t sq_max_conns(const char *url)
{
    (void)url;
    return 1;
}

/* ---- statements ------------------------------------------------------ */

static int get_stmt(vx__conn *c, const char *sql, sqlite3_stmt **st, int *cached, vx_error *err)
{
    for (size_t i = 0; i < c->n_cache; i++) {
        if (strcmp(c->cache[i].sql, sql) == 0) {
            *st = c->cache[i].st;
            *cached = 1;
            return VX_OK;
        }
    }
    size_t len = strlen(sql);
    char *orig = malloc(len + 1), *q = malloc(len + 1);
    if (!orig || !q) {
        free(orig);
        free(q);
        return vx__error_set(err, VX_ENOMEM, "sqlite: out of memory");
    }
    memcpy(orig, sql, len + 1);
    for (size_t i = 0; i <= len; i++)
        q[i] = (sql[i] == '$' && sql[i + 1] >= '0' && sql[i + 1] <= '9') ? '?' : sql[i];
    int keep = c->n_cache < STMT_CACHE;
    int rc = sqlite3_prepare_v3(c->db, q, (int)len + 1, keep ? SQLITE_PREPARE_PERSISTENT : 0, st,
                                NULL);
    free(q);
    if (rc != SQLITE_OK) {
        free(orig);
        return map_rc(c->db, rc, "prepare", err);
    }
    if (keep) {
        c->cache[c->n_cache].sql = orig;
        c->cache[c->n_cache].st = *st;
        c->n_cache++;
        *cached = 1;
    } else {
        free(orig);
        *cached = 0;
    }
    return VX_OK;
}

static int bind_all(vx__conn *c, sqlite3_stmt *st, const vx__val *p, size_t n, vx_error *err)
{
    for (size_t i = 0; i < n; i++) {
        int k = (int)i + 1, rc;
        switch (p[i].type) {
        case VX__V_TEXT:
            rc = sqlite3_bind_text(st, k, p[i].s, -1, SQLITE_STATIC);
            break;
        case VX__V_INT64:
            rc = sqlite3_bind_int64(st, k, p[i].i);
            break;
        case VX__V_DOUBLE:
            rc = sqlite3_bind_double(st, k, p[i].d);
            break;
        case VX__V_BLOB:
            rc = sqlite3_bind_blob64(st, k, p[i].p, p[i].len, SQLITE_STATIC);
            break;
        default:
            rc = sqlite3_bind_null(st, k);
            break;
        }
        if (rc != SQLITE_OK)
            return map_rc(c->db, rc, "bind", err);
    }
    return VX_OK;
}

static int copy_cell(sqlite3_stmt *st, int col, vx__cell *cell, vx_error *err)
{
    int t = sqlite3_column_type(st, col);
    switch (t) {
    case SQLITE_NULL:
        cell->null = 1;
        return VX_OK;
    case SQLITE_INTEGER:
        cell->kind = VX__V_INT64;
        cell->i = sqlite3_column_int64(st, col);
        cell->d = (double)cell->i;
        return VX_OK;
    case SQLITE_FLOAT:
        cell->kind = VX__V_DOUBLE;
        cell->d = sqlite3_column_double(st, col);
        cell->i = (int64_t)cell->d;
        return VX_OK;
    default: {
        const void *p = t == SQLITE_BLOB ? sqlite3_column_blob(st, col)
                                         : (const void *)sqlite3_column_text(st, col);
        size_t len = (size_t)sqlite3_column_bytes(st, col);
        cell->kind = t == SQLITE_BLOB ? VX__V_BLOB : VX__V_TEXT;
        cell->data = malloc(len + 1);
        if (!cell->data)
            return vx__error_set(err, VX_ENOMEM, "sqlite: out of memory");
        if (len)
            memcpy(cell->data, p, len);
        cell->data[len] = '\0';
        cell->len = len;
        return VX_OK;
    }
    }
}

static int sq_exec(vx__conn *c, const char *sql, const vx__val *params, size_t n_params,
                   vx__res *res, vx_error *err)
{
    sqlite3_stmt *st = NULL;
    int cached = 0;
    if (res)
        memset(res, 0, sizeof *res);
    int rc = get_stmt(c, sql, &st, &cached, err);
    if (rc != VX_OK)
        return rc;
    rc = bind_all(c, st, params, n_params, err);
    size_t ncols = (size_t)sqlite3_column_count(st), cap = 0;
    vx__cell *cells = NULL;
    size_t nrows = 0;
    while (rc == VX_OK) {
        int s = sqlite3_step(st);
        if (s == SQLITE_DONE)
            break;
        if (s != SQLITE_ROW) {
            rc = map_rc(c->db, s, "step", err);
            break;
        }
        if (!res || ncols == 0)
            continue;
        if (nrows == cap) {
            size_t ncap = cap ? cap * 2 : 8;
            vx__cell *nc = realloc(cells, ncap * ncols * sizeof *nc);
            if (!nc) {
                rc = vx__error_set(err, VX_ENOMEM, "sqlite: out of memory");
                break;
            }
            memset(nc + cap * ncols, 0, (ncap - cap) * ncols * sizeof *nc);
            cells = nc;
            cap = ncap;
        }
        for (size_t j = 0; j < ncols && rc == VX_OK; j++)
            rc = copy_cell(st, (int)j, &cells[nrows * ncols + j], err);
        nrows++;
    }
    if (res) {
        res->cells = cells;
        res->nrows = nrows;
        res->ncols = ncols;
        res->changes = rc == VX_OK ? sqlite3_changes64(c->db) : 0;
        if (rc != VX_OK)
            vx__res_clear(res);
    } else {
        free(cells);
    }
    if (cached) {
        sqlite3_reset(st);
        sqlite3_clear_bindings(st);
    } else {
        sqlite3_finalize(st);
    }
    return rc;
}

/* ---- transactions ---------------------------------------------------- */

static int sq_begin(vx__conn *c, vx__tx_mode mode, vx_error *err)
{
    if (mode == VX__TX_NONE)
        return VX_OK;
    return sq_exec(c, mode == VX__TX_WRITE ? "BEGIN IMMEDIATE" : "BEGIN", NULL, 0, NULL, err);
}

static int sq_commit(vx__conn *c, vx_error *err)
{
    if (sqlite3_get_autocommit(c->db))
        return VX_OK;
    int rc = sq_exec(c, "COMMIT", NULL, 0, NULL, err);
    if (rc != VX_OK && !sqlite3_get_autocommit(c->db))
        sq_exec(c, "ROLLBACK", NULL, 0, NULL, NULL);
    return rc;
}

static void sq_rollback(vx__conn *c)
{
    if (!sqlite3_get_autocommit(c->db))
        sq_exec(c, "ROLLBACK", NULL, 0, NULL, NULL);
}

/* ---- migrations ------------------------------------------------------ */

static int sq_migrate(vx__conn *c, vx_error *err)
{
    int rc = sq_begin(c, VX__TX_WRITE, err);
    if (rc != VX_OK)
        return rc;
    rc = exec_simple(c,
                     "CREATE TABLE IF NOT EXISTS schema_version ("
                     " version INTEGER PRIMARY KEY, applied_at INTEGER NOT NULL)",
                     err);
    vx__res r;
    if (rc == VX_OK)
        rc = sq_exec(c, "SELECT COALESCE(MAX(version), 0) FROM schema_version", NULL, 0, &r, err);
    if (rc != VX_OK) {
        sq_rollback(c);
        return rc;
    }
    int64_t have = r.nrows == 1 ? r.cells[0].i : 0;
    vx__res_clear(&r);
    size_t n = sizeof migrations / sizeof migrations[0];
    if (have > (int64_t)n) {
        sq_rollback(c);
        return vx__error_set(err, VX_EIO,
                             "sqlite: schema version %lld is newer than this program (%zu)",
                             (long long)have, n);
    }
    for (size_t v = (size_t)have + 1; v <= n && rc == VX_OK; v++) {
        rc = exec_simple(c, migrations[v - 1], err);
        if (rc == VX_OK) {
            vx__val p[2] = {{.type = VX__V_INT64, .i = (int64_t)v},
                            {.type = VX__V_INT64, .i = (int64_t)time(NULL) * 1000}};
            rc = sq_exec(c, "INSERT INTO schema_version(version, applied_at) VALUES ($1, $2)", p,
                         2, NULL, err);
        }
    }
    if (rc != VX_OK) {
        sq_rollback(c);
        return rc;
    }
    return sq_commit(c, err);
}

const vx__store_ops vx__store_sqlite_ops = {
    .name = "sqlite",
    .dialect = VX__DIALECT_SQLITE,
    .connect = sq_connect,
    .disconnect = sq_disconnect,
    .healthy = sq_healthy,
    .reset = sq_reset,
    .migrate = sq_migrate,
    .begin = sq_begin,
    .commit = sq_commit,
    .rollback = sq_rollback,
    .exec = sq_exec,
    .max_conns = sq_max_conns,
};
