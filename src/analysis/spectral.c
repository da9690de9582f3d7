/*
 * spectral.c -- librosa 0.11-exact per-frame spectral features.
 *
 * DESIGN
 * Every step copies what librosa 0.11 (with numpy/scipy) computes, in the
 * same precision, so the numbers agree within float32 rounding:
 *
 *  - Window: scipy.signal.get_window('hann', 2048, fftbins=True), built the
 *    way scipy builds it (general_cosine: 0.5 + 0.5*cos(linspace(-pi, pi,
 *    2049)[n])) in double.  librosa multiplies this float64 window by the
 *    float32 frame and runs a float64 rfft, then stores complex64.  The
 *    window is applied in double for the same reason: a float32 window and a
 *    float32 FFT add rounding noise of ~1e-7 of the frame's RMS to every bin,
 *    which is invisible on loud bins but shifts bins 60-80 dB down (still
 *    inside power_to_db's top_db window) by up to a few hundredths of a dB.
 *    VX__SPECTRAL_FFT selects the precision (see below).
 *  - |X| is taken in float32 from the complex64 value (numpy's abs of
 *    complex64 is hypotf); the power spectrum is |X|*|X| in float32 like
 *    np.abs(D)**2.
 *  - Spectral centroid (librosa.feature.spectral_centroid): S = |X| is
 *    column-normalised by util.normalize(norm=1): L = sum(S) in float64,
 *    S/L stored back into a float32 array (np.empty_like(S)), columns with
 *    L < tiny(float32) left unnormalised (so silence gives 0), then
 *    sum(freq * Snorm) in float64 with freq = np.fft.rfftfreq(2048, 1/sr).
 *    The float32 rounding of S/L is reproduced term by term.
 *  - Mel filterbank: librosa.filters.mel(htk=False, norm='slaney',
 *    dtype=float32) -- Slaney's Auditory Toolbox mel scale (linear 200/3 Hz
 *    per mel below 1 kHz, log step ln(6.4)/27 above), 130 mel points from
 *    np.linspace, triangular ramps computed in float64 and stored in the
 *    float32 weight matrix, then multiplied in place by the float64 area
 *    normalisation 2/(f[i+2]-f[i]) (numpy computes that product in float64
 *    and rounds it to float32 again; we do the same double rounding).
 *    The matrix is 128 x 1025 but each triangle covers only a few bins
 *    (about 2050 non-zeros in all, < 2% of the matrix), so each filter is
 *    stored as its first non-zero bin and a packed run of weights: the
 *    per-frame product touches ~2k weights instead of 131k.  The dot
 *    products accumulate in double and round once to float32 (librosa uses
 *    a float32 BLAS sgemm; both are within float32 rounding of the exact
 *    sum, the order of BLAS's additions cannot be reproduced anyway).
 *  - power_to_db(ref=1.0, amin=1e-10): 10*log10(max(float32(1e-10), P)) in
 *    float32; silence gives exactly -100 dB.  top_db=80 needs the maximum
 *    over the whole file, so the caller passes the floor to
 *    vx__mfcc_from_mel_db.
 *  - MFCC: scipy.fftpack.dct(type=2, norm='ortho') over the 128 clipped dB
 *    values, first 13, as a direct 13x128 matrix product in double (exact to
 *    float32 rounding; scipy's pocketfft computes it in float32).  The
 *    orthonormal scale factors are folded into one cosine table that is
 *    built once per process with pthread_once (read-only afterwards, so it
 *    is safe to share between threads).
 *
 * References: librosa 0.11 (feature/spectral.py spectral_centroid,
 * melspectrogram, mfcc; core/spectrum.py stft, power_to_db; filters.py mel;
 * core/convert.py hz_to_mel, mel_to_hz, mel_frequencies, fft_frequencies;
 * util/utils.py normalize); M. Slaney, "Auditory Toolbox", Interval Research
 * Technical Report 1998-010 (mel scale and filter area normalisation);
 * J. Makhoul, "A fast cosine transform in one and two dimensions", IEEE
 * Trans. ASSP 28(1), 1980 (DCT-II).
 */
#include "analysis/spectral.h"

#include <float.h>
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <fftw3.h>

#include "core/fftw_lock.h"

/* 1: float64 window + float64 FFT (librosa's own precision);
 * 0: float32 window + float32 FFT. */
#ifndef VX__SPECTRAL_FFT_DOUBLE
#define VX__SPECTRAL_FFT_DOUBLE 0
#endif

#define VX__PI 3.14159265358979323846
#define VX__N_DCT 13
/* Each FFT bin has a non-zero weight in at most two adjacent triangles. */
#define VX__MEL_NNZ_MAX (2 * VX__N_BINS)

