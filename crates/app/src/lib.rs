//! Compose the modules into the chain's state-transition function and genesis.
//!
//! [`App`] is what the consensus layer drives and the RPC reads: it opens the authenticated
//! store for a [`Genesis`](counterweight_types::Genesis), checks transactions for the mempool
//! ([`App::check_tx`], rejections are [`TxError`]s with stable codes), builds and verifies
//! blocks speculatively on possibly unfinalized parents ([`App::build_block`],
//! [`App::verify_block`]) and durably applies finalized blocks exactly once
//! ([`App::finalize_block`]). Fatal faults are [`Error`]; protocol verdicts are values
//! ([`TxError`], [`BlockError`]) in an inner `Result`.
//!
//! # Examples
//!
//! ```
//! use counterweight_app::{App, FinalizeOutcome};
//! use counterweight_bank::{BankCall, BANK_MODULE, ModuleCall as _};
//! use counterweight_crypto::SigningKey;
//! use counterweight_types::{Call, ChainId, Genesis, GenesisAccount, Params, Transaction};
//!
//! let validator = SigningKey::from_seed(0);
//! let alice = SigningKey::from_seed(1);
//! let bob = SigningKey::from_seed(2);
//! let genesis = Genesis {
//!     chain_id: ChainId::new("doc-chain")?,
//!     genesis_time_ms: 0,
//!     validators: vec![validator.address()],
//!     accounts: vec![GenesisAccount { address: alice.address(), balance: 1_000 }],
//!     params: Params::default(),
//! };
//! let app = App::in_memory(genesis)?;
//!
//! let tx = alice.sign_tx(Transaction {
//!     chain_id: app.genesis().chain_id.clone(),
//!     sender: alice.address(),
//!     nonce: 0,
//!     fee: 1,
//!     call: Call {
//!         module: BANK_MODULE,
//!         payload: BankCall::Transfer { to: bob.address(), amount: 100 }.to_payload(),
//!     },
//! });
//! app.check_tx(&tx)?.expect("a valid transaction");
//!
//! let parent = app.genesis_block().clone();
//! let block = app.build_block(&parent, 1_000, validator.address(), [tx])?.expect("known parent");
//! app.verify_block(&parent, &block)?.expect("a valid block");
//! assert!(matches!(app.finalize_block(&block)?, FinalizeOutcome::Applied { .. }));
//! // Finalizing again is a no-op.
//! assert!(matches!(app.finalize_block(&block)?, FinalizeOutcome::AlreadyFinalized { .. }));
//!
//! assert_eq!(app.account(&bob.address())?.balance, 100);
//! assert_eq!(app.account(&alice.address())?.balance, 899);
//! assert_eq!(app.account(&alice.address())?.nonce, 1);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod app;
mod error;
mod sigcache;

pub use app::{Account, App, BuiltBlock, FinalizeOutcome, MAX_NONCE_GAP};
pub use counterweight_state::TxError;
pub use counterweight_storage::{StateProof, verify_state_proof};
pub use error::{BlockError, Error, Result};
