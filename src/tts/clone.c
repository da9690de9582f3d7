/*
 * clone.c -- vx_voice, vx_clone_text, vx_convert_audio, results.
 *
 * DESIGN: a vx_voice is built once from the reference: decoded at
 * 22050 Hz, analysed in detail (pitch, metrics, voiceprint), refused when
 * it holds under 1 s of voiced speech, fitted (fit.c) and turned into the
 * converter's statistics (convert.c); the samples are then dropped.  The
 * only mutable part is a small cache of closed-loop pitch calibrations per
 * (engine, language) behind the voice's own mutex: a calibration depends
 * only on the voice, the engine and the language, so using the cache or not
 * (enable_caching) never changes the audio.
 *
 * vx_clone_text: check the arguments (UTF-8 text of 1..VX_CLONE_MAX_TEXT
 * bytes, a language tag, valid settings), apply auto_optimize (cfg_weight =
 * 0 for non-English, reported as adjusted), then for the preferred engine of
 * the language (vx__engine_choose; falls back to the next engine when one
 * fails -- not when the text is at fault, EINVAL): split the text at sentence ends (. ! ? ; and their CJK, Arabic and
 * Devanagari forms, or line breaks; pieces over 400 bytes are cut at a comma
 * or a space), synthesise each piece with a seed derived from (seed, piece
 * index), trim its silences to 30 ms margins and join the pieces with a
 * 250 ms pause (80 ms inside a sentence), each edge crossfaded over 10 ms
 * with raised-cosine gains, so no join can click.  Nothing here is
 * serialised: espeak-ng synthesises in worker processes, only flite's calls
 * take the engine lock, and the converter (vx__convert), the verification
 * analysis and the encoding run in parallel.  With
 * verify_quality the output is resampled to 22050 Hz, analysed like the
 * reference and scored (SPEC section 3 formula + voiceprint cosine).
 */
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/error.h"
#include "tts/engine_private.h"
#include "tts/tts_internal.h"

#define MIN_VOICED_S 1.0
#define HOP 512
#define PIECE_MAX 400
#define PAUSE_SENTENCE_MS 250
#define PAUSE_CLAUSE_MS 80
#define XFADE_MS 10
#define MARGIN_MS 30
#define SILENCE_THR 0.003f
/* a piece whose peak stays below -34 dBFS is silence (flite says "..." as a
 * 0.23 s breath at -46 dBFS) */
#define SPEECH_PEAK_MIN 0.02f
#define N_CAL 32
/* Parameters no conversion of a recording uses: the token-sampling ones,
 * and auto_optimize (a recording has no target language to adapt to). */
#define CONVERT_UNUSED (VX_PARAM_MASK_TOKEN_SAMPLING | VX_PARAM_BIT(VX_PARAM_AUTO_OPTIMIZE))

typedef struct cal_entry {
    const vx__engine *engine;
    char tag[VX__LANG_TAG_MAX + 1];
    vx__voice_fit fit;
} cal_entry;

struct vx_voice {
    vx_analysis *analysis;
    vx__conv_stats *stats;
    vx__voice_fit fit;
    pthread_mutex_t lock; /* cal, n_cal */
    cal_entry cal[N_CAL];
    size_t n_cal;
};

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec * 1e-6;
}

/* ---- voices -------------------------------------------------------------- */

