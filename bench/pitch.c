/*
 * pitch.c -- bench_pitch: pitch accuracy of voxclone (and of librosa 0.11,
 * from the stored fixtures) against the laryngograph-derived ground truth
 * of DIR/evaldata/f0.
 *
 *   bench_pitch [--shared DIR] [--threads N] [--per-clip]
 *
 * Clips: every DIR/evaldata/f0/<clip>.f0.csv (the blind-test clips have no
 * CSV and are never read).  CSV conventions (evaldata/SOURCES.md): header
 * time_s,f0_hz; 0 = unvoiced; -1 (Keele) = uncertain, excluded from scoring.
 * Each reference frame is mapped to the nearest analysis frame (frame i is
 * centred at i*512/22050 s); reference frames more than half a hop past the
 * analysis's first/last frame are not scored.
 *
 * Figures, per corpus (fda, keele, ptdb) and overall (frame-weighted):
 *   GPE  gross pitch error: share of frames voiced in both the reference and
 *        the estimate where |f0/ref - 1| > 20 %;
 *   VDE  voicing decision error: share of scored frames where the voiced /
 *        unvoiced decisions differ;
 *   fine median |1200 log2(f0/ref)| in cents over frames voiced in both
 *        without a gross error.
 * Systems: voxclone in both pitch modes (default = librosa-exact pYIN, and
 * VX_PITCH_ACCURATE) on all clips with truth and on the clips that have a
 * DIR/fixtures/librosa/<clip>.librosa.json; librosa (the fixture's f0 /
 * voiced_flag / frame_times) on those same clips -- like for like.  The
 * wall time of vx_analyze_file in each mode is summed over the clips and
 * their ratio printed: the accurate mode's cost relative to the default.
 */
#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <jansson.h>

#include "bench_util.h"
#include "voxclone/voxclone.h"

#define CSV_MAX_LINE 128     /* bytes per CSV line, newline included */
#define CSV_MAX_ROWS 1000000 /* about 2.8 h of 10 ms frames */
#define JSON_MAX_BYTES (64L * 1024 * 1024)
#define GROSS_REL 0.20
#define HOP_S (512.0 / VX_ANALYSIS_RATE_HZ)

enum { C_FDA, C_KEELE, C_PTDB, C_OTHER, N_CORPORA, G_ALL = N_CORPORA, N_GROUPS };
static const char *const group_names[N_GROUPS] = {"fda", "keele", "ptdb", "other", "overall"};

enum { S_VX_ALL, S_ACC_ALL, S_VX_FX, S_ACC_FX, S_LR_FX, N_SYSTEMS };
static const char *const system_names[N_SYSTEMS] = {
    "voxclone default, all with truth", "voxclone accurate, all with truth",
    "voxclone default, fixture clips", "voxclone accurate, fixture clips",
    "librosa 0.11 fixtures, same clips"};
static const char *const system_keys[N_SYSTEMS] = {
    "voxclone_all", "accurate_all", "voxclone_fixture_clips", "accurate_fixture_clips",
    "librosa_fixture_clips"};

typedef struct dvec {
    double *v;
    size_t n, cap;
} dvec;

static int dvec_push(dvec *d, double x)
{
    if (d->n == d->cap) {
        size_t cap = d->cap ? d->cap * 2 : 1024;
        double *p = realloc(d->v, cap * sizeof *p);
        if (!p)
            return -1;
        d->v = p;
        d->cap = cap;
    }
    d->v[d->n++] = x;
    return 0;
}

typedef struct tally {
    size_t clips, scored, vde_err, both_voiced, gross;
    size_t missed; /* VDE part: voiced in the reference, unvoiced in the estimate */
    dvec cents; /* |cents| of both-voiced frames without gross error */
} tally;

/* A pitch track: per-frame time, f0 (> 0 and finite when voiced). */
typedef struct track {
    size_t n;
    double *t, *f0;
    uint8_t *voiced;
} track;

static void track_free(track *k)
{
    free(k->t);
    free(k->f0);
    free(k->voiced);
    memset(k, 0, sizeof *k);
}

static int track_alloc(track *k, size_t n)
{
    k->n = n;
    k->t = malloc((n ? n : 1) * sizeof *k->t);
    k->f0 = malloc((n ? n : 1) * sizeof *k->f0);
    k->voiced = malloc(n ? n : 1);
    if (!k->t || !k->f0 || !k->voiced) {
        track_free(k);
        return -1;
    }
    return 0;
}

