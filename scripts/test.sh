#!/usr/bin/env bash
# Runs every test of the project on a fresh machine: installs what the tests
# need, then the whole Rust test suite (unit, integration, doc tests) and the
# end-to-end test of `downhill serve` in headless Chromium; also the optimizer
# crate built without its default features, and the API docs (warnings are errors).
set -euo pipefail
cd "$(dirname "$0")/.."
command -v cargo >/dev/null || { echo "error: cargo is required (https://rustup.rs)" >&2; exit 2; }
# Missing packages are installed with apt-get; if that fails, so do the tests.
apt_install() {
    local sudo=""
    [ "$(id -u)" = 0 ] || sudo="sudo"
    command -v apt-get >/dev/null || { echo "error: the tests need $* and there is no apt-get to install it" >&2; exit 1; }
    $sudo apt-get update
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y --no-install-recommends "$@"
}
# The host test of the CUDA kernels compiles them with a C++ compiler.
command -v "${CXX:-c++}" >/dev/null || apt_install g++
# `train --distributed` (feature mpi) builds against Open MPI (mpicc, and
# libclang for the bindings) and its tests start real ranks with mpirun.
command -v mpirun >/dev/null && command -v mpicc >/dev/null && [ -n "$(find /usr/lib* -name 'libclang*.so*' -print -quit 2>/dev/null)" ] \
    || apt_install openmpi-bin libopenmpi-dev libclang-dev
features=(--features downhill-cli/mpi)
cargo test --workspace --locked "${features[@]}" "$@"
# The burn and candle examples (trains, checkpoints half-way, resumes, prints
# the test accuracy), run as `cargo test` built them: `cargo run -p` would
# resolve features anew and rebuild their dependencies.
examples="$(cargo test --workspace --locked "${features[@]}" --no-run --message-format=json 2>/dev/null |
    python3 -c 'import json, sys
for line in sys.stdin:
    m = json.loads(line)
    if m.get("reason") == "compiler-artifact" and "example" in m["target"]["kind"] and m["target"]["name"] == "digits_mlp":
        print(m["executable"])')"
[ "$(echo "$examples" | wc -l)" = 2 ] || { echo "error: expected the burn and candle digits_mlp examples, found: $examples" >&2; exit 1; }
for example in $examples; do "$example"; done
cargo test -p downhill-optim --no-default-features --lib --locked
RUSTDOCFLAGS="-D warnings" cargo doc --workspace --exclude downhill-burn --exclude downhill-candle --no-deps --locked

# End-to-end: Debian's chromium driven by playwright-core from Node (it never
# downloads a browser).
command -v chromium >/dev/null || apt_install chromium
command -v node >/dev/null && command -v npm >/dev/null || apt_install nodejs npm
command -v chromium >/dev/null || { echo "error: the end-to-end test needs chromium and it could not be installed" >&2; exit 1; }
[ -d e2e/node_modules/playwright-core ] || (cd e2e && npm ci --no-audit --no-fund)
# `cargo test` above built target/debug/downhill for the integration tests.
target="${CARGO_TARGET_DIR:-target}"
mkdir -p "$target/e2e"
CHROMIUM="$(command -v chromium)" node e2e/playground.mjs "$target/debug/downhill" "$target/e2e/playground.png"
CHROMIUM="$(command -v chromium)" node e2e/lab.mjs "$target/debug/downhill" "$target/e2e/lab.png"
CHROMIUM="$(command -v chromium)" node e2e/view.mjs "$target/debug/downhill" "$target/e2e/view.png"
CHROMIUM="$(command -v chromium)" node e2e/phase.mjs "$target/debug/downhill" "$target/e2e/phase.png"
CHROMIUM="$(command -v chromium)" node e2e/explain.mjs "$target/debug/downhill" "$target/e2e/explain.png"
CHROMIUM="$(command -v chromium)" node e2e/view3d.mjs "$target/debug/downhill" "$target/e2e/view3d.png"
CHROMIUM="$(command -v chromium)" node e2e/tune.mjs "$target/debug/downhill" "$target/e2e/tune.png"
