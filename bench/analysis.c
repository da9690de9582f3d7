/*
 * analysis.c -- bench_analysis: speed and memory of the whole analysis
 * (decode + resample + pYIN + MFCC + spectral centroid, i.e. vx_analyze_file).
 *
 *   bench_analysis [--threads N] [--seconds S] [--rss-seconds S]
 *                  [--shared DIR] [--librosa-ref SCRIPT] [FILE]
 *
 * Without FILE the input is built: real speech WAVs of DIR/evaldata/speakers
 * at 16 kHz, concatenated to S seconds (default 150) and written to a 16-bit
 * WAV under /tmp at 16 kHz, so the timed path includes the resampling to
 * 22050 Hz.  Without DIR/evaldata a synthetic harmonic signal with pitch
 * glides and noise is used instead (and the output says so).
 *
 * Measures, best of 3 runs each, wall clock (CLOCK_MONOTONIC): seconds of
 * compute per second of audio and the x-real-time factor, with 1 thread and
 * with N threads (default 0 = one per online CPU).  Peak RSS: one run on a
 * 10-minute file (the same audio repeated) in a forked child, ru_maxrss.
 * librosa: runs `python3 SCRIPT FILE` (bench/librosa_ref.py); when librosa is
 * not importable, the reference figure is printed, labelled as such.
 *
 * DESIGN: the 10-minute file is written in a streaming way and every large
 * buffer is freed before the RSS child is forked, so the child's peak is the
 * analysis's own (the RSS it inherits at fork is reported beside it).  The
 * RSS run comes before the timing runs for the same reason.
 */
#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <fftw3.h>
#include <jansson.h>

#include "bench_util.h"
#include "voxclone/voxclone.h"

#define NATIVE_RATE_HZ 16000
#define DEFAULT_SECONDS 150.0
#define DEFAULT_RSS_SECONDS 600.0
#define N_RUNS 3
/* decode limit used by every run of this bench (the default 600 s would
 * refuse a 10-minute file that rounds up by a sample) */
#define BENCH_MAX_DURATION_S 7200.0
/* librosa 0.11 on this machine, from the issue (not measured here) */
#define LIBROSA_REF_S_PER_S 0.065
#define LIBROSA_REF_PYIN_S_PER_S 0.060
#define PY_OUT_CAP 65536
#define PI 3.14159265358979323846

typedef struct fbuf {
    float *s;
    size_t n, cap;
} fbuf;

static int fbuf_append(fbuf *b, const float *x, size_t n)
{
    if (n > SIZE_MAX / sizeof(float) - b->n)
        return -1;
    if (b->n + n > b->cap) {
        size_t cap = b->cap ? b->cap : 65536;
        while (cap < b->n + n)
            cap *= 2;
        float *p = realloc(b->s, cap * sizeof *p);
        if (!p)
            return -1;
        b->s = p;
        b->cap = cap;
    }
    memcpy(b->s + b->n, x, n * sizeof *x);
    b->n += n;
    return 0;
}

/* ------------------------------------------------------------------ */
/* WAV writing (16-bit PCM mono), streaming                            */
/* ------------------------------------------------------------------ */
static void put_le(unsigned char *p, uint32_t v, int nbytes)
{
    for (int i = 0; i < nbytes; i++)
        p[i] = (unsigned char)(v >> (8 * i));
}

static int wav_write_header(FILE *f, uint32_t n_samples, int rate_hz)
{
    unsigned char h[44];
    uint32_t data_bytes = n_samples * 2u;
    memcpy(h, "RIFF", 4);
    put_le(h + 4, 36u + data_bytes, 4);
    memcpy(h + 8, "WAVEfmt ", 8);
    put_le(h + 16, 16, 4);
    put_le(h + 20, 1, 2); /* PCM */
    put_le(h + 22, 1, 2); /* mono */
    put_le(h + 24, (uint32_t)rate_hz, 4);
    put_le(h + 28, (uint32_t)rate_hz * 2u, 4);
    put_le(h + 32, 2, 2);
    put_le(h + 34, 16, 2);
    memcpy(h + 36, "data", 4);
    put_le(h + 40, data_bytes, 4);
    return fwrite(h, 1, sizeof h, f) == sizeof h ? 0 : -1;
}

static int wav_write_samples(FILE *f, const float *x, size_t n)
{
    unsigned char out[8192];
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        float v = x[i];
        v = v > 1.0f ? 1.0f : (v < -1.0f ? -1.0f : v);
        long q = lrintf(v * 32767.0f);
        put_le(out + k, (uint32_t)(uint16_t)(int16_t)q, 2);
        k += 2;
        if (k == sizeof out) {
            if (fwrite(out, 1, k, f) != k)
                return -1;
            k = 0;
        }
    }
    return k == 0 || fwrite(out, 1, k, f) == k ? 0 : -1;
}

