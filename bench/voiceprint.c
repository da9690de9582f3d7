/*
 * voiceprint.c -- bench_voiceprint: how well the voiceprint separates
 * speakers, next to the old service's similarity formula, and what it costs.
 *
 *   bench_voiceprint [--shared DIR] [--threads N] [--dump-features FILE]
 *                    [--segment-seconds S]
 *
 * Every WAV of DIR/evaldata/speakers/<speaker>/ is decoded to 22050 Hz and
 * analysed.  All pairs of files are scored twice: cosine of the voiceprints
 * (vx_voiceprint_similarity) and the seed formula's overall score
 * (vx_similarity_compute, first file of the pair as "original").  The equal
 * error rate (EER: the threshold where the share of same-speaker pairs
 * rejected equals the share of different-speaker pairs accepted) is printed
 * for both, over all pairs and over the pairs whose two speakers come from
 * the same corpus (the hard part: same microphone, same text).
 *
 * The voiceprint of each file is computed by vx__voiceprint_compute from the
 * frame data of a keep_frames analysis, the mel dB frames being recomputed
 * with vx__spectral_frame exactly as the analyzer does.  The public path
 * (opts.detailed = 1) is run as well and must give identical bytes; if it
 * fails (e.g. another detailed stage is unavailable) the bench says so and
 * goes on with the direct path.
 *
 * Cost: wall time (CLOCK_MONOTONIC, best of 3 runs per file, summed over
 * files) of vx__voiceprint_compute against a default analysis of the same
 * samples (opts defaults, and with 1 thread).
 *
 * The speaker-disjoint cross-validated EER is not recomputed here (that needs
 * the training code): the figure measured by scripts/voiceprint/train.py when
 * it generated the shipped model is printed, labelled as such.
 *
 * --dump-features FILE writes the pre-projection features (the training input
 * of scripts/voiceprint/train.py, data/voiceprint/features.csv): one row per
 * file (segment 0) plus, for files of at least 2 S seconds (S default 4),
 * rows for k = floor(frames / (S seconds of frames)) equal consecutive frame
 * ranges (segments 1..k), computed by the same vx__voiceprint_features on the
 * sub-range of the frame data.
 *
 * DESIGN: files are processed one at a time; only the voiceprints and the
 * few numbers the seed formula needs are kept, so memory is small.  The last
 * line of output is a one-line JSON summary, like the other benches.
 */
#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "bench_util.h"
#include "analysis/detailed.h"
#include "analysis/spectral.h"
#include "analysis/voiceprint_model.h"
#include "voxclone/voxclone.h"

#define SR VX_ANALYSIS_RATE_HZ
#define MAX_FILES 100000
#define N_RUNS 3 /* timings: best of 3 per file */

typedef struct item {
    char *rel;        /* "<speaker>/<file>.wav" */
    int spk;          /* speaker index */
    int corpus;       /* corpus index */
    float vp[VX_VOICEPRINT_DIM];
    vx_analysis seed; /* copy without frames */
} item;

typedef struct names {
    char **v;
    size_t n;
} names;

static int name_index(names *nm, const char *s)
{
    for (size_t i = 0; i < nm->n; i++)
        if (!strcmp(nm->v[i], s))
            return (int)i;
    char **nv = realloc(nm->v, (nm->n + 1) * sizeof *nv);
    if (!nv)
        return -1;
    nm->v = nv;
    size_t len = strlen(s);
    nm->v[nm->n] = malloc(len + 1);
    if (!nm->v[nm->n])
        return -1;
    memcpy(nm->v[nm->n], s, len + 1);
    return (int)nm->n++;
}

/* Corpus of a speaker id: the prefix before '-', with libri100 = libri
 * (both LibriSpeech). */
static void corpus_of(const char *spk, char *out, size_t cap)
{
    size_t n = strcspn(spk, "-");
    if (n >= cap)
        n = cap - 1;
    memcpy(out, spk, n);
    out[n] = '\0';
    if (!strcmp(out, "libri100"))
        out[5] = '\0';
}

