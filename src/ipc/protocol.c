/*
 * protocol.c -- encode/decode of the gateway <-> worker messages.
 *
 * DESIGN: one table of rules per message type (which header fields are
 * required, whether payload frames are allowed) is checked by the same
 * function on both paths, so what encode accepts is exactly what decode
 * accepts and a round trip is lossless.  Sizes are checked in this order:
 * frame count, each frame, the total, then the JSON is parsed (jansson,
 * length-bounded, duplicates rejected) -- nothing is allocated from a size
 * the peer claims.  Unknown header fields are ignored (forward compatible
 * within a version); an unknown version is refused.
 */
#include "ipc/protocol.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "core/error.h"

void vx_msg_init(vx_msg *m, int type)
{
    memset(m, 0, sizeof *m);
    m->type = type;
    m->version = VX_PROTO_VERSION;
    m->in_flight = -1;
}

void vx_msg_clear(vx_msg *m)
{
    if (!m)
        return;
    free(m->body_json);
    memset(m, 0, sizeof *m);
    m->in_flight = -1;
}

const char *vx_proto_type_name(int type)
{
    switch (type) {
    case VX_MSG_HELLO: return "HELLO";
    case VX_MSG_READY: return "READY";
    case VX_MSG_TASK: return "TASK";
    case VX_MSG_PROGRESS: return "PROGRESS";
    case VX_MSG_RESULT: return "RESULT";
    case VX_MSG_ERROR: return "ERROR";
    case VX_MSG_HEARTBEAT: return "HEARTBEAT";
    case VX_MSG_BYE: return "BYE";
    default: return "UNKNOWN";
    }
}

