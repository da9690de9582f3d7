/*
 * intelligibility.c -- bench_intelligibility: word error rate of cloned
 * English speech, converted vs the unconverted base voice, as heard by an
 * independent recogniser (CMU pocketsphinx, Debian's en-us model).
 *
 *   bench_intelligibility [--shared DIR] [--speakers a,b,...] [--sentences N]
 *                         [--seed N] [--keep] [--pocketsphinx PROG]
 *
 * 60 short everyday sentences in the style of the CMU ARCTIC prompts
 * (written for this bench; plain words, no digits) are spoken in the voice
 * of each reference speaker (default: arctic-slt, fda-rl, libri-1688, vctk-
 * p225; the first utterance of DIR/evaldata/speakers/<speaker>/):
 *   - converted: vx_clone_text("en"), output at 16 kHz;
 *   - base: the English engine's output before the converter, made as
 *     vx_clone_text makes it (vx__engine_choose, the voice's fit calibrated
 *     for the engine, synth; src/tts/tts_internal.h, engine_private.h),
 *     resampled to 16 kHz by the library's decoder.
 * All WAVs (16-bit, 16 kHz, mono, 44-byte header) go to a temporary
 * directory and are decoded in one pocketsphinx_batch run (en-us acoustic
 * model, en-us.lm.bin, cmudict-en-us.dict).  WER = (substitutions +
 * deletions + insertions) / reference words, over lower-cased words with
 * punctuation removed, pooled over all sentences.  Goal of the issue: the
 * converted WER no more than 10 points above the base voice's.
 *
 * DESIGN: the converted sentences are made by vx_pipeline_run (32 a run,
 * default max_workers 2), the base ones with each item's seed.  Two
 * recogniser processes (one per core, each on half of the file list) keep
 * the model loading (~2 s) out of the per-file cost; they are started with
 * posix_spawnp (no shell), their logs to /dev/null.  The last line is a one-line JSON summary.
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <spawn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "bench_util.h"
#include "tts/engine_private.h"
#include "tts/tts_internal.h"
#include "voxclone/voxclone.h"

extern char **environ;

#define MAX_SPK 16
#define MAX_WORDS 64
#define PS_MODEL "/usr/share/pocketsphinx/model/en-us"

static const char *const k_sentences[] = {
    "The old house at the end of the road was empty for many years.",
    "She opened the window and let the cool morning air into the room.",
    "We walked along the river until the sun went down behind the hills.",
    "He could not remember where he had left his keys.",
    "The children played in the garden while their parents talked.",
    "A small boat drifted slowly across the quiet lake.",
    "Please close the door when you leave the office.",
    "The train was late again because of the heavy snow.",
    "I think we should wait until the rain stops.",
    "They built a fire on the beach and sang old songs.",
    "The doctor told him to rest for a few days.",
    "Her brother works in a large hospital in the city.",
    "The dog barked at every car that passed the gate.",
    "We need to buy bread, milk and fresh fruit for the week.",
    "The meeting will start as soon as everyone arrives.",
    "He wrote a long letter to his mother every Sunday.",
    "The story ended with a wedding in the village church.",
    "Nobody knew where the strange man had come from.",
    "The wind blew the leaves across the empty street.",
    "She found an old photograph hidden inside the book.",
    "The teacher asked the students to read the first chapter.",
    "My father used to grow tomatoes in the back yard.",
    "It was the coldest winter anyone could remember.",
    "The captain ordered the men to lower the sails.",
    "You can see the mountains from the top of the tower.",
    "The baker gets up very early to make the bread.",
    "We heard a loud noise coming from the kitchen.",
    "The horse ran across the field and jumped over the fence.",
    "He looked at the map and shook his head.",
    "The library closes at six in the evening.",
    "She smiled and said that everything would be fine.",
    "The farmer sold his cattle at the market in town.",
    "A thick fog covered the harbor all morning.",
    "They waited for hours at the station without any news.",
    "The little girl held her mother's hand very tightly.",
    "I have never seen such a beautiful garden.",
    "The soldiers marched through the town in silence.",
    "He poured a cup of coffee and sat down by the fire.",
    "The price of the ticket was higher than we expected.",
    "Every evening the old man fed the birds in the park.",
    "The ship was lost in a storm far from the coast.",
    "Her voice was soft but everyone in the room could hear it.",
    "We must finish the work before the end of the month.",
    "The cat slept all afternoon on the warm stone wall.",
    "He asked the waiter for another glass of water.",
    "The road was narrow and full of deep holes.",
    "She has lived in this small town all her life.",
    "The thief escaped through a window on the second floor.",
    "They spent the summer at their uncle's farm.",
    "The light in the hall was still burning at midnight.",
    "Please tell me the truth about what happened last night.",
    "The bridge was closed after the flood.",
    "He carried the heavy box up the stairs by himself.",
    "The music stopped and the dancers left the floor.",
    "Our neighbors are moving to another country next spring.",
    "The king gave the young man a horse and a sword.",
    "She wrote her name at the bottom of the page.",
    "The lamp on the desk gave a weak yellow light.",
    "We could hear the sea from our bedroom window.",
    "At last the long journey came to an end.",
};
#define N_SENT (sizeof k_sentences / sizeof k_sentences[0])

/* Lower-cased words (letters and apostrophes) of s into w (each < 32). */
static size_t words(const char *s, char w[][32], size_t cap)
{
    size_t n = 0;
    while (*s && n < cap) {
        while (*s && !isalpha((unsigned char)*s) && *s != '\'')
            s++;
        if (!*s)
            break;
        size_t k = 0;
        while (*s && (isalpha((unsigned char)*s) || *s == '\'')) {
            if (k < 31)
                w[n][k++] = (char)tolower((unsigned char)*s);
            s++;
        }
        w[n][k] = '\0';
        n++;
    }
    return n;
}

