#!/usr/bin/env bash
# The whole test suite: unit and integration tests of every crate against real sshd, QEMU guests and validators.
set -euo pipefail
cd "$(dirname "$0")/.."
export LIBGUESTFS_BACKEND=direct LIBGUESTFS_BACKEND_SETTINGS=force_tcg
cargo build --profile ci --workspace --bins
cargo test --profile ci --workspace --no-fail-fast -- --test-threads=2
