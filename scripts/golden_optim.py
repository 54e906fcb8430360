#!/usr/bin/env python3
"""Golden optimizer trajectories from PyTorch, for `crates/downhill-cli/tests/parity.rs`.

Every case is a downhill optimizer spec (`NAME[:key=value,...]`, keys are
PyTorch's keyword names, tuples split: betas -> beta1,beta2; etas ->
eta_minus,eta_plus; step_sizes -> step_min,step_max) run on a 2-D surface
from the surface's start for STEPS updates, in float64, with the optimizer's
single-tensor code path (`foreach=False`; never fused, capturable or
differentiable).  The parameter is one tensor of two elements; each step is
`opt.zero_grad(); loss = f(p); loss.backward(); opt.step()`.

`nag` is the learning notes' look-ahead Nesterov, which torch.optim does not
have: v <- mu*v - lr*grad f(theta + mu*v); theta <- theta + v, in plain Python
floats with the gradient from torch autograd.

Output (in tests/golden/optim/):
  <surface>.csv  header `optimizer,step,x,y,loss`; `optimizer` is the spec,
                 step 0 is the start, `loss` is f at the point after `step`
                 updates; numbers are repr(float) (shortest round trip).
  cases.json     per surface: formula, start, steps, specs; library versions,
                 generation date and command.

Before writing, every trajectory is checked to be finite and well conditioned:
it is re-run with a random relative perturbation of 2**-52 injected into the
parameters after every update, and the largest deviation
|a - b| / max(|b|, 1e-3) over x, y, loss must stay below SENSITIVITY_LIMIT
(100x below the parity test's 1e-9), so a correct implementation with
different rounding cannot fail the test.

Deterministic: re-running regenerates byte-identical files (the date in
cases.json is kept when nothing else changed).

Usage: python3 scripts/golden_optim.py [--check]   (--check: verify only, write nothing)
"""

import csv
import datetime
import inspect
import io
import json
import math
import platform
import random
import sys
from pathlib import Path

import numpy
import torch

torch.set_default_dtype(torch.float64)
torch.set_num_threads(1)

STEPS = 250
REL_FLOOR = 1e-3
SENSITIVITY_LIMIT = 1e-11
MAX_COORD = 1e3  # a run that goes further is treated as diverging
ROOT = Path(__file__).resolve().parent.parent
OUT_DIR = ROOT / "tests" / "golden" / "optim"
COMMAND = "python3 scripts/golden_optim.py"

# ---------------------------------------------------------------------------
# Surfaces (formulas as in DESIGN.md, in scripts/golden_surfaces.py), written
# with torch ops so autograd gives the gradient, and their start points.
# himmelblau's start lies in the central bowl, so descent goes to the minimum
# (3, 2) and ascent (maximize=true) climbs to the local maximum near
# (-0.2708, -0.9230); anisotropic and booth are quadratics, on which ascent
# grows at a bounded exponential rate.
from golden_surfaces import STARTS, SURFACES  # noqa: E402

