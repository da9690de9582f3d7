/*
 * routes_clone.c -- presets, per-user settings, text-to-speech in a
 * profile's voice (ours and the OpenAI-style route).
 *
 * DESIGN: a user's settings are stored as what they chose -- a preset name
 * plus overrides -- not as 14 resolved values, so a preset keeps its meaning
 * if its values are tuned later and the page can show what was overridden.
 * Validation is the settings module's (one place); this file only maps its
 * messages to the error shape with the field named.  Requests that refuse
 * something change nothing: the store is written only after the whole body
 * validated.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "net/server_internal.h"

int vx__h_presets(vx_server *s, vx__req *rq, vx__resp *rs)
{
    (void)s;
    (void)rq;
    char *t = vx_presets_to_json();
    if (!t)
        return vx__error(rs, 500, NULL, "out of memory");
    return vx__json_text(rs, 200, t);
}

void vx__settings_field(const char *m, char *field, size_t cap)
{
    /* "unknown setting 'foo' (...)", "unknown preset 'x'", "temperature = 2.5 is out of..." */
    const char *q = strstr(m, "unknown setting '");
    if (q) {
        q += strlen("unknown setting '");
        const char *e = strchr(q, '\'');
        if (e && (size_t)(e - q) < cap) {
            memcpy(field, q, (size_t)(e - q));
            field[e - q] = '\0';
            return;
        }
    }
    if (strstr(m, "preset")) {
        snprintf(field, cap, "preset");
        return;
    }
    size_t n = 0;
    while (m[n] && ((m[n] >= 'a' && m[n] <= 'z') || m[n] == '_'))
        n++;
    if (n > 0 && n < cap) {
        char name[64];
        if (n < sizeof name) {
            memcpy(name, m, n);
            name[n] = '\0';
            if (vx_param_from_name(name) >= 0) {
                snprintf(field, cap, "%s", name);
                return;
            }
        }
    }
    snprintf(field, cap, "settings");
}

/* Applies a JSON object of overrides to *st; on error fills rs (400). */
static int apply_overrides(vx__resp *rs, vx_settings *st, json_t *ov, const char *prefix)
{
    if (!ov)
        return 0;
    if (!json_is_object(ov))
        return vx__error(rs, 400, prefix, "'%s' must be a JSON object", prefix);
    char *t = json_dumps(ov, JSON_COMPACT);
    if (!t)
        return vx__error(rs, 500, NULL, "out of memory");
    vx_error e;
    int rc = vx_settings_apply_json(st, t, strlen(t), &e);
    free(t);
    if (rc != VX_OK) {
        char field[64];
        vx__settings_field(e.message, field, sizeof field);
        return vx__error(rs, 400, field, "%s", e.message);
    }
    return 0;
}

/* The stored choice of user: preset name and overrides (new refs). */
static int stored_choice(vx_server *s, vx__resp *rs, const char *user, char preset[32],
                         json_t **overrides, int *stored)
{
    snprintf(preset, 32, "%s", vx_preset_default_name());
    *overrides = json_object();
    *stored = 0;
    char *t = NULL;
    vx_error e;
    int rc = vx_store_settings_get(s->store, user, &t, &e);
    if (rc == VX_ENOTFOUND)
        return 0;
    if (rc != VX_OK)
        return vx__store_fail(s, rs, "settings_get", &e);
    json_t *j = json_loads(t, 0, NULL);
    free(t);
    if (j) {
        const char *p = json_string_value(json_object_get(j, "preset"));
        if (p)
            snprintf(preset, 32, "%s", p);
        json_t *o = json_object_get(j, "overrides");
        if (json_is_object(o)) {
            json_decref(*overrides);
            *overrides = json_incref(o);
        }
        json_decref(j);
        *stored = 1;
    }
    return 0;
}

