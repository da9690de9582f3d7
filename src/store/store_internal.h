/*
 * store_internal.h -- what a store back-end provides to store.c.
 *
 * DESIGN: the two back-ends must behave identically, so the semantics of
 * every vx_store_* call (validation, transactions, version numbering, error
 * codes) are written once, in store.c, as SQL that both SQLite and
 * PostgreSQL accept (placeholders are written $1, $2, ...; the SQLite
 * back-end rewrites them to ?1, ?2, ...).  A back-end is only a connection
 * factory plus "run this parameterised statement and hand me every row":
 * results are materialised (copied out) so that the connection can go back
 * to the pool before a caller's callback runs.  The few statements that
 * differ between dialects are chosen in store.c by vx__store_ops.dialect.
 */
#ifndef VX_STORE_INTERNAL_H
#define VX_STORE_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "store/store.h"

typedef enum { VX__DIALECT_SQLITE = 1, VX__DIALECT_PG = 2 } vx__dialect;

/** Transaction modes.  NONE: the statements autocommit (one read). */
typedef enum { VX__TX_NONE = 0, VX__TX_READ = 1, VX__TX_WRITE = 2 } vx__tx_mode;

typedef enum {
    VX__V_NULL = 0,
    VX__V_TEXT,   /**< s (NUL-terminated) */
    VX__V_INT64,  /**< i */
    VX__V_DOUBLE, /**< d (finite) */
    VX__V_BLOB    /**< p, len */
} vx__vtype;

/** A statement parameter. */
typedef struct vx__val {
    vx__vtype type;
    const char *s;
    int64_t i;
    double d;
    const void *p;
    size_t len;
} vx__val;

/** A result cell.  data is always NUL-terminated (len excludes the NUL)
 *  unless null; kind tells whether i/d hold the native value (SQLite) or
 *  data must be parsed (PostgreSQL text results). */
typedef struct vx__cell {
    int null;
    vx__vtype kind; /**< INT64/DOUBLE: i/d valid; TEXT/BLOB: data only */
    int64_t i;
    double d;
    char *data;
    size_t len;
} vx__cell;

typedef struct vx__res {
    size_t nrows, ncols;
    vx__cell *cells;  /**< nrows * ncols, row-major */
    int64_t changes;  /**< rows changed by an INSERT/UPDATE/DELETE */
} vx__res;

typedef struct vx__conn vx__conn; /* defined by each back-end */

typedef struct vx__store_ops {
    const char *name; /**< "sqlite" / "postgresql" */
    vx__dialect dialect;
    /** Opens one connection to url.  EUNAVAIL when unreachable. */
    int (*connect)(const char *url, vx__conn **out, vx_error *err);
    void (*disconnect)(vx__conn *c);
    /** 0 when the connection is known to be broken. */
    int (*healthy)(vx__conn *c);
    /** Re-establishes a broken connection.  EUNAVAIL on failure. */
    int (*reset)(vx__conn *c, vx_error *err);
    /** Creates / upgrades the schema (idempotent, safe against concurrent
     *  openers). */
    int (*migrate)(vx__conn *c, vx_error *err);
    int (*begin)(vx__conn *c, vx__tx_mode mode, vx_error *err);
    int (*commit)(vx__conn *c, vx_error *err);
    void (*rollback)(vx__conn *c);
    /** Runs one statement; res (may be NULL) receives every row.  Errors:
     *  ECONFLICT (unique violation), ENOTFOUND (foreign key), EUNAVAIL
     *  (connection lost / database busy), ENOMEM, EIO. */
    int (*exec)(vx__conn *c, const char *sql, const vx__val *params, size_t n_params,
                vx__res *res, vx_error *err);
    /** Connections the pool may open (1 for SQLite). */
    size_t (*max_conns)(const char *url);
} vx__store_ops;

extern const vx__store_ops vx__store_sqlite_ops;
extern const vx__store_ops vx__store_pg_ops;

/** Frees the cells of res and zeroes it (res may be NULL). */
void vx__res_clear(vx__res *res);
/** Allocates nrows x ncols zeroed cells.  VX_ENOMEM on failure. */
int vx__res_alloc(vx__res *res, size_t nrows, size_t ncols, vx_error *err);
/** Little-endian float32 codec of a voiceprint (VX_VOICEPRINT_DIM values). */
void vx__voiceprint_encode(const float *v, unsigned char out[VX_VOICEPRINT_DIM * 4]);
void vx__voiceprint_decode(const unsigned char *in, float *v);

#endif
