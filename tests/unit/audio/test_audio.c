/*
 * test_audio.c -- the audio input module on files written here, in memory,
 * with libsndfile: lengths (librosa's ceil rule), pitch preserved by the
 * resampler, stereo mixing, native-rate passthrough, bit-exact parity with
 * a replica of python-soxr's resample(), every error path and argument
 * misuse.  Formats this libsndfile cannot write are skipped, not failed.
 */
#include <dirent.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>
#include <sndfile.h>
#include <soxr.h>

#include "voxclone/voxclone.h"

#define TEST_PI 3.14159265358979323846

/* ------------------------------------------------------------------ */
/* In-memory files written with libsndfile                             */
/* ------------------------------------------------------------------ */
typedef struct memfile {
    unsigned char *buf;
    sf_count_t len, cap, pos;
} memfile;

static sf_count_t mf_len(void *u) { return ((memfile *)u)->len; }

static sf_count_t mf_seek(sf_count_t off, int whence, void *u)
{
    memfile *m = u;
    sf_count_t base = whence == SEEK_SET ? 0 : whence == SEEK_CUR ? m->pos : m->len;
    if (base + off < 0)
        return -1;
    m->pos = base + off;
    return m->pos;
}

static sf_count_t mf_read(void *p, sf_count_t n, void *u)
{
    memfile *m = u;
    if (m->pos >= m->len)
        return 0;
    if (n > m->len - m->pos)
        n = m->len - m->pos;
    memcpy(p, m->buf + m->pos, (size_t)n);
    m->pos += n;
    return n;
}

static sf_count_t mf_write(const void *p, sf_count_t n, void *u)
{
    memfile *m = u;
    if (m->pos + n > m->cap) {
        sf_count_t cap = m->cap ? m->cap : 4096;
        while (cap < m->pos + n)
            cap *= 2;
        unsigned char *nb = realloc(m->buf, (size_t)cap);
        assert_non_null(nb);
        memset(nb + m->cap, 0, (size_t)(cap - m->cap));
        m->buf = nb;
        m->cap = cap;
    }
    memcpy(m->buf + m->pos, p, (size_t)n);
    m->pos += n;
    if (m->pos > m->len)
        m->len = m->pos;
    return n;
}

static sf_count_t mf_tell(void *u) { return ((memfile *)u)->pos; }

static SF_VIRTUAL_IO mf_io = {mf_len, mf_seek, mf_read, mf_write, mf_tell};

static void mf_free(memfile *m)
{
    free(m->buf);
    memset(m, 0, sizeof *m);
}

/* Writes frames of interleaved float data; returns 0, or -1 when this
 * libsndfile cannot write the format. */
static int write_float(memfile *m, int format, int sr, int ch,
                       const float *data, sf_count_t frames)
{
    memset(m, 0, sizeof *m);
    SF_INFO info = {.samplerate = sr, .channels = ch, .format = format};
    if (!sf_format_check(&info))
        return -1;
    SNDFILE *f = sf_open_virtual(&mf_io, SFM_WRITE, &info, m);
    if (!f) {
        mf_free(m);
        return -1;
    }
    assert_int_equal(sf_writef_float(f, data, frames), frames);
    assert_int_equal(sf_close(f), 0);
    return 0;
}

static void write_short(memfile *m, int sr, int ch, const short *data,
                        sf_count_t frames)
{
    memset(m, 0, sizeof *m);
    SF_INFO info = {.samplerate = sr, .channels = ch,
                    .format = SF_FORMAT_WAV | SF_FORMAT_PCM_16};
    SNDFILE *f = sf_open_virtual(&mf_io, SFM_WRITE, &info, m);
    assert_non_null(f);
    assert_int_equal(sf_writef_short(f, data, frames), frames);
    assert_int_equal(sf_close(f), 0);
}

/* ------------------------------------------------------------------ */
/* Signals and measurements                                            */
/* ------------------------------------------------------------------ */
static float *sine(size_t n, int sr, double hz, double amp)
{
    float *x = malloc((n ? n : 1) * sizeof *x);
    assert_non_null(x);
    for (size_t i = 0; i < n; i++)
        x[i] = (float)(amp * sin(2.0 * TEST_PI * hz * (double)i / sr));
    return x;
}

/* Deterministic noise in [-amp, amp]. */
static float *noise(size_t n, uint32_t seed, double amp)
{
    float *x = malloc((n ? n : 1) * sizeof *x);
    assert_non_null(x);
    uint32_t s = seed;
    for (size_t i = 0; i < n; i++) {
        s = s * 1664525u + 1013904223u;
        x[i] = (float)(amp * ((double)(s >> 8) / (double)(1u << 24) * 2.0 - 1.0));
    }
    return x;
}

/* Frequency from rising zero crossings (linearly interpolated) over the
 * middle 80% of the signal. */
static double zc_freq(const float *x, size_t n, int sr)
{
    size_t a = n / 10, b = n - n / 10;
    double first = -1, last = -1;
    int count = 0;
    for (size_t i = a; i + 1 < b; i++) {
        if (x[i] < 0 && x[i + 1] >= 0) {
            double t = (double)i + (double)x[i] / ((double)x[i] - (double)x[i + 1]);
            if (first < 0)
                first = t;
            last = t;
            count++;
        }
    }
    if (count < 2)
        return 0;
    return (count - 1) / ((last - first) / sr);
}

/* Zeroes the total-samples field of a FLAC STREAMINFO ("unknown"). */
static void flac_forget_length(memfile *m)
{
    assert_true(m->len > 42 && memcmp(m->buf, "fLaC", 4) == 0);
    assert_int_equal(m->buf[4] & 0x7f, 0); /* STREAMINFO first */
    unsigned char *si = m->buf + 8;
    si[13] &= 0xF0;
    memset(si + 14, 0, 4);
}

