/*
 * convert_dsp.c -- signal-processing blocks of the tone-colour converter.
 *
 * DESIGN: everything the converter does to samples, as small reentrant
 * functions in double precision with their own radix-2 FFT (no FFTW plan
 * or lock, bit-identical results on every run).  SPTK 3.9 holds reference
 * implementations of the mel-cepstral tools, but its library routines keep
 * static work buffers (mcep, freqt, fftr, window, and mlsadf's Pade pointer)
 * and so must not run in two threads at once, while the converter runs in
 * the pipeline's worker pool.  The routines needed are therefore ported here
 * without static state: freqt (Oppenheim & Johnson's all-pass frequency
 * transformation) and mc2b line by line, and the MLSA filter (Imai,
 * "Cepstral analysis synthesis on the mel frequency scale", ICASSP 1983)
 * with SPTK's two-stage structure and Pade coefficients of order 5;
 * tests/unit/tts/test_convert.c checks them against SPTK itself (the MLSA
 * output is bit-identical).  The hot loops (MLSA filter, unwarp filter,
 * WSOLA search, band-fill FIR, FFT butterflies, the resampler's taps, the
 * freqt matrix product) run independent chains side by side, in GCC/clang
 * vector lanes where it helps (4-double lanes in AVX2 clones picked at run
 * time on x86-64), but every value keeps the operations and order of the
 * plain code (no FMA, no reassociation), so results are the same bytes on
 * every CPU; vx__cv_mlsa_filter_ref keeps the line-by-line SPTK port, and
 * vx__cv_vr_resample_ref and vx__cv_wsola_ref the plain resampler and
 * WSOLA search, which the unit test holds the fast ones to.
 *
 * Spectral envelope: CheapTrick (M. Morise, "CheapTrick, a spectral
 * envelope estimator for high-quality speech synthesis", Speech
 * Communication 67, 2015) -- a Hann window of three pitch periods, the power
 * spectrum smoothed over exactly 2/3 F0, the log spectrum's cepstrum
 * multiplied by the smoothing lifter sin(pi f0 q) / (pi f0 q) and the
 * compensation lifter 1.3 - 0.3 cos(2 pi f0 q) -- then warped to a
 * mel-cepstrum with freqt.  Unlike a fixed-window FFT cepstrum it does not
 * follow the harmonics, so envelopes measured at different F0s compare, and
 * the per-frame formant-preservation filter does not imprint the source's
 * harmonic ripple.  F0 and voicing come from the caller's pitch track
 * (pYIN); unvoiced frames use CheapTrick's 500 Hz.  SPTK's iterative mcep
 * (Tokuda, Kobayashi, Masuko & Imai, ICSLP 1994) would cost tens of FFTs per
 * frame and still follow the harmonics of high voices.
 *
 * Time and pitch: a band-limited variable-rate resampler (Kaiser-windowed
 * sinc whose cutoff follows the local rate, Smith's bandlimited
 * interpolation) changes pitch and duration together; WSOLA (Verhelst &
 * Roelands, ICASSP 1993: waveform-similarity overlap-add, normalised
 * cross-correlation over +-8.7 ms searched coarse-to-fine, 23 ms Hann frames
 * at 50 % overlap) then sets the timing without touching pitch.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/simd.h"
#include "tts/convert_dsp.h"
#include "voxclone/voxclone.h"

/* AVX2 kernels, picked at run time (GCC/clang on x86-64); every lane
 * computes what the scalar code computes (no FMA: "avx2" does not enable
 * it, and C11 mode does not contract), so results do not depend on the
 * CPU. */
#if (defined(__GNUC__) || defined(__clang__)) && defined(__x86_64__) && !defined(VX_NO_AVX2)
#include <immintrin.h>
#define VX__CV_X86 1
/* kernels only for AVX2, called after cv_have_avx2(); without AVX a
 * 4-double generic vector lives in memory (GCC gives it no register mode),
 * so those callers keep the 2-double or scalar code for other CPUs */
#define VX__CV_AVX2 __attribute__((target("avx2")))
/* (libgcc's constructor has filled in the CPU model before any of this
 * runs; no __builtin_cpu_init here, which would write it again from every
 * thread) */
static int cv_have_avx2(void)
{
    return __builtin_cpu_supports("avx2") != 0;
}
#endif

#ifndef M_PI
#define M_PI 3.14159265358979323846
#endif

/* two doubles (GCC/clang vector extension, SSE2 on x86-64): element-wise
 * IEEE operations, so lanes compute exactly what scalar code would */
typedef double vx__cv_v2d __attribute__((vector_size(16)));
/* four doubles: one AVX register in the AVX2 clones (VX__HOT_PLAIN), two SSE2
 * registers otherwise */
typedef double vx__cv_v4d __attribute__((vector_size(32)));

/* Loops in vector lanes are marked VX__HOT / VX__HOT_PLAIN (core/simd.h:
 * AVX2 clones picked at run time, no libm calls inside). */

/* ------------------------------------------------------------------------ */
/* FFT                                                                       */
/* ------------------------------------------------------------------------ */

int vx__cv_fft_init(vx__cv_fft *f, size_t n)
{
    size_t i, bits = 0;
    memset(f, 0, sizeof *f);
    if (n < 2 || (n & (n - 1)) != 0)
        return VX_EINVAL;
    f->tw = malloc(n * sizeof *f->tw);
    f->rev = malloc(n * sizeof *f->rev);
    f->rtw = malloc(2 * n * sizeof *f->rtw);
    f->stw = malloc(2 * n * sizeof *f->stw);
    f->swp = malloc(n * sizeof *f->swp); /* at most n / 2 pairs */
    if (!f->tw || !f->rev || !f->rtw || !f->stw || !f->swp) {
        vx__cv_fft_free(f);
        return VX_ENOMEM;
    }
    f->n = n;
    while (((size_t)1 << bits) < n)
        bits++;
    for (i = 0; i < n / 2; i++) {
        f->tw[i] = cos(2.0 * M_PI * (double)i / (double)n);
        f->tw[n / 2 + i] = sin(2.0 * M_PI * (double)i / (double)n);
    }
    /* per stage of half-length h: h cosines then h sines, at 2 (h - 1) */
    for (size_t h = 1; h < n; h <<= 1) {
        const size_t step = n / (2 * h);
        for (i = 0; i < h; i++) {
            f->stw[2 * (h - 1) + i] = f->tw[i * step];
            f->stw[2 * (h - 1) + h + i] = f->tw[n / 2 + i * step];
        }
    }
    for (i = 0; i < n; i++) {
        f->rtw[i] = cos(M_PI * (double)i / (double)n);
        f->rtw[n + i] = sin(M_PI * (double)i / (double)n);
    }
    for (i = 0; i < n; i++) {
        size_t r = 0, v = i, b;
        for (b = 0; b < bits; b++) {
            r = (r << 1) | (v & 1u);
            v >>= 1;
        }
        f->rev[i] = r;
        if (r > i) {
            f->swp[2 * f->nswp] = i;
            f->swp[2 * f->nswp + 1] = r;
            f->nswp++;
        }
    }
    return VX_OK;
}

void vx__cv_fft_free(vx__cv_fft *f)
{
    if (!f)
        return;
    free(f->tw);
    free(f->rev);
    free(f->rtw);
    free(f->stw);
    free(f->swp);
    f->stw = NULL;
    f->swp = NULL;
    f->nswp = 0;
    f->tw = NULL;
    f->rev = NULL;
    f->rtw = NULL;
    f->n = 0;
}

/* Stages of half-length >= 4 take four butterflies per vector, with the
 * stage's twiddles read contiguously from f->stw; every butterfly keeps the
 * operations of the plain radix-2 loop (twiddle sgn * sin, products, then
 * sums), so the output is the same bytes on every CPU. */
VX__HOT_PLAIN void vx__cv_fft_run(const vx__cv_fft *f, double *re, double *im, int inverse)
{
    const size_t n = f->n;
    const double sgn = inverse ? 1.0 : -1.0;
    size_t i, len;
    /* bit reversal: the pairs i < rev[i], listed at init (a branch on
     * rev[i] > i per element mispredicted about every other time) */
    for (i = 0; i < f->nswp; i++) {
        const size_t a = f->swp[2 * i], b = f->swp[2 * i + 1];
        double t = re[a];
        re[a] = re[b];
        re[b] = t;
        t = im[a];
        im[a] = im[b];
        im[b] = t;
    }
    for (len = 2; len <= n; len <<= 1) {
        const size_t half = len / 2, step = n / len;
        size_t s, k;
        if (half == 1) {
            const double wr = f->tw[0], wi = sgn * f->tw[n / 2];
            for (s = 0; s < n; s += 2) {
                const double xr = re[s + 1] * wr - im[s + 1] * wi;
                const double xi = re[s + 1] * wi + im[s + 1] * wr;
                re[s + 1] = re[s] - xr;
                im[s + 1] = im[s] - xi;
                re[s] += xr;
                im[s] += xi;
            }
            continue;
        }
        if (half >= 4) {
            const double *wc = f->stw + 2 * (half - 1), *ws = wc + half;
            for (s = 0; s < n; s += len) {
                for (k = 0; k < half; k += 4) {
                    const size_t a = s + k, b = a + half;
                    vx__cv_v4d wr, wi, ra, ia, rb, ib, xr, xi;
                    memcpy(&wr, wc + k, sizeof wr);
                    memcpy(&wi, ws + k, sizeof wi);
                    wi = sgn * wi;
                    memcpy(&ra, re + a, sizeof ra);
                    memcpy(&ia, im + a, sizeof ia);
                    memcpy(&rb, re + b, sizeof rb);
                    memcpy(&ib, im + b, sizeof ib);
                    xr = rb * wr - ib * wi;
                    xi = rb * wi + ib * wr;
                    rb = ra - xr;
                    ib = ia - xi;
                    ra += xr;
                    ia += xi;
                    memcpy(re + a, &ra, sizeof ra);
                    memcpy(im + a, &ia, sizeof ia);
                    memcpy(re + b, &rb, sizeof rb);
                    memcpy(im + b, &ib, sizeof ib);
                }
            }
            continue;
        }
        {
            /* half == 2: two butterflies per vector, the same operations
             * per lane */
            for (s = 0; s < n; s += len) {
                const vx__cv_v2d wr = {f->tw[0], f->tw[step]};
                const vx__cv_v2d wi = sgn * (vx__cv_v2d){f->tw[n / 2], f->tw[n / 2 + step]};
                const size_t a = s, b = a + half;
                vx__cv_v2d ra, ia, rb, ib, xr, xi;
                memcpy(&ra, re + a, sizeof ra);
                memcpy(&ia, im + a, sizeof ia);
                memcpy(&rb, re + b, sizeof rb);
                memcpy(&ib, im + b, sizeof ib);
                xr = rb * wr - ib * wi;
                xi = rb * wi + ib * wr;
                rb = ra - xr;
                ib = ia - xi;
                ra += xr;
                ia += xi;
                memcpy(re + a, &ra, sizeof ra);
                memcpy(im + a, &ia, sizeof ia);
                memcpy(re + b, &rb, sizeof rb);
                memcpy(im + b, &ib, sizeof ib);
            }
        }
    }
}

