/*
 * analyzer.c -- the streaming voice analyser: framing, threads, pYIN,
 * spectral features, statistics.
 *
 * DESIGN: samples arrive in pushes of any size; the analyser keeps only the
 * padded samples of the frames not yet computed (librosa's center=True zero
 * padding of 1024 samples on each side, hop 512), so memory does not grow
 * with the input except for the per-frame results.  Frames are computed in
 * blocks: the per-frame work (autocorrelation, YIN, trough probabilities,
 * STFT, mel, centroid) is independent between frames and is split across
 * threads (in chunks of consecutive frames, so the YIN front end can share
 * each block's autocorrelation terms between the frames of a chunk); the
 * Viterbi forward pass is sequential and runs on the calling
 * thread once a block is done, so the block's sparse observations are freed
 * straight away.  MFCC needs librosa's global top_db floor (max over the
 * whole mel spectrogram - 80 dB), so the mel dB frames are kept and turned
 * into MFCC at the end (the maximum in one vectorised pass, the DCT two
 * frames at a time by vx__mfcc_frames).  Files are read straight into the
 * frame buffer (the decoder resamples into it), so the samples are not
 * copied through a chunk on the way.
 */
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "analysis/detailed.h"
#include "analysis/pyin.h"
#include "analysis/spectral.h"
#include "core/error.h"
#include "core/simd.h"
#include "voxclone/voxclone.h"

#define HALF (VX__N_FFT / 2)
#define BLOCK_FRAMES 256
#define CHUNK_FRAMES 16
#define MAX_THREADS 64
/* Hard cap on frames (about 6 hours at hop 512): bounds every growable
 * per-frame array. */
#define MAX_FRAMES ((size_t)1 << 24)

typedef struct worker {
    vx__yin *yin;
    vx__spectral *spec;
} worker;

struct vx_analyzer {
    vx_analysis_opts opts;
    int n_threads;
    const vx__pyin_tables *tabs; /* process-wide, not ours */
    vx__viterbi *vit;
    worker w[MAX_THREADS];
    float *buf;        /* padded samples from frame next_frame on */
    size_t buf_len, buf_cap;
    size_t n_pushed;   /* original samples */
    size_t next_frame; /* frames computed */
    size_t cap_frames;
    double *voiced_prob;
    double *centroid;
    float *mel_db;     /* frames x 128 */
    float *sig;           /* whole signal, only for detailed / accurate */
    size_t sig_cap;
    vx__pyin_obs *obs[2]; /* double buffer, BLOCK_FRAMES each */
    int cur;              /* obs buffer the front end fills next */
    size_t pend_frame0, pend_n; /* block whose Viterbi pass is pending */
    int finished;
};

void vx_analysis_opts_init(vx_analysis_opts *opts)
{
    if (!opts)
        return;
    memset(opts, 0, sizeof *opts);
    opts->keep_frames = 0;
    opts->n_threads = 0;
    opts->pitch_mode = VX_PITCH_LIBROSA;
    vx_decode_opts_init(&opts->decode);
}

const char *vx_voice_type(double pitch_mean_hz)
{
    if (pitch_mean_hz > 200.0)
        return "High (female/child)";
    if (pitch_mean_hz > 140.0)
        return "Medium";
    if (pitch_mean_hz > 0.0)
        return "Low (male)";
    return "unknown";
}

void vx_analyzer_free(vx_analyzer *a)
{
    if (!a)
        return;
    for (int i = 0; i < MAX_THREADS; i++) {
        vx__yin_free(a->w[i].yin);
        vx__spectral_free(a->w[i].spec);
    }
    vx__viterbi_free(a->vit);
    free(a->buf);
    free(a->voiced_prob);
    free(a->centroid);
    free(a->mel_db);
    free(a->sig);
    free(a->obs[0]);
    free(a->obs[1]);
    free(a);
}

