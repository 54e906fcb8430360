#!/usr/bin/env python3
"""Golden trajectories of the rules that update whole tensors, for
`crates/downhill-optim/tests/matrix_golden.rs`:

  muon       torch.optim.Muon (Newton-Schulz in bfloat16, as PyTorch runs it)
  adafactor  torch.optim.Adafactor (factored second moment for matrices)

Each case runs the reference in float64 for STEPS steps and records the
parameters (flattened, row-major) after every step. Objectives:

  surface   a 2-D test surface of scripts/golden_modern.py, the point held as
            a vector [2], a 1x2 matrix or a 2x1 matrix (muon: matrices only)
  lstsq     0.5*||A W - B||^2 summed over W's leading (batch) dimensions,
            W of the case's shape, A and B recorded in the case (seeded)

How cases were chosen: every option of each rule appears in at least one
case, on surfaces with starts and learning rates that converge or travel
smoothly; a case is kept only if it is not chaotic: starting 1e-12 away
(relative) moves no coordinate by more than 1e-9. (Absolute: Muon's steps are
quantised to bfloat16 and do not shrink a perturbation, so a coordinate
passing near zero would fail a relative test without being sensitive.)
Muon's bfloat16 arithmetic is checked separately: the script checks the
reference's Newton-Schulz against an emulation (f32 products, bfloat16
rounding of every result, the first product of each addmm fused) on random
matrices and records the agreement; the Rust port follows the emulation.

It also writes torch's Newton-Schulz outputs for 160 random matrices
(newton_schulz.json), which the Rust port must equal bit for bit.

Run: python3 scripts/golden_matrix.py  (writes tests/golden/matrix/)
"""

import json
import math
import platform
import sys
from pathlib import Path

import numpy
import torch

torch.set_default_dtype(torch.float64)
torch.set_num_threads(1)

STEPS = 100
PERTURBATION = 1e-12
SENSITIVITY_LIMIT = 1e-9
ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "tests" / "golden" / "matrix" / "cases.json"
NS_OUT = ROOT / "tests" / "golden" / "matrix" / "newton_schulz.json"

SURFACES = {
    "booth": (lambda x, y: (x + 2 * y - 7) ** 2 + (2 * x + y - 5) ** 2, (-5.0, -2.0)),
    "himmelblau": (lambda x, y: (x**2 + y - 11) ** 2 + (x + y**2 - 7) ** 2, (0.3, 0.2)),
    "anisotropic": (lambda x, y: x**2 / 20 + y**2, (-7.0, 2.0)),
    "quartic": (lambda x, y: x**4 + 2 * x**3 + y**2 - 1, (1.0, -0.5)),
    "rosenbrock": (lambda x, y: (1 - x) ** 2 + 100 * (y - x**2) ** 2, (-1.2, 1.0)),
}

# (spec, objective, shape)
CASES = [
    ("muon:lr=0.05", "booth", (1, 2)),
    ("muon:lr=0.02", "himmelblau", (2, 1)),
    ("muon:lr=0.05,nesterov=false,momentum=0.9", "anisotropic", (1, 2)),
    ("muon:lr=0.02,weight_decay=0.5", "quartic", (1, 2)),
    ("muon:lr=0.01,ns_steps=3,ns_coefficients=[2,-1.5,0.5]", "rosenbrock", (1, 2)),
    ("muon:lr=0.05,adjust_lr_fn=match_rms_adamw,eps=0.001", "booth", (2, 1)),
    ("muon:lr=0.02", "lstsq", (3, 4)),
    ("muon:lr=0.02,adjust_lr_fn=spectral_unclamped,weight_decay=0", "lstsq", (5, 3)),
    ("muon:lr=0.01,momentum=0.5,adjust_lr_fn=match_rms_adamw", "lstsq", (6, 6)),
    ("adafactor:lr=0.05", "booth", (2,)),
    ("adafactor", "himmelblau", (1, 2)),
    ("adafactor:lr=0.05,beta2_decay=-0.5", "anisotropic", (2, 1)),
    ("adafactor:lr=0.02,eps1=1e-6,eps2=0.01", "quartic", (2,)),
    ("adafactor:lr=0.05,d=2,weight_decay=0.1", "booth", (1, 2)),
    ("adafactor:lr=0.05,maximize=true", "anisotropic", (2,)),
    ("adafactor:lr=0.02", "lstsq", (3, 4)),
    ("adafactor:lr=0.02,weight_decay=0.05", "lstsq", (2, 3, 4)),
    ("adafactor:lr=0.05,beta2_decay=-0.6,eps1=0", "lstsq", (20,)),
]


