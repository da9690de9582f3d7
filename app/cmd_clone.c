/*
 * cmd_clone.c -- `voxclone clone` (text -> speech in a reference voice) and
 * `voxclone convert` (a recording re-spoken in a reference voice).
 *
 * DESIGN: thin wrappers over vx_voice_from_file, vx_clone_text /
 * vx_convert_audio and vx_clone_result_write.  The command shape is a
 * contract other tools depend on:
 *   voxclone clone --voice REF --lang LANG --text TEXT -o OUT [--preset NAME]
 *                  [--set KEY=VALUE]... [--seed N] [--json]
 * Settings are a preset ("balanced" by default) plus --set overrides, read
 * by the library's own reader (vx_settings_set_arg), so a value the service
 * would refuse is refused here with the same message.  The output format
 * follows OUT's extension (.wav / .mp3); audio_format in the settings is
 * made to agree with it.  Prints one summary line on stdout; with --json the
 * result JSON goes to stdout (one line) and the summary to stderr.
 * Exit status: 0 success, 2 usage error or refused value, 1 failure.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>

#include "voxclone/voxclone.h"

int vx_cli_clone(int argc, char **argv);
int vx_cli_convert(int argc, char **argv);

static void usage_clone(FILE *f)
{
    fprintf(f,
            "usage: voxclone clone --voice REF --lang LANG --text TEXT -o OUT [--preset NAME]\n"
            "                      [--set KEY=VALUE]... [--seed N] [--json]\n"
            "\n"
            "Speaks TEXT in LANG with the voice of the recording REF and writes OUT.\n"
            "Languages: %s (region forms such as en-US, pt-BR are accepted).\n"
            "English uses flite, the other languages espeak-ng; see docs/cloning.md.\n"
            "\n"
            "  --voice REF        reference recording (WAV, FLAC, OGG, Opus, MP3; >= 1 s of voice)\n"
            "  --lang LANG        target language\n"
            "  --text TEXT        text to speak (UTF-8, at most %d bytes)\n"
            "  --text-file FILE   read the text from FILE instead\n"
            "  -o, --output OUT   output file; .wav or .mp3 decides the format\n"
            "  --preset NAME      fast, balanced (default), high_quality, conversational,\n"
            "                     low_resource\n"
            "  --set KEY=VALUE    override one of the 14 parameters (repeatable), e.g.\n"
            "                     --set sample_rate=48000 --set verify_quality=true\n"
            "  --seed N           seed of the natural variation (default 0); same input and\n"
            "                     seed give the same bytes\n"
            "  --json             print the result as JSON (summary goes to stderr)\n"
            "  -h, --help         this help\n",
            vx_clone_languages(), VX_CLONE_MAX_TEXT);
}

static void usage_convert(FILE *f)
{
    fprintf(f,
            "usage: voxclone convert --voice REF IN -o OUT [--preset NAME] [--set KEY=VALUE]...\n"
            "                        [--seed N] [--json]\n"
            "\n"
            "Re-speaks the recording IN in the voice of REF (tone-colour conversion: pitch\n"
            "level and range, spectral envelope, level) and writes OUT (.wav or .mp3).\n"
            "Options as for 'voxclone clone'.\n");
}

typedef struct opts {
    const char *voice, *lang, *text, *text_file, *output, *preset, *input;
    const char **sets;
    int n_sets;
    unsigned long long seed;
    int json;
} opts;

static int need_value(int i, int argc, const char *cmd, const char *opt)
{
    if (i + 1 >= argc) {
        fprintf(stderr, "voxclone %s: %s needs a value\n", cmd, opt);
        return 0;
    }
    return 1;
}

/* 0 ok, 1 help printed, 2 usage error */
static int parse(int argc, char **argv, const char *cmd, opts *o)
{
    int i;
    memset(o, 0, sizeof *o);
    o->sets = calloc((size_t)argc + 1, sizeof *o->sets);
    if (!o->sets) {
        fprintf(stderr, "voxclone %s: out of memory\n", cmd);
        return 2;
    }
    for (i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            if (!strcmp(cmd, "clone"))
                usage_clone(stdout);
            else
                usage_convert(stdout);
            return 1;
        } else if (!strcmp(a, "--json")) {
            o->json = 1;
        } else if (!strcmp(a, "--voice") || !strcmp(a, "--lang") || !strcmp(a, "--text") ||
                   !strcmp(a, "--text-file") || !strcmp(a, "-o") || !strcmp(a, "--output") ||
                   !strcmp(a, "--preset") || !strcmp(a, "--set") || !strcmp(a, "--seed")) {
            const char *v;
            if (!need_value(i, argc, cmd, a))
                return 2;
            v = argv[++i];
            if (!strcmp(a, "--voice"))
                o->voice = v;
            else if (!strcmp(a, "--lang"))
                o->lang = v;
            else if (!strcmp(a, "--text"))
                o->text = v;
            else if (!strcmp(a, "--text-file"))
                o->text_file = v;
            else if (!strcmp(a, "-o") || !strcmp(a, "--output"))
                o->output = v;
            else if (!strcmp(a, "--preset"))
                o->preset = v;
            else if (!strcmp(a, "--set"))
                o->sets[o->n_sets++] = v;
            else {
                char *end = NULL;
                errno = 0;
                if (v[0] == '-' || !*v)
                    end = (char *)v;
                else
                    o->seed = strtoull(v, &end, 10);
                if (errno || !end || *end) {
                    fprintf(stderr, "voxclone %s: --seed needs an integer 0..%llu, got '%s'\n",
                            cmd, (unsigned long long)UINT64_MAX, v);
                    return 2;
                }
            }
        } else if (a[0] == '-' && a[1]) {
            fprintf(stderr, "voxclone %s: unknown option '%s' (see --help)\n", cmd, a);
            return 2;
        } else if (!strcmp(cmd, "convert") && !o->input) {
            o->input = a;
        } else {
            fprintf(stderr, "voxclone %s: unexpected argument '%s' (see --help)\n", cmd, a);
            return 2;
        }
    }
    return 0;
}

