//! Domain-separation tags: one constant per use. Changing one is a breaking protocol change.

/// Prefix of the bytes hashed to obtain a transaction hash.
pub const TX_HASH: &[u8] = b"counterweight/v1/tx-hash";
/// Signature namespace of transactions.
pub const TX_SIGNATURE: &[u8] = b"counterweight/v1/tx-signature";
/// Prefix of the bytes hashed to obtain a block digest (from its header).
pub const BLOCK_HASH: &[u8] = b"counterweight/v1/block-hash";
/// Prefix of a leaf of the transaction Merkle tree.
pub const TX_ROOT_LEAF: &[u8] = b"counterweight/v1/tx-root-leaf";
/// Prefix of an inner node of the transaction Merkle tree.
pub const TX_ROOT_NODE: &[u8] = b"counterweight/v1/tx-root-node";
/// Prefix of the root of an empty transaction list.
pub const TX_ROOT_EMPTY: &[u8] = b"counterweight/v1/tx-root-empty";
/// Prefix of the seed that derives batch-verification coefficients.
pub const BATCH_VERIFY_SEED: &[u8] = b"counterweight/v1/batch-verify-seed";
/// Prefix of the hash of an authenticated-state key.
pub const STATE_KEY: &[u8] = b"counterweight/v1/state-key";
/// Prefix of the hash of an authenticated-state value.
pub const STATE_VALUE: &[u8] = b"counterweight/v1/state-value";
/// Prefix of escrow account ids.
pub const ESCROW_ID: &[u8] = b"counterweight/v1/escrow-id";
/// Prefix of the hash of a genesis document.
pub const GENESIS: &[u8] = b"counterweight/v1/genesis";
