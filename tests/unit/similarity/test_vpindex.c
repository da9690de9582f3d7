/*
 * test_vpindex.c -- the voiceprint index: known answers, top-k against an
 * exact brute force (both scan kernels), exclude_user, k > size, misuse,
 * upsert/remove consistency against a shadow model, concurrent readers.
 *
 * DESIGN: the reference is a double-precision cosine over the original
 * float vectors; the index's reported similarities must be within 2e-5 of
 * it (residual-code precision) and its order may differ from the reference
 * only between hits whose exact similarities are that close.
 */
#include <math.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "similarity/vpindex.h"

#define D VX_VOICEPRINT_DIM
#define TOL 2e-5

static uint64_t rng_state = 88172645463325252ULL;

static uint64_t rng_next(void)
{
    uint64_t z = (rng_state += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}

static double rng_gauss(void)
{
    double u = ((double)(rng_next() >> 11) + 0.5) / 9007199254740992.0;
    double v = (double)(rng_next() >> 11) / 9007199254740992.0;
    return sqrt(-2.0 * log(u)) * cos(6.283185307179586 * v);
}

static void random_vec(float *v)
{
    for (int j = 0; j < D; j++)
        v[j] = (float)rng_gauss();
}

static double cosine(const float *a, const float *b)
{
    double ab = 0, aa = 0, bb = 0;
    for (int j = 0; j < D; j++) {
        ab += (double)a[j] * b[j];
        aa += (double)a[j] * a[j];
        bb += (double)b[j] * b[j];
    }
    return ab / sqrt(aa * bb);
}

static vx_vpindex *new_ok(void)
{
    vx_vpindex *ix = NULL;
    vx_error err;
    assert_int_equal(vx_vpindex_new(&ix, &err), VX_OK);
    assert_non_null(ix);
    return ix;
}

static void upsert_ok(vx_vpindex *ix, const char *user, const char *pid, int ver, const float *v)
{
    vx_error err;
    if (vx_vpindex_upsert(ix, user, pid, ver, v, &err) != VX_OK)
        fail_msg("upsert %s: %s", user, err.message);
}

static size_t search_ok(vx_vpindex *ix, const float *q, size_t k, const char *excl,
                        vx_vpindex_hit *hits)
{
    vx_error err;
    size_t n = 12345;
    if (vx_vpindex_search(ix, q, k, excl, hits, &n, &err) != VX_OK)
        fail_msg("search: %s", err.message);
    return n;
}

static void test_orthogonal(void **state)
{
    (void)state;
    vx_vpindex *ix = new_ok();
    float v[D];
    char user[16], pid[40];
    for (int i = 0; i < 10; i++) {
        memset(v, 0, sizeof v);
        v[i * 7] = (float)(i + 1); /* not normalised on purpose */
        snprintf(user, sizeof user, "u%d", i);
        snprintf(pid, sizeof pid, "p-%d", i);
        upsert_ok(ix, user, pid, i + 100, v);
    }
    assert_int_equal(vx_vpindex_size(ix), 10);
    vx_vpindex_hit hits[10];
    memset(v, 0, sizeof v);
    v[21] = -3.0f; /* -e(u3) */
    v[28] = 6.0f;  /* 2 x e(u4) */
    size_t n = search_ok(ix, v, 10, NULL, hits);
    assert_int_equal(n, 10);
    assert_string_equal(hits[0].user, "u4");
    assert_string_equal(hits[0].profile_id, "p-4");
    assert_int_equal(hits[0].version, 104);
    assert_true(fabs(hits[0].similarity - 2.0 / sqrt(5.0)) < 1e-5);
    assert_string_equal(hits[9].user, "u3");
    assert_true(fabs(hits[9].similarity + 1.0 / sqrt(5.0)) < 1e-5);
    for (size_t i = 1; i < 9; i++)
        assert_true(fabs(hits[i].similarity) < 1e-6);
    /* ties are broken by user name: deterministic */
    for (size_t i = 2; i < 9; i++)
        assert_true(strcmp(hits[i - 1].user, hits[i].user) < 0);
    /* exact self-match */
    memset(v, 0, sizeof v);
    v[0] = 0.5f;
    n = search_ok(ix, v, 1, NULL, hits);
    assert_int_equal(n, 1);
    assert_string_equal(hits[0].user, "u0");
    assert_true(fabs(hits[0].similarity - 1.0) < 1e-6);
    assert_true(hits[0].similarity <= 1.0);
    vx_vpindex_free(ix);
}

/* Checks one search result against the exact ranking of vecs[0..n). */
static void check_against_brute(const vx_vpindex_hit *hits, size_t nh, const float *q,
                                float (*vecs)[D], const int *present, size_t n, int excl,
                                size_t k)
{
    static double sims[4000];
    static int order[4000];
    size_t m = 0;
    for (size_t i = 0; i < n; i++) {
        if (!present[i] || (int)i == excl)
            continue;
        sims[i] = cosine(q, vecs[i]);
        order[m++] = (int)i;
    }
    /* partial selection sort of the best min(k, m) */
    size_t want = k < m ? k : m;
    for (size_t a = 0; a < want; a++)
        for (size_t b = a + 1; b < m; b++)
            if (sims[order[b]] > sims[order[a]]) {
                int t = order[a];
                order[a] = order[b];
                order[b] = t;
            }
    assert_int_equal(nh, want);
    for (size_t a = 0; a < want; a++) {
        int id = -1;
        if (sscanf(hits[a].user, "user%d", &id) != 1)
            fail_msg("bad user '%s'", hits[a].user);
        assert_true(id >= 0 && (size_t)id < n && present[id] && id != excl);
        double exact = cosine(q, vecs[id]);
        if (fabs(hits[a].similarity - exact) > TOL)
            fail_msg("hit %zu (%s): similarity %.8f, exact %.8f", a, hits[a].user,
                     hits[a].similarity, exact);
        /* same rank as the reference, or a near-tie with it */
        if (id != order[a] && fabs(sims[order[a]] - exact) > 2 * TOL)
            fail_msg("rank %zu: got %s (%.8f), brute force user%d (%.8f)", a, hits[a].user, exact,
                     order[a], sims[order[a]]);
        if (a > 0)
            assert_true(hits[a - 1].similarity >= hits[a].similarity);
    }
}

static void test_brute_force_2000(void **state)
{
    (void)state;
    enum { N = 2000 };
    static float vecs[N][D];
    static int present[N];
    vx_vpindex *ix = new_ok();
    char user[32];
    for (int i = 0; i < N; i++) {
        random_vec(vecs[i]);
        present[i] = 1;
        snprintf(user, sizeof user, "user%d", i);
        upsert_ok(ix, user, "pid", 1, vecs[i]);
    }
    assert_int_equal(vx_vpindex_size(ix), N);
    static vx_vpindex_hit hits[VX_VPINDEX_MAX_K];
    float q[D];
    for (int simd = 1; simd >= 0; simd--) {
        int on = vx_vpindex_use_simd(ix, simd);
        if (simd == 0)
            assert_int_equal(on, 0);
        for (int t = 0; t < 30; t++) {
            /* half the queries near a stored voice, half random */
            if (t % 2) {
                int base = (int)(rng_next() % N);
                for (int j = 0; j < D; j++)
                    q[j] = vecs[base][j] + 0.7f * (float)rng_gauss();
            } else {
                random_vec(q);
            }
            size_t ks[] = {1, 10, 37, 100};
            size_t k = ks[t % 4];
            size_t n = search_ok(ix, q, k, NULL, hits);
            check_against_brute(hits, n, q, vecs, present, N, -1, k);
        }
    }
    vx_vpindex_free(ix);
}

static void test_simd_matches_portable(void **state)
{
    (void)state;
    enum { N = 777 }; /* odd: exercises the kernels' tails */
    static float vecs[N][D];
    vx_vpindex *ix = new_ok();
    char user[32];
    for (int i = 0; i < N; i++) {
        random_vec(vecs[i]);
        snprintf(user, sizeof user, "user%d", i);
        upsert_ok(ix, user, NULL, 0, vecs[i]);
    }
    vx_vpindex_hit a[50], b[50];
    float q[D];
    for (int t = 0; t < 10; t++) {
        random_vec(q);
        vx_vpindex_use_simd(ix, 1);
        size_t na = search_ok(ix, q, 50, NULL, a);
        vx_vpindex_use_simd(ix, 0);
        size_t nb = search_ok(ix, q, 50, NULL, b);
        assert_int_equal(na, nb);
        for (size_t i = 0; i < na; i++) {
            assert_string_equal(a[i].user, b[i].user);
            assert_true(a[i].similarity == b[i].similarity);
            assert_string_equal(a[i].profile_id, "");
        }
    }
    vx_vpindex_free(ix);
}

static void test_exclude_and_small(void **state)
{
    (void)state;
    vx_vpindex *ix = new_ok();
    vx_vpindex_hit hits[VX_VPINDEX_MAX_K];
    float v[5][D], q[D];
    char user[32];
    /* empty index */
    random_vec(q);
    assert_int_equal(search_ok(ix, q, 10, NULL, hits), 0);
    assert_int_equal(search_ok(ix, q, 10, "nobody", hits), 0);
    for (int i = 0; i < 5; i++) {
        random_vec(v[i]);
        snprintf(user, sizeof user, "user%d", i);
        upsert_ok(ix, user, "p", i, v[i]);
    }
    /* k > size */
    assert_int_equal(search_ok(ix, q, 10, NULL, hits), 5);
    assert_int_equal(search_ok(ix, q, VX_VPINDEX_MAX_K, NULL, hits), 5);
    /* the query is user2's own voice: found first, unless excluded */
    size_t n = search_ok(ix, v[2], 3, NULL, hits);
    assert_int_equal(n, 3);
    assert_string_equal(hits[0].user, "user2");
    assert_true(fabs(hits[0].similarity - 1.0) < 1e-5);
    n = search_ok(ix, v[2], 3, "user2", hits);
    assert_int_equal(n, 3);
    for (size_t i = 0; i < n; i++)
        assert_string_not_equal(hits[i].user, "user2");
    n = search_ok(ix, v[2], 10, "user2", hits); /* min(k, size - excluded) */
    assert_int_equal(n, 4);
    n = search_ok(ix, v[2], 10, "not-a-user", hits);
    assert_int_equal(n, 5);
    n = search_ok(ix, v[2], 10, "", hits);
    assert_int_equal(n, 5);
    /* a single voice, excluded */
    vx_vpindex *one = new_ok();
    upsert_ok(one, "solo", "p", 1, v[0]);
    assert_int_equal(search_ok(one, v[0], 5, "solo", hits), 0);
    assert_int_equal(search_ok(one, v[0], 5, NULL, hits), 1);
    vx_vpindex_free(one);
    vx_vpindex_free(ix);
}

static void test_misuse(void **state)
{
    (void)state;
    vx_error err;
    vx_vpindex *ix = new_ok();
    float v[D], zero[D];
    random_vec(v);
    memset(zero, 0, sizeof zero);
    vx_vpindex_hit hits[VX_VPINDEX_MAX_K + 1];
    size_t n = 99;
    char longname[VX_VPINDEX_MAX_KEY + 2], longpid[41];
    memset(longname, 'a', sizeof longname - 1);
    longname[sizeof longname - 1] = '\0';
    memset(longpid, 'p', sizeof longpid - 1);
    longpid[sizeof longpid - 1] = '\0';

    assert_int_equal(vx_vpindex_new(NULL, &err), VX_EINVAL);
    assert_int_equal(vx_vpindex_upsert(NULL, "u", "p", 1, v, &err), VX_EINVAL);
    assert_int_equal(vx_vpindex_upsert(ix, NULL, "p", 1, v, &err), VX_EINVAL);
    assert_int_equal(vx_vpindex_upsert(ix, "", "p", 1, v, &err), VX_EINVAL);
    assert_int_equal(vx_vpindex_upsert(ix, longname, "p", 1, v, &err), VX_EINVAL);
    longname[VX_VPINDEX_MAX_KEY] = '\0'; /* exactly the limit is fine */
    assert_int_equal(vx_vpindex_upsert(ix, longname, "p", 1, v, &err), VX_OK);
    assert_int_equal(vx_vpindex_upsert(ix, "u", longpid, 1, v, &err), VX_EINVAL);
    longpid[39] = '\0';
    assert_int_equal(vx_vpindex_upsert(ix, "u", longpid, 1, v, &err), VX_OK);
    assert_int_equal(vx_vpindex_upsert(ix, "u", "p", 1, NULL, &err), VX_EINVAL);
    assert_int_equal(vx_vpindex_upsert(ix, "u", "p", 1, zero, &err), VX_EINVAL);
    assert_int_equal(err.code, VX_EINVAL);
    assert_non_null(strstr(err.message, "zero"));
    float bad[D];
    memcpy(bad, v, sizeof bad);
    bad[17] = NAN;
    assert_int_equal(vx_vpindex_upsert(ix, "u", "p", 1, bad, &err), VX_EINVAL);
    bad[17] = INFINITY;
    assert_int_equal(vx_vpindex_upsert(ix, "u", "p", 1, bad, &err), VX_EINVAL);
    assert_int_equal(vx_vpindex_size(ix), 2); /* failed upserts changed nothing */

    assert_int_equal(vx_vpindex_search(NULL, v, 1, NULL, hits, &n, &err), VX_EINVAL);
    assert_int_equal(n, 0);
    assert_int_equal(vx_vpindex_search(ix, NULL, 1, NULL, hits, &n, &err), VX_EINVAL);
    assert_int_equal(vx_vpindex_search(ix, v, 1, NULL, NULL, &n, &err), VX_EINVAL);
    assert_int_equal(vx_vpindex_search(ix, v, 1, NULL, hits, NULL, &err), VX_EINVAL);
    assert_int_equal(vx_vpindex_search(ix, v, 0, NULL, hits, &n, &err), VX_EINVAL);
    assert_int_equal(vx_vpindex_search(ix, v, VX_VPINDEX_MAX_K + 1, NULL, hits, &n, &err),
                     VX_EINVAL);
    assert_int_equal(vx_vpindex_search(ix, zero, 1, NULL, hits, &n, &err), VX_EINVAL);
    assert_int_equal(vx_vpindex_search(ix, bad, 1, NULL, hits, &n, &err), VX_EINVAL);
    assert_int_equal(vx_vpindex_search(ix, v, 1, longname, hits, &n, NULL), VX_OK);

    assert_int_equal(vx_vpindex_remove(NULL, "u", &err), VX_EINVAL);
    assert_int_equal(vx_vpindex_remove(ix, NULL, &err), VX_EINVAL);
    assert_int_equal(vx_vpindex_remove(ix, "", &err), VX_EINVAL);
    assert_int_equal(vx_vpindex_remove(ix, "ghost", &err), VX_ENOTFOUND);
    assert_non_null(strstr(err.message, "ghost"));
    assert_int_equal(vx_vpindex_remove(ix, "u", &err), VX_OK);
    assert_int_equal(vx_vpindex_remove(ix, "u", &err), VX_ENOTFOUND);
    assert_int_equal(vx_vpindex_size(NULL), 0);
    assert_int_equal(vx_vpindex_memory_bytes(NULL), 0);
    vx_vpindex_free(ix);
    vx_vpindex_free(NULL);
}

static void test_upsert_remove_consistency(void **state)
{
    (void)state;
    enum { N = 3000 };
    static float vecs[N][D];
    static int present[N], version[N];
    memset(present, 0, sizeof present);
    vx_vpindex *ix = new_ok();
    vx_error err;
    char user[32], pid[40];
    size_t live = 0;
    static vx_vpindex_hit hits[VX_VPINDEX_MAX_K];
    for (int step = 0; step < 12000; step++) {
        int id = (int)(rng_next() % N), op = (int)(rng_next() % 10);
        snprintf(user, sizeof user, "user%d", id);
        if (op < 7) { /* insert or replace */
            random_vec(vecs[id]);
            version[id] = step;
            snprintf(pid, sizeof pid, "pid-%d", step);
            upsert_ok(ix, user, pid, step, vecs[id]);
            live += !present[id];
            present[id] = 1;
        } else {
            int rc = vx_vpindex_remove(ix, user, &err);
            assert_int_equal(rc, present[id] ? VX_OK : VX_ENOTFOUND);
            live -= present[id];
            present[id] = 0;
        }
        assert_int_equal(vx_vpindex_size(ix), live);
        if (step % 1500 == 1499) {
            /* live users (a sample of ~250) find themselves first, latest data */
            for (int i = step % 12; i < N; i += 12) {
                if (!present[i])
                    continue;
                size_t n = search_ok(ix, vecs[i], 1, NULL, hits);
                assert_int_equal(n, 1);
                snprintf(user, sizeof user, "user%d", i);
                snprintf(pid, sizeof pid, "pid-%d", version[i]);
                assert_string_equal(hits[0].user, user);
                assert_string_equal(hits[0].profile_id, pid);
                assert_int_equal(hits[0].version, version[i]);
                assert_true(fabs(hits[0].similarity - 1.0) < 1e-5);
            }
            float q[D];
            random_vec(q);
            int excl = (int)(rng_next() % N);
            snprintf(user, sizeof user, "user%d", excl);
            size_t n = search_ok(ix, q, 100, user, hits);
            check_against_brute(hits, n, q, vecs, present, N, excl, 100);
        }
    }
    /* remove everything: memory goes back down */
    size_t peak = vx_vpindex_memory_bytes(ix);
    for (int i = 0; i < N; i++) {
        snprintf(user, sizeof user, "user%d", i);
        assert_int_equal(vx_vpindex_remove(ix, user, &err), present[i] ? VX_OK : VX_ENOTFOUND);
    }
    assert_int_equal(vx_vpindex_size(ix), 0);
    assert_true(vx_vpindex_memory_bytes(ix) < peak / 2);
    float q[D];
    random_vec(q);
    assert_int_equal(search_ok(ix, q, 5, NULL, hits), 0);
    upsert_ok(ix, "again", "p", 1, q);
    assert_int_equal(search_ok(ix, q, 5, NULL, hits), 1);
    vx_vpindex_free(ix);
}

/* ---- concurrent readers and a writer ---- */

typedef struct {
    vx_vpindex *ix;
    int failures;
    unsigned seed;
} vx_reader;

static void *reader(void *arg)
{
    vx_reader *r = arg;
    float q[D];
    vx_vpindex_hit hits[20];
    for (int t = 0; t < 200; t++) {
        for (int j = 0; j < D; j++) {
            r->seed = r->seed * 1664525u + 1013904223u;
            q[j] = (float)((int)(r->seed >> 16) - 32768);
        }
        size_t n = 0;
        if (vx_vpindex_search(r->ix, q, 20, "user1", hits, &n, NULL) != VX_OK || n == 0)
            r->failures++;
        for (size_t i = 1; i < n; i++)
            if (hits[i - 1].similarity < hits[i].similarity)
                r->failures++;
    }
    return NULL;
}

static void test_concurrent(void **state)
{
    (void)state;
    vx_vpindex *ix = new_ok();
    float v[D];
    char user[32];
    for (int i = 0; i < 1500; i++) {
        random_vec(v);
        snprintf(user, sizeof user, "user%d", i);
        upsert_ok(ix, user, "p", i, v);
    }
    pthread_t th[3];
    vx_reader r[3];
    for (int i = 0; i < 3; i++) {
        r[i].ix = ix;
        r[i].failures = 0;
        r[i].seed = (unsigned)(i + 1);
        assert_int_equal(pthread_create(&th[i], NULL, reader, &r[i]), 0);
    }
    for (int i = 0; i < 3000; i++) { /* the writer churns meanwhile */
        random_vec(v);
        snprintf(user, sizeof user, "user%d", 1500 + i % 700);
        if (i % 3 == 2)
            vx_vpindex_remove(ix, user, NULL);
        else
            upsert_ok(ix, user, "p", i, v);
    }
    for (int i = 0; i < 3; i++) {
        pthread_join(th[i], NULL);
        assert_int_equal(r[i].failures, 0);
    }
    vx_vpindex_free(ix);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_orthogonal),
        cmocka_unit_test(test_brute_force_2000),
        cmocka_unit_test(test_simd_matches_portable),
        cmocka_unit_test(test_exclude_and_small),
        cmocka_unit_test(test_misuse),
        cmocka_unit_test(test_upsert_remove_consistency),
        cmocka_unit_test(test_concurrent),
    };
    return cmocka_run_group_tests_name("vpindex", tests, NULL, NULL);
}
