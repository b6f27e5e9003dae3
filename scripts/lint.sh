#!/usr/bin/env bash
# House rules, enforced: the tree is formatted (rustfmt.toml) and clippy finds nothing
# ([workspace.lints], clippy.toml) in any crate or target. Fast: no test runs.
set -euo pipefail
cd "$(dirname "$0")/.."
t0=$SECONDS
rustup component list --installed 2>/dev/null | grep -q '^rustfmt' || rustup component add rustfmt clippy 2>/dev/null || true
cargo fmt --all --check
cargo clippy --profile ci --workspace --all-targets -- -D warnings
echo "== lint: $((SECONDS - t0))s"
