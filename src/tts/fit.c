/*
 * fit.c -- voice fitting: the base voice's parameters from the reference.
 *
 * DESIGN: the reference's detailed analysis gives the starting point of the
 * synthesizer so that the converter has little left to move:
 *   pitch level    = pYIN mean F0 (the statistic the similarity scores), then
 *                    corrected in a closed loop per engine and language
 *                    (vx__fit_calibrate: synthesise a fixed phrase, measure,
 *                    correct; measured on espeak-ng the open-loop model is
 *                    off by 5-15 %);
 *   pitch range    = pYIN std, bounded to 4..25 % of the mean (octave errors
 *                    of the tracker inflate the std of real recordings);
 *   speaking rate  = syllable nuclei per second / VX__NORMAL_SYL_PER_S, bounded
 *                    to x0.75..1.35, kept as rate_wpm (espeak-ng words per
 *                    minute) for information: engines speak at their normal
 *                    rate, because the converter applies cfg_weight to the
 *                    rate from the synthetic speech's *measured* rate
 *                    (convert.c step 2) -- applying it here too would count
 *                    it twice;
 *   formant scale  = weighted geometric mean of F1..F3 (weights 0.5, 1, 1.5)
 *                    over a male espeak-ng voice's (545/1700/2690 Hz), divided
 *                    by 0.6 (espeak-ng moves formants by ~0.6x the requested
 *                    amount) and bounded to +-10 % -- beyond that
 *                    intelligibility collapses (engine notes);
 *   breathiness    = (14 dB - HNR) / 10 dB, bounded to 0..1;
 *   female         = mean F0 >= 165 Hz.
 * vx__fit_command then applies the settings where a synthesizer does them
 * better than signal processing: exaggeration scales the pitch range (x0.5
 * at 0, x1 at 0.5, x1.5 at 1 -- the converter aims at the same target, so it
 * then has nothing left to stretch), and temperature draws seeded
 * per-sentence variation of pitch level (2.5 %) and range (8 %) per unit of
 * temperature from the request seed only, so the same seed gives the same
 * audio (the converter adds its own slow within-sentence wander).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <soxr.h>

#include "core/error.h"
#include "tts/engine_private.h"
#include "tts/tts_internal.h"

#define FEMALE_HZ 165.0
#define FORMANT_SCALE_MAX 0.10
#define ESPEAK_FORMANT_GAIN 0.6
/* 1: engines follow the reference rate by cfg_weight themselves; 0: the
 * converter does it (it measures the synthetic rate; see the DESIGN note) */
#define ENGINE_APPLIES_RATE 0

static double clampd(double v, double lo, double hi)
{
    return v < lo ? lo : v > hi ? hi : v;
}

int vx__fit_from_analysis(const vx_analysis *a, vx__voice_fit *out, vx_error *err)
{
    vx__voice_fit f;
    double m;
    if (!a || !out)
        return vx__error_set(err, VX_EINVAL, "voice fit: invalid argument");
    m = a->pitch_mean_hz;
    if (!(m > 0.0) || a->n_voiced == 0)
        return vx__error_set(err, VX_EINVAL, "voice fit: the reference has no voiced speech");
    memset(&f, 0, sizeof f);
    f.pitch_hz = m;
    f.pitch_range_hz = clampd(isfinite(a->pitch_std_hz) ? a->pitch_std_hz : 0.1 * m, 0.04 * m,
                              0.25 * m);
    f.female = m >= FEMALE_HZ;
    f.rate_wpm = VX__ESPEAK_NORMAL_WPM;
    f.formant_scale = 1.0;
    f.breath = 0.0;
    if (a->has_metrics) {
        const vx_voice_metrics *mt = &a->metrics;
        static const double base_f[3] = {545.0, 1700.0, 2690.0};
        static const double w[3] = {0.5, 1.0, 1.5};
        double lsum = 0.0, wsum = 0.0;
        int k;
        if (isfinite(mt->speaking_rate_syl_s) && mt->speaking_rate_syl_s > 0.0)
            f.rate_wpm = VX__ESPEAK_NORMAL_WPM *
                         clampd(mt->speaking_rate_syl_s / VX__NORMAL_SYL_PER_S, 0.75, 1.35);
        for (k = 0; k < 3; k++) {
            double fk = mt->formant_hz[k];
            if (isfinite(fk) && fk > 0.0) {
                lsum += w[k] * log(fk / base_f[k]);
                wsum += w[k];
            }
        }
        if (wsum > 0.0) {
            double ratio = exp(lsum / wsum);
            f.formant_scale = clampd(1.0 + (ratio - 1.0) / ESPEAK_FORMANT_GAIN,
                                     1.0 - FORMANT_SCALE_MAX, 1.0 + FORMANT_SCALE_MAX);
        }
        if (isfinite(mt->hnr_db))
            f.breath = clampd((14.0 - mt->hnr_db) / 10.0, 0.0, 1.0);
    }
    *out = f;
    return VX_OK;
}

