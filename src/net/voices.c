/*
 * voices.c -- reference voices of stored profiles, kept ready for cloning.
 *
 * DESIGN: building a vx_voice means decoding and analysing the profile's
 * audio (tens of milliseconds), while a recording never changes: so voices
 * are kept in a small LRU keyed by the audio's SHA-256 (the same key on the
 * gateway's disk and in a remote worker, which receives the audio itself).  Entries are
 * refcounted: an entry in use is never evicted, and when every slot is busy
 * the caller gets a private voice that vx__voice_put frees.  The build runs
 * outside the lock so one slow build does not stall other requests.
 */
#include <stdlib.h>
#include <string.h>

#include "analysis/json_internal.h"
#include "core/error.h"
#include "net/server_internal.h"

#define N_VOICES 16

typedef struct ventry {
    char id[80]; /* the key: the reference audio's SHA-256 */
    vx_voice *v;
    int refs;
    uint64_t used;
} ventry;

struct vx__voices {
    pthread_mutex_t m;
    ventry e[N_VOICES];
    uint64_t tick;
};

int vx__voices_new(vx__voices **out)
{
    vx__voices *v = calloc(1, sizeof *v);
    if (!v)
        return VX_ENOMEM;
    pthread_mutex_init(&v->m, NULL);
    *out = v;
    return VX_OK;
}

void vx__voices_free(vx__voices *v)
{
    if (!v)
        return;
    for (int i = 0; i < N_VOICES; i++)
        vx_voice_free(v->e[i].v);
    pthread_mutex_destroy(&v->m);
    free(v);
}

int vx__voices_acquire(vx__voices *vs, const char *key, vx__voice_build_fn build, void *ud,
                       const vx_voice **out, vx_error *err)
{
    pthread_mutex_lock(&vs->m);
    for (int i = 0; i < N_VOICES; i++) {
        if (vs->e[i].v && strcmp(vs->e[i].id, key) == 0) {
            vs->e[i].refs++;
            vs->e[i].used = ++vs->tick;
            *out = vs->e[i].v;
            pthread_mutex_unlock(&vs->m);
            return VX_OK;
        }
    }
    pthread_mutex_unlock(&vs->m);

    vx_voice *v = NULL;
    int rc = build(ud, &v, err);
    if (rc != VX_OK)
        return rc;

    pthread_mutex_lock(&vs->m);
    int slot = -1;
    for (int i = 0; i < N_VOICES; i++) {
        if (vs->e[i].v && strcmp(vs->e[i].id, key) == 0) { /* built twice: keep theirs */
            vs->e[i].refs++;
            vs->e[i].used = ++vs->tick;
            *out = vs->e[i].v;
            pthread_mutex_unlock(&vs->m);
            vx_voice_free(v);
            return VX_OK;
        }
        if (vs->e[i].refs == 0 && (slot < 0 || !vs->e[i].v ||
                                   (vs->e[slot].v && vs->e[i].used < vs->e[slot].used)))
            slot = i;
    }
    if (slot >= 0) {
        vx_voice_free(vs->e[slot].v);
        snprintf(vs->e[slot].id, sizeof vs->e[slot].id, "%s", key);
        vs->e[slot].v = v;
        vs->e[slot].refs = 1;
        vs->e[slot].used = ++vs->tick;
    }
    pthread_mutex_unlock(&vs->m);
    *out = v; /* uncached when slot < 0: vx__voices_release frees it */
    return VX_OK;
}

void vx__voices_release(vx__voices *vs, const vx_voice *v)
{
    if (!v)
        return;
    pthread_mutex_lock(&vs->m);
    for (int i = 0; i < N_VOICES; i++) {
        if (vs->e[i].v == v) {
            vs->e[i].refs--;
            pthread_mutex_unlock(&vs->m);
            return;
        }
    }
    pthread_mutex_unlock(&vs->m);
    vx_voice_free((vx_voice *)v);
}

typedef struct disk_build {
    vx_server *s;
    const vx_profile *p;
} disk_build;

static int build_from_disk(void *ud, vx_voice **out, vx_error *err)
{
    disk_build *d = ud;
    void *audio = NULL;
    size_t len = 0;
    int rc = vx__audio_load(d->s, d->p->audio_sha256, &audio, &len, err);
    if (rc != VX_OK)
        return rc;
    rc = vx_voice_from_memory(audio, len, out, err);
    free(audio);
    return rc;
}

int vx__voice_get(vx_server *s, const vx_profile *p, const vx_voice **out, vx_error *err)
{
    disk_build d = {s, p};
    return vx__voices_acquire(s->voices, p->audio_sha256, build_from_disk, &d, out, err);
}

