#!/usr/bin/env python3
"""Golden learning-rate sequences from PyTorch, for `crates/downhill/tests/schedule_golden.rs`.

Every case is a downhill schedule spec (`NAME[:key=value,...]`, PyTorch's
keyword names in lower case; composites take `schedulers=[spec;spec;...]`),
turned into the `torch.optim.lr_scheduler` object it names by the small
parser below, attached to a one-parameter float64 optimizer (SGD with
momentum 0.9, or Adam where the case says so) whose lr is the case's base lr.
For k = 0..steps-1 it records `param_groups[0]['lr']` (and, for schedules
that cycle momentum, `momentum` or `betas[0]`) before the k-th
`optimizer.step()`, then calls `scheduler.step()` (`scheduler.step(metric_k)`
for ReduceLROnPlateau, metric_k being the case's k-th metric).

Output: tests/golden/schedules/schedules.json with the torch and Python
versions, the command, and per case: spec, base_lr, optimizer, steps,
metrics (or null), lr, momentum (or null). Numbers are repr(float), the
shortest round trip. Deterministic: re-running writes identical bytes.

Usage: python3 scripts/golden_schedules.py [--check]   (--check: compare, write nothing)
"""

import json
import math
import platform
import sys
import warnings
from pathlib import Path

import torch
import torch.optim.lr_scheduler as S

torch.set_default_dtype(torch.float64)
OUT = Path(__file__).resolve().parent.parent / "tests" / "golden" / "schedules" / "schedules.json"

CLASSES = {
    "constant": S.ConstantLR,
    "linear": S.LinearLR,
    "step": S.StepLR,
    "multistep": S.MultiStepLR,
    "exponential": S.ExponentialLR,
    "polynomial": S.PolynomialLR,
    "cosine": S.CosineAnnealingLR,
    "cosine-restarts": S.CosineAnnealingWarmRestarts,
    "cyclic": S.CyclicLR,
    "onecycle": S.OneCycleLR,
    "multiplicative": S.MultiplicativeLR,
    "plateau": S.ReduceLROnPlateau,
    "swalr": torch.optim.swa_utils.SWALR,
}
# downhill's lower-case names of PyTorch's capitalised keywords
RENAMED = {"t_max": "T_max", "t_0": "T_0", "t_mult": "T_mult"}


def split_top_level(text, sep):
    parts, depth, start = [], 0, 0
    for i, c in enumerate(text):
        if c in "[(":
            depth += 1
        elif c in "])":
            depth -= 1
        elif c == sep and depth == 0:
            parts.append(text[start:i])
            start = i + 1
    parts.append(text[start:])
    return parts


def scalar(raw):
    if raw in ("true", "false"):
        return raw == "true"
    try:
        return int(raw)
    except ValueError:
        pass
    try:
        return float(raw)
    except ValueError:
        return raw


def build(spec, opt):
    name, _, rest = spec.partition(":")
    args = {}
    for part in split_top_level(rest, ",") if rest else []:
        key, _, raw = part.partition("=")
        args[key] = raw
    if name in ("sequential", "chained"):
        members = [build(m, opt) for m in split_top_level(args.pop("schedulers")[1:-1], ";")]
        if name == "chained":
            return S.ChainedScheduler(members, optimizer=opt)
        milestones = [int(m) for m in args.pop("milestones")[1:-1].split(",")]
        return S.SequentialLR(opt, members, milestones)
    kwargs = {}
    for key, raw in args.items():
        if raw.startswith("["):
            kwargs[key] = [int(x) for x in raw[1:-1].split(",") if x]
        else:
            kwargs[RENAMED.get(key, key)] = scalar(raw)
    if name == "multiplicative":
        factor = kwargs.pop("factor")
        kwargs["lr_lambda"] = lambda _t: factor
    if name == "cyclic" and kwargs.get("step_size_down") == 0:
        kwargs["step_size_down"] = None  # downhill's 0 is PyTorch's None
    for key in ("epochs", "steps_per_epoch", "total_steps"):
        if kwargs.get(key) == 0:
            del kwargs[key]
    return CLASSES[name](opt, **kwargs)


def metric_curve(n):
    """A loss that falls, stalls, wobbles and falls again: exercises patience and cooldown."""
    out = []
    for k in range(n):
        if k < 15:
            m = 1.0 / (1 + k)
        elif k < 40:
            m = 0.0625 + 0.001 * math.sin(k)
        elif k < 55:
            m = 0.0625 * 0.97 ** (k - 39)
        else:
            m = 0.04 + 0.0005 * ((k * 7) % 5)
        out.append(m)
    return out


def rising_curve(n):
    """An accuracy-like metric for mode=max."""
    return [min(0.9, 0.5 + 0.02 * k) + 0.01 * ((k * 3) % 4) for k in range(n)]


