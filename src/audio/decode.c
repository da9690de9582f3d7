/*
 * decode.c -- audio input: libsndfile decode, mono mix, soxr resample.
 *
 * DESIGN: one pull-based streaming reader is the only decode path; the
 * whole-signal calls (vx_audio_decode_*) are a loop over it, so file and
 * memory input, streaming and one-shot use share every line that touches
 * samples.  Files and memory both go through sf_open_virtual() over a small
 * bounded byte source (pread() on a file descriptor, or a borrowed buffer),
 * which lets us inspect the container bytes ourselves (a RIFF data chunk
 * cut short, which libsndfile silently clamps; an Ogg stream cut short,
 * which libsndfile 1.2.0 mis-decodes) and keeps I/O errors ours to report.
 * Container problems found at open are held back and reported by the
 * first read, as ETRUNC, before any sample is returned.  The reader owns three fixed-size buffers (native interleaved
 * frames, their mono mix, resampler output), so its memory does not grow
 * with the file length; mono input is decoded straight into the mix
 * buffer, and a read of at least a stage's worth resamples straight into
 * the caller's buffer (soxr's output stream does not depend on how it is
 * drained), so the samples are not copied on the way.
 *
 * Parity with librosa.load(path, sr=22050) (librosa 0.11, soundfile, python
 * -soxr), as read from their sources:
 *   - soundfile reads float32 through sf_readf_float with libsndfile's default
 *     normalisation (int PCM / 32768): we keep that default.
 *   - librosa.to_mono is np.mean(y, axis=0) on float32: a float32 sum of the
 *     channels in order, then one float32 division by the channel count.
 *   - librosa.resample(res_type="soxr_hq") calls soxr.resample(y, sr_native,
 *     sr, quality="soxr_hq"), i.e. python-soxr's csoxr_divide_proc<float>:
 *     soxr_create(in, out, 1 channel, soxr_io_spec(SOXR_FLOAT32_I,
 *     SOXR_FLOAT32_I), soxr_quality_spec(SOXR_HQ, 0), runtime spec NULL),
 *     soxr_process() over input chunks of 48000*in/out frames into an output
 *     buffer of (size_t)(n*out/in)+1 samples, then one flush with in=NULL
 *     (python-soxr 0.4+, src/soxr_ext.cpp; the 0.3 Cython cysoxr_divide_proc
 *     used the same specs with a buffer of ceil(n*out/in): after
 *     fix_length both give the same samples).
 *     libsoxr's output does not depend on how the input is chunked, so we
 *     feed it our own chunk sizes and drain it until the flush yields
 *     nothing; the test suite checks this bit-for-bit against a replica of
 *     csoxr_divide_proc.
 *   - librosa then applies util.fix_length to n_out = int(np.ceil(n * ratio))
 *     with ratio = float(sr) / sr_native (computed here with the same double
 *     arithmetic): extra samples are dropped, missing ones are zeros.
 *     Because divide_proc's buffer holds at least n_out samples, "first n_out
 *     samples of soxr's full output, zero-padded" is exactly librosa's result.
 *   - When sr_native == sr, librosa.resample returns y unchanged: we copy.
 */
#include "core/error.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <sndfile.h>
#include <soxr.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Interleaved native samples read per sf_readf_float call (all channels). */
#define VX__NATIVE_SAMPLES 32768
/* Resampler output staging buffer, in mono samples. */
#define VX__STAGE_SAMPLES 8192
/* libsndfile's own channel limit (SF_MAX_CHANNELS). */
#define VX__MAX_CHANNELS 1024
/* Native rates outside this range are not audio we can analyse (and extreme
 * ratios make soxr's filters needlessly large). */
#define VX__MIN_NATIVE_HZ 1000
#define VX__MAX_NATIVE_HZ 1000000
#define VX__MIN_TARGET_HZ 8000
#define VX__MAX_TARGET_HZ 192000
/* Room for the file name in messages. */
#define VX__LABEL_MAX 160

/* ------------------------------------------------------------------ */
/* Byte source for sf_open_virtual                                     */
/* ------------------------------------------------------------------ */
typedef struct vx__src {
    const unsigned char *data; /* memory source (borrowed), or NULL */
    int fd;                    /* file source, or -1 */
    sf_count_t len;
    sf_count_t pos;
    int io_errno; /* first read error on a file source, 0 if none */
} vx__src;

