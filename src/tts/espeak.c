/*
 * espeak.c -- the espeak-ng engine: all 12 languages.
 *
 * DESIGN: espeak-ng 1.51 is one global synthesizer whose output depends on
 * its history: measured, the same text, voice and srand() give other bytes
 * after some earlier syntheses (wave-generator phase and sample counters,
 * the Klatt source's skew parity and filter memories live in statics that
 * no API call resets -- not espeak_Cancel, not a new voice, not a second
 * espeak_Initialize; a priming utterance does not converge them).  Same
 * input + same seed must give the same bytes, so every synthesis runs in a
 * short-lived worker process forked by the espeak-ng fork server
 * (espeak_zygote.c), a helper with one working thread in which espeak-ng is
 * initialised once (vx__espeak_zygote_init: AUDIO_OUTPUT_SYNCHRONOUS, a
 * callback appending samples to the buffer passed as user_data) but never
 * used to synthesise; the library's own process never loads espeak-ng's
 * state and never forks per synthesis.  Each worker starts from that same
 * pristine state, reads its request from the socket it owns (wire_request:
 * voice file text, text, words per minute, srand seed), loads the voice,
 * calls srand(seed) (the noise source uses rand()), synthesises, sends
 * wire_header + int16 samples and exits.  Workers are independent, so
 * syntheses run in parallel with no lock.  The caller builds the voice file
 * (it learns the data directory from the zygote's hello) and converts the
 * samples to float.  A worker that dies before its reply fails only that
 * synthesis (EINTERNAL naming its pid).  The voice is a
 * full voice file written for each call: the language's own file from
 * <data>/lang (so phonemes, dictionary, tunes and stress rules are the
 * language's) followed by the fitted timbre:
 *   pitch <base> <top>   from the command's mean and spread (measured on
 *                        espeak-ng: mean ~ base + 0.6 (top-base), std ~ 0.23
 *                        (top-base); the closed loop in fit.c corrects the rest).
 *                        The base is kept at or above BASE_FLOOR_HZ (and
 *                        BASE_FLOOR_REL of the mean): espeak-ng's contours
 *                        reach the base at phrase ends, and a Klatt source
 *                        below ~65 Hz is so irregular that pYIN calls most
 *                        of the utterance unvoiced (measured, de/es/ar/zh/fr,
 *                        mean 80-100 Hz: base 40 -> 19-35 % voiced frames,
 *                        base 75 -> 62-97 %), which ruins the pitch the
 *                        similarity scores; the converter widens the range
 *                        afterwards on the voiced frames
 *   formant 1..8 <pct>   the fitted formant scale (+-10 % at most)
 *   klatt 3              the Klatt source: far more intelligible than the
 *                        default wave generator (engine notes: WER ~30 % vs
 *                        82 %); it has its own aspiration, so espeak-ng's
 *                        'breath' keys do nothing there and are not written
 * (espeak-ng's own 'flutter' pitch wobble stays on: its table index is
 * process state, which each worker starts afresh.)
 * Traps handled (engine notes): espeak-ng 1.51 lower-cases the whole path of
 * SetVoiceByFile, so the file lives in a private directory with a lower-case
 * name (mkdir 0700, O_EXCL, removed right after loading); 'language
 * variant'-only files crash it, so a complete language file is always
 * written; mb-* (MBROLA) voices are never used.  zh uses cmn-latn-pinyin
 * (plain cmn reads hanzi as pinyin digits in English).  Japanese kanji are
 * turned into katakana pronunciations with MeCab (IPA dictionary) under its
 * own lock, or refused with a clear error.  Output is 22050 Hz mono.
 */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#include <espeak-ng/speak_lib.h>
#include <mecab.h>

#include "core/dynlib.h"
#include "core/error.h"
#include "tts/engine_private.h"
#include "tts/espeak_zygote.h"
#include "tts/tts_internal.h"

/* espeak-ng (with PulseAudio, ALSA ... behind libpcaudio) is loaded only in
 * the synthesis server process, MeCab only for Japanese text with kanji
 * (core/dynlib.h): the library's own process maps neither. */
#define VX_ESPEAK_SYMS(X)                                                       \
    X(espeak_Info) X(espeak_Initialize) X(espeak_SetParameter)                 \
    X(espeak_SetSynthCallback) X(espeak_SetVoiceByFile) X(espeak_Synchronize)  \
    X(espeak_Synth)
