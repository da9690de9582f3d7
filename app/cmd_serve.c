/*
 * cmd_serve.c -- `voxclone serve` and `voxclone token`.
 *
 * DESIGN: options and environment are parsed here and handed to
 * vx_server_start; the process then waits for SIGTERM/SIGINT with sigwait
 * (signals are blocked before any thread exists, so no thread is ever
 * interrupted mid-write) and calls vx_server_stop, which lets in-flight
 * requests finish.  Precedence: command-line option, then environment
 * (VOXCLONE_LISTEN, VOXCLONE_DB, VOXCLONE_CACHE, VOXCLONE_DATA, VOXCLONE_WEB),
 * then the embedded defaults (127.0.0.1:8080, SQLite in ./data, in-process
 * cache).  Exit status: 0 after a clean stop, 1 runtime error, 2 usage.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "voxclone/voxclone.h"

int vx_cli_serve(int argc, char **argv);
int vx_cli_token(int argc, char **argv);

static void usage_serve(FILE *f)
{
    fprintf(f,
            "usage: voxclone serve [--listen ADDR:PORT] [--db URL] [--cache URL] [--data DIR]\n"
            "                      [--web DIR] [--threads N] [--job-workers N]\n"
            "                      [--max-body-mb N] [--max-audio-s S] [--max-queued-jobs N]\n"
            "                      [--max-json-kb N] [--max-text-bytes N] [--port-file PATH]\n"
            "       voxclone serve --routes   (print the route table)\n"
            "\n"
            "Runs the HTTP API, the web page and /metrics.\n"
            "  --listen ADDR:PORT  default 127.0.0.1:8080 (env VOXCLONE_LISTEN); port 0 = any free\n"
            "  --db URL            sqlite:PATH (default sqlite:DATA/voxclone.db) or\n"
            "                      postgresql://USER@HOST:PORT/DB (env VOXCLONE_DB)\n"
            "  --cache URL         memory (default), memory:BYTES, redis://HOST:PORT, none\n"
            "                      (env VOXCLONE_CACHE)\n"
            "  --data DIR          profiles' audio and job results, default ./data (env VOXCLONE_DATA)\n"
            "  --web DIR           the page's files, default ./web when present (env VOXCLONE_WEB)\n"
            "  --threads N         HTTP worker threads, default 4\n"
            "  --job-workers N     message jobs run at once, default 1\n"
            "  --max-body-mb N     request body limit, default 25\n"
            "  --max-audio-s S     audio duration limit, default 600\n"
            "  --max-queued-jobs N queued + running jobs before 429, default 64\n"
            "  --max-json-kb N     JSON body limit, default 256\n"
            "  --max-text-bytes N  text per language / per request, default 5000\n"
            "  --port-file PATH    write the bound port there once listening\n"
            "Stops cleanly on SIGTERM or SIGINT.\n");
}

static void usage_token(FILE *f)
{
    fprintf(f,
            "usage: voxclone token create --user NAME [--admin] [--db URL] [--data DIR]\n"
            "       voxclone token revoke (--token TOKEN | --user NAME) [--db URL] [--data DIR]\n"
            "\n"
            "create prints the new bearer token as the last line of stdout (the database and\n"
            "its schema are created if needed).  Tokens are stored hashed (SHA-256).\n");
}

static int parse_long(const char *s, long lo, long hi, long *out)
{
    char *end = NULL;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || !end || *end || v < lo || v > hi)
        return -1;
    *out = v;
    return 0;
}

static const char *env_or(const char *name, const char *dflt)
{
    const char *v = getenv(name);
    return v && *v ? v : dflt;
}

int vx_cli_serve(int argc, char **argv)
{
    vx_server_opts o;
    vx_server_opts_init(&o);
    const char *listen = env_or("VOXCLONE_LISTEN", "127.0.0.1:8080");
    o.db_url = env_or("VOXCLONE_DB", NULL);
    o.cache_url = env_or("VOXCLONE_CACHE", "memory");
    o.data_dir = env_or("VOXCLONE_DATA", "./data");
    o.web_dir = env_or("VOXCLONE_WEB", NULL);
    const char *port_file = NULL;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        long n = 0;
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            usage_serve(stdout);
            return 0;
        }
        if (!strcmp(a, "--routes")) { /* the route table, for docs and tests */
            const char *m = NULL;
            int tok = 0;
            for (size_t r = 0; vx_server_route(r, &m, &tok); r++)
                printf("%s %s %s\n", m, vx_server_route(r, NULL, NULL), tok ? "token" : "public");
            return 0;
        }
