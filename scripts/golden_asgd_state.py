"""Golden ASGD state: the averaged iterate `ax`, `eta` and `mu` after each step.

ASGD's parameters do not depend on `t0` or `mu`, so the trajectory goldens
cannot check the average; this records torch's state instead.
Run: python3 scripts/golden_asgd_state.py  (writes tests/golden/optim/asgd_state.json)
"""

import json
import pathlib
import platform

import torch

torch.set_default_dtype(torch.float64)


def booth_grad(p):
    x, y = p.tolist()
    a, b = x + 2 * y - 7, 2 * x + y - 5
    return torch.tensor([2 * a + 4 * b, 4 * a + 2 * b])


cases = []
for spec, kwargs in [
    ("asgd:lr=0.01,lambd=0.01,alpha=0.5,t0=5", dict(lr=0.01, lambd=0.01, alpha=0.5, t0=5.0)),
    ("asgd:lr=0.02,t0=0,weight_decay=0.1", dict(lr=0.02, t0=0.0, weight_decay=0.1)),
]:
    p = torch.tensor([-6.0, -4.0])
    opt = torch.optim.ASGD([p], foreach=False, **kwargs)
    steps = []
    for _ in range(40):
        p.grad = booth_grad(p)
        opt.step()
        st = opt.state[p]
        steps.append(
            {
                "params": p.tolist(),
                "ax": st["ax"].tolist(),
                "eta": st["eta"].item(),
                "mu": st["mu"].item(),
            }
        )
    cases.append({"spec": spec, "start": [-6.0, -4.0], "steps": steps})

out = pathlib.Path(__file__).resolve().parent.parent / "tests/golden/optim/asgd_state.json"
out.write_text(
    json.dumps(
        {"torch_version": torch.__version__, "python_version": platform.python_version(), "cases": cases},
        indent=1,
    )
    + "\n"
)
print(f"wrote {out}")
