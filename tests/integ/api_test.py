#!/usr/bin/env python3
"""api_test.py -- integration tests of the voxclone HTTP service (SPEC sections 7-8).

Starts `voxclone serve` itself (loopback, port 0, --port-file), creates tokens with
`voxclone token create`, and drives every route of `voxclone serve --routes`:

  * content: profile versions, ?version=N, history per user, nearest voices, settings
    round-trip, presets, tts (WAV), /v1/audio/speech (MP3), a 3-language job;
  * auth: 401 (no header, bad token, revoked token), 403 (alice on bob's user routes and
    job), admin reaches both;
  * a table of >= 40 bad requests: each a 4xx with the JSON error shape naming the
    problem, and the store unchanged (row counts read from the database itself plus the
    API's own view);
  * Redis down (when --redis-dir is given): /health degraded, uploads still work,
    voxclone_cache_up 0, cache errors counted, recovery after Redis restarts;
  * /metrics passes `promtool check metrics`; voxclone_http_requests_total agrees with
    the requests this test made and with the latency histogram's counts;
  * graceful stop: SIGTERM while a request is in flight -> the request completes, exit 0;
  * limits: body over --max-body-mb (413, Content-Length and chunked), queue full (429 +
    Retry-After, nothing stored);
  * restart in the middle of a job (SIGKILL, new server on the same data/db): the job
    finishes, finished items keep their exact bytes, no item lost or duplicated;
  * OpenAPI: docs/openapi.json lists exactly the served routes, documents every status
    code observed here, and the main JSON responses carry the schemas' required
    properties with the documented types.

usage: api_test.py --bin BUILD/voxclone [--shared DIR] [--db URL] [--cache URL]
                   [--redis-dir DIR --redis-port N] [--openapi FILE] [--keep]
Prints "ok - name" / "FAIL - name" per check and "N passed, M failed"; exit 1 on failure.
Python 3 standard library only.
"""
import argparse
import http.client
import io
import json
import os
import re
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import uuid

from vxtest import (metric, parse_metrics, voiced_signal, wait_port_file,
                    wav_bytes, wav_duration)

HERE = os.path.dirname(os.path.abspath(__file__))
SRC = os.path.abspath(os.path.join(HERE, "..", ".."))

# ---------------------------------------------------------------------------
# reporting
# ---------------------------------------------------------------------------
PASSED = 0
FAILED = 0
FAILURES = []


def check(name, cond, detail=""):
    global PASSED, FAILED
    if cond:
        PASSED += 1
        print("ok - %s" % name, flush=True)
    else:
        FAILED += 1
        FAILURES.append(name)
        d = (" -- " + detail) if detail else ""
        if len(d) > 1500:
            d = d[:1500] + "..."
        print("FAIL - %s%s" % (name, d), flush=True)
    return bool(cond)


def note(msg):
    print("# %s" % msg, flush=True)


def short(b, n=300):
    if isinstance(b, (bytes, bytearray)):
        b = b[:n].decode("utf-8", "replace")
    s = str(b)
    return s if len(s) <= n else s[:n] + "..."


# ---------------------------------------------------------------------------
# audio
# ---------------------------------------------------------------------------
def load_clips(shared):
    """{speaker: [wav bytes, ...]} -- 2 speakers x 3 utterances (third for 'carol')."""
    spk_dir = os.path.join(shared or "", "evaldata", "speakers")
    pick = [("arctic-aew", 3), ("arctic-slt", 3)]
    if shared and os.path.isdir(spk_dir):
        clips = {}
        for spk, n in pick:
            d = os.path.join(spk_dir, spk)
            if not os.path.isdir(d):
                break
            files = sorted(f for f in os.listdir(d) if f.endswith(".wav"))[:n]
            if len(files) < n:
                break
            clips[spk] = [open(os.path.join(d, f), "rb").read() for f in files]
        else:
            note("audio: clips from %s" % spk_dir)
            return clips["arctic-aew"], clips["arctic-slt"], "shared"
    note("audio: generated voiced-like signals (no shared evaldata)")
    a = [wav_bytes(voiced_signal(125.0, 2.0, seed=s, vib_hz=5.0 + s)) for s in (0.0, 0.7, 1.4)]
    b = [wav_bytes(voiced_signal(215.0, 2.0, seed=s, vib_hz=4.5 + s,
                                 formants=(850.0, 1600.0, 3000.0))) for s in (0.3, 1.1, 1.9)]
    return a, b, "generated"


# ---------------------------------------------------------------------------
# HTTP
# ---------------------------------------------------------------------------
class Resp:
    def __init__(self, status, headers, body):
        self.status = status
        self.headers = headers  # lower-case name -> value
        self.body = body
        self._json = None
        self._parsed = False

    @property
    def json(self):
        if not self._parsed:
            self._parsed = True
            try:
                self._json = json.loads(self.body.decode("utf-8"))
            except Exception:
                self._json = None
        return self._json

    def __repr__(self):
        return "HTTP %s %s" % (self.status, short(self.body))


class Routes:
    def __init__(self, lines):
        self.routes = []  # (method, pattern, regex, auth)
        for ln in lines:
            parts = ln.split()
            if len(parts) < 2:
                continue
            m, p = parts[0], parts[1]
            auth = len(parts) < 3 or parts[2] == "token"
            rx = re.compile("^" + re.sub(r":[A-Za-z_]+", "[^/]+", re.escape(p).replace("\\:", ":"))
                            + "$")
            self.routes.append((m, p, rx, auth))

    def label(self, method, path):
        path = path.split("?", 1)[0]
        for m, p, rx, _ in self.routes:
            if m == method and rx.match(path):
                return p
        return "unmatched"


class Server:
    """One `voxclone serve` process."""

    def __init__(self, t, name, extra=()):
        self.t = t
        self.name = name
        self.extra = list(extra)
        self.proc = None
        self.port = None
        self.counts = {}  # (route, method, code) -> n  (requests this test made)
        self.crashes = 0  # times the suite found it dead and restarted it
        self.log = os.path.join(t.tmp, "server-%s.log" % name)

    def start(self):
        pf = os.path.join(self.t.tmp, "port-%s" % self.name)
        if os.path.exists(pf):
            os.unlink(pf)
        cmd = [self.t.bin, "serve", "--listen", "127.0.0.1:0", "--port-file", pf,
               "--data", self.t.data] + self.t.backend_args() + self.extra
        self.logf = open(self.log, "ab")
        self.proc = subprocess.Popen(cmd, stdout=self.logf, stderr=self.logf, cwd=self.t.tmp)
        proc = self.proc
        self.port = wait_port_file(pf, lambda: proc.poll() is None,
                                   lambda: "server %s (status %s): %s" %
                                   (self.name, proc.returncode, open(self.log).read()[-2000:]))
        self.counts = {}
        # ready when /health answers (counted: the server counts it too)
        deadline = time.time() + 30
        while time.time() < deadline:
            try:
                r = self.req("GET", "/health")
                if r.status in (200, 503):
                    return
            except OSError:
                pass
            time.sleep(0.05)
        raise RuntimeError("server %s never answered /health" % self.name)

    def req(self, method, path, token=None, body=None, ctype=None, headers=None, timeout=120,
            count=True, label=None, chunked=False):
        h = {}
        if token is not None:
            h["Authorization"] = token if token.startswith(("Bearer", "Basic", "bearer")) \
                else "Bearer " + token
        if ctype is not None:
            h["Content-Type"] = ctype
        if headers:
            h.update(headers)
        if isinstance(body, (dict, list)):
            body = json.dumps(body).encode()
            h.setdefault("Content-Type", "application/json")
        elif isinstance(body, str):
            body = body.encode()
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        try:
            if chunked:
                data = body
                def gen():
                    for i in range(0, len(data), 65536):
                        yield data[i:i + 65536]
                h["Transfer-Encoding"] = "chunked"
                conn.request(method, path, body=gen(), headers=h, encode_chunked=True)
            else:
                conn.request(method, path, body=body, headers=h)
            r = conn.getresponse()
            data = r.read()
            resp = Resp(r.status, {k.lower(): v for k, v in r.getheaders()}, data)
        finally:
            conn.close()
        if count:
            lab = label or self.t.routes.label(method, path)
            if resp.status == 405 or (resp.status == 404 and (
                    lab == "unmatched" or
                    str(((resp.json or {}).get("error") or {}).get("message", ""))
                    .startswith("no route"))):
                lab = "unmatched"
            key = (lab, method, resp.status)
            self.counts[key] = self.counts.get(key, 0) + 1
            if lab != "unmatched":
                self.t.observed.setdefault((method, lab), set()).add(resp.status)
                if resp.json is not None and resp.status < 300:
                    self.t.samples.setdefault((method, lab, resp.status), resp.json)
        return resp

    def stop(self, sig=signal.SIGTERM, timeout=60):
        if not self.proc:
            return None
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        try:
            rc = self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            rc = self.proc.wait()
            rc = "timeout(%s)" % rc
        self.logf.close()
        self.proc = None
        return rc


# ---------------------------------------------------------------------------
# multipart
# ---------------------------------------------------------------------------
def multipart(fields):
    """fields: list of (name, value, filename-or-None, content-type-or-None)."""
    bnd = "----vxtest" + uuid.uuid4().hex
    out = io.BytesIO()
    for name, value, fn, ct in fields:
        out.write(("--%s\r\n" % bnd).encode())
        disp = 'form-data; name="%s"' % name
        if fn:
            disp += '; filename="%s"' % fn
        out.write(("Content-Disposition: %s\r\n" % disp).encode())
        if ct:
            out.write(("Content-Type: %s\r\n" % ct).encode())
        out.write(b"\r\n")
        out.write(value if isinstance(value, bytes) else value.encode())
        out.write(b"\r\n")
    out.write(("--%s--\r\n" % bnd).encode())
    return out.getvalue(), "multipart/form-data; boundary=%s" % bnd


# ---------------------------------------------------------------------------
# metrics text
# ---------------------------------------------------------------------------
# ---------------------------------------------------------------------------
# the test
# ---------------------------------------------------------------------------
ERROR_CODES = {400: "bad_request", 401: "unauthorized", 403: "forbidden", 404: "not_found",
               405: "method_not_allowed", 409: "conflict", 413: "payload_too_large",
               415: "unsupported_media_type", 422: "unprocessable", 429: "too_many_requests",
               503: "unavailable"}