/* (the loops are element-wise: GCC's vectoriser keeps every operation) */
VX__HOT void vx__cv_rfft(const vx__cv_fft *f, const double *x, double *re, double *im,
                                double *work)
{
    const size_t h = f->n;
    double *zr = work, *zi = work + h;
    size_t k;
    for (k = 0; k < h; k++) {
        zr[k] = x[2 * k];
        zi[k] = x[2 * k + 1];
    }
    vx__cv_fft_run(f, zr, zi, 0);
    /* X[k] = E[k] + W^k O[k], E = (Z[k] + conj Z[h-k]) / 2,
     * O = (Z[k] - conj Z[h-k]) / 2i, W = exp(-2 pi i / n) */
    re[0] = zr[0] + zi[0];
    im[0] = 0.0;
    re[h] = zr[0] - zi[0];
    im[h] = 0.0;
    for (k = 1; k < h; k++) {
        const double ar = zr[k], ai = zi[k], br = zr[h - k], bi = -zi[h - k];
        const double er = 0.5 * (ar + br), ei = 0.5 * (ai + bi);
        const double or_ = 0.5 * (ai - bi), oi = -0.5 * (ar - br);
        /* W^k = cos(2 pi k / n) - i sin(2 pi k / n) */
        const double c = f->rtw[k], s = -f->rtw[h + k];
        re[k] = er + or_ * c - oi * s;
        im[k] = ei + or_ * s + oi * c;
    }
}

/* ------------------------------------------------------------------------ */
/* freqt, mc2b                                                               */
/* ------------------------------------------------------------------------ */

/* work: 2 * (m2 + 1) doubles */
void vx__cv_freqt(const double *c1, int m1, double *c2, int m2, double a, double *work)
{
    double *g = work, *d = work + m2 + 1;
    const double b = 1.0 - a * a;
    int i, j;
    for (j = 0; j <= m2; j++)
        g[j] = d[j] = 0.0;
    for (i = -m1; i <= 0; i++) {
        d[0] = g[0];
        g[0] = c1[-i] + a * d[0];
        if (m2 >= 1) {
            d[1] = g[1];
            g[1] = b * d[0] + a * d[1];
        }
        for (j = 2; j <= m2; j++) {
            d[j] = g[j];
            g[j] = d[j - 1] + a * (d[j] - g[j - 1]);
        }
    }
    for (j = 0; j <= m2; j++)
        c2[j] = g[j];
}

void vx__cv_mc2b(const double *mc, double *b, int m, double a)
{
    b[m] = mc[m];
    for (m--; m >= 0; m--)
        b[m] = mc[m] - a * b[m + 1];
}

/* ------------------------------------------------------------------------ */
/* Frame analysis                                                            */
/* ------------------------------------------------------------------------ */

#define CT_FFT 2048         /* holds 3 periods of 55 Hz at 22050 Hz */
#ifndef CT_FFT_MIN
#define CT_FFT_MIN 1024     /* smallest FFT (512 or 1024) */
#endif
#define CT_F0_UNVOICED 500.0 /* CheapTrick's default F0 for unvoiced frames */
#define CT_F0_MIN 55.0
#define CT_F0_MAX 800.0
#define CT_Q1 (-0.15)        /* compensation lifter (WORLD) */
#define CT_M1 384            /* cepstral length handed to freqt (at most) */
#ifndef CT_LIFT_PERIODS
#define CT_LIFT_PERIODS 3.0 /* ... and at most three pitch periods (the smoothing
                               * lifter has decayed to < 1/(3 pi) there) */
#endif

void vx__cv_frames_free(vx__cv_frames *f)
{
    if (!f)
        return;
    free(f->mc);
    free(f->voiced);
    free(f->energy_db);
    memset(f, 0, sizeof *f);
}

/* F0 (Hz, 0 when unvoiced) of the pitch track at sample position c */
static double track_f0(const double *f0, size_t n, size_t hop, double c)
{
    const double t = c / (double)hop;
    size_t i0, i1;
    double fr;
    if (!f0 || n == 0)
        return 0.0;
    if (t >= (double)(n - 1))
        return f0[n - 1] > 0.0 ? f0[n - 1] : 0.0;
    i0 = (size_t)t;
    i1 = i0 + 1;
    fr = t - (double)i0;
    if (!(f0[fr < 0.5 ? i0 : i1] > 0.0))
        return 0.0; /* nearest frame unvoiced */
    if (f0[i0] > 0.0 && f0[i1] > 0.0)
        return f0[i0] + (f0[i1] - f0[i0]) * fr;
    return f0[fr < 0.5 ? i0 : i1];
}

/* The freqt matrix transposed, AT_W doubles per cepstral index i (the
 * VX__CV_DIM outputs, zero padded to whole vectors). */
#define AT_W 28

/* out[m] = sum_{i <= n} A[m][i] c[i] for m < VX__CV_DIM, A stored
 * transposed (At[i * AT_W + m]): the 25 dot products side by side in vector
 * lanes, each summed in index order as the plain loop sums it (the plain
 * loop ran one 385-long dependency chain per row, half of the analysis
 * time). */
VX__HOT_PLAIN static void ct_matvec(const double *At, const double *c, size_t n, double *out)
{
    vx__cv_v4d a[AT_W / 4];
    double o[AT_W];
    size_t i;
    int l;
    for (l = 0; l < AT_W / 4; l++)
        a[l] = (vx__cv_v4d){0.0, 0.0, 0.0, 0.0};
    for (i = 0; i <= n; i++) {
        const double ci = c[i];
        const double *r = At + i * AT_W;
        for (l = 0; l < AT_W / 4; l++) {
            vx__cv_v4d v;
            memcpy(&v, r + 4 * l, sizeof v);
            a[l] += v * ci;
        }
    }
    memcpy(o, a, sizeof o);
    memcpy(out, o, VX__CV_DIM * sizeof *out);
}

typedef long long vx__cv_v4l __attribute__((vector_size(32)));

/* re[k] /= width for k < n (divisions in vector lanes: the same quotients),
 * and the largest of them (or 0.0) as the scalar "if (v > pmax) pmax = v"
 * from pmax = 0.0 finds it: per lane, then over the lanes (a maximum does
 * not depend on the order; NaNs are skipped either way) */
VX__HOT_PLAIN static double ct_div_max(double *re, long n, double width)
{
    vx__cv_v4d pm = {0.0, 0.0, 0.0, 0.0}, v;
    double pmax = 0.0, lanes[4];
    long k;
    int l;
    for (k = 0; k + 4 <= n; k += 4) {
        vx__cv_v4l gt;
        memcpy(&v, re + k, sizeof v);
        v = v / width;
        memcpy(re + k, &v, sizeof v);
        gt = v > pm;
        pm = (vx__cv_v4d)(((vx__cv_v4l)v & gt) | ((vx__cv_v4l)pm & ~gt));
    }
    memcpy(lanes, &pm, sizeof lanes);
    for (l = 0; l < 4; l++)
        if (lanes[l] > pmax)
            pmax = lanes[l];
    for (; k < n; k++) {
        const double s = re[k] / width;
        re[k] = s;
        if (s > pmax)
            pmax = s;
    }
    return pmax;
}

/* the smoothing and compensation lifters (step 4) from lsn[i] = sin(a_i),
 * lcn[i] = cos(a_i), i = 1..m1, four at a time with the scalar expressions */
VX__HOT_PLAIN static void ct_lifter(double *c, const double *re, const double *lsn,
                                 const double *lcn, size_t m1, double a1, double n)
{
    vx__cv_v4d id = {1.0, 2.0, 3.0, 4.0};
    size_t i;
    for (i = 1; i + 3 <= m1; i += 4) {
        vx__cv_v4d sn, cn, r, a, ls, lc, out;
        memcpy(&sn, lsn + i, sizeof sn);
        memcpy(&cn, lcn + i, sizeof cn);
        memcpy(&r, re + i, sizeof r);
        a = a1 * id;
        ls = sn / a;
        lc = (1.0 - 2.0 * CT_Q1) + 2.0 * CT_Q1 * (cn * cn - sn * sn);
        out = 2.0 * r / n * ls * lc;
        memcpy(c + i, &out, sizeof out);
        id += 4.0;
    }
    for (; i <= m1; i++) {
        const double sn = lsn[i], cn = lcn[i];
        const double a = a1 * (double)i;
        const double ls = sn / a;
        const double lc = (1.0 - 2.0 * CT_Q1) + 2.0 * CT_Q1 * (cn * cn - sn * sn);
        c[i] = 2.0 * re[i] / n * ls * lc;
    }
}