/* ------------------------------------------------------------------ */
/* Reference CSV: time_s,f0_hz                                         */
/* ------------------------------------------------------------------ */
static int parse_row(char *line, double *t, double *f0)
{
    char *end = NULL;
    errno = 0;
    *t = strtod(line, &end);
    if (errno || end == line || *end != ',')
        return -1;
    char *p = end + 1;
    *f0 = strtod(p, &end);
    if (errno || end == p)
        return -1;
    while (*end == ' ' || *end == '\t' || *end == '\r' || *end == '\n')
        end++;
    return *end == '\0' && isfinite(*t) && isfinite(*f0) ? 0 : -1;
}

/* Reads the reference into ref (t, f0; voiced unused).  Returns 0 or -1
 * with a message on stderr. */
static int read_f0_csv(const char *path, track *ref)
{
    memset(ref, 0, sizeof *ref);
    FILE *f = fopen(path, "r");
    if (!f) {
        fprintf(stderr, "bench_pitch: cannot open %s: %s\n", path, strerror(errno));
        return -1;
    }
    char line[CSV_MAX_LINE + 1];
    size_t cap = 0, lineno = 0;
    int rc = 0;
    while (fgets(line, sizeof line, f)) {
        lineno++;
        size_t len = strlen(line);
        if (len > 0 && line[len - 1] != '\n' && !feof(f)) {
            fprintf(stderr, "bench_pitch: %s:%zu: line longer than %d bytes\n", path, lineno,
                    CSV_MAX_LINE);
            rc = -1;
            break;
        }
        while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
            line[--len] = '\0';
        if (lineno == 1) {
            if (strcmp(line, "time_s,f0_hz") != 0) {
                fprintf(stderr, "bench_pitch: %s: header is not time_s,f0_hz\n", path);
                rc = -1;
                break;
            }
            continue;
        }
        if (len == 0)
            continue;
        if (ref->n == CSV_MAX_ROWS) {
            fprintf(stderr, "bench_pitch: %s: more than %d rows\n", path, CSV_MAX_ROWS);
            rc = -1;
            break;
        }
        double t, f0;
        if (parse_row(line, &t, &f0) != 0) {
            fprintf(stderr, "bench_pitch: %s:%zu: malformed row\n", path, lineno);
            rc = -1;
            break;
        }
        if (ref->n == cap) {
            size_t nc = cap ? cap * 2 : 1024;
            double *pt = realloc(ref->t, nc * sizeof *pt);
            if (pt)
                ref->t = pt;
            double *pf = pt ? realloc(ref->f0, nc * sizeof *pf) : NULL;
            if (!pt || !pf) {
                fprintf(stderr, "bench_pitch: out of memory\n");
                rc = -1;
                break;
            }
            ref->f0 = pf;
            cap = nc;
        }
        ref->t[ref->n] = t;
        ref->f0[ref->n] = f0;
        ref->n++;
    }
    if (rc == 0 && ferror(f)) {
        fprintf(stderr, "bench_pitch: read error on %s\n", path);
        rc = -1;
    }
    if (rc == 0 && lineno == 0) {
        fprintf(stderr, "bench_pitch: %s is empty\n", path);
        rc = -1;
    }
    fclose(f);
    if (rc != 0)
        track_free(ref);
    return rc;
}

/* ------------------------------------------------------------------ */
/* librosa fixture JSON                                                */
/* ------------------------------------------------------------------ */
static int read_fixture(const char *path, track *k)
{
    memset(k, 0, sizeof *k);
    struct stat st;
    if (stat(path, &st) != 0 || st.st_size > JSON_MAX_BYTES) {
        fprintf(stderr, "bench_pitch: %s: missing or larger than %ld bytes\n", path,
                JSON_MAX_BYTES);
        return -1;
    }
    json_error_t je;
    json_t *j = json_load_file(path, 0, &je);
    if (!j) {
        fprintf(stderr, "bench_pitch: %s:%d: %s\n", path, je.line, je.text);
        return -1;
    }
    json_t *jt = json_object_get(j, "frame_times");
    json_t *jf = json_object_get(j, "f0");
    json_t *jv = json_object_get(j, "voiced_flag");
    size_t n = json_array_size(jt);
    int rc = -1;
    if (!json_is_array(jt) || !json_is_array(jf) || !json_is_array(jv) ||
        json_array_size(jf) != n || json_array_size(jv) != n) {
        fprintf(stderr, "bench_pitch: %s: frame_times / f0 / voiced_flag missing or of "
                        "different lengths\n", path);
    } else if (track_alloc(k, n) != 0) {
        fprintf(stderr, "bench_pitch: out of memory\n");
    } else {
        rc = 0;
        for (size_t i = 0; i < n && rc == 0; i++) {
            json_t *t = json_array_get(jt, i), *f = json_array_get(jf, i);
            json_t *v = json_array_get(jv, i);
            if (!json_is_number(t) || !(json_is_number(f) || json_is_null(f)) ||
                !json_is_boolean(v)) {
                fprintf(stderr, "bench_pitch: %s: bad value at frame %zu\n", path, i);
                rc = -1;
                break;
            }
            k->t[i] = json_number_value(t);
            k->f0[i] = json_is_null(f) ? NAN : json_number_value(f);
            k->voiced[i] = json_is_true(v) && isfinite(k->f0[i]) && k->f0[i] > 0;
        }
        if (rc != 0)
            track_free(k);
    }
    json_decref(j);
    return rc;
}

