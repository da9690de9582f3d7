/*
 * work.c -- the heavy work of the service (analysing audio, cloning a text),
 * run either in this process or on a worker over ZeroMQ (src/ipc/).
 *
 * DESIGN: one implementation per kind of work, used three ways: by the
 * server directly (no broker), by a worker process handling a task from
 * the gateway, and -- through vx__work_analyse / vx__work_clone -- by the
 * gateway, which sends the same request as a task.  The result travels as
 * the same struct either way (vx__clone_out, an analysis JSON), so the HTTP
 * handlers do not know where the work ran.  A task carries everything it
 * needs (the reference audio itself, the settings as JSON, the seed as a
 * decimal string so 64 bits survive JSON), so a worker needs no database
 * and no shared disk; it caches voices by the audio's SHA-256.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "net/server_internal.h"

#define ANALYSE_TIMEOUT_MS 120000
#define CLONE_TIMEOUT_MS 300000

/* ------------------------------------------------------------------ */
/* the work itself                                                     */
/* ------------------------------------------------------------------ */
int vx__analyse_local(const void *data, size_t len, int frames, double max_audio_s, char **json,
                      vx_error *err)
{
    vx_analysis_opts o;
    vx_analysis_opts_init(&o);
    o.detailed = !frames;
    o.keep_frames = frames;
    o.n_threads = 1;
    o.decode.max_duration_s = max_audio_s;
    vx_analysis *a = NULL;
    int rc = vx_analyze_memory(data, len, &o, &a, err);
    if (rc != VX_OK)
        return rc;
    *json = vx_analysis_to_json(a, frames ? VX_JSON_FRAMES : VX_JSON_DETAILED);
    vx_analysis_free(a);
    return *json ? VX_OK : vx__error_set(err, VX_ENOMEM, "out of memory");
}

static void mask_list(vx_param_mask m, char *buf, size_t cap)
{
    const char *names[16];
    size_t n = vx_param_mask_names(m, names, 16);
    buf[0] = '\0';
    for (size_t i = 0; i < n; i++) {
        size_t l = strlen(buf);
        snprintf(buf + l, cap - l, "%s%s", i ? "," : "", names[i]);
    }
}

int vx__clone_local(const vx_voice *voice, const char *lang, const char *text,
                    const vx_settings *st, uint64_t seed, vx__clone_out *out, vx_error *err)
{
    memset(out, 0, sizeof *out);
    vx_clone_result *r = NULL;
    int rc = vx_clone_text(voice, lang, text, st, seed, &r, err);
    if (rc != VX_OK)
        return rc;
    rc = vx_clone_result_encode(r, st->audio_format, &out->audio, &out->audio_len, err);
    if (rc != VX_OK) {
        vx_clone_result_free(r);
        return rc;
    }
    out->mp3 = st->audio_format == VX_AUDIO_FORMAT_MP3;
    snprintf(out->engine, sizeof out->engine, "%s", r->engine);
    snprintf(out->device, sizeof out->device, "%s", r->device);
    out->duration_s = r->duration_s;
    out->total_ms = r->total_ms;
    mask_list(r->unused, out->unused, sizeof out->unused);
    mask_list(r->adjusted, out->adjusted, sizeof out->adjusted);
    out->has_similarity = r->has_similarity;
    out->sim = r->similarity;
    out->vp_sim = r->voiceprint_similarity;
    vx_clone_result_free(r);
    return VX_OK;
}

void vx__clone_out_clear(vx__clone_out *o)
{
    if (o) {
        free(o->audio);
        memset(o, 0, sizeof *o);
    }
}

json_t *vx__clone_out_similarity_json(const vx__clone_out *o)
{
    if (!o->has_similarity)
        return NULL;
    json_t *j = json_object();
    json_object_set_new(j, "pitch_similarity", json_real(o->sim.pitch_similarity));
    json_object_set_new(j, "brightness_similarity", json_real(o->sim.brightness_similarity));
    json_object_set_new(j, "mfcc_similarity", json_real(o->sim.mfcc_similarity));
    json_object_set_new(j, "overall", json_real(o->sim.overall));
    json_object_set_new(j, "overall_similarity", json_real(o->sim.overall));
    json_object_set_new(j, "quality_alert", json_boolean(o->sim.overall < 0.7));
    json_object_set_new(j, "voiceprint_similarity", json_real(o->vp_sim));
    return j;
}

