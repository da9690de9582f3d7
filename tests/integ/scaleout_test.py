#!/usr/bin/env python3
"""scaleout_test.py -- the gateway/worker scale-out end to end (issue 8, items 1, 3, 4).

Runs real processes on loopback: one `voxclone gateway` (HTTP on a free port,
--bind tcp://127.0.0.1:FREEPORT) in front of `voxclone worker` processes
(--threads 1 each), on the PostgreSQL/Redis given with --db/--cache (the
wrapper test_scaleout.sh starts throw-away ones), and checks:

  1. no worker: /health "degraded" with workers {mode remote, connected 0, note};
     two workers w1, w2 register;
  2. a client (alice, not admin) uploads a voice, submits a 3-language message,
     sees at least one intermediate state, downloads 3 WAVs (> 0.5 s each); the
     languages ran on both workers;
  3. kill: a longer 3-language message; as soon as an item runs, the worker
     running it is SIGKILLed; the job still ends "done" (bounded), the broker
     counted a re-queue / a lost worker, every item is done exactly once (3
     results, 3 database rows, 3 files) and downloadable;
  4. no worker at all: the last worker is killed, /health says connected 0,
     POST /api/audio-messages, POST /api/tts and a profile upload answer 503
     with Retry-After and a JSON error and store nothing; a new worker
     connects and the same requests succeed;
  5. gateway restart: a message is submitted and the gateway SIGKILLed right
     after the 202; a new gateway on the same database, data and --bind port
     picks the job up from the store, the workers re-join by themselves, the
     job ends "done" with no item duplicated and items finished before the
     kill not redone;
  6. `promtool check metrics` on the gateway's /metrics (worker series present);
     SIGTERM stops workers and gateway with exit 0.

usage: scaleout_test.py --bin BUILD/voxclone --db URL [--cache URL] [--shared DIR] [--keep]
Prints "ok - name" / "FAIL - name" per check and a summary; exit 1 on failure.
Python 3 standard library only.  Never asserts speed: every wait is a poll with a
generous deadline.
"""
import argparse
import glob
import http.client
import json
import os
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time

from vxtest import (metric, parse_metrics, voiced_signal, wait_port_file,
                    wav_bytes, wav_duration)

PASSED = 0
FAILED = 0
FAILURES = []
T0 = time.time()


def check(name, cond, detail=""):
    global PASSED, FAILED
    if cond:
        PASSED += 1
        print("ok - %s" % name, flush=True)
    else:
        FAILED += 1
        FAILURES.append(name)
        d = (" -- " + str(detail)) if detail else ""
        if len(d) > 1500:
            d = d[:1500] + "..."
        print("FAIL - %s%s" % (name, d), flush=True)
    return bool(cond)


def note(msg):
    print("# [%5.1f s] %s" % (time.time() - T0, msg), flush=True)


# ---------------------------------------------------------------------------
# audio
# ---------------------------------------------------------------------------
def voice_clips(shared):
    """Two clips of one speaker (first upload, recovery upload)."""
    files = []
    if shared:
        for spk in ("arctic-slt", "arctic-aew"):
            files = sorted(glob.glob(os.path.join(shared, "evaldata", "speakers", spk, "*.wav")))
            if len(files) >= 2:
                break
        if len(files) < 2:
            files = sorted(glob.glob(os.path.join(shared, "evaldata", "speakers", "*", "*.wav")))
    if len(files) >= 2:
        note("voice: %s, %s" % (files[0], files[1]))
        return [open(files[0], "rb").read(), open(files[1], "rb").read()]
    note("voice: generated voiced WAVs (no SHARED/evaldata/speakers)")
    return [wav_bytes(voiced_signal(150.0, 3.0, seed=0.0)),
            wav_bytes(voiced_signal(150.0, 3.0, seed=1.3))]


# ---------------------------------------------------------------------------
# HTTP + metrics
# ---------------------------------------------------------------------------
class Resp:
    def __init__(self, status, headers, body):
        self.status, self.headers, self.body = status, headers, body

    @property
    def json(self):
        try:
            return json.loads(self.body.decode("utf-8"))
        except Exception:  # noqa
            return None

    def __repr__(self):
        return "HTTP %s %s" % (self.status, self.body[:300].decode("utf-8", "replace"))


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