CASES = [
    ("swalr:swa_lr=0.01", 0.1, 20, "sgd", None),
    ("swalr:swa_lr=0.05,anneal_epochs=5,anneal_strategy=linear", 0.1, 12, "sgd", None),
    ("swalr:swa_lr=0.2,anneal_epochs=0", 0.1, 5, "adam", None),
    ("swalr:swa_lr=0.3,anneal_epochs=1", 0.1, 5, "sgd", None),
    ("chained:schedulers=[exponential:gamma=0.9;swalr:swa_lr=0.02,anneal_epochs=4]", 0.1, 12, "sgd", None),
    # (spec, base lr, steps, optimizer, metrics)
    ("constant", 0.1, 20, "sgd", None),
    ("constant:factor=0.5,total_iters=10", 0.3, 30, "sgd", None),
    ("constant:factor=0.25,total_iters=0", 0.3, 10, "sgd", None),
    ("linear", 0.1, 20, "sgd", None),
    ("linear:start_factor=0.1,end_factor=1.0,total_iters=10", 0.5, 40, "sgd", None),
    ("linear:start_factor=1.0,end_factor=0.0,total_iters=50", 0.2, 80, "sgd", None),
    ("linear:start_factor=0.25,end_factor=0.75,total_iters=7", 1.0, 20, "sgd", None),
    ("step:step_size=7,gamma=0.5", 0.1, 100, "sgd", None),
    ("step:step_size=1,gamma=0.9", 0.1, 200, "sgd", None),
    ("step:step_size=30", 1.0, 150, "sgd", None),
    ("multistep:milestones=[10,25,25,60],gamma=0.3", 0.1, 100, "sgd", None),
    ("multistep:milestones=[0,5]", 0.1, 10, "sgd", None),
    ("exponential:gamma=0.97", 0.1, 300, "sgd", None),
    ("exponential:gamma=1.01", 0.01, 300, "sgd", None),
    ("polynomial", 0.1, 20, "sgd", None),
    ("polynomial:total_iters=50,power=2.0", 0.1, 80, "sgd", None),
    ("polynomial:total_iters=30,power=0.5", 0.3, 40, "sgd", None),
    ("cosine:t_max=10", 0.1, 100, "sgd", None),
    ("cosine:t_max=50,eta_min=0.001", 0.1, 400, "sgd", None),
    ("cosine:t_max=1", 0.1, 10, "sgd", None),
    ("cosine:t_max=7,eta_min=0.05", 0.3, 60, "sgd", None),
    ("cosine-restarts:t_0=10", 0.1, 100, "sgd", None),
    ("cosine-restarts:t_0=5,t_mult=2,eta_min=0.01", 0.1, 200, "sgd", None),
    ("cosine-restarts:t_0=3,t_mult=3,eta_min=0.001", 0.05, 150, "sgd", None),
    ("cyclic:base_lr=0.001,max_lr=0.1,step_size_up=10", 0.1, 100, "sgd", None),
    ("cyclic:base_lr=0.01,max_lr=0.1,step_size_up=8,step_size_down=5,mode=triangular2", 0.1, 120, "sgd", None),
    ("cyclic:base_lr=0.001,max_lr=0.006,step_size_up=8,step_size_down=12,mode=exp_range,gamma=0.99", 0.1, 150, "sgd", None),
    ("cyclic:base_lr=0.001,max_lr=0.01,step_size_up=4,cycle_momentum=false", 0.1, 30, "sgd", None),
    ("cyclic:base_lr=0.001,max_lr=0.01,step_size_up=6,base_momentum=0.85,max_momentum=0.95", 0.1, 40, "adam", None),
    ("onecycle:max_lr=0.1,total_steps=100", 0.1, 101, "sgd", None),
    ("onecycle:max_lr=0.1,total_steps=100,anneal_strategy=linear", 0.1, 101, "sgd", None),
    ("onecycle:max_lr=0.2,total_steps=120,pct_start=0.25,three_phase=true", 0.1, 121, "sgd", None),
    ("onecycle:max_lr=0.05,total_steps=57,div_factor=10.0,final_div_factor=100.0,pct_start=0.4", 0.1, 58, "adam", None),
    ("onecycle:max_lr=0.1,epochs=4,steps_per_epoch=25,cycle_momentum=false", 0.1, 101, "sgd", None),
    ("onecycle:max_lr=0.3,total_steps=33,three_phase=true,anneal_strategy=linear,pct_start=0.3", 0.1, 34, "adam", None),
    ("multiplicative:factor=0.95", 0.1, 100, "sgd", None),
    # long horizons: many periods past t_max, many restarts, many cycles
    ("cosine:t_max=100,eta_min=0.0001", 0.1, 1500, "sgd", None),
    ("cosine-restarts:t_0=50,t_mult=2,eta_min=0.0001", 0.1, 1600, "sgd", None),
    ("cyclic:base_lr=0.0001,max_lr=0.01,step_size_up=40,mode=exp_range,gamma=0.999", 0.1, 1200, "sgd", None),
    ("cyclic:base_lr=0.0001,max_lr=0.01,step_size_up=25,step_size_down=75,mode=triangular2", 0.1, 1000, "sgd", None),
    ("exponential:gamma=0.999", 0.1, 3000, "sgd", None),
    ("onecycle:max_lr=0.5,total_steps=1000,three_phase=true", 0.1, 1001, "sgd", None),
    ("plateau", 0.1, 100, "sgd", "falling"),
    ("plateau:patience=3,factor=0.5,cooldown=2,threshold=0.01", 0.1, 100, "sgd", "falling"),
    ("plateau:patience=2,factor=0.5,threshold_mode=abs,threshold=0.001,min_lr=0.01", 0.1, 100, "sgd", "falling"),
    ("plateau:mode=max,threshold_mode=abs,threshold=0.02,patience=2,factor=0.3,min_lr=0.001", 0.1, 80, "sgd", "rising"),
    ("plateau:mode=max,patience=1,factor=0.9,eps=0.005", 0.1, 80, "sgd", "rising"),
    ("sequential:schedulers=[linear:start_factor=0.1,total_iters=5;cosine:t_max=95],milestones=[5]", 0.1, 200, "sgd", None),
    ("sequential:schedulers=[constant:factor=0.5,total_iters=3;exponential:gamma=0.9;step:step_size=4,gamma=0.5],milestones=[10,30]", 0.1, 60, "sgd", None),
    ("sequential:schedulers=[exponential:gamma=0.9;multiplicative:factor=0.8],milestones=[5]", 0.1, 20, "sgd", None),
    ("sequential:schedulers=[linear:start_factor=0.2,total_iters=4;cosine-restarts:t_0=10,eta_min=0.001],milestones=[6]", 0.1, 60, "sgd", None),
    ("sequential:schedulers=[multistep:milestones=[0,3];polynomial:total_iters=10,power=2.0;linear:start_factor=0.5,total_iters=5]," "milestones=[5,20]", 0.1, 40, "sgd", None),
    ("chained:schedulers=[constant:factor=0.5,total_iters=10;exponential:gamma=0.95]", 0.1, 50, "sgd", None),
    ("chained:schedulers=[cosine:t_max=20,eta_min=0.01;exponential:gamma=0.99]", 0.1, 100, "sgd", None),
    ("chained:schedulers=[linear:start_factor=0.2,total_iters=8;cosine:t_max=30]", 0.1, 100, "sgd", None),
    ("chained:schedulers=[step:step_size=10,gamma=0.5;cosine-restarts:t_0=7]", 0.1, 50, "sgd", None),
    ("chained:schedulers=[exponential:gamma=0.98;multistep:milestones=[5,12],gamma=0.5;polynomial:total_iters=30]", 0.1, 40, "sgd", None),
]


