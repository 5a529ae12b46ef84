//! Identity helpers over the shared [`TestChain`]: bank (fees), identity and the audit log,
//! funded keys, one block per call, one second apart.

use std::sync::Arc;

use counterweight_audit::Audit;
use counterweight_bank::Bank;
use counterweight_crypto::SigningKey;
use counterweight_identity::{
    IDENTITY_MODULE, Identity, IdentityCall, did_of_key, did_record, sign_rotation,
};
use counterweight_state::test_utils::TestChain;
use counterweight_types::{Address, Event, Signature};

/// Seeds of funded keys: 1 to `KEYS`.
pub(crate) const KEYS: u64 = 12;
/// Block time of the first block; every block adds one second.
pub(crate) const START_MS: u64 = 1_800_000_000_000;

pub(crate) fn key(seed: u64) -> SigningKey {
    SigningKey::from_seed(seed)
}

pub(crate) fn addr(seed: u64) -> Address {
    key(seed).address()
}

/// `to`'s signature consenting to become the next key of `did` (its proof of possession).
pub(crate) fn proof(chain: &TestChain, did: &Address, to: u64) -> Signature {
    let (old, rotation) = did_record(chain.state(), did)
        .unwrap()
        .map_or((*did, 0), |r| (r.current_key, r.previous_keys.len() as u64));
    sign_rotation(&key(to), chain.chain_id(), did, &old, rotation)
}

/// The call by which key `from` rotates the DID it controls to key `to`, signed by `to`.
pub(crate) fn rotate(chain: &TestChain, from: u64, to: u64) -> IdentityCall {
    let did = did_of_key(chain.state(), &addr(from))
        .unwrap()
        .unwrap_or(addr(from));
    IdentityCall::RotateKey {
        new_key: addr(to),
        proof: proof(chain, &did, to),
    }
}

/// A chain with the bank, identity and the audit log (as module and recorder); keys 1 to
/// [`KEYS`] hold 1,000,000 each.
pub(crate) fn chain() -> TestChain {
    let bank = Arc::new(Bank);
    (1..=KEYS)
        .fold(
            TestChain::builder(bank.clone())
                .module(bank)
                .module(Arc::new(Identity))
                .module(Arc::new(Audit))
                .recorder(Arc::new(Audit)),
            |b, seed| b.account(addr(seed), 1_000_000),
        )
        .chain_id("identity-test")
        .genesis_time_ms(START_MS - 1_000)
        .proposer(addr(100))
        .build()
}

/// Identity calls and queries on a [`TestChain`].
pub(crate) trait IdentityChain {
    /// Sends `call` from `signer`'s account and asserts it succeeds; returns its events.
    fn ok(&mut self, signer: &SigningKey, call: &IdentityCall) -> Vec<Event>;
    /// Sends `call` and returns the failure code (panics if it succeeds).
    fn fails(&mut self, signer: &SigningKey, call: &IdentityCall) -> u32;
    /// Registers `seed`'s DID and an issuer for `types`.
    fn issuer(&mut self, seed: u64, types: &[&str]);
    /// Asks identity query `path`, which must answer JSON.
    fn identity_query(&self, path: &str, data: &[u8]) -> serde_json::Value;
    /// Asks identity query `path`, which must fail; returns its code.
    fn identity_query_code(&self, path: &str, data: &[u8]) -> u32;
}

impl IdentityChain for TestChain {
    fn ok(&mut self, signer: &SigningKey, call: &IdentityCall) -> Vec<Event> {
        match self.send(signer.address(), IDENTITY_MODULE, call) {
            Ok((_, events)) => events,
            Err((code, message)) => panic!("{call:?} refused: {code} {message}"),
        }
    }

    fn fails(&mut self, signer: &SigningKey, call: &IdentityCall) -> u32 {
        match self.send(signer.address(), IDENTITY_MODULE, call) {
            Ok(_) => panic!("{call:?} unexpectedly succeeded"),
            Err((code, _)) => code,
        }
    }

    fn issuer(&mut self, seed: u64, types: &[&str]) {
        let k = key(seed);
        self.ok(&k, &IdentityCall::Register);
        self.ok(
            &k,
            &IdentityCall::RegisterIssuer {
                name: format!("issuer {seed}"),
                credential_types: types.iter().map(|t| (*t).to_owned()).collect(),
            },
        );
    }

    fn identity_query(&self, path: &str, data: &[u8]) -> serde_json::Value {
        self.query_json(IDENTITY_MODULE, path, data)
    }

    fn identity_query_code(&self, path: &str, data: &[u8]) -> u32 {
        self.query_code(IDENTITY_MODULE, path, data)
    }
}
