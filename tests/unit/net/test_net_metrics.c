/*
 * test_net_metrics.c -- the Prometheus registry (src/net/metrics.c).
 *
 * (Named test_net_metrics, not test_metrics: tests/unit/analysis/test_metrics.c
 * already owns the ctest/executable name test_metrics.)
 *
 * With VX_METRICS_DUMP=PATH in the environment the program instead writes
 * the rendering of a registry holding every family the service exports to
 * PATH and exits; tests/integ/test_promtool.sh feeds that to
 * `promtool check metrics`.
 */
#include <math.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "net/metrics.h"
#include "voxclone/voxclone.h"

static vx_metrics *new_registry(void)
{
    vx_metrics *m = NULL;
    vx_error e;
    assert_int_equal(vx_metrics_new(&m, &e), VX_OK);
    assert_non_null(m);
    return m;
}

static size_t count_substr(const char *hay, const char *needle)
{
    size_t n = 0;
    for (const char *p = strstr(hay, needle); p; p = strstr(p + 1, needle))
        n++;
    return n;
}

#define REG_FAILS(m, name, help, type, labels, buckets, nb)                               \
    do {                                                                                 \
        vx_error e_ = {0, ""};                                                           \
        assert_int_equal(vx_metrics_register(m, name, help, type, labels, buckets, nb, &e_), \
                         VX_EINVAL);                                                     \
        assert_int_equal(e_.code, VX_EINVAL);                                            \
        assert_true(strlen(e_.message) > 0);                                             \
    } while (0)

