/*
 * pitch_accurate.c -- the accurate pitch mode (VX_PITCH_ACCURATE): a new
 * voicing decision and a short-window f0 track on the default mode's frame
 * grid (frame i centred on sample i*512).
 *
 * DESIGN: librosa's pYIN looks at 2048 samples (93 ms) per frame, so a frame
 * up to ~40 ms outside a voiced stretch still "sees" voicing, and its HMM
 * keeps a voiced path through silence; most of its voicing errors are
 * frames called voiced where the laryngograph says unvoiced.  This mode
 * re-examines every frame with a short window (YIN integration window of
 * 512 samples, 23 ms, de Cheveigne & Kawahara 2002 eq. 6-8) computed on a
 * 1 kHz low-passed copy of the signal (low-passing keeps the fundamental and
 * the first harmonics and removes the fricative noise that blurs the
 * difference function of voiced fricatives), and then:
 *
 *  1. voicing model: P(voiced) = logistic(b0 + b1*cmin + b2*erel + b3*zcr)
 *     where cmin is the minimum of the cumulative-mean-normalised difference
 *     (aperiodicity), erel the Hann-512 level relative to the utterance's
 *     95th-percentile frame level (dB) and zcr the zero-crossing rate.  The
 *     four coefficients were fitted once (speaker-balanced logistic
 *     regression, scripts/pitch/fit_voicing.c) and are hard-coded below.
 *     A frame is a voicing candidate when P > 0.5.
 *  2. f0 track: within each run of candidate frames, dynamic programming
 *     over the (at most 8) lowest troughs of each frame's difference
 *     function (parabolic interpolation, as YIN step 5) minimises
 *     trough value + w_pyin * |log2(f / f_pyin)| (capped at one octave;
 *     only where pYIN is voiced) + w_range * octaves beyond +-0.7 octave of
 *     the utterance's median pYIN f0 + w_jump * |log2 f0 jump|.  pYIN's
 *     long-window Viterbi path is thus a soft guide against octave errors,
 *     not a constraint.
 *  3. gate: a candidate frame stays voiced when its tracked trough is at
 *     most 0.4 (a YIN absolute threshold) or pYIN agrees with the tracked f0
 *     within a semitone; the rest are weak or irregular frames where f0
 *     would be unreliable (the bulk of the gross errors).
 *  4. refinement: the chosen lag is re-located on the raw (not low-passed)
 *     difference function, whose upper harmonics sharpen the trough; f0 is
 *     continuous (parabolic), not on pYIN's 10-cent grid.
 *
 * The four tracking/gate constants were set on a coarse grid on the pooled
 * tuning clips; docs/pitch.md gives their sensitivity and the
 * cross-validated figures.
 *
 * Cost: three 1024-point real FFTs per frame for the difference function,
 * O(512) for level and zero crossings, a few thousand multiply-adds per
 * voiced frame for the refinement, and a DP over <= 8 candidates: well under
 * the default analysis's own cost (docs/pitch.md gives the measured ratio).
 * Single-threaded; runs once after the default analysis.
 *
 * The inputs fd->f0_hz / fd->voiced may alias the outputs (the analyser
 * passes the same arrays), so they are copied before anything is written.
 *
 * References:
 *  - A. de Cheveigne, H. Kawahara, "YIN, a fundamental frequency estimator
 *    for speech and music", JASA 111(4), 2002.
 *  - M. Mauch, S. Dixon, "pYIN: A fundamental frequency estimator using
 *    probabilistic threshold distributions", ICASSP 2014.
 *  - R. J. Bristow-Johnson, "Cookbook formulae for audio EQ biquad filter
 *    coefficients" (the Butterworth low-pass biquad).
 *  - GPE/VDE as in W. Chu, A. Alwan, "Reducing F0 frame error of F0 tracking
 *    algorithms under noisy conditions with an unvoiced/voiced
 *    classification frontend", ICASSP 2009.
 */
#include "analysis/pitch_accurate.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <fftw3.h>

#include "core/fftw_lock.h"
#include "voxclone/voxclone.h"

