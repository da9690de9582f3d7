/*
 * metrics_formant.c -- F1, F2, F3: Praat's "Sound: To Formant (burg)..."
 * with time step 0 (= window / 4 = 6.25 ms), maximum number of formants 5,
 * formant ceiling 5500 Hz, window length 0.025 s and pre-emphasis from
 * 50 Hz, then the median of each formant over the voiced frames.
 *
 * DESIGN: the steps are those of the Praat manual page "Sound: To Formant
 * (burg)..." and of Praat's implementation of it, so that the medians agree
 * with Praat's (on a 22 050 Hz file the two find the same number of
 * formants in ~93 % of the frames, and medians over all frames agree to
 * ~0.1 %):
 *   1. resample to twice the ceiling (11 kHz) with a brick-wall low-pass;
 *   2. pre-emphasis y[i] -= exp(-2 pi 50 / fs) y[i-1];
 *   3. frames of twice the "window length" (50 ms: Praat's window length is
 *      the effective half-length) under a Gaussian window
 *      (exp(-48 (i - mid)^2 / (N + 1)^2) - e^-12) / (1 - e^-12), centred on
 *      Praat's frame grid;
 *   4. LPC of order 2 x 5 = 10 by Burg's algorithm (Childers, "Modern
 *      Spectrum Analysis", 1978; the formulation of Press et al., Numerical
 *      Recipes "memcof", which Praat's VECburg follows);
 *   5. roots of z^10 - sum a_k z^(10-k); each root above the real axis gives
 *      a formant f = |arg z| fs / (2 pi), kept when 50 Hz <= f <= fs/2 - 50;
 *   6. formants sorted by frequency, F1..F3 = the lowest three of a frame.
 * "Voiced" frames are those where Praat's pitch ("To Pitch: 0, 75, 600",
 * computed anyway for the pulses) is defined at the frame time -- the same
 * frames Praat users take.  The pYIN track was tried first: its voicing
 * (93 ms frames, HMM smoothing) also covers transitions and fricatives and
 * raised the F1 median by 10-60 % against Praat.  Only voiced frames are
 * analysed, and only the resampled stretches they need are computed.
 *
 * Where the work goes and why it stays cheap (same results as the plain
 * algorithm to rounding, unless said otherwise):
 *   - resampling: Praat filters the whole sound with one FFT and reads the
 *     result off with a 50-point sinc.  Here the same brick-wall filter is
 *     applied block by block (blocks of ~28 000 samples with 120 ms margins,
 *     output read directly from an inverse FFT at the new rate); the
 *     truncated filter tails change the resampled signal by ~1e-4, which
 *     moves the formant medians by ~0.1 % against Praat's.  A windowed-sinc
 *     FIR was tried first and was biased 1.5-2 % low: LPC poles near the
 *     ceiling are sensitive to the 5-5.5 kHz band, which must stay flat.
 *   - Burg from the autocorrelation (Vos 2013) instead of filtering the
 *     error sequences: N (m + 1) + O(m^3) instead of ~8 N m operations.
 *   - roots: the previous frame's quadratic factors refined by Bairstow's
 *     method (frames overlap by 7/8); Aberth-Ehrlich for a fresh start;
 *     Laguerre with deflation (Press et al., "zroots") as the last resort.
 *     Praat takes companion-matrix eigenvalues and polishes them: the same
 *     roots to rounding error.
 */
#include <fftw3.h> /* before complex.h: keeps fftwf_complex a float[2] */

#include <complex.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "analysis/metrics_internal.h"
#include "core/fftw_lock.h"

#define LPC_ORDER 10
#define CEILING_HZ 5500.0
#define HALF_WINDOW_S 0.025
#define PREEMPH_HZ 50.0
#define SAFETY_HZ 50.0
#define RS_HALF 64        /* fallback kernel half-width in input samples */
#define RS_BETA 6.0       /* fallback Kaiser beta */
#define RS_FINE 1024      /* fallback kernel table resolution per sample */
#define FFT_BLOCK 28000
#define FFT_MARGIN_S 0.12
#define FFT_MAX_M 4096

/* ---- resampling ---------------------------------------------------- */

static long gcd_long(long a, long b)
{
    while (b) {
        const long t = a % b;
        a = b;
        b = t;
    }
    return a;
}

