/*
 * test_protocol.c -- the gateway <-> worker wire protocol: encode/decode
 * round trips of every message type and every malformed / oversized case.
 *
 * DESIGN: messages are built as vx_msg, encoded, then decoded from the
 * frames the encoder produced, so both directions are exercised by the same
 * assertions; malformed inputs are hand-written frames.  Oversized frames
 * use a real buffer only where the decoder would read it (the header);
 * payload sizes are checked from lengths alone, so a 1-byte buffer with a
 * huge length proves the limit is enforced before any read.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "ipc/protocol.h"

static const char *UUID = "0f8fad5b-d9cb-469f-a165-70867728950e";

/* Encodes m and decodes it back into out (must succeed). */
static void roundtrip(const vx_msg *m, vx_msg *out)
{
    uint8_t tf[VX_PROTO_TYPE_FRAME_LEN];
    char *hdr = NULL;
    size_t hl = 0;
    vx_error err;
    int rc = vx_proto_encode(m, tf, &hdr, &hl, &err);
    if (rc != VX_OK)
        fail_msg("encode %s: %s", vx_proto_type_name(m->type), err.message);
    assert_int_equal(hl, strlen(hdr));
    assert_true(hl <= VX_PROTO_MAX_HEADER);
    vx_frame fr[VX_PROTO_MAX_FRAMES];
    fr[0].data = tf;
    fr[0].len = sizeof tf;
    fr[1].data = hdr;
    fr[1].len = hl;
    for (size_t i = 0; i < m->n_payload; i++)
        fr[2 + i] = m->payload[i];
    rc = vx_proto_decode(fr, 2 + m->n_payload, out, &err);
    if (rc != VX_OK)
        fail_msg("decode %s: %s (header %s)", vx_proto_type_name(m->type), err.message, hdr);
    free(hdr);
    assert_int_equal(out->type, m->type);
    assert_int_equal(out->version, VX_PROTO_VERSION);
}

/* Expects decode of (type frame for type, header text, payloads) to fail with code. */
static void expect_decode(int code, int type, const char *header, size_t n_payload, const char *why)
{
    uint8_t tf[4] = {'V', 'X', VX_PROTO_VERSION, (uint8_t)type};
    static const char pay[] = "pcm";
    vx_frame fr[VX_PROTO_MAX_FRAMES + 4];
    fr[0].data = tf;
    fr[0].len = 4;
    fr[1].data = header;
    fr[1].len = strlen(header);
    for (size_t i = 0; i < n_payload; i++) {
        fr[2 + i].data = pay;
        fr[2 + i].len = 3;
    }
    vx_msg m;
    vx_error err;
    int rc = vx_proto_decode(fr, 2 + n_payload, &m, &err);
    if (rc != code)
        fail_msg("%s: decode returned %s (%s), expected %s", why, vx_status_name(rc),
                 rc ? err.message : "ok", vx_status_name(code));
    assert_int_equal(err.code, code);
    assert_true(err.message[0] != '\0');
    assert_null(strchr(err.message, '\n'));
    assert_null(m.body_json);
}

static void expect_encode(int code, const vx_msg *m, const char *why)
{
    uint8_t tf[VX_PROTO_TYPE_FRAME_LEN];
    char *hdr = (char *)1;
    size_t hl = 1;
    vx_error err;
    int rc = vx_proto_encode(m, tf, &hdr, &hl, &err);
    if (rc != code)
        fail_msg("%s: encode returned %s, expected %s", why, vx_status_name(rc), vx_status_name(code));
    assert_null(hdr);
    assert_int_equal(hl, 0);
    assert_true(err.message[0] != '\0');
}

