#!/usr/bin/env python3
"""PyTorch's side of the CUDA optimizer benchmark.

Reads the JSON written by downhill-cuda's bench example
(`cargo run --release -p downhill-cuda --example bench -- --json rust.json`),
times the same rules on the same layouts with PyTorch (fused for SGD with
momentum, Adam and AdamW; foreach for the others), with CUDA events (median
of 20 steps after 3 warm-ups), and prints a side-by-side table:
ratio = PyTorch time / downhill time (above 1: downhill is faster).

usage: bench_cuda.py RUST_JSON [--out torch.json]
"""

import argparse
import json
import statistics

import torch

WARMUP = 3
RUNS = 20

# rule name in the Rust JSON -> (constructor, kwargs, path)
TORCH = {
    "sgd_momentum": (torch.optim.SGD, dict(lr=0.01, momentum=0.9), "fused"),
    "adam": (torch.optim.Adam, dict(lr=0.001), "fused"),
    "adamw": (torch.optim.AdamW, dict(lr=0.001), "fused"),
    "adagrad": (torch.optim.Adagrad, dict(lr=0.01), "foreach"),
    "rmsprop": (torch.optim.RMSprop, dict(lr=0.01), "foreach"),
    "adadelta": (torch.optim.Adadelta, dict(lr=1.0), "foreach"),
    "nadam": (torch.optim.NAdam, dict(lr=0.002), "foreach"),
    "radam": (torch.optim.RAdam, dict(lr=0.001), "foreach"),
    "adamax": (torch.optim.Adamax, dict(lr=0.002), "foreach"),
    "rprop": (torch.optim.Rprop, dict(lr=0.01), "foreach"),
    "asgd": (torch.optim.ASGD, dict(lr=0.01), "foreach"),
}


def time_torch(rule, count, size):
    ctor, kwargs, path = TORCH[rule]
    gen = torch.Generator(device="cuda").manual_seed(0)
    params = [
        torch.nn.Parameter(torch.rand(size, device="cuda", generator=gen) * 2 - 1)
        for _ in range(count)
    ]
    for p in params:
        p.grad = (torch.rand(size, device="cuda", generator=gen) - 0.5) * 0.2
    opt = ctor(params, **kwargs, **{path: True})
    for _ in range(WARMUP):
        opt.step()
    torch.cuda.synchronize()
    times = []
    for _ in range(RUNS):
        start = torch.cuda.Event(enable_timing=True)
        end = torch.cuda.Event(enable_timing=True)
        start.record()
        opt.step()
        end.record()
        end.synchronize()
        times.append(start.elapsed_time(end))
    del opt, params
    torch.cuda.empty_cache()
    return statistics.median(times) * 1e3, path  # microseconds


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("rust_json")
    ap.add_argument("--out")
    args = ap.parse_args()
    with open(args.rust_json) as f:
        rust = json.load(f)
    print(f"device: {torch.cuda.get_device_name()}  torch {torch.__version__}  "
          f"CUDA {torch.version.cuda}; copy {rust['copy_gbps']:.0f} GB/s (Rust run)")
    head = f"{'rule':<14}{'tensors':>8}{'numel':>11}{'torch path':>11}{'torch us':>11}{'downhill us':>13}{'ratio':>8}{'dh GB/s':>9}"
    print(head)
    print("-" * len(head))
    out = []
    for row in rust["rows"]:
        if row["policy"] != "propagate" or row["rule"] not in TORCH or row["dtype"] != "f32":
            continue
        torch_us, path = time_torch(row["rule"], row["tensors"], row["size"])
        ratio = torch_us / row["median_us"]
        print(f"{row['rule']:<14}{row['tensors']:>8}{row['numel']:>11}{path:>11}"
              f"{torch_us:>11.1f}{row['median_us']:>13.1f}{ratio:>8.2f}{row['gbps']:>9.0f}")
        out.append(dict(rule=row["rule"], tensors=row["tensors"], numel=row["numel"],
                        torch_path=path, torch_us=torch_us, downhill_us=row["median_us"],
                        ratio=ratio))
    if args.out:
        with open(args.out, "w") as f:
            json.dump(dict(device=torch.cuda.get_device_name(), torch=torch.__version__,
                           rows=out), f, indent=1)


if __name__ == "__main__":
    main()
