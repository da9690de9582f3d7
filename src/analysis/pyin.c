/*
 * pyin.c -- librosa 0.11-exact probabilistic YIN.
 *
 * DESIGN: the contract is librosa's numbers, so every step mirrors its
 * arithmetic, including its quirks: the difference function is
 * 2*(r(0) - r(tau)) - cumsum(x^2)[tau-1] computed from a zero-padded
 * autocorrelation in float32 (as numpy 2 does for float32 input), the
 * cumulative mean is divided in float64, candidates are binned with
 * round-half-even and clipped to n_bins (so a candidate in bin 399 falls into
 * the unvoiced block and is overwritten, exactly like librosa), duplicate bins
 * keep the last (longest-period) candidate, and Viterbi runs in the log
 * domain with log(p + DBL_MIN) floors, a uniform initial distribution over
 * all 798 states (librosa 0.11 passes no p_init) and first-index argmax.
 *
 * Speed: the 798x798 transition matrix is a band of half-width 50 bins in
 * each of its four 399x399 blocks; everything outside the band is exactly
 * log(DBL_MIN).  The forward step therefore relaxes only the band (vectorised
 * across target states, one offset at a time, visiting sources in ascending
 * index order so strict '>' reproduces numpy's first-index argmax), and
 * handles the out-of-band floor exactly with one global maximum per frame:
 * an out-of-band source can only win when the global best state is out of
 * band for that target.  Per-frame work allocates nothing.
 */
#include "analysis/pyin.h"

#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <fftw3.h>

#include "core/fftw_lock.h"
#include "voxclone/voxclone.h"

#define N_THRESH 100
#define BOLTZ_LAMBDA 2.0
#define NO_TROUGH_PROB 0.01
#define SWITCH_PROB 0.01
/* librosa zero-pads to 2N-1 = 4095 points; only lags 0..441 are used, and
 * any circular size >= 2048 + 441 gives the same linear autocorrelation
 * there.  2560 = 2^9 * 5 is the cheapest such size for FFTW. */
#define ACF_N 2560
#define BAND_W (2 * VX__PYIN_BAND + 1)

struct vx__pyin_tables {
    double thresholds[N_THRESH + 1];
    double beta_probs[N_THRESH];
    double beta_prefix[N_THRESH + 1]; /* sum of beta_probs[0..k-1] */
    double exp_neg[VX__PYIN_N_YIN + 2];  /* exp(-lambda * k) */
    double boltz_fact[VX__PYIN_N_YIN + 2]; /* (1-e^-l)/(1-e^-lN) */
    double bin_hz[VX__PYIN_N_BINS];
    double log_tiny;
    double log_init; /* log(p_init + tiny), p_init uniform over 798 states */
    /* log transition from source b+d to target b, laid out [b][d + BAND] */
    double lstay_t[VX__PYIN_N_BINS][BAND_W];
    double lswitch_t[VX__PYIN_N_BINS][BAND_W];
};

/* numpy's pairwise summation (umath loops, PW_BLOCKSIZE 128). */
static double np_pairwise_sum(const double *a, size_t n)
{
    if (n < 8) {
        double res = 0.0;
        for (size_t i = 0; i < n; i++)
            res += a[i];
        return res;
    } else if (n <= 128) {
        double r[8];
        size_t i;
        for (int j = 0; j < 8; j++)
            r[j] = a[j];
        for (i = 8; i < n - (n % 8); i += 8)
            for (int j = 0; j < 8; j++)
                r[j] += a[i + j];
        double res = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]));
        for (; i < n; i++)
            res += a[i];
        return res;
    } else {
        size_t n2 = n / 2;
        n2 -= n2 % 8;
        return np_pairwise_sum(a, n2) + np_pairwise_sum(a + n2, n - n2);
    }
}

/* numpy add.reduce over a contiguous row: first element, then pairwise. */
static double np_sum(const double *a, size_t n)
{
    return n ? a[0] + np_pairwise_sum(a + 1, n - 1) : 0.0;
}

