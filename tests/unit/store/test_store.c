/*
 * test_store.c -- the persistent store (src/store) on every back-end.
 *
 * DESIGN: one list of tests, run once per back-end so that the back-ends
 * are held to the same behaviour: SQLite in memory, SQLite in a temporary
 * file, and PostgreSQL when VX_TEST_PG_URL names a database (every test
 * starts from dropped tables).  tests/integ/test_store_pg.sh provides such
 * a database and also sets VX_TEST_PG_STOP_CMD / VX_TEST_PG_START_CMD, which
 * enable the test that stops the server under an open store (EUNAVAIL, no
 * hang) and starts it again (the pool reconnects).
 */
#include <float.h>
#include <math.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <libpq-fe.h>
#include <sqlite3.h>

#include "store/store.h"

enum { B_MEMORY, B_FILE, B_PG };

static int g_backend;
static char g_dir[256];
static char g_url[600];

#define SHA_A "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
#define SHA_B "ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff"

/* ---- fixtures ---------------------------------------------------------- */

static void pg_no_notice(void *arg, const char *m)
{
    (void)arg;
    (void)m;
}

static int pg_drop_all(const char *url)
{
    PGconn *c = PQconnectdb(url);
    if (PQstatus(c) != CONNECTION_OK) {
        fprintf(stderr, "cannot connect to %s: %s", url, PQerrorMessage(c));
        PQfinish(c);
        return -1;
    }
    PQsetNoticeProcessor(c, pg_no_notice, NULL);
    PGresult *r = PQexec(c, "DROP TABLE IF EXISTS job_results, jobs, similarity_history,"
                            " voice_settings, voice_profiles, tokens, users, schema_version"
                            " CASCADE");
    int ok = PQresultStatus(r) == PGRES_COMMAND_OK;
    if (!ok)
        fprintf(stderr, "drop failed: %s", PQerrorMessage(c));
    PQclear(r);
    PQfinish(c);
    return ok ? 0 : -1;
}

static void rm_file_dir(void)
{
    if (!g_dir[0])
        return;
    const char *names[] = {"sub/store.db", "sub/store.db-wal", "sub/store.db-shm",
                           "sub/store.db-journal"};
    char p[400];
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        snprintf(p, sizeof p, "%s/%s", g_dir, names[i]);
        unlink(p);
    }
    snprintf(p, sizeof p, "%s/sub", g_dir);
    rmdir(p);
    rmdir(g_dir);
    g_dir[0] = '\0';
}

/* prepares g_url for a fresh, empty database of the current back-end */
static int fresh_url(void)
{
    switch (g_backend) {
    case B_MEMORY:
        snprintf(g_url, sizeof g_url, "sqlite::memory:");
        return 0;
    case B_FILE: {
        rm_file_dir();
        char tmpl[] = "/tmp/vxstore-XXXXXX";
        if (!mkdtemp(tmpl))
            return -1;
        snprintf(g_dir, sizeof g_dir, "%s", tmpl);
        snprintf(g_url, sizeof g_url, "sqlite:%s/sub/store.db", g_dir);
        return 0;
    }
    default:
        snprintf(g_url, sizeof g_url, "%s", getenv("VX_TEST_PG_URL"));
        return pg_drop_all(g_url);
    }
}

static int setup(void **state)
{
    if (fresh_url() != 0)
        return -1;
    vx_store *s = NULL;
    vx_error e;
    if (vx_store_open(g_url, &s, &e) != VX_OK) {
        fprintf(stderr, "open %s: %s\n", g_url, e.message);
        return -1;
    }
    *state = s;
    return 0;
}

static int teardown(void **state)
{
    vx_store_free(*state);
    *state = NULL;
    if (g_backend == B_FILE)
        rm_file_dir();
    return 0;
}

static int group_memory(void **state)
{
    (void)state;
    g_backend = B_MEMORY;
    return 0;
}

static int group_file(void **state)
{
    (void)state;
    g_backend = B_FILE;
    return 0;
}

static int group_pg(void **state)
{
    (void)state;
    g_backend = B_PG;
    return 0;
}

/* ---- general ------------------------------------------------------------ */

static void test_open_errors(void **state)
{
    vx_store *s = *state, *t = (vx_store *)1;
    vx_error e;
    assert_int_equal(vx_store_open(NULL, &t, &e), VX_EINVAL);
    assert_null(t);
    assert_int_equal(vx_store_open("sqlite::memory:", NULL, &e), VX_EINVAL);
    assert_int_equal(vx_store_open("mysql://x/y", &t, &e), VX_EINVAL);
    assert_non_null(strstr(e.message, "scheme"));
    assert_int_equal(vx_store_open("sqlite:", &t, &e), VX_EINVAL);
    assert_int_equal(vx_store_open("postgresql://[bad", &t, &e), VX_EINVAL);
    assert_int_equal(vx_store_open("sqlite:/proc/no/such/dir/x.db", &t, &e), VX_EUNAVAIL);
    assert_null(t);
    /* nothing listens on port 1 */
    assert_int_equal(vx_store_open("postgresql://u@127.0.0.1:1/db", &t, &e), VX_EUNAVAIL);
    assert_null(t);
    assert_string_equal(vx_store_backend(s), g_backend == B_PG ? "postgresql" : "sqlite");
    assert_int_equal(vx_store_ping(s, &e), VX_OK);
    assert_int_equal(vx_store_ping(NULL, &e), VX_EINVAL);
    vx_store_free(NULL);
}