static char *clone_meta_json(const vx__clone_out *o)
{
    json_t *j = json_object();
    json_object_set_new(j, "engine", json_string(o->engine));
    json_object_set_new(j, "device", json_string(o->device));
    json_object_set_new(j, "duration_s", json_real(o->duration_s));
    json_object_set_new(j, "total_ms", json_real(o->total_ms));
    json_object_set_new(j, "unused", json_string(o->unused));
    json_object_set_new(j, "adjusted", json_string(o->adjusted));
    json_object_set_new(j, "mp3", json_boolean(o->mp3));
    json_t *sim = vx__clone_out_similarity_json(o);
    json_object_set_new(j, "similarity", sim ? sim : json_null());
    char *t = json_dumps(j, JSON_COMPACT | JSON_REAL_PRECISION(17));
    json_decref(j);
    return t;
}

static const char *str_or_empty(const json_t *v)
{
    const char *t = json_string_value(v);
    return t ? t : "";
}

static int clone_meta_parse(const char *text, vx__clone_out *o, vx_error *err)
{
    json_t *j = json_loads(text ? text : "", 0, NULL);
    if (!json_is_object(j)) {
        json_decref(j);
        return vx__error_set(err, VX_EINTERNAL, "worker reply is not a clone result");
    }
    snprintf(o->engine, sizeof o->engine, "%s", str_or_empty(json_object_get(j, "engine")));
    snprintf(o->device, sizeof o->device, "%s", str_or_empty(json_object_get(j, "device")));
    o->duration_s = json_number_value(json_object_get(j, "duration_s"));
    o->total_ms = json_number_value(json_object_get(j, "total_ms"));
    snprintf(o->unused, sizeof o->unused, "%s", str_or_empty(json_object_get(j, "unused")));
    snprintf(o->adjusted, sizeof o->adjusted, "%s",
             str_or_empty(json_object_get(j, "adjusted")));
    o->mp3 = json_is_true(json_object_get(j, "mp3"));
    json_t *sim = json_object_get(j, "similarity");
    if (json_is_object(sim)) {
        o->has_similarity = 1;
        o->sim.pitch_similarity = json_number_value(json_object_get(sim, "pitch_similarity"));
        o->sim.brightness_similarity = json_number_value(json_object_get(sim, "brightness_similarity"));
        o->sim.mfcc_similarity = json_number_value(json_object_get(sim, "mfcc_similarity"));
        o->sim.overall = json_number_value(json_object_get(sim, "overall"));
        o->vp_sim = json_number_value(json_object_get(sim, "voiceprint_similarity"));
    }
    json_decref(j);
    return VX_OK;
}

/* ------------------------------------------------------------------ */
/* worker side: a task in, a reply out                                 */
/* ------------------------------------------------------------------ */
struct vx__workctx {
    vx__voices *voices;
};

int vx__workctx_new(vx__workctx **out)
{
    vx__workctx *w = calloc(1, sizeof *w);
    if (!w || vx__voices_new(&w->voices) != VX_OK) {
        free(w);
        return VX_ENOMEM;
    }
    *out = w;
    return VX_OK;
}

void vx__workctx_free(vx__workctx *w)
{
    if (!w)
        return;
    vx__voices_free(w->voices);
    free(w);
}

typedef struct payload_build {
    const void *data;
    size_t len;
} payload_build;

static int build_from_payload(void *ud, vx_voice **out, vx_error *err)
{
    payload_build *p = ud;
    return vx_voice_from_memory(p->data, p->len, out, err);
}

