/*
 * auth.c -- bearer tokens: creation, hashing, lookup, revocation.
 *
 * DESIGN: a token is 32 random bytes (libsodium) in URL-safe base64 behind a
 * "vxt_" prefix; only its SHA-256 is stored, so a leaked database does not
 * leak usable tokens.  SHA-256 (not a slow password hash) is right here: the
 * token has 256 bits of entropy, so there is nothing to brute-force, and every
 * request must verify it in microseconds.
 */
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "core/error.h"
#include "net/server_internal.h"

void vx__sha256_hex(const void *data, size_t len, char hex[65])
{
    unsigned char h[crypto_hash_sha256_BYTES];
    crypto_hash_sha256(h, data, len);
    sodium_bin2hex(hex, 65, h, sizeof h);
}

void vx__token_hash(const char *token, char hex[65])
{
    vx__sha256_hex(token, strlen(token), hex);
}

static int sodium_ready(vx_error *err)
{
    if (sodium_init() < 0)
        return vx__error_set(err, VX_EINTERNAL, "libsodium failed to initialise");
    return VX_OK;
}

int vx_token_create(const char *db_url, const char *user, int is_admin, char token_out[64],
                    vx_error *err)
{
    vx__error_clear(err);
    if (!db_url || !user || !token_out)
        return vx__error_set(err, VX_EINVAL, "vx_token_create: NULL argument");
    if (!vx_store_user_name_valid(user))
        return vx__error_set(err, VX_EINVAL,
                             "user name '%s' is invalid: 1..%d of letters, digits, '_', '.', '@', '-'",
                             user, VX_STORE_MAX_USER);
    int rc = sodium_ready(err);
    if (rc != VX_OK)
        return rc;
    unsigned char raw[32];
    randombytes_buf(raw, sizeof raw);
    char b64[sodium_base64_ENCODED_LEN(32, sodium_base64_VARIANT_URLSAFE_NO_PADDING)];
    sodium_bin2base64(b64, sizeof b64, raw, sizeof raw, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    char token[64];
    snprintf(token, sizeof token, "vxt_%s", b64);
    char hash[65];
    vx__token_hash(token, hash);
    vx_store *st = NULL;
    if ((rc = vx_store_open(db_url, &st, err)) != VX_OK)
        return rc;
    if ((rc = vx_store_user_ensure(st, user, is_admin, err)) == VX_OK &&
        (rc = vx_store_token_add(st, user, hash, err)) == VX_OK)
        memcpy(token_out, token, strlen(token) + 1);
    vx_store_free(st);
    sodium_memzero(raw, sizeof raw);
    return rc;
}

int vx_token_revoke(const char *db_url, const char *user, const char *token, int *n_revoked,
                    vx_error *err)
{
    vx__error_clear(err);
    if (!db_url || (!user && !token))
        return vx__error_set(err, VX_EINVAL, "vx_token_revoke: give a token or a user");
    int rc = sodium_ready(err);
    if (rc != VX_OK)
        return rc;
    vx_store *st = NULL;
    if ((rc = vx_store_open(db_url, &st, err)) != VX_OK)
        return rc;
    if (token) {
        char hash[65];
        vx__token_hash(token, hash);
        rc = vx_store_token_revoke(st, hash, err);
        if (rc == VX_OK && n_revoked)
            *n_revoked = 1;
    } else {
        rc = vx_store_token_revoke_user(st, user, n_revoked, err);
    }
    vx_store_free(st);
    return rc;
}

int vx__authenticate(vx_server *s, vx__req *rq, const char *authorization, vx__resp *rs)
{
    if (!authorization || !authorization[0]) {
        vx__header(rs, "WWW-Authenticate", "Bearer realm=\"voxclone\"");
        return vx__error(rs, 401, "Authorization", "missing 'Authorization: Bearer <token>' header");
    }
    if (strncasecmp(authorization, "Bearer ", 7) != 0) {
        vx__header(rs, "WWW-Authenticate", "Bearer realm=\"voxclone\"");
        return vx__error(rs, 401, "Authorization", "the Authorization header must be 'Bearer <token>'");
    }
    const char *tok = authorization + 7;
    while (*tok == ' ')
        tok++;
    size_t n = strlen(tok);
    if (n < 8 || n > 200) {
        vx__header(rs, "WWW-Authenticate", "Bearer realm=\"voxclone\", error=\"invalid_token\"");
        return vx__error(rs, 401, "Authorization", "invalid or revoked token");
    }
    char hash[65];
    vx__token_hash(tok, hash);
    vx_error e;
    int rc = vx_store_token_find(s->store, hash, rq->user, &rq->is_admin, &e);
    if (rc == VX_ENOTFOUND) {
        vx__header(rs, "WWW-Authenticate", "Bearer realm=\"voxclone\", error=\"invalid_token\"");
        return vx__error(rs, 401, "Authorization", "invalid or revoked token");
    }
    if (rc != VX_OK)
        return vx__store_fail(s, rs, "token_find", &e);
    rq->authed = 1;
    return 0;
}