static void test_ids_and_names(void **state)
{
    (void)state;
    char ids[200][VX_STORE_ID_LEN + 1];
    for (int i = 0; i < 200; i++) {
        vx_store_new_id(ids[i]);
        assert_int_equal(strlen(ids[i]), 36);
        for (int k = 0; k < 36; k++) {
            char ch = ids[i][k];
            if (k == 8 || k == 13 || k == 18 || k == 23)
                assert_int_equal(ch, '-');
            else
                assert_true((ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'f'));
        }
        assert_int_equal(ids[i][14], '4');
        assert_non_null(strchr("89ab", ids[i][19]));
        for (int j = 0; j < i; j++)
            assert_string_not_equal(ids[i], ids[j]);
    }
    assert_true(vx_store_user_name_valid("alice"));
    assert_true(vx_store_user_name_valid("A.b_c-d@example.org"));
    char max[VX_STORE_MAX_USER + 2];
    memset(max, 'x', sizeof max);
    max[VX_STORE_MAX_USER] = '\0';
    assert_true(vx_store_user_name_valid(max));
    max[VX_STORE_MAX_USER] = 'x';
    max[VX_STORE_MAX_USER + 1] = '\0';
    assert_false(vx_store_user_name_valid(max));
    assert_false(vx_store_user_name_valid(NULL));
    assert_false(vx_store_user_name_valid(""));
    assert_false(vx_store_user_name_valid("a b"));
    assert_false(vx_store_user_name_valid("a/b"));
    assert_false(vx_store_user_name_valid("a'b"));
    assert_false(vx_store_user_name_valid("\xc3\xa9"));
}

/* ---- users and tokens ------------------------------------------------ */

static void test_tokens(void **state)
{
    vx_store *s = *state;
    vx_error e;
    char user[VX_STORE_MAX_USER + 1];
    int admin = -1;

    assert_int_equal(vx_store_token_add(s, "alice", "abcd", &e), VX_ENOTFOUND);
    assert_int_equal(vx_store_user_ensure(s, "alice", 0, &e), VX_OK);
    assert_int_equal(vx_store_user_ensure(s, "alice", 0, &e), VX_OK); /* idempotent */
    assert_int_equal(vx_store_token_add(s, "alice", "abcd", &e), VX_OK);
    assert_int_equal(vx_store_token_add(s, "alice", "abcd", &e), VX_ECONFLICT);
    assert_int_equal(e.code, VX_ECONFLICT);
    assert_int_equal(vx_store_token_add(s, "alice", "ab01", &e), VX_OK);

    assert_int_equal(vx_store_token_find(s, "abcd", user, &admin, &e), VX_OK);
    assert_string_equal(user, "alice");
    assert_int_equal(admin, 0);
    assert_int_equal(vx_store_user_ensure(s, "alice", 1, &e), VX_OK);
    assert_int_equal(vx_store_token_find(s, "abcd", user, &admin, &e), VX_OK);
    assert_int_equal(admin, 1);
    assert_int_equal(vx_store_token_find(s, "abcd", user, NULL, &e), VX_OK);
    assert_int_equal(vx_store_token_find(s, "ffff", user, &admin, &e), VX_ENOTFOUND);
    assert_string_equal(user, "");

    assert_int_equal(vx_store_token_revoke(s, "abcd", &e), VX_OK);
    assert_int_equal(vx_store_token_find(s, "abcd", user, &admin, &e), VX_ENOTFOUND);
    assert_int_equal(vx_store_token_revoke(s, "abcd", &e), VX_ENOTFOUND);
    assert_int_equal(vx_store_token_revoke(s, "eeee", &e), VX_ENOTFOUND);
    /* a revoked hash stays taken */
    assert_int_equal(vx_store_token_add(s, "alice", "abcd", &e), VX_ECONFLICT);

    assert_int_equal(vx_store_user_ensure(s, "bob", 0, &e), VX_OK);
    assert_int_equal(vx_store_token_add(s, "bob", "b0b0", &e), VX_OK);
    assert_int_equal(vx_store_token_add(s, "alice", "a1", &e), VX_OK);
    int n = -1;
    assert_int_equal(vx_store_token_revoke_user(s, "alice", &n, &e), VX_OK);
    assert_int_equal(n, 2); /* ab01, a1 (abcd was already revoked) */
    assert_int_equal(vx_store_token_revoke_user(s, "alice", &n, &e), VX_OK);
    assert_int_equal(n, 0);
    assert_int_equal(vx_store_token_revoke_user(s, "nobody", NULL, &e), VX_OK);
    assert_int_equal(vx_store_token_find(s, "a1", user, &admin, &e), VX_ENOTFOUND);
    assert_int_equal(vx_store_token_find(s, "b0b0", user, &admin, &e), VX_OK);
    assert_string_equal(user, "bob");

    /* misuse */
    assert_int_equal(vx_store_user_ensure(NULL, "alice", 0, &e), VX_EINVAL);
    assert_int_equal(vx_store_user_ensure(s, NULL, 0, &e), VX_EINVAL);
    assert_int_equal(vx_store_user_ensure(s, "bad name", 0, &e), VX_EINVAL);
    assert_non_null(strstr(e.message, "user"));
    assert_int_equal(vx_store_user_ensure(s, "x'; DROP TABLE users; --", 0, &e), VX_EINVAL);
    assert_int_equal(vx_store_token_add(s, "alice", NULL, &e), VX_EINVAL);
    assert_int_equal(vx_store_token_add(s, "alice", "", &e), VX_EINVAL);
    assert_int_equal(vx_store_token_add(s, "alice", "xyz", &e), VX_EINVAL);
    assert_int_equal(vx_store_token_add(s, NULL, "ab", &e), VX_EINVAL);
    assert_int_equal(vx_store_token_find(s, NULL, user, &admin, &e), VX_EINVAL);
    assert_int_equal(vx_store_token_find(s, "ab", NULL, &admin, &e), VX_EINVAL);
    assert_int_equal(vx_store_token_find(NULL, "ab", user, &admin, &e), VX_EINVAL);
    assert_int_equal(vx_store_token_revoke(s, NULL, &e), VX_EINVAL);
    assert_int_equal(vx_store_token_revoke_user(s, "a b", &n, &e), VX_EINVAL);
    /* NULL error pointers are fine */
    assert_int_equal(vx_store_token_revoke(s, "eeee", NULL), VX_ENOTFOUND);
}

/* ---- profiles ---------------------------------------------------------- */

static void fill_vp(float *v, float seed)
{
    for (int i = 0; i < VX_VOICEPRINT_DIM; i++)
        v[i] = seed * sinf((float)i * 0.37f + seed);
}