/* Writes n_total samples: src repeated cyclically (src_n > 0). */
static int wav_write_repeated(const char *path, const float *src, size_t src_n, size_t n_total,
                              int rate_hz)
{
    if (n_total > UINT32_MAX / 2u - 64u) {
        fprintf(stderr, "bench_analysis: %s: %zu samples do not fit a WAV\n", path, n_total);
        return -1;
    }
    FILE *f = fopen(path, "wb");
    if (!f) {
        fprintf(stderr, "bench_analysis: cannot create %s: %s\n", path, strerror(errno));
        return -1;
    }
    int rc = wav_write_header(f, (uint32_t)n_total, rate_hz);
    for (size_t done = 0; rc == 0 && done < n_total;) {
        size_t k = n_total - done < src_n ? n_total - done : src_n;
        rc = wav_write_samples(f, src, k);
        done += k;
    }
    if (fclose(f) != 0)
        rc = -1;
    if (rc != 0)
        fprintf(stderr, "bench_analysis: write error on %s\n", path);
    return rc;
}

/* ------------------------------------------------------------------ */
/* Input audio                                                         */
/* ------------------------------------------------------------------ */
static int not_dot(const struct dirent *d)
{
    return d->d_name[0] != '.';
}

static void free_dirents(struct dirent **v, int n)
{
    for (int i = 0; i < n; i++)
        free(v[i]);
    free(v);
}

/* Appends the native-rate samples of path to b when the file is at rate_hz
 * (any rate when 0; *got_rate receives it).  Returns 1 when used, 0 when
 * skipped (other rate), -1 on error. */
static int append_decoded(const char *path, int rate_hz, fbuf *b, int *got_rate)
{
    vx_decode_opts d;
    vx_decode_opts_init(&d);
    d.target_rate_hz = 0;
    d.min_duration_s = 0.0;
    d.max_duration_s = BENCH_MAX_DURATION_S;
    vx_audio *au = NULL;
    vx_error e;
    int rc = vx_audio_decode_file(path, &d, &au, &e);
    if (rc != VX_OK) {
        fprintf(stderr, "bench_analysis: %s: %s\n", path, e.message);
        return -1;
    }
    int used = 0;
    if (rate_hz == 0 || au->sample_rate_hz == rate_hz)
        used = fbuf_append(b, au->samples, au->n_samples) == 0 ? 1 : -1;
    if (got_rate)
        *got_rate = au->sample_rate_hz;
    vx_audio_free(au);
    return used;
}

/* Real speech: 16 kHz WAVs of shared/evaldata/speakers in name order until
 * `seconds` are gathered.  Returns the number of files used (0 when the
 * directory is missing or holds no 16 kHz WAV), -1 on error. */
static int gather_speech(const char *shared, double seconds, fbuf *b)
{
    char dir[1024];
    snprintf(dir, sizeof dir, "%s/evaldata/speakers", shared);
    struct dirent **spk = NULL;
    int n_spk = scandir(dir, &spk, not_dot, alphasort);
    if (n_spk < 0)
        return 0;
    size_t need = (size_t)ceil(seconds * NATIVE_RATE_HZ);
    int used = 0;
    for (int i = 0; i < n_spk && b->n < need && used >= 0; i++) {
        char sdir[1536];
        snprintf(sdir, sizeof sdir, "%s/%s", dir, spk[i]->d_name);
        struct dirent **wav = NULL;
        int n_wav = scandir(sdir, &wav, vxb_is_wav, alphasort);
        for (int j = 0; j < n_wav && b->n < need; j++) {
            char path[2048];
            snprintf(path, sizeof path, "%s/%s", sdir, wav[j]->d_name);
            int r = append_decoded(path, NATIVE_RATE_HZ, b, NULL);
            if (r < 0) {
                used = -1;
                break;
            }
            used += r;
        }
        if (n_wav > 0)
            free_dirents(wav, n_wav);
    }
    free_dirents(spk, n_spk);
    return used;
}

/* Deterministic uniform noise in [-1, 1). */
static float lcg_noise(uint32_t *st)
{
    *st = *st * 1664525u + 1013904223u;
    return (float)((double)(*st >> 8) / 8388608.0 - 1.0);
}