int vx__cv_analyze(const double *x, size_t len, const double *f0_track, size_t n_track,
                   size_t track_hop, vx__cv_frames *out)
{
    vx__cv_fft fft[3]; /* real FFT sizes 512, 1024, 2048 */
    double *buf = NULL, *re = NULL, *im = NULL, *pw = NULL, *cs = NULL, *c = NULL;
    double *work = NULL, *A = NULL, *lsn = NULL, *lcn = NULL;
    size_t nf = 1 + len / VX__CV_HOP, i;
    const size_t NMAX = CT_FFT, HMAX = CT_FFT / 2;
    int rc = VX_ENOMEM, t, m;

    memset(out, 0, sizeof *out);
    memset(fft, 0, sizeof fft);
    for (t = 0; t < 3; t++)
        if (vx__cv_fft_init(&fft[t], (size_t)128 << t) != VX_OK)
            goto done;
    buf = malloc(NMAX * sizeof *buf);
    re = malloc((HMAX + 1) * sizeof *re);
    im = malloc((HMAX + 1) * sizeof *im);
    pw = malloc((HMAX + 1) * sizeof *pw);
    cs = malloc((2 * HMAX + 2) * sizeof *cs);
    c = malloc((CT_M1 + 1) * sizeof *c);
    lsn = malloc((CT_M1 + 1) * sizeof *lsn);
    lcn = malloc((CT_M1 + 1) * sizeof *lcn);
    work = malloc((NMAX > 2 * VX__CV_DIM ? NMAX : 2 * VX__CV_DIM) * sizeof *work);
    A = calloc((size_t)AT_W * (CT_M1 + 1), sizeof *A);
    out->mc = malloc(nf * VX__CV_DIM * sizeof *out->mc);
    out->voiced = malloc(nf * sizeof *out->voiced);
    out->energy_db = malloc(nf * sizeof *out->energy_db);
    if (!buf || !re || !im || !pw || !cs || !c || !work || !A || !lsn || !lcn || !out->mc ||
        !out->voiced || !out->energy_db)
        goto done;
    out->n = nf;

    /* freqt is linear: its matrix, column i = freqt of the unit vector e_i,
     * turns the recursion into independent dot products.  freqt(e_i) runs
     * one step of the recursion with input 1 and then i steps with input 0,
     * so column i is column i - 1 advanced by one zero-input step: the same
     * operations as calling freqt for every column, in O(order) each. */
    {
        const double a = VX__CV_ALPHA, b = 1.0 - VX__CV_ALPHA * VX__CV_ALPHA;
        double g[VX__CV_DIM], d[VX__CV_DIM];
        for (m = 0; m < VX__CV_DIM; m++)
            g[m] = 0.0;
        for (i = 0; i <= CT_M1; i++) {
            const double in = i == 0 ? 1.0 : 0.0;
            d[0] = g[0];
            g[0] = in + a * d[0];
            d[1] = g[1];
            g[1] = b * d[0] + a * d[1];
            for (m = 2; m < VX__CV_DIM; m++) {
                d[m] = g[m];
                g[m] = d[m - 1] + a * (d[m] - g[m - 1]);
            }
            for (m = 0; m < VX__CV_DIM; m++)
                A[i * AT_W + (size_t)m] = g[m];
        }
    }

    for (size_t f = 0; f < nf; f++) {
        const double centre = (double)(f * VX__CV_HOP);
        double f0 = track_f0(f0_track, n_track, track_hop, centre);
        double sw = 0.0, sxw = 0.0, sw2 = 0.0, e = 0.0, pmax = 0.0, floor_p, width, dc, nrm;
        double th, c1, ckm1, ckm2;
        size_t N, H, m1;
        const vx__cv_fft *pl;
        long half;
        out->voiced[f] = (uint8_t)(f0 > 0.0);
        if (!(f0 > 0.0))
            f0 = CT_F0_UNVOICED;
        if (f0 < CT_F0_MIN)
            f0 = CT_F0_MIN;
        if (f0 > CT_F0_MAX)
            f0 = CT_F0_MAX;
        /* 1. Hann window of three periods, DC removed, unit power; FFT
         * size: the smallest of 512/1024/2048 that holds it */
        half = (long)floor(1.5 * VX__CV_RATE / f0 + 0.5);
        if (2 * half + 1 > (long)NMAX)
            half = (long)NMAX / 2 - 1;
        t = (2 * half + 1 <= (long)CT_FFT_MIN) ? (CT_FFT_MIN == 512 ? 0 : 1)
            : (2 * half + 1 <= 1024)          ? 1
                                              : 2;
        pl = &fft[t];
        N = 2 * pl->n;
        H = N / 2;
        for (i = 0; i < N; i++)
            buf[i] = 0.0;
        /* w_k = 0.5 + 0.5 cos(pi k / (half + 1)), cosines by recurrence */
        th = M_PI / (double)(half + 1);
        c1 = cos(th);
        ckm2 = c1; /* cos(-th) */
        ckm1 = 1.0;
        for (long k = 0; k <= half; k++) {
            const double ck = k == 0 ? 1.0 : 2.0 * c1 * ckm1 - ckm2;
            const double w = 0.5 + 0.5 * ck;
            const long jp = (long)centre + k, jm = (long)centre - k;
            const double vp = (jp >= 0 && (size_t)jp < len) ? x[jp] : 0.0;
            const double vm = (jm >= 0 && (size_t)jm < len) ? x[jm] : 0.0;
            if (k > 0) {
                ckm2 = ckm1;
                ckm1 = ck;
            }
            buf[half + k] = w;
            buf[half - k] = w;
            if (k == 0) {
                sw += w;
                sxw += vp * w;
                sw2 += w * w;
            } else {
                sw += 2.0 * w;
                sxw += (vp + vm) * w;
                sw2 += 2.0 * w * w;
            }
        }
        dc = sw > 0.0 ? sxw / sw : 0.0;
        nrm = 1.0 / sqrt(sw2);
        for (long k = -half; k <= half; k++) {
            const long j = (long)centre + k;
            const double v = (j >= 0 && (size_t)j < len) ? x[j] : 0.0;
            const double w = buf[k + half];
            buf[k + half] = (v - dc) * w * nrm;
            e += buf[k + half] * buf[k + half];
        }
        out->energy_db[f] = 10.0 * log10(e + 1e-20);
        vx__cv_rfft(pl, buf, re, im, work);
        for (i = 0; i <= H; i++)
            pw[i] = re[i] * re[i] + im[i] * im[i];
        /* 2. rectangular smoothing over exactly 2/3 F0 (spectrum mirrored
         * at DC and at Nyquist): difference of the linearly interpolated
         * cumulative sum at k +/- width/2, as WORLD's CheapTrick does */
        width = (2.0 / 3.0) * f0 * (double)N / VX__CV_RATE; /* in bins */
        {
            const long L = (long)H, W = (long)ceil(width / 2.0) + 2;
            /* cs[j + W] = sum of the mirrored bins i < j (edge at j - 1/2) */
            cs[0] = 0.0;
            for (long j = -W; j < L + W; j++) {
                long jj = j < 0 ? -j : j;
                if (jj > L)
                    jj = 2 * L - jj;
                cs[j + W + 1] = cs[j + W] + pw[jj];
            }
            for (long k = 0; k <= L; k++) {
                /* edge coordinate u: bin k spans [k - 1/2, k + 1/2] */
                const double ua = (double)k - 0.5 * width + 0.5 + (double)W;
                const double ub = (double)k + 0.5 * width + 0.5 + (double)W;
                /* ua, ub >= k + 2.5 (W >= width / 2 + 2): truncation is
                 * floor, without a libm call */
                const long ia = (long)ua, ib = (long)ub;
                const double va = cs[ia] + (cs[ia + 1] - cs[ia]) * (ua - (double)ia);
                const double vb = cs[ib] + (cs[ib + 1] - cs[ib]) * (ub - (double)ib);
                re[k] = vb - va; /* / width: ct_div_max */
            }
            pmax = ct_div_max(re, L + 1, width);
        }
        floor_p = pmax * 1e-7 + 1e-20; /* 70 dB below the strongest bin */
        /* 3. log amplitude -> real cepstrum */
        for (i = 0; i <= H; i++)
            buf[i] = 0.5 * log(re[i] + floor_p);
        for (i = H + 1; i < N; i++)
            buf[i] = buf[N - i];
        vx__cv_rfft(pl, buf, re, im, work);
        /* 4. smoothing and compensation lifters over two periods of
         * quefrency (CT_LIFT_PERIODS),
         * causal cepstrum, then the freqt matrix */
        m1 = (size_t)(CT_LIFT_PERIODS * VX__CV_RATE / f0);
        if (m1 > CT_M1)
            m1 = CT_M1;
        if (m1 > H - 1)
            m1 = H - 1;
        c[0] = re[0] / (double)N;
        {
            /* a_i = pi f0 i / fs: sin(a_i) and cos(2 a_i) by recurrence */
            const double a1 = M_PI * f0 / VX__CV_RATE;
            const double ca = cos(a1), sa = sin(a1);
            double si = 0.0, co = 1.0; /* sin(a_0), cos(a_0) */
            for (i = 1; i <= m1; i++) {
                const double sn = si * ca + co * sa, cn = co * ca - si * sa;
                si = sn;
                co = cn;
                lsn[i] = sn;
                lcn[i] = cn;
            }
            ct_lifter(c, re, lsn, lcn, m1, a1, (double)N);
        }
        ct_matvec(A, c, m1, out->mc + f * VX__CV_DIM);
    }
    rc = VX_OK;
done:
    if (rc != VX_OK)
        vx__cv_frames_free(out);
    for (t = 0; t < 3; t++)
        vx__cv_fft_free(&fft[t]);
    free(buf);
    free(re);
    free(im);
    free(pw);
    free(cs);
    free(c);
    free(lsn);
    free(lcn);
    free(work);
    free(A);
    return rc;
}

void vx__cv_class_stats_compute(const vx__cv_frames *f, double sel_db, vx__cv_class_stats *out)
{
    double emax = -400.0;
    size_t i;
    int k, cl;
    memset(out, 0, sizeof *out);
    for (i = 0; i < f->n; i++)
        if (f->energy_db[i] > emax)
            emax = f->energy_db[i];
    for (i = 0; i < f->n; i++) {
        const double *mc = f->mc + i * VX__CV_DIM;
        if (f->energy_db[i] < emax - sel_db || f->energy_db[i] < -150.0)
            continue;
        cl = f->voiced[i] ? 1 : 0;
        out->count[cl]++;
        for (k = 0; k < VX__CV_DIM; k++) {
            out->mean[cl][k] += mc[k];
            out->std[cl][k] += mc[k] * mc[k];
        }
    }
    for (cl = 0; cl < 2; cl++) {
        const double nc = (double)out->count[cl];
        for (k = 0; k < VX__CV_DIM; k++) {
            if (nc > 0) {
                const double m = out->mean[cl][k] / nc;
                const double v = out->std[cl][k] / nc - m * m;
                out->mean[cl][k] = m;
                out->std[cl][k] = v > 0.0 ? sqrt(v) : 0.0;
            } else {
                out->mean[cl][k] = 0.0;
                out->std[cl][k] = 0.0;
            }
        }
    }
}

#define LIM_K 256
void vx__cv_limit_response(double *d, double lo_db, double hi_db, double fmax_hz)
{
    double L[LIM_K + 1];
    const double lo = lo_db / (20.0 / log(10.0)), hi = hi_db / (20.0 / log(10.0));
    const double a = VX__CV_ALPHA;
    double wmax = 2.0 * M_PI * fmax_hz / VX__CV_RATE, wtmax, taper = 0.15 * M_PI;
    int k, m;
    if (wmax > M_PI)
        wmax = M_PI;
    /* warped frequency of wmax (phase of the all-pass) */
    wtmax = wmax + 2.0 * atan(a * sin(wmax) / (1.0 - a * cos(wmax)));
    for (k = 0; k <= LIM_K; k++) {
        const double w = M_PI * (double)k / LIM_K;
        double v = 0.0;
        for (m = 0; m <= VX__CV_ORDER; m++)
            v += d[m] * cos((double)m * w);
        if (v < lo)
            v = lo;
        if (v > hi)
            v = hi;
        if (wtmax < M_PI && w > wtmax - taper) {
            double t = (w - (wtmax - taper)) / taper;
            if (t > 1.0)
                t = 1.0;
            v *= 0.5 + 0.5 * cos(M_PI * t);
        }
        L[k] = v;
    }
    for (m = 0; m <= VX__CV_ORDER; m++) {
        double s = 0.5 * (L[0] + L[LIM_K] * cos((double)m * M_PI));
        for (k = 1; k < LIM_K; k++)
            s += L[k] * cos((double)m * M_PI * (double)k / LIM_K);
        d[m] = (m == 0 ? 1.0 : 2.0) * s / LIM_K;
    }
}

