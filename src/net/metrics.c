/*
 * metrics.c -- a small Prometheus registry (text exposition format 0.0.4).
 *
 * DESIGN: a registry is a list of families in registration order, guarded by
 * one mutex.  A family owns its series in creation order plus an
 * open-addressing index (FNV-1a over the raw label values, 0xff as the
 * separator, which never occurs in UTF-8) so that an update on an existing
 * series is a hash, a few strcmp and an add: no allocation, no formatting.
 * A series is created (one allocation for the struct and its bucket counts,
 * one for its strings) the first time its label set is seen; its escaped
 * label text ('route="/x",code="200"') is built then, so rendering never
 * escapes twice.  Unlabelled families get their one series at registration,
 * so they are exported as 0 before the first update, as Prometheus clients
 * do.  After VX_METRICS_MAX_SERIES series, new label sets of a family all go
 * to one extra series labelled only overflow="true" (that label name is
 * therefore reserved).  Label values longer than VX__METRICS_MAX_VALUE or not
 * valid UTF-8 are refused (EINVAL, nothing recorded): the text format must be
 * UTF-8 and one bad value would make Prometheus reject the whole scrape.
 * Histograms keep per-bucket (non-cumulative) counts; rendering cumulates
 * them and adds the +Inf bucket, _sum and _count.  Numbers are printed in the
 * shortest form that reads back to the same double ("0.005", "1e-09",
 * "0.30000000000000004", "+Inf", "NaN"), integral values below 1e15 as
 * plain integers ("1", "10", "200000").  Rendering holds the mutex for
 * the duration of one scrape (tens of microseconds for a service registry).
 *
 * Misuse is refused, never recorded: inc of a negative/NaN amount on a
 * counter, set on a counter or histogram, observe on a non-histogram, NaN
 * observations, a NULL among the first n label values (too few), a non-empty
 * label list for an unlabelled family (too many; the array must then be
 * NULL-terminated), unknown family names -- all return VX_EINVAL.  Counters
 * must be named *_total and every family needs help text, so that the output
 * passes `promtool check metrics` (which also lints).
 */
#include "net/metrics.h"

#include <float.h>
#include <inttypes.h>
#include <math.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"

#define VX__METRICS_MAX_NAME 200   /* metric / label name length */
#define VX__METRICS_MAX_VALUE 1024 /* label value length in bytes */
#define VX__METRICS_MAX_BUCKETS 64 /* finite buckets per histogram */
#define VX__METRICS_INDEX_SIZE 512 /* > 2 * (MAX_SERIES + 1), power of 2 */

typedef struct vx__series {
    uint64_t hash;
    char *values[VX_METRICS_MAX_LABELS]; /* raw, into strings */
    char *label_text; /* escaped 'a="x",b="y"' (no braces), into strings */
    char *strings;
    double value;  /* counter / gauge */
    double sum;    /* histogram */
    uint64_t count;
    uint64_t buckets[]; /* histogram: n_buckets + 1 (last = +Inf) */
} vx__series;

typedef struct vx__family {
    char *name;
    char *help;
    vx_metric_type type;
    uint64_t name_hash;
    size_t n_labels;
    char *label_names[VX_METRICS_MAX_LABELS];
    double *bounds; /* histogram finite upper bounds, ascending */
    size_t n_bounds;
    vx__series **series; /* creation order, n_series regular series */
    size_t n_series, cap_series;
    uint16_t *index; /* VX__METRICS_INDEX_SIZE slots: series index + 1, 0 = empty */
    vx__series *overflow;
} vx__family;

struct vx_metrics {
    pthread_mutex_t lock;
    vx__family **families;
    size_t n_families, cap_families;
};

static const double vx__default_buckets[] = {0.005, 0.01, 0.025, 0.05, 0.1, 0.25,
                                             0.5,   1,    2.5,   5,    10};

/* ------------------------------------------------------------------ */
/* Names, hashing, UTF-8                                               */
/* ------------------------------------------------------------------ */