/* Synthetic stand-in for speech: 2 s segments of 1.6 s voiced sound (15
 * harmonics at 1/k, f0 gliding up and back down by 1.5 octaves from a base
 * of 90..170 Hz, plus light noise) and 0.4 s of noise only. */
static int synth_signal(double seconds, fbuf *b)
{
    size_t n = (size_t)ceil(seconds * NATIVE_RATE_HZ);
    float *x = malloc(n * sizeof *x);
    if (!x)
        return -1;
    uint32_t st = 12345u;
    double phase = 0.0;
    const double seg = 2.0, voiced = 1.6;
    for (size_t i = 0; i < n; i++) {
        double t = (double)i / NATIVE_RATE_HZ;
        long k_seg = (long)(t / seg);
        double ts = t - (double)k_seg * seg;
        double v = 0.0;
        if (ts < voiced) {
            double base = 90.0 + 20.0 * (double)(k_seg % 5);
            double f0 = base * pow(2.0, 1.5 * 0.5 * (1.0 - cos(2.0 * PI * ts / voiced)));
            phase += 2.0 * PI * f0 / NATIVE_RATE_HZ;
            if (phase > 2.0 * PI)
                phase -= 2.0 * PI;
            for (int h = 1; h <= 15 && h * f0 < 7000.0; h++)
                v += 0.3 / h * sin(h * phase);
            v += 0.01 * lcg_noise(&st);
        } else {
            phase = 0.0;
            v = 0.02 * lcg_noise(&st);
        }
        x[i] = (float)v;
    }
    free(b->s);
    b->s = x;
    b->n = b->cap = n;
    return 0;
}

/* ------------------------------------------------------------------ */
/* Measurements                                                        */
/* ------------------------------------------------------------------ */
static void bench_opts(vx_analysis_opts *o, int n_threads)
{
    vx_analysis_opts_init(o);
    o->n_threads = n_threads;
    o->decode.min_duration_s = 0.0;
    o->decode.max_duration_s = BENCH_MAX_DURATION_S;
}

typedef struct run_info {
    double audio_s, pitch_mean_hz;
    size_t n_frames, n_voiced;
} run_info;

/* Best-of-N_RUNS wall time and CPU time (all threads) of vx_analyze_file;
 * *info from the last result. */
static int time_runs(const char *path, int n_threads, double *best_s, double *best_cpu_s,
                     run_info *info)
{
    vx_analysis_opts o;
    bench_opts(&o, n_threads);
    *best_s = INFINITY;
    *best_cpu_s = INFINITY;
    for (int r = 0; r < N_RUNS; r++) {
        vx_analysis *a = NULL;
        vx_error e;
        double c0 = vxb_cpu_s();
        double t0 = vxb_now_s();
        int rc = vx_analyze_file(path, &o, &a, &e);
        double dt = vxb_now_s() - t0;
        double dc = vxb_cpu_s() - c0;
        if (rc != VX_OK) {
            fprintf(stderr, "bench_analysis: %s: %s (%s)\n", path, e.message, vx_status_name(rc));
            return -1;
        }
        info->audio_s = a->duration_s;
        info->pitch_mean_hz = a->pitch_mean_hz;
        info->n_frames = a->n_frames;
        info->n_voiced = a->n_voiced;
        vx_analysis_free(a);
        if (dt < *best_s)
            *best_s = dt;
        if (dc < *best_cpu_s)
            *best_cpu_s = dc;
    }
    return 0;
}

/* The part of the work done by Debian's libraries, not by voxclone's code:
 * (1) decode + soxr HQ resample alone (vx_audio_decode_file: libsndfile and
 * soxr, best of N_RUNS) and (2) the FFTW transforms the analysis makes, run
 * bare on the decoded audio: per frame one 2048-point r2c (STFT), per hop
 * one 1024-point r2c and one 1024-point complex inverse (pYIN's
 * autocorrelation blocks), FFTW_ESTIMATE plans as in the library.  Their
 * sum bounds from below what any implementation on these libraries costs.
 * Timed in CPU seconds of this (single-threaded) process, which other work
 * on the machine inflates less than the wall clock. */