VX__DYNLIB_TABLE(esp, VX_ESPEAK_SYMS, VX_SONAME_ESPEAK);

#define VX_MECAB_SYMS(X) X(mecab_new2) X(mecab_sparse_tonode) X(mecab_strerror)
VX__DYNLIB_TABLE(mcb, VX_MECAB_SYMS, VX_SONAME_MECAB);

#define KLATT_VARIANT 3
/* lowest base pitch written to the voice file (see the DESIGN note) */
#define BASE_FLOOR_HZ 70.0
#define BASE_FLOOR_REL 0.6     /* ... and at least this share of the mean */
#define BASE_FLOOR_MAX_REL 0.9 /* ... but never above this share of it */

/* ---- languages -------------------------------------------------------- */

static const char *const k_espeak_langs[] = {"en", "fr", "es", "de", "it", "pt",
                                             "ru", "ar", "hi", "ja", "ko", "zh"};

static int espeak_supports(const char *lang)
{
    size_t i;
    if (!lang)
        return 0;
    for (i = 0; i < sizeof k_espeak_langs / sizeof k_espeak_langs[0]; i++)
        if (!strcmp(lang, k_espeak_langs[i]))
            return 1;
    return 0;
}

/* Language file under <data>/lang for a normalised tag: regional entries
 * first (matched as a prefix followed by the end or '-'), then the base. */
static const struct {
    const char *tag;
    const char *file;
} k_lang_files[] = {
    {"en-gb", "gmw/en"},    {"en-uk", "gmw/en"},       {"en", "gmw/en-US"},
    {"fr-be", "roa/fr-BE"}, {"fr-ch", "roa/fr-CH"},    {"fr", "roa/fr"},
    {"es-419", "roa/es-419"}, {"es-mx", "roa/es-419"}, {"es-ar", "roa/es-419"},
    {"es-co", "roa/es-419"}, {"es-us", "roa/es-419"},  {"es-cl", "roa/es-419"},
    {"es-pe", "roa/es-419"}, {"es", "roa/es"},         {"de", "gmw/de"},
    {"it", "roa/it"},       {"pt-br", "roa/pt-BR"},    {"pt", "roa/pt"},
    {"ru", "zle/ru"},       {"ar", "sem/ar"},          {"hi", "inc/hi"},
    {"ja", "jpx/ja"},       {"ko", "ko"},              {"zh", "sit/cmn-Latn-pinyin"},
};

static const char *lang_file(const char *tag)
{
    size_t i;
    for (i = 0; i < sizeof k_lang_files / sizeof k_lang_files[0]; i++) {
        size_t n = strlen(k_lang_files[i].tag);
        if (!strncmp(tag, k_lang_files[i].tag, n) && (tag[n] == '\0' || tag[n] == '-'))
            return k_lang_files[i].file;
    }
    return NULL;
}

/* ---- Japanese: kanji -> katakana --------------------------------------- */

/* Next code point of UTF-8 s at *i (invalid bytes give U+FFFD). */
static unsigned next_cp(const unsigned char *s, size_t *i)
{
    unsigned c = s[*i], cp;
    int n;
    if (c < 0x80) {
        (*i)++;
        return c;
    }
    if ((c & 0xE0) == 0xC0) {
        cp = c & 0x1F;
        n = 1;
    } else if ((c & 0xF0) == 0xE0) {
        cp = c & 0x0F;
        n = 2;
    } else if ((c & 0xF8) == 0xF0) {
        cp = c & 0x07;
        n = 3;
    } else {
        (*i)++;
        return 0xFFFD;
    }
    (*i)++;
    while (n-- > 0) {
        if ((s[*i] & 0xC0) != 0x80)
            return 0xFFFD;
        cp = (cp << 6) | (s[*i] & 0x3F);
        (*i)++;
    }
    return cp;
}

static int is_kanji(unsigned cp)
{
    return (cp >= 0x4E00 && cp <= 0x9FFF) || (cp >= 0x3400 && cp <= 0x4DBF) ||
           (cp >= 0xF900 && cp <= 0xFAFF) || (cp >= 0x20000 && cp <= 0x3134F) || cp == 0x3005;
}

