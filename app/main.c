/*
 * main.c -- the voxclone command line: parses arguments, wires the library,
 * prints results.  All work happens in libvoxclone.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "voxclone/voxclone.h"

static const char *g_prog = "voxclone";

int vx_cli_presets(int argc, char **argv);  /* app/cmd_presets.c */
int vx_cli_clone(int argc, char **argv);    /* app/cmd_clone.c */
int vx_cli_convert(int argc, char **argv);  /* app/cmd_clone.c */
int vx_cli_pipeline(int argc, char **argv); /* app/cmd_pipeline.c */
int vx_cli_serve(int argc, char **argv);    /* app/cmd_serve.c */
int vx_cli_token(int argc, char **argv);    /* app/cmd_serve.c */
int vx_cli_gateway(int argc, char **argv);  /* app/cmd_serve.c */
int vx_cli_worker(int argc, char **argv);   /* app/cmd_serve.c */

static void usage_main(FILE *f)
{
    fprintf(f,
            "usage: voxclone <command> [options]\n"
            "\n"
            "commands:\n"
            "  analyze   analyse voice recordings (pYIN pitch, MFCC, spectral centroid)\n"
            "  compare   similarity of a cloned recording to the original\n"
            "  presets   the 5 presets and the 14 cloning parameters\n"
            "  clone     speak a text in a reference voice\n"
            "  convert   re-speak a recording in a reference voice\n"
            "  pipeline  one message into several languages in parallel\n"
            "  serve     run the HTTP service (API, page, metrics)\n"
            "  gateway   the HTTP service, audio work sent to workers over ZeroMQ\n"
            "  worker    does the audio work of a gateway\n"
            "  token     create or revoke API tokens\n"
            "  version   print the version\n"
            "\n"
            "Run 'voxclone <command> --help' for the options of a command.\n");
}

static void usage_analyze(FILE *f)
{
    fprintf(f,
            "usage: voxclone analyze [--detailed] [--frames] [--json] [--threads N]\n"
            "                        [--pitch-mode librosa|accurate] [--max-duration SECONDS] FILE...\n"
            "\n"
            "Decodes each FILE (WAV, FLAC, OGG/Vorbis, Opus, MP3), resamples it to 22050 Hz\n"
            "and prints librosa-0.11-compatible voice metrics.\n"
            "\n"
            "  --detailed            include the 13 mean MFCC coefficients, voice metrics\n"
            "                        (jitter, shimmer, HNR, formants, voiced ratio, speaking\n"
            "                        rate, loudness) and the 512-d voiceprint\n"
            "  --pitch-mode MODE     librosa (default: librosa 0.11 pyin exactly) or accurate\n"
            "                        (better voicing decision; see docs/pitch.md)\n"
            "  --frames              include per-frame tracks (times, f0, voiced_flag,\n"
            "                        voiced_prob, centroid, mfcc); implies --json\n"
            "  --json                one JSON object per file on stdout (one line each)\n"
            "  --threads N           worker threads (0 = all cores, default)\n"
            "  --max-duration S      refuse audio longer than S seconds (default 600)\n"
            "  -h, --help            this help\n");
}

static void usage_compare(FILE *f)
{
    fprintf(f,
            "usage: voxclone compare [--json] ORIGINAL CLONED\n"
            "\n"
            "Analyses both recordings and prints the similarity of CLONED to ORIGINAL:\n"
            "pitch, brightness and MFCC similarity and overall = 0.3 pitch + 0.3 brightness\n"
            "+ 0.4 mfcc (the old service's formula).  An overall score under 0.7 is a\n"
            "quality alert.  Also prints voiceprint_similarity (cosine of the 512-d\n"
            "voiceprints), a far better judge of speaker identity.\n"
            "\n"
            "  --json      print the similarity JSON object\n"
            "  -h, --help  this help\n");
}

static int parse_int(const char *s, long lo, long hi, long *out)
{
    char *end = NULL;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || !end || *end || end == s || v < lo || v > hi)
        return -1;
    *out = v;
    return 0;
}

static int parse_double(const char *s, double lo, double hi, double *out)
{
    char *end = NULL;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || !end || *end || end == s || !(v >= lo && v <= hi))
        return -1;
    *out = v;
    return 0;
}

/* The library's messages already name the file and the reason. */
static int fail(const char *what, const vx_error *e)
{
    if (e->message[0])
        fprintf(stderr, "%s: %s\n", g_prog, e->message);
    else
        fprintf(stderr, "%s: %s: %s\n", g_prog, what, vx_strerror(e->code));
    return 1;
}

