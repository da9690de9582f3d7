/*
 * metrics_rate.c -- speaking rate in syllable nuclei per second, after
 * de Jong, N. H. & Wempe, T. (2009) "Praat script to detect syllable nuclei
 * and measure speech rate automatically", Behavior Research Methods 41(2):
 * 385-390.
 *
 * DESIGN: the paper's method, with its published parameters:
 *   1. intensity contour as Praat's "To Intensity: 50, 0, yes" (Kaiser
 *      window, beta = 2 pi^2 + 0.5, 6.4 / 50 Hz = 128 ms long, time step
 *      0.8 / 50 Hz = 16 ms, mean subtracted, dB);
 *   2. threshold = 99th percentile of the intensity - 25 dB ("silence
 *      threshold"), but not below the minimum intensity;
 *   3. candidate nuclei = intensity peaks above the threshold;
 *   4. a peak counts when the intensity dips by more than 2 dB ("minimum
 *      dip") between it and the next peak (so, as in the script, the last
 *      peak is never counted);
 *   5. and when it is voiced.  The paper asks Praat's pitch tracker; here
 *      the voicing decision of the default analysis (pYIN) at the nearest
 *      frame is used, so that the "voiced" of this metric is the same as
 *      the voiced ratio's.
 * Rate = counted nuclei / total duration (the paper's "speech rate"; the
 * articulation rate, which leaves pauses out, is not reported).  Peak values
 * are refined by parabolic interpolation (the script uses sinc / cubic
 * interpolation of the contour; the difference is far below the 2 dB dip).
 */
#include <math.h>
#include <stdlib.h>

#include "analysis/metrics_internal.h"

#define MIN_PITCH_HZ 50.0
#define SILENCE_DB (-25.0)
#define MIN_DIP_DB 2.0
#define BLOCK 8 /* samples per partial sum */

static double bessel_i0(double x)
{
    double sum = 1.0, term = 1.0;
    const double q = 0.25 * x * x;
    for (int k = 1; k < 500; k++) {
        term *= q / ((double)k * (double)k);
        sum += term;
        if (term < sum * 1e-17)
            break;
    }
    return sum;
}

static int cmp_double(const void *a, const void *b)
{
    const double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y ? 1 : 0;
}

/* Praat's NUMquantile on sorted a[0..n-1] */
static double quantile_sorted(const double *a, size_t n, double factor)
{
    const double place = factor * (double)n + 0.5;
    const long left = (long)floor(place);
    if (n == 0)
        return NAN;
    if (n == 1 || left < 1)
        return a[0];
    if (left >= (long)n)
        return a[n - 1];
    return a[left - 1] + (place - (double)left) * (a[left] - a[left - 1]);
}