static int not_hidden_dir(const struct dirent *d)
{
    return d->d_name[0] != '.';
}

typedef struct scored {
    double s;
    unsigned char same;
} scored;

static int cmp_scored_desc(const void *a, const void *b)
{
    double x = ((const scored *)a)->s, y = ((const scored *)b)->s;
    return (x < y) - (x > y);
}

/* EER in percent over sc[0..n-1] (sorted in place); NAN when a class is
 * empty.  Sweeps the threshold down through the sorted scores (ties taken
 * together) and returns (FRR + FAR) / 2 where |FRR - FAR| is smallest; *thr
 * is that threshold (pairs scoring >= *thr are called "same"). */
static double eer_pct(scored *sc, size_t n, size_t *n_same, size_t *n_diff, double *thr)
{
    size_t P = 0, N = 0;
    for (size_t i = 0; i < n; i++) {
        P += sc[i].same;
        N += !sc[i].same;
    }
    *n_same = P;
    *n_diff = N;
    *thr = NAN;
    if (!P || !N)
        return NAN;
    qsort(sc, n, sizeof *sc, cmp_scored_desc);
    double best_gap = 1.0, best = 50.0; /* threshold above all: FRR 1, FAR 0 */
    size_t tp = 0, fp = 0;
    for (size_t i = 0; i < n;) {
        size_t j = i;
        while (j < n && sc[j].s == sc[i].s) {
            tp += sc[j].same;
            fp += !sc[j].same;
            j++;
        }
        double frr = 1.0 - (double)tp / (double)P, far = (double)fp / (double)N;
        double gap = fabs(frr - far);
        if (gap < best_gap) {
            best_gap = gap;
            best = 50.0 * (frr + far);
            *thr = sc[i].s;
        }
        i = j;
    }
    return best;
}

static void usage(FILE *f)
{
    fprintf(f, "usage: bench_voiceprint [--shared DIR] [--threads N] [--dump-features FILE]\n"
               "                        [--segment-seconds S]\n"
               "  --shared DIR           the shared data dir (default $VX_SHARED_DIR or ../shared)\n"
               "  --threads N            analysis threads (default 0 = all cores)\n"
               "  --dump-features FILE   write the pre-projection features (training input)\n"
               "  --segment-seconds S    segment length for the dumped extra rows (default 4)\n");
}

/* Frame data of a whole signal: a keep_frames analysis (pYIN, centroid) plus
 * the mel dB frames recomputed like the analyzer (center=True zero padding). */
typedef struct frames_buf {
    vx_analysis *an;
    float *mel;
    vx__frame_data fd;
} frames_buf;

static int frames_build(const vx_audio *au, const vx_analysis_opts *o, vx__spectral *sp,
                        frames_buf *fb, vx_error *err)
{
    memset(fb, 0, sizeof *fb);
    vx_analysis_opts ok = *o;
    ok.keep_frames = 1;
    ok.detailed = 0;
    int rc = vx_analyze_samples(au->samples, au->n_samples, SR, &ok, &fb->an, err);
    if (rc)
        return rc;
    size_t nf = fb->an->n_frames, n = au->n_samples;
    float *pad = calloc(n + VX__N_FFT, sizeof *pad);
    fb->mel = malloc(nf * VX__N_MELS * sizeof *fb->mel);
    if (!pad || !fb->mel) {
        free(pad);
        return VX_ENOMEM;
    }
    memcpy(pad + VX__N_FFT / 2, au->samples, n * sizeof *pad);
    for (size_t f = 0; f < nf; f++) {
        double c;
        vx__spectral_frame(sp, pad + f * VX__HOP, &c, fb->mel + f * VX__N_MELS);
    }
    free(pad);
    const vx_frames *fr = fb->an->frames;
    fb->fd = (vx__frame_data){nf, fr->f0_hz, fr->voiced_flag, fr->voiced_prob, fb->mel,
                              fr->centroid_hz};
    return VX_OK;
}

static void frames_free(frames_buf *fb)
{
    vx_analysis_free(fb->an);
    free(fb->mel);
}