static int vx__name_ok(const char *s, int allow_colon)
{
    size_t n = 0;
    if (!s || !*s)
        return 0;
    for (const char *p = s; *p; p++, n++) {
        char c = *p;
        int alpha = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' ||
                    (allow_colon && c == ':');
        int digit = c >= '0' && c <= '9';
        if (!(alpha || (digit && p != s)))
            return 0;
    }
    return n <= VX__METRICS_MAX_NAME;
}

static uint64_t vx__fnv(uint64_t h, const char *s)
{
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        h ^= *p;
        h *= 1099511628211ull;
    }
    return h;
}

#define VX__FNV_OFFSET 14695981039346656037ull

static uint64_t vx__values_hash(const char *const *values, size_t n)
{
    uint64_t h = VX__FNV_OFFSET;
    for (size_t i = 0; i < n; i++) {
        h = vx__fnv(h, values[i]);
        h ^= 0xffu;
        h *= 1099511628211ull;
    }
    return h;
}

/* Strict UTF-8 (no overlongs, no surrogates, <= U+10FFFF). */
static int vx__utf8_ok(const char *s, size_t len)
{
    const unsigned char *p = (const unsigned char *)s, *end = p + len;
    while (p < end) {
        unsigned c = *p;
        size_t n;
        uint32_t cp, min;
        if (c < 0x80) {
            p++;
            continue;
        } else if ((c & 0xe0) == 0xc0) {
            n = 1, cp = c & 0x1f, min = 0x80;
        } else if ((c & 0xf0) == 0xe0) {
            n = 2, cp = c & 0x0f, min = 0x800;
        } else if ((c & 0xf8) == 0xf0) {
            n = 3, cp = c & 0x07, min = 0x10000;
        } else {
            return 0;
        }
        if ((size_t)(end - p) <= n)
            return 0;
        for (size_t i = 1; i <= n; i++) {
            if ((p[i] & 0xc0) != 0x80)
                return 0;
            cp = (cp << 6) | (p[i] & 0x3f);
        }
        if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
            return 0;
        p += n + 1;
    }
    return 1;
}

/* ------------------------------------------------------------------ */
/* Output buffer                                                       */
/* ------------------------------------------------------------------ */

typedef struct vx__buf {
    char *data;
    size_t len, cap;
    int failed;
} vx__buf;

static int vx__buf_reserve(vx__buf *b, size_t extra)
{
    if (b->failed)
        return 0;
    if (b->len + extra + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 4096;
        while (b->len + extra + 1 > cap)
            cap *= 2;
        char *d = realloc(b->data, cap);
        if (!d) {
            b->failed = 1;
            return 0;
        }
        b->data = d;
        b->cap = cap;
    }
    return 1;
}

static void vx__buf_put(vx__buf *b, const char *s, size_t n)
{
    if (!vx__buf_reserve(b, n))
        return;
    memcpy(b->data + b->len, s, n);
    b->len += n;
    b->data[b->len] = '\0';
}

static void vx__buf_str(vx__buf *b, const char *s)
{
    vx__buf_put(b, s, strlen(s));
}

/* Escapes backslash and newline (HELP); also double quote when quote. */
static void vx__buf_escaped(vx__buf *b, const char *s, int quote)
{
    const char *run = s;
    for (const char *p = s;; p++) {
        const char *rep = NULL;
        if (*p == '\\')
            rep = "\\\\";
        else if (*p == '\n')
            rep = "\\n";
        else if (quote && *p == '"')
            rep = "\\\"";
        else if (*p != '\0')
            continue;
        vx__buf_put(b, run, (size_t)(p - run));
        if (!rep)
            return;
        vx__buf_str(b, rep);
        run = p + 1;
    }
}

/* Shortest text that strtod reads back as v (integral values below 1e15
 * as integers); Go's "+Inf"/"-Inf"/"NaN". */
