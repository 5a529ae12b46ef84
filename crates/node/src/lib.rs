//! Compose a validator node: config, runtime, networking, mempool, RPC, shutdown.