# Learning rates per surface and optimizer class (as spec text, written as is):
#   sgd   plain gradient steps (gd, sgd without momentum, asgd)
#   mom   heavy-ball / Nesterov steps with momentum 0.5-0.9
#   max   gradient ascent (maximize=true) of sgd: growth per step at most ~2%
#   ada   Adam family, Adamax
#   rad   RAdam: as `ada`, except on rosenbrock, where RAdam's first
#         (unrectified, rho_t <= 5) steps are lr * m_hat with |grad| ~ 200
#   agd   Adagrad
#   rms   RMSprop without momentum
#   rmsm  RMSprop with momentum
#   rp    Rprop's initial step size
LRS = {
    "rosenbrock": dict(sgd="0.0005", mom="0.0001", max=None, ada="0.02", rad="0.0005", agd="0.5", rms="0.005", rmsm="0.001", rp="0.001"),
    "booth": dict(sgd="0.01", mom="0.005", max="0.001", ada="0.1", rad="0.1", agd="1", rms="0.02", rmsm="0.005", rp="0.1"),
    "himmelblau": dict(sgd="0.005", mom="0.002", max="0.005", ada="0.05", rad="0.05", agd="0.5", rms="0.01", rmsm="0.002", rp="0.05"),
    "anisotropic": dict(sgd="0.1", mom="0.02", max="0.01", ada="0.1", rad="0.1", agd="1", rms="0.05", rmsm="0.01", rp="0.1"),
    "quartic": dict(sgd="0.01", mom="0.005", max=None, ada="0.05", rad="0.05", agd="0.5", rms="0.01", rmsm="0.002", rp="0.05"),
    "beale": dict(sgd="0.003", mom="0.001", max=None, ada="0.02", rad="0.02", agd="0.2", rms="0.005", rmsm="0.001", rp="0.01"),
}

# Surface groups: every case runs on three surfaces.  Combinations whose
# trajectories are chaotic (adaptive steps at the edge of stability in a
# narrow valley, e.g. Adadelta or centered RMSprop with alpha 0.9 on
# rosenbrock/beale, Adam with beta1 0.5, beta2 0.9 near any minimum) fail the
# sensitivity check and are avoided by the choice of group.
A = ("rosenbrock", "booth", "quartic")
B = ("himmelblau", "anisotropic", "beale")
C = ("rosenbrock", "himmelblau", "anisotropic")
D = ("booth", "quartic", "beale")
E = ("rosenbrock", "himmelblau", "beale")
F = ("booth", "anisotropic", "quartic")
G = ("booth", "himmelblau", "quartic")
H = ("rosenbrock", "anisotropic", "beale")
# maximize=true: on the quadratics ascent grows at a bounded exponential rate;
# from himmelblau's start it climbs to the local maximum.
M = ("anisotropic", "booth", "himmelblau")
DEFAULT_LR_OK = ("booth", "himmelblau", "beale")  # SGD's default lr 1e-3 is stable here

