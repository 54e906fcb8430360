#!/usr/bin/env python3
"""Golden averages from `torch.optim.swa_utils.AveragedModel` (float64, CPU),
for `crates/downhill-optim/tests/averaged.rs`.

A module holding one parameter vector of 7 elements is averaged over 12
updates whose values vary in sign and size: AveragedModel's default (SWA's
running mean; on CPU `get_swa_avg_fn`: a + (p - a) / (n + 1)) and with
`multi_avg_fn=get_ema_multi_avg_fn(decay)` for decays 0.9 and 0.3 (a
`foreach_lerp` with weight 1 - decay). Records the parameter values fed and
the averaged values after every update.

Usage: python3 scripts/golden_swa.py   (deterministic)
"""

import json
import platform
from pathlib import Path

import torch
from torch.optim.swa_utils import AveragedModel, get_ema_multi_avg_fn

torch.set_default_dtype(torch.float64)
OUT = Path(__file__).resolve().parent.parent / "tests" / "golden" / "swa" / "averaged.json"
N, UPDATES = 7, 12


def values(step):
    return [((((i + 3 * step) * 17) % 23) * 0.05 - 0.55) * (1.0 + 0.1 * i) for i in range(N)]


def case(averaging, decay=None):
    model = torch.nn.Module()
    model.w = torch.nn.Parameter(torch.zeros(N))
    kwargs = {} if decay is None else {"multi_avg_fn": get_ema_multi_avg_fn(decay)}
    averaged = AveragedModel(model, **kwargs)
    fed, after = [], []
    for step in range(UPDATES):
        with torch.no_grad():
            model.w.copy_(torch.tensor(values(step)))
        averaged.update_parameters(model)
        fed.append(model.w.tolist())
        after.append(averaged.module.w.tolist())
    return {"averaging": averaging, "decay": decay, "params": fed, "averaged": after}


def main():
    doc = {
        "generator": "scripts/golden_swa.py",
        "torch_version": torch.__version__,
        "python_version": platform.python_version(),
        "dtype": "float64",
        "cases": [case("swa"), case("ema", 0.9), case("ema", 0.3)],
    }
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(doc, indent=1) + "\n")
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()