/* Output format from the extension; -1 when it has none we know. */
static int format_of(const char *path)
{
    const char *dot = strrchr(path, '.');
    if (dot && !strcasecmp(dot, ".wav"))
        return VX_AUDIO_FORMAT_WAV;
    if (dot && !strcasecmp(dot, ".mp3"))
        return VX_AUDIO_FORMAT_MP3;
    return -1;
}

static int build_settings(const opts *o, const char *cmd, vx_settings *s)
{
    vx_error e;
    int i;
    if (vx_preset_get(o->preset ? o->preset : vx_preset_default_name(), s, &e) != VX_OK) {
        fprintf(stderr, "voxclone %s: %s\n", cmd, e.message);
        return 2;
    }
    for (i = 0; i < o->n_sets; i++) {
        if (vx_settings_set_arg(s, o->sets[i], &e) != VX_OK) {
            fprintf(stderr, "voxclone %s: --set %s: %s\n", cmd, o->sets[i], e.message);
            return 2;
        }
    }
    return 0;
}

static char *read_text_file(const char *path, const char *cmd)
{
    FILE *f = fopen(path, "rb");
    char *buf;
    size_t n;
    if (!f) {
        fprintf(stderr, "voxclone %s: %s: %s\n", cmd, path, strerror(errno));
        return NULL;
    }
    buf = malloc(VX_CLONE_MAX_TEXT + 2);
    if (!buf) {
        fclose(f);
        fprintf(stderr, "voxclone %s: out of memory\n", cmd);
        return NULL;
    }
    n = fread(buf, 1, VX_CLONE_MAX_TEXT + 1, f);
    fclose(f);
    buf[n] = '\0';
    if (strlen(buf) != n) {
        fprintf(stderr, "voxclone %s: %s holds a NUL byte: not a text file\n", cmd, path);
        free(buf);
        return NULL;
    }
    return buf; /* over-long texts are refused by the library with its message */
}

static json_t *mask_json(vx_param_mask m)
{
    const char *names[VX_PARAM_COUNT];
    size_t n = vx_param_mask_names(m, names, VX_PARAM_COUNT), i;
    json_t *a = json_array();
    for (i = 0; i < n && i < VX_PARAM_COUNT; i++)
        json_array_append_new(a, json_string(names[i]));
    return a;
}

static void mask_text(vx_param_mask m, char *buf, size_t cap)
{
    const char *names[VX_PARAM_COUNT];
    size_t n = vx_param_mask_names(m, names, VX_PARAM_COUNT), i, len = 0;
    buf[0] = '\0';
    for (i = 0; i < n && i < VX_PARAM_COUNT && len < cap; i++) {
        int k = snprintf(buf + len, cap - len, "%s%s", i ? ", " : "", names[i]);
        if (k < 0)
            break;
        len += (size_t)k;
    }
}

