#!/usr/bin/env python3
"""Gradient replays: the update formulas alone, bit for bit, for
`crates/downhill-optim/tests/replay.rs`.

The trajectory goldens (`golden_optim.py`, `golden_modern.py`) compare whole
runs of `downhill run`, so they also compare the surface's gradient, which
downhill computes from its own formula and PyTorch by autograd: the two round
differently, and those trajectories agree to ~1e-13, not bit for bit. Here
the gradient is taken out of the comparison: for every case of those two
generators (same spec, surface, start, shape; the first REPLAY_STEPS steps) this
records, per step, the gradient PyTorch computed at the current point and the
point after `opt.step()`. The Rust test hands the recorded gradients to
`downhill_optim::Optimizer::step` and requires the same points, bit for bit.

That holds because downhill evaluates each operation as PyTorch's CPU kernels
do; in particular `add(t, alpha=a)`, `addcmul` and `lerp` are fused
multiply-adds in the AVX2/AVX-512 kernels that x86-64 machines run (the
`torch_cpu_capability` recorded below; a build without them rounds twice).

Extra cases: the RMSprop case of issue 13 (centered, momentum, six-hump-camel
from (-1.5, 1)) that differed by one ulp at step 17 before the fused
operations, over its full 250 steps.

PyTorch's float64 `sqrt` on CPU is not always correctly rounded (MKL's
vdSqrt; measured on this machine: 1235 of 100 000 uniform random inputs in
[0, 1e4] differ from the IEEE square root by one ulp), and downhill's is. So
each case also records `first_inexact_sqrt`: the first step at which a square
root PyTorch took was not the correctly rounded one (null if none). The test
requires bit equality up to the step before it and 1e-12 after.

Output: tests/golden/replay/replay.csv with header
`case,step,gx,gy,x,y` (step k: the gradient at point k-1 and point k; the
start is in cases.json), and tests/golden/replay/cases.json (case index,
spec, surface, start, steps, reference) with the versions.

Usage: python3 scripts/golden_replay.py   (deterministic: re-running rewrites identical files)
"""

import csv
import importlib.metadata
import io
import json
import math
import platform
import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
import golden_modern  # noqa: E402
import golden_optim  # noqa: E402

torch.set_default_dtype(torch.float64)
torch.set_num_threads(1)

ROOT = Path(__file__).resolve().parent.parent
OUT_DIR = ROOT / "tests" / "golden" / "replay"
REPLAY_STEPS = 100

SURFACES = dict(golden_optim.SURFACES)
SURFACES["six-hump-camel"] = (
    "4*x^2 - 2.1*x^4 + x^6/3 + x*y - 4*y^2 + 4*y^4",
    lambda x, y: (4 - 2.1 * x**2 + x**4 / 3) * x**2 + x * y + (-4 + 4 * y**2) * y**2,
)

EXTRA = [
    ("rmsprop:lr=0.002,alpha=0.9,momentum=0.5,centered=true", "six-hump-camel", [-1.5, 1.0], 250),
]


def cases():
    """(spec, surface, start, shape, steps, reference) for every case."""
    out = []
    optim = json.loads((ROOT / "tests/golden/optim/cases.json").read_text())
    for surface, s in optim["surfaces"].items():
        for spec in s["cases"]:
            if spec.split(":")[0] != "nag":  # downhill's own formula, no torch class
                out.append((spec, surface, s["start"], [2], REPLAY_STEPS, "torch.optim"))
    modern = json.loads((ROOT / "tests/golden/modern/cases.json").read_text())
    for c in modern["cases"]:
        reference = {"lion": "lion-pytorch", "schedulefree": "schedulefree"}.get(
            c["spec"].split(":")[0].split("-")[0], "pytorch-optimizer")
        out.append((c["spec"], c["surface"], c["start"], c["shape"], REPLAY_STEPS, reference))
    for spec, surface, start, steps in EXTRA:
        out.append((spec, surface, start, [2], steps, "torch.optim"))
    return out


def build(spec, param, reference):
    if reference == "torch.optim":
        return golden_optim.build_torch(spec, param)
    return golden_modern.build(spec, param, None)


