/*
 * test_core.c -- status codes and error detail; the shared FFTW plans.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <pthread.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/dynlib.h"
#include "core/error.h"
#include "core/fftw_lock.h"
#include "analysis/pyin.h"
#include "analysis/spectral.h"
#include "voxclone/voxclone.h"

static void test_strerror_names(void **state)
{
    (void)state;
#define CHECK(name, value, msg)                          \
    assert_string_equal(vx_strerror(value), msg);        \
    assert_string_equal(vx_status_name(value), #name);   \
    assert_int_equal(VX_##name, value);
    VX_STATUS_MAP(CHECK)
#undef CHECK
    assert_string_equal(vx_strerror(12345), "unknown status");
    assert_string_equal(vx_status_name(-999), "UNKNOWN");
}

static void test_error_set_truncates_and_returns_code(void **state)
{
    (void)state;
    vx_error e;
    char big[600];
    memset(big, 'x', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    assert_int_equal(vx__error_set(&e, VX_ELIMIT, "%s", big), VX_ELIMIT);
    assert_int_equal(e.code, VX_ELIMIT);
    assert_int_equal(strlen(e.message), sizeof e.message - 1);
    vx__error_clear(&e);
    assert_int_equal(e.code, VX_OK);
    assert_string_equal(e.message, "");
    /* NULL error pointers are allowed everywhere */
    assert_int_equal(vx__error_set(NULL, VX_EIO, "x %d", 1), VX_EIO);
    vx__error_clear(NULL);
}

/* Shared plans: argument misuse, one plan per shape, and the same bits as a
 * private plan of the same shape on the same input. */
static void test_shared_plans(void **state)
{
    (void)state;
    assert_null(vx__fftwf_plan_shared_r2c(0));
    assert_null(vx__fftwf_plan_shared_r2c(-8));
    assert_null(vx__fftwf_plan_shared_c2c(64, 0));
    assert_null(vx__fftwf_plan_shared_c2c(0, FFTW_FORWARD));
    fftwf_plan a = vx__fftwf_plan_shared_r2c(256);
    assert_non_null(a);
    assert_ptr_equal(a, vx__fftwf_plan_shared_r2c(256));
    fftwf_plan b = vx__fftwf_plan_shared_c2c(256, FFTW_BACKWARD);
    assert_non_null(b);
    assert_ptr_not_equal((void *)a, (void *)b);
    assert_ptr_equal(b, vx__fftwf_plan_shared_c2c(256, FFTW_BACKWARD));
    assert_ptr_not_equal((void *)b, (void *)vx__fftwf_plan_shared_c2c(256, FFTW_FORWARD));

    float *in = fftwf_alloc_real(256);
    fftwf_complex *o1 = fftwf_alloc_complex(129), *o2 = fftwf_alloc_complex(129);
    assert_true(in && o1 && o2);
    for (int i = 0; i < 256; i++)
        in[i] = (float)((i * 37) % 101) / 50.0f - 1.0f;
    vx__fftw_lock();
    fftwf_plan own = fftwf_plan_dft_r2c_1d(256, in, o1, FFTW_ESTIMATE);
    vx__fftw_unlock();
    assert_non_null(own);
    fftwf_execute(own);
    fftwf_execute_dft_r2c(a, in, o2);
    assert_memory_equal(o1, o2, 129 * sizeof *o1);
    vx__fftw_lock();
    fftwf_destroy_plan(own);
    vx__fftw_unlock();
    fftwf_free(in);
    fftwf_free(o1);
    fftwf_free(o2);
}

/* The build's FFTW wisdom (scripts/fftw-wisdom-gen.c) is accepted, and the
 * plans made with it are the plans FFTW makes without it: same algorithm
 * (fftwf_sprint_plan), same bits, for each of the analysis's shapes. */
