/*
 * settings.h -- the 14 voice-cloning parameters and the 5 presets
 * (SPEC section 4, ../shared/presets.md).  Included by voxclone.h.
 *
 * DESIGN: one table inside the library describes every parameter (name,
 * group, type, range, default, meaning, what the built-in engines do with
 * it); validation, JSON in and out, the --help text and docs/settings.md are
 * all produced from it, so they cannot disagree.  A user's settings are a
 * preset plus overrides of single parameters.  Nothing is ever clamped: a
 * value of the wrong type or outside its range, or an unknown key, is refused
 * with a one-line message naming the field, the value received and what is
 * allowed, e.g. "temperature = 2.5 is out of range 0.1..2.0".  A call that
 * fails leaves its output unchanged.
 *
 * Thread-safety: every function here is reentrant (the tables are constant;
 * there is no hidden state), so all of them may be called from any thread at
 * the same time on distinct vx_settings.
 */
#ifndef VOXCLONE_SETTINGS_H
#define VOXCLONE_SETTINGS_H

#include <stddef.h>
#include <stdint.h>

#include "voxclone/voxclone.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------------ */
/* The settings value                                                  */
/* ------------------------------------------------------------------ */

/** use_gpu: JSON "auto", true or false.  AUTO is 0 so that a zeroed value
 *  is the default. */
typedef enum vx_use_gpu {
    VX_USE_GPU_AUTO = 0,  /**< JSON "auto": the engine picks its device */
    VX_USE_GPU_TRUE = 1,  /**< JSON true: use a GPU when the engine has one */
    VX_USE_GPU_FALSE = 2  /**< JSON false: CPU only */
} vx_use_gpu;

/** audio_format: JSON "wav" or "mp3" (lower case). */
typedef enum vx_audio_format {
    VX_AUDIO_FORMAT_WAV = 0,
    VX_AUDIO_FORMAT_MP3 = 1
} vx_audio_format;

/**
 * The 14 parameters, in the order of presets.md.  JSON keys are the field
 * names except sample_rate_hz, whose key is "sample_rate".  Booleans are int
 * 0 or 1 (any other value is refused by vx_settings_validate).  Fill one with
 * vx_settings_defaults() or vx_preset_get(), never from memset alone.
 */
typedef struct vx_settings {
    /* voice */
    double exaggeration;       /**< 0.0..1.0, default 0.5 */
    double cfg_weight;         /**< 0.0..1.0, default 0.5 */
    double temperature;        /**< 0.1..2.0, default 1.0 */
    double top_p;              /**< 0.0..1.0, default 0.9 */
    double min_p;              /**< 0.0..1.0, default 0.0 */
    double repetition_penalty; /**< 1.0..3.0, default 1.2 */
    int auto_optimize;         /**< 0/1, default 1 */
    /* performance */
    vx_use_gpu use_gpu;        /**< default VX_USE_GPU_AUTO */
    int batch_size;            /**< 1..10, default 1 */
    int max_workers;           /**< 1..4, default 2 */
    int enable_caching;        /**< 0/1, default 1 */
    /* quality */
    vx_audio_format audio_format; /**< default VX_AUDIO_FORMAT_WAV */
    int sample_rate_hz;        /**< 16000..48000 Hz, default 24000 (JSON "sample_rate") */
    int verify_quality;        /**< 0/1, default 0 */
} vx_settings;

/* ------------------------------------------------------------------ */
/* The parameter table                                                 */
/* ------------------------------------------------------------------ */

/** Parameter ids, in presets.md order (also the JSON output order). */
typedef enum vx_param {
    VX_PARAM_EXAGGERATION = 0,
    VX_PARAM_CFG_WEIGHT = 1,
    VX_PARAM_TEMPERATURE = 2,
    VX_PARAM_TOP_P = 3,
    VX_PARAM_MIN_P = 4,
    VX_PARAM_REPETITION_PENALTY = 5,
    VX_PARAM_AUTO_OPTIMIZE = 6,
    VX_PARAM_USE_GPU = 7,
    VX_PARAM_BATCH_SIZE = 8,
    VX_PARAM_MAX_WORKERS = 9,
    VX_PARAM_ENABLE_CACHING = 10,
    VX_PARAM_AUDIO_FORMAT = 11,
    VX_PARAM_SAMPLE_RATE = 12,
    VX_PARAM_VERIFY_QUALITY = 13
} vx_param;