static void print_summary(const char *path, const vx_analysis *a, int detailed)
{
    printf("%s: %.2f s, pitch %.1f Hz (std %.1f, range %.1f-%.1f), %s, brightness %.0f Hz, "
           "%zu/%zu frames voiced\n",
           path, a->duration_s, a->pitch_mean_hz, a->pitch_std_hz, a->pitch_min_hz,
           a->pitch_max_hz, a->voice_type, a->centroid_mean_hz, a->n_voiced, a->n_frames);
    if (detailed && a->has_mfcc) {
        printf("  mfcc:");
        for (int k = 0; k < VX_N_MFCC; k++)
            printf(" %.2f", a->mfcc_mean[k]);
        printf("\n");
    }
    if (detailed && a->has_metrics) {
        const vx_voice_metrics *m = &a->metrics;
        printf("  jitter %.2f %%, shimmer %.2f %%, HNR %.1f dB, formants %.0f/%.0f/%.0f Hz\n",
               m->jitter_local_pct, m->shimmer_local_pct, m->hnr_db, m->formant_hz[0],
               m->formant_hz[1], m->formant_hz[2]);
        printf("  voiced %.0f %%, %.2f syllables/s, loudness %.1f LUFS\n", 100.0 * m->voiced_ratio,
               m->speaking_rate_syl_s, m->loudness_lufs);
    }
    if (detailed && a->has_voiceprint)
        printf("  voiceprint %s (%d floats; see --json)\n", a->voiceprint_version, VX_VOICEPRINT_DIM);
}

static int cmd_analyze(int argc, char **argv)
{
    int detailed = 0, frames = 0, json = 0, nfiles = 0;
    vx_analysis_opts opts;
    vx_analysis_opts_init(&opts);
    char **files = calloc((size_t)argc, sizeof *files);
    if (!files)
        return 1;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            usage_analyze(stdout);
            free(files);
            return 0;
        } else if (!strcmp(a, "--detailed")) {
            detailed = 1;
        } else if (!strcmp(a, "--frames")) {
            frames = 1;
            json = 1;
        } else if (!strcmp(a, "--json")) {
            json = 1;
        } else if (!strcmp(a, "--pitch-mode")) {
            if (i + 1 >= argc) {
                fprintf(stderr, "%s: analyze: --pitch-mode needs a value (librosa or accurate)\n", g_prog);
                free(files);
                return 2;
            }
            const char *v = argv[++i];
            if (!strcmp(v, "librosa")) {
                opts.pitch_mode = VX_PITCH_LIBROSA;
            } else if (!strcmp(v, "accurate")) {
                opts.pitch_mode = VX_PITCH_ACCURATE;
            } else {
                fprintf(stderr, "%s: analyze: --pitch-mode must be librosa or accurate (got '%s')\n", g_prog, v);
                free(files);
                return 2;
            }
        } else if (!strcmp(a, "--threads") || !strcmp(a, "--max-duration")) {
            if (i + 1 >= argc) {
                fprintf(stderr, "%s: analyze: %s needs a value\n", g_prog, a);
                free(files);
                return 2;
            }
            const char *v = argv[++i];
            long n;
            if (!strcmp(a, "--threads")) {
                if (parse_int(v, 0, 64, &n)) {
                    fprintf(stderr, "%s: analyze: --threads must be an integer in 0..64 (got '%s')\n", g_prog, v);
                    free(files);
                    return 2;
                }
                opts.n_threads = (int)n;
            } else if (parse_double(v, 0.5, 86400.0, &opts.decode.max_duration_s)) {
                fprintf(stderr, "%s: analyze: --max-duration must be a number of seconds in 0.5..86400 (got '%s')\n", g_prog, v);
                free(files);
                return 2;
            }
        } else if (a[0] == '-' && a[1]) {
            fprintf(stderr, "%s: analyze: unknown option '%s' (see --help)\n", g_prog, a);
            free(files);
            return 2;
        } else {
            files[nfiles++] = argv[i];
        }
    }
    if (nfiles == 0) {
        fprintf(stderr, "%s: analyze: no input file (see --help)\n", g_prog);
        free(files);
        return 2;
    }
    opts.keep_frames = frames;
    opts.detailed = detailed;
    int status = 0;
    for (int i = 0; i < nfiles; i++) {
        vx_analysis *an = NULL;
        vx_error e;
        if (vx_analyze_file(files[i], &opts, &an, &e) != VX_OK) {
            fail(files[i], &e);
            status = 1;
            continue;
        }
        if (json) {
            unsigned fl = (detailed ? VX_JSON_DETAILED : 0) | (frames ? VX_JSON_FRAMES : 0);
            char *s = vx_analysis_to_json(an, fl);
            if (!s) {
                fprintf(stderr, "%s: %s: out of memory writing JSON\n", g_prog, files[i]);
                status = 1;
            } else {
                printf("%s\n", s);
                free(s);
            }
        } else {
            print_summary(files[i], an, detailed);
        }
        vx_analysis_free(an);
    }
    free(files);
    return status;
}