static sf_count_t vx__src_get_filelen(void *user)
{
    return ((vx__src *)user)->len;
}

static sf_count_t vx__src_seek(sf_count_t offset, int whence, void *user)
{
    vx__src *s = user;
    sf_count_t base;
    switch (whence) {
    case SEEK_SET: base = 0; break;
    case SEEK_CUR: base = s->pos; break;
    case SEEK_END: base = s->len; break;
    default: return -1;
    }
    /* Like lseek: positions past the end are allowed (reads return 0),
     * negative ones and overflow are refused without moving. */
    if ((offset > 0 && base > INT64_MAX - offset) || base + offset < 0)
        return -1;
    s->pos = base + offset;
    return s->pos;
}

static size_t vx__src_read_at(vx__src *s, void *dst, size_t n, sf_count_t at)
{
    if (at >= s->len || n == 0)
        return 0;
    if ((sf_count_t)n > s->len - at)
        n = (size_t)(s->len - at);
    if (s->data) {
        memcpy(dst, s->data + at, n);
        return n;
    }
    size_t done = 0;
    while (done < n) {
        ssize_t got = pread(s->fd, (char *)dst + done, n - done,
                            (off_t)(at + (sf_count_t)done));
        if (got < 0) {
            if (errno == EINTR)
                continue;
            if (!s->io_errno)
                s->io_errno = errno;
            break;
        }
        if (got == 0)
            break; /* file shrank under us */
        done += (size_t)got;
    }
    return done;
}

static sf_count_t vx__src_read(void *ptr, sf_count_t count, void *user)
{
    vx__src *s = user;
    if (count <= 0)
        return 0;
    size_t got = vx__src_read_at(s, ptr, (size_t)count, s->pos);
    s->pos += (sf_count_t)got;
    return (sf_count_t)got;
}

static sf_count_t vx__src_write(const void *ptr, sf_count_t count, void *user)
{
    (void)ptr;
    (void)count;
    (void)user;
    return 0; /* read-only */
}

static sf_count_t vx__src_tell(void *user)
{
    return ((vx__src *)user)->pos;
}

/* True when the source is a RIFF/WAVE file whose "data" chunk declares more
 * bytes than the file holds.  libsndfile clamps such a chunk to the file
 * length without an error, so a cut-off WAV would otherwise decode as a
 * shorter, valid one.  0 and 0xFFFFFFFF are the "length unknown" values
 * streaming writers leave behind and are not treated as truncation. */
static int vx__riff_data_truncated(vx__src *s, uint32_t *declared,
                                   sf_count_t *available)
{
    unsigned char h[12];
    if (vx__src_read_at(s, h, 12, 0) != 12 || memcmp(h, "RIFF", 4) != 0 ||
        memcmp(h + 8, "WAVE", 4) != 0)
        return 0;
    sf_count_t off = 12;
    for (int i = 0; i < 512 && off <= s->len - 8; i++) {
        unsigned char c[8];
        if (vx__src_read_at(s, c, 8, off) != 8)
            return 0;
        uint32_t size = (uint32_t)c[4] | (uint32_t)c[5] << 8 |
                        (uint32_t)c[6] << 16 | (uint32_t)c[7] << 24;
        if (memcmp(c, "data", 4) == 0) {
            sf_count_t avail = s->len - (off + 8);
            if (size != 0 && size != UINT32_MAX && (sf_count_t)size > avail) {
                *declared = size;
                *available = avail;
                return 1;
            }
            return 0;
        }
        off += 8 + (sf_count_t)size + (size & 1u);
    }
    return 0;
}

/* True when the source is an Ogg stream cut short: a page runs past the end
 * of the file, or the last page lacks the end-of-stream flag.  Checked
 * before libsndfile sees the bytes because libsndfile 1.2.0 either refuses
 * such a file as "malformed" (leaking libvorbis state on that path) or
 * opens it with an unknown length and decodes nothing.  Only page headers
 * are read.  Anything that is not a clean chain of pages from offset 0 is
 * left to libsndfile (which resynchronises over junk). */