static int span_has_kanji(const char *s, size_t n)
{
    size_t i = 0;
    while (i < n) {
        if (is_kanji(next_cp((const unsigned char *)s, &i)))
            return 1;
    }
    return 0;
}

int vx__text_has_kanji(const char *text)
{
    return text ? span_has_kanji(text, strlen(text)) : 0;
}

static pthread_once_t g_mecab_once = PTHREAD_ONCE_INIT;
static pthread_mutex_t g_mecab_lock = PTHREAD_MUTEX_INITIALIZER;
static mecab_t *g_mecab;

static void mecab_init_once(void)
{
    if (VX__DYNLIB_LOAD(mcb, NULL) == VX_OK)
        g_mecab = mcb.mecab_new2("");
}

typedef struct sbuf {
    char *p;
    size_t n, cap;
    int oom;
} sbuf;

static void sb_put(sbuf *b, const char *s, size_t n)
{
    if (b->oom)
        return;
    if (b->n + n + 1 > b->cap) {
        size_t cap = (b->n + n + 1) * 2;
        char *q = realloc(b->p, cap);
        if (!q) {
            b->oom = 1;
            return;
        }
        b->p = q;
        b->cap = cap;
    }
    memcpy(b->p + b->n, s, n);
    b->n += n;
    b->p[b->n] = '\0';
}

/* Field k (0-based) of a comma-separated MeCab feature; 0 when absent. */
static int feature_field(const char *f, int k, const char **start, size_t *len)
{
    int i = 0;
    const char *p = f;
    while (i < k) {
        p = strchr(p, ',');
        if (!p)
            return 0;
        p++;
        i++;
    }
    *start = p;
    *len = strcspn(p, ",");
    return *len > 0 && !(*len == 1 && **start == '*');
}

int vx__ja_to_kana(const char *text, char **out, vx_error *err)
{
    const mecab_node_t *node;
    sbuf b = {0};
    int rc = VX_OK;
    if (!text || !out)
        return vx__error_set(err, VX_EINVAL, "ja: invalid argument");
    pthread_once(&g_mecab_once, mecab_init_once);
    if (!g_mecab)
        return vx__error_set(err, VX_EINVAL,
                             "ja: the text contains kanji, and the kana converter (MeCab with "
                             "the IPA dictionary, package mecab-ipadic-utf8) is not available: "
                             "write the text in kana");
    pthread_mutex_lock(&g_mecab_lock);
    node = mcb.mecab_sparse_tonode(g_mecab, text);
    if (!node) {
        rc = vx__error_set(err, VX_EINTERNAL, "ja: MeCab failed: %s", mcb.mecab_strerror(g_mecab));
    }
    for (; rc == VX_OK && node; node = node->next) {
        const char *f;
        size_t fl;
        if (node->stat == MECAB_BOS_NODE || node->stat == MECAB_EOS_NODE)
            continue;
        if (node->rlength > node->length)
            sb_put(&b, " ", 1);
        if (node->stat != MECAB_UNK_NODE && node->feature &&
            (feature_field(node->feature, 8, &f, &fl) || feature_field(node->feature, 7, &f, &fl))) {
            sb_put(&b, f, fl);
        } else if (span_has_kanji(node->surface, node->length)) {
            rc = vx__error_set(err, VX_EINVAL,
                               "ja: no reading is known for '%.*s': write this word in kana",
                               (int)(node->length > 60 ? 60 : node->length), node->surface);
        } else {
            sb_put(&b, node->surface, node->length);
        }
    }
    pthread_mutex_unlock(&g_mecab_lock);
    if (rc == VX_OK && b.oom)
        rc = vx__error_set(err, VX_ENOMEM, "ja: out of memory");
    if (rc != VX_OK) {
        free(b.p);
        return rc;
    }
    if (!b.p) {
        b.p = calloc(1, 1);
        if (!b.p)
            return vx__error_set(err, VX_ENOMEM, "ja: out of memory");
    }
    *out = b.p;
    return VX_OK;
}

/* ---- the synthesizer ----------------------------------------------------- */

typedef struct collect {
    short *x;
    size_t n, cap;
    int oom;
} collect;

