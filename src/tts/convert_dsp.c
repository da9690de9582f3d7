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
 * output is bit-identical).
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

#include "tts/convert_dsp.h"
#include "voxclone/voxclone.h"

#ifndef M_PI
#define M_PI 3.14159265358979323846
#endif

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
    if (!f->tw || !f->rev || !f->rtw) {
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
    f->tw = NULL;
    f->rev = NULL;
    f->rtw = NULL;
    f->n = 0;
}

void vx__cv_fft_run(const vx__cv_fft *f, double *re, double *im, int inverse)
{
    const size_t n = f->n;
    const double sgn = inverse ? 1.0 : -1.0;
    size_t i, len;
    for (i = 0; i < n; i++) {
        size_t j = f->rev[i];
        if (j > i) {
            double t = re[i];
            re[i] = re[j];
            re[j] = t;
            t = im[i];
            im[i] = im[j];
            im[j] = t;
        }
    }
    for (len = 2; len <= n; len <<= 1) {
        const size_t half = len / 2, step = n / len;
        size_t s, k;
        for (s = 0; s < n; s += len) {
            for (k = 0; k < half; k++) {
                const double wr = f->tw[k * step], wi = sgn * f->tw[n / 2 + k * step];
                const size_t a = s + k, b = a + half;
                const double xr = re[b] * wr - im[b] * wi;
                const double xi = re[b] * wi + im[b] * wr;
                re[b] = re[a] - xr;
                im[b] = im[a] - xi;
                re[a] += xr;
                im[a] += xi;
            }
        }
    }
}

void vx__cv_rfft(const vx__cv_fft *f, const double *x, double *re, double *im, double *work)
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

int vx__cv_analyze(const double *x, size_t len, const double *f0_track, size_t n_track,
                   size_t track_hop, vx__cv_frames *out)
{
    vx__cv_fft fft[3]; /* real FFT sizes 512, 1024, 2048 */
    double *buf = NULL, *re = NULL, *im = NULL, *pw = NULL, *cs = NULL, *c = NULL;
    double *work = NULL, *A = NULL;
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
    work = malloc((NMAX > 2 * VX__CV_DIM ? NMAX : 2 * VX__CV_DIM) * sizeof *work);
    A = malloc((size_t)VX__CV_DIM * (CT_M1 + 1) * sizeof *A);
    out->mc = malloc(nf * VX__CV_DIM * sizeof *out->mc);
    out->voiced = malloc(nf * sizeof *out->voiced);
    out->energy_db = malloc(nf * sizeof *out->energy_db);
    if (!buf || !re || !im || !pw || !cs || !c || !work || !A || !out->mc || !out->voiced ||
        !out->energy_db)
        goto done;
    out->n = nf;

    /* freqt is linear: its matrix, column i = freqt of the unit vector e_i,
     * turns the recursion into independent dot products */
    for (i = 0; i <= CT_M1; i++)
        c[i] = 0.0;
    for (i = 0; i <= CT_M1; i++) {
        double col[VX__CV_DIM];
        c[i] = 1.0;
        vx__cv_freqt(c, (int)i, col, VX__CV_ORDER, VX__CV_ALPHA, work);
        c[i] = 0.0;
        for (m = 0; m < VX__CV_DIM; m++)
            A[(size_t)m * (CT_M1 + 1) + i] = col[m];
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
                const long ia = (long)floor(ua), ib = (long)floor(ub);
                const double va = cs[ia] + (cs[ia + 1] - cs[ia]) * (ua - (double)ia);
                const double vb = cs[ib] + (cs[ib + 1] - cs[ib]) * (ub - (double)ib);
                const double v = (vb - va) / width;
                re[k] = v;
                if (v > pmax)
                    pmax = v;
            }
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
                const double a = a1 * (double)i;
                const double ls = sn / a;
                const double lc = (1.0 - 2.0 * CT_Q1) + 2.0 * CT_Q1 * (cn * cn - sn * sn);
                si = sn;
                co = cn;
                c[i] = 2.0 * re[i] / (double)N * ls * lc;
            }
        }
        for (m = 0; m < VX__CV_DIM; m++) {
            const double *row = A + (size_t)m * (CT_M1 + 1);
            double acc = 0.0;
            for (i = 0; i <= m1; i++)
                acc += row[i] * c[i];
            out->mc[f * VX__CV_DIM + (size_t)m] = acc;
        }
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

/* sum_m c[m] cos(m th), m = 0..VX__CV_ORDER (Chebyshev recurrence) */
static double cos_series(const double *c, double th)
{
    const double c1 = cos(th);
    double cm2 = 1.0, cm1 = c1, s = c[0] + c[1] * c1;
    int m;
    for (m = 2; m <= VX__CV_ORDER; m++) {
        const double cm = 2.0 * c1 * cm1 - cm2;
        s += c[m] * cm;
        cm2 = cm1;
        cm1 = cm;
    }
    return s;
}

