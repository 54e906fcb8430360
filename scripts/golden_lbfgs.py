#!/usr/bin/env python3
"""Golden trajectories of torch.optim.LBFGS, for
`crates/downhill-optim/tests/lbfgs_golden.rs`.

Every case is a downhill spec (`lbfgs[:key=value,...]`; keys are the
constructor's keyword names; `line_search_fn=none` is None and `max_eval=0`
is None, i.e. max_iter*5//4) run in float64 on a surface from its start for
a few steps; one step is one `optimizer.step(closure)` (up to max_iter inner
iterations). The closure computes the loss and writes the gradient with the
explicit formulas below (not autograd), which the Rust test repeats term for
term, so the two sides differ only inside the optimizer (dot and sum
order, fused multiply-adds in PyTorch's vector kernels).

Surfaces: the 2-D surfaces of scripts/golden_modern.py (rosenbrock, booth,
himmelblau, anisotropic, quartic, beale), `neg-booth` (-booth, for
maximize=true), and two of 20 dimensions where the history matters:
`quadratic20` (1/2 x'Ax - b'x with A tridiagonal, A_ii = i + 1, A_i,i+1 =
1/2, b_i = 1) and `rosenbrock20` (the extended Rosenbrock function,
sum over pairs of 100 (x_2i+1 - x_2i^2)^2 + (1 - x_2i)^2).

Case selection: the cases below were chosen to cover both line_search_fn
values, history sizes from 1 (the ring overwritten every iteration) to 100
(never full), max_iter from 1 to 20, an explicit max_eval, raised
tolerances (early exits), maximize, and steps that carry the history and t
into the next step. A case is kept only if it is finite and not chaotic:
re-run from the start perturbed by a relative PERTURBATION (signs
alternating, both patterns), every point must stay within SENSITIVITY_LIMIT
of the original, as |a - b| / max(|b|, 1e-3) (the test's tolerance form),
and every step must take the same number of evaluations. Rejected cases are
printed and listed in cases.json.

Output: tests/golden/lbfgs/cases.json with, per case, the spec, surface,
start, and per step the point after it, the loss step() returned, and the
state's func_evals and n_iter; plus the versions of python and torch.
Numbers are repr(float) (shortest round trip). Deterministic.

Usage: python3 scripts/golden_lbfgs.py [--check]   (--check: write nothing)
"""

import json
import platform
import sys
from pathlib import Path

import torch

torch.set_default_dtype(torch.float64)
torch.set_num_threads(1)

PERTURBATION = 1e-12
SENSITIVITY_LIMIT = 1e-9
REL_FLOOR = 1e-3
ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "tests" / "golden" / "lbfgs" / "cases.json"


def rosenbrock(v):
    x, y = v
    a, b = 1 - x, y - x * x
    return a * a + 100 * (b * b), [-2 * a - 400 * x * b, 200 * b]


def booth(v):
    x, y = v
    a, b = x + 2 * y - 7, 2 * x + y - 5
    return a * a + b * b, [2 * a + 4 * b, 4 * a + 2 * b]


def neg_booth(v):
    f, g = booth(v)
    return -f, [-g[0], -g[1]]


def himmelblau(v):
    x, y = v
    a, b = x * x + y - 11, x + y * y - 7
    return a * a + b * b, [4 * x * a + 2 * b, 2 * a + 4 * y * b]


def anisotropic(v):
    x, y = v
    return x * x / 20 + y * y, [x / 10, 2 * y]


def quartic(v):
    x, y = v
    x2 = x * x
    return x2 * x2 + 2 * (x2 * x) + y * y - 1, [4 * (x2 * x) + 6 * x2, 2 * y]


def beale(v):
    x, y = v
    y2 = y * y
    y3 = y2 * y
    a = 1.5 - x + x * y
    b = 2.25 - x + x * y2
    c = 2.625 - x + x * y3
    f = a * a + b * b + c * c
    gx = 2 * a * (y - 1) + 2 * b * (y2 - 1) + 2 * c * (y3 - 1)
    gy = 2 * a * x + 2 * b * 2 * x * y + 2 * c * 3 * x * y2
    return f, [gx, gy]


def quadratic20(v):
    n = len(v)
    f = 0.0
    g = [0.0] * n
    for i in range(n):
        ax = (i + 1) * v[i]
        if i > 0:
            ax += 0.5 * v[i - 1]
        if i + 1 < n:
            ax += 0.5 * v[i + 1]
        f += 0.5 * (v[i] * ax) - v[i]
        g[i] = ax - 1
    return f, g


def rosenbrock20(v):
    f = 0.0
    g = [0.0] * len(v)
    for i in range(0, len(v), 2):
        x, y = v[i], v[i + 1]
        a, b = 1 - x, y - x * x
        f += a * a + 100 * (b * b)
        g[i] = -2 * a - 400 * x * b
        g[i + 1] = 200 * b
    return f, g


SURFACES = {
    "rosenbrock": (rosenbrock, [-1.2, 1.0]),
    "booth": (booth, [-5.0, -2.0]),
    "neg-booth": (neg_booth, [-5.0, -2.0]),
    "himmelblau": (himmelblau, [0.3, 0.2]),
    "anisotropic": (anisotropic, [-7.0, 2.0]),
    "quartic": (quartic, [1.0, -0.5]),
    "beale": (beale, [1.0, -0.5]),
    "quadratic20": (quadratic20, [((-1) ** i) * (1 + 0.1 * i) for i in range(20)]),
    "rosenbrock20": (rosenbrock20, [-1.2 if i % 2 == 0 else 1.0 for i in range(20)]),
}