# (spec template, lr class or None, surfaces).  `{lr}` is replaced by LRS[surface][class].
TEMPLATES = [
    # learning-notes presets
    ("gd:lr={lr}", "sgd", A),
    ("momentum:lr={lr}", "mom", B),
    ("nag:lr={lr}", "mom", A),
    ("nag:lr={lr},momentum=0.5", "mom", B),
    # torch.optim.SGD
    ("sgd", None, DEFAULT_LR_OK),
    ("sgd:lr={lr},momentum=0.9,nesterov=true", "mom", D),
    ("sgd:lr={lr},momentum=0.9,dampening=0.5", "mom", B),
    ("sgd:lr={lr},momentum=0.8,weight_decay=0.05", "mom", A),
    ("sgd:lr={lr},maximize=true", "max", M),
    # Adagrad
    ("adagrad", None, D),
    ("adagrad:lr={lr},lr_decay=0.01", "agd", A),
    ("adagrad:lr={lr},initial_accumulator_value=0.5,weight_decay=0.1,eps=1e-6", "agd", C),
    # RMSprop
    ("rmsprop:lr={lr}", "rms", D),
    ("rmsprop:lr={lr},centered=true", "rms", A),
    ("rmsprop:lr={lr},momentum=0.9", "rmsm", B),
    ("rmsprop:lr={lr},alpha=0.9,eps=1e-6,weight_decay=0.01", "rms", G),
    ("rmsprop:lr={lr},alpha=0.95,centered=true,momentum=0.5,weight_decay=0.01", "rmsm", H),
    # Adadelta (its lr is a plain multiplier; default 1)
    ("adadelta", None, M),
    ("adadelta:lr=0.3,rho=0.95,eps=1e-4", None, F),
    ("adadelta:lr=0.5,weight_decay=0.1", None, E),
    # Adam
    ("adam", None, D),
    ("adam:lr={lr},amsgrad=true", "ada", A),
    ("adam:lr={lr},weight_decay=0.1", "ada", C),
    ("adam:lr={lr},beta1=0.8,beta2=0.99,eps=1e-6,weight_decay=0.1,decoupled_weight_decay=true", "ada", D),
    ("adam:lr={lr},maximize=true", "ada", M),
    # AdamW (default weight_decay 0.01)
    ("adamw:lr={lr}", "ada", A),
    ("adamw:lr={lr},weight_decay=0.1,amsgrad=true", "ada", B),
    # NAdam
    ("nadam:lr={lr}", "ada", C),
    ("nadam:lr={lr},momentum_decay=0.01", "ada", D),
    ("nadam:lr={lr},weight_decay=0.1", "ada", A),
    ("nadam:lr={lr},weight_decay=0.1,decoupled_weight_decay=true", "ada", B),
    # RAdam
    ("radam:lr={lr}", "rad", A),
    ("radam:lr={lr},weight_decay=0.1", "rad", B),
    ("radam:lr={lr},beta1=0.8,beta2=0.99,weight_decay=0.1,decoupled_weight_decay=true", "rad", M),
    # Adamax
    ("adamax", None, C),
    ("adamax:lr={lr},weight_decay=0.1", "ada", A),
    ("adamax:lr={lr},beta1=0.8,beta2=0.99,eps=1e-6", "ada", B),
    # Rprop
    ("rprop", None, D),
    ("rprop:lr={lr},eta_minus=0.3,eta_plus=1.5", "rp", A),
    ("rprop:lr={lr},step_min=1e-4,step_max=0.5", "rp", E),
    # ASGD (default t0 1e6: averaging never starts; t0=10 exercises it)
    ("asgd:lr={lr}", "sgd", C),
    ("asgd:lr={lr},lambd=0.01,alpha=0.5,t0=10", "sgd", A),
    ("asgd:lr={lr},weight_decay=0.1,t0=10", "sgd", B),
]

# ---------------------------------------------------------------------------
# Spec grammar -> torch optimizer.

TORCH_CLASSES = {
    "sgd": torch.optim.SGD,
    "adagrad": torch.optim.Adagrad,
    "rmsprop": torch.optim.RMSprop,
    "adadelta": torch.optim.Adadelta,
    "adam": torch.optim.Adam,
    "adamw": torch.optim.AdamW,
    "nadam": torch.optim.NAdam,
    "radam": torch.optim.RAdam,
    "adamax": torch.optim.Adamax,
    "rprop": torch.optim.Rprop,
    "asgd": torch.optim.ASGD,
}
# Split tuple arguments: spec key -> (torch keyword, index).
TUPLE_KEYS = {
    "beta1": ("betas", 0),
    "beta2": ("betas", 1),
    "eta_minus": ("etas", 0),
    "eta_plus": ("etas", 1),
    "step_min": ("step_sizes", 0),
    "step_max": ("step_sizes", 1),
}
# Keywords that are never part of a spec: they select other code paths.
EXCLUDED = {"params", "self", "foreach", "fused", "capturable", "differentiable"}
# Presets from the learning notes: torch class, fixed keywords, allowed keys.
PRESETS = {
    "gd": ("sgd", {"momentum": 0.0}, {"lr", "weight_decay", "maximize"}),
    "momentum": ("sgd", {"momentum": 0.9}, {"lr", "momentum", "weight_decay", "maximize"}),
}


def parse_spec(spec):
    name, _, rest = spec.partition(":")
    args = {}
    if rest:
        for part in rest.split(","):
            key, eq, value = part.partition("=")
            assert eq and key and value and key not in args, f"bad spec {spec!r}"
            args[key] = value
    return name, args


def parse_value(text, default):
    if isinstance(default, bool):
        assert text in ("true", "false"), text
        return text == "true"
    return float(text)