int vx_analyzer_new(const vx_analysis_opts *opts, vx_analyzer **out, vx_error *err)
{
    vx__error_clear(err);
    if (!out)
        return vx__error_set(err, VX_EINVAL, "vx_analyzer_new: out is NULL");
    *out = NULL;
    vx_analysis_opts o;
    if (opts)
        o = *opts;
    else
        vx_analysis_opts_init(&o);
    if (o.n_threads < 0 || o.n_threads > MAX_THREADS)
        return vx__error_set(err, VX_EINVAL, "n_threads must be in 0..%d (got %d)", MAX_THREADS,
                             o.n_threads);
    if (o.pitch_mode != VX_PITCH_LIBROSA && o.pitch_mode != VX_PITCH_ACCURATE)
        return vx__error_set(err, VX_EINVAL, "unknown pitch_mode %d", (int)o.pitch_mode);
    vx_analyzer *a = calloc(1, sizeof *a);
    if (!a)
        return vx__error_set(err, VX_ENOMEM, "out of memory");
    a->opts = o;
    int nt = o.n_threads;
    if (nt == 0) {
        long c = sysconf(_SC_NPROCESSORS_ONLN);
        nt = c < 1 ? 1 : (c > MAX_THREADS ? MAX_THREADS : (int)c);
    }
    a->n_threads = nt;
    a->tabs = vx__pyin_tables_shared();
    a->vit = a->tabs ? vx__viterbi_new(a->tabs) : NULL;
    a->buf_cap = (size_t)(BLOCK_FRAMES - 1) * VX__HOP + VX__N_FFT;
    a->buf = malloc(a->buf_cap * sizeof *a->buf);
    a->obs[0] = malloc(BLOCK_FRAMES * sizeof *a->obs[0]);
    a->obs[1] = malloc(BLOCK_FRAMES * sizeof *a->obs[1]);
    int ok = a->tabs && a->vit && a->buf && a->obs[0] && a->obs[1];
    for (int i = 0; ok && i < nt; i++) {
        a->w[i].yin = vx__yin_new();
        a->w[i].spec = vx__spectral_new(VX_ANALYSIS_RATE_HZ);
        ok = a->w[i].yin && a->w[i].spec;
    }
    if (!ok) {
        vx_analyzer_free(a);
        return vx__error_set(err, VX_ENOMEM, "out of memory creating the analyzer");
    }
    /* left padding of center=True */
    memset(a->buf, 0, HALF * sizeof *a->buf);
    a->buf_len = HALF;
    *out = a;
    return VX_OK;
}

static int ensure_frames(vx_analyzer *a, size_t need, vx_error *err)
{
    if (need <= a->cap_frames)
        return VX_OK;
    if (need > MAX_FRAMES)
        return vx__error_set(err, VX_ELIMIT, "audio has more than %zu frames", (size_t)MAX_FRAMES);
    size_t ncap = a->cap_frames ? a->cap_frames : 1024;
    while (ncap < need)
        ncap *= 2;
    if (ncap > MAX_FRAMES)
        ncap = MAX_FRAMES;
    double *vp = realloc(a->voiced_prob, ncap * sizeof *vp);
    if (vp)
        a->voiced_prob = vp;
    double *ce = realloc(a->centroid, ncap * sizeof *ce);
    if (ce)
        a->centroid = ce;
    float *mel = realloc(a->mel_db, ncap * VX__N_MELS * sizeof *mel);
    if (mel)
        a->mel_db = mel;
    if (!vp || !ce || !mel)
        return vx__error_set(err, VX_ENOMEM, "out of memory for %zu frames", ncap);
    a->cap_frames = ncap;
    return VX_OK;
}

/* One block of front-end work, claimed in chunks by whoever is free. */
typedef struct block_job {
    vx_analyzer *a;
    vx__pyin_obs *obs;
    size_t frame0, nb;
    atomic_size_t next;
} block_job;

typedef struct thread_arg {
    block_job *job;
    worker *w;
} thread_arg;

static void run_chunks(block_job *j, worker *w)
{
    vx_analyzer *a = j->a;
    for (;;) {
        size_t i0 = atomic_fetch_add(&j->next, CHUNK_FRAMES);
        if (i0 >= j->nb)
            break;
        size_t i1 = i0 + CHUNK_FRAMES < j->nb ? i0 + CHUNK_FRAMES : j->nb;
        vx__pyin_frames(w->yin, a->tabs, a->buf + i0 * VX__HOP, i1 - i0, &j->obs[i0]);
        for (size_t i = i0; i < i1; i++) {
            const float *frame = a->buf + i * VX__HOP;
            size_t f = j->frame0 + i;
            vx__spectral_frame(w->spec, frame, &a->centroid[f], &a->mel_db[f * VX__N_MELS]);
        }
    }
}

