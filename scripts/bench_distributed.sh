#!/usr/bin/env bash
# Measures `train --distributed` on this machine: epoch time on 1 and 2 ranks
# (one thread per rank), optimizer-state bytes per rank and bytes sent per
# update, against the single process, all in one run.
#   bash scripts/bench_distributed.sh [BINARY]   (default: a release build with --features mpi)
set -euo pipefail
cd "$(dirname "$0")/.."
bin="${1:-target/release/downhill}"
if [ -z "${1:-}" ]; then
    cargo build --release --locked -p downhill-cli --features mpi
fi
dir="$(mktemp -d)"
trap 'rm -rf "$dir"' EXIT
args=(train --dataset digits --model "mlp:hidden=[512,512]" --optimizer adam:lr=0.001
    --batch-size 128 --epochs 4 --dtype f32 --format json -q)
export RAYON_NUM_THREADS=1 OMPI_MCA_btl_vader_single_copy_mechanism=none
"$bin" "${args[@]}" > "$dir/single.jsonl"
for n in 1 2; do
    mpirun --oversubscribe --allow-run-as-root -np "$n" "$bin" "${args[@]}" --distributed > "$dir/np$n.jsonl"
done
python3 - "$dir" <<'EOF'
import json, sys, pathlib
d = pathlib.Path(sys.argv[1])
def load(name):
    lines = [json.loads(l) for l in (d / name).read_text().splitlines()]
    epochs, summary = lines[:-1], lines[-1]
    # the first epoch warms caches and pages in; the mean of the rest
    secs = [e["seconds"] for e in epochs[1:]]
    return sum(secs) / len(secs), summary
single, s = load("single.jsonl")
print(f"model: {s['parameters']} parameters, {s['train_samples']} training samples, batch 128, adam, f32, one thread per rank")
print(f"single process (no MPI): {single:.3f} s per epoch")
for n in (1, 2):
    t, s = load(f"np{n}.jsonl")
    dist = s["distributed"]
    print(f"mpirun -np {n}: {t:.3f} s per epoch ({single / t:.2f}x the single process); "
          f"optimizer state per rank {dist['optimizer_state_bytes_per_rank']} bytes; "
          f"sent per update per rank {[round(b) for b in dist['bytes_sent_per_update_per_rank']]} bytes; "
          f"train loss {s['train_loss']}")
EOF
