/*
 * params.c -- THE parameter table: the 14 parameters of presets.md.
 *
 * DESIGN: every fact about a parameter (JSON name, group, type, inclusive
 * range, the allowed-values text used in messages, default, meaning, what the
 * built-in non-neural engines do with it, whether they honour it) lives in
 * one row of vx__cfg_params, indexed by vx_param.  Validation, JSON reading
 * and writing, the CLI's --help and the Markdown of docs/settings.md all read
 * this table; the unit tests check that the "allowed" texts agree with
 * min/max and that the defaults equal the "balanced" preset.  Values move
 * through the generic get/put/check functions below as doubles (integers,
 * 0/1 booleans and enum codes are exact in a double), so a preset is simply
 * 14 doubles and one loop serves every parameter.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "config/config_internal.h"
#include "core/error.h"

#define SAMPLING_ONLY                                                          \
    "Unused: it only steers token sampling, which the built-in engines do "    \
    "not do; results list it as unused."

const vx_param_info vx__cfg_params[VX_PARAM_COUNT] = {
    [VX_PARAM_EXAGGERATION] = {
        VX_PARAM_EXAGGERATION, "exaggeration", "voice", VX_PTYPE_NUMBER, "number",
        0.0, 1.0, "", "0.0..1.0", 0.5,
        "Emotional intensity / expressiveness of the cloned speech.",
        "Scales the prosody range: how far pitch and emphasis swing around the "
        "voice's mean (higher = more expressive).",
        1},
    [VX_PARAM_CFG_WEIGHT] = {
        VX_PARAM_CFG_WEIGHT, "cfg_weight", "voice", VX_PTYPE_NUMBER, "number",
        0.0, 1.0, "", "0.0..1.0", 0.5,
        "How strongly generation follows the reference voice (its pace and "
        "accent); 0 for cross-language cloning.",
        "How closely the reference's speaking rate is followed: 0 = the "
        "synthesizer's normal rate for the language, 1 = the rate measured in "
        "the reference.",
        1},
    [VX_PARAM_TEMPERATURE] = {
        VX_PARAM_TEMPERATURE, "temperature", "voice", VX_PTYPE_NUMBER, "number",
        0.1, 2.0, "", "0.1..2.0", 1.0,
        "Randomness of generation.",
        "Amount of seeded natural variation: small pitch and timing "
        "fluctuations drawn from a fixed seed, so the same request gives the "
        "same audio.",
        1},
    [VX_PARAM_TOP_P] = {
        VX_PARAM_TOP_P, "top_p", "voice", VX_PTYPE_NUMBER, "number",
        0.0, 1.0, "", "0.0..1.0", 0.9,
        "Nucleus sampling: tokens are drawn only from the smallest set whose "
        "total probability reaches top_p.",
        SAMPLING_ONLY, 0},
    [VX_PARAM_MIN_P] = {
        VX_PARAM_MIN_P, "min_p", "voice", VX_PTYPE_NUMBER, "number",
        0.0, 1.0, "", "0.0..1.0", 0.0,
        "Minimum probability, relative to the most likely token, for a token "
        "to be sampled.",
        SAMPLING_ONLY, 0},
    [VX_PARAM_REPETITION_PENALTY] = {
        VX_PARAM_REPETITION_PENALTY, "repetition_penalty", "voice",
        VX_PTYPE_NUMBER, "number", 1.0, 3.0, "", "1.0..3.0", 1.2,
        "Penalty on generating already generated tokens again.",
        SAMPLING_ONLY, 0},
    [VX_PARAM_AUTO_OPTIMIZE] = {
        VX_PARAM_AUTO_OPTIMIZE, "auto_optimize", "voice", VX_PTYPE_BOOLEAN,
        "boolean", 0, 0, "", "true or false", 1,
        "Adapt parameters per target language and per voice.",
        "Applied before synthesis: for a non-English target language "
        "cfg_weight is set to 0, and the result lists the adjusted parameters.",
        1},
    [VX_PARAM_USE_GPU] = {
        VX_PARAM_USE_GPU, "use_gpu", "performance", VX_PTYPE_USE_GPU,
        "string or boolean", 0, 0, "", "\"auto\", true or false", VX_USE_GPU_AUTO,
        "Device choice: \"auto\" uses a GPU when one is usable, true asks for "
        "one, false forbids it.",
        "The built-in engines run on the CPU whatever the value; results report "
        "the device actually used (\"cpu\").",
        1},
    [VX_PARAM_BATCH_SIZE] = {
        VX_PARAM_BATCH_SIZE, "batch_size", "performance", VX_PTYPE_INTEGER,
        "integer", 1, 10, "", "1..10", 1,
        "Number of items synthesized per batch.",
        "Number of texts synthesized per batch: changes throughput and memory, "
        "never the audio.",
        1},
    [VX_PARAM_MAX_WORKERS] = {
        VX_PARAM_MAX_WORKERS, "max_workers", "performance", VX_PTYPE_INTEGER,
        "integer", 1, 4, "", "1..4", 2,
        "Number of target languages processed in parallel.",
        "Number of target languages synthesized in parallel: changes speed and "
        "memory, never the audio.",
        1},
    [VX_PARAM_ENABLE_CACHING] = {
        VX_PARAM_ENABLE_CACHING, "enable_caching", "performance",
        VX_PTYPE_BOOLEAN, "boolean", 0, 0, "", "true or false", 1,
        "Reuse analyses and voice conditionings across requests.",
        "Reuses the analysis of a reference voice for later requests with the "
        "same reference: saves time, never changes the audio.",
        1},
    [VX_PARAM_AUDIO_FORMAT] = {
        VX_PARAM_AUDIO_FORMAT, "audio_format", "quality", VX_PTYPE_FORMAT,
        "string", 0, 0, "", "\"wav\" or \"mp3\"", VX_AUDIO_FORMAT_WAV,
        "Output encoding.",
        "Encoding of the output file: WAV or MP3.",
        1},
    [VX_PARAM_SAMPLE_RATE] = {
        VX_PARAM_SAMPLE_RATE, "sample_rate", "quality", VX_PTYPE_INTEGER,
        "integer", 16000, 48000, "Hz", "16000..48000", 24000,
        "Output sample rate in Hz.",
        "The synthesized audio is resampled to this rate (espeak-ng speaks at "
        "22050 Hz, flite at 16000 Hz).",
        1},
    [VX_PARAM_VERIFY_QUALITY] = {
        VX_PARAM_VERIFY_QUALITY, "verify_quality", "quality", VX_PTYPE_BOOLEAN,
        "boolean", 0, 0, "", "true or false", 0,
        "Score each output against the reference voice.",
        "Analyses each output and reports its similarity to the reference "
        "voice (seed formula and voiceprint).",
        1},
};

const vx_param_info *vx_param_info_get(vx_param p)
{
    if ((int)p < 0 || (int)p >= VX_PARAM_COUNT)
        return NULL;
    return &vx__cfg_params[p];
}

const char *vx_param_name(vx_param p)
{
    const vx_param_info *pi = vx_param_info_get(p);
    return pi ? pi->name : NULL;
}

int vx_param_from_name(const char *name)
{
    if (!name)
        return -1;
    for (int i = 0; i < VX_PARAM_COUNT; i++)
        if (!strcmp(name, vx__cfg_params[i].name))
            return i;
    return -1;
}

/* ---- masks -------------------------------------------------------- */

