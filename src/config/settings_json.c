/*
 * settings_json.c -- reading settings: JSON objects of overrides, the
 * {"preset": ..., ...} form, and single KEY=VALUE texts.
 *
 * DESIGN: there is one reading path.  Every override, whether it arrives in
 * a JSON object or as --set KEY=VALUE text, becomes a jansson value and goes
 * through apply_value(), which checks the JSON type against the table's
 * parameter type and then the range with vx__cfg_check: so the CLI and a
 * JSON request accept and refuse exactly the same things with the same
 * messages.  Nothing is clamped.  An object is applied to a copy: first the
 * unknown-key scan, then "preset" (wherever it sits in the object), then the
 * parameters in table order (so the first error reported does not depend on
 * the key order), then a whole-value validation; the caller's settings are
 * replaced only when all of that succeeded.  The input is capped at
 * VX_SETTINGS_JSON_MAX bytes before parsing (ELIMIT); duplicate keys are
 * refused by the parser.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "config/config_internal.h"
#include "core/error.h"

/* The value as the caller wrote it, for messages. */
static void describe(const json_t *v, char *buf, size_t cap)
{
    char clip[40];
    switch (json_typeof(v)) {
    case JSON_OBJECT: snprintf(buf, cap, "an object"); break;
    case JSON_ARRAY: snprintf(buf, cap, "an array"); break;
    case JSON_STRING:
        vx__cfg_clip(json_string_value(v), clip, sizeof clip);
        snprintf(buf, cap, "\"%s\"", clip);
        break;
    case JSON_INTEGER: snprintf(buf, cap, "%" JSON_INTEGER_FORMAT, json_integer_value(v)); break;
    case JSON_REAL: vx__cfg_fmt_num(json_real_value(v), buf, cap); break;
    case JSON_TRUE: snprintf(buf, cap, "true"); break;
    case JSON_FALSE: snprintf(buf, cap, "false"); break;
    case JSON_NULL: snprintf(buf, cap, "null"); break;
    }
}

static int wrong_type(const vx_param_info *pi, const char *shown, vx_error *err)
{
    const char *sp = pi->unit[0] ? " " : "";
    switch (pi->type) {
    case VX_PTYPE_NUMBER:
        return vx__error_set(err, VX_EINVAL,
                             "%s = %s has the wrong type: expected a number in %s%s%s",
                             pi->name, shown, pi->allowed, sp, pi->unit);
    case VX_PTYPE_INTEGER:
        return vx__error_set(err, VX_EINVAL,
                             "%s = %s has the wrong type: expected an integer in %s%s%s",
                             pi->name, shown, pi->allowed, sp, pi->unit);
    case VX_PTYPE_BOOLEAN:
        return vx__error_set(err, VX_EINVAL,
                             "%s = %s has the wrong type: expected a boolean (true or false)",
                             pi->name, shown);
    case VX_PTYPE_USE_GPU:
    case VX_PTYPE_FORMAT:
        break;
    }
    return vx__error_set(err, VX_EINVAL, "%s = %s has the wrong type: expected %s", pi->name,
                         shown, pi->allowed);
}

