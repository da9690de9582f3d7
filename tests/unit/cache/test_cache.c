/*
 * test_cache.c -- the cache back-ends: memory LRU (eviction order, byte
 * bound, TTL, replace, misuse, 4 threads), "none", an unreachable Redis, and
 * -- when tests/integ/test_cache_redis.sh provides a server -- Redis itself.
 *
 * DESIGN: one binary, selected by the environment, so the Redis cases share
 * the exact assertions of the memory ones and need no second test program:
 *   VX_TEST_REDIS_URL=redis://...   also run the Redis cases;
 *   VX_TEST_REDIS_OUTAGE_DIR=DIR    run only the outage scenario, stepping
 *       with the driving script through files in DIR (ready -> stopped ->
 *       down-checked -> restarted), so Redis dies while the cache is open.
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "cache/cache.h"

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

static void sleep_s(double s)
{
    struct timespec ts = {(time_t)s, (long)((s - (double)(time_t)s) * 1e9)};
    nanosleep(&ts, NULL);
}

static vx_cache *open_ok(const char *url)
{
    vx_cache *c = NULL;
    vx_error err;
    int rc = vx_cache_open(url, &c, &err);
    if (rc != VX_OK)
        fail_msg("vx_cache_open(%s): %s", url, err.message);
    assert_non_null(c);
    return c;
}

static void put_str(vx_cache *c, const char *key, const char *value, unsigned ttl)
{
    vx_error err;
    int rc = vx_cache_put(c, key, value, strlen(value), ttl, &err);
    if (rc != VX_OK)
        fail_msg("put %s: %s", key, err.message);
}

/* 1 when key holds exactly value, 0 when missing; fails otherwise. */
static int has(vx_cache *c, const char *key, const char *value)
{
    void *d = NULL;
    size_t n = 7;
    vx_error err;
    int rc = vx_cache_get(c, key, &d, &n, &err);
    if (rc == VX_ENOTFOUND) {
        assert_null(d);
        assert_int_equal(n, 0);
        return 0;
    }
    if (rc != VX_OK)
        fail_msg("get %s: %s", key, err.message);
    int same = n == strlen(value) && memcmp(d, value, n) == 0;
    free(d);
    assert_true(same);
    return 1;
}

/* ---- shared cases (memory and redis) ---- */

static void check_basic(vx_cache *c)
{
    vx_error err;
    vx_cache_del(c, "vxtest:a", NULL);
    assert_int_equal(has(c, "vxtest:a", ""), 0);
    put_str(c, "vxtest:a", "hello", 0);
    assert_int_equal(has(c, "vxtest:a", "hello"), 1);
    put_str(c, "vxtest:a", "replaced value", 0); /* replace */
    assert_int_equal(has(c, "vxtest:a", "replaced value"), 1);
    assert_int_equal(vx_cache_del(c, "vxtest:a", &err), VX_OK);
    assert_int_equal(has(c, "vxtest:a", ""), 0);
    assert_int_equal(vx_cache_del(c, "vxtest:a", &err), VX_OK); /* idempotent */

    /* empty value */
    assert_int_equal(vx_cache_put(c, "vxtest:empty", NULL, 0, 0, &err), VX_OK);
    void *d = NULL;
    size_t n = 99;
    assert_int_equal(vx_cache_get(c, "vxtest:empty", &d, &n, &err), VX_OK);
    assert_non_null(d);
    assert_int_equal(n, 0);
    free(d);
    vx_cache_del(c, "vxtest:empty", NULL);

    /* binary value with NUL bytes */
    unsigned char bin[300];
    for (size_t i = 0; i < sizeof bin; i++)
        bin[i] = (unsigned char)(i * 7);
    bin[0] = bin[10] = bin[299] = 0;
    assert_int_equal(vx_cache_put(c, "vxtest:bin", bin, sizeof bin, 0, &err), VX_OK);
    assert_int_equal(vx_cache_get(c, "vxtest:bin", &d, &n, &err), VX_OK);
    assert_int_equal(n, sizeof bin);
    assert_memory_equal(d, bin, sizeof bin);
    free(d);
    vx_cache_del(c, "vxtest:bin", NULL);

    /* key with spaces, newline and exactly the maximum length */
    char key[VX_CACHE_MAX_KEY + 1];
    memset(key, 'k', VX_CACHE_MAX_KEY);
    key[VX_CACHE_MAX_KEY] = '\0';
    key[3] = ' ';
    key[4] = '\n';
    put_str(c, key, "long key", 0);
    assert_int_equal(has(c, key, "long key"), 1);
    vx_cache_del(c, key, NULL);
}