static int synth_cb(short *wav, int numsamples, espeak_EVENT *events)
{
    collect *c = events ? events->user_data : NULL;
    if (!c || !wav || numsamples <= 0)
        return 0;
    if (c->n + (size_t)numsamples > c->cap) {
        size_t cap = (c->n + (size_t)numsamples) * 2 + 4096;
        short *q = realloc(c->x, cap * sizeof *q);
        if (!q) {
            c->oom = 1;
            return 1; /* abort synthesis */
        }
        c->x = q;
        c->cap = cap;
    }
    memcpy(c->x + c->n, wav, (size_t)numsamples * sizeof *wav);
    c->n += (size_t)numsamples;
    return 0;
}

/* Set in the zygote (espeak_zygote.c) and inherited by its workers; never
 * set in the library's process, which does not load espeak-ng's state. */
static int g_espeak_rate = -1;

void vx__espeak_zygote_init(vx__zyg_info *info)
{
    const char *path = NULL;
    vx_error e;
    memset(info, 0, sizeof *info);
    if (VX__DYNLIB_LOAD(esp, &e) != VX_OK) {
        snprintf(info->data_dir, sizeof info->data_dir, "%s", e.message); /* the reason */
        return;
    }
    g_espeak_rate = esp.espeak_Initialize(AUDIO_OUTPUT_SYNCHRONOUS, 0, NULL,
                                          espeakINITIALIZE_DONT_EXIT);
    info->rate_hz = g_espeak_rate;
    if (g_espeak_rate <= 0)
        return;
    esp.espeak_Info(&path);
    if (path)
        snprintf(info->data_dir, sizeof info->data_dir, "%s", path);
    esp.espeak_SetSynthCallback(synth_cb);
}

/* Reads <data>/lang/<rel> (a few hundred bytes). */
static int read_lang_file(const char *data_dir, const char *rel, sbuf *b, vx_error *err)
{
    char path[768];
    char buf[1024];
    size_t got;
    FILE *f;
    snprintf(path, sizeof path, "%s/lang/%s", data_dir, rel);
    f = fopen(path, "rb");
    if (!f)
        return vx__error_set(err, VX_EINTERNAL, "espeak-ng: cannot read the language file %s",
                             path);
    while ((got = fread(buf, 1, sizeof buf, f)) > 0)
        sb_put(b, buf, got);
    fclose(f);
    sb_put(b, "\n", 1);
    return b->oom ? vx__error_set(err, VX_ENOMEM, "espeak-ng: out of memory") : VX_OK;
}

/* A private directory with a lower-case name (espeak-ng lower-cases the
 * voice path).  TMPDIR is used when it is absolute and lower-case. */
static int make_voice_dir(char *dir, size_t cap, vx_error *err)
{
    static unsigned long counter;
    const char *t = getenv("TMPDIR");
    const char *base = "/tmp";
    int tries;
    if (t && t[0] == '/' && strlen(t) < 200) {
        const char *p;
        int ok = 1;
        for (p = t; *p; p++)
            if ((*p >= 'A' && *p <= 'Z') || (unsigned char)*p >= 0x80)
                ok = 0;
        if (ok)
            base = t;
    }
    for (tries = 0; tries < 100; tries++) {
        /* runs in a worker process: the pid makes the name unique */
        unsigned long id = counter++;
        snprintf(dir, cap, "%s/vxclone-espeak-%ld-%lx", base, (long)getpid(), id);
        if (mkdir(dir, 0700) == 0)
            return VX_OK;
        if (errno != EEXIST)
            break;
    }
    return vx__error_set(err, VX_EINTERNAL, "espeak-ng: cannot create a voice directory in %s: %s",
                         base, strerror(errno));
}

static int write_file(const char *path, const char *data, size_t n)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0600);
    size_t off = 0;
    if (fd < 0)
        return -1;
    while (off < n) {
        ssize_t w = write(fd, data + off, n - off);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            close(fd);
            return -1;
        }
        off += (size_t)w;
    }
    return close(fd);
}

/* Loads the voice file text (in a worker). */
static int load_voice(const char *text, size_t n, vx_error *err)
{
    char dir[300], path[340];
    int rc = make_voice_dir(dir, sizeof dir, err);
    espeak_ERROR e;
    if (rc != VX_OK)
        return rc;
    snprintf(path, sizeof path, "%s/voice", dir);
    if (write_file(path, text, n) != 0) {
        rc = vx__error_set(err, VX_EINTERNAL, "espeak-ng: cannot write %s: %s", path,
                           strerror(errno));
        unlink(path);
        rmdir(dir);
        return rc;
    }
    e = esp.espeak_SetVoiceByFile(path);
    unlink(path);
    rmdir(dir);
    if (e != EE_OK)
        return vx__error_set(err, VX_EINTERNAL, "espeak-ng: the fitted voice was refused (%d)",
                             (int)e);
    return VX_OK;
}