class SqrtWatch:
    """Counts square roots PyTorch computed that are not the correctly rounded
    one. PyTorch's CPU `sqrt` for float64 goes through a vector math library
    (MKL's vdSqrt in the x86-64 wheels), which is not always correctly
    rounded; downhill's `sqrt` is IEEE's. While installed, wraps
    `Tensor.sqrt`, `Tensor.sqrt_`, `torch.sqrt` and `torch._foreach_sqrt`."""

    def __init__(self):
        self.inexact = 0
        self.saved = []

    def check(self, before, after):
        for a, b in zip(before.flatten().tolist(), after.flatten().tolist()):
            if a >= 0 and math.sqrt(a) != b:
                self.inexact += 1

    def __enter__(self):
        def wrap(owner, name, in_place=False, many=False):
            original = getattr(owner, name)
            self.saved.append((owner, name, original))

            def watched(*args, **kwargs):
                inputs = args[0]
                copies = [t.detach().clone() for t in inputs] if many else args[0].detach().clone()
                out = original(*args, **kwargs)
                if many:
                    results = inputs if in_place else out
                    for c, r in zip(copies, results):
                        self.check(c, r)
                else:
                    self.check(copies, args[0] if in_place else out)
                return out

            setattr(owner, name, watched)

        wrap(torch.Tensor, "sqrt")
        wrap(torch.Tensor, "sqrt_", in_place=True)
        wrap(torch, "sqrt")
        wrap(torch, "_foreach_sqrt", many=True)
        wrap(torch, "_foreach_sqrt_", in_place=True, many=True)
        return self

    def __exit__(self, *_):
        for owner, name, original in reversed(self.saved):
            setattr(owner, name, original)


def replay(spec, surface, start, shape, steps, reference):
    """Rows (step, gx, gy, x, y) and the first step at which PyTorch took an
    inexact square root (None if it never did)."""
    f = SURFACES[surface][1]
    p = torch.tensor(start).reshape(shape).requires_grad_(True)
    opt = build(spec, p, reference)
    rows = []
    first_inexact = None
    for step in range(1, steps + 1):
        opt.zero_grad()
        flat = p.flatten()
        f(flat[0], flat[1]).backward()
        gx, gy = p.grad.flatten().tolist()
        with SqrtWatch() as watch:
            opt.step()
        if watch.inexact and first_inexact is None:
            first_inexact = step
        x, y = p.flatten().tolist()
        rows.append((step, gx, gy, x, y))
    return rows, first_inexact


def main():
    OUT_DIR.mkdir(parents=True, exist_ok=True)
    text = io.StringIO()
    w = csv.writer(text, lineterminator="\n")
    w.writerow(["case", "step", "gx", "gy", "x", "y"])
    listed = []
    for index, (spec, surface, start, shape, steps, reference) in enumerate(cases()):
        rows, first_inexact = replay(spec, surface, start, shape, steps, reference)
        for row in rows:
            w.writerow([index, row[0]] + [repr(v) for v in row[1:]])
        listed.append(
            {"case": index, "spec": spec, "surface": surface, "formula": SURFACES[surface][0],
             "start": start, "shape": shape, "steps": steps, "reference": reference,
             "first_inexact_sqrt": first_inexact}
        )
    (OUT_DIR / "replay.csv").write_text(text.getvalue())
    meta = {
        "generator": "scripts/golden_replay.py",
        "command": "python3 scripts/golden_replay.py",
        "python_version": platform.python_version(),
        "torch_version": torch.__version__,
        "torch_cpu_capability": torch.backends.cpu.get_cpu_capability(),
        "lion_pytorch_version": importlib.metadata.version("lion-pytorch"),
        "pytorch_optimizer_version": importlib.metadata.version("pytorch_optimizer"),
        "schedulefree_version": importlib.metadata.version("schedulefree"),
        "dtype": "float64",
        "csv_header": "case,step,gx,gy,x,y",
        "cases": listed,
    }
    (OUT_DIR / "cases.json").write_text(json.dumps(meta, indent=1) + "\n")
    print(f"{len(listed)} cases written to {OUT_DIR}")


if __name__ == "__main__":
    main()
