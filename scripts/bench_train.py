#!/usr/bin/env python3
"""Side-by-side training benchmark: downhill against PyTorch (CPU, one thread).

1. Accuracy on digits: 80/20 stratified split (scikit-learn's, random_state=0,
   handed to downhill as two CSV files), inputs scaled to [0, 1] (x / 16),
   MLP 64-128-10 ReLU, batch 64, 30 epochs, seed 0, for Adam(1e-3),
   SGD(0.1), NAdam(2e-3) and RMSprop(1e-3).
2. Throughput on an MNIST-sized problem: 60 000 x 784 synthetic samples,
   MLP 784-128-10, batch 64 and 256, seconds per training epoch.

Usage: cargo build --release && python3 scripts/bench_train.py [--seeds 3] [--epochs 2]
       [--part both|accuracy|throughput]
Needs torch (written with 2.15) and scikit-learn (1.9.1) for the split.
The downhill side runs target/release/downhill (single-threaded).
"""
import argparse
import json
import os
import subprocess
import tempfile
import time

import numpy as np
import torch
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
BIN = os.path.join(ROOT, "target", "release", "downhill")
OPTIMIZERS = [
    ("adam:lr=0.001", lambda p: torch.optim.Adam(p, lr=1e-3)),
    ("sgd:lr=0.1", lambda p: torch.optim.SGD(p, lr=0.1)),
    ("nadam:lr=0.002", lambda p: torch.optim.NAdam(p, lr=2e-3)),
    ("rmsprop:lr=0.001", lambda p: torch.optim.RMSprop(p, lr=1e-3)),
]


def downhill(*args):
    out = subprocess.run([BIN, *args, "--format", "json", "-q"], check=True, capture_output=True, text=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def mlp(sizes):
    layers = []
    for i, (a, b) in enumerate(zip(sizes, sizes[1:])):
        layers.append(torch.nn.Linear(a, b))
        if i + 2 < len(sizes):
            layers.append(torch.nn.ReLU())
    return torch.nn.Sequential(*layers)


def torch_epochs(model, opt, x, y, batch, epochs, gen):
    loss_fn = torch.nn.CrossEntropyLoss()
    start = time.perf_counter()
    for _ in range(epochs):
        order = torch.randperm(len(x), generator=gen)
        for i in range(0, len(x), batch):
            idx = order[i:i + batch]
            opt.zero_grad()
            loss = loss_fn(model(x[idx]), y[idx])
            loss.backward()
            opt.step()
    return time.perf_counter() - start


def digits_accuracy(seeds):
    d = load_digits()
    xtr, xte, ytr, yte = train_test_split(d.data / 16.0, d.target, test_size=0.2, stratify=d.target, random_state=0)
    # downhill trains on exactly the same split, given as two CSV files.
    tmp = tempfile.mkdtemp()
    files = []
    for name, xs, ys in (("train", xtr, ytr), ("test", xte, yte)):
        path = os.path.join(tmp, f"digits-{name}.csv")
        np.savetxt(path, np.column_stack([xs, ys]), delimiter=",", fmt="%.17g",
                   header=",".join([f"p{i}" for i in range(64)] + ["digit"]), comments="")
        files.append(path)
    xtr, xte = torch.tensor(xtr, dtype=torch.float32), torch.tensor(xte, dtype=torch.float32)
    ytr, yte = torch.tensor(ytr), torch.tensor(yte)
    print("digits, MLP 64-128-10 ReLU, batch 64, 30 epochs: test accuracy (%)")
    print(f"{'optimizer':18} {'pytorch':>22} {'downhill (he init)':>22} {'downhill (torch init)':>22}")
    for spec, make in OPTIMIZERS:
        ours = {init: [] for init in ("he", "torch")}
        theirs = []
        for seed in range(seeds):
            torch.manual_seed(seed)
            model = mlp([64, 128, 10])
            torch_epochs(model, make(model.parameters()), xtr, ytr, 64, 30, torch.Generator().manual_seed(seed))
            with torch.no_grad():
                theirs.append(100 * (model(xte).argmax(1) == yte).float().mean().item())
            for init in ours:
                r = downhill("train", "--dataset", files[0], "--test-dataset", files[1], "--model",
                             f"mlp:hidden=[128],init={init}", "--optimizer", spec, "--epochs", "30",
                             "--batch-size", "64", "--scale", "none", "--seed", str(seed))
                ours[init].append(100 * r["test_accuracy"])
        fmt = lambda v: f"{min(v):.1f}-{max(v):.1f} (mean {np.mean(v):.2f})"
        print(f"{spec:18} {fmt(theirs):>22} {fmt(ours['he']):>22} {fmt(ours['torch']):>22}")


def throughput(epochs):
    torch.set_num_threads(1)
    gen = torch.Generator().manual_seed(0)
    x = torch.randn(60000, 784, generator=gen)
    y = torch.randint(0, 10, (60000,), generator=gen)
    print(f"\n60000 x 784 synthetic, MLP 784-128-10, Adam, one thread: seconds per epoch (mean of {epochs})")
    print(f"{'batch':>6} {'pytorch':>10} {'downhill':>10}")
    for batch in (64, 256):
        torch.manual_seed(0)
        model = mlp([784, 128, 10])
        t = torch_epochs(model, torch.optim.Adam(model.parameters(), lr=1e-3), x, y, batch, epochs, gen) / epochs
        r = downhill("train", "--dataset", "blobs:n=60000,features=784,classes=10", "--model",
                     "mlp:hidden=[128],init=torch", "--optimizer", "adam:lr=0.001", "--epochs", str(epochs),
                     "--batch-size", str(batch), "--test-fraction", "0", "--scale", "none")
        print(f"{batch:>6} {t:>10.3f} {r['seconds'] / r['epochs']:>10.3f}")


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--seeds", type=int, default=3)
    ap.add_argument("--epochs", type=int, default=2)
    ap.add_argument("--part", choices=("both", "accuracy", "throughput"), default="both")
    a = ap.parse_args()
    print(f"torch {torch.__version__}, downhill {BIN}")
    if a.part != "throughput":
        digits_accuracy(a.seeds)
    if a.part != "accuracy":
        throughput(a.epochs)