#define NEED_VALUE()                                                              \
    do {                                                                          \
        if (!v) {                                                                 \
            fprintf(stderr, "voxclone serve: %s needs a value\n", a);             \
            return 2;                                                             \
        }                                                                         \
        i++;                                                                      \
    } while (0)
        if (!strcmp(a, "--listen")) {
            NEED_VALUE();
            listen = v;
        } else if (!strcmp(a, "--db")) {
            NEED_VALUE();
            o.db_url = v;
        } else if (!strcmp(a, "--cache")) {
            NEED_VALUE();
            o.cache_url = v;
        } else if (!strcmp(a, "--data")) {
            NEED_VALUE();
            o.data_dir = v;
        } else if (!strcmp(a, "--web")) {
            NEED_VALUE();
            o.web_dir = v;
        } else if (!strcmp(a, "--port-file")) {
            NEED_VALUE();
            port_file = v;
        } else if (!strcmp(a, "--threads")) {
            NEED_VALUE();
            if (parse_long(v, 1, 256, &n)) {
                fprintf(stderr, "voxclone serve: --threads must be 1..256\n");
                return 2;
            }
            o.http_threads = (int)n;
        } else if (!strcmp(a, "--job-workers")) {
            NEED_VALUE();
            if (parse_long(v, 1, 64, &n)) {
                fprintf(stderr, "voxclone serve: --job-workers must be 1..64\n");
                return 2;
            }
            o.job_workers = (int)n;
        } else if (!strcmp(a, "--max-body-mb")) {
            NEED_VALUE();
            if (parse_long(v, 1, 2048, &n)) {
                fprintf(stderr, "voxclone serve: --max-body-mb must be 1..2048\n");
                return 2;
            }
            o.max_body_bytes = (size_t)n << 20;
        } else if (!strcmp(a, "--max-audio-s")) {
            NEED_VALUE();
            if (parse_long(v, 1, 86400, &n)) {
                fprintf(stderr, "voxclone serve: --max-audio-s must be 1..86400\n");
                return 2;
            }
            o.max_audio_s = (double)n;
        } else if (!strcmp(a, "--max-json-kb")) {
            NEED_VALUE();
            if (parse_long(v, 1, 65536, &n)) {
                fprintf(stderr, "voxclone serve: --max-json-kb must be 1..65536\n");
                return 2;
            }
            o.max_json_bytes = (size_t)n << 10;
        } else if (!strcmp(a, "--max-text-bytes")) {
            NEED_VALUE();
            if (parse_long(v, 1, VX_CLONE_MAX_TEXT, &n)) {
                fprintf(stderr, "voxclone serve: --max-text-bytes must be 1..%d\n", VX_CLONE_MAX_TEXT);
                return 2;
            }
            o.max_text_bytes = (size_t)n;
        } else if (!strcmp(a, "--max-queued-jobs")) {
            NEED_VALUE();
            if (parse_long(v, 1, 100000, &n)) {
                fprintf(stderr, "voxclone serve: --max-queued-jobs must be 1..100000\n");
                return 2;
            }
            o.max_queued_jobs = (size_t)n;
        } else {
            fprintf(stderr, "voxclone serve: unknown option '%s' (see --help)\n", a);
            return 2;
        }
