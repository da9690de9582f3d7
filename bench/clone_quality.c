/*
 * clone_quality.c -- bench_clone_quality: how close cloned speech comes to
 * the reference speaker, with and without the tone-colour converter.
 *
 *   bench_clone_quality [--shared DIR] [--max-speakers N] [--seed N]
 *                       [--workers N] [--per-item]
 *
 * Speakers: every folder of DIR/evaldata/speakers with at least 2 WAVs (all
 * corpora: LibriSpeech, VCTK, ARCTIC, VCC2016, AISHELL, pocketsphinx test
 * data, FDA, Keele), in name order, at most N of them (default all).  For
 * each one a vx_voice is built from its first utterance that gives one (the
 * reference), and a fixed sentence is cloned in en fr es de zh ar through
 * vx_pipeline_run (defaults, output at 22050 Hz, max_workers from
 * --workers, default 2).  Each clone is judged against a DIFFERENT utterance
 * of the same speaker (the next one after the reference):
 *   - seed: the old service's formula (vx_similarity_compute, that utterance
 *     as "original"); mean and min over all clones;
 *   - nearest: the clone's voiceprint is compared (cosine) with one model
 *     per speaker of the whole folder (all 49, single-utterance impostor
 *     speakers included), a model being the normalised mean voiceprint of
 *     the speaker's utterances -- for the clone's own speaker without the
 *     reference utterance; the case counts when its own speaker's model is
 *     the nearest; % of cases;
 *   - vp_own: mean cosine of the clone to its own speaker's model.
 * The same figures are computed for the unconverted base voice: the
 * engine's output before vx__convert, obtained here by calling the engine
 * as vx_clone_text does (vx__engine_choose + the voice's calibrated fit +
 * synth, src/tts/tts_internal.h and engine_private.h) -- so the converter's
 * gain is visible.  Goals of the issue: seed
 * mean >= 0.93, no clone < 0.75, nearest own speaker >= 70 %.
 *
 * DESIGN: analyses keep only the few numbers the seed formula needs and the
 * voiceprint (no frames), so memory stays small; audio is analysed through
 * an in-memory float WAV and vx_analyze_memory, which resamples to 22050 Hz
 * exactly as for any input file.  The last line is a one-line JSON summary.
 */
#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench_util.h"
#include "tts/engine_private.h"
#include "tts/tts_internal.h"
#include "voxclone/voxclone.h"

#define MAX_SPK 256
#define MAX_UTT 64
#define N_LANG 6

static const vx_pipeline_target k_sentence[N_LANG] = {
    {"en", "I would like to book a table for two people tomorrow evening."},
    {"fr", "Je voudrais réserver une table pour deux personnes demain soir."},
    {"es", "Me gustaría reservar una mesa para dos personas mañana por la noche."},
    {"de", "Ich möchte für morgen Abend einen Tisch für zwei Personen reservieren."},
    {"zh", "我想预订明天晚上两个人的桌子。"},
    {"ar", "أود أن أحجز طاولة لشخصين مساء الغد."},
};

typedef struct utt {
    char *path;
    int ok;
    vx_analysis a; /* copy without frames */
} utt;

typedef struct speaker {
    char *name;
    utt u[MAX_UTT];
    size_t n;
    float model[VX_VOICEPRINT_DIM];     /* all utterances */
    float model_ref[VX_VOICEPRINT_DIM]; /* all but the reference */
    int ref, cmp;                       /* indexes, -1 when not eligible */
} speaker;

typedef struct stats {
    double sum, min, vp_sum;
    double pitch_sum, bright_sum, mfcc_sum; /* the seed formula's three terms */
    size_t n, nearest;
    double lang_sum[N_LANG], lang_min[N_LANG];
    size_t lang_n[N_LANG], lang_nearest[N_LANG];
} stats;

