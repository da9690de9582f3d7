/*
 * vpindex.c -- exhaustive nearest-voice search over quantised voiceprints.
 *
 * DESIGN: the scan is memory-bound: on this 2-core VM one core streams
 * 4-12 GB/s, so an int8 copy of 100 000 x 512 (51 MB) alone costs 5-13 ms a
 * query.  Each stored unit vector x is therefore kept as three codes with one
 * float scale each, residual on residual:
 *   c0 = round(x/s0),  s0 = max|x|/7           4 bit  (the scan reads this)
 *   c1 = round(r0/s1), s1 = max|r0|/127        8 bit  r0 = x - s0*c0
 *   c2 = round(r1/s2), s2 = max|r1|/7          4 bit  r1 = r0 - s1*c1
 * = 2 bytes a dimension.  A search quantises the query to int8, scans every
 * 4-bit code (25.6 MB for 100 000 voices) with an integer dot product -- an
 * AVX2 maddubs kernel chosen at run time, or a portable loop GCC vectorises
 * -- keeps the best R = max(4k, 256) by s0 * dot in a min-heap, then re-ranks
 * those against the float query with x' = s0*c0 + s1*c1 + s2*c2, whose
 * error per component is <= max|x|/49784 (float16 would be ~max|x|/2048 at
 * 2 bytes; int8 + float16 would need 3 bytes = 154 MB).  The 4-bit scan's
 * score noise (~0.006 in cosine) is far below the gap between the k-th and
 * the R-th best voice in every distribution measured (bench/vpindex.c), and
 * the re-rank makes the reported similarity exact to ~1e-5.
 *
 * Storage is chunked (1024 voices a chunk: codes, scales, names), so growth
 * never copies or doubles memory and the slack is at most one chunk.  A hash
 * map (open addressing, linear probing, backward-shift deletion) maps user
 * -> slot; remove moves the last slot into the hole, so slots stay dense.
 * Search allocates nothing: the heap, block scores and candidates live on
 * the stack (~20 KB).  One rwlock: searches share it, writers exclude.
 */
#include "similarity/vpindex.h"

#include <math.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define VX__HAVE_X86 1
#endif

#include "core/error.h"

#define DIM VX_VOICEPRINT_DIM
#define CHUNK 1024 /* voices per chunk */
#define NIB (DIM / 2) /* bytes of a packed 4-bit code */
#define RERANK_PER_K 4
#define MIN_RERANK 256
#define MAX_RERANK (RERANK_PER_K * VX_VPINDEX_MAX_K)

typedef struct vx__vp_meta {
    char user[VX_VPINDEX_MAX_KEY + 1];
    char profile_id[40];
    int version;
    uint32_t hash;
} vx__vp_meta;

typedef struct vx__vp_chunk {
    uint8_t scan[CHUNK * NIB]; /* first: 64-byte aligned, streamed by the scan */
    int8_t mid[CHUNK * DIM];
    uint8_t fine[CHUNK * NIB];
    float s0[CHUNK], s1[CHUNK], s2[CHUNK];
    vx__vp_meta meta[CHUNK];
} vx__vp_chunk;

typedef void (*vx__dots_fn)(const uint8_t *codes, const int8_t *q, int32_t qsum, size_t count,
                            int32_t *out);

struct vx_vpindex {
    pthread_rwlock_t lock;
    size_t n;
    vx__vp_chunk **chunks;
    size_t nchunks, chunks_cap;
    uint32_t *table; /* slot + 1; 0 = empty */
    size_t tcap;     /* power of two, >= 2 * (n + 1) */
    vx__dots_fn dots;
    int simd;
};

/* ------------------------------------------------------------------ */
/* scan kernels                                                        */
/* ------------------------------------------------------------------ */

/* Packed 4-bit codes: 64 dimensions per 32 bytes; byte t of block b holds
 * dimension 64b+t in its low nibble and 64b+32+t in its high nibble, each
 * stored as code + 8 (1..15).  The kernels return sum((nibble - 8) * q) =
 * sum(nibble * q) - 8 * qsum, exactly, in both versions. */
static void dots_portable(const uint8_t *codes, const int8_t *q, int32_t qsum, size_t count,
                          int32_t *out)
{
    for (size_t i = 0; i < count; i++) {
        const uint8_t *c = codes + i * NIB;
        int32_t s = 0;
        for (int b = 0; b < DIM / 64; b++)
            for (int t = 0; t < 32; t++) {
                int v = c[32 * b + t];
                s += (v & 15) * q[64 * b + t] + (v >> 4) * q[64 * b + 32 + t];
            }
        out[i] = s - 8 * qsum;
    }
}

