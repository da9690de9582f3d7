/*
 * metrics_loudness.c -- integrated loudness, ITU-R BS.1770-4 ("Algorithms
 * to measure audio programme loudness and true-peak audio level", 10/2015),
 * in LUFS (= LKFS).
 *
 * DESIGN: the recommendation tabulates its K-weighting filter only for
 * 48 kHz; analysis here runs at 22 050 Hz, so both stages are designed for
 * the actual rate from their analogue prototypes by the bilinear transform
 * with frequency pre-warping (K = tan(pi f0 / fs)).  The prototype
 * parameters (shelf: f0 = 1681.97 Hz, gain 4.0 dB, Q = 0.7072; high-pass:
 * f0 = 38.135 Hz, Q = 0.5003) are those that reproduce the 48 kHz
 * coefficients of BS.1770-4 Table 1 and 2 to all printed digits (the same
 * derivation libebur128 uses).  Then, as in the recommendation:
 * mean square of the K-weighted signal over 400 ms blocks with 75 % overlap,
 * block loudness -0.691 + 10 log10(z), absolute gate at -70 LUFS, relative
 * gate 10 LU below the loudness of the blocks above the absolute gate, and
 * the integrated loudness of the blocks passing both gates.  The signal is
 * mono with channel weight 1.0, so a full-scale 997 Hz sine reads
 * -3.01 LUFS as the recommendation requires.  Filtering is in double
 * precision; the per-100 ms sums of squares are kept (one double per
 * 100 ms), so memory does not grow with the signal beyond that.
 */
#include <math.h>
#include <stdlib.h>

#include "analysis/metrics_internal.h"

typedef struct biquad {
    double b0, b1, b2, a1, a2;
} biquad;

static biquad k_shelf(double fs)
{
    const double f0 = 1681.974450955533, gain_db = 3.999843853973347, q = 0.7071752369554196;
    const double k = tan(VX__MET_PI * f0 / fs);
    const double vh = pow(10.0, gain_db / 20.0);
    const double vb = pow(vh, 0.4996667741545416);
    const double a0 = 1.0 + k / q + k * k;
    biquad c;
    c.b0 = (vh + vb * k / q + k * k) / a0;
    c.b1 = 2.0 * (k * k - vh) / a0;
    c.b2 = (vh - vb * k / q + k * k) / a0;
    c.a1 = 2.0 * (k * k - 1.0) / a0;
    c.a2 = (1.0 - k / q + k * k) / a0;
    return c;
}

static biquad k_highpass(double fs)
{
    const double f0 = 38.13547087602444, q = 0.5003270373238773;
    const double k = tan(VX__MET_PI * f0 / fs);
    const double a0 = 1.0 + k / q + k * k;
    biquad c;
    c.b0 = 1.0;
    c.b1 = -2.0;
    c.b2 = 1.0;
    c.a1 = 2.0 * (k * k - 1.0) / a0;
    c.a2 = (1.0 - k / q + k * k) / a0;
    return c;
}

int vx__loudness_lufs(const float *x, size_t n, double fs, double *out)
{
    *out = NAN;
    const size_t step = (size_t)floor(0.1 * fs + 0.5);
    const size_t block = (size_t)floor(0.4 * fs + 0.5);
    if (step == 0 || n < block)
        return VX_OK;
    const size_t nseg = n / step;
    const size_t nblocks = (n - block) / step + 1;
    const int four = block == 4 * step; /* blocks are exactly 4 segments */
    double *seg = malloc((four ? nseg : n) * sizeof *seg);
    if (!seg)
        return VX_ENOMEM;
    const biquad s1 = k_shelf(fs), s2 = k_highpass(fs);
    double x1 = 0, x2 = 0, y1 = 0, y2 = 0, z1 = 0, z2 = 0; /* filter states */
    double acc = 0.0;
    for (size_t i = 0; i < n; i++) {
        const double in = x[i];
        const double y = s1.b0 * in + s1.b1 * x1 + s1.b2 * x2 - s1.a1 * y1 - s1.a2 * y2;
        x2 = x1;
        x1 = in;
        const double z = s2.b0 * y + s2.b1 * y1 + s2.b2 * y2 - s2.a1 * z1 - s2.a2 * z2;
        y2 = y1;
        y1 = y;
        z2 = z1;
        z1 = z;
        if (four) {
            acc += z * z;
            if ((i + 1) % step == 0) {
                seg[(i + 1) / step - 1] = acc;
                acc = 0.0;
            }
        } else {
            seg[i] = z * z; /* rare rates: keep every squared sample */
        }
    }
    /* block mean squares, absolute gate */
    double sum_abs = 0.0;
    size_t n_abs = 0;
    double *zb = malloc(nblocks * sizeof *zb);
    if (!zb) {
        free(seg);
        return VX_ENOMEM;
    }
    for (size_t j = 0; j < nblocks; j++) {
        double s = 0.0;
        if (four) {
            s = seg[j] + seg[j + 1] + seg[j + 2] + seg[j + 3];
        } else {
            for (size_t i = j * step; i < j * step + block; i++)
                s += seg[i];
        }
        zb[j] = s / (double)block;
        const double l = -0.691 + 10.0 * log10(zb[j]);
        if (l > -70.0) {
            sum_abs += zb[j];
            n_abs++;
        } else {
            zb[j] = -1.0; /* gated out */
        }
    }
    if (n_abs > 0) {
        const double rel_gate = -0.691 + 10.0 * log10(sum_abs / (double)n_abs) - 10.0;
        double sum = 0.0;
        size_t cnt = 0;
        for (size_t j = 0; j < nblocks; j++) {
            if (zb[j] < 0.0)
                continue;
            if (-0.691 + 10.0 * log10(zb[j]) > rel_gate) {
                sum += zb[j];
                cnt++;
            }
        }
        if (cnt > 0)
            *out = -0.691 + 10.0 * log10(sum / (double)cnt);
    }
    free(zb);
    free(seg);
    return VX_OK;
}
