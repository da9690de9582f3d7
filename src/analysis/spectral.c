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
 *    power spectrum is |X|*|X| in float32 like np.abs(D)**2.  This pass is
 *    bound by the double square roots (one 4-wide vsqrtpd per four bins,
 *    ~8.5 cycles each on this Zen 3; checked in the AVX2 clone's code), so
 *    L = np.sum(S) below is summed in the same pass at no extra cost.  The
 *    re^2 + im^2 pairs are split with in-lane unpacks only, which leaves the
 *    four sums in the order k, k+2, k+1, k+3, and one float shuffle of the
 *    four results restores the order: two lane-crossing vpermpd per four
 *    bins competed with the square roots and the conversions (-7% on the
 *    pass).  |X| is stored in double (its float32 values), so the centroid
 *    pass reads it without a conversion.  (A float32 square root corrected
 *    to the exact result with exact double residuals needs ~65 operations
 *    per eight bins, about what the two vsqrtpd cost: not done.)
 *  - Spectral centroid (librosa.feature.spectral_centroid): S = |X| is
 *    column-normalised by util.normalize(norm=1): L = np.sum(float64(S)),
 *    S/L is stored back into a float32 array (np.empty_like(S)), a column
 *    with L < tiny(float32) is left unnormalised (so silence gives 0), then
 *    np.sum(freq * Snorm) in float64 with freq = np.fft.rfftfreq(2048,
 *    1/sr).  Both sums use numpy's pairwise summation (8 accumulators,
 *    blocks of 128), so given the same |X| the centroid is bit-identical;
 *    for 1025 bins its recursion is one fixed tree of nine leaves, written
 *    out (vx__pw_tree).  The 1025 float64 divisions S/L (a vdivpd per four
 *    bins, ~3.5 TSC cycles each on this Zen 3, on the unit that also does
 *    the square roots) are replaced by S * (1/L) with a proof that the
 *    float32 rounding is
 *    the same: the product is within 6 steps of the bit pattern of the
 *    correctly rounded quotient, so unless a float32 tie lies within 8
 *    steps (a test on the low 28 bits of the pattern, see vx__cent_term)
 *    both round alike; a frame with a lane in that window (about 1 in
 *    15000 at random) is redone with the divisions.  The test runs on the
 *    32-bit halves of the patterns, packed eight to a vector by two
 *    vshufps (eight operations per eight bins instead of twelve).  It also
 *    flags 0 < r < 2^-126, so an unflagged r is 0 or a normal float32
 *    value's double away from a tie, and float32(r) is then formed with
 *    two integer operations (add bit 28, clear the low 29 bits) instead of
 *    the two conversions, which were the pass's bottleneck (~1 per cycle).
 *    Together with |X| read in double: about -25..30% on the pass.
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
 *    Four consecutive powers of each of the four filters are loaded as one
 *    vector each and the 4x4 block is transposed with in-lane float
 *    shuffles (four loads and eight shuffles per sixteen terms instead of
 *    sixteen scalar loads and inserts); the packed weights are kept in
 *    double as well, so a term costs one conversion (the power) instead
 *    of two: the loop is bound by the float->double conversions (~1 per
 *    cycle).  Together -20..25% on the mel products.  A group's last
 *    len % 4 rows are done one by one, so no power past a group's run is
 *    read (a zero weight times an infinite power would be NaN).  GCC 12
 *    folds the shuffles of loaded vectors back into scalar loads and
 *    merges the two transposition stages into sixteen shuffles, so empty
 *    asm statements ("+x", no instruction) keep the loaded vectors and the
 *    first stage opaque.
 *    The dot products accumulate in double and round once to float32
 *    (librosa uses a float32 sgemm whose addition order cannot be
 *    reproduced; both are within float32 rounding of the exact sum).
 *  - power_to_db(ref=1.0, amin=1e-10): 10*log10(max(float32(1e-10), P)) in
 *    float32 (log10 in double -- ln(x)/ln(10), the double rounding error
 *    is far below float32's -- rounded to float32, then 10.0f*x like numpy);
 *    silence gives exactly -100 dB.  top_db=80 needs the maximum over the
 *    whole file, so the caller passes the floor to vx__mfcc_from_mel_db.
 *    The reference value is z = float64(libm log(x)) * (1/ln 10) and only
 *    float32(z) matters.  vx__mel_db computes y = ln(x)/ln(10) in double,
 *    four at a time without libm (x = 2^k z, a 128-entry table of 1/c and
 *    log(c), an exact reduced argument r = z/c - 1, |r| < 2^-8, and a
 *    degree-7 log1p), to within a few ulps of z (libm's log is within 1
 *    ulp); when y is within 256 steps of its bit pattern of a float32 tie
 *    the frame's 128 values go to libm instead, otherwise float32(y) =
 *    float32(z).  Checked exhaustively for every float32 x in [1e-10,
 *    FLT_MAX] (1,352,931,585 values, both builds): 0 differences, 1235
 *    values sent to libm (about one frame in 6000); with a window of 4
 *    steps instead of 256 still 0 differences.  libm's log (a call per
 *    value, not vectorised) was about 14% of the per-frame time.
 *  - MFCC: scipy.fftpack.dct(type=2, norm='ortho') of the 128 clipped dB
 *    values, first 13, as a direct 13x128 product in double, rounded once
 *    (scipy's pocketfft does it in float32; we are within its rounding).
 *    The orthonormal scale factors are folded into one cosine table built
 *    once per process with pthread_once and read-only afterwards, so it is
 *    safe to share between threads.  vx__mfcc_frames runs two frames side
 *    by side (each with its own sums in the same order): one frame's four
 *    chains of 128 dependent additions were latency-bound.
 *  - The loops without libm calls (window, |X|, centroid, mel products,
 *    dB, DCT) are built for AVX2 too and picked at run time (VX__HOT); the
 *    libm fallback of power_to_db stays in default-ISA code.  Every lane
 *    does the same IEEE operations in the same order, so both builds give
 *    the same bits.  GCC 12 compiles some vector-extension forms badly or
 *    wrongly: float->double conversions are written element-wise
 *    (VX__CVT4), and a shuffle of four loaded floats became one scalar load
 *    per element (so a 4x4 transposed form of the mel gathers was slower
 *    and is not used; with the asm barriers of the mel block it is).
 *    Tried and not kept: double copies of the power spectrum and weights
 *    for the scalar-gather form of the mel products (the 4x4 block form
 *    does keep double weights), and batches of four frames with the frames
 *    as the vector lanes of the mel products (no faster: the interleaved
 *    power stores cost what the gathers saved); a vhaddpd for re^2 + im^2
 *    (2 cycles each, no better than the unpacks); the 8-wide float
 *    deinterleave of re/im before the conversion (GCC's code was 30%
 *    slower).
 *  - No allocation per frame: buffers live in the object (FFTW-aligned for
 *    the transform); the plan is one process-wide FFTW_ESTIMATE plan
 *    (core/fftw_lock.h: made once, so every run and every object uses the
 *    same algorithm and gives the same bits, and an object costs no
 *    planning) run with the new-array execute function on the object's own
 *    buffers.
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
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <fftw3.h>

#include "core/fftw_lock.h"
#include "core/simd.h"

/* Per-frame loops without libm calls are marked VX__HOT (core/simd.h); the
 * mel dB log stays in default-ISA code (vx__spectral_frame), see there. */

typedef double vx__v4d __attribute__((vector_size(32)));
typedef float vx__v4f __attribute__((vector_size(16)));
typedef long long vx__v4l __attribute__((vector_size(32)));
typedef int32_t vx__v4i __attribute__((vector_size(16)));
typedef uint32_t vx__v4u __attribute__((vector_size(16)));
typedef int32_t vx__v8i __attribute__((vector_size(32)));
typedef float vx__v8f __attribute__((vector_size(32)));

/* float32 -> float64 of four values, written element-wise: GCC 12 lowers
 * __builtin_convertvector(v4f -> v4d) in halves through the stack, while this
 * form becomes one vcvtps2pd.  (Do not write the round trip as
 * {(float)x[0], ..} into a double vector: GCC 12 drops that rounding.) */
#define VX__CVT4(p) ((vx__v4d){(double)(p)[0], (double)(p)[1], (double)(p)[2], (double)(p)[3]})

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
    double mag[VX__N_BINS];       /* |X| of the current frame (float32 values) */
    float power[VX__N_BINS + VX__POWER_PAD]; /* |X|^2 of the current frame, zero tail */
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
    double mel_w4d[VX__MEL_PACK_MAX]; /* mel_w4 in double (no conversions per frame) */
};

