//! Integration tests of the node's public API.

mod devnet;
mod mempool;
