/*
 * ratelimit.h -- per-user request rate limit of the HTTP service (internal).
 */
#ifndef VX_NET_RATELIMIT_H
#define VX_NET_RATELIMIT_H

#include <stddef.h>

typedef struct vx__ratelimit vx__ratelimit;

/** A limiter allowing per_min requests per minute per user, in bursts of
 *  burst (token bucket).  per_min <= 0: NULL (no limit; vx__ratelimit_take
 *  then always allows).  Tracks at most max_users users; beyond that the one
 *  seen longest ago is forgotten (it starts again with a full bucket).
 *  NULL also when out of memory. */
vx__ratelimit *vx__ratelimit_new(double per_min, double burst, size_t max_users);
void vx__ratelimit_free(vx__ratelimit *r);

/** Takes one request of user at now_s (any monotonic clock, seconds).
 *  Returns 1 when allowed; 0 when refused, with *retry_s (may be NULL) the
 *  seconds until one request is allowed again.  Thread-safe. */
int vx__ratelimit_take(vx__ratelimit *r, const char *user, double now_s, double *retry_s);

#endif