static int vx__ogg_truncated(vx__src *s)
{
    unsigned char h[27 + 255];
    sf_count_t off = 0;
    int last_flags = -1;
    while (off < s->len) {
        size_t got = vx__src_read_at(s, h, 27, off);
        if (got < 27) /* a partial page header after at least one page */
            return off > 0 && !s->io_errno &&
                   memcmp(h, "OggS", got < 4 ? got : 4) == 0;
        if (memcmp(h, "OggS", 4) != 0)
            return 0;
        size_t nseg = h[26];
        if (vx__src_read_at(s, h + 27, nseg, off + 27) != nseg)
            return !s->io_errno;
        sf_count_t body = 0;
        for (size_t i = 0; i < nseg; i++)
            body += h[27 + i];
        last_flags = h[5];
        off += 27 + (sf_count_t)nseg + body;
    }
    if (off > s->len)
        return !s->io_errno;
    return last_flags >= 0 && !(last_flags & 0x04);
}

/* ------------------------------------------------------------------ */
/* Reader                                                              */
/* ------------------------------------------------------------------ */
struct vx_audio_reader {
    vx__src src;
    SNDFILE *sf;
    SF_INFO info;
    vx_decode_opts opts;
    char label[VX__LABEL_MAX];
    int out_rate;
    double ratio;     /* out_rate / native rate, as librosa computes it */
    int frames_known; /* info.frames is a real count */
    soxr_t soxr;      /* NULL when the native rate is the output rate */

    float *native;       /* native_frames * channels */
    size_t native_frames;
    float *mono;         /* native_frames */
    size_t mono_len, mono_pos;
    float *stage;        /* VX__STAGE_SAMPLES resampler output */
    size_t stage_len, stage_pos;

    uint64_t n_native;  /* native frames decoded so far */
    uint64_t n_out;     /* samples returned so far */
    uint64_t n_out_end; /* total output samples, valid once eof */
    int started, eof, flushed, done;
    /* Truncation seen in the container at open, reported by the first
     * read (the open contract has no ETRUNC); empty when none. */
    char trunc_msg[128];
    vx_error fail;      /* sticky error; fail.code != 0 once failed */
};

static int vx__check_opts(const vx_decode_opts *o, vx_error *err)
{
    if (o->target_rate_hz != 0 && (o->target_rate_hz < VX__MIN_TARGET_HZ ||
                                   o->target_rate_hz > VX__MAX_TARGET_HZ))
        return vx__error_set(err, VX_EINVAL,
                             "target_rate_hz %d is outside %d..%d (or 0 for "
                             "the native rate)",
                             o->target_rate_hz, VX__MIN_TARGET_HZ,
                             VX__MAX_TARGET_HZ);
    if (!isfinite(o->min_duration_s) || o->min_duration_s < 0)
        return vx__error_set(err, VX_EINVAL,
                             "min_duration_s %g must be finite and >= 0",
                             o->min_duration_s);
    if (!isfinite(o->max_duration_s) || o->max_duration_s <= 0)
        return vx__error_set(err, VX_EINVAL,
                             "max_duration_s %g must be finite and > 0",
                             o->max_duration_s);
    if (o->min_duration_s > o->max_duration_s)
        return vx__error_set(err, VX_EINVAL,
                             "min_duration_s %g exceeds max_duration_s %g",
                             o->min_duration_s, o->max_duration_s);
    return VX_OK;
}

void vx_decode_opts_init(vx_decode_opts *opts)
{
    if (!opts)
        return;
    opts->target_rate_hz = VX_ANALYSIS_RATE_HZ;
    opts->min_duration_s = 0.5;
    opts->max_duration_s = 600.0;
}

/* Messages are one line: control characters that a path or a library
 * message may carry become spaces. */
static void vx__scrub(char *msg)
{
    for (; *msg; msg++)
        if ((unsigned char)*msg < 0x20 || *msg == 0x7f)
            *msg = ' ';
}