static int measure_floor(const char *path, size_t n_frames, double *decode_s, double *fft_s)
{
    vx_decode_opts o;
    vx_decode_opts_init(&o);
    o.min_duration_s = 0.0;
    o.max_duration_s = BENCH_MAX_DURATION_S;
    *decode_s = *fft_s = INFINITY;
    vx_audio *au = NULL;
    for (int r = 0; r < N_RUNS; r++) {
        vx_error e;
        vx_audio_free(au);
        au = NULL;
        double t0 = vxb_cpu_s();
        int rc = vx_audio_decode_file(path, &o, &au, &e);
        double dt = vxb_cpu_s() - t0;
        if (rc != VX_OK) {
            fprintf(stderr, "bench_analysis: %s: %s (%s)\n", path, e.message, vx_status_name(rc));
            return -1;
        }
        if (dt < *decode_s)
            *decode_s = dt;
    }
    float *in = fftwf_alloc_real(2048);
    fftwf_complex *spec = fftwf_alloc_complex(1025);
    fftwf_complex *cin = fftwf_alloc_complex(1024), *cout = fftwf_alloc_complex(1024);
    fftwf_plan p2048 = NULL, p1024 = NULL, pinv = NULL;
    int rc = -1;
    if (in && spec && cin && cout) {
        p2048 = fftwf_plan_dft_r2c_1d(2048, in, spec, FFTW_ESTIMATE);
        p1024 = fftwf_plan_dft_r2c_1d(1024, in, spec, FFTW_ESTIMATE);
        pinv = fftwf_plan_dft_1d(1024, cin, cout, FFTW_BACKWARD, FFTW_ESTIMATE);
    }
    if (p2048 && p1024 && pinv) {
        memset(cin, 0, 1024 * sizeof *cin);
        for (int r = 0; r < N_RUNS; r++) {
            double t0 = vxb_cpu_s();
            for (size_t f = 0; f < n_frames; f++) {
                size_t at = f * 512;
                size_t k = at < au->n_samples ? au->n_samples - at : 0;
                k = k > 2048 ? 2048 : k;
                memcpy(in, au->samples + at, k * sizeof *in);
                memset(in + k, 0, (2048 - k) * sizeof *in);
                fftwf_execute_dft_r2c(p2048, in, spec);
                memset(in + 512, 0, 512 * sizeof *in);
                fftwf_execute_dft_r2c(p1024, in, spec);
                memcpy(cin, spec, 512 * sizeof *cin);
                fftwf_execute_dft(pinv, cin, cout);
            }
            double dt = vxb_cpu_s() - t0;
            if (dt < *fft_s)
                *fft_s = dt;
        }
        rc = 0;
    } else {
        fprintf(stderr, "bench_analysis: FFTW plans for the floor measurement failed\n");
    }
    if (p2048)
        fftwf_destroy_plan(p2048);
    if (p1024)
        fftwf_destroy_plan(p1024);
    if (pinv)
        fftwf_destroy_plan(pinv);
    fftwf_free(in);
    fftwf_free(spec);
    fftwf_free(cin);
    fftwf_free(cout);
    vx_audio_free(au);
    return rc;
}

typedef struct rss_msg {
    int rc;
    double wall_s, audio_s;
    long maxrss_before_kb, maxrss_after_kb;
    char message[256];
} rss_msg;

/* One analysis of path in a forked child; its peak RSS via ru_maxrss. */
static int measure_rss(const char *path, int n_threads, rss_msg *m)
{
    int fd[2];
    if (pipe(fd) != 0)
        return -1;
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0) {
        close(fd[0]);
        close(fd[1]);
        return -1;
    }
    if (pid == 0) {
        close(fd[0]);
        rss_msg c;
        memset(&c, 0, sizeof c);
        struct rusage ru;
        getrusage(RUSAGE_SELF, &ru);
        c.maxrss_before_kb = ru.ru_maxrss;
        vx_analysis_opts o;
        bench_opts(&o, n_threads);
        vx_analysis *a = NULL;
        vx_error e;
        double t0 = vxb_now_s();
        c.rc = vx_analyze_file(path, &o, &a, &e);
        c.wall_s = vxb_now_s() - t0;
        if (c.rc == VX_OK)
            c.audio_s = a->duration_s;
        else
            snprintf(c.message, sizeof c.message, "%s", e.message);
        vx_analysis_free(a);
        getrusage(RUSAGE_SELF, &ru);
        c.maxrss_after_kb = ru.ru_maxrss;
        ssize_t w = write(fd[1], &c, sizeof c);
        _exit(w == (ssize_t)sizeof c ? 0 : 1);
    }
    close(fd[1]);
    size_t got = 0;
    while (got < sizeof *m) {
        ssize_t r = read(fd[0], (char *)m + got, sizeof *m - got);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break;
        got += (size_t)r;
    }
    close(fd[0]);
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
        ;
    if (got != sizeof *m || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        fprintf(stderr, "bench_analysis: RSS child failed (status 0x%x)\n", (unsigned)status);
        return -1;
    }
    return 0;
}

