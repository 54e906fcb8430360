#!/usr/bin/env python3
"""Independent check of tests/golden/optim: every case re-run in plain Python
floats (no torch), with hand-written gradients, following the operation order
of torch.optim's `_single_tensor_*` functions.  This is what a Rust
implementation does, so the deviations printed here show how much room the
parity test's tolerance (|a - b| <= 1e-9 * max(|b|, 1e-3)) leaves.

Usage: python3 scripts/golden_optim_reference.py   (exit status 1 if any case exceeds 1e-9)
"""

import csv
import json
import math
import sys
from pathlib import Path

GOLDEN = Path(__file__).resolve().parent.parent / "tests" / "golden" / "optim"
TOL = 1e-9
FLOOR = 1e-3


def surface(name):
    """(f, grad) in plain floats."""
    if name == "rosenbrock":
        return (lambda x, y: (1 - x) ** 2 + 100 * (y - x * x) ** 2,
                lambda x, y: (-2 * (1 - x) - 400 * x * (y - x * x), 200 * (y - x * x)))
    if name == "booth":
        def g(x, y):
            a, b = x + 2 * y - 7, 2 * x + y - 5
            return (2 * a + 4 * b, 4 * a + 2 * b)
        return (lambda x, y: (x + 2 * y - 7) ** 2 + (2 * x + y - 5) ** 2, g)
    if name == "himmelblau":
        def g(x, y):
            a, b = x * x + y - 11, x + y * y - 7
            return (4 * x * a + 2 * b, 2 * a + 4 * y * b)
        return (lambda x, y: (x * x + y - 11) ** 2 + (x + y * y - 7) ** 2, g)
    if name == "anisotropic":
        return (lambda x, y: x * x / 20 + y * y, lambda x, y: (x / 10, 2 * y))
    if name == "quartic":
        return (lambda x, y: x**4 + 2 * x**3 + y * y - 1, lambda x, y: (4 * x**3 + 6 * x * x, 2 * y))
    if name == "beale":
        def f(x, y):
            return (1.5 - x + x * y) ** 2 + (2.25 - x + x * y * y) ** 2 + (2.625 - x + x * y**3) ** 2

        def g(x, y):
            t1, t2, t3 = 1.5 - x + x * y, 2.25 - x + x * y * y, 2.625 - x + x * y**3
            return (2 * t1 * (y - 1) + 2 * t2 * (y * y - 1) + 2 * t3 * (y**3 - 1),
                    2 * t1 * x + 2 * t2 * 2 * x * y + 2 * t3 * 3 * x * y * y)
        return (f, g)
    raise KeyError(name)


def lerp(a, b, w):
    # ATen's scalar lerp
    return a + w * (b - a) if abs(w) < 0.5 else b - (b - a) * (1 - w)


def sign(v):
    return (v > 0) - (v < 0)


DEFAULTS = {
    "gd": dict(lr=None, weight_decay=0.0, maximize=False, momentum=0.0, dampening=0.0, nesterov=False),
    "momentum": dict(lr=None, weight_decay=0.0, maximize=False, momentum=0.9, dampening=0.0, nesterov=False),
    "nag": dict(lr=1e-3, momentum=0.9),
    "sgd": dict(lr=1e-3, momentum=0.0, dampening=0.0, weight_decay=0.0, nesterov=False, maximize=False),
    "adagrad": dict(lr=1e-2, lr_decay=0.0, weight_decay=0.0, initial_accumulator_value=0.0, eps=1e-10, maximize=False),
    "rmsprop": dict(lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0.0, momentum=0.0, centered=False, maximize=False),
    "adadelta": dict(lr=1.0, rho=0.9, eps=1e-6, weight_decay=0.0, maximize=False),
    "adam": dict(lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8, weight_decay=0.0, amsgrad=False, maximize=False,
                 decoupled_weight_decay=False),
    "adamw": dict(lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8, weight_decay=1e-2, amsgrad=False, maximize=False,
                  decoupled_weight_decay=True),
    "nadam": dict(lr=2e-3, beta1=0.9, beta2=0.999, eps=1e-8, weight_decay=0.0, momentum_decay=4e-3,
                  decoupled_weight_decay=False, maximize=False),
    "radam": dict(lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8, weight_decay=0.0, decoupled_weight_decay=False,
                  maximize=False),
    "adamax": dict(lr=2e-3, beta1=0.9, beta2=0.999, eps=1e-8, weight_decay=0.0, maximize=False),
    "rprop": dict(lr=1e-2, eta_minus=0.5, eta_plus=1.2, step_min=1e-6, step_max=50.0, maximize=False),
    "asgd": dict(lr=1e-2, lambd=1e-4, alpha=0.75, t0=1e6, weight_decay=0.0, maximize=False),
}


