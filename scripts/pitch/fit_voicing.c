/*
 * fit_voicing.c -- fits the voicing model of the accurate pitch mode and
 * measures it with cross-validation.  Not part of the library; built and run
 * by scripts/pitch/fit.sh against a build directory's libvoxclone.a (it uses
 * the internal vx__pitch_accurate_ex).
 *
 *   fit_voicing [--shared DIR]      (default ../shared)
 *
 * DESIGN: every clip of DIR/evaldata/f0 that has a .f0.csv (the 54 tuning
 * clips; the blind-test clips have none and are never read) is decoded to
 * 22050 Hz and analysed once in the default mode; the accurate mode is then
 * run on it with the shipped parameters to collect the three per-frame
 * features (cmin, erel_db, zcr).  Each reference frame (Keele -1 frames
 * excluded) is mapped to the nearest analysis frame and gives one training
 * row, labelled voiced when the reference f0 > 0.
 *
 * Fit: logistic regression, Newton-Raphson (IRLS) with a small L2 penalty
 * (1e-3, not on the bias) and speaker-balanced weights (every speaker
 * weighs the same in total, so the 50 fda-rl clips do not dominate).
 * Speakers: fda-rl, keele-f1, keele-m1, ptdb-F01, ptdb-M01; corpora: fda,
 * keele, ptdb.
 *
 * Reported: the in-sample GPE / VDE / fine error of the shipped parameters,
 * then two cross-validations where each held-out group is decided by a
 * model fitted without it: leave-one-speaker-out (5 folds) and
 * leave-one-corpus-out (3 folds).  Inside each fold the one gating constant
 * (gate_aperiodicity) is also re-chosen on the training clips from
 * {0.3, 0.35, 0.4, 0.45, 0.5} by minimising VDE + 2 GPE (percent), so the
 * CV figures do not reuse the held-out clips for it either.  The last lines
 * print the coefficients fitted on all clips: they are the values
 * hard-coded in vx__pacc_params_default() (src/analysis/pitch_accurate.c).
 */
#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analysis/detailed.h"
#include "analysis/pitch_accurate.h"
#include "voxclone/voxclone.h"

#define MAX_CLIPS 256
#define NF VX__PACC_N_COEF
#define HOP_S (512.0 / VX_ANALYSIS_RATE_HZ)
#define L2 1e-3
#define N_GATES 5
static const double gates[N_GATES] = {0.3, 0.35, 0.4, 0.45, 0.5};

typedef struct clip {
    char name[128], speaker[64], corpus[32];
    vx_audio *audio;
    size_t nf;
    double *f0, *vprob, *centroid; /* default mode */
    uint8_t *voiced;
    double *cmin, *erel, *zcr;     /* accurate-mode features */
    size_t nref;
    double *ref_t, *ref_f0;
} clip;

static clip clips[MAX_CLIPS];
static int n_clips;

static void die(const char *msg)
{
    fprintf(stderr, "fit_voicing: %s\n", msg);
    exit(1);
}

static void *xmalloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    if (!p)
        die("out of memory");
    return p;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static void read_csv(const char *path, clip *c)
{
    FILE *f = fopen(path, "r");
    if (!f)
        die("cannot open a .f0.csv");
    char line[256];
    size_t cap = 1024;
    c->ref_t = xmalloc(cap * sizeof(double));
    c->ref_f0 = xmalloc(cap * sizeof(double));
    c->nref = 0;
    if (!fgets(line, sizeof line, f) || strncmp(line, "time_s,f0_hz", 12) != 0)
        die("bad csv header");
    while (fgets(line, sizeof line, f)) {
        char *end;
        double t = strtod(line, &end);
        if (*end != ',')
            continue;
        double v = strtod(end + 1, NULL);
        if (c->nref == cap) {
            cap *= 2;
            c->ref_t = realloc(c->ref_t, cap * sizeof(double));
            c->ref_f0 = realloc(c->ref_f0, cap * sizeof(double));
            if (!c->ref_t || !c->ref_f0)
                die("out of memory");
        }
        c->ref_t[c->nref] = t;
        c->ref_f0[c->nref] = v;
        c->nref++;
    }
    fclose(f);
}