/* Records a sticky error on the reader and copies it to err. */
static int vx__reader_fail(vx_audio_reader *r, vx_error *err, int code,
                           const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static int vx__reader_fail(vx_audio_reader *r, vx_error *err, int code,
                           const char *fmt, ...)
{
    char msg[sizeof r->fail.message];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    vx__error_set(&r->fail, code, "%s: %s", r->label, msg);
    vx__scrub(r->fail.message);
    if (err)
        *err = r->fail;
    return code;
}

void vx_audio_reader_free(vx_audio_reader *r)
{
    if (!r)
        return;
    if (r->sf)
        sf_close(r->sf);
    if (r->soxr)
        soxr_delete(r->soxr);
    if (r->src.fd >= 0)
        close(r->src.fd);
    if (r->mono != r->native)
        free(r->mono);
    free(r->native);
    free(r->stage);
    free(r);
}

static void vx__set_label(vx_audio_reader *r, const char *name)
{
    size_t n = strlen(name);
    if (n < sizeof r->label) {
        memcpy(r->label, name, n + 1);
    } else { /* keep the tail: it holds the file name */
        const char *tail = name + n - (sizeof r->label - 4);
        snprintf(r->label, sizeof r->label, "...%s", tail);
    }
    vx__scrub(r->label);
}

/* Opens libsndfile over r->src and validates the stream.  On error the
 * caller frees r (which closes the source). */
static int vx__reader_start(vx_audio_reader *r, vx_error *err)
{
    SF_VIRTUAL_IO vio = {
        .get_filelen = vx__src_get_filelen,
        .seek = vx__src_seek,
        .read = vx__src_read,
        .write = vx__src_write,
        .tell = vx__src_tell,
    };
    memset(&r->info, 0, sizeof r->info);
    if (vx__ogg_truncated(&r->src))
        return vx__error_set(err, VX_ETRUNC,
                             "%s: audio is truncated: Ogg stream ends "
                             "mid-page or without an end-of-stream page",
                             r->label);
    r->sf = sf_open_virtual(&vio, SFM_READ, &r->info, &r->src);
    if (!r->sf) {
        if (r->src.io_errno)
            return vx__error_set(err, VX_EIO, "%s: read error: %s", r->label,
                                 strerror(r->src.io_errno));
        if (r->src.len == 0)
            return vx__error_set(err, VX_EEMPTY, "%s: file is empty (0 bytes)",
                                 r->label);
        /* sf_error(NULL) is an int code; sf_error_number() maps it to a
         * static string (sf_strerror(NULL) would read a shared buffer).
         * Only "unrecognised" and "unsupported encoding" mean the bytes are
         * not audio we read; every other code comes from a format parser
         * that recognised its magic and then found the header broken. */
        int code = sf_error(NULL);
        if (code == SF_ERR_SYSTEM)
            return vx__error_set(err, VX_EIO, "%s: read error (%s)", r->label,
                                 sf_error_number(code));
        if (code == SF_ERR_UNRECOGNISED_FORMAT ||
            code == SF_ERR_UNSUPPORTED_ENCODING || code == SF_ERR_NO_ERROR)
            return vx__error_set(err, VX_EFORMAT,
                                 "%s: not a recognised audio format (%s)",
                                 r->label, sf_error_number(code));
        return vx__error_set(err, VX_ETRUNC,
                             "%s: audio file is corrupt or truncated (%s)",
                             r->label, sf_error_number(code));
    }
    const SF_INFO *in = &r->info;
    if (in->channels < 1 || in->channels > VX__MAX_CHANNELS)
        return vx__error_set(err, VX_EFORMAT,
                             "%s: unsupported channel count %d (1..%d)",
                             r->label, in->channels, VX__MAX_CHANNELS);
    if (in->samplerate < VX__MIN_NATIVE_HZ || in->samplerate > VX__MAX_NATIVE_HZ)
        return vx__error_set(err, VX_EFORMAT,
                             "%s: unsupported sample rate %d Hz (%d..%d)",
                             r->label, in->samplerate, VX__MIN_NATIVE_HZ,
                             VX__MAX_NATIVE_HZ);
    r->frames_known = in->frames >= 0 && in->frames < SF_COUNT_MAX;
    if (r->frames_known && in->frames == 0)
        return vx__error_set(err, VX_EEMPTY, "%s: audio has 0 frames",
                             r->label);
    if (r->frames_known) {
        double dur = (double)in->frames / in->samplerate;
        if (dur > r->opts.max_duration_s)
            return vx__error_set(err, VX_ETOOLONG,
                                 "%s: audio is %.2f s long; maximum is %.2f s",
                                 r->label, dur, r->opts.max_duration_s);
    }
    int major = in->format & SF_FORMAT_TYPEMASK;
    uint32_t declared = 0;
    sf_count_t avail = 0;
    if ((major == SF_FORMAT_WAV || major == SF_FORMAT_WAVEX) &&
        vx__riff_data_truncated(&r->src, &declared, &avail))
        snprintf(r->trunc_msg, sizeof r->trunc_msg,
                 "audio is truncated: data chunk declares %lu bytes, file "
                 "holds %lld",
                 (unsigned long)declared, (long long)avail);
    /* libsndfile finds an Ogg stream's length from its last page; a stream
     * cut before its end-of-stream page has an unknown length (and 1.2.0
     * then often decodes nothing). */
    if (major == SF_FORMAT_OGG && !r->frames_known)
        snprintf(r->trunc_msg, sizeof r->trunc_msg,
                 "audio is truncated: Ogg stream has no end-of-stream page");

    r->out_rate = r->opts.target_rate_hz ? r->opts.target_rate_hz
                                         : in->samplerate;
    r->ratio = (double)r->out_rate / (double)in->samplerate;
    if (r->out_rate != in->samplerate) {
        soxr_error_t e = NULL;
        soxr_io_spec_t io = soxr_io_spec(SOXR_FLOAT32_I, SOXR_FLOAT32_I);
        soxr_quality_spec_t q = soxr_quality_spec(SOXR_HQ, 0);
        r->soxr = soxr_create((double)in->samplerate, (double)r->out_rate, 1,
                              &e, &io, &q, NULL);
        if (e || !r->soxr)
            return vx__error_set(err, VX_EFORMAT,
                                 "%s: cannot resample %d Hz to %d Hz (%s)",
                                 r->label, in->samplerate, r->out_rate,
                                 e ? e : "soxr_create failed");
    }
    r->native_frames = VX__NATIVE_SAMPLES / (size_t)in->channels;
    r->native = malloc(r->native_frames * (size_t)in->channels * sizeof(float));
    /* mono input is its own mix: decode straight into the mono buffer */
    r->mono = in->channels == 1 ? r->native : malloc(r->native_frames * sizeof(float));
    r->stage = malloc(VX__STAGE_SAMPLES * sizeof(float));
    if (!r->native || !r->mono || !r->stage)
        return vx__error_set(err, VX_ENOMEM, "%s: out of memory for buffers",
                             r->label);
    return VX_OK;
}

static int vx__reader_open(vx_audio_reader *r, const vx_decode_opts *opts,
                           vx_audio_reader **out, vx_error *err)
{
    r->opts = *opts;
    int rc = vx__reader_start(r, err);
    if (rc != VX_OK) {
        if (err)
            vx__scrub(err->message);
        vx_audio_reader_free(r);
        return rc;
    }
    vx__error_clear(err);
    *out = r;
    return VX_OK;
}

int vx_audio_reader_open_file(const char *path, const vx_decode_opts *opts,
                              vx_audio_reader **out, vx_error *err)
{
    if (out)
        *out = NULL;
    if (!path || !opts || !out)
        return vx__error_set(err, VX_EINVAL,
                             "vx_audio_reader_open_file: %s is NULL",
                             !path ? "path" : !opts ? "opts" : "out");
    if (path[0] == '\0')
        return vx__error_set(err, VX_EINVAL,
                             "vx_audio_reader_open_file: path is empty");
    int rc = vx__check_opts(opts, err);
    if (rc != VX_OK)
        return rc;

    vx_audio_reader *r = calloc(1, sizeof *r);
    if (!r)
        return vx__error_set(err, VX_ENOMEM, "out of memory opening %s", path);
    r->src.fd = -1;
    vx__set_label(r, path);

    int fd;
    do
        fd = open(path, O_RDONLY | O_CLOEXEC);
    while (fd < 0 && errno == EINTR);
    if (fd < 0) {
        int e = errno;
        rc = vx__error_set(err, VX_EIO, "cannot open %s: %s", r->label,
                           strerror(e));
        vx_audio_reader_free(r);
        return rc;
    }
    r->src.fd = fd;
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        rc = vx__error_set(err, VX_EIO, "cannot read %s: not a regular file",
                           r->label);
        vx_audio_reader_free(r);
        return rc;
    }
    r->src.len = (sf_count_t)st.st_size;
    return vx__reader_open(r, opts, out, err);
}