static void check_ttl(vx_cache *c)
{
    put_str(c, "vxtest:ttl", "short-lived", 1);
    put_str(c, "vxtest:forever", "stays", 0);
    assert_int_equal(has(c, "vxtest:ttl", "short-lived"), 1);
    sleep_s(1.2);
    assert_int_equal(has(c, "vxtest:ttl", ""), 0);
    assert_int_equal(has(c, "vxtest:forever", "stays"), 1);
    /* a replace without ttl drops the old ttl */
    put_str(c, "vxtest:ttl", "v1", 1);
    put_str(c, "vxtest:ttl", "v2", 0);
    sleep_s(1.2);
    assert_int_equal(has(c, "vxtest:ttl", "v2"), 1);
    vx_cache_del(c, "vxtest:ttl", NULL);
    vx_cache_del(c, "vxtest:forever", NULL);
}

static void check_large(vx_cache *c)
{
    vx_error err;
    size_t n = 8u << 20;
    unsigned char *big = malloc(VX_CACHE_MAX_VALUE + 1);
    assert_non_null(big);
    uint32_t x = 12345;
    for (size_t i = 0; i < VX_CACHE_MAX_VALUE + 1; i++) {
        x = x * 1103515245u + 12345u;
        big[i] = (unsigned char)(x >> 24);
    }
    assert_int_equal(vx_cache_put(c, "vxtest:big", big, n, 60, &err), VX_OK);
    void *d = NULL;
    size_t got = 0;
    assert_int_equal(vx_cache_get(c, "vxtest:big", &d, &got, &err), VX_OK);
    assert_int_equal(got, n);
    assert_memory_equal(d, big, n);
    free(d);
    /* exactly the limit is accepted, one more byte is ELIMIT */
    assert_int_equal(vx_cache_put(c, "vxtest:big", big, VX_CACHE_MAX_VALUE, 60, &err), VX_OK);
    assert_int_equal(vx_cache_put(c, "vxtest:big", big, VX_CACHE_MAX_VALUE + 1, 60, &err),
                     VX_ELIMIT);
    assert_int_equal(err.code, VX_ELIMIT);
    vx_cache_del(c, "vxtest:big", NULL);
    free(big);
}

/* ---- memory ---- */

static void test_memory_basic(void **state)
{
    (void)state;
    vx_cache *c = open_ok("memory");
    assert_string_equal(vx_cache_backend(c), "memory");
    assert_int_equal(vx_cache_healthy(c), 1);
    check_basic(c);
    vx_cache_stats st;
    vx_cache_stats_get(c, &st);
    assert_int_equal(st.entries, 0);
    assert_int_equal(st.bytes, 0);
    assert_true(st.hits >= 5);
    assert_true(st.misses >= 2);
    assert_int_equal(st.errors, 0);
    assert_int_equal(st.healthy, 1);
    vx_cache_free(c);
}

