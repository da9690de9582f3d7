/*
 * json_internal.h -- jansson builders shared by the library's JSON writers.
 */
#ifndef VX_ANALYSIS_JSON_INTERNAL_H
#define VX_ANALYSIS_JSON_INTERNAL_H

#include <jansson.h>

#include "voxclone/voxclone.h"

/** New reference to the analysis object (see vx_analysis_to_json). */
json_t *vx__analysis_json(const vx_analysis *a, unsigned flags);
/** Compact dump with 12 significant digits; malloc'd, NULL on failure. */
char *vx__json_dump(const json_t *j);
/** The similarity JSON object of vx_similarity_to_json (new reference;
 *  NULL on ENOMEM).  Defined in similarity/seed.c. */
json_t *vx__similarity_json(const vx_similarity *s, const vx_analysis *o, const vx_analysis *c);

#endif
