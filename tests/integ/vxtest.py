"""vxtest.py -- helpers the Python integration suites share (api_test.py,
scaleout_test.py): test audio made in the test, WAV reading, and reading the
Prometheus text format.  Standard library only."""
import io
import math
import re
import struct
import time
import wave


def wav_bytes(samples, sr=16000):
    """Mono 16-bit PCM WAV of float samples in [-1, 1]."""
    buf = io.BytesIO()
    w = wave.open(buf, "wb")
    w.setnchannels(1)
    w.setsampwidth(2)
    w.setframerate(sr)
    w.writeframes(b"".join(struct.pack("<h", max(-32767, min(32767, int(s * 32767))))
                           for s in samples))
    w.close()
    return buf.getvalue()


def voiced_signal(f0=130.0, dur=2.0, sr=16000, vib_hz=5.0, vib_depth=0.03, seed=0.0,
                  formants=(700.0, 1200.0, 2600.0)):
    """A voiced-like signal: harmonic series (sawtooth-ish) with vibrato, a 4 Hz
    syllable envelope and a crude formant weighting."""
    n = int(dur * sr)
    out = []
    phase = 0.0
    nh = int(min(40, (sr / 2 - 200) / (f0 * 1.1)))
    weights = []
    for k in range(1, nh + 1):
        fk = k * f0
        g = sum(1.0 / (1.0 + ((fk - F) / (F * 0.25)) ** 2) for F in formants)
        weights.append((0.3 + g) / k)
    norm = sum(weights)
    for i in range(n):
        t = i / sr
        f = f0 * (1.0 + vib_depth * math.sin(2 * math.pi * vib_hz * t + seed))
        phase += 2 * math.pi * f / sr
        env = 0.55 + 0.45 * math.sin(2 * math.pi * 4.0 * t + seed) ** 2
        ramp = min(1.0, t / 0.05, (dur - t) / 0.05)
        s = 0.0
        for k, wk in enumerate(weights, 1):
            s += wk * math.sin(k * phase)
        out.append(0.8 * ramp * env * s / norm)
    return out


def wav_duration(data):
    """Duration in seconds of a WAV, -1.0 when data is not a WAV."""
    try:
        w = wave.open(io.BytesIO(data), "rb")
        d = w.getnframes() / float(w.getframerate())
        w.close()
        return d
    except Exception:  # noqa -- not a WAV
        return -1.0


SAMPLE_RX = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})?\s+(\S+)')
LABEL_RX = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"')


def parse_metrics(text):
    """[(name, {label: value}, value)] of a Prometheus text exposition."""
    out = []
    for ln in text.splitlines():
        m = SAMPLE_RX.match(ln) if ln and not ln.startswith("#") else None
        if m:
            try:
                out.append((m.group(1), dict(LABEL_RX.findall(m.group(3) or "")),
                            float(m.group(4))))
            except ValueError:
                pass
    return out


def metric(samples, name, **labels):
    """Sum of the samples of name whose labels include labels; None if none."""
    tot = None
    for n, l, v in samples:
        if n == name and all(l.get(k) == val for k, val in labels.items()):
            tot = (tot or 0.0) + v
    return tot


def wait_port_file(path, alive, describe, timeout=60):
    """The port a `voxclone serve`/`gateway` wrote to its --port-file, waiting up to
    timeout s; RuntimeError when the process died (alive() false) or never wrote it.
    describe() gives the text (log tail, exit status) for the error."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        if not alive():
            raise RuntimeError("exited: %s" % describe())
        try:
            txt = open(path).read().strip()
            if txt:
                return int(txt)
        except (OSError, ValueError):
            pass
        time.sleep(0.05)
    raise RuntimeError("wrote no port file: %s" % describe())
