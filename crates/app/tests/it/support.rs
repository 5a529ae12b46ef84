//! Shared fixtures: a genesis with funded accounts and transaction builders.

use bytes::Bytes;
use counterweight_app::App;
use counterweight_bank::{BANK_MODULE, BankCall, ModuleCall as _};
use counterweight_crypto::SigningKey;
use counterweight_types::{
    Address, Block, Call, ChainId, Genesis, GenesisAccount, ModuleId, Params, SignedTransaction,
    Transaction,
};

pub(crate) const START: u64 = 1_000_000;

pub(crate) struct Keys {
    pub(crate) validator: SigningKey,
    pub(crate) alice: SigningKey,
    pub(crate) bob: SigningKey,
    pub(crate) pauper: SigningKey,
}

pub(crate) fn keys() -> Keys {
    Keys {
        validator: SigningKey::from_seed(100),
        alice: SigningKey::from_seed(1),
        bob: SigningKey::from_seed(2),
        pauper: SigningKey::from_seed(3),
    }
}

pub(crate) fn genesis() -> Genesis {
    let k = keys();
    Genesis {
        chain_id: ChainId::new("test-chain").expect("valid"),
        genesis_time_ms: 1_000,
        validators: vec![k.validator.address()],
        accounts: vec![
            GenesisAccount {
                address: k.alice.address(),
                balance: START,
            },
            GenesisAccount {
                address: k.bob.address(),
                balance: START,
            },
        ],
        params: Params {
            min_fee: 2,
            max_block_txs: 1_000,
        },
    }
}

pub(crate) fn app() -> App {
    App::in_memory(genesis()).expect("open in-memory app")
}

pub(crate) fn call(module: ModuleId, payload: Bytes) -> Call {
    Call { module, payload }
}

pub(crate) fn transfer_call(to: Address, amount: u64) -> Call {
    call(BANK_MODULE, BankCall::Transfer { to, amount }.to_payload())
}

pub(crate) fn signed(key: &SigningKey, nonce: u64, fee: u64, call: Call) -> SignedTransaction {
    key.sign_tx(Transaction {
        chain_id: genesis().chain_id,
        sender: key.address(),
        nonce,
        fee,
        call,
    })
}

pub(crate) fn transfer(
    key: &SigningKey,
    nonce: u64,
    to: Address,
    amount: u64,
) -> SignedTransaction {
    signed(key, nonce, 2, transfer_call(to, amount))
}

/// Builds, verifies and finalizes one block on the committed tip.
pub(crate) fn produce(app: &App, txs: Vec<SignedTransaction>) -> anyhow::Result<Block> {
    let parent = app.committed_block()?;
    let ts = parent.header.timestamp_ms + 1_000;
    let block = app.build_block(&parent, ts, keys().validator.address(), txs)??;
    app.verify_block(&parent, &block)??;
    app.finalize_block(&block)?;
    Ok(block)
}
