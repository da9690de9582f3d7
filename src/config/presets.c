/*
 * presets.c -- the 5 presets of presets.md and their lookup.
 *
 * DESIGN: a preset is a name, the purpose line of presets.md, the one
 * sentence served as "description" by GET /api/voice-presets, and the 14
 * values as doubles in vx_param order, so filling a vx_settings is one loop
 * over the parameter table and the unit tests compare every cell with
 * presets.md.  The array order is the contract's order (fast, balanced,
 * high_quality, conversational, low_resource); balanced is the default and
 * equals the table's defaults.  Columns: exaggeration, cfg_weight,
 * temperature, top_p, min_p, repetition_penalty, auto_optimize, use_gpu,
 * batch_size, max_workers, enable_caching, audio_format, sample_rate,
 * verify_quality.
 */
#include <stdio.h>
#include <string.h>

#include "config/config_internal.h"
#include "core/error.h"

#define AUTO VX_USE_GPU_AUTO
#define NOGPU VX_USE_GPU_FALSE
#define WAV VX_AUDIO_FORMAT_WAV
#define MP3 VX_AUDIO_FORMAT_MP3

const vx__cfg_preset vx__cfg_presets[VX__CFG_N_PRESETS] = {
    {"fast", "lowest latency",
     "Lowest latency: 16 kHz output, 4 items per batch and 4 languages in "
     "parallel, with a calmer, less varied delivery.",
     {0.4, 0.5, 0.8, 0.9, 0.0, 1.2, 1, AUTO, 4, 4, 1, WAV, 16000, 0}},
    {"balanced", "quality/speed compromise (default)",
     "The default compromise between quality and speed: every parameter at "
     "its documented default, 24 kHz WAV output.",
     {0.5, 0.5, 1.0, 0.9, 0.0, 1.2, 1, AUTO, 1, 2, 1, WAV, 24000, 0}},
    {"high_quality", "best quality",
     "Best quality: 48 kHz output, closer adherence to the reference voice, "
     "steadier delivery, and every output scored against the reference.",
     {0.5, 0.6, 0.8, 0.95, 0.05, 1.3, 1, AUTO, 1, 2, 1, WAV, 48000, 1}},
    {"conversational", "natural dialogue",
     "Natural dialogue: livelier prosody and more variation, looser "
     "adherence to the reference's pace, 24 kHz MP3 output.",
     {0.65, 0.3, 1.1, 0.95, 0.02, 1.1, 1, AUTO, 1, 2, 1, MP3, 24000, 0}},
    {"low_resource", "small machines",
     "Small machines: CPU only, one language at a time, calmer delivery, "
     "16 kHz MP3 output.",
     {0.4, 0.5, 0.8, 0.85, 0.0, 1.2, 1, NOGPU, 1, 1, 1, MP3, 16000, 0}},
};

int vx__cfg_preset_find(const char *name)
{
    if (!name)
        return -1;
    for (int i = 0; i < VX__CFG_N_PRESETS; i++)
        if (!strcmp(name, vx__cfg_presets[i].name))
            return i;
    return -1;
}

void vx__cfg_preset_fill(size_t i, vx_settings *s)
{
    for (int p = 0; p < VX_PARAM_COUNT; p++)
        vx__cfg_put(s, (vx_param)p, vx__cfg_presets[i].values[p]);
}

size_t vx_preset_count(void)
{
    return VX__CFG_N_PRESETS;
}

const char *vx_preset_name(size_t i)
{
    return i < VX__CFG_N_PRESETS ? vx__cfg_presets[i].name : NULL;
}

const char *vx_preset_purpose(size_t i)
{
    return i < VX__CFG_N_PRESETS ? vx__cfg_presets[i].purpose : NULL;
}

const char *vx_preset_description(size_t i)
{
    return i < VX__CFG_N_PRESETS ? vx__cfg_presets[i].description : NULL;
}

const char *vx_preset_default_name(void)
{
    return vx__cfg_presets[VX__CFG_DEFAULT_PRESET].name;
}

int vx_preset_get(const char *name, vx_settings *out, vx_error *err)
{
    if (!name || !out)
        return vx__error_set(err, VX_EINVAL, "vx_preset_get: %s is NULL",
                             !name ? "name" : "out");
    int i = vx__cfg_preset_find(name);
    if (i < 0) {
        char shown[40], valid[128] = "";
        size_t at = 0;
        vx__cfg_clip(name, shown, sizeof shown);
        for (int k = 0; k < VX__CFG_N_PRESETS && at < sizeof valid; k++) {
            int n = snprintf(valid + at, sizeof valid - at, "%s%s", k ? ", " : "",
                             vx__cfg_presets[k].name);
            if (n < 0)
                break;
            at += (size_t)n;
        }
        return vx__error_set(err, VX_EINVAL, "unknown preset '%s' (valid: %s)", shown,
                             valid);
    }
    vx__cfg_preset_fill((size_t)i, out);
    vx__error_clear(err);
    return VX_OK;
}