int vx__user_settings(vx_server *s, const char *user, json_t *overrides, vx_settings *out,
                      vx__resp *rs)
{
    char preset[32];
    json_t *ov = NULL;
    int stored = 0;
    if (stored_choice(s, rs, user, preset, &ov, &stored))
        return rs->status;
    vx_settings st;
    if (vx_preset_get(preset, &st, NULL) != VX_OK)
        vx_settings_defaults(&st);
    if (apply_overrides(rs, &st, ov, "overrides")) {
        json_decref(ov);
        /* a stored choice that no longer validates: fall back to the preset */
        vx_preset_get(preset, &st, NULL);
    } else {
        json_decref(ov);
    }
    if (apply_overrides(rs, &st, overrides, "settings"))
        return rs->status;
    *out = st;
    return 0;
}

static json_t *settings_view(const char *user, const char *preset, json_t *overrides,
                             const vx_settings *eff, int stored)
{
    json_t *j = json_object();
    json_object_set_new(j, "user", json_string(user));
    json_object_set_new(j, "preset", json_string(preset));
    json_object_set_new(j, "overrides", json_incref(overrides));
    char *t = vx_settings_to_json(eff);
    json_t *e = t ? json_loads(t, 0, NULL) : NULL;
    free(t);
    json_object_set_new(j, "settings", e ? e : json_null());
    json_object_set_new(j, "stored", json_boolean(stored));
    return j;
}

int vx__h_settings_get(vx_server *s, vx__req *rq, vx__resp *rs)
{
    const char *user = rq->params[0];
    if (vx__may_access(rq, rs, user, "userId"))
        return rs->status;
    char preset[32];
    json_t *ov = NULL;
    int stored = 0;
    if (stored_choice(s, rs, user, preset, &ov, &stored))
        return rs->status;
    vx_settings eff;
    vx_preset_get(preset, &eff, NULL);
    vx__resp scratch = {0};
    if (apply_overrides(&scratch, &eff, ov, "overrides"))
        vx_preset_get(preset, &eff, NULL);
    free(scratch.body);
    json_t *j = settings_view(user, preset, ov, &eff, stored);
    json_decref(ov);
    return vx__json(rs, 200, j);
}

