//! Domain-separation tags: one constant per use. Changing one is a breaking protocol change.

/// Prefix of the bytes hashed to obtain a transaction hash.
pub const TX_HASH: &[u8] = b"counterweight/v1/tx-hash";
/// Signature namespace of transactions.
pub const TX_SIGNATURE: &[u8] = b"counterweight/v1/tx-signature";
/// Prefix of the bytes hashed to obtain a block digest (from its header).
pub const BLOCK_HASH: &[u8] = b"counterweight/v1/block-hash";
/// Prefix of the bytes hashed to obtain a signed transaction's witness hash (body and
/// signature: what the transaction Merkle tree commits to).
pub const TX_WITNESS: &[u8] = b"counterweight/v1/tx-witness";
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
/// Prefix of credential-issuer and credential ids (identity module).
pub const CREDENTIAL_ID: &[u8] = b"counterweight/v1/credential-id";
/// Prefix of cooperative ids (coop module).
pub const COOP_ID: &[u8] = b"counterweight/v1/coop-id";
/// Prefix of dataset ids (coop module).
pub const DATASET_ID: &[u8] = b"counterweight/v1/dataset-id";
/// Prefix of proposal ids (coop module).
pub const PROPOSAL_ID: &[u8] = b"counterweight/v1/proposal-id";
/// Prefix of a dataset record's leaf in its BLAKE3 Merkle commitment.
pub const DATASET_LEAF: &[u8] = b"counterweight/v1/dataset-leaf";
/// Prefix of an inner node of a dataset's Merkle commitment.
pub const DATASET_NODE: &[u8] = b"counterweight/v1/dataset-node";
/// Prefix of training-task ids (learn module).
pub const TASK_ID: &[u8] = b"counterweight/v1/task-id";
/// Prefix of the hash of a model's parameters (learn and registry modules).
pub const MODEL_WEIGHTS: &[u8] = b"counterweight/v1/model-weights";
/// Prefix of the hash of a model's IR (learn and registry modules).
pub const MODEL_IR: &[u8] = b"counterweight/v1/model-ir";
/// Prefix of model repository ids (registry module).
pub const MODEL_REPO_ID: &[u8] = b"counterweight/v1/model-repo-id";
/// Prefix of model version ids (registry module).
pub const MODEL_VERSION_ID: &[u8] = b"counterweight/v1/model-version-id";
/// Prefix of an audit-log leaf (audit module).
pub const AUDIT_LEAF: &[u8] = b"counterweight/v1/audit-leaf";
/// Prefix of an audit-log inner node (audit module).
pub const AUDIT_NODE: &[u8] = b"counterweight/v1/audit-node";
/// Signature namespace of a new key's consent to a DID key rotation (identity module).
pub const KEY_ROTATION: &[u8] = b"counterweight/v1/key-rotation";
