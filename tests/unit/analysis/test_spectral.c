/*
 * test_spectral.c -- unit tests of the per-frame spectral features
 * (src/analysis/spectral.c): STFT magnitude, spectral centroid, Slaney mel
 * filterbank, power_to_db and the orthonormal DCT-II of the MFCC.
 *
 * The test includes spectral.c itself so that it can also check the sparse
 * filterbank inside the opaque object (white-box).  The library's copy of
 * spectral.o is then never pulled from libvoxclone.a (every symbol it
 * defines is already defined here), only core/fftw_lock.o is.
 *
 * All signals are generated here; expected values are either exact
 * properties of the DFT of a Hann-windowed signal or were computed from
 * librosa 0.11's formulas by an independent float64 program (see
 * test_known_answer_1khz).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "analysis/spectral.c"

#define SR 22050

#define assert_close(a, b, tol)                                               \
    do {                                                                      \
        double a_ = (double)(a), b_ = (double)(b), t_ = (double)(tol);        \
        if (!(fabs(a_ - b_) <= t_))                                           \
            fail_msg("%s = %.9g, expected %.9g +- %.3g", #a, a_, b_, t_);     \
    } while (0)

static uint32_t rng_state;
static float rng_uniform(void) /* xorshift32, uniform in [-1, 1) */
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 17;
    rng_state ^= rng_state << 5;
    return (float)((double)rng_state / 2147483648.0 - 1.0);
}

static void make_sine(float *frame, double freq_hz, double amp)
{
    for (int n = 0; n < VX__N_FFT; n++)
        frame[n] = (float)(amp * sin(2.0 * VX__PI * freq_hz * (double)n / SR));
}

/* ---------------------------------------------------------------- */

static void test_new_invalid(void **state)
{
    (void)state;
    assert_null(vx__spectral_new(0));
    assert_null(vx__spectral_new(-22050));
    vx__spectral_free(NULL); /* no-op */
}

static void test_silence(void **state)
{
    (void)state;
    vx__spectral *s = vx__spectral_new(SR);
    assert_non_null(s);
    float frame[VX__N_FFT] = {0};
    float db[VX__N_MELS];
    double c = -1.0;
    vx__spectral_frame(s, frame, &c, db);
    /* normalize(norm=1, threshold=tiny) leaves the all-zero column alone */
    assert_true(c == 0.0);
    /* power_to_db: 10*log10(amin=1e-10) is exactly -100 in float32 */
    for (int i = 0; i < VX__N_MELS; i++)
        assert_true(db[i] == -100.0f);
    float mfcc[VX__N_DCT];
    vx__mfcc_from_mel_db(db, -180.0f, mfcc);
    assert_close(mfcc[0], -100.0 * sqrt(128.0), 1e-3);
    vx__spectral_free(s);
}

/* A sine at a bin-centred frequency k0*sr/2048 under the periodic Hann
 * window has exactly three non-zero bins, k0-1, k0, k0+1, with magnitudes
 * A*N/8, A*N/4, A*N/8: the centroid is exactly the sine's frequency. */
static void test_bin_centred_sine(void **state)
{
    (void)state;
    vx__spectral *s = vx__spectral_new(SR);
    assert_non_null(s);
    float frame[VX__N_FFT];
    float db[VX__N_MELS];
    const int bins[] = {20, 100, 371, 800};
    for (size_t b = 0; b < sizeof bins / sizeof bins[0]; b++) {
        double f0 = bins[b] * (double)SR / VX__N_FFT;
        double c = 0.0;
        make_sine(frame, f0, 0.5);
        vx__spectral_frame(s, frame, &c, db);
        assert_close(c, f0, 0.05);
        assert_close(s->mag[bins[b]], 0.5 * VX__N_FFT / 4, 1e-3);
        assert_close(s->mag[bins[b] - 1], 0.5 * VX__N_FFT / 8, 1e-3);
        assert_close(s->mag[bins[b] + 1], 0.5 * VX__N_FFT / 8, 1e-3);
        assert_true(s->mag[bins[b] + 3] < 1e-3f);
    }
    vx__spectral_free(s);
}