static int track_from_frames(const vx_frames *fr, track *k)
{
    if (track_alloc(k, fr->n) != 0)
        return -1;
    for (size_t i = 0; i < fr->n; i++) {
        k->t[i] = fr->times_s[i];
        k->f0[i] = fr->f0_hz[i];
        k->voiced[i] = fr->voiced_flag[i] && isfinite(fr->f0_hz[i]) && fr->f0_hz[i] > 0;
    }
    return 0;
}

/* ------------------------------------------------------------------ */
/* Scoring                                                             */
/* ------------------------------------------------------------------ */
/* Index of the frame of k nearest to t (k->t ascending), or (size_t)-1 when
 * t lies more than half a hop outside the frames. */
static size_t nearest_frame(const track *k, double t)
{
    if (k->n == 0 || t < k->t[0] - HOP_S / 2 || t > k->t[k->n - 1] + HOP_S / 2)
        return (size_t)-1;
    size_t lo = 0, hi = k->n - 1;
    while (hi - lo > 1) {
        size_t mid = lo + (hi - lo) / 2;
        if (k->t[mid] <= t)
            lo = mid;
        else
            hi = mid;
    }
    return fabs(k->t[hi] - t) < fabs(t - k->t[lo]) ? hi : lo;
}

/* Scores est against ref into each of the n tallies of gs. */
static int score(const track *ref, const track *est, tally *const *gs, int n)
{
    for (int g = 0; g < n; g++)
        gs[g]->clips++;
    for (size_t i = 0; i < ref->n; i++) {
        double rf = ref->f0[i];
        if (rf < 0)
            continue; /* Keele "uncertain" */
        size_t j = nearest_frame(est, ref->t[i]);
        if (j == (size_t)-1)
            continue;
        int rv = rf > 0, ev = est->voiced[j] != 0;
        double ratio = rv && ev ? est->f0[j] / rf : 1.0;
        int gross = rv && ev && fabs(ratio - 1.0) > GROSS_REL;
        for (int g = 0; g < n; g++) {
            tally *t = gs[g];
            t->scored++;
            t->vde_err += rv != ev;
            t->missed += rv && !ev;
            if (rv && ev) {
                t->both_voiced++;
                if (gross)
                    t->gross++;
                else if (dvec_push(&t->cents, fabs(1200.0 * log2(ratio))) != 0)
                    return -1;
            }
        }
    }
    return 0;
}

static double median(dvec *d)
{
    if (d->n == 0)
        return NAN;
    qsort(d->v, d->n, sizeof *d->v, vxb_cmp_double);
    return d->n % 2 ? d->v[d->n / 2] : 0.5 * (d->v[d->n / 2 - 1] + d->v[d->n / 2]);
}

static double pct(size_t a, size_t b)
{
    return b ? 100.0 * (double)a / (double)b : NAN;
}

static int corpus_of(const char *clip)
{
    if (!strncmp(clip, "fda-", 4))
        return C_FDA;
    if (!strncmp(clip, "keele-", 6))
        return C_KEELE;
    if (!strncmp(clip, "ptdb-", 5))
        return C_PTDB;
    return C_OTHER;
}

/* Frame-level agreement of voxclone with the librosa fixture. */
typedef struct agreement {
    size_t clips_same_n, clips, frames, voicing_same, both_voiced, within_1c;
    double max_cents;
    char differing[256]; /* clips whose voicing differs (truncated list) */
} agreement;