static double bessel_i0(double x);

/* phase of the first-order all-pass: linear -> warped frequency (a > 0) or
 * back (a < 0) */
static double warp(double w, double a)
{
    return w + 2.0 * atan(a * sin(w) / (1.0 - a * cos(w)));
}


#define UW_K 64
/* Constants of vx__cv_unwarp_filter's grid, as C99 hexadecimal literals (so
 * exactly the doubles the expressions give; generated with glibc's libm):
 * k_uw_w[k] = warp(wt, -VX__CV_ALPHA), k_uw_cos[k] = cos(wt) for wt = pi k /
 * UW_K (so k_uw_cos[m] is also cos(pi m / UW_K)).  The unit test checks them
 * against the expressions. */
static const double k_uw_w[UW_K + 1] = {
    0x0p+0,    0x1.488cee7b8adc8p-6,    0x1.48b72d2cf029fp-5,
    0x1.ed7c879f36ebep-5,    0x1.49609d74b098cp-4,    0x1.9c5838e5bbc3cp-4,
    0x1.efbafb1149664p-4,    0x1.21cf96aa8eb23p-3,    0x1.4c0dc985681fp-3,
    0x1.76a3bff2fe24ep-3,    0x1.a19d77a5b469p-3,    0x1.cd074e655e9a6p-3,
    0x1.f8ee0ef35a2e4p-3,    0x1.12af7f56a2472p-2,    0x1.2933f603996cbp-2,
    0x1.400b9efc00445p-2,    0x1.573e023a0fb6ep-2,    0x1.6ed3050aa4a2dp-2,
    0x1.86d2f387c15b8p-2,    0x1.9f468acaff744p-2,    0x1.b83703ea499bep-2,
    0x1.d1ae1fd23b92ap-2,    0x1.ebb634127429ap-2,    0x1.032d1c5873752p-1,
    0x1.10d2eb8cdac96p-1,    0x1.1ed2bd20947d1p-1,    0x1.2d3330066a7eep-1,
    0x1.3bfb560bc6245p-1,    0x1.4b32bdf099b9fp-1,    0x1.5ae17e3ba8f06p-1,
    0x1.6b1040ce71fa4p-1,    0x1.7bc84f375b577p-1,    0x1.8d139fba4671fp-1,
    0x1.9efce2fea7a34p-1,    0x1.b18f92460bb77p-1,    0x1.c4d7fdfd94dc6p-1,
    0x1.d8e35c67506c1p-1,    0x1.edbfd7fbef82fp-1,    0x1.01be4e805de46p+0,
    0x1.0d14f2cf54014p+0,    0x1.18ec81c5f5f64p+0,    0x1.254e3307b2564p+0,
    0x1.3243cd64dcbd4p+0,    0x1.3fd7a3a11df63p+0,    0x1.4e148c59f4f92p+0,
    0x1.5d05d38194406p+0,    0x1.6cb72391bea24p+0,    0x1.7d346447efe28p+0,
    0x1.8e898c712609cp+0,    0x1.a0c264169ad94p+0,    0x1.b3ea34534de7cp+0,
    0x1.c80b625a4ada3p+0,    0x1.dd2ef3e52add8p+0,    0x1.f35bfc8d1be1ep+0,
    0x1.054b7ad0acfc3p+1,    0x1.11708280c7414p+1,    0x1.1e1b9daaaba8fp+1,
    0x1.2b48eb37eaa6ep+1,    0x1.38f1cc9ce9625p+1,    0x1.470ca71b3df02p+1,
    0x1.558cc5b5120aap+1,    0x1.64626669b7ef8p+1,    0x1.737afa6aefc06p+1,
    0x1.82c19be5ba54fp+1,    0x1.921fb54442d18p+1,};
static const double k_uw_cos[UW_K + 2] = { /* [UW_K + 1]: 0, lane padding */
    0x1p+0,    0x1.ff621e3796d7ep-1,    0x1.fd88da3d12526p-1,
    0x1.fa7557f08a517p-1,    0x1.f6297cff75cbp-1,    0x1.f0a7efb9230d7p-1,
    0x1.e9f4156c62ddap-1,    0x1.e212104f686e5p-1,    0x1.d906bcf328d46p-1,
    0x1.ced7af43cc773p-1,    0x1.c38b2f180bdb1p-1,    0x1.b728345196e3ep-1,
    0x1.a9b66290ea1a3p-1,    0x1.9b3e047f38741p-1,    0x1.8bc806b151741p-1,
    0x1.7b5df226aafafp-1,    0x1.6a09e667f3bcdp-1,    0x1.57d69348cec9fp-1,
    0x1.44cf325091dd6p-1,    0x1.30ff7fce17036p-1,    0x1.1c73b39ae68c9p-1,
    0x1.073879922ffedp-1,    0x1.e2b5d3806f63ep-2,    0x1.b5d1009e15cc2p-2,
    0x1.87de2a6aea964p-2,    0x1.58f9a75ab1fddp-2,    0x1.294062ed59f05p-2,
    0x1.f19f97b215f1ep-3,    0x1.8f8b83c69a60dp-3,    0x1.2c8106e8e613ap-3,
    0x1.917a6bc29b438p-4,    0x1.91f65f10dd824p-5,    0x1.1a62633145c07p-54,
    -0x1.91f65f10dd813p-5,    -0x1.917a6bc29b42fp-4,    -0x1.2c8106e8e6136p-3,
    -0x1.8f8b83c69a608p-3,    -0x1.f19f97b215f1ap-3,    -0x1.294062ed59f02p-2,
    -0x1.58f9a75ab1fdbp-2,    -0x1.87de2a6aea962p-2,    -0x1.b5d1009e15cbcp-2,
    -0x1.e2b5d3806f63cp-2,    -0x1.073879922ffedp-1,    -0x1.1c73b39ae68c6p-1,
    -0x1.30ff7fce17035p-1,    -0x1.44cf325091dd5p-1,    -0x1.57d69348cecap-1,
    -0x1.6a09e667f3bccp-1,    -0x1.7b5df226aafadp-1,    -0x1.8bc806b151741p-1,
    -0x1.9b3e047f3874p-1,    -0x1.a9b66290ea1a4p-1,    -0x1.b728345196e3dp-1,
    -0x1.c38b2f180bdbp-1,    -0x1.ced7af43cc773p-1,    -0x1.d906bcf328d46p-1,
    -0x1.e212104f686e4p-1,    -0x1.e9f4156c62ddap-1,    -0x1.f0a7efb9230d7p-1,
    -0x1.f6297cff75cbp-1,    -0x1.fa7557f08a517p-1,    -0x1.fd88da3d12525p-1,
    -0x1.ff621e3796d7ep-1,    -0x1p+0,};

#define UW_S 72 /* lanes per cosine series in vx__cv_unwarp_filter: UW_K + 1 padded */

/* sum_m c[m] cos(m th), m = 0..VX__CV_ORDER, by the Chebyshev recurrence,
 * for n (even, <= 2 * UW_S) values of c1 = cos(th), two per vector */
static void cos_series_v(const double *c, const double *c1, double *out, int n)
{
    vx__cv_v2d cm2[UW_S], cm1[UW_S], s[UW_S];
    const int nv = n / 2;
    int m, l;
    for (l = 0; l < nv; l++) {
        const vx__cv_v2d x1 = {c1[2 * l], c1[2 * l + 1]};
        cm2[l] = (vx__cv_v2d){1.0, 1.0};
        cm1[l] = x1;
        s[l] = c[0] + c[1] * x1;
    }
    for (m = 2; m <= VX__CV_ORDER; m++) {
        const double cm_ = c[m];
        for (l = 0; l < nv; l++) {
            const vx__cv_v2d x1 = {c1[2 * l], c1[2 * l + 1]};
            const vx__cv_v2d cm = 2.0 * x1 * cm1[l] - cm2[l];
            s[l] += cm_ * cm;
            cm2[l] = cm1[l];
            cm1[l] = cm;
        }
    }
    for (l = 0; l < nv; l++) {
        out[2 * l] = s[l][0];
        out[2 * l + 1] = s[l][1];
    }
}

#ifdef VX__CV_X86
/* sum_m c[m] cos(m th), m = 0..VX__CV_ORDER, by the Chebyshev recurrence,
 * for n (a multiple of 16) values of c1 = cos(th): 16 lanes at a time, the
 * recurrence of each in registers (four independent chains), with per lane
 * the operations of the scalar recurrence */
VX__CV_AVX2 static void cos_series_v4(const double *c, const double *c1, double *out, int n)
{
    int m, l;
    for (l = 0; l < n; l += 16) {
        /* (spelt out so that the sixteen vectors stay in registers) */
        vx__cv_v4d x0, x1, x2, x3, p0, p1, p2, p3, q0, q1, q2, q3, s0, s1, s2, s3;
        memcpy(&x0, c1 + l, sizeof x0);
        memcpy(&x1, c1 + l + 4, sizeof x1);
        memcpy(&x2, c1 + l + 8, sizeof x2);
        memcpy(&x3, c1 + l + 12, sizeof x3);
        q0 = q1 = q2 = q3 = (vx__cv_v4d){1.0, 1.0, 1.0, 1.0}; /* cos((m - 2) th) */
        p0 = x0;                                           /* cos((m - 1) th) */
        p1 = x1;
        p2 = x2;
        p3 = x3;
        s0 = c[0] + c[1] * x0;
        s1 = c[0] + c[1] * x1;
        s2 = c[0] + c[1] * x2;
        s3 = c[0] + c[1] * x3;
        for (m = 2; m <= VX__CV_ORDER; m++) {
            const double cm_ = c[m];
            const vx__cv_v4d n0 = 2.0 * x0 * p0 - q0, n1 = 2.0 * x1 * p1 - q1;
            const vx__cv_v4d n2 = 2.0 * x2 * p2 - q2, n3 = 2.0 * x3 * p3 - q3;
            s0 += cm_ * n0;
            s1 += cm_ * n1;
            s2 += cm_ * n2;
            s3 += cm_ * n3;
            q0 = p0;
            q1 = p1;
            q2 = p2;
            q3 = p3;
            p0 = n0;
            p1 = n1;
            p2 = n2;
            p3 = n3;
        }
        memcpy(out + l, &s0, sizeof s0);
        memcpy(out + l + 4, &s1, sizeof s1);
        memcpy(out + l + 8, &s2, sizeof s2);
        memcpy(out + l + 12, &s3, sizeof s3);
    }
}
#endif

