/*
 * clone.h -- speak text (or re-speak a recording) in a reference voice.
 * Included by voxclone.h.
 *
 * DESIGN: a base synthesizer (espeak-ng for 12 languages, flite for English)
 * controls language and words; a tone-colour converter moves the result
 * toward the reference speaker (log-F0 mean/range, spectral envelope, level).
 * See docs/cloning.md.  Same input + same seed -> identical output bytes.
 * Thread-safety: a vx_voice is immutable after creation and may be shared by
 * threads; results are owned by the caller.
 */
#ifndef VOXCLONE_CLONE_H
#define VOXCLONE_CLONE_H

#include <stddef.h>
#include <stdint.h>

/* (included from voxclone.h after vx_error, vx_analysis, vx_similarity and
 * settings.h are declared) */

/** A reference voice: its analysis plus the statistics the converter needs. */
typedef struct vx_voice vx_voice;

/** Builds a voice from a recording (any format vx_audio_reader accepts).
 *  Errors: as vx_analyze_file, plus EINVAL when the recording has too little
 *  voiced speech to fit a voice (message says how much is needed). */
int vx_voice_from_file(const char *path, vx_voice **out, vx_error *err);
int vx_voice_from_memory(const void *data, size_t size, vx_voice **out, vx_error *err);
/** The reference's analysis (detailed: metrics + voiceprint).  Borrowed. */
const vx_analysis *vx_voice_analysis(const vx_voice *v);
void vx_voice_free(vx_voice *v);

/** Languages of the built-in engines: "en fr es de it pt ru ar hi ja ko zh". */
const char *vx_clone_languages(void);

/** Optional: call once at start-up, before creating threads.  Starts the
 *  espeak-ng helper process (a single-threaded fork server; espeak-ng
 *  initialises in it in the background) while fork() is still safe.
 *  Without it the helper is started on first use: fork()ed when the process
 *  has one thread, otherwise re-executed from /proc/self/exe (docs/cloning.md,
 *  "Process model").  The helper exits when this process does.  Errors:
 *  EINTERNAL (no process could be started; synthesis retries later). */
int vx_tts_global_init(vx_error *err);

typedef struct vx_clone_result {
    float *samples;          /**< mono, [-1, 1], at rate_hz (= settings.sample_rate_hz) */
    size_t n_samples;
    int rate_hz;
    double duration_s;
    char language[16];
    char engine[16];         /**< "espeak-ng" or "flite" */
    char device[8];          /**< "cpu" */
    vx_param_mask unused;    /**< parameters the engine does not use */
    vx_param_mask adjusted;  /**< parameters auto_optimize changed */
    vx_settings effective;   /**< settings after auto_optimize */
    double synth_ms, convert_ms, total_ms; /**< stage timings */
    int has_similarity;      /**< settings.verify_quality */
    vx_similarity similarity; /**< seed formula, output vs reference */
    double voiceprint_similarity; /**< cosine, when has_similarity */
} vx_clone_result;

/** Text -> speech in the voice.  lang: one of vx_clone_languages() (or a
 *  region form like "en-US", "pt-BR").  Errors: EINVAL (NULL, empty or
 *  over-long text -- limit VX_CLONE_MAX_TEXT bytes --, unknown language with
 *  the list of supported ones, invalid settings, Japanese kanji without a
 *  kana converter), ENOMEM, EINTERNAL (synthesizer failure). */
#define VX_CLONE_MAX_TEXT 20000
int vx_clone_text(const vx_voice *voice, const char *lang, const char *text,
                  const vx_settings *settings, uint64_t seed, vx_clone_result **out,
                  vx_error *err);

/** Audio -> audio: the recording x (mono, rate_hz) re-spoken in the voice. */
int vx_convert_audio(const vx_voice *voice, const float *x, size_t n, int rate_hz,
                     const vx_settings *settings, uint64_t seed, vx_clone_result **out,
                     vx_error *err);

void vx_clone_result_free(vx_clone_result *r);

/** Encodes a result as WAV (PCM16) or MP3 into a malloc'd buffer. */
int vx_clone_result_encode(const vx_clone_result *r, vx_audio_format fmt, unsigned char **data,
                           size_t *size, vx_error *err);
/** Writes a result to path; format from the extension (.wav / .mp3). */
int vx_clone_result_write(const vx_clone_result *r, const char *path, vx_error *err);

#endif
