/*
 * engine_private.h -- helpers shared by the built-in engines and the clone
 * front end (engine.c, espeak.c, flite.c, fit.c, clone.c, encode.c).
 *
 * Not part of the engine contract in tts_internal.h: a new engine needs
 * none of this.  Kept separate so that tts_internal.h stays the one
 * interface a neural engine implements.
 */
#ifndef VX_TTS_ENGINE_PRIVATE_H
#define VX_TTS_ENGINE_PRIVATE_H

#include <stddef.h>
#include <stdint.h>

#include "tts/tts_internal.h"

/* ---- languages (engine.c) ------------------------------------------- */

/** Longest language tag accepted ("pt-BR", "zh-Hans-CN" ...). */
#define VX__LANG_TAG_MAX 35

/** Normalises a language tag: lower case, '_' -> '-' (tag, e.g. "pt-br")
 *  and its base code (base, e.g. "pt").  Only checks the syntax (letters,
 *  digits, '-', '_', starts with 2-3 letters); whether the language is
 *  spoken is vx__engine_choose's business.  Errors: EINVAL. */
int vx__lang_normalize(const char *lang, char tag[VX__LANG_TAG_MAX + 1], char base[8],
                       vx_error *err);

/** The supported base codes, space separated (= vx_clone_languages()). */
const char *vx__lang_list(void);

/* ---- the process-wide synthesis lock (engine.c) --------------------- */

/** flite keeps its voices' features in shared objects and draws noise from
 *  the C library's rand(): every flite synthesis (features, srand, synth)
 *  runs under this lock.  (espeak-ng synthesises in worker processes.) */
void vx__synth_lock(void);
void vx__synth_unlock(void);

/** splitmix64 finaliser: a well-mixed 64-bit value from x. */
uint64_t vx__mix64(uint64_t x);
/** Seed for the C library's srand() derived from a 64-bit seed. */
unsigned vx__srand_seed(uint64_t seed);

/* ---- test hook (engine.c) -------------------------------------------- */

/** Tests only: make the engine called name fail (NULL clears). */
void vx__engine_test_force_failure(const char *name);
/** 1 when e has been told to fail by vx__engine_test_force_failure. */
int vx__engine_forced_failure(const vx__engine *e);

/* ---- voice fitting (fit.c) ------------------------------------------- */

/** The values an engine applies for one piece of text: the fit moved by
 *  the settings (exaggeration, cfg_weight, temperature) and the seed. */
typedef struct vx__synth_cmd {
    double pitch_hz;      /**< mean F0 to aim at */
    double pitch_std_hz;  /**< F0 spread (std) to aim at */
    double rate_ratio;    /**< speaking rate / the engine's normal rate */
    double formant_scale; /**< 0.9 .. 1.1 */
    double breath;        /**< 0 .. 1 */
    int female;
} vx__synth_cmd;

/** Mean speaking rate (syllable nuclei / s, vx_voice_metrics definition)
 *  taken as an engine's "normal" rate. */
#define VX__NORMAL_SYL_PER_S 3.8
/** espeak-ng's normal rate in words per minute. */
#define VX__ESPEAK_NORMAL_WPM 175.0

/** The base-voice fit from a detailed analysis of the reference.
 *  Errors: EINVAL when the analysis has no voiced speech. */
int vx__fit_from_analysis(const vx_analysis *a, vx__voice_fit *out, vx_error *err);

/** fit + settings + seed -> what the engine applies.  s NULL = neutral
 *  (no seeded variation, range as fitted, the engine's normal rate). */
void vx__fit_command(const vx__voice_fit *fit, const vx_settings *s, uint64_t seed,
                     vx__synth_cmd *out);

/** Closed loop on the pitch level: synthesises a short calibration phrase
 *  in lang with e, measures its pYIN mean (the statistic the similarity
 *  uses) and corrects fit->pitch_hz until the measured mean is within 2 %
 *  of target->pitch_hz (at most 3 rounds; correction bounded to x0.6..1.6).
 *  *out = the corrected fit.  Deterministic. */
int vx__fit_calibrate(const vx__engine *e, const char *lang_tag, const char *base,
                      const vx__voice_fit *target, vx__voice_fit *out, vx_error *err);

/** Resamples with soxr HQ (single thread: deterministic).  out->x is
 *  malloc'd; when rates are equal the samples are copied. */
int vx__pcm_resample(const float *x, size_t n, int in_rate, int out_rate, vx__pcm *out,
                     vx_error *err);

/* ---- Japanese (espeak.c) ---------------------------------------------- */

/** 1 when the UTF-8 text holds a CJK ideograph (kanji / hanzi). */
int vx__text_has_kanji(const char *text);
/** Japanese text -> text whose kanji are replaced by their katakana
 *  pronunciation (MeCab + IPA dictionary).  malloc'd.  Errors: EINVAL when
 *  the converter is unavailable or a word with kanji has no reading. */
int vx__ja_to_kana(const char *text, char **out, vx_error *err);

#endif