def run(spec, base_lr, steps, optimizer, metrics):
    p = torch.zeros(1, requires_grad=True)
    if optimizer == "adam":
        opt = torch.optim.Adam([p], lr=base_lr)
    else:
        opt = torch.optim.SGD([p], lr=base_lr, momentum=0.9)
    sched = build(spec, opt)
    curve = {"falling": metric_curve, "rising": rising_curve, None: lambda n: None}[metrics](steps)
    cycles = spec.startswith(("cyclic", "onecycle")) and "cycle_momentum=false" not in spec
    lrs, moms = [], []
    for k in range(steps):
        group = opt.param_groups[0]
        lrs.append(float(group["lr"]))
        moms.append(float(group["betas"][0] if optimizer == "adam" else group["momentum"]))
        opt.step()
        if k + 1 < steps:
            if curve is None:
                sched.step()
            else:
                sched.step(curve[k])
    return lrs, (moms if cycles else None), curve


def main():
    warnings.simplefilter("ignore")
    cases = []
    for spec, base_lr, steps, optimizer, metrics in CASES:
        lrs, moms, curve = run(spec, base_lr, steps, optimizer, metrics)
        assert all(math.isfinite(x) for x in lrs), spec
        cases.append({"spec": spec, "base_lr": base_lr, "optimizer": optimizer, "steps": steps,
                      "metrics": curve, "lr": lrs, "momentum": moms})
    doc = {
        "generator": "python3 scripts/golden_schedules.py",
        "torch": torch.__version__,
        "python": platform.python_version(),
        "dtype": "float64",
        "cases": cases,
    }
    text = json.dumps(doc, indent=1) + "\n"
    if "--check" in sys.argv:
        same = OUT.exists() and OUT.read_text() == text
        print("up to date" if same else "differs", file=sys.stderr)
        sys.exit(0 if same else 1)
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(text)
    print(f"wrote {len(cases)} cases to {OUT}", file=sys.stderr)


if __name__ == "__main__":
    main()