/*
 * Main path: Praat's brick-wall low-pass done block by block.  A block of Ni
 * input samples (a multiple of M, where fs_in / fs_out = M / L) is
 * transformed, every bin at or above the new Nyquist frequency is dropped,
 * a phase ramp moves the time origin onto the output grid, and an inverse
 * transform of No = Ni * L / M points yields the band-limited signal at the
 * output times.  Only the middle of each block is kept (margins of Ni / 5 on
 * both sides absorb the circular wrap-around of the truncated sinc), and
 * blocks that contain no needed output sample are skipped.  Praat does the
 * same filter in one transform over the whole (zero-padded) sound and then
 * reads it off with a 50-point sinc; the two agree to ~1e-4 of the signal.
 */
static int resample_fft(const float *x, long n, double fs, double fs2, long L, long M,
                        double x1_2, float *y, long n2, const uint8_t *need)
{
    /* Ni = M k input samples with k a 3-smooth number near FFT_BLOCK / M:
     * transforms of these lengths are fast with FFTW_ESTIMATE plans; margins
     * of FFT_MARGIN_S on both sides of the kept middle. */
    long k = (FFT_BLOCK + M / 2) / M;
    if (k < 1)
        k = 1;
    for (;; k++) {
        long r = k;
        while (r % 2 == 0)
            r /= 2;
        while (r % 3 == 0)
            r /= 3;
        if (r == 1)
            break;
    }
    long margin = (long)ceil(FFT_MARGIN_S * fs);
    const long ni = M * k, no = L * k;
    if (ni < 4 * margin)
        margin = ni / 4;
    const long bo = (long)floor((double)(ni - 2 * margin) * fs2 / fs) - 2;
    if (bo < 1)
        return VX_EINVAL;
    float *in = fftwf_alloc_real((size_t)ni), *outb = fftwf_alloc_real((size_t)no);
    fftwf_complex *xs = fftwf_alloc_complex((size_t)ni / 2 + 1);
    fftwf_complex *ys = fftwf_alloc_complex((size_t)no / 2 + 1);
    fftwf_plan fwd = NULL, bwd = NULL;
    int rc = VX_ENOMEM;
    if (!in || !outb || !xs || !ys)
        goto done;
    vx__fftw_lock();
    fwd = fftwf_plan_dft_r2c_1d((int)ni, in, xs, FFTW_ESTIMATE);
    bwd = fftwf_plan_dft_c2r_1d((int)no, ys, outb, FFTW_ESTIMATE);
    vx__fftw_unlock();
    if (!fwd || !bwd)
        goto done;
    const double bin_hz = fs / (double)ni, nyq2 = 0.5 * fs2;
    long kmax = (long)ceil(nyq2 / bin_hz); /* bins 0..kmax-1 are below fs2 / 2 */
    while (kmax > 0 && (double)(kmax - 1) * bin_hz >= nyq2)
        kmax--;
    if (kmax > no / 2 + 1)
        kmax = no / 2 + 1;
    for (long ia = 0; ia < n2; ia += bo) {
        long ib = ia + bo < n2 ? ia + bo : n2;
        long any = 0;
        for (long i = ia; i < ib && !any; i++)
            any = need[i];
        if (!any)
            continue;
        /* block start: margin input samples before output ia */
        const long j0 = (long)floor((x1_2 + (double)ia / fs2) * fs - 0.5) - margin;
        for (long q = 0; q < ni; q++) {
            const long j = j0 + q;
            in[q] = j >= 0 && j < n ? x[j] : 0.0f;
        }
        fftwf_execute_dft_r2c(fwd, in, xs);
        const double tj0 = ((double)j0 + 0.5) / fs;
        const long ifirst = (long)ceil((tj0 - x1_2) * fs2);
        const double tau = x1_2 + (double)ifirst / fs2 - tj0;
        /* phase ramp exp(2 pi i f tau), rotated bin by bin (re-anchored
         * every 256 bins to keep the rotation exact to ~1e-14) */
        const double step = 2.0 * VX__MET_PI * bin_hz * tau;
        const double cs = cos(step), sn = sin(step);
        double c = 1.0, sv = 0.0;
        for (long b = 0; b <= no / 2; b++) {
            if (b < kmax) {
                if ((b & 255) == 0) {
                    c = cos(step * (double)b);
                    sv = sin(step * (double)b);
                }
                const double re = xs[b][0], im = xs[b][1];
                ys[b][0] = (float)(re * c - im * sv);
                ys[b][1] = (float)(re * sv + im * c);
                const double nc = c * cs - sv * sn;
                sv = sv * cs + c * sn;
                c = nc;
            } else {
                ys[b][0] = ys[b][1] = 0.0f;
            }
        }
        fftwf_execute_dft_c2r(bwd, ys, outb);
        const double scale = 1.0 / (double)ni;
        for (long i = ia; i < ib; i++) {
            const long m = i - ifirst;
            if (need[i] && m >= 0 && m < no)
                y[i] = (float)(outb[m] * scale);
        }
    }
    rc = VX_OK;
done:
    vx__fftw_lock();
    if (fwd)
        fftwf_destroy_plan(fwd);
    if (bwd)
        fftwf_destroy_plan(bwd);
    vx__fftw_unlock();
    fftwf_free(in);
    fftwf_free(outb);
    fftwf_free(xs);
    fftwf_free(ys);
    return rc;
}

