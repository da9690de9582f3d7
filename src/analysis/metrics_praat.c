/*
 * metrics_praat.c -- jitter, shimmer and harmonicity the way Praat's voice
 * report measures them (Boersma & Weenink, Praat 6.3; Boersma 1993).
 *
 * DESIGN: the numbers have to agree with Praat, and jitter in particular is
 * decided by *which* periods the glottal-pulse tracker finds, not by the
 * formula.  So instead of an approximation (e.g. pulses from the pYIN track)
 * this file re-implements, step by step, the Praat algorithms the voice
 * report chains, following the Praat manual pages and Boersma (1993):
 *
 *   - "Sound: To Pitch (ac)..." (what "To PointProcess (periodic, cc)" runs
 *     internally with "To Pitch: 0, 75, 600"): Hanning-windowed
 *     autocorrelation divided by the window's autocorrelation, up to 15
 *     candidates per 10 ms frame refined by sin(x)/x interpolation, and the
 *     Viterbi path finder with the silence / voicing / octave / octave-jump /
 *     voiced-unvoiced costs.  Boersma, P. (1993) "Accurate short-term
 *     analysis of the fundamental frequency and the harmonics-to-noise ratio
 *     of a sampled sound", IFA Proceedings 17: 97-110.
 *   - "Sound & Pitch: To PointProcess (cc)": from the middle of every voiced
 *     stretch, the absolute waveform peak, then period by period to both
 *     sides the best cross-correlation of one period with the next.
 *   - "PointProcess: Get jitter (local)" and "Sound & PointProcess: Get
 *     shimmer (local)": the manual's formulas with the shortest / longest
 *     period, maximum period factor and maximum amplitude factor rules;
 *     amplitudes are Hann-windowed RMS values around each pulse, as Praat's
 *     AmplitudeTier (period) does.
 *   - "Sound: To Harmonicity (cc)..." + "Get mean": forward cross-correlation
 *     (method "cc", accurate) per 10 ms frame; with its zero path costs the
 *     path finder reduces to "best candidate per frame unless the silence
 *     rule makes the frame unvoiced"; HNR = 10 log10 (r / (1 - r)).
 *
 * Praat's own index conventions (1-based samples at (i - 0.5)/fs, frame
 * grids centred in the signal, floor/ceil/round index rules) are kept so that
 * frame times and window edges are the same as Praat's.  The exact version
 * of this file (before the speed-ups below) reproduced Praat 6.3.07 on
 * 22 050 Hz files to 3e-5 relative for jitter and shimmer and 0.002 dB for
 * HNR on 24 evaluation clips.
 *
 * Cost (the metrics must stay well below the cost of the analysis itself):
 *   - the autocorrelation and cross-correlation use FFTW (float) instead of
 *     Praat's direct sums (correlations change by ~1e-7), with transforms
 *     only as long as the lags that are ever read;
 *   - frames whose silence rule already forces "unvoiced" (no voiced
 *     candidate could win even with both voiced/unvoiced transition costs
 *     saved) get no correlation at all: same path;
 *   - Praat refines every correlation peak with Brent's search on a 70- or
 *     700-point sinc interpolation.  Here the search runs on a short sinc
 *     (8 points for the pitch, by parabolic interpolation; 24 for the
 *     harmonicity, by Brent's search), and only the value at the maximum
 *     found uses Praat's full depth; pitch candidates more than 20 % above the ceiling,
 *     which the path finder treats as unvoiced whatever their values, are
 *     not refined; of the harmonicity peaks only those that can still be
 *     the best one are refined.
 * Against Praat run on the same samples (the 24 evaluation clips at their
 * own rates) the result differs by < 0.75 % in jitter, < 0.1 % in shimmer
 * and < 0.03 dB in HNR, for 3-4 times less work than the exact version.  Pulse search, jitter and shimmer are Praat's arithmetic, organised
 * so that each correlation costs one multiply-add per sample.
 */
#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <fftw3.h>

#include "analysis/metrics_internal.h"
#include "core/fftw_lock.h"

/* Praat's peak / value interpolation depths (NUMinterpol) */
#define SINC70 70
#define SINC700 700
/* depth of the sinc used while searching a correlation maximum (the value
 * at the maximum found is then taken with Praat's full depth): see
 * improve_maximum */
#define PITCH_SEARCH_DEPTH 8
#define HNR_SEARCH_DEPTH 24
#define PARABOLA_ROUNDS 1
/* the harmonicity keeps Praat's Brent search (on the short kernel): its
 * value is the peak height itself, and on noisy voices the correlation
 * peaks are too jagged for a parabola (0.1 dB off on the noisiest clip) */
#define HNR_BRENT 1

/* ------------------------------------------------------------------ */
/* Shared numerics                                                     */
/* ------------------------------------------------------------------ */

/* sum_j (-1)^j p[j * dir] (1 + cos(a + j theta)) / (f + j), j < count.
 * The cosines come from the three-term recurrence c_{j+2} = 2 cos(2 theta)
 * c_j - c_{j-2}, run for even and odd j side by side in the two lanes of a
 * vector (GCC/Clang vector extension: SIMD where the target has it), so
 * that one vector division serves two taps.  Praat rotates a (sin, cos)
 * pair per tap; the values agree to ~1e-13. */
typedef double vx__v2d __attribute__((vector_size(16)));
static double sinc_side(const double *p, long dir, long count, double f, double sa, double ca,
                        double s_th, double c_th)
{
    const double c2th = c_th * c_th - s_th * s_th, s2th = 2.0 * s_th * c_th;
    /* cos(a), cos(a + theta) and the two before them, cos(a - 2 theta),
     * cos(a - theta) */
    const double c0 = ca, c1 = ca * c_th - sa * s_th;
    const double cm1 = ca * c_th + sa * s_th, cm2 = ca * c2th + sa * s2th;
    vx__v2d cur = {c0, c1}, prev = {cm2, cm1};
    const vx__v2d two_c2 = {2.0 * c2th, 2.0 * c2th}, one = {1.0, 1.0}, two = {2.0, 2.0};
    vx__v2d den = {f, f + 1.0}, acc = {0.0, 0.0};
    long j = 0;
    for (; j + 1 < count; j += 2) {
        const vx__v2d y = {p[j * dir], p[(j + 1) * dir]};
        acc += y * (one + cur) / den;
        const vx__v2d next = two_c2 * cur - prev;
        prev = cur;
        cur = next;
        den += two;
    }
    double r = acc[0] - acc[1];
    if (j < count)
        r += p[j * dir] * (1.0 + cur[0]) / den[0];
    return r;
}

typedef struct sinc_trig {
    long depth; /* depth the two values below belong to (0: none yet) */
    double s_th, c_th;
} sinc_trig;