/* ---------------------------------------------------------------- */
/* numpy's pairwise summation (numpy/_core/src/umath/loops_utils.h) */
/* ---------------------------------------------------------------- */
/* pairwise_sum(a, n): n < 8 adds in order; n <= 128 (a leaf) keeps eight
 * accumulators r[j] = a[j], r[j] += a[i + j] for i = 8, 16, .. while
 * i < n - n % 8, returns ((r0+r1)+(r2+r3))+((r4+r5)+(r6+r7)) plus the
 * n % 8 last values in order; otherwise n2 = n / 2 rounded down to a
 * multiple of 8 and pairwise(a, n2) + pairwise(a + n2, n - n2).  For the
 * 1025 bins that recursion is always the same tree of nine leaves:
 *   [0,128) [128,256) [256,384) [384,512) [512,640) [640,768) [768,896)
 *   (128 each), [896,960) (64), [960,1025) (65: 64 and then a[1024]),
 *   sum = ((L0+L1)+(L2+L3)) + ((L4+L5) + (L6 + (L7 + (L8 + a[1024]))))
 * so it is written out: a leaf is two four-lane vectors (r0..r3, r4..r7),
 * each lane adding its own values in numpy's order. */
#define VX__PW_LEAVES 9
static const int vx__pw_leaf0[VX__PW_LEAVES] = {0, 128, 256, 384, 512, 640, 768, 896, 960};
static const int vx__pw_leafn[VX__PW_LEAVES] = {128, 128, 128, 128, 128, 128, 128, 64, 64};
_Static_assert(VX__N_BINS == 1025, "the pairwise tree is written out for 1025 bins");