int vx_proto_status_from_name(const char *name)
{
    if (!name)
        return VX_EINTERNAL;
#define VX__FROM_NAME(n, value, msg)            \
    if (value != 0 && strcmp(name, #n) == 0)    \
        return value;
    VX_STATUS_MAP(VX__FROM_NAME)
#undef VX__FROM_NAME
    return VX_EINTERNAL;
}

static int is_hex(char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

int vx_proto_is_uuid(const char *s)
{
    if (!s)
        return 0;
    for (int i = 0; i < VX_TASK_ID_LEN; i++) {
        int dash = (i == 8 || i == 13 || i == 18 || i == 23);
        if (dash ? s[i] != '-' : !is_hex(s[i]))
            return 0;
    }
    return s[VX_TASK_ID_LEN] == '\0';
}

int vx_proto_id_valid(const char *s)
{
    if (!s || !s[0])
        return 0;
    size_t i = 0;
    for (; s[i]; i++) {
        char c = s[i];
        if (i >= VX_WORKER_ID_MAX)
            return 0;
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '_' || c == ':' || c == '-'))
            return 0;
    }
    return 1;
}

int vx_proto_kind_valid(const char *s)
{
    if (!s || !s[0])
        return 0;
    for (size_t i = 0; s[i]; i++) {
        char c = s[i];
        if (i >= VX_KIND_MAX)
            return 0;
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_'))
            return 0;
    }
    return 1;
}

/* ------------------------------------------------------------------ */
/* rules                                                               */
/* ------------------------------------------------------------------ */
enum {
    F_TASK = 1 << 0,     /* task_id + attempt */
    F_PAYLOAD = 1 << 1,  /* payload frames allowed */
};

static unsigned rules(int type)
{
    switch (type) {
    case VX_MSG_HELLO: return 0;
    case VX_MSG_READY: return 0;
    case VX_MSG_TASK: return F_TASK | F_PAYLOAD;
    case VX_MSG_PROGRESS: return F_TASK;
    case VX_MSG_RESULT: return F_TASK | F_PAYLOAD;
    case VX_MSG_ERROR: return F_TASK;
    case VX_MSG_HEARTBEAT: return 0;
    case VX_MSG_BYE: return 0;
    default: return ~0u;
    }
}

/* The field checks shared by encode and decode. */
static int check_msg(const vx_msg *m, vx_error *err)
{
    unsigned r = rules(m->type);
    const char *tn = vx_proto_type_name(m->type);
    if (r == ~0u)
        return vx__error_set(err, VX_EINVAL, "protocol: unknown message type %d", m->type);
    if (m->version != VX_PROTO_VERSION)
        return vx__error_set(err, VX_EINVAL, "protocol: unsupported version %d (this side speaks %d)",
                             m->version, VX_PROTO_VERSION);
    if (!(r & F_PAYLOAD) && m->n_payload)
        return vx__error_set(err, VX_EINVAL, "protocol: %s carries no payload frames (got %zu)", tn,
                             m->n_payload);
    if (m->n_payload > VX_PROTO_MAX_PAYLOAD_FRAMES)
        return vx__error_set(err, VX_ELIMIT, "protocol: %zu payload frames (limit %d)", m->n_payload,
                             VX_PROTO_MAX_PAYLOAD_FRAMES);
    if (r & F_TASK) {
        if (!vx_proto_is_uuid(m->task_id))
            return vx__error_set(err, VX_EINVAL, "protocol: %s: 'task_id' is not a uuid", tn);
        if (m->attempt < 1 || m->attempt > VX_PROTO_MAX_ATTEMPT)
            return vx__error_set(err, VX_EINVAL, "protocol: %s: 'attempt' must be 1..%d", tn,
                                 VX_PROTO_MAX_ATTEMPT);
    }
    switch (m->type) {
    case VX_MSG_HELLO:
        if (!vx_proto_id_valid(m->worker_id))
            return vx__error_set(err, VX_EINVAL,
                                 "protocol: HELLO: 'worker_id' must be 1..64 of [A-Za-z0-9._:-]");
        if (m->capacity < 1 || m->capacity > VX_PROTO_MAX_CAPACITY)
            return vx__error_set(err, VX_EINVAL, "protocol: HELLO: 'capacity' must be 1..%d",
                                 VX_PROTO_MAX_CAPACITY);
        if (m->protocol < 1 || m->protocol > 255)
            return vx__error_set(err, VX_EINVAL, "protocol: HELLO: 'protocol' must be 1..255");
        if (m->instance[0] && !vx_proto_id_valid(m->instance))
            return vx__error_set(err, VX_EINVAL, "protocol: HELLO: 'instance' is not a valid id");
        break;
    case VX_MSG_READY:
        if (!vx_proto_id_valid(m->broker_id))
            return vx__error_set(err, VX_EINVAL, "protocol: READY: 'broker_id' is not a valid id");
        if (m->heartbeat_ms < 10 || m->heartbeat_ms > 60000)
            return vx__error_set(err, VX_EINVAL, "protocol: READY: 'heartbeat_ms' must be 10..60000");
        if (m->heartbeat_timeout_ms < m->heartbeat_ms || m->heartbeat_timeout_ms > 600000)
            return vx__error_set(err, VX_EINVAL,
                                 "protocol: READY: 'heartbeat_timeout_ms' must be heartbeat_ms..600000");
        break;
    case VX_MSG_TASK:
        if (!vx_proto_kind_valid(m->kind))
            return vx__error_set(err, VX_EINVAL, "protocol: TASK: 'kind' must be 1..32 of [a-z0-9_]");
        if (m->deadline_ms < 0)
            return vx__error_set(err, VX_EINVAL, "protocol: TASK: 'deadline_ms' must be >= 0");
        break;
    case VX_MSG_PROGRESS:
        if (!isfinite(m->progress) || m->progress < 0.0 || m->progress > 1.0)
            return vx__error_set(err, VX_EINVAL, "protocol: PROGRESS: 'progress' must be 0..1");
        break;
    case VX_MSG_ERROR:
        if (m->status >= 0)
            return vx__error_set(err, VX_EINVAL, "protocol: ERROR: 'code' must name an error status");
        break;
    case VX_MSG_HEARTBEAT:
        if (m->in_flight < -1 || m->in_flight > 65535)
            return vx__error_set(err, VX_EINVAL, "protocol: HEARTBEAT: 'in_flight' must be 0..65535");
        break;
    default:
        break;
    }
    size_t total = VX_PROTO_TYPE_FRAME_LEN;
    for (size_t i = 0; i < m->n_payload; i++) {
        if (m->payload[i].len > VX_PROTO_MAX_FRAME)
            return vx__error_set(err, VX_ELIMIT, "protocol: payload frame %zu is %zu bytes (limit %u)",
                                 i, m->payload[i].len, VX_PROTO_MAX_FRAME);
        if (m->payload[i].len && !m->payload[i].data)
            return vx__error_set(err, VX_EINVAL, "protocol: payload frame %zu has no data", i);
        total += m->payload[i].len;
    }
    if (total > VX_PROTO_MAX_TOTAL)
        return vx__error_set(err, VX_ELIMIT, "protocol: message is %zu bytes (limit %u)", total,
                             VX_PROTO_MAX_TOTAL);
    return VX_OK;
}

/* ------------------------------------------------------------------ */
/* encode                                                              */
/* ------------------------------------------------------------------ */
static int set_str(json_t *o, const char *k, const char *v)
{
    return json_object_set_new(o, k, json_string(v));
}

int vx_proto_encode(const vx_msg *m, uint8_t type_frame[VX_PROTO_TYPE_FRAME_LEN], char **header,
                    size_t *header_len, vx_error *err)
{
    if (header)
        *header = NULL;
    if (header_len)
        *header_len = 0;
    if (!m || !type_frame || !header || !header_len)
        return vx__error_set(err, VX_EINVAL, "protocol: NULL argument");
    int rc = check_msg(m, err);
    if (rc != VX_OK)
        return rc;
    json_t *o = json_object();
    if (!o)
        return vx__error_set(err, VX_ENOMEM, "protocol: out of memory");
    int bad = 0;
    if (rules(m->type) & F_TASK) {
        bad |= set_str(o, "task_id", m->task_id);
        bad |= json_object_set_new(o, "attempt", json_integer(m->attempt));
    }
    json_t *body = NULL;
    if (m->type == VX_MSG_TASK || m->type == VX_MSG_RESULT) {
        if (m->body_json) {
            json_error_t je;
            body = json_loads(m->body_json, JSON_REJECT_DUPLICATES, &je);
            if (!body || !json_is_object(body)) {
                json_decref(body);
                json_decref(o);
                return vx__error_set(err, VX_EINVAL, "protocol: %s: %s is not a JSON object",
                                     vx_proto_type_name(m->type),
                                     m->type == VX_MSG_TASK ? "args" : "result");
            }
        } else {
            body = json_object();
        }
    }
    switch (m->type) {
    case VX_MSG_HELLO:
        bad |= set_str(o, "worker_id", m->worker_id);
        bad |= json_object_set_new(o, "capacity", json_integer(m->capacity));
        bad |= json_object_set_new(o, "protocol", json_integer(m->protocol));
        if (m->instance[0])
            bad |= set_str(o, "instance", m->instance);
        break;
    case VX_MSG_READY:
        bad |= set_str(o, "broker_id", m->broker_id);
        bad |= json_object_set_new(o, "heartbeat_ms", json_integer(m->heartbeat_ms));
        bad |= json_object_set_new(o, "heartbeat_timeout_ms", json_integer(m->heartbeat_timeout_ms));
        break;
    case VX_MSG_TASK:
        bad |= set_str(o, "kind", m->kind);
        bad |= json_object_set_new(o, "deadline_ms", json_integer((json_int_t)m->deadline_ms));
        bad |= json_object_set_new(o, "args", body);
        break;
    case VX_MSG_PROGRESS:
        bad |= json_object_set_new(o, "progress", json_real(m->progress));
        if (m->stage[0])
            bad |= set_str(o, "stage", m->stage);
        break;
    case VX_MSG_RESULT:
        bad |= json_object_set_new(o, "result", body);
        break;
    case VX_MSG_ERROR:
        bad |= set_str(o, "code", vx_status_name(m->status));
        bad |= set_str(o, "message", m->message);
        break;
    case VX_MSG_HEARTBEAT:
        if (m->in_flight >= 0)
            bad |= json_object_set_new(o, "in_flight", json_integer(m->in_flight));
        break;
    case VX_MSG_BYE:
        if (m->message[0])
            bad |= set_str(o, "reason", m->message);
        break;
    default:
        break;
    }
    char *text = bad ? NULL : json_dumps(o, JSON_COMPACT);
    json_decref(o);
    if (!text)
        return vx__error_set(err, bad ? VX_EINVAL : VX_ENOMEM,
                             "protocol: cannot encode the %s header (invalid UTF-8 text?)",
                             vx_proto_type_name(m->type));
    size_t len = strlen(text);
    if (len > VX_PROTO_MAX_HEADER) {
        free(text);
        return vx__error_set(err, VX_ELIMIT, "protocol: %s header is %zu bytes (limit %u)",
                             vx_proto_type_name(m->type), len, VX_PROTO_MAX_HEADER);
    }
    type_frame[0] = 'V';
    type_frame[1] = 'X';
    type_frame[2] = (uint8_t)m->version;
    type_frame[3] = (uint8_t)m->type;
    *header = text;
    *header_len = len;
    return VX_OK;
}

/* ------------------------------------------------------------------ */
/* decode                                                              */
/* ------------------------------------------------------------------ */
/* Copies a string field; absent is ok unless required.  Returns 0/-1. */
static int get_str(json_t *o, const char *k, char *dst, size_t cap, int required)
{
    json_t *v = json_object_get(o, k);
    if (!v)
        return required ? -1 : 0;
    if (!json_is_string(v))
        return -1;
    size_t len = json_string_length(v);
    const char *s = json_string_value(v);
    if (len >= cap || memchr(s, '\0', len))
        return -1;
    memcpy(dst, s, len);
    dst[len] = '\0';
    return 0;
}

static int get_int(json_t *o, const char *k, json_int_t lo, json_int_t hi, json_int_t *out,
                   int required)
{
    json_t *v = json_object_get(o, k);
    if (!v)
        return required ? -1 : 0;
    if (!json_is_integer(v))
        return -1;
    json_int_t x = json_integer_value(v);
    if (x < lo || x > hi)
        return -1;
    *out = x;
    return 0;
}

static int field_err(vx_error *err, int type, const char *field)
{
    return vx__error_set(err, VX_EINVAL, "protocol: %s: '%s' is missing or invalid",
                         vx_proto_type_name(type), field);
}

int vx_proto_decode(const vx_frame *frames, size_t n, vx_msg *out, vx_error *err)
{
    if (!out)
        return vx__error_set(err, VX_EINVAL, "protocol: NULL argument");
    vx_msg_init(out, 0);
    if (!frames && n)
        return vx__error_set(err, VX_EINVAL, "protocol: NULL frames");
    if (n < 2)
        return vx__error_set(err, VX_EINVAL, "protocol: %zu frames (need a type frame and a header)", n);
    if (n > VX_PROTO_MAX_FRAMES)
        return vx__error_set(err, VX_ELIMIT, "protocol: %zu frames (limit %d)", n, VX_PROTO_MAX_FRAMES);
    const uint8_t *t = frames[0].data;
    if (frames[0].len != VX_PROTO_TYPE_FRAME_LEN || !t || t[0] != 'V' || t[1] != 'X')
        return vx__error_set(err, VX_EINVAL, "protocol: the first frame is not a voxclone type frame");
    if (t[2] != VX_PROTO_VERSION)
        return vx__error_set(err, VX_EINVAL, "protocol: unsupported version %u (this side speaks %d)",
                             (unsigned)t[2], VX_PROTO_VERSION);
    int type = t[3];
    if (rules(type) == ~0u)
        return vx__error_set(err, VX_EINVAL, "protocol: unknown message type %d", type);
    size_t total = frames[0].len;
    for (size_t i = 1; i < n; i++) {
        if (frames[i].len && !frames[i].data)
            return vx__error_set(err, VX_EINVAL, "protocol: frame %zu has no data", i);
        size_t cap = i == 1 ? VX_PROTO_MAX_HEADER : VX_PROTO_MAX_FRAME;
        if (frames[i].len > cap)
            return vx__error_set(err, VX_ELIMIT, "protocol: %s frame %zu is %zu bytes (limit %zu)",
                                 i == 1 ? "header" : "payload", i, frames[i].len, cap);
        total += frames[i].len;
    }
    if (total > VX_PROTO_MAX_TOTAL)
        return vx__error_set(err, VX_ELIMIT, "protocol: message is %zu bytes (limit %u)", total,
                             VX_PROTO_MAX_TOTAL);
    if (frames[1].len == 0)
        return vx__error_set(err, VX_EINVAL, "protocol: %s: empty header", vx_proto_type_name(type));
    json_error_t je;
    json_t *o = json_loadb(frames[1].data, frames[1].len, JSON_REJECT_DUPLICATES, &je);
    if (!o || !json_is_object(o)) {
        /* jansson quotes the input near the error: keep the message one line */
        char why[121];
        snprintf(why, sizeof why, "%.120s", o ? "another JSON value" : je.text);
        for (char *c = why; *c; c++)
            if ((unsigned char)*c < 0x20 || *c == 0x7f)
                *c = ' ';
        json_decref(o);
        return vx__error_set(err, VX_EINVAL, "protocol: %s: header is not a JSON object (%s)",
                             vx_proto_type_name(type), why);
    }
    vx_msg m;
    vx_msg_init(&m, type);
    int rc = VX_OK;
    json_int_t x = 0;
    const char *bad = NULL;
    if (rules(type) & F_TASK) {
        if (get_str(o, "task_id", m.task_id, sizeof m.task_id, 1) != 0)
            bad = "task_id";
        else if (get_int(o, "attempt", 1, VX_PROTO_MAX_ATTEMPT, &x, 1) != 0)
            bad = "attempt";
        else
            m.attempt = (int)x;
    }
    json_t *body = NULL;
    if (!bad) {
        switch (type) {
        case VX_MSG_HELLO:
            if (get_str(o, "worker_id", m.worker_id, sizeof m.worker_id, 1) != 0)
                bad = "worker_id";
            else if (get_int(o, "capacity", 1, VX_PROTO_MAX_CAPACITY, &x, 1) != 0)
                bad = "capacity";
            else if ((m.capacity = (int)x), get_int(o, "protocol", 1, 255, &x, 1) != 0)
                bad = "protocol";
            else if ((m.protocol = (int)x),
                     get_str(o, "instance", m.instance, sizeof m.instance, 0) != 0)
                bad = "instance";
            break;
        case VX_MSG_READY:
            if (get_str(o, "broker_id", m.broker_id, sizeof m.broker_id, 1) != 0)
                bad = "broker_id";
            else if (get_int(o, "heartbeat_ms", 10, 60000, &x, 1) != 0)
                bad = "heartbeat_ms";
            else if ((m.heartbeat_ms = (int)x), get_int(o, "heartbeat_timeout_ms", 10, 600000, &x, 1) != 0)
                bad = "heartbeat_timeout_ms";
            else
                m.heartbeat_timeout_ms = (int)x;
            break;
        case VX_MSG_TASK:
            if (get_str(o, "kind", m.kind, sizeof m.kind, 1) != 0)
                bad = "kind";
            else if (get_int(o, "deadline_ms", 0, INT64_MAX, &x, 0) != 0)
                bad = "deadline_ms";
            else {
                m.deadline_ms = (int64_t)x;
                body = json_object_get(o, "args");
                if (body && !json_is_object(body))
                    bad = "args";
            }
            break;
        case VX_MSG_PROGRESS: {
            json_t *p = json_object_get(o, "progress");
            if (!json_is_number(p))
                bad = "progress";
            else if (get_str(o, "stage", m.stage, sizeof m.stage, 0) != 0)
                bad = "stage";
            else
                m.progress = json_number_value(p);
            break;
        }
        case VX_MSG_RESULT:
            body = json_object_get(o, "result");
            if (body && !json_is_object(body))
                bad = "result";
            break;
        case VX_MSG_ERROR: {
            char code[32];
            if (get_str(o, "code", code, sizeof code, 1) != 0)
                bad = "code";
            else if (get_str(o, "message", m.message, sizeof m.message, 0) != 0)
                bad = "message";
            else
                m.status = vx_proto_status_from_name(code);
            break;
        }
        case VX_MSG_HEARTBEAT:
            if (get_int(o, "in_flight", 0, 65535, &x, 0) != 0)
                bad = "in_flight";
            else if (json_object_get(o, "in_flight"))
                m.in_flight = (int)x;
            break;
        case VX_MSG_BYE:
            if (get_str(o, "reason", m.message, sizeof m.message, 0) != 0)
                bad = "reason";
            break;
        default:
            break;
        }
    }
    if (bad) {
        json_decref(o);
        return field_err(err, type, bad);
    }
    m.n_payload = n - 2;
    for (size_t i = 2; i < n; i++)
        m.payload[i - 2] = frames[i];
    rc = check_msg(&m, err);
    if (rc == VX_OK && body && json_object_size(body) > 0) {
        m.body_json = json_dumps(body, JSON_COMPACT);
        if (!m.body_json)
            rc = vx__error_set(err, VX_ENOMEM, "protocol: out of memory");
    }
    json_decref(o);
    if (rc != VX_OK) {
        vx_msg_clear(&m);
        return rc;
    }
    *out = m;
    return VX_OK;
}

/* ------------------------------------------------------------------ */
/* flat form                                                           */
/* ------------------------------------------------------------------ */
int vx_proto_pack(const vx_frame *frames, size_t n, uint8_t **out, size_t *len, vx_error *err)
{
    if (out)
        *out = NULL;
    if (len)
        *len = 0;
    if (!out || !len || (n && !frames))
        return vx__error_set(err, VX_EINVAL, "protocol: NULL argument");
    size_t total = 0;
    for (size_t i = 0; i < n; i++) {
        if (frames[i].len > UINT32_MAX || (frames[i].len && !frames[i].data))
            return vx__error_set(err, VX_EINVAL, "protocol: frame %zu cannot be packed", i);
        if (total > SIZE_MAX - 4 - frames[i].len)
            return vx__error_set(err, VX_ELIMIT, "protocol: packed message too large");
        total += 4 + frames[i].len;
    }
    uint8_t *b = malloc(total ? total : 1);
    if (!b)
        return vx__error_set(err, VX_ENOMEM, "protocol: out of memory");
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        uint32_t l = (uint32_t)frames[i].len;
        b[o++] = (uint8_t)(l >> 24);
        b[o++] = (uint8_t)(l >> 16);
        b[o++] = (uint8_t)(l >> 8);
        b[o++] = (uint8_t)l;
        if (l)
            memcpy(b + o, frames[i].data, l);
        o += l;
    }
    *out = b;
    *len = total;
    return VX_OK;
}

int vx_proto_unpack(const uint8_t *buf, size_t len, vx_frame *frames, size_t max, size_t *n,
                    vx_error *err)
{
    if (n)
        *n = 0;
    if ((!buf && len) || !frames || !n)
        return vx__error_set(err, VX_EINVAL, "protocol: NULL argument");
    size_t o = 0, k = 0;
    while (o < len) {
        if (len - o < 4)
            return vx__error_set(err, VX_EINVAL, "protocol: truncated frame length at byte %zu", o);
        uint32_t l = ((uint32_t)buf[o] << 24) | ((uint32_t)buf[o + 1] << 16) |
                     ((uint32_t)buf[o + 2] << 8) | (uint32_t)buf[o + 3];
        o += 4;
        if (l > len - o)
            return vx__error_set(err, VX_EINVAL, "protocol: frame %zu claims %u bytes, %zu left", k,
                                 (unsigned)l, len - o);
        if (k == max)
            return vx__error_set(err, VX_ELIMIT, "protocol: more than %zu frames", max);
        frames[k].data = buf + o;
        frames[k].len = l;
        k++;
        o += l;
    }
    *n = k;
    return VX_OK;
}