/* "fda-rl001" -> "fda-rl", "keele-f1nw0000" -> "keele-f1", "ptdb-F01_sa1" -> "ptdb-F01" */
static void speaker_of(const char *name, char *spk, size_t cap, char *corpus, size_t ccap)
{
    size_t k = strcspn(name, "-");
    snprintf(corpus, ccap, "%.*s", (int)k, name);
    size_t len;
    if (strcmp(corpus, "fda") == 0)
        len = k + 3;
    else if (strcmp(corpus, "keele") == 0)
        len = k + 3;
    else
        len = strcspn(name, "_");
    snprintf(spk, cap, "%.*s", (int)len, name);
}

static void load_clip(const char *dir, const char *base, clip *c)
{
    char path[8192];
    size_t blen = strlen(base);
    if (strlen(dir) + blen + 16 > sizeof path || blen >= sizeof c->name)
        die("path too long");
    memcpy(c->name, base, blen + 1);
    speaker_of(base, c->speaker, sizeof c->speaker, c->corpus, sizeof c->corpus);
    snprintf(path, sizeof path, "%s/%s.f0.csv", dir, base);
    read_csv(path, c);
    snprintf(path, sizeof path, "%s/%s.wav", dir, base);
    vx_decode_opts dop;
    vx_decode_opts_init(&dop);
    dop.min_duration_s = 0.0;
    vx_error err;
    if (vx_audio_decode_file(path, &dop, &c->audio, &err) != VX_OK)
        die(err.message);
    vx_analysis_opts o;
    vx_analysis_opts_init(&o);
    o.keep_frames = 1;
    o.n_threads = 1;
    vx_analysis *a;
    if (vx_analyze_samples(c->audio->samples, c->audio->n_samples, c->audio->sample_rate_hz, &o,
                           &a, &err) != VX_OK)
        die(err.message);
    size_t n = a->n_frames;
    c->nf = n;
    c->f0 = xmalloc(n * sizeof(double));
    c->vprob = xmalloc(n * sizeof(double));
    c->centroid = xmalloc(n * sizeof(double));
    c->voiced = xmalloc(n);
    memcpy(c->f0, a->frames->f0_hz, n * sizeof(double));
    memcpy(c->vprob, a->frames->voiced_prob, n * sizeof(double));
    memcpy(c->centroid, a->frames->centroid_hz, n * sizeof(double));
    memcpy(c->voiced, a->frames->voiced_flag, n);
    vx_analysis_free(a);
    c->cmin = xmalloc(n * sizeof(double));
    c->erel = xmalloc(n * sizeof(double));
    c->zcr = xmalloc(n * sizeof(double));
}

/* Runs the accurate mode on clip c with params p; fills f0/voiced and, when
 * want_feat, the feature arrays. */
static void run_clip(clip *c, const vx__pacc_params *p, double *f0, uint8_t *v, int want_feat)
{
    vx__frame_data fd = {c->nf, c->f0, c->voiced, c->vprob, NULL, c->centroid};
    vx__pacc_frames feat = {c->cmin, c->erel, c->zcr, NULL};
    if (vx__pitch_accurate_ex(c->audio->samples, c->audio->n_samples, VX_ANALYSIS_RATE_HZ, &fd, p,
                              f0, v, want_feat ? &feat : NULL) != VX_OK)
        die("vx__pitch_accurate_ex failed");
}

/* nearest analysis frame of reference time t, or -1 when outside */
static long ref_frame(const clip *c, double t)
{
    double last = (double)(c->nf - 1) * HOP_S;
    if (t < -HOP_S / 2 || t > last + HOP_S / 2)
        return -1;
    long i = lrint(t / HOP_S);
    if (i < 0)
        i = 0;
    if ((size_t)i >= c->nf)
        i = (long)c->nf - 1;
    return i;
}