def parse(spec):
    name, _, rest = spec.partition(":")
    kwargs, eps = {}, [None, 1e-3]
    for part in filter(None, rest.split(",") if "[" not in rest else split_top(rest)):
        key, _, text = part.partition("=")
        if key in ("nesterov", "maximize"):
            kwargs[key] = text == "true"
        elif key == "ns_steps":
            kwargs[key] = int(text)
        elif key == "adjust_lr_fn":
            kwargs[key] = text
        elif key == "ns_coefficients":
            kwargs[key] = tuple(float(v) for v in text.strip("[]").split(","))
        elif key == "eps1":
            eps[0] = None if text == "none" else float(text)
        elif key == "eps2":
            eps[1] = float(text)
        else:
            kwargs[key] = float(text)
    if name == "adafactor":
        kwargs["eps"] = tuple(eps)
        return torch.optim.Adafactor, kwargs
    return torch.optim.Muon, kwargs


def split_top(text):
    out, cur, depth = [], "", 0
    for ch in text:
        depth += ch == "["
        depth -= ch == "]"
        if ch == "," and depth == 0:
            out.append(cur)
            cur = ""
        else:
            cur += ch
    return out + [cur]


def lstsq_data(shape):
    """A (batch, k, rows) and B (batch, k, cols) for W of `shape`, seeded by it."""
    gen = torch.Generator().manual_seed(sum(d * 31**i for i, d in enumerate(shape)))
    rows, cols = (shape[-2], shape[-1]) if len(shape) > 1 else (shape[0], 1)
    batch = math.prod(shape[:-2]) if len(shape) > 2 else 1
    k = rows + 2
    a = torch.randn(batch, k, rows, generator=gen) / math.sqrt(k)
    b = torch.randn(batch, k, cols, generator=gen)
    w0 = torch.randn(*shape, generator=gen)
    return a, b, w0


def loss(objective, shape, p, data):
    if objective == "lstsq":
        a, b, _ = data
        rows, cols = (shape[-2], shape[-1]) if len(shape) > 1 else (shape[0], 1)
        w = p.reshape(-1, rows, cols)
        return 0.5 * ((a @ w - b) ** 2).sum()
    flat = p.flatten()
    return SURFACES[objective][0](flat[0], flat[1])


def run(spec, objective, shape, scale=1.0):
    data = lstsq_data(shape) if objective == "lstsq" else None
    start = data[2].flatten().tolist() if data else list(SURFACES[objective][1])
    start = [v * (scale if i % 2 == 0 else 2 - scale) for i, v in enumerate(start)]
    p = torch.tensor(start).reshape(shape).requires_grad_(True)
    cls, kwargs = parse(spec)
    opt = cls([p], **kwargs)
    rows = []
    for _ in range(STEPS):
        opt.zero_grad()
        loss(objective, shape, p, data).backward()
        opt.step()
        rows.append(p.detach().flatten().tolist())
    return start, rows, data


def movement(rows, reference):
    return max(abs(a - b) for r, q in zip(rows, reference) for a, b in zip(r, q))


