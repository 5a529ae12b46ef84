//! Errors from key handling and signature verification.

use counterweight_types::Address;

/// A key or signature error.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The address is not a valid ed25519 public key.
    #[error("address {0} is not a valid ed25519 public key")]
    InvalidPublicKey(Address),
    /// A signature does not verify. `index` is the transaction's position in the batch.
    #[error("invalid signature on transaction {index} (sender {sender})")]
    BadSignature {
        /// Position of the first failing transaction in the verified slice (0 for one).
        index: usize,
        /// Its claimed sender.
        sender: Address,
    },
    /// Secret key bytes have the wrong length.
    #[error("secret key must be 32 bytes, got {0}")]
    SecretKeyLength(usize),
}

/// Result with this crate's [`enum@Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;