void vx__cv_unwarp_filter(const double *c, double rho, double lim_db, double fmax_hz, double *d)
{
    /* UW_K + 1 grid points; the two cosine series (at the grid's cosines
     * and at c2) in one call, each padded to UW_S lanes */
    double D[UW_K + 2], xs[2 * UW_S], ss[2 * UW_S], *c2 = xs + UW_S;
    const double *s1 = ss, *s2 = ss + UW_S;
    const double lim = lim_db / (20.0 / log(10.0));
    const double wmax = 2.0 * M_PI * fmax_hz / VX__CV_RATE, taper = 2.0 * M_PI * 500.0 / VX__CV_RATE;
    int k, m;
    for (k = 0; k <= UW_K; k++) {
        /* warped grid wt = pi k / UW_K (cosine k_uw_cos[k]), w its linear
         * frequency; c2: cosine of the warped frequency of w / rho */
        double ws = k_uw_w[k] / rho;
        if (ws > M_PI)
            ws = M_PI;
        c2[k] = cos(warp(ws, VX__CV_ALPHA));
    }
    for (k = UW_K + 1; k < UW_S; k++)
        c2[k] = 1.0;
    memcpy(xs, k_uw_cos, (UW_K + 2) * sizeof *xs);
    for (k = UW_K + 2; k < UW_S; k++)
        xs[k] = 0.0;
#ifdef VX__CV_X86
    if (cv_have_avx2())
        cos_series_v4(c, xs, ss, 2 * UW_S);
    else
#endif
        cos_series_v(c, xs, ss, 2 * UW_S);
    for (k = 0; k <= UW_K; k++) {
        const double w = k_uw_w[k];
        double v = s1[k] - s2[k];
        v = v < -lim ? -lim : v > lim ? lim : v;
        if (w > wmax - taper) {
            /* fade out over 500 Hz below fmax: the band above was not
             * resampled */
            double t = (w - (wmax - taper)) / taper;
            if (t > 1.0)
                t = 1.0;
            v *= 0.5 + 0.5 * cos(M_PI * t);
        }
        D[k] = v;
    }
    {
        /* trapezoidal cosine transform on the warped grid, for m = 0..24
         * (and a spare 25) two at a time, Chebyshev recurrence per m */
        enum { NV = (VX__CV_DIM + 1) / 2 };
        vx__cv_v2d acc[NV], ckm1[NV], ckm2[NV], c1[NV];
        int l;
        for (l = 0; l < NV; l++) {
            const int m0 = 2 * l, m1 = 2 * l + 1;
            c1[l] = (vx__cv_v2d){k_uw_cos[m0], m1 <= VX__CV_ORDER ? k_uw_cos[m1] : 0.0};
            acc[l] = 0.5 * (D[0] + D[UW_K] * (vx__cv_v2d){1.0, -1.0});
            ckm2[l] = (vx__cv_v2d){1.0, 1.0};
            ckm1[l] = c1[l];
            acc[l] += D[1] * c1[l];
        }
        for (k = 2; k < UW_K; k++) {
            const double dk = D[k];
            for (l = 0; l < NV; l++) {
                const vx__cv_v2d ck = 2.0 * c1[l] * ckm1[l] - ckm2[l];
                acc[l] += dk * ck;
                ckm2[l] = ckm1[l];
                ckm1[l] = ck;
            }
        }
        for (m = 0; m <= VX__CV_ORDER; m++)
            d[m] = (m == 0 ? 1.0 : 2.0) * acc[m / 2][m & 1] / UW_K;
    }
}

#define BF_HALF 80 /* taps each side: 161-tap FIR */

static vx__cv_v2d loadu2(const double *p)
{
    vx__cv_v2d v;
    memcpy(&v, p, sizeof v);
    return v;
}
/* one output sample of the crossover (boundary-checked) */
static void bf_one(double *z, const double *dif, size_t len, const double *h, size_t i)
{
    double lp = h[0] * dif[i];
    long k;
    for (k = 1; k <= BF_HALF; k++) {
        const double a = (long)i - k >= 0 ? dif[i - (size_t)k] : 0.0;
        const double b = i + (size_t)k < len ? dif[i + (size_t)k] : 0.0;
        lp += h[k] * (a + b);
    }
    z[i] += dif[i] - lp; /* + HP(w - z) */
}

#ifdef VX__CV_X86
/* outputs BF_HALF .. (returned end) - 1 of the crossover, 16 at a time in
 * vector lanes: per output the operations and order of bf_one */
VX__CV_AVX2 static size_t bf_interior(double *z, const double *dif, size_t len, const double *h)
{
    size_t i;
    long k;
    for (i = BF_HALF; i + 16 + BF_HALF <= len; i += 16) {
        vx__cv_v4d a0, a1, a2, a3, u, v;
        const double *pd = dif + i;
        /* (the four accumulators spelt out so that they stay in registers) */
        memcpy(&u, pd, sizeof u);
        a0 = h[0] * u;
        memcpy(&u, pd + 4, sizeof u);
        a1 = h[0] * u;
        memcpy(&u, pd + 8, sizeof u);
        a2 = h[0] * u;
        memcpy(&u, pd + 12, sizeof u);
        a3 = h[0] * u;
        for (k = 1; k <= BF_HALF; k++) {
            const double hk = h[k];
            const double *pm = pd - k, *pp = pd + k;
            memcpy(&u, pm, sizeof u);
            memcpy(&v, pp, sizeof v);
            a0 += hk * (u + v);
            memcpy(&u, pm + 4, sizeof u);
            memcpy(&v, pp + 4, sizeof v);
            a1 += hk * (u + v);
            memcpy(&u, pm + 8, sizeof u);
            memcpy(&v, pp + 8, sizeof v);
            a2 += hk * (u + v);
            memcpy(&u, pm + 12, sizeof u);
            memcpy(&v, pp + 12, sizeof v);
            a3 += hk * (u + v);
        }
#define BF_STORE(off, acc)                                                                         \
    memcpy(&u, pd + (off), sizeof u);                                                              \
    memcpy(&v, z + i + (off), sizeof v);                                                           \
    v += u - (acc);                                                                                \
    memcpy(z + i + (off), &v, sizeof v)
        BF_STORE(0, a0);
        BF_STORE(4, a1);
        BF_STORE(8, a2);
        BF_STORE(12, a3);
#undef BF_STORE
    }
    return i;
}
#endif

int vx__cv_band_fill(double *z, const double *w, size_t len, double fc_hz)
{
    double h[BF_HALF + 1], *dif;
    const double fc = fc_hz / VX__CV_RATE, beta = 5.65, i0b = bessel_i0(5.65);
    size_t i;
    long k;
    dif = malloc((len ? len : 1) * sizeof *dif);
    if (!dif)
        return VX_ENOMEM;
    /* low-pass prototype: 2 fc sinc(2 fc k) * Kaiser; HP = delta - LP */
    for (k = 0; k <= BF_HALF; k++) {
        const double r = (double)k / (BF_HALF + 1);
        const double x = 2.0 * M_PI * fc * (double)k;
        const double sn = k == 0 ? 2.0 * fc : sin(x) / (M_PI * (double)k);
        h[k] = sn * bessel_i0(beta * sqrt(1.0 - r * r)) / i0b;
    }
    for (i = 0; i < len; i++)
        dif[i] = w[i] - z[i];
    i = 0;
    /* interior, 16 (AVX2) or 8 outputs at a time in vector lanes: the same
     * operations in the same order per output as the loop below */
#ifdef VX__CV_X86
    if (len >= 2 * BF_HALF + 16 && cv_have_avx2()) {
        i = bf_interior(z, dif, len, h);
        /* the head [0, BF_HALF) and the tail [i, len) go through the loop
         * below */
        for (size_t q = 0; q < BF_HALF; q++)
            bf_one(z, dif, len, h, q);
    } else
#endif
    if (len >= 2 * BF_HALF + 8) {
        for (i = BF_HALF; i + 8 + BF_HALF <= len; i += 8) {
            vx__cv_v2d acc[4];
            int l;
            for (l = 0; l < 4; l++)
                acc[l] = h[0] * loadu2(dif + i + 2 * l);
            for (k = 1; k <= BF_HALF; k++) {
                const double hk = h[k];
                const double *pm = dif + i - k, *pp = dif + i + k;
                acc[0] += hk * (loadu2(pm) + loadu2(pp));
                acc[1] += hk * (loadu2(pm + 2) + loadu2(pp + 2));
                acc[2] += hk * (loadu2(pm + 4) + loadu2(pp + 4));
                acc[3] += hk * (loadu2(pm + 6) + loadu2(pp + 6));
            }
            for (l = 0; l < 4; l++) {
                const vx__cv_v2d dv = loadu2(dif + i + 2 * l);
                vx__cv_v2d zv = loadu2(z + i + 2 * l);
                zv += dv - acc[l];
                memcpy(z + i + 2 * l, &zv, sizeof zv);
            }
        }
        for (size_t q = 0; q < BF_HALF; q++)
            bf_one(z, dif, len, h, q);
    }
    for (; i < len; i++)
        bf_one(z, dif, len, h, i);
    free(dif);
    return VX_OK;
}

/* ------------------------------------------------------------------------ */
/* MLSA filter (port of SPTK 3.9 mlsadf, Pade order 5)                       */
/* ------------------------------------------------------------------------ */

static const double k_pade5[6] = {1.0,         0.4999391,  0.1107098,
                                  0.01369984, 0.0009564853, 0.00003041721};

static double mlsafir(double x, const double *b, int m, double a, double *d)
{
    double y = 0.0;
    int i;
    d[0] = x;
    d[1] = (1.0 - a * a) * d[0] + a * d[1];
    for (i = 2; i <= m; i++)
        d[i] += a * (d[i + 1] - d[i - 1]);
    for (i = 2; i <= m; i++)
        y += d[i] * b[i];
    for (i = m + 1; i > 1; i--)
        d[i] = d[i - 1];
    return y;
}

static double mlsadf1(double x, const double *b, double a, int pd, double *d)
{
    double v, out = 0.0, *pt;
    const double aa = 1.0 - a * a;
    int i;
    pt = &d[pd + 1];
    for (i = pd; i >= 1; i--) {
        d[i] = aa * pt[i - 1] + a * d[i];
        pt[i] = d[i] * b[1];
        v = pt[i] * k_pade5[i];
        x += (1 & i) ? v : -v;
        out += v;
    }
    pt[0] = x;
    out += x;
    return out;
}

static double mlsadf2(double x, const double *b, int m, double a, int pd, double *d)
{
    double v, out = 0.0, *pt;
    int i;
    pt = &d[pd * (m + 2)];
    for (i = pd; i >= 1; i--) {
        pt[i] = mlsafir(pt[i - 1], b, m, a, &d[(i - 1) * (m + 2)]);
        v = pt[i] * k_pade5[i];
        x += (1 & i) ? v : -v;
        out += v;
    }
    pt[0] = x;
    out += x;
    return out;
}

