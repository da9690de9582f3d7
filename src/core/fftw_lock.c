/*
 * fftw_lock.c -- the library's one FFTW planner lock, and a small cache of
 * shared plans.
 *
 * DESIGN: planning, even with FFTW_ESTIMATE, costs far more than a transform
 * (measured: ~8 M instructions for one 2048-point r2c plan, about what 800
 * transforms cost), and the analysis used to plan three transforms per
 * analyzer and per worker thread -- most of the fixed cost of analysing a
 * short voice message.  An FFTW_ESTIMATE plan depends only on the transform's
 * shape and the arrays' alignment, never on their contents, so one plan per
 * shape serves every caller: callers run it with the new-array execute
 * functions (thread-safe) on fftwf_malloc'd buffers, which have the
 * alignment of the scratch arrays the plan was made on.  The first use of
 * the lock imports the wisdom the build recorded for the analysis's shapes
 * (scripts/fftw-wisdom-gen.c), so even the first plan of a process skips
 * most of FFTW's planner.  The results are the
 * same bits as with a private plan of the same shape.  Plans and scratch
 * arrays stay allocated for the process's lifetime (a fixed handful, held by
 * static pointers, so leak checkers see them as reachable).
 */
#include "core/fftw_lock.h"

#include <pthread.h>
#include <stddef.h>

static pthread_mutex_t vx__fftw_mutex = PTHREAD_MUTEX_INITIALIZER;

#ifdef VX_HAVE_FFTW_WISDOM
#include "fftw_wisdom.inc" /* the build's wisdom (scripts/fftw-wisdom-gen.c) */
#endif
static int vx__wisdom_state; /* 0 not tried, 1 imported, -1 rejected or none */

void vx__fftw_lock(void)
{
    pthread_mutex_lock(&vx__fftw_mutex);
    if (!vx__wisdom_state) {
#ifdef VX_HAVE_FFTW_WISDOM
        vx__wisdom_state = fftwf_import_wisdom_from_string(vx__fftw_wisdom) ? 1 : -1;
#else
        vx__wisdom_state = -1;
#endif
    }
}

int vx__fftw_wisdom_imported(void)
{
    vx__fftw_lock();
    int s = vx__wisdom_state;
    vx__fftw_unlock();
    return s == 1;
}
void vx__fftw_unlock(void) { pthread_mutex_unlock(&vx__fftw_mutex); }

enum { VX__PLAN_R2C, VX__PLAN_C2C_FWD, VX__PLAN_C2C_BWD };
#define VX__PLAN_CACHE 8

typedef struct vx__plan_entry {
    int kind, n;
    fftwf_plan plan;
    void *in, *out; /* the scratch arrays it was made on */
} vx__plan_entry;

static vx__plan_entry vx__plans[VX__PLAN_CACHE];
static int vx__n_plans;

static fftwf_plan vx__plan_shared(int kind, int n)
{
    if (n < 1)
        return NULL;
    fftwf_plan p = NULL;
    vx__fftw_lock();
    for (int i = 0; i < vx__n_plans; i++)
        if (vx__plans[i].kind == kind && vx__plans[i].n == n) {
            p = vx__plans[i].plan;
            break;
        }
    if (!p && vx__n_plans < VX__PLAN_CACHE) {
        size_t nin = kind == VX__PLAN_R2C ? sizeof(float) * (size_t)n
                                          : sizeof(fftwf_complex) * (size_t)n;
        size_t nout = kind == VX__PLAN_R2C ? sizeof(fftwf_complex) * (size_t)(n / 2 + 1)
                                           : sizeof(fftwf_complex) * (size_t)n;
        void *in = fftwf_malloc(nin), *out = fftwf_malloc(nout);
        if (in && out) {
            if (kind == VX__PLAN_R2C)
                p = fftwf_plan_dft_r2c_1d(n, in, out, FFTW_ESTIMATE);
            else
                p = fftwf_plan_dft_1d(n, in, out,
                                      kind == VX__PLAN_C2C_FWD ? FFTW_FORWARD : FFTW_BACKWARD,
                                      FFTW_ESTIMATE);
        }
        if (p) {
            vx__plans[vx__n_plans] = (vx__plan_entry){kind, n, p, in, out};
            vx__n_plans++;
        } else {
            fftwf_free(in);
            fftwf_free(out);
        }
    }
    vx__fftw_unlock();
    return p;
}

fftwf_plan vx__fftwf_plan_shared_r2c(int n) { return vx__plan_shared(VX__PLAN_R2C, n); }

fftwf_plan vx__fftwf_plan_shared_c2c(int n, int sign)
{
    if (sign != FFTW_FORWARD && sign != FFTW_BACKWARD)
        return NULL;
    return vx__plan_shared(sign == FFTW_FORWARD ? VX__PLAN_C2C_FWD : VX__PLAN_C2C_BWD, n);
}
