/*
 * spectral.c -- librosa 0.11-exact per-frame spectral features.
 *
 * DESIGN
 * Every step repeats what librosa 0.11 (on numpy/scipy) computes, in the
 * same precision and where it matters in the same order, so the numbers
 * agree with librosa within float32 rounding:
 *
 *  - Window: scipy.signal.get_window('hann', 2048, fftbins=True), built the
 *    way scipy builds it (general_cosine: 0.5 + 0.5*cos(linspace(-pi, pi,
 *    2049)[n]), first 2048 points) and kept in double.  librosa multiplies
 *    this float64 window by the float32 frame, runs a float64 rfft and
 *    stores the result as complex64.  With VX_SPECTRAL_FFT_DOUBLE (double
 *    FFTW, libfftw3) we do exactly that.  Without it (the default: only
 *    fftw3f is linked) the windowed frame is rounded once to float32 and
 *    transformed by fftw3f; the float32 FFT adds rounding noise of ~1e-7 of
 *    the frame's RMS to every bin, and the magnitude-weighted centroid sums
 *    that noise floor over ~1000 bins.  Measured per frame against the
 *    librosa fixtures (70 clips, shared/fixtures/librosa): centroid max
 *    error 2.2e-3 Hz (5.9e-5 relative) with fftw3f versus 6.4e-5 Hz
 *    (5.1e-8) with the double FFT; MFCC max error 1.4e-4 vs 1.2e-4 (1-2
 *    float32 ulps of c0, librosa's own float32 DCT rounding) -- the double
 *    FFT costs about the same time per frame.
 *  - |X| is taken in float32 from the complex64 value (numpy's abs of
 *    complex64 is hypotf: the exact double hypot rounded to float); the
 *    power spectrum is |X|*|X| in float32 like np.abs(D)**2.
 *  - Spectral centroid (librosa.feature.spectral_centroid): S = |X| is
 *    column-normalised by util.normalize(norm=1): L = np.sum(float64(S)),
 *    S/L is stored back into a float32 array (np.empty_like(S)), a column
 *    with L < tiny(float32) is left unnormalised (so silence gives 0), then
 *    np.sum(freq * Snorm) in float64 with freq = np.fft.rfftfreq(2048,
 *    1/sr).  Both sums use numpy's pairwise summation (8 accumulators,
 *    blocks of 128), so given the same |X| the centroid is bit-identical.
 *  - Mel filterbank: librosa.filters.mel(htk=False, norm='slaney',
 *    dtype=float32) -- Slaney's Auditory Toolbox mel scale (200/3 Hz per mel
 *    below 1 kHz, log step ln(6.4)/27 above), 130 points from np.linspace,
 *    triangular ramps computed in float64 and stored into the float32 weight
 *    matrix, then multiplied in place by the float64 area normalisation
 *    2/(f[i+2]-f[i]) (numpy computes that product in float64 and rounds to
 *    float32 again; we round twice the same way).  The matrix is 128 x 1025
 *    but each bin lies in at most two adjacent triangles (about 2000
 *    non-zeros in all, 1.5% of the matrix), so each filter is stored as its
 *    first non-zero bin and a packed run of weights: the per-frame product
 *    touches ~2000 weights instead of 131k.  For the product the runs are
 *    also packed by groups of four filters, zero-padded to the group's
 *    longest run, so four sums advance side by side in one vector (two
 *    groups at a time); each sum keeps its own order, and the padding only
 *    adds +0 to a sum of non-negative terms, which leaves it unchanged.
 *    The dot products accumulate in double and round once to float32
 *    (librosa uses a float32 sgemm whose addition order cannot be
 *    reproduced; both are within float32 rounding of the exact sum).
 *  - power_to_db(ref=1.0, amin=1e-10): 10*log10(max(float32(1e-10), P)) in
 *    float32 (log10 in double -- ln(x)/ln(10), the double rounding error
 *    is far below float32's -- rounded to float32, then 10.0f*x like numpy);
 *    silence gives exactly -100 dB.  top_db=80 needs the maximum over the
 *    whole file, so the caller passes the floor to vx__mfcc_from_mel_db.
 *  - MFCC: scipy.fftpack.dct(type=2, norm='ortho') of the 128 clipped dB
 *    values, first 13, as a direct 13x128 product in double, rounded once
 *    (scipy's pocketfft does it in float32; we are within its rounding).
 *    The orthonormal scale factors are folded into one cosine table built
 *    once per process with pthread_once and read-only afterwards, so it is
 *    safe to share between threads.
 *  - The loops without libm calls (window, |X|, centroid, mel products,
 *    DCT) are built for AVX2 too and picked at run time (VX__HOT); the
 *    power_to_db logs stay in default-ISA code.  Every lane does the same
 *    IEEE operations in the same order, so both builds give the same bits.
 *  - No allocation per frame: buffers live in the object (FFTW-aligned for
 *    the transform); the plan is made once (FFTW_ESTIMATE, so every run and
 *    every object uses the same algorithm and gives the same bits) under
 *    the library's FFTW planner lock and run with the new-array execute
 *    function on the object's own buffers.
 *
 * References: librosa 0.11 (feature/spectral.py spectral_centroid,
 * melspectrogram, mfcc; core/spectrum.py stft, power_to_db; filters.py mel;
 * core/convert.py hz_to_mel, mel_to_hz, mel_frequencies, fft_frequencies;
 * util/utils.py normalize); numpy loops_utils.h pairwise_sum; M. Slaney,
 * "Auditory Toolbox", Interval Research Technical Report 1998-010 (mel
 * scale and filter area normalisation); J. Makhoul, "A fast cosine
 * transform in one and two dimensions", IEEE Trans. ASSP 28(1), 1980.
 */