typedef struct librosa_result {
    int measured;       /* 1 = measured in this run */
    double s_per_s, pyin_s_per_s;
    char python[256];   /* interpreter that ran it */
    char why[256];      /* why it was not measured */
} librosa_result;

/* Runs `python script file`; returns the child's exit code (or -1), with
 * its stdout (NUL-terminated, capped) in out. */
static int run_python(const char *python, const char *script, const char *file, char *out,
                      size_t cap)
{
    int fd[2];
    if (pipe(fd) != 0)
        return -1;
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0) {
        close(fd[0]);
        close(fd[1]);
        return -1;
    }
    if (pid == 0) {
        close(fd[0]);
        if (dup2(fd[1], STDOUT_FILENO) < 0)
            _exit(127);
        close(fd[1]);
        execlp(python, python, script, file, (char *)NULL);
        _exit(127);
    }
    close(fd[1]);
    size_t got = 0;
    for (;;) {
        char tmp[4096];
        ssize_t r = read(fd[0], tmp, sizeof tmp);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break;
        size_t k = (size_t)r;
        if (k > cap - 1 - got)
            k = cap - 1 - got; /* keep draining, drop the excess */
        memcpy(out + got, tmp, k);
        got += k;
    }
    out[got] = '\0';
    close(fd[0]);
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
        ;
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static void run_librosa(const char *script, const char *file, librosa_result *lr)
{
    memset(lr, 0, sizeof *lr);
    const char *env = getenv("VX_PYTHON");
    const char *cands[2] = {"python3", "/usr/bin/python3"};
    int n_cands = 2;
    if (env && *env) {
        cands[0] = env;
        n_cands = 1;
    }
    char *out = malloc(PY_OUT_CAP);
    if (!out) {
        snprintf(lr->why, sizeof lr->why, "out of memory");
        return;
    }
    struct stat st;
    if (stat(script, &st) != 0) {
        snprintf(lr->why, sizeof lr->why, "%s not found", script);
        free(out);
        return;
    }
    size_t wl = 0;
    for (int i = 0; i < n_cands && !lr->measured; i++) {
        int rc = run_python(cands[i], script, file, out, PY_OUT_CAP);
        const char *reason = NULL;
        if (rc == 0) {
            /* the JSON is the last non-empty line */
            char *last = out;
            for (char *p = out; *p; p++)
                if (*p == '\n' && p[1] != '\0' && p[1] != '\n')
                    last = p + 1;
            json_error_t je;
            json_t *j = json_loads(last, JSON_DISABLE_EOF_CHECK, &je);
            json_t *sps = j ? json_object_get(j, "s_per_audio_s") : NULL;
            json_t *pps = j ? json_object_get(j, "pyin_s_per_audio_s") : NULL;
            if (json_is_number(sps)) {
                lr->measured = 1;
                lr->s_per_s = json_number_value(sps);
                lr->pyin_s_per_s = json_is_number(pps) ? json_number_value(pps) : NAN;
                snprintf(lr->python, sizeof lr->python, "%s", cands[i]);
            } else {
                reason = "printed no usable JSON";
            }
            json_decref(j);
        } else if (rc == 3) {
            reason = "librosa not importable";
        } else if (rc == 127) {
            reason = "interpreter not found";
        } else {
            reason = "failed";
        }
        if (reason && wl < sizeof lr->why) {
            int w = snprintf(lr->why + wl, sizeof lr->why - wl, "%s%s: %s", wl ? "; " : "",
                             cands[i], reason);
            if (w > 0)
                wl += (size_t)w;
        }
    }
    free(out);
}

/* ------------------------------------------------------------------ */
/* main                                                                */
/* ------------------------------------------------------------------ */
static void usage(FILE *f)
{
    fprintf(f,
            "usage: bench_analysis [--threads N] [--seconds S] [--rss-seconds S]\n"
            "                      [--shared DIR] [--librosa-ref SCRIPT] [FILE]\n"
            "\n"
            "Times vx_analyze_file (decode + resample + pYIN + MFCC + centroid).\n"
            "  FILE               audio to time; default: S seconds of 16 kHz speech from\n"
            "                     DIR/evaldata/speakers written to a WAV under /tmp\n"
            "  --threads N        the multi-thread configuration (default 0 = all cores);\n"
            "                     1 thread is always measured\n"
            "  --seconds S        length of the built input (default 150)\n"
            "  --rss-seconds S    length of the peak-RSS file (default 600; 0 = skip)\n"
            "  --shared DIR       the shared data dir (default $VX_SHARED_DIR or ../shared)\n"
            "  --librosa-ref P    librosa timing script (default bench/librosa_ref.py);\n"
            "                     interpreter: $VX_PYTHON, else python3 then /usr/bin/python3\n");
}

