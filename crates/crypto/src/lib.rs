//! Sign, verify and hash with domain separation.
//!
//! One signature scheme for the whole workspace: ed25519 from `commonware-cryptography`
//! (ZIP-215 validation rules). An account's [`Address`](counterweight_types::Address) is its
//! public key. Every signed or hashed message is prefixed by one tag from [`domain`], so a
//! signature made for one purpose is void for every other. Blocks verify their transactions
//! with [`verify_batch`].
//!
//! # Examples
//!
//! ```
//! use bytes::Bytes;
//! use counterweight_crypto::{SigningKey, verify_batch, verify_tx};
//! use counterweight_types::{Call, ChainId, ModuleId, Transaction};
//!
//! let key = SigningKey::from_seed(1);
//! let stx = key.sign_tx(Transaction {
//!     chain_id: ChainId::new("devnet").unwrap(),
//!     sender: key.address(),
//!     nonce: 0,
//!     fee: 1,
//!     call: Call { module: ModuleId(1), payload: Bytes::new() },
//! });
//! assert!(verify_tx(&stx).is_ok());
//!
//! let mut forged = stx.clone();
//! forged.tx.fee = 0;
//! assert!(verify_batch(&[stx, forged]).is_err());
//! ```

mod error;
mod keys;

pub use counterweight_types::domain;
pub use error::{Error, Result};
pub use keys::{SigningKey, verify_batch, verify_message, verify_tx};
