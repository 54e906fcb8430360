#!/usr/bin/env python3
"""Writes the bundled datasets under data/ from scikit-learn's shipped copies.

Run with scikit-learn installed (written with scikit-learn 1.9.1):
    python3 scripts/bundle_datasets.py
Each output is a CSV with a header; the label/target is the last column.
"""
import csv
import gzip
import io
import os

import sklearn
from sklearn.datasets import _base  # noqa: F401  (the package holding data/)

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "..", "data")
SRC = os.path.join(os.path.dirname(sklearn.__file__), "datasets", "data")


def write(name, header, rows, gz=False):
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(header)
    w.writerows(rows)
    data = buf.getvalue().encode()
    path = os.path.join(OUT, name)
    if gz:
        # mtime=0 keeps the file byte-identical between runs.
        with open(path, "wb") as f, gzip.GzipFile(fileobj=f, mode="wb", mtime=0, filename="") as g:
            g.write(data)
    else:
        with open(path, "wb") as f:
            f.write(data)
    print(path, len(rows), "rows")


def main():
    with open(os.path.join(SRC, "iris.csv")) as f:
        rows = list(csv.reader(f))[1:]
    write("iris.csv", ["sepal_length", "sepal_width", "petal_length", "petal_width", "species"], rows)

    with gzip.open(os.path.join(SRC, "digits.csv.gz"), "rt") as f:
        rows = [[str(int(float(v))) for v in r] for r in csv.reader(f)]
    write("digits.csv.gz", [f"p{i}" for i in range(64)] + ["digit"], rows, gz=True)

    with gzip.open(os.path.join(SRC, "diabetes_data_raw.csv.gz"), "rt") as f:
        x = [line.split() for line in f if line.strip()]
    with gzip.open(os.path.join(SRC, "diabetes_target.csv.gz"), "rt") as f:
        y = [str(int(float(line))) for line in f if line.strip()]
    assert len(x) == len(y) == 442
    header = ["age", "sex", "bmi", "bp", "s1", "s2", "s3", "s4", "s5", "s6", "target"]
    write("diabetes.csv", header, [r + [t] for r, t in zip(x, y)])


if __name__ == "__main__":
    main()