/* ------------------------------------------------------------------ */
/* Logistic regression                                                 */
/* ------------------------------------------------------------------ */
static void solve(double A[NF][NF], double *b, double *x)
{
    int n = NF;
    for (int k = 0; k < n; k++) {
        int piv = k;
        for (int r = k + 1; r < n; r++)
            if (fabs(A[r][k]) > fabs(A[piv][k]))
                piv = r;
        for (int cc = 0; cc < n; cc++) {
            double t = A[k][cc];
            A[k][cc] = A[piv][cc];
            A[piv][cc] = t;
        }
        double t = b[k];
        b[k] = b[piv];
        b[piv] = t;
        for (int r = k + 1; r < n; r++) {
            double f = A[r][k] / A[k][k];
            for (int cc = k; cc < n; cc++)
                A[r][cc] -= f * A[k][cc];
            b[r] -= f * b[k];
        }
    }
    for (int k = n - 1; k >= 0; k--) {
        double s = b[k];
        for (int cc = k + 1; cc < n; cc++)
            s -= A[k][cc] * x[cc];
        x[k] = s / A[k][k];
    }
}

/* Fits on the clips whose mask is set; coef = bias, cmin, erel, zcr. */
static void fit(const int *mask, double *coef)
{
    /* speaker weights: total weight per speaker equal */
    char *spk[MAX_CLIPS];
    size_t rows_of[MAX_CLIPS];
    int ns = 0;
    size_t total = 0;
    for (int k = 0; k < n_clips; k++) {
        if (!mask[k])
            continue;
        size_t r = 0;
        for (size_t i = 0; i < clips[k].nref; i++)
            r += clips[k].ref_f0[i] >= 0 && ref_frame(&clips[k], clips[k].ref_t[i]) >= 0;
        int s = 0;
        while (s < ns && strcmp(spk[s], clips[k].speaker) != 0)
            s++;
        if (s == ns) {
            spk[ns] = clips[k].speaker;
            rows_of[ns++] = 0;
        }
        rows_of[s] += r;
        total += r;
    }
    for (int j = 0; j < NF; j++)
        coef[j] = 0.0;
    for (int it = 0; it < 50; it++) {
        double H[NF][NF] = {{0}}, g[NF] = {0};
        for (int k = 0; k < n_clips; k++) {
            if (!mask[k])
                continue;
            const clip *c = &clips[k];
            int s = 0;
            while (strcmp(spk[s], c->speaker) != 0)
                s++;
            double w = (double)total / (double)ns / (double)rows_of[s];
            for (size_t i = 0; i < c->nref; i++) {
                long fr = ref_frame(c, c->ref_t[i]);
                if (c->ref_f0[i] < 0 || fr < 0)
                    continue;
                double xv[NF] = {1.0, c->cmin[fr], c->erel[fr], c->zcr[fr]};
                double z = 0.0;
                for (int j = 0; j < NF; j++)
                    z += coef[j] * xv[j];
                double p = 1.0 / (1.0 + exp(-z)), y = c->ref_f0[i] > 0 ? 1.0 : 0.0;
                for (int j = 0; j < NF; j++) {
                    g[j] += w * (p - y) * xv[j];
                    for (int q = 0; q < NF; q++)
                        H[j][q] += w * p * (1.0 - p) * xv[j] * xv[q];
                }
            }
        }
        for (int j = 1; j < NF; j++) {
            g[j] += L2 * coef[j];
            H[j][j] += L2;
        }
        H[0][0] += L2;
        double step[NF];
        solve(H, g, step);
        double mx = 0.0;
        for (int j = 0; j < NF; j++) {
            coef[j] -= step[j];
            mx = fabs(step[j]) > mx ? fabs(step[j]) : mx;
        }
        if (mx < 1e-10)
            break;
    }
}

/* ------------------------------------------------------------------ */
/* Scoring                                                             */
/* ------------------------------------------------------------------ */
typedef struct tally {
    size_t scored, vde, both, gross;
    double *cents;
    size_t nc, cap;
} tally;