static void append_timbre(sbuf *b, const vx__synth_cmd *c)
{
    char line[96];
    double m = c->pitch_hz, range, base, floor_hz;
    int k, pct, pb, pt;
    range = c->pitch_std_hz / 0.23;
    if (range < 0.1 * m)
        range = 0.1 * m;
    if (range > 1.0 * m)
        range = 1.0 * m;
    base = m - 0.6 * range;
    floor_hz = BASE_FLOOR_REL * m > BASE_FLOOR_HZ ? BASE_FLOOR_REL * m : BASE_FLOOR_HZ;
    if (floor_hz > BASE_FLOOR_MAX_REL * m) /* a very low voice: keep a range */
        floor_hz = BASE_FLOOR_MAX_REL * m;
    if (base < floor_hz) {
        base = floor_hz;
        range = (m - base) / 0.6;
    }
    pb = (int)lround(base);
    pt = (int)lround(base + range);
    if (pt <= pb)
        pt = pb + 1;
    snprintf(line, sizeof line, "\nklatt %d\npitch %d %d\n", KLATT_VARIANT, pb, pt);
    sb_put(b, line, strlen(line));
    pct = (int)lround(100.0 * c->formant_scale);
    if (pct < 90)
        pct = 90;
    if (pct > 110)
        pct = 110;
    if (pct != 100) {
        for (k = 1; k <= 8; k++) {
            snprintf(line, sizeof line, "formant %d %d 100 100\n", k, pct);
            sb_put(b, line, strlen(line));
        }
    }
}

/* ---- one synthesis in a worker process -------------------------------- */

/* What the caller sends a worker: this header, the voice file text
 * (voice_len bytes), then the text to speak (text_len bytes, no NUL). */
typedef struct wire_request {
    uint32_t magic;
    int32_t wpm;
    uint32_t seed;
    uint32_t flags; /* WIRE_CRASH: tests only */
    uint64_t voice_len;
    uint64_t text_len;
} wire_request;

#define WIRE_MAGIC 0x56585251u /* "VXRQ" */
#define WIRE_CRASH 1u
#define WIRE_HANG 2u
/* a worker that has not replied within this is killed (a hung espeak-ng
 * must not hold a pipeline thread for ever): a floor plus a per-byte
 * allowance far above espeak-ng's ~50-100x real-time synthesis */
#define SYNTH_TIMEOUT_BASE_MS 30000L
#define SYNTH_TIMEOUT_PER_BYTE_MS 5L
#define WIRE_MAX_VOICE ((uint64_t)1 << 20)
#define WIRE_MAX_TEXT ((uint64_t)64 << 20)

/* What a worker sends back: this header, then n int16 samples. */
typedef struct wire_header {
    int32_t rc;
    int32_t rate;
    uint64_t n;
    char message[256];
} wire_header;

/* Both ends are sockets: send() with MSG_NOSIGNAL, so a peer that went
 * away gives EPIPE, never SIGPIPE. */
static int write_all(int fd, const void *p, size_t n)
{
    const char *c = p;
    while (n > 0) {
        ssize_t w = send(fd, c, n, MSG_NOSIGNAL);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        c += w;
        n -= (size_t)w;
    }
    return 0;
}

static long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long)ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

/* milliseconds left until deadline_ms (never negative: 0 means "late") */
static long ms_left(long deadline_ms)
{
    const long left = deadline_ms - now_ms();
    return left > 0 ? left : 0;
}

