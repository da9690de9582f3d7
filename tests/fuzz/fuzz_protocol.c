/*
 * fuzz_protocol.c -- libFuzzer target: arbitrary bytes through the wire
 * protocol decoder (src/ipc/protocol.c).
 *
 * DESIGN: the input is a multipart message in the flat form of
 * vx_proto_pack (per frame a 4-byte big-endian length, then the bytes), so
 * the fuzzer controls the frame count and every frame; an input that does
 * not split cleanly is decoded as a single frame instead, so no input is
 * wasted.  A message that decodes must re-encode, and the re-encoded frames
 * must decode to the same fields (the round trip is lossless); a failure
 * must be EINVAL or ELIMIT with a one-line message.  Anything else aborts.
 * Seeds: tests/fuzz/corpus/protocol (valid messages of every type and
 * broken ones), replayed by ctest in every build.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ipc/protocol.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_err(int rc, const vx_error *err)
{
    if ((rc != VX_EINVAL && rc != VX_ELIMIT && rc != VX_ENOMEM) || err->code != rc ||
        err->message[0] == '\0' || memchr(err->message, '\n', strlen(err->message)))
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    vx_frame fr[VX_PROTO_MAX_FRAMES + 2];
    size_t n = 0;
    vx_error err;
    if (vx_proto_unpack(data, size, fr, VX_PROTO_MAX_FRAMES + 2, &n, &err) != VX_OK) {
        fr[0].data = data;
        fr[0].len = size;
        n = 1;
    }
    vx_msg m;
    int rc = vx_proto_decode(fr, n, &m, &err);
    if (rc != VX_OK) {
        check_err(rc, &err);
        return 0;
    }
    /* round trip */
    uint8_t tf[VX_PROTO_TYPE_FRAME_LEN];
    char *hdr = NULL;
    size_t hl = 0;
    rc = vx_proto_encode(&m, tf, &hdr, &hl, &err);
    if (rc != VX_OK)
        abort(); /* what decodes must encode */
    vx_frame f2[VX_PROTO_MAX_FRAMES];
    f2[0].data = tf;
    f2[0].len = sizeof tf;
    f2[1].data = hdr;
    f2[1].len = hl;
    for (size_t i = 0; i < m.n_payload; i++)
        f2[2 + i] = m.payload[i];
    vx_msg d;
    rc = vx_proto_decode(f2, 2 + m.n_payload, &d, &err);
    if (rc != VX_OK)
        abort();
    if (d.type != m.type || d.attempt != m.attempt || d.capacity != m.capacity ||
        d.deadline_ms != m.deadline_ms || d.status != m.status || d.in_flight != m.in_flight ||
        d.heartbeat_ms != m.heartbeat_ms || d.n_payload != m.n_payload ||
        strcmp(d.task_id, m.task_id) != 0 || strcmp(d.kind, m.kind) != 0 ||
        strcmp(d.worker_id, m.worker_id) != 0 || strcmp(d.instance, m.instance) != 0 || strcmp(d.message, m.message) != 0 ||
        strcmp(d.stage, m.stage) != 0 || (!d.body_json) != (!m.body_json) ||
        (d.body_json && strcmp(d.body_json, m.body_json) != 0))
        abort();
    /* reals may print differently but must parse back to the same value */
    if (d.progress != m.progress)
        abort();
    volatile uint8_t sink = 0;
    for (size_t i = 0; i < d.n_payload; i++)
        if (d.payload[i].len)
            sink ^= ((const uint8_t *)d.payload[i].data)[d.payload[i].len - 1];
    (void)sink;
    free(hdr);
    vx_msg_clear(&d);
    vx_msg_clear(&m);
    return 0;
}
