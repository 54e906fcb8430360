#!/usr/bin/env bash
# Builds downhill-cuda's GPU checks here (no GPU or CUDA needed) and stages
# them, with a runner, for a machine that has a GPU but no Rust toolchain.
#
#   scripts/gpu_check.sh STAGE_DIR      # build + stage (default: .gpu)
#   STAGE_DIR/run.sh OUT_DIR            # on the GPU machine: tests, bench, PyTorch bench
#   DH_TESTS_ONLY=1 STAGE_DIR/run.sh OUT_DIR   # the tests only
#
# run.sh runs the GPU tests (bit-for-bit against the CPU optimizer), the
# unit tests, the Rust benchmark (JSON) and scripts/bench_cuda.py (PyTorch's
# fused/foreach optimizers on the same layouts), writing logs and JSON into
# OUT_DIR, each part under its own timeout and the whole under ~8 minutes.
set -euo pipefail
cd "$(dirname "$0")/.."
stage=${1:-.gpu}
mkdir -p "$stage"

cargo build --release -p downhill-cuda --example bench
messages=$(cargo test --release -p downhill-cuda --no-run --message-format=json 2>/dev/null)
exe() {
    # The test executable of target $1 (kind lib or test).
    printf '%s\n' "$messages" | python3 -c '
import json, sys
want = sys.argv[1]
for line in sys.stdin:
    try:
        m = json.loads(line)
    except ValueError:
        continue
    if m.get("reason") == "compiler-artifact" and m.get("executable") and m["target"]["name"] == want:
        print(m["executable"])
' "$1"
}
unit=$(exe downhill_cuda)
gpu=$(exe gpu)
for pair in "$unit:unit_tests" "$gpu:gpu_tests" "target/release/examples/bench:bench"; do
    src=${pair%%:*}
    dst=$stage/${pair##*:}
    cp "$src" "$dst"
    chmod u+w "$dst"
    strip --strip-debug "$dst" 2>/dev/null || true
done
cp scripts/bench_cuda.py "$stage/bench_cuda.py"

cat > "$stage/run.sh" <<'EOF'
#!/usr/bin/env bash
# Runs on the GPU machine: everything writes into $1 (or $OUT).
set -u
here=$(cd "$(dirname "$0")" && pwd)
out=${1:-${OUT:-/tmp/downhill-gpu}}
mkdir -p "$out"
exec > >(tee "$out/run.log") 2>&1
start=$(date +%s)
# Where the driver and NVRTC live (CUDA toolkit, or PyTorch's wheels).
extra=""
for d in /usr/local/cuda/lib64 /usr/local/cuda/targets/x86_64-linux/lib; do
    [ -d "$d" ] && extra="$extra:$d"
done
nvrtc=$(python3 -c 'import nvidia.cuda_nvrtc as m, os; print(os.path.join(list(m.__path__)[0], "lib"))' 2>/dev/null || true)
[ -n "$nvrtc" ] && extra="$extra:$nvrtc"
export LD_LIBRARY_PATH="${LD_LIBRARY_PATH:-}$extra"
echo "LD_LIBRARY_PATH=$LD_LIBRARY_PATH"
nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.max.mem --format=csv || true
nvcc --version 2>/dev/null | tail -2 || true
ldd --version | head -1
cd "$here"
step() {
    local name=$1 limit=$2; shift 2
    local t0=$(date +%s)
    timeout "$limit" "$@" > "$out/$name.log" 2>&1
    local rc=$?
    echo "== $name: rc=$rc in $(( $(date +%s) - t0 )) s"
    tail -n 30 "$out/$name.log"
}
step unit_tests 30 ./unit_tests --nocapture
step gpu_tests 150 ./gpu_tests --nocapture --test-threads=1
if [ -z "${DH_TESTS_ONLY:-}" ]; then
    step bench 120 ./bench --json "$out/rust_bench.json"
    [ -f "$out/rust_bench.json" ] && step torch_bench 130 python3 bench_cuda.py "$out/rust_bench.json" --out "$out/torch_bench.json"
fi
echo "total $(( $(date +%s) - start )) s"
EOF
chmod +x "$stage/run.sh"
du -sh "$stage"
