/*
 * textbuf.c -- a growable text buffer and locale-proof number formatting for
 * the settings JSON and Markdown writers.
 *
 * DESIGN: the settings JSON is small and flat, and its numbers must read back
 * bit-exactly yet look like the contract's ("0.65", "1.0", not
 * "0.65000000000000002"), which jansson's fixed %.17g cannot give; so the
 * writers build text here.  An allocation failure is remembered ("oom") and
 * reported once by vx__cfg_buf_finish, which keeps every writer free of
 * error plumbing.  Numbers are printed with the shortest %.*g precision that
 * strtod reads back exactly; the locale's decimal point, if a host program
 * changed LC_NUMERIC, is replaced by '.'.
 */
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/config_internal.h"

void vx__cfg_buf_init(vx__cfg_buf *b)
{
    b->p = NULL;
    b->len = 0;
    b->cap = 0;
    b->oom = 0;
}

static int reserve(vx__cfg_buf *b, size_t extra)
{
    if (b->oom)
        return -1;
    if (extra > SIZE_MAX / 2 - b->len) {
        b->oom = 1;
        return -1;
    }
    size_t need = b->len + extra + 1;
    if (need <= b->cap)
        return 0;
    size_t cap = b->cap ? b->cap : 256;
    while (cap < need)
        cap *= 2;
    char *p = realloc(b->p, cap);
    if (!p) {
        b->oom = 1;
        return -1;
    }
    b->p = p;
    b->cap = cap;
    return 0;
}

static void putn(vx__cfg_buf *b, const char *s, size_t n)
{
    if (reserve(b, n))
        return;
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = '\0';
}

void vx__cfg_buf_puts(vx__cfg_buf *b, const char *s)
{
    putn(b, s, strlen(s));
}

void vx__cfg_buf_printf(vx__cfg_buf *b, const char *fmt, ...)
{
    char small[256];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(small, sizeof small, fmt, ap);
    va_end(ap);
    if (n < 0) {
        b->oom = 1;
        return;
    }
    if ((size_t)n < sizeof small) {
        putn(b, small, (size_t)n);
        return;
    }
    if (reserve(b, (size_t)n))
        return;
    va_start(ap, fmt);
    vsnprintf(b->p + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
}

void vx__cfg_buf_json_string(vx__cfg_buf *b, const char *s)
{
    putn(b, "\"", 1);
    for (const unsigned char *c = (const unsigned char *)s; *c; c++) {
        if (*c == '"' || *c == '\\') {
            char e[2] = {'\\', (char)*c};
            putn(b, e, 2);
        } else if (*c < 0x20) {
            vx__cfg_buf_printf(b, "\\u%04x", (unsigned)*c);
        } else {
            putn(b, (const char *)c, 1);
        }
    }
    putn(b, "\"", 1);
}

char *vx__cfg_buf_finish(vx__cfg_buf *b)
{
    if (!b->oom && !b->p && reserve(b, 0) == 0)
        b->p[0] = '\0'; /* nothing was written: an empty string */
    char *p = b->p;
    if (b->oom) {
        free(p);
        p = NULL;
    }
    vx__cfg_buf_init(b);
    return p;
}

void vx__cfg_fmt_num(double x, char *buf, size_t cap)
{
    if (cap == 0)
        return;
    for (int prec = 1; prec <= 17; prec++) {
        snprintf(buf, cap, "%.*g", prec, x);
        if (strtod(buf, NULL) == x)
            break;
    }
    /* locale-independent decimal point: in the %g text of a finite number
     * everything but digits, signs and the exponent mark is the (possibly
     * multi-byte) decimal point of the C library's current locale.  Found by
     * scanning rather than with localeconv(), which is not thread-safe. */
    if (isfinite(x)) {
        char *at = buf;
        while (*at && strchr("0123456789+-eE", *at))
            at++;
        if (*at) {
            char *end = at;
            while (*end && !strchr("0123456789+-eE", *end))
                end++;
            *at = '.';
            memmove(at + 1, end, strlen(end) + 1);
        }
    }
    if (!strpbrk(buf, ".eEnN")) { /* looks like an integer: "1" -> "1.0" */
        size_t n = strlen(buf);
        if (n + 2 < cap) {
            buf[n] = '.';
            buf[n + 1] = '0';
            buf[n + 2] = '\0';
        }
    }
}

void vx__cfg_clip(const char *text, char *buf, size_t cap)
{
    if (cap == 0)
        return;
    size_t n = strlen(text), keep = n > 32 ? 29 : n, o = 0;
    while (keep < n && keep > 0 && ((unsigned char)text[keep] & 0xC0) == 0x80)
        keep--; /* do not cut a UTF-8 sequence */
    for (size_t i = 0; i < keep && o + 1 < cap; i++) {
        unsigned char c = (unsigned char)text[i];
        buf[o++] = (c < 0x20 || c == 0x7f) ? '?' : (char)c;
    }
    for (size_t i = 0; keep < n && i < 3 && o + 1 < cap; i++)
        buf[o++] = '.';
    buf[o] = '\0';
}