static void test_profiles(void **state)
{
    vx_store *s = *state;
    vx_error e;
    vx_profile p, q;
    float vp[VX_VOICEPRINT_DIM];
    fill_vp(vp, 0.123f);
    /* values that lose bits in any lossy encoding */
    vp[0] = -0.0f;
    vp[1] = FLT_MIN / 4; /* subnormal */
    vp[2] = FLT_MAX;
    vp[3] = -FLT_MAX;
    vp[4] = 1.0f / 3.0f;
    vp[5] = nextafterf(1.0f, 2.0f);

    assert_int_equal(vx_store_profile_get(s, "carol", 0, &p, &e), VX_ENOTFOUND);
    assert_int_equal(vx_store_profile_add(s, "carol", "{\"v\":1}", NULL, SHA_A, "a1.wav", &p, &e),
                     VX_OK);
    assert_int_equal(p.version, 1);
    assert_int_equal(strlen(p.id), 36);
    assert_string_equal(p.user, "carol");
    assert_string_equal(p.analysis_json, "{\"v\":1}");
    assert_string_equal(p.audio_ref, "a1.wav");
    assert_int_equal(p.has_voiceprint, 0);
    assert_true(p.created_at_ms > 1600000000000LL);
    char id1[VX_STORE_ID_LEN + 1];
    memcpy(id1, p.id, sizeof id1);
    vx_profile_clear(&p);
    assert_null(p.analysis_json);

    const char *big = "{\"pitch\":{\"mean_hz\":130.259483356},\"text\":\"\xc3\xa9\xe6\x97\xa5 'q' \\\"x\\\"\"}";
    assert_int_equal(vx_store_profile_add(s, "carol", big, vp, SHA_B, NULL, &p, &e), VX_OK);
    assert_int_equal(p.version, 2);
    assert_int_equal(p.has_voiceprint, 1);
    assert_null(p.audio_ref);
    char id2[VX_STORE_ID_LEN + 1];
    memcpy(id2, p.id, sizeof id2);
    int64_t created2 = p.created_at_ms;
    vx_profile_clear(&p);
    assert_int_equal(vx_store_profile_add(s, "carol", "{}", NULL, SHA_A, "a3.wav", NULL, &e), VX_OK);

    /* latest, explicit, unknown versions */
    assert_int_equal(vx_store_profile_get(s, "carol", 0, &p, &e), VX_OK);
    assert_int_equal(p.version, 3);
    vx_profile_clear(&p);
    assert_int_equal(vx_store_profile_get(s, "carol", 2, &p, &e), VX_OK);
    assert_string_equal(p.id, id2);
    assert_string_equal(p.user, "carol");
    assert_string_equal(p.analysis_json, big);
    assert_string_equal(p.audio_sha256, SHA_B);
    assert_null(p.audio_ref);
    assert_int_equal(p.created_at_ms, created2);
    assert_int_equal(p.has_voiceprint, 1);
    assert_memory_equal(p.voiceprint, vp, sizeof vp); /* bit-exact */
    assert_true(signbit(p.voiceprint[0]));
    assert_int_equal(vx_store_profile_get_id(s, id2, &q, &e), VX_OK);
    assert_string_equal(q.id, id2);
    assert_int_equal(q.version, 2);
    assert_memory_equal(q.voiceprint, vp, sizeof vp);
    vx_profile_clear(&q);
    vx_profile_clear(&p);
    assert_int_equal(vx_store_profile_get(s, "carol", 1, &p, &e), VX_OK);
    assert_string_equal(p.id, id1);
    assert_string_equal(p.audio_ref, "a1.wav");
    assert_int_equal(p.has_voiceprint, 0);
    vx_profile_clear(&p);
    assert_int_equal(vx_store_profile_get(s, "carol", 4, &p, &e), VX_ENOTFOUND);
    assert_int_equal(vx_store_profile_get(s, "dave", 0, &p, &e), VX_ENOTFOUND);
    assert_int_equal(vx_store_profile_get_id(s, "00000000-0000-4000-8000-000000000000", &p, &e),
                     VX_ENOTFOUND);

    /* versions, newest first */
    vx_profile_version *v = NULL;
    size_t n = 99;
    assert_int_equal(vx_store_profile_versions(s, "carol", &v, &n, &e), VX_OK);
    assert_int_equal(n, 3);
    assert_int_equal(v[0].version, 3);
    assert_int_equal(v[1].version, 2);
    assert_string_equal(v[1].id, id2);
    assert_int_equal(v[1].created_at_ms, created2);
    assert_int_equal(v[2].version, 1);
    free(v);
    assert_int_equal(vx_store_profile_versions(s, "dave", &v, &n, &e), VX_OK);
    assert_int_equal(n, 0);
    assert_null(v);

    /* another user's numbering is independent; the user was created */
    assert_int_equal(vx_store_profile_add(s, "dave", "{}", vp, SHA_A, "d.wav", &p, &e), VX_OK);
    assert_int_equal(p.version, 1);
    vx_profile_clear(&p);
    assert_int_equal(vx_store_token_add(s, "dave", "d0", &e), VX_OK);

    /* misuse */
    assert_int_equal(vx_store_profile_add(NULL, "carol", "{}", NULL, SHA_A, NULL, &p, &e),
                     VX_EINVAL);
    assert_int_equal(vx_store_profile_add(s, "bad user", "{}", NULL, SHA_A, NULL, &p, &e),
                     VX_EINVAL);
    assert_int_equal(vx_store_profile_add(s, "carol", NULL, NULL, SHA_A, NULL, &p, &e), VX_EINVAL);
    assert_int_equal(vx_store_profile_add(s, "carol", "{}", NULL, NULL, NULL, &p, &e), VX_EINVAL);
    assert_int_equal(vx_store_profile_add(s, "carol", "{}", NULL, "abc", NULL, &p, &e), VX_EINVAL);
    float bad[VX_VOICEPRINT_DIM];
    fill_vp(bad, 1);
    bad[7] = NAN;
    assert_int_equal(vx_store_profile_add(s, "carol", "{}", bad, SHA_A, NULL, &p, &e), VX_EINVAL);
    assert_int_equal(vx_store_profile_get(s, "carol", -1, &p, &e), VX_EINVAL);
    assert_int_equal(vx_store_profile_get(s, "carol", 0, NULL, &e), VX_EINVAL);
    assert_int_equal(vx_store_profile_get(s, NULL, 0, &p, &e), VX_EINVAL);
    assert_int_equal(vx_store_profile_get_id(s, NULL, &p, &e), VX_EINVAL);
    assert_int_equal(vx_store_profile_get_id(s, "", &p, &e), VX_EINVAL);
    assert_int_equal(vx_store_profile_versions(s, "carol", NULL, &n, &e), VX_EINVAL);
    assert_int_equal(vx_store_profile_versions(s, "c d", &v, &n, &e), VX_EINVAL);
    /* failed calls added nothing */
    assert_int_equal(vx_store_profile_versions(s, "carol", &v, &n, &e), VX_OK);
    assert_int_equal(n, 3);
    free(v);
    vx_profile_clear(NULL);
}