static vx_decode_opts opts_default(void)
{
    vx_decode_opts o;
    vx_decode_opts_init(&o);
    return o;
}

static void assert_err(int rc, const vx_error *e, int code)
{
    if (rc != code)
        print_error("expected %s, got %s (%s)\n", vx_status_name(code),
                    vx_status_name(rc), e->message);
    assert_int_equal(rc, code);
    assert_int_equal(e->code, code);
    assert_true(strlen(e->message) > 0);
    assert_null(strchr(e->message, '\n'));
}

static vx_audio *decode_ok(const memfile *m, const vx_decode_opts *o)
{
    vx_audio *a = NULL;
    vx_error e;
    int rc = vx_audio_decode_memory(m->buf, (size_t)m->len, o, &a, &e);
    if (rc != VX_OK)
        print_error("decode failed: %s\n", e.message);
    assert_int_equal(rc, VX_OK);
    assert_int_equal(e.code, VX_OK);
    assert_non_null(a);
    return a;
}

static int decode_rc(const memfile *m, const vx_decode_opts *o, vx_error *e)
{
    vx_audio *a = (vx_audio *)(uintptr_t)1;
    int rc = vx_audio_decode_memory(m->buf, (size_t)m->len, o, &a, e);
    if (rc != VX_OK)
        assert_null(a);
    vx_audio_free(a);
    return rc;
}

/* ------------------------------------------------------------------ */
/* A replica of python-soxr's resample() + librosa fix_length           */
/* ------------------------------------------------------------------ */
/* Mirrors csoxr_divide_proc<float>: chunks of 48000*in/out input frames,
 * output buffer of ilen*out/in + 1, one flush; then librosa's fix_length
 * to ceil(n * (out/in)). */
static float *librosa_resample(const float *x, size_t ilen, double in_rate,
                               double out_rate, size_t *n_out)
{
    soxr_error_t err = NULL;
    soxr_io_spec_t io = soxr_io_spec(SOXR_FLOAT32_I, SOXR_FLOAT32_I);
    soxr_quality_spec_t q = soxr_quality_spec(SOXR_HQ, 0);
    soxr_t s = soxr_create(in_rate, out_rate, 1, &err, &io, &q, NULL);
    assert_null(err);
    size_t olen = (size_t)(ilen * out_rate / in_rate + 1);
    size_t chunk = (size_t)(48000 * in_rate / out_rate);
    float *y = calloc(olen, sizeof *y);
    assert_non_null(y);
    size_t pos = 0, odone = 0;
    for (size_t i = 0; i < ilen; i += chunk) {
        size_t k = ilen - i < chunk ? ilen - i : chunk;
        err = soxr_process(s, x + i, k, NULL, y + pos, olen - pos, &odone);
        assert_null(err);
        pos += odone;
    }
    err = soxr_process(s, NULL, 0, NULL, y + pos, olen - pos, &odone);
    assert_null(err);
    pos += odone;
    soxr_delete(s);
    double ratio = out_rate / in_rate;
    size_t want = (size_t)ceil((double)ilen * ratio);
    float *z = calloc(want ? want : 1, sizeof *z);
    assert_non_null(z);
    memcpy(z, y, (pos < want ? pos : want) * sizeof *z);
    free(y);
    *n_out = want;
    return z;
}

/* ------------------------------------------------------------------ */
/* Tests                                                               */
/* ------------------------------------------------------------------ */
static void test_opts_init(void **state)
{
    (void)state;
    vx_decode_opts o;
    memset(&o, 0xff, sizeof o);
    vx_decode_opts_init(&o);
    assert_int_equal(o.target_rate_hz, 22050);
    assert_true(o.min_duration_s == 0.5);
    assert_true(o.max_duration_s == 600.0);
    vx_decode_opts_init(NULL); /* no crash */
}

static void check_len(int sr, size_t n, size_t expect)
{
    float *x = sine(n, sr, 220.0, 0.5);
    memfile m;
    assert_int_equal(write_float(&m, SF_FORMAT_WAV | SF_FORMAT_FLOAT, sr, 1, x, (sf_count_t)n), 0);
    vx_decode_opts o = opts_default();
    o.min_duration_s = 0;
    vx_audio *a = decode_ok(&m, &o);
    assert_int_equal(a->sample_rate_hz, 22050);
    assert_int_equal(a->n_samples, expect);
    vx_audio_free(a);
    mf_free(&m);
    free(x);
}

static void test_lengths_ceil_rule(void **state)
{
    (void)state;
    check_len(16000, 16000, 22050);
    check_len(44100, 44100, 22050);
    check_len(48000, 48000, 22050);
    check_len(8000, 4001, 11028);   /* 4001 * 2.75625 = 11027.76 */
    check_len(48000, 24001, 11026); /* 24001 * 0.459375 = 11025.46 */
    check_len(44100, 1001, 501);    /* 500.5 -> 501 (soxr gives 500 or 501) */
    check_len(11025, 12345, 24690);
    check_len(22050, 12345, 12345); /* passthrough */
}