static void test_roundtrip_control(void **state)
{
    (void)state;
    vx_msg m, d;
    vx_msg_init(&m, VX_MSG_HELLO);
    snprintf(m.worker_id, sizeof m.worker_id, "w-host1:42.a_b");
    m.capacity = 4;
    m.protocol = 1;
    roundtrip(&m, &d);
    assert_string_equal(d.worker_id, "w-host1:42.a_b");
    assert_int_equal(d.capacity, 4);
    assert_int_equal(d.protocol, 1);
    assert_string_equal(d.instance, "");
    vx_msg_clear(&d);
    snprintf(m.instance, sizeof m.instance, "i-1234");
    roundtrip(&m, &d);
    assert_string_equal(d.instance, "i-1234");
    vx_msg_clear(&d);
    snprintf(m.instance, sizeof m.instance, "bad instance");
    expect_encode(VX_EINVAL, &m, "instance with a space");

    vx_msg_init(&m, VX_MSG_READY);
    snprintf(m.broker_id, sizeof m.broker_id, "broker-1");
    m.heartbeat_ms = 1000;
    m.heartbeat_timeout_ms = 3000;
    roundtrip(&m, &d);
    assert_string_equal(d.broker_id, "broker-1");
    assert_int_equal(d.heartbeat_ms, 1000);
    assert_int_equal(d.heartbeat_timeout_ms, 3000);
    vx_msg_clear(&d);

    vx_msg_init(&m, VX_MSG_HEARTBEAT);
    roundtrip(&m, &d);
    assert_int_equal(d.in_flight, -1);
    vx_msg_clear(&d);
    m.in_flight = 3;
    roundtrip(&m, &d);
    assert_int_equal(d.in_flight, 3);
    vx_msg_clear(&d);

    vx_msg_init(&m, VX_MSG_BYE);
    roundtrip(&m, &d);
    assert_string_equal(d.message, "");
    snprintf(m.message, sizeof m.message, "worker stopping \xc3\xa9");
    roundtrip(&m, &d);
    assert_string_equal(d.message, "worker stopping \xc3\xa9");
    vx_msg_clear(&d);
}

static void test_roundtrip_task(void **state)
{
    (void)state;
    static const char a[] = "RIFF....WAVE", b2[] = {0, 1, 2, 0, (char)0xff};
    vx_msg m, d;
    vx_msg_init(&m, VX_MSG_TASK);
    snprintf(m.task_id, sizeof m.task_id, "%s", UUID);
    snprintf(m.kind, sizeof m.kind, "clone_item");
    m.attempt = 2;
    m.deadline_ms = 1700000000123LL;
    m.body_json = "{\"language\": \"fr\", \"text\": \"Bonjour\", \"n\": [1, 2]}";
    m.n_payload = 3;
    m.payload[0].data = a;
    m.payload[0].len = sizeof a - 1;
    m.payload[1].data = b2;
    m.payload[1].len = sizeof b2;
    m.payload[2].data = NULL;
    m.payload[2].len = 0;
    roundtrip(&m, &d);
    assert_string_equal(d.task_id, UUID);
    assert_string_equal(d.kind, "clone_item");
    assert_int_equal(d.attempt, 2);
    assert_true(d.deadline_ms == 1700000000123LL);
    assert_string_equal(d.body_json, "{\"language\":\"fr\",\"text\":\"Bonjour\",\"n\":[1,2]}");
    assert_int_equal(d.n_payload, 3);
    assert_int_equal(d.payload[1].len, sizeof b2);
    assert_memory_equal(d.payload[1].data, b2, sizeof b2);
    assert_int_equal(d.payload[2].len, 0);
    vx_msg_clear(&d);
    assert_null(d.body_json);

    /* no args: {} on the wire, NULL after decode */
    m.body_json = NULL;
    m.n_payload = 0;
    m.deadline_ms = 0;
    roundtrip(&m, &d);
    assert_null(d.body_json);
    assert_int_equal(d.n_payload, 0);
    vx_msg_clear(&d);
}