static size_t edit_distance(char a[][32], size_t na, char b[][32], size_t nb)
{
    size_t d[MAX_WORDS + 1][MAX_WORDS + 1];
    for (size_t i = 0; i <= na; i++)
        d[i][0] = i;
    for (size_t j = 0; j <= nb; j++)
        d[0][j] = j;
    for (size_t i = 1; i <= na; i++)
        for (size_t j = 1; j <= nb; j++) {
            size_t sub = d[i - 1][j - 1] + (strcmp(a[i - 1], b[j - 1]) != 0);
            size_t del = d[i - 1][j] + 1, ins = d[i][j - 1] + 1;
            d[i][j] = sub < del ? (sub < ins ? sub : ins) : (del < ins ? del : ins);
        }
    return d[na][nb];
}

static int write_wav16(const char *path, const float *x, size_t n, int rate)
{
    FILE *f = fopen(path, "wb");
    if (!f)
        return -1;
    unsigned char h[44];
    uint32_t data = (uint32_t)(2 * n);
    const uint32_t v32[] = {36 + data, 16, (uint32_t)rate, (uint32_t)rate * 2u, data};
    memcpy(h, "RIFF", 4);
    memcpy(h + 8, "WAVEfmt ", 8);
    memcpy(h + 36, "data", 4);
    const size_t at32[] = {4, 16, 24, 28, 40};
    for (int k = 0; k < 5; k++)
        for (int b = 0; b < 4; b++)
            h[at32[k] + (size_t)b] = (unsigned char)((v32[k] >> (8 * b)) & 0xff);
    const uint16_t v16[] = {1, 1, 2, 16};
    const size_t at16[] = {20, 22, 32, 34};
    for (int k = 0; k < 4; k++) {
        h[at16[k]] = (unsigned char)(v16[k] & 0xff);
        h[at16[k] + 1] = (unsigned char)(v16[k] >> 8);
    }
    int ok = fwrite(h, 1, 44, f) == 44;
    for (size_t i = 0; i < n && ok; i++) {
        float v = x[i] > 1.0f ? 1.0f : x[i] < -1.0f ? -1.0f : x[i];
        int16_t s = (int16_t)lrintf(v * 32767.0f);
        unsigned char b[2] = {(unsigned char)(s & 0xff), (unsigned char)((s >> 8) & 0xff)};
        ok = fwrite(b, 1, 2, f) == 2;
    }
    return (fclose(f) == 0 && ok) ? 0 : -1;
}