def torch_keywords(name):
    """Keyword -> default of a torch.optim constructor, without the excluded ones."""
    sig = inspect.signature(TORCH_CLASSES[name].__init__)
    return {k: p.default for k, p in sig.parameters.items() if k not in EXCLUDED}


def build_torch(spec, param):
    name, args = parse_spec(spec)
    fixed = {}
    allowed = None
    if name in PRESETS:
        name, fixed, allowed = PRESETS[name]
        fixed = dict(fixed)
    defaults = torch_keywords(name)
    kwargs = dict(fixed)
    for key, text in args.items():
        assert allowed is None or key in allowed, f"{key} not allowed in {spec!r}"
        if key in TUPLE_KEYS:
            kw, idx = TUPLE_KEYS[key]
            assert kw in defaults, f"{key} not a key of {name}"
            pair = list(kwargs.get(kw, defaults[kw]))
            pair[idx] = float(text)
            kwargs[kw] = tuple(pair)
        else:
            assert key in defaults, f"{key} not a key of {name} ({sorted(defaults)})"
            kwargs[key] = parse_value(text, defaults[key])
    return TORCH_CLASSES[name]([param], foreach=False, **kwargs)


# ---------------------------------------------------------------------------
# Runs.


def evaluate(surface, x, y):
    f = SURFACES[surface][1]
    return float(f(torch.tensor(x), torch.tensor(y)))


def gradient(surface, x, y):
    p = torch.tensor([x, y], requires_grad=True)
    SURFACES[surface][1](p[0], p[1]).backward()
    return p.grad.tolist()


def run(surface, spec, noise=None):
    """Points [(x, y, loss)] for steps 0..=STEPS.  `noise`: a random.Random that
    perturbs the parameters after each update (for the sensitivity check)."""
    f = SURFACES[surface][1]
    start = STARTS[surface]
    rows = [(start[0], start[1], evaluate(surface, *start))]

    def jitter(values):
        return [v * (1 + noise.choice((-1.0, 1.0)) * 2.0**-52) for v in values]

    name, args = parse_spec(spec)
    if name == "nag":
        assert set(args) <= {"lr", "momentum"}, spec
        lr = float(args.get("lr", "0.001"))
        mu = float(args.get("momentum", "0.9"))
        theta = list(start)
        v = [0.0, 0.0]
        for _ in range(STEPS):
            ahead = [theta[i] + mu * v[i] for i in range(2)]
            g = gradient(surface, *ahead)
            v = [mu * v[i] - lr * g[i] for i in range(2)]
            theta = [theta[i] + v[i] for i in range(2)]
            if noise is not None:
                theta = jitter(theta)
            rows.append((theta[0], theta[1], evaluate(surface, *theta)))
        return rows

    p = torch.tensor(list(start), requires_grad=True)
    opt = build_torch(spec, p)
    for _ in range(STEPS):
        opt.zero_grad()
        loss = f(p[0], p[1])
        loss.backward()
        opt.step()
        if noise is not None:
            with torch.no_grad():
                p.copy_(torch.tensor(jitter(p.tolist())))
        x, y = p.tolist()
        rows.append((x, y, evaluate(surface, x, y)))
    return rows


def deviation(rows, reference):
    worst = 0.0
    for a_row, b_row in zip(rows, reference):
        for a, b in zip(a_row, b_row):
            worst = max(worst, abs(a - b) / max(abs(b), REL_FLOOR))
    return worst


def cases():
    """{surface: [spec, ...]} in template order."""
    out = {s: [] for s in SURFACES}
    for template, lr_class, surfaces in TEMPLATES:
        for s in surfaces:
            if lr_class:
                assert LRS[s][lr_class], f"no {lr_class} lr for {s}"
                spec = template.format(lr=LRS[s][lr_class])
            else:
                spec = template
            assert spec not in out[s], f"duplicate {spec} on {s}"
            out[s].append(spec)
    return out