static int voice_from_audio(vx_audio *au, vx_voice **out, vx_error *err)
{
    vx_analysis_opts o;
    vx_voice *v;
    double voiced_s;
    int rc;
    v = calloc(1, sizeof *v);
    if (!v)
        return vx__error_set(err, VX_ENOMEM, "voice: out of memory");
    vx_analysis_opts_init(&o);
    o.detailed = 1;
    rc = vx_analyze_samples(au->samples, au->n_samples, au->sample_rate_hz, &o, &v->analysis,
                            err);
    if (rc != VX_OK) {
        free(v);
        return rc;
    }
    voiced_s = (double)v->analysis->n_voiced * HOP / (double)VX_ANALYSIS_RATE_HZ;
    if (voiced_s < MIN_VOICED_S) {
        rc = vx__error_set(err, VX_EINVAL,
                           "the reference holds %.2f s of voiced speech; at least %.1f s is "
                           "needed to fit a voice (record a few seconds of natural speech)",
                           voiced_s, MIN_VOICED_S);
        goto fail;
    }
    rc = vx__fit_from_analysis(v->analysis, &v->fit, err);
    if (rc != VX_OK)
        goto fail;
    rc = vx__conv_stats_new(au->samples, au->n_samples, au->sample_rate_hz, v->analysis,
                            &v->stats, err);
    if (rc != VX_OK)
        goto fail;
    if (pthread_mutex_init(&v->lock, NULL) != 0) {
        rc = vx__error_set(err, VX_EINTERNAL, "voice: cannot create a mutex");
        vx__conv_stats_free(v->stats);
        goto fail;
    }
    *out = v;
    return VX_OK;
fail:
    vx_analysis_free(v->analysis);
    free(v);
    return rc;
}

int vx_voice_from_file(const char *path, vx_voice **out, vx_error *err)
{
    vx_decode_opts d;
    vx_audio *au = NULL;
    int rc;
    vx__error_clear(err);
    if (!path || !out)
        return vx__error_set(err, VX_EINVAL, "voice: %s is NULL", !path ? "path" : "out");
    vx_decode_opts_init(&d);
    d.target_rate_hz = VX_ANALYSIS_RATE_HZ;
    rc = vx_audio_decode_file(path, &d, &au, err);
    if (rc != VX_OK)
        return rc;
    rc = voice_from_audio(au, out, err);
    vx_audio_free(au);
    return rc;
}

int vx_voice_from_memory(const void *data, size_t size, vx_voice **out, vx_error *err)
{
    vx_decode_opts d;
    vx_audio *au = NULL;
    int rc;
    vx__error_clear(err);
    if (!data || !out)
        return vx__error_set(err, VX_EINVAL, "voice: %s is NULL", !data ? "data" : "out");
    vx_decode_opts_init(&d);
    d.target_rate_hz = VX_ANALYSIS_RATE_HZ;
    rc = vx_audio_decode_memory(data, size, &d, &au, err);
    if (rc != VX_OK)
        return rc;
    rc = voice_from_audio(au, out, err);
    vx_audio_free(au);
    return rc;
}

const vx_analysis *vx_voice_analysis(const vx_voice *v)
{
    return v ? v->analysis : NULL;
}

void vx_voice_free(vx_voice *v)
{
    if (!v)
        return;
    vx_analysis_free(v->analysis);
    vx__conv_stats_free(v->stats);
    pthread_mutex_destroy(&v->lock);
    free(v);
}

/* The calibrated fit for (engine, language), from the cache when allowed. */
static int calibrated_fit(const vx_voice *cv, const vx__engine *e, const char *tag,
                          const char *base, int use_cache, vx__voice_fit *out, vx_error *err)
{
    vx_voice *v = (vx_voice *)cv; /* the cache is the only mutable part */
    size_t i;
    int rc;
    if (use_cache) {
        pthread_mutex_lock(&v->lock);
        for (i = 0; i < v->n_cal; i++) {
            if (v->cal[i].engine == e && !strcmp(v->cal[i].tag, tag)) {
                *out = v->cal[i].fit;
                pthread_mutex_unlock(&v->lock);
                return VX_OK;
            }
        }
        pthread_mutex_unlock(&v->lock);
    }
    rc = vx__fit_calibrate(e, tag, base, &v->fit, out, err);
    if (rc != VX_OK || !use_cache)
        return rc;
    pthread_mutex_lock(&v->lock);
    for (i = 0; i < v->n_cal; i++)
        if (v->cal[i].engine == e && !strcmp(v->cal[i].tag, tag))
            break;
    if (i == v->n_cal && v->n_cal < N_CAL) {
        v->cal[i].engine = e;
        snprintf(v->cal[i].tag, sizeof v->cal[i].tag, "%s", tag);
        v->cal[i].fit = *out;
        v->n_cal++;
    }
    pthread_mutex_unlock(&v->lock);
    return VX_OK;
}