/* Standard normal from a 64-bit seed and a stream number (Box-Muller). */
static double seeded_normal(uint64_t seed, uint64_t stream)
{
    uint64_t a = vx__mix64(seed ^ vx__mix64(stream * 2 + 1));
    uint64_t b = vx__mix64(a ^ 0xA5A5A5A5ull);
    double u1 = ((double)(a >> 11) + 0.5) / 9007199254740992.0;
    double u2 = ((double)(b >> 11) + 0.5) / 9007199254740992.0;
    return sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2);
}

void vx__fit_command(const vx__voice_fit *fit, const vx_settings *s, uint64_t seed,
                     vx__synth_cmd *out)
{
    double t = 0.0, ex = 0.5, cfg = 0.0;
    if (s) {
        t = s->temperature;
        ex = s->exaggeration;
        cfg = s->cfg_weight;
    }
    /* the rate follows the reference in the converter (cfg_weight there) */
    out->rate_ratio = ENGINE_APPLIES_RATE && fit->rate_wpm > 0.0
                          ? clampd(pow(fit->rate_wpm / VX__ESPEAK_NORMAL_WPM, cfg), 0.6, 1.6)
                          : 1.0;
    out->pitch_hz = fit->pitch_hz;
    out->pitch_std_hz = fit->pitch_range_hz * (0.5 + ex);
    if (t > 0.0) {
        out->pitch_hz *= exp(0.025 * t * clampd(seeded_normal(seed, 1), -2.5, 2.5));
        out->pitch_std_hz *= exp(0.08 * t * clampd(seeded_normal(seed, 2), -2.5, 2.5));
    }
    out->formant_scale = fit->formant_scale;
    out->breath = fit->breath;
    out->female = fit->female;
}

int vx__pcm_resample(const float *x, size_t n, int in_rate, int out_rate, vx__pcm *out,
                     vx_error *err)
{
    size_t ny;
    float *y;
    if (!out || (!x && n) || in_rate <= 0 || out_rate <= 0)
        return vx__error_set(err, VX_EINVAL, "resample: invalid argument");
    ny = in_rate == out_rate ? n : (size_t)ceil((double)n * out_rate / in_rate);
    y = calloc(ny ? ny : 1, sizeof *y);
    if (!y)
        return vx__error_set(err, VX_ENOMEM, "resample: out of memory");
    if (n && in_rate == out_rate) {
        memcpy(y, x, n * sizeof *y);
    } else if (n) {
        soxr_io_spec_t io = soxr_io_spec(SOXR_FLOAT32_I, SOXR_FLOAT32_I);
        soxr_quality_spec_t q = soxr_quality_spec(SOXR_HQ, 0);
        soxr_runtime_spec_t rt = soxr_runtime_spec(1);
        size_t done = 0;
        soxr_error_t e = soxr_oneshot((double)in_rate, (double)out_rate, 1, x, n, NULL, y, ny,
                                      &done, &io, &q, &rt);
        if (e) {
            free(y);
            return vx__error_set(err, VX_EINTERNAL, "resample: %s", e);
        }
    }
    out->x = y;
    out->n = ny;
    out->rate_hz = out_rate;
    return VX_OK;
}

/* ---- closed loop ------------------------------------------------------ */

