//! The mempool against one spammer (audit H1): a real app in memory behind a real [`Chain`],
//! with consensus replaced by "propose on the committed tip, then finalize".

use counterweight_app::App;
use counterweight_bank::{BANK_MODULE, BankCall, ModuleCall as _};
use counterweight_consensus::{Ledger as _, Verdict};
use counterweight_crypto::SigningKey;
use counterweight_node::{Chain, Mempool, config::MempoolConfig};
use counterweight_rpc::{NodeApi as _, TxStatus};
use counterweight_types::{
    Call, ChainId, Genesis, GenesisAccount, Hash, Params, SignedTransaction, Transaction,
};

const HONEST_FUNDS: u64 = 1_000_000;

struct Net {
    chain: Chain,
    validator: SigningKey,
    genesis: Genesis,
    runtime: tokio::runtime::Runtime,
}

impl Net {
    /// A one-validator chain holding `max_block_txs` per block, `accounts` funded as given.
    fn new(max_block_txs: u32, accounts: &[(&SigningKey, u64)]) -> Self {
        let validator = SigningKey::from_seed(7);
        let genesis = Genesis {
            chain_id: ChainId::new("mempool-test").unwrap(),
            genesis_time_ms: 1_700_000_000_000,
            validators: vec![validator.address()],
            accounts: accounts
                .iter()
                .map(|(key, balance)| GenesisAccount {
                    address: key.address(),
                    balance: *balance,
                })
                .collect(),
            params: Params {
                max_block_txs,
                ..Params::default()
            },
        };
        let app = App::in_memory(genesis.clone()).unwrap();
        let chain = Chain::new(app, Mempool::new(MempoolConfig::default()));
        let runtime = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        Self {
            chain,
            validator,
            genesis,
            runtime,
        }
    }

    fn transfer(
        &self,
        from: &SigningKey,
        nonce: u64,
        to: &SigningKey,
        amount: u64,
    ) -> SignedTransaction {
        from.sign_tx(Transaction {
            chain_id: self.genesis.chain_id.clone(),
            sender: from.address(),
            nonce,
            fee: self.genesis.params.min_fee,
            call: Call {
                module: BANK_MODULE,
                payload: BankCall::Transfer {
                    to: to.address(),
                    amount,
                }
                .to_payload(),
            },
        })
    }

    /// Submit as a client would; whether the node admitted it.
    fn submit(&self, tx: SignedTransaction) -> bool {
        self.runtime.block_on(self.chain.submit(tx)).is_ok()
    }

    /// Propose a block on the committed tip and finalize it; its transaction count.
    fn next_block(&self) -> usize {
        let parent = self.chain.app().committed_block().unwrap();
        let timestamp = parent.header.timestamp_ms + 1_000;
        let Verdict::Valid(block) = self
            .chain
            .propose(&parent, timestamp, self.validator.address().0)
            .unwrap()
        else {
            panic!("the validator builds on its committed tip");
        };
        self.chain.finalize(&block).unwrap();
        block.txs.len()
    }

    fn finalized(&self, hash: &Hash) -> bool {
        matches!(self.chain.tx_status(hash).unwrap(), TxStatus::Finalized(_))
    }

    /// Blocks until `hash` is finalized, at most `max_blocks`.
    fn blocks_until_finalized(&self, hash: &Hash, max_blocks: usize) -> Option<usize> {
        for n in 1..=max_blocks {
            self.next_block();
            if self.finalized(hash) {
                return Some(n);
            }
        }
        None
    }
}

/// `count` keys whose addresses all sort below `above`'s.
fn keys_below(above: &SigningKey, count: usize, first_seed: u64) -> Vec<SigningKey> {
    (first_seed..)
        .map(SigningKey::from_seed)
        .filter(|k| k.address() < above.address())
        .take(count)
        .collect()
}

/// A sender whose address sorts high (so address order puts it last).
fn high_address_key() -> SigningKey {
    (1_000..1_064)
        .map(SigningKey::from_seed)
        .max_by_key(SigningKey::address)
        .unwrap()
}

#[test]
fn stuck_transaction_does_not_censor_honest_transfers() {
    // The audit's repro: blocks of one transaction; attackers with low addresses. Each of the
    // first half holds one fee and queues nonces 0 and 1 (nonce 1 can never pay); each of
    // the second half holds two, and its nonce 0 transfers one away, so nonce 1 passes
    // admission but cannot pay when built.
    let honest = high_address_key();
    let sink = SigningKey::from_seed(99);
    let attackers = keys_below(&honest, 8, 10_000);
    let mut accounts: Vec<(&SigningKey, u64)> = vec![(&honest, HONEST_FUNDS)];
    for (i, key) in attackers.iter().enumerate() {
        accounts.push((key, if i < 4 { 1 } else { 2 }));
    }
    let net = Net::new(1, &accounts);
    for (i, key) in attackers.iter().enumerate() {
        let amount = if i < 4 { 0 } else { 1 };
        assert!(net.submit(net.transfer(key, 0, &sink, amount)));
        // Admitted or refused: either way it must not block anyone.
        net.submit(net.transfer(key, 1, &sink, 0));
    }
    let transfer = net.transfer(&honest, 0, &sink, 5);
    let hash = transfer.hash();
    assert!(net.submit(transfer));
    // 8 payable attacker transactions may go first; then the honest transfer must land.
    let blocks = net.blocks_until_finalized(&hash, 12);
    assert!(blocks.is_some(), "the honest transfer was censored");
    // The never-payable transactions are gone from the pool.
    for _ in 0..4 {
        net.next_block();
    }
    assert_eq!(
        net.chain.mempool().len(),
        0,
        "stuck transactions stay pending"
    );
}

#[test]
fn low_address_senders_cannot_monopolise_block_space() {
    // 16 funded senders with low addresses keep 30 valid transfers each queued; an honest
    // sender with a high address submits one. Blocks hold two transactions.
    let honest = high_address_key();
    let sink = SigningKey::from_seed(99);
    let spammers = keys_below(&honest, 16, 20_000);
    let mut accounts: Vec<(&SigningKey, u64)> = vec![(&honest, HONEST_FUNDS)];
    accounts.extend(spammers.iter().map(|k| (k, HONEST_FUNDS)));
    let net = Net::new(2, &accounts);
    for nonce in 0..30 {
        for key in &spammers {
            assert!(net.submit(net.transfer(key, nonce, &sink, 1)));
        }
    }
    let transfer = net.transfer(&honest, 0, &sink, 5);
    let hash = transfer.hash();
    assert!(net.submit(transfer));
    // Every sender gets a turn: 17 senders, 2 per block.
    let blocks = net.blocks_until_finalized(&hash, 9);
    assert!(
        blocks.is_some(),
        "the honest transfer waited behind low addresses"
    );
}