/* ---- text ------------------------------------------------------------------ */

/* Byte offset of the first invalid UTF-8 sequence, or -1. */
static long utf8_invalid_at(const unsigned char *s, size_t n)
{
    size_t i = 0;
    while (i < n) {
        unsigned c = s[i];
        size_t k, len;
        unsigned cp;
        if (c < 0x80) {
            i++;
            continue;
        }
        if (c >= 0xC2 && c <= 0xDF) {
            len = 2;
            cp = c & 0x1F;
        } else if (c >= 0xE0 && c <= 0xEF) {
            len = 3;
            cp = c & 0x0F;
        } else if (c >= 0xF0 && c <= 0xF4) {
            len = 4;
            cp = c & 0x07;
        } else {
            return (long)i;
        }
        if (i + len > n)
            return (long)i;
        for (k = 1; k < len; k++) {
            if ((s[i + k] & 0xC0) != 0x80)
                return (long)i;
            cp = (cp << 6) | (s[i + k] & 0x3F);
        }
        if ((len == 3 && (cp < 0x800 || (cp >= 0xD800 && cp <= 0xDFFF))) ||
            (len == 4 && (cp < 0x10000 || cp > 0x10FFFF)))
            return (long)i;
        i += len;
    }
    return -1;
}

static int is_space(unsigned char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

typedef struct piece {
    size_t start, len;
    int sentence_end; /* 1: pause of a sentence after it; 0: clause pause */
} piece;

/* Length in bytes of a sentence terminator at s[i], or 0.  ASCII . ! ? ;
 * count only before a space or the end (so "3.5" and "e.g.x" stay whole). */
static size_t terminator_at(const char *s, size_t i, size_t n)
{
    static const char *const wide[] = {
        "\xE3\x80\x82", /* 。 */ "\xEF\xBC\x81", /* ！ */ "\xEF\xBC\x9F", /* ？ */
        "\xEF\xBC\x9B", /* ； */ "\xD8\x9F",     /* ؟ */ "\xE0\xA5\xA4", /* । */
        "\xE0\xA5\xA5", /* ॥ */
    };
    size_t k;
    char c = s[i];
    if (c == '.' || c == '!' || c == '?' || c == ';')
        return (i + 1 == n || is_space((unsigned char)s[i + 1])) ? 1 : 0;
    if (c == '\n')
        return 1;
    for (k = 0; k < sizeof wide / sizeof wide[0]; k++) {
        size_t l = strlen(wide[k]);
        if (i + l <= n && !memcmp(s + i, wide[k], l))
            return l;
    }
    /* … (U+2026) before a space or the end */
    if (i + 3 <= n && !memcmp(s + i, "\xE2\x80\xA6", 3) && (i + 3 == n || is_space((unsigned char)s[i + 3])))
        return 3;
    return 0;
}

/* Closing quotes / brackets that stay with the sentence before them. */
static size_t closer_at(const char *s, size_t i, size_t n)
{
    static const char *const cl[] = {"\"", "'", ")", "]", "\xE2\x80\x9D", "\xC2\xBB",
                                     "\xE3\x80\x8D", "\xE3\x80\x8F", "\xEF\xBC\x89"};
    size_t k;
    for (k = 0; k < sizeof cl / sizeof cl[0]; k++) {
        size_t l = strlen(cl[k]);
        if (i + l <= n && !memcmp(s + i, cl[k], l))
            return l;
    }
    return 0;
}

static int has_content(const char *s, size_t n)
{
    size_t i;
    for (i = 0; i < n; i++)
        if (!is_space((unsigned char)s[i]))
            return 1;
    return 0;
}

typedef struct piece_list {
    piece *p;
    size_t n, cap;
} piece_list;

static int add_piece(piece_list *l, size_t start, size_t len, int sentence_end, const char *s)
{
    while (len && is_space((unsigned char)s[start])) {
        start++;
        len--;
    }
    while (len && is_space((unsigned char)s[start + len - 1]))
        len--;
    if (!has_content(s + start, len))
        return 0;
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 16;
        piece *q = realloc(l->p, cap * sizeof *q);
        if (!q)
            return -1;
        l->p = q;
        l->cap = cap;
    }
    l->p[l->n].start = start;
    l->p[l->n].len = len;
    l->p[l->n].sentence_end = sentence_end;
    l->n++;
    return 0;
}

