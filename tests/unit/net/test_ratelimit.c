/*
 * test_ratelimit.c -- the per-user token buckets of the HTTP service
 * (src/net/ratelimit.c), on a simulated clock: bursts, refill, Retry-After,
 * users independent, the bounded table, threads, misuse.
 */
#include <math.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdint.h>

#include <cmocka.h>

#include "net/ratelimit.h"

static void test_burst_then_rate(void **state)
{
    /* 60 per minute = 1 per second, bursts of 5 */
    vx__ratelimit *r = vx__ratelimit_new(60.0, 5.0, 16);
    double retry = -1.0;
    (void)state;
    assert_non_null(r);
    for (int i = 0; i < 5; i++)
        assert_true(vx__ratelimit_take(r, "ann", 100.0, &retry));
    assert_false(vx__ratelimit_take(r, "ann", 100.0, &retry));
    assert_true(fabs(retry - 1.0) < 1e-9); /* one token comes back in 1 s */
    assert_false(vx__ratelimit_take(r, "ann", 100.5, &retry));
    assert_true(fabs(retry - 0.5) < 1e-9);
    assert_true(vx__ratelimit_take(r, "ann", 101.0, &retry));
    assert_true(retry == 0.0);
    assert_false(vx__ratelimit_take(r, "ann", 101.0, NULL));
    /* a long pause refills to the burst, not beyond */
    for (int i = 0; i < 5; i++)
        assert_true(vx__ratelimit_take(r, "ann", 1000.0, NULL));
    assert_false(vx__ratelimit_take(r, "ann", 1000.0, NULL));
    /* a clock that goes backwards grants nothing */
    assert_false(vx__ratelimit_take(r, "ann", 900.0, NULL));
    vx__ratelimit_free(r);
}

static void test_users_independent_and_table_bounded(void **state)
{
    vx__ratelimit *r = vx__ratelimit_new(60.0, 2.0, 3);
    (void)state;
    assert_non_null(r);
    assert_true(vx__ratelimit_take(r, "a", 0.0, NULL));
    assert_true(vx__ratelimit_take(r, "a", 0.0, NULL));
    assert_false(vx__ratelimit_take(r, "a", 0.0, NULL));
    assert_true(vx__ratelimit_take(r, "b", 0.1, NULL)); /* b has its own bucket */
    assert_true(vx__ratelimit_take(r, "c", 0.2, NULL));
    assert_false(vx__ratelimit_take(r, "a", 0.3, NULL)); /* a is still remembered */
    /* a fourth user evicts the one seen longest ago (b at 0.1) */
    assert_true(vx__ratelimit_take(r, "d", 0.4, NULL));
    assert_false(vx__ratelimit_take(r, "a", 0.45, NULL));
    assert_true(vx__ratelimit_take(r, "b", 0.5, NULL));
    assert_true(vx__ratelimit_take(r, "b", 0.5, NULL)); /* b starts again full */
    vx__ratelimit_free(r);
}

typedef struct hammer {
    vx__ratelimit *r;
    int allowed;
} hammer;

static void *hammer_main(void *p)
{
    hammer *h = p;
    for (int i = 0; i < 1000; i++)
        h->allowed += vx__ratelimit_take(h->r, "shared", 5.0, NULL);
    return NULL;
}

static void test_threads(void **state)
{
    /* 4 threads x 1000 requests at one instant: exactly the burst passes */
    vx__ratelimit *r = vx__ratelimit_new(600.0, 100.0, 8);
    pthread_t t[4];
    hammer h[4];
    int total = 0;
    (void)state;
    assert_non_null(r);
    for (int i = 0; i < 4; i++) {
        h[i].r = r;
        h[i].allowed = 0;
        assert_int_equal(pthread_create(&t[i], NULL, hammer_main, &h[i]), 0);
    }
    for (int i = 0; i < 4; i++) {
        pthread_join(t[i], NULL);
        total += h[i].allowed;
    }
    assert_int_equal(total, 100);
    vx__ratelimit_free(r);
}

static void test_off_and_misuse(void **state)
{
    double retry = 7.0;
    (void)state;
    assert_null(vx__ratelimit_new(0.0, 10.0, 8));  /* 0: no limit */
    assert_null(vx__ratelimit_new(-1.0, 10.0, 8));
    assert_null(vx__ratelimit_new(NAN, 10.0, 8));
    assert_null(vx__ratelimit_new(60.0, 10.0, 0));
    /* no limiter: everything passes */
    assert_true(vx__ratelimit_take(NULL, "x", 0.0, &retry));
    assert_true(retry == 0.0);
    vx__ratelimit *r = vx__ratelimit_new(60.0, 0.0, 4); /* burst below 1 counts as 1 */
    assert_non_null(r);
    assert_true(vx__ratelimit_take(r, "x", 0.0, NULL));
    assert_false(vx__ratelimit_take(r, "x", 0.0, NULL));
    assert_true(vx__ratelimit_take(r, NULL, 0.0, NULL)); /* no user: not limited */
    vx__ratelimit_free(r);
    vx__ratelimit_free(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_burst_then_rate),
        cmocka_unit_test(test_users_independent_and_table_bounded),
        cmocka_unit_test(test_threads),
        cmocka_unit_test(test_off_and_misuse),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
