#!/usr/bin/env python3
"""Golden trajectories of prodigy, for `crates/downhill-optim/tests/prodigy_golden.rs`.

The reference is prodigyopt.Prodigy (prodigyopt 1.1.2), run in float64.

Two kinds of case, each a downhill spec (`prodigy[:key=value,...]`; keys are
the constructor's keyword names with betas split into beta1, beta2):

  * the 2-D surfaces of scripts/golden_modern.py (same formulas, starts and
    selection: the first MAX_SURFACES surfaces of a template's list whose run
    is finite, bounded and not chaotic), the point one tensor of two elements;
  * `quadratic`: f(θ) = Σ a_i (θ_i − b_i)² over N = 40 elements held as two
    tensors of 23 and 17 elements in one group (so that slice_p > 1 takes
    every slice_p-th entry of each tensor), the gradient 2·a_i·(θ_i − b_i)
    written into `grad` directly. Its coefficients are in cases.json.

Non-chaos: re-run from the start perturbed by a relative 1e-12 (two sign
patterns), every coordinate must stay within 1e-9 of the original
(|a − b| / max(|b|, 1e-3)) at every step.

Output (in tests/golden/prodigy/): one CSV per case, header `step,x,y` (2-D)
or `step,x0,...,x39` (quadratic, every 5th step only), step 0 the start, numbers repr(float);
cases.json with the cases, the rejected runs and the versions.
Deterministic: re-running rewrites identical files.

Usage: python3 scripts/golden_prodigy.py [--check]   (--check: verify only, write nothing)
"""

import contextlib
import importlib.metadata
import io
import json
import math
import platform
import sys
from pathlib import Path

import torch
import prodigyopt
from golden_surfaces import MAX_COORD, PERTURBATION, REL_FLOOR, SENSITIVITY_LIMIT, STARTS, SURFACES

torch.set_default_dtype(torch.float64)
torch.set_num_threads(1)

STEPS = 200
MAX_SURFACES = 2
ROOT = Path(__file__).resolve().parent.parent
OUT_DIR = ROOT / "tests" / "golden" / "prodigy"
COMMAND = "python3 scripts/golden_prodigy.py"

ALL = ("rosenbrock", "booth", "himmelblau", "anisotropic")


def rotated(k):
    return ALL[k % len(ALL) :] + ALL[: k % len(ALL)]


# The quadratic: coefficients, minimum, start, and the tensors it is cut into.
N = 40
TENSORS = (23, 17)
QUAD_A = [0.5 + (i * 7 % 11) / 10 for i in range(N)]
QUAD_B = [2 + (i * 5 % 13) / 4 for i in range(N)]
QUAD_START = [b + ((i * 3 % 7) - 3) / 2 + 0.37 for i, b in enumerate(QUAD_B)]
QUADRATIC = ("quadratic",)
QUAD_EVERY = 5  # its CSVs keep every 5th step (the run takes all 200)

TEMPLATES = [
    ("prodigy", rotated(0)),
    ("prodigy:lr=0.5", rotated(3)),
    ("prodigy:beta1=0.8,beta2=0.99,beta3=0.95,eps=1e-6", rotated(1)),
    ("prodigy:beta1=0", rotated(4)),
    ("prodigy:use_bias_correction=true", rotated(2)),
    ("prodigy:safeguard_warmup=true,lr=0.5", rotated(5)),
    ("prodigy:safeguard_warmup=true,use_bias_correction=true,beta3=0.9", rotated(0)),
    ("prodigy:weight_decay=0.1", rotated(3)),
    ("prodigy:weight_decay=0.1,lr=0.5,use_bias_correction=true", rotated(1) + QUADRATIC),
    ("prodigy:weight_decay=0.1,decouple=false", rotated(1)),
    ("prodigy:weight_decay=0.05,decouple=false,beta1=0", rotated(4)),
    ("prodigy:d0=1e-3,d_coef=0.5", rotated(2)),
    ("prodigy:d_coef=2,growth_rate=1.02", rotated(5)),
    ("prodigy:growth_rate=1.1,d0=1e-4", rotated(0) + QUADRATIC),
    # The long vector: slicing, with every other option along.
    ("prodigy", QUADRATIC),
    ("prodigy:slice_p=3", QUADRATIC),
    ("prodigy:slice_p=11,beta3=0.95,d_coef=0.8,lr=0.5", QUADRATIC),
    ("prodigy:slice_p=4,weight_decay=0.02,decouple=false,use_bias_correction=true,lr=0.3", QUADRATIC),
    ("prodigy:slice_p=2,weight_decay=0.1,safeguard_warmup=true,growth_rate=1.05", QUADRATIC),
]

BOOL_KEYS = {"decouple", "use_bias_correction", "safeguard_warmup"}
FLOAT_KEYS = {"lr", "beta3", "eps", "weight_decay", "d0", "d_coef", "growth_rate"}


def build(spec, params):
    name, _, rest = spec.partition(":")
    assert name == "prodigy", spec
    kwargs, betas = {}, [0.9, 0.999]
    for part in filter(None, rest.split(",")):
        key, eq, text = part.partition("=")
        assert eq and key not in kwargs, spec
        if key in ("beta1", "beta2"):
            betas[int(key[-1]) - 1] = float(text)
            kwargs["betas"] = tuple(betas)
        elif key in BOOL_KEYS:
            assert text in ("true", "false"), spec
            kwargs[key] = text == "true"
        elif key in FLOAT_KEYS:
            kwargs[key] = float(text)
        elif key == "slice_p":
            kwargs[key] = int(text)
        else:
            raise AssertionError(f"unknown key {key} in {spec!r}")
    with contextlib.redirect_stdout(io.StringIO()):  # "Using decoupled weight decay"
        return prodigyopt.Prodigy(params, **kwargs)


