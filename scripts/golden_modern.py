#!/usr/bin/env python3
"""Golden trajectories of the modern optimizers, for
`crates/downhill-optim/tests/modern_golden.rs`.

The reference of each rule is the package that defines it in practice:

  lion      lion_pytorch.Lion (lion-pytorch 0.2.5, default non-Triton update)
  adopt     pytorch_optimizer.ADOPT (pytorch-optimizer 4.1.0)
  ademamix  pytorch_optimizer.AdEMAMix
  adan      pytorch_optimizer.Adan
  lamb      pytorch_optimizer.Lamb
  lars      pytorch_optimizer.LARS
  schedulefree-sgd    schedulefree.SGDScheduleFree (schedulefree 1.4.1)
  schedulefree-adamw  schedulefree.AdamWScheduleFree
    (in train mode, as the package requires for step(); the points are the
    train-mode parameters y; cases.json adds the evaluation point x after the
    last step: the parameters after the package's eval())

pytorch-optimizer is run with its defaults (`foreach=None`, which on CPU takes
the batched `_step_foreach` path); every trajectory is also run with
`foreach=False` (the per-parameter path) and the two must agree bit for bit,
so the data does not depend on the path -- except for lamb, whose
per-parameter path rounds the update differently (m / (sqrt(v) + eps) where
the batched path takes (1 / (sqrt(v) + eps)) * m); its data is the default
(batched) path's.

The parameter is one tensor of two elements, or (a case's `shape` [1, 2])
one 1x2 matrix: LARS scales only tensors of two or more dimensions, so its
cases run both ways.

Every case is a downhill spec (`NAME[:key=value,...]`; keys are the
constructor's keyword names with tuples split: betas -> beta1,beta2[,beta3];
adopt's `clip_lambda` is `step^0.25` (the package's default lambda
`math.pow(step, 0.25)`) or `none`; ademamix's `t_alpha_beta3=0` is None) run
in float64 on a 2-D surface from the surface's start (as in
scripts/golden_optim.py) for STEPS updates, with the parameter as one tensor
of two elements: `opt.zero_grad(); f(p).backward(); opt.step()`.

Case selection: each spec template is tried on the surfaces in its list, in
order, and the first MAX_SURFACES that pass are kept. A run passes when it is
finite, stays within |x|, |y| <= MAX_COORD, and is not chaotic: re-run from
the start perturbed by a relative PERTURBATION (in two sign patterns,
(+,-) and (-,+)), it must stay within SENSITIVITY_LIMIT of the original at
every step, measured as |a - b| / max(|b|, 1e-3) (the test's tolerance form),
i.e. an error of 1e-12 grows at most 1000-fold. Rejected runs are printed.

Output (in tests/golden/modern/):
  <optimizer>-<nn>-<surface>.csv  header `step,x,y`; step 0 is the start;
                                  numbers are repr(float) (shortest round trip)
  cases.json  the cases (file, spec, surface, formula, start, steps), the
              rejected (spec, surface, reason) pairs, and the versions of
              python, torch, numpy, lion-pytorch and pytorch-optimizer.

Deterministic: re-running rewrites identical files.

Usage: python3 scripts/golden_modern.py [--check]   (--check: verify only, write nothing)
"""

import csv
import importlib.metadata
import io
import json
import math
import platform
import sys
from pathlib import Path

import numpy
import torch
import lion_pytorch
import pytorch_optimizer
import schedulefree
from golden_surfaces import MAX_COORD, PERTURBATION, REL_FLOOR, SENSITIVITY_LIMIT, STARTS, SURFACES

torch.set_default_dtype(torch.float64)
torch.set_num_threads(1)

STEPS = 200
MAX_SURFACES = 3
ROOT = Path(__file__).resolve().parent.parent
OUT_DIR = ROOT / "tests" / "golden" / "modern"
COMMAND = "python3 scripts/golden_modern.py"

# Learning rates per surface (spec text): `ada` for the Adam-like steps
# (ADOPT, AdEMAMix, Adan), `lion` for Lion's sign steps (|step| = lr per
# coordinate, so smaller, as the Lion paper advises).
LRS = {
    "rosenbrock": dict(ada="0.02", lion="0.005"),
    "booth": dict(ada="0.1", lion="0.02"),
    "himmelblau": dict(ada="0.05", lion="0.01"),
    "anisotropic": dict(ada="0.1", lion="0.02"),
    "quartic": dict(ada="0.05", lion="0.01"),
    "beale": dict(ada="0.02", lion="0.005"),
}
# LARS steps are about lr * trust_coefficient * |theta| (1e-3 by default).
for _surface, _lrs in LRS.items():
    _lrs["lars"] = "2"
    _lrs["sgd"] = {"rosenbrock": "0.0001", "beale": "0.0005"}.get(_surface, "0.002")