/* Regularised incomplete beta I_x(a, b) for integer a, b, as scipy's
 * beta.cdf returns it: correctly rounded.  Below 1/2 the terms
 * sum_{j=a}^{n} C(n, j) x^j (1-x)^(n-j), n = a+b-1, are summed directly;
 * above, 1 - (the complementary terms) is taken so that values within half
 * an ulp of 1 come out as exactly 1.0.  That matters: librosa's threshold
 * prior is diff(cdf), so thresholds above ~0.85 carry exactly zero mass and
 * troughs that are only below them get probability exactly 0 (and are no
 * candidates at all), which decides pitch-bin collisions in quiet frames. */
static double beta_cdf_int(double x, int a, int b)
{
    if (x <= 0.0)
        return 0.0;
    if (x >= 1.0)
        return 1.0;
    int n = a + b - 1;
    double lo = 0.0, hi = 0.0, c = 1.0; /* C(n, j) */
    for (int j = 0; j <= n; j++) {
        if (j > 0)
            c = c * (double)(n - j + 1) / (double)j;
        double term = c * pow(x, j) * pow(1.0 - x, n - j);
        if (j >= a)
            hi += term;
        else
            lo += term;
    }
    return x < 0.5 ? hi : 1.0 - lo;
}

vx__pyin_tables *vx__pyin_tables_new(void)
{
    vx__pyin_tables *t = calloc(1, sizeof *t);
    if (!t)
        return NULL;
    /* np.linspace(0, 1, 101): i * (1/100), last element set to stop. */
    const double step = 1.0 / N_THRESH;
    for (int i = 0; i <= N_THRESH; i++)
        t->thresholds[i] = (double)i * step;
    t->thresholds[N_THRESH] = 1.0;
    double prev = beta_cdf_int(t->thresholds[0], 2, 18);
    t->beta_prefix[0] = 0.0;
    for (int i = 0; i < N_THRESH; i++) {
        double c = beta_cdf_int(t->thresholds[i + 1], 2, 18);
        t->beta_probs[i] = c - prev;
        prev = c;
        t->beta_prefix[i + 1] = t->beta_prefix[i] + t->beta_probs[i];
    }
    for (int k = 0; k < VX__PYIN_N_YIN + 2; k++) {
        t->exp_neg[k] = exp(-BOLTZ_LAMBDA * k);
        t->boltz_fact[k] = k > 0 ? (1.0 - exp(-BOLTZ_LAMBDA)) / (1.0 - exp(-BOLTZ_LAMBDA * k)) : 0.0;
    }
    for (int b = 0; b < VX__PYIN_N_BINS; b++)
        t->bin_hz[b] = 50.0 * pow(2.0, (double)b / 120.0);
    t->log_tiny = log(0.0 + DBL_MIN);
    t->log_init = log(1.0 / VX__PYIN_N_STATES + DBL_MIN);

    /* sequence.transition_local(399, 101, window="triangle", wrap=False),
     * row-normalised with numpy's summation order, then
     * kron(transition_loop(2, 1 - 0.01), .) and log(. + tiny). */
    const double p_stay = 1.0 - SWITCH_PROB;
    const double p_switch = (1.0 - p_stay) / 1.0;
    double row[VX__PYIN_N_BINS];
    for (int i = 0; i < VX__PYIN_N_BINS; i++) {
        for (int j = 0; j < VX__PYIN_N_BINS; j++) {
            int d = abs(i - j);
            row[j] = d <= VX__PYIN_BAND ? (double)(2 * (VX__PYIN_BAND + 1 - d)) / (double)(BAND_W + 1) : 0.0;
        }
        double s = np_sum(row, VX__PYIN_N_BINS);
        /* source i = target b + d */
        for (int d = -VX__PYIN_BAND; d <= VX__PYIN_BAND; d++) {
            int b = i - d;
            if (b < 0 || b >= VX__PYIN_N_BINS)
                continue;
            double tr = row[b] / s;
            t->lstay_t[b][d + VX__PYIN_BAND] = log(p_stay * tr + DBL_MIN);
            t->lswitch_t[b][d + VX__PYIN_BAND] = log(p_switch * tr + DBL_MIN);
        }
    }
    return t;
}

void vx__pyin_tables_free(vx__pyin_tables *t) { free(t); }

