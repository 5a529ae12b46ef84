//! Integration tests of the node's public API.

mod mempool;
mod devnet;