#include "analysis/spectral.h"

#include <float.h>
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <fftw3.h>

#include "core/fftw_lock.h"
#include "core/simd.h"

/* Per-frame loops without libm calls are marked VX__HOT (core/simd.h); the
 * mel dB log stays in default-ISA code (vx__spectral_frame), see there. */

typedef double vx__v4d __attribute__((vector_size(32)));

#define VX__PI 3.14159265358979323846
#define VX__LOG10_E 0.43429448190325182765 /* 1/ln(10) */
#define VX__N_DCT 13
#define VX__DCT_STRIDE 16 /* table row padded for vectorisation */
/* Each FFT bin has a non-zero weight in at most two adjacent triangles. */
#define VX__MEL_NNZ_MAX (2 * VX__N_BINS)
/* The mel products run four filters side by side (see vx__build_mel). */
#define VX__MEL_LANES 4
#define VX__MEL_GROUPS (VX__N_MELS / VX__MEL_LANES)
#define VX__MEL_PACK_MAX (VX__MEL_LANES * VX__MEL_NNZ_MAX)
#define VX__POWER_PAD 256 /* zeros after the power spectrum for padded lanes */

/* Define VX_SPECTRAL_FFT_DOUBLE=1 (and link libfftw3) for librosa's float64
 * FFT; otherwise the float32 FFTW (libfftw3f) is used. */
#if defined(VX_SPECTRAL_FFT_DOUBLE) && VX_SPECTRAL_FFT_DOUBLE
typedef double vx__fft_real;
typedef fftw_complex vx__fft_cplx;
typedef fftw_plan vx__fft_plan;
#define VX__FFTW(name) fftw_##name
#else
typedef float vx__fft_real;
typedef fftwf_complex vx__fft_cplx;
typedef fftwf_plan vx__fft_plan;
#define VX__FFTW(name) fftwf_##name
#endif

struct vx__spectral {
    int sr_hz;
    vx__fft_real *in;             /* VX__N_FFT, FFTW-aligned */
    vx__fft_cplx *out;            /* VX__N_BINS, FFTW-aligned */
    vx__fft_plan plan;
    double window[VX__N_FFT];     /* periodic Hann, float64 as in scipy */
    double freq[VX__N_BINS];      /* np.fft.rfftfreq(2048, 1/sr) */
    float mag[VX__N_BINS];        /* |X| of the current frame */
    float power[VX__N_BINS + VX__POWER_PAD]; /* |X|^2 of the current frame, zero tail */
    double prod[VX__N_BINS];      /* freq * Snorm of the current frame */
    int mel_lo[VX__N_MELS];       /* first bin with a non-zero weight */
    int mel_len[VX__N_MELS];      /* number of weights from mel_lo (0: empty) */
    int mel_off[VX__N_MELS];      /* offset of the run in mel_w */
    float mel_w[VX__MEL_NNZ_MAX];
    /* the same weights packed by groups of four consecutive filters:
     * group g holds mel_glen[g] rows of four weights (one per filter,
     * filter 4g + l reads power[mel_lo[4g + l] + j] in row j), each
     * filter's run zero-padded at its end to the group's longest run */
    int mel_glen[VX__MEL_GROUPS];
    int mel_goff[VX__MEL_GROUPS]; /* offset in rows in mel_w4 */
    float mel_w4[VX__MEL_PACK_MAX];
};

