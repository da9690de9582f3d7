/*
 * seed.c -- the old service's similarity formula (SPEC section 3), kept
 * bit-for-bit in meaning so stored scores and the 0.7 alert line keep theirs.
 *
 * DESIGN: pure functions of two analyses; no allocation except the JSON.
 */
#include <math.h>
#include <stdlib.h>

#include "analysis/json_internal.h"
#include "voxclone/voxclone.h"

double vx_mfcc_similarity(const float *a, const float *b, size_t n)
{
    if (!a || !b || n == 0)
        return 0.5;
    double dot = 0.0, na = 0.0, nb = 0.0;
    for (size_t i = 0; i < n; i++) {
        dot += (double)a[i] * b[i];
        na += (double)a[i] * a[i];
        nb += (double)b[i] * b[i];
    }
    double cosine = dot / (sqrt(na) * sqrt(nb) + 1e-10);
    return (cosine + 1.0) / 2.0;
}

int vx_similarity_compute(const vx_analysis *o, const vx_analysis *c, vx_similarity *out)
{
    if (!o || !c || !out)
        return VX_EINVAL;
    double po = o->pitch_mean_hz, pc = c->pitch_mean_hz;
    if (po > 0.0 && pc > 0.0) {
        double s = 1.0 - fabs(po - pc) / po;
        out->pitch_similarity = s > 0.0 ? s : 0.0;
    } else {
        out->pitch_similarity = 0.0;
    }
    double bo = o->centroid_mean_hz, bc = c->centroid_mean_hz;
    if (bo > 0.0) {
        double s = 1.0 - fabs(bo - bc) / (bo > 1.0 ? bo : 1.0);
        out->brightness_similarity = s > 0.0 ? s : 0.0;
    } else {
        out->brightness_similarity = 0.0;
    }
    if (o->has_mfcc && c->has_mfcc)
        out->mfcc_similarity = vx_mfcc_similarity(o->mfcc_mean, c->mfcc_mean, VX_N_MFCC);
    else
        out->mfcc_similarity = 0.5;
    out->overall = 0.3 * out->pitch_similarity + 0.3 * out->brightness_similarity +
                   0.4 * out->mfcc_similarity;
    return VX_OK;
}

json_t *vx__similarity_json(const vx_similarity *s, const vx_analysis *o, const vx_analysis *c)
{
    json_t *j = json_object();
    if (!j)
        return NULL;
    json_object_set_new(j, "pitch_similarity", json_real(s->pitch_similarity));
    json_object_set_new(j, "brightness_similarity", json_real(s->brightness_similarity));
    json_object_set_new(j, "mfcc_similarity", json_real(s->mfcc_similarity));
    json_object_set_new(j, "overall", json_real(s->overall));
    json_object_set_new(j, "overall_similarity", json_real(s->overall));
    json_object_set_new(j, "quality_alert", json_boolean(s->overall < 0.7));
    if (o && c && o->has_voiceprint && c->has_voiceprint)
        json_object_set_new(j, "voiceprint_similarity",
                            json_real(vx_voiceprint_similarity(o->voiceprint, c->voiceprint)));
    if (o)
        json_object_set_new(j, "original_metrics", vx__analysis_json(o, 0));
    if (c)
        json_object_set_new(j, "cloned_metrics", vx__analysis_json(c, 0));
    return j;
}

char *vx_similarity_to_json(const vx_similarity *s, const vx_analysis *o, const vx_analysis *c)
{
    if (!s)
        return NULL;
    json_t *j = vx__similarity_json(s, o, c);
    if (!j)
        return NULL;
    char *txt = vx__json_dump(j);
    json_decref(j);
    return txt;
}

double vx_voiceprint_similarity(const float *a, const float *b)
{
    if (!a || !b)
        return 0.0;
    double dot = 0.0, na = 0.0, nb = 0.0;
    for (size_t i = 0; i < VX_VOICEPRINT_DIM; i++) {
        dot += (double)a[i] * b[i];
        na += (double)a[i] * a[i];
        nb += (double)b[i] * b[i];
    }
    if (na == 0.0 || nb == 0.0)
        return 0.0;
    return dot / (sqrt(na) * sqrt(nb));
}
