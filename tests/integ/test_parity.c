/*
 * test_parity.c -- acceptance 1 of the analysis core: every librosa 0.11
 * reference analysis in ../shared/fixtures/librosa must be reproduced.
 *
 * Per clip: same frame count; voiced/unvoiced agreement >= 99 % of frames;
 * where both are voiced, f0 within 1 cent on >= 99 % of frames; pitch mean
 * within 0.5 %; each mean MFCC within 0.05; centroid mean within 0.5 %.
 * Skips (and says so) when ../shared is not there.
 */
#include <dirent.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "voxclone/voxclone.h"

static const char *shared_dir(void)
{
    const char *e = getenv("VX_SHARED_DIR");
    return e && *e ? e : VX_SHARED_DIR;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

typedef struct clip_result {
    int ok;
    double voicing_agree, f0_within, pitch_rel, mfcc_maxdiff, centroid_rel, vprob_maxdiff;
} clip_result;

static clip_result check_clip(const char *fixture_path, const char *name)
{
    clip_result r = {0};
    json_error_t je;
    json_t *fx = json_load_file(fixture_path, 0, &je);
    assert_non_null(fx);
    const char *file = json_string_value(json_object_get(fx, "file"));
    assert_non_null(file);
    /* "shared/evaldata/..." is relative to the parent of shared/ */
    const char *rel = strncmp(file, "shared/", 7) == 0 ? file + 7 : file;
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", shared_dir(), rel);

    vx_analysis_opts o;
    vx_analysis_opts_init(&o);
    o.keep_frames = 1;
    vx_analysis *a = NULL;
    vx_error e;
    int rc = vx_analyze_file(path, &o, &a, &e);
    if (rc != VX_OK)
        fprintf(stderr, "%s: %s\n", path, e.message);
    assert_int_equal(rc, VX_OK);

    size_t n = (size_t)json_integer_value(json_object_get(fx, "n_frames"));
    json_t *f0 = json_object_get(fx, "f0"), *vf = json_object_get(fx, "voiced_flag"),
           *vp = json_object_get(fx, "voiced_prob");
    int frames_ok = a->n_frames == n;
    size_t agree = 0, both = 0, within = 0;
    double vpd = 0.0;
    for (size_t i = 0; frames_ok && i < n; i++) {
        int lv = json_is_true(json_array_get(vf, i));
        int cv = a->frames->voiced_flag[i];
        agree += lv == cv;
        double d = fabs(json_real_value(json_array_get(vp, i)) - a->frames->voiced_prob[i]);
        vpd = d > vpd ? d : vpd;
        if (lv && cv) {
            both++;
            double lf = json_real_value(json_array_get(f0, i));
            double cents = 1200.0 * fabs(log2(a->frames->f0_hz[i] / lf));
            within += cents <= 1.0;
        }
    }
    r.vprob_maxdiff = vpd;
    r.voicing_agree = n ? (double)agree / (double)n : 0.0;
    r.f0_within = both ? (double)within / (double)both : 1.0;
    json_t *p = json_object_get(fx, "pitch");
    double lmean = json_real_value(json_object_get(p, "mean"));
    r.pitch_rel = lmean > 0 ? fabs(a->pitch_mean_hz - lmean) / lmean : fabs(a->pitch_mean_hz);
    json_t *mm = json_object_get(fx, "mfcc_mean");
    for (int k = 0; k < VX_N_MFCC; k++) {
        double d = fabs(a->mfcc_mean[k] - json_real_value(json_array_get(mm, (size_t)k)));
        r.mfcc_maxdiff = d > r.mfcc_maxdiff ? d : r.mfcc_maxdiff;
    }
    double lc = json_real_value(json_object_get(fx, "spectral_centroid_mean"));
    r.centroid_rel = fabs(a->centroid_mean_hz - lc) / lc;
    r.ok = frames_ok && r.voicing_agree >= 0.99 && r.f0_within >= 0.99 && r.pitch_rel <= 0.005 &&
           r.mfcc_maxdiff <= 0.05 && r.centroid_rel <= 0.005;
    printf("%-28s frames %5zu/%5zu voicing %.4f f0<=1c %.4f pitch %.5f mfcc %.4f centroid %.5f "
           "vprob %.2g %s\n",
           name, a->n_frames, n, r.voicing_agree, r.f0_within, r.pitch_rel, r.mfcc_maxdiff,
           r.centroid_rel, vpd, r.ok ? "ok" : "FAIL");
    vx_analysis_free(a);
    json_decref(fx);
    return r;
}

static void test_parity_all_fixtures(void **state)
{
    (void)state;
    char dir[1024];
    snprintf(dir, sizeof dir, "%s/fixtures/librosa", shared_dir());
    DIR *d = opendir(dir);
    if (!d) {
        printf("SKIP parity: %s not found (../shared is not beside the checkout)\n", dir);
        skip();
    }
    char *names[512];
    size_t nn = 0;
    struct dirent *de;
    while ((de = readdir(d)) && nn < 512) {
        const char *s = strstr(de->d_name, ".librosa.json");
        if (s && s[13] == '\0')
            names[nn++] = strdup(de->d_name);
    }
    closedir(d);
    qsort(names, nn, sizeof names[0], cmp_str);
    const char *only = getenv("VX_PARITY_ONLY");
    size_t failed = 0, checked = 0;
    double worst_voicing = 1.0, worst_f0 = 1.0;
    for (size_t i = 0; i < nn; i++) {
        if (only && !strstr(names[i], only)) {
            free(names[i]);
            continue;
        }
        char path[1400];
        snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        clip_result r = check_clip(path, names[i]);
        checked++;
        failed += !r.ok;
        worst_voicing = r.voicing_agree < worst_voicing ? r.voicing_agree : worst_voicing;
        worst_f0 = r.f0_within < worst_f0 ? r.f0_within : worst_f0;
        free(names[i]);
    }
    printf("parity: %zu clips checked, %zu failed; worst voicing agreement %.4f, worst f0-within-1-cent %.4f\n",
           checked, failed, worst_voicing, worst_f0);
    assert_true(checked > 0);
    assert_int_equal(failed, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parity_all_fixtures),
    };
    return cmocka_run_group_tests_name("parity", tests, NULL, NULL);
}