typedef struct {
    int calls, stop_after;
    vx_store *s;
    char seen[8][VX_STORE_MAX_USER + 1];
    int versions[8];
    float first[8];
} walk_state;

static int walk(const char *id, const char *user, int version, const float *vp, void *ud)
{
    walk_state *w = ud;
    /* the store may be used from the callback */
    vx_profile p;
    vx_error e;
    if (vx_store_profile_get_id(w->s, id, &p, &e) != VX_OK || p.version != version)
        w->calls += 100;
    vx_profile_clear(&p);
    if (w->calls < 8) {
        snprintf(w->seen[w->calls], sizeof w->seen[0], "%s", user);
        w->versions[w->calls] = version;
        w->first[w->calls] = vp[0];
    }
    w->calls++;
    return w->stop_after && w->calls >= w->stop_after;
}

static void test_voiceprints_each(void **state)
{
    vx_store *s = *state;
    vx_error e;
    float vp[VX_VOICEPRINT_DIM];
    walk_state w = {.s = s};
    assert_int_equal(vx_store_voiceprints_each(s, walk, &w, &e), VX_OK);
    assert_int_equal(w.calls, 0);

    fill_vp(vp, 1);
    vp[0] = 1;
    assert_int_equal(vx_store_profile_add(s, "u1", "{}", vp, SHA_A, NULL, NULL, &e), VX_OK);
    vp[0] = 2;
    assert_int_equal(vx_store_profile_add(s, "u1", "{}", vp, SHA_A, NULL, NULL, &e), VX_OK);
    assert_int_equal(vx_store_profile_add(s, "u1", "{}", NULL, SHA_A, NULL, NULL, &e), VX_OK);
    assert_int_equal(vx_store_profile_add(s, "u2", "{}", NULL, SHA_A, NULL, NULL, &e), VX_OK);
    vp[0] = 3;
    assert_int_equal(vx_store_profile_add(s, "u3", "{}", vp, SHA_A, NULL, NULL, &e), VX_OK);

    assert_int_equal(vx_store_voiceprints_each(s, walk, &w, &e), VX_OK);
    assert_int_equal(w.calls, 2);
    assert_string_equal(w.seen[0], "u1");
    assert_int_equal(w.versions[0], 2);
    assert_true(w.first[0] == 2.0f);
    assert_string_equal(w.seen[1], "u3");
    assert_int_equal(w.versions[1], 1);
    assert_true(w.first[1] == 3.0f);

    walk_state w2 = {.s = s, .stop_after = 1};
    assert_int_equal(vx_store_voiceprints_each(s, walk, &w2, &e), VX_OK);
    assert_int_equal(w2.calls, 1);
    assert_int_equal(vx_store_voiceprints_each(s, NULL, &w2, &e), VX_EINVAL);
    assert_int_equal(vx_store_voiceprints_each(NULL, walk, &w2, &e), VX_EINVAL);
}

/* ---- concurrency --------------------------------------------------------- */

typedef struct {
    vx_store *s;
    const char *user;
    int versions[10];
    int rc;
} adder;

static void *add_ten(void *arg)
{
    adder *a = arg;
    for (int i = 0; i < 10; i++) {
        vx_profile p;
        vx_error e;
        int rc = vx_store_profile_add(a->s, a->user, "{}", NULL, SHA_A, NULL, &p, &e);
        if (rc != VX_OK) {
            fprintf(stderr, "profile_add: %s\n", e.message);
            a->rc = rc;
            return NULL;
        }
        a->versions[i] = p.version;
        vx_profile_clear(&p);
    }
    return NULL;
}

static void test_concurrent_versions(void **state)
{
    vx_store *s = *state;
    adder a[8];
    pthread_t th[8];
    /* threads 0-3 on one user, 4-7 on another (created concurrently) */
    for (int t = 0; t < 8; t++) {
        a[t] = (adder){.s = s, .user = t < 4 ? "concurrent" : "other"};
        assert_int_equal(pthread_create(&th[t], NULL, add_ten, &a[t]), 0);
    }
    for (int t = 0; t < 8; t++)
        assert_int_equal(pthread_join(th[t], NULL), 0);
    for (int half = 0; half < 2; half++) {
        int seen[41] = {0};
        for (int t = half * 4; t < half * 4 + 4; t++) {
            assert_int_equal(a[t].rc, VX_OK);
            int prev = 0;
            for (int i = 0; i < 10; i++) {
                int v = a[t].versions[i];
                assert_true(v >= 1 && v <= 40);
                assert_true(v > prev); /* one thread's adds come in order */
                prev = v;
                seen[v]++;
            }
        }
        for (int v = 1; v <= 40; v++)
            assert_int_equal(seen[v], 1);
    }
    vx_profile_version *v;
    size_t n;
    vx_error e;
    assert_int_equal(vx_store_profile_versions(s, "concurrent", &v, &n, &e), VX_OK);
    assert_int_equal(n, 40);
    for (size_t i = 0; i < n; i++)
        assert_int_equal(v[i].version, (int)(40 - i));
    free(v);
}

/* ---- settings and history ---------------------------------------------- */

