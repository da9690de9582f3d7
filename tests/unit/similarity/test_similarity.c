/*
 * test_similarity.c -- the seed formula (SPEC section 3) on hand-computed
 * answers, its edge cases and argument misuse.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "voxclone/voxclone.h"

static vx_analysis make(double pitch, double centroid, const float *mfcc)
{
    vx_analysis a;
    memset(&a, 0, sizeof a);
    a.pitch_mean_hz = pitch;
    a.centroid_mean_hz = centroid;
    a.voice_type = vx_voice_type(pitch);
    if (mfcc) {
        a.has_mfcc = 1;
        memcpy(a.mfcc_mean, mfcc, sizeof a.mfcc_mean);
    }
    return a;
}

static void test_known_answer(void **state)
{
    (void)state;
    float m1[VX_N_MFCC] = {1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0};
    float m2[VX_N_MFCC] = {0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0};
    vx_analysis o = make(200.0, 2000.0, m1), c = make(150.0, 2500.0, m2);
    vx_similarity s;
    assert_int_equal(vx_similarity_compute(&o, &c, &s), VX_OK);
    assert_true(fabs(s.pitch_similarity - 0.75) < 1e-12);      /* 1 - 50/200 */
    assert_true(fabs(s.brightness_similarity - 0.75) < 1e-12); /* 1 - 500/2000 */
    assert_true(fabs(s.mfcc_similarity - 0.5) < 1e-9);         /* orthogonal: (0+1)/2 */
    assert_true(fabs(s.overall - (0.3 * 0.75 + 0.3 * 0.75 + 0.4 * 0.5)) < 1e-9);
}

static void test_identical_and_opposite(void **state)
{
    (void)state;
    float m[VX_N_MFCC], neg[VX_N_MFCC];
    for (int k = 0; k < VX_N_MFCC; k++) {
        m[k] = (float)(k * 3 - 20);
        neg[k] = -m[k];
    }
    vx_analysis o = make(120.0, 1500.0, m), c = make(120.0, 1500.0, m);
    vx_similarity s;
    vx_similarity_compute(&o, &c, &s);
    assert_true(fabs(s.overall - 1.0) < 1e-9);
    c = make(120.0, 1500.0, neg);
    vx_similarity_compute(&o, &c, &s);
    assert_true(fabs(s.mfcc_similarity) < 1e-9);
    /* far pitch and brightness clamp at 0 */
    c = make(400.0, 9000.0, m);
    vx_similarity_compute(&o, &c, &s);
    assert_true(s.pitch_similarity == 0.0);
    assert_true(s.brightness_similarity == 0.0);
}

static void test_edge_cases(void **state)
{
    (void)state;
    float m[VX_N_MFCC] = {0};
    vx_analysis o = make(0.0, 0.0, NULL), c = make(100.0, 1000.0, NULL);
    vx_similarity s;
    vx_similarity_compute(&o, &c, &s);
    assert_true(s.pitch_similarity == 0.0);      /* original unvoiced */
    assert_true(s.brightness_similarity == 0.0); /* b_orig == 0 */
    assert_true(s.mfcc_similarity == 0.5);       /* no MFCC on a side */
    /* brightness below 1 Hz divides by 1 */
    o = make(100.0, 0.5, m);
    c = make(100.0, 1.0, m);
    vx_similarity_compute(&o, &c, &s);
    assert_true(fabs(s.brightness_similarity - 0.5) < 1e-12);
    /* zero vectors: cosine 0 thanks to the 1e-10 -> 0.5 */
    assert_true(fabs(s.mfcc_similarity - 0.5) < 1e-12);
    assert_true(vx_mfcc_similarity(NULL, m, VX_N_MFCC) == 0.5);
    assert_true(vx_mfcc_similarity(m, m, 0) == 0.5);
}

static void test_json(void **state)
{
    (void)state;
    float m[VX_N_MFCC] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13};
    vx_analysis o = make(200.0, 2000.0, m), c = make(100.0, 2000.0, m);
    vx_similarity s;
    vx_similarity_compute(&o, &c, &s);
    char *j = vx_similarity_to_json(&s, &o, &c);
    assert_non_null(j);
    const char *keys[] = {"\"pitch_similarity\":0.5", "\"brightness_similarity\":1.0",
                          "\"mfcc_similarity\"", "\"overall\"", "\"overall_similarity\"",
                          "\"quality_alert\":false", "\"original_metrics\":{", "\"cloned_metrics\":{"};
    for (size_t k = 0; k < sizeof keys / sizeof keys[0]; k++)
        assert_non_null(strstr(j, keys[k]));
    free(j);
    j = vx_similarity_to_json(&s, NULL, NULL);
    assert_null(strstr(j, "original_metrics"));
    free(j);
    assert_null(vx_similarity_to_json(NULL, NULL, NULL));
}

static void test_misuse(void **state)
{
    (void)state;
    vx_analysis o = make(1, 1, NULL);
    vx_similarity s;
    assert_int_equal(vx_similarity_compute(NULL, &o, &s), VX_EINVAL);
    assert_int_equal(vx_similarity_compute(&o, NULL, &s), VX_EINVAL);
    assert_int_equal(vx_similarity_compute(&o, &o, NULL), VX_EINVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_known_answer), cmocka_unit_test(test_identical_and_opposite),
        cmocka_unit_test(test_edge_cases),   cmocka_unit_test(test_json),
        cmocka_unit_test(test_misuse),
    };
    return cmocka_run_group_tests_name("similarity", tests, NULL, NULL);
}