#if VX__SPECTRAL_FFT_DOUBLE
typedef double vx__real;
typedef fftw_complex vx__cplx;
typedef fftw_plan vx__plan;
#define VX__FFTW(name) fftw_##name
#else
typedef float vx__real;
typedef fftwf_complex vx__cplx;
typedef fftwf_plan vx__plan;
#define VX__FFTW(name) fftwf_##name
#endif

struct vx__spectral {
    int sr_hz;
    vx__real *in;        /* VX__N_FFT, FFTW-aligned */
    vx__cplx *out;       /* VX__N_BINS, FFTW-aligned */
    vx__plan plan;
    vx__real window[VX__N_FFT];
    double freq[VX__N_BINS];     /* np.fft.rfftfreq(2048, 1/sr) */
    float mag[VX__N_BINS];       /* |X| of the last frame */
    float power[VX__N_BINS];     /* |X|^2 of the last frame */
    int mel_lo[VX__N_MELS];      /* first bin with a non-zero weight */
    int mel_len[VX__N_MELS];     /* number of bins from mel_lo (0: empty) */
    int mel_off[VX__N_MELS];     /* offset of the run in mel_w */
    float mel_w[VX__MEL_NNZ_MAX];
};

/* ---------------------------------------------------------------- */
/* Slaney mel scale, as librosa.core.convert (htk=False)            */
/* ---------------------------------------------------------------- */
static const double vx__f_sp = 200.0 / 3;
static const double vx__min_log_hz = 1000.0;

static double vx__min_log_mel(void) { return (vx__min_log_hz - 0.0) / vx__f_sp; }
static double vx__logstep(void) { return log(6.4) / 27.0; }

static double vx__hz_to_mel(double hz)
{
    double mel = (hz - 0.0) / vx__f_sp;
    if (hz >= vx__min_log_hz)
        mel = vx__min_log_mel() + log(hz / vx__min_log_hz) / vx__logstep();
    return mel;
}

static double vx__mel_to_hz(double mel)
{
    double hz = 0.0 + vx__f_sp * mel;
    double min_log_mel = vx__min_log_mel();
    if (mel >= min_log_mel)
        hz = vx__min_log_hz * exp(vx__logstep() * (mel - min_log_mel));
    return hz;
}

/* librosa.filters.mel(sr, n_fft=2048, n_mels=128, fmin=0, fmax=sr/2,
 * htk=False, norm='slaney', dtype=float32), stored sparsely. */
static int vx__build_mel(vx__spectral *s)
{
    enum { N_PTS = VX__N_MELS + 2 };
    double mel_f[N_PTS];
    double fdiff[N_PTS - 1];
    double fmax_hz = (double)s->sr_hz / 2;
    double min_mel = vx__hz_to_mel(0.0);
    double max_mel = vx__hz_to_mel(fmax_hz);
    /* np.linspace(min_mel, max_mel, 130): i*step + start, last = stop */
    double step = (max_mel - min_mel) / (double)(N_PTS - 1);
    for (int i = 0; i < N_PTS; i++) {
        double m = (double)i * step + min_mel;
        if (i == N_PTS - 1)
            m = max_mel;
        mel_f[i] = vx__mel_to_hz(m);
    }
    for (int i = 0; i < N_PTS - 1; i++)
        fdiff[i] = mel_f[i + 1] - mel_f[i];

    int nnz = 0;
    for (int i = 0; i < VX__N_MELS; i++) {
        double enorm = 2.0 / (mel_f[i + 2] - mel_f[i]);
        int lo = -1, hi = -2;
        /* first pass: find the support */
        for (int k = 0; k < VX__N_BINS; k++) {
            double lower = -(mel_f[i] - s->freq[k]) / fdiff[i];
            double upper = (mel_f[i + 2] - s->freq[k]) / fdiff[i + 1];
            double w = fmin(lower, upper);
            if (w > 0.0 && (float)w > 0.0f) {
                if (lo < 0)
                    lo = k;
                hi = k;
            }
        }
        int len = hi - lo + 1;
        if (lo < 0 || len <= 0) {
            lo = 0;
            len = 0;
        }
        if (nnz + len > VX__MEL_NNZ_MAX)
            return -1;
        s->mel_lo[i] = lo;
        s->mel_len[i] = len;
        s->mel_off[i] = nnz;
        for (int j = 0; j < len; j++) {
            int k = lo + j;
            double lower = -(mel_f[i] - s->freq[k]) / fdiff[i];
            double upper = (mel_f[i + 2] - s->freq[k]) / fdiff[i + 1];
            double w = fmax(0.0, fmin(lower, upper));
            float w32 = (float)w;                        /* weights[i] = ... */
            s->mel_w[nnz + j] = (float)((double)w32 * enorm); /* weights *= enorm */
        }
        nnz += len;
    }
    return 0;
}

