#!/usr/bin/python3
"""Re-derive the voiceprint projection from the shipped training features.

    /usr/bin/python3 scripts/voiceprint/train.py            # writes src/analysis/voiceprint_model.c
    /usr/bin/python3 scripts/voiceprint/train.py --check    # regenerate, compare with the shipped file
    /usr/bin/python3 scripts/voiceprint/train.py --cv-only  # only print the cross-validated EER

Input: data/voiceprint/features.csv (made by `bench_voiceprint --dump-features`,
i.e. by the library's own vx__voiceprint_features): one row per utterance
(segment 0) plus rows for 4-second segments of the longer utterances.

Model (docs/voiceprint.md):
  1. standardise every feature with the mean / std over all training rows
     (non-finite values, i.e. pitch of an utterance without voiced frames,
     become 0 = the training mean);
  2. within-speaker covariance Sw (pooled over speakers, rows minus their
     speaker's mean), shrunk towards a scaled identity:
     Sw' = (1 - a) Sw + a tr(Sw)/D I, a = 0.4; whitening W = Sw'^(-1/2);
  3. LDA: eigenvectors of the covariance of the whitened speaker means
     (speakers weighted equally), all n_speakers - 1 of them, largest first;
     each eigenvector's sign is fixed so that its largest-magnitude entry is
     positive (so the output does not depend on the LAPACK build);
  4. centring: the mean projected training row is subtracted.
The library zero-pads the rank-R projection to 512, applies the orthonormal
Walsh-Hadamard transform and L2-normalises (cosines are those of the R-d
vectors).

Honest error estimate: speaker-disjoint cross-validation -- speakers are split
into 5 folds (4 different seeded splits); for each fold the whole model is
trained on the other speakers' rows (segments included) and all pairs of the
held-out speakers' whole utterances are scored; the EER of the pooled scores
is reported (and the mean of the per-fold EERs).

Needs numpy (Debian python3-numpy); use /usr/bin/python3.
"""
import argparse
import csv
import os
import sys

import numpy as np

VERSION = "vxvp-1"
SHRINKAGE = 0.4
FOLDS = 5
REPEATS = 10
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def load(path, exclude=()):
    spk, cor, seg, X = [], [], [], []
    with open(path, newline="") as f:
        r = csv.reader(f)
        header = next(r)
        nfeat = len(header) - 6
        for row in r:
            if row[1] in exclude:
                continue
            spk.append(row[0])
            cor.append(row[1])
            seg.append(int(row[3]))
            X.append([float(v) for v in row[6:6 + nfeat]])
    return np.array(spk), np.array(cor), np.array(seg), np.array(X, dtype=np.float64)


def train(X, spk, a=SHRINKAGE):
    mu = np.nanmean(X, axis=0)
    sd = np.nanstd(X, axis=0)
    sd = np.where(sd > 1e-12, sd, 1.0)
    inv_sd = 1.0 / sd
    Z = np.where(np.isfinite(X), (X - mu) * inv_sd, 0.0)
    D = Z.shape[1]
    labels = sorted(set(spk))
    Sw = np.zeros((D, D))
    nw = 0
    means = []
    for s in labels:
        Zi = Z[spk == s]
        m = Zi.mean(axis=0)
        means.append(m)
        if len(Zi) > 1:
            R = Zi - m
            Sw += R.T @ R
            nw += len(Zi) - 1
    Sw /= max(nw, 1)
    Swr = (1.0 - a) * Sw + a * np.eye(D) * np.trace(Sw) / D
    w, V = np.linalg.eigh(Swr)
    Wh = V @ np.diag(w ** -0.5) @ V.T
    M = np.array(means) @ Wh
    M -= M.mean(axis=0)
    w2, V2 = np.linalg.eigh(M.T @ M / len(M))
    order = np.argsort(-w2, kind="stable")[: len(labels) - 1]
    E = V2[:, order]
    for j in range(E.shape[1]):
        if E[np.argmax(np.abs(E[:, j])), j] < 0:
            E[:, j] = -E[:, j]
    P = (Wh @ E).T  # R x D, acts on standardised features
    c = (Z @ P.T).mean(axis=0)
    return mu, inv_sd, P, c