static void *thread_main(void *arg)
{
    thread_arg *t = arg;
    run_chunks(t->job, t->w);
    return NULL;
}

/* Sequential Viterbi pass over the pending block's observations. */
static int flush_viterbi(vx_analyzer *a, vx_error *err)
{
    const vx__pyin_obs *obs = a->obs[a->cur ^ 1];
    for (size_t i = 0; i < a->pend_n; i++) {
        a->voiced_prob[a->pend_frame0 + i] = obs[i].voiced_prob;
        if (vx__viterbi_push(a->vit, &obs[i]) != VX_OK)
            return vx__error_set(err, VX_ENOMEM, "out of memory in Viterbi");
    }
    a->pend_n = 0;
    return VX_OK;
}

/* Computes the front end of nb frames starting at next_frame (all available
 * in buf) on all threads; meanwhile the calling thread first runs the
 * Viterbi pass of the previous block, then joins the front-end work. */
static int process_block(vx_analyzer *a, size_t nb, vx_error *err)
{
    int rc = ensure_frames(a, a->next_frame + nb, err);
    if (rc)
        return rc;
    block_job job = {a, a->obs[a->cur], a->next_frame, nb, 0};
    atomic_init(&job.next, 0);
    int nt = a->n_threads;
    size_t max_useful = (nb + CHUNK_FRAMES - 1) / CHUNK_FRAMES;
    if ((size_t)nt > max_useful)
        nt = (int)max_useful;
    thread_arg targ[MAX_THREADS];
    pthread_t tid[MAX_THREADS];
    int started[MAX_THREADS] = {0};
    for (int i = 1; i < nt; i++) {
        targ[i] = (thread_arg){&job, &a->w[i]};
        started[i] = pthread_create(&tid[i], NULL, thread_main, &targ[i]) == 0;
    }
    rc = flush_viterbi(a, err);
    run_chunks(&job, &a->w[0]);
    for (int i = 1; i < nt; i++)
        if (started[i])
            pthread_join(tid[i], NULL);
    if (rc)
        return rc;
    a->pend_frame0 = a->next_frame;
    a->pend_n = nb;
    a->cur ^= 1;
    a->next_frame += nb;
    /* drop the samples no later frame needs */
    size_t drop = nb * VX__HOP;
    memmove(a->buf, a->buf + drop, (a->buf_len - drop) * sizeof *a->buf);
    a->buf_len -= drop;
    return VX_OK;
}

static size_t frames_available(const vx_analyzer *a)
{
    if (a->buf_len < VX__N_FFT)
        return 0;
    return (a->buf_len - VX__N_FFT) / VX__HOP + 1;
}

/* Index of the first sample that is not finite, n when all are: blocks are
 * screened with integer tests on the bit patterns (with the sign cleared,
 * inf and NaN are the patterns above FLT_MAX's), 32 samples per step in
 * 8-lane vectors (AVX2 in the avx2 clone, SSE2 halves otherwise), and only
 * a block that fails is searched. */
typedef int32_t vx__v8i32 __attribute__((vector_size(32)));