static void test_settings(void **state)
{
    vx_store *s = *state;
    vx_error e;
    char *json = (char *)1;
    assert_int_equal(vx_store_settings_get(s, "erin", &json, &e), VX_ENOTFOUND);
    assert_null(json);
    assert_int_equal(vx_store_settings_put(s, "erin", "{\"speed\":1.0}", &e), VX_OK);
    assert_int_equal(vx_store_settings_get(s, "erin", &json, &e), VX_OK);
    assert_string_equal(json, "{\"speed\":1.0}");
    free(json);
    assert_int_equal(vx_store_settings_put(s, "erin", "{\"speed\":0.65}", &e), VX_OK);
    assert_int_equal(vx_store_settings_get(s, "erin", &json, &e), VX_OK);
    assert_string_equal(json, "{\"speed\":0.65}");
    free(json);
    assert_int_equal(vx_store_settings_put(s, "erin", "", &e), VX_OK);
    assert_int_equal(vx_store_settings_get(s, "erin", &json, &e), VX_OK);
    assert_string_equal(json, "");
    free(json);
    assert_int_equal(vx_store_token_add(s, "erin", "e1", &e), VX_OK); /* user created */
    assert_int_equal(vx_store_settings_put(s, "erin", NULL, &e), VX_EINVAL);
    assert_int_equal(vx_store_settings_put(s, "", "{}", &e), VX_EINVAL);
    assert_int_equal(vx_store_settings_get(s, "erin", NULL, &e), VX_EINVAL);
    assert_int_equal(vx_store_settings_get(NULL, "erin", &json, &e), VX_EINVAL);
}

static void test_history(void **state)
{
    vx_store *s = *state;
    vx_error e;
    vx_history_entry *h = (vx_history_entry *)1;
    size_t n = 99;
    assert_int_equal(vx_store_history_list(s, "fred", 10, &h, &n, &e), VX_OK);
    assert_int_equal(n, 0);
    assert_null(h);
    int64_t ids[5];
    const double overall[5] = {0.1 + 0.2, 1.0 / 3.0, 0.0, 1.0, 5e-324};
    for (int i = 0; i < 5; i++) {
        char orig[32], js[64];
        snprintf(orig, sizeof orig, "upload:%d", i);
        snprintf(js, sizeof js, "{\"overall\":%d}", i);
        assert_int_equal(
            vx_store_history_add(s, "fred", orig, "cloned.wav", overall[i], js, &ids[i], &e),
            VX_OK);
        if (i)
            assert_true(ids[i] > ids[i - 1]);
    }
    assert_int_equal(vx_store_history_add(s, "gina", "a", "b", 0.5, "{}", NULL, &e), VX_OK);

    assert_int_equal(vx_store_history_list(s, "fred", 3, &h, &n, &e), VX_OK);
    assert_int_equal(n, 3);
    for (int i = 0; i < 3; i++) {
        assert_int_equal(h[i].id, ids[4 - i]);
        assert_true(h[i].overall == overall[4 - i]); /* exact */
        char orig[32];
        snprintf(orig, sizeof orig, "upload:%d", 4 - i);
        assert_string_equal(h[i].original, orig);
        assert_string_equal(h[i].cloned, "cloned.wav");
        assert_true(h[i].created_at_ms > 1600000000000LL);
    }
    assert_string_equal(h[0].similarity_json, "{\"overall\":4}");
    vx_history_free(h, n);
    assert_int_equal(vx_store_history_list(s, "fred", 0, &h, &n, &e), VX_OK);
    assert_int_equal(n, 5);
    assert_int_equal(h[4].id, ids[0]);
    vx_history_free(h, n);
    assert_int_equal(vx_store_history_list(s, "gina", 0, &h, &n, &e), VX_OK);
    assert_int_equal(n, 1);
    vx_history_free(h, n);
    vx_history_free(NULL, 0);

    assert_int_equal(vx_store_history_add(s, "fred", NULL, "b", 0.5, "{}", NULL, &e), VX_EINVAL);
    assert_int_equal(vx_store_history_add(s, "fred", "a", NULL, 0.5, "{}", NULL, &e), VX_EINVAL);
    assert_int_equal(vx_store_history_add(s, "fred", "a", "b", 0.5, NULL, NULL, &e), VX_EINVAL);
    assert_int_equal(vx_store_history_add(s, "fred", "a", "b", NAN, "{}", NULL, &e), VX_EINVAL);
    assert_int_equal(vx_store_history_add(s, "f r", "a", "b", 0.5, "{}", NULL, &e), VX_EINVAL);
    assert_int_equal(vx_store_history_list(s, "fred", 1, NULL, &n, &e), VX_EINVAL);
    assert_int_equal(vx_store_history_list(s, "fred", 1, &h, NULL, &e), VX_EINVAL);
}

/* ---- jobs ---------------------------------------------------------------- */

static void make_job(vx_job *j, const char *user, size_t n_items, uint64_t seed)
{
    static const char *langs[] = {"en", "fr-FR", "zh-Hans-CN"};
    memset(j, 0, sizeof *j);
    vx_store_new_id(j->id);
    snprintf(j->user, sizeof j->user, "%s", user);
    vx_store_new_id(j->profile_id);
    snprintf(j->status, sizeof j->status, "queued");
    j->settings_json = "{\"preset\":\"natural\"}";
    j->seed = seed;
    j->n_items = n_items;
    j->items = calloc(n_items ? n_items : 1, sizeof *j->items);
    for (size_t i = 0; i < n_items; i++) {
        snprintf(j->items[i].language, sizeof j->items[i].language, "%s", langs[i % 3]);
        j->items[i].text = "Hello, world \xe2\x80\x94 'quoted'";
    }
}