int vx__cv_mlsa_filter_ref(double *x, size_t len, const double *mc, size_t n_frames)
{
    const int m = VX__CV_ORDER, pd = VX__CV_PADE;
    const size_t dlen = (size_t)(3 * (pd + 1) + pd * (m + 2));
    double *d = calloc(dlen, sizeof *d);
    double b0[VX__CV_DIM], b1[VX__CV_DIM], b[VX__CV_DIM];
    size_t f, i;
    int k;
    if (!d)
        return VX_ENOMEM;
    if (n_frames == 0) {
        free(d);
        return VX_OK;
    }
    vx__cv_mc2b(mc, b1, m, VX__CV_ALPHA);
    for (f = 0; f * VX__CV_HOP < len; f++) {
        const size_t fn = f + 1 < n_frames ? f + 1 : n_frames - 1;
        memcpy(b0, b1, sizeof b0);
        vx__cv_mc2b(mc + fn * VX__CV_DIM, b1, m, VX__CV_ALPHA);
        for (i = 0; i < VX__CV_HOP && f * VX__CV_HOP + i < len; i++) {
            const double t = (double)i / VX__CV_HOP;
            double *px = &x[f * VX__CV_HOP + i];
            for (k = 0; k <= m; k++)
                b[k] = b0[k] + (b1[k] - b0[k]) * t;
            {
                double v = *px * exp(b[0]);
                v = mlsadf1(v, b, VX__CV_ALPHA, pd, d);
                v = mlsadf2(v, b, m, VX__CV_ALPHA, pd, &d[2 * (pd + 1)]);
                *px = v;
            }
        }
    }
    free(d);
    return VX_OK;
}

/* The filter that runs: the same arithmetic as vx__cv_mlsa_filter_ref (the
 * line-by-line port above), operation for operation, so the output is
 * bit-identical, but laid out for speed:
 *  - the five FIR stages of mlsadf2 only read the previous sample's stage
 *    outputs (the Pade loop runs downwards), so they are independent within
 *    a sample and run side by side in the lanes of vectors (lane s = stage
 *    s + 1, one spare lane), which turns five dependent chains of 24 steps
 *    into one;
 *  - mlsafir's delay line is updated in place (the "shift" of SPTK becomes
 *    an index offset: after it d[j] == the new d[j - 1] and d[1] == d[2], so
 *    one array of the new values d'[1..m] is the whole state);
 *  - mc2b once per frame, b[k] - b0[k] per frame, no per-sample copies. */

#define ML_LANES 3 /* vectors of 2: 6 lanes for the 5 stages */

int vx__cv_mlsa_filter(double *x, size_t len, const double *mc, size_t n_frames)
{
    enum { M = VX__CV_ORDER, PD = VX__CV_PADE };
    const double a = VX__CV_ALPHA, aa = 1.0 - VX__CV_ALPHA * VX__CV_ALPHA;
    /* mlsadf1 state (SPTK layout: d[0..pd], pt = d[pd+1..2pd+1]) */
    double d1[2 * (PD + 1)];
    double *pt1 = &d1[PD + 1];
    /* mlsadf2: FIR delay lines D[j] (j = 1..M) per lane, stage inputs (the
     * previous sample's pt[0..4]) and outputs */
    vx__cv_v2d D[M + 1][ML_LANES];
    double pt2[PD + 1];
    double b0[VX__CV_DIM], b1[VX__CV_DIM], db[VX__CV_DIM];
    size_t f, i;
    int k, j;
    if (n_frames == 0)
        return VX_OK;
    memset(d1, 0, sizeof d1);
    memset(D, 0, sizeof D);
    memset(pt2, 0, sizeof pt2);
    vx__cv_mc2b(mc, b1, M, VX__CV_ALPHA);
    for (f = 0; f * VX__CV_HOP < len; f++) {
        const size_t fn = f + 1 < n_frames ? f + 1 : n_frames - 1;
        size_t nh = len - f * VX__CV_HOP;
        double *px = &x[f * VX__CV_HOP];
        if (nh > VX__CV_HOP)
            nh = VX__CV_HOP;
        memcpy(b0, b1, sizeof b0);
        vx__cv_mc2b(mc + fn * VX__CV_DIM, b1, M, VX__CV_ALPHA);
        for (k = 0; k <= M; k++)
            db[k] = b1[k] - b0[k];
        for (i = 0; i < nh; i++) {
            const double t = (double)i / VX__CV_HOP;
            const double bb1 = b0[1] + db[1] * t;
            double v = px[i] * exp(b0[0] + db[0] * t), out, xx;
            vx__cv_v2d y[ML_LANES];
            /* mlsadf1 (b[1] only) */
            out = 0.0;
#pragma GCC unroll 5
            for (k = PD; k >= 1; k--) {
                double w;
                d1[k] = aa * pt1[k - 1] + a * d1[k];
                pt1[k] = d1[k] * bb1;
                w = pt1[k] * k_pade5[k];
                v += (1 & k) ? w : -w;
                out += w;
            }
            pt1[0] = v;
            out += v;
            /* mlsadf2: the five mlsafir stages, stage s fed pt2[s] (the
             * three lane vectors spelt out so that they stay in registers) */
            {
                const vx__cv_v2d u0 = {pt2[0], pt2[1]}, u1 = {pt2[2], pt2[3]}, u2 = {pt2[4], 0.0};
                vx__cv_v2d po0 = D[1][0], po1 = D[1][1], po2 = D[1][2];
                vx__cv_v2d pn0 = aa * u0 + a * po0, pn1 = aa * u1 + a * po1, pn2 = aa * u2 + a * po2;
                D[1][0] = pn0;
                D[1][1] = pn1;
                D[1][2] = pn2;
                y[0] = y[1] = y[2] = (vx__cv_v2d){0.0, 0.0};
                for (j = 2; j <= M; j++) {
                    const double bj = b0[j] + db[j] * t;
                    const vx__cv_v2d c0 = D[j][0], c1 = D[j][1], c2 = D[j][2];
                    pn0 = po0 + a * (c0 - pn0);
                    pn1 = po1 + a * (c1 - pn1);
                    pn2 = po2 + a * (c2 - pn2);
                    D[j][0] = pn0;
                    D[j][1] = pn1;
                    D[j][2] = pn2;
                    po0 = c0;
                    po1 = c1;
                    po2 = c2;
                    y[0] += pn0 * bj;
                    y[1] += pn1 * bj;
                    y[2] += pn2 * bj;
                }
            }
            xx = out;
            out = 0.0;
#pragma GCC unroll 5
            for (k = PD; k >= 1; k--) {
                const double w = y[(k - 1) / 2][(k - 1) & 1] * k_pade5[k];
                pt2[k] = y[(k - 1) / 2][(k - 1) & 1];
                xx += (1 & k) ? w : -w;
                out += w;
            }
            pt2[0] = xx;
            out += xx;
            px[i] = out;
        }
    }
    return VX_OK;
}

/* ------------------------------------------------------------------------ */
/* Variable-rate band-limited resampler                                      */
/* ------------------------------------------------------------------------ */

#define RS_ZC 16       /* zero crossings per side */
#define RS_RES 512     /* table points per zero crossing */
#define RS_BETA 8.6    /* Kaiser beta: ~ -90 dB side lobes */

static double bessel_i0(double x)
{
    double s = 1.0, t = 1.0, q = x * x / 4.0;
    int k;
    for (k = 1; k < 60; k++) {
        t *= q / ((double)k * (double)k);
        s += t;
        if (t < s * 1e-17)
            break;
    }
    return s;
}

/* Output buffers of a variable-rate resampling: room for len / min(rho)
 * samples (rho below 0.05 counted as 0.05) plus a margin. */
static int rs_outputs(const double *rho, size_t len, double **yy, double **pp, size_t *cap)
{
    double rmin = 1e9;
    size_t i;
    for (i = 0; i < len; i++)
        if (rho[i] < rmin)
            rmin = rho[i];
    if (!(rmin > 0.05))
        rmin = 0.05;
    *cap = (size_t)((double)len / rmin) + 16;
    *yy = malloc(*cap * sizeof **yy);
    *pp = malloc(*cap * sizeof **pp);
    if (!*yy || !*pp) {
        free(*yy);
        free(*pp);
        *yy = *pp = NULL;
        return VX_ENOMEM;
    }
    return VX_OK;
}

/* The resampler's kernel table: tab[i] = sinc(t) * Kaiser(t / RS_ZC) at t =
 * i / RS_RES, interleaved with its differences (td[2i] = tab[i], td[2i + 1] =
 * tab[i + 1] - tab[i], as the interpolation computes them), so that one
 * 16-byte load fetches both values of a tap: the two separate 64 KB tables
 * of the plain version do not fit in L1 together. */
#define RS_TN (RS_ZC * RS_RES + 2)

static double *rs_table(void)
{
    double *td = malloc(2 * RS_TN * sizeof *td);
    const double i0b = bessel_i0(RS_BETA);
    size_t i;
    if (!td)
        return NULL;
    for (i = 0; i < RS_TN; i++) {
        const double t = (double)i / RS_RES;
        double s = t == 0.0 ? 1.0 : sin(M_PI * t) / (M_PI * t);
        double r = t / RS_ZC;
        td[2 * i] = r >= 1.0 ? 0.0 : s * bessel_i0(RS_BETA * sqrt(1.0 - r * r)) / i0b;
    }
    for (i = 0; i + 1 < RS_TN; i++)
        td[2 * i + 1] = td[2 * i + 2] - td[2 * i];
    td[2 * RS_TN - 1] = 0.0;
    return td;
}

/* one tap of output p (the plain version's loop body) */
static inline double rs_tap(const double *x, const double *td, long q, double p, double fc,
                            double acc)
{
    const double t = fabs(((double)q - p) * fc) * RS_RES;
    const long ti = (long)t; /* t >= 0: the same as (size_t)t */
    if ((size_t)ti + 1 < RS_TN) {
        const double fr = t - (double)ti;
        acc += x[q] * (td[2 * ti] + td[2 * ti + 1] * fr);
    }
    return acc;
}

#ifdef VX__CV_X86
/* The first n taps of four consecutive outputs, one output per lane of a
 * 4-double vector: lane l runs output l's taps in order, with the same
 * operations as rs_tap, so each lane's sum is the scalar one bit for bit.
 * A tap rs_tap skips (index past the table; never happens for |q - p| <=
 * half) adds +0.0 here, which leaves any sum that started at +0.0 unchanged
 * (a round-to-nearest sum is -0.0 only when both terms are). */