static double sinc_core(const double *y, long size, double x, long max_depth, sinc_trig *tc)
{
    /* Praat NUM_interpolate_sinc: raised-cosine-windowed sinc of depth
     * max_depth + 0.5, clipped to the available samples. y[k-1] is Praat's
     * y[k]. */
    if (size < 1 || !(x == x))
        return NAN;
    if (x < 1.0)
        return y[0];
    if (x > (double)size)
        return y[size - 1];
    const long midleft = (long)floor(x), midright = midleft + 1;
    if (x == (double)midleft)
        return y[midleft - 1];
    if (max_depth > midright - 1)
        max_depth = midright - 1;
    if (max_depth > size - midleft)
        max_depth = size - midleft;
    if (max_depth <= 0)
        return y[(long)floor(x + 0.5) - 1];
    if (max_depth == 1)
        return y[midleft - 1] + (x - (double)midleft) * (y[midright - 1] - y[midleft - 1]);
    if (max_depth == 2) {
        const double yl = y[midleft - 1], yr = y[midright - 1];
        const double dyl = 0.5 * (yr - y[midleft - 2]), dyr = 0.5 * (y[midright] - yl);
        const double fil = x - (double)midleft, fir = (double)midright - x;
        return yl * fir + yr * fil -
               fil * fir * (0.5 * (dyr - dyl) + (fil - 0.5) * (dyl + dyr - 2 * (yr - yl)));
    }
    const long left = midright - max_depth, right = midleft + max_depth;
    const double depth = (double)max_depth + 0.5;
    sinc_trig local = {0, 0.0, 0.0};
    if (!tc)
        tc = &local;
    if (tc->depth != max_depth) {
        const double th = VX__MET_PI / depth;
        tc->depth = max_depth;
        tc->s_th = sin(th);
        tc->c_th = cos(th);
    }
    /* term of sample ix: 0.5 sin(pi f) (-1)^j / (pi (f + j)) * (1 + cos(w_j)),
     * left side f = x - midleft, right side f = midright - x = 1 - f; the
     * window phase w_j = pi (f + j) / depth */
    const double fl = x - (double)midleft, fr = 1.0 - fl;
    const double a = VX__MET_PI * fl / depth, sa = sin(a), ca = cos(a);
    const double sb = tc->s_th * ca - tc->c_th * sa, cb = tc->c_th * ca + tc->s_th * sa; /* theta - a */
    const double acc = sinc_side(y + (midleft - 1), -1, midleft - left + 1, fl, sa, ca, tc->s_th,
                                 tc->c_th) +
                       sinc_side(y + (midright - 1), 1, right - midright + 1, fr, sb, cb,
                                 tc->s_th, tc->c_th);
    return 0.5 * sin(VX__MET_PI * fl) / VX__MET_PI * acc;
}

double vx__sinc_interpolate(const double *y, long size, double x, long max_depth)
{
    return sinc_core(y, size, x, max_depth, NULL);
}

typedef struct sinc_fn {
    const double *y;
    long size, depth;
    sinc_trig trig;
} sinc_fn;

static double neg_sinc(double x, sinc_fn *s)
{
    return -sinc_core(s->y, s->size, x, s->depth, &s->trig);
}

/* Brent's minimiser on [a, b] (golden section + parabolic steps), the
 * netlib "fminbr" that Praat's NUMminimize_brent follows. */
static double brent_minimize(sinc_fn *s, double a, double b, double tol, double *fx_out)
{
    const double golden = 0.3819660112501051; /* (3 - sqrt 5) / 2 */
    const double sqrt_eps = sqrt(DBL_EPSILON);
    double v = a + golden * (b - a), fv = neg_sinc(v, s);
    double x = v, w = v, fx = fv, fw = fv;
    for (int iter = 1; iter <= 60; iter++) {
        const double range = b - a, mid = 0.5 * (a + b);
        const double tol_act = sqrt_eps * fabs(x) + tol / 3.0;
        if (fabs(x - mid) + range / 2.0 <= 2.0 * tol_act)
            break;
        double new_step = golden * (x < mid ? b - x : a - x);
        if (fabs(x - w) >= tol_act) {
            double t = (x - w) * (fx - fv);
            double q = (x - v) * (fx - fw);
            double p = (x - v) * q - (x - w) * t;
            q = 2.0 * (q - t);
            if (q > 0.0)
                p = -p;
            else
                q = -q;
            if (fabs(p) < fabs(new_step * q) && p > q * (a - x + 2.0 * tol_act) &&
                p < q * (b - x - 2.0 * tol_act))
                new_step = p / q;
        }
        if (fabs(new_step) < tol_act)
            new_step = new_step > 0.0 ? tol_act : -tol_act;
        const double t = x + new_step, ft = neg_sinc(t, s);
        if (ft <= fx) {
            if (t < x)
                b = x;
            else
                a = x;
            v = w;
            w = x;
            x = t;
            fv = fw;
            fw = fx;
            fx = ft;
        } else {
            if (t < x)
                a = t;
            else
                b = t;
            if (ft <= fw || w == x) {
                v = w;
                w = t;
                fv = fw;
                fw = ft;
            } else if (ft <= fv || v == x || v == w) {
                v = t;
                fv = ft;
            }
        }
    }
    *fx_out = fx;
    return x;
}

/* Praat NUMimproveMaximum with sinc interpolation of the given depth;
 * ixmid is 1-based.  Returns the maximum, *x_real its 1-based position.
 * Praat runs Brent's search (tolerance 1e-10) on the full-depth sinc
 * interpolation.  Here the search uses a search_depth-point sinc: either
 * Brent's search as Praat (brent != 0), or the vertex of the parabola
 * through the values 0.1 sample on either side of x_guess (the parabolic
 * estimate from the samples; PARABOLA_ROUNDS such rounds, the step
 * shrinking tenfold), with Brent's search as the fallback when that
 * parabola is not concave.  The value at the maximum found is then taken
 * with the full depth.  On a smooth peak the position agrees with Praat's
 * to ~1e-3 sample, the value only differs in second order (< 1e-6) and the
 * frequency by < 1e-5; the parabola takes 4 short kernel evaluations
 * instead of ~15 long ones. */
static double improve_maximum(const double *y, long size, long ixmid, double x_guess, long depth,
                              long search_depth, int brent, double *x_real)
{
    if (ixmid <= 1) {
        *x_real = 1.0;
        return y[0];
    }
    if (ixmid >= size) {
        *x_real = (double)size;
        return y[size - 1];
    }
    const double lo = (double)(ixmid - 1), hi = (double)(ixmid + 1);
    sinc_fn s = {y, size, depth < search_depth ? depth : search_depth, {0, 0.0, 0.0}};
    double x0 = x_guess == x_guess ? fmin(hi - 0.2, fmax(lo + 0.2, x_guess)) : (double)ixmid;
    double h = 0.1, f0 = 0.0;
    int ok = !brent;
    for (int round = 0; round < PARABOLA_ROUNDS && ok; round++) {
        const double fm = -neg_sinc(x0 - h, &s);
        f0 = -neg_sinc(x0, &s);
        const double fp = -neg_sinc(x0 + h, &s);
        const double d2 = fm - 2.0 * f0 + fp;
        if (!(d2 < 0.0)) {
            ok = 0;
            break;
        }
        double dx = 0.5 * h * (fm - fp) / d2;
        if (dx > h)
            dx = h;
        if (dx < -h)
            dx = -h;
        x0 += dx;
        h *= 0.1;
    }
    double fx;
    if (ok && x0 > lo && x0 < hi) {
        *x_real = x0;
        fx = neg_sinc(x0, &s);
    } else {
        *x_real = brent_minimize(&s, lo, hi, 1e-10, &fx);
    }
    if (depth <= search_depth)
        return -fx;
    return vx__sinc_interpolate(y, size, *x_real, depth);
}

static int cmp_double(const void *a, const void *b)
{
    const double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y ? 1 : 0;
}

