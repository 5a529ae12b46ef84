//! Integration tests of the coop module through its public API, on the shared [`TestChain`].

mod codec;
mod credential;
mod datasets;
mod governance;
mod membership;
mod suite;

use std::sync::Arc;

use counterweight_audit::Audit;
use counterweight_bank::{BANK_MODULE, Bank, BankCall};
use counterweight_coop::{
    Admission, COOP_MODULE, CoopCall, CoopModule, ModuleCall as _, ProposalKind, Rules, coop_id,
    proposal_id,
};
use counterweight_crypto::SigningKey;
use counterweight_identity::Identity;
use counterweight_state::test_utils::{TestChain, attr};
use counterweight_types::{Address, Event, Hash, ReceiptStatus, TxReceipt};

/// Seeds of the funded keys that tests use as credential issuers.
pub(crate) const ISSUER_SEEDS: [u64; 2] = [100, 101];

/// Starting balance of every test account.
pub(crate) const BALANCE: u64 = 1_000_000;
/// Voting period of [`rules`].
pub(crate) const PERIOD_MS: u64 = 10_000;

/// The test account `i`.
pub(crate) fn addr(i: u8) -> Address {
    Address([i + 1; 32])
}

/// Majority rules: quorum 50 %, approval 50 %, 10 s voting, 20 % revenue kept.
pub(crate) fn rules(admission: Admission) -> Rules {
    Rules {
        quorum_permille: 500,
        approval_permille: 500,
        voting_period_ms: PERIOD_MS,
        revenue_share_permille: 200,
        admission,
    }
}

/// A chain with the bank, identity, coop and audit modules (the audit log also records),
/// where accounts 0..8 and the issuers hold [`BALANCE`] each. Every block is stamped 1,000 ms
/// until a test moves the clock with [`TestChain::advance_ms`].
pub(crate) fn chain() -> TestChain {
    let bank = Arc::new(Bank);
    let accounts = (0..8)
        .map(addr)
        .chain(ISSUER_SEEDS.map(|seed| SigningKey::from_seed(seed).address()));
    accounts
        .fold(
            TestChain::builder(bank.clone())
                .module(bank)
                .module(Arc::new(Identity))
                .module(Arc::new(CoopModule))
                .module(Arc::new(Audit))
                .recorder(Arc::new(Audit)),
            |b, a| b.account(a, BALANCE),
        )
        .chain_id("coop-test")
        .genesis_time_ms(1_000)
        .block_time_ms(0)
        .build()
}

/// Returns whether an event of `kind` was emitted.
pub(crate) fn has(events: &[Event], kind: &str) -> bool {
    events.iter().any(|e| e.kind == kind)
}

/// Coop steps on a [`TestChain`].
pub(crate) trait CoopChain {
    /// Runs a coop call from `from` in a new block; returns the receipt.
    fn call(&mut self, from: Address, call: &CoopCall) -> TxReceipt;

    /// Runs a coop call that must succeed; returns its events.
    fn ok(&mut self, from: Address, call: &CoopCall) -> Vec<Event>;

    /// Runs a coop call that must fail with `code`.
    fn refused(&mut self, from: Address, call: &CoopCall, code: u32);

    /// Moves funds with the bank.
    fn transfer(&mut self, from: Address, to: Address, amount: u64);

    /// Creates a coop founded by `founder`; returns its id.
    fn create(&mut self, founder: Address, admission: Admission) -> Hash;

    /// Opens a proposal from `from`; returns its id.
    fn propose(&mut self, from: Address, coop: Hash, kind: ProposalKind) -> Hash;

    /// Votes; must succeed.
    fn vote(&mut self, from: Address, proposal: Hash, yes: bool);

    /// Admits `members` by vote into a coop whose only member is `founder`.
    fn admit_all(&mut self, coop: Hash, founder: Address, members: &[Address]);

    /// Runs a coop query that must answer; returns its JSON.
    fn coop_query(&self, path: &str, data: &[u8]) -> serde_json::Value;

    /// Runs a coop query that must fail; returns its code.
    fn coop_query_code(&self, path: &str, data: &[u8]) -> u32;

    /// The bank balance of `who`.
    fn balance(&self, who: &Address) -> u64;
}

impl CoopChain for TestChain {
    fn call(&mut self, from: Address, call: &CoopCall) -> TxReceipt {
        self.try_send(from, COOP_MODULE, call.to_payload())
            .expect("transaction accepted")
    }

    fn ok(&mut self, from: Address, call: &CoopCall) -> Vec<Event> {
        let receipt = self.call(from, call);
        assert_eq!(receipt.status, ReceiptStatus::Ok, "call {call:?} failed");
        receipt.events
    }

    fn refused(&mut self, from: Address, call: &CoopCall, code: u32) {
        match self.call(from, call).status {
            ReceiptStatus::Failed { code: got, message } => {
                assert_eq!(got, code, "call {call:?} failed with {message:?}");
            }
            ReceiptStatus::Ok => panic!("call {call:?} succeeded; expected code {code}"),
        }
    }

    fn transfer(&mut self, from: Address, to: Address, amount: u64) {
        self.send(from, BANK_MODULE, &BankCall::Transfer { to, amount })
            .unwrap_or_else(|(code, message)| panic!("transfer refused: {code} {message}"));
    }

    fn create(&mut self, founder: Address, admission: Admission) -> Hash {
        let receipt = self.call(
            founder,
            &CoopCall::Create {
                name: "farmers".into(),
                rules: rules(admission),
            },
        );
        assert_eq!(receipt.status, ReceiptStatus::Ok);
        let id = coop_id(self.chain_id(), &receipt.tx_hash);
        assert_eq!(attr(&receipt.events, "coop_created", "coop"), id.to_hex());
        id
    }

    fn propose(&mut self, from: Address, coop: Hash, kind: ProposalKind) -> Hash {
        let receipt = self.call(from, &CoopCall::Propose { coop, kind });
        assert_eq!(receipt.status, ReceiptStatus::Ok, "propose failed");
        let id = proposal_id(self.chain_id(), &receipt.tx_hash);
        assert_eq!(
            attr(&receipt.events, "proposal_created", "proposal"),
            id.to_hex()
        );
        id
    }

    fn vote(&mut self, from: Address, proposal: Hash, yes: bool) {
        self.ok(from, &CoopCall::Vote { proposal, yes });
    }

    fn admit_all(&mut self, coop: Hash, founder: Address, members: &[Address]) {
        let mut voters = vec![founder];
        for &m in members {
            let events = self.ok(
                m,
                &CoopCall::Join {
                    coop,
                    credential: None,
                },
            );
            let proposal: Hash = attr(&events, "join_requested", "proposal")
                .parse()
                .expect("hex id");
            for &v in &voters {
                self.vote(v, proposal, true);
            }
            self.ok(m, &CoopCall::Execute { proposal });
            voters.push(m);
        }
    }

    fn coop_query(&self, path: &str, data: &[u8]) -> serde_json::Value {
        self.query_json(COOP_MODULE, path, data)
    }

    fn coop_query_code(&self, path: &str, data: &[u8]) -> u32 {
        self.query_code(COOP_MODULE, path, data)
    }

    fn balance(&self, who: &Address) -> u64 {
        counterweight_bank::balance(self.state(), who).expect("read balance")
    }
}