/* Little-endian writers for the in-memory float WAV. */
static void put32(unsigned char *p, uint32_t v)
{
    p[0] = (unsigned char)(v & 0xff);
    p[1] = (unsigned char)((v >> 8) & 0xff);
    p[2] = (unsigned char)((v >> 16) & 0xff);
    p[3] = (unsigned char)(v >> 24);
}

static void put16(unsigned char *p, uint16_t v)
{
    p[0] = (unsigned char)(v & 0xff);
    p[1] = (unsigned char)(v >> 8);
}

/* Analyses mono float samples at any rate (decoded + resampled to 22050 Hz
 * by the library, as a file would be).  Returns 0 and fills *a. */
static int analyse_pcm(const float *x, size_t n, int rate_hz, vx_analysis *a, char *why,
                       size_t why_cap)
{
    size_t bytes = 44 + 4 * n;
    unsigned char *w = malloc(bytes);
    if (!w) {
        snprintf(why, why_cap, "out of memory");
        return -1;
    }
    memcpy(w, "RIFF", 4);
    put32(w + 4, (uint32_t)(36 + 4 * n));
    memcpy(w + 8, "WAVEfmt ", 8);
    put32(w + 16, 16);
    put16(w + 20, 3); /* IEEE float */
    put16(w + 22, 1);
    put32(w + 24, (uint32_t)rate_hz);
    put32(w + 28, (uint32_t)rate_hz * 4u);
    put16(w + 32, 4);
    put16(w + 34, 32);
    memcpy(w + 36, "data", 4);
    put32(w + 40, (uint32_t)(4 * n));
    for (size_t i = 0; i < n; i++) {
        uint32_t u;
        memcpy(&u, &x[i], 4);
        put32(w + 44 + 4 * i, u);
    }
    vx_analysis_opts o;
    vx_analysis_opts_init(&o);
    o.detailed = 1;
    o.n_threads = 1;
    vx_analysis *r = NULL;
    vx_error e;
    int rc = vx_analyze_memory(w, bytes, &o, &r, &e);
    free(w);
    if (rc != VX_OK) {
        snprintf(why, why_cap, "%s", e.message);
        return -1;
    }
    *a = *r;
    a->frames = NULL;
    vx_analysis_free(r);
    return 0;
}

static int analyse_file(const char *path, vx_analysis *a)
{
    vx_analysis_opts o;
    vx_analysis_opts_init(&o);
    o.detailed = 1;
    vx_analysis *r = NULL;
    vx_error e;
    if (vx_analyze_file(path, &o, &r, &e) != VX_OK) {
        fprintf(stderr, "bench_clone_quality: %s: %s\n", path, e.message);
        return -1;
    }
    *a = *r;
    a->frames = NULL;
    vx_analysis_free(r);
    return 0;
}

static void mean_model(const speaker *s, int skip, float *out)
{
    double acc[VX_VOICEPRINT_DIM] = {0};
    for (size_t i = 0; i < s->n; i++) {
        if ((int)i == skip || !s->u[i].ok || !s->u[i].a.has_voiceprint)
            continue;
        for (size_t k = 0; k < VX_VOICEPRINT_DIM; k++)
            acc[k] += s->u[i].a.voiceprint[k];
    }
    double nn = 0.0;
    for (size_t k = 0; k < VX_VOICEPRINT_DIM; k++)
        nn += acc[k] * acc[k];
    nn = nn > 0.0 ? 1.0 / sqrt(nn) : 0.0;
    for (size_t k = 0; k < VX_VOICEPRINT_DIM; k++)
        out[k] = (float)(acc[k] * nn);
}

static void stats_init(stats *st)
{
    memset(st, 0, sizeof *st);
    st->min = 1e9;
    for (int l = 0; l < N_LANG; l++)
        st->lang_min[l] = 1e9;
}