/* Resamples mono float x (rate) to 16 kHz through the library's decoder. */
static int to_16k(const float *x, size_t n, int rate, vx_audio **out)
{
    size_t bytes = 44 + 4 * n;
    unsigned char *w = malloc(bytes);
    if (!w)
        return -1;
    const uint32_t v32[] = {(uint32_t)(36 + 4 * n), 16, (uint32_t)rate, (uint32_t)rate * 4u,
                            (uint32_t)(4 * n)};
    const size_t at32[] = {4, 16, 24, 28, 40};
    memcpy(w, "RIFF", 4);
    memcpy(w + 8, "WAVEfmt ", 8);
    memcpy(w + 36, "data", 4);
    for (int k = 0; k < 5; k++)
        for (int b = 0; b < 4; b++)
            w[at32[k] + (size_t)b] = (unsigned char)((v32[k] >> (8 * b)) & 0xff);
    const uint16_t v16[] = {3, 1, 4, 32};
    const size_t at16[] = {20, 22, 32, 34};
    for (int k = 0; k < 4; k++) {
        w[at16[k]] = (unsigned char)(v16[k] & 0xff);
        w[at16[k] + 1] = (unsigned char)(v16[k] >> 8);
    }
    memcpy(w + 44, x, 4 * n); /* little-endian host (x86-64 / arm64) */
    vx_decode_opts o;
    vx_decode_opts_init(&o);
    o.target_rate_hz = 16000;
    o.min_duration_s = 0.05;
    vx_error e;
    int rc = vx_audio_decode_memory(w, bytes, &o, out, &e);
    free(w);
    return rc == VX_OK ? 0 : -1;
}

/* The base voice: what vx_clone_text synthesises before vx__convert (the
 * voice's fit calibrated for the engine, settings after auto_optimize, the
 * seed of piece 0), resampled to 16 kHz. */
static int base_voice(const vx_voice *voice, const char *text, const vx_settings *s,
                      uint64_t seed, vx_audio **out, char *why, size_t why_cap)
{
    vx_error e;
    char tag[VX__LANG_TAG_MAX + 1], base[8];
    const vx__engine *eng = NULL;
    vx__voice_fit fit, cal;
    vx_settings eff;
    if (vx__lang_normalize("en", tag, base, &e) != VX_OK ||
        !(eng = vx__engine_choose(tag, 0, &e)) ||
        vx_settings_auto_optimize(s, tag, &eff, NULL, &e) != VX_OK ||
        vx__fit_from_analysis(vx_voice_analysis(voice), &fit, &e) != VX_OK ||
        vx__fit_calibrate(eng, tag, base, &fit, &cal, &e) != VX_OK) {
        snprintf(why, why_cap, "%s", e.message);
        return -1;
    }
    vx__pcm pcm;
    memset(&pcm, 0, sizeof pcm);
    if (eng->synth(tag, text, &cal, &eff, vx__mix64(seed ^ vx__mix64(1)), &pcm, &e) != VX_OK) {
        snprintf(why, why_cap, "%s: %s", eng->name, e.message);
        return -1;
    }
    int rc = to_16k(pcm.x, pcm.n, pcm.rate_hz, out);
    if (rc != 0)
        snprintf(why, why_cap, "resampling failed");
    free(pcm.x);
    return rc;
}

typedef struct cond {
    size_t errors, ref_words, n, missing;
} cond;

/* First WAV (by name) of dir into out; 0 on success. */
static int first_wav(const char *dir, char *out, size_t cap)
{
    DIR *d = opendir(dir);
    if (!d)
        return -1;
    char *best = NULL;
    struct dirent *de;
    while ((de = readdir(d))) {
        size_t len = strlen(de->d_name);
        if (de->d_name[0] == '.' || len < 5 || strcmp(de->d_name + len - 4, ".wav") != 0)
            continue;
        if (!best || strcmp(de->d_name, best) < 0) {
            free(best);
            best = strdup(de->d_name);
        }
    }
    closedir(d);
    if (!best)
        return -1;
    snprintf(out, cap, "%s/%s", dir, best);
    free(best);
    return 0;
}

/* Starts args[0] (PATH search, no shell) with stdout/stderr to /dev/null. */
static pid_t spawn(char *const args[])
{
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
    posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
    pid_t pid;
    int rc = posix_spawnp(&pid, args[0], &fa, NULL, args, environ);
    posix_spawn_file_actions_destroy(&fa);
    return rc == 0 ? pid : -1;
}