static void test_roundtrip_replies(void **state)
{
    (void)state;
    vx_msg m, d;
    vx_msg_init(&m, VX_MSG_PROGRESS);
    snprintf(m.task_id, sizeof m.task_id, "%s", UUID);
    m.attempt = 1;
    m.progress = 0.25;
    snprintf(m.stage, sizeof m.stage, "cloned");
    roundtrip(&m, &d);
    assert_true(fabs(d.progress - 0.25) < 1e-12);
    assert_string_equal(d.stage, "cloned");
    vx_msg_clear(&d);

    static const char audio[] = "ID3....";
    vx_msg_init(&m, VX_MSG_RESULT);
    snprintf(m.task_id, sizeof m.task_id, "%s", UUID);
    m.attempt = 3;
    m.body_json = "{\"similarity\":0.5}";
    m.n_payload = 1;
    m.payload[0].data = audio;
    m.payload[0].len = sizeof audio;
    roundtrip(&m, &d);
    assert_int_equal(d.attempt, 3);
    assert_string_equal(d.body_json, "{\"similarity\":0.5}");
    assert_int_equal(d.n_payload, 1);
    vx_msg_clear(&d);

    vx_msg_init(&m, VX_MSG_ERROR);
    snprintf(m.task_id, sizeof m.task_id, "%s", UUID);
    m.attempt = 1;
    m.status = VX_ETOOSHORT;
    snprintf(m.message, sizeof m.message, "audio is 0.2 s, need 0.5 s");
    roundtrip(&m, &d);
    assert_int_equal(d.status, VX_ETOOSHORT);
    assert_string_equal(d.message, "audio is 0.2 s, need 0.5 s");
    vx_msg_clear(&d);
}

static void test_status_names(void **state)
{
    (void)state;
    assert_int_equal(vx_proto_status_from_name("EINVAL"), VX_EINVAL);
    assert_int_equal(vx_proto_status_from_name("EAUTH"), VX_EAUTH);
    assert_int_equal(vx_proto_status_from_name("OK"), VX_EINTERNAL);
    assert_int_equal(vx_proto_status_from_name("EWHAT"), VX_EINTERNAL);
    assert_int_equal(vx_proto_status_from_name(NULL), VX_EINTERNAL);
    for (int t = VX_MSG_HELLO; t <= VX_MSG_BYE; t++)
        assert_string_not_equal(vx_proto_type_name(t), "UNKNOWN");
    assert_string_equal(vx_proto_type_name(0), "UNKNOWN");
    assert_string_equal(vx_proto_type_name(9), "UNKNOWN");
    assert_true(vx_proto_is_uuid(UUID));
    assert_false(vx_proto_is_uuid("0f8fad5b-d9cb-469f-a165-70867728950"));
    assert_false(vx_proto_is_uuid("0f8fad5b-d9cb-469f-a165-70867728950ee"));
    assert_false(vx_proto_is_uuid("0f8fad5bxd9cb-469f-a165-70867728950e"));
    assert_false(vx_proto_is_uuid("0f8fad5b-d9cb-469f-a165-70867728950g"));
    assert_false(vx_proto_is_uuid(NULL));
    assert_true(vx_proto_kind_valid("analyse"));
    assert_false(vx_proto_kind_valid("Analyse"));
    assert_false(vx_proto_kind_valid(""));
    assert_false(vx_proto_kind_valid("abcdefghijabcdefghijabcdefghijabc")); /* 33 */
    assert_true(vx_proto_id_valid("a"));
    assert_false(vx_proto_id_valid("a b"));
    char id[80];
    memset(id, 'x', 65);
    id[65] = '\0';
    assert_false(vx_proto_id_valid(id));
    id[64] = '\0';
    assert_true(vx_proto_id_valid(id));
}