#ifdef VX__HAVE_X86
/* AVX2: maddubs(nibbles as u8, q as s8) gives int16 pair sums of at most
 * 2*15*127 = 3810; 8 blocks accumulate to 30480 < 32767 in int16, kept apart
 * for low and high nibbles, then widened once per vector with madd. */
__attribute__((target("avx2"))) static inline int32_t hsum_avx2(__m256i v)
{
    __m128i s = _mm_add_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
    s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0x4E));
    s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0xB1));
    return _mm_cvtsi128_si32(s);
}

__attribute__((target("avx2"))) static void dots_avx2(const uint8_t *codes, const int8_t *q,
                                                      int32_t qsum, size_t count, int32_t *out)
{
    const __m256i ones = _mm256_set1_epi16(1), m4 = _mm256_set1_epi8(15);
    size_t i = 0;
    for (; i + 2 <= count; i += 2) {
        const uint8_t *a = codes + i * NIB, *b = a + NIB;
        __m256i la = _mm256_setzero_si256(), ha = la, lb = la, hb = la;
        for (int k = 0; k < DIM / 64; k++) {
            __m256i q0 = _mm256_loadu_si256((const __m256i *)(q + 64 * k));
            __m256i q1 = _mm256_loadu_si256((const __m256i *)(q + 64 * k + 32));
            __m256i xa = _mm256_loadu_si256((const __m256i *)(a + 32 * k));
            __m256i xb = _mm256_loadu_si256((const __m256i *)(b + 32 * k));
            la = _mm256_add_epi16(la, _mm256_maddubs_epi16(_mm256_and_si256(xa, m4), q0));
            ha = _mm256_add_epi16(
                ha, _mm256_maddubs_epi16(_mm256_and_si256(_mm256_srli_epi16(xa, 4), m4), q1));
            lb = _mm256_add_epi16(lb, _mm256_maddubs_epi16(_mm256_and_si256(xb, m4), q0));
            hb = _mm256_add_epi16(
                hb, _mm256_maddubs_epi16(_mm256_and_si256(_mm256_srli_epi16(xb, 4), m4), q1));
        }
        __m256i sa = _mm256_add_epi32(_mm256_madd_epi16(la, ones), _mm256_madd_epi16(ha, ones));
        __m256i sb = _mm256_add_epi32(_mm256_madd_epi16(lb, ones), _mm256_madd_epi16(hb, ones));
        out[i] = hsum_avx2(sa) - 8 * qsum;
        out[i + 1] = hsum_avx2(sb) - 8 * qsum;
    }
    if (i < count)
        dots_portable(codes + i * NIB, q, qsum, count - i, out + i);
}

static int cpu_has_avx2(void)
{
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx2") != 0;
}
#endif

/* ------------------------------------------------------------------ */
/* slots and the user map                                              */
/* ------------------------------------------------------------------ */

static inline vx__vp_chunk *chunk_of(const vx_vpindex *ix, size_t slot)
{
    return ix->chunks[slot / CHUNK];
}

static inline vx__vp_meta *meta_of(const vx_vpindex *ix, size_t slot)
{
    return &chunk_of(ix, slot)->meta[slot % CHUNK];
}

static uint32_t hash_user(const char *s)
{
    uint32_t h = 2166136261u; /* FNV-1a */
    for (; *s; s++) {
        h ^= (unsigned char)*s;
        h *= 16777619u;
    }
    return h ^ (h >> 15);
}

/* Position in table of user, or SIZE_MAX. */
static size_t map_find(const vx_vpindex *ix, const char *user, uint32_t h)
{
    if (!ix->tcap)
        return SIZE_MAX;
    size_t mask = ix->tcap - 1;
    for (size_t p = h & mask;; p = (p + 1) & mask) {
        uint32_t v = ix->table[p];
        if (!v)
            return SIZE_MAX;
        const vx__vp_meta *m = meta_of(ix, v - 1);
        if (m->hash == h && strcmp(m->user, user) == 0)
            return p;
    }
}

static void map_put(uint32_t *table, size_t tcap, uint32_t h, uint32_t value)
{
    size_t mask = tcap - 1, p = h & mask;
    while (table[p])
        p = (p + 1) & mask;
    table[p] = value;
}

