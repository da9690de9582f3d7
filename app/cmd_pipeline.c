/*
 * cmd_pipeline.c -- `voxclone pipeline JOB.json --out-dir DIR`: one message
 * spoken in several languages in one reference voice.
 *
 * DESIGN: the command only reads the job, calls vx_pipeline_run and writes
 * what it returns: one audio file per successful language and result.json
 * (vx_pipeline_result_to_json plus the voice path), so the service and the
 * CLI report the same fields.  The job's structure is checked strictly
 * (unknown keys and wrong types are refused before any work, exit 2), but a
 * target whose language or text is missing, empty or unsupported only fails
 * that language: the library reports it in the result and the others are
 * still written.  Exit status: 0 every language ok; 1 at least one language
 * failed, the voice could not be used or an output could not be written; 2
 * usage or job error (unreadable or invalid job: nothing is run).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <jansson.h>

#include "voxclone/voxclone.h"

int vx_cli_pipeline(int argc, char **argv);

#define JOB_MAX_BYTES (2u * 1024u * 1024u)

static void usage_pipeline(FILE *f)
{
    fprintf(f,
            "usage: voxclone pipeline JOB.json --out-dir DIR [--seed N] [--set KEY=VALUE]...\n"
            "                         [--json] [--progress]\n"
            "\n"
            "Speaks each target of JOB in the voice of its reference recording, the\n"
            "languages in parallel on settings.max_workers threads.  JOB is\n"
            "  {\"voice\": \"ref.wav\", \"settings\": {\"preset\": \"fast\", ...},\n"
            "   \"seed\": 0, \"targets\": [{\"language\": \"fr\", \"text\": \"...\"}, ...]}\n"
            "(\"voice\" relative to the job file's directory; \"settings\" and \"seed\"\n"
            "optional; at most %d targets, each text at most %d bytes, %d together).\n"
            "Writes DIR/<language>.wav (or .mp3, as settings.audio_format;\n"
            "DIR/<language>-<index>.<ext> when a language occurs twice) for every\n"
            "language that succeeded, and DIR/result.json (status, engine, duration,\n"
            "timings, similarity, errors).  A language that fails does not stop the others.\n"
            "\n"
            "  --out-dir DIR      output directory (created if missing)\n"
            "  --seed N           seed of the run (overrides the job's; default 0)\n"
            "  --set KEY=VALUE    override one setting after the job's (repeatable)\n"
            "  --json             print result.json on stdout instead of the summary\n"
            "  --progress         progress lines on stderr\n"
            "  -h, --help         this help\n"
            "\n"
            "Exit status: 0 all languages ok; 1 some language failed (the others are\n"
            "written), the voice could not be used or an output could not be written;\n"
            "2 usage or job error (nothing run).\n",
            VX_PIPELINE_MAX_TARGETS, VX_PIPELINE_MAX_TEXT, VX_PIPELINE_MAX_TOTAL_TEXT);
}

static char *read_file(const char *path, size_t *len, char *why, size_t why_cap)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(why, why_cap, "cannot open %s: %s", path, strerror(errno));
        return NULL;
    }
    char *buf = malloc(JOB_MAX_BYTES + 1);
    if (!buf) {
        fclose(f);
        snprintf(why, why_cap, "out of memory");
        return NULL;
    }
    size_t n = fread(buf, 1, JOB_MAX_BYTES + 1, f);
    int bad = ferror(f);
    fclose(f);
    if (bad) {
        free(buf);
        snprintf(why, why_cap, "cannot read %s", path);
        return NULL;
    }
    if (n > JOB_MAX_BYTES) {
        free(buf);
        snprintf(why, why_cap, "%s is larger than %u bytes", path, JOB_MAX_BYTES);
        return NULL;
    }
    buf[n] = '\0';
    *len = n;
    return buf;
}

/* Refuses keys of obj not in allowed (NULL-terminated). */
static int check_keys(json_t *obj, const char *const *allowed, const char *where, char *why,
                      size_t why_cap)
{
    const char *key;
    json_t *v;
    json_object_foreach(obj, key, v)
    {
        int ok = 0;
        for (size_t i = 0; allowed[i]; i++)
            ok |= strcmp(key, allowed[i]) == 0;
        if (!ok) {
            snprintf(why, why_cap, "%s: unknown key '%s'", where, key);
            return -1;
        }
    }
    return 0;
}

typedef struct job {
    json_t *root;
    char *voice_path;         /* resolved */
    const char *voice_given;  /* as in the job */
    vx_pipeline_target *targets;
    size_t n;
    int has_seed;
    unsigned long long seed;
} job;

static void job_free(job *j)
{
    json_decref(j->root);
    free(j->voice_path);
    free(j->targets);
}