ALL = ("rosenbrock", "booth", "himmelblau", "anisotropic", "quartic", "beale")
# maximize=true: ascent on the quadratics grows linearly (adaptive steps);
# from himmelblau's start it climbs to the local maximum near (-0.27, -0.92).
MAX = ("anisotropic", "booth", "himmelblau")


def rotated(k):
    return ALL[k:] + ALL[:k]


# (spec template, lr class or None, surfaces to try in order)
TEMPLATES = [
    # Lion
    ("lion", None, rotated(0)),
    ("lion:lr={lr}", "lion", rotated(3)),
    ("lion:lr={lr},beta1=0.95,beta2=0.98", "lion", rotated(1)),
    ("lion:lr={lr},weight_decay=0.5", "lion", rotated(4)),
    ("lion:lr={lr},beta1=0.5,beta2=0.9,weight_decay=0.1", "lion", rotated(2)),
    # ADOPT
    ("adopt", None, rotated(0)),
    ("adopt:lr={lr}", "ada", rotated(3)),
    ("adopt:lr={lr},beta1=0.8,beta2=0.99,eps=1e-4", "ada", rotated(1)),
    ("adopt:lr={lr},clip_lambda=none", "ada", rotated(4)),
    ("adopt:lr={lr},weight_decay=0.1", "ada", rotated(2)),
    ("adopt:lr={lr},weight_decay=0.1,weight_decouple=true", "ada", rotated(5)),
    ("adopt:lr={lr},weight_decay=0.05,weight_decouple=true,fixed_decay=true", "ada", rotated(0)),
    ("adopt:lr={lr},maximize=true", "ada", MAX),
    # AdEMAMix
    ("ademamix", None, rotated(0)),
    ("ademamix:lr={lr}", "ada", rotated(3)),
    ("ademamix:lr={lr},alpha=2,t_alpha_beta3=50", "ada", rotated(1)),
    ("ademamix:lr={lr},beta1=0.8,beta2=0.99,beta3=0.999,alpha=3,eps=1e-6", "ada", rotated(4)),
    ("ademamix:lr={lr},weight_decay=0.1", "ada", rotated(2)),
    ("ademamix:lr={lr},weight_decay=0.1,weight_decouple=true,t_alpha_beta3=100", "ada", rotated(5)),
    ("ademamix:lr={lr},weight_decay=0.05,weight_decouple=true,fixed_decay=true", "ada", rotated(0)),
    ("ademamix:lr={lr},maximize=true", "ada", MAX),
    # Adan
    ("adan", None, rotated(0)),
    ("adan:lr={lr}", "ada", rotated(3)),
    ("adan:lr={lr},beta1=0.9,beta2=0.8,beta3=0.95,eps=1e-6", "ada", rotated(1)),
    ("adan:lr={lr},weight_decay=0.1", "ada", rotated(4)),
    ("adan:lr={lr},weight_decay=0.1,weight_decouple=true", "ada", rotated(2)),
    ("adan:lr={lr},maximize=true", "ada", MAX),
    # LAMB
    ("lamb", None, rotated(0)),
    ("lamb:lr={lr}", "ada", rotated(3)),
    ("lamb:lr={lr},beta1=0.8,beta2=0.99,eps=1e-4", "ada", rotated(1)),
    ("lamb:lr={lr},weight_decay=0.1", "ada", rotated(4)),
    ("lamb:lr={lr},weight_decay=0.1,weight_decouple=false", "ada", rotated(2)),
    ("lamb:lr={lr},weight_decay=0.05,fixed_decay=true,grad_averaging=false", "ada", rotated(5)),
    ("lamb:lr={lr},adam=true", "ada", rotated(0)),
    ("lamb:lr={lr},maximize=true", "ada", MAX),
    # LARS: vectors take plain SGD with momentum; 1x2 matrices the trust ratio.
    ("lars:lr={lr}", "sgd", rotated(0)),
    ("lars:lr={lr},momentum=0.5,nesterov=true", "sgd", rotated(3)),
    ("lars:lr={lr}", "lars", rotated(1), (1, 2)),
    ("lars:lr={lr},weight_decay=0.1,trust_coefficient=0.01", "lars", rotated(4), (1, 2)),
    ("lars:lr={lr},momentum=0.5,dampening=0.1,nesterov=true", "lars", rotated(2), (1, 2)),
    ("lars:lr={lr},momentum=0", "lars", rotated(5), (1, 2)),
    ("lars:lr={lr},maximize=true", "lars", MAX, (1, 2)),
    # Schedule-Free
    ("schedulefree-sgd:lr={lr}", "sgd", rotated(0)),
    ("schedulefree-sgd:lr={lr},momentum=0.5,weight_decay=0.1", "sgd", rotated(3)),
    ("schedulefree-sgd:lr={lr},warmup_steps=20,r=1,weight_lr_power=1", "sgd", rotated(1)),
    ("schedulefree-adamw", None, rotated(0)),
    ("schedulefree-adamw:lr={lr}", "ada", rotated(3)),
    ("schedulefree-adamw:lr={lr},beta1=0.8,beta2=0.99,eps=1e-6", "ada", rotated(1)),
    ("schedulefree-adamw:lr={lr},weight_decay=0.1", "ada", rotated(4)),
    ("schedulefree-adamw:lr={lr},warmup_steps=50", "ada", rotated(2)),
    ("schedulefree-adamw:lr={lr},warmup_steps=10,r=0.5,weight_lr_power=0", "ada", rotated(5)),
]