/* Fallback for rates without a small common period: Kaiser-windowed sinc
 * low-pass at the new Nyquist frequency from a finely tabulated kernel. */
static double bessel_i0(double x)
{
    double sum = 1.0, term = 1.0;
    const double q = 0.25 * x * x;
    for (int k = 1; k < 200; k++) {
        term *= q / ((double)k * (double)k);
        sum += term;
        if (term < sum * 1e-17)
            break;
    }
    return sum;
}

static int resample_fir(const float *x, long n, double fs, double fs2, double x1_2, float *y,
                        long n2, const uint8_t *need)
{
    const long nt = (long)RS_HALF * RS_FINE + 2;
    float *table = malloc((size_t)nt * sizeof *table);
    if (!table)
        return VX_ENOMEM;
    const double fc = 0.5 * fs2 / fs, i0b = bessel_i0(RS_BETA);
    for (long i = 0; i < nt; i++) {
        const double tau = (double)i / RS_FINE;
        double h = 0.0;
        if (tau < (double)RS_HALF) {
            const double r = tau / (double)RS_HALF, arg = 2.0 * fc * tau;
            const double sinc = arg == 0.0 ? 1.0 : sin(VX__MET_PI * arg) / (VX__MET_PI * arg);
            h = 2.0 * fc * sinc * bessel_i0(RS_BETA * sqrt(1.0 - r * r)) / i0b;
        }
        table[i] = (float)h;
    }
    for (long i = 0; i < n2; i++) {
        if (!need[i])
            continue;
        const double u = (x1_2 + (double)i / fs2) * fs - 0.5; /* input position */
        long k0 = (long)ceil(u - RS_HALF), k1 = (long)floor(u + RS_HALF);
        if (k0 < 0)
            k0 = 0;
        if (k1 > n - 1)
            k1 = n - 1;
        double acc = 0.0;
        for (long kk = k0; kk <= k1; kk++) {
            const double pos = fabs(u - (double)kk) * RS_FINE;
            const long ip = (long)pos;
            const double fr = pos - (double)ip;
            acc += ((1.0 - fr) * table[ip] + fr * table[ip + 1]) * x[kk];
        }
        y[i] = (float)acc;
    }
    free(table);
    return VX_OK;
}

static int resample(const float *x, long n, double fs, double fs2, double x1_2, float *y, long n2,
                    const uint8_t *need)
{
    const long a = (long)fs, b = (long)fs2;
    if ((double)a == fs && (double)b == fs2 && a > 0 && b > 0) {
        const long g = gcd_long(a, b);
        if (a / g <= FFT_MAX_M)
            return resample_fft(x, n, fs, fs2, b / g, a / g, x1_2, y, n2, need);
    }
    return resample_fir(x, n, fs, fs2, x1_2, y, n2, need);
}

/* ---- Burg LPC and roots ---------------------------------------------- */

/* sum a[i] b[i], i < n, in double with 2 x 2 partial sums (GCC/Clang
 * vector extension: two SIMD lanes on any target that has them) */
typedef double vx__v2d __attribute__((vector_size(16)));
static double dot2(const double *a, const double *b, long n)
{
    vx__v2d s0 = {0.0, 0.0}, s1 = {0.0, 0.0};
    long i = 0;
    for (; i + 3 < n; i += 4) {
        vx__v2d a0, a1, b0, b1;
        memcpy(&a0, a + i, sizeof a0);
        memcpy(&a1, a + i + 2, sizeof a1);
        memcpy(&b0, b + i, sizeof b0);
        memcpy(&b1, b + i + 2, sizeof b1);
        s0 += a0 * b0;
        s1 += a1 * b1;
    }
    s0 += s1;
    double r = s0[0] + s0[1];
    for (; i < n; i++)
        r += a[i] * b[i];
    return r;
}