def quantise(model):
    """The model as the library stores it (float32)."""
    return tuple(np.asarray(m, dtype=np.float32).astype(np.float64) for m in model)


def embed(model, X):
    mu, inv_sd, P, c = model
    Z = np.where(np.isfinite(X), (X - mu) * inv_sd, 0.0)
    Y = Z @ P.T - c
    n = np.linalg.norm(Y, axis=1, keepdims=True)
    return Y / np.where(n > 0, n, 1.0)


def eer(scores, same):
    scores = np.asarray(scores, dtype=np.float64)
    same = np.asarray(same, dtype=bool)
    P, N = same.sum(), (~same).sum()
    if P == 0 or N == 0:
        return float("nan")
    order = np.argsort(-scores, kind="stable")
    s, l = scores[order], same[order]
    tp, fp = np.cumsum(l), np.cumsum(~l)
    last = np.r_[s[1:] != s[:-1], True]  # end of each group of tied scores
    frr = np.r_[1.0, 1.0 - tp[last] / P]
    far = np.r_[0.0, fp[last] / N]
    i = np.argmin(np.abs(frr - far))
    return 50.0 * (frr[i] + far[i])


def pair_scores(Y, spk, cor):
    I, J = np.triu_indices(len(Y), 1)
    return np.sum(Y[I] * Y[J], axis=1), spk[I] == spk[J], cor[I] == cor[J]


def cross_validate(spk, cor, seg, X, folds=FOLDS, repeats=REPEATS, a=SHRINKAGE):
    speakers = np.array(sorted(set(spk)))
    S, L, C, per_fold = [], [], [], []
    for r in range(repeats):
        perm = np.random.default_rng(1000 + r).permutation(speakers)
        for k in range(folds):
            held = np.isin(spk, perm[k::folds])
            model = quantise(train(X[~held], spk[~held], a))
            test = held & (seg == 0)
            s, l, c = pair_scores(embed(model, X[test]), spk[test], cor[test])
            S.append(s)
            L.append(l)
            C.append(c)
            if l.any():
                per_fold.append(eer(s, l))
    S, L, C = np.concatenate(S), np.concatenate(L), np.concatenate(C)
    return eer(S, L), float(np.mean(per_fold)), eer(S[C], L[C]), int(L.sum()), int((~L).sum())


def c_array(name, values, per_line=6):
    vals = [("%.9g" % v) for v in np.asarray(values, dtype=np.float32).ravel()]
    vals = [v if ("." in v or "e" in v or "n" in v) else v + ".0" for v in vals]
    lines = []
    for i in range(0, len(vals), per_line):
        lines.append("    " + ", ".join(v + "f" for v in vals[i:i + per_line]) + ",")
    return "const float %s = {\n%s\n};\n" % (name, "\n".join(lines))


def render(model, info, n_rows, n_spk):
    mu, inv_sd, P, c = model
    R, D = P.shape
    return (
        "/*\n"
        " * voiceprint_model.c -- GENERATED by scripts/voiceprint/train.py; do not edit.\n"
        " * Re-derive: /usr/bin/python3 scripts/voiceprint/train.py\n"
        " * from data/voiceprint/features.csv (%d rows, %d speakers).\n"
        " *\n"
        " * DESIGN: constant tables only: feature mean and 1/std (standardisation),\n"
        " * the %d x %d projection (shrunk within-speaker whitening then LDA) and the\n"
        " * centre subtracted after it.  See docs/voiceprint.md.\n"
        " */\n"
        '#include "analysis/voiceprint_model.h"\n\n'
        'const char vx__vp_version[] = "%s";\n'
        'const char vx__vp_train_info[] =\n    "%s";\n'
        "const int vx__vp_rank = %d;\n\n" % (n_rows, n_spk, R, D, VERSION, info, R)
        + c_array("vx__vp_mean[VX__VP_N_FEAT]", mu)
        + c_array("vx__vp_inv_std[VX__VP_N_FEAT]", inv_sd)
        + c_array("vx__vp_proj[%d * VX__VP_N_FEAT]" % R, P)
        + c_array("vx__vp_center[%d]" % R, c)
    )


