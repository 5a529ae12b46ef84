//! Define the chain's domain types and their canonical encoding.
//!
//! Every value that validators agree on — transactions, blocks, headers, receipts — has exactly
//! one byte encoding (built on `commonware-codec`), hard size limits ([`MAX_TX_BYTES`],
//! [`MAX_BLOCK_BYTES`], [`MAX_BLOCK_TXS`]) and a decoder that rejects trailing bytes. Hashes
//! are BLAKE3 with a domain tag from [`domain`]. JSON (serde) forms use hex strings for hashes,
//! addresses, signatures and payloads.
//!
//! This crate does no I/O and holds no keys: signing lives in `counterweight-crypto`.
//!
//! # Examples
//!
//! ```
//! use bytes::Bytes;
//! use counterweight_types::{
//!     Address, Call, ChainId, ModuleId, Signature, SignedTransaction, Transaction,
//! };
//!
//! let tx = SignedTransaction {
//!     tx: Transaction {
//!         chain_id: ChainId::new("devnet")?,
//!         sender: Address([7; 32]),
//!         nonce: 0,
//!         fee: 10,
//!         call: Call { module: ModuleId(1), payload: Bytes::from_static(b"\x00") },
//!     },
//!     signature: Signature([0; 64]),
//! };
//! let bytes = tx.to_bytes();
//! assert_eq!(SignedTransaction::from_bytes(&bytes)?, tx);
//!
//! // Trailing bytes are rejected.
//! let mut longer = bytes.to_vec();
//! longer.push(0);
//! assert!(SignedTransaction::from_bytes(&longer).is_err());
//! # Ok::<(), counterweight_types::Error>(())
//! ```

mod block;
pub mod codec;
pub mod domain;
mod error;
mod genesis;
mod primitives;
mod receipt;
mod tx;

pub use block::{Block, Header, MAX_BLOCK_BYTES, MAX_BLOCK_TXS, signed_tx_root, tx_root};
pub use commonware_codec::{Encode, EncodeSize, Read, Write};
pub use error::{Error, Result};
pub use genesis::{Genesis, GenesisAccount, GenesisError, Params};
pub use primitives::{Address, ChainId, Hash, Height, ModuleId, Signature, hex_bytes};
pub use receipt::{
    Event, MAX_ATTRIBUTE_VALUE, MAX_EVENT_ATTRIBUTES, MAX_EVENTS, MAX_SHORT_STRING, ReceiptStatus,
    TxReceipt,
};
pub use tx::{Call, MAX_TX_BYTES, SignedTransaction, Transaction};