# ---------------------------------------------------------------------------
# processes
# ---------------------------------------------------------------------------
class Proc:
    def __init__(self, name, cmd, log):
        self.name, self.cmd, self.log = name, cmd, log
        self.logf = open(log, "ab")
        self.p = subprocess.Popen(cmd, stdout=self.logf, stderr=self.logf)

    def alive(self):
        return self.p.poll() is None

    def stop(self, sig=signal.SIGTERM, timeout=30):
        if self.p.poll() is None:
            self.p.send_signal(sig)
        try:
            rc = self.p.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.p.kill()
            self.p.wait()
            rc = "timeout"
        self.logf.close()
        return rc

    def tail(self, n=1500):
        try:
            return open(self.log, errors="replace").read()[-n:]
        except OSError:
            return ""


class Suite:
    def __init__(self, a):
        self.a = a
        self.bin = os.path.abspath(a.bin)
        self.tmp = tempfile.mkdtemp(prefix="vx-scale.")
        self.data = os.path.join(self.tmp, "data")
        os.makedirs(self.data)
        self.bind_port = free_port()
        self.gw = None
        self.port = None
        self.workers = {}  # id -> Proc
        self.ngw = 0

    # -- processes ---------------------------------------------------------
    def start_gateway(self):
        self.ngw += 1
        pf = os.path.join(self.tmp, "port-%d" % self.ngw)
        cmd = [self.bin, "gateway", "--listen", "127.0.0.1:0", "--port-file", pf,
               "--bind", "tcp://127.0.0.1:%d" % self.bind_port, "--db", self.a.db,
               "--data", self.data]
        if self.a.cache:
            cmd += ["--cache", self.a.cache]
        self.gw = Proc("gateway-%d" % self.ngw, cmd,
                       os.path.join(self.tmp, "gateway-%d.log" % self.ngw))
        gw = self.gw
        self.port = wait_port_file(pf, gw.alive, lambda: "gateway (status %s): %s" %
                                   (gw.p.returncode, gw.tail()))
        if not self.wait(lambda: self.health() is not None, 30):
            raise RuntimeError("gateway never answered /health: %s" % self.gw.tail())
        note("gateway %d: http 127.0.0.1:%d, bind tcp://127.0.0.1:%d" %
             (self.ngw, self.port, self.bind_port))

    def start_worker(self, wid):
        cmd = [self.bin, "worker", "--connect", "tcp://127.0.0.1:%d" % self.bind_port,
               "--threads", "1", "--id", wid]
        self.workers[wid] = Proc(wid, cmd, os.path.join(self.tmp, "worker-%s.log" % wid))

    def kill_worker(self, wid, sig=signal.SIGKILL):
        p = self.workers.pop(wid)
        return p.stop(sig)

    def cleanup(self):
        for wid in list(self.workers):
            self.kill_worker(wid)
        if self.gw:
            self.gw.stop(signal.SIGKILL)
        if not self.a.keep:
            shutil.rmtree(self.tmp, ignore_errors=True)
        else:
            note("kept %s" % self.tmp)

    # -- HTTP --------------------------------------------------------------
    def req(self, method, path, token=None, body=None, ctype=None, timeout=120):
        h = {}
        if token:
            h["Authorization"] = "Bearer " + token
        if isinstance(body, (dict, list)):
            body = json.dumps(body).encode()
            h["Content-Type"] = "application/json"
        if ctype:
            h["Content-Type"] = ctype
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        try:
            conn.request(method, path, body=body, headers=h)
            r = conn.getresponse()
            return Resp(r.status, {k.lower(): v for k, v in r.getheaders()}, r.read())
        finally:
            conn.close()

    def health(self):
        try:
            r = self.req("GET", "/health", timeout=10)
            return r.json if r.status in (200, 503) else None
        except OSError:
            return None

    def connected(self):
        h = self.health() or {}
        return (h.get("workers") or {}).get("connected")

    def metrics_text(self):
        return self.req("GET", "/metrics", timeout=30).body.decode("utf-8", "replace")

    def metrics(self):
        return parse_metrics(self.metrics_text())

    @staticmethod
    def wait(cond, timeout, interval=0.1):
        deadline = time.time() + timeout
        while True:
            try:
                v = cond()
            except OSError:
                v = None
            if v:
                return v
            if time.time() >= deadline:
                return None
            time.sleep(interval)

    def job(self, jid, token):
        r = self.req("GET", "/api/audio-messages/%s" % jid, token, timeout=30)
        return r.json if r.status == 200 else None

    def wait_job(self, jid, token, timeout, on_poll=None, interval=0.1):
        last = {}

        def done():
            js = self.job(jid, token)
            if js:
                last["js"] = js
                if on_poll:
                    on_poll(js)
                return js.get("status") in ("done", "failed", "partial")
            return False
        ok = self.wait(done, timeout, interval)
        return last.get("js") or {}, bool(ok)

    def token(self, user, admin=False):
        cmd = [self.bin, "token", "create", "--user", user, "--db", self.a.db] + \
            (["--admin"] if admin else [])
        r = subprocess.run(cmd, capture_output=True, text=True)
        if r.returncode != 0:
            raise RuntimeError("token create: %s" % r.stderr)
        return r.stdout.strip().splitlines()[-1].strip()

    def sql(self, q):
        """One integer from the database, None when it cannot be read."""
        try:
            if self.a.db.startswith("sqlite:"):
                con = sqlite3.connect("file:%s?mode=ro" % self.a.db[7:], uri=True, timeout=10)
                try:
                    return int(con.execute(q).fetchone()[0])
                finally:
                    con.close()
            if not shutil.which("psql"):
                return None
            r = subprocess.run(["psql", self.a.db, "-X", "-A", "-t", "-c", q],
                               capture_output=True, text=True, timeout=30)
            return int(r.stdout.strip()) if r.returncode == 0 else None
        except (ValueError, sqlite3.Error, subprocess.TimeoutExpired):
            return None

    def result_files(self, jid):
        d = os.path.join(self.data, "results")
        return sorted(f for f in os.listdir(d) if f.startswith(jid)) if os.path.isdir(d) else []

    # -- shared checks -----------------------------------------------------
    def check_results(self, tag, jid, js, langs, tok):
        res = js.get("results", [])
        check("%s: results has exactly %d entries, languages %s in order, each done once" %
              (tag, len(langs), langs),
              [x.get("language") for x in res] == langs and
              all(x.get("status") == "done" for x in res), json.dumps(res)[:800])
        rows = self.sql("SELECT count(*) FROM job_results WHERE job_id = '%s'" % jid)
        done_rows = self.sql("SELECT count(*) FROM job_results WHERE job_id = '%s' AND "
                             "status = 'done'" % jid)
        if rows is not None:
            check("%s: %d job_results rows in the database, all done (%r, %r)" %
                  (tag, len(langs), rows, done_rows), rows == len(langs) and done_rows == len(langs))
        files = self.result_files(jid)
        check("%s: one result file per item, no temp file (%d)" % (tag, len(files)),
              len(files) == len(langs) and not [f for f in files if ".tmp" in f], repr(files))
        durs = []
        for i in range(len(langs)):
            a = self.req("GET", "/api/audio-messages/%s/audio/%d" % (jid, i), tok)
            durs.append(round(wav_duration(a.body), 2) if a.status == 200 and
                        a.body[:4] == b"RIFF" and a.body[8:12] == b"WAVE" else -1)
        check("%s: %d audios downloadable, valid WAV, each > 0.5 s %s" % (tag, len(langs), durs),
              all(d > 0.5 for d in durs), repr(durs))

    def expect_503(self, name, r):
        e = (r.json or {}).get("error") if isinstance(r.json, dict) else None
        check("%s -> 503 + Retry-After + JSON error" % name,
              r.status == 503 and r.headers.get("retry-after", "").isdigit() and
              isinstance(e, dict) and isinstance(e.get("message"), str) and
              isinstance(e.get("code"), str), "%r headers %r" % (r, r.headers))

    # ---------------------------------------------------------------------
    def run(self):
        clips = voice_clips(self.a.shared)
        alice = self.token("alice")
        para_en = ("The quick brown fox jumps over the lazy dog while the rain keeps falling on "
                   "the quiet old town by the sea, and the children run home laughing under their "
                   "bright umbrellas. ")
        para_fr = ("Le vif renard brun saute par-dessus le chien paresseux pendant que la pluie "
                   "tombe sur la vieille ville tranquille au bord de la mer, et les enfants "
                   "rentrent en riant sous leurs parapluies. ")
        para_de = ("Der schnelle braune Fuchs springt ueber den faulen Hund, waehrend der Regen "
                   "auf die stille alte Stadt am Meer faellt und die Kinder lachend unter ihren "
                   "bunten Regenschirmen nach Hause laufen. ")
        paras = {"en": para_en, "fr": para_fr, "de": para_de, "es": para_en, "it": para_en}

        def targets(langs, n):
            return [{"language": l, "text": (paras[l] * 20)[:n].rsplit(" ", 1)[0] + "."}
                    for l in langs]

        # ---- 1. gateway without workers, then two workers ----------------
        self.start_gateway()
        h = self.health() or {}
        w = h.get("workers") or {}
        check("no worker: /health degraded, workers {mode remote, connected 0, note}",
              h.get("status") == "degraded" and w.get("mode") == "remote" and
              w.get("connected") == 0 and bool(w.get("note")), repr(h))
        self.start_worker("w1")
        self.start_worker("w2")
        n = self.wait(lambda: self.connected() == 2, 30)
        check("w1 and w2 register: /health workers.connected == 2", n, repr(self.health()))
        h = self.health() or {}
        check("with workers: /health ok", h.get("status") == "ok", repr(h))

        # ---- 2. a client: voice, 3-language message, progress, audio --------
        r = self.req("POST", "/api/voice-profiles/alice", alice, clips[0], "audio/wav")
        check("upload a voice (analysis on a worker) -> 201", r.status == 201 and
              (r.json or {}).get("version") == 1 and "analysis" in (r.json or {}), repr(r))
        langs = ["en", "fr", "de"]
        ms0 = self.metrics()
        r = self.req("POST", "/api/audio-messages", alice,
                     {"targets": targets(langs, 300), "settings": {"audio_format": "wav"}})
        check("submit a 3-language message -> 202", r.status == 202 and "id" in (r.json or {}),
              repr(r))
        if r.status != 202:
            return
        jid1 = r.json["id"]
        seen = set()

        def poll(js):
            items = js.get("results", [])
            if js.get("status") in ("queued", "running") or any(
                    x.get("status") in ("queued", "running") for x in items):
                seen.add("%s/%s/%.2f" % (js.get("status"),
                                         ",".join(x.get("status", "?") for x in items),
                                         js.get("progress", 0)))
        t = time.time()
        js, ok = self.wait_job(jid1, alice, 120, poll, 0.05)
        note("message 1 finished in %.1f s (%s)" % (time.time() - t, js.get("status")))
        check("message 1 ends done (within 120 s)", ok and js.get("status") == "done", repr(js))
        check("message 1: intermediate states observed (%d, e.g. %s)" %
              (len(seen), sorted(seen)[:3]), len(seen) >= 1)
        self.check_results("message 1", jid1, js, langs, alice)
        ms = self.metrics()
        per = {wid: (metric(ms, "voxclone_worker_completed", worker=wid) or 0) -
               (metric(ms0, "voxclone_worker_completed", worker=wid) or 0) for wid in ("w1", "w2")}
        check("message 1: the languages ran on both workers (completed %s)" % per,
              per["w1"] >= 1 and per["w2"] >= 1 and per["w1"] + per["w2"] == 3)

        # ---- 3. kill the worker running an item ---------------------------
        langs2 = ["en", "es", "it"]
        r = self.req("POST", "/api/audio-messages", alice,
                     {"targets": targets(langs2, 1500), "settings": {"audio_format": "wav"}})
        check("kill case: submit a longer 3-language message -> 202", r.status == 202, repr(r))
        if r.status != 202:
            return
        jid2 = r.json["id"]
        victim = {}

        def running_worker():
            js = self.job(jid2, alice) or {}
            if not any(x.get("status") == "running" for x in js.get("results", [])):
                return None
            ms_ = self.metrics()
            busy = [wid for wid in ("w1", "w2")
                    if (metric(ms_, "voxclone_worker_in_flight", worker=wid) or 0) > 0]
            return busy[0] if busy else None
        vid = self.wait(running_worker, 60, 0.05)
        check("kill case: an item is running on a worker (%s)" % vid, vid is not None)
        if vid is None:
            vid = "w1"
        rc = self.kill_worker(vid, signal.SIGKILL)
        t_kill = time.time()
        victim["id"] = vid
        js_k = self.job(jid2, alice) or {}
        note("SIGKILLed %s (exit %r) with items %s" %
             (vid, rc, [x.get("status") for x in js_k.get("results", [])]))
        check("kill case: %s killed with SIGKILL" % vid, rc == -signal.SIGKILL, repr(rc))
        js, ok = self.wait_job(jid2, alice, 120)
        note("message 2 finished %.1f s after the kill (%s)" % (time.time() - t_kill,
                                                                 js.get("status")))
        check("kill case: the message still ends done within 120 s", ok and
              js.get("status") == "done", json.dumps(js)[:800])
        self.check_results("kill case", jid2, js, langs2, alice)
        ms = self.metrics()
        rq = metric(ms, "voxclone_tasks_requeued_total") or 0
        lost = metric(ms, "voxclone_workers_lost_total") or 0
        dup = metric(ms, "voxclone_task_duplicates_total") or 0
        check("kill case: voxclone_tasks_requeued_total (%g) or voxclone_workers_lost_total (%g) "
              "> 0" % (rq, lost), rq > 0 or lost > 0)
        note("kill case: voxclone_task_duplicates_total %g, dispatch latency max %s s" %
             (dup, metric(ms, "voxclone_dispatch_latency_max_seconds")))
        check("kill case: /health shows 1 worker after the loss",
              self.wait(lambda: self.connected() == 1, 30), repr(self.health()))
        ms = self.metrics()
        stale = metric(ms, "voxclone_worker_in_flight", worker=vid)
        check("kill case: the lost worker %s shows no task in flight (in_flight series %r)" %
              (vid, stale), not stale)
        self.promtool("gateway 1 after the kill")

        # ---- 4. all workers gone: 503; a new worker: recovery ------------
        (survivor,) = list(self.workers)
        self.kill_worker(survivor, signal.SIGKILL)
        t = time.time()
        n0 = self.wait(lambda: self.connected() == 0, 30)
        check("last worker killed: /health workers.connected == 0 (%.1f s)" % (time.time() - t),
              n0, repr(self.health()))
        h = self.health() or {}
        check("no worker: /health degraded with a note", h.get("status") == "degraded" and
              bool((h.get("workers") or {}).get("note")), repr(h))
        jobs_before = self.sql("SELECT count(*) FROM jobs")
        prof_before = self.sql("SELECT count(*) FROM voice_profiles")
        self.expect_503("no worker: POST /api/audio-messages",
                        self.req("POST", "/api/audio-messages", alice,
                                 {"targets": targets(["en"], 100)}))
        self.expect_503("no worker: POST /api/tts",
                        self.req("POST", "/api/tts", alice, {"text": "Hello there.",
                                                             "language": "en"}))
        self.expect_503("no worker: POST /api/voice-profiles/alice",
                        self.req("POST", "/api/voice-profiles/alice", alice, clips[1],
                                 "audio/wav"))
        if jobs_before is not None:
            check("503s stored nothing (jobs %r, profiles %r unchanged)" %
                  (jobs_before, prof_before),
                  self.sql("SELECT count(*) FROM jobs") == jobs_before and
                  self.sql("SELECT count(*) FROM voice_profiles") == prof_before)
        self.start_worker("w3")
        t = time.time()
        n1 = self.wait(lambda: self.connected() == 1, 30)
        check("new worker w3 connects (%.1f s)" % (time.time() - t), n1, repr(self.health()))
        check("recovered: /health ok", (self.health() or {}).get("status") == "ok",
              repr(self.health()))
        r = self.req("POST", "/api/voice-profiles/alice", alice, clips[1], "audio/wav")
        check("recovered: profile upload -> 201 (version 2)", r.status == 201 and
              (r.json or {}).get("version") == 2, repr(r))
        r = self.req("POST", "/api/tts", alice, {"text": "Hello there, the workers are back.",
                                                 "language": "en"})
        d = wav_duration(r.body) if r.status == 200 else -1
        check("recovered: POST /api/tts -> 200 WAV (%.2f s)" % d, r.status == 200 and d > 0.5,
              repr(r))
        r = self.req("POST", "/api/audio-messages", alice,
                     {"targets": targets(["en"], 100), "settings": {"audio_format": "wav"}})
        check("recovered: POST /api/audio-messages -> 202", r.status == 202, repr(r))
        if r.status == 202:
            js, ok = self.wait_job(r.json["id"], alice, 120)
            check("recovered: that message ends done", ok and js.get("status") == "done",
                  repr(js))

        # ---- 5. gateway SIGKILL right after a 202, restart ------------------
        self.start_worker("w1")  # the same id as the killed w1: it must register again
        check("w1 (restarted) and w3 connected",
              self.wait(lambda: self.connected() == 2, 30), repr(self.health()))
        langs3 = ["de", "fr", "en"]
        r = self.req("POST", "/api/audio-messages", alice,
                     {"targets": targets(langs3, 700), "settings": {"audio_format": "wav"}})
        check("restart case: submit -> 202", r.status == 202, repr(r))
        if r.status != 202:
            return
        jid3 = r.json["id"]
        rc = self.gw.stop(signal.SIGKILL)
        check("gateway SIGKILLed right after the 202", rc == -signal.SIGKILL, repr(rc))
        done_at_kill = self.sql("SELECT count(*) FROM job_results WHERE job_id = '%s' AND "
                                "status = 'done'" % jid3)
        stat_at_kill = {}
        for f in self.result_files(jid3):
            st = os.stat(os.path.join(self.data, "results", f))
            stat_at_kill[f] = (st.st_ino, st.st_mtime_ns, st.st_size)
        note("restart case: at the kill %r item(s) done, %d result file(s)" %
             (done_at_kill, len(stat_at_kill)))
        self.start_gateway()
        t = time.time()
        back = self.wait(lambda: (self.connected() or 0) >= 2, 30)
        check("restart case: both workers re-join the new gateway by themselves (%.1f s)" %
              (time.time() - t), back, repr(self.health()))
        js, ok = self.wait_job(jid3, alice, 120)
        note("restart case: job %s %.1f s after the restart" % (js.get("status"), time.time() - t))
        check("restart case: the job recovered from the store ends done", ok and
              js.get("status") == "done", json.dumps(js)[:800])
        self.check_results("restart case", jid3, js, langs3, alice)
        changed = []
        for f, st0 in stat_at_kill.items():
            try:
                st = os.stat(os.path.join(self.data, "results", f))
                if (st.st_ino, st.st_mtime_ns, st.st_size) != st0:
                    changed.append(f)
            except OSError:
                changed.append(f + " (gone)")
        check("restart case: items finished before the kill were not redone (%d)" %
              len(stat_at_kill), not changed, repr(changed))
        ms = self.metrics()
        check("restart case: the new gateway counts the recovered job as done",
              (metric(ms, "voxclone_jobs_total", status="done") or 0) >= 1)
        names = sorted({l.get("worker") for n_, l, v in ms if n_ == "voxclone_worker_in_flight"})
        check("metrics: voxclone_worker_in_flight has the connected workers %s" % names,
              {"w1", "w3"} <= set(names))
        self.promtool("gateway 2 (restarted)")

        # ---- 6. clean stop -----------------------------------------------
        rcs = {wid: self.kill_worker(wid, signal.SIGTERM) for wid in list(self.workers)}
        check("workers stop on SIGTERM with exit 0 %s" % rcs, all(v == 0 for v in rcs.values()))
        rc = self.gw.stop(signal.SIGTERM, 60)
        self.gw = None
        check("gateway stops on SIGTERM with exit 0", rc == 0, repr(rc))

    def promtool(self, where):
        if not shutil.which("promtool"):
            note("promtool not installed: %s /metrics not linted" % where)
            return
        text = self.metrics_text()
        p = subprocess.run(["promtool", "check", "metrics"], input=text, capture_output=True,
                           text=True)
        check("promtool check metrics on %s /metrics" % where, p.returncode == 0,
              p.stdout + p.stderr)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", required=True)
    ap.add_argument("--db", required=True, help="postgresql://... or sqlite:PATH")
    ap.add_argument("--cache", default=None)
    ap.add_argument("--shared", default=None)
    ap.add_argument("--keep", action="store_true", help="keep the temp dir (logs)")
    a = ap.parse_args()
    s = Suite(a)

    def on_term(sig, frm):
        raise KeyboardInterrupt
    signal.signal(signal.SIGTERM, on_term)
    try:
        s.run()
    except KeyboardInterrupt:
        check("interrupted", False)
    except Exception as e:  # noqa -- report, then clean up
        import traceback
        traceback.print_exc()
        check("suite ran to the end", False, "%s: %s" % (type(e).__name__, e))
    finally:
        if FAILED:
            for p in [s.gw] + list(s.workers.values()):
                if p:
                    note("--- %s log tail ---\n%s" % (p.name, p.tail()))
            for f in sorted(glob.glob(os.path.join(s.tmp, "*.log"))):
                note("log: %s (%d bytes)" % (f, os.path.getsize(f)))
            if not a.keep:
                for f in sorted(glob.glob(os.path.join(s.tmp, "gateway-*.log"))):
                    note("--- %s ---\n%s" % (os.path.basename(f),
                                             open(f, errors="replace").read()[-1500:]))
        s.cleanup()
    print("%d passed, %d failed (%.0f s)" % (PASSED, FAILED, time.time() - T0))
    for f in FAILURES:
        print("  failed: %s" % f)
    return 1 if FAILED else 0


if __name__ == "__main__":
    sys.exit(main())