class Suite:
    def __init__(self, a):
        self.a = a
        self.bin = os.path.abspath(a.bin)
        self.tmp = tempfile.mkdtemp(prefix="vx-api.")
        self.data = os.path.join(self.tmp, "data")
        os.makedirs(self.data)
        out = subprocess.run([self.bin, "serve", "--routes"], capture_output=True, text=True)
        self.route_lines = [l for l in out.stdout.splitlines() if l.strip()]
        self.routes = Routes(self.route_lines)
        self.observed = {}   # (method, pattern) -> {status}
        self.samples = {}    # (method, pattern, status) -> first JSON body
        self.tokens = {}
        self.servers = []

    # -- backends ----------------------------------------------------------
    def backend_args(self):
        args = []
        if self.a.db:
            args += ["--db", self.a.db]
        if self.a.cache:
            args += ["--cache", self.a.cache]
        return args

    def token_args(self):
        return ["--db", self.a.db] if self.a.db else ["--data", self.data]

    def make_token(self, user, admin=False):
        cmd = [self.bin, "token", "create", "--user", user] + (["--admin"] if admin else []) + \
            self.token_args()
        r = subprocess.run(cmd, capture_output=True, text=True, cwd=self.tmp)
        if r.returncode != 0:
            raise RuntimeError("token create failed: %s" % r.stderr)
        return r.stdout.strip().splitlines()[-1].strip()

    def db_snapshot(self):
        """Row counts and settings rows straight from the database, plus files on disk."""
        q = ["SELECT count(*) FROM voice_profiles", "SELECT count(*) FROM voice_settings",
             "SELECT count(*) FROM similarity_history", "SELECT count(*) FROM jobs",
             "SELECT count(*) FROM job_results", "SELECT count(*) FROM users",
             "SELECT user_name || '=' || json FROM voice_settings ORDER BY user_name"]
        snap = {}
        if self.a.db:
            if not shutil.which("psql"):
                return None
            cmd = ["psql", self.a.db, "-X", "-A", "-t", "-v", "ON_ERROR_STOP=1"]
            for s in q:
                cmd += ["-c", s]
            r = subprocess.run(cmd, capture_output=True, text=True)
            out = r.stdout.splitlines() if r.returncode == 0 else ["ERR " + r.stderr] * len(q)
            # the count queries give one line each, the settings rows the rest
            for i, s in enumerate(q[:-1]):
                snap[s] = out[i] if i < len(out) else None
            snap[q[-1]] = "\n".join(out[len(q) - 1:])
        else:
            path = os.path.join(self.data, "voxclone.db")
            con = sqlite3.connect("file:%s?mode=ro" % path, uri=True, timeout=10)
            try:
                for s in q:
                    snap[s] = repr(con.execute(s).fetchall())
            finally:
                con.close()
        for sub in ("audio", "results"):
            d = os.path.join(self.data, sub)
            snap["files:" + sub] = len([f for f in os.listdir(d) if ".tmp." not in f]) \
                if os.path.isdir(d) else 0
        return snap

    def db_scalar(self, sql):
        """One integer from the database (None when it cannot be read)."""
        try:
            if self.a.db:
                if not shutil.which("psql"):
                    return None
                r = subprocess.run(["psql", self.a.db, "-X", "-A", "-t", "-c", sql],
                                   capture_output=True, text=True)
                return int(r.stdout.strip()) if r.returncode == 0 else None
            con = sqlite3.connect("file:%s?mode=ro" % os.path.join(self.data, "voxclone.db"),
                                  uri=True, timeout=10)
            try:
                return int(con.execute(sql).fetchone()[0])
            finally:
                con.close()
        except (ValueError, sqlite3.Error, TypeError):
            return None

    def api_snapshot(self, srv):
        T = self.tokens
        snap = {}
        for who in ("alice", "bob"):
            r = srv.req("GET", "/api/voice-analysis/%s" % who, T["admin"])
            snap["versions:" + who] = [v["version"] for v in (r.json or {}).get("versions", [])] \
                if r.status == 200 else r.status
            r = srv.req("GET", "/api/voice-similarity/history/%s" % who, T["admin"])
            snap["history:" + who] = (r.json or {}).get("count") if r.status == 200 else r.status
            r = srv.req("GET", "/api/voice-settings/%s" % who, T["admin"])
            snap["settings:" + who] = json.dumps(r.json, sort_keys=True)
        return snap

    # -- helpers -----------------------------------------------------------
    def is_error_shape(self, r, status):
        j = r.json
        if not isinstance(j, dict) or not isinstance(j.get("error"), dict):
            return False, "not the error shape: %r" % r
        e = j["error"]
        if not isinstance(e.get("message"), str) or not e["message"]:
            return False, "no message: %r" % r
        if "field" not in e or not (e["field"] is None or isinstance(e["field"], str)):
            return False, "no field key: %r" % r
        if status in ERROR_CODES and e.get("code") != ERROR_CODES[status]:
            return False, "code %r for status %d" % (e.get("code"), status)
        if not r.headers.get("content-type", "").startswith("application/json"):
            return False, "content-type %r" % r.headers.get("content-type")
        return True, ""

    def expect_error(self, name, r, status, field=None, msg=None):
        ok = r.status == status
        why = "" if ok else "expected %d, got %r" % (status, r)
        if ok:
            ok, why = self.is_error_shape(r, status)
        if ok and field is not None:
            f = r.json["error"].get("field")
            if f != field and not (isinstance(field, tuple) and f in field):
                ok, why = False, "field %r, expected %r (%s)" % (f, field, r.json["error"]["message"])
        if ok and msg is not None:
            m = r.json["error"]["message"]
            if msg.lower() not in m.lower():
                ok, why = False, "message %r lacks %r" % (m, msg)
        return check(name, ok, why)

    def wait_job(self, srv, token, jid, until, timeout=300, on_poll=None):
        deadline = time.time() + timeout
        last = None
        while time.time() < deadline:
            r = srv.req("GET", "/api/audio-messages/%s" % jid, token)
            if r.status != 200:
                return r, False
            last = r
            if on_poll:
                on_poll(r.json)
            if until(r.json):
                return r, True
            time.sleep(0.1)
        return last, False

    # ---------------------------------------------------------------------
    def run(self):
        a = self.a
        self.alice_clips, self.bob_clips, self.audio_src = load_clips(a.shared)
        check("route table from `voxclone serve --routes` (%d routes)" % len(self.routes.routes),
              len(self.routes.routes) >= 10, "\n".join(self.route_lines))
        T = self.tokens
        T["alice"] = self.make_token("alice")
        T["bob"] = self.make_token("bob")
        T["carol"] = self.make_token("carol")
        T["admin"] = self.make_token("root", admin=True)
        T["dave"] = self.make_token("dave")

        srv = Server(self, "main")
        srv.start()
        self.servers.append(srv)
        note("main server on port %d (%s)" % (srv.port, " ".join(self.backend_args()) or "sqlite+memory"))

        for part in (self.t_health, self.t_auth, self.t_profiles, self.t_compare_history,
                     self.t_similar, self.t_presets_settings, self.t_tts, self.t_job,
                     self.t_forbidden, self.t_bad_table) + \
                ((self.t_redis_down,) if a.redis_dir else ()) + (self.t_metrics, self.t_graceful):
            self.run_part(part, srv)

        lim = Server(self, "limits", ["--max-body-mb", "1", "--max-queued-jobs", "1",
                                      "--job-workers", "1"])
        lim.start()
        self.servers.append(lim)
        for part in (self.t_limits, self.t_restart):
            self.run_part(part, lim)
        rc = lim.stop()
        check("limits server: SIGTERM -> exit status 0", rc == 0, "exit %r" % (rc,))

        rl = Server(self, "ratelimit", ["--rate-limit", "60", "--rate-burst", "5"])
        rl.start()
        self.servers.append(rl)
        self.run_part(self.t_rate_limit, rl)
        rc = rl.stop()
        check("rate-limit server: SIGTERM -> exit status 0", rc == 0, "exit %r" % (rc,))

        self.t_coverage()
        self.t_openapi()

    def run_part(self, part, srv):
        """Runs one part; an exception fails it (with the server's log when the server
        died) and the server is restarted so the later parts still run."""
        t0 = time.time()
        try:
            part(srv)
        except Exception as e:  # noqa
            import traceback
            tb = traceback.format_exc()
            check("%s ran to the end" % part.__name__, False, "%r\n%s" % (e, tb[-1200:]))
        self.check_alive(srv, part.__name__)
        note("%s: %.1f s" % (part.__name__, time.time() - t0))

    def check_alive(self, srv, where):
        if srv.proc is not None and srv.proc.poll() is not None:
            rc = srv.proc.returncode
            tail = open(srv.log, errors="replace").read()[-3000:]
            check("server %s alive after %s" % (srv.name, where), False,
                  "exited with %r; log tail:\n%s" % (rc, tail))
            srv.logf.close()
            srv.proc = None
            srv.crashes += 1
            srv.start()
            note("server %s restarted on port %d" % (srv.name, srv.port))
            return False
        return True

    # ---------------------------------------------------------------------
    def t_health(self, srv):
        r = srv.req("GET", "/health")
        j = r.json or {}
        check("GET /health 200 status ok", r.status == 200 and j.get("status") == "ok", repr(r))
        want_store = "postgres" if self.a.db else "sqlite"
        check("GET /health names the store back-end (%s)" % want_store,
              want_store in str((j.get("store") or {}).get("backend", "")).lower(), repr(r))
        want_cache = "redis" if (self.a.cache or "").startswith("redis") else "memory"
        check("GET /health names the cache back-end (%s) and ok" % want_cache,
              want_cache in str((j.get("cache") or {}).get("backend", "")).lower()
              and (j.get("cache") or {}).get("ok") is True, repr(r))
        r = srv.req("GET", "/metrics")
        check("GET /metrics 200 text/plain", r.status == 200 and
              r.headers.get("content-type", "").startswith("text/plain") and
              b"voxclone_http_requests_total" in r.body, repr(r))

    def t_auth(self, srv):
        T = self.tokens
        r = srv.req("GET", "/api/whoami", T["alice"])
        check("whoami alice (no profile yet: profile_version null)", r.status == 200 and
              r.json == {"user": "alice", "admin": False, "profile_version": None}, repr(r))
        r = srv.req("GET", "/api/whoami", T["admin"])
        check("whoami admin", r.status == 200 and (r.json or {}).get("admin") is True, repr(r))
        # every token route without a header -> 401 (and with a bad token)
        bad = 0
        details = []
        for m, p, rx, auth in self.routes.routes:
            if not auth:
                continue
            path = p.replace(":userId", "alice").replace(":id", str(uuid.uuid4())) \
                    .replace(":index", "0")
            body = {} if m in ("POST", "PUT") else None
            for tok, lab in ((None, "no header"), ("vxt_notavalidtoken0123456789", "bad token"),
                             ("Basic YWxpY2U6cGFzcw==", "Basic scheme")):
                r = srv.req(m, path, tok, body=body)
                ok = r.status == 401 and self.is_error_shape(r, 401)[0] and \
                    "www-authenticate" in r.headers and \
                    (r.json or {}).get("error", {}).get("field") == "Authorization"
                if not ok:
                    bad += 1
                    details.append("%s %s (%s): %r" % (m, path, lab, r))
        check("401 on every token route (no header, bad token, Basic): JSON error, "
              "WWW-Authenticate, field Authorization", bad == 0, "; ".join(details))
        # revoked token
        r = srv.req("GET", "/api/whoami", T["dave"])
        check("dave's token works before revocation", r.status == 200, repr(r))
        out = subprocess.run([self.bin, "token", "revoke", "--token", T["dave"]] + self.token_args(),
                             capture_output=True, text=True, cwd=self.tmp)
        check("voxclone token revoke --token exits 0", out.returncode == 0, out.stderr)
        r = srv.req("GET", "/api/whoami", T["dave"])
        self.expect_error("revoked token -> 401", r, 401, "Authorization")
        r = srv.req("GET", "/api/voice-settings/dave", T["dave"])
        self.expect_error("revoked token -> 401 on a user route", r, 401, "Authorization")

    def upload(self, srv, user, audio, token=None, as_multipart=False):
        if as_multipart:
            body, ct = multipart([("audio", audio, "sample.wav", "audio/wav")])
        else:
            body, ct = audio, "audio/wav"
        return srv.req("POST", "/api/voice-profiles/%s" % user, token or self.tokens[user],
                       body=body, ctype=ct)

    def t_profiles(self, srv):
        T = self.tokens
        r = srv.req("GET", "/api/voice-analysis/alice", T["alice"])
        self.expect_error("no profile yet -> 404", r, 404, "userId")
        r1 = self.upload(srv, "alice", self.alice_clips[0])
        ok = r1.status == 201 and (r1.json or {}).get("version") == 1 and \
            isinstance((r1.json or {}).get("analysis"), dict)
        check("upload alice #1 (raw audio/wav) -> 201 version 1 with analysis", ok, repr(r1))
        check("upload -> Location header", r1.headers.get("location", "").startswith(
            "/api/voice-analysis/alice?version=1"), str(r1.headers))
        r2 = self.upload(srv, "alice", self.alice_clips[1], as_multipart=True)
        check("upload alice #2 (multipart) -> 201 version 2",
              r2.status == 201 and (r2.json or {}).get("version") == 2, repr(r2))
        self.alice_v1 = (r1.json or {}).get("id")
        self.alice_v2 = (r2.json or {}).get("id")
        rb = self.upload(srv, "bob", self.bob_clips[0])
        check("upload bob -> 201 version 1", rb.status == 201 and (rb.json or {}).get("version") == 1,
              repr(rb))
        self.bob_v1 = (rb.json or {}).get("id")
        rc = self.upload(srv, "carol", self.alice_clips[2])
        check("upload carol (same speaker as alice) -> 201", rc.status == 201, repr(rc))
        self.carol_v1 = (rc.json or {}).get("id")
        # admin uploads for bob: allowed
        r = self.upload(srv, "bob", self.bob_clips[1], token=T["admin"])
        check("admin uploads for bob -> 201 version 2", r.status == 201 and
              (r.json or {}).get("version") == 2, repr(r))
        self.bob_v2 = (r.json or {}).get("id")

        r = srv.req("GET", "/api/voice-analysis/alice", T["alice"])
        j = r.json or {}
        check("GET analysis: latest is version 2", r.status == 200 and j.get("version") == 2 and
              j.get("latest_version") == 2 and j.get("id") == self.alice_v2, repr(r))
        vs = [v.get("version") for v in j.get("versions", [])]
        check("versions list newest first [2, 1]", vs == [2, 1], repr(vs))
        check("versions carry ids", [v.get("id") for v in j.get("versions", [])] ==
              [self.alice_v2, self.alice_v1], repr(j.get("versions")))
        check("GET analysis == analysis returned by upload #2",
              j.get("analysis") == (r2.json or {}).get("analysis"), "")
        r = srv.req("GET", "/api/voice-analysis/alice?version=1", T["alice"])
        j1 = r.json or {}
        check("?version=1 returns the older analysis",
              r.status == 200 and j1.get("version") == 1 and j1.get("id") == self.alice_v1 and
              j1.get("analysis") == (r1.json or {}).get("analysis") and
              j1.get("analysis") != j.get("analysis") and j1.get("latest_version") == 2, repr(r))
        r = srv.req("GET", "/api/whoami", T["alice"])
        check("whoami after two uploads: profile_version 2",
              r.status == 200 and (r.json or {}).get("profile_version") == 2, repr(r))
        r = srv.req("GET", "/api/voice-profiles/alice/audio", T["alice"])
        check("GET profile audio: the latest upload's bytes, audio/wav",
              r.status == 200 and r.body == self.alice_clips[1] and
              r.headers.get("content-type", "") == "audio/wav", repr(r))
        r = srv.req("GET", "/api/voice-profiles/alice/audio?version=1", T["alice"])
        check("GET profile audio ?version=1: the first upload's bytes",
              r.status == 200 and r.body == self.alice_clips[0], repr(r))
        r = srv.req("GET", "/api/voice-profiles/alice/audio?version=9", T["alice"])
        self.expect_error("profile audio of a missing version -> 404", r, 404, "version")
        r = srv.req("GET", "/api/voice-profiles/alice/audio", T["bob"])
        self.expect_error("bob on alice's profile audio -> 403", r, 403, "userId")
        r = srv.req("GET", "/api/voice-analysis/alice?version=1&frames=1", T["alice"])
        fr = (r.json or {}).get("frames")
        check("?frames=1 adds per-frame tracks", r.status == 200 and fr not in (None, [], {}),
              repr(r))
        r = srv.req("GET", "/api/voice-analysis/alice?version=3", T["alice"])
        self.expect_error("?version=3 (not yet) -> 404 field version", r, 404, "version")

    def t_compare_history(self, srv):
        T = self.tokens

        def hist(who, token=None):
            r = srv.req("GET", "/api/voice-similarity/history/%s" % who, token or T[who])
            return r, (r.json or {}).get("count"), (r.json or {}).get("entries", [])

        r, n0, _ = hist("alice")
        check("history empty at first", r.status == 200 and n0 == 0, repr(r))
        r = srv.req("POST", "/api/voice-analysis/compare", T["alice"],
                    body={"original_profile_id": self.alice_v1, "cloned_profile_id": self.alice_v2})
        j = r.json or {}
        ov = j.get("overall_similarity")
        check("compare by profile ids -> 200 with similarities",
              r.status == 200 and isinstance(ov, (int, float)) and 0 <= ov <= 1 and
              "history_id" in j and j.get("original") == self.alice_v1, repr(r))
        _, n1, e1 = hist("alice")
        check("history grows to 1", n1 == 1 and e1 and e1[0].get("original") == self.alice_v1,
              repr(e1))
        body, ct = multipart([("original", self.bob_clips[0], "o.wav", "audio/wav"),
                              ("cloned_profile_id", self.alice_v1, None, None)])
        r = srv.req("POST", "/api/voice-analysis/compare", T["alice"], body=body, ctype=ct)
        j2 = r.json or {}
        check("compare upload vs profile id (multipart) -> 200", r.status == 200 and
              str(j2.get("original", "")).startswith("upload:"), repr(r))
        body, ct = multipart([("original", self.alice_clips[0], "a.wav", "audio/wav"),
                              ("cloned", self.alice_clips[1], "b.wav", "audio/wav")])
        r = srv.req("POST", "/api/voice-analysis/compare", T["alice"], body=body, ctype=ct)
        j3 = r.json or {}
        check("compare two uploads (multipart) -> 200", r.status == 200, repr(r))
        if r.status == 200 and j2.get("overall_similarity") is not None:
            check("same speaker more similar than different speakers",
                  j3.get("overall_similarity", 0) > j2.get("overall_similarity", 1),
                  "same %r vs different %r" % (j3.get("overall_similarity"),
                                               j2.get("overall_similarity")))
        _, n3, e3 = hist("alice")
        check("history grows with each compare (3)", n3 == 3, "count %r" % n3)
        ids = [e.get("id") for e in e3]
        check("history newest first", ids == sorted(ids, reverse=True) and
              ids[0] == j3.get("history_id"), repr(ids))
        r, nb, _ = hist("bob")
        check("history is per user (bob has 0)", r.status == 200 and nb == 0, repr(r))
        r = srv.req("POST", "/api/voice-analysis/compare", T["bob"],
                    body={"original_profile_id": self.bob_v1, "cloned_profile_id": self.bob_v2})
        check("bob compares -> 200", r.status == 200, repr(r))
        _, nb, _ = hist("bob")
        _, na, _ = hist("alice")
        check("bob's compare lands in bob's history only", nb == 1 and na == 3, "bob %r alice %r"
              % (nb, na))
        r, n, _ = hist("alice", T["admin"])
        check("admin reads alice's history", r.status == 200 and n == 3, repr(r))
        r = srv.req("GET", "/api/voice-similarity/history/alice?limit=2", T["alice"])
        check("history ?limit=2", r.status == 200 and len((r.json or {}).get("entries", [])) == 2,
              repr(r))

    def t_similar(self, srv):
        T = self.tokens
        r = srv.req("GET", "/api/voices/similar?profile=%s&k=10" % self.alice_v2, T["alice"])
        j = r.json or {}
        res = j.get("results", [])
        sims = [x.get("similarity") for x in res]
        check("nearest voices (alice) -> 200 with the 2 other users' voices",
              r.status == 200 and len(res) == 2, repr(r))
        alice_ids = {self.alice_v1, self.alice_v2}
        check("nearest voices exclude the asking user's own profiles",
              not any(x.get("user") == "alice" or x.get("profile_id") in alice_ids for x in res),
              repr(res))
        check("nearest voices ordered by similarity (descending)",
              all(isinstance(s, (int, float)) for s in sims) and sims == sorted(sims, reverse=True),
              repr(sims))
        r = srv.req("GET", "/api/voices/similar?profile=%s&k=10" % self.alice_v2, T["admin"])
        res = (r.json or {}).get("results", [])
        users = [x.get("user") for x in res]
        sims_admin = [x.get("similarity") for x in res]
        check("nearest voices (admin) name the other users, not alice",
              r.status == 200 and set(users) == {"bob", "carol"}, repr(r))
        check("nearest voice of alice is carol (same speaker)", users[:1] == ["carol"],
              "%r %r" % (users, sims_admin))
        check("nearest voices: same similarities for alice and admin", sims == sims_admin,
              "%r vs %r" % (sims, sims_admin))
        r = srv.req("GET", "/api/voices/similar?profile=%s&k=1" % self.alice_v2, T["alice"])
        check("nearest voices k=1 -> 1 result", r.status == 200 and
              len((r.json or {}).get("results", [])) == 1, repr(r))

    def t_presets_settings(self, srv):
        T = self.tokens
        r = srv.req("GET", "/api/voice-presets", T["alice"])
        j = r.json
        presets = j if isinstance(j, list) else (j or {}).get("presets", [])
        names = [p.get("name") for p in presets]
        check("5 presets", r.status == 200 and len(presets) == 5, repr(r))
        check("preset names", set(names) == {"fast", "balanced", "high_quality", "conversational",
                                             "low_resource"}, repr(names))
        check("14 parameters in each preset",
              all(len(p.get("parameters", {})) == 14 for p in presets),
              repr([len(p.get("parameters", {})) for p in presets]))
        self.presets = {p.get("name"): p.get("parameters", {}) for p in presets}
        r = srv.req("GET", "/api/voice-settings/alice", T["alice"])
        j = r.json or {}
        check("default settings: balanced, 14 values, not stored",
              r.status == 200 and j.get("preset") == "balanced" and
              len(j.get("settings") or {}) == 14 and j.get("stored") is False, repr(r))
        body = {"preset": "fast", "overrides": {"temperature": 0.7, "top_p": 0.8}}
        r = srv.req("PUT", "/api/voice-settings/alice", T["alice"], body=body)
        check("PUT settings -> 200", r.status == 200, repr(r))
        r = srv.req("GET", "/api/voice-settings/alice", T["alice"])
        j = r.json or {}
        st = j.get("settings") or {}
        ok = (j.get("preset") == "fast" and j.get("overrides") == body["overrides"] and
              abs(st.get("temperature", 0) - 0.7) < 1e-9 and abs(st.get("top_p", 0) - 0.8) < 1e-9 and
              j.get("stored") is True)
        fast = self.presets.get("fast", {})
        for k, v in fast.items():
            if k not in body["overrides"] and st.get(k) != v:
                ok = False
        check("settings round-trip: preset + overrides, other values from the preset", ok, repr(r))
        # flat form
        r = srv.req("PUT", "/api/voice-settings/bob", T["bob"],
                    body={"preset": "high_quality", "temperature": 0.9})
        r2 = srv.req("GET", "/api/voice-settings/bob", T["bob"])
        j = r2.json or {}
        check("settings flat form round-trips", r.status == 200 and j.get("preset") ==
              "high_quality" and j.get("overrides") == {"temperature": 0.9}, repr(r2))
        r = srv.req("GET", "/api/voice-settings/bob", T["admin"])
        check("admin reads bob's settings", r.status == 200 and
              (r.json or {}).get("preset") == "high_quality", repr(r))

    def t_tts(self, srv):
        T = self.tokens
        r = srv.req("POST", "/api/tts", T["alice"],
                    body={"text": "Hello, this is a short test of the voice.", "language": "en"})
        ok = r.status == 200 and r.body[:4] == b"RIFF" and r.body[8:12] == b"WAVE"
        check("tts -> RIFF/WAVE", ok, repr(r) if not ok else "")
        if ok:
            try:
                d = wav_duration(r.body)
            except Exception as e:  # noqa
                d = -1
                note("wave: %s" % e)
            check("tts WAV decodes, duration > 0.3 s (%.2f s)" % d, d > 0.3, "%.3f" % d)
        check("tts -> X-Voxclone-Profile is alice's latest",
              r.headers.get("x-voxclone-profile") == self.alice_v2, str(r.headers))
        r = srv.req("POST", "/api/tts", T["alice"],
                    body={"text": "Bonjour tout le monde.", "language": "fr",
                          "settings": {"audio_format": "mp3"}})
        check("tts settings audio_format mp3 -> audio/mpeg", r.status == 200 and
              r.headers.get("content-type") == "audio/mpeg" and self.is_mp3(r.body), repr(r))
        r = srv.req("POST", "/v1/audio/speech", T["alice"],
                    body={"model": "tts-1", "input": "Good morning everyone.", "voice": "alice"})
        check("/v1/audio/speech -> MP3 (ID3 or 0xFFE sync)", r.status == 200 and
              self.is_mp3(r.body), repr(r))
        r = srv.req("POST", "/v1/audio/speech", T["alice"],
                    body={"model": "voxclone-1", "input": "Good morning.", "voice": self.alice_v1,
                          "response_format": "wav"})
        check("/v1/audio/speech by profile id, wav", r.status == 200 and r.body[:4] == b"RIFF" and
              r.headers.get("x-voxclone-profile") == self.alice_v1, repr(r))
        r = srv.req("POST", "/api/tts", T["admin"],
                    body={"text": "Hi there.", "language": "en", "user": "bob"})
        check("admin tts in bob's voice", r.status == 200 and
              r.headers.get("x-voxclone-profile") == self.bob_v2, repr(r))

    @staticmethod
    def is_mp3(b):
        return len(b) > 4 and (b[:3] == b"ID3" or (b[0] == 0xFF and (b[1] & 0xE0) == 0xE0))

    def t_job(self, srv):
        T = self.tokens
        before = self.db_snapshot()
        targets = [{"language": "en", "text": "Hello there, how are you doing today? "
                    "I hope the weather is fine where you are."},
                   {"language": "fr", "text": "Bonjour, comment allez-vous aujourd'hui? "
                    "J'espère qu'il fait beau chez vous."},
                   {"language": "de", "text": "Guten Tag, wie geht es Ihnen heute? "
                    "Ich hoffe, das Wetter ist schön bei Ihnen."}]
        r = srv.req("POST", "/api/audio-messages", T["alice"], body={"targets": targets,
                                                                     "seed": 42})
        j = r.json or {}
        check("submit 3-language job -> 202 with id", r.status == 202 and "id" in j and
              r.headers.get("location") == "/api/audio-messages/%s" % j.get("id"), repr(r))
        if r.status != 202:
            return
        jid = j["id"]
        self.alice_job = jid
        seen = {"states": set(), "progress": set()}

        def poll(js):
            seen["states"].add(js.get("status"))
            seen["progress"].add(round(js.get("progress", 0), 3))
            for it in js.get("results", []):
                seen["states"].add("item:" + it.get("status", ""))

        r, ok = self.wait_job(srv, T["alice"], jid,
                              lambda js: js.get("status") in ("done", "failed", "partial"),
                              on_poll=poll)
        js = r.json or {}
        check("job finishes done", ok and js.get("status") == "done", repr(r))
        inter = [p for p in seen["progress"] if 0 < p < 1] or \
            ({"queued", "running"} & seen["states"])
        check("job progress observed before done (%s)" % sorted(seen["progress"]), bool(inter),
              repr(seen))
        res = js.get("results", [])
        check("job results: 3 items in order, all done, progress 1",
              [x.get("language") for x in res] == ["en", "fr", "de"] and
              all(x.get("status") == "done" for x in res) and js.get("progress") == 1, repr(res))
        for i, it in enumerate(res):
            url = it.get("audio_url") or "/api/audio-messages/%s/audio/%d" % (jid, i)
            a = srv.req("GET", url, T["alice"])
            d = -1
            if a.status == 200 and a.body[:4] == b"RIFF":
                try:
                    d = wav_duration(a.body)
                except Exception:
                    d = -1
            check("job audio %d (%s) downloadable, WAV decodes, %.2f s" % (i, it.get("language"), d),
                  a.status == 200 and d > 0.3, repr(a))
        r = srv.req("GET", "/api/audio-messages/%s" % jid, T["admin"])
        check("admin reads alice's job", r.status == 200, repr(r))
        r = srv.req("GET", "/api/audio-messages/%s/audio/0" % jid, T["admin"])
        check("admin downloads alice's job audio", r.status == 200, repr(r))
        after = self.db_snapshot()
        if before and after:
            check("job stored: 1 job, 3 results", self._n(after, "jobs") - self._n(before, "jobs") == 1
                  and self._n(after, "job_results") - self._n(before, "job_results") == 3,
                  "%r -> %r" % (before, after))

    @staticmethod
    def _n(snap, table):
        v = snap.get("SELECT count(*) FROM %s" % table)
        m = re.search(r"\d+", str(v))
        return int(m.group(0)) if m else -1

    def t_forbidden(self, srv):
        T = self.tokens
        A = T["alice"]
        rows = [
            ("GET", "/api/voice-analysis/bob", None, None),
            ("POST", "/api/voice-profiles/bob", self.alice_clips[0], "audio/wav"),
            ("GET", "/api/voice-settings/bob", None, None),
            ("PUT", "/api/voice-settings/bob", {"preset": "fast"}, None),
            ("GET", "/api/voice-similarity/history/bob", None, None),
        ]
        for m, p, body, ct in rows:
            r = srv.req(m, p, A, body=body, ctype=ct)
            self.expect_error("alice on bob: %s %s -> 403" % (m, p), r, 403, "userId")
        r = srv.req("POST", "/api/tts", A, body={"text": "hi", "language": "en", "user": "bob"})
        self.expect_error("alice tts as user bob -> 403", r, 403, ("user", "userId"))
        r = srv.req("POST", "/api/audio-messages", A,
                    body={"user": "bob", "targets": [{"language": "en", "text": "hi"}]})
        self.expect_error("alice job as user bob -> 403", r, 403, ("user", "userId"))
        r = srv.req("POST", "/api/voice-analysis/compare", A,
                    body={"original_profile_id": self.alice_v1, "cloned_profile_id": self.bob_v1})
        self.expect_error("alice compares bob's profile -> 403", r, 403, "cloned_profile_id")
        r = srv.req("GET", "/api/voices/similar?profile=%s" % self.bob_v1, A)
        self.expect_error("alice nearest of bob's profile -> 403", r, 403, "profile")
        r = srv.req("POST", "/v1/audio/speech", A,
                    body={"model": "tts-1", "input": "hi", "voice": "bob"})
        # 403, or 404 like an unknown voice (the service may hide that bob exists)
        if r.status == 404:
            self.expect_error("alice speech in bob's voice -> 404 (hidden, like an unknown voice)",
                              r, 404, "voice")
        else:
            self.expect_error("alice speech in bob's voice -> 403", r, 403, "voice")
        r = srv.req("POST", "/v1/audio/speech", A,
                    body={"model": "tts-1", "input": "hi", "voice": self.bob_v1})
        if r.status == 404:
            self.expect_error("alice speech with bob's profile id -> 404 (hidden)", r, 404, "voice")
        else:
            self.expect_error("alice speech with bob's profile id -> 403", r, 403, "voice")
        r = srv.req("GET", "/api/audio-messages/%s" % self.alice_job, T["bob"])
        self.expect_error("bob on alice's job -> 403", r, 403, "id")
        r = srv.req("GET", "/api/audio-messages/%s/audio/0" % self.alice_job, T["bob"])
        self.expect_error("bob on alice's job audio -> 403", r, 403, "id")
        # admin may access both
        ok = True
        det = []
        for who in ("alice", "bob"):
            for p in ("/api/voice-analysis/%s", "/api/voice-settings/%s",
                      "/api/voice-similarity/history/%s"):
                r = srv.req("GET", p % who, T["admin"])
                if r.status != 200:
                    ok = False
                    det.append("%s: %r" % (p % who, r))
        r = srv.req("GET", "/api/voices/similar?profile=%s" % self.bob_v1, T["admin"])
        ok = ok and r.status == 200
        r = srv.req("POST", "/api/voice-analysis/compare", T["admin"],
                    body={"original_profile_id": self.alice_v1, "cloned_profile_id": self.bob_v1})
        ok = ok and r.status == 200
        check("admin reaches alice's and bob's user routes, profiles", ok, "; ".join(det))
        self.admin_compared = r.status == 200

    # ---------------------------------------------------------------------
    def bad_rows(self):
        """(name, method, path, token-key, body, content-type, status, field, msg-substring)"""
        A = "alice"
        u = "/api/voice-profiles/alice"
        st = "/api/voice-settings/alice"
        cmp_ = "/api/voice-analysis/compare"
        unknown = str(uuid.uuid4())
        short = wav_bytes(voiced_signal(130.0, 0.3))
        silent = wav_bytes([0.0] * 32000)
        full = self.alice_clips[0]
        trunc = full[:44 + 800] if len(full) > 2000 else full[:len(full) // 3]
        mp_both, mp_ct = multipart([("original", self.alice_clips[0], "a.wav", "audio/wav"),
                                    ("original_profile_id", self.alice_v1, None, None),
                                    ("cloned_profile_id", self.alice_v1, None, None)])
        mp_one, mp_ct1 = multipart([("original", self.alice_clips[0], "a.wav", "audio/wav")])
        mp_noaudio, mp_ct2 = multipart([("note", "no audio here", None, None)])
        big_json = json.dumps({"preset": "fast", "pad": "x" * (300 * 1024)})
        J = "application/json"
        t1 = {"language": "en", "text": "hello"}
        rows = [
            # uploads
            ("upload text/plain -> 415", "POST", u, A, "hello", "text/plain", 415, "Content-Type", None),
            ("upload without Content-Type -> 415", "POST", u, A, b"RIFF....", None, 415, "Content-Type", None),
            ("upload empty body -> 400", "POST", u, A, b"", "audio/wav", 400, "audio", None),
            ("upload audio 0.3 s -> 422", "POST", u, A, short, "audio/wav", 422, "audio", None),
            ("upload non-audio bytes -> 422", "POST", u, A, b"this is not audio at all " * 200,
             "audio/wav", 422, "audio", None),
            ("upload truncated WAV -> 422", "POST", u, A, trunc, "audio/wav", 422, "audio", None),
            ("upload silent audio -> 422 no voiced speech", "POST", u, A, silent, "audio/wav", 422,
             "audio", "voiced"),
            ("upload multipart without 'audio' field -> 400", "POST", u, A, mp_noaudio, mp_ct2, 400,
             "audio", None),
            ("upload bad userId characters -> 400", "POST", "/api/voice-profiles/al$ce", A, full,
             "audio/wav", 400, "userId", None),
            # analysis
            ("analysis bad userId -> 400", "GET", "/api/voice-analysis/a%20b", A, None, None, 400,
             "userId", None),
            ("analysis userId too long -> 400", "GET", "/api/voice-analysis/" + "a" * 200, A, None,
             None, 400, "userId", None),
            ("analysis version=0 -> 400", "GET", "/api/voice-analysis/alice?version=0", A, None, None,
             400, "version", None),
            ("analysis version=abc -> 400", "GET", "/api/voice-analysis/alice?version=abc", A, None,
             None, 400, "version", None),
            ("analysis version=-1 -> 400", "GET", "/api/voice-analysis/alice?version=-1", A, None,
             None, 400, "version", None),
            ("analysis version=99 -> 404", "GET", "/api/voice-analysis/alice?version=99", A, None,
             None, 404, "version", None),
            ("analysis frames=maybe -> 400", "GET", "/api/voice-analysis/alice?frames=maybe", A, None,
             None, 400, "frames", None),
            # history
            ("history limit=0 -> 400", "GET", "/api/voice-similarity/history/alice?limit=0", A, None,
             None, 400, "limit", None),
            ("history limit=abc -> 400", "GET", "/api/voice-similarity/history/alice?limit=abc", A,
             None, None, 400, "limit", None),
            ("history limit=100000 -> 400", "GET",
             "/api/voice-similarity/history/alice?limit=100000", A, None, None, 400, "limit", None),
            # nearest voices
            ("similar without profile -> 400", "GET", "/api/voices/similar", A, None, None, 400,
             "profile", None),
            ("similar profile not a uuid -> 400", "GET", "/api/voices/similar?profile=abc", A, None,
             None, 400, "profile", None),
            ("similar k=0 -> 400", "GET", "/api/voices/similar?profile=%s&k=0" % self.alice_v1, A,
             None, None, 400, "k", None),
            ("similar k=101 -> 400", "GET", "/api/voices/similar?profile=%s&k=101" % self.alice_v1,
             A, None, None, 400, "k", None),
            ("similar k=abc -> 400", "GET", "/api/voices/similar?profile=%s&k=abc" % self.alice_v1,
             A, None, None, 400, "k", None),
            ("similar unknown profile -> 404", "GET", "/api/voices/similar?profile=%s" % unknown, A,
             None, None, 404, "profile", None),
            # compare
            ("compare cloned side missing (JSON) -> 400", "POST", cmp_, A,
             {"original_profile_id": self.alice_v1}, None, 400, "cloned_profile_id", None),
            ("compare profile id not a uuid -> 400", "POST", cmp_, A,
             {"original_profile_id": "xyz", "cloned_profile_id": self.alice_v1}, None, 400,
             "original_profile_id", None),
            ("compare profile id wrong type -> 400", "POST", cmp_, A,
             {"original_profile_id": 12, "cloned_profile_id": self.alice_v1}, None, 400,
             "original_profile_id", None),
            ("compare unknown profile id -> 404", "POST", cmp_, A,
             {"original_profile_id": unknown, "cloned_profile_id": self.alice_v1}, None, 404,
             "original_profile_id", None),
            ("compare unknown field -> 400", "POST", cmp_, A,
             {"original_profile_id": self.alice_v1, "cloned_profile_id": self.alice_v2, "x": 1},
             None, 400, "x", None),
            ("compare file and id for the same side -> 400", "POST", cmp_, A, mp_both, mp_ct, 400,
             "original", None),
            ("compare multipart cloned side missing -> 400", "POST", cmp_, A, mp_one, mp_ct1, 400,
             "cloned", None),
            ("compare text/plain -> 415", "POST", cmp_, A, "a=b", "text/plain", 415, "Content-Type",
             None),
            ("compare malformed JSON -> 400", "POST", cmp_, A, b'{"original_profile_id": ', J, 400,
             "body", None),
            # settings
            ("settings malformed JSON -> 400", "PUT", st, A, b"{preset: fast}", J, 400, "body", None),
            ("settings JSON array -> 400", "PUT", st, A, b'["fast"]', J, 400, "body", None),
            ("settings text/plain -> 415", "PUT", st, A, b'{"preset":"fast"}', "text/plain", 415,
             "Content-Type", None),
            ("settings empty body -> 400", "PUT", st, A, b"", J, 400, "body", None),
            ("settings duplicate key -> 400", "PUT", st, A, b'{"preset":"fast","preset":"fast"}', J,
             400, "body", None),
            ("settings JSON over 256 KiB -> 413", "PUT", st, A, big_json, J, 413, "body", None),
            ("settings unknown key -> 400", "PUT", st, A, {"preset": "fast", "loudness": 3}, None,
             400, "loudness", None),
            ("settings temperature 2.5 -> 400", "PUT", st, A, {"temperature": 2.5}, None, 400,
             "temperature", None),
            ("settings batch_size 11 -> 400", "PUT", st, A, {"batch_size": 11}, None, 400,
             "batch_size", None),
            ("settings max_workers 0 -> 400", "PUT", st, A, {"max_workers": 0}, None, 400,
             "max_workers", None),
            ("settings sample_rate 8000 -> 400", "PUT", st, A, {"sample_rate": 8000}, None, 400,
             "sample_rate", None),
            ("settings audio_format ogg -> 400", "PUT", st, A, {"audio_format": "ogg"}, None, 400,
             "audio_format", None),
            ("settings use_gpu maybe -> 400", "PUT", st, A, {"use_gpu": "maybe"}, None, 400,
             "use_gpu", None),
            ("settings temperature wrong type -> 400", "PUT", st, A, {"temperature": "hot"}, None,
             400, "temperature", None),
            ("settings enable_caching wrong type -> 400", "PUT", st, A, {"enable_caching": 1}, None,
             400, "enable_caching", None),
            ("settings top_p -0.1 -> 400", "PUT", st, A, {"top_p": -0.1}, None, 400, "top_p", None),
            ("settings unknown preset -> 400", "PUT", st, A, {"preset": "turbo"}, None, 400, "preset",
             None),
            ("settings preset wrong type -> 400", "PUT", st, A, {"preset": 5}, None, 400, "preset",
             None),
            ("settings overrides not an object -> 400", "PUT", st, A,
             {"preset": "fast", "overrides": [1]}, None, 400, "overrides", None),
            ("settings nested form, extra key -> 400", "PUT", st, A,
             {"preset": "fast", "overrides": {}, "extra": 1}, None, 400, "extra", None),
            ("settings valid then invalid value -> 400, nothing half-applied", "PUT", st, A,
             {"preset": "fast", "overrides": {"temperature": 0.5, "max_workers": 99}}, None, 400,
             "max_workers", None),
            # tts
            ("tts missing text -> 400", "POST", "/api/tts", A, {"language": "en"}, None, 400, "text",
             None),
            ("tts empty text -> 400", "POST", "/api/tts", A, {"text": "", "language": "en"}, None,
             400, "text", None),
            ("tts text wrong type -> 400", "POST", "/api/tts", A, {"text": 5, "language": "en"},
             None, 400, "text", None),
            ("tts text over 5000 bytes -> 422", "POST", "/api/tts", A,
             {"text": "a" * 5001, "language": "en"}, None, 422, "text", None),
            ("tts unknown language -> 400", "POST", "/api/tts", A, {"text": "hi", "language": "xx"},
             None, 400, "language", None),
            ("tts missing language -> 400", "POST", "/api/tts", A, {"text": "hi"}, None, 400,
             "language", None),
            ("tts unknown field -> 400", "POST", "/api/tts", A,
             {"text": "hi", "language": "en", "voice_id": "x"}, None, 400, "voice_id", None),
            ("tts settings out of range -> 400", "POST", "/api/tts", A,
             {"text": "hi", "language": "en", "settings": {"temperature": 9}}, None, 400,
             "temperature", None),
            ("tts JSON array -> 400", "POST", "/api/tts", A, b'[{"text":"hi"}]', J, 400, "body", None),
            ("tts seed negative -> 400", "POST", "/api/tts", A,
             {"text": "hi", "language": "en", "seed": -1}, None, 400, "seed", None),
            # speech
            ("speech model gpt -> 400", "POST", "/v1/audio/speech", A,
             {"model": "gpt", "input": "hi", "voice": "alice"}, None, 400, "model", None),
            ("speech response_format opus -> 400", "POST", "/v1/audio/speech", A,
             {"model": "tts-1", "input": "hi", "voice": "alice", "response_format": "opus"}, None,
             400, "response_format", None),
            ("speech speed 1.5 -> 400", "POST", "/v1/audio/speech", A,
             {"model": "tts-1", "input": "hi", "voice": "alice", "speed": 1.5}, None, 400, "speed",
             None),
            ("speech unknown voice -> 404", "POST", "/v1/audio/speech", A,
             {"model": "tts-1", "input": "hi", "voice": "nobody"}, None, 404, "voice", None),
            ("speech missing input -> 400", "POST", "/v1/audio/speech", A,
             {"model": "tts-1", "voice": "alice"}, None, 400, "input", None),
            ("speech missing voice -> 400", "POST", "/v1/audio/speech", A,
             {"model": "tts-1", "input": "hi"}, None, 400, "voice", None),
            # jobs
            ("job 0 targets -> 400", "POST", "/api/audio-messages", A, {"targets": []}, None, 400,
             "targets", None),
            ("job 33 targets -> 422", "POST", "/api/audio-messages", A, {"targets": [t1] * 33}, None,
             422, "targets", None),
            ("job targets not an array -> 400", "POST", "/api/audio-messages", A, {"targets": t1},
             None, 400, "targets", None),
            ("job target without text -> 400", "POST", "/api/audio-messages", A,
             {"targets": [{"language": "en"}]}, None, 400, "targets[0].text", None),
            ("job unknown target field -> 400", "POST", "/api/audio-messages", A,
             {"targets": [{"language": "en", "text": "hi", "voice": "x"}]}, None, 400,
             "targets[0].voice", None),
            ("job one unsupported language -> 400", "POST", "/api/audio-messages", A,
             {"targets": [t1, {"language": "tlh", "text": "Qapla'"}, t1]}, None, 400,
             "targets[1].language", None),
            ("job target text over 5000 bytes -> 422", "POST", "/api/audio-messages", A,
             {"targets": [t1, {"language": "en", "text": "b" * 5001}]}, None, 422,
             "targets[1].text", None),
            ("job unknown field -> 400", "POST", "/api/audio-messages", A,
             {"targets": [t1], "priority": 1}, None, 400, "priority", None),
            ("job settings out of range -> 400", "POST", "/api/audio-messages", A,
             {"targets": [t1], "settings": {"batch_size": 11}}, None, 400, "batch_size", None),
            ("job seed wrong type -> 400", "POST", "/api/audio-messages", A,
             {"targets": [t1], "seed": "x"}, None, 400, "seed", None),
            ("job wrong Content-Type -> 415", "POST", "/api/audio-messages", A, b"targets=en",
             "application/x-www-form-urlencoded", 415, "Content-Type", None),
            ("job id unknown -> 404", "GET", "/api/audio-messages/%s" % unknown, A, None, None, 404,
             "id", None),
            ("job id not a uuid -> 404", "GET", "/api/audio-messages/nope", A, None, None, 404, "id",
             None),
            ("job audio index out of range -> 404", "GET",
             "/api/audio-messages/%s/audio/3" % self.alice_job, A, None, None, 404, "index", None),
            ("job audio index not a number -> 404", "GET",
             "/api/audio-messages/%s/audio/x" % self.alice_job, A, None, None, 404, "index", None),
            ("job audio of an unknown job -> 404", "GET", "/api/audio-messages/%s/audio/0" % unknown,
             A, None, None, 404, "id", None),
            # routing
            ("DELETE presets -> 405", "DELETE", "/api/voice-presets", A, None, None, 405, None,
             "allowed"),
            ("PATCH settings -> 405", "PATCH", st, A, {"preset": "fast"}, None, 405, None, "allowed"),
            ("POST on the analysis route -> 405", "POST", "/api/voice-analysis/alice", A,
             {"x": 1}, None, 405, None, "allowed"),
            ("unknown /api path -> 404", "GET", "/api/nothing-here", A, None, None, 404, None,
             "no route"),
            ("unknown /v1 path -> 404", "POST", "/v1/audio/transcriptions", A, {}, None, 404, None,
             "no route"),
        ]
        return rows

    ALLOW = {"/api/voice-presets": {"GET"}, "/api/voice-settings/alice": {"GET", "PUT"},
             "/api/voice-analysis/alice": {"GET"}}

    def t_bad_table(self, srv):
        T = self.tokens
        rows = self.bad_rows()
        check("bad-request table has >= 40 rows (%d)" % len(rows), len(rows) >= 40)
        api0 = self.api_snapshot(srv)
        db0 = self.db_snapshot()
        for name, m, p, tk, body, ct, status, field, msg in rows:
            try:
                r = srv.req(m, p, T[tk] if tk else None, body=body, ctype=ct)
            except (OSError, http.client.HTTPException) as e:
                time.sleep(0.5)
                check("bad request: " + name, False, "no response: %r" % e)
                if not self.check_alive(srv, "bad request: " + name):
                    db0 = self.db_snapshot()
                    api0 = self.api_snapshot(srv)
                continue
            self.expect_error("bad request: " + name, r, status, field, msg)
            if status == 405:
                allow = {x.strip() for x in r.headers.get("allow", "").split(",") if x.strip()}
                check("bad request: %s: Allow header %s" % (name, sorted(self.ALLOW[p])),
                      allow == self.ALLOW[p], "Allow %r" % r.headers.get("allow"))
            db1 = self.db_snapshot()
            if db0 is not None and db1 != db0:
                check("bad request: %s: nothing stored" % name, False, self._diff(db0, db1))
                db0 = db1
        api1 = self.api_snapshot(srv)
        db1 = self.db_snapshot()
        check("bad-request table: API view unchanged (versions, history, settings)", api0 == api1,
              self._diff(api0, api1))
        if db1 is not None:
            check("bad-request table: database rows and stored files unchanged "
                  "(checked after every row)", db1 == self.db_snapshot(), "")
        else:
            note("psql not found: database row counts not checked")

    @staticmethod
    def _diff(a, b):
        out = []
        for k in sorted(set(a) | set(b)):
            if a.get(k) != b.get(k):
                out.append("%s: %s -> %s" % (k, short(a.get(k), 200), short(b.get(k), 200)))
        return "; ".join(out)

    # ---------------------------------------------------------------------
    def redis_ctl(self, *args):
        ctl = os.path.join(SRC, "scripts", "redis-ctl.sh")
        return subprocess.run(["bash", ctl] + list(args), capture_output=True, text=True)

    def t_redis_down(self, srv):
        T = self.tokens
        r = self.redis_ctl("stop", self.a.redis_dir)
        check("redis-ctl.sh stop", r.returncode == 0, r.stderr)
        # a new recording: the cache is consulted (and fails), the upload must still work
        audio = wav_bytes(voiced_signal(150.0, 1.6, seed=2.2))
        up = self.upload(srv, "carol", audio)
        check("Redis down: upload still succeeds (201)", up.status == 201, repr(up))
        r = srv.req("GET", "/api/voice-analysis/carol", T["carol"])
        check("Redis down: reads still work", r.status == 200, repr(r))
        deadline = time.time() + 15
        h = None
        while time.time() < deadline:
            h = srv.req("GET", "/health")
            if (h.json or {}).get("status") == "degraded":
                break
            time.sleep(0.2)
        hj = (h.json or {}) if h else {}
        check("Redis down: /health 200 status degraded, cache ok false",
              h is not None and h.status == 200 and hj.get("status") == "degraded" and
              (hj.get("cache") or {}).get("ok") is False, repr(h))
        m = srv.req("GET", "/metrics")
        ms = parse_metrics(m.body.decode("utf-8", "replace"))
        check("Redis down: voxclone_cache_up 0", metric(ms, "voxclone_cache_up") == 0,
              "cache_up %r" % metric(ms, "voxclone_cache_up"))
        errs = metric(ms, "voxclone_cache_errors_total")
        check("Redis down: voxclone_cache_errors_total > 0", (errs or 0) > 0, "errors %r" % errs)
        r = self.redis_ctl("start", self.a.redis_dir, str(self.a.redis_port))
        check("redis-ctl.sh start (same port)", r.returncode == 0, r.stderr)
        deadline = time.time() + 20
        ok = False
        while time.time() < deadline:
            h = srv.req("GET", "/health")
            hj = h.json or {}
            if hj.get("status") == "ok" and (hj.get("cache") or {}).get("ok") is True:
                ok = True
                break
            # a cache call may be what notices the recovery
            srv.req("GET", "/api/voice-analysis/carol?frames=1", T["carol"])
            time.sleep(0.3)
        check("Redis back: /health ok and cache ok true again", ok, repr(h))
        m = srv.req("GET", "/metrics")
        ms = parse_metrics(m.body.decode("utf-8", "replace"))
        check("Redis back: voxclone_cache_up 1", metric(ms, "voxclone_cache_up") == 1,
              "cache_up %r" % metric(ms, "voxclone_cache_up"))
        hits0 = metric(ms, "voxclone_cache_hits_total") or 0
        up2 = self.upload(srv, "carol", audio)
        up3 = self.upload(srv, "carol", audio)
        m = srv.req("GET", "/metrics")
        ms = parse_metrics(m.body.decode("utf-8", "replace"))
        hits1 = metric(ms, "voxclone_cache_hits_total") or 0
        check("Redis back: cache used again (same upload twice -> a hit)",
              up2.status == 201 and up3.status == 201 and hits1 > hits0,
              "hits %r -> %r; %r %r" % (hits0, hits1, up2, up3))

    # ---------------------------------------------------------------------
    def t_metrics(self, srv):
        r = srv.req("GET", "/metrics")
        text = r.body.decode("utf-8", "replace")
        counts_at_fetch = dict(srv.counts)
        # the /metrics request itself is recorded only after rendering
        k = ("/metrics", "GET", 200)
        counts_at_fetch[k] = counts_at_fetch.get(k, 0) - 1
        counts_at_fetch = {k: n for k, n in counts_at_fetch.items() if n > 0}
        path = os.path.join(self.tmp, "metrics.txt")
        with open(path, "w") as f:
            f.write(text)
        if shutil.which("promtool"):
            p = subprocess.run(["promtool", "check", "metrics"], input=text, capture_output=True,
                               text=True)
            check("promtool check metrics passes", p.returncode == 0, p.stdout + p.stderr)
        else:
            check("promtool installed (Debian package prometheus)", False)
        ms = parse_metrics(text)
        used = {lab for (lab, m, c) in counts_at_fetch if lab != "unmatched"}
        missing = [lab for lab in used if metric(ms, "voxclone_http_requests_total", route=lab) is None]
        check("voxclone_http_requests_total has series for every route used (%d)" % len(used),
              not missing, repr(missing))
        bad = []
        for (lab, m, c), n in sorted(counts_at_fetch.items()):
            v = metric(ms, "voxclone_http_requests_total", route=lab, method=m, code=str(c))
            if v != n:
                bad.append("%s %s %d: metric %r, requests made %d" % (m, lab, c, v, n))
        extra = []
        for name, l, v in ms:
            if name == "voxclone_http_requests_total":
                key = (l.get("route"), l.get("method"), int(l.get("code", "0")))
                if key not in counts_at_fetch and v > 0:
                    extra.append("%r=%r" % (key, v))
        check("voxclone_http_requests_total equals the requests made, per route/method/code",
              not bad and not extra, "; ".join(bad + extra))
        incons = []
        routes = {l.get("route") for n, l, v in ms if n == "voxclone_http_requests_total"}
        for lab in routes:
            tot = metric(ms, "voxclone_http_requests_total", route=lab)
            cnt = metric(ms, "voxclone_http_request_duration_seconds_count", route=lab)
            inf = metric(ms, "voxclone_http_request_duration_seconds_bucket", route=lab, le="+Inf")
            if tot != cnt or cnt != inf:
                incons.append("%s: total %r count %r +Inf %r" % (lab, tot, cnt, inf))
        check("request counter == latency histogram _count == +Inf bucket per route", not incons,
              "; ".join(incons))
        # histogram buckets cumulative
        nonmono = []
        fams = {}
        for n, l, v in ms:
            if n.endswith("_bucket"):
                key = (n, tuple(sorted((a, b) for a, b in l.items() if a != "le")))
                le = float("inf") if l.get("le") == "+Inf" else float(l.get("le", "nan"))
                fams.setdefault(key, []).append((le, v))
        for key, bs in fams.items():
            vals = [v for _, v in sorted(bs)]
            if vals != sorted(vals):
                nonmono.append(repr(key))
        check("histogram buckets are cumulative", not nonmono, "; ".join(nonmono))
        if srv.crashes:
            note("server restarted after a crash: the cumulative counter checks are skipped "
                 "(the crash is reported above)")
            return
        done = metric(ms, "voxclone_jobs_total", status="done") or 0
        check("voxclone_jobs_total{status=done} >= 1", done >= 1, "done %r" % done)
        clones = metric(ms, "voxclone_clones_total") or 0
        check("voxclone_clones_total counts the tts/speech/job clones (>= 8)", clones >= 8,
              "clones %r" % clones)
        cd = metric(ms, "voxclone_clone_duration_seconds_count") or 0
        fails = metric(ms, "voxclone_clone_failures_total") or 0
        check("clones_total == clone_duration_count + failures", clones == cd + fails,
              "clones %r, duration count %r, failures %r" % (clones, cd, fails))
        simc = metric(ms, "voxclone_similarity_overall_count") or 0
        check("similarity histogram: at most one observation per clone (%r <= %r)" % (simc, clones),
              simc <= clones, "count %r" % simc)
        an = metric(ms, "voxclone_analysis_duration_seconds_count") or 0
        check("analysis histogram counts analyses (>= 5)", an >= 5, "count %r" % an)
        check("voxclone_store_up 1", metric(ms, "voxclone_store_up") == 1,
              repr(metric(ms, "voxclone_store_up")))
        check("voxclone_build_info present", metric(ms, "voxclone_build_info") == 1, "")

    def t_graceful(self, srv):
        """SIGTERM while a request is in flight: the request completes, exit status 0."""
        T = self.tokens
        body = json.dumps({"text": "This request is in flight while the server is asked to stop.",
                           "language": "en"}).encode()
        conn = http.client.HTTPConnection("127.0.0.1", srv.port, timeout=120)
        conn.putrequest("POST", "/api/tts")
        conn.putheader("Authorization", "Bearer " + T["alice"])
        conn.putheader("Content-Type", "application/json")
        conn.putheader("Content-Length", str(len(body)))
        conn.endheaders()
        conn.send(body[:10])  # the server has the request, not all of its body
        time.sleep(2.0)  # ordering only: let the server see the headers before the signal
        srv.proc.send_signal(signal.SIGTERM)
        time.sleep(0.5)
        result = {}
        try:
            conn.send(body[10:])
            r = conn.getresponse()
            result["status"] = r.status
            result["body"] = r.read()
        except Exception as e:  # noqa
            result["error"] = repr(e)
        finally:
            conn.close()
        st = result.get("status")
        check("SIGTERM: the in-flight request completes (200, WAV)",
              st == 200 and result.get("body", b"")[:4] == b"RIFF", repr(result)[:300])
        rc = srv.stop(timeout=60)
        check("SIGTERM: exit status 0", rc == 0, "exit %r; log: %s" % (rc, open(srv.log).read()[-800:]))
        self.observed.setdefault(("POST", "/api/tts"), set()).add(st)
        refused = False
        try:
            s = socket.create_connection(("127.0.0.1", srv.port), timeout=2)
            s.close()
        except OSError:
            refused = True
        check("after stop: the port no longer accepts connections", refused)

    # ---------------------------------------------------------------------
    def t_limits(self, srv):
        T = self.tokens
        db0 = self.db_snapshot()
        # body over --max-body-mb 1: announced by Content-Length -> refused before reading
        conn = http.client.HTTPConnection("127.0.0.1", srv.port, timeout=60)
        conn.putrequest("POST", "/api/voice-profiles/alice")
        conn.putheader("Authorization", "Bearer " + T["alice"])
        conn.putheader("Content-Type", "audio/wav")
        conn.putheader("Content-Length", str(3 << 20))
        conn.endheaders()
        try:
            r = conn.getresponse()
            resp = Resp(r.status, {k.lower(): v for k, v in r.getheaders()}, r.read())
        except Exception as e:  # noqa
            resp = Resp(0, {}, repr(e).encode())
        conn.close()
        srv.counts[("unmatched", "POST", resp.status)] = \
            srv.counts.get(("unmatched", "POST", resp.status), 0) + 1
        self.observed.setdefault(("POST", "/api/voice-profiles/:userId"), set()).add(resp.status)
        self.expect_error("body over 1 MiB (Content-Length) -> 413 field body, before the body is "
                          "sent", resp, 413, "body")
        big = self.alice_clips[0] * ((1500000 // len(self.alice_clips[0])) + 1)
        r = srv.req("POST", "/api/voice-profiles/alice", T["alice"], body=big, ctype="audio/wav",
                    chunked=True, label="unmatched")
        self.expect_error("body over 1 MiB (chunked) -> 413 field body", r, 413, "body")
        self.observed.setdefault(("POST", "/api/voice-profiles/:userId"), set()).add(r.status)
        db1 = self.db_snapshot()
        check("413s stored nothing", db0 == db1, self._diff(db0 or {}, db1 or {}))
        r = srv.req("GET", "/api/whoami", T["alice"])
        check("server still serves after 413s", r.status == 200, repr(r))

    def t_rate_limit(self, srv):
        """--rate-limit 60 --rate-burst 5: a user's 6th request at once is refused with 429
        and Retry-After; other users and public routes are not affected."""
        T = self.tokens
        codes = [srv.req("GET", "/api/whoami", T["alice"]).status for _ in range(5)]
        check("rate limit: a burst of 5 requests passes", codes == [200] * 5, repr(codes))
        r = srv.req("GET", "/api/whoami", T["alice"])
        self.expect_error("rate limit: the 6th request at once -> 429", r, 429,
                          field="Authorization", msg="requests per minute")
        ra = r.headers.get("retry-after", "")
        check("rate limit: Retry-After is a whole number of seconds >= 1",
              ra.isdigit() and int(ra) >= 1, repr(ra))
        r = srv.req("GET", "/api/whoami", T["bob"])
        check("rate limit: another user is not affected", r.status == 200, repr(r))
        r = srv.req("GET", "/health")
        check("rate limit: public routes are not limited", r.status == 200, repr(r))
        time.sleep(1.1)
        r = srv.req("GET", "/api/whoami", T["alice"])
        check("rate limit: one request allowed again after ~1 s (60 per minute)",
              r.status == 200, repr(r))
        m = srv.req("GET", "/metrics", count=False)
        check("rate limit: voxclone_rate_limited_total counts the refusal",
              b"voxclone_rate_limited_total 1" in m.body, short(m.body))

    def t_restart(self, srv):
        """Queue full (429), 409 on a not-done item, then SIGKILL in the middle of a job."""
        T = self.tokens
        para = ("The quick brown fox jumps over the lazy dog while the rain keeps falling on the "
                "quiet old town by the sea, and the children run home laughing under their bright "
                "umbrellas. ")
        long_text = (para * 3)[:320]
        langs = ["en", "es", "it", "pt"]
        targets = [{"language": l, "text": long_text} for l in langs]
        db0 = self.db_snapshot()
        r = srv.req("POST", "/api/audio-messages", T["alice"],
                    body={"targets": targets, "settings": {"max_workers": 1}, "seed": 7})
        check("restart: long job accepted (202)", r.status == 202, repr(r))
        if r.status != 202:
            return
        jid = r.json["id"]
        r2 = srv.req("POST", "/api/audio-messages", T["bob"],
                     body={"targets": [{"language": "en", "text": long_text}]})
        ok = self.expect_error("queue full (--max-queued-jobs 1) -> 429", r2, 429)
        check("429 carries Retry-After", r2.headers.get("retry-after", "").isdigit(), str(r2.headers))
        db1 = self.db_snapshot()
        if db0 and db1:
            check("429 stored nothing (only the accepted job)",
                  self._n(db1, "jobs") - self._n(db0, "jobs") == 1 and
                  self._n(db1, "job_results") - self._n(db0, "job_results") == len(langs),
                  self._diff(db0, db1))
        r = srv.req("GET", "/api/audio-messages/%s/audio/%d" % (jid, len(langs) - 1), T["alice"])
        if r.status == 409:
            self.expect_error("audio of a not-done item -> 409 field index", r, 409, "index")
        else:
            note("audio of a not-done item: last item already %r, 409 not checked" % r.status)

        def mid(js):
            st = [x.get("status") for x in js.get("results", [])]
            return st.count("done") >= 1 or js.get("status") in ("done", "failed", "partial")

        r, ok = self.wait_job(srv, T["alice"], jid, mid, timeout=240)
        js = r.json or {}
        items = js.get("results", [])
        n_done = sum(1 for x in items if x.get("status") == "done")
        check("restart: job caught in the middle (%d of %d done, status %s)" %
              (n_done, len(items), js.get("status")),
              ok and js.get("status") == "running" and 1 <= n_done < len(langs), repr(r))
        before = {}
        for i, x in enumerate(items):
            if x.get("status") == "done":
                a = srv.req("GET", "/api/audio-messages/%s/audio/%d" % (jid, i), T["alice"])
                if a.status == 200:
                    before[i] = a.body
        check("restart: finished items downloadable before the kill", len(before) == n_done,
              "%d of %d" % (len(before), n_done))
        rc = srv.stop(sig=signal.SIGKILL)
        check("restart: server killed with SIGKILL", rc == -signal.SIGKILL, "exit %r" % (rc,))
        res_dir = os.path.join(self.data, "results")
        # what was finished at the moment of the kill: result files (inode + mtime) and,
        # from the database, the items marked done
        stat_at_kill = {}
        for f in os.listdir(res_dir):
            if f.startswith(jid) and ".tmp." not in f:
                st_ = os.stat(os.path.join(res_dir, f))
                stat_at_kill[f] = (st_.st_ino, st_.st_mtime_ns, st_.st_size)
        done_at_kill = self.db_scalar(
            "SELECT count(*) FROM job_results WHERE job_id = '%s' AND status = 'done'" % jid)
        note("restart: at the kill %s item(s) done in the database, %d result file(s)" %
             (done_at_kill, len(stat_at_kill)))
        srv.start()
        note("restart: new server on port %d, same data and database" % srv.port)
        r, ok = self.wait_job(srv, T["alice"], jid,
                              lambda js: js.get("status") in ("done", "failed", "partial"),
                              timeout=300)
        js = r.json or {}
        items = js.get("results", [])
        check("restart: the job finishes done after the restart", ok and js.get("status") == "done",
              repr(r))
        check("restart: every item present once, in order, all done",
              [x.get("language") for x in items] == langs and
              all(x.get("status") == "done" for x in items), repr(items))
        same = True
        for i, b in before.items():
            a = srv.req("GET", "/api/audio-messages/%s/audio/%d" % (jid, i), T["alice"])
            if a.status != 200 or a.body != b:
                same = False
        check("restart: items finished before the kill keep the same bytes (%d)" % len(before),
              same and before)
        decodable = True
        for i in range(len(langs)):
            a = srv.req("GET", "/api/audio-messages/%s/audio/%d" % (jid, i), T["alice"])
            try:
                decodable = decodable and a.status == 200 and wav_duration(a.body) > 0.3
            except Exception:
                decodable = False
        check("restart: all %d audios downloadable and decodable" % len(langs), decodable)
        db2 = self.db_snapshot()
        if db0 and db2:
            check("restart: no item duplicated (job_results rows)",
                  self._n(db2, "job_results") - self._n(db0, "job_results") == len(langs) and
                  self._n(db2, "jobs") - self._n(db0, "jobs") == 1, self._diff(db0, db2))
        unchanged = []
        for f, st0 in stat_at_kill.items():
            try:
                st_ = os.stat(os.path.join(res_dir, f))
                if (st_.st_ino, st_.st_mtime_ns, st_.st_size) != st0:
                    unchanged.append(f)
            except OSError:
                unchanged.append(f + " (gone)")
        check("restart: result files written before the kill were not rewritten (%d)" %
              len(stat_at_kill), stat_at_kill and not unchanged, repr(unchanged))
        files = [f for f in os.listdir(res_dir) if f.startswith(jid)]
        check("restart: one result file per item, no temp files left",
              len(files) == len(langs), repr(files))
        m = srv.req("GET", "/metrics")
        ms = parse_metrics(m.body.decode("utf-8", "replace"))
        if shutil.which("promtool"):
            p = subprocess.run(["promtool", "check", "metrics"], input=m.body.decode(),
                               capture_output=True, text=True)
            check("promtool check metrics passes (restarted server)", p.returncode == 0,
                  p.stdout + p.stderr)
        check("restarted server counts the recovered job as done",
              (metric(ms, "voxclone_jobs_total", status="done") or 0) >= 1, "")
        if done_at_kill is not None:
            cl = metric(ms, "voxclone_clones_total") or 0
            check("restart: only the unfinished items ran again (clones after restart %r == "
                  "%d - %d)" % (cl, len(langs), done_at_kill), cl == len(langs) - done_at_kill)

    # ---------------------------------------------------------------------
    def t_coverage(self):
        served = {(m, p) for m, p, _, _ in self.routes.routes}
        seen = {k for k, v in self.observed.items() if v}
        missing = sorted(served - seen)
        check("every route of `voxclone serve --routes` was exercised (%d)" % len(served),
              not missing, "not exercised: %r" % missing)
        ok2 = [k for k in served if any(200 <= s < 300 for s in self.observed.get(k, ()))]
        check("every route answered a 2xx at least once",
              len(ok2) == len(served), "no 2xx: %r" % sorted(served - set(ok2)))

    def t_openapi(self):
        path = self.a.openapi or os.path.join(SRC, "docs", "openapi.json")
        if not os.path.exists(path):
            check("docs/openapi.json exists", False, path)
            return
        try:
            doc = json.load(open(path))
        except ValueError as e:
            check("docs/openapi.json is valid JSON", False, str(e))
            return
        errs = openapi_static_errors(doc, self.route_lines)
        check("OpenAPI: version 3, exactly the served routes and methods", not errs,
              "; ".join(errs))
        # every observed status documented
        undoc = []
        for (m, p), codes in sorted(self.observed.items()):
            op = openapi_op(doc, m, p)
            if op is None:
                continue
            resp = op.get("responses", {})
            for c in sorted(c for c in codes if c):
                if str(c) not in resp and ("%dXX" % (c // 100)) not in resp:
                    undoc.append("%s %s %d" % (m, p, c))
        check("OpenAPI: every status code observed in this run is documented", not undoc,
              "undocumented: " + ", ".join(undoc))
        # response bodies match the documented schemas (required + type)
        bad = []
        nchecked = 0
        for (m, p, st), body in sorted(self.samples.items(), key=lambda kv: str(kv[0])):
            op = openapi_op(doc, m, p)
            if op is None:
                continue
            sch = response_schema(doc, op, st)
            if sch is None:
                bad.append("%s %s %d: no application/json schema" % (m, p, st))
                continue
            nchecked += 1
            e = schema_errors(doc, sch, body, "$")
            if e:
                bad.append("%s %s %d: %s" % (m, p, st, "; ".join(e[:5])))
        check("OpenAPI: %d JSON responses carry the documented required properties and types"
              % nchecked, not bad and nchecked >= 8, " | ".join(bad))
        # an error body against the documented error schema
        errsamples = 0
        ebad = []
        for (m, p), codes in self.observed.items():
            op = openapi_op(doc, m, p)
            if op is None:
                continue
            for c in codes:
                if c and c >= 400:
                    sch = response_schema(doc, op, c)
                    if sch is None:
                        ebad.append("%s %s %d: no JSON schema for the error" % (m, p, c))
                    else:
                        errsamples += 1
                        e = schema_errors(doc, sch, {"error": {"code": "bad_request",
                                                               "message": "x", "field": None}}, "$")
                        if e:
                            ebad.append("%s %s %d: %s" % (m, p, c, "; ".join(e[:3])))
        check("OpenAPI: error responses use the error schema ({error:{code,message,field}})",
              not ebad, " | ".join(ebad[:20]))


# ---------------------------------------------------------------------------
# OpenAPI helpers (also used by openapi_test.py)
# ---------------------------------------------------------------------------
def oapi_path(pattern):
    return re.sub(r":([A-Za-z_]+)", r"{\1}", pattern)


def openapi_op(doc, method, pattern):
    item = (doc.get("paths") or {}).get(oapi_path(pattern))
    if not isinstance(item, dict):
        return None
    return item.get(method.lower())


def openapi_static_errors(doc, route_lines):
    errs = []
    ver = str(doc.get("openapi", ""))
    if not ver.startswith("3."):
        errs.append("openapi version %r is not 3.x" % ver)
    served = set()
    for ln in route_lines:
        parts = ln.split()
        if len(parts) >= 2:
            served.add((parts[0].lower(), oapi_path(parts[1])))
            needs = len(parts) < 3 or parts[2] == "token"
            op = openapi_op(doc, parts[0], parts[1])
            if op is not None:
                sec = op.get("security", doc.get("security"))
                has = bool(sec) and any(bool(s) for s in sec)
                if needs and not has:
                    errs.append("%s %s needs a token but documents no security" % (parts[0], parts[1]))
                if not needs and has:
                    errs.append("%s %s is public but documents security" % (parts[0], parts[1]))
                if needs and "401" not in (op.get("responses") or {}):
                    errs.append("%s %s does not document 401" % (parts[0], parts[1]))
    documented = set()
    for path, item in (doc.get("paths") or {}).items():
        if not isinstance(item, dict):
            continue
        for m in item:
            if m in ("get", "put", "post", "delete", "patch", "head", "options", "trace"):
                documented.add((m, path))
    for m, p in sorted(served - documented):
        errs.append("not documented: %s %s" % (m.upper(), p))
    for m, p in sorted(documented - served):
        errs.append("documented but not served: %s %s" % (m.upper(), p))
    # path parameters declared
    for m, p in sorted(served & documented):
        item = doc["paths"][p]
        op = item[m]
        params = [resolve(doc, x) for x in (item.get("parameters") or []) + (op.get("parameters") or [])]
        names = {x.get("name") for x in params if isinstance(x, dict) and x.get("in") == "path"}
        for want in re.findall(r"{([^}]+)}", p):
            if want not in names:
                errs.append("%s %s: path parameter %s not declared" % (m.upper(), p, want))
        if not op.get("responses"):
            errs.append("%s %s: no responses" % (m.upper(), p))
    return errs


def resolve(doc, node, depth=0):
    while isinstance(node, dict) and "$ref" in node and depth < 50:
        ref = node["$ref"]
        if not ref.startswith("#/"):
            return node
        cur = doc
        for part in ref[2:].split("/"):
            part = part.replace("~1", "/").replace("~0", "~")
            cur = cur.get(part) if isinstance(cur, dict) else None
        node = cur
        depth += 1
    return node


def response_schema(doc, op, status):
    resp = op.get("responses") or {}
    r = resp.get(str(status)) or resp.get("%dXX" % (status // 100)) or resp.get("default")
    r = resolve(doc, r)
    if not isinstance(r, dict):
        return None
    content = r.get("content") or {}
    for ct, media in content.items():
        if ct.startswith("application/json") or ct.endswith("+json"):
            return resolve(doc, (media or {}).get("schema"))
    return None


TYPES = {"object": dict, "array": list, "string": str, "boolean": bool}


def type_ok(t, v):
    if t == "integer":
        return isinstance(v, int) and not isinstance(v, bool)
    if t == "number":
        return isinstance(v, (int, float)) and not isinstance(v, bool)
    if t == "null":
        return v is None
    py = TYPES.get(t)
    return py is None or isinstance(v, py)


def schema_errors(doc, sch, v, where, depth=0):
    sch = resolve(doc, sch)
    if not isinstance(sch, dict) or depth > 30:
        return []
    errs = []
    for key in ("allOf",):
        for sub in sch.get(key) or []:
            errs += schema_errors(doc, sub, v, where, depth + 1)
    for key in ("oneOf", "anyOf"):
        subs = sch.get(key)
        if subs:
            if all(schema_errors(doc, s, v, where, depth + 1) for s in subs):
                errs.append("%s matches none of %s" % (where, key))
    t = sch.get("type")
    if v is None and sch.get("nullable"):
        return errs
    if t is not None:
        ts = t if isinstance(t, list) else [t]
        if not any(type_ok(x, v) for x in ts):
            errs.append("%s: %s is not of type %s" % (where, type(v).__name__, t))
            return errs
    if "enum" in sch and v not in sch["enum"]:
        errs.append("%s: %r not in enum %r" % (where, v, sch["enum"]))
    if isinstance(v, dict):
        for req in sch.get("required") or []:
            if req not in v:
                errs.append("%s: required property %r missing" % (where, req))
        for k, sub in (sch.get("properties") or {}).items():
            if k in v:
                errs += schema_errors(doc, sub, v[k], "%s.%s" % (where, k), depth + 1)
    if isinstance(v, list) and sch.get("items") is not None:
        for i, x in enumerate(v[:20]):
            errs += schema_errors(doc, sch["items"], x, "%s[%d]" % (where, i), depth + 1)
    return errs


# ---------------------------------------------------------------------------
def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--bin", required=True, help="path to the voxclone binary")
    ap.add_argument("--shared", default=None, help="the shared dir (evaldata/speakers)")
    ap.add_argument("--db", default=None, help="database URL (default: SQLite in the data dir)")
    ap.add_argument("--cache", default=None, help="cache URL (default: memory)")
    ap.add_argument("--redis-dir", default=None,
                    help="redis-ctl.sh DIR of the Redis behind --cache: enables the Redis-down part")
    ap.add_argument("--redis-port", type=int, default=None)
    ap.add_argument("--openapi", default=None, help="default: docs/openapi.json of the source tree")
    ap.add_argument("--keep", action="store_true", help="keep the temp dir")
    a = ap.parse_args()
    if a.redis_dir and not a.redis_port:
        ap.error("--redis-dir needs --redis-port")
    t0 = time.time()
    s = Suite(a)
    try:
        s.run()
    except Exception as e:  # noqa
        import traceback
        traceback.print_exc()
        check("suite ran to the end", False, repr(e))
    finally:
        for srv in s.servers:
            if srv.proc is not None:
                srv.stop(timeout=30)
        if FAILED and os.path.isdir(s.tmp):
            for f in sorted(os.listdir(s.tmp)):
                if f.startswith("server-") and f.endswith(".log"):
                    note("---- %s (tail) ----" % f)
                    for ln in open(os.path.join(s.tmp, f), errors="replace").read().splitlines()[-15:]:
                        note(ln)
        if a.keep:
            note("kept %s" % s.tmp)
        else:
            shutil.rmtree(s.tmp, ignore_errors=True)
    print("%d passed, %d failed (%.1f s)" % (PASSED, FAILED, time.time() - t0))
    if FAILED:
        print("failed: " + "; ".join(FAILURES))
    sys.exit(1 if FAILED else 0)


if __name__ == "__main__":
    main()
