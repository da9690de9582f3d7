/*
 * bench_util.c -- helpers shared by the benchmark programs (bench_util.h).
 */
#include "bench_util.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

double vxb_now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

double vxb_cpu_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

int vxb_parse_long(const char *s, long lo, long hi, long *out)
{
    char *end = NULL;
    long v;
    if (!s)
        return -1;
    errno = 0;
    v = strtol(s, &end, 10);
    if (errno || !end || *end || end == s || v < lo || v > hi)
        return -1;
    *out = v;
    return 0;
}

int vxb_cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

const char *vxb_shared_dir(const char *opt)
{
    const char *env;
    if (opt && *opt)
        return opt;
    env = getenv("VX_SHARED_DIR");
    return env && *env ? env : "../shared";
}

int vxb_is_wav(const struct dirent *d)
{
    size_t n = strlen(d->d_name);
    return d->d_name[0] != '.' && n > 4 && strcmp(d->d_name + n - 4, ".wav") == 0;
}

char *vxb_join(const char *a, const char *b)
{
    size_t n = strlen(a) + strlen(b) + 2;
    char *p = malloc(n);
    if (p)
        snprintf(p, n, "%s/%s", a, b);
    return p;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

size_t vxb_list_dir(const char *dir, int want_dirs, char **out, size_t cap)
{
    DIR *d = opendir(dir);
    struct dirent *de;
    size_t n = 0;
    if (!d)
        return 0;
    while ((de = readdir(d)) && n < cap) {
        if (de->d_name[0] == '.')
            continue;
        if (want_dirs) {
            struct stat st;
            char *p = vxb_join(dir, de->d_name);
            int is_dir = p && stat(p, &st) == 0 && S_ISDIR(st.st_mode);
            free(p);
            if (!is_dir)
                continue;
        } else if (!vxb_is_wav(de)) {
            continue;
        }
        out[n] = strdup(de->d_name);
        if (out[n])
            n++;
    }
    closedir(d);
    qsort(out, n, sizeof *out, cmp_str);
    return n;
}