/*
 * Burg's method (Numerical Recipes' "memcof", which Praat's VECburg
 * follows), computed from the signal's autocorrelation instead of by
 * filtering the error sequences (the idea of Vos, "A fast implementation of
 * Burg's method", 2013): at order k the forward and backward error energies
 * and their cross term are quadratic forms of the predictor in the
 * covariance matrix Phi(l, l') = sum_{n=k+1}^{N-1} x[n-l] x[n-l'], and each
 * Phi entry is an autocorrelation lag minus short head and tail sums.  Same
 * reflection coefficients as the error-filter recursion (to rounding), at
 * N (m + 1) + O(m^3) instead of ~8 N m operations.
 * On return a[0..m-1] are the prediction coefficients, x[n] ~ sum a[k-1]
 * x[n-k]; returns 0 when the frame is degenerate.
 */
static int burg(const double *x, long n, int m, double *a)
{
    double c[LPC_ORDER + 1], head[LPC_ORDER + 1][LPC_ORDER + 1], tail[LPC_ORDER + 1][LPC_ORDER + 1];
    double e[LPC_ORDER + 2], en[LPC_ORDER + 2]; /* error filter 1, e_1..e_k */
    double phi[LPC_ORDER + 2][LPC_ORDER + 2];
    if (m > LPC_ORDER || n < 2 * (m + 2))
        return 0;
    for (int d = 0; d <= m; d++) /* lags 0..m, two-lane partial sums */
        c[d] = dot2(x, x + d, n - d);
    for (int d = 0; d <= m; d++) {
        head[0][d] = x[0] * x[d];
        tail[0][d] = x[n - 1 - d] * x[n - 1];
        for (int s2 = 1; s2 < m; s2++) {
            head[s2][d] = head[s2 - 1][d] + x[s2] * x[s2 + d];
            tail[s2][d] = tail[s2 - 1][d] + x[n - 1 - d - s2] * x[n - 1 - s2];
        }
    }
    e[0] = 1.0;
    for (int k = 0; k < m; k++) {
        /* Phi over lags 0..k+1 for the sums n = k+1 .. N-1 */
        for (int l = 0; l <= k + 1; l++)
            for (int l2 = l; l2 <= k + 1; l2++) {
                const int d = l2 - l;
                double v = c[d];
                if (k - l2 >= 0)
                    v -= head[k - l2][d];
                if (l >= 1)
                    v -= tail[l - 1][d];
                phi[l][l2] = phi[l2][l] = v;
            }
        /* u = (e_0..e_k, 0), v = (0, e_k, .., e_0) */
        double fsum = 0.0, bsum = 0.0, csum = 0.0;
        for (int l = 0; l <= k + 1; l++) {
            const double ul = l <= k ? e[l] : 0.0, vl = l >= 1 ? e[k + 1 - l] : 0.0;
            double pu = 0.0, pv = 0.0;
            for (int l2 = 0; l2 <= k + 1; l2++) {
                const double u2 = l2 <= k ? e[l2] : 0.0, v2 = l2 >= 1 ? e[k + 1 - l2] : 0.0;
                pu += phi[l][l2] * u2;
                pv += phi[l][l2] * v2;
            }
            fsum += ul * pu;
            bsum += vl * pv;
            csum += ul * pv;
        }
        const double den = fsum + bsum;
        if (!(den > 0.0))
            return 0;
        const double mu = -2.0 * csum / den;
        en[0] = 1.0;
        for (int i = 1; i <= k; i++)
            en[i] = e[i] + mu * e[k + 1 - i];
        en[k + 1] = mu;
        for (int i = 0; i <= k + 1; i++)
            e[i] = en[i];
    }
    for (int i = 1; i <= m; i++)
        a[i - 1] = -e[i];
    return 1;
}

/* complex helpers without the overflow-safe library calls (values here are
 * bounded: polynomial coefficients of a stable-ish LPC fit) */
static double complex cdiv(double complex a, double complex b)
{
    const double br = creal(b), bi = cimag(b), den = br * br + bi * bi;
    return ((creal(a) * br + cimag(a) * bi) + I * (cimag(a) * br - creal(a) * bi)) / den;
}