/* Backward-shift deletion keeps every probe chain unbroken. */
static void map_erase(vx_vpindex *ix, size_t i)
{
    size_t mask = ix->tcap - 1, j = i;
    for (;;) {
        j = (j + 1) & mask;
        uint32_t v = ix->table[j];
        if (!v)
            break;
        size_t home = meta_of(ix, v - 1)->hash & mask;
        /* move v into the hole i unless its home lies cyclically in (i, j] */
        int in_between = (i <= j) ? (home > i && home <= j) : (home > i || home <= j);
        if (!in_between) {
            ix->table[i] = v;
            i = j;
        }
    }
    ix->table[i] = 0;
}

static int map_reserve(vx_vpindex *ix, size_t n)
{
    if (ix->tcap >= 2 * (n + 1))
        return 0;
    size_t cap = ix->tcap ? ix->tcap : 64;
    while (cap < 2 * (n + 1))
        cap *= 2;
    uint32_t *t = calloc(cap, sizeof *t);
    if (!t)
        return -1;
    for (size_t s = 0; s < ix->n; s++)
        map_put(t, cap, meta_of(ix, s)->hash, (uint32_t)(s + 1));
    free(ix->table);
    ix->table = t;
    ix->tcap = cap;
    return 0;
}

static int chunk_reserve(vx_vpindex *ix, size_t n)
{
    while (ix->nchunks * CHUNK < n) {
        if (ix->nchunks == ix->chunks_cap) {
            size_t cap = ix->chunks_cap ? ix->chunks_cap * 2 : 8;
            vx__vp_chunk **p = realloc(ix->chunks, cap * sizeof *p);
            if (!p)
                return -1;
            ix->chunks = p;
            ix->chunks_cap = cap;
        }
        void *mem = NULL;
        if (posix_memalign(&mem, 64, sizeof(vx__vp_chunk)) != 0)
            return -1;
        ix->chunks[ix->nchunks++] = mem;
    }
    return 0;
}

/* ------------------------------------------------------------------ */
/* vectors                                                             */
/* ------------------------------------------------------------------ */

/* Normalises v into out; -1 when it has a non-finite or is all zero. */
static int normalise(const float *v, float *out)
{
    double ss = 0.0;
    for (int j = 0; j < DIM; j++) {
        if (!isfinite(v[j]))
            return -1;
        ss += (double)v[j] * v[j];
    }
    if (!(ss > 1e-30) || !isfinite(ss))
        return -1;
    double inv = 1.0 / sqrt(ss);
    for (int j = 0; j < DIM; j++)
        out[j] = (float)(v[j] * inv);
    return 0;
}

/* code = round(x / s), s = max|x| / levels (codes in -levels..levels);
 * returns s.  x -= s * code leaves the residual in x. */
static float quantise(float *x, int8_t *code, int levels)
{
    float mx = 0.0f, lv = (float)levels;
    for (int j = 0; j < DIM; j++)
        mx = fmaxf(mx, fabsf(x[j]));
    if (mx == 0.0f) {
        memset(code, 0, DIM);
        return 0.0f;
    }
    float s = mx / lv, inv = lv / mx;
    for (int j = 0; j < DIM; j++) {
        float r = nearbyintf(x[j] * inv);
        r = r > lv ? lv : (r < -lv ? -lv : r);
        code[j] = (int8_t)r;
        x[j] -= s * r;
    }
    return s;
}

/* -7..7 codes into the nibble layout described at dots_portable. */
static void pack4(const int8_t *code, uint8_t *out)
{
    for (int b = 0; b < DIM / 64; b++)
        for (int t = 0; t < 32; t++)
            out[32 * b + t] = (uint8_t)((code[64 * b + t] + 8) | ((code[64 * b + 32 + t] + 8) << 4));
}

/* x' = s0*c0 + s1*c1 + s2*c2 of one stored voice. */
static void reconstruct(const vx__vp_chunk *ch, size_t o, float *x)
{
    const uint8_t *p0 = ch->scan + o * NIB, *p2 = ch->fine + o * NIB;
    const int8_t *c1 = ch->mid + o * DIM;
    float s0 = ch->s0[o], s1 = ch->s1[o], s2 = ch->s2[o];
    for (int b = 0; b < DIM / 64; b++)
        for (int t = 0; t < 32; t++) {
            int j = 64 * b + t, v0 = p0[32 * b + t], v2 = p2[32 * b + t];
            x[j] = s0 * (float)((v0 & 15) - 8) + s1 * (float)c1[j] + s2 * (float)((v2 & 15) - 8);
            x[j + 32] = s0 * (float)((v0 >> 4) - 8) + s1 * (float)c1[j + 32] +
                        s2 * (float)((v2 >> 4) - 8);
        }
}