void vx__voice_put(vx_server *s, const vx_voice *v)
{
    vx__voices_release(s->voices, v);
}

/* ------------------------------------------------------------------ */
/* parsed analyses of profiles                                         */
/* ------------------------------------------------------------------ */
/* A comparison by profile ids needs two parsed analyses.  Parsing a stored
 * JSON (13 MFCC, 512 voiceprint floats) costs far more than the similarity
 * itself, and versions never change, so parsed analyses are kept in a
 * 2-way set-associative table: O(1), fixed memory (~5 MB), no invalidation
 * needed. */
#define PA_SETS 1024

typedef struct pa_entry {
    char id[VX_STORE_ID_LEN + 1];
    char user[VX_STORE_MAX_USER + 1];
    uint64_t used;
    vx_analysis a;
    char metrics_json[VX__METRICS_JSON_MAX]; /* its summary JSON, "" when too long */
} pa_entry;

struct pa_table {
    pthread_mutex_t lock; /* one per server: the library keeps no global state */
    pa_entry e[PA_SETS][2];
    uint64_t tick;
};
typedef struct pa_table pa_table;

static uint32_t fnv1a(const char *s)
{
    uint32_t h = 2166136261u;
    while (*s)
        h = (h ^ (unsigned char)*s++) * 16777619u;
    return h;
}

/* The summary JSON of a comparison's side (vx__analysis_json without MFCC),
 * serialised once per profile: formatting its reals is most of the cost of a
 * comparison by profile ids. */
static void summary_json(const vx_analysis *a, char out[VX__METRICS_JSON_MAX])
{
    out[0] = '\0';
    json_t *j = vx__analysis_json(a, 0);
    char *t = j ? vx__json_dump(j) : NULL;
    json_decref(j);
    if (t && strlen(t) < VX__METRICS_JSON_MAX)
        memcpy(out, t, strlen(t) + 1);
    free(t);
}

int vx__profile_analysis(vx_server *s, const char *id, char user[VX_STORE_MAX_USER + 1],
                         vx_analysis *out, char metrics_json[VX__METRICS_JSON_MAX], vx_error *err)
{
    pa_table *t = s->profile_analyses;
    uint32_t set = fnv1a(id) % PA_SETS;
    if (t) {
        pthread_mutex_lock(&t->lock);
        for (int w = 0; w < 2; w++) {
            pa_entry *e = &t->e[set][w];
            if (e->id[0] && strcmp(e->id, id) == 0) {
                e->used = ++t->tick;
                *out = e->a;
                memcpy(user, e->user, VX_STORE_MAX_USER + 1);
                if (metrics_json)
                    memcpy(metrics_json, e->metrics_json, strlen(e->metrics_json) + 1);
                pthread_mutex_unlock(&t->lock);
                return VX_OK;
            }
        }
        pthread_mutex_unlock(&t->lock);
    }
    vx_profile p;
    memset(&p, 0, sizeof p);
    int rc = vx_store_profile_get_id(s->store, id, &p, err);
    if (rc != VX_OK)
        return rc;
    vx_analysis *a = NULL;
    rc = vx_analysis_from_json(p.analysis_json, strlen(p.analysis_json), &a, err);
    if (rc != VX_OK) {
        vx_profile_clear(&p);
        return rc;
    }
    *out = *a;
    out->frames = NULL;
    memcpy(user, p.user, VX_STORE_MAX_USER + 1);
    vx_analysis_free(a);
    char mj[VX__METRICS_JSON_MAX];
    summary_json(out, mj);
    if (metrics_json)
        memcpy(metrics_json, mj, strlen(mj) + 1);
    if (t) {
        pthread_mutex_lock(&t->lock);
        pa_entry *e = &t->e[set][0];
        if (t->e[set][1].used < e->used)
            e = &t->e[set][1];
        memcpy(e->id, p.id, sizeof e->id);
        memcpy(e->user, p.user, sizeof e->user);
        e->a = *out;
        memcpy(e->metrics_json, mj, strlen(mj) + 1);
        e->used = ++t->tick;
        pthread_mutex_unlock(&t->lock);
    }
    vx_profile_clear(&p);
    return VX_OK;
}

int vx__profile_analyses_new(vx_server *s)
{
    pa_table *t = calloc(1, sizeof *t);
    if (!t)
        return VX_ENOMEM;
    pthread_mutex_init(&t->lock, NULL);
    s->profile_analyses = t;
    return VX_OK;
}

void vx__profile_analyses_free(vx_server *s)
{
    if (s->profile_analyses)
        pthread_mutex_destroy(&s->profile_analyses->lock);
    free(s->profile_analyses);
    s->profile_analyses = NULL;
}