/* Runs in the worker: load the voice, synthesise, send. */
static void worker_main(int fd, const char *voice_text, size_t voice_len, const char *say, int wpm,
                        unsigned seed)
{
    wire_header h;
    collect col = {0};
    vx_error e;
    espeak_ERROR er;
    memset(&h, 0, sizeof h);
    h.rc = load_voice(voice_text, voice_len, &e);
    if (h.rc == VX_OK) {
        esp.espeak_SetParameter(espeakRATE, wpm, 0);
        esp.espeak_SetParameter(espeakVOLUME, 100, 0);
        esp.espeak_SetParameter(espeakPITCH, 50, 0);
        esp.espeak_SetParameter(espeakRANGE, 50, 0);
        esp.espeak_SetParameter(espeakWORDGAP, 0, 0);
        esp.espeak_SetParameter(espeakCAPITALS, 0, 0);
        esp.espeak_SetParameter(espeakPUNCTUATION, espeakPUNCT_NONE, 0);
        srand(seed);
        er = esp.espeak_Synth(say, strlen(say) + 1, 0, POS_CHARACTER, 0, espeakCHARS_UTF8, NULL, &col);
        if (er == EE_OK)
            esp.espeak_Synchronize();
        if (col.oom)
            h.rc = vx__error_set(&e, VX_ENOMEM, "espeak-ng: out of memory");
        else if (er != EE_OK)
            h.rc = vx__error_set(&e, VX_EINTERNAL, "espeak-ng: synthesis failed (%d)", (int)er);
    }
    if (h.rc != VX_OK)
        snprintf(h.message, sizeof h.message, "%s", e.message);
    else {
        h.rate = g_espeak_rate;
        h.n = col.n;
    }
    if (write_all(fd, &h, sizeof h) == 0 && h.rc == VX_OK && col.n)
        write_all(fd, col.x, col.n * sizeof *col.x);
    free(col.x);
}

void vx__espeak_worker_serve(int fd)
{
    wire_request rq;
    char *voice, *say;
    if (vx__zyg_recv_full(fd, &rq, sizeof rq, -1) != 0 || rq.magic != WIRE_MAGIC ||
        rq.voice_len > WIRE_MAX_VOICE || rq.text_len > WIRE_MAX_TEXT)
        return;
    voice = malloc((size_t)rq.voice_len + 1);
    say = malloc((size_t)rq.text_len + 1);
    if (voice && say && vx__zyg_recv_full(fd, voice, (size_t)rq.voice_len, -1) == 0 &&
        vx__zyg_recv_full(fd, say, (size_t)rq.text_len, -1) == 0) {
        voice[rq.voice_len] = '\0';
        say[rq.text_len] = '\0';
        if (rq.flags & WIRE_CRASH)
            raise(SIGKILL); /* tests: a worker that dies mid-request */
        if (rq.flags & WIRE_HANG)
            for (;;)
                pause(); /* tests: a worker that never replies */
        worker_main(fd, voice, (size_t)rq.voice_len, say, (int)rq.wpm, (unsigned)rq.seed);
    }
    free(voice);
    free(say);
}

static atomic_int g_test_crash, g_test_hang;
static atomic_long g_test_timeout_ms; /* 0: the normal timeout */

void vx__espeak_test_crash_next(void)
{
    atomic_store(&g_test_crash, 1);
}

void vx__espeak_test_hang_next(long timeout_ms)
{
    atomic_store(&g_test_timeout_ms, timeout_ms);
    atomic_store(&g_test_hang, 1);
}


/* Synthesises in a fresh worker of the zygote: the voice file is the
 * language file rel followed by the timbre of cmd. */