static void vx__format_double(char *out, size_t size, double v)
{
    if (isnan(v)) {
        snprintf(out, size, "NaN");
        return;
    }
    if (isinf(v)) {
        snprintf(out, size, "%s", v > 0 ? "+Inf" : "-Inf");
        return;
    }
    if (v == 0) {
        snprintf(out, size, "%s", signbit(v) ? "-0" : "0");
        return;
    }
    if (fabs(v) < 1e15 && v == trunc(v)) { /* counts, "1", "10", "200000" */
        snprintf(out, size, "%.0f", v);
        return;
    }
    for (int prec = 1; prec <= DBL_DECIMAL_DIG; prec++) {
        snprintf(out, size, "%.*g", prec, v);
        if (strtod(out, NULL) == v)
            return;
    }
}

static void vx__buf_double(vx__buf *b, double v)
{
    char tmp[40];
    vx__format_double(tmp, sizeof tmp, v);
    vx__buf_str(b, tmp);
}

static void vx__buf_u64(vx__buf *b, uint64_t v)
{
    char tmp[24];
    snprintf(tmp, sizeof tmp, "%" PRIu64, v);
    vx__buf_str(b, tmp);
}

/* ------------------------------------------------------------------ */
/* Registry                                                            */
/* ------------------------------------------------------------------ */

static void vx__series_free(vx__series *s)
{
    if (s) {
        free(s->strings);
        free(s);
    }
}

static void vx__family_free(vx__family *f)
{
    if (!f)
        return;
    for (size_t i = 0; i < f->n_series; i++)
        vx__series_free(f->series[i]);
    vx__series_free(f->overflow);
    free(f->series);
    free(f->index);
    for (size_t i = 0; i < f->n_labels; i++)
        free(f->label_names[i]);
    free(f->bounds);
    free(f->help);
    free(f->name);
    free(f);
}

int vx_metrics_new(vx_metrics **out, vx_error *err)
{
    if (!out)
        return vx__error_set(err, VX_EINVAL, "metrics: NULL output pointer");
    *out = NULL;
    vx_metrics *m = calloc(1, sizeof *m);
    if (!m)
        return vx__error_set(err, VX_ENOMEM, "metrics: out of memory");
    if (pthread_mutex_init(&m->lock, NULL) != 0) {
        free(m);
        return vx__error_set(err, VX_EINTERNAL, "metrics: cannot create mutex");
    }
    *out = m;
    vx__error_clear(err);
    return VX_OK;
}

void vx_metrics_free(vx_metrics *m)
{
    if (!m)
        return;
    for (size_t i = 0; i < m->n_families; i++)
        vx__family_free(m->families[i]);
    free(m->families);
    pthread_mutex_destroy(&m->lock);
    free(m);
}

static char *vx__strdup(const char *s)
{
    size_t n = strlen(s) + 1;
    char *d = malloc(n);
    if (d)
        memcpy(d, s, n);
    return d;
}

static int vx__ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), k = strlen(suffix);
    return n >= k && memcmp(s + n - k, suffix, k) == 0;
}

/* True when a is b followed by one of the histogram sample suffixes. */
static int vx__is_histogram_sample_of(const char *a, const char *b)
{
    static const char *const sfx[] = {"_bucket", "_sum", "_count"};
    size_t nb = strlen(b);
    if (strncmp(a, b, nb) != 0)
        return 0;
    for (size_t i = 0; i < 3; i++)
        if (strcmp(a + nb, sfx[i]) == 0)
            return 1;
    return 0;
}

/* Creates a series for values (n = f->n_labels strings; NULL for the
 * overflow series).  Returns NULL on ENOMEM. */