/* ---------------------------------------------------------------- */
/* DCT-II orthonormal table, built once per process                 */
/* ---------------------------------------------------------------- */
static double vx__dct_tab[VX__N_MELS][VX__N_DCT];
static pthread_once_t vx__dct_once = PTHREAD_ONCE_INIT;

static void vx__dct_init(void)
{
    double s0 = sqrt(1.0 / (4.0 * VX__N_MELS)) * 2.0;
    double sk = sqrt(1.0 / (2.0 * VX__N_MELS)) * 2.0;
    for (int m = 0; m < VX__N_MELS; m++) {
        for (int k = 0; k < VX__N_DCT; k++) {
            double c = cos(VX__PI * (double)(k * (2 * m + 1)) / (2.0 * VX__N_MELS));
            vx__dct_tab[m][k] = (k == 0 ? s0 : sk) * c;
        }
    }
}

void vx__mfcc_from_mel_db(const float *mel_db, float floor_db, float *mfcc13)
{
    double acc[VX__N_DCT] = {0};
    pthread_once(&vx__dct_once, vx__dct_init);
    for (int m = 0; m < VX__N_MELS; m++) {
        float v = mel_db[m] > floor_db ? mel_db[m] : floor_db; /* np.maximum */
        double x = (double)v;
        const double *row = vx__dct_tab[m];
        for (int k = 0; k < VX__N_DCT; k++)
            acc[k] += x * row[k];
    }
    for (int k = 0; k < VX__N_DCT; k++)
        mfcc13[k] = (float)acc[k];
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
    {
        double step = (VX__PI - -VX__PI) / (double)VX__N_FFT;
        for (int n = 0; n < VX__N_FFT; n++) {
            double fac = (double)n * step + -VX__PI;
            double w = 0.0;
            w += 0.5 * 1.0;
            w += 0.5 * cos(fac);
            s->window[n] = (vx__real)w;
        }
    }
    /* np.fft.rfftfreq(n=2048, d=1.0/sr): arange(N) * (1.0/(n*d)) */
    {
        double val = 1.0 / ((double)VX__N_FFT * (1.0 / (double)sr_hz));
        for (int k = 0; k < VX__N_BINS; k++)
            s->freq[k] = (double)k * val;
    }
    if (vx__build_mel(s) != 0) {
        free(s);
        return NULL;
    }

    s->in = VX__FFTW(malloc)(sizeof(vx__real) * VX__N_FFT);
    s->out = VX__FFTW(malloc)(sizeof(vx__cplx) * VX__N_BINS);
    if (!s->in || !s->out) {
        vx__spectral_free(s);
        return NULL;
    }
    /* FFTW_ESTIMATE: deterministic plan (same rounding on every run). */
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

void vx__spectral_frame(vx__spectral *s, const float *frame,
                        double *centroid_hz, float *mel_db)
{
    vx__real *in = s->in;
    for (int n = 0; n < VX__N_FFT; n++)
        in[n] = s->window[n] * (vx__real)frame[n];
    VX__FFTW(execute_dft_r2c)(s->plan, in, s->out);

    /* complex64 storage, |X| (hypotf), |X|^2 in float32 */
    double sum_mag = 0.0;
    for (int k = 0; k < VX__N_BINS; k++) {
        double re = (double)(float)s->out[k][0];
        double im = (double)(float)s->out[k][1];
        float mag = (float)sqrt(re * re + im * im);
        s->mag[k] = mag;
        s->power[k] = mag * mag;
        sum_mag += (double)mag;
    }

    /* spectral centroid: sum(freq * float32(S / L)) */
    if (centroid_hz) {
        double len = sum_mag < (double)FLT_MIN ? 1.0 : sum_mag;
        double c = 0.0;
        for (int k = 0; k < VX__N_BINS; k++) {
            float snorm = (float)((double)s->mag[k] / len);
            c += s->freq[k] * (double)snorm;
        }
        *centroid_hz = c;
    }

    /* mel power (sparse), then power_to_db(ref=1, amin=1e-10) */
    if (mel_db) {
        const float amin = (float)1e-10;
        for (int i = 0; i < VX__N_MELS; i++) {
            const float *w = s->mel_w + s->mel_off[i];
            const float *p = s->power + s->mel_lo[i];
            int len = s->mel_len[i];
            double acc = 0.0;
            for (int j = 0; j < len; j++)
                acc += (double)w[j] * (double)p[j];
            float pw = (float)acc;
            float x = pw > amin ? pw : amin;
            mel_db[i] = 10.0f * (float)log10((double)x);
        }
    }
}