static void test_jobs(void **state)
{
    vx_store *s = *state;
    vx_error e;
    vx_job j, g;
    make_job(&j, "hank", 3, UINT64_C(0xFFFFFFFFFFFFFFFF));
    j.items[1].status[0] = '\0'; /* "" = queued */
    snprintf(j.items[2].status, sizeof j.items[2].status, "running");
    j.items[2].progress = 0.25;
    assert_int_equal(vx_store_job_create(s, &j, &e), VX_OK);
    assert_true(j.created_at_ms > 1600000000000LL);
    assert_int_equal(j.updated_at_ms, j.created_at_ms);
    assert_int_equal(vx_store_job_create(s, &j, &e), VX_ECONFLICT);

    assert_int_equal(vx_store_job_get(s, j.id, &g, &e), VX_OK);
    assert_string_equal(g.id, j.id);
    assert_string_equal(g.user, "hank");
    assert_string_equal(g.profile_id, j.profile_id);
    assert_string_equal(g.status, "queued");
    assert_string_equal(g.settings_json, j.settings_json);
    assert_true(g.seed == UINT64_C(0xFFFFFFFFFFFFFFFF));
    assert_int_equal(g.created_at_ms, j.created_at_ms);
    assert_int_equal(g.n_items, 3);
    assert_string_equal(g.items[0].language, "en");
    assert_string_equal(g.items[2].language, "zh-Hans-CN");
    assert_string_equal(g.items[0].text, j.items[0].text);
    assert_string_equal(g.items[0].status, "queued");
    assert_string_equal(g.items[1].status, "queued");
    assert_string_equal(g.items[2].status, "running");
    assert_true(g.items[2].progress == 0.25);
    assert_null(g.items[0].audio_ref);
    assert_null(g.items[0].similarity_json);
    assert_null(g.items[0].error);
    vx_job_clear(&g);

    /* other seeds round-trip too */
    const uint64_t seeds[] = {0, 1, UINT64_C(0x8000000000000000), UINT64_C(9007199254740993)};
    vx_job k[4];
    for (int i = 0; i < 4; i++) {
        make_job(&k[i], "ivy", i, seeds[i]);
        k[i].settings_json = NULL;
        assert_int_equal(vx_store_job_create(s, &k[i], &e), VX_OK);
        assert_int_equal(vx_store_job_get(s, k[i].id, &g, &e), VX_OK);
        assert_true(g.seed == seeds[i]);
        assert_null(g.settings_json);
        assert_int_equal(g.n_items, (size_t)i);
        vx_job_clear(&g);
    }

    /* item updates: NULL leaves a field alone, progress < 0 too */
    assert_int_equal(vx_store_job_item_update(s, j.id, 0, "running", 0.5, NULL, NULL, NULL, &e),
                     VX_OK);
    assert_int_equal(vx_store_job_item_update(s, j.id, 0, "done", 1.0, "out-en.ogg",
                                              "{\"overall\":0.9}", NULL, &e),
                     VX_OK);
    assert_int_equal(vx_store_job_item_update(s, j.id, 1, NULL, 0.75, NULL, NULL, NULL, &e),
                     VX_OK);
    assert_int_equal(
        vx_store_job_item_update(s, j.id, 2, "failed", -1, NULL, NULL, "engine crashed", &e),
        VX_OK);
    assert_int_equal(vx_store_job_item_update(s, j.id, 0, NULL, -1, NULL, NULL, NULL, &e), VX_OK);
    assert_int_equal(vx_store_job_item_update(s, j.id, 3, "done", 1, NULL, NULL, NULL, &e),
                     VX_ENOTFOUND);
    assert_int_equal(vx_store_job_item_update(s, "nope", 0, "done", 1, NULL, NULL, NULL, &e),
                     VX_ENOTFOUND);
    assert_int_equal(vx_store_job_item_update(s, j.id, 0, "partial", 1, NULL, NULL, NULL, &e),
                     VX_EINVAL);
    assert_int_equal(vx_store_job_item_update(s, j.id, 0, "done", 1.5, NULL, NULL, NULL, &e),
                     VX_EINVAL);
    assert_int_equal(vx_store_job_item_update(s, j.id, 0, "done", NAN, NULL, NULL, NULL, &e),
                     VX_EINVAL);
    assert_int_equal(vx_store_job_item_update(s, NULL, 0, "done", 1, NULL, NULL, NULL, &e),
                     VX_EINVAL);
    assert_int_equal(vx_store_job_set_status(s, j.id, "partial", &e), VX_OK);
    assert_int_equal(vx_store_job_set_status(s, j.id, "weird", &e), VX_EINVAL);
    assert_int_equal(vx_store_job_set_status(s, j.id, NULL, &e), VX_EINVAL);
    assert_int_equal(vx_store_job_set_status(s, "00000000-0000-4000-8000-000000000000", "done", &e),
                     VX_ENOTFOUND);

    assert_int_equal(vx_store_job_get(s, j.id, &g, &e), VX_OK);
    assert_string_equal(g.status, "partial");
    assert_true(g.updated_at_ms >= g.created_at_ms);
    assert_string_equal(g.items[0].status, "done");
    assert_true(g.items[0].progress == 1.0);
    assert_string_equal(g.items[0].audio_ref, "out-en.ogg");
    assert_string_equal(g.items[0].similarity_json, "{\"overall\":0.9}");
    assert_string_equal(g.items[1].status, "queued");
    assert_true(g.items[1].progress == 0.75);
    assert_string_equal(g.items[2].status, "failed");
    assert_true(g.items[2].progress == 0.25);
    assert_string_equal(g.items[2].error, "engine crashed");
    vx_job_clear(&g);
    vx_job_clear(&g); /* twice is fine */

    assert_int_equal(vx_store_job_get(s, "00000000-0000-4000-8000-000000000000", &g, &e),
                     VX_ENOTFOUND);
    assert_int_equal(vx_store_job_get(s, NULL, &g, &e), VX_EINVAL);
    assert_int_equal(vx_store_job_get(s, j.id, NULL, &e), VX_EINVAL);

    /* unfinished: queued or running, oldest first */
    assert_int_equal(vx_store_job_set_status(s, k[1].id, "running", &e), VX_OK);
    assert_int_equal(vx_store_job_set_status(s, k[2].id, "done", &e), VX_OK);
    char (*ids)[VX_STORE_ID_LEN + 1] = NULL;
    size_t n = 0;
    assert_int_equal(vx_store_jobs_unfinished(s, &ids, &n, &e), VX_OK);
    assert_int_equal(n, 3);
    assert_string_equal(ids[0], k[0].id);
    assert_string_equal(ids[1], k[1].id);
    assert_string_equal(ids[2], k[3].id);
    free(ids);
    assert_int_equal(vx_store_jobs_unfinished(s, NULL, &n, &e), VX_EINVAL);

    /* misuse of create */
    vx_job bad;
    make_job(&bad, "hank", 1, 1);
    snprintf(bad.status, sizeof bad.status, "bogus");
    assert_int_equal(vx_store_job_create(s, &bad, &e), VX_EINVAL);
    snprintf(bad.status, sizeof bad.status, "queued");
    bad.items[0].text = NULL;
    assert_int_equal(vx_store_job_create(s, &bad, &e), VX_EINVAL);
    bad.items[0].text = "x";
    bad.items[0].progress = 2;
    assert_int_equal(vx_store_job_create(s, &bad, &e), VX_EINVAL);
    bad.items[0].progress = 0;
    bad.items[0].language[0] = '\0';
    assert_int_equal(vx_store_job_create(s, &bad, &e), VX_EINVAL);
    snprintf(bad.items[0].language, sizeof bad.items[0].language, "de");
    bad.user[0] = '\0';
    assert_int_equal(vx_store_job_create(s, &bad, &e), VX_EINVAL);
    snprintf(bad.user, sizeof bad.user, "hank");
    bad.id[0] = '\0';
    assert_int_equal(vx_store_job_create(s, &bad, &e), VX_EINVAL);
    assert_int_equal(vx_store_job_create(s, NULL, &e), VX_EINVAL);
    vx_store_new_id(bad.id);
    bad.status[0] = '\0'; /* "" = queued */
    assert_int_equal(vx_store_job_create(s, &bad, &e), VX_OK);
    assert_string_equal(bad.status, "queued");
    free(bad.items);

    free(j.items);
    for (int i = 0; i < 4; i++)
        free(k[i].items);
}