static void test_register_misuse(void **state)
{
    (void)state;
    vx_metrics *m = new_registry();
    const char *const ok_labels[] = {"route", NULL};
    const double asc[] = {0.1, 0.5, 1};
    const double flat[] = {0.1, 0.1, 1};
    const double desc[] = {1, 0.5};
    const double nan_b[] = {0.1, NAN};

    /* metric names */
    REG_FAILS(m, NULL, "h", VX_GAUGE, NULL, NULL, 0);
    REG_FAILS(m, "", "h", VX_GAUGE, NULL, NULL, 0);
    REG_FAILS(m, "1abc", "h", VX_GAUGE, NULL, NULL, 0);
    REG_FAILS(m, "a-b", "h", VX_GAUGE, NULL, NULL, 0);
    REG_FAILS(m, "a b", "h", VX_GAUGE, NULL, NULL, 0);
    REG_FAILS(m, "caf\xc3\xa9", "h", VX_GAUGE, NULL, NULL, 0);
    /* help is required, counters end in _total (promtool lint) */
    REG_FAILS(m, "g", NULL, VX_GAUGE, NULL, NULL, 0);
    REG_FAILS(m, "g", "", VX_GAUGE, NULL, NULL, 0);
    REG_FAILS(m, "requests", "h", VX_COUNTER, NULL, NULL, 0);
    REG_FAILS(m, "g", "h", (vx_metric_type)7, NULL, NULL, 0);
    /* label names */
    REG_FAILS(m, "g", "h", VX_GAUGE, ((const char *const[]){"__x", NULL}), NULL, 0);
    REG_FAILS(m, "g", "h", VX_GAUGE, ((const char *const[]){"a:b", NULL}), NULL, 0);
    REG_FAILS(m, "g", "h", VX_GAUGE, ((const char *const[]){"1x", NULL}), NULL, 0);
    REG_FAILS(m, "g", "h", VX_GAUGE, ((const char *const[]){"", NULL}), NULL, 0);
    REG_FAILS(m, "g", "h", VX_GAUGE, ((const char *const[]){"a", "a", NULL}), NULL, 0);
    REG_FAILS(m, "g", "h", VX_GAUGE, ((const char *const[]){"overflow", NULL}), NULL, 0);
    REG_FAILS(m, "g", "h", VX_GAUGE, ((const char *const[]){"a", "b", "c", "d", "e", NULL}),
              NULL, 0);
    REG_FAILS(m, "h_seconds", "h", VX_HISTOGRAM, ((const char *const[]){"le", NULL}), asc, 3);
    /* buckets */
    REG_FAILS(m, "h_seconds", "h", VX_HISTOGRAM, NULL, flat, 3);
    REG_FAILS(m, "h_seconds", "h", VX_HISTOGRAM, NULL, desc, 2);
    REG_FAILS(m, "h_seconds", "h", VX_HISTOGRAM, NULL, nan_b, 2);
    REG_FAILS(m, "h_seconds", "h", VX_HISTOGRAM, NULL, NULL, 3);
    REG_FAILS(m, "g", "h", VX_GAUGE, NULL, asc, 3);

    /* 'le' is fine outside histograms; 4 labels are fine */
    vx_error e;
    assert_int_equal(vx_metrics_register(m, "g", "h", VX_GAUGE,
                                         (const char *const[]){"le", "b", "c", "d", NULL}, NULL,
                                         0, &e),
                     VX_OK);
    assert_int_equal(e.code, VX_OK);
    /* duplicates */
    REG_FAILS(m, "g", "other help", VX_GAUGE, NULL, NULL, 0);
    REG_FAILS(m, "g", "h", VX_COUNTER, NULL, NULL, 0);
    assert_int_equal(vx_metrics_register(m, "h_seconds", "h", VX_HISTOGRAM, ok_labels, asc, 3,
                                         &e),
                     VX_OK);
    REG_FAILS(m, "h_seconds", "h", VX_HISTOGRAM, ok_labels, asc, 3);
    /* names that would clash with a histogram's samples, both ways round */
    REG_FAILS(m, "h_seconds_count", "h", VX_GAUGE, NULL, NULL, 0);
    REG_FAILS(m, "h_seconds_bucket", "h", VX_GAUGE, NULL, NULL, 0);
    assert_int_equal(vx_metrics_register(m, "x_sum", "h", VX_GAUGE, NULL, NULL, 0, &e), VX_OK);
    REG_FAILS(m, "x", "h", VX_HISTOGRAM, NULL, asc, 3);
    /* a trailing +Inf bucket is accepted (it is implied) */
    const double with_inf[] = {1, INFINITY};
    assert_int_equal(
        vx_metrics_register(m, "y_seconds", "h", VX_HISTOGRAM, NULL, with_inf, 2, &e), VX_OK);
    char *text = vx_metrics_render(m);
    assert_non_null(text);
    assert_non_null(strstr(text, "y_seconds_bucket{le=\"1\"} 0\n"
                                 "y_seconds_bucket{le=\"+Inf\"} 0\n"));
    assert_int_equal(count_substr(text, "le=\"+Inf\""), 1);
    free(text);

    REG_FAILS(NULL, "z", "h", VX_GAUGE, NULL, NULL, 0);
    assert_int_equal(vx_metrics_new(NULL, &e), VX_EINVAL);
    vx_metrics_free(m);
    vx_metrics_free(NULL);
}