static void test_memory_lru_order(void **state)
{
    (void)state;
    /* each entry: 2-byte key + 18-byte value = 20 bytes; 5 fit in 100 */
    vx_cache *c = open_ok("memory:100");
    const char *v = "0123456789abcdefgh";
    char key[8];
    for (int i = 1; i <= 5; i++) {
        snprintf(key, sizeof key, "k%d", i);
        put_str(c, key, v, 0);
    }
    vx_cache_stats st;
    vx_cache_stats_get(c, &st);
    assert_int_equal(st.entries, 5);
    assert_int_equal(st.bytes, 100);
    assert_int_equal(has(c, "k1", v), 1); /* k1 becomes most recent: order k2 k3 k4 k5 k1 */
    put_str(c, "k6", v, 0);               /* evicts k2 */
    assert_int_equal(has(c, "k2", v), 0);
    put_str(c, "k3", v, 0);               /* replace refreshes k3: order k4 k5 k1 k6 k3 */
    put_str(c, "k7", v, 0);               /* evicts k4 */
    assert_int_equal(has(c, "k4", v), 0);
    for (int i = 1; i <= 7; i++) {
        snprintf(key, sizeof key, "k%d", i);
        assert_int_equal(has(c, key, v), i != 2 && i != 4);
    }
    /* a 60-byte entry evicts the three least recently used */
    char big[59];
    memset(big, 'x', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    put_str(c, "B", big, 0); /* 1 + 58 = 59 bytes */
    vx_cache_stats_get(c, &st);
    assert_true(st.bytes <= 100);
    assert_int_equal(st.entries, 3); /* B + two of 20 */
    assert_int_equal(has(c, "B", big), 1);
    assert_int_equal(has(c, "k6", v), 1);
    assert_int_equal(has(c, "k7", v), 1);
    vx_cache_free(c);
}

static void test_memory_byte_bound(void **state)
{
    (void)state;
    vx_cache *c = open_ok("memory:10K");
    vx_error err;
    char key[32], val[700];
    memset(val, 'v', sizeof val);
    for (int i = 0; i < 2000; i++) {
        snprintf(key, sizeof key, "key-%d", i);
        size_t n = (size_t)(i * 37 % 700);
        assert_int_equal(vx_cache_put(c, key, val, n, 0, &err), VX_OK);
        vx_cache_stats st;
        vx_cache_stats_get(c, &st);
        assert_true(st.bytes <= 10240);
        assert_true(st.entries >= 1);
    }
    /* entry larger than the whole budget */
    char *huge = calloc(1, 10241);
    assert_non_null(huge);
    assert_int_equal(vx_cache_put(c, "h", huge, 10240, 0, &err), VX_ELIMIT);
    assert_int_equal(vx_cache_put(c, "h", huge, 10239, 0, &err), VX_OK); /* 1 + 10239 fits */
    vx_cache_stats st;
    vx_cache_stats_get(c, &st);
    assert_int_equal(st.entries, 1);
    assert_int_equal(st.bytes, 10240);
    free(huge);
    vx_cache_free(c);
}

static void test_memory_ttl(void **state)
{
    (void)state;
    vx_cache *c = open_ok("memory:1M");
    check_ttl(c);
    vx_cache_free(c);
}

static void test_memory_large(void **state)
{
    (void)state;
    vx_cache *c = open_ok("memory:40M");
    check_large(c);
    vx_cache_free(c);
}

static void test_misuse(void **state)
{
    (void)state;
    vx_error err;
    vx_cache *c = NULL;
    const char *bad[] = {"", "bogus", "memory:", "memory:abc", "memory:0", "memory:-5",
                         "memory:99999999999999999999", "memory:12Q", "redis://", "redis://:6379",
                         "redis://host:0", "redis://host:65536", "redis://host:port",
                         "redis://host:1/x", "redis://a:b:c", "redis://[::1", "redis://u@h:1",
                         "redis:/host:1", "Memory"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        c = (vx_cache *)&err;
        if (vx_cache_open(bad[i], &c, &err) != VX_EINVAL)
            fail_msg("'%s' was accepted", bad[i]);
        assert_null(c);
        assert_int_equal(err.code, VX_EINVAL);
        assert_true(strlen(err.message) > 0);
    }
    assert_int_equal(vx_cache_open(NULL, &c, &err), VX_EINVAL);
    assert_int_equal(vx_cache_open("memory", NULL, &err), VX_EINVAL);

    c = open_ok("memory:1K");
    void *d = (void *)&err;
    size_t n = 5;
    char longkey[VX_CACHE_MAX_KEY + 2];
    memset(longkey, 'a', sizeof longkey - 1);
    longkey[sizeof longkey - 1] = '\0';
    assert_int_equal(vx_cache_get(NULL, "k", &d, &n, &err), VX_EINVAL);
    assert_null(d);
    assert_int_equal(n, 0);
    assert_int_equal(vx_cache_get(c, NULL, &d, &n, &err), VX_EINVAL);
    assert_int_equal(vx_cache_get(c, "", &d, &n, &err), VX_EINVAL);
    assert_int_equal(vx_cache_get(c, longkey, &d, &n, &err), VX_EINVAL);
    assert_int_equal(vx_cache_get(c, "k", NULL, &n, &err), VX_EINVAL);
    assert_int_equal(vx_cache_get(c, "k", &d, NULL, &err), VX_EINVAL);
    assert_int_equal(vx_cache_put(NULL, "k", "v", 1, 0, &err), VX_EINVAL);
    assert_int_equal(vx_cache_put(c, NULL, "v", 1, 0, &err), VX_EINVAL);
    assert_int_equal(vx_cache_put(c, "", "v", 1, 0, &err), VX_EINVAL);
    assert_int_equal(vx_cache_put(c, longkey, "v", 1, 0, &err), VX_EINVAL);
    assert_int_equal(vx_cache_put(c, "k", NULL, 1, 0, &err), VX_EINVAL);
    assert_int_equal(vx_cache_put(c, "k", "v", (size_t)VX_CACHE_MAX_VALUE + 1, 0, &err),
                     VX_ELIMIT);
    assert_int_equal(vx_cache_put(c, "k", "v", 2000, 0, &err), VX_ELIMIT); /* > budget */
    assert_int_equal(vx_cache_del(NULL, "k", &err), VX_EINVAL);
    assert_int_equal(vx_cache_del(c, NULL, &err), VX_EINVAL);
    assert_int_equal(vx_cache_del(c, "", &err), VX_EINVAL);
    assert_int_equal(vx_cache_del(c, longkey, &err), VX_EINVAL);
    /* err may be NULL everywhere */
    assert_int_equal(vx_cache_get(c, NULL, &d, &n, NULL), VX_EINVAL);
    assert_int_equal(vx_cache_get(c, "k", &d, &n, NULL), VX_ENOTFOUND);
    assert_int_equal(vx_cache_healthy(NULL), 0);
    assert_string_equal(vx_cache_backend(NULL), "none");
    vx_cache_stats st;
    vx_cache_stats_get(NULL, &st);
    assert_int_equal(st.entries, 0);
    vx_cache_stats_get(c, NULL);
    vx_cache_free(c);
    vx_cache_free(NULL);
}

/* ---- 4 threads ---- */

typedef struct {
    vx_cache *c;
    unsigned seed;
    int iters;
    int failures;
} vx_thr;

/* the value of a key is its name repeated to a length derived from it */
static size_t make_value(int id, char *buf, size_t cap)
{
    size_t len = (size_t)(id * 53 % 900) + 1, o = 0;
    char name[16];
    int nl = snprintf(name, sizeof name, "<%d>", id);
    while (o < len && o < cap) {
        buf[o] = name[o % (size_t)nl];
        o++;
    }
    return o;
}

static void *worker(void *arg)
{
    vx_thr *t = arg;
    char key[32], want[1024];
    for (int i = 0; i < t->iters; i++) {
        t->seed = t->seed * 1664525u + 1013904223u;
        int id = (int)((t->seed >> 8) % 400), op = (int)((t->seed >> 20) % 10);
        snprintf(key, sizeof key, "t:%d", id);
        size_t n = make_value(id, want, sizeof want);
        vx_error err;
        if (op < 4) {
            if (vx_cache_put(t->c, key, want, n, 0, &err) != VX_OK)
                t->failures++;
        } else if (op < 9) {
            void *d = NULL;
            size_t got = 0;
            int rc = vx_cache_get(t->c, key, &d, &got, &err);
            if (rc == VX_OK) {
                if (got != n || memcmp(d, want, n) != 0)
                    t->failures++;
                free(d);
            } else if (rc != VX_ENOTFOUND) {
                t->failures++;
            }
        } else if (vx_cache_del(t->c, key, &err) != VX_OK) {
            t->failures++;
        }
    }
    return NULL;
}

static void test_memory_threads(void **state)
{
    (void)state;
    vx_cache *c = open_ok("memory:64K"); /* ~ a third of the working set: evictions */
    pthread_t th[4];
    vx_thr t[4];
    for (int i = 0; i < 4; i++) {
        t[i].c = c;
        t[i].seed = (unsigned)(i * 7919 + 1);
        t[i].iters = 20000;
        t[i].failures = 0;
        assert_int_equal(pthread_create(&th[i], NULL, worker, &t[i]), 0);
    }
    for (int i = 0; i < 4; i++) {
        pthread_join(th[i], NULL);
        assert_int_equal(t[i].failures, 0);
    }
    vx_cache_stats st;
    vx_cache_stats_get(c, &st);
    assert_true(st.bytes <= 65536);
    assert_true(st.hits > 0 && st.misses > 0);
    assert_int_equal(st.hits + st.misses, st.hits + st.misses); /* read without tearing */
    /* the byte count equals the sum over what is actually stored */
    uint64_t sum = 0, entries = 0;
    char key[32], want[1024];
    for (int id = 0; id < 400; id++) {
        snprintf(key, sizeof key, "t:%d", id);
        size_t n = make_value(id, want, sizeof want);
        want[n] = '\0';
        if (has(c, key, want)) {
            sum += strlen(key) + n;
            entries++;
        }
    }
    assert_int_equal(sum, st.bytes);
    assert_int_equal(entries, st.entries);
    vx_cache_free(c);
}

/* ---- none ---- */

static void test_none(void **state)
{
    (void)state;
    vx_cache *c = open_ok("none");
    vx_error err;
    assert_string_equal(vx_cache_backend(c), "none");
    assert_int_equal(vx_cache_healthy(c), 1);
    assert_int_equal(vx_cache_put(c, "k", "v", 1, 0, &err), VX_OK);
    assert_int_equal(has(c, "k", "v"), 0);
    assert_int_equal(vx_cache_del(c, "k", &err), VX_OK);
    assert_int_equal(vx_cache_put(c, "", "v", 1, 0, &err), VX_EINVAL); /* same checks */
    vx_cache_stats st;
    vx_cache_stats_get(c, &st);
    assert_int_equal(st.misses, 1);
    assert_int_equal(st.healthy, 1);
    vx_cache_free(c);
}

/* ---- redis without a server ---- */

static void test_redis_unreachable(void **state)
{
    (void)state;
    double t0 = now_s();
    vx_cache *c = open_ok("redis://127.0.0.1:1/2"); /* nothing listens on port 1 */
    assert_true(now_s() - t0 < 0.5);
    assert_string_equal(vx_cache_backend(c), "redis");
    vx_cache_stats st;
    vx_cache_stats_get(c, &st);
    assert_int_equal(st.healthy, 0);
    vx_error err;
    void *d = NULL;
    size_t n = 0;
    for (int i = 0; i < 20; i++) {
        double t1 = now_s();
        assert_int_equal(vx_cache_get(c, "k", &d, &n, &err), VX_EUNAVAIL);
        assert_int_equal(vx_cache_put(c, "k", "v", 1, 0, &err), VX_EUNAVAIL);
        assert_int_equal(vx_cache_del(c, "k", &err), VX_EUNAVAIL);
        assert_true(now_s() - t1 < 0.25);
    }
    assert_non_null(strstr(err.message, "127.0.0.1:1"));
    assert_int_equal(vx_cache_healthy(c), 0);
    vx_cache_stats_get(c, &st);
    assert_int_equal(st.errors, 60);
    assert_int_equal(st.hits + st.misses, 0);
    /* misuse is still EINVAL, not EUNAVAIL */
    assert_int_equal(vx_cache_get(c, "", &d, &n, &err), VX_EINVAL);
    vx_cache_free(c);
}

/* ---- redis with a server (VX_TEST_REDIS_URL) ---- */

static vx_cache *redis_open(void)
{
    const char *url = getenv("VX_TEST_REDIS_URL");
    vx_cache *c = open_ok(url);
    assert_int_equal(vx_cache_healthy(c), 1);
    return c;
}

static void test_redis_basic(void **state)
{
    (void)state;
    vx_cache *c = redis_open();
    check_basic(c);
    vx_cache_stats st;
    vx_cache_stats_get(c, &st);
    assert_int_equal(st.errors, 0);
    assert_int_equal(st.healthy, 1);
    assert_true(st.hits >= 5);
    vx_cache_free(c);
}

static void test_redis_ttl(void **state)
{
    (void)state;
    vx_cache *c = redis_open();
    check_ttl(c);
    vx_cache_free(c);
}

static void test_redis_large(void **state)
{
    (void)state;
    vx_cache *c = redis_open();
    check_large(c);
    vx_cache_free(c);
}

static void test_redis_threads(void **state)
{
    (void)state;
    vx_cache *c = redis_open();
    pthread_t th[4];
    vx_thr t[4];
    for (int i = 0; i < 4; i++) {
        t[i].c = c;
        t[i].seed = (unsigned)(i * 31 + 5);
        t[i].iters = 2000; /* one connection, ~0.1 ms a round trip */
        t[i].failures = 0;
        assert_int_equal(pthread_create(&th[i], NULL, worker, &t[i]), 0);
    }
    for (int i = 0; i < 4; i++) {
        pthread_join(th[i], NULL);
        assert_int_equal(t[i].failures, 0);
    }
    vx_cache_stats st;
    vx_cache_stats_get(c, &st);
    assert_int_equal(st.errors, 0);
    vx_cache_free(c);
}

/* ---- outage scenario (VX_TEST_REDIS_OUTAGE_DIR) ---- */

static void step_signal(const char *dir, const char *name)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fclose(f);
}