/* ---------------------------------------------------------------- */
/* numpy's pairwise summation (numpy/_core/src/umath/loops_utils.h) */
/* ---------------------------------------------------------------- */
#define VX__PW_BLOCKSIZE 128

VX__HOT static double vx__pairwise_sum_d(const double *a, int n)
{
    if (n < 8) {
        double res = -0.0;
        for (int i = 0; i < n; i++)
            res += a[i];
        return res;
    }
    if (n <= VX__PW_BLOCKSIZE) {
        double r[8];
        int i;
        for (int j = 0; j < 8; j++)
            r[j] = a[j];
        for (i = 8; i < n - (n % 8); i += 8)
            for (int j = 0; j < 8; j++)
                r[j] += a[i + j];
        double res = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]));
        for (; i < n; i++)
            res += a[i];
        return res;
    }
    int n2 = n / 2;
    n2 -= n2 % 8;
    return vx__pairwise_sum_d(a, n2) + vx__pairwise_sum_d(a + n2, n - n2);
}

/* Same on float32 data summed in float64 (np.sum(S.astype(float))). */
VX__HOT static double vx__pairwise_sum_f(const float *a, int n)
{
    if (n < 8) {
        double res = -0.0;
        for (int i = 0; i < n; i++)
            res += (double)a[i];
        return res;
    }
    if (n <= VX__PW_BLOCKSIZE) {
        double r[8];
        int i;
        for (int j = 0; j < 8; j++)
            r[j] = (double)a[j];
        for (i = 8; i < n - (n % 8); i += 8)
            for (int j = 0; j < 8; j++)
                r[j] += (double)a[i + j];
        double res = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]));
        for (; i < n; i++)
            res += (double)a[i];
        return res;
    }
    int n2 = n / 2;
    n2 -= n2 % 8;
    return vx__pairwise_sum_f(a, n2) + vx__pairwise_sum_f(a + n2, n - n2);
}

/* ---------------------------------------------------------------- */
/* Slaney mel scale, as librosa.core.convert (htk=False)            */
/* ---------------------------------------------------------------- */
#define VX__F_SP (200.0 / 3)
#define VX__MIN_LOG_HZ 1000.0

static double vx__min_log_mel(void) { return (VX__MIN_LOG_HZ - 0.0) / VX__F_SP; }
static double vx__logstep(void) { return log(6.4) / 27.0; }

static double vx__hz_to_mel(double hz)
{
    double mel = (hz - 0.0) / VX__F_SP;
    if (hz >= VX__MIN_LOG_HZ)
        mel = vx__min_log_mel() + log(hz / VX__MIN_LOG_HZ) / vx__logstep();
    return mel;
}

static double vx__mel_to_hz(double mel)
{
    double hz = 0.0 + VX__F_SP * mel;
    double min_log_mel = vx__min_log_mel();
    if (mel >= min_log_mel)
        hz = VX__MIN_LOG_HZ * exp(vx__logstep() * (mel - min_log_mel));
    return hz;
}

/* Triangle i at FFT bin k before normalisation (float64, as in librosa):
 * max(0, min(-ramps[i]/fdiff[i], ramps[i+2]/fdiff[i+1])). */
static double vx__mel_ramp(const double *mel_f, const double *fdiff, int i,
                           double f)
{
    double lower = -(mel_f[i] - f) / fdiff[i];
    double upper = (mel_f[i + 2] - f) / fdiff[i + 1];
    double w = lower < upper ? lower : upper;
    return w > 0.0 ? w : 0.0;
}

/* librosa.filters.mel(sr, n_fft=2048, n_mels=128, fmin=0, fmax=sr/2,
 * htk=False, norm='slaney', dtype=float32), stored sparsely. */