__attribute__((target("avx2"))) static void rs_taps4_avx2(const double *x, const double *td,
                                                          const double *p, const double *fc,
                                                          const long *lo, long n, double *acc)
{
    const __m256d pv = _mm256_loadu_pd(p), fv = _mm256_loadu_pd(fc);
    const __m256d one = _mm256_set1_pd(1.0), res = _mm256_set1_pd(RS_RES);
    const __m256d tlim = _mm256_set1_pd((double)(RS_TN - 1));
    const __m256d absm = _mm256_castsi256_pd(_mm256_set1_epi64x(0x7fffffffffffffffLL));
    const __m128i imax = _mm_set1_epi32(RS_TN - 1);
    const double *x0 = x + lo[0], *x1 = x + lo[1], *x2 = x + lo[2], *x3 = x + lo[3];
    __m256d qv = _mm256_set_pd((double)lo[3], (double)lo[2], (double)lo[1], (double)lo[0]);
    __m256d av = _mm256_setzero_pd();
    long k;
    for (k = 0; k < n; k++) {
        const __m256d t = _mm256_mul_pd(_mm256_and_pd(_mm256_mul_pd(_mm256_sub_pd(qv, pv), fv), absm), res);
        /* truncation as (long)t for 0 <= t < 2^31; larger t (and the
         * conversion's 0x80000000) clamp to a valid index of a masked tap */
        const __m128i ti = _mm_min_epu32(_mm256_cvttpd_epi32(t), imax);
        const __m256d fr = _mm256_sub_pd(t, _mm256_cvtepi32_pd(ti));
        const __m256d ok = _mm256_cmp_pd(t, tlim, _CMP_LT_OQ);
        const __m128d e0 = _mm_loadu_pd(td + 2 * _mm_cvtsi128_si32(ti));
        const __m128d e1 = _mm_loadu_pd(td + 2 * _mm_extract_epi32(ti, 1));
        const __m128d e2 = _mm_loadu_pd(td + 2 * _mm_extract_epi32(ti, 2));
        const __m128d e3 = _mm_loadu_pd(td + 2 * _mm_extract_epi32(ti, 3));
        const __m256d a02 = _mm256_insertf128_pd(_mm256_castpd128_pd256(e0), e2, 1);
        const __m256d a13 = _mm256_insertf128_pd(_mm256_castpd128_pd256(e1), e3, 1);
        const __m256d tb = _mm256_unpacklo_pd(a02, a13), db = _mm256_unpackhi_pd(a02, a13);
        const __m256d xv = _mm256_set_pd(x3[k], x2[k], x1[k], x0[k]);
        const __m256d v = _mm256_mul_pd(xv, _mm256_add_pd(tb, _mm256_mul_pd(db, fr)));
        av = _mm256_add_pd(av, _mm256_and_pd(v, ok));
        qv = _mm256_add_pd(qv, one);
    }
    _mm256_storeu_pd(acc, av);
}

#endif

/* The same outputs as vx__cv_vr_resample_ref, bit for bit: the interleaved
 * table, and (on AVX2) four consecutive outputs side by side in vector
 * lanes for the taps they all have (the tap count differs by a tap or two
 * between neighbours as the cutoff follows rho); each output's remaining
 * taps continue its sum in scalar code, in order.  Why this is the
 * converter's hottest loop: every output costs 2 * 16 / fc + 1 taps (33 at
 * rho <= 1, 33 rho at rho > 1), each a float-to-int conversion, a table
 * interpolation and one link of a serial sum. */
int vx__cv_vr_resample(const double *x, size_t len, const double *rho, double **y, double **pos,
                       size_t *ny)
{
    double *td = rs_table();
    double *yy = NULL, *pp = NULL, p = 0.0;
    size_t cap, j = 0;
#ifdef VX__CV_X86
    const int wide = cv_have_avx2();
#endif
    *y = NULL;
    *pos = NULL;
    *ny = 0;
    if (!td)
        return VX_ENOMEM;
    if (rs_outputs(rho, len, &yy, &pp, &cap) != VX_OK) {
        free(td);
        return VX_ENOMEM;
    }
    while (p < (double)len && j < cap) {
        double pb[4], fb[4], acc[4] = {0.0, 0.0, 0.0, 0.0};
        long lob[4], hib[4], n0 = 0;
        int nb = 0, l;
        /* up to four outputs: position, cutoff and tap range, as the plain
         * loop computes them */
        while (nb < 4 && p < (double)len && j + (size_t)nb < cap) {
            const size_t ip = (size_t)p;
            const double r = rho[ip < len ? ip : len - 1];
            const double fc = 0.97 * (r > 1.0 ? 1.0 / r : 1.0);
            const double half = RS_ZC / fc, vl = p - half;
            /* ceil(p - half) clamped at 0, floor(p + half) (> 0), without
             * libm calls */
            long lo = vl > 0.0 ? (long)vl + ((double)(long)vl < vl) : 0, hi = (long)(p + half);
            if (hi > (long)len - 1)
                hi = (long)len - 1;
            pb[nb] = p;
            fb[nb] = fc;
            lob[nb] = lo;
            hib[nb] = hi;
            nb++;
            p += r;
        }
#ifdef VX__CV_X86
        if (wide && nb == 4) {
            n0 = hib[0] - lob[0] + 1;
            for (l = 1; l < 4; l++)
                if (hib[l] - lob[l] + 1 < n0)
                    n0 = hib[l] - lob[l] + 1;
            if (n0 < 0)
                n0 = 0;
            rs_taps4_avx2(x, td, pb, fb, lob, n0, acc);
        }
#endif
        for (l = 0; l < nb; l++) {
            double a = acc[l];
            long q;
            for (q = lob[l] + n0; q <= hib[l]; q++)
                a = rs_tap(x, td, q, pb[l], fb[l], a);
            yy[j] = a * fb[l];
            pp[j] = pb[l];
            j++;
        }
    }
    free(td);
    *y = yy;
    *pos = pp;
    *ny = j;
    return VX_OK;
}

/* The plain version (reference for the unit test). */
int vx__cv_vr_resample_ref(const double *x, size_t len, const double *rho, double **y, double **pos,
                       size_t *ny)
{
    const size_t tn = RS_ZC * RS_RES + 2;
    double *tab = malloc(2 * tn * sizeof *tab), *dtab = tab + tn;
    double *yy = NULL, *pp = NULL, p = 0.0;
    size_t cap, j = 0, i;
    const double i0b = bessel_i0(RS_BETA);
    *y = NULL;
    *pos = NULL;
    *ny = 0;
    if (!tab)
        return VX_ENOMEM;
    for (i = 0; i < tn; i++) {
        const double t = (double)i / RS_RES;
        double s = t == 0.0 ? 1.0 : sin(M_PI * t) / (M_PI * t);
        double r = t / RS_ZC;
        tab[i] = r >= 1.0 ? 0.0 : s * bessel_i0(RS_BETA * sqrt(1.0 - r * r)) / i0b;
    }
    /* tab[i + 1] - tab[i], as the interpolation computed it */
    for (i = 0; i + 1 < tn; i++)
        dtab[i] = tab[i + 1] - tab[i];
    dtab[tn - 1] = 0.0;
    if (rs_outputs(rho, len, &yy, &pp, &cap) != VX_OK) {
        free(tab);
        return VX_ENOMEM;
    }
    while (p < (double)len && j < cap) {
        const size_t ip = (size_t)p;
        const double r = rho[ip < len ? ip : len - 1];
        const double fc = 0.97 * (r > 1.0 ? 1.0 / r : 1.0);
        const double half = RS_ZC / fc;
        long lo = (long)ceil(p - half), hi = (long)floor(p + half), q;
        double acc = 0.0;
        if (lo < 0)
            lo = 0;
        if (hi > (long)len - 1)
            hi = (long)len - 1;
        for (q = lo; q <= hi; q++) {
            const double t = fabs(((double)q - p) * fc) * RS_RES;
            const long ti = (long)t; /* t >= 0: the same as (size_t)t */
            if ((size_t)ti + 1 < tn) {
                const double fr = t - (double)ti;
                acc += x[q] * (tab[ti] + dtab[ti] * fr);
            }
        }
        yy[j] = acc * fc;
        pp[j] = p;
        j++;
        p += r;
    }
    free(tab);
    *y = yy;
    *pos = pp;
    *ny = j;
    return VX_OK;
}

/* ------------------------------------------------------------------------ */
/* WSOLA                                                                     */
/* ------------------------------------------------------------------------ */

#define WS_HOP 256
#define WS_LEN (2 * WS_HOP)
#define WS_TOL 192
#define WS_NC (2 * (WS_TOL / 4) + 1) /* coarse candidates */

/* y is padded: indices -WS_PAD .. ny + WS_PAD - 1 are valid */
#define WS_PAD (WS_LEN + 2 * WS_TOL + 8)

/* Dot products of the WS_LEN-sample segments of y at a[0..3] with the one
 * at b, over every step-th sample, each summed in two accumulators (even
 * and odd terms) in index order; four segments at once so that the eight
 * sums form independent chains. */
static void seg_dot4(const double *y, const long *a, long b, long step, double *out)
{
    double s00 = 0.0, s01 = 0.0, s10 = 0.0, s11 = 0.0, s20 = 0.0, s21 = 0.0, s30 = 0.0, s31 = 0.0;
    const double *y0 = y + a[0], *y1 = y + a[1], *y2 = y + a[2], *y3 = y + a[3], *yb = y + b;
    long i;
    for (i = 0; i + step < WS_LEN; i += 2 * step) {
        const double b0 = yb[i], b1 = yb[i + step];
        s00 += y0[i] * b0;
        s01 += y0[i + step] * b1;
        s10 += y1[i] * b0;
        s11 += y1[i + step] * b1;
        s20 += y2[i] * b0;
        s21 += y2[i + step] * b1;
        s30 += y3[i] * b0;
        s31 += y3[i + step] * b1;
    }
    out[0] = s00 + s01;
    out[1] = s10 + s11;
    out[2] = s20 + s21;
    out[3] = s30 + s31;
}

static double seg_energy(const double *cum, long a)
{
    /* cum is offset like y: cum[j] = sum of y[-WS_PAD .. j-1] */
    return cum[a + WS_LEN] - cum[a];
}

/* zeros after the padded buffer: the vector search reads up to 64 past it */
#define WS_XPAD 64
#define WS_NCV 112 /* coarse candidates in the vector search: WS_NC padded to 7 x 16 */

#ifdef VX__CV_X86
/* Correlations of 16 consecutive lags at a time:
 *   out[j] = sum_t ya[j + t * sy] ba[t] + sum_t yb[j + t * sy] bb[t],
 * j < nout (a multiple of 16), t < nt, each sum in increasing t as seg_dot4
 * sums its two accumulators (the product y * b, then the add), so
 * out[j] is seg_dot4's value bit for bit when ya, yb and ba, bb hold its
 * even and odd terms. */