CLASSES = {
    "lion": lion_pytorch.Lion,
    "adopt": pytorch_optimizer.ADOPT,
    "ademamix": pytorch_optimizer.AdEMAMix,
    "adan": pytorch_optimizer.Adan,
    "lamb": pytorch_optimizer.Lamb,
    "lars": pytorch_optimizer.LARS,
    "schedulefree-sgd": schedulefree.SGDScheduleFree,
    "schedulefree-adamw": schedulefree.AdamWScheduleFree,
}
BETAS = {"beta1": 0, "beta2": 1, "beta3": 2}
DEFAULT_BETAS = {"lion": (0.9, 0.99), "adopt": (0.9, 0.9999), "ademamix": (0.9, 0.999, 0.9999), "adan": (0.98, 0.92, 0.99),
                 "lamb": (0.9, 0.999), "schedulefree-adamw": (0.9, 0.999)}
BOOL_KEYS = {"weight_decouple", "fixed_decay", "maximize", "grad_averaging", "adam", "nesterov"}
FLOAT_KEYS = {"lr", "weight_decay", "eps", "alpha", "t_alpha_beta3", "momentum", "dampening", "trust_coefficient",
              "r", "weight_lr_power"}
INT_KEYS = {"warmup_steps"}


def parse_spec(spec):
    name, _, rest = spec.partition(":")
    args = {}
    if rest:
        for part in rest.split(","):
            key, eq, value = part.partition("=")
            assert eq and key and value and key not in args, f"bad spec {spec!r}"
            args[key] = value
    return name, args


def build(spec, param, foreach):
    name, args = parse_spec(spec)
    kwargs = {}
    betas = list(DEFAULT_BETAS.get(name, ()))
    for key, text in args.items():
        if key in BETAS:
            betas[BETAS[key]] = float(text)
            kwargs["betas"] = tuple(betas)
        elif key in BOOL_KEYS:
            assert text in ("true", "false"), spec
            kwargs[key] = text == "true"
        elif key == "clip_lambda":
            assert name == "adopt" and text in ("step^0.25", "none"), spec
            if text == "none":
                kwargs[key] = None
        elif key in INT_KEYS:
            kwargs[key] = int(text)
        elif key in FLOAT_KEYS:
            value = float(text)
            kwargs[key] = None if key == "t_alpha_beta3" and value == 0.0 else value
        else:
            raise AssertionError(f"unknown key {key} in {spec!r}")
    if name != "lion" and foreach is not None:
        kwargs["foreach"] = foreach
    opt = CLASSES[name]([param], **kwargs)
    if name.startswith("schedulefree"):
        opt.train()
    return opt


def run(surface, spec, scale=(1.0, 1.0), foreach=None, shape=(2,), evaluation=False):
    """Points [(x, y)] for steps 0..=STEPS from the start scaled by `scale`,
    the parameter a tensor of `shape` (2 or 1x2)."""
    f = SURFACES[surface][1]
    start = [STARTS[surface][0] * scale[0], STARTS[surface][1] * scale[1]]
    p = torch.tensor(start).reshape(shape).requires_grad_(True)
    opt = build(spec, p, foreach)
    rows = [tuple(p.flatten().tolist())]
    for _ in range(STEPS):
        opt.zero_grad()
        flat = p.flatten()
        f(flat[0], flat[1]).backward()
        opt.step()
        rows.append(tuple(p.flatten().tolist()))
    if evaluation:
        opt.eval()  # Schedule-Free: the parameters become x
        return rows, p.flatten().tolist()
    return rows