VX__HOT static size_t first_nonfinite(const float *x, size_t n)
{
    enum { B = 2048 };
    const vx__v8i32 mag = {0x7fffffff, 0x7fffffff, 0x7fffffff, 0x7fffffff,
                           0x7fffffff, 0x7fffffff, 0x7fffffff, 0x7fffffff};
    const vx__v8i32 fmax = {0x7f7fffff, 0x7f7fffff, 0x7f7fffff, 0x7f7fffff,
                            0x7f7fffff, 0x7f7fffff, 0x7f7fffff, 0x7f7fffff};
    for (size_t i0 = 0; i0 < n; i0 += B) {
        size_t i1 = n - i0 < B ? n : i0 + B;
        vx__v8i32 acc0 = {0, 0, 0, 0, 0, 0, 0, 0}, acc1 = acc0;
        size_t i = i0;
        for (; i + 32 <= i1; i += 32) {
            vx__v8i32 u0, u1, u2, u3;
            memcpy(&u0, x + i, sizeof u0);
            memcpy(&u1, x + i + 8, sizeof u1);
            memcpy(&u2, x + i + 16, sizeof u2);
            memcpy(&u3, x + i + 24, sizeof u3);
            acc0 |= (u0 & mag) > fmax;
            acc1 |= (u1 & mag) > fmax;
            acc0 |= (u2 & mag) > fmax;
            acc1 |= (u3 & mag) > fmax;
        }
        acc0 |= acc1;
        int any = 0;
        for (int l = 0; l < 8; l++)
            any |= acc0[l];
        for (; i < i1; i++) {
            uint32_t u;
            memcpy(&u, x + i, sizeof u);
            any |= (u & 0x7fffffffu) > 0x7f7fffffu;
        }
        if (any)
            for (i = i0; i < i1; i++) {
                uint32_t u;
                memcpy(&u, x + i, sizeof u);
                if ((u & 0x7fffffffu) > 0x7f7fffffu)
                    return i;
            }
    }
    return n;
}

/* Checks n new samples and keeps a copy of them when the detailed stages
 * need the whole signal.  Nothing is committed on error. */
static int accept_samples(vx_analyzer *a, const float *samples, size_t n, vx_error *err)
{
    size_t bad = first_nonfinite(samples, n);
    if (bad < n)
        return vx__error_set(err, VX_EINVAL, "sample %zu is not finite", a->n_pushed + bad);
    if (a->opts.detailed || a->opts.pitch_mode == VX_PITCH_ACCURATE) {
        /* the detailed stages need the whole signal */
        size_t need = a->n_pushed + n;
        if (need > MAX_FRAMES * VX__HOP)
            return vx__error_set(err, VX_ELIMIT, "audio longer than %zu samples", MAX_FRAMES * VX__HOP);
        if (need > a->sig_cap) {
            size_t ncap = a->sig_cap ? a->sig_cap : 65536;
            while (ncap < need)
                ncap *= 2;
            float *ns = realloc(a->sig, ncap * sizeof *ns);
            if (!ns)
                return vx__error_set(err, VX_ENOMEM, "out of memory keeping the signal");
            a->sig = ns;
            a->sig_cap = ncap;
        }
        memcpy(a->sig + a->n_pushed, samples, n * sizeof *samples);
    }
    return VX_OK;
}

int vx_analyzer_push(vx_analyzer *a, const float *samples, size_t n, vx_error *err)
{
    vx__error_clear(err);
    if (!a || (!samples && n))
        return vx__error_set(err, VX_EINVAL, "vx_analyzer_push: NULL argument");
    if (a->finished)
        return vx__error_set(err, VX_EINVAL, "vx_analyzer_push: analyzer already finished");
    int rc = accept_samples(a, samples, n, err);
    if (rc)
        return rc;
    while (n > 0) {
        size_t room = a->buf_cap - a->buf_len;
        size_t take = n < room ? n : room;
        memcpy(a->buf + a->buf_len, samples, take * sizeof *samples);
        a->buf_len += take;
        a->n_pushed += take;
        samples += take;
        n -= take;
        if (a->buf_len == a->buf_cap) {
            rc = process_block(a, BLOCK_FRAMES, err);
            if (rc)
                return rc;
        }
    }
    return VX_OK;
}

/* Reads the next samples of rd straight into the analyser's buffer (no
 * copy through the caller) and pushes them: *got = 0 at the end. */
static int push_from_reader(vx_analyzer *a, vx_audio_reader *rd, size_t *got, vx_error *err)
{
    size_t room = a->buf_cap - a->buf_len; /* > 0: a full buffer is processed at once */
    float *dst = a->buf + a->buf_len;
    int rc = vx_audio_reader_read(rd, dst, room, got, err);
    if (rc != VX_OK || *got == 0)
        return rc;
    rc = accept_samples(a, dst, *got, err);
    if (rc)
        return rc;
    a->buf_len += *got;
    a->n_pushed += *got;
    if (a->buf_len == a->buf_cap)
        return process_block(a, BLOCK_FRAMES, err);
    return VX_OK;
}