static void test_pcm16_sine_keeps_pitch(void **state)
{
    (void)state;
    const int sr = 16000;
    const size_t n = 16000;
    short *s = malloc(n * sizeof *s);
    assert_non_null(s);
    for (size_t i = 0; i < n; i++)
        s[i] = (short)lrint(12000.0 * sin(2.0 * TEST_PI * 440.0 * (double)i / sr));
    memfile m;
    write_short(&m, sr, 1, s, (sf_count_t)n);

    /* native: int PCM normalised by 1/32768 like soundfile */
    vx_decode_opts o = opts_default();
    o.target_rate_hz = 0;
    vx_audio *a = decode_ok(&m, &o);
    assert_int_equal(a->sample_rate_hz, 16000);
    assert_int_equal(a->n_samples, n);
    for (size_t i = 0; i < n; i++)
        assert_true(a->samples[i] == (float)s[i] / 32768.0f);
    vx_audio_free(a);

    o.target_rate_hz = 22050;
    a = decode_ok(&m, &o);
    assert_int_equal(a->n_samples, 22050);
    double f = zc_freq(a->samples, a->n_samples, 22050);
    assert_true(fabs(f - 440.0) < 0.5);
    /* amplitude preserved */
    float peak = 0;
    for (size_t i = 1000; i < a->n_samples - 1000; i++)
        peak = fmaxf(peak, fabsf(a->samples[i]));
    assert_true(fabsf(peak - 12000.0f / 32768.0f) < 0.01f);
    vx_audio_free(a);
    mf_free(&m);
    free(s);
}

static void test_stereo_mix(void **state)
{
    (void)state;
    const int sr = 44100;
    const size_t n = 30000;
    float *x = noise(n, 7, 0.8);
    float *st = malloc(2 * n * sizeof *st);
    assert_non_null(st);
    vx_decode_opts o = opts_default();
    o.target_rate_hz = 0;

    /* L = x, R = -x  ->  exactly 0 */
    for (size_t i = 0; i < n; i++) {
        st[2 * i] = x[i];
        st[2 * i + 1] = -x[i];
    }
    memfile m;
    assert_int_equal(write_float(&m, SF_FORMAT_WAV | SF_FORMAT_FLOAT, sr, 2, st, (sf_count_t)n), 0);
    vx_audio *a = decode_ok(&m, &o);
    assert_int_equal(a->n_samples, n);
    for (size_t i = 0; i < n; i++)
        assert_true(a->samples[i] == 0.0f);
    vx_audio_free(a);
    mf_free(&m);

    /* L = R = x  ->  x exactly; resampled equals the mono resample */
    for (size_t i = 0; i < n; i++)
        st[2 * i] = st[2 * i + 1] = x[i];
    assert_int_equal(write_float(&m, SF_FORMAT_WAV | SF_FORMAT_FLOAT, sr, 2, st, (sf_count_t)n), 0);
    a = decode_ok(&m, &o);
    assert_memory_equal(a->samples, x, n * sizeof *x);
    vx_audio_free(a);
    o.target_rate_hz = 22050;
    a = decode_ok(&m, &o);
    size_t nr = 0;
    float *ref = librosa_resample(x, n, sr, 22050, &nr);
    assert_int_equal(a->n_samples, nr);
    assert_memory_equal(a->samples, ref, nr * sizeof *ref);
    free(ref);
    vx_audio_free(a);
    mf_free(&m);

    /* 3 channels: (a + b + c) / 3 in float, in channel order */
    float *t3 = malloc(3 * n * sizeof *t3);
    float *y = noise(n, 11, 0.5), *z = noise(n, 13, 0.3);
    assert_non_null(t3);
    for (size_t i = 0; i < n; i++) {
        t3[3 * i] = x[i];
        t3[3 * i + 1] = y[i];
        t3[3 * i + 2] = z[i];
    }
    assert_int_equal(write_float(&m, SF_FORMAT_WAV | SF_FORMAT_FLOAT, sr, 3, t3, (sf_count_t)n), 0);
    o.target_rate_hz = 0;
    a = decode_ok(&m, &o);
    for (size_t i = 0; i < n; i++) {
        float s = x[i];
        s += y[i];
        s += z[i];
        assert_true(a->samples[i] == s / 3.0f);
    }
    vx_audio_free(a);
    mf_free(&m);
    free(t3);
    free(y);
    free(z);
    free(st);
    free(x);
}

static void test_passthrough_identical(void **state)
{
    (void)state;
    const size_t n = 50000;
    float *x = noise(n, 3, 0.9);
    memfile m;
    assert_int_equal(write_float(&m, SF_FORMAT_WAV | SF_FORMAT_FLOAT, 22050, 1, x, (sf_count_t)n), 0);
    vx_decode_opts o = opts_default();
    vx_audio *a = decode_ok(&m, &o);
    assert_int_equal(a->sample_rate_hz, 22050);
    assert_int_equal(a->n_samples, n);
    assert_memory_equal(a->samples, x, n * sizeof *x);
    vx_audio_free(a);
    mf_free(&m);
    free(x);
}

/* Streaming output, read in awkward sizes, equals the python-soxr replica
 * bit for bit (so soxr is chunk-independent and the length rule holds). */
