/*
 * encode.c -- a clone result as WAV (PCM16) or MP3 (LAME), in memory or to
 * a file.
 *
 * DESIGN: both encoders are deterministic, so the same result gives the same
 * bytes.  WAV: canonical 44-byte RIFF header, mono PCM16, samples clipped to
 * [-1, 1] and rounded to nearest (no dither: dither would need noise).
 * MP3: LAME, mono, CBR 64 kbit/s, quality 2, no Xing/VBR tag and no ID3 tag;
 * LAME's own messages are silenced (the library never prints).  MPEG audio
 * exists only at 16000, 22050, 24000, 32000, 44100 and 48000 Hz in the
 * 16-48 kHz range: another sample_rate is written at the nearest of these
 * (LAME resamples).  The format of vx_clone_result_write comes from the file
 * extension (.wav / .mp3, any case).
 */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <lame/lame.h>

#include "core/error.h"
#include "tts/engine_private.h"

static void put_u16(unsigned char *p, unsigned v)
{
    p[0] = (unsigned char)(v & 0xFF);
    p[1] = (unsigned char)((v >> 8) & 0xFF);
}

static void put_u32(unsigned char *p, unsigned long v)
{
    put_u16(p, (unsigned)(v & 0xFFFF));
    put_u16(p + 2, (unsigned)((v >> 16) & 0xFFFF));
}

static int encode_wav(const vx_clone_result *r, unsigned char **data, size_t *size,
                      vx_error *err)
{
    size_t n = r->n_samples, i, bytes;
    unsigned char *b;
    if (n > (0xFFFFFFFFul - 44) / 2)
        return vx__error_set(err, VX_ELIMIT, "wav: %zu samples do not fit a WAV file", n);
    bytes = 44 + 2 * n;
    b = malloc(bytes);
    if (!b)
        return vx__error_set(err, VX_ENOMEM, "wav: out of memory");
    memcpy(b, "RIFF", 4);
    put_u32(b + 4, (unsigned long)(bytes - 8));
    memcpy(b + 8, "WAVEfmt ", 8);
    put_u32(b + 16, 16);
    put_u16(b + 20, 1); /* PCM */
    put_u16(b + 22, 1); /* mono */
    put_u32(b + 24, (unsigned long)r->rate_hz);
    put_u32(b + 28, (unsigned long)r->rate_hz * 2);
    put_u16(b + 32, 2);
    put_u16(b + 34, 16);
    memcpy(b + 36, "data", 4);
    put_u32(b + 40, (unsigned long)(2 * n));
    for (i = 0; i < n; i++) {
        float v = r->samples[i];
        long q;
        if (!(v == v))
            v = 0.0f;
        if (v > 1.0f)
            v = 1.0f;
        if (v < -1.0f)
            v = -1.0f;
        q = lrintf(v * 32767.0f);
        put_u16(b + 44 + 2 * i, (unsigned)(q & 0xFFFF));
    }
    *data = b;
    *size = bytes;
    return VX_OK;
}

static void lame_silent(const char *fmt, va_list ap)
{
    (void)fmt;
    (void)ap;
}

static int mp3_rate(int rate)
{
    static const int rates[] = {16000, 22050, 24000, 32000, 44100, 48000};
    int best = rates[0];
    size_t i;
    for (i = 0; i < sizeof rates / sizeof rates[0]; i++)
        if (abs(rates[i] - rate) < abs(best - rate))
            best = rates[i];
    return best;
}