static void step_wait(const char *dir, const char *name)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    double t0 = now_s();
    while (access(path, F_OK) != 0) {
        if (now_s() - t0 > 20.0)
            fail_msg("timed out waiting for %s", path);
        sleep_s(0.02);
    }
}

static void test_redis_outage(void **state)
{
    (void)state;
    const char *dir = getenv("VX_TEST_REDIS_OUTAGE_DIR");
    vx_cache *c = redis_open();
    vx_error err;
    put_str(c, "vxtest:outage", "before", 0);
    assert_int_equal(has(c, "vxtest:outage", "before"), 1);
    step_signal(dir, "ready");
    step_wait(dir, "stopped");

    /* the first call notices, every later one fails at once */
    void *d = NULL;
    size_t n = 0;
    double t0 = now_s();
    assert_int_equal(vx_cache_get(c, "vxtest:outage", &d, &n, &err), VX_EUNAVAIL);
    double first = now_s() - t0;
    printf("# first call after the stop: EUNAVAIL in %.1f ms (%s)\n", first * 1e3, err.message);
    assert_true(first < 1.0);
    assert_int_equal(vx_cache_healthy(c), 0);
    double worst = 0.0;
    for (int i = 0; i < 50; i++) {
        double t1 = now_s();
        int rc = vx_cache_put(c, "vxtest:outage", "during", 6, 0, &err);
        double dt = now_s() - t1;
        assert_int_equal(rc, VX_EUNAVAIL);
        worst = dt > worst ? dt : worst;
        sleep_s(0.03); /* spans more than one reconnect attempt */
    }
    printf("# while down: 50 puts over 1.5 s, slowest %.1f ms\n", worst * 1e3);
    assert_true(worst < 1.0);
    vx_cache_stats st;
    vx_cache_stats_get(c, &st);
    assert_int_equal(st.healthy, 0);
    assert_true(st.errors >= 51);
    step_signal(dir, "down-checked");
    step_wait(dir, "restarted");

    /* redis is back (empty: no persistence): recovery within ~1.5 s */
    t0 = now_s();
    int rc;
    while ((rc = vx_cache_put(c, "vxtest:outage", "after", 5, 0, &err)) == VX_EUNAVAIL) {
        if (now_s() - t0 > 3.0)
            break;
        sleep_s(0.05);
    }
    double rec = now_s() - t0;
    printf("# recovered %.2f s after the restart\n", rec);
    assert_int_equal(rc, VX_OK);
    assert_true(rec < 1.5);
    assert_int_equal(vx_cache_healthy(c), 1);
    assert_int_equal(has(c, "vxtest:outage", "after"), 1);
    vx_cache_del(c, "vxtest:outage", NULL);
    vx_cache_free(c);
}