static void test_parity_with_python_soxr(void **state)
{
    (void)state;
    static const int rates[] = {8000, 16000, 20000, 44100, 48000, 96000};
    static const size_t reads[] = {1, 7, 1000, 4096, 100000};
    for (size_t ri = 0; ri < sizeof rates / sizeof rates[0]; ri++) {
        const int sr = rates[ri];
        const size_t n = (size_t)sr * 3 + 17; /* > 1 python-soxr chunk */
        float *x = noise(n, (uint32_t)sr, 0.4);
        float *s = sine(n, sr, 330.0, 0.4);
        for (size_t i = 0; i < n; i++)
            x[i] += s[i];
        free(s);
        memfile m;
        assert_int_equal(write_float(&m, SF_FORMAT_WAV | SF_FORMAT_FLOAT, sr, 1, x, (sf_count_t)n), 0);
        size_t nr = 0;
        float *ref = librosa_resample(x, n, sr, 22050, &nr);

        for (size_t k = 0; k < sizeof reads / sizeof reads[0]; k++) {
            vx_decode_opts o = opts_default();
            vx_audio_reader *r = NULL;
            vx_error e;
            assert_int_equal(vx_audio_reader_open_memory(m.buf, (size_t)m.len, &o, &r, &e), VX_OK);
            assert_int_equal(vx_audio_reader_native_rate_hz(r), sr);
            assert_int_equal(vx_audio_reader_rate_hz(r), 22050);
            assert_int_equal(vx_audio_reader_channels(r), 1);
            float *got = malloc((nr + 1) * sizeof *got);
            float *chunk = malloc(reads[k] * sizeof *chunk);
            assert_non_null(got);
            assert_non_null(chunk);
            size_t total = 0, nread = 0;
            for (;;) {
                int rc = vx_audio_reader_read(r, chunk, reads[k], &nread, &e);
                assert_int_equal(rc, VX_OK);
                if (nread == 0)
                    break;
                assert_true(total + nread <= nr);
                memcpy(got + total, chunk, nread * sizeof *chunk);
                total += nread;
            }
            /* reading past the end keeps returning 0 */
            assert_int_equal(vx_audio_reader_read(r, chunk, reads[k], &nread, &e), VX_OK);
            assert_int_equal(nread, 0);
            assert_int_equal(total, nr);
            if (memcmp(got, ref, nr * sizeof *ref) != 0) {
                size_t i = 0;
                while (got[i] == ref[i])
                    i++;
                print_error("rate %d read %zu: first diff at %zu of %zu: %.9g vs %.9g\n",
                            sr, reads[k], i, nr, (double)got[i], (double)ref[i]);
                fail();
            }
            free(got);
            free(chunk);
            vx_audio_reader_free(r);
        }
        free(ref);
        mf_free(&m);
        free(x);
    }
}

/* The reader resamples straight into large caller buffers and through its
 * stage for small ones; any mix of read sizes gives the whole-file decode
 * bit for bit, for mono and multichannel input. */
static void test_stream_read_sizes(void **state)
{
    (void)state;
    static const size_t pattern[] = {20000, 5, 9000, 8191, 8192, 1, 65536, 300};
    const int sr = 48000;
    const size_t n = (size_t)sr * 2 + 5;
    for (int ch = 1; ch <= 3; ch++) {
        float *x = malloc(n * (size_t)ch * sizeof *x);
        assert_non_null(x);
        for (int c = 0; c < ch; c++) {
            float *y = noise(n, (uint32_t)(17 + c), 0.3);
            float *s = sine(n, sr, 220.0 * (c + 1), 0.3);
            for (size_t i = 0; i < n; i++)
                x[i * (size_t)ch + (size_t)c] = y[i] + s[i];
            free(y);
            free(s);
        }
        memfile m;
        assert_int_equal(write_float(&m, SF_FORMAT_WAV | SF_FORMAT_FLOAT, sr, ch, x, (sf_count_t)n), 0);
        vx_decode_opts o = opts_default();
        vx_audio *a = decode_ok(&m, &o);
        for (int mode = 0; mode < 4; mode++) {
            vx_audio_reader *r = NULL;
            vx_error e;
            assert_int_equal(vx_audio_reader_open_memory(m.buf, (size_t)m.len, &o, &r, &e), VX_OK);
            float *got = malloc((a->n_samples + 1) * sizeof *got);
            float *chunk = malloc(100000 * sizeof *chunk);
            assert_non_null(got);
            assert_non_null(chunk);
            size_t total = 0, nread = 0;
            for (size_t step = 0;; step++) {
                size_t want = mode == 0   ? 3
                              : mode == 1 ? 8192
                              : mode == 2 ? 100000
                                          : pattern[step % (sizeof pattern / sizeof pattern[0])];
                assert_int_equal(vx_audio_reader_read(r, chunk, want, &nread, &e), VX_OK);
                if (nread == 0)
                    break;
                assert_true(nread <= want);
                assert_true(total + nread <= a->n_samples);
                memcpy(got + total, chunk, nread * sizeof *chunk);
                total += nread;
            }
            assert_int_equal(total, a->n_samples);
            assert_memory_equal(got, a->samples, total * sizeof *got);
            free(got);
            free(chunk);
            vx_audio_reader_free(r);
        }
        vx_audio_free(a);
        mf_free(&m);
        free(x);
    }
}

/* FLAC, Vorbis, Opus, MP3: decode, duration and pitch preserved. */
static void check_codec(int format, int sr, const char *name, double dur_tol)
{
    const size_t n = (size_t)sr; /* 1 s */
    float *x = sine(n, sr, 440.0, 0.5);
    memfile m;
    if (write_float(&m, format, sr, 1, x, (sf_count_t)n) != 0) {
        free(x);
        print_message("libsndfile cannot write %s here: skipping\n", name);
        skip();
    }
    vx_decode_opts o = opts_default();
    vx_audio_reader *r = NULL;
    vx_error e;
    int rc = vx_audio_reader_open_memory(m.buf, (size_t)m.len, &o, &r, &e);
    if (rc != VX_OK)
        print_error("%s: %s\n", name, e.message);
    assert_int_equal(rc, VX_OK);
    int native = vx_audio_reader_native_rate_hz(r);
    vx_audio_reader_free(r);

    vx_audio *a = decode_ok(&m, &o);
    assert_int_equal(a->sample_rate_hz, 22050);
    double dur = (double)a->n_samples / 22050.0;
    print_message("%s: native %d Hz, %zu samples at 22050 (%.4f s)\n", name,
                  native, a->n_samples, dur);
    assert_true(fabs(dur - 1.0) <= dur_tol);
    double f = zc_freq(a->samples, a->n_samples, 22050);
    assert_true(fabs(f - 440.0) < 1.0);
    vx_audio_free(a);
    mf_free(&m);
    free(x);
}