static void tally_add(tally *t, const clip *c, const double *f0, const uint8_t *v)
{
    for (size_t i = 0; i < c->nref; i++) {
        double rf = c->ref_f0[i];
        long fr = ref_frame(c, c->ref_t[i]);
        if (rf < 0 || fr < 0)
            continue;
        int rv = rf > 0, ev = v[fr] != 0;
        t->scored++;
        t->vde += rv != ev;
        if (rv && ev) {
            double ratio = f0[fr] / rf;
            t->both++;
            if (fabs(ratio - 1.0) > 0.2) {
                t->gross++;
            } else {
                if (t->nc == t->cap) {
                    t->cap = t->cap ? 2 * t->cap : 4096;
                    t->cents = realloc(t->cents, t->cap * sizeof(double));
                    if (!t->cents)
                        die("out of memory");
                }
                t->cents[t->nc++] = fabs(1200.0 * log2(ratio));
            }
        }
    }
}

static double tally_gpe(const tally *t) { return t->both ? 100.0 * (double)t->gross / (double)t->both : NAN; }
static double tally_vde(const tally *t) { return t->scored ? 100.0 * (double)t->vde / (double)t->scored : NAN; }
static double tally_fine(tally *t)
{
    if (!t->nc)
        return NAN;
    qsort(t->cents, t->nc, sizeof(double), cmp_double);
    return t->nc % 2 ? t->cents[t->nc / 2] : 0.5 * (t->cents[t->nc / 2 - 1] + t->cents[t->nc / 2]);
}

static const char *const corpora[] = {"fda", "keele", "ptdb"};
#define N_CORP 3

/* Decides every clip k with decide[k] set using params[k]; prints a row per
 * corpus and overall under label. */
static void evaluate(const char *label, vx__pacc_params *const *params)
{
    tally tc[N_CORP + 1];
    memset(tc, 0, sizeof tc);
    for (int k = 0; k < n_clips; k++) {
        clip *c = &clips[k];
        double *f0 = xmalloc(c->nf * sizeof(double));
        uint8_t *v = xmalloc(c->nf);
        run_clip(c, params[k], f0, v, 0);
        for (int q = 0; q < N_CORP; q++)
            if (strcmp(c->corpus, corpora[q]) == 0)
                tally_add(&tc[q], c, f0, v);
        tally_add(&tc[N_CORP], c, f0, v);
        free(f0);
        free(v);
    }
    for (int q = 0; q <= N_CORP; q++) {
        printf("%-34s %-8s %7zu  %6.2f  %6.2f  %7.1f\n", label, q < N_CORP ? corpora[q] : "overall",
               tc[q].scored, tally_gpe(&tc[q]), tally_vde(&tc[q]), tally_fine(&tc[q]));
        free(tc[q].cents);
    }
}

/* GPE/VDE objective of params p on the clips of mask (for the gate choice). */
static double objective(const int *mask, const vx__pacc_params *p)
{
    tally t;
    memset(&t, 0, sizeof t);
    for (int k = 0; k < n_clips; k++) {
        if (!mask[k])
            continue;
        clip *c = &clips[k];
        double *f0 = xmalloc(c->nf * sizeof(double));
        uint8_t *v = xmalloc(c->nf);
        run_clip(c, p, f0, v, 0);
        tally_add(&t, c, f0, v);
        free(f0);
        free(v);
    }
    free(t.cents);
    return tally_vde(&t) + 2.0 * tally_gpe(&t);
}