/* Largest of the n mel dB values (n a multiple of 8): eight running maxima
 * side by side (one vector), then the largest of them.  The values are
 * never NaN (power_to_db of max(amin, P)) and never -0, so the maximum
 * does not depend on the order of the comparisons. */
VX__HOT static float max_db(const float *x, size_t n)
{
    float m[8];
    for (int j = 0; j < 8; j++)
        m[j] = -INFINITY;
    for (size_t i = 0; i < n; i += 8)
        for (int j = 0; j < 8; j++)
            m[j] = x[i + j] > m[j] ? x[i + j] : m[j];
    float g = m[0];
    for (int j = 1; j < 8; j++)
        g = m[j] > g ? m[j] : g;
    return g;
}

static void analysis_free_frames(vx_frames *fr)
{
    if (!fr)
        return;
    free(fr->times_s);
    free(fr->f0_hz);
    free(fr->voiced_flag);
    free(fr->voiced_prob);
    free(fr->centroid_hz);
    free(fr->mfcc);
    free(fr);
}

void vx_analysis_free(vx_analysis *a)
{
    if (!a)
        return;
    analysis_free_frames(a->frames);
    free(a);
}

int vx_analyzer_finish(vx_analyzer *a, vx_analysis **out, vx_error *err)
{
    vx__error_clear(err);
    if (!a || !out)
        return vx__error_set(err, VX_EINVAL, "vx_analyzer_finish: NULL argument");
    *out = NULL;
    if (a->finished)
        return vx__error_set(err, VX_EINVAL, "vx_analyzer_finish: already finished");
    if (a->n_pushed == 0)
        return vx__error_set(err, VX_EEMPTY, "no samples were analysed");
    a->finished = 1;
    const size_t n_frames = 1 + a->n_pushed / VX__HOP;
    /* right padding of center=True, then the remaining frames */
    if (a->buf_cap - a->buf_len < HALF) {
        int rc = process_block(a, frames_available(a), err);
        if (rc)
            return rc;
    }
    memset(a->buf + a->buf_len, 0, HALF * sizeof *a->buf);
    a->buf_len += HALF;
    while (a->next_frame < n_frames) {
        size_t nb = n_frames - a->next_frame;
        size_t av = frames_available(a);
        if (nb > av)
            nb = av;
        if (nb == 0)
            return vx__error_set(err, VX_EINTERNAL, "framing error at frame %zu", a->next_frame);
        int rc = process_block(a, nb, err);
        if (rc)
            return rc;
    }

    int rc0 = flush_viterbi(a, err);
    if (rc0)
        return rc0;

    vx_analysis *r = calloc(1, sizeof *r);
    uint16_t *states = malloc(n_frames * sizeof *states);
    double *f0 = malloc(n_frames * sizeof *f0);
    uint8_t *voiced = malloc(n_frames);
    if (!r || !states || !f0 || !voiced) {
        free(r);
        free(states);
        free(f0);
        free(voiced);
        return vx__error_set(err, VX_ENOMEM, "out of memory");
    }
    vx__viterbi_decode(a->vit, states);
    for (size_t f = 0; f < n_frames; f++) {
        voiced[f] = states[f] < VX__PYIN_N_BINS;
        f0[f] = voiced[f] ? vx__pyin_bin_hz(a->tabs, states[f]) : NAN;
    }
    free(states);
    r->n_samples = a->n_pushed;
    r->sample_rate_hz = VX_ANALYSIS_RATE_HZ;
    r->duration_s = (double)a->n_pushed / VX_ANALYSIS_RATE_HZ;
    r->n_frames = n_frames;
    r->pitch_mode = a->opts.pitch_mode;

    vx__frame_data fd = {n_frames, f0, voiced, a->voiced_prob, a->mel_db, a->centroid};
    /* the voiceprint is computed from the default (librosa) pitch track so
     * it does not depend on the pitch mode */
    int drc = VX_OK;
    if (a->opts.detailed) {
        drc = vx__voiceprint_compute(a->sig, a->n_pushed, VX_ANALYSIS_RATE_HZ, &fd, r->voiceprint,
                                     &r->voiceprint_version);
        r->has_voiceprint = drc == VX_OK;
    }
    if (drc == VX_OK && a->opts.pitch_mode == VX_PITCH_ACCURATE)
        drc = vx__pitch_accurate(a->sig, a->n_pushed, VX_ANALYSIS_RATE_HZ, &fd, f0, voiced);
    if (drc == VX_OK && a->opts.detailed) {
        drc = vx__metrics_compute_mt(a->sig, a->n_pushed, VX_ANALYSIS_RATE_HZ, &fd, &r->metrics,
                                     a->n_threads);
        r->has_metrics = drc == VX_OK;
    }
    if (drc != VX_OK) {
        free(f0);
        free(voiced);
        vx_analysis_free(r);
        return vx__error_set(err, drc, "detailed analysis failed: %s", vx_strerror(drc));
    }

    /* pitch statistics over voiced frames */
    double sum = 0.0, mn = INFINITY, mx = -INFINITY;
    size_t nv = 0;
    for (size_t f = 0; f < n_frames; f++) {
        if (voiced[f]) {
            double hz = f0[f];
            sum += hz;
            nv++;
            mn = hz < mn ? hz : mn;
            mx = hz > mx ? hz : mx;
        }
    }
    r->n_voiced = nv;
    if (nv) {
        double mean = sum / (double)nv, ss = 0.0;
        for (size_t f = 0; f < n_frames; f++)
            if (voiced[f]) {
                double dlt = f0[f] - mean;
                ss += dlt * dlt;
            }
        r->pitch_mean_hz = mean;
        r->pitch_std_hz = sqrt(ss / (double)nv);
        r->pitch_min_hz = mn;
        r->pitch_max_hz = mx;
    }
    r->voice_type = vx_voice_type(r->pitch_mean_hz);

    double csum = 0.0;
    for (size_t f = 0; f < n_frames; f++)
        csum += a->centroid[f];
    r->centroid_mean_hz = csum / (double)n_frames;

    /* MFCC with librosa's global top_db = 80 floor */
    const float floor_db = max_db(a->mel_db, n_frames * VX__N_MELS) - 80.0f;
    double msum[VX_N_MFCC] = {0};
    float *mf = NULL;
    if (a->opts.keep_frames) {
        r->frames = calloc(1, sizeof *r->frames);
        vx_frames *fr = r->frames;
        if (fr) {
            fr->n = n_frames;
            fr->times_s = malloc(n_frames * sizeof *fr->times_s);
            fr->f0_hz = malloc(n_frames * sizeof *fr->f0_hz);
            fr->voiced_flag = malloc(n_frames);
            fr->voiced_prob = malloc(n_frames * sizeof *fr->voiced_prob);
            fr->centroid_hz = malloc(n_frames * sizeof *fr->centroid_hz);
            fr->mfcc = malloc(n_frames * VX_N_MFCC * sizeof *fr->mfcc);
        }
        if (!fr || !fr->times_s || !fr->f0_hz || !fr->voiced_flag || !fr->voiced_prob ||
            !fr->centroid_hz || !fr->mfcc) {
            free(f0);
            free(voiced);
            vx_analysis_free(r);
            return vx__error_set(err, VX_ENOMEM, "out of memory for frame tracks");
        }
        for (size_t f = 0; f < n_frames; f++) {
            fr->times_s[f] = (double)(f * VX__HOP) / VX_ANALYSIS_RATE_HZ;
            fr->voiced_flag[f] = voiced[f];
            fr->f0_hz[f] = f0[f];
            fr->voiced_prob[f] = a->voiced_prob[f];
            fr->centroid_hz[f] = a->centroid[f];
        }
        mf = fr->mfcc;
    }
    /* in blocks of frames (into the frame track when it is kept), summed
     * in frame order */
    enum { MFCC_BLOCK = 64 };
    float cbuf[MFCC_BLOCK * VX_N_MFCC];
    for (size_t fb = 0; fb < n_frames; fb += MFCC_BLOCK) {
        const size_t nb = n_frames - fb < MFCC_BLOCK ? n_frames - fb : MFCC_BLOCK;
        float *c = mf ? mf + fb * VX_N_MFCC : cbuf;
        vx__mfcc_frames(&a->mel_db[fb * VX__N_MELS], nb, floor_db, c);
        for (size_t f = 0; f < nb; f++)
            for (int k = 0; k < VX_N_MFCC; k++)
                msum[k] += c[f * VX_N_MFCC + k];
    }
    for (int k = 0; k < VX_N_MFCC; k++)
        r->mfcc_mean[k] = (float)(msum[k] / (double)n_frames);
    r->has_mfcc = 1;
    free(f0);
    free(voiced);
    *out = r;
    return VX_OK;
}

