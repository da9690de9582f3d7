/*
 * ratelimit.c -- per-user token buckets for the HTTP service.
 *
 * DESIGN: one bucket per authenticated user (not per token, so minting more
 * tokens does not raise a user's allowance, and not per address, which
 * proxies share): it holds at most `burst` requests and refills at per_min /
 * 60 per second.  The table is a fixed array searched linearly under one
 * mutex: max_users is small (default 4096) and the work per request is a
 * few string compares, far below the cost of the request itself; a full
 * table forgets the user seen longest ago, who then starts with a full
 * bucket -- the limit can be dodged only by 4096 users at once, which is
 * what a per-user limit is not for anyway.  Memory is bounded by max_users.
 */
#include "net/ratelimit.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/store.h"

typedef struct bucket {
    char user[VX_STORE_MAX_USER + 1];
    double tokens;
    double last_s;
    int used;
} bucket;

struct vx__ratelimit {
    double rate_per_s, burst;
    size_t cap;
    bucket *b;
    pthread_mutex_t lock;
};

vx__ratelimit *vx__ratelimit_new(double per_min, double burst, size_t max_users)
{
    vx__ratelimit *r;
    if (!(per_min > 0.0) || max_users == 0)
        return NULL;
    r = calloc(1, sizeof *r);
    if (!r)
        return NULL;
    r->b = calloc(max_users, sizeof *r->b);
    if (!r->b) {
        free(r);
        return NULL;
    }
    r->rate_per_s = per_min / 60.0;
    r->burst = burst >= 1.0 ? burst : 1.0;
    r->cap = max_users;
    pthread_mutex_init(&r->lock, NULL);
    return r;
}

void vx__ratelimit_free(vx__ratelimit *r)
{
    if (!r)
        return;
    pthread_mutex_destroy(&r->lock);
    free(r->b);
    free(r);
}

int vx__ratelimit_take(vx__ratelimit *r, const char *user, double now_s, double *retry_s)
{
    bucket *hit = NULL, *free_b = NULL, *oldest = NULL;
    int ok;
    if (retry_s)
        *retry_s = 0.0;
    if (!r || !user)
        return 1;
    pthread_mutex_lock(&r->lock);
    for (size_t i = 0; i < r->cap; i++) {
        bucket *b = &r->b[i];
        if (!b->used) {
            if (!free_b)
                free_b = b;
            continue;
        }
        if (!strcmp(b->user, user)) {
            hit = b;
            break;
        }
        if (!oldest || b->last_s < oldest->last_s)
            oldest = b;
    }
    if (!hit) {
        hit = free_b ? free_b : oldest;
        memset(hit, 0, sizeof *hit);
        hit->used = 1;
        snprintf(hit->user, sizeof hit->user, "%s", user);
        hit->tokens = r->burst;
        hit->last_s = now_s;
    }
    if (now_s > hit->last_s) {
        hit->tokens += (now_s - hit->last_s) * r->rate_per_s;
        if (hit->tokens > r->burst)
            hit->tokens = r->burst;
        hit->last_s = now_s;
    }
    ok = hit->tokens >= 1.0;
    if (ok)
        hit->tokens -= 1.0;
    else if (retry_s)
        *retry_s = (1.0 - hit->tokens) / r->rate_per_s;
    pthread_mutex_unlock(&r->lock);
    return ok;
}