static int vx__build_mel(vx__spectral *s)
{
    enum { N_PTS = VX__N_MELS + 2 };
    double mel_f[N_PTS];
    double fdiff[N_PTS - 1];
    double max_mel = vx__hz_to_mel((double)s->sr_hz / 2);
    double min_mel = vx__hz_to_mel(0.0);
    /* np.linspace(min_mel, max_mel, 130): i*step + start, last = stop */
    double step = (max_mel - min_mel) / (double)(N_PTS - 1);
    for (int i = 0; i < N_PTS; i++) {
        double m = (i == N_PTS - 1) ? max_mel : (double)i * step + min_mel;
        mel_f[i] = vx__mel_to_hz(m);
    }
    for (int i = 0; i < N_PTS - 1; i++)
        fdiff[i] = mel_f[i + 1] - mel_f[i];

    int nnz = 0;
    for (int i = 0; i < VX__N_MELS; i++) {
        double enorm = 2.0 / (mel_f[i + 2] - mel_f[i]);
        int lo = -1, hi = -1;
        for (int k = 0; k < VX__N_BINS; k++) {
            /* weights[i] = ... stores float32; an underflow to 0 is a zero */
            if ((float)vx__mel_ramp(mel_f, fdiff, i, s->freq[k]) > 0.0f) {
                if (lo < 0)
                    lo = k;
                hi = k;
            }
        }
        int len = lo < 0 ? 0 : hi - lo + 1;
        if (nnz + len > VX__MEL_NNZ_MAX)
            return -1;
        s->mel_lo[i] = lo < 0 ? 0 : lo;
        s->mel_len[i] = len;
        s->mel_off[i] = nnz;
        for (int j = 0; j < len; j++) {
            float w32 = (float)vx__mel_ramp(mel_f, fdiff, i, s->freq[lo + j]);
            /* weights *= enorm: float64 product rounded to float32 again */
            s->mel_w[nnz + j] = (float)((double)w32 * enorm);
        }
        nnz += len;
    }
    /* Pack by groups of four filters.  Each filter keeps its own sum in its
     * own order (weights j = 0, 1, ... of its run); the padding only appends
     * terms 0 * power = +0 to a sum of non-negative products, which leaves
     * it unchanged, so a filter's value is the same as from its own run. */
    int rows = 0;
    for (int g = 0; g < VX__MEL_GROUPS; g++) {
        int glen = 0;
        for (int l = 0; l < VX__MEL_LANES; l++) {
            int i = g * VX__MEL_LANES + l;
            glen = s->mel_len[i] > glen ? s->mel_len[i] : glen;
        }
        if ((rows + glen) * VX__MEL_LANES > VX__MEL_PACK_MAX)
            return -1;
        s->mel_glen[g] = glen;
        s->mel_goff[g] = rows;
        for (int l = 0; l < VX__MEL_LANES; l++) {
            int i = g * VX__MEL_LANES + l;
            if (s->mel_lo[i] + glen > VX__N_BINS + VX__POWER_PAD)
                return -1;
            for (int j = 0; j < glen; j++)
                s->mel_w4[(rows + j) * VX__MEL_LANES + l] =
                    j < s->mel_len[i] ? s->mel_w[s->mel_off[i] + j] : 0.0f;
        }
        rows += glen;
    }
    return 0;
}

/* ---------------------------------------------------------------- */
/* DCT-II orthonormal table, built once per process                 */
/* ---------------------------------------------------------------- */
static double vx__dct_tab[VX__N_MELS][VX__DCT_STRIDE];
static pthread_once_t vx__dct_once = PTHREAD_ONCE_INIT;

static void vx__dct_init(void)
{
    /* scipy: y[k] = 2*sum x[m] cos(pi*k*(2m+1)/(2N)), scaled by
     * sqrt(1/(4N)) for k = 0 and sqrt(1/(2N)) otherwise. */
    const double s0 = sqrt(1.0 / (4.0 * VX__N_MELS)) * 2.0;
    const double sk = sqrt(1.0 / (2.0 * VX__N_MELS)) * 2.0;
    for (int m = 0; m < VX__N_MELS; m++) {
        for (int k = 0; k < VX__DCT_STRIDE; k++) {
            double c = 0.0;
            if (k < VX__N_DCT)
                c = (k == 0 ? s0 : sk) *
                    cos(VX__PI * (double)(k * (2 * m + 1)) / (2.0 * VX__N_MELS));
            vx__dct_tab[m][k] = c;
        }
    }
}

/* The 13 DCT sums, each in order over m, four k at a time in vectors
 * (named variables, so they stay in registers). */