def deviation(rows, reference):
    worst = 0.0
    for a_row, b_row in zip(rows, reference):
        for a, b in zip(a_row, b_row):
            worst = max(worst, abs(a - b) / max(abs(b), REL_FLOOR))
    return worst


def check(surface, spec, rows, shape):
    """None when the run is usable, else why not."""
    if not all(math.isfinite(v) for row in rows for v in row):
        return "not finite"
    if max(max(abs(x), abs(y)) for x, y in rows) > MAX_COORD:
        return f"leaves |x|, |y| <= {MAX_COORD:g}"
    sens = max(
        deviation(run(surface, spec, scale=(1 + PERTURBATION, 1 - PERTURBATION), shape=shape), rows),
        deviation(run(surface, spec, scale=(1 - PERTURBATION, 1 + PERTURBATION), shape=shape), rows),
    )
    if not sens <= SENSITIVITY_LIMIT:
        return f"chaotic: a {PERTURBATION:g} start perturbation moves it by {sens:.3g}"
    return None


def csv_text(rows):
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["step", "x", "y"])
    for k, (x, y) in enumerate(rows):
        w.writerow([k, repr(x), repr(y)])
    return buf.getvalue()


def main():
    check_only = "--check" in sys.argv[1:]
    files, cases, rejected = {}, [], []
    counters = {}
    for template, lr_class, surfaces, *rest in TEMPLATES:
        shape = rest[0] if rest else (2,)
        kept = 0
        for surface in surfaces:
            if kept == MAX_SURFACES:
                break
            spec = template.format(lr=LRS[surface][lr_class]) if lr_class else template
            rows = run(surface, spec, shape=shape)
            name = spec.partition(":")[0]
            if name not in ("lion", "lamb"):
                per_param = run(surface, spec, foreach=False, shape=shape)
                assert per_param == rows, f"{spec} on {surface}: foreach and per-parameter paths differ"
            why = check(surface, spec, rows, shape)
            if why:
                rejected.append({"spec": spec, "surface": surface, "reason": why})
                print(f"reject {surface:12s} {spec:75s} {why}", file=sys.stderr)
                continue
            kept += 1
            counters[name] = counters.get(name, 0) + 1
            file = f"{name}-{counters[name]:02d}-{surface}.csv"
            files[file] = csv_text(rows)
            cases.append(
                {
                    "file": file,
                    "spec": spec,
                    "surface": surface,
                    "formula": SURFACES[surface][0],
                    "start": list(STARTS[surface]),
                    "shape": list(shape),
                    "steps": STEPS,
                }
            )
            if name.startswith("schedulefree"):
                cases[-1]["evaluation_point"] = run(surface, spec, shape=shape, evaluation=True)[1]
            x, y = rows[-1]
            print(f"keep   {surface:12s} {spec:75s} end=({x:.6g}, {y:.6g})", file=sys.stderr)
        assert kept > 0, f"no surface kept for {template}"
    if check_only:
        print(f"check passed: {len(cases)} cases; nothing written", file=sys.stderr)
        return
    meta = {
        "generator": "scripts/golden_modern.py",
        "command": COMMAND,
        "python_version": platform.python_version(),
        "torch_version": torch.__version__,
        "numpy_version": numpy.__version__,
        "lion_pytorch_version": importlib.metadata.version("lion-pytorch"),
        "pytorch_optimizer_version": importlib.metadata.version("pytorch-optimizer"),
        "schedulefree_version": importlib.metadata.version("schedulefree"),
        "dtype": "float64",
        "code_path": "lion: Lion default update_fn; pytorch-optimizer: default foreach=None (batched path on CPU), "
        "checked bit-identical to foreach=False (except lamb, whose per-parameter path rounds differently)",
        "csv_header": "step,x,y",
        "steps": STEPS,
        "perturbation": PERTURBATION,
        "sensitivity_limit": SENSITIVITY_LIMIT,
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
    total = sum((OUT_DIR / n).stat().st_size for n in list(files) + ["cases.json"])
    print(f"wrote {len(files)} CSV files + cases.json to {OUT_DIR} ({total} bytes)", file=sys.stderr)


if __name__ == "__main__":
    main()