static void test_update_misuse(void **state)
{
    (void)state;
    vx_metrics *m = new_registry();
    vx_error e;
    const double b[] = {1, 2};
    assert_int_equal(vx_metrics_register(m, "c_total", "c", VX_COUNTER,
                                         (const char *const[]){"a", "b", NULL}, NULL, 0, &e),
                     VX_OK);
    assert_int_equal(vx_metrics_register(m, "g", "g", VX_GAUGE, NULL, NULL, 0, &e), VX_OK);
    assert_int_equal(vx_metrics_register(m, "h", "h", VX_HISTOGRAM, NULL, b, 2, &e), VX_OK);

    /* wrong number of label values */
    assert_int_equal(vx_metrics_inc(m, "c_total", NULL, 1), VX_EINVAL);
    assert_int_equal(vx_metrics_inc(m, "c_total", (const char *const[]){"x", NULL}, 1),
                     VX_EINVAL);
    assert_int_equal(vx_metrics_inc(m, "c_total", (const char *const[]){NULL}, 1), VX_EINVAL);
    assert_int_equal(vx_metrics_set(m, "g", (const char *const[]){"x", NULL}, 1), VX_EINVAL);
    assert_int_equal(vx_metrics_set(m, "g", (const char *const[]){NULL}, 1), VX_OK);
    /* unknown family, NULLs */
    assert_int_equal(vx_metrics_inc(m, "nope_total", NULL, 1), VX_EINVAL);
    assert_int_equal(vx_metrics_inc(m, NULL, NULL, 1), VX_EINVAL);
    assert_int_equal(vx_metrics_inc(NULL, "g", NULL, 1), VX_EINVAL);
    /* operation does not fit the type */
    const char *const ab[] = {"x", "y"};
    assert_int_equal(vx_metrics_set(m, "c_total", ab, 5), VX_EINVAL);
    assert_int_equal(vx_metrics_inc(m, "c_total", ab, -1), VX_EINVAL);
    assert_int_equal(vx_metrics_inc(m, "c_total", ab, NAN), VX_EINVAL);
    assert_int_equal(vx_metrics_observe(m, "c_total", ab, 1), VX_EINVAL);
    assert_int_equal(vx_metrics_observe(m, "g", NULL, 1), VX_EINVAL);
    assert_int_equal(vx_metrics_inc(m, "h", NULL, 1), VX_EINVAL);
    assert_int_equal(vx_metrics_set(m, "h", NULL, 1), VX_EINVAL);
    assert_int_equal(vx_metrics_observe(m, "h", NULL, NAN), VX_EINVAL);
    /* label values the text format cannot carry, or too long */
    assert_int_equal(vx_metrics_inc(m, "c_total", (const char *const[]){"\xff", "y"}, 1),
                     VX_EINVAL);
    assert_int_equal(vx_metrics_inc(m, "c_total", (const char *const[]){"\xc0\xaf", "y"}, 1),
                     VX_EINVAL); /* overlong '/' */
    assert_int_equal(vx_metrics_inc(m, "c_total", (const char *const[]){"\xed\xa0\x80", "y"}, 1),
                     VX_EINVAL); /* surrogate */
    assert_int_equal(vx_metrics_inc(m, "c_total", (const char *const[]){"ab\xe2\x82", "y"}, 1),
                     VX_EINVAL); /* truncated */
    char *big = malloc(5000);
    assert_non_null(big);
    memset(big, 'a', 4999);
    big[4999] = '\0';
    assert_int_equal(vx_metrics_inc(m, "c_total", (const char *const[]){big, "y"}, 1), VX_EINVAL);
    free(big);
    /* gauges go both ways; counters accept 0 */
    assert_int_equal(vx_metrics_inc(m, "g", NULL, -3), VX_OK);
    assert_int_equal(vx_metrics_inc(m, "c_total", (const char *const[]){"caf\xc3\xa9", "\xf0\x9f\x8e\xa4"}, 0),
                     VX_OK);

    char *text = vx_metrics_render(m);
    assert_non_null(text);
    assert_string_equal(text, "# HELP c_total c\n"
                              "# TYPE c_total counter\n"
                              "c_total{a=\"caf\xc3\xa9\",b=\"\xf0\x9f\x8e\xa4\"} 0\n"
                              "# HELP g g\n"
                              "# TYPE g gauge\n"
                              "g -2\n"
                              "# HELP h h\n"
                              "# TYPE h histogram\n"
                              "h_bucket{le=\"1\"} 0\n"
                              "h_bucket{le=\"2\"} 0\n"
                              "h_bucket{le=\"+Inf\"} 0\n"
                              "h_sum 0\n"
                              "h_count 0\n");
    free(text);
    vx_metrics_free(m);
}