static void test_flac(void **state)
{
    (void)state;
    check_codec(SF_FORMAT_FLAC | SF_FORMAT_PCM_16, 44100, "FLAC", 1e-9);
}

static void test_ogg_vorbis(void **state)
{
    (void)state;
    check_codec(SF_FORMAT_OGG | SF_FORMAT_VORBIS, 44100, "OGG/Vorbis", 1e-9);
}

static void test_opus(void **state)
{
    (void)state;
    check_codec(SF_FORMAT_OGG | SF_FORMAT_OPUS, 48000, "OGG/Opus", 0.05);
}

static void test_mp3(void **state)
{
    (void)state;
    check_codec(SF_FORMAT_MPEG | SF_FORMAT_MPEG_LAYER_III, 44100, "MP3", 0.05);
}

static void test_err_empty(void **state)
{
    (void)state;
    vx_error e;
    vx_decode_opts o = opts_default();
    /* a WAV with a header and no frames */
    memfile m;
    assert_int_equal(write_float(&m, SF_FORMAT_WAV | SF_FORMAT_PCM_16, 16000, 1, NULL, 0), 0);
    assert_err(decode_rc(&m, &o, &e), &e, VX_EEMPTY);
    vx_audio_reader *r = (vx_audio_reader *)(uintptr_t)1;
    assert_err(vx_audio_reader_open_memory(m.buf, (size_t)m.len, &o, &r, &e), &e, VX_EEMPTY);
    assert_null(r);
    mf_free(&m);

    /* a 0-byte file on disk */
    char path[] = "/tmp/vx_test_empty_XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    vx_audio *a = NULL;
    assert_err(vx_audio_decode_file(path, &o, &a, &e), &e, VX_EEMPTY);
    assert_null(a);
    unlink(path);
}

static void test_err_truncated(void **state)
{
    (void)state;
    const size_t n = 16000;
    float *x = sine(n, 16000, 440, 0.5);
    memfile m;
    assert_int_equal(write_float(&m, SF_FORMAT_WAV | SF_FORMAT_PCM_16, 16000, 1, x, (sf_count_t)n), 0);
    vx_error e;
    vx_decode_opts o = opts_default();
    sf_count_t full = m.len;
    m.len = 44 + 20000; /* data chunk cut after 10000 frames */
    assert_err(decode_rc(&m, &o, &e), &e, VX_ETRUNC);
    assert_non_null(strstr(e.message, "truncated"));
    /* the reader opens and reports on the first read, then sticks */
    vx_audio_reader *r = NULL;
    assert_int_equal(vx_audio_reader_open_memory(m.buf, (size_t)m.len, &o, &r, &e), VX_OK);
    float buf[64];
    size_t nr = 99;
    assert_err(vx_audio_reader_read(r, buf, 64, &nr, &e), &e, VX_ETRUNC);
    assert_int_equal(nr, 0);
    assert_err(vx_audio_reader_read(r, buf, 64, &nr, &e), &e, VX_ETRUNC);
    vx_audio_reader_free(r);
    /* cut in the middle of a sample too */
    m.len = 44 + 20001;
    assert_err(decode_rc(&m, &o, &e), &e, VX_ETRUNC);
    m.len = full;
    vx_audio_free(decode_ok(&m, &o));
    mf_free(&m);

    /* truncated FLAC: the header's frame count is not reached */
    assert_int_equal(write_float(&m, SF_FORMAT_FLAC | SF_FORMAT_PCM_16, 16000, 1, x, (sf_count_t)n), 0);
    m.len = m.len / 2;
    int rc = decode_rc(&m, &o, &e);
    print_message("half a FLAC: %s (%s)\n", vx_status_name(rc), e.message);
    assert_err(rc, &e, VX_ETRUNC);
    m.len = m.len * 2 * 9 / 10; /* 90% */
    assert_err(decode_rc(&m, &o, &e), &e, VX_ETRUNC);
    mf_free(&m);

    /* Ogg/Vorbis cut before its end-of-stream page, and cut in half */
    assert_int_equal(write_float(&m, SF_FORMAT_OGG | SF_FORMAT_VORBIS, 16000, 1, x, (sf_count_t)n), 0);
    full = m.len;
    m.len = full - full / 4;
    assert_err(decode_rc(&m, &o, &e), &e, VX_ETRUNC);
    m.len = full / 2;
    assert_err(decode_rc(&m, &o, &e), &e, VX_ETRUNC);
    mf_free(&m);

    /* MP3 cut in half: fewer frames than its Xing header says */
    if (write_float(&m, SF_FORMAT_MPEG | SF_FORMAT_MPEG_LAYER_III, 16000, 1, x, (sf_count_t)n) == 0) {
        m.len /= 2;
        assert_err(decode_rc(&m, &o, &e), &e, VX_ETRUNC);
        mf_free(&m);
    }
    free(x);
}