static void check_wisdom_plan(int kind, int n)
{
    fftwf_plan shared = kind == 0 ? vx__fftwf_plan_shared_r2c(n)
                                  : vx__fftwf_plan_shared_c2c(n, FFTW_BACKWARD);
    assert_non_null(shared);
    float *in = fftwf_alloc_real((size_t)2 * n);
    fftwf_complex *o1 = fftwf_alloc_complex((size_t)n), *o2 = fftwf_alloc_complex((size_t)n);
    assert_true(in && o1 && o2);
    for (int i = 0; i < 2 * n; i++)
        in[i] = (float)((i * 7919) % 1009) / 504.5f - 1.0f;
    vx__fftw_lock();
    char *with = fftwf_sprint_plan(shared);
    fftwf_forget_wisdom(); /* from here on, plans are made from scratch */
    fftwf_plan own = kind == 0 ? fftwf_plan_dft_r2c_1d(n, in, o1, FFTW_ESTIMATE)
                               : fftwf_plan_dft_1d(n, (fftwf_complex *)in, o1, FFTW_BACKWARD,
                                                   FFTW_ESTIMATE);
    char *without = own ? fftwf_sprint_plan(own) : NULL;
    vx__fftw_unlock();
    assert_non_null(own);
    assert_string_equal(with, without);
    fftwf_execute(own);
    if (kind == 0)
        fftwf_execute_dft_r2c(shared, in, o2);
    else
        fftwf_execute_dft(shared, (fftwf_complex *)in, o2);
    size_t nout = kind == 0 ? (size_t)n / 2 + 1 : (size_t)n;
    assert_memory_equal(o1, o2, nout * sizeof *o1);
    vx__fftw_lock();
    fftwf_destroy_plan(own);
    vx__fftw_unlock();
    free(with);
    free(without);
    fftwf_free(in);
    fftwf_free(o1);
    fftwf_free(o2);
}

static void test_fftw_wisdom(void **state)
{
    (void)state;
    assert_true(vx__fftw_wisdom_imported());
    /* all three planned while the wisdom is loaded (each check forgets it) */
    assert_non_null(vx__fftwf_plan_shared_r2c(VX__N_FFT));
    assert_non_null(vx__fftwf_plan_shared_r2c(2 * VX__PYIN_HOP));
    assert_non_null(vx__fftwf_plan_shared_c2c(2 * VX__PYIN_HOP, FFTW_BACKWARD));
    check_wisdom_plan(0, VX__N_FFT);
    check_wisdom_plan(0, 2 * VX__PYIN_HOP);
    check_wisdom_plan(1, 2 * VX__PYIN_HOP);
}

static void *plan_thread(void *arg)
{
    (void)arg;
    return (void *)vx__fftwf_plan_shared_r2c(512);
}

/* Runs fn in n threads at once (n <= 8); got[i] is what thread i returned. */
static void run_threads(void *(*fn)(void *), int n, void **got)
{
    pthread_t th[8];
    assert_true(n <= 8);
    for (int i = 0; i < n; i++)
        assert_int_equal(pthread_create(&th[i], NULL, fn, NULL), 0);
    for (int i = 0; i < n; i++)
        assert_int_equal(pthread_join(th[i], &got[i]), 0);
}

/* Threads asking for the same new shape at once all get the one plan. */
static void test_shared_plans_threads(void **state)
{
    (void)state;
    void *got[4];
    run_threads(plan_thread, 4, got);
    assert_non_null(got[0]);
    for (int i = 1; i < 4; i++)
        assert_ptr_equal(got[i], got[0]);
}

/* ---- core/dynlib: optional libraries loaded on first use ---------------- */

static vx__dynlib g_libm = VX__DYNLIB_INIT("libm.so.6");
static struct {
    double (*cos)(double);
    double (*sqrt)(double);
} g_m;
static const char *const g_m_names[] = {"cos", "sqrt"};

static void test_dynlib_loads_and_fills_table(void **state)
{
    (void)state;
    vx_error e;
    assert_false(vx__dynlib_loaded(&g_libm));
    assert_int_equal(vx__dynlib_load(&g_libm, g_m_names, 2, (void **)(void *)&g_m, &e), VX_OK);
    assert_true(vx__dynlib_loaded(&g_libm));
    assert_non_null(g_m.cos);
    assert_true(g_m.cos(0.0) == 1.0);
    assert_true(g_m.sqrt(16.0) == 4.0);
    /* loaded once: a second call is a no-op and succeeds */
    g_m.cos = NULL;
    assert_int_equal(vx__dynlib_load(&g_libm, g_m_names, 2, (void **)(void *)&g_m, NULL), VX_OK);
    assert_null(g_m.cos);
}