VX__CV_AVX2 static void ws_xcorr16(const double *ya, const double *yb, long sy, const double *ba,
                                  const double *bb, long nt, long nout, double *out)
{
    long j, t;
    for (j = 0; j < nout; j += 16) {
        vx__cv_v4d a0 = {0.0, 0.0, 0.0, 0.0}, a1 = a0, a2 = a0, a3 = a0;
        vx__cv_v4d c0 = a0, c1 = a0, c2 = a0, c3 = a0, v;
        for (t = 0; t < nt; t++) {
            const double x0 = ba[t], x1 = bb[t];
            const double *pa = ya + j + t * sy, *pb = yb + j + t * sy;
            memcpy(&v, pa, sizeof v);
            a0 += v * x0;
            memcpy(&v, pa + 4, sizeof v);
            a1 += v * x0;
            memcpy(&v, pa + 8, sizeof v);
            a2 += v * x0;
            memcpy(&v, pa + 12, sizeof v);
            a3 += v * x0;
            memcpy(&v, pb, sizeof v);
            c0 += v * x1;
            memcpy(&v, pb + 4, sizeof v);
            c1 += v * x1;
            memcpy(&v, pb + 8, sizeof v);
            c2 += v * x1;
            memcpy(&v, pb + 12, sizeof v);
            c3 += v * x1;
        }
        a0 += c0;
        a1 += c1;
        a2 += c2;
        a3 += c3;
        memcpy(out + j, &a0, sizeof a0);
        memcpy(out + j + 4, &a1, sizeof a1);
        memcpy(out + j + 8, &a2, sizeof a2);
        memcpy(out + j + 12, &a3, sizeof a3);
    }
}
#else
/* (never called: vx__cv_wsola takes the plain path without AVX2) */
static void ws_xcorr16(const double *ya, const double *yb, long sy, const double *ba,
                       const double *bb, long nt, long nout, double *out)
{
    long j, t;
    for (j = 0; j < nout; j++) {
        double sa = 0.0, sb = 0.0;
        for (t = 0; t < nt; t++) {
            sa += ya[j + t * sy] * ba[t];
            sb += yb[j + t * sy] * bb[t];
        }
        out[j] = sa + sb;
    }
}
#endif

static int wsola_run(const double *y, size_t ny, const double *pos, size_t n_orig,
                     const double *speed, double **out, size_t *nout, int plain);

int vx__cv_wsola(const double *y, size_t ny, const double *pos, size_t n_orig,
                 const double *speed, double **out, size_t *nout)
{
#ifdef VX__CV_X86
    if (cv_have_avx2())
        return wsola_run(y, ny, pos, n_orig, speed, out, nout, 0);
#endif
    return wsola_run(y, ny, pos, n_orig, speed, out, nout, 1);
}

int vx__cv_wsola_ref(const double *y, size_t ny, const double *pos, size_t n_orig,
                     const double *speed, double **out, size_t *nout)
{
    return wsola_run(y, ny, pos, n_orig, speed, out, nout, 1);
}

/* plain: the candidates' correlations by seg_dot4; otherwise as
 * correlations of consecutive lags in vector lanes (ws_xcorr16): the fine
 * candidates are consecutive in y, the coarse ones (4 apart) consecutive in
 * one of the four phases of y (yph[r][k] = y[4k + r], padded buffer
 * coordinates).  Both give the same dot products, bit for bit. */
static int wsola_run(const double *y, size_t ny, const double *pos, size_t n_orig,
                     const double *speed, double **out, size_t *nout, int plain)
{
    double *Q = malloc((n_orig + 1) * sizeof *Q);
    const size_t nb = ny + 2 * WS_PAD + WS_XPAD, nph = nb / 4 + 1;
    double *ybuf = calloc(nb, sizeof *ybuf);
    double *cbuf = malloc((ny + 2 * WS_PAD + 1) * sizeof *cbuf);
    double *yph = plain ? NULL : calloc(4 * nph, sizeof *yph);
    double *o = NULL, *ws = NULL, w[WS_LEN];
    const double *yp;
    const double *cum;
    size_t no, p, i, qi = 0, ui = 0;
    long k, prev = 0;
    *out = NULL;
    *nout = 0;
    if (!Q || !ybuf || !cbuf || (!plain && !yph)) {
        free(Q);
        free(ybuf);
        free(cbuf);
        free(yph);
        return VX_ENOMEM;
    }
    Q[0] = 0.0;
    for (p = 0; p < n_orig; p++)
        Q[p + 1] = Q[p] + 1.0 / speed[p];
    memcpy(ybuf + WS_PAD, y, ny * sizeof *y);
    cbuf[0] = 0.0;
    for (i = 0; i < ny + 2 * WS_PAD; i++)
        cbuf[i + 1] = cbuf[i] + ybuf[i] * ybuf[i];
    yp = ybuf + WS_PAD;
    cum = cbuf + WS_PAD;
    if (!plain)
        for (i = 0; i < nb; i++)
            yph[(i & 3) * nph + i / 4] = ybuf[i];
    no = (size_t)ceil(Q[n_orig]);
    o = calloc(no + 1, sizeof *o);
    ws = calloc(no + 1, sizeof *ws);
    if (!o || !ws) {
        free(Q);
        free(ybuf);
        free(cbuf);
        free(yph);
        free(o);
        free(ws);
        return VX_ENOMEM;
    }
    for (i = 0; i < WS_LEN; i++)
        w[i] = 0.5 - 0.5 * cos(2.0 * M_PI * (double)i / WS_LEN);
    for (k = 0; (k - 1) * WS_HOP < (long)no; k++) {
        const double q = (double)(k * WS_HOP);
        double P, u;
        long nominal, best_start;
        /* original position P with Q(P) = q */
        while (qi + 1 < n_orig && Q[qi + 1] <= q)
            qi++;
        if (q >= Q[n_orig])
            P = (double)n_orig;
        else
            P = (double)qi + (q - Q[qi]) / (Q[qi + 1] - Q[qi]);
        /* y position u with pos(u) = P */
        while (ui + 1 < ny && pos[ui + 1] <= P)
            ui++;
        if (ny == 0)
            u = 0.0;
        else if (ui + 1 >= ny || P <= pos[ui])
            u = (double)ui + (P > pos[ui] ? P - pos[ui] : 0.0);
        else
            u = (double)ui + (P - pos[ui]) / (pos[ui + 1] - pos[ui]);
        nominal = (long)floor(u + 0.5) - WS_HOP;
        /* keep every segment inside the padded buffer */
        if (nominal < -(WS_PAD - WS_TOL - 4))
            nominal = -(WS_PAD - WS_TOL - 4);
        if (nominal > (long)ny + WS_PAD - WS_LEN - WS_TOL - 4)
            nominal = (long)ny + WS_PAD - WS_LEN - WS_TOL - 4;
        best_start = nominal;
        if (k > 0) {
            long nat = prev + WS_HOP;
            if (nat > (long)ny + WS_PAD - WS_LEN - 1)
                nat = (long)ny + WS_PAD - WS_LEN - 1;
            if (seg_energy(cum, nat) > 1e-12) {
                /* coarse search (step 4, every 2nd sample), then +/-3 at
                 * full resolution; delta = 0 first so ties keep the nominal */
                double best = -1e300, dots[WS_NC + 3], vd[WS_NCV];
                long center = nominal, dd, lo, hi, cands[WS_NC + 3];
                for (dd = 0; dd < WS_NC + 3; dd++) {
                    const long dl = (dd & 1) ? -4 * ((dd + 1) / 2) : 4 * (dd / 2);
                    cands[dd] = dd < WS_NC ? nominal + dl : nominal;
                }
                if (plain) {
                    for (dd = 0; dd < WS_NC; dd += 4)
                        seg_dot4(yp, cands + dd, nat, 2, dots + dd);
                } else {
                    /* lag j = candidate nominal + 4 (j - WS_TOL / 4): even
                     * terms y[c + 4t] b[4t], odd y[c + 4t + 2] b[4t + 2] */
                    double be[WS_LEN / 4], bo[WS_LEN / 4];
                    const size_t c0 = (size_t)(nominal - WS_TOL + WS_PAD);
                    const double *yb = yp + nat;
                    for (dd = 0; dd < WS_LEN / 4; dd++) {
                        be[dd] = yb[4 * dd];
                        bo[dd] = yb[4 * dd + 2];
                    }
                    ws_xcorr16(yph + (c0 & 3) * nph + c0 / 4,
                               yph + ((c0 + 2) & 3) * nph + (c0 + 2) / 4, 1, be, bo, WS_LEN / 4,
                               WS_NCV, vd);
                    for (dd = 0; dd < WS_NC; dd++)
                        dots[dd] = vd[(cands[dd] - nominal) / 4 + WS_TOL / 4];
                }
                for (dd = 0; dd < WS_NC; dd++) {
                    const long cand = cands[dd];
                    const double e = seg_energy(cum, cand);
                    double ncc;
                    if (e <= 1e-12)
                        continue;
                    ncc = dots[dd] / sqrt(e);
                    if (ncc > best) {
                        best = ncc;
                        center = cand;
                    }
                }
                best = -1e300;
                best_start = center;
                lo = center - 3;
                hi = center + 3;
                if (lo < nominal - WS_TOL)
                    lo = nominal - WS_TOL;
                if (hi > nominal + WS_TOL)
                    hi = nominal + WS_TOL;
                for (dd = 0; dd < 8; dd++)
                    cands[dd] = dd <= 2 * 3 ? center + ((dd & 1) ? -((dd + 1) / 2) : dd / 2) : center;
                if (plain) {
                    seg_dot4(yp, cands, nat, 1, dots);
                    seg_dot4(yp, cands + 4, nat, 1, dots + 4);
                } else {
                    /* lag j = candidate center - 3 + j: even terms y[c + 2t]
                     * b[2t], odd y[c + 2t + 1] b[2t + 1] */
                    double be[WS_LEN / 2], bo[WS_LEN / 2];
                    const double *yb = yp + nat, *yc = yp + center - 3;
                    for (dd = 0; dd < WS_LEN / 2; dd++) {
                        be[dd] = yb[2 * dd];
                        bo[dd] = yb[2 * dd + 1];
                    }
                    ws_xcorr16(yc, yc + 1, 2, be, bo, WS_LEN / 2, 16, vd);
                    for (dd = 0; dd <= 2 * 3; dd++)
                        dots[dd] = vd[cands[dd] - center + 3];
                }
                for (dd = 0; dd <= 2 * 3; dd++) {
                    const long cand = cands[dd];
                    const double e = seg_energy(cum, cand);
                    double ncc;
                    if (cand < lo || cand > hi || e <= 1e-12)
                        continue;
                    ncc = dots[dd] / sqrt(e);
                    if (ncc > best) {
                        best = ncc;
                        best_start = cand;
                    }
                }
            }
        }
        for (i = 0; i < WS_LEN; i++) {
            const long oq = k * WS_HOP - WS_HOP + (long)i;
            if (oq < 0 || oq >= (long)no)
                continue;
            ws[oq] += w[i];
            o[oq] += w[i] * yp[best_start + (long)i];
        }
        prev = best_start;
    }
    for (i = 0; i < no; i++)
        if (ws[i] > 1e-9)
            o[i] /= ws[i];
    free(Q);
    free(ybuf);
    free(cbuf);
    free(yph);
    free(ws);
    *out = o;
    *nout = no;
    return VX_OK;
}