static void agree(const char *clip, const track *vx, const track *lr, agreement *ag)
{
    ag->clips++;
    ag->clips_same_n += vx->n == lr->n;
    size_t n = vx->n < lr->n ? vx->n : lr->n, diff = 0;
    for (size_t i = 0; i < n; i++) {
        ag->frames++;
        diff += vx->voiced[i] != lr->voiced[i];
        ag->voicing_same += vx->voiced[i] == lr->voiced[i];
        if (vx->voiced[i] && lr->voiced[i]) {
            double c = fabs(1200.0 * log2(vx->f0[i] / lr->f0[i]));
            ag->both_voiced++;
            ag->within_1c += c <= 1.0;
            if (c > ag->max_cents)
                ag->max_cents = c;
        }
    }
    size_t len = strlen(ag->differing);
    if (diff > 0 && len + 1 < sizeof ag->differing) {
        int w = snprintf(ag->differing + len, sizeof ag->differing - len, "%s%s (%zu)",
                         len ? ", " : "", clip, diff);
        if (w < 0 || (size_t)w >= sizeof ag->differing - len) /* truncated: mark it */
            memcpy(ag->differing + sizeof ag->differing - 4, "...", 4);
    }
}

/* ------------------------------------------------------------------ */
/* main                                                                */
/* ------------------------------------------------------------------ */
/* Analyses wav in the mode of o into k; adds the wall time to *secs. */
static int analyse_track(const char *wav, const vx_analysis_opts *o, track *k, double *secs,
                         double *audio_s)
{
    vx_analysis *a = NULL;
    vx_error err;
    double t0 = vxb_now_s();
    int vrc = vx_analyze_file(wav, o, &a, &err);
    *secs += vxb_now_s() - t0;
    int rc = 0;
    if (vrc != VX_OK) {
        fprintf(stderr, "bench_pitch: %s: %s (%s)\n", wav, err.message, vx_status_name(vrc));
        rc = -1;
    } else if (!a->frames || track_from_frames(a->frames, k) != 0) {
        fprintf(stderr, "bench_pitch: %s: no frame tracks\n", wav);
        rc = -1;
    } else if (audio_s) {
        *audio_s += a->duration_s;
    }
    vx_analysis_free(a);
    return rc;
}

/* Analyses one clip in both pitch modes and adds it to the tallies T (and
 * to ag when it has a librosa fixture).  Returns 0, or -1 with a message on
 * stderr. */
static int process_clip(const char *shared, const char *dir, const char *clip,
                        const vx_analysis_opts *o, int per_clip,
                        tally T[N_SYSTEMS][N_GROUPS], agreement *ag, size_t *n_fixtures,
                        double *audio_s, double secs[2])
{
    char csv[1536], wav[1536], fx[1536];
    snprintf(csv, sizeof csv, "%s/%s.f0.csv", dir, clip);
    snprintf(wav, sizeof wav, "%s/%s.wav", dir, clip);
    snprintf(fx, sizeof fx, "%s/fixtures/librosa/%s.librosa.json", shared, clip);
    const int c = corpus_of(clip);
    track ref = {0}, vx = {0}, acc = {0}, lr = {0};
    tally clip_vx = {0}, clip_acc = {0}, clip_lr = {0};
    struct stat st;
    const int have_fx = stat(fx, &st) == 0;
    vx_analysis_opts oa = *o;
    oa.pitch_mode = VX_PITCH_ACCURATE;
    int rc = read_f0_csv(csv, &ref);
    if (rc == 0)
        rc = analyse_track(wav, o, &vx, &secs[0], audio_s);
    if (rc == 0)
        rc = analyse_track(wav, &oa, &acc, &secs[1], NULL);
    if (rc == 0) {
        tally *g_all[3] = {&T[S_VX_ALL][c], &T[S_VX_ALL][G_ALL], &clip_vx};
        rc = score(&ref, &vx, g_all, 3);
    }
    if (rc == 0) {
        tally *g_all[3] = {&T[S_ACC_ALL][c], &T[S_ACC_ALL][G_ALL], &clip_acc};
        rc = score(&ref, &acc, g_all, 3);
    }
    if (rc == 0 && have_fx) {
        (*n_fixtures)++;
        tally *g_vx[2] = {&T[S_VX_FX][c], &T[S_VX_FX][G_ALL]};
        tally *g_acc[2] = {&T[S_ACC_FX][c], &T[S_ACC_FX][G_ALL]};
        tally *g_lr[3] = {&T[S_LR_FX][c], &T[S_LR_FX][G_ALL], &clip_lr};
        rc = read_fixture(fx, &lr);
        if (rc == 0)
            rc = score(&ref, &vx, g_vx, 2);
        if (rc == 0)
            rc = score(&ref, &acc, g_acc, 2);
        if (rc == 0)
            rc = score(&ref, &lr, g_lr, 3);
        if (rc == 0)
            agree(clip, &vx, &lr, ag);
    }
    if (rc == 0 && per_clip) {
        printf("%-22s %8zu %7.2f %7.2f %8.2f %8.2f", clip, clip_vx.scored,
               pct(clip_vx.gross, clip_vx.both_voiced), pct(clip_vx.vde_err, clip_vx.scored),
               pct(clip_acc.gross, clip_acc.both_voiced), pct(clip_acc.vde_err, clip_acc.scored));
        if (have_fx)
            printf(" %8.2f %8.2f", pct(clip_lr.gross, clip_lr.both_voiced),
                   pct(clip_lr.vde_err, clip_lr.scored));
        printf("\n");
    }
    free(clip_vx.cents.v);
    free(clip_acc.cents.v);
    free(clip_lr.cents.v);
    track_free(&ref);
    track_free(&vx);
    track_free(&acc);
    track_free(&lr);
    return rc;
}