def parse(spec):
    name, _, rest = spec.partition(":")
    h = dict(DEFAULTS[name])
    for part in rest.split(",") if rest else []:
        k, _, v = part.partition("=")
        assert k in h, (spec, k)
        h[k] = (v == "true") if v in ("true", "false") else float(v)
    return name, h


def trajectory(surf, spec, start, steps):
    f, grad = surface(surf)
    name, h = parse(spec)
    p = list(start)
    rows = [(p[0], p[1], f(*p))]
    n = len(p)
    z = [0.0] * n
    st = dict(step=0, buf=None, s1=list(z), s2=list(z), s3=list(z), mu_product=1.0, eta=h["lr"], mu=1.0)
    if name == "adagrad":
        st["s1"] = [h["initial_accumulator_value"]] * n
    if name == "rprop":
        st["s2"] = [h["lr"]] * n
    for _ in range(steps):
        if name == "nag":
            ahead = [p[i] + h["momentum"] * st["s1"][i] for i in range(n)]
            g = grad(*ahead)
            for i in range(n):
                st["s1"][i] = st["s1"][i] * h["momentum"] - h["lr"] * g[i]
                p[i] = p[i] + st["s1"][i]
            rows.append((p[0], p[1], f(*p)))
            continue
        g = list(grad(*p))
        if h.get("maximize"):
            g = [-v for v in g]
        st["step"] += 1
        t = st["step"]
        lr = h["lr"]
        wd = h.get("weight_decay", 0.0)
        decoupled = h.get("decoupled_weight_decay", False)
        if wd != 0 and name in ("adam", "adamw", "nadam", "radam") and decoupled:
            p = [v * (1 - lr * wd) for v in p]
        elif wd != 0:
            g = [g[i] + wd * p[i] for i in range(n)]
        if name in ("gd", "momentum", "sgd"):
            mom = h["momentum"]
            if mom != 0:
                if st["buf"] is None:
                    st["buf"] = list(g)
                else:
                    st["buf"] = [st["buf"][i] * mom + (1 - h["dampening"]) * g[i] for i in range(n)]
                g = [g[i] + mom * st["buf"][i] for i in range(n)] if h["nesterov"] else list(st["buf"])
            p = [p[i] + (-lr) * g[i] for i in range(n)]
        elif name == "adagrad":
            clr = lr / (1 + (t - 1) * h["lr_decay"])
            for i in range(n):
                st["s1"][i] = st["s1"][i] + g[i] * g[i]
                std = math.sqrt(st["s1"][i]) + h["eps"]
                p[i] = p[i] + (-clr) * (g[i] / std)
        elif name == "rmsprop":
            a = h["alpha"]
            for i in range(n):
                st["s1"][i] = st["s1"][i] * a + (1 - a) * g[i] * g[i]
                if h["centered"]:
                    st["s2"][i] = lerp(st["s2"][i], g[i], 1 - a)
                    avg = math.sqrt(st["s1"][i] + (-1) * st["s2"][i] * st["s2"][i])
                else:
                    avg = math.sqrt(st["s1"][i])
                avg = avg + h["eps"]
                if h["momentum"] > 0:
                    st["s3"][i] = st["s3"][i] * h["momentum"] + g[i] / avg
                    p[i] = p[i] + (-lr) * st["s3"][i]
                else:
                    p[i] = p[i] + (-lr) * (g[i] / avg)
        elif name == "adadelta":
            rho, eps = h["rho"], h["eps"]
            for i in range(n):
                st["s1"][i] = st["s1"][i] * rho + (1 - rho) * g[i] * g[i]
                std = math.sqrt(st["s1"][i] + eps)
                delta = math.sqrt(st["s2"][i] + eps) / std * g[i]
                st["s2"][i] = st["s2"][i] * rho + (1 - rho) * delta * delta
                p[i] = p[i] + (-lr) * delta
        elif name in ("adam", "adamw"):
            b1, b2 = h["beta1"], h["beta2"]
            bc1 = 1 - b1**t
            bc2 = 1 - b2**t
            step_size = lr / bc1
            bc2_sqrt = bc2**0.5
            for i in range(n):
                st["s1"][i] = lerp(st["s1"][i], g[i], 1 - b1)
                st["s2"][i] = st["s2"][i] * b2 + (1 - b2) * g[i] * g[i]
                if h["amsgrad"]:
                    st["s3"][i] = max(st["s3"][i], st["s2"][i])
                    denom = math.sqrt(st["s3"][i]) / bc2_sqrt + h["eps"]
                else:
                    denom = math.sqrt(st["s2"][i]) / bc2_sqrt + h["eps"]
                p[i] = p[i] + (-step_size) * (st["s1"][i] / denom)
        elif name == "nadam":
            b1, b2, md = h["beta1"], h["beta2"], h["momentum_decay"]
            bc2 = 1 - b2**t
            mu = b1 * (1.0 - 0.5 * (0.96 ** (t * md)))
            mu_next = b1 * (1.0 - 0.5 * (0.96 ** ((t + 1) * md)))
            st["mu_product"] *= mu
            mp = st["mu_product"]
            mp_next = mp * mu_next
            c1 = -lr * (1.0 - mu) / (1.0 - mp)
            c2 = (-lr * mu_next) / (1.0 - mp_next)
            for i in range(n):
                st["s1"][i] = lerp(st["s1"][i], g[i], 1 - b1)
                st["s2"][i] = st["s2"][i] * b2 + (1 - b2) * g[i] * g[i]
                denom = math.sqrt(st["s2"][i] / bc2) + h["eps"]
                p[i] = p[i] + c1 * (g[i] / denom)
                p[i] = p[i] + c2 * (st["s1"][i] / denom)
        elif name == "radam":
            b1, b2 = h["beta1"], h["beta2"]
            bc1 = 1 - b1**t
            bc2 = 1 - b2**t
            rho_inf = 2 / (1 - b2) - 1
            rho_t = rho_inf - 2 * t * (b2**t) / bc2
            for i in range(n):
                st["s1"][i] = lerp(st["s1"][i], g[i], 1 - b1)
                st["s2"][i] = st["s2"][i] * b2 + (1 - b2) * g[i] * g[i]
                m_hat = st["s1"][i] / bc1
                if rho_t > 5.0:
                    rect = ((rho_t - 4) * (rho_t - 2) * rho_inf / ((rho_inf - 4) * (rho_inf - 2) * rho_t)) ** 0.5
                    adaptive = (bc2**0.5) / (math.sqrt(st["s2"][i]) + h["eps"])
                    p[i] = p[i] + (-1.0) * (m_hat * lr * adaptive * rect)
                else:
                    p[i] = p[i] + (-1.0) * (m_hat * lr)
        elif name == "adamax":
            b1, b2 = h["beta1"], h["beta2"]
            clr = lr / (1 - b1**t)
            for i in range(n):
                st["s1"][i] = lerp(st["s1"][i], g[i], 1 - b1)
                st["s2"][i] = max(st["s2"][i] * b2, abs(g[i]) + h["eps"])
                p[i] = p[i] + (-clr) * (st["s1"][i] / st["s2"][i])
        elif name == "rprop":
            for i in range(n):
                s = sign(g[i] * st["s1"][i])
                factor = h["eta_plus"] if s > 0 else h["eta_minus"] if s < 0 else 1.0
                st["s2"][i] = min(max(st["s2"][i] * factor, h["step_min"]), h["step_max"])
                gi = 0.0 if factor == h["eta_minus"] else g[i]
                p[i] = p[i] + (-1) * sign(gi) * st["s2"][i]
                st["s1"][i] = gi
        elif name == "asgd":
            eta = st["eta"]
            p = [v * (1 - h["lambd"] * eta) for v in p]
            p = [p[i] + (-eta) * g[i] for i in range(n)]
            st["eta"] = lr / ((1 + h["lambd"] * lr * t) ** h["alpha"])
            st["mu"] = 1 / max(1, t - h["t0"])
        else:
            raise KeyError(name)
        rows.append((p[0], p[1], f(*p)))
    return rows


def main():
    meta = json.loads((GOLDEN / "cases.json").read_text())
    worst_by_name = {}
    failed = False
    for surf, info in meta["surfaces"].items():
        golden = {}
        with open(GOLDEN / info["file"], newline="") as fh:
            for r in csv.DictReader(fh):
                golden.setdefault(r["optimizer"], []).append((float(r["x"]), float(r["y"]), float(r["loss"])))
        for spec in info["cases"]:
            ours = trajectory(surf, spec, info["start"], info["steps"])
            worst = 0.0
            for a_row, b_row in zip(ours, golden[spec], strict=True):
                for a, b in zip(a_row, b_row):
                    worst = max(worst, abs(a - b) / max(abs(b), FLOOR))
            name = spec.partition(":")[0]
            worst_by_name[name] = max(worst_by_name.get(name, 0.0), worst)
            flag = "  FAIL" if worst > TOL else ""
            failed |= worst > TOL
            print(f"{surf:12s} {spec:80s} {worst:9.2e}{flag}")
    print()
    for name, w in sorted(worst_by_name.items()):
        print(f"{name:10s} worst {w:.2e}")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