def csv_text(rows_by_spec):
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["optimizer", "step", "x", "y", "loss"])
    for spec, rows in rows_by_spec:
        for k, (x, y, loss) in enumerate(rows):
            w.writerow([spec, k, repr(x), repr(y), repr(loss)])
    return buf.getvalue()


def main():
    check_only = "--check" in sys.argv[1:]
    all_cases = cases()
    files = {}
    problems = []
    for surface, specs in all_cases.items():
        rows_by_spec = []
        for i, spec in enumerate(specs):
            rows = run(surface, spec)
            finite = all(math.isfinite(v) for row in rows for v in row)
            if not finite:
                problems.append(f"{surface} {spec}: not finite")
            elif max(max(abs(r[0]), abs(r[1])) for r in rows) > MAX_COORD:
                problems.append(f"{surface} {spec}: leaves |x|, |y| <= {MAX_COORD:g}")
            # a fixed seed per case keeps the check deterministic
            sens = deviation(run(surface, spec, noise=random.Random(f"{surface}|{spec}")), rows)
            if not sens < SENSITIVITY_LIMIT:
                problems.append(f"{surface} {spec}: sensitivity {sens:.3g}")
            last = rows[-1]
            print(
                f"{surface:12s} {spec:90s} sens={sens:8.2e} end=({last[0]:.6g}, {last[1]:.6g}) "
                f"loss={last[2]:.6g} max|x,y|={max(max(abs(r[0]), abs(r[1])) for r in rows):.3g}",
                file=sys.stderr,
            )
            rows_by_spec.append((spec, rows))
        files[f"{surface}.csv"] = csv_text(rows_by_spec)
    if problems:
        print("\n".join(["problems:"] + problems), file=sys.stderr)
        sys.exit(1)
    if check_only:
        print("check passed; nothing written", file=sys.stderr)
        return

    meta = {
        "generator": "scripts/golden_optim.py",
        "command": COMMAND,
        "generated": None,
        "torch_version": torch.__version__,
        "python_version": platform.python_version(),
        "numpy_version": numpy.__version__,
        "dtype": "float64",
        "code_path": "torch.optim single-tensor (foreach=False; not fused, capturable or differentiable)",
        "csv_header": "optimizer,step,x,y,loss",
        "loss": "f at the point after `step` updates (step 0: the start)",
        "nag": "v <- mu*v - lr*grad f(theta + mu*v); theta <- theta + v (plain floats, torch autograd gradient)",
        "sensitivity_limit": SENSITIVITY_LIMIT,
        "surfaces": {
            s: {
                "formula": SURFACES[s][0],
                "start": list(STARTS[s]),
                "steps": STEPS,
                "file": f"{s}.csv",
                "cases": all_cases[s],
            }
            for s in SURFACES
        },
    }
    OUT_DIR.mkdir(parents=True, exist_ok=True)
    old_path = OUT_DIR / "cases.json"
    unchanged = all((OUT_DIR / n).exists() and (OUT_DIR / n).read_text() == t for n, t in files.items())
    date = datetime.date.today().isoformat()
    if unchanged and old_path.exists():
        old = json.loads(old_path.read_text())
        if {k: v for k, v in old.items() if k != "generated"} == {k: v for k, v in meta.items() if k != "generated"}:
            date = old.get("generated", date)
    meta["generated"] = date
    for name, text in files.items():
        (OUT_DIR / name).write_text(text)
    old_path.write_text(json.dumps(meta, indent=2) + "\n")
    total = sum((OUT_DIR / n).stat().st_size for n in list(files) + ["cases.json"])
    n_traj = sum(len(v) for v in all_cases.values())
    print(f"wrote {len(files)} CSV files + cases.json to {OUT_DIR} ({n_traj} trajectories, {total} bytes)", file=sys.stderr)


if __name__ == "__main__":
    main()