/* Cut a sentence longer than PIECE_MAX at a comma or a space (UTF-8 safe). */
static int add_sentence(piece_list *l, const char *s, size_t start, size_t len)
{
    while (len > PIECE_MAX) {
        size_t cut = 0, i;
        for (i = PIECE_MAX; i > PIECE_MAX / 3 && !cut; i--) {
            size_t at = start + i;
            if (s[at - 1] == ',' && is_space((unsigned char)s[at]))
                cut = i;
            else if (i >= 3 && (!memcmp(s + at - 3, "\xE3\x80\x81", 3) ||  /* 、 */
                                !memcmp(s + at - 3, "\xEF\xBC\x8C", 3)))  /* ， */
                cut = i;
        }
        for (i = PIECE_MAX; i > PIECE_MAX / 3 && !cut; i--)
            if (is_space((unsigned char)s[start + i]))
                cut = i;
        if (!cut) {
            cut = PIECE_MAX;
            while (cut > 1 && ((unsigned char)s[start + cut] & 0xC0) == 0x80)
                cut--;
        }
        if (add_piece(l, start, cut, 0, s) != 0)
            return -1;
        start += cut;
        len -= cut;
    }
    return add_piece(l, start, len, 1, s);
}

static int split_text(const char *s, piece_list *l)
{
    size_t n = strlen(s), i = 0, start = 0;
    while (i < n) {
        size_t t = terminator_at(s, i, n);
        if (t) {
            size_t end = i + t;
            while (end < n) {
                size_t k = terminator_at(s, end, n);
                if (!k)
                    k = closer_at(s, end, n);
                if (!k)
                    break;
                end += k;
            }
            if (add_sentence(l, s, start, end - start) != 0)
                return -1;
            start = i = end;
        } else {
            i++;
        }
    }
    if (start < n && add_sentence(l, s, start, n - start) != 0)
        return -1;
    return 0;
}

/* ---- joining ------------------------------------------------------------- */

typedef struct fbuf {
    float *x;
    size_t n, cap;
} fbuf;

static int fb_reserve(fbuf *b, size_t extra)
{
    if (b->n + extra > b->cap) {
        size_t cap = (b->n + extra) * 3 / 2 + 1024;
        float *q = realloc(b->x, cap * sizeof *q);
        if (!q)
            return -1;
        b->x = q;
        b->cap = cap;
    }
    return 0;
}

/* Appends src (may be NULL for silence of length n) with a raised-cosine
 * crossfade over the last / first f samples. */
static int append_xfade(fbuf *b, const float *src, size_t n, size_t f)
{
    size_t i, ov;
    if (fb_reserve(b, n) != 0)
        return -1;
    ov = f;
    if (ov > b->n)
        ov = b->n;
    if (ov > n)
        ov = n;
    for (i = 0; i < ov; i++) {
        double w = 0.5 - 0.5 * cos(3.141592653589793 * ((double)i + 0.5) / (double)ov);
        float v = src ? src[i] : 0.0f;
        float *d = &b->x[b->n - ov + i];
        *d = (float)((double)*d * (1.0 - w) + (double)v * w);
    }
    for (i = ov; i < n; i++)
        b->x[b->n - ov + i] = src ? src[i] : 0.0f;
    b->n += n - ov;
    return 0;
}

/* The [lo, hi) range of p with silences trimmed to margin samples. */
static void trim_range(const vx__pcm *p, size_t margin, size_t *lo, size_t *hi)
{
    size_t a = 0, z = p->n;
    while (a < p->n && fabsf(p->x[a]) < SILENCE_THR)
        a++;
    if (a == p->n) {
        *lo = *hi = 0;
        return;
    }
    while (z > a && fabsf(p->x[z - 1]) < SILENCE_THR)
        z--;
    *lo = a > margin ? a - margin : 0;
    *hi = z + margin < p->n ? z + margin : p->n;
}

