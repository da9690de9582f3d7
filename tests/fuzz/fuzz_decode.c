/*
 * fuzz_decode.c -- libFuzzer target: arbitrary bytes through the whole
 * in-memory decode path (libsndfile open, mono mix, soxr resample).
 *
 * DESIGN: the limits are small (5 s) so one input stays fast however its
 * header lies; the result is touched so the decoder's output is read under
 * the sanitizers; errors are the expected outcome for most inputs and must
 * carry a one-line message.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "voxclone/voxclone.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
const char *__lsan_default_suppressions(void);

/* libvorbis (through libsndfile 1.2.0) leaks its vorbis_info on some
 * malformed Ogg headers: known upstream (xiph/vorbis#125), not ours.  Only
 * allocations made inside libvorbis are ignored, so a reader we forget to
 * close (libsndfile's own allocations) is still reported. */
const char *__lsan_default_suppressions(void)
{
    return "leak:libvorbis.so\n";
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    vx_decode_opts opts;
    vx_decode_opts_init(&opts);
    opts.min_duration_s = 0.0;
    opts.max_duration_s = 5.0;
    vx_audio *audio = NULL;
    vx_error err;
    int rc = vx_audio_decode_memory(data, size, &opts, &audio, &err);
    if (rc == VX_OK) {
        if (!audio || audio->sample_rate_hz != VX_ANALYSIS_RATE_HZ)
            abort();
        volatile float sink = 0.0f;
        for (size_t i = 0; i < audio->n_samples; i++)
            sink += audio->samples[i];
        (void)sink;
        vx_audio_free(audio);
    } else {
        if (audio || err.code != rc || err.message[0] == '\0' ||
            memchr(err.message, '\n', strlen(err.message)))
            abort();
    }
    return 0;
}
