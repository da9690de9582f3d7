/*
 * pipeline.h -- one message -> N target languages, in parallel, in one voice
 * (SPEC section 6).  Included by voxclone.h after clone.h.
 *
 * DESIGN: vx_pipeline_run clones each target with vx_clone_text on a bounded
 * pool of pthreads (settings.max_workers, the calling thread being one of
 * them) and encodes it in settings.audio_format.  Each language succeeds or
 * fails on its own: a bad language code, an empty text or a synthesizer
 * error marks that item failed with a status code and a one-line message,
 * and every other item still arrives.  Only misuse of the call itself
 * (NULL arguments, no targets, invalid settings) fails the whole run.
 *
 * Determinism: item i is cloned with the seed vx_pipeline_item_seed(seed, i),
 * which depends only on the run's seed and the index, so the output bytes do
 * not depend on max_workers or on scheduling: a run with 1 worker and a run
 * with 4 give identical audio, and vx_clone_text(voice, language, text,
 * settings, item.seed) reproduces any single item.
 *
 * Thread-safety: vx_pipeline_run may be called from several threads at once
 * (with the same voice: a vx_voice is immutable).  The progress callback is
 * called from pool threads, but never by two threads at the same time.
 */
#ifndef VOXCLONE_PIPELINE_H
#define VOXCLONE_PIPELINE_H

#include <stddef.h>
#include <stdint.h>

/* (included from voxclone.h after clone.h) */

/** Most targets one run accepts (more: ELIMIT, nothing is run). */
#define VX_PIPELINE_MAX_TARGETS 32
/** Longest text of one target, in bytes (longer: that item fails, ELIMIT). */
#define VX_PIPELINE_MAX_TEXT VX_CLONE_MAX_TEXT
/** Most text of one run, all targets together, in bytes (more: ELIMIT,
 *  nothing is run).  Bounds the memory of a run: the result holds every
 *  item's samples and encoded audio, about 6 bytes per sample (float +
 *  PCM16), i.e. ~0.6 GB for 64 KiB of text (~70 min of speech) at 24 kHz. */
#define VX_PIPELINE_MAX_TOTAL_TEXT 65536
/** Longest language code kept in a result (longer codes fail, EINVAL). */
#define VX_PIPELINE_MAX_LANGUAGE 35

/** One target: a language (vx_clone_languages(), or a region form such as
 *  "pt-BR") and the text to speak, UTF-8, NUL-terminated.  Borrowed for the
 *  duration of the call only. */
typedef struct vx_pipeline_target {
    const char *language;
    const char *text;
} vx_pipeline_target;

/** The stages a progress callback reports for one item, in this order. */
typedef enum vx_pipeline_stage {
    VX_PIPELINE_STARTED = 0, /**< a worker took the item; progress 0.0 */
    VX_PIPELINE_CLONED = 1,  /**< synthesis + conversion (+ verification) done; 0.8 */
    VX_PIPELINE_DONE = 2,    /**< encoded, the item is ok; progress 1.0 */
    VX_PIPELINE_FAILED = 3   /**< the item failed (status, message); progress 1.0 */
} vx_pipeline_stage;

/** What a progress callback receives.  Valid during the callback only. */
typedef struct vx_pipeline_progress {
    size_t index;            /**< position of the item in the targets */
    const char *language;    /**< the item's language as given ("" if NULL) */
    vx_pipeline_stage stage;
    double progress;         /**< this item, 0..1, non-decreasing; the last call
                                  for an item (DONE or FAILED) carries 1.0 */
    int status;              /**< VX_OK, or the error code with FAILED */
    const char *message;     /**< "" or, with FAILED, the error message */
    size_t n_finished;       /**< items finished (DONE or FAILED), this one included */
    size_t n_targets;
    /** With DONE: the finished item (clone, encoded audio), so a caller can
     *  persist each language as soon as it is ready; NULL otherwise.  The
     *  item is owned by the run; do not keep the pointer. */
    const struct vx_pipeline_item *item;
} vx_pipeline_progress;

/** Called from pool threads, never two at once (calls are serialised), each
 *  item's calls in stage order: STARTED, [CLONED], then DONE or FAILED.  A
 *  slow callback delays the pool: keep it short.  It must not call
 *  vx_pipeline_run re-entrantly with the same user state. */
typedef void (*vx_pipeline_progress_fn)(const vx_pipeline_progress *p, void *user);