/* White noise: every |X_k| has the same distribution, so the centroid is
 * the mean bin frequency, sr/4; E|X_k|^2 = sum(w^2)*var = 768/3 = 256 and
 * the Slaney area normalisation (sum_k weights ~ 1/bin_width) makes every
 * wide enough band's expected power 256*2048/22050 = 23.78 (13.76 dB). */
static void test_white_noise(void **state)
{
    (void)state;
    enum { FRAMES = 32 };
    vx__spectral *s = vx__spectral_new(SR);
    assert_non_null(s);
    float frame[VX__N_FFT];
    float db[VX__N_MELS];
    double mean_pow[VX__N_MELS] = {0};
    double csum = 0.0;
    rng_state = 0x12345678u;
    for (int f = 0; f < FRAMES; f++) {
        double c = 0.0;
        for (int n = 0; n < VX__N_FFT; n++)
            frame[n] = rng_uniform();
        vx__spectral_frame(s, frame, &c, db);
        assert_close(c, SR / 4.0, 300.0); /* one frame: sd ~ 50 Hz */
        csum += c;
        for (int i = 0; i < VX__N_MELS; i++)
            mean_pow[i] += pow(10.0, db[i] / 10.0) / FRAMES;
    }
    assert_close(csum / FRAMES, SR / 4.0, 60.0);
    for (int i = 40; i < VX__N_MELS; i++)
        assert_close(10.0 * log10(mean_pow[i]), 13.76, 1.5);
    vx__spectral_free(s);
}

/* Independent transcription of librosa.filters.mel's weight (i, k). */
static float ref_mel_weight(const double *mel_f, int i, double f)
{
    double lower = -(mel_f[i] - f) / (mel_f[i + 1] - mel_f[i]);
    double upper = (mel_f[i + 2] - f) / (mel_f[i + 2] - mel_f[i + 1]);
    double w = fmax(0.0, fmin(lower, upper));
    return (float)((double)(float)w * (2.0 / (mel_f[i + 2] - mel_f[i])));
}

static void check_filterbank(int sr)
{
    vx__spectral *s = vx__spectral_new(sr);
    assert_non_null(s);
    /* reference mel points: linspace(0, hz_to_mel(sr/2), 130) -> Hz */
    const double f_sp = 200.0 / 3, logstep = log(6.4) / 27.0;
    const double nyq = sr / 2.0;
    double max_mel = nyq >= 1000.0 ? 15.0 + log(nyq / 1000.0) / logstep : nyq / f_sp;
    double mel_f[VX__N_MELS + 2];
    for (int i = 0; i < VX__N_MELS + 2; i++) {
        double m = i == VX__N_MELS + 1 ? max_mel : i * (max_mel / (VX__N_MELS + 1));
        mel_f[i] = m >= 15.0 ? 1000.0 * exp(logstep * (m - 15.0)) : f_sp * m;
    }
    int prev_peak = -1;
    for (int i = 0; i < VX__N_MELS; i++) {
        int lo = s->mel_lo[i], len = s->mel_len[i];
        const float *w = s->mel_w + s->mel_off[i];
        assert_true(len > 0);
        assert_true(lo >= 0 && lo + len <= VX__N_BINS);
        int peak = lo;
        double area = 0.0;
        for (int j = 0; j < len; j++) {
            assert_true(w[j] > 0.0f);
            if (w[j] > w[peak - lo])
                peak = lo + j;
            area += w[j];
        }
        assert_true(peak > prev_peak); /* centres increase */
        prev_peak = peak;
        /* the sparse runs hold every non-zero weight of the dense matrix */
        for (int k = 0; k < VX__N_BINS; k++) {
            float got = (k >= lo && k < lo + len) ? w[k - lo] : 0.0f;
            float want = ref_mel_weight(mel_f, i, k * (sr / (double)VX__N_FFT));
            assert_close(got, want, 1e-6 * fabs(want) + 1e-12);
        }
        /* Slaney normalisation: the triangle's area in Hz*weight is 1; the
         * sum over bins approximates it to ~1/(2h)^2 for a half-width of h
         * bins (h > 5 from filter 80 up at 16 kHz and above) */
        if (i >= 80)
            assert_close(area * sr / VX__N_FFT, 1.0, 0.01);
    }
    vx__spectral_free(s);
}