#define SR 22050
#define HOP 512
#define YW 512                  /* YIN integration window (samples) */
#define MAXLAG 441              /* 50 Hz, as the default mode */
#define MINLAG 44               /* ~500 Hz */
#define NLAG (MAXLAG - MINLAG + 1)
#define SEG (YW + MAXLAG)       /* samples one difference function reads */
#define YOFF (YW / 2 + 110)     /* segment start = frame centre - YOFF */
#define NFFT 1024               /* >= SEG: linear cross-correlation */
#define LP_HZ 1000.0
#define LVL_WIN 512             /* Hann window of the level feature */
#define ZCR_WIN 512
#define K_CAND 8                /* troughs kept per frame */
#define CAND_MAX_AP 0.6         /* troughs above this are not candidates... */
                                /* ...unless a frame has no other */
#define RANGE_DEAD_OCT 0.7      /* free band around the median f0 */
#define PYIN_CAP_OCT 1.0        /* the pYIN guide costs at most this many octaves */
#define AGREE_OCT (1.0 / 12.0)  /* "pYIN agrees": within a semitone */
#define REFINE_HALF 3           /* raw-signal search: +-3 lags */
#define REFINE_MAX_OCT 0.05     /* accept the raw trough within this */
#define LEVEL_FLOOR 1e-12
#define PI 3.14159265358979323846

void vx__pacc_params_default(vx__pacc_params *p)
{
    if (!p)
        return;
    /* fitted by scripts/pitch/fit_voicing.c on the 54 tuning clips */
    p->coef[0] = 5.039;
    p->coef[1] = -3.996;
    p->coef[2] = 0.156;
    p->coef[3] = -12.442;
    p->p_threshold = 0.5;
    p->gate_aperiodicity = 0.4;
    p->w_jump = 0.5;
    p->w_pyin = 0.5;
    p->w_range = 1.0;
}

/* ------------------------------------------------------------------ */
/* Signal helpers                                                      */
/* ------------------------------------------------------------------ */
static inline float sample_at(const float *x, size_t n, long i)
{
    return (i < 0 || (size_t)i >= n) ? 0.0f : x[i];
}

/* One pass of a 2nd-order Butterworth low-pass (RBJ cookbook, Q = 1/sqrt 2),
 * forwards or backwards, in place, zero initial state. */