static void test_exact_text(void **state)
{
    (void)state;
    vx_metrics *m = new_registry();
    vx_error e;
    const double b[] = {0.25, 0.5, 1};
    assert_int_equal(vx_metrics_register(m, "t_requests_total", "Requests served.", VX_COUNTER,
                                         (const char *const[]){"route", "code", NULL}, NULL, 0,
                                         &e),
                     VX_OK);
    assert_int_equal(vx_metrics_register(m, "t_up", "1 when up.", VX_GAUGE, NULL, NULL, 0, &e),
                     VX_OK);
    assert_int_equal(vx_metrics_register(m, "t_temp", "A gauge.", VX_GAUGE, NULL, NULL, 0, &e),
                     VX_OK);
    assert_int_equal(vx_metrics_register(m, "t_duration_seconds", "Time taken.", VX_HISTOGRAM,
                                         (const char *const[]){"lang", NULL}, b, 3, &e),
                     VX_OK);
    assert_int_equal(vx_metrics_register(m, "t_unused_total", "Never incremented.", VX_COUNTER,
                                         (const char *const[]){"x", NULL}, NULL, 0, &e),
                     VX_OK);

    assert_int_equal(vx_metrics_inc(m, "t_requests_total", (const char *const[]){"/a", "200"}, 1),
                     VX_OK);
    assert_int_equal(vx_metrics_inc(m, "t_requests_total", (const char *const[]){"/b", "500"}, 0.5),
                     VX_OK);
    assert_int_equal(vx_metrics_inc(m, "t_requests_total", (const char *const[]){"/a", "200"}, 2),
                     VX_OK);
    assert_int_equal(vx_metrics_set(m, "t_up", NULL, 1), VX_OK);
    assert_int_equal(vx_metrics_set(m, "t_temp", NULL, 0.1), VX_OK);
    assert_int_equal(vx_metrics_inc(m, "t_temp", NULL, 0.2), VX_OK);
    const char *const en[] = {"en"}, *const fr[] = {"fr"};
    assert_int_equal(vx_metrics_observe(m, "t_duration_seconds", en, 0.25), VX_OK);
    assert_int_equal(vx_metrics_observe(m, "t_duration_seconds", en, 0.75), VX_OK);
    assert_int_equal(vx_metrics_observe(m, "t_duration_seconds", en, 3), VX_OK);
    assert_int_equal(vx_metrics_observe(m, "t_duration_seconds", fr, 1e-9), VX_OK);

    char *text = vx_metrics_render(m);
    assert_non_null(text);
    assert_string_equal(text, "# HELP t_requests_total Requests served.\n"
                              "# TYPE t_requests_total counter\n"
                              "t_requests_total{route=\"/a\",code=\"200\"} 3\n"
                              "t_requests_total{route=\"/b\",code=\"500\"} 0.5\n"
                              "# HELP t_up 1 when up.\n"
                              "# TYPE t_up gauge\n"
                              "t_up 1\n"
                              "# HELP t_temp A gauge.\n"
                              "# TYPE t_temp gauge\n"
                              "t_temp 0.30000000000000004\n"
                              "# HELP t_duration_seconds Time taken.\n"
                              "# TYPE t_duration_seconds histogram\n"
                              "t_duration_seconds_bucket{lang=\"en\",le=\"0.25\"} 1\n"
                              "t_duration_seconds_bucket{lang=\"en\",le=\"0.5\"} 1\n"
                              "t_duration_seconds_bucket{lang=\"en\",le=\"1\"} 2\n"
                              "t_duration_seconds_bucket{lang=\"en\",le=\"+Inf\"} 3\n"
                              "t_duration_seconds_sum{lang=\"en\"} 4\n"
                              "t_duration_seconds_count{lang=\"en\"} 3\n"
                              "t_duration_seconds_bucket{lang=\"fr\",le=\"0.25\"} 1\n"
                              "t_duration_seconds_bucket{lang=\"fr\",le=\"0.5\"} 1\n"
                              "t_duration_seconds_bucket{lang=\"fr\",le=\"1\"} 1\n"
                              "t_duration_seconds_bucket{lang=\"fr\",le=\"+Inf\"} 1\n"
                              "t_duration_seconds_sum{lang=\"fr\"} 1e-09\n"
                              "t_duration_seconds_count{lang=\"fr\"} 1\n"
                              "# HELP t_unused_total Never incremented.\n"
                              "# TYPE t_unused_total counter\n");
    free(text);
    vx_metrics_free(m);
}

