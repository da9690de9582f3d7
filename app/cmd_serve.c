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

#include <unistd.h>

#include "ipc/worker.h"
#include "net/server_internal.h"
#include "voxclone/voxclone.h"

int vx_cli_serve(int argc, char **argv);
int vx_cli_gateway(int argc, char **argv);
int vx_cli_worker(int argc, char **argv);
int vx_cli_token(int argc, char **argv);

/* set by main() paths that run a server: serve or gateway */
static int g_gateway;

static void usage_serve(FILE *f)
{
    fprintf(f,
            "usage: voxclone serve [--listen ADDR:PORT] [--db URL] [--cache URL] [--data DIR]\n"
            "                      [--web DIR] [--threads N] [--job-workers N]\n"
            "                      [--max-body-mb N] [--max-audio-s S] [--max-queued-jobs N]\n"
            "                      [--max-json-kb N] [--max-text-bytes N] [--port-file PATH]\n"
            "                      [--rate-limit N] [--rate-burst N] [--workers N | --local]\n"
            "       voxclone gateway --bind tcp://HOST:PORT [serve options]\n"
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
            "  --job-workers N     message jobs run at once, default 1 (gateway: 4)\n"
            "  --max-body-mb N     request body limit, default 25\n"
            "  --max-audio-s S     audio duration limit, default 600\n"
            "  --max-queued-jobs N queued + running jobs before 429, default 64\n"
            "  --max-json-kb N     JSON body limit, default 256\n"
            "  --max-text-bytes N  text per language / per request, default 5000\n"
            "  --rate-limit N      per-user limit on authenticated requests per minute, 429 with\n"
            "                      Retry-After above it; 0 = none (default; env VOXCLONE_RATE_LIMIT)\n"
            "  --rate-burst N      requests a user may make at once, default max(10, N / 6)\n"
            "  --port-file PATH    write the bound port there once listening\n"
            "  --workers N         serve: audio work on N worker threads of this process over\n"
            "                      ZeroMQ inproc (the same broker a gateway uses), default 2\n"
            "  --local             serve: audio work in the request threads, without ZeroMQ\n"
            "  --bind tcp://H:P    gateway: workers (voxclone worker --connect) connect there;\n"
            "                      no audio work in the gateway; 503 while no worker is connected\n"
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
    {
        long rl = 0;
        const char *e = env_or("VOXCLONE_RATE_LIMIT", NULL);
        if (e && parse_long(e, 0, 1000000, &rl)) {
            fprintf(stderr, "voxclone serve: VOXCLONE_RATE_LIMIT must be 0..1000000 (got '%s')\n", e);
            return 2;
        }
        o.rate_limit_per_min = (double)rl;
    }
    const char *port_file = NULL;
    o.worker_bind = g_gateway ? NULL : "inproc";
    if (g_gateway) /* a gateway's jobs wait on workers, not on CPU: run several at once */
        o.job_workers = 4;
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
        } else if (!strcmp(a, "--workers") && !g_gateway) {
            NEED_VALUE();
            if (parse_long(v, 1, 64, &n)) {
                fprintf(stderr, "voxclone serve: --workers must be 1..64\n");
                return 2;
            }
            o.inproc_workers = (int)n;
        } else if (!strcmp(a, "--local") && !g_gateway) {
            o.worker_bind = NULL;
        } else if (!strcmp(a, "--bind") && g_gateway) {
            NEED_VALUE();
            if (strncmp(v, "tcp://", 6) != 0 && strncmp(v, "ipc://", 6) != 0) {
                fprintf(stderr, "voxclone gateway: --bind must be tcp://HOST:PORT or ipc://PATH\n");
                return 2;
            }
            o.worker_bind = v;
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
        } else if (!strcmp(a, "--rate-limit") || !strcmp(a, "--rate-burst")) {
            NEED_VALUE();
            if (parse_long(v, 0, 1000000, &n)) {
                fprintf(stderr, "voxclone serve: %s must be 0..1000000\n", a);
                return 2;
            }
            if (!strcmp(a, "--rate-limit"))
                o.rate_limit_per_min = (double)n;
            else
                o.rate_limit_burst = (double)n;
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
    if (g_gateway && !o.worker_bind)
        o.worker_bind = getenv("VOXCLONE_BIND");
    if (g_gateway && (!o.worker_bind || !o.worker_bind[0])) {
        fprintf(stderr, "voxclone gateway: --bind tcp://HOST:PORT is required (env VOXCLONE_BIND)\n");
        return 2;
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
    fprintf(stderr, "voxclone: listening on http://%s:%d (db %s, cache %s, data %s, work %s)\n", addr,
            bound, o.db_url ? o.db_url : "sqlite:<data>/voxclone.db", o.cache_url, o.data_dir,
            !o.worker_bind ? "in-process" : g_gateway ? o.worker_bind : "inproc workers");
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

int vx_cli_gateway(int argc, char **argv)
{
    g_gateway = 1;
    return vx_cli_serve(argc, argv);
}

static vx_worker *g_worker;

static void on_stop_signal(int sig)
{
    (void)sig;
    if (g_worker)
        vx_worker_stop(g_worker); /* async-signal-safe */
}

static void usage_worker(FILE *f)
{
    fprintf(f,
            "usage: voxclone worker --connect tcp://HOST:PORT [--threads N] [--id NAME]\n"
            "\n"
            "Does the audio work (analysis, cloning) of a `voxclone gateway`: connects to its\n"
            "--bind endpoint (env VOXCLONE_CONNECT), takes up to N tasks at once (default: one\n"
            "per online CPU), reconnects when the gateway restarts.  Any number of workers on\n"
            "any machines.  Stops on SIGTERM/SIGINT after telling the gateway, which re-queues\n"
            "its unfinished tasks.\n");
}

int vx_cli_worker(int argc, char **argv)
{
    const char *connect = env_or("VOXCLONE_CONNECT", NULL);
    const char *id = NULL;
    long threads = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            usage_worker(stdout);
            return 0;
        }
        if (!v || (strcmp(a, "--connect") && strcmp(a, "--threads") && strcmp(a, "--id"))) {
            fprintf(stderr, "voxclone worker: unknown option or missing value '%s'\n", a);
            return 2;
        }
        i++;
        if (!strcmp(a, "--connect")) {
            connect = v;
        } else if (!strcmp(a, "--id")) {
            id = v;
        } else if (parse_long(v, 1, 256, &threads)) {
            fprintf(stderr, "voxclone worker: --threads must be 1..256\n");
            return 2;
        }
    }
    if (!connect) {
        fprintf(stderr, "voxclone worker: --connect tcp://HOST:PORT is required\n");
        return 2;
    }
    if (threads == 0) {
        long n = sysconf(_SC_NPROCESSORS_ONLN);
        threads = n > 0 ? n : 1;
    }
    vx__workctx *ctx = NULL;
    if (vx__workctx_new(&ctx) != VX_OK) {
        fprintf(stderr, "voxclone worker: out of memory\n");
        return 1;
    }
    vx_worker_opts wo;
    vx_worker_opts_init(&wo);
    wo.threads = (int)threads;
    wo.worker_id = id;
    vx_error err;
    if (vx_worker_new_opts(connect, &wo, vx__work_handle, ctx, &g_worker, &err) != VX_OK) {
        fprintf(stderr, "voxclone worker: %s\n", err.message);
        vx__workctx_free(ctx);
        return 1;
    }
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_stop_signal;
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
    fprintf(stderr, "voxclone worker %s: %ld threads, connecting to %s\n", vx_worker_id(g_worker),
            threads, connect);
    int rc = vx_worker_run_until_stopped(g_worker, &err);
    vx_worker_free(g_worker);
    g_worker = NULL;
    vx__workctx_free(ctx);
    if (rc != VX_OK) {
        fprintf(stderr, "voxclone worker: %s\n", err.message);
        return 1;
    }
    fprintf(stderr, "voxclone worker: stopped\n");
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