static void test_encode_rejects(void **state)
{
    (void)state;
    static const char one = 1;
    vx_msg m;
    vx_msg_init(&m, 0);
    expect_encode(VX_EINVAL, &m, "type 0");
    vx_msg_init(&m, 9);
    expect_encode(VX_EINVAL, &m, "type 9");
    vx_msg_init(&m, VX_MSG_HEARTBEAT);
    m.version = 2;
    expect_encode(VX_EINVAL, &m, "version 2");

    vx_msg_init(&m, VX_MSG_HELLO);
    snprintf(m.worker_id, sizeof m.worker_id, "w1");
    m.capacity = 0;
    m.protocol = 1;
    expect_encode(VX_EINVAL, &m, "capacity 0");
    m.capacity = 1;
    m.worker_id[0] = '\0';
    expect_encode(VX_EINVAL, &m, "empty worker id");
    snprintf(m.worker_id, sizeof m.worker_id, "w1");
    m.n_payload = 1;
    m.payload[0].data = &one;
    m.payload[0].len = 1;
    expect_encode(VX_EINVAL, &m, "payload on HELLO");

    vx_msg_init(&m, VX_MSG_TASK);
    snprintf(m.task_id, sizeof m.task_id, "%s", UUID);
    snprintf(m.kind, sizeof m.kind, "analyse");
    m.attempt = 0;
    expect_encode(VX_EINVAL, &m, "attempt 0");
    m.attempt = 1;
    snprintf(m.task_id, sizeof m.task_id, "not-a-uuid");
    expect_encode(VX_EINVAL, &m, "task id");
    snprintf(m.task_id, sizeof m.task_id, "%s", UUID);
    snprintf(m.kind, sizeof m.kind, "Bad Kind");
    expect_encode(VX_EINVAL, &m, "kind");
    snprintf(m.kind, sizeof m.kind, "analyse");
    m.body_json = "[1,2]";
    expect_encode(VX_EINVAL, &m, "args array");
    m.body_json = "{\"a\":";
    expect_encode(VX_EINVAL, &m, "args truncated");
    m.body_json = NULL;
    m.deadline_ms = -1;
    expect_encode(VX_EINVAL, &m, "negative deadline");
    m.deadline_ms = 0;
    m.n_payload = VX_PROTO_MAX_PAYLOAD_FRAMES + 1;
    for (size_t i = 0; i < m.n_payload && i < VX_PROTO_MAX_PAYLOAD_FRAMES; i++) {
        m.payload[i].data = &one;
        m.payload[i].len = 1;
    }
    expect_encode(VX_ELIMIT, &m, "9 payloads");
    m.n_payload = 1;
    m.payload[0].len = (size_t)VX_PROTO_MAX_FRAME + 1; /* never read: lengths are checked first */
    expect_encode(VX_ELIMIT, &m, "payload > 32 MiB");
    m.n_payload = 3;
    for (int i = 0; i < 3; i++)
        m.payload[i].len = VX_PROTO_MAX_FRAME;
    expect_encode(VX_ELIMIT, &m, "total > 64 MiB");
    m.n_payload = 1;
    m.payload[0].data = NULL;
    m.payload[0].len = 5;
    expect_encode(VX_EINVAL, &m, "payload without data");
    m.n_payload = 0;
    /* header > 64 KiB */
    size_t big = VX_PROTO_MAX_HEADER + 10;
    char *args = malloc(big + 16);
    assert_non_null(args);
    memcpy(args, "{\"t\":\"", 6);
    memset(args + 6, 'a', big);
    memcpy(args + 6 + big, "\"}", 3);
    m.body_json = args;
    expect_encode(VX_ELIMIT, &m, "header > 64 KiB");
    free(args);
    m.body_json = NULL;

    vx_msg_init(&m, VX_MSG_PROGRESS);
    snprintf(m.task_id, sizeof m.task_id, "%s", UUID);
    m.attempt = 1;
    m.progress = 1.5;
    expect_encode(VX_EINVAL, &m, "progress 1.5");
    m.progress = NAN;
    expect_encode(VX_EINVAL, &m, "progress NaN");

    vx_msg_init(&m, VX_MSG_ERROR);
    snprintf(m.task_id, sizeof m.task_id, "%s", UUID);
    m.attempt = 1;
    m.status = VX_OK;
    expect_encode(VX_EINVAL, &m, "ERROR with status OK");
    m.status = VX_EIO;
    snprintf(m.message, sizeof m.message, "bad utf-8 \xff\xfe");
    expect_encode(VX_EINVAL, &m, "invalid UTF-8");

    vx_msg_init(&m, VX_MSG_READY);
    snprintf(m.broker_id, sizeof m.broker_id, "b");
    m.heartbeat_ms = 1000;
    m.heartbeat_timeout_ms = 500;
    expect_encode(VX_EINVAL, &m, "timeout < period");

    uint8_t tf[4];
    char *h;
    size_t hl;
    assert_int_equal(vx_proto_encode(NULL, tf, &h, &hl, NULL), VX_EINVAL);
}