VX__HOT static void vx__dct13(const float *mel_db, float floor_db, float *mfcc13)
{
    vx__v4d a0 = {0.0, 0.0, 0.0, 0.0}, a1 = a0, a2 = a0, a3 = a0;
    for (int m = 0; m < VX__N_MELS; m++) {
        /* np.maximum(log_spec, log_spec.max() - top_db) */
        const float c = mel_db[m] > floor_db ? mel_db[m] : floor_db;
        const double x = (double)c;
        const vx__v4d xv = {x, x, x, x};
        vx__v4d r0, r1, r2, r3;
        memcpy(&r0, &vx__dct_tab[m][0], sizeof r0);
        memcpy(&r1, &vx__dct_tab[m][4], sizeof r1);
        memcpy(&r2, &vx__dct_tab[m][8], sizeof r2);
        memcpy(&r3, &vx__dct_tab[m][12], sizeof r3);
        a0 += xv * r0;
        a1 += xv * r1;
        a2 += xv * r2;
        a3 += xv * r3;
    }
    double acc[VX__DCT_STRIDE];
    memcpy(&acc[0], &a0, sizeof a0);
    memcpy(&acc[4], &a1, sizeof a1);
    memcpy(&acc[8], &a2, sizeof a2);
    memcpy(&acc[12], &a3, sizeof a3);
    for (int k = 0; k < VX__N_DCT; k++)
        mfcc13[k] = (float)acc[k];
}

void vx__mfcc_from_mel_db(const float *mel_db, float floor_db, float *mfcc13)
{
    pthread_once(&vx__dct_once, vx__dct_init);
    vx__dct13(mel_db, floor_db, mfcc13);
}

/* ---------------------------------------------------------------- */
/* Object                                                            */
/* ---------------------------------------------------------------- */
vx__spectral *vx__spectral_new(int sr_hz)
{
    if (sr_hz <= 0)
        return NULL;
    vx__spectral *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    s->sr_hz = sr_hz;

    /* scipy.signal.windows.general_cosine(2049, [0.5, 0.5])[:2048]:
     * fac = np.linspace(-pi, pi, 2049); w = 0.5*cos(0*fac) + 0.5*cos(fac) */
    const double wstep = (VX__PI - -VX__PI) / (double)VX__N_FFT;
    for (int n = 0; n < VX__N_FFT; n++) {
        double fac = (double)n * wstep + -VX__PI;
        double w = 0.0;
        w += 0.5 * 1.0;
        w += 0.5 * cos(fac);
        s->window[n] = w;
    }
    /* np.fft.rfftfreq(n=2048, d=1.0/sr): arange(N) * (1.0/(n*d)) */
    const double val = 1.0 / ((double)VX__N_FFT * (1.0 / (double)sr_hz));
    for (int k = 0; k < VX__N_BINS; k++)
        s->freq[k] = (double)k * val;

    if (vx__build_mel(s) != 0) {
        free(s);
        return NULL;
    }

    s->in = VX__FFTW(malloc)(sizeof(vx__fft_real) * VX__N_FFT);
    s->out = VX__FFTW(malloc)(sizeof(vx__fft_cplx) * VX__N_BINS);
    if (!s->in || !s->out) {
        vx__spectral_free(s);
        return NULL;
    }
    vx__fftw_lock();
    s->plan = VX__FFTW(plan_dft_r2c_1d)(VX__N_FFT, s->in, s->out, FFTW_ESTIMATE);
    vx__fftw_unlock();
    if (!s->plan) {
        vx__spectral_free(s);
        return NULL;
    }
    pthread_once(&vx__dct_once, vx__dct_init);
    return s;
}

void vx__spectral_free(vx__spectral *s)
{
    if (!s)
        return;
    if (s->plan) {
        vx__fftw_lock();
        VX__FFTW(destroy_plan)(s->plan);
        vx__fftw_unlock();
    }
    if (s->in)
        VX__FFTW(free)(s->in);
    if (s->out)
        VX__FFTW(free)(s->out);
    free(s);
}

/* |X| of bin k as float32 from the complex64 value (np.abs -> hypotf). */
static inline float vx__bin_mag(const vx__fft_cplx *out, int k)
{
    double re = (double)(float)out[k][0];
    double im = (double)(float)out[k][1];
    return (float)sqrt(re * re + im * im);
}

/* float64 window times float32 frame (rounded to float32 for fftw3f). */
VX__HOT static void vx__spectral_window(vx__spectral *s, const float *frame)
{
    vx__fft_real *restrict in = s->in;
    const double *restrict win = s->window;
    for (int n = 0; n < VX__N_FFT; n++)
        in[n] = (vx__fft_real)(win[n] * (double)frame[n]);
}

/* Everything after the transform except the logarithms: |X|, |X|^2, the
 * centroid and the mel powers (float32, before the amin floor). */