static double cmag(double complex z)
{
    return sqrt(creal(z) * creal(z) + cimag(z) * cimag(z));
}

/* One root of sum_{j=0..m} a[j] z^j by Laguerre's method, from *x.
 * Returns 1 when it converged. */
static int laguerre(const double complex *a, int m, double complex *x)
{
    static const double frac[] = {0.0, 0.5, 0.25, 0.75, 0.13, 0.38, 0.62, 0.88, 1.0};
    const int mr = 8, mt = 10;
    for (int iter = 1; iter <= mr * mt; iter++) {
        double complex b = a[m], d = 0.0, f = 0.0;
        double err = fabs(creal(b)) + fabs(cimag(b));
        const double abx = cmag(*x);
        for (int j = m - 1; j >= 0; j--) {
            f = *x * f + d;
            d = *x * d + b;
            b = *x * b + a[j];
            err = fabs(creal(b)) + fabs(cimag(b)) + abx * err;
        }
        err *= 1e-15;
        if (cmag(b) <= err)
            return 1;
        const double complex g = cdiv(d, b), g2 = g * g, h = g2 - 2.0 * cdiv(f, b);
        const double complex sq = csqrt((double)(m - 1) * ((double)m * h - g2));
        double complex gp = g + sq;
        const double complex gm = g - sq;
        const double abp = cmag(gp), abm = cmag(gm);
        if (abp < abm)
            gp = gm;
        const double complex dx = fmax(abp, abm) > 0.0
                                      ? cdiv((double)m, gp)
                                      : (1.0 + abx) * (cos((double)iter) + I * sin((double)iter));
        const double complex x1 = *x - dx;
        if (creal(x1) == creal(*x) && cimag(x1) == cimag(*x))
            return 1;
        if (iter % mt)
            *x = x1;
        else
            *x -= frac[iter / mt] * dx;
    }
    return 0;
}

/* All m roots of the real polynomial c[0] + c[1] z + ... + c[m] z^m. */
static void poly_roots(const double *c, int m, double complex *roots)
{
    double complex a[LPC_ORDER + 1], ad[LPC_ORDER + 1];
    for (int j = 0; j <= m; j++)
        a[j] = ad[j] = c[j];
    for (int j = m; j >= 1; j--) {
        double complex x = 0.0;
        laguerre(ad, j, &x);
        if (fabs(cimag(x)) <= 2.0 * 1e-15 * fabs(creal(x)))
            x = creal(x);
        roots[j - 1] = x;
        double complex b = ad[j];
        for (int jj = j - 1; jj >= 0; jj--) {
            const double complex cc = ad[jj];
            ad[jj] = b;
            b = x * b + cc;
        }
    }
    for (int j = 0; j < m; j++)
        laguerre(a, m, &roots[j]);
}

/*
 * All roots at once by the Aberth-Ehrlich iteration (Aberth 1973): every
 * estimate z_k moves by w_k = N_k / (1 - N_k sum_{j != k} 1 / (z_k - z_j))
 * with N_k = p(z_k) / p'(z_k); the sum keeps the estimates apart, so no
 * deflation is needed and a good set of starting values (the previous
 * frame's roots: frames overlap by 7/8) converges in two or three sweeps.
 * Cubic convergence; stops when no estimate moved by more than 1e-9 of its
 * modulus in a sweep (the error left is then far below 1e-12).  Returns 0 when it did not converge (the caller then uses
 * Laguerre's method).
 */
static int aberth_roots(const double *c, int m, double complex *z)
{
    for (int iter = 0; iter < 100; iter++) {
        double max_rel = 0.0;
        for (int k = 0; k < m; k++) {
            const double complex zk = z[k];
            double complex p = c[m], dp = 0.0;
            for (int j = m - 1; j >= 0; j--) {
                dp = dp * zk + p;
                p = p * zk + c[j];
            }
            if (creal(p) == 0.0 && cimag(p) == 0.0)
                continue; /* exact root */
            if (creal(dp) == 0.0 && cimag(dp) == 0.0)
                return 0;
            const double complex ratio = cdiv(p, dp);
            double complex sum = 0.0;
            for (int j = 0; j < m; j++)
                if (j != k)
                    sum += cdiv(1.0, zk - z[j]);
            const double complex w = cdiv(ratio, 1.0 - ratio * sum);
            z[k] = zk - w;
            const double rel = cmag(w) / (cmag(z[k]) + 1e-300);
            if (rel > max_rel)
                max_rel = rel;
        }
        if (!(max_rel == max_rel))
            return 0;
        if (max_rel < 1e-9) /* cubic: the remaining error is ~1e-27 */
            return 1;
    }
    return 0;
}