static void test_decode_frame_errors(void **state)
{
    (void)state;
    vx_msg m;
    vx_error err;
    uint8_t tf[4] = {'V', 'X', 1, VX_MSG_HEARTBEAT};
    const char *hdr = "{}";
    vx_frame fr[16];
    for (int i = 0; i < 16; i++) {
        fr[i].data = hdr;
        fr[i].len = 2;
    }
    fr[0].data = tf;
    fr[0].len = 4;
    assert_int_equal(vx_proto_decode(fr, 2, &m, &err), VX_OK);
    vx_msg_clear(&m);
    assert_int_equal(vx_proto_decode(fr, 0, &m, &err), VX_EINVAL);
    assert_int_equal(vx_proto_decode(fr, 1, &m, &err), VX_EINVAL);
    assert_int_equal(vx_proto_decode(NULL, 2, &m, &err), VX_EINVAL);
    assert_int_equal(vx_proto_decode(fr, 2, NULL, &err), VX_EINVAL);
    assert_int_equal(vx_proto_decode(fr, VX_PROTO_MAX_FRAMES + 1, &m, &err), VX_ELIMIT);
    assert_non_null(strstr(err.message, "frames"));

    uint8_t bad[5] = {'V', 'X', 1, VX_MSG_HEARTBEAT, 0};
    fr[0].data = bad;
    fr[0].len = 5;
    assert_int_equal(vx_proto_decode(fr, 2, &m, &err), VX_EINVAL); /* type frame length */
    fr[0].len = 3;
    assert_int_equal(vx_proto_decode(fr, 2, &m, &err), VX_EINVAL);
    fr[0].len = 4;
    bad[0] = 'Z';
    assert_int_equal(vx_proto_decode(fr, 2, &m, &err), VX_EINVAL); /* magic */
    bad[0] = 'V';
    bad[2] = 2;
    assert_int_equal(vx_proto_decode(fr, 2, &m, &err), VX_EINVAL); /* version */
    assert_non_null(strstr(err.message, "version 2"));
    bad[2] = 0;
    assert_int_equal(vx_proto_decode(fr, 2, &m, &err), VX_EINVAL);
    bad[2] = 1;
    bad[3] = 0;
    assert_int_equal(vx_proto_decode(fr, 2, &m, &err), VX_EINVAL); /* type 0 */
    bad[3] = 9;
    assert_int_equal(vx_proto_decode(fr, 2, &m, &err), VX_EINVAL);
    bad[3] = 255;
    assert_int_equal(vx_proto_decode(fr, 2, &m, &err), VX_EINVAL);
    fr[0].data = tf;

    /* empty / oversized header */
    fr[1].len = 0;
    assert_int_equal(vx_proto_decode(fr, 2, &m, &err), VX_EINVAL);
    char *big = malloc(VX_PROTO_MAX_HEADER + 1);
    assert_non_null(big);
    memset(big, ' ', VX_PROTO_MAX_HEADER + 1);
    big[0] = '{';
    big[VX_PROTO_MAX_HEADER] = '}';
    fr[1].data = big;
    fr[1].len = VX_PROTO_MAX_HEADER + 1;
    assert_int_equal(vx_proto_decode(fr, 2, &m, &err), VX_ELIMIT);
    fr[1].len = VX_PROTO_MAX_HEADER; /* exactly the limit, but now not closed */
    assert_int_equal(vx_proto_decode(fr, 2, &m, &err), VX_EINVAL);
    big[VX_PROTO_MAX_HEADER - 1] = '}';
    assert_int_equal(vx_proto_decode(fr, 2, &m, &err), VX_OK); /* 64 KiB header is fine */
    vx_msg_clear(&m);
    free(big);

    /* payload limits on a TASK (checked from lengths, before any read) */
    char task_hdr[200];
    snprintf(task_hdr, sizeof task_hdr, "{\"task_id\":\"%s\",\"attempt\":1,\"kind\":\"analyse\"}", UUID);
    uint8_t tt[4] = {'V', 'X', 1, VX_MSG_TASK};
    static const char one[1] = {1};
    fr[0].data = tt;
    fr[1].data = task_hdr;
    fr[1].len = strlen(task_hdr);
    for (int i = 2; i < 16; i++) {
        fr[i].data = one;
        fr[i].len = 1;
    }
    assert_int_equal(vx_proto_decode(fr, 10, &m, &err), VX_OK);
    assert_int_equal(m.n_payload, 8);
    vx_msg_clear(&m);
    assert_int_equal(vx_proto_decode(fr, 11, &m, &err), VX_ELIMIT);
    fr[2].len = (size_t)VX_PROTO_MAX_FRAME + 1;
    assert_int_equal(vx_proto_decode(fr, 3, &m, &err), VX_ELIMIT);
    fr[2].len = VX_PROTO_MAX_FRAME;
    fr[3].len = VX_PROTO_MAX_FRAME;
    assert_int_equal(vx_proto_decode(fr, 4, &m, &err), VX_ELIMIT); /* total */
    assert_non_null(strstr(err.message, "message is"));
    fr[2].len = 3;
    fr[2].data = NULL;
    assert_int_equal(vx_proto_decode(fr, 3, &m, &err), VX_EINVAL);
}