static int cmd_compare(int argc, char **argv)
{
    int json = 0, n = 0;
    const char *paths[2] = {NULL, NULL};
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            usage_compare(stdout);
            return 0;
        } else if (!strcmp(a, "--json")) {
            json = 1;
        } else if (a[0] == '-' && a[1]) {
            fprintf(stderr, "%s: compare: unknown option '%s' (see --help)\n", g_prog, a);
            return 2;
        } else if (n < 2) {
            paths[n++] = a;
        } else {
            fprintf(stderr, "%s: compare: expected exactly two files (see --help)\n", g_prog);
            return 2;
        }
    }
    if (n != 2) {
        fprintf(stderr, "%s: compare: expected exactly two files, ORIGINAL and CLONED (see --help)\n", g_prog);
        return 2;
    }
    vx_analysis_opts opts;
    vx_analysis_opts_init(&opts);
    opts.detailed = 1; /* voiceprint similarity */
    vx_analysis *an[2] = {NULL, NULL};
    for (int i = 0; i < 2; i++) {
        vx_error e;
        if (vx_analyze_file(paths[i], &opts, &an[i], &e) != VX_OK) {
            vx_analysis_free(an[0]);
            return fail(paths[i], &e);
        }
    }
    vx_similarity s;
    vx_similarity_compute(an[0], an[1], &s);
    if (json) {
        char *txt = vx_similarity_to_json(&s, an[0], an[1]);
        if (txt)
            printf("%s\n", txt);
        free(txt);
    } else {
        printf("overall %.3f%s  (pitch %.3f, brightness %.3f, mfcc %.3f)", s.overall,
               s.overall < 0.7 ? " [quality alert: < 0.7]" : "", s.pitch_similarity,
               s.brightness_similarity, s.mfcc_similarity);
        if (an[0]->has_voiceprint && an[1]->has_voiceprint)
            printf("  voiceprint %.3f", vx_voiceprint_similarity(an[0]->voiceprint, an[1]->voiceprint));
        printf("\n");
    }
    vx_analysis_free(an[0]);
    vx_analysis_free(an[1]);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage_main(stderr);
        return 2;
    }
    const char *cmd = argv[1];
    if (!strcmp(cmd, "clone") || !strcmp(cmd, "pipeline") || !strcmp(cmd, "serve") ||
        !strcmp(cmd, "worker"))
        vx_tts_global_init(NULL); /* espeak-ng helper process: start it while single-threaded */
    if (!strcmp(cmd, "-h") || !strcmp(cmd, "--help") || !strcmp(cmd, "help")) {
        usage_main(stdout);
        return 0;
    }
    if (!strcmp(cmd, "version") || !strcmp(cmd, "--version")) {
        printf("voxclone %s\n", VX_VERSION_STRING);
        return 0;
    }
    if (!strcmp(cmd, "analyze"))
        return cmd_analyze(argc - 1, argv + 1);
    if (!strcmp(cmd, "compare"))
        return cmd_compare(argc - 1, argv + 1);
    if (!strcmp(cmd, "presets"))
        return vx_cli_presets(argc - 1, argv + 1);
    if (!strcmp(cmd, "clone"))
        return vx_cli_clone(argc - 1, argv + 1);
    if (!strcmp(cmd, "convert"))
        return vx_cli_convert(argc - 1, argv + 1);
    if (!strcmp(cmd, "pipeline"))
        return vx_cli_pipeline(argc - 1, argv + 1);
    if (!strcmp(cmd, "serve"))
        return vx_cli_serve(argc - 1, argv + 1);
    if (!strcmp(cmd, "gateway"))
        return vx_cli_gateway(argc - 1, argv + 1);
    if (!strcmp(cmd, "worker"))
        return vx_cli_worker(argc - 1, argv + 1);
    if (!strcmp(cmd, "token"))
        return vx_cli_token(argc - 1, argv + 1);
    fprintf(stderr, "%s: unknown command '%s' (see --help)\n", g_prog, cmd);
    return 2;
}