static json_t *result_json(const vx_clone_result *r, const char *out_path, unsigned long long seed)
{
    json_t *j = json_object(), *t = json_object();
    char *sj = vx_settings_to_json(&r->effective);
    json_object_set_new(j, "output", json_string(out_path));
    json_object_set_new(j, "language", json_string(r->language));
    json_object_set_new(j, "engine", json_string(r->engine));
    json_object_set_new(j, "device", json_string(r->device));
    json_object_set_new(j, "duration_s", json_real(r->duration_s));
    json_object_set_new(j, "sample_rate", json_integer(r->rate_hz));
    json_object_set_new(j, "audio_format",
                        json_string(r->effective.audio_format == VX_AUDIO_FORMAT_MP3 ? "mp3"
                                                                                      : "wav"));
    /* JSON readers keep integers exactly up to 2^53; larger seeds as text */
    if (seed <= 9007199254740991ull) {
        json_object_set_new(j, "seed", json_integer((json_int_t)seed));
    } else {
        char buf[32];
        snprintf(buf, sizeof buf, "%llu", seed);
        json_object_set_new(j, "seed", json_string(buf));
    }
    json_object_set_new(t, "synth_ms", json_real(r->synth_ms));
    json_object_set_new(t, "convert_ms", json_real(r->convert_ms));
    json_object_set_new(t, "total_ms", json_real(r->total_ms));
    json_object_set_new(j, "timings", t);
    json_object_set_new(j, "unused_parameters", mask_json(r->unused));
    json_object_set_new(j, "adjusted_parameters", mask_json(r->adjusted));
    if (sj) {
        json_t *s = json_loads(sj, 0, NULL);
        if (s)
            json_object_set_new(j, "settings", s);
        free(sj);
    }
    if (r->has_similarity) {
        char *simj = vx_similarity_to_json(&r->similarity, NULL, NULL);
        json_t *s = simj ? json_loads(simj, 0, NULL) : NULL;
        if (s)
            json_object_set_new(j, "similarity", s);
        free(simj);
        json_object_set_new(j, "voiceprint_similarity", json_real(r->voiceprint_similarity));
        json_object_set_new(j, "quality_alert", json_boolean(r->similarity.overall < 0.7));
    }
    return j;
}

static void print_summary(FILE *f, const vx_clone_result *r, const char *out_path)
{
    char unused[256], adjusted[256];
    mask_text(r->unused, unused, sizeof unused);
    mask_text(r->adjusted, adjusted, sizeof adjusted);
    fprintf(f, "%s: %.2f s%s%s, %s on %s, %d Hz %s, synth %.0f ms, convert %.0f ms, total %.0f ms",
            out_path, r->duration_s, r->language[0] ? " of " : "", r->language, r->engine,
            r->device, r->rate_hz, r->effective.audio_format == VX_AUDIO_FORMAT_MP3 ? "mp3" : "wav",
            r->synth_ms, r->convert_ms, r->total_ms);
    if (r->has_similarity)
        fprintf(f, ", similarity %.3f%s (voiceprint %.3f)", r->similarity.overall,
                r->similarity.overall < 0.7 ? " ALERT" : "", r->voiceprint_similarity);
    if (unused[0])
        fprintf(f, ", unused: %s", unused);
    if (adjusted[0])
        fprintf(f, ", adjusted: %s", adjusted);
    fputc('\n', f);
}

static int emit(const opts *o, const vx_clone_result *r)
{
    vx_error e;
    if (vx_clone_result_write(r, o->output, &e) != VX_OK) {
        fprintf(stderr, "voxclone: %s\n", e.message);
        return 1;
    }
    if (o->json) {
        json_t *j = result_json(r, o->output, o->seed);
        char *txt = j ? json_dumps(j, JSON_COMPACT | JSON_REAL_PRECISION(10)) : NULL;
        json_decref(j);
        if (!txt) {
            fprintf(stderr, "voxclone: out of memory\n");
            return 1;
        }
        printf("%s\n", txt);
        free(txt);
        print_summary(stderr, r, o->output);
    } else {
        print_summary(stdout, r, o->output);
    }
    return fflush(stdout) == 0 ? 0 : 1;
}

