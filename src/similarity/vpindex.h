/*
 * vpindex.h -- nearest-voice search over stored voiceprints.  Internal.
 *
 * DESIGN: PostgreSQL has no vector extension here, so the service keeps one
 * compact in-memory copy of every user's current voiceprint (512-d,
 * L2-normalised) and searches it exhaustively in C: 4-bit codes with a
 * per-vector scale for the scan, then a re-rank of the best candidates
 * against residual codes precise to ~1e-5 (layout: vpindex.c).  Exhaustive
 * search has no recall loss from an approximate graph; 100 000 voices take
 * ~117 MB and scan in a few milliseconds (docs/cache.md).
 *
 * Thread-safety: searches run concurrently (read lock); upsert/remove take
 * the write lock.
 */
#ifndef VX_VPINDEX_H
#define VX_VPINDEX_H

#include <stddef.h>

#include "voxclone/voxclone.h"

#define VX_VPINDEX_MAX_KEY 64   /**< user name length limit (store's) */
#define VX_VPINDEX_MAX_K 100

typedef struct vx_vpindex vx_vpindex;

typedef struct vx_vpindex_hit {
    char user[VX_VPINDEX_MAX_KEY + 1];
    char profile_id[40];
    int version;
    double similarity;      /**< exact cosine, -1..1 */
} vx_vpindex_hit;

int vx_vpindex_new(vx_vpindex **out, vx_error *err);
void vx_vpindex_free(vx_vpindex *ix);
/** Sets the voiceprint of user (replacing an older one).  vp: 512 floats,
 *  need not be normalised (it is normalised; all-zero: EINVAL). */
int vx_vpindex_upsert(vx_vpindex *ix, const char *user, const char *profile_id, int version,
                      const float *vp, vx_error *err);
/** ENOTFOUND when user is not in the index. */
int vx_vpindex_remove(vx_vpindex *ix, const char *user, vx_error *err);
size_t vx_vpindex_size(vx_vpindex *ix);
/** The k (1..VX_VPINDEX_MAX_K) most similar voices to query, best first,
 *  skipping exclude_user (may be NULL).  hits must hold k entries; *n_hits
 *  = min(k, size - excluded). */
int vx_vpindex_search(vx_vpindex *ix, const float *query, size_t k, const char *exclude_user,
                      vx_vpindex_hit *hits, size_t *n_hits, vx_error *err);

/* ---- additions (bench, tests, /metrics) ---- */
/** Bytes currently allocated by the index (codes, scales, names, map). */
size_t vx_vpindex_memory_bytes(vx_vpindex *ix);
/** Selects the scan kernel: on != 0 uses AVX2 when the CPU has it, 0 forces
 *  the portable loop (tests compare the two).  Returns 1 when AVX2 is now
 *  in use.  Not to be called while searches run. */
int vx_vpindex_use_simd(vx_vpindex *ix, int on);

#endif
