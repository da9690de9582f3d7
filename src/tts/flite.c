/*
 * flite.c -- the flite engine: English, 16 kHz.
 *
 * DESIGN: flite 2.2 is far more intelligible than espeak-ng for English
 * (engine notes: WER ~10 % vs 30-80 %), so it is preferred for "en".  Its
 * voices are registered once (pthread_once) and shared; because the
 * fitted values are set as features of the shared cst_voice and because
 * the clustergen voices draw their excitation noise from rand(), every
 * synthesis (set features, srand(seed), flite_text_to_wave) runs under
 * vx__synth_lock -- flite is fast (~0.02 x real time), the converter runs
 * outside the lock.  flite's fatal-error path calls exit() unless
 * cst_errjmp is set: it is set around each synthesis, so a flite error
 * becomes EINTERNAL (and the caller falls back to espeak-ng).
 *
 * Voice by the reference (measured with pYIN on flite 2.2):
 *   female (mean F0 >= 165 Hz)  -> cmu_us_slt (clustergen, follows
 *                                  int_f0_target_mean within ~3 %)
 *   male, mean F0 < 115 Hz      -> cmu_us_rms (American; its F0 model
 *                                  ignores the F0 target and stays near
 *                                  100 Hz, which is already close)
 *   male, mean F0 >= 115 Hz     -> cmu_us_awb (follows the F0 target; reads
 *                                  ~3 % low, so the closed loop only raises
 *                                  the command and never crosses 115 Hz)
 *   kal16 (diphone) is the spare when a voice cannot be registered.
 * Features: int_f0_target_mean = command mean; int_f0_target_stddev =
 * command std / 0.4 (flite realises ~0.4 of the requested spread);
 * duration_stretch = 1 / rate ratio.  Formant scale and breathiness have no
 * flite control: they are left to the converter.
 */
#include <math.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>

#include <flite/flite.h>

#include "core/dynlib.h"
#include "core/error.h"
#include "tts/engine_private.h"
#include "tts/tts_internal.h"

/* flite and its voices are loaded on first synthesis (core/dynlib.h), so
 * the CLI's other commands do not map and relocate their large tables. */
#define VX_FLITE_SYMS(X)                                                        \
    X(flite_init) X(flite_text_to_wave) X(delete_wave) X(feat_set_float) X(cst_errjmp)
VX__DYNLIB_TABLE(fl, VX_FLITE_SYMS, VX_SONAME_FLITE);

/* One voice per library, each with its register function. */
typedef cst_voice *(*register_fn)(const char *voxdir);
static struct {
    vx__dynlib lib;
    const char *symbol;
    register_fn reg;
} g_voice_libs[] = {
    {VX__DYNLIB_INIT(VX_SONAME_FLITE_SLT), "register_cmu_us_slt", NULL},
    {VX__DYNLIB_INIT(VX_SONAME_FLITE_RMS), "register_cmu_us_rms", NULL},
    {VX__DYNLIB_INIT(VX_SONAME_FLITE_AWB), "register_cmu_us_awb", NULL},
    {VX__DYNLIB_INIT(VX_SONAME_FLITE_KAL), "register_cmu_us_kal16", NULL},
};

/* The voice of g_voice_libs[i], or NULL when its library cannot be loaded. */
static cst_voice *load_voice(size_t i, vx_error *err)
{
    if (vx__dynlib_load(&g_voice_libs[i].lib, &g_voice_libs[i].symbol, 1,
                        (void **)(void *)&g_voice_libs[i].reg, err) != VX_OK)
        return NULL;
    return g_voice_libs[i].reg(NULL);
}

#define MALE_RMS_MAX_HZ 115.0

static pthread_once_t g_flite_once = PTHREAD_ONCE_INIT;
static cst_voice *g_slt, *g_rms, *g_awb, *g_kal;

static vx_error g_flite_error; /* why no voice could be registered */