static void test_dynlib_missing_library_is_clear_and_sticky(void **state)
{
    (void)state;
    static vx__dynlib lib = VX__DYNLIB_INIT("libvoxclone-no-such-library.so.9");
    void *p = NULL;
    const char *const names[] = {"anything"};
    vx_error e;
    assert_int_equal(vx__dynlib_load(&lib, names, 1, &p, &e), VX_EUNAVAIL);
    assert_int_equal(e.code, VX_EUNAVAIL);
    assert_non_null(strstr(e.message, "cannot load libvoxclone-no-such-library.so.9"));
    assert_false(vx__dynlib_loaded(&lib));
    vx_error e2;
    assert_int_equal(vx__dynlib_load(&lib, names, 1, &p, &e2), VX_EUNAVAIL);
    assert_string_equal(e2.message, e.message);
    assert_int_equal(vx__dynlib_load(&lib, names, 1, &p, NULL), VX_EUNAVAIL);
    assert_null(p);
}

static void test_dynlib_missing_symbol(void **state)
{
    (void)state;
    static vx__dynlib lib = VX__DYNLIB_INIT("libm.so.6");
    void *slots[2] = {NULL, NULL};
    const char *const names[] = {"cos", "vx_no_such_symbol_in_libm"};
    vx_error e;
    assert_int_equal(vx__dynlib_load(&lib, names, 2, slots, &e), VX_EUNAVAIL);
    assert_non_null(strstr(e.message, "libm.so.6 has no symbol vx_no_such_symbol_in_libm"));
    assert_false(vx__dynlib_loaded(&lib));
    assert_null(slots[1]);
}

static void test_dynlib_argument_misuse(void **state)
{
    (void)state;
    static vx__dynlib nameless = VX__DYNLIB_INIT(NULL);
    vx_error e;
    void *slot = NULL;
    assert_int_equal(vx__dynlib_load(NULL, NULL, 0, NULL, &e), VX_EINVAL);
    assert_int_equal(vx__dynlib_load(&nameless, NULL, 0, NULL, &e), VX_EINVAL);
    assert_int_equal(vx__dynlib_load(&g_libm, NULL, 1, &slot, &e), VX_EINVAL);
    assert_int_equal(vx__dynlib_load(&g_libm, g_m_names, 1, NULL, &e), VX_EINVAL);
    assert_int_equal(e.code, VX_EINVAL);
    assert_false(vx__dynlib_loaded(NULL));
}

static vx__dynlib g_race = VX__DYNLIB_INIT("libm.so.6");
static double (*g_race_floor)(double);
static const char *const g_race_names[] = {"floor"};

static void *load_thread(void *arg)
{
    (void)arg;
    if (vx__dynlib_load(&g_race, g_race_names, 1, (void **)(void *)&g_race_floor, NULL) != VX_OK)
        return NULL;
    /* whoever sees "loaded" sees the filled table */
    return g_race_floor(2.5) == 2.0 ? (void *)1 : NULL;
}

static void test_dynlib_threads(void **state)
{
    (void)state;
    void *ok[8];
    run_threads(load_thread, 8, ok);
    for (int i = 0; i < 8; i++)
        assert_non_null(ok[i]);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_strerror_names),
        cmocka_unit_test(test_error_set_truncates_and_returns_code),
        cmocka_unit_test(test_shared_plans),
        cmocka_unit_test(test_shared_plans_threads),
        cmocka_unit_test(test_fftw_wisdom),
        cmocka_unit_test(test_dynlib_loads_and_fills_table),
        cmocka_unit_test(test_dynlib_missing_library_is_clear_and_sticky),
        cmocka_unit_test(test_dynlib_missing_symbol),
        cmocka_unit_test(test_dynlib_argument_misuse),
        cmocka_unit_test(test_dynlib_threads),
    };
    return cmocka_run_group_tests_name("core", tests, NULL, NULL);
}