int vx_audio_reader_open_memory(const void *data, size_t size,
                                const vx_decode_opts *opts,
                                vx_audio_reader **out, vx_error *err)
{
    if (out)
        *out = NULL;
    if (!data || !opts || !out)
        return vx__error_set(err, VX_EINVAL,
                             "vx_audio_reader_open_memory: %s is NULL",
                             !data ? "data" : !opts ? "opts" : "out");
    if (size == 0)
        return vx__error_set(err, VX_EINVAL,
                             "vx_audio_reader_open_memory: size is 0");
    if ((uint64_t)size > (uint64_t)INT64_MAX)
        return vx__error_set(err, VX_EINVAL,
                             "vx_audio_reader_open_memory: size is too large");
    int rc = vx__check_opts(opts, err);
    if (rc != VX_OK)
        return rc;
    vx_audio_reader *r = calloc(1, sizeof *r);
    if (!r)
        return vx__error_set(err, VX_ENOMEM, "out of memory opening <memory>");
    r->src.fd = -1;
    r->src.data = data;
    r->src.len = (sf_count_t)size;
    vx__set_label(r, "<memory>");
    return vx__reader_open(r, opts, out, err);
}

int vx_audio_reader_native_rate_hz(const vx_audio_reader *r)
{
    return r ? r->info.samplerate : 0;
}

