#!/usr/bin/env bash
# The main job on a fresh machine: build the node, start a one-validator devnet with funded dev
# accounts, make a signed transfer, show it finalized, then follow blocks until Ctrl-C.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release -p counterweight
cw=target/release/counterweight
home=${COUNTERWEIGHT_HOME:-.cw-home}
rpc=http://127.0.0.1:26657

"$cw" devnet --home "$home" &
devnet=$!
trap 'kill "$devnet" 2>/dev/null; wait "$devnet" 2>/dev/null' EXIT

for _ in $(seq 1 100); do
    "$cw" query status --rpc "$rpc" >/dev/null 2>&1 && break
    sleep 0.2
done
"$cw" query status --rpc "$rpc"

echo "== dev accounts"
"$cw" keys list --home "$home"
to=$("$cw" keys list --home "$home" --json | python3 -c 'import json,sys; print(json.load(sys.stdin)[1]["address"])')

echo "== transfer 1000 from dev0 to dev1 and wait for finality"
"$cw" transfer --home "$home" --rpc "$rpc" --from dev0 --to "$to" --amount 1000 --wait
"$cw" query account "$to" --rpc "$rpc"

echo "== following finalized blocks (Ctrl-C stops the devnet; its state stays in $home)"
"$cw" watch --rpc "$rpc"