double vx__pyin_bin_hz(const vx__pyin_tables *t, int b)
{
    if (!t || b < 0 || b >= VX__PYIN_N_BINS)
        return NAN;
    return t->bin_hz[b];
}

/* ------------------------------------------------------------------ */
/* YIN front end                                                       */
/* ------------------------------------------------------------------ */
struct vx__yin {
    float *in;            /* ACF_N real */
    fftwf_complex *spec;  /* ACF_N/2+1 */
    float *acf;           /* ACF_N real */
    fftwf_plan fwd, inv;
    double yin[VX__PYIN_N_YIN];
    double shift[VX__PYIN_N_YIN];
    double bin_prob[VX__PYIN_N_BINS + 1];
    int trough_idx[VX__PYIN_N_YIN];
    int trough_kmin[VX__PYIN_N_YIN];
    double trough_prob[VX__PYIN_N_YIN];
    int active[VX__PYIN_N_YIN];
};

vx__yin *vx__yin_new(void)
{
    vx__yin *y = calloc(1, sizeof *y);
    if (!y)
        return NULL;
    y->in = fftwf_malloc(sizeof(float) * ACF_N);
    y->acf = fftwf_malloc(sizeof(float) * ACF_N);
    y->spec = fftwf_malloc(sizeof(fftwf_complex) * (ACF_N / 2 + 1));
    if (!y->in || !y->acf || !y->spec) {
        vx__yin_free(y);
        return NULL;
    }
    vx__fftw_lock();
    y->fwd = fftwf_plan_dft_r2c_1d(ACF_N, y->in, y->spec, FFTW_ESTIMATE);
    y->inv = fftwf_plan_dft_c2r_1d(ACF_N, y->spec, y->acf, FFTW_ESTIMATE);
    vx__fftw_unlock();
    if (!y->fwd || !y->inv) {
        vx__yin_free(y);
        return NULL;
    }
    memset(y->in, 0, sizeof(float) * ACF_N);
    return y;
}

void vx__yin_free(vx__yin *y)
{
    if (!y)
        return;
    vx__fftw_lock();
    if (y->fwd)
        fftwf_destroy_plan(y->fwd);
    if (y->inv)
        fftwf_destroy_plan(y->inv);
    vx__fftw_unlock();
    fftwf_free(y->in);
    fftwf_free(y->acf);
    fftwf_free(y->spec);
    free(y);
}

void vx__yin_cmnd(vx__yin *y, const float *frame, double *yin_out)
{
    /* librosa.autocorrelate: irfft(|rfft(x, n)|^2) of the zero-padded frame. */
    memcpy(y->in, frame, sizeof(float) * VX__PYIN_FRAME);
    memset(y->in + VX__PYIN_FRAME, 0, sizeof(float) * (ACF_N - VX__PYIN_FRAME));
    fftwf_execute_dft_r2c(y->fwd, y->in, y->spec);
    for (int k = 0; k <= ACF_N / 2; k++) {
        float re = y->spec[k][0], im = y->spec[k][1];
        y->spec[k][0] = re * re + im * im;
        y->spec[k][1] = 0.0f;
    }
    fftwf_execute_dft_c2r(y->inv, y->spec, y->acf);
    const float scale = 1.0f / (float)ACF_N;
    const float r0 = y->acf[0] * scale;

    /* d(tau) = 2 (r0 - r(tau)) - cumsum(x^2)[tau-1]  (float32), then the
     * cumulative mean: float32 running sum divided by tau in float64. */
    float cs = 0.0f;   /* cumsum(x^2)[tau-1] */
    float run = 0.0f;  /* cumsum(d[1..tau]) */
    for (int tau = 1; tau <= VX__PYIN_MAX_PERIOD; tau++) {
        float x = frame[tau - 1];
        cs += x * x;
        float d = 2.0f * (r0 - y->acf[tau] * scale) - cs;
        run += d;
        if (tau >= VX__PYIN_MIN_PERIOD) {
            double den = (double)run / (double)tau;
            yin_out[tau - VX__PYIN_MIN_PERIOD] = (double)d / (den + DBL_MIN);
        }
    }
}