static int encode_mp3(const vx_clone_result *r, unsigned char **data, size_t *size,
                      vx_error *err)
{
    const size_t block = 1u << 16;
    lame_global_flags *g;
    unsigned char *buf;
    size_t cap, len = 0, i;
    float *tmp;
    int rc = VX_OK, k;
    if (r->rate_hz < 8000 || r->rate_hz > 192000)
        return vx__error_set(err, VX_EINVAL, "mp3: sample rate %d Hz is not supported",
                             r->rate_hz);
    g = lame_init();
    if (!g)
        return vx__error_set(err, VX_ENOMEM, "mp3: cannot create the LAME encoder");
    lame_set_errorf(g, lame_silent);
    lame_set_debugf(g, lame_silent);
    lame_set_msgf(g, lame_silent);
    lame_set_in_samplerate(g, r->rate_hz);
    lame_set_out_samplerate(g, mp3_rate(r->rate_hz));
    lame_set_num_channels(g, 1);
    lame_set_mode(g, MONO);
    lame_set_brate(g, 64);
    lame_set_quality(g, 2);
    lame_set_bWriteVbrTag(g, 0);
    if (lame_init_params(g) < 0) {
        lame_close(g);
        return vx__error_set(err, VX_EINTERNAL, "mp3: LAME refused the parameters (%d Hz)",
                             r->rate_hz);
    }
    cap = r->n_samples + r->n_samples / 4 + 7200 + 16384;
    buf = malloc(cap);
    tmp = malloc(block * sizeof *tmp);
    if (!buf || !tmp) {
        free(buf);
        free(tmp);
        lame_close(g);
        return vx__error_set(err, VX_ENOMEM, "mp3: out of memory");
    }
    for (i = 0; i < r->n_samples && rc == VX_OK; i += block) {
        size_t m = r->n_samples - i < block ? r->n_samples - i : block, j;
        for (j = 0; j < m; j++) {
            float v = r->samples[i + j];
            tmp[j] = !(v == v) ? 0.0f : v > 1.0f ? 1.0f : v < -1.0f ? -1.0f : v;
        }
        if (cap - len < m + m / 4 + 7200) {
            size_t ncap = (len + m + m / 4 + 7200) * 2;
            unsigned char *q = realloc(buf, ncap);
            if (!q) {
                rc = vx__error_set(err, VX_ENOMEM, "mp3: out of memory");
                break;
            }
            buf = q;
            cap = ncap;
        }
        k = lame_encode_buffer_ieee_float(g, tmp, tmp, (int)m, buf + len, (int)(cap - len));
        if (k < 0)
            rc = vx__error_set(err, VX_EINTERNAL, "mp3: LAME encoding failed (%d)", k);
        else
            len += (size_t)k;
    }
    if (rc == VX_OK) {
        if (cap - len < 7200) {
            unsigned char *q = realloc(buf, len + 7200);
            if (!q)
                rc = vx__error_set(err, VX_ENOMEM, "mp3: out of memory");
            else {
                buf = q;
                cap = len + 7200;
            }
        }
        if (rc == VX_OK) {
            k = lame_encode_flush(g, buf + len, (int)(cap - len));
            if (k < 0)
                rc = vx__error_set(err, VX_EINTERNAL, "mp3: LAME flush failed (%d)", k);
            else
                len += (size_t)k;
        }
    }
    free(tmp);
    lame_close(g);
    if (rc != VX_OK) {
        free(buf);
        return rc;
    }
    *data = buf;
    *size = len;
    return VX_OK;
}

int vx_clone_result_encode(const vx_clone_result *r, vx_audio_format fmt, unsigned char **data,
                           size_t *size, vx_error *err)
{
    vx__error_clear(err);
    if (!r || !data || !size)
        return vx__error_set(err, VX_EINVAL, "encode: invalid argument");
    if (!r->samples && r->n_samples)
        return vx__error_set(err, VX_EINVAL, "encode: the result holds no samples");
    if (r->rate_hz <= 0)
        return vx__error_set(err, VX_EINVAL, "encode: invalid sample rate %d", r->rate_hz);
    switch (fmt) {
    case VX_AUDIO_FORMAT_WAV:
        return encode_wav(r, data, size, err);
    case VX_AUDIO_FORMAT_MP3:
        return encode_mp3(r, data, size, err);
    default:
        return vx__error_set(err, VX_EINVAL, "encode: unknown audio format %d", (int)fmt);
    }
}

int vx_clone_result_write(const vx_clone_result *r, const char *path, vx_error *err)
{
    const char *dot;
    vx_audio_format fmt;
    unsigned char *data = NULL;
    size_t size = 0;
    FILE *f;
    int rc;
    vx__error_clear(err);
    if (!r || !path || !*path)
        return vx__error_set(err, VX_EINVAL, "write: invalid argument");
    dot = strrchr(path, '.');
    if (dot && !strcasecmp(dot, ".wav"))
        fmt = VX_AUDIO_FORMAT_WAV;
    else if (dot && !strcasecmp(dot, ".mp3"))
        fmt = VX_AUDIO_FORMAT_MP3;
    else
        return vx__error_set(err, VX_EINVAL,
                             "%s: cannot tell the audio format: use a .wav or .mp3 file name",
                             path);
    rc = vx_clone_result_encode(r, fmt, &data, &size, err);
    if (rc != VX_OK)
        return rc;
    f = fopen(path, "wb");
    if (!f) {
        rc = vx__error_set(err, VX_EIO, "%s: %s", path, strerror(errno));
        free(data);
        return rc;
    }
    if (fwrite(data, 1, size, f) != size) {
        rc = vx__error_set(err, VX_EIO, "%s: %s", path, strerror(errno));
        fclose(f);
        free(data);
        return rc;
    }
    free(data);
    if (fclose(f) != 0)
        return vx__error_set(err, VX_EIO, "%s: %s", path, strerror(errno));
    return VX_OK;
}