/* The mel products run four filters per vector from the packed groups:
 * the packing holds each filter's run, zero-padded at its end, and the
 * frame's mel powers are bit-identical to summing each filter's own run in
 * order (double accumulator, one rounding to float32) -- the definition. */
static void test_mel_groups_exact(void **state)
{
    (void)state;
    static const int rates[] = {16000, 22050, 44100};
    for (size_t r = 0; r < sizeof rates / sizeof rates[0]; r++) {
        vx__spectral *s = vx__spectral_new(rates[r]);
        assert_non_null(s);
        for (int i = 0; i < VX__N_MELS; i++) {
            int g = i / VX__MEL_LANES, l = i % VX__MEL_LANES;
            assert_true(s->mel_glen[g] >= s->mel_len[i]);
            for (int j = 0; j < s->mel_glen[g]; j++) {
                float want = j < s->mel_len[i] ? s->mel_w[s->mel_off[i] + j] : 0.0f;
                assert_true(s->mel_w4[(s->mel_goff[g] + j) * VX__MEL_LANES + l] == want);
            }
        }
        float frame[VX__N_FFT];
        rng_state = 0x1234567u + (uint32_t)r;
        for (int trial = 0; trial < 20; trial++) {
            double amp = trial % 4 == 0 ? 1e-6 : 0.5;
            for (int n = 0; n < VX__N_FFT; n++)
                frame[n] = (float)(amp * rng_uniform());
            if (trial % 5 == 1)
                make_sine(frame, 100.0 + 400.0 * trial, 0.3);
            double c;
            float mel_db[VX__N_MELS];
            vx__spectral_frame(s, frame, &c, mel_db);
            for (int i = 0; i < VX__N_MELS; i++) {
                double acc = 0.0;
                for (int j = 0; j < s->mel_len[i]; j++)
                    acc += (double)s->mel_w[s->mel_off[i] + j] *
                           (double)s->power[s->mel_lo[i] + j];
                float x = (float)acc;
                x = x > (float)1e-10 ? x : (float)1e-10;
                float want = 10.0f * (float)(log((double)x) * VX__LOG10_E);
                if (mel_db[i] != want)
                    fail_msg("sr %d trial %d mel %d: %.9g, expected %.9g", rates[r], trial, i,
                             (double)mel_db[i], (double)want);
            }
        }
        vx__spectral_free(s);
    }
}

static void test_mel_filterbank(void **state)
{
    (void)state;
    check_filterbank(22050);
    check_filterbank(16000);
    check_filterbank(44100);

    vx__spectral *s = vx__spectral_new(SR);
    assert_non_null(s);
    /* Filter 0 rises from 0 Hz, where its weight is exactly 0, so its first
     * non-zero bin is bin 1; librosa's docstring shows
     * mel(sr=22050, n_fft=2048)[0, :2] == [0., 0.016]. */
    assert_int_equal(s->mel_lo[0], 1);
    assert_close(s->mel_w[s->mel_off[0]], 0.016, 0.0005);
    /* The last filter ends at Nyquist: its falling ramp is 0 at bin 1024. */
    assert_int_equal(s->mel_lo[127] + s->mel_len[127], VX__N_BINS - 1);
    vx__spectral_free(s);
}

static void test_dct_constant(void **state)
{
    (void)state;
    float db[VX__N_MELS], mfcc[VX__N_DCT];
    const float v = -37.25f;
    for (int i = 0; i < VX__N_MELS; i++)
        db[i] = v;
    vx__mfcc_from_mel_db(db, -1000.0f, mfcc);
    /* orthonormal DCT-II of a constant: c0 = v*sqrt(N), the rest 0 */
    assert_close(mfcc[0], v * sqrt(128.0), 1e-4);
    for (int k = 1; k < VX__N_DCT; k++)
        assert_close(mfcc[k], 0.0, 1e-5);
}

