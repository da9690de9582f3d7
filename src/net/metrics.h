/*
 * metrics.h -- a small Prometheus registry (text exposition format 0.0.4).
 * Internal header.
 *
 * DESIGN: families are registered once at start-up (name, help, type,
 * histogram buckets); series are created on first use by their label set.
 * Label values are escaped by the registry, so callers pass raw strings.
 * Bounded: at most VX_METRICS_MAX_SERIES series per family; beyond that
 * observations go to one series labelled overflow="true" (a malicious
 * client cannot grow memory through e.g. unknown routes).
 *
 * Thread-safety: all calls may be made concurrently (one mutex; updates are
 * a few ns of work).
 */
#ifndef VX_NET_METRICS_H
#define VX_NET_METRICS_H

#include <stddef.h>

#include "voxclone/voxclone.h"

#define VX_METRICS_MAX_SERIES 256
#define VX_METRICS_MAX_LABELS 4

typedef enum vx_metric_type { VX_COUNTER, VX_GAUGE, VX_HISTOGRAM } vx_metric_type;

typedef struct vx_metrics vx_metrics;

int vx_metrics_new(vx_metrics **out, vx_error *err);
void vx_metrics_free(vx_metrics *m);
/** Registers a family.  label_names: NULL-terminated list (<= MAX_LABELS),
 *  may be NULL.  buckets: ascending upper bounds for histograms (+Inf is
 *  added).  Errors: EINVAL (bad name, duplicate, buckets not ascending). */
int vx_metrics_register(vx_metrics *m, const char *name, const char *help, vx_metric_type type,
                        const char *const *label_names, const double *buckets,
                        size_t n_buckets, vx_error *err);
/** label_values: as many as the family's label_names (NULL when none).
 *  Unknown family names are ignored (returns EINVAL). */
int vx_metrics_inc(vx_metrics *m, const char *name, const char *const *label_values, double v);
int vx_metrics_set(vx_metrics *m, const char *name, const char *const *label_values, double v);
int vx_metrics_observe(vx_metrics *m, const char *name, const char *const *label_values,
                       double v);
/** The whole registry in the text format (malloc'd, free()).  NULL on ENOMEM. */
char *vx_metrics_render(vx_metrics *m);

#endif