int vx__work_handle(void *user, const vx_worker_task *t, vx_worker_reply *reply, vx_error *err)
{
    vx__workctx *w = user;
    json_t *args = json_loads(t->args_json ? t->args_json : "{}", 0, NULL);
    if (!json_is_object(args)) {
        json_decref(args);
        return vx__error_set(err, VX_EINVAL, "task arguments are not a JSON object");
    }
    int rc;
    if (t->n_frames < 1 || !t->frames[0].data || t->frames[0].len == 0) {
        rc = vx__error_set(err, VX_EINVAL, "task '%s' carries no audio", t->kind);
    } else if (strcmp(t->kind, "analyse") == 0) {
        double max_s = json_number_value(json_object_get(args, "max_audio_s"));
        char *json = NULL;
        rc = vx__analyse_local(t->frames[0].data, t->frames[0].len,
                               json_is_true(json_object_get(args, "frames")),
                               max_s > 0 ? max_s : 600.0, &json, err);
        if (rc == VX_OK) { /* the analysis travels as a payload frame: with per-frame
                            * tracks it exceeds the 64 KiB header limit */
            reply->n_frames = 1;
            reply->frame_data[0] = json;
            reply->frame_len[0] = strlen(json);
        }
    } else if (strcmp(t->kind, "clone") == 0) {
        const char *lang = json_string_value(json_object_get(args, "language"));
        const char *text = json_string_value(json_object_get(args, "text"));
        const char *seed_s = json_string_value(json_object_get(args, "seed"));
        const char *key = json_string_value(json_object_get(args, "voice"));
        json_t *sv = json_object_get(args, "settings");
        vx_settings st;
        vx_settings_defaults(&st);
        char *stxt = sv ? json_dumps(sv, JSON_COMPACT) : NULL;
        if (!lang || !text || !seed_s || !key || !stxt) {
            rc = vx__error_set(err, VX_EINVAL, "clone task: language, text, seed, voice and "
                                               "settings are required");
        } else if ((rc = vx_settings_apply_json(&st, stxt, strlen(stxt), err)) == VX_OK) {
            uint64_t seed = strtoull(seed_s, NULL, 10);
            payload_build pb = {t->frames[0].data, t->frames[0].len};
            const vx_voice *voice = NULL;
            vx_voice *own = NULL;
            if (st.enable_caching)
                rc = vx__voices_acquire(w->voices, key, build_from_payload, &pb, &voice, err);
            else
                rc = build_from_payload(&pb, &own, err), voice = own;
            if (rc == VX_OK) {
                vx_worker_progress(t, 0.1, "cloning");
                vx__clone_out o;
                rc = vx__clone_local(voice, lang, text, &st, seed, &o, err);
                if (own)
                    vx_voice_free(own);
                else
                    vx__voices_release(w->voices, voice);
                if (rc == VX_OK) {
                    reply->result_json = clone_meta_json(&o);
                    reply->n_frames = 1;
                    reply->frame_data[0] = o.audio;
                    reply->frame_len[0] = o.audio_len;
                    o.audio = NULL;
                    if (!reply->result_json)
                        rc = vx__error_set(err, VX_ENOMEM, "out of memory");
                }
                vx__clone_out_clear(&o);
            }
        }
        free(stxt);
    } else {
        rc = vx__error_set(err, VX_EINVAL, "unknown task kind '%s' (analyse, clone)", t->kind);
    }
    json_decref(args);
    return rc;
}

/* ------------------------------------------------------------------ */
/* gateway side                                                        */
/* ------------------------------------------------------------------ */
/* 1 (err: EUNAVAIL) when work goes to workers and none is connected. */
static int no_worker(vx_server *s, vx_error *err)
{
    if (!s->broker || vx_broker_workers(s->broker) > 0)
        return 0;
    vx__error_set(err, VX_EUNAVAIL, "no worker is connected: audio work cannot run now");
    return 1;
}

int vx__work_unavailable(vx_server *s, vx__resp *rs)
{
    vx_error e;
    return no_worker(s, &e) ? vx__error_from(rs, &e, NULL) : 0; /* 503 + Retry-After */
}


int vx__work_analyse(vx_server *s, const void *data, size_t len, int frames, char **json,
                     vx_error *err)
{
    if (!s->broker)
        return vx__analyse_local(data, len, frames, s->o.max_audio_s, json, err);
    if (no_worker(s, err))
        return VX_EUNAVAIL;
    char args[96];
    snprintf(args, sizeof args, "{\"frames\":%s,\"max_audio_s\":%.17g}", frames ? "true" : "false",
             s->o.max_audio_s);
    vx_frame f = {data, len};
    vx_task_result r;
    memset(&r, 0, sizeof r);
    int rc = vx_broker_call(s->broker, "analyse", args, &f, 1, ANALYSE_TIMEOUT_MS, NULL, NULL, &r,
                            err);
    if (rc == VX_OK) {
        if (r.n_frames < 1 || !r.frame_data[0]) {
            rc = vx__error_set(err, VX_EINTERNAL, "worker reply carries no analysis");
        } else {
            char *t = malloc(r.frame_len[0] + 1);
            if (!t) {
                rc = vx__error_set(err, VX_ENOMEM, "out of memory");
            } else {
                memcpy(t, r.frame_data[0], r.frame_len[0]);
                t[r.frame_len[0]] = '\0';
                *json = t;
            }
        }
    }
    vx_task_result_clear(&r);
    return rc;
}

