/*
 * test_core.c -- status codes and error detail; the shared FFTW plans.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <pthread.h>
#include <string.h>

#include <cmocka.h>

#include "core/error.h"
#include "core/fftw_lock.h"
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

static void *plan_thread(void *arg)
{
    (void)arg;
    return (void *)vx__fftwf_plan_shared_r2c(512);
}

/* Threads asking for the same new shape at once all get the one plan. */
static void test_shared_plans_threads(void **state)
{
    (void)state;
    pthread_t th[4];
    void *got[4];
    for (int i = 0; i < 4; i++)
        assert_int_equal(pthread_create(&th[i], NULL, plan_thread, NULL), 0);
    for (int i = 0; i < 4; i++)
        assert_int_equal(pthread_join(th[i], &got[i]), 0);
    assert_non_null(got[0]);
    for (int i = 1; i < 4; i++)
        assert_ptr_equal(got[i], got[0]);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_strerror_names),
        cmocka_unit_test(test_error_set_truncates_and_returns_code),
        cmocka_unit_test(test_shared_plans),
        cmocka_unit_test(test_shared_plans_threads),
    };
    return cmocka_run_group_tests_name("core", tests, NULL, NULL);
}
