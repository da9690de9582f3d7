#!/usr/bin/env python3
"""librosa_ref.py -- the librosa side of bench_analysis.

    python3 bench/librosa_ref.py FILE

Times, once, what voxclone's vx_analyze_file does with librosa 0.11:
librosa.load(sr=22050) + pyin(fmin=50, fmax=500) + mfcc(n_mfcc=13) +
spectral_centroid, and prints one JSON line on stdout:

    {"librosa": "0.11.0", "audio_s": ..., "total_s": ..., "s_per_audio_s": ...,
     "load_s": ..., "pyin_s": ..., "pyin_s_per_audio_s": ..., "mfcc_s": ...,
     "centroid_s": ..., "warmup": true}

Before timing, pyin/mfcc/centroid run once on 1 s of noise so numba's
just-in-time compilation is not counted (--no-warmup counts it).

Exit codes: 0 ok, 2 usage, 3 librosa (or numpy) not importable.
"""
import json
import sys
import time


def main(argv):
    args = [a for a in argv[1:] if a != "--no-warmup"]
    warmup = "--no-warmup" not in argv[1:]
    if len(args) != 1:
        print("usage: librosa_ref.py [--no-warmup] FILE", file=sys.stderr)
        return 2
    try:
        import numpy as np
        import librosa
    except Exception as exc:  # ImportError, or a broken install
        print("librosa_ref.py: librosa is not importable with %s: %s"
              % (sys.executable, exc), file=sys.stderr)
        return 3

    path = args[0]
    sr = 22050
    if warmup:
        y0 = np.random.default_rng(0).standard_normal(sr).astype(np.float32) * 0.1
        librosa.pyin(y0, fmin=50.0, fmax=500.0, sr=sr)
        librosa.feature.mfcc(y=y0, sr=sr, n_mfcc=13)
        librosa.feature.spectral_centroid(y=y0, sr=sr)

    t0 = time.perf_counter()
    y, sr = librosa.load(path, sr=sr)
    t1 = time.perf_counter()
    librosa.pyin(y, fmin=50.0, fmax=500.0, sr=sr)
    t2 = time.perf_counter()
    librosa.feature.mfcc(y=y, sr=sr, n_mfcc=13)
    t3 = time.perf_counter()
    librosa.feature.spectral_centroid(y=y, sr=sr)
    t4 = time.perf_counter()

    audio_s = len(y) / float(sr)
    out = {
        "librosa": librosa.__version__,
        "file": path,
        "audio_s": audio_s,
        "total_s": t4 - t0,
        "s_per_audio_s": (t4 - t0) / audio_s,
        "load_s": t1 - t0,
        "pyin_s": t2 - t1,
        "pyin_s_per_audio_s": (t2 - t1) / audio_s,
        "mfcc_s": t3 - t2,
        "centroid_s": t4 - t3,
        "warmup": warmup,
    }
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