/* Converts v to parameter p's representation, checks it, stores it in *s. */
static int apply_value(vx_settings *s, vx_param p, const json_t *v, vx_error *err)
{
    const vx_param_info *pi = &vx__cfg_params[p];
    char shown[48];
    double x = 0.0;
    describe(v, shown, sizeof shown);
    switch (pi->type) {
    case VX_PTYPE_NUMBER:
        if (!json_is_number(v))
            return wrong_type(pi, shown, err);
        x = json_number_value(v);
        break;
    case VX_PTYPE_INTEGER:
        if (json_is_integer(v)) {
            x = (double)json_integer_value(v);
        } else if (json_is_real(v) && json_real_value(v) == floor(json_real_value(v))) {
            x = json_real_value(v); /* 4.0 is the integer 4; 1.5 is refused */
        } else {
            return wrong_type(pi, shown, err);
        }
        break;
    case VX_PTYPE_BOOLEAN:
        if (!json_is_boolean(v))
            return wrong_type(pi, shown, err);
        x = json_is_true(v) ? 1 : 0;
        break;
    case VX_PTYPE_USE_GPU:
        if (json_is_boolean(v)) {
            x = json_is_true(v) ? VX_USE_GPU_TRUE : VX_USE_GPU_FALSE;
        } else if (json_is_string(v)) {
            if (strcmp(json_string_value(v), "auto") != 0)
                return vx__error_set(err, VX_EINVAL, "%s = %s is not allowed: expected %s",
                                     pi->name, shown, pi->allowed);
            x = VX_USE_GPU_AUTO;
        } else {
            return wrong_type(pi, shown, err);
        }
        break;
    case VX_PTYPE_FORMAT:
        if (!json_is_string(v))
            return wrong_type(pi, shown, err);
        if (!strcmp(json_string_value(v), "wav")) {
            x = VX_AUDIO_FORMAT_WAV;
        } else if (!strcmp(json_string_value(v), "mp3")) {
            x = VX_AUDIO_FORMAT_MP3;
        } else {
            return vx__error_set(err, VX_EINVAL, "%s = %s is not allowed: expected %s",
                                 pi->name, shown, pi->allowed);
        }
        break;
    }
    int rc = vx__cfg_check(p, x, shown, err);
    if (rc != VX_OK)
        return rc;
    vx__cfg_put(s, p, x);
    return VX_OK;
}

static void known_list(int with_preset, char *buf, size_t cap)
{
    size_t at = 0;
    buf[0] = '\0';
    if (with_preset) {
        int n = snprintf(buf, cap, "preset");
        at = n > 0 ? (size_t)n : 0;
    }
    for (int p = 0; p < VX_PARAM_COUNT && at < cap; p++) {
        int n = snprintf(buf + at, cap - at, "%s%s", at ? ", " : "", vx__cfg_params[p].name);
        if (n < 0)
            break;
        at += (size_t)n;
    }
}

static int unknown_key(const char *key, int with_preset, vx_error *err)
{
    char shown[40], known[224];
    vx__cfg_clip(key, shown, sizeof shown);
    known_list(with_preset, known, sizeof known);
    return vx__error_set(err, VX_EINVAL, "unknown setting '%s' (known: %s)", shown, known);
}

static const char *type_word(const json_t *j)
{
    switch (json_typeof(j)) {
    case JSON_OBJECT: return "an object";
    case JSON_ARRAY: return "an array";
    case JSON_STRING: return "a string";
    case JSON_INTEGER:
    case JSON_REAL: return "a number";
    case JSON_TRUE:
    case JSON_FALSE: return "a boolean";
    case JSON_NULL: return "null";
    }
    return "a value";
}

static int parse(const char *json, size_t len, json_t **out, vx_error *err)
{
    if (len > VX_SETTINGS_JSON_MAX)
        return vx__error_set(err, VX_ELIMIT,
                             "settings JSON is %zu bytes, more than the %d-byte limit", len,
                             VX_SETTINGS_JSON_MAX);
    json_error_t je;
    json_t *root = json_loadb(json, len, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &je);
    if (!root && json_error_code(&je) == json_error_out_of_memory)
        return vx__error_set(err, VX_ENOMEM, "out of memory reading the settings JSON");
    if (!root)
        return vx__error_set(err, VX_EINVAL, "settings JSON is malformed: %s at line %d column %d",
                             je.text, je.line, je.column);
    if (!json_is_object(root)) {
        int rc = vx__error_set(err, VX_EINVAL, "settings JSON must be an object, got %s",
                               type_word(root));
        json_decref(root);
        return rc;
    }
    *out = root;
    return VX_OK;
}

/* Applies object root onto *s (a scratch copy owned by the caller). */
static int apply_object(vx_settings *s, json_t *root, vx_error *err)
{
    const char *key;
    json_t *v;
    json_object_foreach(root, key, v) {
        if (strcmp(key, "preset") != 0 && vx_param_from_name(key) < 0)
            return unknown_key(key, 1, err);
    }
    json_t *preset = json_object_get(root, "preset");
    if (preset) {
        if (!json_is_string(preset)) {
            char shown[48];
            describe(preset, shown, sizeof shown);
            return vx__error_set(err, VX_EINVAL,
                                 "preset = %s has the wrong type: expected a preset name (a string)",
                                 shown);
        }
        int rc = vx_preset_get(json_string_value(preset), s, err);
        if (rc != VX_OK)
            return rc;
    }
    for (int p = 0; p < VX_PARAM_COUNT; p++) {
        v = json_object_get(root, vx__cfg_params[p].name);
        if (!v)
            continue;
        int rc = apply_value(s, (vx_param)p, v, err);
        if (rc != VX_OK)
            return rc;
    }
    return vx_settings_validate(s, err);
}