/* Smallest k in 1..100 with thresholds[k] > h; 101 when none. */
static int first_threshold_above(const vx__pyin_tables *t, double h)
{
    if (!(h < 1.0))
        return N_THRESH + 1; /* also NaN */
    int k = (int)floor(h * N_THRESH);
    if (k < 1)
        k = 1;
    if (k > N_THRESH)
        k = N_THRESH;
    while (k > 1 && t->thresholds[k - 1] > h)
        k--;
    while (k <= N_THRESH && !(t->thresholds[k] > h))
        k++;
    return k;
}

void vx__pyin_frame(vx__yin *y, const vx__pyin_tables *t, const float *frame,
                    vx__pyin_obs *obs)
{
    double *yin = y->yin;
    vx__yin_cmnd(y, frame, yin);
    const int n = VX__PYIN_N_YIN;

    /* Parabolic interpolation shifts; edges are 0. */
    y->shift[0] = 0.0;
    y->shift[n - 1] = 0.0;
    for (int i = 1; i < n - 1; i++) {
        double a = yin[i + 1] + yin[i - 1] - 2.0 * yin[i];
        double b = (yin[i + 1] - yin[i - 1]) / 2.0;
        y->shift[i] = fabs(b) < fabs(a) ? -b / a : 0.0;
    }

    /* Troughs: util.localmin with edge padding, then is_trough[0] rule. */
    int nt = 0;
    if (yin[0] < yin[1])
        y->trough_idx[nt++] = 0;
    for (int i = 1; i < n - 1; i++)
        if (yin[i] < yin[i - 1] && yin[i] <= yin[i + 1])
            y->trough_idx[nt++] = i;
    if (yin[n - 1] < yin[n - 2])
        y->trough_idx[nt++] = n - 1;

    obs->n = 0;
    obs->voiced_prob = 0.0;
    if (nt == 0)
        return;

    /* Threshold prior (beta) x trough prior (Boltzmann on the order of the
     * troughs below each threshold).  The set of troughs below threshold k
     * only changes at the distinct kmin values, so sum the beta mass over
     * each constant stretch. */
    int gmin = 0;
    for (int j = 0; j < nt; j++) {
        double h = yin[y->trough_idx[j]];
        y->trough_kmin[j] = first_threshold_above(t, h);
        y->trough_prob[j] = 0.0;
        if (h < yin[y->trough_idx[gmin]])
            gmin = j;
    }
    int k = 1;
    while (k <= N_THRESH) {
        /* active set at threshold k and the next change point */
        int next = N_THRESH + 1, na = 0;
        for (int j = 0; j < nt; j++) {
            int km = y->trough_kmin[j];
            if (km <= k)
                y->active[na++] = j;
            else if (km < next)
                next = km;
        }
        if (na > 0) {
            double mass = 0.0;
            for (int q = k; q < next; q++)
                mass += t->beta_probs[q - 1];
            double w = mass * t->boltz_fact[na];
            for (int p = 0; p < na; p++)
                y->trough_prob[y->active[p]] += w * t->exp_neg[p];
        }
        k = next;
    }
    {
        int below = y->trough_kmin[gmin] - 1; /* thresholds not above min */
        if (below > N_THRESH)
            below = N_THRESH;
        y->trough_prob[gmin] += NO_TROUGH_PROB * t->beta_prefix[below];
    }

    /* Candidates -> pitch bins (last write wins, like numpy assignment). */
    int lo = VX__PYIN_N_BINS + 1, hi = -1;
    for (int j = 0; j < nt; j++) {
        double p = y->trough_prob[j];
        if (p == 0.0)
            continue;
        int idx = y->trough_idx[j];
        double period = (double)(VX__PYIN_MIN_PERIOD + idx) + y->shift[idx];
        double f0 = 22050.0 / period;
        double bi = nearbyint(120.0 * log2(f0 / 50.0));
        int b = bi < 0.0 ? 0 : (bi > VX__PYIN_N_BINS ? VX__PYIN_N_BINS : (int)bi);
        y->bin_prob[b] = p;
        if (b < lo)
            lo = b;
        if (b > hi)
            hi = b;
    }
    double vp = 0.0;
    for (int b = lo; b <= hi && b < VX__PYIN_N_BINS; b++) {
        if (y->bin_prob[b] != 0.0) {
            obs->bin[obs->n] = (uint16_t)b;
            obs->prob[obs->n] = y->bin_prob[b];
            obs->n++;
            vp += y->bin_prob[b];
        }
    }
    for (int b = lo; b <= hi; b++)
        y->bin_prob[b] = 0.0;
    obs->voiced_prob = vp < 0.0 ? 0.0 : (vp > 1.0 ? 1.0 : vp);
}