#define VX_PARAM_COUNT 14

/** How a parameter is written in JSON and stored in vx_settings. */
typedef enum vx_param_type {
    VX_PTYPE_NUMBER = 0,  /**< JSON number; double */
    VX_PTYPE_INTEGER = 1, /**< JSON integer (an integral real such as 4.0 is
                               accepted, 1.5 is not); int */
    VX_PTYPE_BOOLEAN = 2, /**< JSON true/false; int 0/1 */
    VX_PTYPE_USE_GPU = 3, /**< JSON "auto", true or false; vx_use_gpu */
    VX_PTYPE_FORMAT = 4   /**< JSON "wav" or "mp3"; vx_audio_format */
} vx_param_type;

/** One row of the parameter table.  All strings are static. */
typedef struct vx_param_info {
    vx_param id;
    const char *name;      /**< JSON key, e.g. "temperature" */
    const char *group;     /**< "voice", "performance" or "quality" */
    vx_param_type type;
    const char *type_name; /**< as presets.md: "number", "integer",
                                "boolean", "string or boolean", "string" */
    double min, max;       /**< inclusive range (NUMBER, INTEGER); else 0 */
    const char *unit;      /**< "Hz" for sample_rate, else "" */
    const char *allowed;   /**< allowed values as text: "0.1..2.0", "1..10",
                                "true or false", "\"auto\", true or false",
                                "\"wav\" or \"mp3\"" */
    double default_value;  /**< in the vx_settings representation (enum code,
                                0/1 for booleans) */
    const char *meaning;   /**< one sentence: what it means (for the neural
                                engine the contract came from) */
    const char *builtin;   /**< one sentence: what the built-in, non-neural
                                engines (espeak-ng / flite) do with it */
    int builtin_honoured;  /**< 1 when the built-in engines honour it; 0 for
                                the token-sampling parameters (reported unused) */
} vx_param_info;

/** Row p of the table, or NULL when p is not a valid vx_param. */
const vx_param_info *vx_param_info_get(vx_param p);
/** JSON key of p ("temperature"), or NULL when p is not valid. */
const char *vx_param_name(vx_param p);
/** The id of a JSON key (exact, case-sensitive), or -1 when unknown or NULL. */
int vx_param_from_name(const char *name);

/* ------------------------------------------------------------------ */
/* Parameter masks: which parameters an engine honours / adjusted      */
/* ------------------------------------------------------------------ */

/** A set of parameters: bit p is VX_PARAM_BIT(p). */
typedef uint32_t vx_param_mask;
#define VX_PARAM_BIT(p) ((vx_param_mask)1u << (unsigned)(p))
#define VX_PARAM_MASK_ALL ((vx_param_mask)((1u << VX_PARAM_COUNT) - 1u))
/** The pure token-sampling parameters: no non-neural engine can use them. */
#define VX_PARAM_MASK_TOKEN_SAMPLING                                           \
    (VX_PARAM_BIT(VX_PARAM_TOP_P) | VX_PARAM_BIT(VX_PARAM_MIN_P) |            \
     VX_PARAM_BIT(VX_PARAM_REPETITION_PENALTY))

/** The parameters the built-in (espeak-ng / flite) engines honour, from the
 *  table's builtin_honoured column: every parameter except the token-sampling
 *  ones.  An engine declares its own mask; this is the built-ins' one. */
vx_param_mask vx_param_mask_builtin(void);
/** Parameters not in honoured: VX_PARAM_MASK_ALL & ~honoured.  What a result
 *  must report as unused. */
vx_param_mask vx_param_mask_unused(vx_param_mask honoured);
/**
 * Names of the parameters in mask, in table order, as static strings: stores
 * at most cap of them in names (names may be NULL when cap is 0) and returns
 * how many the mask holds (so a return > cap means names was too small).
 * Bits above VX_PARAM_COUNT are ignored.
 */