static void test_dct_matches_definition(void **state)
{
    (void)state;
    float db[VX__N_MELS], mfcc[VX__N_DCT];
    rng_state = 0xdecafbadu;
    for (int i = 0; i < VX__N_MELS; i++)
        db[i] = 40.0f * rng_uniform() - 20.0f;
    vx__mfcc_from_mel_db(db, -1000.0f, mfcc);
    for (int k = 0; k < VX__N_DCT; k++) {
        double sum = 0.0;
        for (int m = 0; m < VX__N_MELS; m++)
            sum += db[m] * cos(VX__PI * k * (2 * m + 1) / (2.0 * VX__N_MELS));
        double scale = k == 0 ? sqrt(1.0 / VX__N_MELS) : sqrt(2.0 / VX__N_MELS);
        assert_close(mfcc[k], scale * sum, 1e-4);
    }
}

static void test_floor_clip(void **state)
{
    (void)state;
    float db[VX__N_MELS], clipped[VX__N_MELS];
    float a[VX__N_DCT], b[VX__N_DCT];
    const float floor_db = -50.0f;
    for (int i = 0; i < VX__N_MELS; i++) {
        db[i] = -120.0f + (float)i; /* -120 .. +7 dB */
        clipped[i] = db[i] < floor_db ? floor_db : db[i];
    }
    vx__mfcc_from_mel_db(db, floor_db, a);
    vx__mfcc_from_mel_db(clipped, -1000.0f, b);
    for (int k = 0; k < VX__N_DCT; k++)
        assert_true(a[k] == b[k]);
    /* all below the floor: a constant vector at the floor */
    for (int i = 0; i < VX__N_MELS; i++)
        db[i] = -100.0f;
    vx__mfcc_from_mel_db(db, -20.0f, a);
    assert_close(a[0], -20.0 * sqrt(128.0), 1e-4);
    for (int k = 1; k < VX__N_DCT; k++)
        assert_close(a[k], 0.0, 1e-5);
}

/*
 * Known answer: y[n] = float32(0.5*sin(2*pi*1000*n/22050)), n = 0..2047,
 * as one frame.  Expected values come from a separate float64 program that
 * transcribes librosa 0.11 step by step without sharing code with
 * spectral.c: scipy's periodic Hann window, an exact DFT (math.fsum),
 * complex64 rounding, |X| and |X|^2 in float32, librosa.filters.mel(22050,
 * 2048) from the Slaney formulas, power_to_db.  1 kHz (15 mel) falls between
 * the centres of filters 37 (980.16 Hz) and 38 (1006.15 Hz); 1000 Hz is
 * bin 92.88, and the Hann main lobe spreads the tone's energy (sum |X|^2 =
 * (A/2)^2 * 3N^2/8 = 98304) over bins 91..95, most of it inside filter 38
 * (support 980..1033 Hz, peak weight 2/(1033.28-980.16) = 0.0377), hence a
 * peak near 10*log10(0.0377 * 0.7 * 98304) ~ 34 dB.  The centroid is a
 * little above 1 kHz because the window's side lobes are asymmetric around
 * a non-bin-centred tone.
 */
static void test_known_answer_1khz(void **state)
{
    (void)state;
    static const float want_db[5] = {-11.528397f, 29.983403f, 34.213604f,
                                     19.452461f, -22.526879f}; /* bands 36..40 */
    vx__spectral *s = vx__spectral_new(SR);
    assert_non_null(s);
    float frame[VX__N_FFT], db[VX__N_MELS];
    double c = 0.0;
    make_sine(frame, 1000.0, 0.5);
    vx__spectral_frame(s, frame, &c, db);
    int peak = 0;
    for (int i = 1; i < VX__N_MELS; i++)
        if (db[i] > db[peak])
            peak = i;
    assert_int_equal(peak, 38);
    for (int i = 0; i < 5; i++)
        assert_close(db[36 + i], want_db[i], 1e-3);
    assert_close(db[0], -100.0, 1e-6);
    assert_close(db[127], -100.0, 1e-6);
#if defined(VX_SPECTRAL_FFT_DOUBLE) && VX_SPECTRAL_FFT_DOUBLE
    assert_close(c, 1000.230188, 1e-3);
#else
    /* float32 FFT: its noise floor (~5e-7 per bin, ~1000 bins) is weighted
     * by frequency in the centroid and moves it by ~4e-3 Hz */
    assert_close(c, 1000.230188, 1e-2);
#endif
    vx__spectral_free(s);
}

