/*
 * cmd_presets.c -- `voxclone presets`: the 5 presets and the 14 parameters.
 *
 * DESIGN: the command only prints what the library's parameter and preset
 * tables say (vx_param_info_get, vx_preset_*, vx_presets_to_json,
 * vx_settings_markdown), so the table, the --help text, the JSON served to
 * clients and docs/settings.md cannot drift apart.  With a preset NAME and
 * --set KEY=VALUE it shows the effective settings through the same reader
 * a request uses (vx_settings_set_arg), which makes it a handy validator.
 * Exit status: 0 success, 2 usage error (unknown option or preset, refused
 * value), 1 out of memory or write error.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "voxclone/voxclone.h"

int vx_cli_presets(int argc, char **argv);

static void print_wrapped(FILE *f, int indent, int width, const char *text)
{
    int col = indent;
    fprintf(f, "%*s", indent, "");
    const char *p = text;
    while (*p) {
        while (*p == ' ')
            p++;
        const char *w = p;
        while (*p && *p != ' ')
            p++;
        int len = (int)(p - w);
        if (len == 0)
            break;
        if (col > indent && col + 1 + len > width) {
            fprintf(f, "\n%*s", indent, "");
            col = indent;
        }
        if (col > indent) {
            fputc(' ', f);
            col++;
        }
        fprintf(f, "%.*s", len, w);
        col += len;
    }
    fputc('\n', f);
}

/* A value for people: JSON text without the quotes of "auto" / "wav". */
static void human_value(const vx_settings *s, vx_param p, char *buf, size_t cap)
{
    char tmp[48];
    if (vx_settings_format_value(s, p, tmp, sizeof tmp) != VX_OK) {
        snprintf(buf, cap, "?");
        return;
    }
    size_t n = strlen(tmp);
    if (n >= 2 && tmp[0] == '"' && tmp[n - 1] == '"')
        snprintf(buf, cap, "%.*s", (int)(n - 2), tmp + 1);
    else
        snprintf(buf, cap, "%s", tmp);
}

static void print_unused_note(FILE *f)
{
    const char *names[VX_PARAM_COUNT];
    size_t n = vx_param_mask_names(vx_param_mask_unused(vx_param_mask_builtin()), names,
                                   VX_PARAM_COUNT);
    if (n == 0)
        return;
    char line[512];
    size_t at = 0;
    for (size_t i = 0; i < n && at < sizeof line; i++) {
        int k = snprintf(line + at, sizeof line - at, "%s%s", i == 0 ? "" : i + 1 == n ? " and " : ", ",
                         names[i]);
        if (k < 0)
            break;
        at += (size_t)k;
    }
    if (at < sizeof line)
        snprintf(line + at, sizeof line - at,
                 " only steer token sampling: the built-in engines (espeak-ng, flite) "
                 "report %s as unused.", n == 1 ? "it" : "them");
    fputc('\n', f);
    print_wrapped(f, 0, 78, line);
}

static void usage_presets(FILE *f)
{
    fprintf(f,
            "usage: voxclone presets [--json | --markdown]\n"
            "       voxclone presets [--json] NAME [--set KEY=VALUE]...\n"
            "\n"
            "Without NAME: prints the 5 presets (name, purpose and the 14 values), or\n"
            "with --json the JSON array served by GET /api/voice-presets.\n"
            "With NAME: prints the settings of that preset after the --set overrides,\n"
            "checked exactly as a request's JSON would be (nothing is clamped).\n"
            "\n"
            "  --json             JSON output (one line)\n"
            "  --markdown         the parameter and preset tables of docs/settings.md\n"
            "  --set KEY=VALUE    override one parameter (repeatable), e.g.\n"
            "                     --set temperature=0.8 --set use_gpu=auto\n"
            "  -h, --help         this help\n"
            "\n"
            "Presets (settings = a preset + overrides of single parameters):\n");
    for (size_t i = 0; i < vx_preset_count(); i++)
        fprintf(f, "  %-16s %s\n", vx_preset_name(i), vx_preset_purpose(i));
    fprintf(f, "\nParameters:\n");
    vx_settings def;
    vx_settings_defaults(&def);
    for (int p = 0; p < VX_PARAM_COUNT; p++) {
        const vx_param_info *pi = vx_param_info_get((vx_param)p);
        char dv[48];
        vx_settings_format_value(&def, (vx_param)p, dv, sizeof dv);
        fprintf(f, "\n  %s  (%s, %s %s%s%s, default %s)\n", pi->name, pi->group, pi->type_name,
                pi->allowed, pi->unit[0] ? " " : "", pi->unit, dv);
        print_wrapped(f, 6, 78, pi->meaning);
        char line[512];
        snprintf(line, sizeof line, "Built-in engines: %s", pi->builtin);
        print_wrapped(f, 6, 78, line);
    }
    fprintf(f, "\nauto_optimize = true: for a non-English target language (not \"en\" or\n"
               "\"en-*\") cfg_weight is set to 0, and the result lists it as adjusted.\n");
}

