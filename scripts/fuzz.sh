#!/usr/bin/env bash
# Runs every cargo-fuzz target in fuzz/ for SECONDS each (default 20), starting
# from the committed seeds in fuzz/seeds/TARGET. Installs cargo-fuzz if missing
# (needs the nightly toolchain). Exits non-zero on the first crash, leak of
# memory past 2 GiB or timeout; the failing input is kept in fuzz/artifacts/TARGET.
set -euo pipefail
cd "$(dirname "$0")/../fuzz"
seconds="${1:-20}"
case "$seconds" in
    '' | *[!0-9]* | 0) echo "error: SECONDS must be a whole number ≥ 1, got '$seconds'" >&2; exit 2 ;;
esac
command -v cargo >/dev/null || { echo "error: cargo is required (https://rustup.rs)" >&2; exit 2; }
cargo +nightly --version >/dev/null 2>&1 || { echo "error: cargo fuzz needs the nightly toolchain (rustup toolchain install nightly)" >&2; exit 2; }
cargo fuzz --version >/dev/null 2>&1 || cargo install cargo-fuzz --locked
cargo +nightly fuzz build
for target in $(cargo +nightly fuzz list); do
    echo "fuzz: $target for ${seconds}s" >&2
    mkdir -p "corpus/$target"
    cargo +nightly fuzz run "$target" "corpus/$target" "seeds/$target" -- \
        -max_total_time="$seconds" -rss_limit_mb=2048 -timeout=10 -max_len=4096
done
