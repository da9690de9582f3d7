/*
 * engine.c -- engine registry, choice per language, fallback; language tags;
 * the process-wide synthesis lock.
 *
 * DESIGN: the engines form one ordered list of preference (flite first: for
 * English it is far more intelligible than espeak-ng; espeak-ng speaks all
 * 12 languages).  vx__engine_choose walks the list and returns the
 * (skip_index+1)-th engine whose supports() accepts the language, so a
 * caller falls back by retrying with skip_index + 1; a language nobody
 * speaks is refused with the list of supported ones.  A neural engine is
 * added by appending its vx__engine to the list (first, to be preferred).
 *
 * Both C synthesizers keep process-global state, and measured on Debian 12
 * neither is reproducible from it: espeak-ng 1.51's output depends on what
 * it synthesised before (wave-generator phase, Klatt skew parity, filter
 * memories kept in function statics that no API resets), and both draw noise
 * from the C library's rand().  espeak-ng therefore synthesises in a
 * short-lived worker process forked by a single-purpose "zygote" process
 * that initialised espeak-ng once and never synthesised (espeak.c,
 * espeak_zygote.c), which makes every call start from the same state, lets
 * calls run in parallel, and never forks the (multi-threaded) caller; flite, whose state is reproducible, runs in this
 * process under vx__synth_lock, which also covers its srand().  Only the
 * synthesizer calls are serialised -- analysis, conversion and encoding run in
 * parallel.  Tags: "en", "EN", "en-US", "pt_BR" are accepted; the base code
 * picks the engine, the region may pick a regional espeak-ng voice.
 */
#include <ctype.h>
#include <pthread.h>
#include <stdatomic.h>
#include <string.h>

#include "core/error.h"
#include "tts/engine_private.h"
#include "tts/tts_internal.h"

static const char k_langs[] = "en fr es de it pt ru ar hi ja ko zh";

const char *vx__lang_list(void)
{
    return k_langs;
}

const char *vx_clone_languages(void)
{
    return k_langs;
}

/* Order of preference. */
static const vx__engine *const k_engines[] = {&vx__engine_flite, &vx__engine_espeak};
#define N_ENGINES (sizeof k_engines / sizeof k_engines[0])

int vx__lang_normalize(const char *lang, char tag[VX__LANG_TAG_MAX + 1], char base[8],
                       vx_error *err)
{
    size_t n, i, nb = 0;
    if (!lang || !*lang)
        return vx__error_set(err, VX_EINVAL, "language is missing (supported: %s)", k_langs);
    n = strlen(lang);
    if (n > VX__LANG_TAG_MAX)
        return vx__error_set(err, VX_EINVAL,
                             "language '%.40s...' is too long (supported: %s)", lang, k_langs);
    for (i = 0; i < n; i++) {
        unsigned char c = (unsigned char)lang[i];
        if (!(isalnum(c) || c == '-' || c == '_') || c >= 0x80)
            return vx__error_set(err, VX_EINVAL,
                                 "language '%s' is not a language code (supported: %s)", lang,
                                 k_langs);
        tag[i] = c == '_' ? '-' : (char)tolower(c);
    }
    tag[n] = '\0';
    while (nb < n && tag[nb] != '-')
        nb++;
    if (nb < 2 || nb > 3 || (nb < n && nb + 1 == n))
        return vx__error_set(err, VX_EINVAL,
                             "language '%s' is not a language code (supported: %s)", lang,
                             k_langs);
    for (i = 0; i < nb; i++)
        if (!isalpha((unsigned char)tag[i]))
            return vx__error_set(err, VX_EINVAL,
                                 "language '%s' is not a language code (supported: %s)", lang,
                                 k_langs);
    memcpy(base, tag, nb);
    base[nb] = '\0';
    return VX_OK;
}

const vx__engine *vx__engine_choose(const char *lang, int skip_index, vx_error *err)
{
    char tag[VX__LANG_TAG_MAX + 1], base[8];
    int seen = 0;
    size_t i;
    if (vx__lang_normalize(lang, tag, base, err) != VX_OK)
        return NULL;
    for (i = 0; i < N_ENGINES; i++) {
        if (!k_engines[i]->supports(base))
            continue;
        if (seen == skip_index)
            return k_engines[i];
        seen++;
    }
    if (seen == 0)
        vx__error_set(err, VX_EINVAL, "unsupported language '%s' (supported: %s)", lang,
                      k_langs);
    else
        vx__error_set(err, VX_EINVAL, "no further engine for language '%s' (%d tried)", lang,
                      seen);
    return NULL;
}

/* ---- synthesis lock ------------------------------------------------- */

static pthread_mutex_t g_synth_lock = PTHREAD_MUTEX_INITIALIZER;

void vx__synth_lock(void)
{
    pthread_mutex_lock(&g_synth_lock);
}

void vx__synth_unlock(void)
{
    pthread_mutex_unlock(&g_synth_lock);
}

uint64_t vx__mix64(uint64_t x)
{
    x += 0x9E3779B97F4A7C15ull;
    x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
    x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
    return x ^ (x >> 31);
}

unsigned vx__srand_seed(uint64_t seed)
{
    uint64_t m = vx__mix64(seed ^ 0x5EEDull);
    return (unsigned)(m ^ (m >> 32));
}

/* ---- test hook ------------------------------------------------------ */

static _Atomic(const char *) g_forced_failure = NULL;

void vx__engine_test_force_failure(const char *name)
{
    atomic_store(&g_forced_failure, name);
}

int vx__engine_forced_failure(const vx__engine *e)
{
    const char *f = atomic_load(&g_forced_failure);
    return e && f && !strcmp(f, e->name);
}