W = "line_search_fn=strong_wolfe"
CASES = [
    # (spec, surface, steps)
    (f"lbfgs:{W}", "rosenbrock", 3),
    (f"lbfgs:{W},max_iter=4", "rosenbrock", 8),
    (f"lbfgs:{W},max_iter=3,history_size=2", "rosenbrock", 10),
    (f"lbfgs:{W},max_iter=5", "booth", 3),
    (f"lbfgs:{W},max_iter=3,history_size=1", "himmelblau", 6),
    (f"lbfgs:{W},max_iter=2", "beale", 10),
    (f"lbfgs:{W},max_iter=4,lr=0.5", "anisotropic", 4),
    (f"lbfgs:{W},max_iter=3", "quartic", 5),
    (f"lbfgs:{W},max_iter=1", "rosenbrock", 12),
    (f"lbfgs:{W},max_iter=6,max_eval=8", "beale", 6),
    (f"lbfgs:{W},max_iter=5,tolerance_grad=1e-3,tolerance_change=1e-5", "himmelblau", 4),
    (f"lbfgs:{W},max_iter=4,maximize=true", "neg-booth", 3),
    ("lbfgs:lr=0.1,max_iter=5", "booth", 6),
    ("lbfgs:lr=0.05,max_iter=4,history_size=2", "himmelblau", 8),
    ("lbfgs:lr=0.5,max_iter=3,history_size=1", "anisotropic", 6),
    ("lbfgs:lr=0.2,max_iter=5", "quartic", 5),
    ("lbfgs:lr=0.02,max_iter=1", "beale", 12),
    ("lbfgs:lr=0.002,max_iter=10,history_size=5", "rosenbrock", 6),
    ("lbfgs:lr=0.1,max_iter=6,max_eval=4", "booth", 5),
    ("lbfgs:lr=0.1,max_iter=20,tolerance_change=1e-4", "booth", 3),
    ("lbfgs:lr=0.1,max_iter=5,maximize=true", "neg-booth", 4),
    (f"lbfgs:{W},max_iter=10,history_size=5", "quadratic20", 4),
    (f"lbfgs:{W},max_iter=15,history_size=3", "rosenbrock20", 5),
    (f"lbfgs:{W},max_iter=8", "rosenbrock20", 6),
    ("lbfgs:lr=0.1,max_iter=6,history_size=4", "quadratic20", 5),
    ("lbfgs:lr=0.001,max_iter=8,history_size=6", "rosenbrock20", 4),
]


def parse(spec):
    kwargs = {}
    _, _, rest = spec.partition(":")
    for item in filter(None, rest.split(",")):
        key, value = item.split("=")
        if key == "line_search_fn":
            kwargs[key] = None if value == "none" else value
        elif key in ("max_iter", "history_size"):
            kwargs[key] = int(value)
        elif key == "max_eval":
            kwargs[key] = None if value == "0" else int(value)
        elif key == "maximize":
            kwargs[key] = value == "true"
        else:
            kwargs[key] = float(value)
    return kwargs


def run(spec, surface, steps, start):
    fn, _ = SURFACES[surface]
    p = torch.tensor(start, dtype=torch.float64, requires_grad=True)
    opt = torch.optim.LBFGS([p], **parse(spec))

    def closure():
        with torch.no_grad():
            f, g = fn(p.tolist())
            p.grad = torch.tensor(g, dtype=torch.float64)
        return f

    out = []
    for _ in range(steps):
        loss = opt.step(closure)
        state = opt.state[p]
        out.append(
            dict(
                point=p.tolist(),
                loss=float(loss),
                func_evals=state["func_evals"],
                n_iter=state["n_iter"],
            )
        )
    return out


def deviation(a, b):
    return max(
        abs(x - y) / max(abs(y), REL_FLOOR)
        for sa, sb in zip(a, b)
        for x, y in zip(sa["point"], sb["point"])
    )


def main():
    check = "--check" in sys.argv
    cases, rejected = [], []
    for spec, surface, steps in CASES:
        start = SURFACES[surface][1]
        steps_out = run(spec, surface, steps, start)
        reason = None
        values = [x for s in steps_out for x in s["point"] + [s["loss"]]]
        if not all(abs(x) < float("inf") for x in values):
            reason = "not finite"
        for sign in (1, -1):
            if reason:
                break
            moved = [
                x * (1 + sign * (-1) ** i * PERTURBATION) for i, x in enumerate(start)
            ]
            other = run(spec, surface, steps, moved)
            worst = deviation(other, steps_out)
            evals = [s["func_evals"] for s in other] != [s["func_evals"] for s in steps_out]
            if worst > SENSITIVITY_LIMIT or evals:
                reason = f"chaotic: perturbed start moved by {worst:.3g}, evals differ: {evals}"
        if reason:
            print(f"rejected {spec} on {surface}: {reason}")
            rejected.append(dict(spec=spec, surface=surface, reason=reason))
            continue
        cases.append(dict(spec=spec, surface=surface, start=start, steps=steps_out))
    doc = dict(
        generator="python3 scripts/golden_lbfgs.py",
        versions=dict(python=platform.python_version(), torch=torch.__version__),
        cases=cases,
        rejected=rejected,
    )
    text = json.dumps(doc, indent=1) + "\n"
    print(f"{len(cases)} cases kept, {len(rejected)} rejected")
    if check:
        same = OUT.exists() and OUT.read_text() == text
        print("up to date" if same else "differs")
        sys.exit(0 if same else 1)
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(text)


if __name__ == "__main__":
    main()