static int check_user(const char *user, const char *what, vx_error *err)
{
    if (!user)
        return vx__error_set(err, VX_EINVAL, "vpindex: NULL %s", what);
    size_t n = strnlen(user, VX_VPINDEX_MAX_KEY + 1);
    if (n == 0)
        return vx__error_set(err, VX_EINVAL, "vpindex: empty %s", what);
    if (n > VX_VPINDEX_MAX_KEY)
        return vx__error_set(err, VX_EINVAL, "vpindex: %s longer than %d bytes", what,
                             VX_VPINDEX_MAX_KEY);
    return VX_OK;
}

/* ------------------------------------------------------------------ */
/* public                                                              */
/* ------------------------------------------------------------------ */

int vx_vpindex_new(vx_vpindex **out, vx_error *err)
{
    if (!out)
        return vx__error_set(err, VX_EINVAL, "vpindex: NULL output pointer");
    *out = NULL;
    vx_vpindex *ix = calloc(1, sizeof *ix);
    if (!ix)
        return vx__error_set(err, VX_ENOMEM, "vpindex: out of memory");
    if (pthread_rwlock_init(&ix->lock, NULL) != 0) {
        free(ix);
        return vx__error_set(err, VX_ENOMEM, "vpindex: cannot create lock");
    }
    vx_vpindex_use_simd(ix, 1);
    *out = ix;
    vx__error_clear(err);
    return VX_OK;
}

void vx_vpindex_free(vx_vpindex *ix)
{
    if (!ix)
        return;
    for (size_t i = 0; i < ix->nchunks; i++)
        free(ix->chunks[i]);
    free(ix->chunks);
    free(ix->table);
    pthread_rwlock_destroy(&ix->lock);
    free(ix);
}

int vx_vpindex_use_simd(vx_vpindex *ix, int on)
{
    if (!ix)
        return 0;
    ix->dots = dots_portable;
    ix->simd = 0;
#ifdef VX__HAVE_X86
    if (on && cpu_has_avx2()) {
        ix->dots = dots_avx2;
        ix->simd = 1;
    }
#else
    (void)on;
#endif
    return ix->simd;
}

int vx_vpindex_upsert(vx_vpindex *ix, const char *user, const char *profile_id, int version,
                      const float *vp, vx_error *err)
{
    if (!ix)
        return vx__error_set(err, VX_EINVAL, "vpindex: NULL index");
    int rc = check_user(user, "user", err);
    if (rc != VX_OK)
        return rc;
    if (!profile_id)
        profile_id = "";
    if (strnlen(profile_id, sizeof(((vx__vp_meta *)0)->profile_id)) >=
        sizeof(((vx__vp_meta *)0)->profile_id))
        return vx__error_set(err, VX_EINVAL, "vpindex: profile_id longer than %zu bytes",
                             sizeof(((vx__vp_meta *)0)->profile_id) - 1);
    if (!vp)
        return vx__error_set(err, VX_EINVAL, "vpindex: NULL voiceprint for '%s'", user);

    /* everything that does not touch the index is done before locking */
    float x[DIM];
    int8_t c0[DIM], c1[DIM], c2[DIM];
    uint8_t p0[NIB], p2[NIB];
    if (normalise(vp, x) != 0)
        return vx__error_set(err, VX_EINVAL,
                             "vpindex: voiceprint of '%s' is all zero or not finite", user);
    float s0 = quantise(x, c0, 7);   /* x becomes the residual */
    float s1 = quantise(x, c1, 127); /* and again */
    float s2 = quantise(x, c2, 7);
    pack4(c0, p0);
    pack4(c2, p2);
    uint32_t h = hash_user(user);

    pthread_rwlock_wrlock(&ix->lock);
    size_t pos = map_find(ix, user, h), slot;
    if (pos != SIZE_MAX) {
        slot = ix->table[pos] - 1;
    } else {
        if (ix->n >= UINT32_MAX - 1 || chunk_reserve(ix, ix->n + 1) != 0 ||
            map_reserve(ix, ix->n + 1) != 0) {
            pthread_rwlock_unlock(&ix->lock);
            return vx__error_set(err, VX_ENOMEM, "vpindex: out of memory adding '%s'", user);
        }
        slot = ix->n++;
    }
    vx__vp_chunk *ch = chunk_of(ix, slot);
    size_t o = slot % CHUNK;
    memcpy(ch->scan + o * NIB, p0, NIB);
    memcpy(ch->mid + o * DIM, c1, DIM);
    memcpy(ch->fine + o * NIB, p2, NIB);
    ch->s0[o] = s0;
    ch->s1[o] = s1;
    ch->s2[o] = s2;
    vx__vp_meta *m = &ch->meta[o];
    memset(m, 0, sizeof *m);
    memcpy(m->user, user, strlen(user));
    memcpy(m->profile_id, profile_id, strlen(profile_id));
    m->version = version;
    m->hash = h;
    if (pos == SIZE_MAX)
        map_put(ix->table, ix->tcap, h, (uint32_t)(slot + 1));
    pthread_rwlock_unlock(&ix->lock);
    vx__error_clear(err);
    return VX_OK;
}