static void test_deterministic(void **state)
{
    (void)state;
    vx__spectral *s1 = vx__spectral_new(SR);
    vx__spectral *s2 = vx__spectral_new(SR);
    assert_non_null(s1);
    assert_non_null(s2);
    float frame[VX__N_FFT], other[VX__N_FFT];
    float d1[VX__N_MELS], d2[VX__N_MELS], d3[VX__N_MELS];
    double c1, c2, c3;
    rng_state = 42u;
    for (int n = 0; n < VX__N_FFT; n++) {
        frame[n] = 0.3f * rng_uniform();
        other[n] = rng_uniform();
    }
    vx__spectral_frame(s1, frame, &c1, d1);
    vx__spectral_frame(s2, other, &c2, d2); /* no state carried over */
    vx__spectral_frame(s2, frame, &c2, d2);
    vx__spectral_frame(s1, frame, &c3, d3);
    assert_true(c1 == c2 && c1 == c3);
    assert_memory_equal(d1, d2, sizeof d1);
    assert_memory_equal(d1, d3, sizeof d1);
    vx__spectral_free(s1);
    vx__spectral_free(s2);
}

/* vx__mfcc_frames (two frames side by side) gives, frame by frame, the bits
 * of vx__mfcc_from_mel_db, for odd and even frame counts. */
static void test_mfcc_frames_bitwise(void **state)
{
    (void)state;
    enum { NF = 7 };
    static float db[NF * VX__N_MELS];
    float many[NF * VX__N_DCT], one[VX__N_DCT];
    rng_state = 7u;
    for (int i = 0; i < NF * VX__N_MELS; i++)
        db[i] = 40.0f * rng_uniform() - 20.0f;
    for (size_t n = 1; n <= NF; n++) {
        const float floor_db = -25.0f + (float)n;
        vx__mfcc_frames(db, n, floor_db, many);
        for (size_t f = 0; f < n; f++) {
            vx__mfcc_from_mel_db(db + f * VX__N_MELS, floor_db, one);
            assert_memory_equal(one, many + f * VX__N_DCT, sizeof one);
        }
    }
}

/* power_to_db's vectorised log (vx__mel_db, with its libm fallback near a
 * float32 tie) against libm, bit for bit, on float32 powers spread over
 * the whole range: log-uniform 1e-12 .. 1e36, values just around 1 and amin,
 * zeros, and +inf (which must take the fallback). */
static void test_power_to_db_matches_libm(void **state)
{
    (void)state;
    pthread_once(&vx__dct_once, vx__dct_init);
    float pw[VX__N_MELS], got[VX__N_MELS];
    const float amin = (float)1e-10;
    rng_state = 99u;
    int n_fallback = 0;
    for (int frame = 0; frame < 4000; frame++) {
        for (int i = 0; i < VX__N_MELS; i++) {
            double u = 0.5 * (double)rng_uniform() + 0.5; /* [0, 1) */
            switch ((frame + i) % 8) {
            case 0:
                pw[i] = nextafterf(1.0f, (frame & 1) ? 2.0f : 0.0f);
                for (int k = 0; k < (i & 15); k++)
                    pw[i] = nextafterf(pw[i], (frame & 1) ? 2.0f : 0.0f);
                break;
            case 1:
                pw[i] = (i & 1) ? amin : nextafterf(amin, 1.0f);
                break;
            case 2:
                pw[i] = (i & 3) == 2 ? 0.0f : (float)(1e-10 * (1.0 + u));
                break;
            default:
                pw[i] = (float)pow(10.0, -12.0 + 48.0 * u);
                break;
            }
        }
        if (frame == 17)
            pw[5] = INFINITY;
        n_fallback += vx__mel_db(pw, got) != 0;
        vx__power_to_db(pw, got);
        for (int i = 0; i < VX__N_MELS; i++) {
            float x = pw[i] > amin ? pw[i] : amin;
            float want = 10.0f * (float)(log((double)x) * VX__LOG10_E);
            if (memcmp(&want, &got[i], sizeof want) != 0)
                fail_msg("frame %d bin %d: P=%a: %a, libm %a", frame, i, (double)pw[i],
                         (double)got[i], (double)want);
        }
    }
    assert_true(n_fallback >= 1); /* at least the +inf frame */

    /* Powers whose libm log10 lies within 8 steps of the double's bit
     * pattern from a float32 tie (found by a scan of the float32 range with
     * libm): the vectorised log's own rounding could fall on the other side,
     * so the guard must send each such frame to libm. */
    static const float near_tie[] = {0x1.c6cdf6p-21f, 0x1.0f399cp+7f,  0x1.fe9bb8p+28f,
                                     0x1.5a18dcp+55f, 0x1.9c5e6cp+72f, 0x1.207a4ap+76f,
                                     0x1.202d4ap+99f};
    for (size_t j = 0; j < sizeof near_tie / sizeof near_tie[0]; j++) {
        for (int i = 0; i < VX__N_MELS; i++)
            pw[i] = 1.0f + (float)i;
        pw[(int)(j * 17) % VX__N_MELS] = near_tie[j];
        assert_int_not_equal(vx__mel_db(pw, got), 0);
        vx__power_to_db(pw, got);
        for (int i = 0; i < VX__N_MELS; i++) {
            float want = 10.0f * (float)(log((double)pw[i]) * VX__LOG10_E);
            assert_memory_equal(&want, &got[i], sizeof want);
        }
    }
}