int vx_settings_apply_json(vx_settings *s, const char *json, size_t len, vx_error *err)
{
    if (!s || !json)
        return vx__error_set(err, VX_EINVAL, "vx_settings_apply_json: %s is NULL",
                             !s ? "settings" : "json");
    json_t *root = NULL;
    int rc = parse(json, len, &root, err);
    if (rc != VX_OK)
        return rc;
    vx_settings tmp = *s;
    rc = apply_object(&tmp, root, err);
    json_decref(root);
    if (rc != VX_OK)
        return rc;
    *s = tmp;
    vx__error_clear(err);
    return VX_OK;
}

int vx_settings_from_json(const char *json, size_t len, vx_settings *out, vx_error *err)
{
    if (!json || !out)
        return vx__error_set(err, VX_EINVAL, "vx_settings_from_json: %s is NULL",
                             !json ? "json" : "out");
    vx_settings tmp;
    vx_settings_defaults(&tmp);
    int rc = vx_settings_apply_json(&tmp, json, len, err);
    if (rc != VX_OK)
        return rc;
    *out = tmp;
    return VX_OK;
}

int vx_settings_set(vx_settings *s, const char *key, const char *value_text, vx_error *err)
{
    if (!s || !key || !value_text)
        return vx__error_set(err, VX_EINVAL, "vx_settings_set: %s is NULL",
                             !s ? "settings" : !key ? "key" : "value");
    int p = vx_param_from_name(key);
    if (p < 0)
        return unknown_key(key, 0, err);
    size_t len = strlen(value_text);
    if (len > VX_SETTINGS_JSON_MAX)
        return vx__error_set(err, VX_ELIMIT, "%s: value is %zu bytes, more than the %d-byte limit",
                             key, len, VX_SETTINGS_JSON_MAX);
    /* a JSON value when it is one (0.8, true, "wav"), else a bare string */
    json_t *v = json_loadb(value_text, len, JSON_DECODE_ANY | JSON_REJECT_DUPLICATES, NULL);
    if (!v)
        v = json_stringn(value_text, len);
    if (!v) { /* invalid UTF-8, or out of memory */
        json_t *raw = json_stringn_nocheck(value_text, len);
        if (!raw)
            return vx__error_set(err, VX_ENOMEM, "%s: out of memory", key);
        json_decref(raw);
        return vx__error_set(err, VX_EINVAL, "%s: the value is not valid UTF-8 text", key);
    }
    vx_settings tmp = *s;
    int rc = apply_value(&tmp, (vx_param)p, v, err);
    json_decref(v);
    if (rc == VX_OK)
        rc = vx_settings_validate(&tmp, err);
    if (rc != VX_OK)
        return rc;
    *s = tmp;
    vx__error_clear(err);
    return VX_OK;
}

int vx_settings_set_arg(vx_settings *s, const char *key_eq_value, vx_error *err)
{
    if (!s || !key_eq_value)
        return vx__error_set(err, VX_EINVAL, "vx_settings_set_arg: %s is NULL",
                             !s ? "settings" : "argument");
    const char *eq = strchr(key_eq_value, '=');
    char shown[40];
    vx__cfg_clip(key_eq_value, shown, sizeof shown);
    if (!eq)
        return vx__error_set(err, VX_EINVAL, "'%s' is not KEY=VALUE (e.g. temperature=0.8)",
                             shown);
    size_t klen = (size_t)(eq - key_eq_value);
    if (klen == 0)
        return vx__error_set(err, VX_EINVAL, "'%s' has no KEY before '=' (e.g. temperature=0.8)",
                             shown);
    char key[64];
    if (klen >= sizeof key)
        klen = sizeof key - 1; /* longer than any name: reported as unknown */
    memcpy(key, key_eq_value, klen);
    key[klen] = '\0';
    if (vx_param_from_name(key) < 0)
        return unknown_key(key, 0, err);
    return vx_settings_set(s, key, eq + 1, err);
}