/* ------------------------------------------------------------------ */
/* Viterbi                                                             */
/* ------------------------------------------------------------------ */
/* Backpointers are kept only for the frames whose state is not decided yet:
 * every CONVERGE_EVERY frames the set of ancestors of all current states is
 * traced back; where it shrinks to one state, every path goes through it, so
 * the frames up to there are decided exactly and their backpointers freed.
 * Memory then stays proportional to the undecided tail (typically tens of
 * frames) plus two bytes per frame of decided states. */
#define CONVERGE_EVERY 128

struct vx__viterbi {
    const vx__pyin_tables *t;
    double val[VX__PYIN_N_STATES];
    double nval[VX__PYIN_N_STATES];
    double lobs[VX__PYIN_N_STATES];
    uint16_t *bp;       /* frames [n_decided, n_frames) x states */
    size_t bp_cap;      /* capacity in frames */
    uint16_t *states;   /* decided states [0, n_decided) */
    size_t states_cap;
    size_t n_decided;
    size_t n_frames;
    uint8_t mark[VX__PYIN_N_STATES];
    uint16_t set_a[VX__PYIN_N_STATES], set_b[VX__PYIN_N_STATES];
};

vx__viterbi *vx__viterbi_new(const vx__pyin_tables *t)
{
    if (!t)
        return NULL;
    vx__viterbi *v = calloc(1, sizeof *v);
    if (!v)
        return NULL;
    v->t = t;
    return v;
}

void vx__viterbi_free(vx__viterbi *v)
{
    if (!v)
        return;
    free(v->bp);
    free(v->states);
    free(v);
}

static uint16_t *bp_row(vx__viterbi *v, size_t frame)
{
    return v->bp + (frame - v->n_decided) * VX__PYIN_N_STATES;
}

/* Makes room for decided states up to frame count n. */
static int states_reserve(vx__viterbi *v, size_t n)
{
    if (n <= v->states_cap)
        return VX_OK;
    size_t ncap = v->states_cap ? v->states_cap : 1024;
    while (ncap < n)
        ncap *= 2;
    uint16_t *ns = realloc(v->states, ncap * sizeof *ns);
    if (!ns)
        return VX_ENOMEM;
    v->states = ns;
    v->states_cap = ncap;
    return VX_OK;
}

/* Backtracks from state s at frame c down to n_decided, deciding them. */
static void decide_down_to(vx__viterbi *v, size_t c, int s)
{
    for (size_t f = c + 1; f-- > v->n_decided;) {
        v->states[f] = (uint16_t)s;
        if (f > v->n_decided)
            s = bp_row(v, f)[s];
    }
}

static int try_converge(vx__viterbi *v)
{
    size_t n = v->n_frames;
    if (n < 2 || n - v->n_decided < 2)
        return VX_OK;
    uint16_t *cur = v->set_a, *nxt = v->set_b;
    int ncur = VX__PYIN_N_STATES;
    for (int s = 0; s < VX__PYIN_N_STATES; s++)
        cur[s] = (uint16_t)s;
    for (size_t f = n - 1; f > v->n_decided && f >= 1; f--) {
        const uint16_t *row = bp_row(v, f);
        int nn = 0;
        for (int k = 0; k < ncur; k++) {
            uint16_t p = row[cur[k]];
            if (!v->mark[p]) {
                v->mark[p] = 1;
                nxt[nn++] = p;
            }
        }
        for (int k = 0; k < nn; k++)
            v->mark[nxt[k]] = 0;
        uint16_t *tmp = cur;
        cur = nxt;
        nxt = tmp;
        ncur = nn;
        if (ncur == 1) {
            size_t c = f - 1; /* every path goes through cur[0] at frame c */
            if (states_reserve(v, c + 1))
                return VX_ENOMEM;
            decide_down_to(v, c, cur[0]);
            size_t drop = c + 1 - v->n_decided;
            memmove(v->bp, v->bp + drop * VX__PYIN_N_STATES,
                    (n - (c + 1)) * VX__PYIN_N_STATES * sizeof *v->bp);
            v->n_decided = c + 1;
            return VX_OK;
        }
    }
    return VX_OK;
}

