/*
 * config_internal.h -- shared pieces of src/config: the parameter and preset
 * tables, the generic per-parameter value access, and a small text builder.
 */
#ifndef VX_CONFIG_INTERNAL_H
#define VX_CONFIG_INTERNAL_H

#include <stddef.h>

#include "voxclone/voxclone.h"

/* ---- parameter table (params.c) ---------------------------------- */

extern const vx_param_info vx__cfg_params[VX_PARAM_COUNT];

/* Every value is carried as a double in the vx_settings representation:
 * numbers as is, integers exactly, booleans 0/1, enums as their code. */
double vx__cfg_get(const vx_settings *s, vx_param p);
void vx__cfg_put(vx_settings *s, vx_param p, double v);

/* Checks v (in the representation above) for parameter p; fills err with
 * "<name> = <v> is out of range <allowed>" style messages, where <v> is
 * received (the value as the caller wrote it) when not NULL, else v
 * formatted.  Returns VX_OK or VX_EINVAL. */
int vx__cfg_check(vx_param p, double v, const char *received, vx_error *err);

/* Formats v of parameter p: as JSON (quoted strings) when json != 0, as a
 * human word otherwise ("auto", "wav").  buf has cap >= 32 bytes. */
void vx__cfg_format(vx_param p, double v, int json, char *buf, size_t cap);

/* Shortest text of x that strtod reads back exactly, with '.' as the decimal
 * point whatever the locale, and ".0" added when it would look like an
 * integer ("1.0").  cap >= 32. */
void vx__cfg_fmt_num(double x, char *buf, size_t cap);

/* The "use_gpu" / "audio_format" codes as JSON words. */
const char *vx__cfg_use_gpu_word(int code);
const char *vx__cfg_format_word(int code);

/* ---- presets (presets.c) ----------------------------------------- */

typedef struct vx__cfg_preset {
    const char *name;
    const char *purpose;
    const char *description;
    double values[VX_PARAM_COUNT];
} vx__cfg_preset;

#define VX__CFG_N_PRESETS 5
#define VX__CFG_DEFAULT_PRESET 1 /* balanced */
extern const vx__cfg_preset vx__cfg_presets[VX__CFG_N_PRESETS];

/* Index of a preset name, or -1. */
int vx__cfg_preset_find(const char *name);
/* Fills s from preset i (0 <= i < VX__CFG_N_PRESETS). */
void vx__cfg_preset_fill(size_t i, vx_settings *s);

/* ---- text builder (textbuf.c) ------------------------------------ */

typedef struct vx__cfg_buf {
    char *p;
    size_t len, cap;
    int oom;
} vx__cfg_buf;

void vx__cfg_buf_init(vx__cfg_buf *b);
void vx__cfg_buf_puts(vx__cfg_buf *b, const char *s);
void vx__cfg_buf_printf(vx__cfg_buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Appends s as a JSON string literal (quotes and escapes). */
void vx__cfg_buf_json_string(vx__cfg_buf *b, const char *s);
/* Returns the malloc'd NUL-terminated text, or NULL (and frees) after an
 * allocation failure. */
char *vx__cfg_buf_finish(vx__cfg_buf *b);

/* Copies text into buf for quoting in a message: at most 32 bytes (then
 * "..."), control characters shown as '?'. */
void vx__cfg_clip(const char *text, char *buf, size_t cap);

/* The 14 values of s as a one-line JSON object (into b). */
void vx__cfg_settings_json(vx__cfg_buf *b, const vx_settings *s);

#endif