#define UW_K 64
void vx__cv_unwarp_filter(const double *c, double rho, double lim_db, double fmax_hz, double *d)
{
    double D[UW_K + 1];
    const double lim = lim_db / (20.0 / log(10.0));
    const double wmax = 2.0 * M_PI * fmax_hz / VX__CV_RATE, taper = 2.0 * M_PI * 500.0 / VX__CV_RATE;
    int k, m;
    for (k = 0; k <= UW_K; k++) {
        const double wt = M_PI * (double)k / UW_K;    /* warped grid */
        const double w = warp(wt, -VX__CV_ALPHA);     /* its linear frequency */
        double ws = w / rho, v;
        if (ws > M_PI)
            ws = M_PI;
        v = cos_series(c, wt) - cos_series(c, warp(ws, VX__CV_ALPHA));
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
    for (m = 0; m <= VX__CV_ORDER; m++) {
        /* trapezoidal cosine transform on the warped grid */
        const double c1 = cos(M_PI * (double)m / UW_K);
        double acc = 0.5 * (D[0] + D[UW_K] * ((m & 1) ? -1.0 : 1.0)), ckm2 = 1.0, ckm1 = c1;
        acc += D[1] * c1;
        for (k = 2; k < UW_K; k++) {
            const double ck = 2.0 * c1 * ckm1 - ckm2;
            acc += D[k] * ck;
            ckm2 = ckm1;
            ckm1 = ck;
        }
        d[m] = (m == 0 ? 1.0 : 2.0) * acc / UW_K;
    }
}

#define BF_HALF 80 /* taps each side: 161-tap FIR */
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
    for (i = 0; i < len; i++) {
        double lp = h[0] * dif[i];
        for (k = 1; k <= BF_HALF; k++) {
            const double a = (long)i - k >= 0 ? dif[i - (size_t)k] : 0.0;
            const double b = i + (size_t)k < len ? dif[i + (size_t)k] : 0.0;
            lp += h[k] * (a + b);
        }
        z[i] += dif[i] - lp; /* + HP(w - z) */
    }
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

int vx__cv_mlsa_filter(double *x, size_t len, const double *mc, size_t n_frames)
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

int vx__cv_vr_resample(const double *x, size_t len, const double *rho, double **y, double **pos,
                       size_t *ny)
{
    const size_t tn = RS_ZC * RS_RES + 2;
    double *tab = malloc(tn * sizeof *tab);
    double *yy = NULL, *pp = NULL, p = 0.0;
    size_t cap, j = 0, i;
    const double i0b = bessel_i0(RS_BETA);
    double rmin = 1e9;
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
    for (i = 0; i < len; i++)
        if (rho[i] < rmin)
            rmin = rho[i];
    if (!(rmin > 0.05))
        rmin = 0.05;
    cap = (size_t)((double)len / rmin) + 16;
    yy = malloc(cap * sizeof *yy);
    pp = malloc(cap * sizeof *pp);
    if (!yy || !pp) {
        free(tab);
        free(yy);
        free(pp);
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
            const size_t ti = (size_t)t;
            if (ti + 1 < tn) {
                const double fr = t - (double)ti;
                acc += x[q] * (tab[ti] + (tab[ti + 1] - tab[ti]) * fr);
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

/* y is padded: indices -WS_PAD .. ny + WS_PAD - 1 are valid */
#define WS_PAD (WS_LEN + 2 * WS_TOL + 8)

static double seg_dot(const double *y, long a, long b, long step)
{
    double s0 = 0.0, s1 = 0.0;
    long i;
    for (i = 0; i + step < WS_LEN; i += 2 * step) {
        s0 += y[a + i] * y[b + i];
        s1 += y[a + i + step] * y[b + i + step];
    }
    return s0 + s1;
}

static double seg_energy(const double *cum, long a)
{
    /* cum is offset like y: cum[j] = sum of y[-WS_PAD .. j-1] */
    return cum[a + WS_LEN] - cum[a];
}

int vx__cv_wsola(const double *y, size_t ny, const double *pos, size_t n_orig,
                 const double *speed, double **out, size_t *nout)
{
    double *Q = malloc((n_orig + 1) * sizeof *Q);
    double *ybuf = calloc(ny + 2 * WS_PAD, sizeof *ybuf);
    double *cbuf = malloc((ny + 2 * WS_PAD + 1) * sizeof *cbuf);
    double *o = NULL, *ws = NULL, w[WS_LEN];
    const double *yp;
    const double *cum;
    size_t no, p, i, qi = 0, ui = 0;
    long k, prev = 0;
    *out = NULL;
    *nout = 0;
    if (!Q || !ybuf || !cbuf) {
        free(Q);
        free(ybuf);
        free(cbuf);
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
    no = (size_t)ceil(Q[n_orig]);
    o = calloc(no + 1, sizeof *o);
    ws = calloc(no + 1, sizeof *ws);
    if (!o || !ws) {
        free(Q);
        free(ybuf);
        free(cbuf);
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
                double best = -1e300;
                long center = nominal, dd, lo, hi;
                for (dd = 0; dd <= 2 * (WS_TOL / 4); dd++) {
                    const long dl = (dd & 1) ? -4 * ((dd + 1) / 2) : 4 * (dd / 2);
                    const long cand = nominal + dl;
                    const double e = seg_energy(cum, cand);
                    double ncc;
                    if (e <= 1e-12)
                        continue;
                    ncc = seg_dot(yp, cand, nat, 2) / sqrt(e);
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
                for (dd = 0; dd <= 2 * 3; dd++) {
                    const long cand = center + ((dd & 1) ? -((dd + 1) / 2) : dd / 2);
                    const double e = seg_energy(cum, cand);
                    double ncc;
                    if (cand < lo || cand > hi || e <= 1e-12)
                        continue;
                    ncc = seg_dot(yp, cand, nat, 1) / sqrt(e);
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
    free(ws);
    *out = o;
    *nout = no;
    return VX_OK;
}