static int synth_in_worker(const char *rel, const vx__synth_cmd *cmd, const char *say, int wpm,
                           unsigned seed, vx__pcm *out, vx_error *err)
{
    vx__zyg_info info;
    wire_request rq;
    wire_header h;
    sbuf voice = {0};
    short *pcm = NULL;
    pid_t worker = 0;
    int fd = -1, rc, late;
    size_t k, say_len = strlen(say);
    long timeout_ms = SYNTH_TIMEOUT_BASE_MS + SYNTH_TIMEOUT_PER_BYTE_MS * (long)say_len,
         deadline = 0;

    rc = vx__zyg_open(&fd, &worker, &info, err);
    if (rc != VX_OK)
        return rc;
    rc = read_lang_file(info.data_dir, rel, &voice, err);
    if (rc == VX_OK) {
        append_timbre(&voice, cmd);
        if (voice.oom)
            rc = vx__error_set(err, VX_ENOMEM, "espeak-ng: out of memory");
    }
    if (rc == VX_OK) {
        memset(&rq, 0, sizeof rq);
        rq.magic = WIRE_MAGIC;
        rq.wpm = wpm;
        rq.seed = seed;
        rq.flags = atomic_exchange(&g_test_crash, 0) ? WIRE_CRASH : 0u;
        if (atomic_exchange(&g_test_hang, 0)) {
            rq.flags |= WIRE_HANG;
            timeout_ms = atomic_exchange(&g_test_timeout_ms, 0);
        }
        deadline = now_ms() + timeout_ms;
        rq.voice_len = voice.n;
        rq.text_len = say_len;
        /* a send error means the worker is gone: the read below says so */
        if (write_all(fd, &rq, sizeof rq) == 0 && write_all(fd, voice.p, voice.n) == 0)
            write_all(fd, say, say_len);
        if ((late = vx__zyg_recv_full(fd, &h, sizeof h, ms_left(deadline))) != 0) {
            if (late == -2) {
                kill(worker, SIGKILL); /* the zygote's child: the kernel reaps it */
                rc = vx__error_set(err, VX_EINTERNAL,
                                   "espeak-ng: the worker process (pid %ld) did not reply "
                                   "within %.1f s and was killed",
                                   (long)worker, (double)timeout_ms / 1000.0);
            } else
                rc = vx__error_set(err, VX_EINTERNAL,
                                   "espeak-ng: the worker process (pid %ld) died before replying "
                                   "(crashed or killed)",
                                   (long)worker);
        } else if (h.rc != VX_OK) {
            h.message[sizeof h.message - 1] = '\0';
            rc = vx__error_set(err, h.rc, "%s", h.message);
        } else if (h.n > (uint64_t)3600 * 48000 || h.rate <= 0) {
            rc = vx__error_set(err, VX_EINTERNAL, "espeak-ng: the worker sent an invalid reply");
        } else {
            pcm = malloc((h.n ? (size_t)h.n : 1) * sizeof *pcm);
            out->x = malloc((h.n ? (size_t)h.n : 1) * sizeof *out->x);
            if (!pcm || !out->x)
                rc = vx__error_set(err, VX_ENOMEM, "espeak-ng: out of memory");
            else if (h.n && vx__zyg_recv_full(fd, pcm, (size_t)h.n * sizeof *pcm, ms_left(deadline)) != 0) {
                kill(worker, SIGKILL);
                rc = vx__error_set(err, VX_EINTERNAL,
                                   "espeak-ng: the worker process (pid %ld) died or stalled "
                                   "while replying",
                                   (long)worker);
            }
        }
    }
    close(fd);
    free(voice.p);
    if (rc == VX_OK) {
        for (k = 0; k < (size_t)h.n; k++)
            out->x[k] = (float)pcm[k] / 32768.0f;
        out->n = (size_t)h.n;
        out->rate_hz = h.rate;
    } else {
        free(out->x);
        out->x = NULL;
    }
    free(pcm);
    return rc;
}

static int espeak_synth(const char *lang, const char *text, const vx__voice_fit *fit,
                        const vx_settings *s, uint64_t seed, vx__pcm *out, vx_error *err)
{
    const char *rel;
    char *kana = NULL;
    const char *say = text;
    vx__synth_cmd cmd;
    int rc, wpm;

    if (!lang || !text || !fit || !out)
        return vx__error_set(err, VX_EINVAL, "espeak-ng: invalid argument");
    rel = lang_file(lang);
    if (!rel)
        return vx__error_set(err, VX_EINVAL, "espeak-ng: unsupported language '%s' (supported: %s)",
                             lang, vx__lang_list());
    if (!strncmp(lang, "ja", 2) && vx__text_has_kanji(text)) {
        rc = vx__ja_to_kana(text, &kana, err);
        if (rc != VX_OK)
            return rc;
        say = kana;
    }
    vx__fit_command(fit, s, seed, &cmd);
    wpm = (int)lround(VX__ESPEAK_NORMAL_WPM * cmd.rate_ratio);
    if (wpm < espeakRATE_MINIMUM)
        wpm = espeakRATE_MINIMUM;
    if (wpm > espeakRATE_MAXIMUM)
        wpm = espeakRATE_MAXIMUM;
    rc = synth_in_worker(rel, &cmd, say, wpm, vx__srand_seed(seed), out, err);
    free(kana);
    return rc;
}

const vx__engine vx__engine_espeak = {
    "espeak-ng",
    espeak_supports,
    VX_PARAM_MASK_ALL & ~VX_PARAM_MASK_TOKEN_SAMPLING,
    espeak_synth,
};