def emulated_newton_schulz(g, coeffs, steps, eps):
    """PyTorch's bfloat16 Newton-Schulz as the Rust port computes it."""
    def bf(x):
        return torch.from_numpy(numpy.asarray(x, dtype=numpy.float32)).to(torch.bfloat16).float().numpy()

    def mm(x, y):
        out = numpy.zeros((x.shape[0], y.shape[1]), numpy.float32)
        for i in range(x.shape[0]):
            for j in range(y.shape[1]):
                s = numpy.float32(0)
                for t in range(x.shape[1]):
                    s = numpy.float32(s + numpy.float32(x[i, t] * y[t, j]))
                out[i, j] = s
        return out

    def fma(a, x, y):  # a*x + y rounded once (exact in float64 for these operands, then to f32)
        return (numpy.float64(a) * x.astype(numpy.float64) + y.astype(numpy.float64)).astype(numpy.float32)

    a, b, c = (numpy.float32(v) for v in coeffs)
    x = bf(g.numpy().astype(numpy.float32))
    tall = g.shape[0] > g.shape[1]
    if tall:
        x = x.T.copy()
    s = numpy.float32(0)
    for v in x.flatten():
        s = numpy.float32(s + numpy.float32(v * v))
    norm = bf(max(bf(numpy.sqrt(s)), numpy.float32(eps)))
    x = bf(x / norm)
    for _ in range(steps):
        gram = bf(mm(x, x.T))
        gram = bf(fma(b, gram, c * mm(gram, gram)))
        x = bf(fma(a, x, mm(gram, x)))
    return x.T if tall else x


def newton_schulz_cases():
    """torch's Newton-Schulz on random matrices of several shapes and scales,
    checked against the emulation: (cases, how many agree)."""
    from torch.optim._muon import _zeropower_via_newtonschulz

    gen = torch.Generator().manual_seed(7)
    cases, same = [], 0
    for shape in [(1, 2), (2, 1), (2, 3), (3, 4), (5, 3), (6, 6), (8, 5), (12, 20)]:
        for _ in range(20):
            g = torch.randn(*shape, generator=gen) * 10 ** (6 * torch.rand(1, generator=gen).item() - 3)
            ref = _zeropower_via_newtonschulz(g, (3.4445, -4.7750, 2.0315), 5, 1e-7).float().numpy()
            same += numpy.array_equal(emulated_newton_schulz(g, (3.4445, -4.7750, 2.0315), 5, 1e-7), ref)
            cases.append(dict(shape=list(shape), input=g.flatten().tolist(), output=ref.flatten().tolist()))
    return cases, same


def main():
    ns_cases, same = newton_schulz_cases()
    total = len(ns_cases)
    print(f"Newton-Schulz emulation equals torch's on {same}/{total} random matrices", file=sys.stderr)
    if same != total:
        sys.exit("the emulation no longer matches this torch build")
    cases = []
    for spec, objective, shape in CASES:
        start, rows, data = run(spec, objective, shape)
        sens = max(movement(run(spec, objective, shape, s)[1], rows) for s in (1 + PERTURBATION, 1 - PERTURBATION))
        if not sens <= SENSITIVITY_LIMIT or not all(math.isfinite(v) for r in rows for v in r):
            sys.exit(f"{spec} on {objective} {shape}: chaotic or not finite ({sens:.3g})")
        case = dict(spec=spec, objective=objective, shape=list(shape), start=start, sensitivity=sens, points=rows)
        if data is not None:
            case["a"] = data[0].flatten().tolist()
            case["b"] = data[1].flatten().tolist()
        cases.append(case)
        print(f"{spec:60s} {objective:12s} {str(shape):10s} sensitivity {sens:.2g}", file=sys.stderr)
    meta = dict(
        generator="python3 scripts/golden_matrix.py",
        torch=torch.__version__,
        numpy=numpy.__version__,
        python=platform.python_version(),
        machine=platform.machine(),
        processor=platform.processor(),
        dtype="float64",
        steps=STEPS,
        newton_schulz_emulation=f"{same}/{total} random matrices equal",
        cases=cases,
    )
    OUT.write_text(json.dumps(meta, indent=1) + "\n")
    ns = dict(
        generator=meta["generator"],
        torch=torch.__version__,
        processor=meta["processor"],
        coefficients=[3.4445, -4.7750, 2.0315],
        steps=5,
        eps=1e-7,
        note="torch.optim._muon._zeropower_via_newtonschulz of float64 matrices; outputs are bfloat16 values",
        cases=ns_cases,
    )
    NS_OUT.write_text(json.dumps(ns) + "\n")


if __name__ == "__main__":
    main()
