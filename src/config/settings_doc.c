/*
 * settings_doc.c -- the Markdown reference of the parameters and presets.
 *
 * DESIGN: docs/settings.md must say what the code does, so its tables are
 * not written by hand: this function renders them from the parameter and
 * preset tables, `voxclone presets --markdown` prints the result, and a unit
 * test fails when docs/settings.md does not contain it verbatim.  The text is
 * plain ASCII Markdown with one row per parameter; none of the table's
 * strings contains a '|', so no escaping is needed (the test checks).
 */
#include <stddef.h>

#include "config/config_internal.h"

char *vx_settings_markdown(void)
{
    vx__cfg_buf b;
    vx__cfg_buf_init(&b);
    vx_settings def;
    vx_settings_defaults(&def);
    char v[48];

    vx__cfg_buf_puts(&b, "### Parameters\n\n"
                         "| # | name | group | type | allowed | default | meaning | "
                         "built-in engines (espeak-ng, flite) |\n"
                         "|---|---|---|---|---|---|---|---|\n");
    for (int p = 0; p < VX_PARAM_COUNT; p++) {
        const vx_param_info *pi = &vx__cfg_params[p];
        vx__cfg_format((vx_param)p, vx__cfg_get(&def, (vx_param)p), 1, v, sizeof v);
        vx__cfg_buf_printf(&b, "| %d | `%s` | %s | %s | %s%s%s | `%s` | %s | %s |\n", p + 1,
                           pi->name, pi->group, pi->type_name, pi->allowed,
                           pi->unit[0] ? " " : "", pi->unit, v, pi->meaning, pi->builtin);
    }

    vx__cfg_buf_puts(&b, "\n### Presets\n\n| parameter |");
    for (size_t i = 0; i < VX__CFG_N_PRESETS; i++)
        vx__cfg_buf_printf(&b, " %s%s |", vx__cfg_presets[i].name,
                           i == VX__CFG_DEFAULT_PRESET ? " (default)" : "");
    vx__cfg_buf_puts(&b, "\n|---|");
    for (size_t i = 0; i < VX__CFG_N_PRESETS; i++)
        vx__cfg_buf_puts(&b, "---|");
    vx__cfg_buf_puts(&b, "\n| purpose |");
    for (size_t i = 0; i < VX__CFG_N_PRESETS; i++)
        vx__cfg_buf_printf(&b, " %s |", vx__cfg_presets[i].purpose);
    vx__cfg_buf_puts(&b, "\n");
    for (int p = 0; p < VX_PARAM_COUNT; p++) {
        vx__cfg_buf_printf(&b, "| `%s` |", vx__cfg_params[p].name);
        for (size_t i = 0; i < VX__CFG_N_PRESETS; i++) {
            vx__cfg_format((vx_param)p, vx__cfg_presets[i].values[p], 1, v, sizeof v);
            vx__cfg_buf_printf(&b, " %s |", v);
        }
        vx__cfg_buf_puts(&b, "\n");
    }
    vx__cfg_buf_puts(&b, "\n");
    for (size_t i = 0; i < VX__CFG_N_PRESETS; i++)
        vx__cfg_buf_printf(&b, "- **%s**: %s\n", vx__cfg_presets[i].name,
                           vx__cfg_presets[i].description);
    return vx__cfg_buf_finish(&b);
}
