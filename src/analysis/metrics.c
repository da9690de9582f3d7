/* PLACEHOLDER: replaced by the voice-metrics implementation (issue 4). */
#include "analysis/detailed.h"

int vx__metrics_compute(const float *x, size_t n, int sr_hz, const vx__frame_data *fd,
                        vx_voice_metrics *out)
{
    (void)x;
    (void)n;
    (void)sr_hz;
    (void)fd;
    (void)out;
    return VX_EINTERNAL;
}