/* numpy's pairwise summation, transcribed independently of spectral.c */
static double ref_pairwise(const double *a, int n)
{
    if (n < 8) {
        double r = -0.0;
        for (int i = 0; i < n; i++)
            r += a[i];
        return r;
    }
    if (n <= 128) {
        double r[8];
        for (int j = 0; j < 8; j++)
            r[j] = a[j];
        int i = 8;
        for (; i < n - (n % 8); i += 8)
            for (int j = 0; j < 8; j++)
                r[j] += a[i + j];
        double res = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]));
        for (; i < n; i++)
            res += a[i];
        return res;
    }
    int n2 = n / 2;
    n2 -= n2 % 8;
    return ref_pairwise(a, n2) + ref_pairwise(a + n2, n - n2);
}

/* The centroid's multiply-by-1/L shortcut (with its exact fallback) against
 * numpy's literal algorithm on the same |X|: L = sum(S) pairwise in double,
 * Snorm = float32(S / L), centroid = sum(freq * Snorm) pairwise, on frames
 * of noise scaled from 1e-30 to 1e30, single impulses, and sparse frames. */
static void test_centroid_matches_numpy(void **state)
{
    (void)state;
    vx__spectral *s = vx__spectral_new(SR);
    assert_non_null(s);
    float frame[VX__N_FFT];
    static double sv[VX__N_BINS], fs[VX__N_BINS];
    rng_state = 2024u;
    for (int t = 0; t < 3000; t++) {
        const double scale = pow(10.0, -30.0 + 60.0 * (0.5 * (double)rng_uniform() + 0.5));
        for (int n = 0; n < VX__N_FFT; n++) {
            switch (t % 3) {
            case 0:
                frame[n] = (float)(scale * rng_uniform());
                break;
            case 1:
                frame[n] = n == (t * 37) % VX__N_FFT ? (float)scale : 0.0f;
                break;
            default:
                frame[n] = (n % 97 == t % 97) ? (float)(scale * rng_uniform()) : 0.0f;
                break;
            }
        }
        double c = -1.0;
        vx__spectral_frame(s, frame, &c, NULL);
        for (int k = 0; k < VX__N_BINS; k++)
            sv[k] = (double)s->mag[k];
        double len = ref_pairwise(sv, VX__N_BINS);
        if (len < (double)FLT_MIN)
            len = 1.0;
        for (int k = 0; k < VX__N_BINS; k++)
            fs[k] = s->freq[k] * (double)(float)(sv[k] / len);
        const double want = ref_pairwise(fs, VX__N_BINS);
        if (memcmp(&want, &c, sizeof c) != 0)
            fail_msg("frame %d (scale %g): centroid %.17g, numpy's algorithm %.17g", t, scale, c,
                     want);
    }
    vx__spectral_free(s);
}

/* The shortcut's guard itself, on crafted quotients: bin k holds a float32
 * m and len = m / tie for a float32 tie (a midpoint between two adjacent
 * floats), so m / len and m * (1 / len) straddle the tie about half the
 * time.  Whenever the shortcut's sum differs from the exact one, the guard
 * must have flagged the frame; the test also checks that such differences
 * really occur, so it exercises the fallback the FFT frames above rarely
 * reach. */