/* a failed write leaves no trace (one transaction) */
static void test_failed_write_rolls_back(void **state)
{
    vx_store *s = *state;
    vx_error e;
    vx_job j, dup;
    make_job(&j, "jack", 1, 7);
    assert_int_equal(vx_store_job_create(s, &j, &e), VX_OK);
    make_job(&dup, "newcomer", 2, 8);
    memcpy(dup.id, j.id, sizeof dup.id);
    assert_int_equal(vx_store_job_create(s, &dup, &e), VX_ECONFLICT);
    /* the user "newcomer" was created inside the failed transaction */
    assert_int_equal(vx_store_token_add(s, "newcomer", "00", &e), VX_ENOTFOUND);
    vx_job g;
    assert_int_equal(vx_store_job_get(s, j.id, &g, &e), VX_OK);
    assert_string_equal(g.user, "jack");
    assert_int_equal(g.n_items, 1);
    vx_job_clear(&g);
    free(j.items);
    free(dup.items);
}

/* ---- persistence and migrations ----------------------------------------- */

static void test_reopen(void **state)
{
    vx_store *s = *state;
    vx_error e;
    if (g_backend == B_MEMORY) {
        /* every in-memory store is its own database */
        vx_store *t;
        assert_int_equal(vx_store_user_ensure(s, "kim", 0, &e), VX_OK);
        assert_int_equal(vx_store_open("sqlite::memory:", &t, &e), VX_OK);
        assert_int_equal(vx_store_token_add(t, "kim", "01", &e), VX_ENOTFOUND);
        vx_store_free(t);
        return;
    }
    float vp[VX_VOICEPRINT_DIM];
    fill_vp(vp, 0.5f);
    vx_profile p;
    assert_int_equal(vx_store_profile_add(s, "kim", "{\"a\":1}", vp, SHA_A, "k.wav", &p, &e),
                     VX_OK);
    char id[VX_STORE_ID_LEN + 1];
    memcpy(id, p.id, sizeof id);
    vx_profile_clear(&p);
    assert_int_equal(vx_store_settings_put(s, "kim", "{\"s\":2}", &e), VX_OK);
    /* a second store on the same database at the same time (migrations
     * already applied: nothing happens) */
    vx_store *t;
    assert_int_equal(vx_store_open(g_url, &t, &e), VX_OK);
    assert_int_equal(vx_store_profile_get(t, "kim", 0, &p, &e), VX_OK);
    assert_string_equal(p.id, id);
    vx_profile_clear(&p);
    vx_store_free(t);
    vx_store_free(s);
    *state = NULL;
    for (int round = 0; round < 2; round++) {
        assert_int_equal(vx_store_open(g_url, &s, &e), VX_OK);
        *state = s;
        assert_int_equal(vx_store_profile_get_id(s, id, &p, &e), VX_OK);
        assert_int_equal(p.version, 1);
        assert_memory_equal(p.voiceprint, vp, sizeof vp);
        vx_profile_clear(&p);
        char *json;
        assert_int_equal(vx_store_settings_get(s, "kim", &json, &e), VX_OK);
        assert_string_equal(json, "{\"s\":2}");
        free(json);
        assert_int_equal(vx_store_profile_add(s, "kim", "{}", NULL, SHA_A, NULL, &p, &e), VX_OK);
        assert_int_equal(p.version, 2 + round);
        vx_profile_clear(&p);
        if (round == 0) {
            vx_store_free(s);
            *state = NULL;
        }
    }

    /* exactly one schema_version row per migration after several opens */
    if (g_backend == B_FILE) {
        char path[400];
        snprintf(path, sizeof path, "%s/sub/store.db", g_dir);
        sqlite3 *db;
        assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
        sqlite3_stmt *st;
        assert_int_equal(sqlite3_prepare_v2(db, "SELECT COUNT(*), MAX(version) FROM schema_version",
                                            -1, &st, NULL),
                         SQLITE_OK);
        assert_int_equal(sqlite3_step(st), SQLITE_ROW);
        assert_int_equal(sqlite3_column_int(st, 0), 1);
        assert_int_equal(sqlite3_column_int(st, 1), 1);
        sqlite3_finalize(st);
        assert_int_equal(sqlite3_prepare_v2(db, "PRAGMA journal_mode", -1, &st, NULL), SQLITE_OK);
        assert_int_equal(sqlite3_step(st), SQLITE_ROW);
        assert_string_equal((const char *)sqlite3_column_text(st, 0), "wal");
        sqlite3_finalize(st);
        sqlite3_close(db);
    } else {
        PGconn *c = PQconnectdb(g_url);
        assert_int_equal(PQstatus(c), CONNECTION_OK);
        PGresult *r = PQexec(c, "SELECT COUNT(*), MAX(version) FROM schema_version");
        assert_int_equal(PQresultStatus(r), PGRES_TUPLES_OK);
        assert_string_equal(PQgetvalue(r, 0, 0), "1");
        assert_string_equal(PQgetvalue(r, 0, 1), "1");
        PQclear(r);
        PQfinish(c);
    }
}