#undef NEED_VALUE
    }
    char addr[64];
    const char *colon = strrchr(listen, ':');
    long port = 0;
    if (!colon || (size_t)(colon - listen) >= sizeof addr || colon == listen ||
        parse_long(colon + 1, 0, 65535, &port)) {
        fprintf(stderr, "voxclone serve: --listen must be ADDR:PORT with PORT 0..65535 (got '%s')\n",
                listen);
        return 2;
    }
    memcpy(addr, listen, (size_t)(colon - listen));
    addr[colon - listen] = '\0';
    o.listen_addr = addr;
    o.port = (int)port;

    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    signal(SIGPIPE, SIG_IGN);

    vx_server *srv = NULL;
    vx_error err;
    if (vx_server_start(&o, &srv, &err) != VX_OK) {
        fprintf(stderr, "voxclone serve: %s\n", err.message);
        return 1;
    }
    int bound = vx_server_port(srv);
    fprintf(stderr, "voxclone: listening on http://%s:%d (db %s, cache %s, data %s)\n", addr, bound,
            o.db_url ? o.db_url : "sqlite:<data>/voxclone.db", o.cache_url, o.data_dir);
    if (port_file) {
        FILE *f = fopen(port_file, "w");
        if (f) {
            fprintf(f, "%d\n", bound);
            fclose(f);
        }
    }
    int sig = 0;
    sigwait(&set, &sig);
    fprintf(stderr, "voxclone: %s received, finishing in-flight requests\n",
            sig == SIGTERM ? "SIGTERM" : "SIGINT");
    vx_server_stop(srv);
    fprintf(stderr, "voxclone: stopped\n");
    return 0;
}

int vx_cli_token(int argc, char **argv)
{
    if (argc < 2 || !strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) {
        usage_token(argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    const char *sub = argv[1];
    const char *user = NULL, *token = NULL;
    const char *db = env_or("VOXCLONE_DB", NULL);
    const char *data = env_or("VOXCLONE_DATA", "./data");
    int admin = 0;
    for (int i = 2; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--admin")) {
            admin = 1;
            continue;
        }
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            usage_token(stdout);
            return 0;
        }
        if (!v || (strcmp(a, "--user") && strcmp(a, "--token") && strcmp(a, "--db") &&
                   strcmp(a, "--data"))) {
            fprintf(stderr, "voxclone token: unknown option or missing value '%s'\n", a);
            return 2;
        }
        i++;
        if (!strcmp(a, "--user"))
            user = v;
        else if (!strcmp(a, "--token"))
            token = v;
        else if (!strcmp(a, "--db"))
            db = v;
        else
            data = v;
    }
    char dbbuf[1024];
    if (!db) {
        snprintf(dbbuf, sizeof dbbuf, "sqlite:%s/voxclone.db", data);
        db = dbbuf;
    }
    vx_error err;
    if (!strcmp(sub, "create")) {
        if (!user || token) {
            fprintf(stderr, "voxclone token create: --user NAME is required (no --token)\n");
            return 2;
        }
        char tok[64];
        if (vx_token_create(db, user, admin, tok, &err) != VX_OK) {
            fprintf(stderr, "voxclone token create: %s\n", err.message);
            return err.code == VX_EINVAL ? 2 : 1;
        }
        printf("created token for user '%s'%s in %s\n%s\n", user, admin ? " (admin)" : "", db, tok);
        return 0;
    }
    if (!strcmp(sub, "revoke")) {
        if ((!user && !token) || admin) {
            fprintf(stderr, "voxclone token revoke: give --token TOKEN or --user NAME\n");
            return 2;
        }
        int n = 0;
        if (vx_token_revoke(db, token ? NULL : user, token, &n, &err) != VX_OK) {
            fprintf(stderr, "voxclone token revoke: %s\n", err.message);
            return err.code == VX_ENOTFOUND ? 1 : err.code == VX_EINVAL ? 2 : 1;
        }
        printf("revoked %d token%s\n", n, n == 1 ? "" : "s");
        return 0;
    }
    fprintf(stderr, "voxclone token: unknown subcommand '%s' (create, revoke)\n", sub);
    return 2;
}