static const struct {
    const char *lang;
    const char *text;
} k_calib[] = {
    {"en", "Hello, this is a short sentence to measure the voice. We will walk to the park."},
    {"fr", "Bonjour, ceci est une courte phrase pour mesurer la voix. Nous irons au parc."},
    {"es", "Hola, esta es una frase corta para medir la voz. Vamos a caminar al parque."},
    {"de", "Hallo, dies ist ein kurzer Satz, um die Stimme zu messen. Wir gehen in den Park."},
    {"it", "Ciao, questa è una breve frase per misurare la voce. Andremo al parco."},
    {"pt", "Olá, esta é uma frase curta para medir a voz. Vamos caminhar até o parque."},
    {"ru", "Привет, это короткая фраза, чтобы измерить голос. Мы пойдём в парк."},
    {"ar", "مَرْحَبًا، هٰذِهِ جُمْلَةٌ قَصِيرَةٌ لِقِيَاسِ الصَّوْتِ. سَنَمْشِي إِلَى الْحَدِيقَةِ."},
    {"hi", "नमस्ते, यह आवाज़ मापने के लिए एक छोटा वाक्य है। हम पार्क जाएंगे।"},
    {"ja", "こんにちは、これは こえを はかる ための みじかい ぶんです。こうえんに いきましょう。"},
    {"ko", "안녕하세요, 이것은 목소리를 측정하기 위한 짧은 문장입니다. 공원에 갑시다."},
    {"zh", "你好，这是一个用来测量声音的短句子。我们去公园散步吧。"},
};

static const char *calib_text(const char *base)
{
    size_t i;
    for (i = 0; i < sizeof k_calib / sizeof k_calib[0]; i++)
        if (!strcmp(k_calib[i].lang, base))
            return k_calib[i].text;
    return k_calib[0].text;
}

static int measure_pitch(const vx__pcm *p, double *mean, vx_error *err)
{
    vx__pcm r = {0};
    vx_analysis_opts o;
    vx_analysis *a = NULL;
    int rc = vx__pcm_resample(p->x, p->n, p->rate_hz, VX_ANALYSIS_RATE_HZ, &r, err);
    if (rc != VX_OK)
        return rc;
    vx_analysis_opts_init(&o);
    o.n_threads = 1;
    rc = vx_analyze_samples(r.x, r.n, VX_ANALYSIS_RATE_HZ, &o, &a, err);
    free(r.x);
    if (rc != VX_OK)
        return rc;
    *mean = a->n_voiced > 0 ? a->pitch_mean_hz : 0.0;
    vx_analysis_free(a);
    return VX_OK;
}

int vx__fit_calibrate(const vx__engine *e, const char *lang_tag, const char *base,
                      const vx__voice_fit *target, vx__voice_fit *out, vx_error *err)
{
    vx__voice_fit cur;
    double factor = 1.0, prev_m = 0.0, prev_cmd = 0.0;
    int round;
    if (!e || !lang_tag || !base || !target || !out)
        return vx__error_set(err, VX_EINVAL, "calibration: invalid argument");
    cur = *target;
    for (round = 0; round < 3; round++) {
        vx__pcm p = {0};
        double m = 0.0;
        /* NULL settings: neutral command, no seeded variation */
        int rc = e->synth(lang_tag, calib_text(base), &cur, NULL, 0, &p, err);
        if (rc != VX_OK)
            return rc;
        rc = measure_pitch(&p, &m, err);
        free(p.x);
        if (rc != VX_OK)
            return rc;
        if (!(m > 0.0))
            break; /* nothing voiced: keep the open-loop value */
        if (round > 0 && fabs(m / prev_m - 1.0) < 0.005 && fabs(cur.pitch_hz / prev_cmd - 1.0) > 0.02) {
            cur.pitch_hz = target->pitch_hz; /* the engine does not follow pitch */
            break;
        }
        if (fabs(m / target->pitch_hz - 1.0) <= 0.02)
            break;
        prev_m = m;
        prev_cmd = cur.pitch_hz;
        factor = clampd(factor * target->pitch_hz / m, 0.6, 1.6);
        cur.pitch_hz = target->pitch_hz * factor;
    }
    *out = cur;
    return VX_OK;
}