size_t vx__viterbi_frames(const vx__viterbi *v) { return v ? v->n_frames : 0; }

/* Max-plus convolution of one 399-state block with a banded kernel:
 * best[b] = max over sources i in [b-50, b+50] of src[i] + L(i -> b), the
 * leftmost source winning ties.  The kernel is log(p * w(|i-b|) / S_i) with w
 * the triangular window: a concave function of i-b plus a function of i
 * alone, so the matrix src[i] + L(i -> b) is inverse-Monge and the leftmost
 * argmax is non-decreasing in b (Aggarwal et al. 1987).  Divide and conquer
 * on the targets therefore needs O((n + band) log n) evaluations instead of
 * n * band.  Lt is the kernel laid out [b][d] so a target's row is
 * contiguous. */
typedef struct conv_ctx {
    const double *src;
    const double (*Lt)[BAND_W];
    double *best;
    int16_t *arg;
} conv_ctx;

static void conv_dc(const conv_ctx *c, int bl, int br, int il, int ir)
{
    while (bl <= br) {
        int m = (bl + br) / 2;
        int lo = m - VX__PYIN_BAND > il ? m - VX__PYIN_BAND : il;
        int hi = m + VX__PYIN_BAND < ir ? m + VX__PYIN_BAND : ir;
        const double *row = c->Lt[m] + VX__PYIN_BAND - m;
        /* two independent chains (even/odd i) keep the select pipelined;
         * merged so the leftmost maximum wins */
        double bv0 = -INFINITY, bv1 = -INFINITY;
        int ba0 = lo, ba1 = lo;
        int i = lo;
        for (; i + 1 <= hi; i += 2) {
            double x0 = c->src[i] + row[i];
            double x1 = c->src[i + 1] + row[i + 1];
            ba0 = x0 > bv0 ? i : ba0;
            bv0 = x0 > bv0 ? x0 : bv0;
            ba1 = x1 > bv1 ? i + 1 : ba1;
            bv1 = x1 > bv1 ? x1 : bv1;
        }
        if (i <= hi) {
            double x0 = c->src[i] + row[i];
            ba0 = x0 > bv0 ? i : ba0;
            bv0 = x0 > bv0 ? x0 : bv0;
        }
        double bv = bv0;
        int ba = ba0;
        if (bv1 > bv || (bv1 == bv && ba1 < ba)) {
            bv = bv1;
            ba = ba1;
        }
        c->best[m] = bv;
        c->arg[m] = (int16_t)ba;
        /* recurse on the smaller half, loop on the other */
        if (m - bl < br - m) {
            conv_dc(c, bl, m - 1, il, ba);
            bl = m + 1;
            il = ba;
        } else {
            conv_dc(c, m + 1, br, ba, ir);
            br = m - 1;
            ir = ba;
        }
    }
}