vx_param_mask vx_param_mask_builtin(void)
{
    vx_param_mask m = 0;
    for (int i = 0; i < VX_PARAM_COUNT; i++)
        if (vx__cfg_params[i].builtin_honoured)
            m |= VX_PARAM_BIT(i);
    return m;
}

vx_param_mask vx_param_mask_unused(vx_param_mask honoured)
{
    return VX_PARAM_MASK_ALL & ~honoured;
}

size_t vx_param_mask_names(vx_param_mask mask, const char **names, size_t cap)
{
    size_t n = 0;
    for (int i = 0; i < VX_PARAM_COUNT; i++) {
        if (!(mask & VX_PARAM_BIT(i)))
            continue;
        if (names && n < cap)
            names[n] = vx__cfg_params[i].name;
        n++;
    }
    return n;
}

char *vx_param_mask_to_json(vx_param_mask mask)
{
    vx__cfg_buf b;
    vx__cfg_buf_init(&b);
    vx__cfg_buf_puts(&b, "[");
    int first = 1;
    for (int i = 0; i < VX_PARAM_COUNT; i++) {
        if (!(mask & VX_PARAM_BIT(i)))
            continue;
        if (!first)
            vx__cfg_buf_puts(&b, ", ");
        vx__cfg_buf_json_string(&b, vx__cfg_params[i].name);
        first = 0;
    }
    vx__cfg_buf_puts(&b, "]");
    return vx__cfg_buf_finish(&b);
}