static vx__series *vx__series_create(const vx__family *f, const char *const *values,
                                     uint64_t hash)
{
    size_t n_counts = f->type == VX_HISTOGRAM ? f->n_bounds + 1 : 0;
    vx__series *s = calloc(1, sizeof *s + n_counts * sizeof s->buckets[0]);
    if (!s)
        return NULL;
    s->hash = hash;
    /* raw values, then the escaped label text (at most 2 bytes per byte) */
    size_t raw = 0, text = 1;
    if (values) {
        for (size_t i = 0; i < f->n_labels; i++) {
            size_t len = strlen(values[i]);
            raw += len + 1;
            text += strlen(f->label_names[i]) + 4 + 2 * len;
        }
    } else {
        text += sizeof "overflow=\"true\"";
    }
    s->strings = malloc(raw + text);
    if (!s->strings) {
        free(s);
        return NULL;
    }
    char *p = s->strings;
    if (values) {
        for (size_t i = 0; i < f->n_labels; i++) {
            size_t len = strlen(values[i]);
            memcpy(p, values[i], len + 1);
            s->values[i] = p;
            p += len + 1;
        }
    }
    s->label_text = p;
    if (!values) {
        memcpy(p, "overflow=\"true\"", sizeof "overflow=\"true\"");
        return s;
    }
    for (size_t i = 0; i < f->n_labels; i++) {
        if (i)
            *p++ = ',';
        size_t k = strlen(f->label_names[i]);
        memcpy(p, f->label_names[i], k);
        p += k;
        *p++ = '=';
        *p++ = '"';
        for (const char *v = values[i]; *v; v++) {
            if (*v == '\\' || *v == '"' || *v == '\n') {
                *p++ = '\\';
                *p++ = *v == '\n' ? 'n' : *v;
            } else {
                *p++ = *v;
            }
        }
        *p++ = '"';
    }
    *p = '\0';
    return s;
}