BOOTSTRAP = """/* voiceprint_model.c -- BOOTSTRAP placeholder written by
 * scripts/voiceprint/train.py --bootstrap: all-zero model (every voiceprint is
 * the zero vector).  Rebuild, dump the features, then run train.py. */
#include "analysis/voiceprint_model.h"

const char vx__vp_version[] = "vxvp-bootstrap";
const char vx__vp_train_info[] = "bootstrap model, not trained";
const int vx__vp_rank = 1;
const float vx__vp_mean[VX__VP_N_FEAT] = {0};
const float vx__vp_inv_std[VX__VP_N_FEAT] = {0};
const float vx__vp_proj[VX__VP_N_FEAT] = {0};
const float vx__vp_center[1] = {0};
"""


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--features", default=os.path.join(ROOT, "data/voiceprint/features.csv"))
    ap.add_argument("--out", default=os.path.join(ROOT, "src/analysis/voiceprint_model.c"))
    ap.add_argument("--check", action="store_true", help="compare with --out instead of writing")
    ap.add_argument("--cv-only", action="store_true")
    ap.add_argument("--bootstrap", action="store_true",
                    help="write a dummy all-zero model (lets the library build after the "
                         "feature layout changed, so that features can be dumped again)")
    ap.add_argument("--no-segments", action="store_true", help="train on whole utterances only")
    ap.add_argument("--shrinkage", type=float, default=SHRINKAGE)
    ap.add_argument("--exclude-corpus", action="append", default=[],
                    help="drop a corpus (e.g. for licence reasons); repeatable")
    args = ap.parse_args()

    if args.bootstrap:
        with open(args.out, "w") as f:
            f.write(BOOTSTRAP)
        print("wrote bootstrap model %s; now build, run bench_voiceprint --dump-features, "
              "train" % args.out)
        return 0
    spk, cor, seg, X = load(args.features, set(args.exclude_corpus))
    if args.no_segments:
        keep = seg == 0
        spk, cor, seg, X = spk[keep], cor[keep], seg[keep], X[keep]
    n_spk = len(set(spk))
    cv_pooled, cv_mean, cv_wc, cv_same, cv_diff = cross_validate(spk, cor, seg, X, a=args.shrinkage)
    model = quantise(train(X, spk, args.shrinkage))
    whole = seg == 0
    s, l, c = pair_scores(embed(model, X[whole]), spk[whole], cor[whole])
    ins, ins_wc = eer(s, l), eer(s[c], l[c])
    info = ("speaker-disjoint CV (%d folds x %d splits, %d/%d same/diff pairs): EER %.2f %% "
            "pooled, %.2f %% mean of folds, %.2f %% within-corpus pairs; in-sample EER %.2f %% "
            "(within-corpus %.2f %%); shrinkage %.2f, %d speakers, %d rows"
            % (FOLDS, REPEATS, cv_same, cv_diff, cv_pooled, cv_mean, cv_wc, ins, ins_wc,
               args.shrinkage, n_spk, len(X)))
    print(info)
    if args.cv_only:
        return 0
    text = render(model, info, len(X), n_spk)
    if args.check:
        with open(args.out) as f:
            same = f.read() == text
        print("check: %s is %s" % (args.out, "up to date" if same else "DIFFERENT"))
        return 0 if same else 1
    with open(args.out, "w") as f:
        f.write(text)
    print("wrote %s (version %s, rank %d)" % (args.out, VERSION, model[2].shape[0]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