static inline double vx__pw_combine(const vx__v4d *r0, const vx__v4d *r1)
{
    return (((*r0)[0] + (*r0)[1]) + ((*r0)[2] + (*r0)[3])) +
           (((*r1)[0] + (*r1)[1]) + ((*r1)[2] + (*r1)[3]));
}

static inline double vx__pw_tree(const double *l, double last)
{
    return ((l[0] + l[1]) + (l[2] + l[3])) + ((l[4] + l[5]) + (l[6] + (l[7] + (l[8] + last))));
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
            for (int j = 0; j < glen; j++) {
                const float w = j < s->mel_len[i] ? s->mel_w[s->mel_off[i] + j] : 0.0f;
                s->mel_w4[(rows + j) * VX__MEL_LANES + l] = w;
                s->mel_w4d[(rows + j) * VX__MEL_LANES + l] = (double)w;
            }
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

static void vx__log_init(void);

static void vx__dct_init(void)
{
    vx__log_init();
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

/* vx__dct13 of two frames side by side: each frame's four sums do exactly
 * what vx__dct13 does (same terms, same order), the two frames only share
 * the table reads and give the adder eight independent chains instead of
 * four. */
VX__HOT static void vx__dct13x2(const float *mel_a, const float *mel_b, float floor_db,
                                float *mfcc_a, float *mfcc_b)
{
    vx__v4d a0 = {0.0, 0.0, 0.0, 0.0}, a1 = a0, a2 = a0, a3 = a0;
    vx__v4d b0 = a0, b1 = a0, b2 = a0, b3 = a0;
    for (int m = 0; m < VX__N_MELS; m++) {
        const float ca = mel_a[m] > floor_db ? mel_a[m] : floor_db;
        const float cb = mel_b[m] > floor_db ? mel_b[m] : floor_db;
        const double xa = (double)ca, xb = (double)cb;
        const vx__v4d av = {xa, xa, xa, xa}, bv = {xb, xb, xb, xb};
        vx__v4d r0, r1, r2, r3;
        memcpy(&r0, &vx__dct_tab[m][0], sizeof r0);
        memcpy(&r1, &vx__dct_tab[m][4], sizeof r1);
        memcpy(&r2, &vx__dct_tab[m][8], sizeof r2);
        memcpy(&r3, &vx__dct_tab[m][12], sizeof r3);
        a0 += av * r0;
        a1 += av * r1;
        a2 += av * r2;
        a3 += av * r3;
        b0 += bv * r0;
        b1 += bv * r1;
        b2 += bv * r2;
        b3 += bv * r3;
    }
    double acc[2][VX__DCT_STRIDE];
    memcpy(&acc[0][0], &a0, sizeof a0);
    memcpy(&acc[0][4], &a1, sizeof a1);
    memcpy(&acc[0][8], &a2, sizeof a2);
    memcpy(&acc[0][12], &a3, sizeof a3);
    memcpy(&acc[1][0], &b0, sizeof b0);
    memcpy(&acc[1][4], &b1, sizeof b1);
    memcpy(&acc[1][8], &b2, sizeof b2);
    memcpy(&acc[1][12], &b3, sizeof b3);
    for (int k = 0; k < VX__N_DCT; k++) {
        mfcc_a[k] = (float)acc[0][k];
        mfcc_b[k] = (float)acc[1][k];
    }
}

void vx__mfcc_from_mel_db(const float *mel_db, float floor_db, float *mfcc13)
{
    pthread_once(&vx__dct_once, vx__dct_init);
    vx__dct13(mel_db, floor_db, mfcc13);
}

void vx__mfcc_frames(const float *mel_db, size_t n, float floor_db, float *mfcc13)
{
    pthread_once(&vx__dct_once, vx__dct_init);
    size_t f = 0;
    for (; f + 2 <= n; f += 2)
        vx__dct13x2(mel_db + f * VX__N_MELS, mel_db + (f + 1) * VX__N_MELS, floor_db,
                    mfcc13 + f * VX__N_DCT, mfcc13 + (f + 1) * VX__N_DCT);
    if (f < n)
        vx__dct13(mel_db + f * VX__N_MELS, floor_db, mfcc13 + f * VX__N_DCT);
}

/* ---------------------------------------------------------------- */
/* power_to_db without libm (see DESIGN)                              */
/* ---------------------------------------------------------------- */
/* x = 2^k * z with z in [OFF, 2 OFF) (OFF = 0.697..., so x near 1 has k = 0),
 * z in subinterval t of VX__LOG_N equal steps of its bit pattern; 1.0 is the
 * middle of subinterval VX__LOG_ONE, whose invc is exactly 1 (logc = 0), so
 * the result keeps its relative accuracy as x -> 1 from either side. */
#define VX__LOG_N 128
#define VX__LOG_OFF 0x3f328000u
#define VX__LOG_ONE ((0x3f800000u - VX__LOG_OFF) >> 16)
#define VX__LN2_HI 0x1.62e42fefa3800p-1 /* 43 bits: k * LN2_HI exact for |k| < 2^10 */
#define VX__LN2_LO 0x1.ef35793c76730p-45
/* Low 29 bits of a double's pattern at a float32 tie, and the half-width in
 * steps of the pattern of the window around it that sends a value to libm. */
#define VX__F32_TIE 0x10000000LL
#define VX__LOG_WIN 256
static double vx__log_invc[VX__LOG_N]; /* 1/c rounded to float32 (24 bits) */
static double vx__log_logc[VX__LOG_N]; /* -log(invc), libm, <= 1 ulp */

static void vx__log_init(void)
{
    for (int t = 0; t < VX__LOG_N; t++) {
        uint32_t mid = VX__LOG_OFF + ((uint32_t)t << 16) + 0x8000u;
        float c;
        memcpy(&c, &mid, sizeof c);
        double invc = (double)(float)(1.0 / (double)c);
        if (t == (int)VX__LOG_ONE)
            invc = 1.0;
        vx__log_invc[t] = invc;
        vx__log_logc[t] = -log(invc);
    }
}

/* mel_db[i] = 10 * float32(log(max(amin, P[i])) / ln 10) for the 128 mel
 * powers, as power_to_db does and as libm would give it, four at a time;
 * returns nonzero if some value has to go to libm (the caller then redoes
 * all 128).  The table reads are written element-wise (GCC makes scalar
 * loads and inserts). */
VX__HOT static int vx__mel_db(const float *mel_pow, float *mel_db)
{
    const float a = (float)1e-10; /* amin */
    const vx__v4f amin = {a, a, a, a};
    vx__v4l bad = {0, 0, 0, 0};
    vx__v4i bad_x = {0, 0, 0, 0};
    for (int i = 0; i < VX__N_MELS; i += 4) {
        vx__v4f x;
        memcpy(&x, mel_pow + i, sizeof x);
        const vx__v4i keep = x > amin; /* false for NaN, as the scalar form */
        const vx__v4u ix = (vx__v4u)(((vx__v4i)x & keep) | ((vx__v4i)amin & ~keep));
        /* sign bit set for +inf (x >= amin > 0 otherwise) */
        bad_x |= ~((vx__v4i)ix - 0x7f800000);
        const vx__v4u tmp = ix - VX__LOG_OFF;
        const vx__v4u t = (tmp >> 16) & (VX__LOG_N - 1);
        const vx__v4i k = (vx__v4i)tmp >> 23;
        const vx__v4f z = (vx__v4f)(ix - (tmp & 0xff800000u));
        const vx__v4d zd = VX__CVT4(z);
        const vx__v4d kd = VX__CVT4(k);
        const vx__v4d invc = {vx__log_invc[t[0]], vx__log_invc[t[1]], vx__log_invc[t[2]],
                              vx__log_invc[t[3]]};
        const vx__v4d logc = {vx__log_logc[t[0]], vx__log_logc[t[1]], vx__log_logc[t[2]],
                              vx__log_logc[t[3]]};
        /* z * invc is exact (24 x 24 bits) and so is the subtraction
         * (Sterbenz): r is exact, |r| < 2^-8 + 2^-24 */
        const vx__v4d r = zd * invc - 1.0;
        /* log1p(r) = r + r^2 P(r), P of degree 5 (truncation below 2^-59
         * relative), P in Estrin's form for a short dependency chain */
        const vx__v4d r2 = r * r;
        const vx__v4d r4 = r2 * r2;
        const vx__v4d p = r + r2 * ((-0.5 + r * (1.0 / 3)) + r2 * (-0.25 + r * 0.2) +
                                    r4 * (-1.0 / 6 + r * (1.0 / 7)));
        const vx__v4d y = ((kd * VX__LN2_HI + logc) + (kd * VX__LN2_LO + p)) * VX__LOG10_E;
        const vx__v4l b = (vx__v4l)y;
        /* sign bit set iff the low 29 bits are within VX__LOG_WIN of a tie */
        bad |= ((b - (VX__F32_TIE - VX__LOG_WIN)) & 0x1FFFFFFFLL) - (2 * VX__LOG_WIN + 1);
        const vx__v4f db = __builtin_convertvector(y, vx__v4f) * 10.0f;
        memcpy(mel_db + i, &db, sizeof db);
    }
    return ((bad[0] | bad[1] | bad[2] | bad[3]) < 0) | ((bad_x[0] | bad_x[1] | bad_x[2] | bad_x[3]) < 0);
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
#if defined(VX_SPECTRAL_FFT_DOUBLE) && VX_SPECTRAL_FFT_DOUBLE
    vx__fftw_lock();
    s->plan = VX__FFTW(plan_dft_r2c_1d)(VX__N_FFT, s->in, s->out, FFTW_ESTIMATE);
    vx__fftw_unlock();
#else
    s->plan = vx__fftwf_plan_shared_r2c(VX__N_FFT); /* process-wide, not ours */
#endif
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
#if defined(VX_SPECTRAL_FFT_DOUBLE) && VX_SPECTRAL_FFT_DOUBLE
    if (s->plan) {
        vx__fftw_lock();
        VX__FFTW(destroy_plan)(s->plan);
        vx__fftw_unlock();
    }
#endif
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
#if defined(VX_SPECTRAL_FFT_DOUBLE) && VX_SPECTRAL_FFT_DOUBLE
    for (int n = 0; n < VX__N_FFT; n++)
        in[n] = (vx__fft_real)(win[n] * (double)frame[n]);
#else
    /* four at a time, each float32 sample converted straight from memory
     * (the vectoriser loads eight and splits them) */
#pragma GCC unroll 2
    for (int n = 0; n < VX__N_FFT; n += 4) {
        vx__v4d w;
        memcpy(&w, win + n, sizeof w);
        const vx__v4f r = __builtin_convertvector(w * VX__CVT4(frame + n), vx__v4f);
        memcpy(in + n, &r, sizeof r);
    }
#endif
}


/* Eight terms freq[k+l] * float32(mag[k+l] / len) of the centroid sum, l =
 * 0..7 (as two vectors of four), the float64 quotient q = mag / len rounded
 * to float32 as numpy computes it (mode VX__Q_EXACT: the division itself).
 * VX__Q_ONE: len is 1, q = mag.  VX__Q_FAST: q is replaced by r = mag * inv
 * (inv = 1/len rounded).  |r - q| is below 3 ulps of q (two roundings of
 * relative 2^-53 against q's one), at most 6 steps of the bit pattern
 * across a power of two, so when no float32 tie lies within 8 steps of r,
 * RN_f(r) = RN_f(q) by monotonicity.  At a tie the low 29 bits of the
 * pattern are 0x10000000 for a normal float32, and 0 in the subnormal range
 * (coarser grid), so both are caught by one test on the low 28 bits; it
 * also flags a nonzero r within 8 steps of a float32 (rare at random).
 * Such a frame sets a lane of *bad negative and the caller redoes it in
 * VX__Q_EXACT.  The test runs on 32-bit lanes: the low halves of the eight
 * patterns (bits 0..31) and the high halves (nonzero iff r > 0: r >= mag /
 * len > 2^-1022 for a nonzero float32 mag) packed by two in-lane shuffles,
 * eight operations for eight bins instead of twelve on 64-bit lanes. */
enum { VX__Q_FAST, VX__Q_ONE, VX__Q_EXACT };

static inline __attribute__((always_inline)) void
vx__cent_term8(const double *mag, const double *freq, int k, double len, double inv, int mode,
               vx__v8i *bad, vx__v4d *term0, vx__v4d *term1)
{
    vx__v4d m0, m1;
    memcpy(&m0, mag + k, sizeof m0);
    memcpy(&m1, mag + k + 4, sizeof m1);
    vx__v4d r0, r1;
    if (mode == VX__Q_EXACT) {
        r0 = m0 / len;
        r1 = m1 / len;
    } else if (mode == VX__Q_ONE) {
        r0 = m0;
        r1 = m1;
    } else {
        r0 = m0 * inv;
        r1 = m1 * inv;
        /* shuffled as floats: one vshufps each (as integers GCC 12 makes
         * two vpshufd and a vpblendd) */
        const vx__v8f b0 = (vx__v8f)r0, b1 = (vx__v8f)r1;
        const vx__v8i lo = (vx__v8i)__builtin_shufflevector(b0, b1, 0, 2, 8, 10, 4, 6, 12, 14);
        const vx__v8i hi = (vx__v8i)__builtin_shufflevector(b0, b1, 1, 3, 9, 11, 5, 7, 13, 15);
        /* sign bit set iff r > 0 and its low 28 bits are within 8 of 0,
         * or 0 < r < 2^-126 (high half 1 .. 0x380fffff) */
        const vx__v8i t = hi - 1;
        *bad |= ((((lo + 8) & 0x0FFFFFFF) - 17) & -hi) | ((t - 0x380FFFFF) & ~t);
    }
    vx__v4d fd0, fd1;
    if (mode == VX__Q_FAST) {
        /* float32(r) in double without the two conversions: r is 0 or a
         * normal float32 value's double not at a tie (else the frame is
         * redone), so rounding to nearest is adding half a float32 step
         * (bit 28 of the pattern) and clearing the 29 low bits (a carry
         * into the exponent gives the next power of two, as it should) */
        fd0 = (vx__v4d)(((vx__v4l)r0 + (1LL << 28)) & ~((1LL << 29) - 1));
        fd1 = (vx__v4d)(((vx__v4l)r1 + (1LL << 28)) & ~((1LL << 29) - 1));
    } else {
        const vx__v4f f0 = __builtin_convertvector(r0, vx__v4f);
        const vx__v4f f1 = __builtin_convertvector(r1, vx__v4f);
        fd0 = VX__CVT4(f0);
        fd1 = VX__CVT4(f1);
    }
    vx__v4d fr0, fr1;
    memcpy(&fr0, freq + k, sizeof fr0);
    memcpy(&fr1, freq + k + 4, sizeof fr1);
    *term0 = fr0 * fd0;
    *term1 = fr1 * fd1;
}

/* np.sum(freq * Snorm) over the 1025 bins (the tree above); in VX__Q_FAST
 * the result is only valid if *bad is 0 afterwards (it is set nonzero when
 * some lane was flagged). */
static inline __attribute__((always_inline)) double
vx__cent_sum(const double *mag, const double *freq, double len, int mode, int *bad)
{
    const double inv = 1.0 / len;
    double leaf[VX__PW_LEAVES];
    vx__v8i b = {0, 0, 0, 0, 0, 0, 0, 0};
    for (int l = 0; l < VX__PW_LEAVES; l++) {
        const int k0 = vx__pw_leaf0[l], k1 = k0 + vx__pw_leafn[l];
        vx__v4d r0, r1, t0, t1;
        vx__cent_term8(mag, freq, k0, len, inv, mode, &b, &r0, &r1);
        for (int k = k0 + 8; k < k1; k += 8) {
            vx__cent_term8(mag, freq, k, len, inv, mode, &b, &t0, &t1);
            r0 += t0;
            r1 += t1;
        }
        leaf[l] = vx__pw_combine(&r0, &r1);
    }
    const int kl = VX__N_BINS - 1;
    const double last = freq[kl] * (double)(float)(mag[kl] / len);
    b |= __builtin_shufflevector(b, b, 4, 5, 6, 7, 0, 1, 2, 3);
    *bad = ((b[0] | b[1] | b[2] | b[3]) < 0);
    return vx__pw_tree(leaf, last);
}

/* |X| (float32, hypotf: the double sqrt of the exact double squares,
 * rounded) and |X|^2 (float32) of bins k..k+3 from the interleaved
 * complex64 output; *md = |X| in double, also stored for the centroid. */
static inline __attribute__((always_inline)) void
vx__mag4(const vx__fft_cplx *out, int k, double *mag, float *pw, vx__v4d *md)
{
#if defined(VX_SPECTRAL_FFT_DOUBLE) && VX_SPECTRAL_FFT_DOUBLE
    const vx__v4f m = {vx__bin_mag(out, k), vx__bin_mag(out, k + 1), vx__bin_mag(out, k + 2),
                       vx__bin_mag(out, k + 3)};
#else
    const float *o = &out[k][0];
    const vx__v4d lo = VX__CVT4(o), hi = VX__CVT4(o + 4);
    const vx__v4d sl = lo * lo, sh = hi * hi; /* re^2, im^2 interleaved, exact */
    /* in-lane unpacks only (a lane-crossing vpermpd costs more than the
     * float shuffle below): sq holds bins k, k+2, k+1, k+3 */
    const vx__v4d sq = __builtin_shufflevector(sl, sh, 0, 4, 2, 6) +
                       __builtin_shufflevector(sl, sh, 1, 5, 3, 7);
    const vx__v4d q = {sqrt(sq[0]), sqrt(sq[1]), sqrt(sq[2]), sqrt(sq[3])};
    const vx__v4f mq = __builtin_convertvector(q, vx__v4f);
    const vx__v4f m = __builtin_shufflevector(mq, mq, 0, 2, 1, 3);
#endif
    const vx__v4f p = m * m;
    memcpy(pw + k, &p, sizeof p);
    *md = VX__CVT4(m);
    memcpy(mag + k, md, sizeof *md);
}

/* Rows j..j+3 of a group's mel product: *acc += w[row] * power[row] for the
 * four rows in order, the powers of filter l read as one vector from p[l] + j
 * and transposed. */
static inline __attribute__((always_inline)) void
vx__mel_block(vx__v4d *acc, const double *w, const float *const *p, int j)
{
    vx__v4f p0, p1, p2, p3;
    memcpy(&p0, p[0] + j, sizeof p0);
    memcpy(&p1, p[1] + j, sizeof p1);
    memcpy(&p2, p[2] + j, sizeof p2);
    memcpy(&p3, p[3] + j, sizeof p3);
    __asm__("" : "+x"(p0), "+x"(p1), "+x"(p2), "+x"(p3));
    vx__v4f t0 = __builtin_shufflevector(p0, p1, 0, 4, 1, 5);
    vx__v4f t1 = __builtin_shufflevector(p0, p1, 2, 6, 3, 7);
    vx__v4f t2 = __builtin_shufflevector(p2, p3, 0, 4, 1, 5);
    vx__v4f t3 = __builtin_shufflevector(p2, p3, 2, 6, 3, 7);
    __asm__("" : "+x"(t0), "+x"(t1), "+x"(t2), "+x"(t3));
    const vx__v4f r0 = __builtin_shufflevector(t0, t2, 0, 1, 4, 5);
    const vx__v4f r1 = __builtin_shufflevector(t0, t2, 2, 3, 6, 7);
    const vx__v4f r2 = __builtin_shufflevector(t1, t3, 0, 1, 4, 5);
    const vx__v4f r3 = __builtin_shufflevector(t1, t3, 2, 3, 6, 7);
    vx__v4d w0, w1, w2, w3;
    memcpy(&w0, w + (size_t)j * VX__MEL_LANES, sizeof w0);
    memcpy(&w1, w + (size_t)j * VX__MEL_LANES + 4, sizeof w1);
    memcpy(&w2, w + (size_t)j * VX__MEL_LANES + 8, sizeof w2);
    memcpy(&w3, w + (size_t)j * VX__MEL_LANES + 12, sizeof w3);
    *acc += w0 * VX__CVT4(r0);
    *acc += w1 * VX__CVT4(r1);
    *acc += w2 * VX__CVT4(r2);
    *acc += w3 * VX__CVT4(r3);
}

/* Row j alone (*acc += w[row j] * power[row j]). */
static inline __attribute__((always_inline)) void
vx__mel_row(vx__v4d *acc, const double *w, const float *const *p, int j)
{
    vx__v4d wr;
    memcpy(&wr, w + (size_t)j * VX__MEL_LANES, sizeof wr);
    const vx__v4d pv = {(double)p[0][j], (double)p[1][j], (double)p[2][j], (double)p[3][j]};
    *acc += wr * pv;
}

/* Everything after the transform except the logarithms: |X|, |X|^2, the
 * centroid and the mel powers (float32, before the amin floor). */
VX__HOT static void vx__spectral_post(vx__spectral *s, double *centroid_hz, float *mel_pow)
{
    enum { NB = VX__N_BINS };
    double *restrict mag = s->mag;
    float *restrict pw = s->power;
    const vx__fft_cplx *restrict out = s->out;
    /* |X| and |X|^2 of bins 0..1023 leaf by leaf, with the leaf's part of
     * L = np.sum(S) (the loop is bound by the square roots, the sums come
     * free); bin 1024 after */
    double leaf[VX__PW_LEAVES];
    for (int l = 0; l < VX__PW_LEAVES; l++) {
        const int k0 = vx__pw_leaf0[l], k1 = k0 + vx__pw_leafn[l];
        vx__v4d r0, r1, t0, t1;
        vx__mag4(out, k0, mag, pw, &r0);
        vx__mag4(out, k0 + 4, mag, pw, &r1);
        for (int k = k0 + 8; k < k1; k += 8) {
            vx__mag4(out, k, mag, pw, &t0);
            vx__mag4(out, k + 4, mag, pw, &t1);
            r0 += t0;
            r1 += t1;
        }
        leaf[l] = vx__pw_combine(&r0, &r1);
    }
    const float m_last = vx__bin_mag(out, NB - 1);
    mag[NB - 1] = m_last;
    pw[NB - 1] = m_last * m_last;

    /* spectral centroid: np.sum(freq * float32(S / L)), L = np.sum(S) */
    if (centroid_hz) {
        double len = vx__pw_tree(leaf, mag[NB - 1]);
        if (len < (double)FLT_MIN) /* normalize(threshold=tiny): leave as is */
            len = 1.0;
        int bad = 0;
        double c;
        if (len == 1.0) { /* silence (see above) or a sum of exactly 1 */
            c = vx__cent_sum(mag, s->freq, len, VX__Q_ONE, &bad);
        } else {
            int exact = !isfinite(len);
            if (!exact) {
                c = vx__cent_sum(mag, s->freq, len, VX__Q_FAST, &bad);
                exact = bad;
            }
            if (exact)
                c = vx__cent_sum(mag, s->freq, len, VX__Q_EXACT, &bad);
        }
        *centroid_hz = c;
    }

    /* mel power: four filters at a time (one vector of four sums), two
     * groups side by side so that two addition chains are in flight; each
     * filter is summed in double in its own order (j ascending) and rounded
     * once to float32.  Four consecutive powers of each filter are loaded
     * as one vector and the 4x4 block transposed (in-lane float shuffles),
     * so row j holds power[mel_lo[4g + l] + j] for l = 0..3. */
    if (mel_pow) {
        for (int g = 0; g < VX__MEL_GROUPS; g += 2) {
            vx__v4d a = {0.0, 0.0, 0.0, 0.0}, b = a;
            const double *wa = s->mel_w4d + (size_t)s->mel_goff[g] * VX__MEL_LANES;
            const double *wb = s->mel_w4d + (size_t)s->mel_goff[g + 1] * VX__MEL_LANES;
            const int ia = g * VX__MEL_LANES, ib = ia + VX__MEL_LANES;
            const float *pa[4] = {pw + s->mel_lo[ia], pw + s->mel_lo[ia + 1],
                                  pw + s->mel_lo[ia + 2], pw + s->mel_lo[ia + 3]};
            const float *pb[4] = {pw + s->mel_lo[ib], pw + s->mel_lo[ib + 1],
                                  pw + s->mel_lo[ib + 2], pw + s->mel_lo[ib + 3]};
            const int la = s->mel_glen[g], lb = s->mel_glen[g + 1];
            /* whole blocks of four rows, then the last rows one by one (the
             * rows past a group's length are not read: a zero weight times
             * an infinite power would give NaN) */
            const int la4 = la & ~3, lb4 = lb & ~3, lc4 = la4 < lb4 ? la4 : lb4;
            int j = 0;
            for (; j < lc4; j += 4) {
                vx__mel_block(&a, wa, pa, j);
                vx__mel_block(&b, wb, pb, j);
            }
            for (; j < la4; j += 4)
                vx__mel_block(&a, wa, pa, j);
            for (; j < la; j++)
                vx__mel_row(&a, wa, pa, j);
            for (j = lc4; j < lb4; j += 4)
                vx__mel_block(&b, wb, pb, j);
            for (; j < lb; j++)
                vx__mel_row(&b, wb, pb, j);
            for (int l = 0; l < VX__MEL_LANES; l++) {
                mel_pow[ia + l] = (float)a[l];
                mel_pow[ib + l] = (float)b[l];
            }
        }
    }
}

/* power_to_db(ref=1, amin=1e-10) of one frame's mel powers: vx__mel_db,
 * or libm's log (in default-ISA code) when one of its values is near a
 * float32 tie */
static void vx__power_to_db(const float *mel_pow, float *mel_db)
{
    if (vx__mel_db(mel_pow, mel_db)) {
        const float amin = (float)1e-10;
        for (int i = 0; i < VX__N_MELS; i++) {
            float x = mel_pow[i] > amin ? mel_pow[i] : amin;
            mel_db[i] = 10.0f * (float)(log((double)x) * VX__LOG10_E);
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
    if (mel_db)
        vx__power_to_db(mel_pow, mel_db);
}
