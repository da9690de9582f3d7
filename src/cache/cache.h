/*
 * cache.h -- cache of analyses and voiceprints, keyed by the audio's SHA-256
 * (plus the analysis version).  Internal header.
 *
 * DESIGN: a cache is an optimisation, never a dependency: a miss, an
 * unreachable Redis or a full memory budget all mean "compute it again".
 * Back-ends: "memory[:BYTES]" (in-process LRU bounded in bytes, default
 * 64 MiB), "redis://HOST:PORT[/DB]" (hiredis; short connect and command
 * timeouts; when Redis is down every call returns EUNAVAIL at once and a
 * reconnect is tried at most once per second), "none".
 *
 * Thread-safety: all calls may be made from many threads at once.
 */
#ifndef VX_CACHE_H
#define VX_CACHE_H

#include <stddef.h>
#include <stdint.h>

#include "voxclone/voxclone.h"

#define VX_CACHE_MAX_KEY 200               /**< longer keys: EINVAL */
#define VX_CACHE_MAX_VALUE (16u << 20)     /**< larger values: ELIMIT */

typedef struct vx_cache vx_cache;

typedef struct vx_cache_stats {
    uint64_t hits, misses, errors;  /**< errors: calls that met EUNAVAIL/EIO */
    uint64_t entries, bytes;        /**< memory back-end only (0 for redis) */
    int healthy;                    /**< 0 when the back-end is unreachable */
} vx_cache_stats;

/** Errors: EINVAL (unknown URL form, named), ENOMEM.  A Redis that is down at
 *  open time is not an error: the cache starts unhealthy and reconnects. */
int vx_cache_open(const char *url, vx_cache **out, vx_error *err);
void vx_cache_free(vx_cache *c);
/** "memory", "redis" or "none". */
const char *vx_cache_backend(const vx_cache *c);
/** VX_OK with a malloc'd copy in *data (free()), ENOTFOUND on a miss,
 *  EUNAVAIL when the back-end is down. */
int vx_cache_get(vx_cache *c, const char *key, void **data, size_t *size, vx_error *err);
/** Stores (replaces) key.  ttl_s 0 = no expiry.  EUNAVAIL when down; ELIMIT
 *  when larger than VX_CACHE_MAX_VALUE (memory: than the whole budget). */
int vx_cache_put(vx_cache *c, const char *key, const void *data, size_t size, unsigned ttl_s,
                 vx_error *err);
int vx_cache_del(vx_cache *c, const char *key, vx_error *err);
/** 1 when usable now (memory/none: always 1; redis: last command succeeded
 *  or a reconnect just worked). */
int vx_cache_healthy(vx_cache *c);
void vx_cache_stats_get(vx_cache *c, vx_cache_stats *out);

#endif
