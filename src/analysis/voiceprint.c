/* PLACEHOLDER: replaced by the voiceprint implementation (issue 4). */
#include "analysis/detailed.h"

int vx__voiceprint_compute(const float *x, size_t n, int sr_hz, const vx__frame_data *fd,
                           float *out512, const char **version)
{
    (void)x;
    (void)n;
    (void)sr_hz;
    (void)fd;
    (void)out512;
    (void)version;
    return VX_EINTERNAL;
}
