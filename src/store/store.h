/*
 * store.h -- the persistent store of the service: users, tokens, versioned
 * voice profiles, settings, similarity history, jobs.  Internal header.
 *
 * DESIGN: one interface, two back-ends with the same behaviour: SQLite
 * (default: one file, WAL, nothing to install) and PostgreSQL (libpq) for
 * production.  The URL picks the back-end.  Every write is one transaction,
 * so a failed call leaves the previous state intact.  Schema changes are
 * numbered migrations applied by vx_store_open (table schema_version).
 *
 * Strings returned inside structs are malloc'd and released by the matching
 * _clear/_free function.  Times are milliseconds since the Unix epoch (UTC).
 *
 * Thread-safety: a vx_store may be used by many threads at once (SQLite: a
 * connection per thread or a serialising mutex; PostgreSQL: a small
 * connection pool).  Errors: EINVAL (bad argument, named), ENOTFOUND,
 * ECONFLICT, EUNAVAIL (database unreachable), EIO (SQL error, message has
 * the database's text), ENOMEM.
 */
#ifndef VX_STORE_H
#define VX_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "voxclone/voxclone.h"

#define VX_STORE_MAX_USER 64   /**< user names: 1..64 of [A-Za-z0-9_.@-] */
#define VX_STORE_ID_LEN 36     /**< uuid text form */
#define VX_STORE_MAX_LANG 35

typedef struct vx_store vx_store;

/** url: "sqlite:PATH" (file and parent directory created), "sqlite::memory:"
 *  (tests), "postgresql://..." or "postgres://..." (libpq conninfo URI).
 *  Creates / migrates the schema.  Errors: EINVAL (unknown scheme), EUNAVAIL
 *  (cannot connect), EIO. */
int vx_store_open(const char *url, vx_store **out, vx_error *err);
void vx_store_free(vx_store *s);
/** "sqlite" or "postgresql". */
const char *vx_store_backend(const vx_store *s);
/** Cheap round trip (SELECT 1).  EUNAVAIL when the database is gone. */
int vx_store_ping(vx_store *s, vx_error *err);
/** Random uuid v4 text (libsodium randombytes) into out[37]. */
void vx_store_new_id(char out[VX_STORE_ID_LEN + 1]);
/** 1 when name is a valid user name (see VX_STORE_MAX_USER). */
int vx_store_user_name_valid(const char *name);

/* ---- users and tokens ------------------------------------------------ */
/** Creates the user if missing; sets is_admin (1/0) either way. */
int vx_store_user_ensure(vx_store *s, const char *user, int is_admin, vx_error *err);
/** Stores a token hash (hex text, e.g. SHA-256 of the token) for user (which
 *  must exist: else ENOTFOUND).  ECONFLICT when the hash already exists. */
int vx_store_token_add(vx_store *s, const char *user, const char *token_hash, vx_error *err);
/** Finds the user of a non-revoked token hash.  ENOTFOUND otherwise.
 *  user receives up to VX_STORE_MAX_USER + 1 bytes. */
int vx_store_token_find(vx_store *s, const char *token_hash, char user[VX_STORE_MAX_USER + 1],
                        int *is_admin, vx_error *err);
/** Revokes one token (ENOTFOUND when unknown or already revoked). */
int vx_store_token_revoke(vx_store *s, const char *token_hash, vx_error *err);
/** Revokes every token of user; *n_revoked (may be NULL) gets the count. */
int vx_store_token_revoke_user(vx_store *s, const char *user, int *n_revoked, vx_error *err);

/* ---- voice profiles (versioned per user) ---------------------------- */
typedef struct vx_profile {
    char id[VX_STORE_ID_LEN + 1];
    char user[VX_STORE_MAX_USER + 1];
    int version;                 /**< 1, 2, ... per user */
    int64_t created_at_ms;
    char audio_sha256[65];       /**< hex */
    char *audio_ref;             /**< where the audio is kept (file name in the data dir) */
    char *analysis_json;         /**< the analysis JSON as stored */
    int has_voiceprint;
    float voiceprint[VX_VOICEPRINT_DIM];
} vx_profile;

typedef struct vx_profile_version {
    char id[VX_STORE_ID_LEN + 1];
    int version;
    int64_t created_at_ms;
} vx_profile_version;

