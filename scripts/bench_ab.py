#!/usr/bin/env python3
"""Before/after benchmark of two `downhill` binaries, run alternately.

    python3 scripts/bench_ab.py OLD_BINARY NEW_BINARY [--rounds 5] [--policies error,zero,propagate]

Each round runs `downhill bench` with every optimizer, size (1e6, 1e7),
thread count (1, 2) and non-finite policy, first with one binary then the
other (the order alternates between rounds), and keeps the best ns/param of
each. Prints a table with the ratio old/new (> 1: the new binary is faster)
and the geometric mean per policy. Alternating runs share whatever noise the
machine has; a ratio within a few percent of 1 is noise.
"""

import argparse
import json
import math
import subprocess

SPECS = ["sgd", "sgd:momentum=0.9", "adam", "adamw", "adagrad", "rmsprop",
         "adadelta", "nadam", "radam", "adamax", "rprop", "asgd"]


def bench(binary, spec, params, threads, policy):
    out = subprocess.run(
        [binary, "bench", "--optimizer", spec, "--params", str(params),
         "--threads", str(threads), "--on-non-finite", policy, "--format", "json"],
        check=True, capture_output=True, text=True).stdout
    return json.loads(out.strip().splitlines()[-1])["ns_per_param"]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("old")
    parser.add_argument("new")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--policies", default="error,zero,propagate")
    parser.add_argument("--sizes", default="1e6,1e7")
    parser.add_argument("--threads", default="1,2")
    parser.add_argument("--specs", default=",".join(SPECS), help="';'-separated if a spec holds commas")
    args = parser.parse_args()
    specs = args.specs.split(";") if ";" in args.specs else args.specs.split(",")
    cases = [(spec, int(float(size)), int(t), policy)
             for policy in args.policies.split(",")
             for size in args.sizes.split(",")
             for t in args.threads.split(",")
             for spec in specs]
    best = {}
    for r in range(args.rounds):
        order = [args.old, args.new] if r % 2 == 0 else [args.new, args.old]
        for case in cases:
            for binary in order:
                ns = bench(binary, *case)
                key = (binary, case)
                best[key] = min(best.get(key, math.inf), ns)
    print("| policy | optimizer | params | threads | old ns/param | new ns/param | old/new |")
    print("|---|---|---|---|---|---|---|")
    logs = {}
    for spec, params, threads, policy in cases:
        old = best[(args.old, (spec, params, threads, policy))]
        new = best[(args.new, (spec, params, threads, policy))]
        logs.setdefault(policy, []).append(math.log(old / new))
        print(f"| {policy} | {spec} | {params:.0e} | {threads} | {old:.3f} | {new:.3f} | {old / new:.2f} |")
    for policy, values in logs.items():
        print(f"geometric mean old/new, {policy}: {math.exp(sum(values) / len(values)):.3f} "
              f"(min {math.exp(min(values)):.2f}, max {math.exp(max(values)):.2f})")


if __name__ == "__main__":
    main()