static void forward_step(vx__viterbi *v, uint16_t *bp)
{
    const vx__pyin_tables *t = v->t;
    const double *V = v->val, *U = v->val + VX__PYIN_N_BINS;
    const int n = VX__PYIN_N_BINS;

    int gidx = 0;
    double gmax = v->val[0];
    for (int s = 1; s < VX__PYIN_N_STATES; s++)
        if (v->val[s] > gmax) {
            gmax = v->val[s];
            gidx = s;
        }
    const double oob = gmax + t->log_tiny;
    const int gbin = gidx % n;

    /* One convolution per source block with the stay kernel; the switch
     * kernel is the same kernel plus a constant (log of 0.01/0.99), so the
     * argmax serves both target blocks and each value is then recomputed
     * from the exact table of the transition actually taken. */
    double bestV[VX__PYIN_N_BINS], bestU[VX__PYIN_N_BINS];
    int16_t argV[VX__PYIN_N_BINS], argU[VX__PYIN_N_BINS];
    conv_ctx cv = {V, t->lstay_t, bestV, argV}, cu = {U, t->lstay_t, bestU, argU};
    conv_dc(&cv, 0, n - 1, 0, n - 1);
    conv_dc(&cu, 0, n - 1, 0, n - 1);

    for (int tgt = 0; tgt < 2; tgt++) { /* 0: voiced targets, 1: unvoiced */
        const double (*LV)[BAND_W] = tgt ? t->lswitch_t : t->lstay_t;
        const double (*LU)[BAND_W] = tgt ? t->lstay_t : t->lswitch_t;
        const int off = tgt ? n : 0;
        for (int b = 0; b < n; b++) {
            int iv = argV[b], iu = argU[b];
            double xv = V[iv] + LV[b][iv - b + VX__PYIN_BAND];
            double xu = U[iu] + LU[b][iu - b + VX__PYIN_BAND];
            /* voiced sources have the lower state indices: they win ties */
            double best = xv >= xu ? xv : xu;
            int arg = xv >= xu ? iv : n + iu;
            if (abs(gbin - b) > VX__PYIN_BAND && (oob > best || (oob == best && gidx < arg))) {
                best = oob;
                arg = gidx;
            }
            v->nval[off + b] = v->lobs[off + b] + best;
            bp[off + b] = (uint16_t)arg;
        }
    }
}

int vx__viterbi_push(vx__viterbi *v, const vx__pyin_obs *obs)
{
    if (!v || !obs)
        return VX_EINVAL;
    const vx__pyin_tables *t = v->t;
    for (int b = 0; b < VX__PYIN_N_BINS; b++)
        v->lobs[b] = t->log_tiny;
    for (int c = 0; c < obs->n; c++)
        v->lobs[obs->bin[c]] = log(obs->prob[c] + DBL_MIN);
    double lu = log((1.0 - obs->voiced_prob) / VX__PYIN_N_BINS + DBL_MIN);
    for (int b = 0; b < VX__PYIN_N_BINS; b++)
        v->lobs[VX__PYIN_N_BINS + b] = lu;

    size_t pending = v->n_frames - v->n_decided;
    if (pending == v->bp_cap) {
        size_t ncap = v->bp_cap ? v->bp_cap * 2 : 256;
        uint16_t *nbp = realloc(v->bp, ncap * VX__PYIN_N_STATES * sizeof *nbp);
        if (!nbp)
            return VX_ENOMEM;
        v->bp = nbp;
        v->bp_cap = ncap;
    }
    uint16_t *bp = v->bp + pending * VX__PYIN_N_STATES;
    if (v->n_frames == 0) {
        for (int b = 0; b < VX__PYIN_N_BINS; b++) {
            v->val[b] = v->lobs[b] + t->log_init;
            v->val[VX__PYIN_N_BINS + b] = v->lobs[VX__PYIN_N_BINS + b] + t->log_init;
        }
        memset(bp, 0, VX__PYIN_N_STATES * sizeof *bp);
        v->n_frames = 1;
        return VX_OK;
    }
    forward_step(v, bp);
    memcpy(v->val, v->nval, sizeof v->val);
    v->n_frames++;
    if (v->n_frames % CONVERGE_EVERY == 0)
        return try_converge(v);
    return VX_OK;
}

int vx__viterbi_decode(vx__viterbi *v, uint16_t *states)
{
    if (!v || !states)
        return VX_EINVAL;
    if (v->n_frames == 0)
        return VX_OK;
    if (states_reserve(v, v->n_frames))
        return VX_ENOMEM;
    int s = 0;
    for (int i = 1; i < VX__PYIN_N_STATES; i++)
        if (v->val[i] > v->val[s])
            s = i;
    decide_down_to(v, v->n_frames - 1, s);
    memcpy(states, v->states, v->n_frames * sizeof *states);
    return VX_OK;
}
