//! Integration tests: the registry driven through the runtime, like a block would.

mod consent;
mod lineage;
mod publish;
mod repos;
mod suite;
mod tasks;

use std::sync::Arc;

use bytes::Bytes;
use counterweight_bank::Bank;
use counterweight_coop::CoopModule;
use counterweight_learn::Learn;
use counterweight_registry::{
    Lineage, ModuleCall as _, Publish, REGISTRY_MODULE, Registry, RegistryCall, repo_id, version_id,
};
use counterweight_state::{TxError, test_utils::TestChain};
use counterweight_types::{Address, Event, Hash, ModuleId};

pub(crate) fn addr(i: u8) -> Address {
    Address([i; 32])
}

pub(crate) const ALICE: u8 = 1;
pub(crate) const BOB: u8 = 2;
pub(crate) const CAROL: u8 = 3;

/// A chain with the bank, coop, learn and the registry; ALICE, BOB and CAROL hold 1,000,000.
pub(crate) fn new_chain() -> TestChain {
    let bank = Arc::new(Bank);
    (ALICE..=CAROL)
        .fold(
            TestChain::builder(bank.clone())
                .module(bank)
                .module(Arc::new(CoopModule))
                .module(Arc::new(Learn))
                .module(Arc::new(Registry)),
            |b, i| b.account(addr(i), 1_000_000),
        )
        .chain_id("registry-test")
        .proposer(addr(7))
        .build()
}

/// Runs `payload` to `module` from account `from` in its own block; returns the transaction
/// hash and events, or the refusal's code.
pub(crate) fn call(
    chain: &mut TestChain,
    from: u8,
    module: ModuleId,
    payload: Bytes,
) -> Result<(Hash, Vec<Event>), u32> {
    chain
        .send_raw(addr(from), module, payload)
        .map_err(|(code, _)| code)
}

/// Runs a registry call; returns its events or the refusal's code.
pub(crate) fn send(
    chain: &mut TestChain,
    from: u8,
    call: &RegistryCall,
) -> Result<Vec<Event>, u32> {
    chain
        .send(addr(from), REGISTRY_MODULE, call)
        .map(|(_, events)| events)
        .map_err(|(code, _)| code)
}

/// Runs a registry payload the runtime must reject before execution; returns why.
pub(crate) fn reject(chain: &mut TestChain, from: u8, payload: Bytes) -> TxError {
    chain
        .try_send(addr(from), REGISTRY_MODULE, payload)
        .expect_err("transaction rejected")
}

/// Runs a registry query that must answer.
pub(crate) fn query(chain: &TestChain, path: &str, data: &[u8]) -> serde_json::Value {
    chain.query_json(REGISTRY_MODULE, path, data)
}

pub(crate) fn create_repo(chain: &mut TestChain, from: u8, name: &str) -> Hash {
    send(
        chain,
        from,
        &RegistryCall::CreateRepo {
            name: name.into(),
            description: "a model".into(),
            licence: "MIT".into(),
        },
    )
    .expect("repo created");
    repo_id(chain.chain_id(), &addr(from), name)
}

pub(crate) fn publish(chain: &mut TestChain, from: u8, publish: Publish) -> Result<Hash, u32> {
    let id = version_id(chain.chain_id(), &publish.repo, &publish.tag);
    send(chain, from, &RegistryCall::Publish(publish)).map(|_| id)
}

pub(crate) fn version(repo: Hash, tag: &str) -> Publish {
    Publish {
        repo,
        tag: tag.into(),
        weights_hash: Hash::digest(b"weights", &[tag.as_bytes()]),
        weights_size: 1_024,
        arch_hash: Hash([9; 32]),
        metrics: Vec::new(),
        parent: None,
        lineage: Lineage::default(),
    }
}

/// The payload of a `CreateRepo` call.
pub(crate) fn create_repo_payload(name: &str) -> Bytes {
    RegistryCall::CreateRepo {
        name: name.into(),
        description: "a model".into(),
        licence: "MIT".into(),
    }
    .to_payload()
}