/*
 * Frame-to-frame root tracking with Bairstow's method (real arithmetic,
 * quadratic factors x^2 + u x + v; Press et al., "qroot"): the previous
 * frame's factors are refined on the new polynomial one after the other,
 * each removed by synthetic division before the next.  ~700 flops per frame
 * where a complex all-roots iteration needs ~10 times more.  Any failure
 * (no convergence within 40 steps) falls back to aberth_roots.
 */
typedef struct quad {
    double u, v;
} quad;

static int bairstow(const double *a, int n, double *u, double *v, double *quot)
{
    double b[LPC_ORDER + 3], f[LPC_ORDER + 3];
    for (int iter = 0; iter < 40; iter++) {
        b[n] = b[n - 1] = 0.0;
        for (int i = n - 2; i >= 0; i--)
            b[i] = a[i + 2] - *u * b[i + 1] - *v * b[i + 2];
        const double c = a[1] - *u * b[0] - *v * b[1];
        const double d = a[0] - *v * b[0];
        for (int i = n; i >= n - 3 && i >= 0; i--)
            f[i] = 0.0;
        for (int i = n - 4; i >= 0; i--)
            f[i] = b[i + 2] - *u * f[i + 1] - *v * f[i + 2];
        const double g = b[1] - *u * f[0] - *v * f[1];
        const double h = b[0] - *v * f[0];
        const double det = *v * g * g + h * (h - *u * g);
        if (!(det != 0.0) || !(det == det))
            return 0;
        const double du = (-h * c + g * d) / det;
        const double dv = (-g * *v * c + (g * *u - h) * d) / det;
        *u -= du;
        *v -= dv;
        if (!(*u == *u) || !(*v == *v))
            return 0;
        if (fabs(du) <= 1e-12 * (1.0 + fabs(*u)) && fabs(dv) <= 1e-12 * (1.0 + fabs(*v))) {
            b[n] = b[n - 1] = 0.0;
            for (int i = n - 2; i >= 0; i--)
                b[i] = a[i + 2] - *u * b[i + 1] - *v * b[i + 2];
            for (int i = 0; i <= n - 2; i++)
                quot[i] = b[i];
            return 1;
        }
    }
    return 0;
}

/* refine the m/2 factors q (start values in, factors out) of c[0..m] */
static int bairstow_all(const double *c, int m, quad *q)
{
    double a[LPC_ORDER + 1], qt[LPC_ORDER + 1];
    for (int i = 0; i <= m; i++)
        a[i] = c[i];
    int n = m;
    for (int j = 0; j < m / 2; j++) {
        if (n == 2) {
            q[j].u = a[1] / a[2];
            q[j].v = a[0] / a[2];
            break;
        }
        if (!bairstow(a, n, &q[j].u, &q[j].v, qt))
            return 0;
        n -= 2;
        for (int i = 0; i <= n; i++)
            a[i] = qt[i];
    }
    return 1;
}

static void quads_to_roots(const quad *q, int nq, double complex *roots)
{
    for (int j = 0; j < nq; j++) {
        const double u = q[j].u, v = q[j].v, disc = u * u - 4.0 * v;
        if (disc < 0.0) {
            const double re = -0.5 * u, im = 0.5 * sqrt(-disc);
            roots[2 * j] = re + I * im;
            roots[2 * j + 1] = re - I * im;
        } else { /* two real roots, the larger without cancellation */
            const double r1 = -0.5 * (u + (u >= 0.0 ? 1.0 : -1.0) * sqrt(disc));
            roots[2 * j] = r1;
            roots[2 * j + 1] = r1 != 0.0 ? v / r1 : 0.0;
        }
    }
}

/* quadratic factors from a full set of roots (conjugate pairs, real roots
 * two by two); 0 when the set is not of that shape */