size_t vx_param_mask_names(vx_param_mask mask, const char **names, size_t cap);
/** The names of mask as a JSON array, e.g. ["top_p", "min_p",
 *  "repetition_penalty"].  malloc'd (free with free()); NULL on ENOMEM. */
char *vx_param_mask_to_json(vx_param_mask mask);

/* ------------------------------------------------------------------ */
/* Presets                                                             */
/* ------------------------------------------------------------------ */

/** Number of presets (5).  Order: fast, balanced, high_quality,
 *  conversational, low_resource. */
size_t vx_preset_count(void);
/** Name of preset i ("balanced"), or NULL when i >= vx_preset_count(). */
const char *vx_preset_name(size_t i);
/** Short purpose of preset i as in presets.md ("lowest latency"), or NULL. */
const char *vx_preset_purpose(size_t i);
/** One-sentence description of preset i (the JSON "description"), or NULL. */
const char *vx_preset_description(size_t i);
/** Name of the default preset: "balanced". */
const char *vx_preset_default_name(void);

/**
 * Copy the preset called name (exact, case-sensitive) into *out.
 * Errors: EINVAL (NULL argument; unknown name: "unknown preset 'x' (valid:
 * fast, balanced, high_quality, conversational, low_resource)"); *out is
 * then unchanged.
 */
int vx_preset_get(const char *name, vx_settings *out, vx_error *err);

/* ------------------------------------------------------------------ */
/* Building and checking settings                                      */
/* ------------------------------------------------------------------ */

/** Fill s with the defaults of presets.md (identical to the "balanced"
 *  preset).  No-op when s is NULL. */
void vx_settings_defaults(vx_settings *s);

/** Check every field of s (useful after a caller wrote fields directly):
 *  numbers finite and in range, integers in range, booleans 0 or 1, enums
 *  valid.  Errors: EINVAL naming the first bad field in table order, or when
 *  s is NULL. */
int vx_settings_validate(const vx_settings *s, vx_error *err);

/** 1 when a and b hold the same 14 values (doubles compared with ==), else 0
 *  (also when either is NULL). */
int vx_settings_equal(const vx_settings *a, const vx_settings *b);

/** Largest JSON text the JSON readers accept, in bytes. */
#define VX_SETTINGS_JSON_MAX 65536

/**
 * Apply the overrides in a JSON object to *s, e.g.
 * {"temperature": 0.8, "use_gpu": false}.  Keys are the 14 parameter names;
 * the meta-key "preset" (a preset name) is also accepted: *s is then first
 * replaced by that preset, whatever the key's position, and the other keys
 * override it.  json holds len bytes (no NUL needed; a trailing NUL must not
 * be counted).  Values must have the parameter's type (see vx_param_info);
 * duplicate keys are refused.
 *
 * The whole object is checked on a copy and committed only on success: on
 * any error *s is unchanged.  The result is validated as a whole, so an
 * invalid field already in *s is reported too.
 *
 * Errors: EINVAL (NULL s or json; malformed JSON: "settings JSON is
 * malformed: <reason> at line L column C"; not an object; unknown key:
 * "unknown setting 'foo' (known: preset, exaggeration, ...)"; wrong type:
 * "batch_size = 1.5 has the wrong type: expected an integer in 1..10"; value
 * not allowed: "audio_format = \"ogg\" is not allowed: expected \"wav\" or
 * \"mp3\""; out of range: "temperature = 2.5 is out of range 0.1..2.0";
 * unknown preset), ELIMIT (len > VX_SETTINGS_JSON_MAX), ENOMEM.
 */
int vx_settings_apply_json(vx_settings *s, const char *json, size_t len,
                           vx_error *err);

/**
 * Settings from a JSON object of the form {"preset": "fast", ...overrides}:
 * the preset ("balanced" when the key is absent), then the overrides, as
 * vx_settings_apply_json.  *out is written only on success.  Errors as
 * vx_settings_apply_json.
 */
int vx_settings_from_json(const char *json, size_t len, vx_settings *out,
                          vx_error *err);