int vx_audio_reader_rate_hz(const vx_audio_reader *r)
{
    return r ? r->out_rate : 0;
}

int vx_audio_reader_channels(const vx_audio_reader *r)
{
    return r ? r->info.channels : 0;
}

/* Checks done once the end of the input is reached; sets n_out_end. */
static int vx__reader_at_end(vx_audio_reader *r, vx_error *err)
{
    double rate = r->info.samplerate;
    if (r->n_native == 0)
        return vx__reader_fail(r, err, VX_EEMPTY, "audio has 0 frames");
    uint64_t expect = r->frames_known ? (uint64_t)r->info.frames : 0;
    if ((r->info.format & SF_FORMAT_TYPEMASK) == SF_FORMAT_MPEG) {
        /* Without a Xing/Info tag, mpg123 estimates an MP3's length from
         * its size and bitrate: allow 1% + two MPEG frames of slack. */
        uint64_t slack = expect / 100 + 2304;
        expect = expect > slack ? expect - slack : 0;
    }
    if (r->n_native < expect)
        return vx__reader_fail(r, err, VX_ETRUNC,
                               "audio is truncated: decoded %llu of %lld "
                               "frames",
                               (unsigned long long)r->n_native,
                               (long long)r->info.frames);
    double dur = (double)r->n_native / rate;
    if (dur < r->opts.min_duration_s)
        return vx__reader_fail(r, err, VX_ETOOSHORT,
                               "audio is %.2f s long; minimum is %.2f s", dur,
                               r->opts.min_duration_s);
    if (r->soxr)
        /* librosa: n_samples = int(np.ceil(y.shape[-1] * ratio)) */
        r->n_out_end = (uint64_t)ceil((double)r->n_native * r->ratio);
    else
        r->n_out_end = r->n_native;
    return VX_OK;
}

/* Decodes the next native chunk into r->mono (mono_len frames, possibly 0
 * at the end).  Sets r->eof when libsndfile has no more frames. */
static int vx__reader_pull(vx_audio_reader *r, vx_error *err)
{
    const int ch = r->info.channels;
    sf_count_t want = (sf_count_t)r->native_frames;
    sf_count_t got = sf_readf_float(r->sf, r->native, want);
    if (got < 0)
        got = 0;
    if (got < want) {
        unsigned long long at = (unsigned long long)r->n_native +
                                (unsigned long long)got;
        if (r->src.io_errno)
            return vx__reader_fail(r, err, VX_ETRUNC,
                                   "read error after %llu frames: %s", at,
                                   strerror(r->src.io_errno));
        if (sf_error(r->sf) != SF_ERR_NO_ERROR)
            return vx__reader_fail(r, err, VX_ETRUNC,
                                   "decode error after %llu frames: %s", at,
                                   sf_strerror(r->sf));
    }
    /* Mix to mono exactly like np.mean(y, axis=0) on float32. */
    const float *in = r->native;
    size_t n = (size_t)got;
    if (ch == 1) {
        /* r->mono is r->native: nothing to mix */
    } else {
        const float div = (float)ch;
        for (size_t i = 0; i < n; i++) {
            const float *f = in + i * (size_t)ch;
            float s = f[0];
            for (int c = 1; c < ch; c++)
                s += f[c];
            r->mono[i] = s / div;
        }
    }
    r->mono_len = n;
    r->mono_pos = 0;
    r->n_native += (uint64_t)n;
    if ((double)r->n_native / r->info.samplerate > r->opts.max_duration_s)
        return vx__reader_fail(r, err, VX_ETOOLONG,
                               "audio is longer than the maximum of %.2f s",
                               r->opts.max_duration_s);
    if (got == 0) {
        r->eof = 1;
        return vx__reader_at_end(r, err);
    }
    return VX_OK;
}