static void test_numbers_and_default_buckets(void **state)
{
    (void)state;
    vx_metrics *m = new_registry();
    vx_error e;
    assert_int_equal(vx_metrics_register(m, "d_seconds", "Default buckets.", VX_HISTOGRAM, NULL,
                                         NULL, 0, &e),
                     VX_OK);
    assert_int_equal(vx_metrics_register(m, "v", "Values.", VX_GAUGE,
                                         (const char *const[]){"k", NULL}, NULL, 0, &e),
                     VX_OK);
    const struct {
        const char *k;
        double v;
        const char *text;
    } cases[] = {
        {"a", 1e6, "1000000"},
        {"a2", 1e15, "1e+15"},
        {"a3", 1e20, "1e+20"},
        {"a4", 123456.5, "123456.5"},
        {"a5", -42, "-42"},
        {"b", 123456, "123456"},
        {"c", -0.005, "-0.005"},
        {"d", 1.0 / 3.0, "0.3333333333333333"},
        {"e", INFINITY, "+Inf"},
        {"f", -INFINITY, "-Inf"},
        {"g", NAN, "NaN"},
        {"h", 1.7976931348623157e308, "1.7976931348623157e+308"},
        {"i", 5e-324, "5e-324"},
        {"j", 9007199254740993.0, "9007199254740992"},
    };
    char *text;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        assert_int_equal(vx_metrics_set(m, "v", (const char *const[]){cases[i].k}, cases[i].v),
                         VX_OK);
    text = vx_metrics_render(m);
    assert_non_null(text);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char line[128];
        snprintf(line, sizeof line, "v{k=\"%s\"} %s\n", cases[i].k, cases[i].text);
        assert_non_null(strstr(text, line));
    }
    assert_non_null(strstr(text, "d_seconds_bucket{le=\"0.005\"} 0\n"
                                 "d_seconds_bucket{le=\"0.01\"} 0\n"
                                 "d_seconds_bucket{le=\"0.025\"} 0\n"
                                 "d_seconds_bucket{le=\"0.05\"} 0\n"
                                 "d_seconds_bucket{le=\"0.1\"} 0\n"
                                 "d_seconds_bucket{le=\"0.25\"} 0\n"
                                 "d_seconds_bucket{le=\"0.5\"} 0\n"
                                 "d_seconds_bucket{le=\"1\"} 0\n"
                                 "d_seconds_bucket{le=\"2.5\"} 0\n"
                                 "d_seconds_bucket{le=\"5\"} 0\n"
                                 "d_seconds_bucket{le=\"10\"} 0\n"
                                 "d_seconds_bucket{le=\"+Inf\"} 0\n"
                                 "d_seconds_sum 0\n"
                                 "d_seconds_count 0\n"));
    free(text);
    vx_metrics_free(m);
}

static void test_escaping(void **state)
{
    (void)state;
    vx_metrics *m = new_registry();
    vx_error e;
    assert_int_equal(vx_metrics_register(m, "esc_total", "Back\\slash, \"quotes\"\nand a newline.",
                                         VX_COUNTER, (const char *const[]){"path", "q", NULL},
                                         NULL, 0, &e),
                     VX_OK);
    assert_int_equal(vx_metrics_register(m, "esc_seconds", "H.", VX_HISTOGRAM,
                                         (const char *const[]){"path", NULL},
                                         (const double[]){1}, 1, &e),
                     VX_OK);
    const char *const v[] = {"C:\\dir\\\"x\"", "line1\nline2"};
    assert_int_equal(vx_metrics_inc(m, "esc_total", v, 1), VX_OK);
    assert_int_equal(vx_metrics_inc(m, "esc_total", v, 1), VX_OK); /* same series */
    assert_int_equal(vx_metrics_inc(m, "esc_total", (const char *const[]){"", ""}, 1), VX_OK);
    assert_int_equal(vx_metrics_observe(m, "esc_seconds", (const char *const[]){"a\"b"}, 2),
                     VX_OK);
    char *text = vx_metrics_render(m);
    assert_non_null(text);
    assert_string_equal(text,
                        "# HELP esc_total Back\\\\slash, \"quotes\"\\nand a newline.\n"
                        "# TYPE esc_total counter\n"
                        "esc_total{path=\"C:\\\\dir\\\\\\\"x\\\"\",q=\"line1\\nline2\"} 2\n"
                        "esc_total{path=\"\",q=\"\"} 1\n"
                        "# HELP esc_seconds H.\n"
                        "# TYPE esc_seconds histogram\n"
                        "esc_seconds_bucket{path=\"a\\\"b\",le=\"1\"} 0\n"
                        "esc_seconds_bucket{path=\"a\\\"b\",le=\"+Inf\"} 1\n"
                        "esc_seconds_sum{path=\"a\\\"b\"} 2\n"
                        "esc_seconds_count{path=\"a\\\"b\"} 1\n");
    free(text);
    vx_metrics_free(m);
}

