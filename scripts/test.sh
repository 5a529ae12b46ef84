#!/usr/bin/env bash
# The project's test command (the README's second command; CI runs exactly this after fmt and clippy).
set -euo pipefail
cd "$(dirname "$0")/.."
if ! cargo nextest --version >/dev/null 2>&1; then
    cargo install cargo-nextest --locked
fi
cargo nextest run --workspace --no-fail-fast
cargo test --workspace --doc