typedef struct {
    vx_store *s;
    int rc;
} opener;

static void *open_one(void *arg)
{
    opener *o = arg;
    vx_error e;
    o->rc = vx_store_open(g_url, &o->s, &e);
    if (o->rc != VX_OK)
        fprintf(stderr, "concurrent open: %s\n", e.message);
    return NULL;
}

/* several processes (here: stores) migrating one new database at once */
static void test_concurrent_open(void **state)
{
    if (g_backend == B_MEMORY)
        skip();
    vx_store_free(*state);
    *state = NULL;
    assert_int_equal(fresh_url(), 0);
    opener o[4];
    pthread_t th[4];
    for (int i = 0; i < 4; i++) {
        o[i] = (opener){0};
        assert_int_equal(pthread_create(&th[i], NULL, open_one, &o[i]), 0);
    }
    for (int i = 0; i < 4; i++)
        assert_int_equal(pthread_join(th[i], NULL), 0);
    for (int i = 0; i < 4; i++)
        assert_int_equal(o[i].rc, VX_OK);
    vx_error e;
    assert_int_equal(vx_store_user_ensure(o[0].s, "lee", 0, &e), VX_OK);
    assert_int_equal(vx_store_token_add(o[3].s, "lee", "1ee", &e), VX_OK);
    for (int i = 1; i < 4; i++)
        vx_store_free(o[i].s);
    *state = o[0].s;
}

/* ---- server going away (PostgreSQL, driven by test_store_pg.sh) -------- */

static double mono_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static void test_pg_server_stops(void **state)
{
    const char *stop = getenv("VX_TEST_PG_STOP_CMD"), *start = getenv("VX_TEST_PG_START_CMD");
    if (g_backend != B_PG || !stop || !start)
        skip();
    vx_store *s = *state;
    vx_error e;
    vx_profile p;
    assert_int_equal(vx_store_profile_add(s, "mia", "{}", NULL, SHA_A, NULL, &p, &e), VX_OK);
    char id[VX_STORE_ID_LEN + 1];
    memcpy(id, p.id, sizeof id);
    vx_profile_clear(&p);
    assert_int_equal(system(stop), 0);

    double t0 = mono_s();
    assert_int_equal(vx_store_ping(s, &e), VX_EUNAVAIL);
    assert_int_equal(vx_store_profile_get(s, "mia", 0, &p, &e), VX_EUNAVAIL);
    assert_int_equal(vx_store_profile_add(s, "mia", "{}", NULL, SHA_A, NULL, &p, &e), VX_EUNAVAIL);
    char user[VX_STORE_MAX_USER + 1];
    assert_int_equal(vx_store_token_find(s, "ab", user, NULL, &e), VX_EUNAVAIL);
    vx_store *t = NULL;
    assert_int_equal(vx_store_open(g_url, &t, &e), VX_EUNAVAIL);
    assert_null(t);
    double dt = mono_s() - t0;
    printf("# EUNAVAIL reported in %.3f s: %s\n", dt, e.message);
    assert_true(dt < 20);

    assert_int_equal(system(start), 0);
    /* the pooled connection reconnects */
    assert_int_equal(vx_store_ping(s, &e), VX_OK);
    assert_int_equal(vx_store_profile_get(s, "mia", 0, &p, &e), VX_OK);
    assert_string_equal(p.id, id);
    assert_int_equal(p.version, 1);
    vx_profile_clear(&p);
    assert_int_equal(vx_store_profile_add(s, "mia", "{}", NULL, SHA_A, NULL, &p, &e), VX_OK);
    assert_int_equal(p.version, 2);
    vx_profile_clear(&p);

    /* a restart while the store is idle is invisible: the dead pooled
     * connection fails at BEGIN, is reset and the call runs again */
    assert_int_equal(system(stop), 0);
    assert_int_equal(system(start), 0);
    assert_int_equal(vx_store_profile_add(s, "mia", "{}", NULL, SHA_A, NULL, &p, &e), VX_OK);
    assert_int_equal(p.version, 3);
    vx_profile_clear(&p);
    assert_int_equal(system(stop), 0);
    assert_int_equal(system(start), 0);
    assert_int_equal(vx_store_profile_get(s, "mia", 0, &p, &e), VX_OK);
    assert_int_equal(p.version, 3);
    vx_profile_clear(&p);
}

/* ---- main -------------------------------------------------------------- */

#define STORE_TESTS                                                                  \
    cmocka_unit_test_setup_teardown(test_open_errors, setup, teardown),              \
        cmocka_unit_test_setup_teardown(test_ids_and_names, setup, teardown),        \
        cmocka_unit_test_setup_teardown(test_tokens, setup, teardown),               \
        cmocka_unit_test_setup_teardown(test_profiles, setup, teardown),             \
        cmocka_unit_test_setup_teardown(test_voiceprints_each, setup, teardown),     \
        cmocka_unit_test_setup_teardown(test_concurrent_versions, setup, teardown),  \
        cmocka_unit_test_setup_teardown(test_settings, setup, teardown),             \
        cmocka_unit_test_setup_teardown(test_history, setup, teardown),              \
        cmocka_unit_test_setup_teardown(test_jobs, setup, teardown),                 \
        cmocka_unit_test_setup_teardown(test_failed_write_rolls_back, setup, teardown), \
        cmocka_unit_test_setup_teardown(test_reopen, setup, teardown),               \
        cmocka_unit_test_setup_teardown(test_concurrent_open, setup, teardown),      \
        cmocka_unit_test_setup_teardown(test_pg_server_stops, setup, teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {STORE_TESTS};
    int failed = 0;
    failed += cmocka_run_group_tests_name("store-sqlite-memory", tests, group_memory, NULL);
    failed += cmocka_run_group_tests_name("store-sqlite-file", tests, group_file, NULL);
    const char *pg = getenv("VX_TEST_PG_URL");
    if (pg && pg[0])
        failed += cmocka_run_group_tests_name("store-postgresql", tests, group_pg, NULL);
    else
        printf("# store-postgresql: skipped (set VX_TEST_PG_URL, or run test_store_pg.sh)\n");
    return failed;
}
