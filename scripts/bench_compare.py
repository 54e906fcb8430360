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

Muon and Adafactor are timed on matrices (each tensor rows x 100 for Muon,
rows x 1000 for Adafactor, `downhill bench --cols`), on both sides.

L-BFGS is timed as one step(closure) of a fresh run on a separable quadratic
with an analytic gradient, the same objective on both sides (its "loop" is
torch's only path).

The modern rules are timed against the packages that define them
(lion-pytorch 0.2.5, pytorch-optimizer 4.1.0, prodigyopt 1.1.2): "loop" and "foreach" are the
package's foreach=False/True where it has them (Lion and Prodigy have one
path, shown as loop; so have torch's Muon and SparseAdam). LARS's parameters are vectors here, as on both sides, so it times its
SGD path (its norms are for matrices).

Needs torch (pip install torch), lion-pytorch and pytorch-optimizer for the
modern rows (schedulefree 1.4.1 and prodigyopt 1.1.2 for theirs), and gcc with OpenMP. float32 throughout.
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

try:
    import lion_pytorch
    import pytorch_optimizer
except ImportError:  # the modern rows need them
    lion_pytorch = pytorch_optimizer = None
try:
    import schedulefree
except ImportError:  # the schedule-free rows need it
    schedulefree = None
try:
    import prodigyopt
except ImportError:  # the prodigy row needs it
    prodigyopt = None

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
    # One step(closure) of a fresh run (see lbfgs_ns_per_param); the history
    # is 20 pairs, as 2*20 + 2 vectors of state.
    "lbfgs": ("lbfgs:history_size=20", torch.optim.LBFGS, dict(history_size=20), 42),
    # Matrices (see COLS): Muon's bfloat16 Newton-Schulz, Adafactor's factored moments.
    "muon": ("muon", torch.optim.Muon, dict(), 1),
    "adafactor": ("adafactor", torch.optim.Adafactor, dict(), 0),
    # torch's gradient is sparse with every row present; downhill's dense
    # step (every entry moves) does the same work.
    "sparse_adam": ("sparse_adam", torch.optim.SparseAdam, dict(), 2),
}
# Rules timed on matrices of this many columns (each tensor rows x COLS).
COLS = {"muon": 100, "adafactor": 1000}
if pytorch_optimizer is not None:
    OPTIMIZERS.update({
        "lion": ("lion", lion_pytorch.Lion, dict(), 1),
        "adopt": ("adopt", pytorch_optimizer.ADOPT, dict(), 2),
        "ademamix": ("ademamix", pytorch_optimizer.AdEMAMix, dict(), 3),
        "adan": ("adan", pytorch_optimizer.Adan, dict(), 4),
        "lamb": ("lamb", pytorch_optimizer.Lamb, dict(), 2),
        "lars": ("lars", pytorch_optimizer.LARS, dict(), 1),
    })
if schedulefree is not None:
    OPTIMIZERS.update({
        "schedulefree-sgd": ("schedulefree-sgd", schedulefree.SGDScheduleFree, dict(), 1),
        "schedulefree-adamw": ("schedulefree-adamw", schedulefree.AdamWScheduleFree, dict(), 2),
    })
if prodigyopt is not None:
    OPTIMIZERS["prodigy"] = ("prodigy", prodigyopt.Prodigy, dict(), 4)
# Rules whose package has one path, taken as "loop".
SINGLE_PATH = {"lion", "prodigy", "muon", "sparse_adam"}


def lbfgs_ns_per_param(kwargs, n, tensors, threads, samples=21):
    """Median ns/param of the first `step(closure)` of a fresh LBFGS run (max_iter=20
    iterations, 20 evaluations) on f = 1/2 sum a_i p_i^2, a_i = 1 + (i mod 100)/10,
    from p = 0.5, the closure writing the gradient a*p in place: as `downhill bench`
    times rules that evaluate the objective themselves."""
    torch.set_num_threads(threads)
    sizes = [n // tensors + (1 if i < n % tensors else 0) for i in range(tensors)]
    scales = torch.split(1 + (torch.arange(n) % 100).float() / 10, sizes)
    times = []
    for sample in range(samples + 1):
        params = [torch.full((s,), 0.5, dtype=torch.float32, requires_grad=True) for s in sizes]
        opt = torch.optim.LBFGS(params, **kwargs)

        def closure():
            loss = 0.0
            with torch.no_grad():
                for p, a in zip(params, scales):
                    if p.grad is None:
                        p.grad = torch.empty_like(p)
                    torch.mul(a, p, out=p.grad)
                    loss += 0.5 * float(torch.dot(p.grad, p))
            return loss

        t0 = time.perf_counter_ns()
        opt.step(closure)
        if sample > 0:
            times.append(time.perf_counter_ns() - t0)
    return statistics.median(times) / n


def torch_ns_per_param(cls, kwargs, n, tensors, threads, mode, samples=21, single=False, cols=None):
    """Median ns/param of `opt.step()` for one mode: loop, foreach or fused; None if unsupported."""
    if cls is torch.optim.LBFGS:
        return lbfgs_ns_per_param(kwargs, n, tensors, threads) if mode == "loop" else None
    torch.set_num_threads(threads)
    sizes = [n // tensors + (1 if i < n % tensors else 0) for i in range(tensors)]
    shapes = [(s // cols, cols) if cols else (s,) for s in sizes]
    params = [torch.full(shape, 0.5, dtype=torch.float32, requires_grad=True) for shape in shapes]
    for p in params:
        p.grad = torch.full_like(p, 1e-3)
        if cls is torch.optim.SparseAdam:
            p.grad = p.grad.to_sparse()
    if single and mode != "loop":
        return None
    extra = {} if single else {"loop": dict(foreach=False), "foreach": dict(foreach=True), "fused": dict(fused=True)}[mode]
    try:
        opt = cls(params, **kwargs, **extra)
        if hasattr(opt, "train"):  # Schedule-Free steps in train mode
            opt.train()
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


def downhill_ns_per_param(spec, n, tensors, threads, policy="error", cols=None):
    shape = ["--cols", str(cols)] if cols else []
    out = subprocess.run(
        [str(BINARY), "bench", "--optimizer", spec, "--params", str(n), "--tensors", str(tensors),
         "--threads", str(threads), "--on-non-finite", policy, "--format", "json", *shape],
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
        cols = COLS.get(name)
        floor = min(downhill_ns_per_param(spec, 10_000, 1, 1, "propagate", cols)[0] for _ in range(args.rounds))
        for n in sizes:
            for tensors in layouts:
                for threads in thread_counts:
                    best = {}
                    for _ in range(args.rounds):
                        for mode in ("loop", "foreach", "fused"):
                            t = torch_ns_per_param(cls, kwargs, n, tensors, threads, mode,
                                                   single=name in SINGLE_PATH, cols=cols)
                            if t is not None:
                                best[mode] = min(best.get(mode, float("inf")), t)
                        for policy in ("error", "propagate"):
                            d, _ = downhill_ns_per_param(spec, n, tensors, threads, policy, cols)
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