static void biquad_lowpass(float *y, size_t n, double fc, int backwards)
{
    const double w0 = 2.0 * PI * fc / SR, al = sin(w0) / (2.0 * 0.70710678), cw = cos(w0);
    const double a0 = 1.0 + al;
    const double b0 = (1.0 - cw) / 2.0 / a0, b1 = (1.0 - cw) / a0, b2 = b0;
    const double a1 = -2.0 * cw / a0, a2 = (1.0 - al) / a0;
    double x1 = 0.0, x2 = 0.0, y1 = 0.0, y2 = 0.0;
    for (size_t k = 0; k < n; k++) {
        size_t i = backwards ? n - 1 - k : k;
        double xi = y[i];
        double yi = b0 * xi + b1 * x1 + b2 * x2 - a1 * y1 - a2 * y2;
        x2 = x1;
        x1 = xi;
        y2 = y1;
        y1 = yi;
        y[i] = (float)yi;
    }
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* numpy.percentile (linear interpolation) of v[0..n-1]; sorts v. */
static double percentile(double *v, size_t n, double q)
{
    qsort(v, n, sizeof *v, cmp_double);
    double pos = q / 100.0 * (double)(n - 1);
    size_t lo = (size_t)floor(pos);
    size_t hi = lo + 1 < n ? lo + 1 : lo;
    double fr = pos - (double)lo;
    return v[lo] + (v[hi] - v[lo]) * fr;
}

/* ------------------------------------------------------------------ */
/* Short-window YIN (FFT cross-correlation)                            */
/* ------------------------------------------------------------------ */
typedef struct yin_ws {
    float *a, *b, *r;
    fftwf_complex *A, *B;
    fftwf_plan pa, pb, pinv;
    double pre[SEG + 1];
} yin_ws;

static void yin_ws_free(yin_ws *w)
{
    if (!w)
        return;
    vx__fftw_lock();
    if (w->pa)
        fftwf_destroy_plan(w->pa);
    if (w->pb)
        fftwf_destroy_plan(w->pb);
    if (w->pinv)
        fftwf_destroy_plan(w->pinv);
    vx__fftw_unlock();
    fftwf_free(w->a);
    fftwf_free(w->b);
    fftwf_free(w->r);
    fftwf_free(w->A);
    fftwf_free(w->B);
    free(w);
}

static yin_ws *yin_ws_new(void)
{
    yin_ws *w = calloc(1, sizeof *w);
    if (!w)
        return NULL;
    w->a = fftwf_malloc(sizeof(float) * NFFT);
    w->b = fftwf_malloc(sizeof(float) * NFFT);
    w->r = fftwf_malloc(sizeof(float) * NFFT);
    w->A = fftwf_malloc(sizeof(fftwf_complex) * (NFFT / 2 + 1));
    w->B = fftwf_malloc(sizeof(fftwf_complex) * (NFFT / 2 + 1));
    if (!w->a || !w->b || !w->r || !w->A || !w->B) {
        yin_ws_free(w);
        return NULL;
    }
    vx__fftw_lock();
    w->pa = fftwf_plan_dft_r2c_1d(NFFT, w->a, w->A, FFTW_ESTIMATE);
    w->pb = fftwf_plan_dft_r2c_1d(NFFT, w->b, w->B, FFTW_ESTIMATE);
    w->pinv = fftwf_plan_dft_c2r_1d(NFFT, w->A, w->r, FFTW_ESTIMATE);
    vx__fftw_unlock();
    if (!w->pa || !w->pb || !w->pinv) {
        yin_ws_free(w);
        return NULL;
    }
    return w;
}

/* Cumulative mean normalised difference (YIN eq. 8) of y around centre c:
 * d(tau) = sum_{j<YW} (y[s+j] - y[s+j+tau])^2, s = c - YOFF, written for
 * tau = MINLAG..MAXLAG into cm[0..NLAG-1].  d = E(a) + E(b_tau) - 2 r(tau)
 * with r the FFT cross-correlation and the energies from prefix sums. */
static void short_cmnd(yin_ws *w, const float *y, size_t n, long c, double *cm)
{
    const long s = c - YOFF;
    if (s >= 0 && (size_t)s + SEG <= n) {
        memcpy(w->b, y + s, SEG * sizeof(float));
    } else {
        for (int j = 0; j < SEG; j++)
            w->b[j] = sample_at(y, n, s + j);
    }
    memset(w->b + SEG, 0, (NFFT - SEG) * sizeof(float));
    memcpy(w->a, w->b, YW * sizeof(float));
    memset(w->a + YW, 0, (NFFT - YW) * sizeof(float));
    fftwf_execute_dft_r2c(w->pa, w->a, w->A);
    fftwf_execute_dft_r2c(w->pb, w->b, w->B);
    for (int k = 0; k <= NFFT / 2; k++) {
        float ar = w->A[k][0], ai = w->A[k][1], br = w->B[k][0], bi = w->B[k][1];
        w->A[k][0] = ar * br + ai * bi; /* conj(A) * B */
        w->A[k][1] = ar * bi - ai * br;
    }
    fftwf_execute_dft_c2r(w->pinv, w->A, w->r);
    w->pre[0] = 0.0;
    for (int j = 0; j < SEG; j++)
        w->pre[j + 1] = w->pre[j] + (double)w->b[j] * (double)w->b[j];
    const double ea = w->pre[YW], scale = 1.0 / NFFT;
    double run = 0.0;
    for (int tau = 1; tau <= MAXLAG; tau++) {
        double d = ea + (w->pre[tau + YW] - w->pre[tau]) - 2.0 * (double)w->r[tau] * scale;
        if (d < 0.0)
            d = 0.0;
        run += d;
        if (tau >= MINLAG)
            cm[tau - MINLAG] = run > 0.0 ? d * (double)tau / run : 1.0;
    }
}

/* Candidate troughs of one frame, best (lowest) first. */
typedef struct cand_set {
    int n;
    float lag[K_CAND];
    float ap[K_CAND]; /* interpolated trough value (aperiodicity) */
} cand_set;

static void find_candidates(const double *cm, cand_set *cs)
{
    double lag[K_CAND], ap[K_CAND];
    int nk = 0;
    for (int i = 1; i < NLAG - 1; i++) {
        if (!(cm[i] < cm[i - 1] && cm[i] <= cm[i + 1]))
            continue;
        double a = cm[i + 1] + cm[i - 1] - 2.0 * cm[i], b = (cm[i + 1] - cm[i - 1]) / 2.0;
        double sh = fabs(b) < fabs(a) ? -b / a : 0.0;
        double v = cm[i] + b * sh / 2.0; /* parabola minimum */
        double l = (double)(i + MINLAG) + sh;
        /* insert into the sorted top-K list (ties: earlier trough first) */
        int pos = nk;
        while (pos > 0 && ap[pos - 1] > v)
            pos--;
        if (pos >= K_CAND)
            continue;
        int last = nk < K_CAND ? nk : K_CAND - 1;
        for (int q = last; q > pos; q--) {
            lag[q] = lag[q - 1];
            ap[q] = ap[q - 1];
        }
        lag[pos] = l;
        ap[pos] = v;
        if (nk < K_CAND)
            nk++;
    }
    cs->n = 0;
    if (nk == 0) { /* no trough at all: one dummy candidate at the longest lag */
        cs->lag[0] = (float)MAXLAG;
        cs->ap[0] = 1.0f;
        cs->n = 1;
        return;
    }
    for (int q = 0; q < nk; q++)
        if (ap[q] < CAND_MAX_AP) {
            cs->lag[cs->n] = (float)lag[q];
            cs->ap[cs->n] = (float)ap[q];
            cs->n++;
        }
    if (cs->n == 0) {
        cs->lag[0] = (float)lag[0];
        cs->ap[0] = (float)ap[0];
        cs->n = 1;
    }
}

/* ------------------------------------------------------------------ */
/* Frame features                                                      */
/* ------------------------------------------------------------------ */
static double level_db(const float *x, size_t n, long c, const double *win, double win_sum)
{
    double s = 0.0;
    for (int k = 0; k < LVL_WIN; k++) {
        double v = sample_at(x, n, c - LVL_WIN / 2 + k);
        s += win[k] * v * v;
    }
    return 10.0 * log10(s / win_sum + LEVEL_FLOOR);
}

static double zero_crossings(const float *x, size_t n, long c)
{
    int zc = 0;
    float prev = sample_at(x, n, c - ZCR_WIN / 2);
    for (int k = -ZCR_WIN / 2; k < ZCR_WIN / 2; k++) {
        float next = sample_at(x, n, c + k + 1);
        zc += (prev >= 0.0f) != (next >= 0.0f);
        prev = next;
    }
    return (double)zc / ZCR_WIN;
}

/* Raw-signal difference function around lag l0: returns the refined lag,
 * or l0 when the raw trough is not interior to the search range.  seg holds
 * the SEG samples from c - YOFF on (zero outside the signal). */
static double refine_lag(const float *seg, double l0)
{
    int t0 = (int)lround(l0);
    int lo = t0 - REFINE_HALF, hi = t0 + REFINE_HALF;
    if (lo < 1 || hi > MAXLAG)
        return l0;
    double d[2 * REFINE_HALF + 1];
    for (int t = lo; t <= hi; t++) {
        /* four partial sums: independent chains, same result every run */
        double acc[4] = {0.0, 0.0, 0.0, 0.0};
        for (int j = 0; j < YW; j += 4)
            for (int q = 0; q < 4; q++) {
                double e = (double)seg[j + q] - (double)seg[j + q + t];
                acc[q] += e * e;
            }
        d[t - lo] = (acc[0] + acc[1]) + (acc[2] + acc[3]);
    }
    int m = 0;
    for (int k = 1; k < 2 * REFINE_HALF + 1; k++)
        if (d[k] < d[m])
            m = k;
    if (m == 0 || m == 2 * REFINE_HALF)
        return l0;
    double a = d[m + 1] + d[m - 1] - 2.0 * d[m], b = (d[m + 1] - d[m - 1]) / 2.0;
    double sh = fabs(b) < fabs(a) ? -b / a : 0.0;
    double l = (double)(lo + m) + sh;
    return fabs(log2(l / l0)) < REFINE_MAX_OCT ? l : l0;
}

/* ------------------------------------------------------------------ */
/* Tracking                                                            */
/* ------------------------------------------------------------------ */
static double local_cost(const vx__pacc_params *p, double f, double ap, double fp, double med)
{
    double c = ap;
    if (fp > 0.0) {
        double o = fabs(log2(f / fp));
        c += p->w_pyin * (o < PYIN_CAP_OCT ? o : PYIN_CAP_OCT);
    }
    if (med > 0.0) {
        double o = fabs(log2(f / med)) - RANGE_DEAD_OCT;
        if (o > 0.0)
            c += p->w_range * o;
    }
    return c;
}

/* DP over the candidates of frames [s, e); writes the chosen index of each
 * frame into pick[]. bp holds K_CAND backpointers per frame. */
static void track_run(const vx__pacc_params *p, const cand_set *cs, const double *fp, double med,
                      size_t s, size_t e, uint8_t *bp, uint8_t *pick)
{
    double D[K_CAND], ND[K_CAND];
    const cand_set *c0 = &cs[s];
    for (int j = 0; j < c0->n; j++)
        D[j] = local_cost(p, SR / (double)c0->lag[j], c0->ap[j], fp[s], med);
    for (size_t t = s + 1; t < e; t++) {
        const cand_set *pc = &cs[t - 1], *cc = &cs[t];
        for (int j = 0; j < cc->n; j++) {
            double fj = SR / (double)cc->lag[j];
            int arg = 0;
            double best = INFINITY;
            for (int i = 0; i < pc->n; i++) {
                double v = D[i] + p->w_jump * fabs(log2((double)pc->lag[i] / (double)cc->lag[j]));
                if (v < best) {
                    best = v;
                    arg = i;
                }
            }
            bp[t * K_CAND + (size_t)j] = (uint8_t)arg;
            ND[j] = best + local_cost(p, fj, cc->ap[j], fp[t], med);
        }
        memcpy(D, ND, sizeof(double) * (size_t)cc->n);
    }
    const cand_set *ce = &cs[e - 1];
    int j = 0;
    for (int q = 1; q < ce->n; q++)
        if (D[q] < D[j])
            j = q;
    for (size_t t = e; t-- > s;) {
        pick[t] = (uint8_t)j;
        if (t > s)
            j = bp[t * K_CAND + (size_t)j];
    }
}

/* ------------------------------------------------------------------ */
/* Entry points                                                        */
/* ------------------------------------------------------------------ */
int vx__pitch_accurate_ex(const float *x, size_t n, int sr_hz, const vx__frame_data *fd,
                          const vx__pacc_params *params, double *f0_hz_out,
                          uint8_t *voiced_out, vx__pacc_frames *feat)
{
    if (!x || n == 0 || !fd || !params || !f0_hz_out || !voiced_out || sr_hz != SR)
        return VX_EINVAL;
    const size_t nf = fd->n_frames;
    if (nf != 1 + n / HOP || !fd->f0_hz || !fd->voiced)
        return VX_EINVAL;

    int rc = VX_ENOMEM;
    float *lp = malloc(n * sizeof *lp);
    double *fp = malloc(nf * sizeof *fp);      /* pYIN f0, 0 = unvoiced */
    double *lvl = malloc(nf * sizeof *lvl);
    double *tmp = malloc(nf * sizeof *tmp);
    double *pv = malloc(nf * sizeof *pv);
    cand_set *cs = malloc(nf * sizeof *cs);
    uint8_t *bp = malloc(nf * K_CAND);
    uint8_t *pick = malloc(nf);
    uint8_t *cand = malloc(nf);
    double cm[NLAG];
    double win[LVL_WIN];
    float seg[SEG];
    yin_ws *w = yin_ws_new();
    if (!lp || !fp || !lvl || !tmp || !pv || !cs || !bp || !pick || !cand || !w)
        goto out;

    /* inputs first: the outputs may alias them */
    for (size_t i = 0; i < nf; i++)
        fp[i] = fd->voiced[i] && isfinite(fd->f0_hz[i]) && fd->f0_hz[i] > 0.0 ? fd->f0_hz[i] : 0.0;

    memcpy(lp, x, n * sizeof *lp);
    biquad_lowpass(lp, n, LP_HZ, 0);
    biquad_lowpass(lp, n, LP_HZ, 1);

    double win_sum = 0.0;
    for (int k = 0; k < LVL_WIN; k++) {
        win[k] = 0.5 - 0.5 * cos(2.0 * PI * ((double)k + 0.5) / LVL_WIN);
        win_sum += win[k];
    }

    /* per-frame features and candidates; pv temporarily holds cmin, tmp zcr */
    for (size_t i = 0; i < nf; i++) {
        long c = (long)(i * HOP);
        short_cmnd(w, lp, n, c, cm);
        double mn = cm[0];
        for (int k = 1; k < NLAG; k++)
            mn = cm[k] < mn ? cm[k] : mn;
        pv[i] = mn;
        find_candidates(cm, &cs[i]);
        lvl[i] = level_db(x, n, c, win, win_sum);
        tmp[i] = zero_crossings(x, n, c);
    }
    /* relative level needs the utterance's 95th percentile: sort a copy */
    double ref_db;
    {
        double *srt = malloc(nf * sizeof *srt);
        if (!srt)
            goto out;
        memcpy(srt, lvl, nf * sizeof *srt);
        ref_db = percentile(srt, nf, 95.0);
        free(srt);
    }
    for (size_t i = 0; i < nf; i++) {
        double erel = lvl[i] - ref_db;
        double z = params->coef[0] + params->coef[1] * pv[i] + params->coef[2] * erel +
                   params->coef[3] * tmp[i];
        double p = 1.0 / (1.0 + exp(-z));
        if (feat) {
            if (feat->cmin)
                feat->cmin[i] = pv[i];
            if (feat->erel_db)
                feat->erel_db[i] = erel;
            if (feat->zcr)
                feat->zcr[i] = tmp[i];
            if (feat->p_voiced)
                feat->p_voiced[i] = p;
        }
        cand[i] = p > params->p_threshold;
    }

    /* median pYIN f0 over frames both call voiced (else over pYIN's) */
    double med = 0.0;
    {
        size_t m = 0;
        for (size_t i = 0; i < nf; i++)
            if (fp[i] > 0.0 && cand[i])
                tmp[m++] = fp[i];
        if (m <= 5) {
            m = 0;
            for (size_t i = 0; i < nf; i++)
                if (fp[i] > 0.0)
                    tmp[m++] = fp[i];
        }
        if (m > 0) {
            qsort(tmp, m, sizeof *tmp, cmp_double);
            med = m % 2 ? tmp[m / 2] : 0.5 * (tmp[m / 2 - 1] + tmp[m / 2]);
        }
    }

    /* track each run of candidate frames, gate, refine */
    for (size_t i = 0; i < nf;) {
        if (!cand[i]) {
            i++;
            continue;
        }
        size_t e = i;
        while (e < nf && cand[e])
            e++;
        track_run(params, cs, fp, med, i, e, bp, pick);
        i = e;
    }
    for (size_t i = 0; i < nf; i++) {
        double f = NAN;
        uint8_t v = 0;
        if (cand[i]) {
            const cand_set *c = &cs[i];
            double lag = c->lag[pick[i]], ap = c->ap[pick[i]];
            double f_lp = SR / lag;
            int agree = fp[i] > 0.0 && fabs(log2(f_lp / fp[i])) < AGREE_OCT;
            if (ap <= params->gate_aperiodicity || agree) {
                long s = (long)(i * HOP) - YOFF;
                if (s >= 0 && (size_t)s + SEG <= n)
                    memcpy(seg, x + s, sizeof seg);
                else
                    for (int j = 0; j < SEG; j++)
                        seg[j] = sample_at(x, n, s + j);
                v = 1;
                f = SR / refine_lag(seg, lag);
            }
        }
        voiced_out[i] = v;
        f0_hz_out[i] = f;
    }
    rc = VX_OK;
out:
    yin_ws_free(w);
    free(lp);
    free(fp);
    free(lvl);
    free(tmp);
    free(pv);
    free(cs);
    free(bp);
    free(pick);
    free(cand);
    return rc;
}

int vx__pitch_accurate(const float *x, size_t n, int sr_hz, const vx__frame_data *fd,
                       double *f0_hz_out, uint8_t *voiced_out)
{
    vx__pacc_params p;
    vx__pacc_params_default(&p);
    return vx__pitch_accurate_ex(x, n, sr_hz, fd, &p, f0_hz_out, voiced_out, NULL);
}
