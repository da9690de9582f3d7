/*
 * settings.c -- defaults, whole-value validation, comparison, formatting,
 * JSON output and the auto_optimize rule.
 *
 * DESIGN: everything here loops over the parameter table (params.c) rather
 * than naming fields, so adding or retuning a parameter is a one-row change.
 * Output JSON is written by hand (textbuf.c) so that numbers are the
 * shortest text that reads back exactly: the round trip
 * to_json -> apply_json is bit-exact and the preset values print as in
 * presets.md ("0.65", "1.0").  auto_optimize is a pure function of the
 * settings and the target language that reports what it changed as a
 * vx_param_mask, so a result can list the adjusted parameters by name.
 */
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "config/config_internal.h"
#include "core/error.h"

void vx_settings_defaults(vx_settings *s)
{
    if (!s)
        return;
    for (int p = 0; p < VX_PARAM_COUNT; p++)
        vx__cfg_put(s, (vx_param)p, vx__cfg_params[p].default_value);
}

int vx_settings_validate(const vx_settings *s, vx_error *err)
{
    if (!s)
        return vx__error_set(err, VX_EINVAL, "vx_settings_validate: settings is NULL");
    for (int p = 0; p < VX_PARAM_COUNT; p++) {
        int rc = vx__cfg_check((vx_param)p, vx__cfg_get(s, (vx_param)p), NULL, err);
        if (rc != VX_OK)
            return rc;
    }
    vx__error_clear(err);
    return VX_OK;
}

int vx_settings_equal(const vx_settings *a, const vx_settings *b)
{
    if (!a || !b)
        return 0;
    for (int p = 0; p < VX_PARAM_COUNT; p++)
        if (!(vx__cfg_get(a, (vx_param)p) == vx__cfg_get(b, (vx_param)p)))
            return 0;
    return 1;
}

int vx_settings_format_value(const vx_settings *s, vx_param p, char *buf, size_t cap)
{
    if (!s || !buf || !vx_param_info_get(p))
        return VX_EINVAL;
    char tmp[48];
    vx__cfg_format(p, vx__cfg_get(s, p), 1, tmp, sizeof tmp);
    size_t n = strlen(tmp);
    if (cap == 0)
        return VX_ELIMIT;
    snprintf(buf, cap, "%s", tmp);
    return n < cap ? VX_OK : VX_ELIMIT;
}

void vx__cfg_settings_json(vx__cfg_buf *b, const vx_settings *s)
{
    char v[48];
    vx__cfg_buf_puts(b, "{");
    for (int p = 0; p < VX_PARAM_COUNT; p++) {
        vx__cfg_format((vx_param)p, vx__cfg_get(s, (vx_param)p), 1, v, sizeof v);
        if (p)
            vx__cfg_buf_puts(b, ", ");
        vx__cfg_buf_json_string(b, vx__cfg_params[p].name);
        vx__cfg_buf_printf(b, ": %s", v);
    }
    vx__cfg_buf_puts(b, "}");
}

char *vx_settings_to_json(const vx_settings *s)
{
    if (!s)
        return NULL;
    vx__cfg_buf b;
    vx__cfg_buf_init(&b);
    vx__cfg_settings_json(&b, s);
    return vx__cfg_buf_finish(&b);
}

char *vx_presets_to_json(void)
{
    vx__cfg_buf b;
    vx__cfg_buf_init(&b);
    vx__cfg_buf_puts(&b, "[");
    for (size_t i = 0; i < VX__CFG_N_PRESETS; i++) {
        vx_settings s;
        vx__cfg_preset_fill(i, &s);
        if (i)
            vx__cfg_buf_puts(&b, ", ");
        vx__cfg_buf_puts(&b, "{\"name\": ");
        vx__cfg_buf_json_string(&b, vx__cfg_presets[i].name);
        vx__cfg_buf_puts(&b, ", \"description\": ");
        vx__cfg_buf_json_string(&b, vx__cfg_presets[i].description);
        vx__cfg_buf_puts(&b, i == VX__CFG_DEFAULT_PRESET ? ", \"default\": true"
                                                         : ", \"default\": false");
        vx__cfg_buf_puts(&b, ", \"parameters\": ");
        vx__cfg_settings_json(&b, &s);
        vx__cfg_buf_puts(&b, "}");
    }
    vx__cfg_buf_puts(&b, "]");
    return vx__cfg_buf_finish(&b);
}

/* ---- auto_optimize ------------------------------------------------ */

int vx_language_is_english(const char *language)
{
    if (!language)
        return 0;
    if (tolower((unsigned char)language[0]) != 'e' ||
        tolower((unsigned char)language[1]) != 'n')
        return 0;
    return language[2] == '\0' || language[2] == '-' || language[2] == '_';
}

static int check_language(const char *language, vx_error *err)
{
    size_t n = strlen(language);
    char shown[40];
    vx__cfg_clip(language, shown, sizeof shown);
    if (n == 0)
        return vx__error_set(err, VX_EINVAL, "target language is empty");
    if (n > 35)
        return vx__error_set(err, VX_EINVAL,
                             "target language '%s' is longer than 35 characters", shown);
    if (!isalpha((unsigned char)language[0]))
        return vx__error_set(err, VX_EINVAL,
                             "target language '%s' must start with a letter (e.g. fr, en-US)",
                             shown);
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)language[i];
        if (!(c < 0x80 && (isalnum(c) || c == '-' || c == '_')))
            return vx__error_set(err, VX_EINVAL,
                                 "target language '%s' may hold only letters, digits, '-' "
                                 "and '_' (e.g. fr, en-US)",
                                 shown);
    }
    return VX_OK;
}

int vx_settings_auto_optimize(const vx_settings *in, const char *language, vx_settings *out,
                              vx_param_mask *adjusted, vx_error *err)
{
    if (!in || !language || !out)
        return vx__error_set(err, VX_EINVAL, "vx_settings_auto_optimize: %s is NULL",
                             !in ? "settings" : !language ? "language" : "out");
    int rc = vx_settings_validate(in, err);
    if (rc != VX_OK)
        return rc;
    rc = check_language(language, err);
    if (rc != VX_OK)
        return rc;
    vx_settings r = *in;
    vx_param_mask changed = 0;
    if (r.auto_optimize && !vx_language_is_english(language)) {
        /* the reference's English pace and accent must not leak into
         * another language */
        if (r.cfg_weight != 0.0)
            changed |= VX_PARAM_BIT(VX_PARAM_CFG_WEIGHT);
        r.cfg_weight = 0.0;
    }
    *out = r;
    if (adjusted)
        *adjusted = changed;
    vx__error_clear(err);
    return VX_OK;
}
