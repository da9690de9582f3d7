/*
 * tts_internal.h -- internal interfaces of the cloning engine.
 *
 *   engine.c     engine registry, choice per language, fallback
 *   espeak.c     espeak-ng engine (each synthesis in a worker forked by the zygote)
 *   flite.c      flite engine (English)
 *   fit.c        voice fitting: base-voice parameters from the reference
 *   convert.c    tone-colour converter (envelope, F0, level)
 *   clone.c      vx_voice, vx_clone_text, vx_convert_audio, encode
 *   pipeline.c   multi-language pipeline on a bounded pool
 */
#ifndef VX_TTS_INTERNAL_H
#define VX_TTS_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "voxclone/voxclone.h"

/** Base-voice parameters fitted from the reference (fit.c). */
typedef struct vx__voice_fit {
    double pitch_hz;       /**< target mean F0 (pYIN mean of the reference) */
    double pitch_range_hz; /**< target F0 spread (std) */
    double rate_wpm;       /**< words per minute for the synthesizer */
    double formant_scale;  /**< 0.9 .. 1.1 */
    double breath;         /**< 0 .. 1 */
    int female;            /**< choose a female base voice */
} vx__voice_fit;

/** Mono PCM owned by the holder. */
typedef struct vx__pcm {
    float *x;
    size_t n;
    int rate_hz;
} vx__pcm;

void vx__pcm_free(vx__pcm *p);

/** A base synthesizer. */
typedef struct vx__engine {
    const char *name;
    /** 1 when lang (lower-case base code like "fr") is spoken */
    int (*supports)(const char *lang);
    vx_param_mask honoured;
    /** text -> pcm at the engine's native rate.  Thread-safe (engines with
     *  global state serialise internally). */
    int (*synth)(const char *lang, const char *text, const vx__voice_fit *fit,
                 const vx_settings *s, uint64_t seed, vx__pcm *out, vx_error *err);
} vx__engine;

extern const vx__engine vx__engine_espeak;
extern const vx__engine vx__engine_flite;

/** Picks the engine for lang (preferred first, then fallback).  NULL with
 *  EINVAL naming the supported languages when none fits. */
const vx__engine *vx__engine_choose(const char *lang, int skip_index, vx_error *err);

/** Speaker statistics the converter moves toward (computed once per voice). */
typedef struct vx__conv_stats vx__conv_stats;

/** From the reference signal (22050 Hz mono) and its default analysis. */
int vx__conv_stats_new(const float *x, size_t n, int rate_hz, const vx_analysis *a,
                       vx__conv_stats **out, vx_error *err);
void vx__conv_stats_free(vx__conv_stats *s);

/** Tone-colour conversion of in (any rate) toward target; output at
 *  out_rate_hz.  exaggeration scales prosody range, temperature adds seeded
 *  variation, cfg_weight sets how closely the reference speaking rate is
 *  followed (rate_ratio = reference rate / synthetic rate, 1 = no change). */
int vx__convert(const vx__pcm *in, const vx__conv_stats *target, const vx_settings *s,
                uint64_t seed, int out_rate_hz, vx__pcm *out, vx_error *err);

#endif