static int is_f0_csv(const struct dirent *d)
{
    size_t n = strlen(d->d_name);
    return d->d_name[0] != '.' && n > 7 && strcmp(d->d_name + n - 7, ".f0.csv") == 0;
}

static void usage(FILE *f)
{
    fprintf(f, "usage: bench_pitch [--shared DIR] [--threads N] [--per-clip]\n"
               "  --shared DIR  the shared data dir (default $VX_SHARED_DIR or ../shared)\n"
               "  --threads N   analysis threads (default 0 = all cores)\n"
               "  --per-clip    also print GPE / VDE for each clip (default mode,\n"
               "                accurate mode, librosa)\n");
}

static void print_row(const char *sys, int g, tally *t)
{
    printf("%-34s %-8s %5zu %7zu %7.2f %7.2f %7.2f %7.2f %8.2f\n", sys, group_names[g], t->clips,
           t->scored, pct(t->gross, t->both_voiced), pct(t->vde_err, t->scored),
           pct(t->missed, t->scored), pct(t->vde_err - t->missed, t->scored), median(&t->cents));
}

static json_t *tally_json(tally *t)
{
    json_t *o = json_object();
    json_object_set_new(o, "clips", json_integer((json_int_t)t->clips));
    json_object_set_new(o, "frames", json_integer((json_int_t)t->scored));
    json_object_set_new(o, "gpe", json_real(pct(t->gross, t->both_voiced) / 100.0));
    json_object_set_new(o, "vde", json_real(pct(t->vde_err, t->scored) / 100.0));
    json_object_set_new(o, "vde_v_to_u", json_real(pct(t->missed, t->scored) / 100.0));
    double m = median(&t->cents);
    json_object_set_new(o, "fine_cents_median", isfinite(m) ? json_real(m) : json_null());
    return o;
}