static int wait_status(pid_t pid)
{
    int st = 0;
    if (waitpid(pid, &st, 0) < 0)
        return -1;
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* Hypothesis of utterance id from the hyp file text ("words (id score)"). */
static const char *find_hyp(char *const *lines, size_t n, const char *id, char *buf, size_t cap)
{
    size_t idl = strlen(id);
    for (size_t i = 0; i < n; i++) {
        char *open = strrchr(lines[i], '(');
        if (!open || strncmp(open + 1, id, idl) != 0 || open[1 + idl] != ' ')
            continue;
        size_t len = (size_t)(open - lines[i]);
        snprintf(buf, cap, "%.*s", (int)len, lines[i]);
        return buf;
    }
    return NULL;
}

int main(int argc, char **argv)
{
    const char *shared = NULL, *ps_prog = "pocketsphinx_batch";
    char spk_arg[1024] = "arctic-slt,fda-rl,libri-1688,vctk-p225";
    long n_sent = (long)N_SENT, seed = 1;
    int keep = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--keep")) {
            keep = 1;
            continue;
        }
        if (!v) {
            fprintf(stderr, "usage: bench_intelligibility [--shared DIR] [--speakers a,b] "
                            "[--sentences N] [--seed N] [--keep] [--pocketsphinx PROG]\n");
            return 2;
        }
        i++;
        if (!strcmp(a, "--shared"))
            shared = v;
        else if (!strcmp(a, "--speakers"))
            snprintf(spk_arg, sizeof spk_arg, "%s", v);
        else if (!strcmp(a, "--pocketsphinx"))
            ps_prog = v;
        else if (!strcmp(a, "--sentences") && vxb_parse_long(v, 1, (long)N_SENT, &n_sent) == 0)
            ;
        else if (!strcmp(a, "--seed") && vxb_parse_long(v, 0, 1000000000L, &seed) == 0)
            ;
        else {
            fprintf(stderr, "bench_intelligibility: bad option %s %s\n", a, v);
            return 2;
        }
    }
    shared = vxb_shared_dir(shared);

    char *spk[MAX_SPK];
    size_t n_spk = 0;
    for (char *tok = strtok(spk_arg, ","); tok && n_spk < MAX_SPK; tok = strtok(NULL, ","))
        spk[n_spk++] = tok;

    char dir[] = "/tmp/vx_intel_XXXXXX";
    if (!mkdtemp(dir)) {
        fprintf(stderr, "bench_intelligibility: mkdtemp: %s\n", strerror(errno));
        return 1;
    }
    char ctl[256], hyp[256], path[1200];
    snprintf(ctl, sizeof ctl, "%s/list.ctl", dir);
    snprintf(hyp, sizeof hyp, "%s/out.hyp", dir);
    FILE *fc = fopen(ctl, "w");
    if (!fc) {
        fprintf(stderr, "bench_intelligibility: cannot write %s\n", ctl);
        return 1;
    }
    printf("bench_intelligibility: %ld sentences x %zu speakers, files in %s\n", n_sent, n_spk,
           dir);

    vx_settings set;
    vx_settings_defaults(&set);
    set.sample_rate_hz = 16000;
    int spk_ok[MAX_SPK] = {0};
    char engine[16] = "?";
    double audio_s[2] = {0, 0};
    for (size_t s = 0; s < n_spk; s++) {
        char sdir[1024], ref[1200];
        snprintf(sdir, sizeof sdir, "%s/evaldata/speakers/%s", shared, spk[s]);
        if (first_wav(sdir, ref, sizeof ref) != 0) {
            fprintf(stderr, "bench_intelligibility: no WAV in %s (skipped)\n", sdir);
            continue;
        }
        vx_voice *voice = NULL;
        vx_error e;
        if (vx_voice_from_file(ref, &voice, &e) != VX_OK) {
            fprintf(stderr, "bench_intelligibility: voice %s: %s (skipped)\n", ref, e.message);
            continue;
        }
        spk_ok[s] = 1;
        /* converted: through the pipeline, VX_PIPELINE_MAX_TARGETS sentences a run */
        for (long c0 = 0; c0 < n_sent; c0 += VX_PIPELINE_MAX_TARGETS) {
            size_t nc = (size_t)(n_sent - c0 < VX_PIPELINE_MAX_TARGETS ? n_sent - c0
                                                                       : VX_PIPELINE_MAX_TARGETS);
            vx_pipeline_target tg[VX_PIPELINE_MAX_TARGETS] = {{0}};
            for (size_t k = 0; k < nc; k++) {
                tg[k].language = "en";
                tg[k].text = k_sentences[c0 + (long)k];
            }
            vx_pipeline_result *res = NULL;
            if (vx_pipeline_run(voice, &set, tg, nc, (uint64_t)seed + (uint64_t)c0, NULL, NULL,
                                &res, &e) != VX_OK) {
                fprintf(stderr, "bench_intelligibility: %s: %s\n", spk[s], e.message);
                continue;
            }
            for (size_t k = 0; k < nc; k++) {
                const vx_pipeline_item *it = &res->items[k];
                long i = c0 + (long)k;
                if (it->status == VX_OK) {
                    const vx_clone_result *r = it->clone;
                    snprintf(path, sizeof path, "%s/c_%zu_%03ld.wav", dir, s, i);
                    if (write_wav16(path, r->samples, r->n_samples, r->rate_hz) == 0)
                        fprintf(fc, "c_%zu_%03ld\n", s, i);
                    snprintf(engine, sizeof engine, "%s", r->engine);
                    audio_s[0] += r->duration_s;
                } else {
                    fprintf(stderr, "bench_intelligibility: %s sentence %ld: %s\n", spk[s], i,
                            it->error.message);
                }
                /* base voice with the same seed */
                vx_audio *b = NULL;
                char why[512];
                if (base_voice(voice, k_sentences[i], &set, it->seed, &b, why, sizeof why) == 0) {
                    snprintf(path, sizeof path, "%s/b_%zu_%03ld.wav", dir, s, i);
                    if (write_wav16(path, b->samples, b->n_samples, b->sample_rate_hz) == 0)
                        fprintf(fc, "b_%zu_%03ld\n", s, i);
                    audio_s[1] += (double)b->n_samples / b->sample_rate_hz;
                } else {
                    fprintf(stderr, "bench_intelligibility: %s sentence %ld: base voice: %s\n",
                            spk[s], i, why);
                }
                vx_audio_free(b);
            }
            vx_pipeline_result_free(res);
        }
        vx_voice_free(voice);
    }
    fclose(fc);

    /* two recogniser processes (one per core), each on half of the list */
    size_t n_ctl = 0;
    {
        FILE *fr = fopen(ctl, "r");
        char l2[256];
        while (fr && fgets(l2, sizeof l2, fr))
            n_ctl++;
        if (fr)
            fclose(fr);
    }
    double t_ps = vxb_now_s();
    pid_t pids[2] = {-1, -1};
    char hyps[2][300];
    for (int h = 0; h < 2; h++) {
        char off[32], cnt[32];
        size_t o = h == 0 ? 0 : n_ctl / 2, c = h == 0 ? n_ctl / 2 : n_ctl - n_ctl / 2;
        snprintf(off, sizeof off, "%zu", o);
        snprintf(cnt, sizeof cnt, "%zu", c);
        snprintf(hyps[h], sizeof hyps[h], "%s.%d", hyp, h);
        if (c == 0)
            continue;
        char *const args[] = {(char *)ps_prog,
                              "-hmm", PS_MODEL "/en-us",
                              "-lm", PS_MODEL "/en-us.lm.bin",
                              "-dict", PS_MODEL "/cmudict-en-us.dict",
                              "-ctl", ctl,
                              "-ctloffset", off,
                              "-ctlcount", cnt,
                              "-cepdir", dir,
                              "-cepext", ".wav",
                              "-adcin", "yes",
                              "-adchdr", "44",
                              "-samprate", "16000",
                              "-hyp", hyps[h],
                              "-logfn", "/dev/null",
                              NULL};
        pids[h] = spawn(args);
        if (pids[h] < 0) {
            fprintf(stderr, "bench_intelligibility: cannot start %s: is pocketsphinx "
                            "installed (Debian: pocketsphinx, pocketsphinx-en-us)?\n",
                    ps_prog);
            return 1;
        }
    }
    for (int h = 0; h < 2; h++) {
        int st = pids[h] < 0 ? 0 : wait_status(pids[h]);
        if (st != 0) {
            fprintf(stderr, "bench_intelligibility: %s failed (status %d)\n", ps_prog, st);
            return 1;
        }
    }
    t_ps = vxb_now_s() - t_ps;
    /* read the hypotheses */
    char **lines = NULL;
    size_t n_lines = 0, cap_lines = 0;
    for (int h = 0; h < 2; h++) {
        FILE *fh = fopen(hyps[h], "r");
        if (!fh)
            continue;
        char line[4096];
        while (fgets(line, sizeof line, fh)) {
            if (n_lines == cap_lines) {
                cap_lines = cap_lines ? 2 * cap_lines : 256;
                char **nl = realloc(lines, cap_lines * sizeof *lines);
                if (!nl)
                    return 1;
                lines = nl;
            }
            lines[n_lines++] = strdup(line);
        }
        fclose(fh);
    }

    cond c[2][MAX_SPK + 1];
    memset(c, 0, sizeof c);
    const char pre[2] = {'c', 'b'};
    for (size_t s = 0; s < n_spk; s++) {
        if (!spk_ok[s])
            continue;
        for (long i = 0; i < n_sent; i++) {
            char rw[MAX_WORDS][32], hw[MAX_WORDS][32];
            size_t nr = words(k_sentences[i], rw, MAX_WORDS);
            for (int k = 0; k < 2; k++) {
                char id[64], buf[4096];
                snprintf(id, sizeof id, "%c_%zu_%03ld", pre[k], s, i);
                const char *h = find_hyp(lines, n_lines, id, buf, sizeof buf);
                size_t nh = h ? words(h, hw, MAX_WORDS) : 0;
                size_t ed = edit_distance(rw, nr, hw, nh);
                cond *cs[2] = {&c[k][s], &c[k][MAX_SPK]};
                for (int z = 0; z < 2; z++) {
                    cs[z]->errors += ed;
                    cs[z]->ref_words += nr;
                    cs[z]->n++;
                    cs[z]->missing += h == NULL;
                }
            }
        }
    }
    printf("\nWER (pocketsphinx en-us, %ld sentences per speaker; English engine: %s)\n", n_sent,
           engine);
    printf("%-24s %10s %10s %8s\n", "speaker", "converted", "base", "diff");
    for (size_t s = 0; s <= n_spk; s++) {
        size_t k = s == n_spk ? MAX_SPK : s;
        if (s < n_spk && !spk_ok[s])
            continue;
        double wc = c[0][k].ref_words ? 100.0 * c[0][k].errors / c[0][k].ref_words : NAN;
        double wb = c[1][k].ref_words ? 100.0 * c[1][k].errors / c[1][k].ref_words : NAN;
        printf("%-24s %9.1f%% %9.1f%% %+7.1f\n", s == n_spk ? "all" : spk[s], wc, wb, wc - wb);
    }
    const cond *tc = &c[0][MAX_SPK], *tb = &c[1][MAX_SPK];
    double wc = tc->ref_words ? 100.0 * tc->errors / tc->ref_words : NAN;
    double wb = tb->ref_words ? 100.0 * tb->errors / tb->ref_words : NAN;
    printf("missing hypotheses: converted %zu, base %zu; audio %.1f s converted, %.1f s base; "
           "recognition %.1f s\n",
           tc->missing, tb->missing, audio_s[0], audio_s[1], t_ps);
    printf("goal: converted WER no more than 10 points above base: %s (%+.1f points)\n",
           wc - wb <= 10.0 ? "met" : "NOT met", wc - wb);
    printf("{\"bench\":\"intelligibility\",\"recogniser\":\"pocketsphinx_batch en-us\","
           "\"sentences\":%ld,\"speakers\":[",
           n_sent);
    int first = 1;
    for (size_t s = 0; s < n_spk; s++)
        if (spk_ok[s]) {
            printf("%s\"%s\"", first ? "" : ",", spk[s]);
            first = 0;
        }
    printf("],\"engine\":\"%s\",\"wer_converted_pct\":%.2f,\"wer_base_pct\":%.2f,"
           "\"diff_points\":%.2f,\"goal_met\":%s,\"ref_words\":%zu}\n",
           engine, wc, wb, wc - wb, wc - wb <= 10.0 ? "true" : "false", tc->ref_words);

    for (size_t i = 0; i < n_lines; i++)
        free(lines[i]);
    free(lines);
    if (!keep) {
        for (size_t s = 0; s < n_spk; s++)
            for (long i = 0; i < n_sent; i++)
                for (int k = 0; k < 2; k++) {
                    snprintf(path, sizeof path, "%s/%c_%zu_%03ld.wav", dir, pre[k], s, i);
                    unlink(path);
                }
        unlink(ctl);
        unlink(hyps[0]);
        unlink(hyps[1]);
        rmdir(dir);
    } else {
        printf("files kept in %s\n", dir);
    }
    return 0;
}