/* Refills r->stage (stage_len samples) or sets r->done. */
static int vx__reader_refill(vx_audio_reader *r, vx_error *err)
{
    r->stage_pos = r->stage_len = 0;
    while (r->stage_len == 0 && !r->done) {
        if (r->mono_pos < r->mono_len) {
            if (!r->soxr) {
                size_t n = r->mono_len - r->mono_pos;
                if (n > VX__STAGE_SAMPLES)
                    n = VX__STAGE_SAMPLES;
                memcpy(r->stage, r->mono + r->mono_pos, n * sizeof(float));
                r->mono_pos += n;
                r->stage_len = n;
            } else {
                size_t idone = 0, odone = 0;
                soxr_error_t e = soxr_process(
                    r->soxr, r->mono + r->mono_pos, r->mono_len - r->mono_pos,
                    &idone, r->stage, VX__STAGE_SAMPLES, &odone);
                if (e)
                    return vx__reader_fail(r, err, VX_EINTERNAL,
                                           "resampler error: %s", e);
                r->mono_pos += idone;
                r->stage_len = odone;
            }
        } else if (!r->eof) {
            int rc = vx__reader_pull(r, err);
            if (rc != VX_OK)
                return rc;
        } else if (r->soxr && !r->flushed) {
            size_t odone = 0;
            soxr_error_t e = soxr_process(r->soxr, NULL, 0, NULL, r->stage,
                                          VX__STAGE_SAMPLES, &odone);
            if (e)
                return vx__reader_fail(r, err, VX_EINTERNAL,
                                       "resampler error: %s", e);
            if (odone == 0)
                r->flushed = 1;
            r->stage_len = odone;
        } else {
            r->done = 1;
        }
    }
    return VX_OK;
}

int vx_audio_reader_read(vx_audio_reader *r, float *buf, size_t max,
                         size_t *n_read, vx_error *err)
{
    if (n_read)
        *n_read = 0;
    if (!r || !buf || !n_read)
        return vx__error_set(err, VX_EINVAL, "vx_audio_reader_read: %s is NULL",
                             !r ? "reader" : !buf ? "buf" : "n_read");
    if (max == 0)
        return vx__error_set(err, VX_EINVAL, "vx_audio_reader_read: max is 0");
    if (r->fail.code != VX_OK) {
        if (err)
            *err = r->fail;
        return r->fail.code;
    }
    if (!r->started) {
        r->started = 1;
        if (r->trunc_msg[0])
            return vx__reader_fail(r, err, VX_ETRUNC, "%s", r->trunc_msg);
        if (r->frames_known) {
            double dur = (double)r->info.frames / r->info.samplerate;
            if (dur < r->opts.min_duration_s)
                return vx__reader_fail(r, err, VX_ETOOSHORT,
                                       "audio is %.2f s long; minimum is "
                                       "%.2f s",
                                       dur, r->opts.min_duration_s);
        }
    }

    size_t n = 0;
    while (n < max) {
        if (r->stage_pos < r->stage_len) {
            size_t k = r->stage_len - r->stage_pos;
            if (k > max - n)
                k = max - n;
            if (r->eof && r->n_out + k > r->n_out_end) /* fix_length trim */
                k = r->n_out_end > r->n_out ? (size_t)(r->n_out_end - r->n_out)
                                            : 0;
            if (k == 0) { /* past the librosa length: drop the rest */
                r->stage_pos = r->stage_len;
                continue;
            }
            memcpy(buf + n, r->stage + r->stage_pos, k * sizeof(float));
            r->stage_pos += k;
            r->n_out += k;
            n += k;
            continue;
        }
        if (r->soxr && !r->done && r->mono_pos < r->mono_len && max - n >= VX__STAGE_SAMPLES) {
            /* Resample straight into the caller's buffer (saves a copy
             * through the stage; the output stream does not depend on how
             * it is drained).  Input is pending, so the file has not
             * reached EOF and no fix_length trim applies yet. */
            size_t idone = 0, odone = 0;
            soxr_error_t e = soxr_process(r->soxr, r->mono + r->mono_pos,
                                          r->mono_len - r->mono_pos, &idone,
                                          buf + n, max - n, &odone);
            if (e)
                return vx__reader_fail(r, err, VX_EINTERNAL,
                                       "resampler error: %s", e);
            r->mono_pos += idone;
            r->n_out += odone;
            n += odone;
            if (idone || odone)
                continue;
            /* no progress (not expected): go through the stage below */
        }
        if (r->done) {
            /* fix_length pad: zeros up to the librosa length */
            while (n < max && r->n_out < r->n_out_end) {
                buf[n++] = 0.0f;
                r->n_out++;
            }
            break;
        }
        int rc = vx__reader_refill(r, err);
        if (rc != VX_OK)
            return rc;
    }
    *n_read = n;
    vx__error_clear(err);
    return VX_OK;
}