/* Scores one output analysis of speaker si in language l. */
static void score(const vx_analysis *out, speaker *spk, size_t n_spk, size_t si, int l, stats *st,
                  double *seed_out, double *vp_out, int *nearest_out)
{
    vx_similarity sim;
    vx_similarity_compute(&spk[si].u[spk[si].cmp].a, out, &sim);
    double best = -2.0;
    size_t arg = 0;
    for (size_t k = 0; k < n_spk; k++) {
        const float *m = k == si ? spk[k].model_ref : spk[k].model;
        double c = vx_voiceprint_similarity(out->voiceprint, m);
        if (c > best) {
            best = c;
            arg = k;
        }
    }
    double own = vx_voiceprint_similarity(out->voiceprint, spk[si].model_ref);
    int near = arg == si;
    st->sum += sim.overall;
    st->pitch_sum += sim.pitch_similarity;
    st->bright_sum += sim.brightness_similarity;
    st->mfcc_sum += sim.mfcc_similarity;
    st->min = sim.overall < st->min ? sim.overall : st->min;
    st->vp_sum += own;
    st->n++;
    st->nearest += (size_t)near;
    st->lang_sum[l] += sim.overall;
    st->lang_min[l] = sim.overall < st->lang_min[l] ? sim.overall : st->lang_min[l];
    st->lang_n[l]++;
    st->lang_nearest[l] += (size_t)near;
    *seed_out = sim.overall;
    *vp_out = own;
    *nearest_out = near;
}

static void print_stats(const char *label, const stats *st)
{
    printf("%-26s %6.3f %6.3f %7.1f %%  %6.3f  |", label, st->n ? st->sum / st->n : 0.0,
           st->n ? st->min : 0.0, st->n ? 100.0 * st->nearest / st->n : 0.0,
           st->n ? st->vp_sum / st->n : 0.0);
    for (int l = 0; l < N_LANG; l++)
        printf(" %s %.3f/%3.0f%%", k_sentence[l].language,
               st->lang_n[l] ? st->lang_sum[l] / st->lang_n[l] : 0.0,
               st->lang_n[l] ? 100.0 * st->lang_nearest[l] / st->lang_n[l] : 0.0);
    if (st->n)
        printf("\n%-26s terms: pitch %.3f  brightness %.3f  mfcc %.3f", "", st->pitch_sum / st->n,
               st->bright_sum / st->n, st->mfcc_sum / st->n);
    printf("\n");
}

static void json_stats(const char *key, const stats *st)
{
    printf("\"%s\":{\"n\":%zu,\"seed_mean\":%.4f,\"seed_min\":%.4f,\"nearest_own_pct\":%.1f,"
           "\"vp_own_mean\":%.4f,\"per_language\":{",
           key, st->n, st->n ? st->sum / st->n : 0.0, st->n ? st->min : 0.0,
           st->n ? 100.0 * st->nearest / st->n : 0.0, st->n ? st->vp_sum / st->n : 0.0);
    for (int l = 0; l < N_LANG; l++)
        printf("%s\"%s\":{\"seed_mean\":%.4f,\"seed_min\":%.4f,\"nearest_own_pct\":%.1f}",
               l ? "," : "", k_sentence[l].language,
               st->lang_n[l] ? st->lang_sum[l] / st->lang_n[l] : 0.0,
               st->lang_n[l] ? st->lang_min[l] : 0.0,
               st->lang_n[l] ? 100.0 * st->lang_nearest[l] / st->lang_n[l] : 0.0);
    printf("}}");
}

/* The base voice: exactly what vx_clone_text synthesises before vx__convert
 * for a one-sentence text -- the voice's fit (vx__fit_from_analysis of the
 * reference analysis), calibrated in closed loop for the engine and language
 * (vx__fit_calibrate), the settings after auto_optimize, and the seed of
 * piece 0 -- without the converter (and without clone.c's silence trim). */