static void test_decode_header_errors(void **state)
{
    (void)state;
    char h[512];
#define T(...) (snprintf(h, sizeof h, __VA_ARGS__), h)
    expect_decode(VX_EINVAL, VX_MSG_HEARTBEAT, "not json", 0, "not json");
    expect_decode(VX_EINVAL, VX_MSG_HEARTBEAT, "[1]", 0, "array");
    expect_decode(VX_EINVAL, VX_MSG_HEARTBEAT, "\"s\"", 0, "string");
    expect_decode(VX_EINVAL, VX_MSG_HEARTBEAT, "{} trailing", 0, "trailing");
    expect_decode(VX_EINVAL, VX_MSG_HEARTBEAT, "{\"a\":1,\"a\":2}", 0, "duplicate keys");
    expect_decode(VX_EINVAL, VX_MSG_HEARTBEAT, "{\"x\":\"\xff\"}", 0, "invalid utf-8");
    expect_decode(VX_EINVAL, VX_MSG_BYE, "{\"reason\":\"a\\u0000b\"}", 0, "NUL in string");
    expect_decode(VX_EINVAL, VX_MSG_HEARTBEAT, "{\"in_flight\":-1}", 0, "in_flight -1");
    expect_decode(VX_EINVAL, VX_MSG_HEARTBEAT, "{\"in_flight\":1.5}", 0, "in_flight real");
    expect_decode(VX_EINVAL, VX_MSG_HEARTBEAT, "{}", 1, "payload on HEARTBEAT");
    expect_decode(VX_EINVAL, VX_MSG_BYE, "{\"reason\":7}", 0, "reason number");
    /* HELLO */
    expect_decode(VX_EINVAL, VX_MSG_HELLO, "{\"capacity\":1,\"protocol\":1}", 0, "no worker_id");
    expect_decode(VX_EINVAL, VX_MSG_HELLO, "{\"worker_id\":\"a b\",\"capacity\":1,\"protocol\":1}", 0,
                  "worker id chars");
    expect_decode(VX_EINVAL, VX_MSG_HELLO, "{\"worker_id\":\"w\",\"capacity\":0,\"protocol\":1}", 0,
                  "capacity 0");
    expect_decode(VX_EINVAL, VX_MSG_HELLO, "{\"worker_id\":\"w\",\"capacity\":1025,\"protocol\":1}", 0,
                  "capacity 1025");
    expect_decode(VX_EINVAL, VX_MSG_HELLO, "{\"worker_id\":\"w\",\"capacity\":\"2\",\"protocol\":1}", 0,
                  "capacity string");
    expect_decode(VX_EINVAL, VX_MSG_HELLO, "{\"worker_id\":\"w\",\"capacity\":2}", 0, "no protocol");
    expect_decode(VX_EINVAL, VX_MSG_HELLO,
                  "{\"worker_id\":\"w\",\"capacity\":2,\"protocol\":1,\"instance\":\"a/b\"}", 0,
                  "instance chars");
    expect_decode(VX_EINVAL, VX_MSG_HELLO,
                  "{\"worker_id\":\"w\",\"capacity\":99999999999999999999,\"protocol\":1}", 0,
                  "integer overflow");
    /* READY */
    expect_decode(VX_EINVAL, VX_MSG_READY, "{\"broker_id\":\"b\",\"heartbeat_ms\":5,\"heartbeat_timeout_ms\":50}",
                  0, "heartbeat 5 ms");
    expect_decode(VX_EINVAL, VX_MSG_READY, "{\"broker_id\":\"b\",\"heartbeat_ms\":1000}", 0,
                  "no timeout");
    /* TASK */
    expect_decode(VX_EINVAL, VX_MSG_TASK, "{\"attempt\":1,\"kind\":\"analyse\"}", 0, "no task id");
    expect_decode(VX_EINVAL, VX_MSG_TASK, T("{\"task_id\":\"%.35s\",\"attempt\":1,\"kind\":\"a\"}", UUID),
                  0, "short uuid");
    expect_decode(VX_EINVAL, VX_MSG_TASK, T("{\"task_id\":\"%s\",\"kind\":\"a\"}", UUID), 0, "no attempt");
    expect_decode(VX_EINVAL, VX_MSG_TASK, T("{\"task_id\":\"%s\",\"attempt\":0,\"kind\":\"a\"}", UUID), 0,
                  "attempt 0");
    expect_decode(VX_EINVAL, VX_MSG_TASK, T("{\"task_id\":\"%s\",\"attempt\":1001,\"kind\":\"a\"}", UUID),
                  0, "attempt 1001");
    expect_decode(VX_EINVAL, VX_MSG_TASK, T("{\"task_id\":\"%s\",\"attempt\":true,\"kind\":\"a\"}", UUID),
                  0, "attempt bool");
    expect_decode(VX_EINVAL, VX_MSG_TASK, T("{\"task_id\":\"%s\",\"attempt\":1}", UUID), 0, "no kind");
    expect_decode(VX_EINVAL, VX_MSG_TASK, T("{\"task_id\":\"%s\",\"attempt\":1,\"kind\":\"A\"}", UUID), 0,
                  "kind upper case");
    expect_decode(VX_EINVAL, VX_MSG_TASK,
                  T("{\"task_id\":\"%s\",\"attempt\":1,\"kind\":\"a\",\"deadline_ms\":-5}", UUID), 0,
                  "negative deadline");
    expect_decode(VX_EINVAL, VX_MSG_TASK,
                  T("{\"task_id\":\"%s\",\"attempt\":1,\"kind\":\"a\",\"args\":[]}", UUID), 0,
                  "args array");
    expect_decode(VX_EINVAL, VX_MSG_TASK, T("{\"task_id\":7,\"attempt\":1,\"kind\":\"a\"}"), 0,
                  "task id number");
    /* PROGRESS / RESULT / ERROR */
    expect_decode(VX_EINVAL, VX_MSG_PROGRESS, T("{\"task_id\":\"%s\",\"attempt\":1}", UUID), 0,
                  "no progress");
    expect_decode(VX_EINVAL, VX_MSG_PROGRESS, T("{\"task_id\":\"%s\",\"attempt\":1,\"progress\":1.01}", UUID),
                  0, "progress > 1");
    expect_decode(VX_EINVAL, VX_MSG_PROGRESS,
                  T("{\"task_id\":\"%s\",\"attempt\":1,\"progress\":\"0.5\"}", UUID), 0, "progress string");
    expect_decode(VX_EINVAL, VX_MSG_PROGRESS,
                  T("{\"task_id\":\"%s\",\"attempt\":1,\"progress\":0.5}", UUID), 1, "payload on PROGRESS");
    expect_decode(VX_EINVAL, VX_MSG_RESULT, T("{\"task_id\":\"%s\",\"attempt\":1,\"result\":3}", UUID), 0,
                  "result number");
    expect_decode(VX_ELIMIT, VX_MSG_RESULT, T("{\"task_id\":\"%s\",\"attempt\":1}", UUID), 9,
                  "9 payloads");
    expect_decode(VX_EINVAL, VX_MSG_ERROR, T("{\"task_id\":\"%s\",\"attempt\":1}", UUID), 0, "no code");
    expect_decode(VX_EINVAL, VX_MSG_ERROR, T("{\"task_id\":\"%s\",\"attempt\":1,\"code\":\"EIO\",\"message\":1}", UUID),
                  0, "message number");
    expect_decode(VX_EINVAL, VX_MSG_ERROR, T("{\"task_id\":\"%s\",\"attempt\":1,\"code\":\"EIO\"}", UUID),
                  1, "payload on ERROR");
#undef T
    /* an unknown error code becomes EINTERNAL (a newer worker), extra fields are ignored */
    char hdr[300];
    snprintf(hdr, sizeof hdr,
             "{\"task_id\":\"%s\",\"attempt\":1,\"code\":\"ENEWTHING\",\"message\":\"m\",\"future\":{}}",
             UUID);
    uint8_t tf[4] = {'V', 'X', 1, VX_MSG_ERROR};
    vx_frame fr[2] = {{tf, 4}, {hdr, strlen(hdr)}};
    vx_msg m;
    assert_int_equal(vx_proto_decode(fr, 2, &m, NULL), VX_OK);
    assert_int_equal(m.status, VX_EINTERNAL);
    vx_msg_clear(&m);
}