char *vx__clone_args(const vx_profile *p, const char *lang, const char *text,
                     const vx_settings *st, uint64_t seed)
{
    char *stxt = vx_settings_to_json(st);
    json_t *sv = stxt ? json_loads(stxt, 0, NULL) : NULL;
    free(stxt);
    if (!sv)
        return NULL;
    char seed_s[32];
    snprintf(seed_s, sizeof seed_s, "%" PRIu64, seed);
    json_t *j = json_object();
    json_object_set_new(j, "language", json_string(lang));
    json_object_set_new(j, "text", json_string(text));
    json_object_set_new(j, "seed", json_string(seed_s));
    json_object_set_new(j, "voice", json_string(p->audio_sha256));
    json_object_set_new(j, "settings", sv);
    char *t = json_dumps(j, JSON_COMPACT);
    json_decref(j);
    return t;
}

int vx__clone_out_from_result(const char *result_json, const vx_frame *frames, size_t n,
                              vx__clone_out *out, vx_error *err)
{
    memset(out, 0, sizeof *out);
    int rc = clone_meta_parse(result_json, out, err);
    if (rc != VX_OK)
        return rc;
    if (n < 1 || frames[0].len == 0)
        return vx__error_set(err, VX_EINTERNAL, "worker reply carries no audio");
    out->audio = malloc(frames[0].len);
    if (!out->audio)
        return vx__error_set(err, VX_ENOMEM, "out of memory");
    memcpy(out->audio, frames[0].data, frames[0].len);
    out->audio_len = frames[0].len;
    return VX_OK;
}

int vx__work_clone(vx_server *s, const vx_profile *p, const char *lang, const char *text,
                   const vx_settings *st, uint64_t seed, vx__clone_out *out, vx_error *err)
{
    memset(out, 0, sizeof *out);
    if (!s->broker) {
        const vx_voice *voice = NULL;
        vx_voice *own = NULL;
        int rc;
        if (st->enable_caching) {
            rc = vx__voice_get(s, p, &voice, err);
        } else { /* enable_caching = false: build the voice afresh, keep nothing */
            void *audio = NULL;
            size_t len = 0;
            rc = vx__audio_load(s, p->audio_sha256, &audio, &len, err);
            if (rc == VX_OK)
                rc = vx_voice_from_memory(audio, len, &own, err);
            free(audio);
            voice = own;
        }
        if (rc != VX_OK)
            return rc;
        rc = vx__clone_local(voice, lang, text, st, seed, out, err);
        if (own)
            vx_voice_free(own);
        else
            vx__voice_put(s, voice);
        return rc;
    }
    if (no_worker(s, err))
        return VX_EUNAVAIL;
    void *audio = NULL;
    size_t len = 0;
    int rc = vx__audio_load(s, p->audio_sha256, &audio, &len, err);
    if (rc != VX_OK)
        return rc;
    char *args = vx__clone_args(p, lang, text, st, seed);
    if (!args) {
        free(audio);
        return vx__error_set(err, VX_ENOMEM, "out of memory");
    }
    vx_frame f = {audio, len};
    vx_task_result r;
    memset(&r, 0, sizeof r);
    rc = vx_broker_call(s->broker, "clone", args, &f, 1, CLONE_TIMEOUT_MS, NULL, NULL, &r, err);
    free(args);
    free(audio);
    if (rc == VX_OK) {
        vx_frame rf[VX_PROTO_MAX_PAYLOAD_FRAMES];
        for (size_t i = 0; i < r.n_frames; i++) {
            rf[i].data = r.frame_data[i];
            rf[i].len = r.frame_len[i];
        }
        rc = vx__clone_out_from_result(r.result_json, rf, r.n_frames, out, err);
    }
    vx_task_result_clear(&r);
    return rc;
}
