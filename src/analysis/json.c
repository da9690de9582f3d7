/*
 * json.c -- the analysis JSON of SPEC section 2.
 *
 * DESIGN: field names are the old service's contract, so they live in one
 * place; the aliases (pitch_hz, pitch_std, brightness, duration) are written
 * from the same values as the nested fields so they can never disagree.
 * Reals are printed with 12 significant digits (well below float32/f0-grid
 * resolution of the data) to keep --frames output compact.
 */
#include <math.h>
#include <stdlib.h>

#include "analysis/json_internal.h"

char *vx__json_dump(const json_t *j)
{
    return json_dumps(j, JSON_COMPACT | JSON_REAL_PRECISION(12) | JSON_PRESERVE_ORDER);
}

static json_t *real_or_null(double x)
{
    return isfinite(x) ? json_real(x) : json_null();
}

json_t *vx__analysis_json(const vx_analysis *a, unsigned flags)
{
    json_t *j = json_object();
    json_t *pitch = json_object();
    json_object_set_new(pitch, "mean_hz", json_real(a->pitch_mean_hz));
    json_object_set_new(pitch, "std_hz", json_real(a->pitch_std_hz));
    json_object_set_new(pitch, "min_hz", json_real(a->pitch_min_hz));
    json_object_set_new(pitch, "max_hz", json_real(a->pitch_max_hz));
    json_object_set_new(pitch, "n_voiced", json_integer((json_int_t)a->n_voiced));
    json_object_set_new(j, "pitch", pitch);
    json_object_set_new(j, "voice_type", json_string(a->voice_type ? a->voice_type : "unknown"));
    json_t *spec = json_object();
    json_object_set_new(spec, "centroid_mean_hz", json_real(a->centroid_mean_hz));
    json_object_set_new(spec, "brightness", json_real(a->centroid_mean_hz));
    json_object_set_new(j, "spectral", spec);
    if ((flags & VX_JSON_DETAILED) && a->has_mfcc) {
        json_t *m = json_object(), *c = json_array();
        for (int k = 0; k < VX_N_MFCC; k++)
            json_array_append_new(c, json_real(a->mfcc_mean[k]));
        json_object_set_new(m, "coefficients", c);
        json_object_set_new(j, "mfcc", m);
    } else {
        json_object_set_new(j, "mfcc", json_null());
    }
    if ((flags & VX_JSON_DETAILED) && a->has_metrics) {
        const vx_voice_metrics *m = &a->metrics;
        json_t *o = json_object(), *fm = json_array();
        json_object_set_new(o, "jitter_local_pct", real_or_null(m->jitter_local_pct));
        json_object_set_new(o, "shimmer_local_pct", real_or_null(m->shimmer_local_pct));
        json_object_set_new(o, "hnr_db", real_or_null(m->hnr_db));
        for (int k = 0; k < 3; k++)
            json_array_append_new(fm, real_or_null(m->formant_hz[k]));
        json_object_set_new(o, "formants_hz", fm);
        json_object_set_new(o, "voiced_ratio", real_or_null(m->voiced_ratio));
        json_object_set_new(o, "speaking_rate_syl_per_s", real_or_null(m->speaking_rate_syl_s));
        json_object_set_new(o, "loudness_lufs", real_or_null(m->loudness_lufs));
        json_object_set_new(o, "loudness_unit", json_string("LUFS"));
        json_object_set_new(j, "metrics", o);
    }
    if ((flags & VX_JSON_DETAILED) && a->has_voiceprint) {
        json_t *o = json_object(), *v = json_array();
        json_object_set_new(o, "version", json_string(a->voiceprint_version ? a->voiceprint_version : ""));
        json_object_set_new(o, "dim", json_integer(VX_VOICEPRINT_DIM));
        for (int k = 0; k < VX_VOICEPRINT_DIM; k++)
            json_array_append_new(v, json_real(a->voiceprint[k]));
        json_object_set_new(o, "vector", v);
        json_object_set_new(j, "voiceprint", o);
    }
    json_object_set_new(j, "pitch_mode",
                        json_string(a->pitch_mode == VX_PITCH_ACCURATE ? "accurate" : "librosa"));
    json_object_set_new(j, "duration_seconds", json_real(a->duration_s));
    json_object_set_new(j, "sample_rate", json_integer(a->sample_rate_hz));
    json_object_set_new(j, "n_frames", json_integer((json_int_t)a->n_frames));
    /* aliases kept for old clients */
    json_object_set_new(j, "pitch_hz", json_real(a->pitch_mean_hz));
    json_object_set_new(j, "pitch_std", json_real(a->pitch_std_hz));
    json_object_set_new(j, "brightness", json_real(a->centroid_mean_hz));
    json_object_set_new(j, "duration", json_real(a->duration_s));
    if ((flags & VX_JSON_FRAMES) && a->frames) {
        const vx_frames *fr = a->frames;
        json_t *o = json_object(), *t = json_array(), *f0 = json_array(), *vf = json_array(),
               *vp = json_array(), *ce = json_array(), *mf = json_array();
        for (size_t i = 0; i < fr->n; i++) {
            json_array_append_new(t, json_real(fr->times_s[i]));
            json_array_append_new(f0, real_or_null(fr->f0_hz[i]));
            json_array_append_new(vf, json_boolean(fr->voiced_flag[i]));
            json_array_append_new(vp, json_real(fr->voiced_prob[i]));
            json_array_append_new(ce, json_real(fr->centroid_hz[i]));
            json_t *row = json_array();
            for (int k = 0; k < VX_N_MFCC; k++)
                json_array_append_new(row, json_real(fr->mfcc[i * VX_N_MFCC + k]));
            json_array_append_new(mf, row);
        }
        json_object_set_new(o, "times", t);
        json_object_set_new(o, "f0", f0);
        json_object_set_new(o, "voiced_flag", vf);
        json_object_set_new(o, "voiced_prob", vp);
        json_object_set_new(o, "centroid", ce);
        json_object_set_new(o, "mfcc", mf);
        json_object_set_new(j, "frames", o);
    }
    return j;
}

char *vx_analysis_to_json(const vx_analysis *a, unsigned flags)
{
    if (!a)
        return NULL;
    json_t *j = vx__analysis_json(a, flags);
    if (!j)
        return NULL;
    char *s = vx__json_dump(j);
    json_decref(j);
    return s;
}