/* Parses the job; settings are applied to *s.  Returns 0 or -1 with why. */
static int job_parse(const char *path, job *j, vx_settings *s, char *why, size_t why_cap)
{
    memset(j, 0, sizeof *j);
    size_t len = 0;
    char *txt = read_file(path, &len, why, why_cap);
    if (!txt)
        return -1;
    json_error_t je;
    j->root = json_loadb(txt, len, JSON_REJECT_DUPLICATES, &je);
    free(txt);
    if (!j->root) {
        snprintf(why, why_cap, "%s: malformed JSON: %s at line %d column %d", path, je.text,
                 je.line, je.column);
        return -1;
    }
    if (!json_is_object(j->root)) {
        snprintf(why, why_cap, "%s: the job must be a JSON object", path);
        return -1;
    }
    static const char *const top_keys[] = {"voice", "settings", "targets", "seed", NULL};
    if (check_keys(j->root, top_keys, path, why, why_cap) != 0)
        return -1;

    json_t *voice = json_object_get(j->root, "voice");
    if (!json_is_string(voice) || json_string_length(voice) == 0) {
        snprintf(why, why_cap, "%s: \"voice\" must be the path of the reference recording", path);
        return -1;
    }
    j->voice_given = json_string_value(voice);
    /* relative to the job file's directory */
    const char *slash = strrchr(path, '/');
    size_t dirlen = (j->voice_given[0] != '/' && slash) ? (size_t)(slash - path) + 1 : 0;
    size_t vlen = strlen(j->voice_given);
    j->voice_path = malloc(dirlen + vlen + 1);
    if (!j->voice_path) {
        snprintf(why, why_cap, "out of memory");
        return -1;
    }
    memcpy(j->voice_path, path, dirlen);
    memcpy(j->voice_path + dirlen, j->voice_given, vlen + 1);

    json_t *st = json_object_get(j->root, "settings");
    if (st && !json_is_null(st)) {
        if (!json_is_object(st)) {
            snprintf(why, why_cap, "%s: \"settings\" must be an object", path);
            return -1;
        }
        char *stxt = json_dumps(st, JSON_COMPACT);
        if (!stxt) {
            snprintf(why, why_cap, "out of memory");
            return -1;
        }
        vx_error e;
        int rc = vx_settings_from_json(stxt, strlen(stxt), s, &e);
        free(stxt);
        if (rc != VX_OK) {
            snprintf(why, why_cap, "%s: settings: %s", path, e.message);
            return -1;
        }
    }

    json_t *seed = json_object_get(j->root, "seed");
    if (seed) {
        if (!json_is_integer(seed) || json_integer_value(seed) < 0) {
            snprintf(why, why_cap, "%s: \"seed\" must be an integer >= 0", path);
            return -1;
        }
        j->has_seed = 1;
        j->seed = (unsigned long long)json_integer_value(seed);
    }

    json_t *tg = json_object_get(j->root, "targets");
    if (!json_is_array(tg)) {
        snprintf(why, why_cap, "%s: \"targets\" must be an array of {\"language\", \"text\"}",
                 path);
        return -1;
    }
    j->n = json_array_size(tg);
    j->targets = calloc(j->n ? j->n : 1, sizeof *j->targets);
    if (!j->targets) {
        snprintf(why, why_cap, "out of memory");
        return -1;
    }
    for (size_t i = 0; i < j->n; i++) {
        json_t *t = json_array_get(tg, i);
        char where[64];
        snprintf(where, sizeof where, "%s: targets[%zu]", path, i);
        if (!json_is_object(t)) {
            snprintf(why, why_cap, "%s must be an object", where);
            return -1;
        }
        static const char *const tkeys[] = {"language", "text", NULL};
        if (check_keys(t, tkeys, where, why, why_cap) != 0)
            return -1;
        json_t *l = json_object_get(t, "language"), *x = json_object_get(t, "text");
        if ((l && !json_is_string(l)) || (x && !json_is_string(x))) {
            snprintf(why, why_cap, "%s: \"%s\" must be a string", where,
                     l && !json_is_string(l) ? "language" : "text");
            return -1;
        }
        /* missing or empty fields fail this language only (library) */
        j->targets[i].language = l ? json_string_value(l) : NULL;
        j->targets[i].text = x ? json_string_value(x) : NULL;
        if ((l && strlen(json_string_value(l)) != json_string_length(l)) ||
            (x && strlen(json_string_value(x)) != json_string_length(x))) {
            snprintf(why, why_cap, "%s: strings must not contain NUL characters", where);
            return -1;
        }
    }
    return 0;
}

static int safe_name(const char *lang)
{
    if (!lang[0])
        return 0;
    for (const char *p = lang; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
              *p == '-' || *p == '_'))
            return 0;
    return 1;
}