int vx_vpindex_remove(vx_vpindex *ix, const char *user, vx_error *err)
{
    if (!ix)
        return vx__error_set(err, VX_EINVAL, "vpindex: NULL index");
    int rc = check_user(user, "user", err);
    if (rc != VX_OK)
        return rc;
    uint32_t h = hash_user(user);
    pthread_rwlock_wrlock(&ix->lock);
    size_t pos = map_find(ix, user, h);
    if (pos == SIZE_MAX) {
        pthread_rwlock_unlock(&ix->lock);
        return vx__error_set(err, VX_ENOTFOUND, "vpindex: user '%s' is not in the index", user);
    }
    size_t slot = ix->table[pos] - 1, last = ix->n - 1;
    map_erase(ix, pos);
    if (slot != last) {
        /* move the last voice into the hole and repoint its map entry */
        vx__vp_chunk *dst = chunk_of(ix, slot), *src = chunk_of(ix, last);
        size_t d = slot % CHUNK, s = last % CHUNK;
        memcpy(dst->scan + d * NIB, src->scan + s * NIB, NIB);
        memcpy(dst->mid + d * DIM, src->mid + s * DIM, DIM);
        memcpy(dst->fine + d * NIB, src->fine + s * NIB, NIB);
        dst->s0[d] = src->s0[s];
        dst->s1[d] = src->s1[s];
        dst->s2[d] = src->s2[s];
        dst->meta[d] = src->meta[s];
        size_t p = map_find(ix, dst->meta[d].user, dst->meta[d].hash);
        ix->table[p] = (uint32_t)(slot + 1);
    }
    ix->n--;
    /* give back trailing chunks, keeping half a chunk of hysteresis */
    while (ix->nchunks > 0 && ix->n + CHUNK / 2 <= (ix->nchunks - 1) * CHUNK) {
        free(ix->chunks[ix->nchunks - 1]);
        ix->chunks[--ix->nchunks] = NULL;
    }
    pthread_rwlock_unlock(&ix->lock);
    vx__error_clear(err);
    return VX_OK;
}

size_t vx_vpindex_size(vx_vpindex *ix)
{
    if (!ix)
        return 0;
    pthread_rwlock_rdlock(&ix->lock);
    size_t n = ix->n;
    pthread_rwlock_unlock(&ix->lock);
    return n;
}

size_t vx_vpindex_memory_bytes(vx_vpindex *ix)
{
    if (!ix)
        return 0;
    pthread_rwlock_rdlock(&ix->lock);
    size_t b = sizeof *ix + ix->nchunks * sizeof(vx__vp_chunk) +
               ix->chunks_cap * sizeof(vx__vp_chunk *) + ix->tcap * sizeof(uint32_t);
    pthread_rwlock_unlock(&ix->lock);
    return b;
}

/* ---- search ---- */

typedef struct vx__cand {
    float score;
    uint32_t slot;
} vx__cand;

static inline void heap_sift_down(vx__cand *h, size_t n, size_t i)
{
    for (;;) {
        size_t l = 2 * i + 1, m = i;
        if (l < n && h[l].score < h[m].score)
            m = l;
        if (l + 1 < n && h[l + 1].score < h[m].score)
            m = l + 1;
        if (m == i)
            return;
        vx__cand t = h[i];
        h[i] = h[m];
        h[m] = t;
        i = m;
    }
}

static inline void heap_push(vx__cand *h, size_t *n, vx__cand c)
{
    size_t i = (*n)++;
    h[i] = c;
    while (i > 0) {
        size_t p = (i - 1) / 2;
        if (h[p].score <= h[i].score)
            break;
        vx__cand t = h[i];
        h[i] = h[p];
        h[p] = t;
        i = p;
    }
}