int main(void)
{
    if (getenv("VX_TEST_REDIS_OUTAGE_DIR")) {
        if (!getenv("VX_TEST_REDIS_URL")) {
            fprintf(stderr, "VX_TEST_REDIS_OUTAGE_DIR needs VX_TEST_REDIS_URL\n");
            return 2;
        }
        const struct CMUnitTest outage[] = {cmocka_unit_test(test_redis_outage)};
        return cmocka_run_group_tests_name("cache_redis_outage", outage, NULL, NULL);
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_memory_basic),   cmocka_unit_test(test_memory_lru_order),
        cmocka_unit_test(test_memory_byte_bound), cmocka_unit_test(test_memory_ttl),
        cmocka_unit_test(test_memory_large),   cmocka_unit_test(test_misuse),
        cmocka_unit_test(test_memory_threads), cmocka_unit_test(test_none),
        cmocka_unit_test(test_redis_unreachable),
    };
    int failed = cmocka_run_group_tests_name("cache", tests, NULL, NULL);
    if (getenv("VX_TEST_REDIS_URL")) {
        const struct CMUnitTest redis[] = {
            cmocka_unit_test(test_redis_basic),
            cmocka_unit_test(test_redis_ttl),
            cmocka_unit_test(test_redis_large),
            cmocka_unit_test(test_redis_threads),
        };
        failed += cmocka_run_group_tests_name("cache_redis", redis, NULL, NULL);
    } else {
        printf("# redis cases skipped (set VX_TEST_REDIS_URL; see tests/integ/test_cache_redis.sh)\n");
    }
    return failed;
}