static void print_table(void)
{
    size_t np = vx_preset_count();
    vx_settings *ps = calloc(np, sizeof *ps);
    if (!ps)
        return;
    size_t namew = 0;
    for (size_t i = 0; i < np; i++) {
        vx_preset_get(vx_preset_name(i), &ps[i], NULL);
        if (strlen(vx_preset_name(i)) > namew)
            namew = strlen(vx_preset_name(i));
    }
    printf("Presets (settings = a preset + overrides; %s is the default):\n",
           vx_preset_default_name());
    for (size_t i = 0; i < np; i++)
        printf("  %-*s  %s\n", (int)namew, vx_preset_name(i), vx_preset_purpose(i));

    int first = 0;
    for (int p = 0; p < VX_PARAM_COUNT; p++) {
        int n = (int)strlen(vx_param_name((vx_param)p));
        if (n > first)
            first = n;
    }
    int colw[16] = {0};
    for (size_t i = 0; i < np && i < 16; i++) {
        colw[i] = (int)strlen(vx_preset_name(i));
        for (int p = 0; p < VX_PARAM_COUNT; p++) {
            char v[48];
            human_value(&ps[i], (vx_param)p, v, sizeof v);
            if ((int)strlen(v) > colw[i])
                colw[i] = (int)strlen(v);
        }
    }
    printf("\n%-*s", first + 2, "parameter");
    for (size_t i = 0; i < np && i < 16; i++)
        printf("  %-*s", i + 1 < np ? colw[i] : 0, vx_preset_name(i));
    printf("\n");
    for (int p = 0; p < VX_PARAM_COUNT; p++) {
        printf("%-*s", first + 2, vx_param_name((vx_param)p));
        for (size_t i = 0; i < np && i < 16; i++) {
            char v[48];
            human_value(&ps[i], (vx_param)p, v, sizeof v);
            printf("  %-*s", i + 1 < np ? colw[i] : 0, v);
        }
        printf("\n");
    }
    print_unused_note(stdout);
    free(ps);
}

static int differs(const vx_settings *a, const vx_settings *b, vx_param p)
{
    char x[48], y[48];
    vx_settings_format_value(a, p, x, sizeof x);
    vx_settings_format_value(b, p, y, sizeof y);
    return strcmp(x, y) != 0;
}

static void print_settings(const char *preset, const vx_settings *s, const vx_settings *base)
{
    int n_over = 0;
    for (int p = 0; p < VX_PARAM_COUNT; p++)
        n_over += differs(s, base, (vx_param)p);
    printf("preset %s", preset);
    if (n_over)
        printf(" with %d override%s", n_over, n_over == 1 ? "" : "s");
    printf(":\n");
    for (int p = 0; p < VX_PARAM_COUNT; p++) {
        char h[48], hb[48];
        human_value(s, (vx_param)p, h, sizeof h);
        if (differs(s, base, (vx_param)p)) {
            human_value(base, (vx_param)p, hb, sizeof hb);
            printf("  %-20s %-8s (preset: %s)\n", vx_param_name((vx_param)p), h, hb);
        } else {
            printf("  %-20s %s\n", vx_param_name((vx_param)p), h);
        }
    }
    print_unused_note(stdout);
}

int vx_cli_presets(int argc, char **argv)
{
    int json = 0, markdown = 0;
    const char *name = NULL;
    int n_sets = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            usage_presets(stdout);
            return 0;
        } else if (!strcmp(a, "--json")) {
            json = 1;
        } else if (!strcmp(a, "--markdown")) {
            markdown = 1;
        } else if (!strcmp(a, "--set")) {
            if (i + 1 >= argc) {
                fprintf(stderr, "voxclone: presets: --set needs KEY=VALUE (see --help)\n");
                return 2;
            }
            i++;
            n_sets++;
        } else if (!strncmp(a, "--set=", 6)) {
            n_sets++;
        } else if (a[0] == '-' && a[1]) {
            fprintf(stderr, "voxclone: presets: unknown option '%s' (see --help)\n", a);
            return 2;
        } else if (!name) {
            name = a;
        } else {
            fprintf(stderr, "voxclone: presets: more than one preset name ('%s', '%s')\n", name,
                    a);
            return 2;
        }
    }
    if (json && markdown) {
        fprintf(stderr, "voxclone: presets: --json and --markdown exclude each other\n");
        return 2;
    }
    if (!name && n_sets) {
        fprintf(stderr, "voxclone: presets: --set needs a preset NAME to apply to (see --help)\n");
        return 2;
    }
    if (name && markdown) {
        fprintf(stderr, "voxclone: presets: --markdown prints all presets; drop NAME\n");
        return 2;
    }

    if (!name) {
        char *txt = json ? vx_presets_to_json() : markdown ? vx_settings_markdown() : NULL;
        if (json || markdown) {
            if (!txt) {
                fprintf(stderr, "voxclone: presets: out of memory\n");
                return 1;
            }
            fputs(txt, stdout);
            if (json)
                fputc('\n', stdout);
            free(txt);
        } else {
            print_table();
        }
        return fflush(stdout) == 0 ? 0 : 1;
    }

    vx_settings base, s;
    vx_error e;
    if (vx_preset_get(name, &base, &e) != VX_OK) {
        fprintf(stderr, "voxclone: presets: %s\n", e.message);
        return 2;
    }
    s = base;
    for (int i = 1; i < argc; i++) {
        const char *kv = NULL;
        if (!strcmp(argv[i], "--set"))
            kv = argv[++i];
        else if (!strncmp(argv[i], "--set=", 6))
            kv = argv[i] + 6;
        if (kv && vx_settings_set_arg(&s, kv, &e) != VX_OK) {
            fprintf(stderr, "voxclone: presets: %s\n", e.message);
            return 2;
        }
    }
    if (json) {
        char *txt = vx_settings_to_json(&s);
        if (!txt) {
            fprintf(stderr, "voxclone: presets: out of memory\n");
            return 1;
        }
        printf("%s\n", txt);
        free(txt);
    } else {
        print_settings(name, &s, &base);
    }
    return fflush(stdout) == 0 ? 0 : 1;
}