int main(int argc, char **argv)
{
    const char *shared = vxb_shared_dir(NULL);
    long n_threads = 0;
    int per_clip = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--shared") && i + 1 < argc) {
            shared = argv[++i];
        } else if (!strcmp(argv[i], "--threads") && i + 1 < argc) {
            if (vxb_parse_long(argv[++i], 0, 64, &n_threads) != 0) {
                fprintf(stderr, "bench_pitch: --threads must be 0..64\n");
                return 2;
            }
        } else if (!strcmp(argv[i], "--per-clip")) {
            per_clip = 1;
        } else if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
            usage(stdout);
            return 0;
        } else {
            usage(stderr);
            return 2;
        }
    }

    char dir[1024];
    snprintf(dir, sizeof dir, "%s/evaldata/f0", shared);
    struct dirent **ents = NULL;
    int n_ents = scandir(dir, &ents, is_f0_csv, alphasort);
    if (n_ents <= 0) {
        printf("bench_pitch: SKIPPED: no *.f0.csv under %s (pass --shared DIR or set "
               "VX_SHARED_DIR)\n", dir);
        return 0;
    }

    static tally T[N_SYSTEMS][N_GROUPS];
    agreement ag;
    memset(&ag, 0, sizeof ag);
    vx_analysis_opts o;
    vx_analysis_opts_init(&o);
    o.keep_frames = 1;
    o.n_threads = (int)n_threads;
    o.decode.min_duration_s = 0.0;
    int failed = 0;
    size_t n_fixtures = 0;
    double audio_s = 0.0, secs[2] = {0.0, 0.0};

    printf("bench_pitch -- pitch accuracy against laryngograph ground truth (%s)\n", dir);
    if (per_clip)
        printf("%-22s %8s %7s %7s %8s %8s %8s %8s\n", "clip", "frames", "GPE %", "VDE %",
               "acc GPE", "acc VDE", "lr GPE %", "lr VDE %");
    for (int e = 0; e < n_ents && !failed; e++) {
        char clip[256];
        size_t len = strlen(ents[e]->d_name) - 7;
        snprintf(clip, sizeof clip, "%.*s", (int)len, ents[e]->d_name);
        if (process_clip(shared, dir, clip, &o, per_clip, T, &ag, &n_fixtures, &audio_s, secs) !=
            0)
            failed = 1;
    }
    for (int e = 0; e < n_ents; e++)
        free(ents[e]);
    free(ents);
    if (failed)
        return 1;

    size_t n_clips = T[S_VX_ALL][G_ALL].clips;
    printf("clips with truth: %zu (fda %zu, keele %zu, ptdb %zu), %.1f s of audio; with a librosa "
           "fixture: %zu\n",
           n_clips, T[S_VX_ALL][C_FDA].clips, T[S_VX_ALL][C_KEELE].clips,
           T[S_VX_ALL][C_PTDB].clips, audio_s, n_fixtures);
    printf("GPE = share of voiced-in-both frames with |f0/ref-1| > 20 %%; VDE = share of scored "
           "frames with\na different voicing decision (= V->U, voiced in the reference but not "
           "the estimate,\n+ U->V, the reverse); fine = median |cents| over voiced-in-both frames "
           "without gross error.\n\n");
    printf("%-34s %-8s %5s %7s %7s %7s %7s %7s %8s\n", "system", "corpus", "clips", "frames",
           "GPE %", "VDE %", "V->U %", "U->V %", "fine c");
    for (int s = 0; s < N_SYSTEMS; s++) {
        for (int g = 0; g < N_GROUPS; g++)
            if (T[s][g].clips > 0)
                print_row(system_names[s], g, &T[s][g]);
        printf("\n");
    }
    printf("cost (vx_analyze_file wall time summed over the clips, n_threads %ld, decode "
           "included):\n  default %.3f s, accurate %.3f s: accurate / default = %.2f\n\n",
           n_threads, secs[0], secs[1], secs[0] > 0 ? secs[1] / secs[0] : NAN);
    if (ag.clips > 0)
        printf("default mode vs librosa fixtures, all frames of %zu clips (%zu with the same frame "
               "count):\n  voicing identical on %zu / %zu frames (%.3f %%)%s%s%s\n"
               "  f0 within 1 cent on %zu / %zu frames voiced in both (max %.3f cents)\n\n",
               ag.clips, ag.clips_same_n, ag.voicing_same, ag.frames,
               pct(ag.voicing_same, ag.frames), ag.differing[0] ? "; differing: " : "",
               ag.differing, ag.differing[0] ? " frames" : "", ag.within_1c, ag.both_voiced,
               ag.max_cents);

    json_t *j = json_object();
    json_object_set_new(j, "bench", json_string("pitch"));
    json_object_set_new(j, "clips", json_integer((json_int_t)n_clips));
    json_object_set_new(j, "fixture_clips", json_integer((json_int_t)n_fixtures));
    for (int s = 0; s < N_SYSTEMS; s++) {
        json_t *js = json_object();
        for (int g = 0; g < N_GROUPS; g++)
            if (T[s][g].clips > 0)
                json_object_set_new(js, group_names[g], tally_json(&T[s][g]));
        json_object_set_new(j, system_keys[s], js);
    }
    json_object_set_new(j, "seconds_default", json_real(secs[0]));
    json_object_set_new(j, "seconds_accurate", json_real(secs[1]));
    json_object_set_new(j, "cost_ratio_accurate_vs_default",
                        secs[0] > 0 ? json_real(secs[1] / secs[0]) : json_null());
    if (ag.clips > 0)
        json_object_set_new(j, "voicing_agreement_vs_librosa",
                            json_real(pct(ag.voicing_same, ag.frames) / 100.0));
    char *out = json_dumps(j, JSON_COMPACT | JSON_REAL_PRECISION(6));
    if (out)
        printf("%s\n", out);
    free(out);
    json_decref(j);
    for (int s = 0; s < N_SYSTEMS; s++)
        for (int g = 0; g < N_GROUPS; g++)
            free(T[s][g].cents.v);
    return 0;
}
