#!/usr/bin/env python3
"""Golden steps of `torch.optim.SparseAdam` (float64, CPU) for
`crates/downhill-optim/tests/sparse_adam.rs`.

An embedding-like parameter of 6 rows x 3 columns takes 8 steps of sparse
gradients (`torch.sparse_coo_tensor` over rows): some rows, repeated rows
(coalesced, i.e. summed), one step with no row at all (the step count still
advances), and maximize in a second case. Records each step's row indices
and values as given (before coalescing) and the parameters after the step.

Usage: python3 scripts/golden_sparse_adam.py   (deterministic)
"""

import json
import platform
from pathlib import Path

import torch

torch.set_default_dtype(torch.float64)
OUT = Path(__file__).resolve().parent.parent / "tests" / "golden" / "sparse" / "sparse_adam.json"
ROWS, COLS = 6, 3
STEPS = [[0, 3], [1, 1, 4], [5], [], [2, 3, 2, 0], [4, 5, 1], [3], [0, 1, 2, 3, 4, 5]]


def values(step, k):
    return [((((k + 5 * step + c) * 13) % 17) * 0.11 - 0.8) * (1 + 0.05 * c) for c in range(COLS)]


def case(spec, kwargs):
    p = torch.nn.Parameter(torch.tensor([[0.1 * r - 0.2 * c for c in range(COLS)] for r in range(ROWS)]))
    opt = torch.optim.SparseAdam([p], **kwargs)
    steps = []
    for s, rows in enumerate(STEPS):
        vals = [values(s, k) for k in range(len(rows))]
        index = torch.tensor([rows], dtype=torch.long).reshape(1, len(rows))
        data = torch.tensor(vals).reshape(len(rows), COLS)
        p.grad = torch.sparse_coo_tensor(index, data, (ROWS, COLS))
        opt.step()
        steps.append({"rows": rows, "values": [v for row in vals for v in row], "params": p.flatten().tolist()})
    return {"spec": spec, "start": [0.1 * r - 0.2 * c for r in range(ROWS) for c in range(COLS)], "steps": steps}


def main():
    doc = {
        "generator": "scripts/golden_sparse_adam.py",
        "torch_version": torch.__version__,
        "python_version": platform.python_version(),
        "dtype": "float64",
        "row_len": COLS,
        "cases": [
            case("sparse_adam:lr=0.1", dict(lr=0.1)),
            case("sparse_adam:lr=0.05,beta1=0.8,beta2=0.99,eps=1e-6,maximize=true",
                 dict(lr=0.05, betas=(0.8, 0.99), eps=1e-6, maximize=True)),
        ],
    }
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(doc, indent=1) + "\n")
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()