/* ---- generic value access ---------------------------------------- */

double vx__cfg_get(const vx_settings *s, vx_param p)
{
    switch (p) {
    case VX_PARAM_EXAGGERATION: return s->exaggeration;
    case VX_PARAM_CFG_WEIGHT: return s->cfg_weight;
    case VX_PARAM_TEMPERATURE: return s->temperature;
    case VX_PARAM_TOP_P: return s->top_p;
    case VX_PARAM_MIN_P: return s->min_p;
    case VX_PARAM_REPETITION_PENALTY: return s->repetition_penalty;
    case VX_PARAM_AUTO_OPTIMIZE: return s->auto_optimize;
    case VX_PARAM_USE_GPU: return (double)(int)s->use_gpu;
    case VX_PARAM_BATCH_SIZE: return s->batch_size;
    case VX_PARAM_MAX_WORKERS: return s->max_workers;
    case VX_PARAM_ENABLE_CACHING: return s->enable_caching;
    case VX_PARAM_AUDIO_FORMAT: return (double)(int)s->audio_format;
    case VX_PARAM_SAMPLE_RATE: return s->sample_rate_hz;
    case VX_PARAM_VERIFY_QUALITY: return s->verify_quality;
    }
    return NAN;
}

/* v has passed vx__cfg_check, so the int conversions are exact. */
void vx__cfg_put(vx_settings *s, vx_param p, double v)
{
    switch (p) {
    case VX_PARAM_EXAGGERATION: s->exaggeration = v; break;
    case VX_PARAM_CFG_WEIGHT: s->cfg_weight = v; break;
    case VX_PARAM_TEMPERATURE: s->temperature = v; break;
    case VX_PARAM_TOP_P: s->top_p = v; break;
    case VX_PARAM_MIN_P: s->min_p = v; break;
    case VX_PARAM_REPETITION_PENALTY: s->repetition_penalty = v; break;
    case VX_PARAM_AUTO_OPTIMIZE: s->auto_optimize = (int)v; break;
    case VX_PARAM_USE_GPU: s->use_gpu = (vx_use_gpu)(int)v; break;
    case VX_PARAM_BATCH_SIZE: s->batch_size = (int)v; break;
    case VX_PARAM_MAX_WORKERS: s->max_workers = (int)v; break;
    case VX_PARAM_ENABLE_CACHING: s->enable_caching = (int)v; break;
    case VX_PARAM_AUDIO_FORMAT: s->audio_format = (vx_audio_format)(int)v; break;
    case VX_PARAM_SAMPLE_RATE: s->sample_rate_hz = (int)v; break;
    case VX_PARAM_VERIFY_QUALITY: s->verify_quality = (int)v; break;
    }
}

const char *vx__cfg_use_gpu_word(int code)
{
    switch (code) {
    case VX_USE_GPU_AUTO: return "auto";
    case VX_USE_GPU_TRUE: return "true";
    case VX_USE_GPU_FALSE: return "false";
    default: return NULL;
    }
}

const char *vx__cfg_format_word(int code)
{
    switch (code) {
    case VX_AUDIO_FORMAT_WAV: return "wav";
    case VX_AUDIO_FORMAT_MP3: return "mp3";
    default: return NULL;
    }
}