static void test_centroid_guard_catches_ties(void **state)
{
    (void)state;
    vx__spectral *s = vx__spectral_new(SR);
    assert_non_null(s);
    static double mag[VX__N_BINS + 8]; /* |X| is kept in double (float32 values) */
    rng_state = 5u;
    int n_differ = 0;
    for (int t = 0; t < 20000; t++) {
        memset(mag, 0, sizeof mag);
        const int k = 1 + (int)((0.5 * (double)rng_uniform() + 0.5) * (VX__N_BINS - 2));
        const float m = (float)(0.5 + (double)rng_uniform() * 0.25) * (float)(1 << (t % 20));
        /* a tie between two float32 values in [2^-e, 2^-e+1) */
        const float lo = (float)ldexp(1.0 + (double)(rng_state & 0x7fffffu) * 0x1p-23, -(t % 9));
        const double tie = 0.5 * ((double)lo + (double)nextafterf(lo, INFINITY));
        const double len = (double)m / tie;
        mag[k] = m;
        int flagged = 0, none = 0;
        const double fast = vx__cent_sum(mag, s->freq, len, VX__Q_FAST, &flagged);
        const double exact = vx__cent_sum(mag, s->freq, len, VX__Q_EXACT, &none);
        if (fast != exact) {
            n_differ++;
            if (!flagged)
                fail_msg("case %d: shortcut %.17g != exact %.17g and not flagged", t, fast,
                         exact);
        }
    }
    assert_true(n_differ > 0);

    /* The shortcut rounds r to float32 with integer operations, right only
     * for r = 0 or in the normal float32 range: a quotient below 2^-126
     * (float32 subnormal, coarser grid) must be flagged too, and then the
     * exact sum agrees with numpy's algorithm. */
    static const float tiny[] = {0x1p-149f, 0x1.8p-140f, 0x1.fffffcp-127f, 1e-40f};
    for (size_t t = 0; t < sizeof tiny / sizeof tiny[0]; t++) {
        memset(mag, 0, sizeof mag);
        mag[3] = 1.0;
        mag[100 + (int)t] = (double)tiny[t];
        const double len = mag[3] + mag[100 + (int)t];
        int flagged = 0, none = 0;
        (void)vx__cent_sum(mag, s->freq, len, VX__Q_FAST, &flagged);
        assert_true(flagged);
        const double exact = vx__cent_sum(mag, s->freq, len, VX__Q_EXACT, &none);
        const double want = s->freq[3] * (double)(float)(mag[3] / len) +
                            s->freq[100 + t] * (double)(float)(mag[100 + t] / len);
        assert_true(exact == want);
    }
    /* and just above 2^-126 (normal) the shortcut is taken and exact */
    memset(mag, 0, sizeof mag);
    mag[3] = 1.0;
    mag[200] = 0x1.000002p-126;
    {
        int flagged = 0, none = 0;
        const double fast = vx__cent_sum(mag, s->freq, 1.0 + 0x1p-60, VX__Q_FAST, &flagged);
        const double exact = vx__cent_sum(mag, s->freq, 1.0 + 0x1p-60, VX__Q_EXACT, &none);
        assert_true(flagged || fast == exact);
    }
    vx__spectral_free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_new_invalid),
        cmocka_unit_test(test_silence),
        cmocka_unit_test(test_bin_centred_sine),
        cmocka_unit_test(test_white_noise),
        cmocka_unit_test(test_mel_filterbank),
        cmocka_unit_test(test_mel_groups_exact),
        cmocka_unit_test(test_dct_constant),
        cmocka_unit_test(test_dct_matches_definition),
        cmocka_unit_test(test_floor_clip),
        cmocka_unit_test(test_known_answer_1khz),
        cmocka_unit_test(test_deterministic),
        cmocka_unit_test(test_mfcc_frames_bitwise),
        cmocka_unit_test(test_power_to_db_matches_libm),
        cmocka_unit_test(test_centroid_matches_numpy),
        cmocka_unit_test(test_centroid_guard_catches_ties),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