static int parse_double(const char *s, double lo, double hi, double *out)
{
    char *end = NULL;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || end == s || *end || !(v >= lo && v <= hi))
        return -1;
    *out = v;
    return 0;
}

static int cpus_online(void)
{
    long c = sysconf(_SC_NPROCESSORS_ONLN);
    return c > 0 ? (int)c : 1;
}

/* The 1-minute load average, or NAN (Linux /proc only). */
static double load_1min(void)
{
    double l = NAN;
    FILE *f = fopen("/proc/loadavg", "r");
    if (f) {
        if (fscanf(f, "%lf", &l) != 1)
            l = NAN;
        fclose(f);
    }
    return l;
}

static void remove_tmp(const char *dir, const char *f1, const char *f2)
{
    if (f1[0])
        unlink(f1);
    if (f2[0])
        unlink(f2);
    if (dir[0])
        rmdir(dir);
}

int main(int argc, char **argv)
{
    double threads_d = 0.0, seconds = DEFAULT_SECONDS, rss_seconds = DEFAULT_RSS_SECONDS;
    const char *shared = vxb_shared_dir(NULL);
    const char *script = "bench/librosa_ref.py";
    const char *file = NULL;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        int has_val = i + 1 < argc;
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            usage(stdout);
            return 0;
        } else if (!strcmp(a, "--threads") && has_val) {
            if (parse_double(argv[++i], 0, 64, &threads_d) || threads_d != floor(threads_d)) {
                fprintf(stderr, "bench_analysis: --threads must be an integer 0..64\n");
                return 2;
            }
        } else if (!strcmp(a, "--seconds") && has_val) {
            if (parse_double(argv[++i], 1.0, 3600.0, &seconds)) {
                fprintf(stderr, "bench_analysis: --seconds must be in 1..3600\n");
                return 2;
            }
        } else if (!strcmp(a, "--rss-seconds") && has_val) {
            if (parse_double(argv[++i], 0.0, 3600.0, &rss_seconds)) {
                fprintf(stderr, "bench_analysis: --rss-seconds must be in 0..3600\n");
                return 2;
            }
        } else if (!strcmp(a, "--shared") && has_val) {
            shared = argv[++i];
        } else if (!strcmp(a, "--librosa-ref") && has_val) {
            script = argv[++i];
        } else if (a[0] == '-' || file) {
            usage(stderr);
            return 2;
        } else {
            file = a;
        }
    }
    const int n_cpus = cpus_online();
    const int multi = (int)threads_d;
    const int multi_eff = multi == 0 ? (n_cpus < 64 ? n_cpus : 64) : multi;

    char tmpdir[] = "/tmp/vx_bench_XXXXXX";
    char timed_path[256] = "", rss_path[256] = "";
    if (!mkdtemp(tmpdir)) {
        fprintf(stderr, "bench_analysis: mkdtemp: %s\n", strerror(errno));
        return 1;
    }

    /* ---- input audio ---- */
    fbuf speech = {0};
    int rate = NATIVE_RATE_HZ;
    char source[512];
    const char *kind;
    if (file) {
        if (append_decoded(file, 0, &speech, &rate) <= 0 || speech.n == 0) {
            free(speech.s);
            remove_tmp(tmpdir, timed_path, rss_path);
            return 1;
        }
        snprintf(source, sizeof source, "%s (%d Hz native)", file, rate);
        kind = "file";
    } else {
        int n_files = gather_speech(shared, seconds, &speech);
        if (n_files < 0) {
            free(speech.s);
            remove_tmp(tmpdir, timed_path, rss_path);
            return 1;
        }
        if (n_files > 0) {
            snprintf(source, sizeof source, "real speech: %d WAVs (16 kHz) from %s/evaldata/speakers",
                     n_files, shared);
            kind = "speech";
        } else {
            printf("NOTE: %s/evaldata/speakers not found or empty: using a SYNTHETIC harmonic\n"
                   "      signal with pitch glides and noise instead of real speech.\n",
                   shared);
            if (synth_signal(seconds, &speech) != 0) {
                remove_tmp(tmpdir, timed_path, rss_path);
                return 1;
            }
            snprintf(source, sizeof source, "SYNTHETIC harmonic glides + noise (no %s/evaldata)",
                     shared);
            kind = "synthetic";
        }
        snprintf(timed_path, sizeof timed_path, "%s/input_%.0fs.wav", tmpdir, seconds);
        size_t n = (size_t)ceil(seconds * NATIVE_RATE_HZ);
        if (wav_write_repeated(timed_path, speech.s, speech.n, n, NATIVE_RATE_HZ) != 0) {
            free(speech.s);
            remove_tmp(tmpdir, timed_path, rss_path);
            return 1;
        }
    }
    if (rss_seconds > 0) {
        snprintf(rss_path, sizeof rss_path, "%s/rss_%.0fs.wav", tmpdir, rss_seconds);
        size_t n = (size_t)ceil(rss_seconds * rate);
        if (wav_write_repeated(rss_path, speech.s, speech.n, n, rate) != 0) {
            free(speech.s);
            remove_tmp(tmpdir, timed_path, rss_path);
            return 1;
        }
    }
    free(speech.s);
    speech.s = NULL;
    const char *input = file ? file : timed_path;

    printf("bench_analysis -- vx_analyze_file: decode + resample to 22050 Hz + pYIN + MFCC + "
           "centroid\n");
    printf("input: %s\n", source);
    if (!file)
        printf("       -> %s\n", input);
    printf("cpus online: %d (load average %.2f at start: other work on the machine slows the\n"
           "multi-thread runs first); timing: wall clock (CLOCK_MONOTONIC), best of %d runs\n\n",
           n_cpus, load_1min(), N_RUNS);
    fflush(stdout);

    int failed = 0;
    /* ---- peak RSS first, while this process is small ---- */
    rss_msg rm;
    memset(&rm, 0, sizeof rm);
    int have_rss = 0;
    if (rss_seconds > 0) {
        if (measure_rss(rss_path, multi, &rm) == 0 && rm.rc == VX_OK)
            have_rss = 1;
        else {
            fprintf(stderr, "bench_analysis: RSS run on %s failed: %s\n", rss_path, rm.message);
            failed = 1;
        }
        unlink(rss_path);
        rss_path[0] = '\0';
    }

    /* ---- timing ---- */
    int cfg_threads[2] = {1, multi};
    int n_cfg = multi == 1 ? 1 : 2;
    double best[2] = {NAN, NAN}, best_cpu[2] = {NAN, NAN};
    run_info info[2];
    memset(info, 0, sizeof info);
    for (int c = 0; c < n_cfg && !failed; c++)
        if (time_runs(input, cfg_threads[c], &best[c], &best_cpu[c], &info[c]) != 0)
            failed = 1;
    const double audio_s = info[0].audio_s;
    double floor_dec_s = NAN, floor_fft_s = NAN;
    if (!failed && measure_floor(input, info[0].n_frames, &floor_dec_s, &floor_fft_s) != 0)
        failed = 1;
    if (!failed && n_cfg > 1 &&
        (info[1].n_frames != info[0].n_frames || info[1].n_voiced != info[0].n_voiced ||
         info[1].pitch_mean_hz != info[0].pitch_mean_hz))
        printf("WARNING: 1-thread and %d-thread analyses differ (voiced %zu vs %zu)\n", multi,
               info[0].n_voiced, info[1].n_voiced);

    /* ---- librosa ---- */
    librosa_result lr;
    memset(&lr, 0, sizeof lr);
    if (!failed) {
        printf("running librosa reference (%s) ...\n", script);
        fflush(stdout);
        run_librosa(script, input, &lr);
        if (!lr.measured) {
            lr.s_per_s = LIBROSA_REF_S_PER_S;
            lr.pyin_s_per_s = LIBROSA_REF_PYIN_S_PER_S;
        }
    }
    remove_tmp(tmpdir, timed_path, rss_path);
    if (failed)
        return 1;

    /* ---- report ---- */
    printf("\naudio: %.1f s -> %zu frames, %zu voiced, pitch mean %.1f Hz\n", audio_s,
           info[0].n_frames, info[0].n_voiced, info[0].pitch_mean_hz);
    printf("%-10s %-12s %12s %15s %12s %12s\n", "config", "n_threads", "best wall s",
           "s per audio-s", "x real-time", "best CPU s");
    for (int c = 0; c < n_cfg; c++) {
        char th[32];
        if (cfg_threads[c] == 0)
            snprintf(th, sizeof th, "0 (=%d)", multi_eff);
        else
            snprintf(th, sizeof th, "%d", cfg_threads[c]);
        printf("%-10s %-12s %12.3f %15.5f %12.1f %12.3f\n", c == 0 ? "1 thread" : "multi", th,
               best[c], best[c] / audio_s, audio_s / best[c], best_cpu[c]);
    }
    const double floor_s = floor_dec_s + floor_fft_s;
    const double goal_s = LIBROSA_REF_S_PER_S / 300.0 * audio_s;
    printf("\nlibrary floor (Debian's libsndfile + soxr + FFTW, not voxclone's code; best CPU s of %d):\n"
           "  decode + soxr HQ resample alone  %8.4f s  = %5.1f %% of the 1-thread run's CPU s\n"
           "  the analysis's FFTW transforms   %8.4f s  = %5.1f %% (per frame 2048 r2c; per hop\n"
           "                                                     1024 r2c + 1024 complex inverse)\n"
           "  sum %.4f s: with voxclone's own code at zero cost, one core could reach at most\n"
           "  %.0fx real time; the issue's 300x-librosa goal (%.3f ms per audio-s) allows %.4f s,\n"
           "  %.0f %% of that floor\n",
           N_RUNS, floor_dec_s, 100.0 * floor_dec_s / best_cpu[0], floor_fft_s,
           100.0 * floor_fft_s / best_cpu[0], floor_s, audio_s / floor_s,
           1e3 * LIBROSA_REF_S_PER_S / 300.0, goal_s, 100.0 * goal_s / floor_s);
    if (have_rss)
        printf("\npeak RSS: %.1f MB (ru_maxrss of a child analysing %.0f s, n_threads %d; "
               "%.1f MB of it inherited at fork; that run took %.2f s)\n",
               rm.maxrss_after_kb / 1024.0, rm.audio_s, multi, rm.maxrss_before_kb / 1024.0,
               rm.wall_s);
    if (lr.measured)
        printf("\nlibrosa (measured in this run, %s): %.4f s per audio-s (pyin %.4f)\n", lr.python,
               lr.s_per_s, lr.pyin_s_per_s);
    else
        printf("\nlibrosa: %s.\n"
               "librosa 0.11 = %.3f s per audio-s (%.3f of it in pyin): REFERENCE FIGURE from the "
               "issue,\nNOT MEASURED IN THIS RUN\n",
               lr.why, lr.s_per_s, lr.pyin_s_per_s);
    double r1 = lr.s_per_s / (best[0] / audio_s);
    double rm_ = n_cfg > 1 ? lr.s_per_s / (best[1] / audio_s) : r1;
    printf("speed vs librosa (librosa s / voxclone s%s): 1 thread %.1fx",
           lr.measured ? "" : ", against the reference figure", r1);
    if (n_cfg > 1)
        printf(", n_threads %d: %.1fx", multi, rm_);
    printf("\n\n");

    json_t *j = json_object();
    json_object_set_new(j, "bench", json_string("analysis"));
    json_object_set_new(j, "input", json_string(kind));
    json_object_set_new(j, "audio_s", json_real(audio_s));
    json_object_set_new(j, "native_rate_hz", json_integer(rate));
    json_object_set_new(j, "cpus", json_integer(n_cpus));
    json_object_set_new(j, "t1_s_per_audio_s", json_real(best[0] / audio_s));
    json_object_set_new(j, "t1_x_realtime", json_real(audio_s / best[0]));
    json_object_set_new(j, "t1_cpu_s_per_audio_s", json_real(best_cpu[0] / audio_s));
    json_object_set_new(j, "floor_decode_resample_s_per_audio_s", json_real(floor_dec_s / audio_s));
    json_object_set_new(j, "floor_fftw_s_per_audio_s", json_real(floor_fft_s / audio_s));
    if (n_cfg > 1) {
        json_object_set_new(j, "multi_n_threads", json_integer(multi));
        json_object_set_new(j, "multi_s_per_audio_s", json_real(best[1] / audio_s));
        json_object_set_new(j, "multi_x_realtime", json_real(audio_s / best[1]));
    }
    if (have_rss) {
        json_object_set_new(j, "peak_rss_mb", json_real(rm.maxrss_after_kb / 1024.0));
        json_object_set_new(j, "rss_audio_s", json_real(rm.audio_s));
    }
    json_object_set_new(j, "librosa_s_per_audio_s", json_real(lr.s_per_s));
    json_object_set_new(j, "librosa_source",
                        json_string(lr.measured ? "measured" : "reference figure (not measured)"));
    json_object_set_new(j, "speedup_vs_librosa_t1", json_real(r1));
    if (n_cfg > 1)
        json_object_set_new(j, "speedup_vs_librosa_multi", json_real(rm_));
    char *s = json_dumps(j, JSON_COMPACT | JSON_REAL_PRECISION(6));
    if (s)
        printf("%s\n", s);
    free(s);
    json_decref(j);
    return 0;
}
