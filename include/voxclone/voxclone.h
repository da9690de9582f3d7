/*
 * voxclone.h -- the one public header of libvoxclone.
 *
 * DESIGN: every call returns an int status (VX_OK == 0, negative on error)
 * and, when given a non-NULL vx_error*, fills it with a one-line human
 * message naming the reason (field, limit, file).  The library never prints,
 * never exits and keeps no mutable globals except FFTW's planner lock.
 * Objects are opaque handles with _new/_free (or _open/_free); _free(NULL) is
 * a no-op.  Units are in the names (_hz, _s, _ms).
 *
 * Thread-safety: distinct handles may be used from distinct threads at the
 * same time; one handle must not be used by two threads at once.  Pure
 * functions (vx_strerror, vx_similarity_compute, vx_voice_type) are
 * thread-safe.
 */
#ifndef VOXCLONE_H
#define VOXCLONE_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define VX_VERSION_STRING "0.1.0"

/* ------------------------------------------------------------------ */
/* Status codes (X-macro: name, value, message)                        */
/* ------------------------------------------------------------------ */
#define VX_STATUS_MAP(X)                                                   \
    X(OK, 0, "success")                                                    \
    X(EINVAL, -1, "invalid argument")                                      \
    X(ENOMEM, -2, "out of memory")                                         \
    X(EIO, -3, "input/output error")                                       \
    X(EFORMAT, -4, "not a supported audio format")                         \
    X(EEMPTY, -5, "audio is empty")                                        \
    X(ETRUNC, -6, "audio is truncated or corrupt")                         \
    X(ETOOSHORT, -7, "audio is too short")                                 \
    X(ETOOLONG, -8, "audio is too long")                                   \
    X(ELIMIT, -9, "size limit exceeded")                                   \
    X(EINTERNAL, -10, "internal error")                                    \
    X(ENOTFOUND, -11, "not found")                                         \
    X(ECONFLICT, -12, "conflict")                                          \
    X(EUNAVAIL, -13, "service unavailable")                                \
    X(EBUSY, -14, "busy: queue full")                                      \
    X(EAUTH, -15, "not authorised")

typedef enum vx_status {
#define VX__STATUS_ENUM(name, value, msg) VX_##name = value,
    VX_STATUS_MAP(VX__STATUS_ENUM)
#undef VX__STATUS_ENUM
} vx_status;

/** Static English message for a status code ("unknown status" if unknown). */
const char *vx_strerror(int status);
/** Static symbolic name of a status code, e.g. "EINVAL" ("UNKNOWN" if unknown). */
const char *vx_status_name(int status);

/** Per-call error detail.  code mirrors the returned status. */
typedef struct vx_error {
    int code;
    char message[256];
} vx_error;

/* ------------------------------------------------------------------ */
/* Audio input                                                         */
/* ------------------------------------------------------------------ */
#define VX_ANALYSIS_RATE_HZ 22050

typedef struct vx_decode_opts {
    int target_rate_hz;    /**< output rate; 0 = keep the native rate. Default 22050. */
    double min_duration_s; /**< refuse shorter input (ETOOSHORT). Default 0.5. */
    double max_duration_s; /**< refuse longer input (ETOOLONG). Default 600. */
} vx_decode_opts;

/** Fill opts with the defaults above.  opts must not be NULL. */
void vx_decode_opts_init(vx_decode_opts *opts);

/**
 * Streaming decoder: WAV/FLAC/OGG(Vorbis)/Opus/MP3 (whatever libsndfile
 * reads), mixed to mono by averaging channels, resampled with soxr "HQ" to
 * opts->target_rate_hz exactly as librosa.load does (output length
 * ceil(n_native * target / native)).  Memory stays bounded whatever the file
 * length.
 */
typedef struct vx_audio_reader vx_audio_reader;

/** Open a file.  Errors: EINVAL (NULL args; opts with max_duration_s not
 *  finite or <= 0, min_duration_s > max_duration_s, target rate outside
 *  8000..192000 unless 0), EIO (cannot open, or not a regular file),
 *  EFORMAT (not audio; native rate outside 1000..1000000 Hz or more than 1024
 *  channels), ETRUNC (recognised but corrupt or truncated container),
 *  EEMPTY (0 bytes or no frames), ETOOLONG (header says too long), ENOMEM.
 *  Some problems found at open (ETOOSHORT from the header length, a WAV data
 *  chunk longer than the file) are reported by the first read instead. */
int vx_audio_reader_open_file(const char *path, const vx_decode_opts *opts,
                              vx_audio_reader **out, vx_error *err);
