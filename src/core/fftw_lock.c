#include "core/fftw_lock.h"

#include <pthread.h>

static pthread_mutex_t vx__fftw_mutex = PTHREAD_MUTEX_INITIALIZER;

void vx__fftw_lock(void) { pthread_mutex_lock(&vx__fftw_mutex); }
void vx__fftw_unlock(void) { pthread_mutex_unlock(&vx__fftw_mutex); }