static int is_code(double v, int lo, int hi)
{
    return v >= lo && v <= hi && v == floor(v);
}

static void show_num(double v, const char *received, char *buf, size_t cap)
{
    if (received)
        snprintf(buf, cap, "%s", received);
    else
        vx__cfg_fmt_num(v, buf, cap);
}

void vx__cfg_format(vx_param p, double v, int json, char *buf, size_t cap)
{
    const vx_param_info *pi = &vx__cfg_params[p];
    const char *w = NULL;
    switch (pi->type) {
    case VX_PTYPE_NUMBER:
        vx__cfg_fmt_num(v, buf, cap);
        return;
    case VX_PTYPE_INTEGER:
        if (v == floor(v) && fabs(v) < 1e15)
            snprintf(buf, cap, "%.0f", v);
        else
            vx__cfg_fmt_num(v, buf, cap);
        return;
    case VX_PTYPE_BOOLEAN:
        w = v == 1 ? "true" : v == 0 ? "false" : NULL;
        break;
    case VX_PTYPE_USE_GPU:
        w = is_code(v, 0, 2) ? vx__cfg_use_gpu_word((int)v) : NULL;
        if (w && json && v == VX_USE_GPU_AUTO) {
            snprintf(buf, cap, "\"%s\"", w);
            return;
        }
        break;
    case VX_PTYPE_FORMAT:
        w = is_code(v, 0, 1) ? vx__cfg_format_word((int)v) : NULL;
        if (w && json) {
            snprintf(buf, cap, "\"%s\"", w);
            return;
        }
        break;
    }
    if (w)
        snprintf(buf, cap, "%s", w);
    else /* not a valid code: show the raw number */
        vx__cfg_fmt_num(v, buf, cap);
}

int vx__cfg_check(vx_param p, double v, const char *received, vx_error *err)
{
    const vx_param_info *pi = &vx__cfg_params[p];
    char shown[48];
    const char *sp = pi->unit[0] ? " " : "";
    switch (pi->type) {
    case VX_PTYPE_NUMBER:
        if (isfinite(v) && v >= pi->min && v <= pi->max)
            return VX_OK;
        show_num(v, received, shown, sizeof shown);
        return vx__error_set(err, VX_EINVAL, "%s = %s is out of range %s%s%s",
                             pi->name, shown, pi->allowed, sp, pi->unit);
    case VX_PTYPE_INTEGER:
        if (v >= pi->min && v <= pi->max && v == floor(v))
            return VX_OK;
        if (received)
            snprintf(shown, sizeof shown, "%s", received);
        else
            vx__cfg_format(p, v, 0, shown, sizeof shown);
        if (isfinite(v) && v != floor(v))
            return vx__error_set(err, VX_EINVAL,
                                 "%s = %s has the wrong type: expected an integer in %s%s%s",
                                 pi->name, shown, pi->allowed, sp, pi->unit);
        return vx__error_set(err, VX_EINVAL, "%s = %s is out of range %s%s%s",
                             pi->name, shown, pi->allowed, sp, pi->unit);
    case VX_PTYPE_BOOLEAN:
        if (v == 0 || v == 1)
            return VX_OK;
        show_num(v, received, shown, sizeof shown);
        return vx__error_set(err, VX_EINVAL,
                             "%s = %s is not a boolean (0 = false or 1 = true)",
                             pi->name, shown);
    case VX_PTYPE_USE_GPU:
        if (is_code(v, 0, 2))
            return VX_OK;
        show_num(v, received, shown, sizeof shown);
        return vx__error_set(err, VX_EINVAL,
                             "%s = %s is not a valid vx_use_gpu (expected %s)",
                             pi->name, shown, pi->allowed);
    case VX_PTYPE_FORMAT:
        if (is_code(v, 0, 1))
            return VX_OK;
        show_num(v, received, shown, sizeof shown);
        return vx__error_set(err, VX_EINVAL,
                             "%s = %s is not a valid vx_audio_format (expected %s)",
                             pi->name, shown, pi->allowed);
    }
    return vx__error_set(err, VX_EINTERNAL, "parameter %d has no type", (int)p);
}