/** Adds a new version for user (created when missing, not admin): version =
 *  previous max + 1, atomically (two concurrent adds get distinct versions).
 *  voiceprint may be NULL.  On success out (may be NULL) receives the stored
 *  row (id, version, created_at_ms filled; strings duplicated). */
int vx_store_profile_add(vx_store *s, const char *user, const char *analysis_json,
                         const float *voiceprint, const char *audio_sha256,
                         const char *audio_ref, vx_profile *out, vx_error *err);
/** version 0 = the latest.  ENOTFOUND when the user has no such version. */
int vx_store_profile_get(vx_store *s, const char *user, int version, vx_profile *out,
                         vx_error *err);
int vx_store_profile_get_id(vx_store *s, const char *id, vx_profile *out, vx_error *err);
/** All versions of user, newest first (malloc'd array, free()).  *n = 0 and
 *  *out = NULL when none (VX_OK). */
int vx_store_profile_versions(vx_store *s, const char *user, vx_profile_version **out,
                              size_t *n, vx_error *err);
void vx_profile_clear(vx_profile *p);

/** Calls fn for the latest profile with a voiceprint of every user (used to
 *  build the nearest-voice index).  fn returning non-zero stops the walk. */
typedef int (*vx_store_voiceprint_fn)(const char *profile_id, const char *user, int version,
                                      const float *voiceprint, void *ud);
int vx_store_voiceprints_each(vx_store *s, vx_store_voiceprint_fn fn, void *ud, vx_error *err);

/* ---- settings -------------------------------------------------------- */
/** The stored settings JSON of user (malloc'd).  ENOTFOUND when none. */
int vx_store_settings_get(vx_store *s, const char *user, char **json, vx_error *err);
/** Replaces the settings JSON of user (user created when missing). */
int vx_store_settings_put(vx_store *s, const char *user, const char *json, vx_error *err);

/* ---- similarity history ---------------------------------------------- */
typedef struct vx_history_entry {
    int64_t id;
    int64_t created_at_ms;
    double overall;
    char *original;          /**< what was compared: profile id or "upload:<sha256>" */
    char *cloned;
    char *similarity_json;
} vx_history_entry;

int vx_store_history_add(vx_store *s, const char *user, const char *original, const char *cloned,
                         double overall, const char *similarity_json, int64_t *id,
                         vx_error *err);
/** Newest first, at most limit entries (limit 0 = 100). */
int vx_store_history_list(vx_store *s, const char *user, size_t limit, vx_history_entry **out,
                          size_t *n, vx_error *err);
void vx_history_free(vx_history_entry *e, size_t n);

/* ---- jobs (multi-language messages) --------------------------------- */
typedef struct vx_job_item {
    char language[VX_STORE_MAX_LANG + 1];
    char *text;
    char status[12];          /**< queued | running | done | failed */
    double progress;          /**< 0..1 */
    char *audio_ref;          /**< file name in the data dir, NULL until done */
    char *similarity_json;    /**< NULL unless verified */
    char *error;              /**< NULL unless failed */
} vx_job_item;

typedef struct vx_job {
    char id[VX_STORE_ID_LEN + 1];
    char user[VX_STORE_MAX_USER + 1];
    char profile_id[VX_STORE_ID_LEN + 1];
    char status[12];          /**< queued | running | done | partial | failed */
    char *settings_json;
    uint64_t seed;
    int64_t created_at_ms, updated_at_ms;
    size_t n_items;
    vx_job_item *items;
} vx_job;

/** Inserts job and its items in one transaction.  job->id must be set
 *  (vx_store_new_id); created/updated times are set by the store. */
int vx_store_job_create(vx_store *s, vx_job *job, vx_error *err);
int vx_store_job_set_status(vx_store *s, const char *job_id, const char *status, vx_error *err);
/** Updates one item (index = position in the job).  NULL strings are left
 *  unchanged. */
int vx_store_job_item_update(vx_store *s, const char *job_id, size_t index, const char *status,
                             double progress, const char *audio_ref,
                             const char *similarity_json, const char *error, vx_error *err);
int vx_store_job_get(vx_store *s, const char *job_id, vx_job *out, vx_error *err);
/** Ids of jobs whose status is queued or running, oldest first (malloc'd
 *  array of id strings, free()). */
int vx_store_jobs_unfinished(vx_store *s, char (**ids)[VX_STORE_ID_LEN + 1], size_t *n,
                             vx_error *err);
void vx_job_clear(vx_job *j);

#endif