/* Cross-validation: group_of(k) names the held-out group of clip k. */
static void cross_validate(const char *label, int by_corpus)
{
    static vx__pacc_params fold_params[MAX_CLIPS];
    vx__pacc_params *pp[MAX_CLIPS];
    int done[MAX_CLIPS] = {0};
    for (int k = 0; k < n_clips; k++) {
        if (done[k])
            continue;
        const char *grp = by_corpus ? clips[k].corpus : clips[k].speaker;
        int train[MAX_CLIPS];
        for (int j = 0; j < n_clips; j++)
            train[j] = strcmp(by_corpus ? clips[j].corpus : clips[j].speaker, grp) != 0;
        vx__pacc_params p;
        vx__pacc_params_default(&p);
        fit(train, p.coef);
        double best = INFINITY, bg = p.gate_aperiodicity;
        for (int g = 0; g < N_GATES; g++) {
            p.gate_aperiodicity = gates[g];
            double o = objective(train, &p);
            if (o < best) {
                best = o;
                bg = gates[g];
            }
        }
        p.gate_aperiodicity = bg;
        printf("  fold without %-9s coef %+.3f %+.3f %+.3f %+.3f  gate %.2f\n", grp, p.coef[0],
               p.coef[1], p.coef[2], p.coef[3], bg);
        for (int j = 0; j < n_clips; j++)
            if (!train[j]) {
                fold_params[j] = p;
                pp[j] = &fold_params[j];
                done[j] = 1;
            }
    }
    evaluate(label, pp);
}

int main(int argc, char **argv)
{
    const char *shared = "../shared";
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--shared") == 0 && i + 1 < argc)
            shared = argv[++i];
        else
            die("usage: fit_voicing [--shared DIR]");
    }
    char dir[4096];
    snprintf(dir, sizeof dir, "%s/evaldata/f0", shared);
    DIR *d = opendir(dir);
    if (!d)
        die("cannot open DIR/evaldata/f0");
    char *names[MAX_CLIPS];
    int nn = 0;
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        size_t len = strlen(de->d_name);
        if (len > 7 && strcmp(de->d_name + len - 7, ".f0.csv") == 0 && nn < MAX_CLIPS) {
            names[nn] = xmalloc(len - 6);
            memcpy(names[nn], de->d_name, len - 7);
            names[nn][len - 7] = '\0';
            nn++;
        }
    }
    closedir(d);
    qsort(names, (size_t)nn, sizeof *names, cmp_str);
    vx__pacc_params def;
    vx__pacc_params_default(&def);
    for (int k = 0; k < nn; k++) {
        load_clip(dir, names[k], &clips[n_clips]);
        double *f0 = xmalloc(clips[n_clips].nf * sizeof(double));
        uint8_t *v = xmalloc(clips[n_clips].nf);
        run_clip(&clips[n_clips], &def, f0, v, 1); /* features */
        free(f0);
        free(v);
        n_clips++;
        free(names[k]);
    }
    printf("fit_voicing: %d clips with truth in %s\n\n", n_clips, dir);
    printf("%-34s %-8s %7s  %6s  %6s  %7s\n", "system", "corpus", "frames", "GPE %", "VDE %",
           "fine c");
    vx__pacc_params *pp[MAX_CLIPS];
    for (int k = 0; k < n_clips; k++)
        pp[k] = &def;
    evaluate("accurate, shipped params", pp);
    printf("\nleave-one-speaker-out (logistic + gate refitted per fold):\n");
    cross_validate("accurate, LOSO CV", 0);
    printf("\nleave-one-corpus-out (logistic + gate refitted per fold):\n");
    cross_validate("accurate, LOCO CV", 1);

    int all[MAX_CLIPS];
    for (int k = 0; k < n_clips; k++)
        all[k] = 1;
    double coef[NF];
    fit(all, coef);
    printf("\nfitted on all clips (vx__pacc_params_default): bias %.3f cmin %.3f erel %.3f "
           "zcr %.3f\n", coef[0], coef[1], coef[2], coef[3]);
    printf("shipped:                                      bias %.3f cmin %.3f erel %.3f "
           "zcr %.3f\n", def.coef[0], def.coef[1], def.coef[2], def.coef[3]);
    int same = 1;
    for (int j = 0; j < NF; j++)
        same &= fabs(coef[j] - def.coef[j]) < 0.0015;
    printf("%s\n", same ? "shipped coefficients match the fit" : "SHIPPED COEFFICIENTS DIFFER FROM THE FIT");
    return same ? 0 : 2;
}