typedef struct vx__ranked {
    double sim;
    const vx__vp_meta *meta;
} vx__ranked;

static int ranked_cmp(const void *a, const void *b)
{
    const vx__ranked *x = a, *y = b;
    if (x->sim != y->sim)
        return x->sim > y->sim ? -1 : 1;
    return strcmp(x->meta->user, y->meta->user);
}

int vx_vpindex_search(vx_vpindex *ix, const float *query, size_t k, const char *exclude_user,
                      vx_vpindex_hit *hits, size_t *n_hits, vx_error *err)
{
    if (n_hits)
        *n_hits = 0;
    if (!ix || !query || !hits || !n_hits)
        return vx__error_set(err, VX_EINVAL, "vpindex: NULL %s",
                             !ix ? "index" : !query ? "query" : !hits ? "hits" : "n_hits");
    if (k < 1 || k > VX_VPINDEX_MAX_K)
        return vx__error_set(err, VX_EINVAL, "vpindex: k = %zu outside 1..%d", k,
                             VX_VPINDEX_MAX_K);
    float q[DIM];
    int8_t q8[DIM];
    if (normalise(query, q) != 0)
        return vx__error_set(err, VX_EINVAL, "vpindex: query is all zero or not finite");
    float qr[DIM];
    memcpy(qr, q, sizeof qr);
    (void)quantise(qr, q8, 127);
    int32_t qsum = 0;
    for (int j = 0; j < DIM; j++)
        qsum += q8[j];

    size_t R = RERANK_PER_K * k < MIN_RERANK ? MIN_RERANK : RERANK_PER_K * k;
    vx__cand heap[MAX_RERANK];
    int32_t dots[CHUNK];
    vx__ranked ranked[MAX_RERANK];
    size_t hn = 0;

    pthread_rwlock_rdlock(&ix->lock);
    size_t excl = SIZE_MAX;
    if (exclude_user && *exclude_user &&
        strnlen(exclude_user, VX_VPINDEX_MAX_KEY + 1) <= VX_VPINDEX_MAX_KEY) {
        size_t p = map_find(ix, exclude_user, hash_user(exclude_user));
        if (p != SIZE_MAX)
            excl = ix->table[p] - 1;
    }

    /* pass 1: 4-bit scan, best R by s0 * dot */
    for (size_t c = 0; c * CHUNK < ix->n; c++) {
        const vx__vp_chunk *ch = ix->chunks[c];
        size_t base = c * CHUNK, cnt = ix->n - base < CHUNK ? ix->n - base : CHUNK;
        ix->dots(ch->scan, q8, qsum, cnt, dots);
        for (size_t i = 0; i < cnt; i++) {
            float s = ch->s0[i] * (float)dots[i];
            if (hn == R && s <= heap[0].score)
                continue;
            if (base + i == excl)
                continue;
            vx__cand cd = {s, (uint32_t)(base + i)};
            if (hn < R) {
                heap_push(heap, &hn, cd);
            } else {
                heap[0] = cd;
                heap_sift_down(heap, hn, 0);
            }
        }
    }

    /* pass 2: exact re-rank of the candidates against the float query */
    for (size_t i = 0; i < hn; i++) {
        size_t slot = heap[i].slot, o = slot % CHUNK;
        const vx__vp_chunk *ch = chunk_of(ix, slot);
        float x[DIM];
        reconstruct(ch, o, x);
        double a[4] = {0.0, 0.0, 0.0, 0.0};
        for (int j = 0; j < DIM; j += 4)
            for (int l = 0; l < 4; l++)
                a[l] += (double)q[j + l] * x[j + l];
        double sim = (a[0] + a[1]) + (a[2] + a[3]);
        ranked[i].sim = sim > 1.0 ? 1.0 : (sim < -1.0 ? -1.0 : sim);
        ranked[i].meta = &ch->meta[o];
    }
    qsort(ranked, hn, sizeof ranked[0], ranked_cmp);
    size_t n = hn < k ? hn : k;
    for (size_t i = 0; i < n; i++) {
        const vx__vp_meta *m = ranked[i].meta;
        memcpy(hits[i].user, m->user, sizeof hits[i].user);
        memcpy(hits[i].profile_id, m->profile_id, sizeof hits[i].profile_id);
        hits[i].version = m->version;
        hits[i].similarity = ranked[i].sim;
    }
    pthread_rwlock_unlock(&ix->lock);
    *n_hits = n;
    vx__error_clear(err);
    return VX_OK;
}