static float peak_of(const vx__pcm *p)
{
    float m = 0.0f;
    size_t i;
    for (i = 0; i < p->n; i++)
        if (fabsf(p->x[i]) > m)
            m = fabsf(p->x[i]);
    return m;
}

/* ---- synthesis of a whole text by one engine ----------------------------- */

static int synth_text(const vx__engine *e, const char *tag, const char *text,
                      const piece_list *pl, const vx__voice_fit *fit, const vx_settings *s,
                      uint64_t seed, vx__pcm *out, vx_error *err)
{
    fbuf b = {0};
    size_t i;
    int rate = 0, rc = VX_OK;
    for (i = 0; i < pl->n && rc == VX_OK; i++) {
        vx__pcm p = {0};
        char *piece_text;
        size_t lo, hi, xf, margin;
        uint64_t pseed = vx__mix64(seed ^ vx__mix64((uint64_t)i + 1));
        piece_text = malloc(pl->p[i].len + 1);
        if (!piece_text) {
            rc = vx__error_set(err, VX_ENOMEM, "out of memory");
            break;
        }
        memcpy(piece_text, text + pl->p[i].start, pl->p[i].len);
        piece_text[pl->p[i].len] = '\0';
        rc = e->synth(tag, piece_text, fit, s, pseed, &p, err);
        free(piece_text);
        if (rc != VX_OK)
            break;
        if (rate == 0)
            rate = p.rate_hz;
        if (p.rate_hz != rate || rate <= 0) {
            free(p.x);
            rc = vx__error_set(err, VX_EINTERNAL, "%s: inconsistent sample rates", e->name);
            break;
        }
        margin = (size_t)rate * MARGIN_MS / 1000;
        xf = (size_t)rate * XFADE_MS / 1000;
        trim_range(&p, margin, &lo, &hi);
        if (hi > lo && peak_of(&p) >= SPEECH_PEAK_MIN) {
            if (b.n > 0) {
                size_t pause = (size_t)rate *
                               (pl->p[i - 1].sentence_end ? PAUSE_SENTENCE_MS : PAUSE_CLAUSE_MS) /
                               1000;
                if (append_xfade(&b, NULL, pause, xf) != 0)
                    rc = vx__error_set(err, VX_ENOMEM, "out of memory");
            }
            if (rc == VX_OK && append_xfade(&b, p.x + lo, hi - lo, b.n ? xf : 0) != 0)
                rc = vx__error_set(err, VX_ENOMEM, "out of memory");
        }
        free(p.x);
    }
    if (rc != VX_OK) {
        free(b.x);
        return rc;
    }
    if (b.n == 0) {
        free(b.x);
        return vx__error_set(err, VX_EINVAL, "the text has nothing to speak (%s produced silence)",
                             e->name);
    }
    /* fade the very first and last samples in and out */
    {
        size_t f = (size_t)rate * 5 / 1000, k;
        if (f > b.n / 2)
            f = b.n / 2;
        for (k = 0; k < f; k++) {
            float w = (float)(0.5 - 0.5 * cos(3.141592653589793 * ((double)k + 0.5) / (double)f));
            b.x[k] *= w;
            b.x[b.n - 1 - k] *= w;
        }
    }
    out->x = b.x;
    out->n = b.n;
    out->rate_hz = rate;
    return VX_OK;
}

/* ---- results ------------------------------------------------------------------ */

static int verify(const vx_voice *voice, vx_clone_result *r, vx_error *err)
{
    vx__pcm p = {0};
    vx_analysis_opts o;
    vx_analysis *a = NULL;
    int rc = vx__pcm_resample(r->samples, r->n_samples, r->rate_hz, VX_ANALYSIS_RATE_HZ, &p, err);
    if (rc != VX_OK)
        return rc;
    vx_analysis_opts_init(&o);
    o.detailed = 1;
    o.n_threads = 1;
    rc = vx_analyze_samples(p.x, p.n, VX_ANALYSIS_RATE_HZ, &o, &a, err);
    free(p.x);
    if (rc != VX_OK)
        return rc;
    vx_similarity_compute(voice->analysis, a, &r->similarity);
    r->voiceprint_similarity =
        (a->has_voiceprint && voice->analysis->has_voiceprint)
            ? vx_voiceprint_similarity(voice->analysis->voiceprint, a->voiceprint)
            : 0.0;
    r->has_similarity = 1;
    vx_analysis_free(a);
    return VX_OK;
}