static void test_overflow_cap(void **state)
{
    (void)state;
    vx_metrics *m = new_registry();
    vx_error e;
    assert_int_equal(vx_metrics_register(m, "o_total", "O.", VX_COUNTER,
                                         (const char *const[]){"route", NULL}, NULL, 0, &e),
                     VX_OK);
    assert_int_equal(vx_metrics_register(m, "o_seconds", "O.", VX_HISTOGRAM,
                                         (const char *const[]){"route", NULL},
                                         (const double[]){1}, 1, &e),
                     VX_OK);
    char val[32];
    const char *const lv[] = {val};
    for (int round = 0; round < 2; round++) {
        for (int i = 0; i < VX_METRICS_MAX_SERIES + 44; i++) {
            snprintf(val, sizeof val, "/r%d", i);
            assert_int_equal(vx_metrics_inc(m, "o_total", lv, 1), VX_OK);
            assert_int_equal(vx_metrics_observe(m, "o_seconds", lv, 0.5), VX_OK);
        }
    }
    char *text = vx_metrics_render(m);
    assert_non_null(text);
    assert_int_equal(count_substr(text, "\no_total{route="), VX_METRICS_MAX_SERIES);
    assert_int_equal(count_substr(text, "\no_total{"), VX_METRICS_MAX_SERIES + 1);
    assert_non_null(strstr(text, "\no_total{route=\"/r0\"} 2\n"));
    assert_non_null(strstr(text, "\no_total{route=\"/r255\"} 2\n"));
    assert_null(strstr(text, "/r256\""));
    assert_non_null(strstr(text, "\no_total{overflow=\"true\"} 88\n"));
    assert_int_equal(count_substr(text, "overflow=\"true\""), 1 + 4);
    assert_non_null(strstr(text, "\no_seconds_bucket{overflow=\"true\",le=\"1\"} 88\n"
                                 "o_seconds_bucket{overflow=\"true\",le=\"+Inf\"} 88\n"
                                 "o_seconds_sum{overflow=\"true\"} 44\n"
                                 "o_seconds_count{overflow=\"true\"} 88\n"));
    assert_int_equal(count_substr(text, "# TYPE"), 2);
    free(text);
    vx_metrics_free(m);
}

#define N_THREADS 4
#define N_ITER 50000

static void *hammer(void *arg)
{
    vx_metrics *m = arg;
    static const char *const routes[] = {"/a", "/b", "/c"};
    for (int i = 0; i < N_ITER; i++) {
        const char *const lv[] = {routes[i % 3]};
        if (vx_metrics_inc(m, "par_total", lv, 1) != VX_OK ||
            vx_metrics_observe(m, "par_seconds", lv, (i % 2) ? 0.5 : 2) != VX_OK ||
            vx_metrics_inc(m, "par_gauge", NULL, 1) != VX_OK)
            return (void *)1;
        if (i % 5000 == 0) {
            char *t = vx_metrics_render(m); /* rendering races with updates */
            if (!t)
                return (void *)1;
            free(t);
        }
    }
    return NULL;
}

