"""Side-by-side optimizer step speed: PyTorch CPU vs downhill vs a C bandwidth probe.

For every optimizer, size, tensor layout and thread count it alternates, in
each round, PyTorch's for-loop, foreach and (where torch has one) fused paths,
`downhill bench` with the default policy (the gradient is scanned for NaN/inf
before anything is written) and with `--on-non-finite propagate` (no scan, as
PyTorch), and `scripts/bandwidth_probe.c` with the same bytes per parameter,
keeping the best ns/param of each over the rounds (these machines are noisy).

It also times downhill on 10^4 parameters, one thread ("floor": the data sit
in L2 cache, so this is the loop's own cost per parameter: L2 traffic for
SGD, the divider for Adam-like rules' sqrt and division). Larger steps can go
no faster than max(probe, floor / threads); "limit" is PyTorch's best divided
by that: about the best ratio reachable here with this arithmetic. It prints
a Markdown table.

    cargo build --release -p downhill-cli
    python3 scripts/bench_compare.py [--sizes 1e6,1e7] [--tensors 1,100] [--threads 1,2]
        [--rounds 3] [--only adam,sgd]

Needs torch (pip install torch) and gcc with OpenMP. float32 throughout.
"""

import argparse
import json
import pathlib
import statistics
import subprocess
import sys
import tempfile
import time

import torch

ROOT = pathlib.Path(__file__).resolve().parent.parent
BINARY = ROOT / "target/release/downhill"

# name: (downhill spec, torch class, torch kwargs, state buffers per parameter)
OPTIMIZERS = {
    "sgd": ("sgd:lr=0.001", torch.optim.SGD, dict(lr=1e-3), 0),
    "sgd-momentum": ("sgd:lr=0.001,momentum=0.9", torch.optim.SGD, dict(lr=1e-3, momentum=0.9), 1),
    "adam": ("adam", torch.optim.Adam, dict(), 2),
    "adamw": ("adamw", torch.optim.AdamW, dict(), 2),
    "adagrad": ("adagrad", torch.optim.Adagrad, dict(), 1),
    "rmsprop": ("rmsprop", torch.optim.RMSprop, dict(), 1),
    "adadelta": ("adadelta", torch.optim.Adadelta, dict(), 2),
    "nadam": ("nadam", torch.optim.NAdam, dict(), 2),
    "radam": ("radam", torch.optim.RAdam, dict(), 2),
    "adamax": ("adamax", torch.optim.Adamax, dict(), 2),
    "rprop": ("rprop", torch.optim.Rprop, dict(), 2),
    "asgd": ("asgd", torch.optim.ASGD, dict(), 1),
}


def torch_ns_per_param(cls, kwargs, n, tensors, threads, mode, samples=21):
    """Median ns/param of `opt.step()` for one mode: loop, foreach or fused; None if unsupported."""
    torch.set_num_threads(threads)
    sizes = [n // tensors + (1 if i < n % tensors else 0) for i in range(tensors)]
    params = [torch.full((s,), 0.5, dtype=torch.float32, requires_grad=True) for s in sizes]
    for p in params:
        p.grad = torch.full_like(p, 1e-3)
    extra = {"loop": dict(foreach=False), "foreach": dict(foreach=True), "fused": dict(fused=True)}[mode]
    try:
        opt = cls(params, **kwargs, **extra)
        for _ in range(3):
            opt.step()
    except (RuntimeError, TypeError, ValueError):
        return None
    times = []
    for _ in range(samples):
        t0 = time.perf_counter_ns()
        opt.step()
        times.append(time.perf_counter_ns() - t0)
    return statistics.median(times) / n


def downhill_ns_per_param(spec, n, tensors, threads, policy="error"):
    out = subprocess.run(
        [str(BINARY), "bench", "--optimizer", spec, "--params", str(n), "--tensors", str(tensors),
         "--threads", str(threads), "--on-non-finite", policy, "--format", "json"],
        check=True, capture_output=True, text=True,
    ).stdout
    report = json.loads(out.strip().splitlines()[-1])
    return report["ns_per_param"], report["bytes_per_param"]


def probe_ns_per_param(probe, n, buffers, threads):
    out = subprocess.run([str(probe), str(n), str(min(buffers, 3)), str(threads), "10"],
                         check=True, capture_output=True, text=True).stdout
    return float(out)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", default="1e6,1e7")
    ap.add_argument("--tensors", default="1,100")
    ap.add_argument("--threads", default="1,2")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--only", default=",".join(OPTIMIZERS))
    args = ap.parse_args()
    if not BINARY.exists():
        sys.exit(f"error: {BINARY} is missing; run cargo build --release -p downhill-cli")
    tmp = pathlib.Path(tempfile.mkdtemp())
    probe = tmp / "probe"
    subprocess.run(["gcc", "-O3", "-march=native", "-fopenmp", str(ROOT / "scripts/bandwidth_probe.c"),
                    "-o", str(probe)], check=True)
    sizes = [int(float(s)) for s in args.sizes.split(",")]
    layouts = [int(t) for t in args.tensors.split(",")]
    thread_counts = [int(t) for t in args.threads.split(",")]
    print(f"torch {torch.__version__}, float32, best of {args.rounds} alternating rounds, ns per parameter\n")
    print("checked: downhill's default (scans the gradient first); propagate: no scan, as PyTorch; "
          "floor: downhill on 1e4 params in cache, 1 thread\n")
    print("| optimizer | params | tensors | threads | torch loop | torch foreach | torch fused "
          "| downhill checked | downhill propagate | C probe | floor "
          "| torch best / checked | torch best / propagate | limit | probe / propagate |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    for name in args.only.split(","):
        spec, cls, kwargs, buffers = OPTIMIZERS[name]
        floor = min(downhill_ns_per_param(spec, 10_000, 1, 1, "propagate")[0] for _ in range(args.rounds))
        for n in sizes:
            for tensors in layouts:
                for threads in thread_counts:
                    best = {}
                    for _ in range(args.rounds):
                        for mode in ("loop", "foreach", "fused"):
                            t = torch_ns_per_param(cls, kwargs, n, tensors, threads, mode)
                            if t is not None:
                                best[mode] = min(best.get(mode, float("inf")), t)
                        for policy in ("error", "propagate"):
                            d, _ = downhill_ns_per_param(spec, n, tensors, threads, policy)
                            best[policy] = min(best.get(policy, float("inf")), d)
                        c = probe_ns_per_param(probe, n, buffers, threads)
                        best["probe"] = min(best.get("probe", float("inf")), c)
                    torch_best = min(best[m] for m in ("loop", "foreach", "fused") if m in best)
                    bound = max(best["probe"], floor / threads)
                    cell = lambda m: f"{best[m]:.3f}" if m in best else "–"
                    print(f"| {name} | {n:.0e} | {tensors} | {threads} | {cell('loop')} | {cell('foreach')} "
                          f"| {cell('fused')} | {cell('error')} | {cell('propagate')} | {cell('probe')} "
                          f"| {floor:.3f} | {torch_best / best['error']:.2f}× "
                          f"| {torch_best / best['propagate']:.2f}× | {torch_best / bound:.2f}× "
                          f"| {best['probe'] / best['propagate']:.0%} |",
                          flush=True)


if __name__ == "__main__":
    main()