/** Open an in-memory encoded file.  The reader borrows data: it must stay
 *  valid and unchanged until vx_audio_reader_free().  Errors as above. */
int vx_audio_reader_open_memory(const void *data, size_t size,
                                const vx_decode_opts *opts,
                                vx_audio_reader **out, vx_error *err);
/** Read up to max mono samples at the target rate into buf.  *n_read == 0
 *  means the end.  Errors: ETOOLONG (past max_duration_s), ETRUNC (decode
 *  error mid-stream or truncated data), ETOOSHORT / EEMPTY (from the header
 *  on the first call, or detected at the end).  Errors stick: later reads
 *  return the same error.  Note: libsndfile reports open failures through a
 *  process-wide variable, so two threads failing to open at the same instant
 *  may swap error messages (the audio itself is never affected). */
int vx_audio_reader_read(vx_audio_reader *r, float *buf, size_t max,
                         size_t *n_read, vx_error *err);
/** Native sample rate of the source in Hz. */
int vx_audio_reader_native_rate_hz(const vx_audio_reader *r);
/** Rate of the samples returned by vx_audio_reader_read. */
int vx_audio_reader_rate_hz(const vx_audio_reader *r);
/** Number of native channels. */
int vx_audio_reader_channels(const vx_audio_reader *r);
void vx_audio_reader_free(vx_audio_reader *r);

/** A whole decoded signal (mono float32 in [-1, 1]).  Owned by the caller. */
typedef struct vx_audio {
    float *samples;
    size_t n_samples;
    int sample_rate_hz;
} vx_audio;

int vx_audio_decode_file(const char *path, const vx_decode_opts *opts,
                         vx_audio **out, vx_error *err);
int vx_audio_decode_memory(const void *data, size_t size,
                           const vx_decode_opts *opts, vx_audio **out,
                           vx_error *err);
void vx_audio_free(vx_audio *audio);

/* ------------------------------------------------------------------ */
/* Analysis (librosa 0.11 parity)                                      */
/* ------------------------------------------------------------------ */
#define VX_N_MFCC 13

typedef enum vx_pitch_mode {
    VX_PITCH_LIBROSA = 0, /**< librosa.pyin exact (default) */
    VX_PITCH_ACCURATE = 1 /**< better voicing decision, same frame grid */
} vx_pitch_mode;

typedef struct vx_analysis_opts {
    int keep_frames;       /**< keep per-frame tracks in vx_analysis.frames */
    int detailed;          /**< also compute vx_voice_metrics and the voiceprint */
    int n_threads;         /**< 0 = one per online CPU; 1 = single thread */
    vx_pitch_mode pitch_mode;
    vx_decode_opts decode; /**< used by vx_analyze_file/_memory */
} vx_analysis_opts;

void vx_analysis_opts_init(vx_analysis_opts *opts);

/** Per-frame tracks (frame i is centred on sample i*512). */
typedef struct vx_frames {
    size_t n;
    double *times_s;     /**< n */
    double *f0_hz;       /**< n, NaN when unvoiced */
    uint8_t *voiced_flag;/**< n, 0/1 */
    double *voiced_prob; /**< n */
    double *centroid_hz; /**< n */
    float *mfcc;         /**< n * VX_N_MFCC, row-major (frame, coefficient) */
} vx_frames;

/** Voice-quality metrics (analysis with opts.detailed).  NaN when a value
 *  cannot be measured (e.g. no voiced speech).  Definitions: docs/metrics.md. */
typedef struct vx_voice_metrics {
    double jitter_local_pct;    /**< Praat "jitter (local)", percent */
    double shimmer_local_pct;   /**< Praat "shimmer (local)", percent */
    double hnr_db;              /**< Praat harmonicity (cc), mean over voiced, dB */
    double formant_hz[3];       /**< F1..F3, median over voiced frames, Hz */
    double voiced_ratio;        /**< voiced frames / all frames, 0..1 */
    double speaking_rate_syl_s; /**< syllable nuclei per second */
    double loudness_lufs;       /**< integrated loudness, ITU-R BS.1770-4, LUFS */
} vx_voice_metrics;

#define VX_VOICEPRINT_DIM 512

