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
#include <string.h>

#include "analysis/json_internal.h"
#include "core/error.h"

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

static double num_or_nan(const json_t *o, const char *key)
{
    const json_t *v = json_object_get(o, key);
    return json_is_number(v) ? json_number_value(v) : NAN;
}

/* Reads back what vx__analysis_json wrote (without frames), so a stored
 * profile can be compared without re-analysing its audio.  Values were
 * printed with 12 significant digits: similarities computed from a parsed
 * analysis agree with the original to ~1e-11. */
int vx_analysis_from_json(const char *json, size_t len, vx_analysis **out, vx_error *err)
{
    if (out)
        *out = NULL;
    if (!json || !out)
        return vx__error_set(err, VX_EINVAL, "analysis JSON: NULL argument");
    json_error_t je;
    json_t *j = json_loadb(json, len, JSON_REJECT_DUPLICATES, &je);
    if (!j || !json_is_object(j)) {
        json_decref(j);
        return vx__error_set(err, VX_EINVAL, "analysis JSON: %s", j ? "not an object" : je.text);
    }
    vx_analysis *a = calloc(1, sizeof *a);
    if (!a) {
        json_decref(j);
        return vx__error_set(err, VX_ENOMEM, "analysis JSON: out of memory");
    }
    const json_t *pitch = json_object_get(j, "pitch");
    const json_t *spec = json_object_get(j, "spectral");
    if (!json_is_object(pitch) || !json_is_object(spec) ||
        !json_is_number(json_object_get(pitch, "mean_hz")) ||
        !json_is_number(json_object_get(spec, "centroid_mean_hz"))) {
        json_decref(j);
        free(a);
        return vx__error_set(err, VX_EINVAL,
                             "analysis JSON: missing pitch.mean_hz or spectral.centroid_mean_hz");
    }
    a->pitch_mean_hz = num_or_nan(pitch, "mean_hz");
    a->pitch_std_hz = num_or_nan(pitch, "std_hz");
    a->pitch_min_hz = num_or_nan(pitch, "min_hz");
    a->pitch_max_hz = num_or_nan(pitch, "max_hz");
    const json_t *nv = json_object_get(pitch, "n_voiced");
    a->n_voiced = json_is_integer(nv) && json_integer_value(nv) > 0 ? (size_t)json_integer_value(nv) : 0;
    a->voice_type = vx_voice_type(a->pitch_mean_hz);
    a->centroid_mean_hz = num_or_nan(spec, "centroid_mean_hz");
    const json_t *coef = json_object_get(json_object_get(j, "mfcc"), "coefficients");
    if (json_is_array(coef) && json_array_size(coef) == VX_N_MFCC) {
        a->has_mfcc = 1;
        for (int k = 0; k < VX_N_MFCC; k++)
            a->mfcc_mean[k] = (float)json_number_value(json_array_get(coef, (size_t)k));
    }
    const json_t *m = json_object_get(j, "metrics");
    if (json_is_object(m)) {
        a->has_metrics = 1;
        a->metrics.jitter_local_pct = num_or_nan(m, "jitter_local_pct");
        a->metrics.shimmer_local_pct = num_or_nan(m, "shimmer_local_pct");
        a->metrics.hnr_db = num_or_nan(m, "hnr_db");
        const json_t *fm = json_object_get(m, "formants_hz");
        for (int k = 0; k < 3; k++) {
            const json_t *v = json_array_get(fm, (size_t)k);
            a->metrics.formant_hz[k] = json_is_number(v) ? json_number_value(v) : NAN;
        }
        a->metrics.voiced_ratio = num_or_nan(m, "voiced_ratio");
        a->metrics.speaking_rate_syl_s = num_or_nan(m, "speaking_rate_syl_per_s");
        a->metrics.loudness_lufs = num_or_nan(m, "loudness_lufs");
    }
    const json_t *vp = json_object_get(json_object_get(j, "voiceprint"), "vector");
    if (json_is_array(vp) && json_array_size(vp) == VX_VOICEPRINT_DIM) {
        a->has_voiceprint = 1;
        for (int k = 0; k < VX_VOICEPRINT_DIM; k++)
            a->voiceprint[k] = (float)json_number_value(json_array_get(vp, (size_t)k));
        const char *ver = json_string_value(json_object_get(json_object_get(j, "voiceprint"), "version"));
        a->voiceprint_version = (ver && strcmp(ver, "vxvp-1") == 0) ? "vxvp-1" : "unknown";
    }
    const char *pm = json_string_value(json_object_get(j, "pitch_mode"));
    a->pitch_mode = (pm && strcmp(pm, "accurate") == 0) ? VX_PITCH_ACCURATE : VX_PITCH_LIBROSA;
    a->duration_s = num_or_nan(j, "duration_seconds");
    const json_t *sr = json_object_get(j, "sample_rate");
    a->sample_rate_hz = json_is_integer(sr) ? (int)json_integer_value(sr) : 22050;
    const json_t *nf = json_object_get(j, "n_frames");
    a->n_frames = json_is_integer(nf) && json_integer_value(nf) > 0 ? (size_t)json_integer_value(nf) : 0;
    json_decref(j);
    *out = a;
    return VX_OK;
}