int vx_metrics_register(vx_metrics *m, const char *name, const char *help, vx_metric_type type,
                        const char *const *label_names, const double *buckets,
                        size_t n_buckets, vx_error *err)
{
    if (!m)
        return vx__error_set(err, VX_EINVAL, "metrics: NULL registry");
    if (!vx__name_ok(name, 1))
        return vx__error_set(err, VX_EINVAL, "metrics: invalid metric name '%.80s'",
                             name ? name : "(null)");
    if (type != VX_COUNTER && type != VX_GAUGE && type != VX_HISTOGRAM)
        return vx__error_set(err, VX_EINVAL, "metrics: %s: unknown metric type", name);
    if (!help || !*help)
        return vx__error_set(err, VX_EINVAL, "metrics: %s: help text is required", name);
    if (type == VX_COUNTER && !vx__ends_with(name, "_total"))
        return vx__error_set(err, VX_EINVAL, "metrics: %s: counter names must end in _total",
                             name);

    size_t n_labels = 0;
    if (label_names) {
        for (; label_names[n_labels]; n_labels++) {
            const char *ln = label_names[n_labels];
            if (n_labels == VX_METRICS_MAX_LABELS)
                return vx__error_set(err, VX_EINVAL, "metrics: %s: more than %d labels", name,
                                     VX_METRICS_MAX_LABELS);
            if (!vx__name_ok(ln, 0) || strncmp(ln, "__", 2) == 0)
                return vx__error_set(err, VX_EINVAL, "metrics: %s: invalid label name '%.80s'",
                                     name, ln);
            if (strcmp(ln, "overflow") == 0)
                return vx__error_set(err, VX_EINVAL,
                                     "metrics: %s: label name 'overflow' is reserved", name);
            if (type == VX_HISTOGRAM && strcmp(ln, "le") == 0)
                return vx__error_set(err, VX_EINVAL,
                                     "metrics: %s: 'le' is reserved for histogram buckets",
                                     name);
            for (size_t j = 0; j < n_labels; j++)
                if (strcmp(label_names[j], ln) == 0)
                    return vx__error_set(err, VX_EINVAL, "metrics: %s: duplicate label '%s'",
                                         name, ln);
        }
    }

    if (type != VX_HISTOGRAM && (buckets || n_buckets))
        return vx__error_set(err, VX_EINVAL, "metrics: %s: buckets given for a non-histogram",
                             name);
    if (type == VX_HISTOGRAM) {
        if (!buckets && n_buckets)
            return vx__error_set(err, VX_EINVAL, "metrics: %s: NULL buckets", name);
        if (!buckets) {
            buckets = vx__default_buckets;
            n_buckets = sizeof vx__default_buckets / sizeof vx__default_buckets[0];
        }
        if (n_buckets && isinf(buckets[n_buckets - 1]) && buckets[n_buckets - 1] > 0)
            n_buckets--; /* an explicit +Inf is implied anyway */
        if (n_buckets > VX__METRICS_MAX_BUCKETS)
            return vx__error_set(err, VX_EINVAL, "metrics: %s: more than %d buckets", name,
                                 VX__METRICS_MAX_BUCKETS);
        for (size_t i = 0; i < n_buckets; i++) {
            if (!isfinite(buckets[i]))
                return vx__error_set(err, VX_EINVAL, "metrics: %s: bucket %zu is not finite",
                                     name, i);
            if (i && !(buckets[i] > buckets[i - 1]))
                return vx__error_set(err, VX_EINVAL,
                                     "metrics: %s: buckets not strictly ascending at %zu",
                                     name, i);
        }
    }

    vx__family *f = calloc(1, sizeof *f);
    if (!f)
        return vx__error_set(err, VX_ENOMEM, "metrics: out of memory");
    f->type = type;
    f->n_labels = n_labels;
    f->name_hash = vx__fnv(VX__FNV_OFFSET, name);
    f->name = vx__strdup(name);
    f->help = vx__strdup(help);
    int oom = !f->name || !f->help;
    for (size_t i = 0; i < n_labels && !oom; i++) {
        f->label_names[i] = vx__strdup(label_names[i]);
        oom = !f->label_names[i];
    }
    if (!oom && type == VX_HISTOGRAM && n_buckets) {
        f->bounds = malloc(n_buckets * sizeof *f->bounds);
        oom = !f->bounds;
        if (!oom)
            memcpy(f->bounds, buckets, n_buckets * sizeof *f->bounds);
    }
    f->n_bounds = type == VX_HISTOGRAM ? n_buckets : 0;
    if (!oom && n_labels) {
        f->index = calloc(VX__METRICS_INDEX_SIZE, sizeof *f->index);
        oom = !f->index;
    }
    if (!oom && !n_labels) {
        f->cap_series = 1;
        f->series = malloc(sizeof *f->series);
        oom = !f->series;
        if (!oom) {
            f->series[0] = vx__series_create(f, (const char *const[]){NULL},
                                             vx__values_hash(NULL, 0));
            oom = !f->series[0];
            f->n_series = !oom;
        }
    }
    if (oom) {
        vx__family_free(f);
        return vx__error_set(err, VX_ENOMEM, "metrics: out of memory");
    }

    int rc = VX_OK;
    pthread_mutex_lock(&m->lock);
    for (size_t i = 0; i < m->n_families && rc == VX_OK; i++) {
        const vx__family *g = m->families[i];
        if (strcmp(g->name, name) == 0)
            rc = vx__error_set(err, VX_EINVAL, "metrics: %s: already registered", name);
        else if ((g->type == VX_HISTOGRAM && vx__is_histogram_sample_of(name, g->name)) ||
                 (type == VX_HISTOGRAM && vx__is_histogram_sample_of(g->name, name)))
            rc = vx__error_set(err, VX_EINVAL,
                               "metrics: %s: clashes with the samples of histogram %s", name,
                               g->type == VX_HISTOGRAM ? g->name : name);
    }
    if (rc == VX_OK && m->n_families == m->cap_families) {
        size_t cap = m->cap_families ? 2 * m->cap_families : 16;
        vx__family **fams = realloc(m->families, cap * sizeof *fams);
        if (!fams) {
            rc = vx__error_set(err, VX_ENOMEM, "metrics: out of memory");
        } else {
            m->families = fams;
            m->cap_families = cap;
        }
    }
    if (rc == VX_OK)
        m->families[m->n_families++] = f;
    pthread_mutex_unlock(&m->lock);
    if (rc != VX_OK) {
        vx__family_free(f);
        return rc;
    }
    vx__error_clear(err);
    return VX_OK;
}

/* ------------------------------------------------------------------ */
/* Updates (hot path: called with the lock held)                       */
/* ------------------------------------------------------------------ */

static vx__family *vx__find_family(vx_metrics *m, const char *name, uint64_t name_hash)
{
    for (size_t i = 0; i < m->n_families; i++) {
        vx__family *f = m->families[i];
        if (f->name_hash == name_hash && strcmp(f->name, name) == 0)
            return f;
    }
    return NULL;
}