void vx_clone_result_free(vx_clone_result *r)
{
    if (!r)
        return;
    free(r->samples);
    free(r);
}

static int check_settings(const vx_settings *settings, vx_settings *s, vx_error *err)
{
    if (settings) {
        int rc = vx_settings_validate(settings, err);
        if (rc != VX_OK)
            return rc;
        *s = *settings;
    } else {
        vx_settings_defaults(s);
    }
    return VX_OK;
}

/* Conversion + verification + bookkeeping shared by text and audio input. */
static int finish(const vx_voice *voice, vx__pcm *base, const vx_settings *eff, uint64_t seed,
                  vx_clone_result *r, double t0, vx_error *err)
{
    vx__pcm out = {0};
    double t1 = now_ms();
    int rc = vx__convert(base, voice->stats, eff, seed, eff->sample_rate_hz, &out, err);
    if (rc != VX_OK)
        return rc;
    r->convert_ms = now_ms() - t1;
    r->samples = out.x;
    r->n_samples = out.n;
    r->rate_hz = out.rate_hz;
    r->duration_s = out.rate_hz > 0 ? (double)out.n / out.rate_hz : 0.0;
    snprintf(r->device, sizeof r->device, "cpu");
    r->effective = *eff;
    if (eff->verify_quality) {
        rc = verify(voice, r, err);
        if (rc != VX_OK)
            return rc;
    }
    r->total_ms = now_ms() - t0;
    return VX_OK;
}

int vx_clone_text(const vx_voice *voice, const char *lang, const char *text,
                  const vx_settings *settings, uint64_t seed, vx_clone_result **out,
                  vx_error *err)
{
    double t0 = now_ms();
    char tag[VX__LANG_TAG_MAX + 1], base[8];
    vx_settings s, eff;
    vx_param_mask adjusted = 0;
    piece_list pl = {0};
    vx__pcm pcm = {0};
    vx_clone_result *r;
    const vx__engine *eng = NULL;
    char first_err[256] = "";
    size_t n;
    long bad;
    int rc, skip;

    vx__error_clear(err);
    if (!voice || !out)
        return vx__error_set(err, VX_EINVAL, "clone: %s is NULL", !voice ? "voice" : "out");
    if (!text)
        return vx__error_set(err, VX_EINVAL, "clone: text is NULL");
    n = strlen(text);
    if (n > VX_CLONE_MAX_TEXT)
        return vx__error_set(err, VX_EINVAL, "text is %zu bytes long; the limit is %d bytes", n,
                             VX_CLONE_MAX_TEXT);
    if (!has_content(text, n))
        return vx__error_set(err, VX_EINVAL, "text is empty");
    bad = utf8_invalid_at((const unsigned char *)text, n);
    if (bad >= 0)
        return vx__error_set(err, VX_EINVAL, "text is not valid UTF-8 (byte %ld)", bad);
    rc = vx__lang_normalize(lang, tag, base, err);
    if (rc != VX_OK)
        return rc;
    if (!vx__engine_choose(tag, 0, err))
        return VX_EINVAL;
    rc = check_settings(settings, &s, err);
    if (rc != VX_OK)
        return rc;
    rc = vx_settings_auto_optimize(&s, tag, &eff, &adjusted, err);
    if (rc != VX_OK)
        return rc;
    if (split_text(text, &pl) != 0) {
        free(pl.p);
        return vx__error_set(err, VX_ENOMEM, "out of memory");
    }
    r = calloc(1, sizeof *r);
    if (!r) {
        free(pl.p);
        return vx__error_set(err, VX_ENOMEM, "out of memory");
    }

    for (skip = 0;; skip++) {
        vx_error e2;
        vx__voice_fit fit;
        eng = vx__engine_choose(tag, skip, &e2);
        if (!eng)
            break; /* rc / err hold the last engine's failure */
        if (vx__engine_forced_failure(eng))
            rc = vx__error_set(err, VX_EINTERNAL, "%s: failure forced by a test", eng->name);
        else
            rc = calibrated_fit(voice, eng, tag, base, eff.enable_caching, &fit, err);
        if (rc == VX_OK)
            rc = synth_text(eng, tag, text, &pl, &fit, &eff, seed, &pcm, err);
        /* fall back on engine failures, not on the text (EINVAL: nothing to
         * speak, kanji without a reading) nor on ENOMEM */
        if (rc == VX_OK || rc == VX_ENOMEM || rc == VX_EINVAL)
            break;
        if (!first_err[0] && err)
            snprintf(first_err, sizeof first_err, "%s", err->message);
    }
    free(pl.p);
    if (rc != VX_OK) {
        free(r);
        if (first_err[0] && err && strcmp(first_err, err->message) != 0) {
            char last[256];
            snprintf(last, sizeof last, "%s", err->message);
            vx__error_set(err, rc, "%s (after: %s)", last, first_err);
        }
        return rc;
    }
    r->synth_ms = now_ms() - t0;
    snprintf(r->language, sizeof r->language, "%s", strlen(lang) < sizeof r->language ? lang : base);
    snprintf(r->engine, sizeof r->engine, "%s", eng->name);
    r->unused = vx_param_mask_unused(eng->honoured);
    r->adjusted = adjusted;
    rc = finish(voice, &pcm, &eff, seed, r, t0, err);
    free(pcm.x);
    if (rc != VX_OK) {
        vx_clone_result_free(r);
        return rc;
    }
    *out = r;
    return VX_OK;
}