static void dump_row(FILE *f, const char *spk, const char *corpus, const char *rel, int seg,
                     size_t f0, size_t f1, const double *feat)
{
    fprintf(f, "%s,%s,%s,%d,%zu,%zu", spk, corpus, rel, seg, f0, f1);
    for (int i = 0; i < VX__VP_N_FEAT; i++) {
        if (isfinite(feat[i]))
            fprintf(f, ",%.8g", feat[i]);
        else
            fputs(",nan", f);
    }
    fputc('\n', f);
}

static int dump_features(FILE *f, const char *spk, const char *corpus, const char *rel,
                         const vx__frame_data *fd, double seg_s)
{
    double feat[VX__VP_N_FEAT];
    int has_speech;
    if (vx__voiceprint_features(fd, feat, &has_speech) != VX_OK)
        return -1;
    dump_row(f, spk, corpus, rel, 0, 0, fd->n_frames, feat);
    size_t L = (size_t)(seg_s * SR / VX__HOP);
    if (L == 0 || fd->n_frames < 2 * L)
        return 0;
    size_t k = fd->n_frames / L;
    for (size_t i = 0; i < k; i++) {
        size_t a = i * fd->n_frames / k, b = (i + 1) * fd->n_frames / k;
        vx__frame_data sub = {b - a,
                              fd->f0_hz + a,
                              fd->voiced + a,
                              fd->voiced_prob + a,
                              fd->mel_db + a * VX__N_MELS,
                              fd->centroid_hz + a};
        if (vx__voiceprint_features(&sub, feat, &has_speech) != VX_OK)
            return -1;
        dump_row(f, spk, corpus, rel, (int)(i + 1), a, b, feat);
    }
    return 0;
}

/* Best of N_RUNS wall times of an analysis of au. */
static double timed_analysis(const vx_audio *au, const vx_analysis_opts *o, vx_error *err,
                             int *rc)
{
    double best = INFINITY;
    for (int r = 0; r < N_RUNS; r++) {
        vx_analysis *a = NULL;
        double t0 = vxb_now_s();
        *rc = vx_analyze_samples(au->samples, au->n_samples, SR, o, &a, err);
        double t = vxb_now_s() - t0;
        vx_analysis_free(a);
        if (*rc)
            return t;
        best = t < best ? t : best;
    }
    return best;
}