/* Checks the label values; returns 0 when they do not fit the family. */
static int vx__values_ok(const vx__family *f, const char *const *values)
{
    if (f->n_labels == 0)
        return values == NULL || values[0] == NULL;
    if (!values)
        return 0;
    for (size_t i = 0; i < f->n_labels; i++)
        if (!values[i])
            return 0;
    return 1;
}

/* The series for values, created when new (NULL on ENOMEM or a refused
 * value, *rc says which). */
static vx__series *vx__get_series(vx__family *f, const char *const *values, int *rc)
{
    *rc = VX_OK;
    if (f->n_labels == 0)
        return f->series[0];
    uint64_t h = vx__values_hash(values, f->n_labels);
    size_t mask = VX__METRICS_INDEX_SIZE - 1, slot = (size_t)h & mask;
    for (; f->index[slot]; slot = (slot + 1) & mask) {
        vx__series *s = f->series[f->index[slot] - 1];
        if (s->hash != h)
            continue;
        size_t i = 0;
        while (i < f->n_labels && strcmp(s->values[i], values[i]) == 0)
            i++;
        if (i == f->n_labels)
            return s;
    }
    /* a new label set: validate, then create (slot is the free one) */
    for (size_t i = 0; i < f->n_labels; i++) {
        size_t len = strnlen(values[i], VX__METRICS_MAX_VALUE + 1);
        if (len > VX__METRICS_MAX_VALUE || !vx__utf8_ok(values[i], len)) {
            *rc = VX_EINVAL;
            return NULL;
        }
    }
    if (f->n_series >= VX_METRICS_MAX_SERIES) {
        if (!f->overflow) {
            f->overflow = vx__series_create(f, NULL, 0);
            if (!f->overflow)
                *rc = VX_ENOMEM;
        }
        return f->overflow;
    }
    if (f->n_series == f->cap_series) {
        size_t cap = f->cap_series ? 2 * f->cap_series : 8;
        if (cap > VX_METRICS_MAX_SERIES)
            cap = VX_METRICS_MAX_SERIES;
        vx__series **arr = realloc(f->series, cap * sizeof *arr);
        if (!arr) {
            *rc = VX_ENOMEM;
            return NULL;
        }
        f->series = arr;
        f->cap_series = cap;
    }
    vx__series *s = vx__series_create(f, values, h);
    if (!s) {
        *rc = VX_ENOMEM;
        return NULL;
    }
    f->series[f->n_series++] = s;
    f->index[slot] = (uint16_t)f->n_series;
    return s;
}

enum { VX__OP_INC, VX__OP_SET, VX__OP_OBSERVE };

static int vx__update(vx_metrics *m, const char *name, const char *const *values, double v,
                      int op)
{
    if (!m || !name)
        return VX_EINVAL;
    uint64_t name_hash = vx__fnv(VX__FNV_OFFSET, name);
    int rc = VX_OK;
    pthread_mutex_lock(&m->lock);
    vx__family *f = vx__find_family(m, name, name_hash);
    if (!f || !vx__values_ok(f, values)) {
        rc = VX_EINVAL;
        goto out;
    }
    switch (op) {
    case VX__OP_INC:
        if (f->type == VX_HISTOGRAM || isnan(v) || (f->type == VX_COUNTER && v < 0))
            rc = VX_EINVAL;
        break;
    case VX__OP_SET:
        if (f->type != VX_GAUGE)
            rc = VX_EINVAL;
        break;
    default:
        if (f->type != VX_HISTOGRAM || isnan(v))
            rc = VX_EINVAL;
        break;
    }
    if (rc != VX_OK)
        goto out;
    vx__series *s = vx__get_series(f, values, &rc);
    if (!s)
        goto out;
    if (op == VX__OP_INC) {
        s->value += v;
    } else if (op == VX__OP_SET) {
        s->value = v;
    } else {
        size_t lo = 0, hi = f->n_bounds; /* first bound >= v, n_bounds = +Inf */
        while (lo < hi) {
            size_t mid = lo + (hi - lo) / 2;
            if (f->bounds[mid] < v)
                lo = mid + 1;
            else
                hi = mid;
        }
        s->buckets[lo]++;
        s->count++;
        s->sum += v;
    }
out:
    pthread_mutex_unlock(&m->lock);
    return rc;
}

