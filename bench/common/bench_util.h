/*
 * bench_util.h -- small helpers shared by the benchmark programs (bench/NAME.c):
 * a monotonic clock, strict integer options, the shared-data directory,
 * sorted directory listings.  Not part of the library.
 */
#ifndef VX_BENCH_UTIL_H
#define VX_BENCH_UTIL_H

#include <dirent.h>
#include <stddef.h>

/** Seconds on CLOCK_MONOTONIC. */
double vxb_now_s(void);

/** CPU seconds used by this process so far (CLOCK_PROCESS_CPUTIME_ID, all
 *  threads): less sensitive than the wall clock to other work on the machine. */
double vxb_cpu_s(void);

/** Parses a whole decimal integer in lo..hi into *out: 0, or -1 (nothing
 *  written) for anything else. */
int vxb_parse_long(const char *s, long lo, long hi, long *out);

/** qsort comparator for doubles, ascending. */
int vxb_cmp_double(const void *a, const void *b);

/** The shared-data directory: opt when given, else $VX_SHARED_DIR when set
 *  and not empty, else "../shared". */
const char *vxb_shared_dir(const char *opt);

/** scandir filter: visible names ending in ".wav". */
int vxb_is_wav(const struct dirent *d);

/** "a/b", malloc'd (NULL when out of memory). */
char *vxb_join(const char *a, const char *b);

/** Up to cap names of dir (sub-directories when want_dirs, else ".wav"
 *  files; hidden ones skipped), malloc'd, sorted by strcmp, into out.
 *  Returns how many; 0 when dir cannot be read. */
size_t vxb_list_dir(const char *dir, int want_dirs, char **out, size_t cap);

#endif