static int base_pcm(const vx_voice *voice, const char *lang, const char *text,
                    const vx_settings *s, uint64_t seed, vx__pcm *out, char *why, size_t why_cap)
{
    vx_error e;
    char tag[VX__LANG_TAG_MAX + 1], base[8];
    const vx__engine *eng = NULL;
    vx__voice_fit fit, cal;
    vx_settings eff;
    memset(out, 0, sizeof *out);
    if (vx__lang_normalize(lang, tag, base, &e) != VX_OK || !(eng = vx__engine_choose(tag, 0, &e)) ||
        vx_settings_auto_optimize(s, tag, &eff, NULL, &e) != VX_OK ||
        vx__fit_from_analysis(vx_voice_analysis(voice), &fit, &e) != VX_OK ||
        vx__fit_calibrate(eng, tag, base, &fit, &cal, &e) != VX_OK) {
        snprintf(why, why_cap, "%s", e.message);
        return -1;
    }
    uint64_t pseed = vx__mix64(seed ^ vx__mix64(1));
    if (eng->synth(tag, text, &cal, &eff, pseed, out, &e) != VX_OK) {
        snprintf(why, why_cap, "%s: %s", eng->name, e.message);
        return -1;
    }
    return 0;
}

static int base_voice(const vx_voice *voice, int l, const vx_settings *s, uint64_t seed,
                      vx_analysis *out, char *why, size_t why_cap)
{
    vx__pcm pcm;
    if (base_pcm(voice, k_sentence[l].language, k_sentence[l].text, s, seed, &pcm, why,
                 why_cap) != 0)
        return -1;
    int rc = analyse_pcm(pcm.x, pcm.n, pcm.rate_hz, out, why, why_cap);
    free(pcm.x);
    return rc;
}