int vx__speaking_rate(const float *x, size_t n, double fs, const vx__frame_data *fd,
                      double *out)
{
    *out = NAN;
    const double dur = (double)n / fs;
    if (n == 0 || !fd || fd->n_frames == 0)
        return VX_OK;
    const double win_dur = 6.4 / MIN_PITCH_HZ, dt = 0.8 / MIN_PITCH_HZ;
    if (win_dur > dur) {
        *out = 0.0; /* too short to hold one syllable frame */
        return VX_OK;
    }
    const size_t nf = (size_t)floor((dur - win_dur) / dt) + 1;
    const double t1 = 0.5 * dur - 0.5 * (double)nf * dt + 0.5 * dt;
    const long half = (long)floor(0.5 * win_dur * fs);
    const long wn = 2 * half + 1;
    /* sums of x and x^2 over blocks of BLOCK samples, computed once: each
     * frame then weighs whole blocks by the window at the block centre.  The
     * 128 ms window changes by < 1 % across a 0.36 ms block, so the frame
     * intensities move by < 0.05 dB, and every sample's energy counts. */
    const size_t nbk = (n + BLOCK - 1) / BLOCK;
    double *w = malloc((size_t)wn * sizeof *w);
    double *db = malloc(nf * sizeof *db);
    double *sorted = malloc(nf * sizeof *sorted);
    double *bs = malloc(nbk * sizeof *bs), *bss = malloc(nbk * sizeof *bss);
    if (!w || !db || !sorted || !bs || !bss) {
        free(w);
        free(db);
        free(sorted);
        free(bs);
        free(bss);
        return VX_ENOMEM;
    }
    const double beta = 2.0 * VX__MET_PI * VX__MET_PI + 0.5, i0b = bessel_i0(beta);
    for (long i = -half; i <= half; i++) {
        const double r = (double)i / ((double)half + 1.0);
        w[i + half] = bessel_i0(beta * sqrt(1.0 - r * r)) / i0b;
    }
    for (size_t k = 0; k < nbk; k++) {
        double a = 0.0, b = 0.0;
        for (size_t i = k * BLOCK; i < (k + 1) * BLOCK && i < n; i++) {
            a += x[i];
            b += (double)x[i] * x[i];
        }
        bs[k] = a;
        bss[k] = b;
    }
    for (size_t f = 0; f < nf; f++) {
        const double t = t1 + (double)f * dt;
        const long mid = (long)floor(t * fs); /* sample nearest to t */
        long k0 = (mid - half) / BLOCK, k1 = (mid + half) / BLOCK;
        if (mid - half < 0)
            k0 = 0;
        if (k1 > (long)nbk - 1)
            k1 = (long)nbk - 1;
        double sw = 0.0, sx = 0.0, sxx = 0.0;
        for (long k = k0; k <= k1; k++) {
            const long off = k * BLOCK + BLOCK / 2 - mid; /* block centre - frame centre */
            if (off < -half || off > half)
                continue;
            const double wi = w[off + half];
            const long cnt = (size_t)(k + 1) * BLOCK <= n ? BLOCK : (long)(n - (size_t)k * BLOCK);
            sw += wi * (double)cnt;
            sx += wi * bs[k];
            sxx += wi * bss[k];
        }
        double p = 0.0;
        if (sw > 0.0) {
            const double mean = sx / sw;
            p = sxx / sw - mean * mean;
        }
        db[f] = p < 1e-30 ? -300.0 : 10.0 * log10(p / 4.0e-10);
    }
    for (size_t f = 0; f < nf; f++)
        sorted[f] = db[f];
    qsort(sorted, nf, sizeof *sorted, cmp_double);
    const double vmin = sorted[0];
    const double max99 = quantile_sorted(sorted, nf, 0.99);
    double threshold = max99 + SILENCE_DB;
    if (threshold < vmin)
        threshold = vmin;

    /* peaks above the threshold; then the dip rule between consecutive ones */
    size_t count = 0;
    long prev = -1;        /* previous peak frame */
    double prev_val = 0.0; /* its (refined) intensity */
    for (size_t f = 1; f + 1 < nf; f++) {
        if (!(db[f] > db[f - 1] && db[f] >= db[f + 1]))
            continue;
        const double d2 = db[f - 1] - 2.0 * db[f] + db[f + 1];
        const double d1 = 0.5 * (db[f + 1] - db[f - 1]);
        const double val = d2 < 0.0 ? db[f] - 0.5 * d1 * d1 / d2 : db[f];
        if (!(val > threshold))
            continue;
        if (prev >= 0) {
            double dip = db[prev];
            for (long k = prev; k <= (long)f; k++)
                if (db[k] < dip)
                    dip = db[k];
            if (fabs(prev_val - dip) > MIN_DIP_DB) {
                const double tp = t1 + (double)prev * dt;
                if (fd->voiced[vx__nearest_pyin_frame(tp, fs, fd->n_frames)])
                    count++;
            }
            prev_val = db[f]; /* the script reads the next peak "nearest" */
        } else {
            prev_val = val;
        }
        prev = (long)f;
    }
    *out = (double)count / dur;
    free(w);
    free(db);
    free(sorted);
    free(bs);
    free(bss);
    return VX_OK;
}
