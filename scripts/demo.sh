#!/usr/bin/env bash
# The main job on a fresh machine: build the node and run `counterweight demo` — an embedded
# devnet on which a cooperative is founded, members join with verifiable credentials, commit
# their data shards, approve a training task by vote and train a model together with secure
# aggregation, every round aggregated on chain; the model is published with its lineage, the
# reward pool is paid and the audit proof of one update is checked offline.
# Extra arguments go to the demo, e.g. `bash scripts/demo.sh --keep` to leave the devnet running.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release -p counterweight
exec target/release/counterweight demo "$@"