int main(int argc, char **argv)
{
    const char *shared = NULL;
    long max_spk = MAX_SPK, seed = 1, workers = 2;
    int per_item = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--per-item")) {
            per_item = 1;
            continue;
        }
        if (!v) {
            fprintf(stderr, "usage: bench_clone_quality [--shared DIR] [--max-speakers N] "
                            "[--seed N] [--workers N] [--per-item]\n");
            return 2;
        }
        i++;
        if (!strcmp(a, "--shared"))
            shared = v;
        else if (!strcmp(a, "--max-speakers") && vxb_parse_long(v, 1, MAX_SPK, &max_spk) == 0)
            ;
        else if (!strcmp(a, "--seed") && vxb_parse_long(v, 0, 1000000000L, &seed) == 0)
            ;
        else if (!strcmp(a, "--workers") && vxb_parse_long(v, 1, 4, &workers) == 0)
            ;
        else {
            fprintf(stderr, "bench_clone_quality: bad option %s %s\n", a, v);
            return 2;
        }
    }
    shared = vxb_shared_dir(shared);
    char *spk_dir = vxb_join(shared, "evaldata/speakers");
    char *names[MAX_SPK];
    size_t n_spk = vxb_list_dir(spk_dir, 1, names, MAX_SPK);
    if (n_spk == 0) {
        fprintf(stderr, "bench_clone_quality: no speakers under %s\n", spk_dir);
        return 1;
    }
    speaker *spk = calloc(n_spk, sizeof *spk);
    if (!spk)
        return 1;
    double t0 = vxb_now_s();
    /* analyse every utterance of every speaker (models) */
    for (size_t s = 0; s < n_spk; s++) {
        spk[s].name = names[s];
        spk[s].ref = spk[s].cmp = -1;
        char *d = vxb_join(spk_dir, names[s]);
        char *files[MAX_UTT];
        size_t nf = vxb_list_dir(d, 0, files, MAX_UTT);
        for (size_t f = 0; f < nf; f++) {
            spk[s].u[f].path = vxb_join(d, files[f]);
            free(files[f]);
            spk[s].u[f].ok = analyse_file(spk[s].u[f].path, &spk[s].u[f].a) == 0;
        }
        spk[s].n = nf;
        free(d);
        mean_model(&spk[s], -1, spk[s].model);
    }
    printf("bench_clone_quality: %zu speakers under %s analysed in %.1f s\n", n_spk, spk_dir,
           vxb_now_s() - t0);

    vx_settings set;
    vx_settings_defaults(&set);
    set.sample_rate_hz = VX_ANALYSIS_RATE_HZ;
    set.max_workers = (int)workers;
    stats conv, base, same;
    stats_init(&conv);
    stats_init(&base);
    stats_init(&same);
    size_t used = 0, failures = 0;
    char used_names[4096] = "";
    size_t used_len = 0;
    if (per_item)
        printf("%-22s %-3s  %-9s %7s %7s %4s %6s %6s | %7s %7s %4s\n", "speaker", "lng",
               "engine", "seed", "vp_own", "near", "f0/ref", "cen/ref", "b.seed", "b.vp", "near");
    for (size_t s = 0; s < n_spk && (long)used < max_spk; s++) {
        speaker *S = &spk[s];
        if (S->n < 2)
            continue;
        vx_voice *voice = NULL;
        for (size_t r = 0; r < S->n && !voice; r++) {
            vx_error e;
            if (!S->u[r].ok)
                continue;
            if (vx_voice_from_file(S->u[r].path, &voice, &e) == VX_OK)
                S->ref = (int)r;
            else
                fprintf(stderr, "bench_clone_quality: voice from %s: %s\n", S->u[r].path,
                        e.message);
        }
        if (!voice)
            continue;
        for (size_t c = 1; c < S->n; c++) {
            size_t k = ((size_t)S->ref + c) % S->n;
            if (S->u[k].ok) {
                S->cmp = (int)k;
                break;
            }
        }
        if (S->cmp < 0) {
            vx_voice_free(voice);
            continue;
        }
        mean_model(S, S->ref, S->model_ref);
        {
            /* the ceiling: the reference recording itself, judged like a clone */
            double ss, sv;
            int sn;
            score(&S->u[S->ref].a, spk, n_spk, s, 0, &same, &ss, &sv, &sn);
        }
        used++;
        int k = snprintf(used_names + used_len, sizeof used_names - used_len, "%s%s",
                         used_len ? "," : "", S->name);
        if (k > 0 && (size_t)k < sizeof used_names - used_len)
            used_len += (size_t)k;

        vx_pipeline_result *res = NULL;
        vx_error e;
        if (vx_pipeline_run(voice, &set, k_sentence, N_LANG, (uint64_t)seed, NULL, NULL, &res,
                            &e) != VX_OK) {
            fprintf(stderr, "bench_clone_quality: %s: %s\n", S->name, e.message);
            vx_voice_free(voice);
            failures += N_LANG;
            continue;
        }
        for (int l = 0; l < N_LANG; l++) {
            const vx_pipeline_item *it = &res->items[l];
            char why[512];
            vx_analysis ca, ba;
            double cs = 0, cv = 0, bs = 0, bv = 0;
            int cn = 0, bn = 0, have_c = 0, have_b = 0;
            if (it->status != VX_OK) {
                fprintf(stderr, "bench_clone_quality: %s %s: %s\n", S->name, it->language,
                        it->error.message);
                failures++;
            } else if (analyse_pcm(it->clone->samples, it->clone->n_samples, it->clone->rate_hz,
                                   &ca, why, sizeof why) != 0) {
                fprintf(stderr, "bench_clone_quality: %s %s: clone analysis: %s\n", S->name,
                        it->language, why);
                failures++;
            } else {
                score(&ca, spk, n_spk, s, l, &conv, &cs, &cv, &cn);
                have_c = 1;
            }
            if (base_voice(voice, l, &set, it->seed, &ba, why, sizeof why) !=
                0) {
                fprintf(stderr, "bench_clone_quality: %s %s: base voice: %s\n", S->name,
                        k_sentence[l].language, why);
            } else {
                score(&ba, spk, n_spk, s, l, &base, &bs, &bv, &bn);
                have_b = 1;
            }
            if (per_item)
                printf("%-22s %-3s  %-9s %7.3f %7.3f %4s %6.3f %6.3f | %7.3f %7.3f %4s\n",
                       S->name, k_sentence[l].language, it->clone ? it->clone->engine : "-",
                       have_c ? cs : NAN, have_c ? cv : NAN, have_c ? (cn ? "yes" : "no") : "-",
                       have_c ? ca.pitch_mean_hz / S->u[S->ref].a.pitch_mean_hz : NAN,
                       have_c ? ca.centroid_mean_hz / S->u[S->ref].a.centroid_mean_hz : NAN,
                       have_b ? bs : NAN, have_b ? bv : NAN, have_b ? (bn ? "yes" : "no") : "-");
        }
        vx_pipeline_result_free(res);
        vx_voice_free(voice);
    }
    double elapsed = vxb_now_s() - t0;

    printf("\n%zu speakers (>= 2 utterances) x %d languages; candidates for 'nearest': %zu "
           "speaker models; %zu clones failed\n",
           used, N_LANG, n_spk, failures);
    printf("speakers: %s\n\n", used_names);
    printf("%-26s %6s %6s %9s  %6s  | per language: seed mean / nearest %%\n", "", "seed",
           "min", "nearest", "vp_own");
    print_stats("converted (vx_clone_text)", &conv);
    print_stats("base voice (no converter)", &base);
    printf("%-26s %6.3f %6.3f %7.1f %%  %6.3f  | (the reference recording scored like a clone)\n",
           "same speaker, ref. utt.", same.n ? same.sum / same.n : 0.0, same.n ? same.min : 0.0,
           same.n ? 100.0 * same.nearest / same.n : 0.0, same.n ? same.vp_sum / same.n : 0.0);
    if (same.n)
        printf("%-26s terms: pitch %.3f  brightness %.3f  mfcc %.3f\n", "",
               same.pitch_sum / same.n, same.bright_sum / same.n, same.mfcc_sum / same.n);
    printf("\ngoals: seed mean >= 0.93 (%s), none < 0.75 (%s), nearest own speaker >= 70 %% "
           "(%s)\n",
           conv.n && conv.sum / conv.n >= 0.93 ? "met" : "NOT met",
           conv.n && conv.min >= 0.75 ? "met" : "NOT met",
           conv.n && 100.0 * conv.nearest / conv.n >= 70.0 ? "met" : "NOT met");
    printf("converter gain: seed mean %+.3f, nearest %+.1f points, vp_own %+.3f; %.1f s\n",
           (conv.n ? conv.sum / conv.n : 0) - (base.n ? base.sum / base.n : 0),
           (conv.n ? 100.0 * conv.nearest / conv.n : 0) -
               (base.n ? 100.0 * base.nearest / base.n : 0),
           (conv.n ? conv.vp_sum / conv.n : 0) - (base.n ? base.vp_sum / base.n : 0), elapsed);

    printf("{\"bench\":\"clone_quality\",\"speakers\":%zu,\"languages\":%d,\"candidates\":%zu,"
           "\"seed\":%ld,\"failed\":%zu,",
           used, N_LANG, n_spk, seed, failures);
    json_stats("converted", &conv);
    printf(",");
    json_stats("base", &base);
    printf(",\"goals\":{\"seed_mean\":0.93,\"seed_min\":0.75,\"nearest_own_pct\":70},"
           "\"seconds\":%.1f}\n",
           elapsed);

    for (size_t s = 0; s < n_spk; s++) {
        for (size_t f = 0; f < spk[s].n; f++)
            free(spk[s].u[f].path);
        free(spk[s].name);
    }
    free(spk);
    free(spk_dir);
    return 0;
}