static int write_bytes(const char *path, const void *data, size_t size)
{
    FILE *f = fopen(path, "wb");
    if (!f)
        return -1;
    size_t w = fwrite(data, 1, size, f);
    int rc = fclose(f);
    return (w == size && rc == 0) ? 0 : -1;
}

static const char *stage_word(vx_pipeline_stage s)
{
    switch (s) {
    case VX_PIPELINE_STARTED:
        return "started";
    case VX_PIPELINE_CLONED:
        return "cloned";
    case VX_PIPELINE_DONE:
        return "done";
    case VX_PIPELINE_FAILED:
        return "failed";
    }
    return "?";
}

static void on_progress(const vx_pipeline_progress *p, void *user)
{
    (void)user;
    fprintf(stderr, "voxclone pipeline: [%zu/%zu] %s (target %zu): %s %3.0f %%%s%s\n",
            p->n_finished, p->n_targets, p->language[0] ? p->language : "?", p->index,
            stage_word(p->stage), 100.0 * p->progress, p->message[0] ? ": " : "", p->message);
}

int vx_cli_pipeline(int argc, char **argv)
{
    const char *job_path = NULL, *out_dir = NULL;
    int as_json = 0, show_progress = 0, has_seed = 0;
    unsigned long long seed = 0;
    vx_settings s;
    vx_settings_defaults(&s);
    char **sets = calloc((size_t)(argc > 0 ? argc : 1), sizeof *sets);
    size_t n_sets = 0;
    if (!sets) {
        fprintf(stderr, "voxclone pipeline: out of memory\n");
        return 1;
    }
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            usage_pipeline(stdout);
            free(sets);
            return 0;
        } else if (!strcmp(a, "--json")) {
            as_json = 1;
        } else if (!strcmp(a, "--progress")) {
            show_progress = 1;
        } else if (!strcmp(a, "--out-dir") || !strcmp(a, "--seed") || !strcmp(a, "--set")) {
            if (i + 1 >= argc) {
                fprintf(stderr, "voxclone pipeline: %s needs a value\n", a);
                free(sets);
                return 2;
            }
            const char *v = argv[++i];
            if (!strcmp(a, "--out-dir")) {
                out_dir = v;
            } else if (!strcmp(a, "--set")) {
                sets[n_sets++] = argv[i];
            } else {
                char *end = NULL;
                errno = 0;
                seed = strtoull(v, &end, 10);
                if (errno || !end || *end || end == v || v[0] == '-') {
                    fprintf(stderr, "voxclone pipeline: --seed %s is not an integer >= 0\n", v);
                    free(sets);
                    return 2;
                }
                has_seed = 1;
            }
        } else if (a[0] == '-' && a[1]) {
            fprintf(stderr, "voxclone pipeline: unknown option %s (see --help)\n", a);
            free(sets);
            return 2;
        } else if (!job_path) {
            job_path = a;
        } else {
            fprintf(stderr, "voxclone pipeline: one JOB file only (got %s and %s)\n", job_path, a);
            free(sets);
            return 2;
        }
    }
    if (!job_path || !out_dir) {
        fprintf(stderr, "voxclone pipeline: %s is required\n", !job_path ? "JOB.json" : "--out-dir");
        usage_pipeline(stderr);
        free(sets);
        return 2;
    }

    char why[512];
    job j;
    if (job_parse(job_path, &j, &s, why, sizeof why) != 0) {
        fprintf(stderr, "voxclone pipeline: %s\n", why);
        job_free(&j);
        free(sets);
        return 2;
    }
    for (size_t k = 0; k < n_sets; k++) {
        vx_error e;
        if (vx_settings_set_arg(&s, sets[k], &e) != VX_OK) {
            fprintf(stderr, "voxclone pipeline: --set %s: %s\n", sets[k], e.message);
            job_free(&j);
            free(sets);
            return 2;
        }
    }
    free(sets);
    if (!has_seed && j.has_seed)
        seed = j.seed;
    if (j.n == 0 || j.n > VX_PIPELINE_MAX_TARGETS) {
        fprintf(stderr, "voxclone pipeline: %s: %zu targets (1..%d allowed)\n", job_path, j.n,
                VX_PIPELINE_MAX_TARGETS);
        job_free(&j);
        return 2;
    }
    if (mkdir(out_dir, 0777) != 0 && errno != EEXIST) {
        fprintf(stderr, "voxclone pipeline: cannot create %s: %s\n", out_dir, strerror(errno));
        job_free(&j);
        return 1;
    }
    struct stat st;
    if (stat(out_dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
        fprintf(stderr, "voxclone pipeline: %s is not a directory\n", out_dir);
        job_free(&j);
        return 1;
    }

    vx_error e;
    vx_voice *voice = NULL;
    if (vx_voice_from_file(j.voice_path, &voice, &e) != VX_OK) {
        fprintf(stderr, "voxclone pipeline: voice %s: %s\n", j.voice_path,
                e.message[0] ? e.message : vx_strerror(e.code));
        job_free(&j);
        return 1;
    }
    vx_pipeline_result *res = NULL;
    int rc = vx_pipeline_run(voice, &s, j.targets, j.n, (uint64_t)seed,
                             show_progress ? on_progress : NULL, NULL, &res, &e);
    vx_voice_free(voice);
    if (rc != VX_OK) {
        fprintf(stderr, "voxclone pipeline: %s\n", e.message[0] ? e.message : vx_strerror(rc));
        job_free(&j);
        return rc == VX_EINVAL || rc == VX_ELIMIT ? 2 : 1;
    }

    /* audio files */
    int status = res->n_failed ? 1 : 0;
    const char *ext = s.audio_format == VX_AUDIO_FORMAT_MP3 ? "mp3" : "wav";
    char (*names)[64] = calloc(res->n_items, sizeof *names);
    const char **files = calloc(res->n_items, sizeof *files);
    size_t plen = strlen(out_dir) + 80;
    char *path = malloc(plen);
    if (!names || !files || !path) {
        fprintf(stderr, "voxclone pipeline: out of memory\n");
        free(names);
        free(files);
        free(path);
        vx_pipeline_result_free(res);
        job_free(&j);
        return 1;
    }
    for (size_t i = 0; i < res->n_items; i++) {
        const vx_pipeline_item *it = &res->items[i];
        if (it->status != VX_OK || !safe_name(it->language))
            continue;
        int dup = 0;
        for (size_t k = 0; k < res->n_items; k++)
            dup |= k != i && strcmp(res->items[k].language, it->language) == 0;
        if (dup)
            snprintf(names[i], sizeof names[i], "%s-%zu.%s", it->language, i, ext);
        else
            snprintf(names[i], sizeof names[i], "%s.%s", it->language, ext);
        snprintf(path, plen, "%s/%s", out_dir, names[i]);
        if (write_bytes(path, it->audio, it->audio_size) != 0) {
            fprintf(stderr, "voxclone pipeline: cannot write %s: %s\n", path, strerror(errno));
            status = 1;
            continue;
        }
        files[i] = names[i];
    }

    /* result.json: the library's JSON plus the voice as given */
    char *txt = vx_pipeline_result_to_json(res, files);
    json_t *rj = txt ? json_loads(txt, 0, NULL) : NULL;
    free(txt);
    txt = NULL;
    if (rj) {
        json_object_set_new(rj, "voice", json_string(j.voice_given));
        txt = json_dumps(rj, JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(12));
        json_decref(rj);
    }
    if (!txt) {
        fprintf(stderr, "voxclone pipeline: out of memory\n");
        status = 1;
    } else {
        snprintf(path, plen, "%s/result.json", out_dir);
        size_t tl = strlen(txt);
        txt[tl] = '\n';
        if (write_bytes(path, txt, tl + 1) != 0) {
            fprintf(stderr, "voxclone pipeline: cannot write %s: %s\n", path, strerror(errno));
            status = 1;
        }
        txt[tl] = '\0';
    }

    if (as_json && txt) {
        printf("%s\n", txt);
    } else if (!as_json) {
        for (size_t i = 0; i < res->n_items; i++) {
            const vx_pipeline_item *it = &res->items[i];
            const char *lang = it->language[0] ? it->language : "?";
            if (it->status != VX_OK) {
                printf("%s: failed: %s: %s\n", lang, vx_status_name(it->status),
                       it->error.message);
                continue;
            }
            const vx_clone_result *r = it->clone;
            printf("%s: ok, %s, %.2f s of audio in %.2f s", lang, r->engine, r->duration_s,
                   it->processing_ms / 1e3);
            if (r->has_similarity)
                printf(", similarity %.3f (voiceprint %.3f)", r->similarity.overall,
                       r->voiceprint_similarity);
            printf(" -> %s/%s\n", out_dir, files[i] ? files[i] : "(not written)");
        }
        printf("%zu of %zu languages ok in %.2f s on %d worker%s; %s/result.json\n", res->n_ok,
               res->n_items, res->wall_ms / 1e3, res->n_workers, res->n_workers == 1 ? "" : "s",
               out_dir);
    }
    if (fflush(stdout) != 0)
        status = 1;
    free(txt);
    free(names);
    free(files);
    free(path);
    vx_pipeline_result_free(res);
    job_free(&j);
    return status;
}