static void test_err_format(void **state)
{
    (void)state;
    unsigned char junk[4096];
    uint32_t s = 12345;
    for (size_t i = 0; i < sizeof junk; i++) {
        s = s * 1664525u + 1013904223u;
        junk[i] = (unsigned char)(s >> 24);
    }
    memcpy(junk, "NOTAUDIO", 8);
    memfile m = {.buf = junk, .len = sizeof junk};
    vx_error e;
    vx_decode_opts o = opts_default();
    assert_err(decode_rc(&m, &o, &e), &e, VX_EFORMAT);
    const char text[] = "hello, this is plainly a text file and not audio\n";
    assert_err(vx_audio_decode_memory(text, sizeof text - 1, &o, &(vx_audio *){NULL}, &e), &e, VX_EFORMAT);
}

static void test_err_too_short(void **state)
{
    (void)state;
    const size_t n = 4800; /* 0.3 s at 16 kHz */
    float *x = sine(n, 16000, 440, 0.5);
    memfile m;
    assert_int_equal(write_float(&m, SF_FORMAT_WAV | SF_FORMAT_PCM_16, 16000, 1, x, (sf_count_t)n), 0);
    vx_error e;
    vx_decode_opts o = opts_default();
    assert_err(decode_rc(&m, &o, &e), &e, VX_ETOOSHORT);
    assert_non_null(strstr(e.message, "0.30 s"));
    assert_non_null(strstr(e.message, "0.50 s"));
    o.min_duration_s = 0.3;
    vx_audio *a = decode_ok(&m, &o);
    assert_int_equal(a->n_samples, 6615);
    vx_audio_free(a);
    o.min_duration_s = 0;
    vx_audio_free(decode_ok(&m, &o));
    mf_free(&m);

    /* length unknown from the header: found at the end of the stream */
    assert_int_equal(write_float(&m, SF_FORMAT_FLAC | SF_FORMAT_PCM_16, 16000, 1, x, (sf_count_t)n), 0);
    flac_forget_length(&m);
    o.min_duration_s = 0.5;
    assert_err(decode_rc(&m, &o, &e), &e, VX_ETOOSHORT);
    assert_non_null(strstr(e.message, "0.30 s"));
    o.min_duration_s = 0.2;
    vx_audio *b = decode_ok(&m, &o);
    assert_int_equal(b->n_samples, 6615);
    vx_audio_free(b);
    mf_free(&m);
    free(x);
}

static void test_err_too_long(void **state)
{
    (void)state;
    const size_t n = 16000 * 3;
    float *x = sine(n, 16000, 440, 0.5);
    memfile m;
    assert_int_equal(write_float(&m, SF_FORMAT_WAV | SF_FORMAT_PCM_16, 16000, 1, x, (sf_count_t)n), 0);
    vx_error e;
    vx_decode_opts o = opts_default();
    o.max_duration_s = 2.5;
    assert_err(decode_rc(&m, &o, &e), &e, VX_ETOOLONG);
    assert_non_null(strstr(e.message, "3.00 s"));
    vx_audio_reader *r = (vx_audio_reader *)(uintptr_t)1;
    assert_err(vx_audio_reader_open_memory(m.buf, (size_t)m.len, &o, &r, &e), &e, VX_ETOOLONG);
    assert_null(r);
    o.max_duration_s = 3.0; /* exactly the limit is fine */
    vx_audio_free(decode_ok(&m, &o));
    mf_free(&m);

    /* A FLAC whose header does not give its length: the limit is found
     * while reading, after some samples were already returned. */
    assert_int_equal(write_float(&m, SF_FORMAT_FLAC | SF_FORMAT_PCM_16, 16000, 1, x, (sf_count_t)n), 0);
    flac_forget_length(&m);
    o.max_duration_s = 1.0;
    vx_audio_reader *rr = NULL;
    assert_int_equal(vx_audio_reader_open_memory(m.buf, (size_t)m.len, &o, &rr, &e), VX_OK);
    float buf[1000];
    size_t nr = 0, total = 0;
    int rc;
    while ((rc = vx_audio_reader_read(rr, buf, 1000, &nr, &e)) == VX_OK && nr)
        total += nr;
    assert_err(rc, &e, VX_ETOOLONG);
    assert_true(total <= 22050 + 1); /* nothing past the limit */
    vx_audio_reader_free(rr);
    assert_err(decode_rc(&m, &o, &e), &e, VX_ETOOLONG);
    o.max_duration_s = 3.0;
    vx_audio *a = decode_ok(&m, &o);
    assert_int_equal(a->n_samples, 22050 * 3);
    vx_audio_free(a);
    mf_free(&m);
    free(x);
}

static void test_files(void **state)
{
    (void)state;
    const size_t n = 20000;
    float *x = noise(n, 5, 0.5);
    memfile m;
    assert_int_equal(write_float(&m, SF_FORMAT_WAV | SF_FORMAT_FLOAT, 22050, 1, x, (sf_count_t)n), 0);
    char path[] = "/tmp/vx_test_audio_XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, m.buf, (size_t)m.len), m.len);
    close(fd);
    vx_decode_opts o = opts_default();
    vx_audio *a = NULL;
    vx_error e;
    assert_int_equal(vx_audio_decode_file(path, &o, &a, &e), VX_OK);
    assert_int_equal(a->n_samples, n);
    assert_memory_equal(a->samples, x, n * sizeof *x);
    vx_audio_free(a);

    /* truncated on disk */
    assert_int_equal(truncate(path, 44 + 4 * 10000 + 2), 0);
    assert_err(vx_audio_decode_file(path, &o, &a, &e), &e, VX_ETRUNC);
    assert_non_null(strstr(e.message, path));
    unlink(path);

    /* missing file: EIO naming the path */
    assert_err(vx_audio_decode_file("/nonexistent/dir/voice.wav", &o, &a, &e), &e, VX_EIO);
    assert_non_null(strstr(e.message, "/nonexistent/dir/voice.wav"));
    vx_audio_reader *r = (vx_audio_reader *)(uintptr_t)1;
    assert_err(vx_audio_reader_open_file("/nonexistent/x.flac", &o, &r, &e), &e, VX_EIO);
    assert_null(r);
    /* a path with a newline still gives a one-line message */
    assert_err(vx_audio_decode_file("/nonexistent/a\nb.wav", &o, &a, &e), &e, VX_EIO);
    /* a directory */
    assert_err(vx_audio_decode_file("/tmp", &o, &a, &e), &e, VX_EIO);
    mf_free(&m);
    free(x);
}