/* ------------------------------------------------------------------ */
/* Whole-signal decode                                                 */
/* ------------------------------------------------------------------ */
void vx_audio_free(vx_audio *audio)
{
    if (!audio)
        return;
    free(audio->samples);
    free(audio);
}

static int vx__decode_all(vx_audio_reader *r, vx_audio **out, vx_error *err)
{
    /* Hard cap: the longest output the duration limit allows, plus one for
     * the ceil rule.  The reader enforces the limit; the cap guards it. */
    double cap_d = ceil(r->opts.max_duration_s * r->out_rate) + 2.0;
    double max_elems = (double)(SIZE_MAX / sizeof(float));
    size_t cap = cap_d >= max_elems ? (size_t)(SIZE_MAX / sizeof(float))
                                    : (size_t)cap_d;
    size_t alloc = 65536;
    if (r->frames_known) {
        double expect = ceil((double)r->info.frames * r->ratio) + 1.0;
        if (expect < (double)alloc)
            alloc = (size_t)expect;
        else
            alloc = expect >= (double)cap ? cap : (size_t)expect;
    }
    if (alloc > cap)
        alloc = cap;
    if (alloc < 16)
        alloc = 16;

    vx_audio *a = calloc(1, sizeof *a);
    float *buf = malloc(alloc * sizeof(float));
    if (!a || !buf) {
        free(a);
        free(buf);
        return vx__error_set(err, VX_ENOMEM, "%s: out of memory", r->label);
    }
    size_t len = 0;
    for (;;) {
        if (len == alloc) {
            if (alloc >= cap) {
                free(buf);
                free(a);
                return vx__reader_fail(r, err, VX_ETOOLONG,
                                       "decoded audio exceeds %zu samples "
                                       "(max_duration_s %.2f)",
                                       cap, r->opts.max_duration_s);
            }
            size_t next = alloc > cap / 2 ? cap : alloc * 2;
            float *nb = realloc(buf, next * sizeof(float));
            if (!nb) {
                free(buf);
                free(a);
                return vx__error_set(err, VX_ENOMEM,
                                     "%s: out of memory for %zu samples",
                                     r->label, next);
            }
            buf = nb;
            alloc = next;
        }
        size_t got = 0;
        int rc = vx_audio_reader_read(r, buf + len, alloc - len, &got, err);
        if (rc != VX_OK) {
            free(buf);
            free(a);
            return rc;
        }
        if (got == 0)
            break;
        len += got;
    }
    if (len < alloc && len > 0) { /* give back the slack */
        float *nb = realloc(buf, len * sizeof(float));
        if (nb)
            buf = nb;
    }
    a->samples = buf;
    a->n_samples = len;
    a->sample_rate_hz = r->out_rate;
    *out = a;
    vx__error_clear(err);
    return VX_OK;
}

int vx_audio_decode_file(const char *path, const vx_decode_opts *opts,
                         vx_audio **out, vx_error *err)
{
    if (out)
        *out = NULL;
    if (!out)
        return vx__error_set(err, VX_EINVAL, "vx_audio_decode_file: out is NULL");
    vx_audio_reader *r = NULL;
    int rc = vx_audio_reader_open_file(path, opts, &r, err);
    if (rc != VX_OK)
        return rc;
    rc = vx__decode_all(r, out, err);
    vx_audio_reader_free(r);
    return rc;
}

int vx_audio_decode_memory(const void *data, size_t size,
                           const vx_decode_opts *opts, vx_audio **out,
                           vx_error *err)
{
    if (out)
        *out = NULL;
    if (!out)
        return vx__error_set(err, VX_EINVAL,
                             "vx_audio_decode_memory: out is NULL");
    vx_audio_reader *r = NULL;
    int rc = vx_audio_reader_open_memory(data, size, opts, &r, err);
    if (rc != VX_OK)
        return rc;
    rc = vx__decode_all(r, out, err);
    vx_audio_reader_free(r);
    return rc;
}
