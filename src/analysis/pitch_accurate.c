/* PLACEHOLDER: replaced by the accurate pitch mode (issue 4). */
#include "analysis/detailed.h"

int vx__pitch_accurate(const float *x, size_t n, int sr_hz, const vx__frame_data *fd,
                       double *f0_hz_out, uint8_t *voiced_out)
{
    (void)x;
    (void)n;
    (void)sr_hz;
    (void)fd;
    (void)f0_hz_out;
    (void)voiced_out;
    return VX_EINTERNAL;
}