/**
 * Set one parameter from text, as for the CLI's --set KEY=VALUE.  value_text
 * is read as a JSON value when it is one (0.8, true, false, "wav", null ...),
 * otherwise as a bare string (so use_gpu=auto and audio_format=mp3 work), and
 * then checked exactly like a JSON override: batch_size=1.5 and
 * temperature=hot are refused.  key must be one of the 14 names ("preset" is
 * not a parameter).  The result is then validated as a whole, as in
 * vx_settings_apply_json.  On error *s is unchanged.
 * Errors: EINVAL (NULL argument, unknown key, wrong type, out of range),
 * ELIMIT (value_text longer than VX_SETTINGS_JSON_MAX), ENOMEM.
 */
int vx_settings_set(vx_settings *s, const char *key, const char *value_text,
                    vx_error *err);

/** vx_settings_set from one "KEY=VALUE" argument (split at the first '=').
 *  Errors: as vx_settings_set, plus EINVAL when there is no '=' or no key. */
int vx_settings_set_arg(vx_settings *s, const char *key_eq_value,
                        vx_error *err);

/**
 * Write the value of parameter p in s as JSON text into buf (cap bytes,
 * NUL-terminated): numbers in the shortest form that reads back exactly,
 * always with a decimal point or exponent ("1.0", "0.05"); integers
 * ("24000"); true/false; "auto"/"wav" with quotes.  32 bytes always suffice.
 * Errors: EINVAL (NULL argument, invalid p), ELIMIT (cap too small; buf then
 * holds a truncated string when cap > 0).
 */
int vx_settings_format_value(const vx_settings *s, vx_param p, char *buf,
                             size_t cap);

/**
 * All 14 parameters of s as one JSON object on one line, in presets.md order:
 * {"exaggeration": 0.5, ..., "use_gpu": "auto", ..., "sample_rate": 24000,
 * "verify_quality": false}.  Numbers read back exactly, so
 * vx_settings_apply_json(vx_settings_to_json(s)) reproduces s.  malloc'd
 * (free with free()); NULL when s is NULL or on ENOMEM.
 */
char *vx_settings_to_json(const vx_settings *s);

/**
 * The 5 presets as a JSON array on one line, in the order fast, balanced,
 * high_quality, conversational, low_resource, each object exactly
 * {"name": "balanced", "description": "...", "default": true,
 *  "parameters": {...14 values as vx_settings_to_json...}}
 * (the old service's GET /api/voice-presets).  malloc'd; NULL on ENOMEM.
 */
char *vx_presets_to_json(void);

/**
 * Markdown reference generated from the table: the parameter table (range,
 * default, meaning, built-in engines), the preset table and each preset's
 * description.  docs/settings.md embeds this text verbatim (a unit test
 * checks it).  malloc'd; NULL on ENOMEM.
 */
char *vx_settings_markdown(void);

/* ------------------------------------------------------------------ */
/* auto_optimize                                                       */
/* ------------------------------------------------------------------ */

/**
 * The auto_optimize rule for a target language.  *out = *in, then, when
 * in->auto_optimize is 1 and language is not English, cfg_weight = 0 (the
 * reference's English pace and accent must not leak into another language).
 * English is "en" or "en-*" / "en_*" (any case: "en-US", "EN_gb").  When
 * auto_optimize is 0 nothing changes.  An engine may add its own documented
 * per-language adjustments afterwards.
 *
 * *adjusted (when not NULL) receives the parameters whose value actually
 * changed (cfg_weight already 0 is not an adjustment); list their names with
 * vx_param_mask_names or vx_param_mask_to_json.  in and out may be the same
 * object.  On error *out and *adjusted are unchanged.
 * Errors: EINVAL (NULL in/language/out; in invalid, see
 * vx_settings_validate; language empty, longer than 35 characters, not
 * starting with a letter or holding characters other than letters, digits,
 * '-' and '_').
 */
int vx_settings_auto_optimize(const vx_settings *in, const char *language,
                              vx_settings *out, vx_param_mask *adjusted,
                              vx_error *err);

/** 1 when language is English by the rule above ("en", "en-*", "en_*", any
 *  case), else 0 (also for NULL). */
int vx_language_is_english(const char *language);

#ifdef __cplusplus
}
#endif
#endif /* VOXCLONE_SETTINGS_H */