int vx_analyze_samples(const float *samples, size_t n, int sample_rate_hz,
                       const vx_analysis_opts *opts, vx_analysis **out, vx_error *err)
{
    vx__error_clear(err);
    if (!out || (!samples && n))
        return vx__error_set(err, VX_EINVAL, "vx_analyze_samples: NULL argument");
    *out = NULL;
    if (sample_rate_hz != VX_ANALYSIS_RATE_HZ)
        return vx__error_set(err, VX_EINVAL, "sample_rate_hz must be %d (got %d)",
                             VX_ANALYSIS_RATE_HZ, sample_rate_hz);
    if (n == 0)
        return vx__error_set(err, VX_EEMPTY, "no samples");
    vx_analyzer *a = NULL;
    int rc = vx_analyzer_new(opts, &a, err);
    if (rc == VX_OK)
        rc = vx_analyzer_push(a, samples, n, err);
    if (rc == VX_OK)
        rc = vx_analyzer_finish(a, out, err);
    vx_analyzer_free(a);
    return rc;
}

static int analyze_reader(vx_audio_reader *rd, const vx_analysis_opts *opts, vx_analysis **out,
                          vx_error *err)
{
    vx_analyzer *a = NULL;
    int rc = vx_analyzer_new(opts, &a, err);
    while (rc == VX_OK) {
        size_t got = 0;
        rc = push_from_reader(a, rd, &got, err);
        if (got == 0)
            break;
    }
    if (rc == VX_OK)
        rc = vx_analyzer_finish(a, out, err);
    vx_analyzer_free(a);
    return rc;
}