static void test_concurrent_increments(void **state)
{
    (void)state;
    vx_metrics *m = new_registry();
    vx_error e;
    assert_int_equal(vx_metrics_register(m, "par_total", "P.", VX_COUNTER,
                                         (const char *const[]){"route", NULL}, NULL, 0, &e),
                     VX_OK);
    assert_int_equal(vx_metrics_register(m, "par_seconds", "P.", VX_HISTOGRAM,
                                         (const char *const[]){"route", NULL},
                                         (const double[]){1}, 1, &e),
                     VX_OK);
    assert_int_equal(vx_metrics_register(m, "par_gauge", "P.", VX_GAUGE, NULL, NULL, 0, &e),
                     VX_OK);
    pthread_t th[N_THREADS];
    for (int i = 0; i < N_THREADS; i++)
        assert_int_equal(pthread_create(&th[i], NULL, hammer, m), 0);
    for (int i = 0; i < N_THREADS; i++) {
        void *ret = NULL;
        assert_int_equal(pthread_join(th[i], &ret), 0);
        assert_null(ret);
    }
    char *text = vx_metrics_render(m);
    assert_non_null(text);
    /* N_ITER = 50000: /a gets 16667 per thread, /b and /c 16667 and 16666 */
    assert_non_null(strstr(text, "par_total{route=\"/a\"} 66668\n"));
    assert_non_null(strstr(text, "par_total{route=\"/b\"} 66668\n"));
    assert_non_null(strstr(text, "par_total{route=\"/c\"} 66664\n"));
    assert_non_null(strstr(text, "par_gauge 200000\n"));
    assert_non_null(strstr(text, "par_seconds_count{route=\"/a\"} 66668\n"));
    char line[128];
    snprintf(line, sizeof line, "par_seconds_bucket{route=\"/b\",le=\"+Inf\"} %d\n", 66668);
    assert_non_null(strstr(text, line));
    free(text);
    vx_metrics_free(m);
}

/* ------------------------------------------------------------------ */
/* VX_METRICS_DUMP: every family the service exports, with samples     */
/* ------------------------------------------------------------------ */