double vx__median_inplace(double *v, size_t n)
{
    if (n == 0)
        return NAN;
    qsort(v, n, sizeof *v, cmp_double);
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

/* Praat's Sampled_shortTermAnalysis: as many windows as fit, centred. */
static size_t short_term_frames(size_t n, double fs, double window_s, double dt, double *t1)
{
    const double dx = 1.0 / fs, dur = dx * (double)n;
    if (window_s > dur)
        return 0;
    const size_t nf = (size_t)floor((dur - window_s) / dt) + 1;
    const double mid = 0.5 * dx - 0.5 * dx + 0.5 * dur; /* x1 - dx/2 + dur/2 */
    *t1 = mid - 0.5 * (double)nf * dt + 0.5 * dt;
    return nf;
}

/* sum of x[0..n-1] in double, four partial sums */
static double sum_floats(const float *x, long n)
{
    double s0 = 0.0, s1 = 0.0, s2 = 0.0, s3 = 0.0;
    long i = 0;
    for (; i + 3 < n; i += 4) {
        s0 += x[i];
        s1 += x[i + 1];
        s2 += x[i + 2];
        s3 += x[i + 3];
    }
    for (; i < n; i++)
        s0 += x[i];
    return (s0 + s1) + (s2 + s3);
}

/* Largest |x - mean(x)|: the global peak of Praat's silence rule
 * (= max(max x - mean, mean - min x)). */
static double global_peak_demeaned(const float *x, size_t n)
{
    const double mean = sum_floats(x, (long)n) / (double)n;
    float mn = x[0], mx = x[0];
    for (size_t i = 1; i < n; i++) {
        mn = x[i] < mn ? x[i] : mn;
        mx = x[i] > mx ? x[i] : mx;
    }
    const double a = (double)mx - mean, b = mean - (double)mn;
    return a > b ? a : b;
}

/* Smallest of 2^k, 3 * 2^k, 5 * 2^k that is >= v: sizes FFTW transforms
 * fast with FFTW_ESTIMATE plans. */
static long fast_fft_size(long v)
{
    long best = 0;
    for (long m = 1; m <= 5; m += 2) {
        long p = m;
        while (p < v)
            p *= 2;
        if (!best || p < best)
            best = p;
    }
    return best;
}

/* ------------------------------------------------------------------ */
/* Sound: To Pitch (ac)                                                */
/* ------------------------------------------------------------------ */

#define AC_MAX_CAND_LIMIT 64

int vx__praat_pitch_ac(const float *x, size_t n, double fs, double floor_hz, double ceiling_hz,
                       vx__praat_pitch *out)
{
    /* "To Pitch: 0, floor, ceiling" = Sound_to_Pitch_ac (time step 0,
     * 3 periods per window, 15 candidates, very accurate off, silence 0.03,
     * voicing 0.45, octave 0.01, octave jump 0.35, voiced/unvoiced 0.14). */
    const double ppw = 3.0, silence = 0.03, voicing = 0.45, octave_cost = 0.01;
    double octave_jump = 0.35, vu_cost = 0.14;
    const double min_pitch = floor_hz, dx = 1.0 / fs, x1 = 0.5 * dx;
    double ceiling = ceiling_hz;
    int max_cand = 15;
    memset(out, 0, sizeof *out);
    if (max_cand < ceiling / min_pitch)
        max_cand = (int)floor(ceiling / min_pitch);
    if (max_cand > AC_MAX_CAND_LIMIT)
        max_cand = AC_MAX_CAND_LIMIT;
    const double dt = ppw / min_pitch / 4.0;
    const double dur = dx * (double)n;
    if (n < 4 || min_pitch < ppw / dur)
        return VX_OK; /* Praat refuses: no frames */
    const long nsamp_period = (long)floor(fs / min_pitch);
    const long half_period = nsamp_period / 2 + 1;
    if (ceiling > 0.5 * fs)
        ceiling = 0.5 * fs;
    const double dt_window = ppw / min_pitch;
    long nsamp_window = (long)floor(dt_window * fs);
    const long half_window = nsamp_window / 2 - 1;
    if (half_window < 2)
        return VX_OK;
    nsamp_window = half_window * 2;
    long max_lag = (long)floor((double)nsamp_window / ppw) + 2;
    if (max_lag > nsamp_window)
        max_lag = nsamp_window;
    double t1 = 0.0;
    const size_t nf = short_term_frames(n, fs, dt_window, dt, &t1);
    out->t1 = t1;
    out->dt = dt;
    out->ceiling_hz = ceiling;
    if (nf == 0)
        return VX_OK;
    out->f0_hz = calloc(nf, sizeof *out->f0_hz);
    if (!out->f0_hz)
        return VX_ENOMEM;
    out->n_frames = nf;
    const double global_peak = global_peak_demeaned(x, n);
    if (global_peak == 0.0)
        return VX_OK; /* all unvoiced */

    const long brent_ixmax = (long)floor((double)nsamp_window * 0.5);
    /* Praat's FFT has >= 1.5 N points so that r is exact up to lag N / 2;
     * only lags up to the longest candidate lag plus the 70-point sinc are
     * ever read for candidates that can be voiced, so the transform only
     * needs to be that long (lags beyond are set to 0 and never matter). */
    long need_lag = max_lag + SINC70 + 2;
    if (need_lag > brent_ixmax)
        need_lag = brent_ixmax;
    const long nfft = fast_fft_size(nsamp_window + need_lag);
    const long r_valid = nfft - nsamp_window < brent_ixmax ? nfft - nsamp_window : brent_ixmax;
    const long rsize = 2 * brent_ixmax + 1;
    const size_t mc = (size_t)max_cand;

    double *window = malloc((size_t)nsamp_window * sizeof *window);
    double *window_r = malloc((size_t)(brent_ixmax + 1) * sizeof *window_r);
    double *rr = malloc((size_t)rsize * sizeof *rr);
    double *cf = malloc(nf * mc * sizeof *cf); /* candidate frequencies */
    double *cs = malloc(nf * mc * sizeof *cs); /* candidate strengths */
    int *cn = malloc(nf * sizeof *cn);
    double *intensity = malloc(nf * sizeof *intensity);
    double *delta = malloc(nf * mc * sizeof *delta);
    double *lf = malloc(nf * mc * sizeof *lf); /* log2 of candidate frequencies */
    int *psi = malloc(nf * mc * sizeof *psi);
    long *imax = malloc(mc * sizeof *imax);
    float *fbuf = fftwf_alloc_real((size_t)nfft);
    fftwf_complex *spec = fftwf_alloc_complex((size_t)nfft / 2 + 1);
    fftwf_plan fwd = NULL, bwd = NULL;
    int rc = VX_ENOMEM;
    if (!window || !window_r || !rr || !cf || !cs || !cn || !intensity || !delta || !lf ||
        !psi || !imax || !fbuf || !spec)
        goto done;
    vx__fftw_lock();
    fwd = fftwf_plan_dft_r2c_1d((int)nfft, fbuf, spec, FFTW_ESTIMATE);
    bwd = fftwf_plan_dft_c2r_1d((int)nfft, spec, fbuf, FFTW_ESTIMATE);
    vx__fftw_unlock();
    if (!fwd || !bwd)
        goto done;

    /* Hanning window and its normalised autocorrelation (by the same FFT:
     * nfft >= 1.5 N, so lags up to N / 2 do not wrap around) */
    for (long i = 1; i <= nsamp_window; i++)
        window[i - 1] = 0.5 - 0.5 * cos((double)i * 2.0 * VX__MET_PI / (double)(nsamp_window + 1));
    for (long j = 0; j < nfft; j++)
        fbuf[j] = j < nsamp_window ? (float)window[j] : 0.0f;
    fftwf_execute_dft_r2c(fwd, fbuf, spec);
    for (long k = 0; k <= nfft / 2; k++) {
        const float re = spec[k][0], im = spec[k][1];
        spec[k][0] = re * re + im * im;
        spec[k][1] = 0.0f;
    }
    fftwf_execute_dft_c2r(bwd, spec, fbuf);
    for (long i = 0; i <= brent_ixmax; i++)
        window_r[i] = i <= r_valid ? (double)fbuf[i] / (double)fbuf[0] : 1.0;

    /* A frame can only become voiced if some voiced candidate (strength at
     * most 1) beats the unvoiced one; the path's voiced/unvoiced costs can
     * shift that by at most 2 * vu_cost.  Frames whose unvoiced strength is
     * beyond that are given only the unvoiced candidate (same path). */
    const double time_step_correction = 0.01 / dt;
    octave_jump *= time_step_correction;
    vu_cost *= time_step_correction;
    const double forced_unvoiced = 1.0 + 2.0 * vu_cost + 1e-9;

    for (size_t f = 0; f < nf; f++) {
        double *fr = cf + f * mc, *st = cs + f * mc;
        fr[0] = 0.0;
        st[0] = 0.0;
        cn[f] = 1;
        intensity[f] = 0.0;
        const double t = t1 + (double)f * dt;
        const long left_sample = (long)floor((t - x1) / dx + 1.0);
        const long right_sample = left_sample + 1;
        /* local mean over one longest period to both sides */
        long s0 = right_sample - nsamp_period, s1 = left_sample + nsamp_period;
        if (s0 < 1)
            s0 = 1;
        if (s1 > (long)n)
            s1 = (long)n;
        const double local_mean = sum_floats(x + (s0 - 1), s1 - s0 + 1) / (double)(2 * nsamp_period);
        const long start = right_sample - half_window; /* Praat's frame[1] */
        /* local peak of the windowed frame, half a longest period around t */
        long p0 = half_window + 1 - half_period, p1 = half_window + half_period;
        if (p0 < 1)
            p0 = 1;
        if (p1 > nsamp_window)
            p1 = nsamp_window;
        double local_peak = 0.0;
        for (long j = p0; j <= p1; j++) {
            const long i = start + j - 1;
            if (i < 1 || i > (long)n)
                continue;
            const double v = fabs(((double)x[i - 1] - local_mean) * window[j - 1]);
            if (v > local_peak)
                local_peak = v;
        }
        intensity[f] = local_peak > global_peak ? 1.0 : local_peak / global_peak;
        if (local_peak == 0.0)
            continue;
        const double unvoiced_strength =
            voicing + fmax(0.0, 2.0 - intensity[f] / (silence / (1.0 + voicing)));
        if (unvoiced_strength > forced_unvoiced)
            continue;
        {
            long j0 = 1, j1 = nsamp_window; /* frame samples inside the sound */
            if (start < 1)
                j0 = 2 - start;
            if (start + nsamp_window - 1 > (long)n)
                j1 = (long)n - start + 1;
            for (long j = 1; j < j0 && j <= nsamp_window; j++)
                fbuf[j - 1] = 0.0f;
            const float *xs = x + (start - 2); /* xs[j] is sample start + j - 1 */
            for (long j = j0; j <= j1; j++)
                fbuf[j - 1] = (float)(((double)xs[j] - local_mean) * window[j - 1]);
            for (long j = j1 + 1; j <= nsamp_window; j++)
                fbuf[j - 1] = 0.0f;
        }
        for (long j = nsamp_window; j < nfft; j++)
            fbuf[j] = 0.0f;
        fftwf_execute_dft_r2c(fwd, fbuf, spec);
        for (long k = 0; k <= nfft / 2; k++) {
            const float re = spec[k][0], im = spec[k][1];
            spec[k][0] = re * re + im * im;
            spec[k][1] = 0.0f;
        }
        fftwf_execute_dft_c2r(bwd, spec, fbuf);
        const double ac0 = fbuf[0];
        if (!(ac0 > 0.0))
            continue;
        rr[brent_ixmax] = 1.0;
        for (long i = 1; i <= brent_ixmax; i++)
            rr[brent_ixmax + i] = rr[brent_ixmax - i] =
                i <= r_valid ? fbuf[i] / (ac0 * window_r[i]) : 0.0;
        const double *r = rr + brent_ixmax; /* r[-brent_ixmax .. brent_ixmax] */
        /* candidates: local maxima above half the voicing threshold */
        int nc = 1;
        for (long i = 2; i < max_lag && i < brent_ixmax; i++) {
            if (!(r[i] > 0.5 * voicing && r[i] > r[i - 1] && r[i] >= r[i + 1]))
                continue;
            const double dr = 0.5 * (r[i + 1] - r[i - 1]), d2r = 2.0 * r[i] - r[i - 1] - r[i + 1];
            const double freq = fs / ((double)i + dr / d2r);
            double strength =
                vx__sinc_interpolate(rr, rsize, fs / freq + (double)(brent_ixmax + 1), 30);
            if (strength > 1.0)
                strength = 1.0 / strength;
            int place = -1;
            if (nc < max_cand) {
                place = nc++;
            } else {
                double weakest = 2.0;
                for (int iw = 1; iw < max_cand; iw++) {
                    const double ls = st[iw] - octave_cost * log2(min_pitch / fr[iw]);
                    if (ls < weakest) {
                        weakest = ls;
                        place = iw;
                    }
                }
                if (strength - octave_cost * log2(min_pitch / freq) <= weakest)
                    place = -1;
            }
            if (place >= 0) {
                fr[place] = freq;
                st[place] = strength;
                imax[place] = i;
            }
        }
        /* second pass: maximise the sinc-interpolated correlation.  A
         * candidate more than 20 % above the ceiling stays above it (the
         * maximum moves by less than one lag) and so stays "voiceless" for
         * the path finder whatever its exact values: not refined. */
        for (int c = 1; c < nc; c++) {
            if (fr[c] > 1.2 * ceiling)
                continue;
            double xmid;
            const long depth = fr[c] > 0.3 * fs ? SINC700 : SINC70;
            double ymid = improve_maximum(rr, rsize, imax[c] + brent_ixmax + 1,
                                          fs / fr[c] + (double)(brent_ixmax + 1), depth,
                                          PITCH_SEARCH_DEPTH, 0, &xmid);
            xmid -= (double)(brent_ixmax + 1);
            fr[c] = fs / xmid;
            if (ymid > 1.0)
                ymid = 1.0 / ymid;
            st[c] = ymid;
        }
        cn[f] = nc;
    }

    /* Pitch_pathFinder (no formant pulling: ceiling2 == ceiling) */
    for (size_t f = 0; f < nf; f++) {
        double us = 2.0 - intensity[f] / (silence / (1.0 + voicing));
        us = voicing + (us > 0.0 ? us : 0.0);
        for (int c = 0; c < cn[f]; c++) {
            const double fq = cf[f * mc + c];
            const int voiceless = !(fq > 0.0 && fq < ceiling);
            lf[f * mc + c] = voiceless ? 0.0 : log2(fq);
            delta[f * mc + c] =
                voiceless ? us : cs[f * mc + c] - octave_cost * (log2(ceiling) - lf[f * mc + c]);
        }
    }
    for (size_t f = 1; f < nf; f++) {
        const double *prev = delta + (f - 1) * mc;
        double *cur = delta + f * mc;
        for (int c2 = 0; c2 < cn[f]; c2++) {
            const double f2 = cf[f * mc + c2];
            const int cur_unv = !(f2 > 0.0 && f2 < ceiling);
            double maximum = -1e30;
            int place = 0;
            for (int c1 = 0; c1 < cn[f - 1]; c1++) {
                const double f1 = cf[(f - 1) * mc + c1];
                const int prev_unv = !(f1 > 0.0 && f1 < ceiling);
                double cost;
                if (cur_unv)
                    cost = prev_unv ? 0.0 : vu_cost;
                else if (prev_unv)
                    cost = vu_cost;
                else
                    cost = octave_jump * fabs(lf[(f - 1) * mc + c1] - lf[f * mc + c2]);
                const double value = prev[c1] - cost + cur[c2];
                if (value > maximum) {
                    maximum = value;
                    place = c1;
                }
            }
            cur[c2] = maximum;
            psi[f * mc + c2] = place;
        }
    }
    {
        int place = 0;
        double maximum = delta[(nf - 1) * mc];
        for (int c = 1; c < cn[nf - 1]; c++)
            if (delta[(nf - 1) * mc + c] > maximum) {
                place = c;
                maximum = delta[(nf - 1) * mc + c];
            }
        for (size_t f = nf; f-- > 0;) {
            const double fq = cf[f * mc + place];
            out->f0_hz[f] = fq > 0.0 && fq < ceiling ? fq : 0.0;
            place = psi[f * mc + place];
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
    fftwf_free(fbuf);
    fftwf_free(spec);
    free(window);
    free(window_r);
    free(rr);
    free(cf);
    free(cs);
    free(cn);
    free(intensity);
    free(delta);
    free(lf);
    free(psi);
    free(imax);
    if (rc != VX_OK) {
        free(out->f0_hz);
        memset(out, 0, sizeof *out);
    }
    return rc;
}

/* ------------------------------------------------------------------ */
/* Sound & Pitch: To PointProcess (cc)                                 */
/* ------------------------------------------------------------------ */

typedef struct snd {
    const float *x;
    long nx;
    double dx, x1, xmax;
} snd;

static int pitch_voiced(const vx__praat_pitch *p, long i /* 1-based */)
{
    const double f = p->f0_hz[i - 1];
    return f > 0.0 && f < p->ceiling_hz;
}

/* Pitch_getValueAtTime (Hertz, linear interpolation) */
static double pitch_at(const vx__praat_pitch *p, double xmax, double t)
{
    if (t < 0.0 || t > xmax)
        return NAN;
    const long nxp = (long)p->n_frames;
    const double ireal = (t - p->t1) / p->dt + 1.0;
    const long ileft = (long)floor(ireal);
    double phase = ireal - (double)ileft;
    long near, far;
    if (phase < 0.5) {
        near = ileft;
        far = ileft + 1;
    } else {
        far = ileft;
        near = ileft + 1;
        phase = 1.0 - phase;
    }
    if (near < 1 || near > nxp || !pitch_voiced(p, near))
        return NAN;
    const double fnear = p->f0_hz[near - 1];
    if (far < 1 || far > nxp || !pitch_voiced(p, far))
        return fnear;
    return fnear + phase * (p->f0_hz[far - 1] - fnear);
}

int vx__praat_pitch_voiced_at(const vx__praat_pitch *p, double xmax, double t)
{
    if (p->n_frames == 0)
        return 0;
    const double v = pitch_at(p, xmax, t);
    return v == v;
}

static int voiced_interval_after(const vx__praat_pitch *p, double xmax, double after, double *tl,
                                 double *tr)
{
    const long nxp = (long)p->n_frames;
    long ileft = (long)ceil((after - p->t1) / p->dt + 1.0);
    if (ileft > nxp)
        return 0;
    if (ileft < 1)
        ileft = 1;
    for (; ileft <= nxp; ileft++)
        if (pitch_voiced(p, ileft))
            break;
    if (ileft > nxp)
        return 0;
    long iright = ileft;
    for (; iright <= nxp; iright++)
        if (!pitch_voiced(p, iright))
            break;
    iright--;
    *tl = p->t1 + (double)(ileft - 1) * p->dt - 0.5 * p->dt;
    *tr = p->t1 + (double)(iright - 1) * p->dt + 0.5 * p->dt;
    if (*tl >= xmax - 0.5 * p->dt)
        return 0;
    if (*tl < 0.0)
        *tl = 0.0;
    if (*tr > xmax)
        *tr = xmax;
    if (*tr <= after)
        return 0;
    return 1;
}

/* Sound_findExtremum with maxima and minima (largest |x|), parabolic. */
static double find_extremum(const snd *s, double tmin, double tmax)
{
    long imin = (long)floor((tmin - s->x1) / s->dx + 1.0);
    long imax = (long)ceil((tmax - s->x1) / s->dx + 1.0);
    if (imin < 1)
        imin = 1;
    if (imax > s->nx)
        imax = s->nx;
    const long cnt = imax - imin + 1;
    const float *c = s->x + (imin - 1); /* c[k-1] is Praat's channel1[k] */
    double iext;
    if (cnt <= 0) {
        return 0.5 * (tmin + tmax);
    } else if (cnt == 1) {
        iext = 1.0;
    } else if (cnt == 2) {
        const double a = fabs((double)c[0]), b = fabs((double)c[1]);
        iext = a > b ? 1.0 : a < b ? 2.0 : 1.5;
    } else {
        double mn = c[0], mx = c[0];
        long kmin = 1, kmax = 1;
        for (long k = 2; k <= cnt; k++) {
            const double v = c[k - 1];
            if (v < mn) {
                mn = v;
                kmin = k;
            }
            if (v > mx) {
                mx = v;
                kmax = k;
            }
        }
        if (mn == mx) {
            iext = 0.5 * ((double)cnt + 1.0);
        } else {
            const long ke = fabs(mn) > fabs(mx) ? kmin : kmax;
            if (ke == 1 || ke == cnt) {
                iext = (double)ke;
            } else {
                const double ym = c[ke - 1], yl = c[ke - 2], yr = c[ke];
                iext = (double)ke + 0.5 * (yr - yl) / (2.0 * ym - yl - yr);
            }
        }
    }
    return s->x1 + ((double)(imin - 1) + iext - 1.0) * s->dx;
}

static long round_index(double v)
{
    return (long)floor(v + 0.5);
}

/* Sound_findMaximumCorrelation: best match of the period starting around
 * t1c with a shifted copy whose start lies in [tmin2, tmax2].  Same
 * arithmetic as Praat's, organised for speed: the first window's energy is
 * computed once, the shifted window's energy is updated by one sample in and
 * one out per shift, the products use four partial sums, and the peak of the
 * shifted window (which Praat takes at the shift after the best one) is
 * computed only for that shift.  Near the ends of the sound, where Praat
 * skips the samples outside, the direct sums are used. */
static double window_peak(const snd *s, long ileft1, long iright1, long shift)
{
    float peak = 0.0f;
    for (long i1 = ileft1; i1 <= iright1; i1++) {
        const long i2 = i1 + shift;
        if (i1 < 1 || i1 > s->nx || i2 < 1 || i2 > s->nx)
            continue;
        const float a = fabsf(s->x[i2 - 1]);
        if (a > peak)
            peak = a;
    }
    return peak;
}

/* sum a[i] b[i] in double (products of floats are exact in double), four
 * partial sums for instruction-level parallelism */
static double dot_floats(const float *a, const float *b, long n)
{
    double s0 = 0.0, s1 = 0.0, s2 = 0.0, s3 = 0.0;
    long k = 0;
    for (; k + 3 < n; k += 4) {
        s0 += (double)a[k] * b[k];
        s1 += (double)a[k + 1] * b[k + 1];
        s2 += (double)a[k + 2] * b[k + 2];
        s3 += (double)a[k + 3] * b[k + 3];
    }
    for (; k < n; k++)
        s0 += (double)a[k] * b[k];
    return (s0 + s1) + (s2 + s3);
}

static double find_max_correlation(const snd *s, double t1c, double window_length, double tmin2,
                                   double tmax2, double *tout, double *peak)
{
    double max_corr = -1.0, r1 = 0.0, r2 = 0.0, r3 = 0.0, r1_best = 0.0, r3_best = 0.0, ir = 0.0;
    const double half = 0.5 * window_length;
    const long ileft1 = round_index((t1c - half - s->x1) / s->dx + 1.0);
    const long iright1 = round_index((t1c + half - s->x1) / s->dx + 1.0);
    const long ileft2min = (long)floor((tmin2 - half - s->x1) / s->dx + 1.0);
    const long ileft2max = (long)ceil((tmax2 - half - s->x1) / s->dx + 1.0);
    const long nx = s->nx, len = iright1 - ileft1 + 1;
    const float *x = s->x - 1; /* x[i] is Praat's sample i */
    long peak_shift = 0;
    int have_peak = 0;
    const int inside = ileft1 >= 1 && iright1 <= nx && ileft2min >= 1 &&
                       ileft2max + (iright1 - ileft1) <= nx && len >= 1;
    double norm1 = 0.0, norm2 = 0.0;
    if (inside) {
        for (long i = ileft1; i <= iright1; i++)
            norm1 += (double)x[i] * x[i];
        for (long i = ileft2min; i < ileft2min + len; i++)
            norm2 += (double)x[i] * x[i];
    }
    for (long ileft2 = ileft2min; ileft2 <= ileft2max; ileft2++) {
        const long shift = ileft2 - ileft1;
        double product = 0.0, n1 = norm1, n2 = norm2;
        if (inside) {
            if (ileft2 > ileft2min) { /* slide the second window by one */
                const double in = x[ileft2 + len - 1], out = x[ileft2 - 1];
                norm2 += in * in - out * out;
                n2 = norm2;
            }
            product = dot_floats(x + ileft1, x + ileft2, len);
        } else {
            n1 = n2 = 0.0;
            for (long i1 = ileft1; i1 <= iright1; i1++) {
                const long i2 = i1 + shift;
                if (i1 < 1 || i1 > nx || i2 < 1 || i2 > nx)
                    continue;
                const double amp1 = x[i1], amp2 = x[i2];
                n1 += amp1 * amp1;
                n2 += amp2 * amp2;
                product += amp1 * amp2;
            }
        }
        r1 = r2;
        r2 = r3;
        r3 = product != 0.0 ? product / sqrt(n1 * n2) : 0.0;
        if (r2 > max_corr && r2 >= r1 && r2 >= r3) {
            r1_best = r1;
            max_corr = r2;
            r3_best = r3;
            ir = (double)(ileft2 - 1);
            peak_shift = shift; /* Praat takes the peak of the current shift */
            have_peak = 1;
        }
    }
    *peak = have_peak ? window_peak(s, ileft1, iright1, peak_shift) : 0.0;
    if (max_corr > -1.0) {
        const double d2r = 2.0 * max_corr - r1_best - r3_best;
        if (d2r != 0.0) {
            const double dr = 0.5 * (r3_best - r1_best);
            max_corr += 0.5 * dr * dr / d2r;
            ir += dr / d2r;
        }
        *tout = t1c + (ir - (double)ileft1) * s->dx;
    }
    return max_corr;
}

typedef struct points {
    double *t;
    size_t n, cap;
} points;

static int add_point(points *p, double t)
{
    if (p->n == p->cap) {
        const size_t ncap = p->cap ? 2 * p->cap : 1024;
        double *nt = realloc(p->t, ncap * sizeof *nt);
        if (!nt)
            return VX_ENOMEM;
        p->t = nt;
        p->cap = ncap;
    }
    p->t[p->n++] = t;
    return VX_OK;
}

int vx__praat_pulses_cc(const float *x, size_t n, double fs, const vx__praat_pitch *p,
                        double **times, size_t *n_times)
{
    *times = NULL;
    *n_times = 0;
    if (n == 0 || p->n_frames == 0)
        return VX_OK;
    const snd s = {x, (long)n, 1.0 / fs, 0.5 / fs, (double)n / fs};
    points pts = {NULL, 0, 0};
    double global_peak = 0.0; /* Vector_getAbsoluteExtremum, no interpolation */
    for (size_t i = 0; i < n; i++)
        if (fabsf(x[i]) > global_peak)
            global_peak = fabsf(x[i]);
    double t = 0.0, added_right = -1e308;
    int rc = VX_OK;
    for (;;) {
        double tleft, tright;
        if (!voiced_interval_after(p, s.xmax, t, &tleft, &tright))
            break;
        const double tmiddle = 0.5 * (tleft + tright);
        const double f0middle = pitch_at(p, s.xmax, tmiddle);
        if (!(f0middle == f0middle))
            break; /* Praat treats this as impossible */
        double tmax = find_extremum(&s, tmiddle - 0.5 / f0middle, tmiddle + 0.5 / f0middle);
        if ((rc = add_point(&pts, tmax)) != VX_OK)
            goto fail;
        const double tsave = tmax;
        for (;;) { /* to the left */
            const double f0 = pitch_at(p, s.xmax, tmax);
            if (!(f0 == f0))
                break;
            double peak;
            const double corr = find_max_correlation(&s, tmax, 1.0 / f0, tmax - 1.25 / f0,
                                                     tmax - 0.8 / f0, &tmax, &peak);
            if (corr == -1.0)
                tmax -= 1.0 / f0;
            if (tmax < tleft) {
                if (corr > 0.7 && peak > 0.023333 * global_peak && tmax - added_right > 0.8 / f0)
                    if ((rc = add_point(&pts, tmax)) != VX_OK)
                        goto fail;
                break;
            }
            if (corr > 0.3 && (peak == 0.0 || peak > 0.01 * global_peak) &&
                tmax - added_right > 0.8 / f0)
                if ((rc = add_point(&pts, tmax)) != VX_OK)
                    goto fail;
        }
        tmax = tsave;
        for (;;) { /* to the right */
            const double f0 = pitch_at(p, s.xmax, tmax);
            if (!(f0 == f0))
                break;
            double peak;
            const double corr = find_max_correlation(&s, tmax, 1.0 / f0, tmax + 0.8 / f0,
                                                     tmax + 1.25 / f0, &tmax, &peak);
            if (corr == -1.0)
                tmax += 1.0 / f0;
            if (tmax > tright) {
                if (corr > 0.7 && peak > 0.023333 * global_peak) {
                    if ((rc = add_point(&pts, tmax)) != VX_OK)
                        goto fail;
                    added_right = tmax;
                }
                break;
            }
            if (corr > 0.3 && (peak == 0.0 || peak > 0.01 * global_peak)) {
                if ((rc = add_point(&pts, tmax)) != VX_OK)
                    goto fail;
                added_right = tmax;
            }
        }
        t = tright;
    }
    /* PointProcess_addPoint keeps the times sorted and unique */
    if (pts.n > 1) {
        qsort(pts.t, pts.n, sizeof *pts.t, cmp_double);
        size_t k = 1;
        for (size_t i = 1; i < pts.n; i++)
            if (pts.t[i] != pts.t[k - 1])
                pts.t[k++] = pts.t[i];
        pts.n = k;
    }
    *times = pts.t;
    *n_times = pts.n;
    return VX_OK;
fail:
    free(pts.t);
    return rc;
}

/* ------------------------------------------------------------------ */
/* Jitter and shimmer                                                   */
/* ------------------------------------------------------------------ */

static int is_period(const double *t, size_t n, size_t il /* 0-based */, double pmin, double pmax,
                     double maxf)
{
    const size_t ir = il + 1;
    if (ir >= n)
        return 0;
    if (pmin == pmax)
        return 1;
    const double interval = t[ir] - t[il];
    if (interval <= 0.0 || interval < pmin || interval > pmax)
        return 0;
    if (!(maxf == maxf) || maxf < 1.0)
        return 1;
    const double prev = il == 0 ? NAN : t[il] - t[il - 1];
    const double next = ir + 1 >= n ? NAN : t[ir + 1] - t[ir];
    double pf = prev == prev && prev > 0.0 ? interval / prev : NAN;
    double nf = next == next && next > 0.0 ? interval / next : NAN;
    if (!(pf == pf) && !(nf == nf))
        return 1;
    if (pf == pf && pf > 0.0 && pf < 1.0)
        pf = 1.0 / pf;
    if (nf == nf && nf > 0.0 && nf < 1.0)
        nf = 1.0 / nf;
    if (pf == pf && pf > maxf && nf == nf && nf > maxf)
        return 0;
    return 1;
}

static double mean_period(const double *t, size_t n, double pmin, double pmax, double maxf)
{
    double sum = 0.0;
    size_t cnt = 0;
    for (size_t i = 0; i + 1 < n; i++)
        if (is_period(t, n, i, pmin, pmax, maxf)) {
            cnt++;
            sum += t[i + 1] - t[i];
        }
    return cnt ? sum / (double)cnt : NAN;
}

double vx__praat_jitter_local(const double *t, size_t n, double pmin, double pmax,
                              double max_period_factor)
{
    if (n < 3)
        return NAN;
    long periods = (long)n - 1;
    double sum = 0.0;
    for (size_t i = 1; i + 1 < n; i++) {
        const double p1 = t[i] - t[i - 1], p2 = t[i + 1] - t[i];
        const double f = p1 > p2 ? p1 / p2 : p2 / p1;
        if (pmin == pmax ||
            (p1 >= pmin && p1 <= pmax && p2 >= pmin && p2 <= pmax && f <= max_period_factor))
            sum += fabs(p1 - p2);
        else
            periods--;
    }
    if (periods < 2)
        return NAN;
    return sum / (double)(periods - 1) / mean_period(t, n, pmin, pmax, max_period_factor);
}

/* Sound_getHannWindowedRms (AmplitudeTier.cpp) */
static double hann_rms(const float *x, size_t n, double fs, double tmid, double wl, double wr)
{
    const double dx = 1.0 / fs, x1 = 0.5 * dx;
    double imin = 1.0 + ceil((tmid - wl - x1) / dx);
    double imax = 1.0 + floor((tmid + wr - x1) / dx);
    if (imin < 1.0)
        imin = 1.0;
    if (imax > (double)n)
        imax = (double)n;
    if (imax - imin + 1.0 < 3.0)
        return NAN;
    double ss = 0.0, ws = 0.0;
    for (long i = (long)imin; i <= (long)imax; i++) {
        const double t = x1 + (double)(i - 1) * dx;
        const double width = t < tmid ? wl : wr;
        const double w = 0.5 + 0.5 * cos(VX__MET_PI * (t - tmid) / width);
        const double v = (double)x[i - 1] * w;
        ss += v * v;
        ws += w * w;
    }
    return sqrt(ss / ws);
}

int vx__praat_shimmer_local(const float *x, size_t n, double fs, const double *t, size_t nt,
                            double pmin, double pmax, double max_period_factor,
                            double max_amplitude_factor, double *out)
{
    *out = NAN;
    if (nt < 3)
        return VX_OK; /* "Too few pulses": undefined */
    double *at = malloc(nt * sizeof *at), *av = malloc(nt * sizeof *av);
    if (!at || !av) {
        free(at);
        free(av);
        return VX_ENOMEM;
    }
    /* PointProcess_Sound_to_AmplitudeTier_period */
    size_t na = 0;
    for (size_t i = 1; i + 1 < nt; i++) {
        const double p1 = t[i] - t[i - 1], p2 = t[i + 1] - t[i];
        const double f = p1 > p2 ? p1 / p2 : p2 / p1;
        if (pmin == pmax ||
            (p1 >= pmin && p1 <= pmax && p2 >= pmin && p2 <= pmax && f <= max_period_factor)) {
            const double peak = hann_rms(x, n, fs, t[i], 0.2 * p1, 0.2 * p2);
            if (peak == peak && peak > 0.0) {
                at[na] = t[i];
                av[na] = peak;
                na++;
            }
        }
    }
    /* AmplitudeTier_getShimmer_local */
    double num = 0.0, den = 0.0;
    size_t cnt = 0;
    for (size_t i = 1; i < na; i++) {
        const double p = at[i] - at[i - 1];
        if (pmin == pmax || (p >= pmin && p <= pmax)) {
            const double a1 = av[i - 1], a2 = av[i];
            const double f = a1 > a2 ? a1 / a2 : a2 / a1;
            if (f <= max_amplitude_factor) {
                num += fabs(a1 - a2);
                cnt++;
            }
        }
    }
    if (cnt >= 1) {
        num /= (double)cnt;
        for (size_t i = 0; i + 1 < na; i++)
            den += av[i];
        den /= (double)(na - 1);
        if (den != 0.0)
            *out = num / den;
    }
    free(at);
    free(av);
    return VX_OK;
}

/* ------------------------------------------------------------------ */
/* Sound: To Harmonicity (cc)                                           */
/* ------------------------------------------------------------------ */

/* Of the cross-correlation peaks only those whose first (30-point sinc)
 * estimate is within this margin of the best one are refined with the
 * 700-point sinc; refinement moves a peak value by far less than this. */
#define HNR_REFINE_MARGIN 0.05
#define HNR_PREFILTER 0.2

int vx__praat_hnr_cc(const float *x, size_t n, double fs, double dt, double min_pitch,
                     double silence_threshold, double periods_per_window, double *out_db)
{
    /* Sound_to_Harmonicity_cc = Sound_to_Pitch_any (FCC_ACCURATE, 15
     * candidates raised to ceiling / minimum pitch, voicing threshold 0,
     * octave costs 0, voiced/unvoiced cost 0, ceiling = Nyquist). */
    const double dx = 1.0 / fs, x1 = 0.5 * dx, dur = dx * (double)n;
    const double ceiling = 0.5 * fs;
    *out_db = NAN;
    if (n < 4 || min_pitch < periods_per_window / dur)
        return VX_OK;
    const long nsamp_period = (long)floor(fs / min_pitch);
    const long half_period = nsamp_period / 2 + 1;
    const double dt_window = periods_per_window / min_pitch;
    long nsamp_window = (long)floor(dt_window * fs);
    const long half_window = nsamp_window / 2 - 1;
    if (half_window < 2)
        return VX_OK;
    nsamp_window = half_window * 2;
    long max_lag = (long)floor((double)nsamp_window / periods_per_window) + 2;
    if (max_lag > nsamp_window)
        max_lag = nsamp_window;
    double t1 = 0.0;
    const size_t nf = short_term_frames(n, fs, 1.0 / min_pitch + dt_window, dt, &t1);
    if (nf == 0)
        return VX_OK;
    const double global_peak = global_peak_demeaned(x, n);
    if (global_peak == 0.0)
        return VX_OK;
    const long brent_ixmax = nsamp_window; /* interpolation depth 1.0 */
    const long rsize = 2 * brent_ixmax + 1;
    const long span_max = max_lag + nsamp_window;
    const long nfft = fast_fft_size(span_max);

    double *rr = malloc((size_t)rsize * sizeof *rr);
    double *cand_s = malloc((size_t)brent_ixmax * sizeof *cand_s);
    long *cand_i = malloc((size_t)brent_ixmax * sizeof *cand_i);
    double *cand_x = malloc((size_t)brent_ixmax * sizeof *cand_x);
    float *abuf = fftwf_alloc_real((size_t)nfft), *bbuf = fftwf_alloc_real((size_t)nfft);
    fftwf_complex *aspec = fftwf_alloc_complex((size_t)nfft / 2 + 1);
    fftwf_complex *bspec = fftwf_alloc_complex((size_t)nfft / 2 + 1);
    fftwf_plan fwd = NULL, bwd = NULL;
    int rc = VX_ENOMEM;
    if (!rr || !cand_s || !cand_i || !cand_x || !abuf || !bbuf || !aspec || !bspec)
        goto done;
    vx__fftw_lock();
    fwd = fftwf_plan_dft_r2c_1d((int)nfft, abuf, aspec, FFTW_ESTIMATE);
    bwd = fftwf_plan_dft_c2r_1d((int)nfft, bspec, bbuf, FFTW_ESTIMATE);
    vx__fftw_unlock();
    if (!fwd || !bwd)
        goto done;

    double sum_db = 0.0;
    size_t n_sounding = 0;
    for (size_t f = 0; f < nf; f++) {
        const double t = t1 + (double)f * dt;
        const long left_sample = (long)floor((t - x1) / dx + 1.0);
        const long right_sample = left_sample + 1;
        long s0 = right_sample - nsamp_period, s1 = left_sample + nsamp_period;
        if (s0 < 1)
            s0 = 1;
        if (s1 > (long)n)
            s1 = (long)n;
        const double local_mean = sum_floats(x + (s0 - 1), s1 - s0 + 1) / (double)(2 * nsamp_period);
        /* local peak of the (unwindowed) frame around t */
        const long start = right_sample - half_window;
        long p0 = half_window + 1 - half_period, p1 = half_window + half_period;
        if (p0 < 1)
            p0 = 1;
        if (p1 > nsamp_window)
            p1 = nsamp_window;
        double local_peak = 0.0;
        for (long j = p0; j <= p1; j++) {
            const long i = start + j - 1;
            if (i < 1 || i > (long)n)
                continue;
            const double v = fabs((double)x[i - 1] - local_mean);
            if (v > local_peak)
                local_peak = v;
        }
        if (local_peak == 0.0)
            continue;
        const double intensity = local_peak > global_peak ? 1.0 : local_peak / global_peak;
        /* unvoiced strength with voicing threshold 0 */
        double unvoiced = 2.0 - intensity / silence_threshold;
        if (unvoiced < 0.0)
            unvoiced = 0.0;
        if (unvoiced >= 1.0)
            continue; /* no correlation exceeds 1: unvoiced (-200 dB) */

        /* forward cross-correlation of one window with its lagged copies */
        const double start_time = t - 0.5 * (1.0 / min_pitch + dt_window);
        long start2 = (long)floor((start_time - x1) / dx + 1.0);
        if (start2 < 1)
            start2 = 1;
        long span = max_lag + nsamp_window;
        if (span > (long)n + 1 - start2)
            span = (long)n + 1 - start2;
        const long local_max_lag = span - nsamp_window;
        if (local_max_lag < 3)
            continue;
        const float *amp = x + (start2 - 1); /* amp[k-1] is Praat's amp[k] */
        double sumx2 = 0.0;
        for (long j = 0; j < span; j++) {
            const double v = (double)amp[j] - local_mean;
            bbuf[j] = (float)v;
            if (j < nsamp_window) {
                abuf[j] = (float)v;
                sumx2 += v * v;
            }
        }
        for (long j = nsamp_window; j < nfft; j++)
            abuf[j] = 0.0f;
        for (long j = span; j < nfft; j++)
            bbuf[j] = 0.0f;
        fftwf_execute_dft_r2c(fwd, abuf, aspec);
        fftwf_execute_dft_r2c(fwd, bbuf, bspec);
        for (long k = 0; k <= nfft / 2; k++) {
            const float ar = aspec[k][0], ai = aspec[k][1], br = bspec[k][0], bi = bspec[k][1];
            bspec[k][0] = ar * br + ai * bi; /* conj(A) * B */
            bspec[k][1] = ar * bi - ai * br;
        }
        fftwf_execute_dft_c2r(bwd, bspec, bbuf);
        const double scale = 1.0 / (double)nfft;
        double *r = rr + brent_ixmax;
        for (long i = local_max_lag + 1; i <= brent_ixmax; i++)
            r[i] = r[-i] = 0.0; /* only near the end of the sound */
        r[0] = 1.0;
        /* energies of the lagged windows first (a running sum), then the
         * normalisation, which has no loop-carried dependency */
        const long nl = local_max_lag < brent_ixmax ? local_max_lag : brent_ixmax;
        double sumy2 = sumx2;
        for (long i = 1; i <= nl; i++) {
            const double y0 = (double)amp[i - 1] - local_mean;
            const double yz = (double)amp[i - 1 + nsamp_window] - local_mean;
            sumy2 += yz * yz - y0 * y0;
            r[i] = sumx2 * sumy2;
        }
        for (long i = 1; i <= nl; i++) {
            const double den2 = r[i];
            r[i] = r[-i] = den2 > 0.0 ? (double)bbuf[i] * scale / sqrt(den2) : 0.0;
        }
        /* candidates: every local maximum above 0.  Only the best one
         * matters here; a maximum whose sampled value is more than
         * HNR_PREFILTER below the best sampled maximum cannot overtake it by
         * interpolation (between-sample gains at 22 kHz are a few 1e-3). */
        double best_raw = 0.0;
        for (long i = 2; i < max_lag && i < brent_ixmax; i++)
            if (r[i] > best_raw && r[i] > r[i - 1] && r[i] >= r[i + 1])
                best_raw = r[i];
        long nc = 0;
        double best_first = -1.0;
        for (long i = 2; i < max_lag && i < brent_ixmax; i++) {
            if (!(r[i] > 0.0 && r[i] > r[i - 1] && r[i] >= r[i + 1]))
                continue;
            if (r[i] < best_raw - HNR_PREFILTER)
                continue;
            const double dr = 0.5 * (r[i + 1] - r[i - 1]), d2r = 2.0 * r[i] - r[i - 1] - r[i + 1];
            const double lag = (double)i + dr / d2r;
            double s = vx__sinc_interpolate(rr, rsize, lag + (double)(brent_ixmax + 1), 30);
            if (s > 1.0)
                s = 1.0 / s;
            cand_s[nc] = s;
            cand_i[nc] = i;
            cand_x[nc] = lag;
            nc++;
            if (s > best_first)
                best_first = s;
        }
        double best = -1.0;
        for (long c = 0; c < nc; c++) {
            if (cand_s[c] < best_first - HNR_REFINE_MARGIN)
                continue;
            double xmid;
            double ymid = improve_maximum(rr, rsize, cand_i[c] + brent_ixmax + 1,
                                          cand_x[c] + (double)(brent_ixmax + 1), SINC700,
                                          HNR_SEARCH_DEPTH, HNR_BRENT, &xmid);
            xmid -= (double)(brent_ixmax + 1);
            const double freq = fs / xmid;
            if (ymid > 1.0)
                ymid = 1.0 / ymid;
            if (!(freq > 0.0 && freq < ceiling))
                continue; /* counts as unvoiced in the path finder */
            if (ymid > best)
                best = ymid;
        }
        if (!(best > unvoiced))
            continue; /* the unvoiced candidate wins: -200 dB */
        const double db = best <= 1e-15             ? -150.0
                          : best > 1.0 - 1e-15 ? 150.0
                                               : 10.0 * log10(best / (1.0 - best));
        sum_db += db;
        n_sounding++;
    }
    if (n_sounding > 0)
        *out_db = sum_db / (double)n_sounding;
    rc = VX_OK;
done:
    vx__fftw_lock();
    if (fwd)
        fftwf_destroy_plan(fwd);
    if (bwd)
        fftwf_destroy_plan(bwd);
    vx__fftw_unlock();
    free(rr);
    free(cand_s);
    free(cand_i);
    free(cand_x);
    fftwf_free(abuf);
    fftwf_free(bbuf);
    fftwf_free(aspec);
    fftwf_free(bspec);
    return rc;
}