static int common_checks(const opts *o, const char *cmd, vx_settings *s)
{
    int fmt, rc;
    if (!o->voice) {
        fprintf(stderr, "voxclone %s: --voice REF is required (see --help)\n", cmd);
        return 2;
    }
    if (!o->output) {
        fprintf(stderr, "voxclone %s: -o OUT is required (see --help)\n", cmd);
        return 2;
    }
    fmt = format_of(o->output);
    if (fmt < 0) {
        fprintf(stderr, "voxclone %s: %s: the output name must end in .wav or .mp3\n", cmd,
                o->output);
        return 2;
    }
    rc = build_settings(o, cmd, s);
    if (rc)
        return rc;
    s->audio_format = (vx_audio_format)fmt; /* the extension decides */
    return 0;
}

int vx_cli_clone(int argc, char **argv)
{
    opts o;
    vx_settings s;
    vx_voice *v = NULL;
    vx_clone_result *r = NULL;
    vx_error e;
    char *file_text = NULL;
    const char *text;
    int rc = parse(argc, argv, "clone", &o);
    if (rc) {
        free(o.sets);
        return rc == 1 ? 0 : 2;
    }
    rc = common_checks(&o, "clone", &s);
    if (!rc && !o.lang) {
        fprintf(stderr, "voxclone clone: --lang LANG is required (one of: %s)\n",
                vx_clone_languages());
        rc = 2;
    }
    if (!rc && (!o.text == !o.text_file)) {
        fprintf(stderr, "voxclone clone: give the text with exactly one of --text or --text-file\n");
        rc = 2;
    }
    if (rc) {
        free(o.sets);
        return rc;
    }
    text = o.text;
    if (o.text_file) {
        file_text = read_text_file(o.text_file, "clone");
        if (!file_text) {
            free(o.sets);
            return 1;
        }
        text = file_text;
    }
    if (vx_voice_from_file(o.voice, &v, &e) != VX_OK) {
        fprintf(stderr, "voxclone clone: %s\n", e.message);
        rc = 1;
    } else if (vx_clone_text(v, o.lang, text, &s, (uint64_t)o.seed, &r, &e) != VX_OK) {
        fprintf(stderr, "voxclone clone: %s\n", e.message);
        rc = e.code == VX_EINVAL ? 2 : 1;
    } else {
        rc = emit(&o, r);
    }
    vx_clone_result_free(r);
    vx_voice_free(v);
    free(file_text);
    free(o.sets);
    return rc;
}

int vx_cli_convert(int argc, char **argv)
{
    opts o;
    vx_settings s;
    vx_voice *v = NULL;
    vx_clone_result *r = NULL;
    vx_audio *in = NULL;
    vx_decode_opts d;
    vx_error e;
    int rc = parse(argc, argv, "convert", &o);
    if (rc) {
        free(o.sets);
        return rc == 1 ? 0 : 2;
    }
    rc = common_checks(&o, "convert", &s);
    if (!rc && !o.input) {
        fprintf(stderr, "voxclone convert: the input recording IN is required (see --help)\n");
        rc = 2;
    }
    if (!rc && (o.lang || o.text || o.text_file)) {
        fprintf(stderr, "voxclone convert: --lang/--text do not apply to a recording\n");
        rc = 2;
    }
    if (rc) {
        free(o.sets);
        return rc;
    }
    vx_decode_opts_init(&d);
    d.target_rate_hz = 0; /* the converter takes any rate */
    if (vx_voice_from_file(o.voice, &v, &e) != VX_OK) {
        fprintf(stderr, "voxclone convert: %s\n", e.message);
        rc = 1;
    } else if (vx_audio_decode_file(o.input, &d, &in, &e) != VX_OK) {
        fprintf(stderr, "voxclone convert: %s\n", e.message);
        rc = 1;
    } else if (vx_convert_audio(v, in->samples, in->n_samples, in->sample_rate_hz, &s,
                                (uint64_t)o.seed, &r, &e) != VX_OK) {
        fprintf(stderr, "voxclone convert: %s\n", e.message);
        rc = 1;
    } else {
        rc = emit(&o, r);
    }
    vx_clone_result_free(r);
    vx_audio_free(in);
    vx_voice_free(v);
    free(o.sets);
    return rc;
}