/** The outcome of one target. */
typedef struct vx_pipeline_item {
    size_t index;           /**< position in the targets */
    char language[VX_PIPELINE_MAX_LANGUAGE + 1]; /**< as given ("" if NULL or too long) */
    int status;             /**< VX_OK or the error code of this item */
    vx_error error;         /**< code + one-line message when status != VX_OK */
    uint64_t seed;          /**< the seed this item was cloned with */
    vx_clone_result *clone; /**< samples, engine, durations, similarity, unused /
                                 adjusted parameters; NULL when failed.  Owned
                                 by the pipeline result. */
    unsigned char *audio;   /**< the clone encoded in audio_format (WAV PCM16 or
                                 MP3) at settings.sample_rate_hz; NULL when failed */
    size_t audio_size;
    vx_audio_format audio_format;
    /* per-stage timings, ms (CLOCK_MONOTONIC); synth / convert / verification
     * are in clone->synth_ms, convert_ms and total_ms */
    double queue_ms;        /**< from the start of the run until a worker took it */
    double clone_ms;        /**< the vx_clone_text call */
    double encode_ms;       /**< vx_clone_result_encode */
    double processing_ms;   /**< clone_ms + encode_ms (+ bookkeeping) */
    double cpu_ms;          /**< CPU time of the worker thread on this item
                                 (processing_ms - cpu_ms = waiting: locks, other
                                 processes, the espeak-ng worker process) */
    int worker;             /**< which worker ran it, 0..n_workers-1 (varies
                                 from run to run; everything else does not) */
} vx_pipeline_item;

typedef struct vx_pipeline_result {
    size_t n_items;
    vx_pipeline_item *items; /**< n_items, in the order of the targets */
    size_t n_ok, n_failed;
    int n_workers;           /**< threads used: min(max_workers, n_items) */
    uint64_t seed;
    vx_settings settings;    /**< as given to the run */
    double wall_ms;          /**< whole run */
} vx_pipeline_result;

/** The seed of item index in a run with seed (a splitmix64 mix of both). */
uint64_t vx_pipeline_item_seed(uint64_t seed, size_t index);

/**
 * Clones targets[0..n-1] in voice on min(settings->max_workers, n) threads.
 * settings NULL means vx_settings_defaults().  progress may be NULL.
 * Returns VX_OK when the run took place, even if some (or all) items failed:
 * look at (*out)->n_failed and each item's status.  Per-item errors: EINVAL
 * (NULL or empty language / text, language too long or unknown, with the
 * supported list), ELIMIT (text longer than VX_PIPELINE_MAX_TEXT), and
 * whatever vx_clone_text or vx_clone_result_encode report (ENOMEM,
 * EINTERNAL...).
 * Errors of the call (nothing is run, *out untouched): EINVAL (NULL voice,
 * out, or targets with n > 0; n == 0; invalid settings), ELIMIT (n >
 * VX_PIPELINE_MAX_TARGETS; texts longer than VX_PIPELINE_MAX_TOTAL_TEXT
 * together), ENOMEM.
 */
int vx_pipeline_run(const vx_voice *voice, const vx_settings *settings,
                    const vx_pipeline_target *targets, size_t n, uint64_t seed,
                    vx_pipeline_progress_fn progress, void *user,
                    vx_pipeline_result **out, vx_error *err);

/** As vx_pipeline_run, but item i is cloned with item_seeds[i] (when
 *  item_seeds is not NULL) instead of vx_pipeline_item_seed(seed, i): a
 *  caller re-running part of an earlier run (a job resumed after a restart)
 *  passes the original items' seeds and gets the same bytes. */
int vx_pipeline_run_seeded(const vx_voice *voice, const vx_settings *settings,
                           const vx_pipeline_target *targets, size_t n, uint64_t seed,
                           const uint64_t *item_seeds, vx_pipeline_progress_fn progress,
                           void *user, vx_pipeline_result **out, vx_error *err);

void vx_pipeline_result_free(vx_pipeline_result *r);

/**
 * The result JSON of docs/pipeline.md (one line): the run (seed, settings,
 * workers, counts, wall time) and one object per item in input order.
 * audio_files (may be NULL; entries may be NULL) names the file each item
 * was written to, printed as "audio_file".  malloc'd (free with free());
 * NULL when r is NULL or on ENOMEM.
 */
char *vx_pipeline_result_to_json(const vx_pipeline_result *r, const char *const *audio_files);

#endif