int vx_convert_audio(const vx_voice *voice, const float *x, size_t n, int rate_hz,
                     const vx_settings *settings, uint64_t seed, vx_clone_result **out,
                     vx_error *err)
{
    double t0 = now_ms();
    vx_settings s;
    vx__pcm in;
    vx_clone_result *r;
    size_t i;
    int rc;
    vx__error_clear(err);
    if (!voice || !out || !x)
        return vx__error_set(err, VX_EINVAL, "convert: %s is NULL",
                             !voice ? "voice" : !out ? "out" : "audio");
    if (rate_hz < 8000 || rate_hz > 192000)
        return vx__error_set(err, VX_EINVAL,
                             "convert: sample rate %d Hz is outside 8000..192000 Hz", rate_hz);
    if ((double)n < 0.25 * rate_hz)
        return vx__error_set(err, VX_ETOOSHORT, "convert: the recording lasts %.3f s; at least "
                             "0.25 s is needed", (double)n / rate_hz);
    if ((double)n > 600.0 * rate_hz)
        return vx__error_set(err, VX_ETOOLONG, "convert: the recording lasts %.0f s; the limit "
                             "is 600 s", (double)n / rate_hz);
    for (i = 0; i < n; i++)
        if (!isfinite(x[i]))
            return vx__error_set(err, VX_EINVAL, "convert: sample %zu is not a finite number", i);
    rc = check_settings(settings, &s, err);
    if (rc != VX_OK)
        return rc;
    in.x = malloc(n * sizeof *in.x);
    r = calloc(1, sizeof *r);
    if (!in.x || !r) {
        free(in.x);
        free(r);
        return vx__error_set(err, VX_ENOMEM, "convert: out of memory");
    }
    memcpy(in.x, x, n * sizeof *in.x);
    in.n = n;
    in.rate_hz = rate_hz;
    snprintf(r->engine, sizeof r->engine, "converter");
    r->unused = CONVERT_UNUSED;
    r->adjusted = 0;
    rc = finish(voice, &in, &s, seed, r, t0, err);
    free(in.x);
    if (rc != VX_OK) {
        vx_clone_result_free(r);
        return rc;
    }
    *out = r;
    return VX_OK;
}