typedef struct vx_analysis {
    /* pitch (pYIN, over voiced frames; 0 when none is voiced) */
    double pitch_mean_hz, pitch_std_hz, pitch_min_hz, pitch_max_hz;
    size_t n_voiced;
    const char *voice_type;      /**< static string, see vx_voice_type */
    double centroid_mean_hz;     /**< spectral centroid, mean over all frames */
    int has_mfcc;
    float mfcc_mean[VX_N_MFCC];  /**< mean of each MFCC over all frames */
    double duration_s;
    int sample_rate_hz;
    size_t n_samples;
    size_t n_frames;
    vx_frames *frames;           /**< NULL unless opts.keep_frames */
    int has_metrics;             /**< opts.detailed */
    vx_voice_metrics metrics;
    int has_voiceprint;          /**< opts.detailed */
    float voiceprint[VX_VOICEPRINT_DIM]; /**< L2-normalised */
    const char *voiceprint_version;      /**< static string */
    vx_pitch_mode pitch_mode;    /**< mode the pitch fields were computed with */
} vx_analysis;

/** "High (female/child)" (> 200 Hz), "Medium" (> 140), "Low (male)" (> 0),
 *  otherwise "unknown".  Static strings. */
const char *vx_voice_type(double pitch_mean_hz);

/** Streaming analyzer: push 22050 Hz mono samples, then finish. */
typedef struct vx_analyzer vx_analyzer;
int vx_analyzer_new(const vx_analysis_opts *opts, vx_analyzer **out,
                    vx_error *err);
/** Errors: EINVAL (NULL, NaN/Inf samples), ENOMEM. */
int vx_analyzer_push(vx_analyzer *a, const float *samples, size_t n,
                     vx_error *err);
/** Completes the analysis.  Errors: EEMPTY when nothing was pushed.
 *  The analyzer cannot be pushed to afterwards (EINVAL). */
int vx_analyzer_finish(vx_analyzer *a, vx_analysis **out, vx_error *err);
void vx_analyzer_free(vx_analyzer *a);

/** One-shot analysis of samples at sample_rate_hz (must be 22050). */
int vx_analyze_samples(const float *samples, size_t n, int sample_rate_hz,
                       const vx_analysis_opts *opts, vx_analysis **out,
                       vx_error *err);
/** Decode (opts->decode, target forced to 22050) and analyse. */
int vx_analyze_file(const char *path, const vx_analysis_opts *opts,
                    vx_analysis **out, vx_error *err);
int vx_analyze_memory(const void *data, size_t size,
                      const vx_analysis_opts *opts, vx_analysis **out,
                      vx_error *err);
void vx_analysis_free(vx_analysis *a);

/** JSON flags */
#define VX_JSON_DETAILED 1u /**< include MFCC coefficients */
#define VX_JSON_FRAMES 2u   /**< include per-frame tracks */

/** Serialise an analysis as the SPEC section 2 JSON object.  Returns a
 *  malloc'd NUL-terminated string (free with free()) or NULL on ENOMEM. */
char *vx_analysis_to_json(const vx_analysis *a, unsigned flags);

/** Parses an analysis JSON written by vx_analysis_to_json (frames are not
 *  read back; frames stays NULL).  Reals were written with 12 significant
 *  digits.  Reads at most len bytes of json (no NUL needed).  Errors:
 *  EINVAL (NULL argument, not JSON, duplicate keys, missing pitch.mean_hz or
 *  spectral.centroid_mean_hz), ENOMEM; *out is NULL on every error.  Free
 *  *out with vx_analysis_free.  Thread-safe. */
int vx_analysis_from_json(const char *json, size_t len, vx_analysis **out, vx_error *err);

/* ------------------------------------------------------------------ */
/* Similarity: the old service's formula (SPEC section 3)             */
/* ------------------------------------------------------------------ */
typedef struct vx_similarity {
    double pitch_similarity;
    double brightness_similarity;
    double mfcc_similarity;
    double overall;
} vx_similarity;

/** Errors: EINVAL on NULL. */
int vx_similarity_compute(const vx_analysis *original,
                          const vx_analysis *cloned, vx_similarity *out);
/** Cosine similarity of two voiceprints (-1..1); 0 when either is NULL or
 *  all-zero. */
double vx_voiceprint_similarity(const float *a, const float *b);
/** (cosine + 1) / 2 with denominator |a||b| + 1e-10. */
double vx_mfcc_similarity(const float *a, const float *b, size_t n);

/** JSON of a similarity (with original_metrics / cloned_metrics when the
 *  analyses are given, else NULL may be passed).  malloc'd string. */
char *vx_similarity_to_json(const vx_similarity *s, const vx_analysis *original,
                            const vx_analysis *cloned);

#include "voxclone/settings.h"
#include "voxclone/clone.h"
#include "voxclone/pipeline.h"
#include "voxclone/server.h"
#ifdef __cplusplus
}
#endif
#endif /* VOXCLONE_H */