static void test_pack_unpack(void **state)
{
    (void)state;
    static const char a[] = "abc", b[] = "";
    vx_frame in[3] = {{a, 3}, {b, 0}, {a, 1}};
    uint8_t *buf = NULL;
    size_t len = 0;
    assert_int_equal(vx_proto_pack(in, 3, &buf, &len, NULL), VX_OK);
    assert_int_equal(len, 4 + 3 + 4 + 0 + 4 + 1);
    vx_frame out[4];
    size_t n = 0;
    assert_int_equal(vx_proto_unpack(buf, len, out, 4, &n, NULL), VX_OK);
    assert_int_equal(n, 3);
    assert_int_equal(out[0].len, 3);
    assert_memory_equal(out[0].data, "abc", 3);
    assert_int_equal(out[1].len, 0);
    assert_int_equal(out[2].len, 1);
    vx_error err;
    assert_int_equal(vx_proto_unpack(buf, len, out, 2, &n, &err), VX_ELIMIT);
    assert_int_equal(vx_proto_unpack(buf, len - 1, out, 4, &n, &err), VX_EINVAL); /* truncated */
    assert_int_equal(vx_proto_unpack(buf, 2, out, 4, &n, &err), VX_EINVAL);
    assert_int_equal(vx_proto_unpack(buf, 0, out, 4, &n, &err), VX_OK);
    assert_int_equal(n, 0);
    buf[0] = 0xff; /* claims 4 GiB */
    assert_int_equal(vx_proto_unpack(buf, len, out, 4, &n, &err), VX_EINVAL);
    free(buf);
    assert_int_equal(vx_proto_pack(NULL, 1, &buf, &len, &err), VX_EINVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_roundtrip_control),
        cmocka_unit_test(test_roundtrip_task),
        cmocka_unit_test(test_roundtrip_replies),
        cmocka_unit_test(test_status_names),
        cmocka_unit_test(test_encode_rejects),
        cmocka_unit_test(test_decode_frame_errors),
        cmocka_unit_test(test_decode_header_errors),
        cmocka_unit_test(test_pack_unpack),
    };
    return cmocka_run_group_tests_name("ipc_protocol", tests, NULL, NULL);
}