static void decode_opts_for_analysis(const vx_analysis_opts *opts, vx_decode_opts *d)
{
    if (opts)
        *d = opts->decode;
    else
        vx_decode_opts_init(d);
    d->target_rate_hz = VX_ANALYSIS_RATE_HZ;
}

int vx_analyze_file(const char *path, const vx_analysis_opts *opts, vx_analysis **out,
                    vx_error *err)
{
    vx__error_clear(err);
    if (!path || !out)
        return vx__error_set(err, VX_EINVAL, "vx_analyze_file: NULL argument");
    *out = NULL;
    vx_decode_opts d;
    decode_opts_for_analysis(opts, &d);
    vx_audio_reader *rd = NULL;
    int rc = vx_audio_reader_open_file(path, &d, &rd, err);
    if (rc == VX_OK)
        rc = analyze_reader(rd, opts, out, err);
    vx_audio_reader_free(rd);
    return rc;
}

int vx_analyze_memory(const void *data, size_t size, const vx_analysis_opts *opts,
                      vx_analysis **out, vx_error *err)
{
    vx__error_clear(err);
    if (!data || !out)
        return vx__error_set(err, VX_EINVAL, "vx_analyze_memory: NULL argument");
    *out = NULL;
    vx_decode_opts d;
    decode_opts_for_analysis(opts, &d);
    vx_audio_reader *rd = NULL;
    int rc = vx_audio_reader_open_memory(data, size, &d, &rd, err);
    if (rc == VX_OK)
        rc = analyze_reader(rd, opts, out, err);
    vx_audio_reader_free(rd);
    return rc;
}