VX__HOT static void vx__spectral_post(vx__spectral *s, double *centroid_hz, float *mel_pow)
{
    enum { NB = VX__N_BINS, NB4 = VX__N_BINS - 1 }; /* NB4 = 1024, vector body */
    float *restrict mag = s->mag;
    float *restrict pw = s->power;
    const vx__fft_cplx *restrict out = s->out;
    for (int k = 0; k < NB4; k++)
        mag[k] = vx__bin_mag(out, k);
    mag[NB - 1] = vx__bin_mag(out, NB - 1);
    for (int k = 0; k < NB4; k++)
        pw[k] = mag[k] * mag[k];
    pw[NB - 1] = mag[NB - 1] * mag[NB - 1];

    /* spectral centroid: np.sum(freq * float32(S / L)), L = np.sum(S) */
    if (centroid_hz) {
        double len = vx__pairwise_sum_f(mag, NB);
        if (len < (double)FLT_MIN) /* normalize(threshold=tiny): leave as is */
            len = 1.0;
        const double *restrict freq = s->freq;
        double *restrict prod = s->prod;
        for (int k = 0; k < NB4; k++)
            prod[k] = freq[k] * (double)(float)((double)mag[k] / len);
        prod[NB - 1] = freq[NB - 1] * (double)(float)((double)mag[NB - 1] / len);
        *centroid_hz = vx__pairwise_sum_d(prod, NB);
    }

    /* mel power: four filters at a time (one vector of four sums), two
     * groups side by side so that two addition chains are in flight; each
     * filter is summed in double in its own order (j ascending) and rounded
     * once to float32 */
    if (mel_pow) {
        for (int g = 0; g < VX__MEL_GROUPS; g += 2) {
            vx__v4d a = {0.0, 0.0, 0.0, 0.0}, b = a;
            const float *wa = s->mel_w4 + (size_t)s->mel_goff[g] * VX__MEL_LANES;
            const float *wb = s->mel_w4 + (size_t)s->mel_goff[g + 1] * VX__MEL_LANES;
            const int ia = g * VX__MEL_LANES, ib = ia + VX__MEL_LANES;
            const float *pa0 = pw + s->mel_lo[ia], *pa1 = pw + s->mel_lo[ia + 1];
            const float *pa2 = pw + s->mel_lo[ia + 2], *pa3 = pw + s->mel_lo[ia + 3];
            const float *pb0 = pw + s->mel_lo[ib], *pb1 = pw + s->mel_lo[ib + 1];
            const float *pb2 = pw + s->mel_lo[ib + 2], *pb3 = pw + s->mel_lo[ib + 3];
            const int la = s->mel_glen[g], lb = s->mel_glen[g + 1];
            const int lc = la < lb ? la : lb;
            int j = 0;
#define MEL_TERM(acc, w, p0, p1, p2, p3)                                                   \
    do {                                                                                   \
        const vx__v4d wv_ = {(double)(w)[4 * j], (double)(w)[4 * j + 1],                   \
                             (double)(w)[4 * j + 2], (double)(w)[4 * j + 3]};               \
        const vx__v4d pv_ = {(double)(p0)[j], (double)(p1)[j], (double)(p2)[j],            \
                             (double)(p3)[j]};                                             \
        (acc) += wv_ * pv_;                                                                \
    } while (0)
            for (; j < lc; j++) {
                MEL_TERM(a, wa, pa0, pa1, pa2, pa3);
                MEL_TERM(b, wb, pb0, pb1, pb2, pb3);
            }
            for (; j < la; j++)
                MEL_TERM(a, wa, pa0, pa1, pa2, pa3);
            for (j = lc; j < lb; j++)
                MEL_TERM(b, wb, pb0, pb1, pb2, pb3);
#undef MEL_TERM
            for (int l = 0; l < VX__MEL_LANES; l++) {
                mel_pow[ia + l] = (float)a[l];
                mel_pow[ib + l] = (float)b[l];
            }
        }
    }
}

void vx__spectral_frame(vx__spectral *s, const float *frame,
                        double *centroid_hz, float *mel_db)
{
    float mel_pow[VX__N_MELS];
    vx__spectral_window(s, frame);
    VX__FFTW(execute_dft_r2c)(s->plan, s->in, s->out);
    vx__spectral_post(s, centroid_hz, mel_db ? mel_pow : NULL);

    /* power_to_db(ref=1, amin=1e-10); libm's log, in default-ISA code */
    if (mel_db) {
        const float amin = (float)1e-10;
        for (int i = 0; i < VX__N_MELS; i++) {
            float x = mel_pow[i] > amin ? mel_pow[i] : amin;
            mel_db[i] = 10.0f * (float)(log((double)x) * VX__LOG10_E);
        }
    }
}