int vx_metrics_inc(vx_metrics *m, const char *name, const char *const *label_values, double v)
{
    return vx__update(m, name, label_values, v, VX__OP_INC);
}

int vx_metrics_set(vx_metrics *m, const char *name, const char *const *label_values, double v)
{
    return vx__update(m, name, label_values, v, VX__OP_SET);
}

int vx_metrics_observe(vx_metrics *m, const char *name, const char *const *label_values,
                       double v)
{
    return vx__update(m, name, label_values, v, VX__OP_OBSERVE);
}

/* ------------------------------------------------------------------ */
/* Rendering                                                           */
/* ------------------------------------------------------------------ */

/* name{labels[,extra]} (braces omitted when both are empty) */
static void vx__buf_sample_name(vx__buf *b, const char *name, const char *suffix,
                                const char *labels, const char *extra)
{
    vx__buf_str(b, name);
    vx__buf_str(b, suffix);
    if (!*labels && !extra)
        return;
    vx__buf_str(b, "{");
    vx__buf_str(b, labels);
    if (extra) {
        if (*labels)
            vx__buf_str(b, ",");
        vx__buf_str(b, extra);
    }
    vx__buf_str(b, "}");
}

static void vx__render_series(vx__buf *b, const vx__family *f, const vx__series *s)
{
    if (f->type != VX_HISTOGRAM) {
        vx__buf_sample_name(b, f->name, "", s->label_text, NULL);
        vx__buf_str(b, " ");
        vx__buf_double(b, s->value);
        vx__buf_str(b, "\n");
        return;
    }
    uint64_t cum = 0;
    for (size_t i = 0; i <= f->n_bounds; i++) {
        char le[48] = "le=\"+Inf\"";
        if (i < f->n_bounds) {
            char num[40];
            vx__format_double(num, sizeof num, f->bounds[i]);
            snprintf(le, sizeof le, "le=\"%s\"", num);
        }
        cum += s->buckets[i];
        vx__buf_sample_name(b, f->name, "_bucket", s->label_text, le);
        vx__buf_str(b, " ");
        vx__buf_u64(b, cum);
        vx__buf_str(b, "\n");
    }
    vx__buf_sample_name(b, f->name, "_sum", s->label_text, NULL);
    vx__buf_str(b, " ");
    vx__buf_double(b, s->sum);
    vx__buf_str(b, "\n");
    vx__buf_sample_name(b, f->name, "_count", s->label_text, NULL);
    vx__buf_str(b, " ");
    vx__buf_u64(b, s->count);
    vx__buf_str(b, "\n");
}

char *vx_metrics_render(vx_metrics *m)
{
    static const char *const type_names[] = {"counter", "gauge", "histogram"};
    vx__buf b = {0};
    if (!vx__buf_reserve(&b, 0))
        return NULL;
    b.data[0] = '\0';
    if (!m)
        return b.data;
    pthread_mutex_lock(&m->lock);
    for (size_t i = 0; i < m->n_families && !b.failed; i++) {
        const vx__family *f = m->families[i];
        vx__buf_str(&b, "# HELP ");
        vx__buf_str(&b, f->name);
        vx__buf_str(&b, " ");
        vx__buf_escaped(&b, f->help, 0);
        vx__buf_str(&b, "\n# TYPE ");
        vx__buf_str(&b, f->name);
        vx__buf_str(&b, " ");
        vx__buf_str(&b, type_names[f->type]);
        vx__buf_str(&b, "\n");
        for (size_t j = 0; j < f->n_series; j++)
            vx__render_series(&b, f, f->series[j]);
        if (f->overflow)
            vx__render_series(&b, f, f->overflow);
    }
    pthread_mutex_unlock(&m->lock);
    if (b.failed) {
        free(b.data);
        return NULL;
    }
    return b.data;
}