def run(surface, spec, scale=0.0):
    """Rows of coordinates for steps 0..=STEPS, the start perturbed by
    (1 + scale·e, 1 − scale·e, ...) with e = PERTURBATION when scale != 0."""
    if surface == "quadratic":
        start = QUAD_START
    else:
        start = list(STARTS[surface])
    start = [v * (1 + scale * PERTURBATION * (-1) ** i) for i, v in enumerate(start)]
    sizes = TENSORS if surface == "quadratic" else (2,)
    params, at = [], 0
    for n in sizes:
        params.append(torch.tensor(start[at : at + n]).requires_grad_(True))
        at += n
    opt = build(spec, params)
    a, b = torch.tensor(QUAD_A), torch.tensor(QUAD_B)
    rows = [torch.cat([p.detach() for p in params]).tolist()]
    for _ in range(STEPS):
        opt.zero_grad()
        if surface == "quadratic":
            theta = torch.cat([p.detach() for p in params])
            g = 2.0 * a * (theta - b)
            at = 0
            for p in params:
                p.grad = g[at : at + p.numel()].clone()
                at += p.numel()
        else:
            p = params[0]
            SURFACES[surface][1](p[0], p[1]).backward()
        opt.step()
        rows.append(torch.cat([p.detach() for p in params]).tolist())
    return rows


def deviation(rows, reference):
    return max(
        abs(a - b) / max(abs(b), REL_FLOOR) for ra, rb in zip(rows, reference) for a, b in zip(ra, rb)
    )


def check(surface, spec, rows):
    if not all(math.isfinite(v) for row in rows for v in row):
        return "not finite"
    if max(abs(v) for row in rows for v in row) > MAX_COORD:
        return f"leaves |x| <= {MAX_COORD:g}"
    sens = max(deviation(run(surface, spec, s), rows) for s in (1.0, -1.0))
    if not sens <= SENSITIVITY_LIMIT:
        return f"chaotic: a {PERTURBATION:g} start perturbation moves it by {sens:.3g}"
    return None


def csv_text(rows, every):
    """The rows of every `every`-th step (and the last)."""
    names = ["x", "y"] if len(rows[0]) == 2 else [f"x{i}" for i in range(len(rows[0]))]
    lines = [",".join(["step"] + names)]
    kept = [k for k in range(len(rows)) if k % every == 0 or k == len(rows) - 1]
    lines += [",".join([str(k)] + [repr(v) for v in rows[k]]) for k in kept]
    return "\n".join(lines) + "\n"


def main():
    check_only = "--check" in sys.argv[1:]
    files, cases, rejected = {}, [], []
    for template, surfaces in TEMPLATES:
        kept = 0
        for surface in surfaces:
            if kept == MAX_SURFACES:
                break
            rows = run(surface, template)
            why = check(surface, template, rows)
            if why:
                rejected.append({"spec": template, "surface": surface, "reason": why})
                print(f"reject {surface:12s} {template:75s} {why}", file=sys.stderr)
                continue
            kept += 1
            file = f"prodigy-{len(cases) + 1:02d}-{surface}.csv"
            quadratic = surface == "quadratic"
            files[file] = csv_text(rows, QUAD_EVERY if quadratic else 1)
            cases.append(
                {
                    "file": file,
                    "spec": template,
                    "surface": surface,
                    "formula": "sum a_i (x_i - b_i)^2" if quadratic else SURFACES[surface][0],
                    "start": QUAD_START if quadratic else list(STARTS[surface]),
                    "tensors": list(TENSORS) if quadratic else [2],
                    "steps": STEPS,
                }
            )
            print(f"keep   {surface:12s} {template:75s} end={rows[-1][:2]}", file=sys.stderr)
        assert kept > 0, f"no surface kept for {template}"
    if check_only:
        print(f"check passed: {len(cases)} cases; nothing written", file=sys.stderr)
        return
    meta = {
        "generator": "scripts/golden_prodigy.py",
        "command": COMMAND,
        "python_version": platform.python_version(),
        "torch_version": torch.__version__,
        "prodigyopt_version": importlib.metadata.version("prodigyopt"),
        "dtype": "float64",
        "steps": STEPS,
        "perturbation": PERTURBATION,
        "sensitivity_limit": SENSITIVITY_LIMIT,
        "quadratic": {"a": QUAD_A, "b": QUAD_B, "tensors": list(TENSORS)},
        "cases": cases,
        "rejected": rejected,
    }
    OUT_DIR.mkdir(parents=True, exist_ok=True)
    for old in OUT_DIR.glob("*.csv"):
        if old.name not in files:
            old.unlink()
    for name, text in files.items():
        (OUT_DIR / name).write_text(text)
    (OUT_DIR / "cases.json").write_text(json.dumps(meta, indent=2) + "\n")
    print(f"wrote {len(files)} CSV files + cases.json to {OUT_DIR}", file=sys.stderr)


if __name__ == "__main__":
    main()
