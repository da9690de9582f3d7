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
 * log(DBL_MIN).  The forward step therefore relaxes only the band and
 * handles the out-of-band floor exactly with one global maximum per frame:
 * an out-of-band source can only win when the global best state is out of
 * band for that target.  The unvoiced sources go through a monotone
 * divide-and-conquer max-plus convolution (conv_dc): the few inner nodes
 * (31 of more than LEAF_T targets) are searched with 4-lane vector scans,
 * and the leaves -- 32 runs of 11 or 12 targets whose sources the inner
 * nodes have bounded, typically a dozen -- are searched in full, twelve
 * targets side by side (three vectors: a fourth would only hold junk
 * lanes), which replaces some 370 short, branchy node searches per frame.
 * The tree depends only on the block size, so it is built once with the
 * tables and walked level by level: the nodes of a level are independent
 * (their searches overlap in the out-of-order core), and a node's search
 * is a fixed 32- or 48-source window widened inside its band, without a
 * data-dependent branch in the common case (see node_argmax).  Leaves of 8
 * targets (two vectors, 44 nodes) and a leaf split into its middle vector
 * first, then the outer two over the sources the middle bounds (a third
 * fewer vector steps), were both slower, by 6 % and 24 % of the step:
 * a node costs more than the leaf steps it saves, and the split leaf's
 * serial dependency and per-stream clamps cost more than its steps.
 * The kernel is read source-major from distinct
 * padded rows (a row depends only on its source's row sum): 208 rows,
 * ~215 KB for both kernels, instead of three 320 KB target-major tables,
 * so the per-frame lookups stay in cache.  The voiced sources are
 * sparse -- every voiced bin that is not one of the frame's few candidates
 * carries the log(DBL_MIN) ~ -708 observation -- so they are relaxed only
 * from the sources above a threshold, and exactness is proved per target
 * with bounds (floating-point addition is monotone, so a source below theta
 * contributes at most fl(theta + max kernel)); where the bound does not
 * settle a target its band is searched in full (see forward_step).  Ties
 * keep numpy's first-index rule: sources are visited in ascending order with
 * strict '>', and voiced sources (lower indices) win ties with unvoiced ones.
 * Each vector search returns the leftmost maximum (lanes merged by value,
 * then lowest index), so the argmax is the one of a scan in ascending
 * order with strict '>'.  Per-frame work allocates nothing.
 *
 * The rest of the step is kept to a few passes over 399-long arrays: the
 * frame's global maximum (for the floor) and the significant voiced
 * sources come from bounds the previous frame left while writing its
 * values (its maximum over each block: max does not round and fl(c + x)
 * is monotone in x, so the bound of its non-candidate voiced values is
 * exact), so a frame normally scans none of its 798 values for them and
 * looks only at the previous frame's candidate bins; the bounds are
 * checked, never assumed, and a failed check takes the full scan.  The
 * merge of the voiced and unvoiced results runs four targets at a time
 * wherever the significant argmax is proved exact (any other group of four
 * takes the per-target path), the best values are built in place in the
 * next frame's value array (a smaller working set: with the kernels'
 * distinct edge rows it already exceeds L1, and most of the step's cache
 * misses are those rows).
 *
 * YIN front end: the frames are 2048 samples at hop 512 and only lags
 * 0..441 (< 512) are used, so the frame's autocorrelation is the sum over
 * its four hop-sized blocks of the block's own terms plus its cross terms
 * with the next block (a pair j, j + tau lies in one block or in two
 * adjacent ones).  Each block's terms are computed once, with one 1024-point
 * real FFT of the zero-padded block and one 1024-point complex inverse of
 * P + iQ (P = |B_m|^2 and Q = conj(B_m-1) B_m are both Hermitian, so the
 * real part is the auto terms and the imaginary part the cross terms), and
 * shared by the four frames that contain the block: 1 + 1 short transforms
 * per frame instead of a 2560-point forward and inverse pair.  The terms are
 * summed in double in a fixed order and rounded once to float32 (the scale
 * 1/1024 is a power of two), so a frame's values do not depend on how the
 * frames are batched or threaded.  Like the single 2560-point float32
 * transform before it (and numpy's own float32 transform) this is the exact
 * autocorrelation up to float32 transform rounding; on the 70 librosa
 * fixtures every voicing decision, f0 and voiced probability is unchanged.
 *
 * Front-end speed, all without changing a bit: blocks are numbered on
 * across vx__pyin_frames calls, and a call whose first three blocks hold
 * the same samples (memcmp of the kept, zero-padded transform inputs) as
 * the previous call's last three reuses their terms: the analyser hands out
 * 16-frame chunks, which otherwise cost 19 block transforms per 16 frames.
 * The two auto-term halves of a frame's sum, (a0 + a1) and (a2 + a3), are
 * one pair sum per block, shared by the frames m and m - 2.  The spectrum
 * product P + iQ is formed eight bins at a time, split into re and im
 * vectors by one in-lane shuffle each and put back by in-lane unpacks (no
 * cross-lane work), and written straight into both halves of the inverse's
 * input (the upper half reversed).  The CMND's running sums (float32 cumsum
 * of x^2 and of d) are inherently sequential, so four consecutive frames
 * run side by side, one per vector lane, with exactly the scalar
 * operations in each lane; the means stay lane-major (no transposes out),
 * and the trough tests run right there, four frames per compare, shifted
 * into bit sets: yin[i] < yin[i-1] (lt) and yin[i] < thresholds[k_last].
 * Without NaNs, yin[i] <= yin[i+1] is !lt[i+1], so a trough is lt[i] &
 * ~lt[i+1] -- one compare per value and word operations per frame; a frame
 * whose d or running sums are not all finite (its last running sum says
 * so; only then can a mean be NaN) tests both compares per index instead.
 * Only troughs below thresholds[k_last] (the last
 * threshold with non-zero beta mass, ~0.8) can receive threshold mass --
 * every later stretch adds w = 0 * ... = +0, which changes no sum -- so only
 * those "candidates" (typically ~9 of ~25 troughs) get kmin, stretches and
 * parabolic shifts; with none, the global minimum alone gets the no-trough
 * mass.  The stretches come from buckets by kmin (bit sets, no sort), and
 * the Boltzmann terms go to a dense list of the active candidates in lag order,
 * where the candidate at rank p gets w * exp_neg[p]: a contiguous vector
 * run per stretch (a new candidate is inserted at its rank, popcount of the
 * active ones before it), instead of one scattered update per candidate.
 * Two prefetches pay for themselves in time though not in instructions:
 * the next block's samples (the analyser's buffer is ~0.5 MB, so the
 * block copy otherwise waits on memory) and the lines of the observations
 * a batch writes (4 KB apart).
 * Not done, because not exact: the c2c inverse cannot be replaced by
 * a c2r of P alone (FFTW's rounding of the real part depends on Q), and
 * d / (run / tau) cannot become d * tau / run or use a reciprocal.  (GCC 12
 * lowers __builtin_convertvector float -> double in the avx2 clone into
 * halves through the stack; the element-wise CVT4 gives one vcvtps2pd.)
 */
#include "analysis/pyin.h"

#include <float.h>
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <fftw3.h>

#include "core/fftw_lock.h"
#include "core/simd.h"
#include "voxclone/voxclone.h"

/* Hot per-frame loops are marked VX__HOT (core/simd.h: an AVX2 clone picked
 * at run time, bit-identical to the baseline build; no libm calls inside). */

#define N_THRESH 100
#define BOLTZ_LAMBDA 2.0
#define NO_TROUGH_PROB 0.01
#define SWITCH_PROB 0.01
/* The frame's autocorrelation is assembled from blocks of one hop (see
 * DESIGN); each block is transformed zero-padded to BLK_N = 2 * BLK, which
 * makes its circular auto- and cross-correlations linear. */
#define BLK VX__PYIN_HOP
#define BLK_N (2 * BLK)
#define BAND_W (2 * VX__PYIN_BAND + 1)
/* DC nodes of at most LEAF_T targets are searched in full, up to LEAF_T
 * targets at a time (conv_leaf: up to four 4-lane vectors); their rows are
 * padded with KPAD values of -inf on each side */
#define LEAF_T 16
#define KPAD LEAF_T
#define KROW_W (BAND_W + 2 * KPAD)
/* room for the DC tree's inner nodes and leaves (31 and 32 for 399) */
#define DC_MAX 64

struct vx__pyin_tables {
    double thresholds[N_THRESH + 1];
    double beta_probs[N_THRESH];
    double beta_prefix[N_THRESH + 1]; /* sum of beta_probs[0..k-1] */
    int k_last;      /* last k with beta_probs[k - 1] != 0: the rest are 0 */
    double thr_last; /* thresholds[k_last] */
    double exp_neg[VX__PYIN_N_YIN + 2];  /* exp(-lambda * k) */
    double boltz_fact[VX__PYIN_N_YIN + 2]; /* (1-e^-l)/(1-e^-lN) */
    double bin_hz[VX__PYIN_N_BINS];
    double log_tiny;
    double log_init; /* log(p_init + tiny), p_init uniform over 798 states */
    /* log transition from source b+d to target b, laid out [b][d + BAND] */
    /* (one spare zero row: the DC's 4-wide loads may read up to three
     * values past the end of the last target's band, then mask them) */
    double lstay_t[VX__PYIN_N_BINS + 1][BAND_W];
    double lswitch_t[VX__PYIN_N_BINS][BAND_W];
    double kmax_stay[VX__PYIN_N_BINS];   /* max over d of lstay_t[b][d] */
    double kmax_switch[VX__PYIN_N_BINS]; /* max over d of lswitch_t[b][d] */
    double kmax_all;                     /* max of both over all b */
    /* Both kernels source-major: ksrc[i][b - i] = lstay_t[b][i - b + BAND]
     * and kswsrc[i][b - i] = lswitch_t[b][i - b + BAND] for |b - i| <= BAND,
     * -inf for BAND < |b - i| <= BAND + KPAD and for targets outside the
     * block.  A row depends only on the source's row sum, so the 2 x 399
     * sources share 208 distinct rows (krow, the rest stays untouched):
     * ~215 KB that stay in cache, for the DC's leaf blocks, the sparse
     * voiced pass and every single lookup, instead of the 320 KB
     * target-major tables. */
    const double *ksrc[VX__PYIN_N_BINS];
    const double *kswsrc[VX__PYIN_N_BINS];
    /* The DC's tree (see conv_dc): it depends only on the block size, so
     * it is built once.  Inner node k (level order) searches target
     * dc_m[k] within the sources bounded by entries dc_l[k], dc_r[k] of the
     * frame's bound array (0: source 0, 1: source 398, 2 + j: node j's
     * argmax); leaf k covers targets lf_bl[k]..lf_br[k] (ascending) with
     * bounds lf_l[k], lf_r[k]. */
    int n_dc, n_lf;
    int16_t dc_m[DC_MAX], dc_l[DC_MAX], dc_r[DC_MAX];
    uint8_t dc_w[DC_MAX]; /* node over at least 48 targets: 48-wide first window */
    int16_t lf_bl[DC_MAX], lf_br[DC_MAX], lf_l[DC_MAX], lf_r[DC_MAX];
    int n_krows;
    double krow[2 * VX__PYIN_N_BINS][KROW_W];
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
    t->k_last = 1;
    for (int k = 1; k <= N_THRESH; k++)
        if (t->beta_probs[k - 1] != 0.0)
            t->k_last = k;
    t->thr_last = t->thresholds[t->k_last];
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
    /* An entry depends only on |d| and the row sum s, and most rows share
     * their sum (all interior rows, and many mirrored edge rows), so the
     * logs are computed once per distinct s (by bits: the same inputs to
     * log, the same results) -- 4x fewer log calls at set-up. */
    enum { MAX_SUMS = 2 * VX__PYIN_BAND + 2 };
    double sums[MAX_SUMS];
    double (*memo)[2][VX__PYIN_BAND + 1] = malloc(sizeof(double[MAX_SUMS][2][VX__PYIN_BAND + 1]));
    int n_sums = 0;
    if (!memo) {
        free(t);
        return NULL;
    }
    for (int i = 0; i < VX__PYIN_N_BINS; i++) {
        memset(row, 0, sizeof row);
        for (int j = i - VX__PYIN_BAND; j <= i + VX__PYIN_BAND; j++)
            if (j >= 0 && j < VX__PYIN_N_BINS)
                row[j] = (double)(2 * (VX__PYIN_BAND + 1 - abs(i - j))) / (double)(BAND_W + 1);
        double s = np_sum(row, VX__PYIN_N_BINS);
        int m = 0;
        while (m < n_sums && memcmp(&sums[m], &s, sizeof s) != 0)
            m++;
        if (m == n_sums) {
            if (n_sums == MAX_SUMS) { /* cannot happen: at most 2 * BAND + 1 sums */
                free(memo);
                free(t);
                return NULL;
            }
            sums[n_sums++] = s;
            for (int ad = 0; ad <= VX__PYIN_BAND; ad++) {
                double tr = (double)(2 * (VX__PYIN_BAND + 1 - ad)) / (double)(BAND_W + 1) / s;
                memo[m][0][ad] = log(p_stay * tr + DBL_MIN);
                memo[m][1][ad] = log(p_switch * tr + DBL_MIN);
            }
        }
        /* source i = target b + d */
        for (int d = -VX__PYIN_BAND; d <= VX__PYIN_BAND; d++) {
            int b = i - d;
            if (b < 0 || b >= VX__PYIN_N_BINS)
                continue;
            t->lstay_t[b][d + VX__PYIN_BAND] = memo[m][0][abs(d)];
            t->lswitch_t[b][d + VX__PYIN_BAND] = memo[m][1][abs(d)];
        }
    }
    free(memo);
    t->kmax_all = -INFINITY;
    for (int b = 0; b < VX__PYIN_N_BINS; b++) {
        double ks = -INFINITY, kw = -INFINITY;
        for (int d = -VX__PYIN_BAND; d <= VX__PYIN_BAND; d++) {
            int i = b + d;
            if (i < 0 || i >= VX__PYIN_N_BINS)
                continue;
            double ls = t->lstay_t[b][d + VX__PYIN_BAND], lw = t->lswitch_t[b][d + VX__PYIN_BAND];
            ks = ls > ks ? ls : ks;
            kw = lw > kw ? lw : kw;
        }
        t->kmax_stay[b] = ks;
        t->kmax_switch[b] = kw;
        t->kmax_all = ks > t->kmax_all ? ks : t->kmax_all;
        t->kmax_all = kw > t->kmax_all ? kw : t->kmax_all;
    }
    /* the DC tree, level by level: a node of more than LEAF_T targets is
     * split at its middle target; a leaf is carried to the next level
     * unchanged, so each level's list stays in ascending target order */
    {
        int16_t lv[2][VX__PYIN_N_BINS][4]; /* bl, br, left bound, right bound */
        int ncur = 1, c = 0, inner = 1;
        lv[0][0][0] = 0;
        lv[0][0][1] = VX__PYIN_N_BINS - 1;
        lv[0][0][2] = 0;
        lv[0][0][3] = 1;
        t->n_dc = 0;
        while (inner) {
            int nn = 0;
            inner = 0;
            for (int k = 0; k < ncur; k++) {
                const int16_t *q = lv[c][k];
                if (q[1] - q[0] < LEAF_T) {
                    memcpy(lv[c ^ 1][nn++], q, sizeof lv[c][k]);
                    continue;
                }
                if (t->n_dc == DC_MAX) {
                    free(t);
                    return NULL;
                }
                const int m = (q[0] + q[1]) / 2, j = t->n_dc++;
                t->dc_m[j] = (int16_t)m;
                t->dc_l[j] = q[2];
                t->dc_r[j] = q[3];
                t->dc_w[j] = q[1] - q[0] + 1 >= 48;
                int16_t *l = lv[c ^ 1][nn++], *r = lv[c ^ 1][nn++];
                l[0] = q[0];
                l[1] = (int16_t)(m - 1);
                l[2] = q[2];
                l[3] = (int16_t)(2 + j);
                r[0] = (int16_t)(m + 1);
                r[1] = q[1];
                r[2] = (int16_t)(2 + j);
                r[3] = q[3];
                inner = 1;
            }
            c ^= 1;
            ncur = nn;
        }
        if (ncur > DC_MAX) {
            free(t);
            return NULL;
        }
        t->n_lf = ncur;
        for (int k = 0; k < ncur; k++) {
            t->lf_bl[k] = lv[c][k][0];
            t->lf_br[k] = lv[c][k][1];
            t->lf_l[k] = lv[c][k][2];
            t->lf_r[k] = lv[c][k][3];
        }
    }
    t->n_krows = 0;
    uint64_t khash[2 * VX__PYIN_N_BINS]; /* of each distinct row, to skip most memcmps */
    for (int sw = 0; sw < 2; sw++) {
        const double(*lt)[BAND_W] = sw ? (const double(*)[BAND_W])t->lswitch_t
                                       : (const double(*)[BAND_W])t->lstay_t;
        for (int i = 0; i < VX__PYIN_N_BINS; i++) {
            double r[KROW_W];
            for (int e = 0; e < KROW_W; e++) {
                int b = i + e - KPAD - VX__PYIN_BAND;
                r[e] = e >= KPAD && e < KPAD + BAND_W && b >= 0 && b < VX__PYIN_N_BINS
                           ? lt[b][i - b + VX__PYIN_BAND]
                           : -INFINITY;
            }
            uint64_t h = 1469598103934665603ull;
            for (int e = 0; e < KROW_W; e++) {
                uint64_t u;
                memcpy(&u, &r[e], sizeof u);
                h = (h ^ u) * 1099511628211ull;
            }
            int k = 0;
            while (k < t->n_krows && (khash[k] != h || memcmp(t->krow[k], r, sizeof r) != 0))
                k++;
            if (k == t->n_krows) {
                khash[k] = h;
                memcpy(t->krow[t->n_krows++], r, sizeof r);
            }
            const double *kr = t->krow[k] + KPAD + VX__PYIN_BAND;
            if (sw)
                t->kswsrc[i] = kr;
            else
                t->ksrc[i] = kr;
        }
    }
    return t;
}

void vx__pyin_tables_free(vx__pyin_tables *t) { free(t); }

static pthread_mutex_t vx__tables_mutex = PTHREAD_MUTEX_INITIALIZER;
static vx__pyin_tables *vx__tables_shared;

const vx__pyin_tables *vx__pyin_tables_shared(void)
{
    pthread_mutex_lock(&vx__tables_mutex);
    if (!vx__tables_shared)
        vx__tables_shared = vx__pyin_tables_new();
    const vx__pyin_tables *t = vx__tables_shared;
    pthread_mutex_unlock(&vx__tables_mutex);
    return t;
}

double vx__pyin_bin_hz(const vx__pyin_tables *t, int b)
{
    if (!t || b < 0 || b >= VX__PYIN_N_BINS)
        return NAN;
    return t->bin_hz[b];
}

double vx__pyin_log_trans(const vx__pyin_tables *t, int from, int to)
{
    if (!t || from < 0 || from >= VX__PYIN_N_STATES || to < 0 || to >= VX__PYIN_N_STATES)
        return NAN;
    int bf = from % VX__PYIN_N_BINS, bt = to % VX__PYIN_N_BINS;
    int d = bf - bt;
    if (abs(d) > VX__PYIN_BAND)
        return t->log_tiny;
    int same = (from < VX__PYIN_N_BINS) == (to < VX__PYIN_N_BINS);
    return same ? t->lstay_t[bt][d + VX__PYIN_BAND] : t->lswitch_t[bt][d + VX__PYIN_BAND];
}

double vx__pyin_log_init(const vx__pyin_tables *t) { return t ? t->log_init : NAN; }

/* ------------------------------------------------------------------ */
/* YIN front end                                                       */
/* ------------------------------------------------------------------ */
/* Lag arrays are padded to a multiple of 4 doubles (vector loops). */
#define LAGS (VX__PYIN_MAX_PERIOD + 1)
/* yin_cmnd4 runs lags 0..ROW_T-1 in steps of 4 and writes the cumulative
 * means of yin indices 0..YIN_ROW-1 (the last two are junk, never read) */
#define ROW_T ((LAGS + 3) / 4 * 4)
#define YIN_ROW (ROW_T - VX__PYIN_MIN_PERIOD)
/* bit sets over the yin indices, highest bit first: index 64 w + r is bit
 * 63 - r of word w (the order in which yin_cmnd4 shifts them in) */
#define T_WORDS ((YIN_ROW + 63) / 64)
/* candidates (troughs, never two adjacent: at most N_YIN / 2) as bits */
#define CAND_WORDS ((VX__PYIN_N_YIN / 2 + 63) / 64)
#define BIN_WORDS ((VX__PYIN_N_BINS + 1 + 63) / 64)
typedef float vx__v4sf __attribute__((vector_size(16)));
typedef int32_t vx__v4si __attribute__((vector_size(16)));
typedef float vx__v8sf __attribute__((vector_size(32)));
typedef double vx__v4df __attribute__((vector_size(32)));
typedef uint64_t vx__v4du __attribute__((vector_size(32)));

struct vx__yin {
    /* BLK_N real: block m zero-padded in in[m & 3] (the transform keeps
     * its input, so these are also the samples that yin_prime compares) */
    float *in[4];
    fftwf_complex *spec[2];     /* BLK_N/2+1: spectra of blocks m-1, m */
    fftwf_complex *prod;        /* BLK_N (+ 4 spare): full spectrum to invert */
    fftwf_complex *out[2];      /* BLK_N: auto + i cross terms, slot m & 1 */
    fftwf_plan fwd, inv;
    /* Blocks are numbered on across calls: next_m is the next block's
     * number, and when n_hist is 3 the slots of blocks next_m - 3 ..
     * next_m - 1 are valid, so a call whose first three blocks hold the
     * same samples reuses them. */
    size_t next_m;
    int n_hist;
    /* slot m & 3: auto terms of blocks m and m + 1 summed in double (the
     * first and second halves of a frame's four-block sum), and the cross
     * terms of block m with block m + 1 */
    double apair[4][LAGS];
    double cross[4][LAGS];
    /* rows of up to four frames: 2 (r0 - r(tau)); index 0 and the pad
     * stay zero (rows of frames a batch does not have keep old values) */
    float ebuf[4][ROW_T];
    /* four frames' cumulative means, lane-major: yin[i][f] is frame f's
     * value at yin index i (tau = MIN_PERIOD + i); bit sets [word][frame]
     * of yin[i] < yin[i-1] and of yin[i] < thresholds[k_last]; fin[f]:
     * frame f's d and running sums are all finite (no NaN among its
     * means) */
    double yin[YIN_ROW][4];
    uint64_t ltw[T_WORDS][4], low[T_WORDS][4];
    int32_t fin[4];
    /* the troughs that can get a non-zero probability, in lag order */
    int cand_idx[VX__PYIN_N_YIN];
    int cand_kmin[VX__PYIN_N_YIN];
    double cand_prob[VX__PYIN_N_YIN];
    /* candidates by kmin (bit c of kadd[k]: candidate c has kmin k); all
     * zero between frames */
    uint64_t kadd[N_THRESH + 1][CAND_WORDS];
    double bin_prob[VX__PYIN_N_BINS + 1];
    uint64_t bin_set[BIN_WORDS]; /* bins written in this frame */
};

vx__yin *vx__yin_new(void)
{
    vx__yin *y = calloc(1, sizeof *y);
    if (!y)
        return NULL;
    int ok = 1;
    for (int i = 0; i < 4; i++) {
        y->in[i] = fftwf_malloc(sizeof(float) * BLK_N);
        ok = ok && y->in[i];
    }
    for (int i = 0; i < 2; i++) {
        y->out[i] = fftwf_malloc(sizeof(fftwf_complex) * BLK_N);
        y->spec[i] = fftwf_malloc(sizeof(fftwf_complex) * (BLK_N / 2 + 1));
        ok = ok && y->out[i] && y->spec[i];
    }
    y->prod = fftwf_malloc(sizeof(fftwf_complex) * (BLK_N + 4));
    if (!ok || !y->prod) {
        vx__yin_free(y);
        return NULL;
    }
    /* process-wide plans (core/fftw_lock.h), run with new-array execution
     * on these buffers: all come from fftwf_malloc, so they have the plans'
     * alignment */
    y->fwd = vx__fftwf_plan_shared_r2c(BLK_N);
    y->inv = vx__fftwf_plan_shared_c2c(BLK_N, FFTW_BACKWARD);
    if (!y->fwd || !y->inv) {
        vx__yin_free(y);
        return NULL;
    }
    for (int i = 0; i < 4; i++)
        memset(y->in[i], 0, sizeof(float) * BLK_N);
    return y;
}

void vx__yin_free(vx__yin *y)
{
    if (!y)
        return;
    /* the plans are shared: not ours to destroy */
    for (int i = 0; i < 4; i++)
        fftwf_free(y->in[i]);
    for (int i = 0; i < 2; i++) {
        fftwf_free(y->out[i]);
        fftwf_free(y->spec[i]);
    }
    fftwf_free(y->prod);
    free(y);
}

/* P + iQ at k into w[k] and P + i conj(Q) at BLK_N - k (k > 0) from the
 * spectra cur and prev: one bin, the reference for the vector loop. */
static inline void yin_pq1(const fftwf_complex *cur, const fftwf_complex *prev, fftwf_complex *w,
                           int k)
{
    float re = cur[k][0], im = cur[k][1];
    float p = re * re + im * im;
    float a = prev[k][0], b = prev[k][1];
    float qr = a * re + b * im;
    float qi = a * im - b * re;
    w[k][0] = p - qi;
    w[k][1] = qr;
    if (k > 0 && k < BLK_N / 2) {
        w[BLK_N - k][0] = p + qi;
        w[BLK_N - k][1] = qr;
    }
}

/* Block m (BLK samples at x): its samples into in[m & 3], its spectrum
 * into spec[m & 1], its lag terms into out[m & 1] and, when have_prev, the
 * pair sum of block m-1's and its auto terms into apair[(m-1) & 3] and the
 * cross terms of block m-1 with it into cross[(m-1) & 3].  Both correlations are real, so one complex inverse
 * transform of P + iQ (P = |C|^2, Q = conj(Prev) C, both Hermitian)
 * returns the auto terms in its real part and the cross terms in its
 * imaginary part. */
VX__HOT static void yin_block(vx__yin *y, const float *x, size_t m, int have_prev)
{
    fftwf_complex *cur = y->spec[m & 1], *prev = y->spec[(m & 1) ^ 1];
    fftwf_complex *w = y->prod;
    float *in = y->in[m & 3];
    memcpy(in, x, sizeof(float) * BLK); /* the upper half stays zero */
    /* the next block's samples (the next call's, usually) are likely out of
     * cache: the analyser's buffer is ~0.5 MB; ask for them now, while the
     * transforms run (prefetches never fault, past the end neither) */
    for (int i = 0; i < BLK; i += 64 / (int)sizeof(float))
        __builtin_prefetch(x + BLK + i);
    fftwf_execute_dft_r2c(y->fwd, in, cur);
    if (have_prev) {
        /* P + iQ at k and P + i conj(Q) at BLK_N - k (0 < k < BLK_N / 2),
         * Q = conj(prev) cur: sum_j prev[j] cur[j + s].  Eight bins at a
         * time, each lane with yin_pq1's operations: one in-lane shuffle
         * per vector splits the interleaved (re, im) pairs (the bins come
         * out in the order k, k+1, k+4, k+5 | k+2, k+3, k+6, k+7, which the
         * in-lane unpacks at the end undo), and the upper half is stored
         * reversed (bin 0's lands in the spare w[BLK_N], which the inverse
         * does not read). */
        /* (__builtin_shufflevector: GCC >= 12 and clang) */
#define SRE 0, 2, 8, 10, 4, 6, 12, 14
#define SIM 1, 3, 9, 11, 5, 7, 13, 15
#define ULO 0, 8, 1, 9, 4, 12, 5, 13
#define UHI 2, 10, 3, 11, 6, 14, 7, 15
#define REV 6, 7, 4, 5, 2, 3, 0, 1
        for (int k = 0; k < BLK_N / 2; k += 8) {
            vx__v8sf c0, c1, p0, p1;
            memcpy(&c0, cur[k], sizeof c0);
            memcpy(&c1, cur[k + 4], sizeof c1);
            memcpy(&p0, prev[k], sizeof p0);
            memcpy(&p1, prev[k + 4], sizeof p1);
            vx__v8sf re = __builtin_shufflevector(c0, c1, SRE);
            vx__v8sf im = __builtin_shufflevector(c0, c1, SIM);
            vx__v8sf a = __builtin_shufflevector(p0, p1, SRE);
            vx__v8sf b = __builtin_shufflevector(p0, p1, SIM);
            vx__v8sf p = re * re + im * im;
            vx__v8sf qr = a * re + b * im;
            vx__v8sf qi = a * im - b * re;
            vx__v8sf lr = p - qi, hr = p + qi;
            vx__v8sf lo0 = __builtin_shufflevector(lr, qr, ULO);
            vx__v8sf lo1 = __builtin_shufflevector(lr, qr, UHI);
            vx__v8sf h0 = __builtin_shufflevector(hr, qr, ULO), h1 = __builtin_shufflevector(hr, qr, UHI);
            vx__v8sf hi0 = __builtin_shufflevector(h0, h0, REV);
            vx__v8sf hi1 = __builtin_shufflevector(h1, h1, REV);
            memcpy(w[k], &lo0, sizeof lo0);
            memcpy(w[k + 4], &lo1, sizeof lo1);
            memcpy(w[BLK_N - k - 3], &hi0, sizeof hi0);
            memcpy(w[BLK_N - k - 7], &hi1, sizeof hi1);
        }
#undef SRE
#undef SIM
#undef ULO
#undef UHI
#undef REV
        yin_pq1(cur, prev, w, BLK_N / 2);
    } else {
        for (int k = 0; k <= BLK_N / 2; k++) {
            float re = cur[k][0], im = cur[k][1];
            float p = re * re + im * im;
            w[k][0] = p - 0.0f;
            w[k][1] = 0.0f;
            if (k > 0 && k < BLK_N / 2) {
                w[BLK_N - k][0] = p + 0.0f;
                w[BLK_N - k][1] = 0.0f;
            }
        }
    }
    fftwf_execute_dft(y->inv, w, y->out[m & 1]);
    if (have_prev) {
        const fftwf_complex *o = y->out[m & 1], *op = y->out[(m - 1) & 1];
        double *pa = y->apair[(m - 1) & 3], *cr = y->cross[(m - 1) & 3];
        for (int tau = 0; tau < LAGS; tau++)
            pa[tau] = (double)op[tau][0] + (double)o[tau][0];
        cr[0] = 0.0; /* no pair spans the two blocks at lag 0 */
        /* lag tau pairs prev[j] with cur[j + tau - BLK]: shift tau - BLK */
        for (int tau = 1; tau < LAGS; tau++)
            cr[tau] = (double)o[BLK + tau][1];
    }
}

/* The frame whose first block is m, step 1: its autocorrelation (lags
 * 0..MAX_PERIOD, scaled) from the lag terms of blocks m..m+3, summed as
 * ((a0 + a1) + (a2 + a3)) + ((c0 + c1) + c2) in double, and the
 * element-wise part of d(tau) = 2 (r0 - r(tau)) - cumsum(x^2)[tau-1]
 * (float32) into row f of ebuf (yin_cmnd4 squares the samples). */
VX__HOT static void yin_frame_rows(vx__yin *y, size_t m, int f)
{
    const double *p0 = y->apair[m & 3], *p2 = y->apair[(m + 2) & 3];
    const double *c0 = y->cross[m & 3], *c1 = y->cross[(m + 1) & 3];
    const double *c2 = y->cross[(m + 2) & 3];
    const float scale = 1.0f / (float)BLK_N; /* a power of two: exact */
    const float r0 = (float)((p0[0] + p2[0]) + ((c0[0] + c1[0]) + c2[0])) * scale;
    float *e = y->ebuf[f];
    for (int tau = 1; tau < LAGS; tau++) {
        double r = (p0[tau] + p2[tau]) + ((c0[tau] + c1[tau]) + c2[tau]);
        e[tau] = 2.0f * (r0 - (float)r * scale);
    }
}

/* 4x4 transpose (rows <-> lanes) */
static inline void tr4f(vx__v4sf *r)
{
    vx__v4sf t0 = __builtin_shufflevector(r[0], r[1], 0, 4, 1, 5);
    vx__v4sf t1 = __builtin_shufflevector(r[0], r[1], 2, 6, 3, 7);
    vx__v4sf t2 = __builtin_shufflevector(r[2], r[3], 0, 4, 1, 5);
    vx__v4sf t3 = __builtin_shufflevector(r[2], r[3], 2, 6, 3, 7);
    r[0] = __builtin_shufflevector(t0, t2, 0, 1, 4, 5);
    r[1] = __builtin_shufflevector(t0, t2, 2, 3, 6, 7);
    r[2] = __builtin_shufflevector(t1, t3, 0, 1, 4, 5);
    r[3] = __builtin_shufflevector(t1, t3, 2, 3, 6, 7);
}

/* float -> double per lane (written out: GCC 12 splits
 * __builtin_convertvector into halves through the stack) */
#define CVT4(v) ((vx__v4df){(v)[0], (v)[1], (v)[2], (v)[3]})

/* Step 2 for the four frames in ebuf rows 0..3 (samples at x + f BLK), one
 * frame per vector lane: d(tau) = e(tau) - cumsum(x^2)[tau-1] and the
 * cumulative mean, a float32 running sum divided by tau in float64.  The
 * running sums are sequential in tau, so the four chains run side by side
 * with the scalar operations in each lane (rows go through 4x4
 * transposes, four lags at a time; lag 0 adds zeros, which leaves both
 * sums at +0).  The means stay lane-major in y->yin, and the trough tests
 * run on them right there, four frames per compare, shifted into bit sets
 * (see pyin_troughs): yin[i] < yin[i-1] and yin[i] < hlast. */
VX__HOT static void yin_cmnd4(vx__yin *y, const float *x, double hlast)
{
    vx__v4sf cs = {0.0f, 0.0f, 0.0f, 0.0f}, run = cs;
    /* lags 0..MIN_PERIOD-1: the running sums only */
    for (int t0 = 0; t0 < VX__PYIN_MIN_PERIOD; t0 += 4) {
        vx__v4sf s[4], e[4];
#pragma GCC unroll 4
        for (int f = 0; f < 4; f++) {
            const float *xf = x + f * BLK;
            if (t0 == 0)
                s[f] = (vx__v4sf){0.0f, xf[0], xf[1], xf[2]};
            else
                memcpy(&s[f], xf + t0 - 1, sizeof s[f]);
            memcpy(&e[f], &y->ebuf[f][t0], sizeof e[f]);
        }
        tr4f(s);
        tr4f(e);
#pragma GCC unroll 4
        for (int j = 0; j < 4; j++) {
            cs += s[j] * s[j];
            run += e[j] - cs;
        }
    }
    const vx__v4df hl = {hlast, hlast, hlast, hlast}, tiny = {DBL_MIN, DBL_MIN, DBL_MIN, DBL_MIN};
    vx__v4df tv = {0.0, 0.0, 0.0, 0.0}, prev = tv; /* tv: t0 in every lane */
    tv += (double)VX__PYIN_MIN_PERIOD;
    vx__v4du alt = {0, 0, 0, 0}, alo = alt;
    for (int t0 = VX__PYIN_MIN_PERIOD; t0 < ROW_T; t0 += 4) {
        const int i0 = t0 - VX__PYIN_MIN_PERIOD;
        vx__v4sf s[4], e[4], d[4], r[4];
#pragma GCC unroll 4
        for (int f = 0; f < 4; f++) {
            memcpy(&s[f], x + f * BLK + t0 - 1, sizeof s[f]);
            memcpy(&e[f], &y->ebuf[f][t0], sizeof e[f]);
        }
        tr4f(s);
        tr4f(e);
#pragma GCC unroll 4
        for (int j = 0; j < 4; j++) {
            cs += s[j] * s[j];
            d[j] = e[j] - cs;
            run += d[j];
            r[j] = run;
        }
        vx__v4df q[4];
#pragma GCC unroll 4
        for (int j = 0; j < 4; j++) {
            vx__v4df den = CVT4(r[j]) / (j ? tv + (double)j : tv);
            q[j] = CVT4(d[j]) / (den + tiny);
            memcpy(y->yin[i0 + j], &q[j], sizeof q[j]);
        }
        /* shift in yin[i] < yin[i-1] and yin[i] < hlast (a true compare
         * is all ones: a + a - m = 2 a + 1) */
#pragma GCC unroll 4
        for (int j = 0; j < 4; j++) {
            alt = (alt + alt) - (vx__v4du)(q[j] < (j ? q[j - 1] : prev));
            alo = (alo + alo) - (vx__v4du)(q[j] < hl);
        }
        prev = q[3];
        tv += 4.0;
        if ((i0 & 63) == 60 || t0 + 4 == ROW_T) {
            const int nb = (i0 & 63) + 4; /* bits in this word */
            if (nb < 64) {
                alt <<= 64 - nb;
                alo <<= 64 - nb;
            }
            memcpy(y->ltw[i0 >> 6], &alt, sizeof alt);
            memcpy(y->low[i0 >> 6], &alo, sizeof alo);
            alt = alo = (vx__v4du){0, 0, 0, 0};
        }
    }
    /* x - x is 0 exactly when x is finite; a d or running sum that is not
     * finite leaves the last sum infinite or NaN */
    vx__v4si fin = (run - run) == (vx__v4sf){0.0f, 0.0f, 0.0f, 0.0f};
    memcpy(y->fin, &fin, sizeof fin);
}

/* Makes blocks b, b+1, b+2 hold x's first three blocks and returns b:
 * the last three blocks of the previous call when their samples are the
 * same (bit for bit, so their terms are too), else three new ones. */
static size_t yin_prime(vx__yin *y, const float *x)
{
    size_t nm = y->next_m;
    if (y->n_hist == 3 && memcmp(y->in[(nm - 3) & 3], x, sizeof(float) * BLK) == 0 &&
        memcmp(y->in[(nm - 2) & 3], x + BLK, sizeof(float) * BLK) == 0 &&
        memcmp(y->in[(nm - 1) & 3], x + 2 * BLK, sizeof(float) * BLK) == 0)
        return nm - 3;
    y->n_hist = 0;
    for (size_t j = 0; j < 3; j++)
        yin_block(y, x + j * BLK, nm + j, j > 0);
    y->next_m = nm + 3;
    y->n_hist = 3;
    return nm;
}

/* Frames x + f * BLK, f < nf (1..4), of a batch whose first block is b:
 * their last blocks, rows and cumulative means (lanes f >= nf compute
 * junk from old rows and samples of frame 0: lane 3 reads x[0..3 BLK +
 * MAX_PERIOD], inside frame 0's FRAME samples). */
static void yin_batch(vx__yin *y, const float *x, size_t b, int nf, double hlast)
{
    _Static_assert(3 * BLK + VX__PYIN_MAX_PERIOD < VX__PYIN_FRAME, "lane 3 reads frame 0");
    for (int f = 0; f < nf; f++) {
        yin_block(y, x + (size_t)(f + 3) * BLK, b + (size_t)f + 3, 1);
        y->next_m = b + (size_t)f + 4;
        yin_frame_rows(y, b + (size_t)f, f);
    }
    yin_cmnd4(y, x, hlast);
}

void vx__yin_cmnd(vx__yin *y, const float *frame, double *yin_out)
{
    size_t b = yin_prime(y, frame);
    yin_batch(y, frame, b, 1, 0.0);
    for (int i = 0; i < VX__PYIN_N_YIN; i++)
        yin_out[i] = y->yin[i][0];
}

/* Smallest k in 1..100 with thresholds[k] > h; 101 when none. */
static inline int first_threshold_above(const vx__pyin_tables *t, double h)
{
    if (!(h < 1.0))
        return N_THRESH + 1; /* also NaN */
    /* floor + 1 (no libm call), then at most a step either way */
    int k = h > 0.0 ? (int)(h * N_THRESH) + 1 : 1;
    if (k > N_THRESH)
        k = N_THRESH;
    while (k > 1 && t->thresholds[k - 1] > h)
        k--;
    while (!(t->thresholds[k] > h)) /* ends: thresholds[N_THRESH] = 1 > h */
        k++;
    return k;
}

/* The troughs' probabilities for frame f of the batch: threshold prior
 * (beta) x trough prior (Boltzmann on the order of the troughs below each
 * threshold), plus the no-trough mass on the global minimum.  Troughs are
 * util.localmin with edge padding, then the is_trough[0] rule.  Only the
 * troughs below thresholds[k_last] can get any threshold mass (every later
 * threshold carries exactly zero, and adding +0 changes nothing); they are
 * the candidates (y->cand_idx, in lag order, probabilities in cand_prob),
 * or when there are none, the global minimum alone.
 *
 * The inner troughs i (yin[i] < yin[i-1] and yin[i] <= yin[i+1]) come
 * from yin_cmnd4's bit set lt of yin[i] < yin[i-1]: without NaNs,
 * yin[i] <= yin[i+1] is !(yin[i+1] < yin[i]), so the troughs are lt_i &
 * ~lt_{i+1} -- one compare per value instead of two, and word operations
 * here; the candidates are the troughs that are also below hlast.  A frame
 * whose means may hold a NaN (fin[f] == 0: never for finite sums) tests
 * both compares per index instead.  Bit sets run highest bit first
 * (T_WORDS), so index i + 1 is one bit right of i.  Returns the number of
 * candidates. */
VX__HOT static int pyin_troughs(vx__yin *y, const vx__pyin_tables *t, int f)
{
#define YV(i) (y->yin[(i)][f])
#define TBIT(i) (((uint64_t)1 << 63) >> ((i) & 63)) /* index i's bit in word i >> 6 */
    const int n = VX__PYIN_N_YIN;
    const double hlast = t->thr_last;
    const int tr0 = YV(0) < YV(1), trl = YV(n - 1) < YV(n - 2);
    uint64_t tw[T_WORDS], cw[T_WORDS];
    uint64_t any = (uint64_t)(tr0 | trl);
    if (y->fin[f]) {
        for (int w = 0; w < T_WORDS; w++) {
            uint64_t lt = y->ltw[w][f];
            uint64_t nx = (lt << 1) | (w + 1 < T_WORDS ? y->ltw[w + 1][f] >> 63 : 0);
            tw[w] = lt & ~nx;
        }
    } else {
        for (int w = 0; w < T_WORDS; w++)
            tw[w] = 0;
        for (int i = 1; i < n - 1; i++)
            if (YV(i) < YV(i - 1) && YV(i) <= YV(i + 1))
                tw[i >> 6] |= TBIT(i);
    }
    /* the inner indices 1..n-2 only */
    tw[0] &= ~TBIT(0);
    tw[(n - 2) >> 6] &= ~(uint64_t)0 << (63 - ((n - 2) & 63));
    for (int w = ((n - 2) >> 6) + 1; w < T_WORDS; w++)
        tw[w] = 0;
    for (int w = 0; w < T_WORDS; w++) {
        cw[w] = tw[w] & y->low[w][f];
        any |= tw[w];
    }

    int nc = 0, gpos = 0;
    double hmin = INFINITY;
#define ADD_CAND(i)                                                                                \
    do {                                                                                           \
        int idx_ = (i);                                                                            \
        if (YV(idx_) < hmin) { /* first global minimum (see below) */                             \
            hmin = YV(idx_);                                                                       \
            gpos = nc;                                                                             \
        }                                                                                          \
        y->cand_idx[nc++] = idx_;                                                                  \
    } while (0)
    if (tr0 && YV(0) < hlast)
        ADD_CAND(0);
    for (int w = 0; w < T_WORDS; w++)
        for (uint64_t u = cw[w]; u; u &= ~TBIT(__builtin_clzll(u)))
            ADD_CAND(w * 64 + __builtin_clzll(u));
    if (trl && YV(n - 1) < hlast)
        ADD_CAND(n - 1);
#undef ADD_CAND
    if (any == 0)
        return 0;
    if (nc == 0) {
        /* only the global minimum can carry probability: the first trough
         * with the smallest value */
        int gidx = -1;
        if (tr0) {
            hmin = YV(0);
            gidx = 0;
        }
        for (int w = 0; w < T_WORDS; w++)
            for (uint64_t u = tw[w]; u; u &= ~TBIT(__builtin_clzll(u))) {
                int idx = w * 64 + __builtin_clzll(u);
                if (gidx < 0 || YV(idx) < hmin) {
                    hmin = YV(idx);
                    gidx = idx;
                }
            }
        if (trl && (gidx < 0 || YV(n - 1) < hmin)) {
            hmin = YV(n - 1);
            gidx = n - 1;
        }
        y->cand_idx[0] = gidx;
        y->cand_kmin[0] = first_threshold_above(t, hmin);
        y->cand_prob[0] = 0.0;
        gpos = 0;
        nc = 1;
    } else {
        /* The global minimum is the first candidate with the smallest value
         * (every other trough is >= hlast > it).  The set of candidates
         * below threshold k only changes at their kmin values (all <=
         * k_last), so sum the beta mass over each constant stretch (up to
         * k_last: the rest is zero) and give it to the stretch's active
         * candidates in lag order (a bit set over the candidates).  The
         * stretches come from buckets by kmin: a bit set of the kmin values
         * present and, per kmin, a bit set of its candidates. */
        uint64_t kset[2] = {0, 0}; /* kmin <= N_THRESH < 128 */
        for (int c = 0; c < nc; c++) {
            int km = first_threshold_above(t, YV(y->cand_idx[c]));
            y->cand_kmin[c] = km;
            y->kadd[km][c >> 6] |= (uint64_t)1 << (c & 63);
            kset[km >> 6] |= (uint64_t)1 << (km & 63);
        }
        const int nw = (nc + 63) / 64;
        uint64_t act[CAND_WORDS] = {0};
        /* The active candidates' sums, densely in lag order (acc = the
         * final cand_prob): a new candidate goes in at its rank among the
         * active ones (the ones behind it move up by one), and the
         * candidate at position p gets w exp_neg[p], a contiguous run. */
        double *acc = y->cand_prob;
        int na = 0;
        int k = kset[0] ? __builtin_ctzll(kset[0]) : 64 + __builtin_ctzll(kset[1]);
        while (k <= N_THRESH) {
            for (int wi = 0; wi < nw; wi++)
                act[wi] |= y->kadd[k][wi];
            /* the new ones in lag order (each sum starts at +0, as every
             * add to it so far was +0) */
            int below = 0; /* active candidates in the words below wi */
            for (int wi = 0; wi < nw; wi++) {
                for (uint64_t u = y->kadd[k][wi]; u; u &= u - 1) {
                    const int b = __builtin_ctzll(u);
                    const int pos = below + __builtin_popcountll(act[wi] & (((uint64_t)1 << b) - 1));
                    int q = na; /* acc[pos..na) up by one, from the top */
                    for (; q - pos >= 4; q -= 4) {
                        vx__v4df v;
                        memcpy(&v, acc + q - 4, sizeof v);
                        memcpy(acc + q - 3, &v, sizeof v);
                    }
                    for (; q > pos; q--)
                        acc[q] = acc[q - 1];
                    acc[pos] = 0.0;
                    na++;
                }
                below += __builtin_popcountll(act[wi]);
                y->kadd[k][wi] = 0;
            }
            kset[k >> 6] &= ~((uint64_t)1 << (k & 63));
            int next = kset[0] ? __builtin_ctzll(kset[0])
                               : (kset[1] ? 64 + __builtin_ctzll(kset[1]) : N_THRESH + 1);
            int end = next > t->k_last + 1 ? t->k_last + 1 : next;
            double mass = 0.0;
            for (int q = k; q < end; q++)
                mass += t->beta_probs[q - 1];
            double w = mass * t->boltz_fact[na];
            /* in blocks of four: the lanes past na hold junk that the next
             * insertion overwrites (acc and exp_neg have the room) */
            for (int p = 0; p < na; p += 4)
                for (int l = 0; l < 4; l++)
                    acc[p + l] += w * t->exp_neg[p + l];
            k = next;
        }
        /* every candidate is active by now (kmin <= k_last), so the dense
         * order is the lag order: acc[c] is candidate c's */
    }
    {
        int below = y->cand_kmin[gpos] - 1; /* thresholds not above min */
        if (below > N_THRESH)
            below = N_THRESH;
        y->cand_prob[gpos] += NO_TROUGH_PROB * t->beta_prefix[below];
    }
    return nc;
}

/* nearbyint for |v| < 2^51 (round half to even in the default rounding
 * mode): adding 1.5 * 2^52 leaves no fraction bits */
static inline double round_even(double v)
{
    if (!(fabs(v) < 0x1p51))
        return nearbyint(v);
    const double big = 0x1.8p52;
    return (v + big) - big;
}

/* Frame f's sparse observation from the troughs.  Default ISA only: it
 * calls log2 (see VX__HOT). */
static void pyin_observe(vx__yin *y, const vx__pyin_tables *t, int f, vx__pyin_obs *obs)
{
    const int n = VX__PYIN_N_YIN;
    const int nc = pyin_troughs(y, t, f);
    obs->n = 0;
    obs->voiced_prob = 0.0;
    if (nc == 0)
        return;

    /* Candidates -> pitch bins (last write wins, like numpy assignment);
     * the bins written are marked in a bit set, then visited in ascending
     * order. */
    for (int c = 0; c < nc; c++) {
        double p = y->cand_prob[c];
        if (p == 0.0)
            continue;
        int idx = y->cand_idx[c];
        /* parabolic interpolation shift (librosa computes it for every lag;
         * only the candidates' are used); edges are 0 */
        double shift = 0.0;
        if (idx > 0 && idx < n - 1) {
            double a = YV(idx + 1) + YV(idx - 1) - 2.0 * YV(idx);
            double b2 = (YV(idx + 1) - YV(idx - 1)) / 2.0;
            shift = fabs(b2) < fabs(a) ? -b2 / a : 0.0;
        }
        double period = (double)(VX__PYIN_MIN_PERIOD + idx) + shift;
        double f0 = 22050.0 / period;
        double bi = round_even(120.0 * log2(f0 / 50.0));
        int b = bi < 0.0 ? 0 : (bi > VX__PYIN_N_BINS ? VX__PYIN_N_BINS : (int)bi);
        y->bin_set[b >> 6] |= (uint64_t)1 << (b & 63);
        y->bin_prob[b] = p; /* p != 0 */
    }
#undef YV
#undef TBIT
    double vp = 0.0;
    for (int wi = 0; wi < BIN_WORDS; wi++) {
        uint64_t u = y->bin_set[wi];
        y->bin_set[wi] = 0;
        while (u) {
            int b = wi * 64 + __builtin_ctzll(u);
            u &= u - 1;
            if (b < VX__PYIN_N_BINS) { /* bin 399 is the clipped overflow */
                obs->bin[obs->n] = (uint16_t)b;
                obs->prob[obs->n] = y->bin_prob[b];
                obs->n++;
                vp += y->bin_prob[b];
            }
            y->bin_prob[b] = 0.0;
        }
    }
    obs->voiced_prob = vp < 0.0 ? 0.0 : (vp > 1.0 ? 1.0 : vp);
}

void vx__pyin_frame(vx__yin *y, const vx__pyin_tables *t, const float *frame,
                    vx__pyin_obs *obs)
{
    vx__pyin_frames(y, t, frame, 1, obs);
}

void vx__pyin_frames(vx__yin *y, const vx__pyin_tables *t, const float *x, size_t n,
                     vx__pyin_obs *obs)
{
    if (n == 0)
        return;
    size_t b = yin_prime(y, x);
    for (size_t i = 0; i < n; i += 4) {
        const int nf = n - i < 4 ? (int)(n - i) : 4;
        /* the observations written below are 4 KB apart and usually out of
         * cache: fetch their lines for writing while the transforms run */
        for (int f = 0; f < nf; f++) {
            __builtin_prefetch(&obs[i + f].n, 1);
            __builtin_prefetch(&obs[i + f].prob[0], 1);
            __builtin_prefetch(&obs[i + f].voiced_prob, 1);
        }
        yin_batch(y, x + i * BLK, b + i, nf, t->thr_last);
        for (int f = 0; f < nf; f++)
            pyin_observe(y, t, f, &obs[i + f]);
    }
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
    /* log values of the last frame and the next one (swapped per frame);
     * the next one holds the best predecessor values until the step's end.
     * LEAF_T spare values: conv_dc writes junk lanes past the unvoiced
     * block's end; the spares are zero or a junk lane's value, never NaN */
    double vbuf[2][VX__PYIN_N_STATES + LEAF_T];
    double *val, *nval;
    /* the frame's log observation: log(DBL_MIN) for every voiced bin but
     * the candidates, one value for all unvoiced bins (forward_step adds
     * the candidates' best values to lcand in place at its end) */
    double lcand[VX__PYIN_MAX_CAND];
    double lu;
    /* bounds the previous frame left (see forward_step): nc_max >= every
     * voiced value but those of the candidate bins pbin[0..pn), g_max >=
     * every value */
    double nc_max, g_max;
    int pn;
    uint16_t pbin[VX__PYIN_MAX_CAND];
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
    v->val = v->vbuf[0];
    v->nval = v->vbuf[1];
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
typedef double vx__v4d __attribute__((vector_size(32)));
typedef long long vx__v4i __attribute__((vector_size(32)));
typedef int16_t vx__v4s __attribute__((vector_size(8)));

/* dst = x[i..i+3] + y[i..i+3] (unaligned); macros, not functions, so no
 * vector crosses a call boundary (the default clone has no AVX ABI). */
#define V4D_ADD_LOAD(dst, x, y)                                                            \
    do {                                                                                   \
        vx__v4d a_, b_;                                                                    \
        memcpy(&a_, (x), sizeof a_);                                                       \
        memcpy(&b_, (y), sizeof b_);                                                       \
        (dst) = a_ + b_;                                                                   \
    } while (0)
/* The low 16 bits of the four lanes of x, stored at p or as a vx__v4s d
 * (a shuffle of the two halves: GCC's convertvector to 16-bit lanes goes
 * lane by lane). */
typedef int16_t vx__v8s __attribute__((vector_size(16)));
#define V4I_STORE16(p, x)                                                                  \
    do {                                                                                   \
        vx__v8s lo_, hi_;                                                                  \
        memcpy(&lo_, &(x), sizeof lo_);                                                    \
        memcpy(&hi_, (const char *)&(x) + sizeof lo_, sizeof hi_);                         \
        vx__v8s r_ = __builtin_shufflevector(lo_, hi_, 0, 4, 8, 12, 0, 0, 0, 0);      \
        memcpy((p), &r_, 4 * sizeof(int16_t));                                             \
    } while (0)
#define V4I_NARROW16(d, x) V4I_STORE16(&(d), x)
/* Lanes merged: the maximum, then the lowest index among the lanes
 * holding it (vectors, no branches). */
#define V4_MERGE_LANES(m, idx, val_out, idx_out)                                          \
    do {                                                                                   \
        vx__v4d ms_ = __builtin_shufflevector((m), (m), 1, 0, 3, 2);                       \
        vx__v4i g_ = ms_ > (m);                                                            \
        vx__v4d m2_ = (vx__v4d)(((vx__v4i)ms_ & g_) | ((vx__v4i)(m) & ~g_));               \
        ms_ = __builtin_shufflevector(m2_, m2_, 2, 3, 0, 1);                               \
        g_ = ms_ > m2_;                                                                    \
        m2_ = (vx__v4d)(((vx__v4i)ms_ & g_) | ((vx__v4i)m2_ & ~g_));                       \
        const vx__v4i big_ = {1 << 30, 1 << 30, 1 << 30, 1 << 30};                         \
        vx__v4i e_ = (m) == m2_;                                                           \
        vx__v4i ix_ = ((idx) & e_) | (big_ & ~e_);                                         \
        vx__v4i is_ = __builtin_shufflevector(ix_, ix_, 1, 0, 3, 2);                       \
        g_ = is_ < ix_;                                                                    \
        ix_ = (is_ & g_) | (ix_ & ~g_);                                                    \
        is_ = __builtin_shufflevector(ix_, ix_, 2, 3, 0, 1);                               \
        g_ = is_ < ix_;                                                                    \
        ix_ = (is_ & g_) | (ix_ & ~g_);                                                    \
        (val_out) = m2_[0];                                                                \
        (idx_out) = (int)ix_[0];                                                           \
    } while (0)

/* Leftmost argmax of src[i] + row[i] over lo..hi (no value is NaN), for a
 * DC node whose band [blo, bhi] holds lo..hi (every band holds at least 51
 * sources; w is 32 or 48).  A range of at most w sources is widened to
 * exactly w inside the band -- [lo, hi] holds the band's leftmost maximum,
 * so more in-band sources cannot move it -- and searched in w / 4 unrolled
 * loads: the common node has no data-dependent branch (the old node search
 * looped over its exact range, and its loop exits were mispredicted).
 * Longer ranges continue eight, then four at a time, and end with the
 * overlapping last four.  Two chains of four lanes (elements s + l + 8j and
 * s + 4 + l + 8j, halving the compare-and-blend latency chain), each lane
 * in ascending order with strict '>', merged by value and then by lowest
 * index: the leftmost maximum, the index one ascending scan with strict '>'
 * finds.  Reads stay inside the band (no tail needed). */
static inline __attribute__((always_inline)) int node_argmax(const double *src, const double *row,
                                                             int lo, int hi, int bhi, double *val,
                                                             const int w)
{
    const int s = hi - lo < w && lo > bhi - (w - 1) ? bhi - (w - 1) : lo;
    const vx__v4i lane = {0, 1, 2, 3}, eight = {8, 8, 8, 8};
    vx__v4d ma, mb, x;
    vx__v4i ia = lane + (vx__v4i){s, s, s, s}, ib = ia + (vx__v4i){4, 4, 4, 4};
    vx__v4i ca = ia, cb = ib, g;
    V4D_ADD_LOAD(ma, src + s, row + s);
    V4D_ADD_LOAD(mb, src + s + 4, row + s + 4);
#define NODE_STEP(m, idx, ci, at)                                                          \
    do {                                                                                   \
        ci += eight;                                                                       \
        V4D_ADD_LOAD(x, src + (at), row + (at));                                           \
        g = x > (m);                                                                       \
        (m) = (vx__v4d)(((vx__v4i)x & g) | ((vx__v4i)(m) & ~g));                           \
        (idx) = ((ci) & g) | ((idx) & ~g);                                                 \
    } while (0)
    NODE_STEP(ma, ia, ca, s + 8);
    NODE_STEP(mb, ib, cb, s + 12);
    NODE_STEP(ma, ia, ca, s + 16);
    NODE_STEP(mb, ib, cb, s + 20);
    NODE_STEP(ma, ia, ca, s + 24);
    NODE_STEP(mb, ib, cb, s + 28);
    if (w > 32) {
        NODE_STEP(ma, ia, ca, s + 32);
        NODE_STEP(mb, ib, cb, s + 36);
        NODE_STEP(ma, ia, ca, s + 40);
        NODE_STEP(mb, ib, cb, s + 44);
    }
    if (hi - s >= w) {
        int i = s + w;
        for (; i + 7 < hi; i += 8) { /* both chains on */
            NODE_STEP(ma, ia, ca, i);
            NODE_STEP(mb, ib, cb, i + 4);
        }
        if (i + 3 < hi) {
            NODE_STEP(ma, ia, ca, i);
            i += 4;
        }
#undef NODE_STEP
        /* the last four elements, overlapping: lane l of chain b last saw
         * an element below i + l - 3 <= hi - 3 + l (i <= hi + 1 here), so
         * it stays in ascending order */
        i = hi - 3;
        V4D_ADD_LOAD(x, src + i, row + i);
        cb = lane + (vx__v4i){i, i, i, i};
        g = x > mb;
        mb = (vx__v4d)(((vx__v4i)x & g) | ((vx__v4i)mb & ~g));
        ib = (cb & g) | (ib & ~g);
    }
    /* chain b into chain a, lane by lane: by value, then lowest index */
    g = (mb > ma) | ((mb == ma) & (ib < ia));
    ma = (vx__v4d)(((vx__v4i)mb & g) | ((vx__v4i)ma & ~g));
    ia = (ib & g) | (ia & ~g);
    double v;
    int a;
    V4_MERGE_LANES(ma, ia, v, a);
    *val = v;
    return a;
}

/* A DC node of at most LEAF_T targets [bl, br] with sources [il, ir],
 * searched in full: for each target b the sources [il, ir] within its band
 * in ascending order with strict '>' (the leftmost maximum, as the node
 * search would find it), 4 * nv targets side by side in nv 4-lane vectors
 * (nv = 3 for the tree's leaves of 11 or 12 targets, 4 for up to LEAF_T)
 * reading the source-major kernel rows (-inf outside the band).  All
 * 4 * nv lanes are stored: the lanes past br write junk into the targets
 * that follow (up to LEAF_T - 1 past the block: best and arg have that
 * much room), which conv_dc overwrites afterwards. */
static inline __attribute__((always_inline)) void conv_leaf(const double *src,
                                                            const double *const *ksrc, int bl,
                                                            int br, int il, int ir, double *best,
                                                            int16_t *arg, const int nv)
{
    const int lo = il > bl - VX__PYIN_BAND ? il : bl - VX__PYIN_BAND;
    const int hi = ir < br + VX__PYIN_BAND ? ir : br + VX__PYIN_BAND;
    const vx__v4d ninf = {-INFINITY, -INFINITY, -INFINITY, -INFINITY};
    const vx__v4i ilv = {il, il, il, il};
    /* four vectors in named variables (an array would live in memory) */
    vx__v4d m0 = ninf, m1 = ninf, m2 = ninf, m3 = ninf;
    vx__v4i a0, a1, a2, a3;
    /* what a node search returns when nothing is finite: its lo */
#define LEAF_INIT(a, q)                                                                    \
    do {                                                                                   \
        const int b0_ = bl + 4 * (q) - VX__PYIN_BAND;                                      \
        vx__v4i lob_ = (vx__v4i){b0_, b0_ + 1, b0_ + 2, b0_ + 3};                          \
        vx__v4i g_ = lob_ > ilv;                                                           \
        (a) = (lob_ & g_) | (ilv & ~g_);                                                   \
    } while (0)
    LEAF_INIT(a0, 0);
    LEAF_INIT(a1, 1);
    LEAF_INIT(a2, 2);
    LEAF_INIT(a3, 3);
#undef LEAF_INIT
#define LEAF_STEP(m, a, q)                                                                 \
    do {                                                                                   \
        vx__v4d x_;                                                                        \
        memcpy(&x_, k + 4 * (q), sizeof x_);                                               \
        x_ = sv + x_;                                                                      \
        vx__v4i g_ = x_ > (m);                                                             \
        (m) = (vx__v4d)(((vx__v4i)x_ & g_) | ((vx__v4i)(m) & ~g_));                        \
        (a) = (iv & g_) | ((a) & ~g_);                                                     \
    } while (0)
    const vx__v4i one = {1, 1, 1, 1};
    vx__v4i iv = {lo, lo, lo, lo};
    for (int i = lo; i <= hi; i++, iv += one) {
        const double si = src[i];
        const vx__v4d sv = {si, si, si, si};
        const double *k = ksrc[i] + (bl - i);
        LEAF_STEP(m0, a0, 0);
        LEAF_STEP(m1, a1, 1);
        LEAF_STEP(m2, a2, 2);
        if (nv > 3)
            LEAF_STEP(m3, a3, 3);
    }
#undef LEAF_STEP
#define LEAF_STORE(m, a, q)                                                                \
    do {                                                                                   \
        memcpy(best + bl + 4 * (q), &(m), sizeof(m));                                      \
        V4I_STORE16(arg + bl + 4 * (q), (a));                                              \
    } while (0)
    LEAF_STORE(m0, a0, 0);
    LEAF_STORE(m1, a1, 1);
    LEAF_STORE(m2, a2, 2);
    if (nv > 3)
        LEAF_STORE(m3, a3, 3);
#undef LEAF_STORE
}

/* All targets of one block, divide and conquer over the tables' static
 * tree: target m of a node [bl, br] with sources [il, ir] is searched over
 * [il, ir] within its band, and its argmax bounds the sources of the two
 * halves; nodes of at most LEAF_T targets are leaves, searched in full.
 * The inner nodes run in level order (a node only reads the bounds of
 * earlier levels), then the leaves in ascending order, so each leaf's junk
 * lanes are overwritten by the leaves after it; the inner nodes' results
 * are written last.  Lt is the kernel laid out [b][d] so a target's row is
 * contiguous.  best and arg hold VX__PYIN_N_BINS + LEAF_T entries. */
static inline __attribute__((always_inline)) void conv_dc(const vx__pyin_tables *t,
                                                          const double *src, double *best,
                                                          int16_t *arg)
{
    const double(*Lt)[BAND_W] = (const double(*)[BAND_W])t->lstay_t;
    int bnd[2 + DC_MAX];
    double node_v[DC_MAX];
    bnd[0] = 0;
    bnd[1] = VX__PYIN_N_BINS - 1;
    /* level order: the nodes of one level do not depend on each other, so
     * their searches overlap */
    for (int k = 0; k < t->n_dc; k++) {
        const int m = t->dc_m[k], il = bnd[t->dc_l[k]], ir = bnd[t->dc_r[k]];
        const int blo = m - VX__PYIN_BAND > 0 ? m - VX__PYIN_BAND : 0;
        const int bhi = m + VX__PYIN_BAND < VX__PYIN_N_BINS - 1 ? m + VX__PYIN_BAND
                                                                 : VX__PYIN_N_BINS - 1;
        const int lo = il > blo ? il : blo, hi = ir < bhi ? ir : bhi;
        const double *row = Lt[m] + VX__PYIN_BAND - m;
        /* nodes over 48 or more targets: their ranges are mostly longer */
        if (t->dc_w[k])
            bnd[2 + k] = node_argmax(src, row, lo, hi, bhi, &node_v[k], 48);
        else
            bnd[2 + k] = node_argmax(src, row, lo, hi, bhi, &node_v[k], 32);
    }
    for (int k = 0; k < t->n_lf; k++) {
        const int bl = t->lf_bl[k], br = t->lf_br[k];
        const int il = bnd[t->lf_l[k]], ir = bnd[t->lf_r[k]];
        /* the splits leave 11 or 12 targets: three vectors */
        if (br - bl < 12)
            conv_leaf(src, t->ksrc, bl, br, il, ir, best, arg, 3);
        else
            conv_leaf(src, t->ksrc, bl, br, il, ir, best, arg, 4);
    }
    for (int k = 0; k < t->n_dc; k++) {
        best[t->dc_m[k]] = node_v[k];
        arg[t->dc_m[k]] = (int16_t)bnd[2 + k];
    }
}

/* Leftmost argmax over the whole band of target b of src[i] + L(i -> b)
 * with the stay kernel: the reference the sparse pass falls back to. */
static int band_argmax(const vx__pyin_tables *t, const double *src, int b)
{
    int lo = b - VX__PYIN_BAND > 0 ? b - VX__PYIN_BAND : 0;
    int hi = b + VX__PYIN_BAND < VX__PYIN_N_BINS - 1 ? b + VX__PYIN_BAND : VX__PYIN_N_BINS - 1;
    const double *row = t->lstay_t[b] + VX__PYIN_BAND - b;
    double bv = -INFINITY;
    int ba = lo;
    for (int i = lo; i <= hi; i++) {
        double x = src[i] + row[i];
        if (x > bv) {
            bv = x;
            ba = i;
        }
    }
    return ba;
}

/* First index of the maximum of x[0..n-1] (n >= 1, no NaN).  The
 * out-of-band floor needs it only when the previous frame's bound of its
 * maximum does not settle the frame (rare), so it is not computed per
 * frame. */
static int first_argmax(const double *x, int n)
{
    int a = 0;
    for (int i = 1; i < n; i++)
        a = x[i] > x[a] ? i : a;
    return a;
}

/* The voiced sources' verdict for target b (see forward_step): the
 * significant argmax when it beats the bound on every other source, else
 * nothing when the bounds show the voiced block cannot win, else the full
 * band.  Updates best and bp of both target blocks where voiced wins. */
static inline __attribute__((always_inline)) void
voiced_target(const vx__pyin_tables *t, const double *V, const int *sig, int nsig, double theta,
              int lo_t, int hi_t, const double *hv, const double *hw, const long long *av,
              double *best, uint16_t *bp, int b)
{
    const int n = VX__PYIN_N_BINS;
    const int reached = b >= lo_t && b <= hi_t && av[b] >= 0;
    const double xuV = best[b], xuU = best[n + b];
    const double ub_stay0 = theta + t->kmax_stay[b];
    int iv;
    double xs, xw;
    if (reached && hv[b] > ub_stay0) {
        iv = (int)av[b];
        xs = hv[b]; /* = V[iv] + ksrc[iv][b - iv] */
        xw = hw[b]; /* = V[iv] + kswsrc[iv][b - iv] */
    } else if (ub_stay0 >= xuV || theta + t->kmax_switch[b] >= xuU || reached) {
        double ub_stay = ub_stay0;
        double ub_sw = theta + t->kmax_switch[b];
        for (int k = 0; k < nsig; k++) {
            int i = sig[k];
            if (i < b - VX__PYIN_BAND || i > b + VX__PYIN_BAND)
                continue;
            double ys = V[i] + t->ksrc[i][b - i];
            double yw = V[i] + t->kswsrc[i][b - i];
            ub_stay = ys > ub_stay ? ys : ub_stay;
            ub_sw = yw > ub_sw ? yw : ub_sw;
        }
        if (ub_stay < xuV && ub_sw < xuU)
            return;
        iv = band_argmax(t, V, b);
        xs = V[iv] + t->ksrc[iv][b - iv];
        xw = V[iv] + t->kswsrc[iv][b - iv];
    } else {
        return;
    }
    /* voiced sources have the lower state indices: they win ties */
    const int wv = xs >= xuV, wu = xw >= xuU;
    best[b] = wv ? xs : xuV;
    bp[b] = wv ? (uint16_t)iv : bp[b];
    best[n + b] = wu ? xw : xuU;
    bp[n + b] = wu ? (uint16_t)iv : bp[n + b];
}

VX__HOT static void forward_step(vx__viterbi *v, const vx__pyin_obs *obs, uint16_t *bp)
{
    const vx__pyin_tables *t = v->t;
    const double *V = v->val, *U = v->val + VX__PYIN_N_BINS;
    const int n = VX__PYIN_N_BINS;
    /* best predecessor value per target; the unvoiced half is written by
     * conv_dc, which needs LEAF_T - 1 entries of room past the end */
    double *best = v->nval; /* nval = observation + best, in place at the end */
    int16_t argU[VX__PYIN_N_BINS + LEAF_T];

    /* Unvoiced sources: one convolution with the stay kernel; the switch
     * kernel is the same kernel plus a constant (log of 0.01/0.99), so the
     * argmax serves both target blocks and each value is then recomputed
     * from the exact table of the transition actually taken.  The result
     * is written as if the unvoiced source won everywhere; the voiced
     * sources and the out-of-band floor then overwrite where they win. */
    conv_dc(t, U, best + n, argU);
    /* best[n + b] = U[iu] + lstay_t[b][iu - b + BAND]; best[b] the same
     * source under the switch kernel.  On the way the smallest of all 798
     * values, in four lanes (min does not round: the order is free). */
    vx__v4d mn = {INFINITY, INFINITY, INFINITY, INFINITY};
    int b4 = 0;
    for (; b4 + 3 < n; b4 += 4) {
        const int i0 = argU[b4], i1 = argU[b4 + 1], i2 = argU[b4 + 2], i3 = argU[b4 + 3];
        vx__v4d xv = {U[i0] + t->kswsrc[i0][b4 - i0], U[i1] + t->kswsrc[i1][b4 + 1 - i1],
                      U[i2] + t->kswsrc[i2][b4 + 2 - i2], U[i3] + t->kswsrc[i3][b4 + 3 - i3]};
        vx__v4d xu;
        memcpy(best + b4, &xv, sizeof xv);
        memcpy(&xu, best + n + b4, sizeof xu);
        vx__v4i g = xv < mn;
        mn = (vx__v4d)(((vx__v4i)xv & g) | ((vx__v4i)mn & ~g));
        g = xu < mn;
        mn = (vx__v4d)(((vx__v4i)xu & g) | ((vx__v4i)mn & ~g));
    }
    double xu_min = mn[0];
    for (int l = 1; l < 4; l++)
        xu_min = mn[l] < xu_min ? mn[l] : xu_min;
    for (; b4 < n; b4++) {
        int iu = argU[b4];
        double xv = U[iu] + t->kswsrc[iu][b4 - iu];
        best[b4] = xv;
        xu_min = xv < xu_min ? xv : xu_min;
        xu_min = best[n + b4] < xu_min ? best[n + b4] : xu_min;
    }
    for (int b = 0; b < n; b++) {
        uint16_t s = (uint16_t)(n + argU[b]);
        bp[b] = s;
        bp[n + b] = s;
    }

    /* Voiced sources are sparse: outside the frame's candidate bins their
     * value carries the log(DBL_MIN) ~ -708 observation floor.  Sources at
     * or above theta are "significant" and relaxed exactly (ascending
     * source order, strict '>': the leftmost argmax); a source below theta
     * gives at most fl(theta + kmax) for any target (rounding is
     * monotone), so for target b either a significant value beats that
     * bound strictly (argmax exact), or the whole voiced block is provably
     * below the unvoiced value for both target blocks (it cannot win; voiced
     * wins ties, hence strict), or the band is searched in full.  Any theta
     * is exact; this one keeps the floor states out of the sparse pass.
     * The significant set: the previous frame bounded its non-candidate
     * voiced values by nc_max, so when that is below theta only its
     * candidates need a look; otherwise every source is tested. */
    const double theta = xu_min - t->kmax_all - 1.0;
    int sig[VX__PYIN_N_BINS];
    int nsig = 0;
    int scan = !(v->nc_max < theta);
    if (!scan) {
        int last = -1;
        for (int c = 0; c < v->pn; c++) {
            int i = v->pbin[c];
            if (i <= last) { /* not ascending: no shortcut */
                scan = 1;
                break;
            }
            last = i;
            sig[nsig] = i;
            nsig += V[i] >= theta;
        }
    }
    if (scan) {
        nsig = 0;
        for (int i = 0; i < n; i++) { /* branch-free compaction */
            sig[nsig] = i;
            nsig += V[i] >= theta;
        }
    }
    /* hv/av/hw: the leftmost best significant source under the stay kernel,
     * its value, and its value under the switch kernel; three spare entries
     * past hi_t for the vector loop's last lanes */
    double hv[VX__PYIN_N_BINS + 3], hw[VX__PYIN_N_BINS + 3];
    long long av[VX__PYIN_N_BINS + 3]; /* 64-bit: the lanes of the masks */
    int lo_t = n, hi_t = -1; /* targets reached by a significant source */
    if (nsig > 0) {
        lo_t = sig[0] - VX__PYIN_BAND > 0 ? sig[0] - VX__PYIN_BAND : 0;
        hi_t = sig[nsig - 1] + VX__PYIN_BAND < n - 1 ? sig[nsig - 1] + VX__PYIN_BAND : n - 1;
        for (int b = lo_t; b <= hi_t + 3; b++) {
            hv[b] = -INFINITY;
            hw[b] = -INFINITY;
            av[b] = -1;
        }
    }
    /* four targets at a time; the lanes past the band's end (at most
     * three) read the kernel rows' -inf padding and change nothing */
    for (int k = 0; k < nsig; k++) {
        const int i = sig[k];
        const int e0 = i < VX__PYIN_BAND ? VX__PYIN_BAND - i : 0;
        const int e1 = i + VX__PYIN_BAND >= n ? n - 1 - i + VX__PYIN_BAND : BAND_W - 1;
        const double vi = V[i];
        const vx__v4d viv = {vi, vi, vi, vi};
        const vx__v4i iv = {i, i, i, i};
        const double *ls = t->ksrc[i] - VX__PYIN_BAND; /* [e]: to target i - BAND + e */
        const double *lw = t->kswsrc[i] - VX__PYIN_BAND;
        double *h = hv + i - VX__PYIN_BAND, *hs = hw + i - VX__PYIN_BAND;
        long long *a = av + i - VX__PYIN_BAND;
        for (int e = e0; e <= e1; e += 4) {
            vx__v4d x, xw, he, hse;
            vx__v4i ae;
            memcpy(&x, ls + e, sizeof x);
            memcpy(&xw, lw + e, sizeof xw);
            memcpy(&he, h + e, sizeof he);
            memcpy(&hse, hs + e, sizeof hse);
            memcpy(&ae, a + e, sizeof ae);
            x = viv + x;
            xw = viv + xw;
            vx__v4i g = x > he;
            he = (vx__v4d)(((vx__v4i)x & g) | ((vx__v4i)he & ~g));
            hse = (vx__v4d)(((vx__v4i)xw & g) | ((vx__v4i)hse & ~g));
            ae = (iv & g) | (ae & ~g);
            memcpy(h + e, &he, sizeof he);
            memcpy(hs + e, &hse, sizeof hse);
            memcpy(a + e, &ae, sizeof ae);
        }
    }

    /* Targets no significant source reaches (hv = -inf) have the voiced
     * block bounded by fl(theta + kmax_*[b]) <= fl(theta + kmax_all); when
     * that is below xu_min (<= both unvoiced values of every target) the
     * voiced block cannot win there, and only [lo_t, hi_t] is visited. */
    if (theta + t->kmax_all < xu_min) {
        /* four targets at a time while no lane needs more than its
         * significant argmax (hv > theta + kmax_stay) or is settled by
         * the bounds; any other group goes through voiced_target */
        const vx__v4d thv = {theta, theta, theta, theta};
        const vx__v4d ninf = {-INFINITY, -INFINITY, -INFINITY, -INFINITY};
        int b = lo_t;
        for (; b + 3 <= hi_t; b += 4) {
            vx__v4d h, w, xv, xu, ks, kw;
            memcpy(&h, hv + b, sizeof h);
            memcpy(&w, hw + b, sizeof w);
            memcpy(&xv, best + b, sizeof xv);
            memcpy(&xu, best + n + b, sizeof xu);
            memcpy(&ks, t->kmax_stay + b, sizeof ks);
            memcpy(&kw, t->kmax_switch + b, sizeof kw);
            const vx__v4d ubs = thv + ks, ubw = thv + kw;
            const vx__v4i c1 = h > ubs;
            vx__v4i slow = ~c1 & ((ubs >= xv) | (ubw >= xu) | (h > ninf));
            /* any lane slow: the lanes ORed as scalars (shorter latency
             * than two shuffle-and-OR steps before the branch) */
            uint64_t sl[4];
            memcpy(sl, &slow, sizeof sl);
            if ((sl[0] | sl[1]) | (sl[2] | sl[3])) {
                for (int l = 0; l < 4; l++)
                    voiced_target(t, V, sig, nsig, theta, lo_t, hi_t, hv, hw, av, best, bp, b + l);
                continue;
            }
            /* voiced sources have the lower state indices: they win ties */
            const vx__v4i wv = c1 & (h >= xv), wu = c1 & (w >= xu);
            xv = (vx__v4d)(((vx__v4i)h & wv) | ((vx__v4i)xv & ~wv));
            xu = (vx__v4d)(((vx__v4i)w & wu) | ((vx__v4i)xu & ~wu));
            memcpy(best + b, &xv, sizeof xv);
            memcpy(best + n + b, &xu, sizeof xu);
            vx__v4i a4;
            vx__v4s pv, pu, a16, wv16, wu16;
            memcpy(&a4, av + b, sizeof a4);
            memcpy(&pv, bp + b, sizeof pv);
            memcpy(&pu, bp + n + b, sizeof pu);
            V4I_NARROW16(a16, a4);
            V4I_NARROW16(wv16, wv);
            V4I_NARROW16(wu16, wu);
            pv = (a16 & wv16) | (pv & ~wv16);
            pu = (a16 & wu16) | (pu & ~wu16);
            memcpy(bp + b, &pv, sizeof pv);
            memcpy(bp + n + b, &pu, sizeof pu);
        }
        for (; b <= hi_t; b++)
            voiced_target(t, V, sig, nsig, theta, lo_t, hi_t, hv, hw, av, best, bp, b);
    } else {
        for (int b = 0; b < n; b++)
            voiced_target(t, V, sig, nsig, theta, lo_t, hi_t, hv, hw, av, best, bp, b);
    }

    /* The out-of-band floor: every source outside the band of b contributes
     * x + log(DBL_MIN), so only the global maximum can win there, and only
     * when it lies outside the band.  The best in-band value is at least
     * xu_min, so nothing can change when oob < xu_min; the previous frame
     * left an upper bound of its maximum (g_max), which settles that test
     * in almost every frame without a scan. */
    if (!(v->g_max + t->log_tiny < xu_min)) {
        const int gidx = first_argmax(v->val, VX__PYIN_N_STATES);
        const double oob = v->val[gidx] + t->log_tiny;
        const int gbin = gidx % n;
        if (!(oob < xu_min)) {
            for (int s = 0; s < VX__PYIN_N_STATES; s++) {
                int b = s % n;
                if (abs(gbin - b) > VX__PYIN_BAND &&
                    (oob > best[s] || (oob == best[s] && gidx < bp[s]))) {
                    best[s] = oob;
                    bp[s] = (uint16_t)gidx;
                }
            }
        }
    }
    /* nval = log observation + best, as one dense sum would give it; on the
     * way the maxima of both halves (exact: max does not round, and
     * fl(c + x) is monotone in x, so max fl(c + best) = fl(c + max best)).
     * nc_max bounds every voiced value but the candidates'; g_max bounds
     * every value (it is the maximum unless a candidate's observation is
     * below the floor, which a probability >= 0 cannot give). */
    double *nv = v->nval;
    const double lt = t->log_tiny, lu = v->lu;
    for (int c = 0; c < obs->n; c++) /* before best is overwritten */
        v->lcand[c] = v->lcand[c] + best[obs->bin[c]];
    vx__v4d mv = {-INFINITY, -INFINITY, -INFINITY, -INFINITY}, mu = mv;
    const vx__v4d ltv = {lt, lt, lt, lt}, luv = {lu, lu, lu, lu};
    int b = 0;
    for (; b + 3 < n; b += 4) {
        vx__v4d x, y;
        memcpy(&x, best + b, sizeof x);
        memcpy(&y, best + n + b, sizeof y);
        vx__v4i g = x > mv, h = y > mu;
        mv = (vx__v4d)(((vx__v4i)x & g) | ((vx__v4i)mv & ~g));
        mu = (vx__v4d)(((vx__v4i)y & h) | ((vx__v4i)mu & ~h));
        x = ltv + x;
        y = luv + y;
        memcpy(nv + b, &x, sizeof x);
        memcpy(nv + n + b, &y, sizeof y);
    }
    double maxv = mv[0], maxu = mu[0];
    for (int l = 1; l < 4; l++) {
        maxv = mv[l] > maxv ? mv[l] : maxv;
        maxu = mu[l] > maxu ? mu[l] : maxu;
    }
    for (; b < n; b++) {
        maxv = best[b] > maxv ? best[b] : maxv;
        maxu = best[n + b] > maxu ? best[n + b] : maxu;
        nv[b] = lt + best[b];
        nv[n + b] = lu + best[n + b];
    }
    v->nc_max = lt + maxv;
    double gm = lu + maxu;
    gm = v->nc_max > gm ? v->nc_max : gm;
    for (int c = 0; c < obs->n; c++) {
        double x = v->lcand[c];
        nv[obs->bin[c]] = x;
        gm = x > gm ? x : gm;
        v->pbin[c] = obs->bin[c];
    }
    v->pn = obs->n;
    v->g_max = gm;
}

int vx__viterbi_push(vx__viterbi *v, const vx__pyin_obs *obs)
{
    if (!v || !obs)
        return VX_EINVAL;
    const vx__pyin_tables *t = v->t;
    if (obs->n < 0 || obs->n > VX__PYIN_MAX_CAND)
        return VX_EINVAL;
    for (int c = 0; c < obs->n; c++)
        v->lcand[c] = log(obs->prob[c] + DBL_MIN);
    v->lu = log((1.0 - obs->voiced_prob) / VX__PYIN_N_BINS + DBL_MIN);

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
            v->val[b] = t->log_tiny + t->log_init;
            v->val[VX__PYIN_N_BINS + b] = v->lu + t->log_init;
        }
        for (int c = 0; c < obs->n; c++)
            v->val[obs->bin[c]] = v->lcand[c] + t->log_init;
        v->nc_max = t->log_tiny + t->log_init;
        v->g_max = v->val[first_argmax(v->val, VX__PYIN_N_STATES)];
        v->pn = obs->n;
        for (int c = 0; c < obs->n; c++)
            v->pbin[c] = obs->bin[c];
        memset(bp, 0, VX__PYIN_N_STATES * sizeof *bp);
        v->n_frames = 1;
        return VX_OK;
    }
    forward_step(v, obs, bp);
    double *tmp = v->val;
    v->val = v->nval;
    v->nval = tmp;
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
