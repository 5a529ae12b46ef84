"""Export scikit-learn's bundled copies of two UCI datasets as CSV, plus the standard digits split.

Run with any Python that has scikit-learn and numpy (a throwaway virtual environment is enough):

    python data/export.py data/

Writes:
  digits.csv               1,797 rows: p0..p63 (integer pixel intensities 0..16), label (0..9)
  breast_cancer.csv        569 rows: the 30 features (floats), label (0 malignant, 1 benign)
  digits_split_seed42.csv  the standard federated split (seed 42, 10 clients, Dirichlet alpha 0.5):
                           index (row of digits.csv), part ("test" or the client number 0..9)
"""
import csv
import sys
from pathlib import Path

import numpy as np
from sklearn.datasets import load_breast_cancer, load_digits

SEED, N_TEST, CLIENTS, ALPHA, MIN_SIZE = 42, 360, 10, 0.5, 10


def write(path, header, rows):
    with open(path, "w", newline="") as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(header)
        w.writerows(rows)


def standard_split(y):
    """The split rule of the Flower reference task: a seeded permutation, the first 360 rows for
    testing, the rest split by a per-class Dirichlet(alpha) draw redrawn until every client has at
    least 10 samples. Returns (test rows, [rows of client k]) as rows of the original dataset."""
    rng = np.random.default_rng(SEED)
    idx = rng.permutation(len(y))
    test_idx, train_idx = idx[:N_TEST], idx[N_TEST:]
    ytr = y[train_idx]
    rng = np.random.default_rng(SEED)
    while True:
        parts = [[] for _ in range(CLIENTS)]
        for c in range(10):
            idx_c = np.where(ytr == c)[0]
            rng.shuffle(idx_c)
            p = rng.dirichlet(ALPHA * np.ones(CLIENTS))
            cuts = (np.cumsum(p) * len(idx_c)).astype(int)[:-1]
            for k, chunk in enumerate(np.split(idx_c, cuts)):
                parts[k].extend(chunk.tolist())
        if min(len(q) for q in parts) >= MIN_SIZE:
            break
    return test_idx, [train_idx[np.array(sorted(q))] for q in parts]


def main(out: Path):
    out.mkdir(parents=True, exist_ok=True)
    d = load_digits()
    X, y = d.data.astype(int), d.target.astype(int)
    write(out / "digits.csv", [f"p{i}" for i in range(64)] + ["label"],
          [list(map(int, r)) + [int(t)] for r, t in zip(X, y)])
    b = load_breast_cancer()
    names = [n.replace(" ", "_") for n in b.feature_names]
    write(out / "breast_cancer.csv", names + ["label"],
          [[repr(float(v)) for v in r] + [int(t)] for r, t in zip(b.data, b.target)])
    test_idx, parts = standard_split(y)
    rows = [(int(i), "test") for i in test_idx]
    for k, p in enumerate(parts):
        rows += [(int(i), str(k)) for i in p]
    write(out / "digits_split_seed42.csv", ["index", "part"], rows)


if __name__ == "__main__":
    main(Path(sys.argv[1] if len(sys.argv) > 1 else Path(__file__).parent))