static int roots_to_quads(const double complex *roots, int m, quad *q)
{
    double re_real[LPC_ORDER];
    int nreal = 0, nq = 0, npos = 0, nneg = 0;
    for (int i = 0; i < m; i++) {
        const double im = cimag(roots[i]), re = creal(roots[i]);
        if (fabs(im) <= 1e-9 * (1.0 + fabs(re))) {
            re_real[nreal++] = re;
        } else if (im > 0.0) {
            q[nq].u = -2.0 * re;
            q[nq].v = re * re + im * im;
            nq++;
            npos++;
        } else {
            nneg++;
        }
    }
    if (npos != nneg || nreal % 2)
        return 0;
    for (int i = 0; i + 1 < nreal; i += 2) {
        q[nq].u = -(re_real[i] + re_real[i + 1]);
        q[nq].v = re_real[i] * re_real[i + 1];
        nq++;
    }
    return nq == m / 2;
}

/* ---- the analysis ------------------------------------------------------ */

int vx__formant_medians(const float *x, size_t n, double fs, const vx__praat_pitch *p,
                        double out_hz[3])
{
    out_hz[0] = out_hz[1] = out_hz[2] = NAN;
    if (n < 2 || !p || p->n_frames == 0)
        return VX_OK;
    const double fs2 = 2.0 * CEILING_HZ;
    const double dur = (double)n / fs;
    /* Sound_resample: round(dur * fs2) samples centred in [0, dur] */
    const long n2 = (long)floor(dur * fs2 + 0.5);
    if (n2 < LPC_ORDER + 2)
        return VX_OK;
    const double dx2 = 1.0 / fs2, x1_2 = 0.5 * (dur - (double)(n2 - 1) * dx2);
    /* formant frame grid (Sound_to_Formant_any_inplace) */
    const double dt = HALF_WINDOW_S / 4.0;
    const double phys = (double)n2 * dx2;
    double dt_window = 2.0 * HALF_WINDOW_S;
    long nframes = 1 + (long)floor((phys - dt_window) / dt);
    long nsamp_window = (long)floor(dt_window / dx2);
    long half_window = nsamp_window / 2;
    if (nsamp_window < LPC_ORDER + 1)
        return VX_OK;
    double t1 = x1_2 + 0.5 * (phys - dx2 - (double)(nframes - 1) * dt);
    if (nframes < 1) {
        nframes = 1;
        t1 = x1_2 + 0.5 * phys;
        dt_window = phys;
        nsamp_window = n2;
        half_window = nsamp_window / 2;
    }

    float *y = calloc((size_t)n2, sizeof *y);       /* resampled, pre-emphasised */
    uint8_t *need = calloc((size_t)n2, 1);          /* which samples frames use */
    uint8_t *fvoiced = calloc((size_t)nframes, 1);
    double *window = malloc((size_t)nsamp_window * sizeof *window);
    double *frame = malloc((size_t)nsamp_window * sizeof *frame);
    double *vals = malloc((size_t)nframes * 3 * sizeof *vals);
    int rc = VX_ENOMEM;
    if (!y || !need || !fvoiced || !window || !frame || !vals)
        goto done;

    /* which frames are voiced and which samples they use */
    long nvoiced = 0;
    for (long f = 0; f < nframes; f++) {
        const double t = t1 + (double)f * dt;
        if (!vx__praat_pitch_voiced_at(p, dur, t))
            continue;
        fvoiced[f] = 1;
        nvoiced++;
        const long left = (long)floor((t - x1_2) / dx2 + 1.0);
        long s0 = left + 1 - half_window - 1, s1 = left + half_window; /* s0 - 1 for pre-emphasis */
        if (s0 < 1)
            s0 = 1;
        if (s1 > n2)
            s1 = n2;
        memset(need + (s0 - 1), 1, (size_t)(s1 - s0 + 1));
    }
    if (nvoiced == 0) {
        rc = VX_OK;
        goto done;
    }
    /* resample the needed stretches, then pre-emphasise them (back to front,
     * as Praat does in place) */
    if ((rc = resample(x, (long)n, fs, fs2, x1_2, y, n2, need)) != VX_OK)
        goto done;
    rc = VX_ENOMEM;
    {
        const double pe = exp(-2.0 * VX__MET_PI * PREEMPH_HZ * dx2);
        for (long i = n2 - 1; i >= 1; i--)
            if (need[i])
                y[i] -= (float)(pe * y[i - 1]);
    }
    /* Gaussian window */
    {
        const double imid = 0.5 * (double)(nsamp_window + 1), edge = exp(-12.0);
        for (long i = 1; i <= nsamp_window; i++) {
            const double d = (double)i - imid;
            window[i - 1] = (exp(-48.0 * d * d / (double)(nsamp_window + 1) /
                                 (double)(nsamp_window + 1)) -
                             edge) /
                            (1.0 - edge);
        }
    }
    size_t nv[3] = {0, 0, 0};
    double *v1 = vals, *v2 = vals + nframes, *v3 = vals + 2 * nframes;
    double complex roots[LPC_ORDER], prev_roots[LPC_ORDER];
    quad prev_quads[LPC_ORDER / 2];
    int have_quads = 0;
    long prev_frame = -2;
    for (long f = 0; f < nframes; f++) {
        if (!fvoiced[f])
            continue;
        const double t = t1 + (double)f * dt;
        const long left = (long)floor((t - x1_2) / dx2 + 1.0);
        long s0 = left + 1 - half_window, s1 = left + half_window;
        if (s0 < 1)
            s0 = 1;
        if (s1 > n2)
            s1 = n2;
        double max_int = 0.0;
        for (long i = s0; i <= s1; i++) {
            const double v = y[i - 1];
            if (v * v > max_int)
                max_int = v * v;
        }
        if (max_int == 0.0)
            continue; /* Burg cannot stand all zeroes */
        const long len = s1 - s0 + 1;
        for (long j = 0; j < len; j++)
            frame[j] = (double)y[s0 - 1 + j] * window[j];
        double a[LPC_ORDER];
        if (!burg(frame, len, LPC_ORDER, a))
            continue;
        double c[LPC_ORDER + 1];
        for (int i = 1; i <= LPC_ORDER; i++)
            c[i - 1] = -a[LPC_ORDER - i];
        c[LPC_ORDER] = 1.0;
        /* roots: track the previous frame's factors; otherwise (or when
         * that fails) all roots at once, then Laguerre as the last resort */
        int found = 0;
        if (f == prev_frame + 1 && have_quads) {
            quad q[LPC_ORDER / 2];
            memcpy(q, prev_quads, sizeof q);
            if (bairstow_all(c, LPC_ORDER, q)) {
                quads_to_roots(q, LPC_ORDER / 2, roots);
                memcpy(prev_quads, q, sizeof q);
                found = 1;
            }
        }
        if (!found) {
            for (int i = 0; i < LPC_ORDER; i++) /* start: previous frame or a circle */
                roots[i] = f == prev_frame + 1
                               ? prev_roots[i]
                               : 0.9 * (cos(0.4 + 2.0 * VX__MET_PI * i / LPC_ORDER) +
                                        I * sin(0.4 + 2.0 * VX__MET_PI * i / LPC_ORDER));
            if (!aberth_roots(c, LPC_ORDER, roots))
                poly_roots(c, LPC_ORDER, roots);
            have_quads = roots_to_quads(roots, LPC_ORDER, prev_quads);
        }
        for (int i = 0; i < LPC_ORDER; i++)
            prev_roots[i] = roots[i];
        prev_frame = f;
        const double nyq = 0.5 * fs2;
        double fq[LPC_ORDER];
        int nfq = 0;
        for (int i = 0; i < LPC_ORDER; i++) {
            if (!(cimag(roots[i]) >= 0.0))
                continue;
            const double fr = fabs(atan2(cimag(roots[i]), creal(roots[i]))) * nyq / VX__MET_PI;
            if (fr >= SAFETY_HZ && fr <= nyq - SAFETY_HZ)
                fq[nfq++] = fr;
        }
        /* sort ascending (insertion sort: at most 10 values) */
        for (int i = 1; i < nfq; i++) {
            const double v = fq[i];
            int j = i - 1;
            while (j >= 0 && fq[j] > v) {
                fq[j + 1] = fq[j];
                j--;
            }
            fq[j + 1] = v;
        }
        if (nfq >= 1)
            v1[nv[0]++] = fq[0];
        if (nfq >= 2)
            v2[nv[1]++] = fq[1];
        if (nfq >= 3)
            v3[nv[2]++] = fq[2];
    }
    out_hz[0] = vx__median_inplace(v1, nv[0]);
    out_hz[1] = vx__median_inplace(v2, nv[1]);
    out_hz[2] = vx__median_inplace(v3, nv[2]);
    rc = VX_OK;
done:
    free(y);
    free(need);
    free(fvoiced);
    free(window);
    free(frame);
    free(vals);
    return rc;
}
