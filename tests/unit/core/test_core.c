/*
 * test_core.c -- status codes and error detail.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include "core/error.h"
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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_strerror_names),
        cmocka_unit_test(test_error_set_truncates_and_returns_code),
    };
    return cmocka_run_group_tests_name("core", tests, NULL, NULL);
}