static void test_bad_args(void **state)
{
    (void)state;
    unsigned char byte = 0;
    vx_decode_opts o = opts_default();
    vx_error e;
    vx_audio *a = NULL;
    vx_audio_reader *r = NULL;
    float buf[4];
    size_t nr;

    assert_err(vx_audio_reader_open_file(NULL, &o, &r, &e), &e, VX_EINVAL);
    assert_err(vx_audio_reader_open_file("x.wav", NULL, &r, &e), &e, VX_EINVAL);
    assert_err(vx_audio_reader_open_file("x.wav", &o, NULL, &e), &e, VX_EINVAL);
    assert_err(vx_audio_reader_open_file("", &o, &r, &e), &e, VX_EINVAL);
    assert_err(vx_audio_reader_open_memory(NULL, 10, &o, &r, &e), &e, VX_EINVAL);
    assert_err(vx_audio_reader_open_memory(&byte, 0, &o, &r, &e), &e, VX_EINVAL);
    assert_err(vx_audio_reader_open_memory(&byte, 1, NULL, &r, &e), &e, VX_EINVAL);
    assert_err(vx_audio_reader_open_memory(&byte, 1, &o, NULL, &e), &e, VX_EINVAL);
    assert_err(vx_audio_decode_file(NULL, &o, &a, &e), &e, VX_EINVAL);
    assert_err(vx_audio_decode_file("x.wav", NULL, &a, &e), &e, VX_EINVAL);
    assert_err(vx_audio_decode_file("x.wav", &o, NULL, &e), &e, VX_EINVAL);
    assert_err(vx_audio_decode_memory(NULL, 1, &o, &a, &e), &e, VX_EINVAL);
    assert_err(vx_audio_decode_memory(&byte, 0, &o, &a, &e), &e, VX_EINVAL);
    assert_err(vx_audio_decode_memory(&byte, 1, NULL, &a, &e), &e, VX_EINVAL);
    assert_err(vx_audio_decode_memory(&byte, 1, &o, NULL, &e), &e, VX_EINVAL);
    /* err may be NULL */
    assert_int_equal(vx_audio_decode_memory(NULL, 1, &o, &a, NULL), VX_EINVAL);
    assert_int_equal(vx_audio_reader_open_file(NULL, NULL, NULL, NULL), VX_EINVAL);

    /* bad options */
    struct { int rate; double min, max; } bad[] = {
        {7999, 0.5, 600}, {192001, 0.5, 600}, {-1, 0.5, 600}, {22050, -0.1, 600},
        {22050, 0.5, -1}, {22050, 0, 0}, {22050, 2, 1}, {22050, NAN, 600},
        {22050, 0.5, NAN}, {22050, 0.5, INFINITY}, {22050, INFINITY, 600},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        vx_decode_opts b = {bad[i].rate, bad[i].min, bad[i].max};
        assert_err(vx_audio_decode_memory(&byte, 1, &b, &a, &e), &e, VX_EINVAL);
        assert_err(vx_audio_decode_file("/nonexistent", &b, &a, &e), &e, VX_EINVAL);
        assert_err(vx_audio_reader_open_memory(&byte, 1, &b, &r, &e), &e, VX_EINVAL);
    }
    /* good edge options */
    vx_decode_opts g = {8000, 0, 0.001};
    memfile m;
    float *x = sine(100, 8000, 440, 0.5);
    assert_int_equal(write_float(&m, SF_FORMAT_WAV | SF_FORMAT_FLOAT, 8000, 1, x, 8), 0);
    assert_int_equal(vx_audio_decode_memory(m.buf, (size_t)m.len, &g, &a, &e), VX_OK);
    assert_int_equal(a->n_samples, 8);
    vx_audio_free(a);
    g.target_rate_hz = 192000;
    assert_int_equal(vx_audio_decode_memory(m.buf, (size_t)m.len, &g, &a, &e), VX_OK);
    assert_int_equal(a->n_samples, 192);
    assert_int_equal(a->sample_rate_hz, 192000);
    vx_audio_free(a);

    /* read misuse */
    assert_int_equal(vx_audio_reader_open_memory(m.buf, (size_t)m.len, &g, &r, &e), VX_OK);
    assert_err(vx_audio_reader_read(NULL, buf, 4, &nr, &e), &e, VX_EINVAL);
    assert_err(vx_audio_reader_read(r, NULL, 4, &nr, &e), &e, VX_EINVAL);
    assert_err(vx_audio_reader_read(r, buf, 4, NULL, &e), &e, VX_EINVAL);
    assert_err(vx_audio_reader_read(r, buf, 0, &nr, &e), &e, VX_EINVAL);
    /* the reader still works after misuse */
    size_t total = 0;
    do {
        assert_int_equal(vx_audio_reader_read(r, buf, 4, &nr, NULL), VX_OK);
        total += nr;
    } while (nr);
    assert_int_equal(total, 192);
    vx_audio_reader_free(r);
    mf_free(&m);
    free(x);

    /* accessors and frees on NULL */
    assert_int_equal(vx_audio_reader_native_rate_hz(NULL), 0);
    assert_int_equal(vx_audio_reader_rate_hz(NULL), 0);
    assert_int_equal(vx_audio_reader_channels(NULL), 0);
    vx_audio_reader_free(NULL);
    vx_audio_free(NULL);
}