int vx__h_settings_put(vx_server *s, vx__req *rq, vx__resp *rs)
{
    const char *user = rq->params[0];
    if (vx__may_access(rq, rs, user, "userId"))
        return rs->status;
    json_t *body = NULL;
    if (vx__req_json(s, rq, rs, &body))
        return rs->status;
    json_t *pv = json_object_get(body, "preset");
    json_t *ov = json_object_get(body, "overrides");
    char preset[32];
    snprintf(preset, sizeof preset, "%s", vx_preset_default_name());
    if (pv) {
        if (!json_is_string(pv)) {
            json_decref(body);
            return vx__error(rs, 400, "preset", "'preset' must be a string (one of fast, balanced, "
                                                "high_quality, conversational, low_resource)");
        }
        vx_settings tmp;
        vx_error e;
        if (vx_preset_get(json_string_value(pv), &tmp, &e) != VX_OK) {
            json_decref(body);
            return vx__error(rs, 400, "preset", "%s", e.message);
        }
        snprintf(preset, sizeof preset, "%s", json_string_value(pv));
    }
    json_t *overrides;
    if (ov) {
        const char *k;
        json_t *v;
        json_object_foreach(body, k, v) {
            if (strcmp(k, "preset") != 0 && strcmp(k, "overrides") != 0) {
                vx__error(rs, 400, k, "unknown field '%s' (known: preset, overrides)", k);
                json_decref(body); /* k lives in body */
                return rs->status;
            }
        }
        if (!json_is_object(ov)) {
            json_decref(body);
            return vx__error(rs, 400, "overrides", "'overrides' must be a JSON object");
        }
        if (json_object_get(ov, "preset")) {
            json_decref(body);
            return vx__error(rs, 400, "preset", "put 'preset' beside 'overrides', not inside it");
        }
        overrides = json_incref(ov);
    } else { /* flat form: {"preset": ..., "temperature": ...} */
        overrides = json_deep_copy(body);
        json_object_del(overrides, "preset");
    }
    json_decref(body);
    vx_settings eff;
    vx_preset_get(preset, &eff, NULL);
    if (apply_overrides(rs, &eff, overrides, "overrides")) {
        json_decref(overrides);
        return rs->status;
    }
    json_t *stored = json_object();
    json_object_set_new(stored, "preset", json_string(preset));
    json_object_set(stored, "overrides", overrides);
    char *t = json_dumps(stored, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(stored);
    vx_error e;
    int rc = t ? vx_store_settings_put(s->store, user, t, &e)
               : vx__error_set(&e, VX_ENOMEM, "out of memory");
    free(t);
    if (rc != VX_OK) {
        json_decref(overrides);
        return vx__store_fail(s, rs, "settings_put", &e);
    }
    json_t *j = settings_view(user, preset, overrides, &eff, 1);
    json_decref(overrides);
    return vx__json(rs, 200, j);
}

/* ------------------------------------------------------------------ */
/* text to speech                                                      */
/* ------------------------------------------------------------------ */
int vx__check_language(vx__resp *rs, const char *lang, const char *field)
{
    char want[8];
    size_t n = 0;
    while (lang[n] && lang[n] != '-' && lang[n] != '_' && n < 3)
        n++;
    if (n >= 2 && n <= 3 && (lang[n] == '\0' || lang[n] == '-' || lang[n] == '_') &&
        strlen(lang) <= VX_STORE_MAX_LANG) {
        memcpy(want, lang, n);
        want[n] = '\0';
        const char *all = vx_clone_languages();
        const char *p = all;
        while ((p = strstr(p, want)) != NULL) {
            if ((p == all || p[-1] == ' ') && (p[n] == ' ' || p[n] == '\0'))
                return 0;
            p += n;
        }
    }
    return vx__error(rs, 400, field, "language '%.40s' is not supported (supported: %s)", lang,
                     vx_clone_languages());
}

int vx__latest_profile(vx_server *s, vx__resp *rs, const char *user, vx_profile *out)
{
    memset(out, 0, sizeof *out);
    vx_error e;
    int rc = vx_store_profile_get(s->store, user, 0, out, &e);
    if (rc == VX_ENOTFOUND)
        return vx__error(rs, 404, "user", "user '%s' has no voice profile: upload a sample first",
                         user);
    if (rc != VX_OK)
        return vx__store_fail(s, rs, "profile_get", &e);
    return 0;
}

/* Clones text in the latest profile of user (or profile prof when given)
 * and puts the audio in rs. */
static int speak(vx_server *s, vx__resp *rs, const vx_profile *prof, const char *lang,
                 const char *text, const vx_settings *st, uint64_t seed)
{
    const char *ll[] = {lang};
    vx_metrics_inc(s->metrics, "voxclone_clones_total", ll, 1);
    double t0 = vx__now_s();
    vx__clone_out o;
    vx_error e;
    int rc = vx__work_clone(s, prof, lang, text, st, seed, &o, &e);
    if (rc != VX_OK) {
        const char *lf[] = {lang, vx_status_name(rc)};
        vx_metrics_inc(s->metrics, "voxclone_clone_failures_total", lf, 1);
        return vx__error_from(rs, &e, rc == VX_EINVAL ? "text" : NULL);
    }
    vx_metrics_observe(s->metrics, "voxclone_clone_duration_seconds", ll, vx__now_s() - t0);
    vx__bytes(rs, 200, o.mp3 ? "audio/mpeg" : "audio/wav", o.audio, o.audio_len);
    char buf[160];
    vx__header(rs, "X-Voxclone-Engine", o.engine);
    vx__header(rs, "X-Voxclone-Profile", prof->id);
    snprintf(buf, sizeof buf, "%.3f", o.duration_s);
    vx__header(rs, "X-Voxclone-Duration-S", buf);
    snprintf(buf, sizeof buf, "%.1f", o.total_ms);
    vx__header(rs, "X-Voxclone-Time-Ms", buf);
    vx__header(rs, "X-Voxclone-Unused-Parameters", o.unused);
    vx__header(rs, "X-Voxclone-Adjusted-Parameters", o.adjusted);
    vx__header(rs, "X-Voxclone-Device", o.device);
    if (o.has_similarity) {
        vx_metrics_observe(s->metrics, "voxclone_similarity_overall", NULL, o.sim.overall);
        snprintf(buf, sizeof buf, "%.4f", o.sim.overall);
        vx__header(rs, "X-Voxclone-Similarity", buf);
        snprintf(buf, sizeof buf, "%.4f", o.vp_sim);
        vx__header(rs, "X-Voxclone-Voiceprint-Similarity", buf);
    }
    vx__clone_out_clear(&o);
    return 200;
}

static int get_text(vx_server *s, vx__resp *rs, json_t *body, const char *field,
                    const char **out)
{
    json_t *v = json_object_get(body, field);
    if (!v)
        return vx__error(rs, 400, field, "'%s' (the text to speak) is missing", field);
    if (!json_is_string(v))
        return vx__error(rs, 400, field, "'%s' must be a string", field);
    size_t n = json_string_length(v);
    if (n == 0)
        return vx__error(rs, 400, field, "'%s' is empty", field);
    if (n > s->o.max_text_bytes)
        return vx__error(rs, 422, field, "'%s' has %zu bytes; the limit is 1..%zu bytes", field, n,
                         s->o.max_text_bytes);
    if (strlen(json_string_value(v)) != n)
        return vx__error(rs, 400, field, "'%s' contains a NUL character", field);
    *out = json_string_value(v);
    return 0;
}

static int only_fields(vx__resp *rs, json_t *body, const char *const *known, size_t n)
{
    const char *k;
    json_t *v;
    json_object_foreach(body, k, v) {
        size_t i = 0;
        while (i < n && strcmp(k, known[i]) != 0)
            i++;
        if (i == n) {
            char list[300] = "";
            for (size_t j = 0; j < n; j++) {
                size_t l = strlen(list);
                snprintf(list + l, sizeof list - l, "%s%s", j ? ", " : "", known[j]);
            }
            return vx__error(rs, 400, k, "unknown field '%s' (known: %s)", k, list);
        }
    }
    return 0;
}

static int get_seed(vx__resp *rs, json_t *body, uint64_t *seed)
{
    json_t *v = json_object_get(body, "seed");
    *seed = 0;
    if (!v)
        return 0;
    if (!json_is_integer(v) || json_integer_value(v) < 0)
        return vx__error(rs, 400, "seed", "'seed' must be an integer in 0..9223372036854775807");
    *seed = (uint64_t)json_integer_value(v);
    return 0;
}

int vx__h_tts(vx_server *s, vx__req *rq, vx__resp *rs)
{
    json_t *body = NULL;
    if (vx__req_json(s, rq, rs, &body))
        return rs->status;
    static const char *const known[] = {"text", "language", "settings", "user", "seed"};
    const char *text = NULL, *lang = NULL, *user = rq->user;
    uint64_t seed = 0;
    json_t *lv = json_object_get(body, "language");
    json_t *uv = json_object_get(body, "user");
    json_t *sv = json_object_get(body, "settings");
    if (only_fields(rs, body, known, 5) || get_text(s, rs, body, "text", &text) ||
        get_seed(rs, body, &seed))
        goto out;
    if (!lv) {
        vx__error(rs, 400, "language", "'language' is missing (one of %s)", vx_clone_languages());
        goto out;
    }
    if (!json_is_string(lv)) {
        vx__error(rs, 400, "language", "'language' must be a string");
        goto out;
    }
    lang = json_string_value(lv);
    if (vx__check_language(rs, lang, "language"))
        goto out;
    if (uv) {
        if (!json_is_string(uv)) {
            vx__error(rs, 400, "user", "'user' must be a string");
            goto out;
        }
        user = json_string_value(uv);
        if (vx__may_access(rq, rs, user, "user"))
            goto out;
    }
    if (sv && !json_is_object(sv)) {
        vx__error(rs, 400, "settings", "'settings' must be a JSON object of overrides");
        goto out;
    }
    vx_settings st;
    if (vx__user_settings(s, user, sv, &st, rs))
        goto out;
    vx_profile p;
    if (vx__latest_profile(s, rs, user, &p))
        goto out;
    speak(s, rs, &p, lang, text, &st, seed);
    vx_profile_clear(&p);
out:
    json_decref(body);
    return rs->status;
}

int vx__h_speech(vx_server *s, vx__req *rq, vx__resp *rs)
{
    json_t *body = NULL;
    if (vx__req_json(s, rq, rs, &body))
        return rs->status;
    static const char *const known[] = {"model", "input", "voice", "response_format", "speed",
                                        "language", "settings", "seed"};
    const char *text = NULL, *lang = "en";
    uint64_t seed = 0;
    vx_profile p;
    memset(&p, 0, sizeof p);
    if (only_fields(rs, body, known, 8) || get_text(s, rs, body, "input", &text) ||
        get_seed(rs, body, &seed))
        goto out;
    json_t *mv = json_object_get(body, "model");
    if (!json_is_string(mv)) {
        vx__error(rs, 400, "model", "'model' is missing or not a string (use voxclone-1, tts-1 or "
                                    "tts-1-hd: all are the voxclone engine)");
        goto out;
    }
    const char *model = json_string_value(mv);
    if (strcmp(model, "voxclone-1") && strcmp(model, "tts-1") && strcmp(model, "tts-1-hd")) {
        vx__error(rs, 400, "model", "model '%.40s' is not available (voxclone-1, tts-1, tts-1-hd)",
                  model);
        goto out;
    }
    json_t *fv = json_object_get(body, "response_format");
    vx_audio_format fmt = VX_AUDIO_FORMAT_MP3; /* OpenAI's default */
    if (fv) {
        const char *f = json_string_value(fv);
        if (!f || (strcmp(f, "mp3") && strcmp(f, "wav"))) {
            vx__error(rs, 400, "response_format",
                      "response_format must be \"mp3\" or \"wav\" (opus, aac, flac and pcm are "
                      "not produced)");
            goto out;
        }
        fmt = strcmp(f, "wav") == 0 ? VX_AUDIO_FORMAT_WAV : VX_AUDIO_FORMAT_MP3;
    }
    json_t *spv = json_object_get(body, "speed");
    if (spv && (!json_is_number(spv) || json_number_value(spv) != 1.0)) {
        vx__error(rs, 400, "speed", "only speed 1.0 is supported: the speaking rate follows the "
                                    "voice (see the cfg_weight setting)");
        goto out;
    }
    json_t *lv = json_object_get(body, "language");
    if (lv) {
        if (!json_is_string(lv)) {
            vx__error(rs, 400, "language", "'language' must be a string");
            goto out;
        }
        lang = json_string_value(lv);
    }
    if (vx__check_language(rs, lang, "language"))
        goto out;
    json_t *vv = json_object_get(body, "voice");
    if (!json_is_string(vv) || json_string_length(vv) == 0) {
        vx__error(rs, 400, "voice", "'voice' (a profile id or a user name) is missing");
        goto out;
    }
    const char *voice = json_string_value(vv);
    vx_error e;
    int rc = strlen(voice) == VX_STORE_ID_LEN ? vx_store_profile_get_id(s->store, voice, &p, &e)
                                              : VX_ENOTFOUND;
    if (rc == VX_ENOTFOUND && vx_store_user_name_valid(voice))
        rc = vx_store_profile_get(s->store, voice, 0, &p, &e);
    if (rc == VX_ENOTFOUND) {
        vx__error(rs, 404, "voice", "no voice profile '%.64s'", voice);
        goto out;
    }
    if (rc != VX_OK) {
        vx__store_fail(s, rs, "profile_get", &e);
        goto out;
    }
    if (!rq->is_admin && strcmp(p.user, rq->user) != 0) {
        /* same answer as an unknown voice: a user learns nothing about
         * other users' names or profiles */
        vx__error(rs, 404, "voice", "no voice profile '%.64s'", voice);
        goto out;
    }
    json_t *sv = json_object_get(body, "settings");
    if (sv && !json_is_object(sv)) {
        vx__error(rs, 400, "settings", "'settings' must be a JSON object of overrides");
        goto out;
    }
    vx_settings st;
    if (vx__user_settings(s, p.user, sv, &st, rs))
        goto out;
    st.audio_format = fmt;
    speak(s, rs, &p, lang, text, &st, seed);
out:
    vx_profile_clear(&p);
    json_decref(body);
    return rs->status;
}