static void flite_init_once(void)
{
    if (VX__DYNLIB_LOAD(fl, &g_flite_error) != VX_OK)
        return;
    fl.flite_init();
    g_slt = load_voice(0, &g_flite_error);
    g_rms = load_voice(1, &g_flite_error);
    g_awb = load_voice(2, &g_flite_error);
    g_kal = load_voice(3, &g_flite_error);
}

static int flite_supports(const char *lang)
{
    return lang && !strcmp(lang, "en");
}

static cst_voice *pick_voice(const vx__voice_fit *c)
{
    cst_voice *v;
    if (c->female)
        v = g_slt;
    else if (c->pitch_hz < MALE_RMS_MAX_HZ)
        v = g_rms;
    else
        v = g_awb;
    if (!v)
        v = g_kal;
    if (!v)
        v = g_slt ? g_slt : g_awb ? g_awb : g_rms;
    return v;
}

/* flite_text_to_wave with flite's fatal errors caught (under the lock). */
static cst_wave *guarded_synth(const char *text, cst_voice *v, int *failed)
{
    jmp_buf env;
    jmp_buf *volatile saved = *fl.cst_errjmp;
    cst_wave *volatile w = NULL;
    *failed = 0;
    *fl.cst_errjmp = &env;
    if (setjmp(env) == 0)
        w = fl.flite_text_to_wave(text, v);
    else
        *failed = 1;
    *fl.cst_errjmp = saved;
    return w;
}

static int flite_synth(const char *lang, const char *text, const vx__voice_fit *fit,
                       const vx_settings *s, uint64_t seed, vx__pcm *out, vx_error *err)
{
    vx__synth_cmd cmd;
    cst_voice *v;
    cst_wave *w;
    double sd;
    int failed = 0;
    size_t i, n;
    (void)lang;
    if (!text || !fit || !out)
        return vx__error_set(err, VX_EINVAL, "flite: invalid argument");
    vx__fit_command(fit, s, seed, &cmd);
    sd = cmd.pitch_std_hz / 0.4;
    if (sd > 0.5 * cmd.pitch_hz)
        sd = 0.5 * cmd.pitch_hz;

    vx__synth_lock();
    pthread_once(&g_flite_once, flite_init_once);
    v = pick_voice(fit); /* from the fit, not the varied command: stable per voice */
    if (!v) {
        vx__synth_unlock();
        return vx__error_set(err, VX_EUNAVAIL, "flite: no voice could be registered%s%s",
                             g_flite_error.message[0] ? ": " : "", g_flite_error.message);
    }
    fl.feat_set_float(v->features, "int_f0_target_mean", (float)cmd.pitch_hz);
    fl.feat_set_float(v->features, "int_f0_target_stddev", (float)sd);
    fl.feat_set_float(v->features, "duration_stretch", (float)(1.0 / cmd.rate_ratio));
    srand(vx__srand_seed(seed));
    w = guarded_synth(text, v, &failed);
    if (failed || !w) {
        vx__synth_unlock();
        return vx__error_set(err, VX_EINTERNAL, "flite: synthesis failed");
    }
    n = w->num_samples > 0 ? (size_t)w->num_samples : 0;
    out->x = malloc((n ? n : 1) * sizeof *out->x);
    if (!out->x) {
        fl.delete_wave(w);
        vx__synth_unlock();
        return vx__error_set(err, VX_ENOMEM, "flite: out of memory");
    }
    for (i = 0; i < n; i++)
        out->x[i] = (float)w->samples[i] / 32768.0f;
    out->n = n;
    out->rate_hz = w->sample_rate;
    fl.delete_wave(w);
    vx__synth_unlock();
    return VX_OK;
}

const vx__engine vx__engine_flite = {
    "flite",
    flite_supports,
    VX_PARAM_MASK_ALL & ~VX_PARAM_MASK_TOKEN_SAMPLING,
    flite_synth,
};