int main(int argc, char **argv)
{
    const char *shared = vxb_shared_dir(NULL);
    const char *dump_path = NULL;
    double seg_s = 4.0;
    long n_threads = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--shared") && i + 1 < argc) {
            shared = argv[++i];
        } else if (!strcmp(argv[i], "--dump-features") && i + 1 < argc) {
            dump_path = argv[++i];
        } else if (!strcmp(argv[i], "--segment-seconds") && i + 1 < argc) {
            char *end = NULL;
            seg_s = strtod(argv[++i], &end);
            if (*end || end == argv[i] || !(seg_s >= 0.5 && seg_s <= 600.0)) {
                fprintf(stderr, "bench_voiceprint: --segment-seconds must be 0.5..600\n");
                return 2;
            }
        } else if (!strcmp(argv[i], "--threads") && i + 1 < argc) {
            if (vxb_parse_long(argv[++i], 0, 64, &n_threads) != 0) {
                fprintf(stderr, "bench_voiceprint: --threads must be 0..64\n");
                return 2;
            }
        } else if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
            usage(stdout);
            return 0;
        } else {
            usage(stderr);
            return 2;
        }
    }

    char dir[1024];
    snprintf(dir, sizeof dir, "%s/evaldata/speakers", shared);
    struct dirent **spk_ents = NULL;
    int n_spk_ents = scandir(dir, &spk_ents, not_hidden_dir, alphasort);
    if (n_spk_ents <= 0) {
        printf("bench_voiceprint: SKIPPED: no speaker folders under %s (pass --shared DIR or set "
               "VX_SHARED_DIR)\n", dir);
        return 0;
    }
    FILE *dump = NULL;
    if (dump_path) {
        dump = fopen(dump_path, "w");
        if (!dump) {
            fprintf(stderr, "bench_voiceprint: cannot create %s: %s\n", dump_path, strerror(errno));
            return 1;
        }
        fprintf(dump, "speaker,corpus,file,segment,frame_start,frame_end");
        for (int i = 0; i < VX__VP_N_FEAT; i++)
            fprintf(dump, ",x%d", i);
        fputc('\n', dump);
    }

    vx_analysis_opts o;
    vx_analysis_opts_init(&o);
    o.n_threads = (int)n_threads;
    o.decode.min_duration_s = 0.0;
    vx_analysis_opts o1 = o;
    o1.n_threads = 1;
    vx_analysis_opts od = o;
    od.detailed = 1;
    vx_decode_opts dec = o.decode;
    dec.target_rate_hz = SR;

    vx__spectral *sp = vx__spectral_new(SR);
    names spk_names = {0}, corp_names = {0};
    item *items = NULL;
    size_t n_items = 0, cap_items = 0;
    double t_default = 0.0, t_one = 0.0, t_detailed = 0.0, t_vp = 0.0, audio_s = 0.0;
    size_t public_ok = 0, public_same = 0, public_fail = 0;
    char public_err[256] = "";
    int failed = !sp;

    printf("bench_voiceprint -- same- vs different-speaker separation over %s\n", dir);
    printf("voiceprint model %s (%d dims before the 512-d expansion)\n", vx__vp_version,
           vx__vp_rank);
    for (int s = 0; s < n_spk_ents && !failed; s++) {
        char sdir[2048];
        snprintf(sdir, sizeof sdir, "%s/%s", dir, spk_ents[s]->d_name);
        struct dirent **wavs = NULL;
        int n_wavs = scandir(sdir, &wavs, vxb_is_wav, alphasort);
        if (n_wavs < 0)
            continue; /* not a directory */
        char corpus[64];
        corpus_of(spk_ents[s]->d_name, corpus, sizeof corpus);
        int spk = name_index(&spk_names, spk_ents[s]->d_name);
        int cor = name_index(&corp_names, corpus);
        for (int w = 0; w < n_wavs && !failed; w++) {
            char path[4096], rel[1024];
            snprintf(path, sizeof path, "%s/%s", sdir, wavs[w]->d_name);
            snprintf(rel, sizeof rel, "%s/%s", spk_ents[s]->d_name, wavs[w]->d_name);
            vx_error err;
            vx_audio *au = NULL;
            if (spk < 0 || cor < 0 || n_items >= MAX_FILES) {
                failed = 1;
                break;
            }
            int rc = vx_audio_decode_file(path, &dec, &au, &err);
            if (rc) {
                fprintf(stderr, "bench_voiceprint: %s: %s\n", path, err.message);
                failed = 1;
                break;
            }
            audio_s += (double)au->n_samples / SR;
            frames_buf fb;
            rc = frames_build(au, &o, sp, &fb, &err);
            if (rc) {
                fprintf(stderr, "bench_voiceprint: %s: analysis failed: %s\n", path,
                        vx_strerror(rc));
                frames_free(&fb);
                vx_audio_free(au);
                failed = 1;
                break;
            }
            if (n_items == cap_items) {
                size_t nc = cap_items ? 2 * cap_items : 256;
                item *ni = realloc(items, nc * sizeof *ni);
                if (!ni) {
                    failed = 1;
                    frames_free(&fb);
                    vx_audio_free(au);
                    break;
                }
                items = ni;
                cap_items = nc;
            }
            item *it = &items[n_items];
            memset(it, 0, sizeof *it);
            it->spk = spk;
            it->corpus = cor;
            it->seed = *fb.an;
            it->seed.frames = NULL;
            it->rel = malloc(strlen(rel) + 1);
            if (it->rel)
                memcpy(it->rel, rel, strlen(rel) + 1);
            const char *ver = NULL;
            double best = INFINITY;
            for (int r = 0; r < N_RUNS && rc == VX_OK; r++) {
                double t0 = vxb_now_s();
                rc = vx__voiceprint_compute(au->samples, au->n_samples, SR, &fb.fd, it->vp, &ver);
                double t = vxb_now_s() - t0;
                best = t < best ? t : best;
            }
            t_vp += best;
            if (rc || !it->rel) {
                fprintf(stderr, "bench_voiceprint: %s: voiceprint failed: %s\n", path,
                        vx_strerror(rc));
                failed = 1;
            }
            n_items++;
            if (!failed && dump &&
                dump_features(dump, spk_ents[s]->d_name, corpus, rel, &fb.fd, seg_s) != 0) {
                fprintf(stderr, "bench_voiceprint: %s: feature dump failed\n", path);
                failed = 1;
            }
            frames_free(&fb);
            /* cost: default analysis (default threads and 1 thread) */
            int trc1 = 0, trc2 = 0, trc3 = 0;
            t_default += timed_analysis(au, &o, &err, &trc1);
            t_one += timed_analysis(au, &o1, &err, &trc2);
            /* public path */
            vx_analysis *ad = NULL;
            double t1 = vxb_now_s();
            trc3 = vx_analyze_samples(au->samples, au->n_samples, SR, &od, &ad, &err);
            t_detailed += vxb_now_s() - t1;
            if (trc3 == VX_OK && ad->has_voiceprint) {
                public_ok++;
                public_same += !memcmp(ad->voiceprint, it->vp, sizeof it->vp);
            } else {
                public_fail++;
                if (!public_err[0])
                    snprintf(public_err, sizeof public_err, "%s", trc3 ? err.message : "no voiceprint");
            }
            vx_analysis_free(ad);
            if (trc1 || trc2)
                failed = 1;
            vx_audio_free(au);
        }
        for (int w = 0; w < n_wavs; w++)
            free(wavs[w]);
        free(wavs);
    }
    for (int s = 0; s < n_spk_ents; s++)
        free(spk_ents[s]);
    free(spk_ents);
    vx__spectral_free(sp);
    if (dump && fclose(dump) != 0) {
        fprintf(stderr, "bench_voiceprint: writing %s failed\n", dump_path);
        failed = 1;
    }
    if (failed || n_items < 2) {
        fprintf(stderr, "bench_voiceprint: failed\n");
        return 1;
    }

    /* all pairs */
    size_t n_pairs = n_items * (n_items - 1) / 2, n_wc = 0;
    scored *vp_all = malloc(n_pairs * sizeof *vp_all), *seed_all = malloc(n_pairs * sizeof *seed_all);
    scored *vp_wc = malloc(n_pairs * sizeof *vp_wc), *seed_wc = malloc(n_pairs * sizeof *seed_wc);
    if (!vp_all || !seed_all || !vp_wc || !seed_wc) {
        fprintf(stderr, "bench_voiceprint: out of memory\n");
        return 1;
    }
    size_t k = 0;
    for (size_t i = 0; i < n_items; i++)
        for (size_t j = i + 1; j < n_items; j++, k++) {
            unsigned char same = items[i].spk == items[j].spk;
            vx_similarity sim;
            vx_similarity_compute(&items[i].seed, &items[j].seed, &sim);
            vp_all[k] = (scored){vx_voiceprint_similarity(items[i].vp, items[j].vp), same};
            seed_all[k] = (scored){sim.overall, same};
            if (items[i].corpus == items[j].corpus) {
                vp_wc[n_wc] = vp_all[k];
                seed_wc[n_wc] = seed_all[k];
                n_wc++;
            }
        }
    size_t ps, pd, ws, wd;
    double thr_vp, thr_seed, thr_vp_wc, thr_seed_wc;
    double eer_vp = eer_pct(vp_all, n_pairs, &ps, &pd, &thr_vp);
    double eer_seed = eer_pct(seed_all, n_pairs, &ps, &pd, &thr_seed);
    double eer_vp_wc = eer_pct(vp_wc, n_wc, &ws, &wd, &thr_vp_wc);
    double eer_seed_wc = eer_pct(seed_wc, n_wc, &ws, &wd, &thr_seed_wc);

    printf("files: %zu, speakers: %zu, corpora: %zu, audio: %.1f s\n", n_items, spk_names.n,
           corp_names.n, audio_s);
    printf("pairs: %zu same-speaker, %zu different-speaker (within-corpus: %zu / %zu)\n\n", ps,
           pd, ws, wd);
    printf("%-40s %10s %8s %14s %8s\n", "EER (%, lower is better)", "all pairs", "at >=",
           "within-corpus", "at >=");
    printf("%-40s %10.2f %8.3f %14.2f %8.3f\n", "voiceprint cosine (in-sample model)", eer_vp,
           thr_vp, eer_vp_wc, thr_vp_wc);
    printf("%-40s %10.2f %8.3f %14.2f %8.3f\n", "seed formula overall (SPEC section 3)",
           eer_seed, thr_seed, eer_seed_wc, thr_seed_wc);
    printf("\nspeaker-disjoint cross-validation, MEASURED BY scripts/voiceprint/train.py when the\n"
           "shipped model was generated (not recomputed here):\n  %s\n\n", vx__vp_train_info);
    double share = t_vp / t_default, share1 = t_vp / t_one;
    printf("cost: vx__voiceprint_compute %.3f s in total (%.3f ms per audio-s)\n", t_vp,
           1e3 * t_vp / audio_s);
    printf("      default analysis %.3f s (n_threads=%ld), 1 thread %.3f s\n", t_default,
           n_threads, t_one);
    printf("      voiceprint share of the analysis time: %.2f %% (default threads), %.2f %% "
           "(1 thread); goal < 10 %%\n",
           100.0 * share, 100.0 * share1);
    if (public_fail)
        printf("public path (opts.detailed=1): FAILED on %zu of %zu files (first error: %s);\n"
               "  the figures above use vx__voiceprint_compute on the same frame data\n",
               public_fail, n_items, public_err);
    else
        printf("public path (opts.detailed=1): %zu of %zu voiceprints byte-identical to the "
               "direct computation; detailed analysis %.3f s\n",
               public_same, public_ok, t_detailed);
    if (dump_path)
        printf("features written to %s\n", dump_path);

    json_t *j = json_object();
    json_object_set_new(j, "bench", json_string("voiceprint"));
    json_object_set_new(j, "model", json_string(vx__vp_version));
    json_object_set_new(j, "files", json_integer((json_int_t)n_items));
    json_object_set_new(j, "speakers", json_integer((json_int_t)spk_names.n));
    json_object_set_new(j, "pairs_same", json_integer((json_int_t)ps));
    json_object_set_new(j, "pairs_diff", json_integer((json_int_t)pd));
    json_object_set_new(j, "eer_voiceprint_pct", json_real(eer_vp));
    json_object_set_new(j, "eer_seed_pct", json_real(eer_seed));
    json_object_set_new(j, "eer_threshold_voiceprint", json_real(thr_vp));
    json_object_set_new(j, "eer_voiceprint_within_corpus_pct", json_real(eer_vp_wc));
    json_object_set_new(j, "eer_seed_within_corpus_pct", json_real(eer_seed_wc));
    json_object_set_new(j, "cv_note", json_string(vx__vp_train_info));
    json_object_set_new(j, "voiceprint_share_of_analysis", json_real(share));
    json_object_set_new(j, "voiceprint_share_of_analysis_1thread", json_real(share1));
    json_object_set_new(j, "public_path_ok", json_boolean(public_fail == 0));
    json_object_set_new(j, "public_path_identical", json_integer((json_int_t)public_same));
    char *txt = json_dumps(j, JSON_COMPACT | JSON_REAL_PRECISION(6));
    if (txt)
        printf("%s\n", txt);
    free(txt);
    json_decref(j);

    for (size_t i = 0; i < n_items; i++)
        free(items[i].rel);
    free(items);
    for (size_t i = 0; i < spk_names.n; i++)
        free(spk_names.v[i]);
    free(spk_names.v);
    for (size_t i = 0; i < corp_names.n; i++)
        free(corp_names.v[i]);
    free(corp_names.v);
    free(vp_all);
    free(seed_all);
    free(vp_wc);
    free(seed_wc);
    return 0;
}
