#!/usr/bin/env python3
"""Golden outputs of `downhill run ... --emit pytorch` scripts, run with PyTorch,
for `crates/downhill-cli/tests/emit.rs`.

For every case (the arguments of `downhill run`), the script emitted by the
downhill binary is written to tests/golden/emit/<name>.py and run with this
Python (which must have torch); its stdout goes to <name>.csv.  cases.json
records the arguments, each script's exit status and stderr, and the torch and
Python versions.  The test checks that the committed scripts are what the
binary emits now and that the committed CSVs equal `downhill run ... --format
csv`, so no test needs torch.

Usage: python3 scripts/golden_emit.py [PATH_TO_DOWNHILL]   (default target/debug/downhill)
"""

import datetime
import json
import platform
import subprocess
import sys
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parent.parent
OUT_DIR = ROOT / "tests" / "golden" / "emit"

# name -> arguments of `downhill run` (without --emit / --format)
CASES = {
    "rosenbrock_adam_sgd_rmsprop_adagrad": [
        "--surface", "rosenbrock", "--steps", "300",
        "-o", "adam:lr=0.01", "-o", "sgd:lr=0.0005,momentum=0.9,nesterov=true",
        "-o", "rmsprop:lr=0.005", "-o", "adagrad:lr=0.5,lr_decay=0.01",
    ],
    # the learning notes' seven (gd, momentum, nag, adagrad, rmsprop, adadelta, adam)
    "quartic_notes": ["--surface", "quartic", "--steps", "200"],
    "formula_cosine": [
        "--surface", "x^4/4 + y^2 - x*y + sin(x)", "--start=2,-1", "--steps", "150",
        "-o", "adam:lr=0.05,amsgrad=true", "-o", "nadam:lr=0.05", "-o", "radam:lr=0.05,weight_decay=0.1",
        "--schedule", "cosine:t_max=100,eta_min=0.001",
    ],
    "himmelblau_plateau": [
        "--surface", "himmelblau", "--steps", "150",
        "-o", "adamax:lr=0.05", "-o", "rprop:lr=0.05,eta_minus=0.3", "-o", "asgd:lr=0.005,t0=10",
        "-o", "adamw:lr=0.05", "-o", "adadelta:lr=0.5,rho=0.95",
        "--schedule", "plateau:patience=3,factor=0.5",
    ],
    "sphere_diverging_row": [
        "--surface", "sphere", "--steps", "300", "--param-shape", "1x2",
        "-o", "gd:lr=1000", "-o", "momentum:lr=0.01,dampening=0.1",
        "--schedule", "step:step_size=20,gamma=0.5",
    ],
    # torch.optim has no Lion: the script refuses to run
    "booth_lacking": ["--surface", "booth", "--steps", "10", "-o", "adam", "-o", "lion"],
}


def main():
    downhill = sys.argv[1] if len(sys.argv) > 1 else str(ROOT / "target" / "debug" / "downhill")
    OUT_DIR.mkdir(parents=True, exist_ok=True)
    results = {}
    for name, args in CASES.items():
        script = subprocess.run([downhill, "run", *args, "--emit", "pytorch"], check=True,
                                capture_output=True, text=True).stdout
        (OUT_DIR / f"{name}.py").write_text(script)
        run = subprocess.run([sys.executable, str(OUT_DIR / f"{name}.py")], capture_output=True, text=True)
        if run.returncode == 0:
            (OUT_DIR / f"{name}.csv").write_text(run.stdout)
        results[name] = {"args": args, "exit_status": run.returncode, "stderr": run.stderr}
        print(f"{name}: exit {run.returncode}, {run.stdout.count(chr(10))} lines", file=sys.stderr)
    meta = {
        "generator": "scripts/golden_emit.py",
        "command": "python3 scripts/golden_emit.py target/debug/downhill",
        "generated": datetime.date.today().isoformat(),
        "torch_version": torch.__version__,
        "python_version": platform.python_version(),
        "platform": platform.platform(),
        "cases": results,
    }
    (OUT_DIR / "cases.json").write_text(json.dumps(meta, indent=1) + "\n")


if __name__ == "__main__":
    main()