static void test_native_rate_keep(void **state)
{
    (void)state;
    const size_t n = 16000;
    float *x = noise(2 * n, 9, 0.5);
    memfile m;
    assert_int_equal(write_float(&m, SF_FORMAT_FLAC | SF_FORMAT_PCM_24, 16000, 2, x, (sf_count_t)n), 0);
    vx_decode_opts o = opts_default();
    o.target_rate_hz = 0;
    vx_audio_reader *r = NULL;
    vx_error e;
    assert_int_equal(vx_audio_reader_open_memory(m.buf, (size_t)m.len, &o, &r, &e), VX_OK);
    assert_int_equal(vx_audio_reader_native_rate_hz(r), 16000);
    assert_int_equal(vx_audio_reader_rate_hz(r), 16000);
    assert_int_equal(vx_audio_reader_channels(r), 2);
    vx_audio_reader_free(r);
    vx_audio *a = decode_ok(&m, &o);
    assert_int_equal(a->n_samples, n);
    assert_int_equal(a->sample_rate_hz, 16000);
    vx_audio_free(a);
    mf_free(&m);
    free(x);
}

/* Long input through the streaming reader: memory stays bounded (the reader
 * holds fixed buffers) and the total is the ceil rule. */
static void test_long_stream(void **state)
{
    (void)state;
    const int sr = 48000;
    const size_t n = (size_t)sr * 40; /* 40 s */
    float *x = sine(n, sr, 200.0, 0.3);
    memfile m;
    assert_int_equal(write_float(&m, SF_FORMAT_WAV | SF_FORMAT_PCM_16, sr, 1, x, (sf_count_t)n), 0);
    free(x);
    vx_decode_opts o = opts_default();
    vx_audio_reader *r = NULL;
    vx_error e;
    assert_int_equal(vx_audio_reader_open_memory(m.buf, (size_t)m.len, &o, &r, &e), VX_OK);
    float buf[3000];
    size_t nr, total = 0;
    do {
        assert_int_equal(vx_audio_reader_read(r, buf, 3000, &nr, &e), VX_OK);
        total += nr;
    } while (nr);
    assert_int_equal(total, 22050 * 40);
    vx_audio_reader_free(r);
    mf_free(&m);
}

/* librosa reference lengths from the shared fixtures, when present. */
static void test_fixture_lengths(void **state)
{
    (void)state;
    char dir[1024];
    snprintf(dir, sizeof dir, "%s/fixtures/librosa", VX_SHARED_DIR);
    DIR *d = opendir(dir);
    if (!d) {
        print_message("no fixtures at %s: skipping\n", dir);
        skip();
    }
    struct dirent *de;
    int checked = 0;
    while ((de = readdir(d)) != NULL) {
        size_t L = strlen(de->d_name);
        if (L < 5 || strcmp(de->d_name + L - 5, ".json") != 0)
            continue;
        char jp[2048];
        snprintf(jp, sizeof jp, "%s/%s", dir, de->d_name);
        json_error_t je;
        json_t *j = json_load_file(jp, 0, &je);
        assert_non_null(j);
        const char *file = json_string_value(json_object_get(j, "file"));
        json_int_t want = json_integer_value(json_object_get(j, "n_samples"));
        if (!file || strncmp(file, "shared/", 7) != 0) {
            json_decref(j);
            continue;
        }
        char ap[2048];
        snprintf(ap, sizeof ap, "%s/%s", VX_SHARED_DIR, file + 7);
        vx_decode_opts o = opts_default();
        vx_audio *a = NULL;
        vx_error e;
        int rc = vx_audio_decode_file(ap, &o, &a, &e);
        if (rc != VX_OK)
            print_error("%s: %s\n", ap, e.message);
        assert_int_equal(rc, VX_OK);
        if ((json_int_t)a->n_samples != want)
            print_error("%s: %zu samples, librosa %lld\n", ap, a->n_samples, (long long)want);
        assert_int_equal(a->n_samples, want);
        vx_audio_free(a);
        json_decref(j);
        checked++;
    }
    closedir(d);
    print_message("%d fixture lengths match librosa\n", checked);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_opts_init),
        cmocka_unit_test(test_lengths_ceil_rule),
        cmocka_unit_test(test_pcm16_sine_keeps_pitch),
        cmocka_unit_test(test_stereo_mix),
        cmocka_unit_test(test_passthrough_identical),
        cmocka_unit_test(test_parity_with_python_soxr),
        cmocka_unit_test(test_stream_read_sizes),
        cmocka_unit_test(test_flac),
        cmocka_unit_test(test_ogg_vorbis),
        cmocka_unit_test(test_opus),
        cmocka_unit_test(test_mp3),
        cmocka_unit_test(test_err_empty),
        cmocka_unit_test(test_err_truncated),
        cmocka_unit_test(test_err_format),
        cmocka_unit_test(test_err_too_short),
        cmocka_unit_test(test_err_too_long),
        cmocka_unit_test(test_files),
        cmocka_unit_test(test_bad_args),
        cmocka_unit_test(test_native_rate_keep),
        cmocka_unit_test(test_long_stream),
        cmocka_unit_test(test_fixture_lengths),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