static int dump_service_registry(const char *path)
{
    static const double latency[] = {0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30};
    static const double work[] = {0.1, 0.25, 0.5, 1, 2, 5, 10, 20, 30, 60, 120};
    static const double sim[] = {0.5, 0.55, 0.6, 0.65, 0.7, 0.75, 0.8, 0.85, 0.9, 0.95, 1};
    static const struct {
        const char *name, *help;
        vx_metric_type type;
        const char *labels[4];
        const double *b;
        size_t nb;
    } fam[] = {
        {"voxclone_http_requests_total", "HTTP requests by route template, method and status code.",
         VX_COUNTER, {"route", "method", "code", NULL}, NULL, 0},
        {"voxclone_http_request_duration_seconds", "HTTP request latency by route template.",
         VX_HISTOGRAM, {"route", NULL}, latency, 12},
        {"voxclone_analysis_duration_seconds", "Voice analysis time.", VX_HISTOGRAM, {NULL},
         work, 11},
        {"voxclone_clone_duration_seconds", "Voice clone time per language.", VX_HISTOGRAM,
         {"language", NULL}, work, 11},
        {"voxclone_similarity_overall", "Overall similarity of a clone to the real voice (0-1).",
         VX_HISTOGRAM, {NULL}, sim, 11},
        {"voxclone_clone_failures_total", "Failed clones by language and reason.", VX_COUNTER,
         {"language", "reason", NULL}, NULL, 0},
        {"voxclone_clones_total", "Clones attempted by language.", VX_COUNTER, {"language", NULL},
         NULL, 0},
        {"voxclone_cache_hits_total", "Cache hits.", VX_COUNTER, {NULL}, NULL, 0},
        {"voxclone_cache_misses_total", "Cache misses.", VX_COUNTER, {NULL}, NULL, 0},
        {"voxclone_cache_errors_total", "Cache errors.", VX_COUNTER, {NULL}, NULL, 0},
        {"voxclone_cache_up", "1 when the cache backend answers.", VX_GAUGE, {NULL}, NULL, 0},
        {"voxclone_jobs_queue_depth", "Jobs waiting in the queue.", VX_GAUGE, {NULL}, NULL, 0},
        {"voxclone_jobs_running", "Jobs being processed.", VX_GAUGE, {NULL}, NULL, 0},
        {"voxclone_jobs_total", "Finished jobs by status.", VX_COUNTER, {"status", NULL}, NULL, 0},
        {"voxclone_store_errors_total", "Storage errors by operation.", VX_COUNTER, {"op", NULL},
         NULL, 0},
        {"voxclone_store_up", "1 when the database answers.", VX_GAUGE, {NULL}, NULL, 0},
        {"voxclone_build_info", "Build information; always 1.", VX_GAUGE, {"version", NULL}, NULL,
         0},
    };
    vx_metrics *m = NULL;
    vx_error e;
    if (vx_metrics_new(&m, &e) != VX_OK)
        return 1;
    for (size_t i = 0; i < sizeof fam / sizeof fam[0]; i++) {
        if (vx_metrics_register(m, fam[i].name, fam[i].help, fam[i].type,
                                fam[i].labels[0] ? fam[i].labels : NULL, fam[i].b, fam[i].nb,
                                &e) != VX_OK) {
            fprintf(stderr, "register %s: %s\n", fam[i].name, e.message);
            vx_metrics_free(m);
            return 1;
        }
    }
    int rc = 0;
    rc |= vx_metrics_inc(m, "voxclone_http_requests_total",
                         (const char *const[]){"/api/voice-presets", "GET", "200"}, 12);
    rc |= vx_metrics_inc(m, "voxclone_http_requests_total",
                         (const char *const[]){"/api/voice-analysis/:userId", "GET", "404"}, 1);
    rc |= vx_metrics_inc(m, "voxclone_http_requests_total",
                         (const char *const[]){"odd \"route\"\\\n", "POST", "500"}, 1);
    rc |= vx_metrics_observe(m, "voxclone_http_request_duration_seconds",
                             (const char *const[]){"/api/voice-presets"}, 0.0031);
    rc |= vx_metrics_observe(m, "voxclone_analysis_duration_seconds", NULL, 1.27);
    rc |= vx_metrics_observe(m, "voxclone_clone_duration_seconds", (const char *const[]){"de"},
                             4.5);
    rc |= vx_metrics_observe(m, "voxclone_clone_duration_seconds", (const char *const[]){"ja"},
                             7.25);
    rc |= vx_metrics_observe(m, "voxclone_similarity_overall", NULL, 0.83);
    rc |= vx_metrics_observe(m, "voxclone_similarity_overall", NULL, 0.64);
    rc |= vx_metrics_inc(m, "voxclone_clones_total", (const char *const[]){"de"}, 2);
    rc |= vx_metrics_inc(m, "voxclone_clone_failures_total",
                         (const char *const[]){"de", "tts"}, 1);
    rc |= vx_metrics_inc(m, "voxclone_cache_hits_total", NULL, 40);
    rc |= vx_metrics_inc(m, "voxclone_cache_misses_total", NULL, 3);
    rc |= vx_metrics_set(m, "voxclone_cache_up", NULL, 1);
    rc |= vx_metrics_set(m, "voxclone_jobs_queue_depth", NULL, 2);
    rc |= vx_metrics_set(m, "voxclone_jobs_running", NULL, 1);
    rc |= vx_metrics_inc(m, "voxclone_jobs_total", (const char *const[]){"done"}, 5);
    rc |= vx_metrics_set(m, "voxclone_store_up", NULL, 1);
    rc |= vx_metrics_set(m, "voxclone_build_info", (const char *const[]){VX_VERSION_STRING}, 1);
    /* voxclone_store_errors_total stays without series: HELP/TYPE only */
    char *text = vx_metrics_render(m);
    vx_metrics_free(m);
    if (rc != 0 || !text) {
        fprintf(stderr, "update failed (%d)\n", rc);
        free(text);
        return 1;
    }
    FILE *f = fopen(path, "w");
    if (!f) {
        perror(path);
        free(text);
        return 1;
    }
    int bad = fputs(text, f) < 0;
    bad |= fclose(f) != 0;
    free(text);
    return bad;
}

int main(void)
{
    const char *dump = getenv("VX_METRICS_DUMP");
    if (dump && *dump)
        return dump_service_registry(dump);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_register_misuse),
        cmocka_unit_test(test_update_misuse),
        cmocka_unit_test(test_exact_text),
        cmocka_unit_test(test_numbers_and_default_buckets),
        cmocka_unit_test(test_escaping),
        cmocka_unit_test(test_overflow_cap),
        cmocka_unit_test(test_concurrent_increments),
    };
    return cmocka_run_group_tests_name("net_metrics", tests, NULL, NULL);
}
