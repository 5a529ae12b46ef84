//! Block execution throughput: a full block of signed transfers, verified (batch signature
//! check + re-execution + state root) and finalized (one durable commit to disk).

// A benchmark measures wall time; it is off the consensus path.
#![allow(clippy::disallowed_methods)]

use std::time::{Duration, Instant};

use counterweight_app::App;
use counterweight_bank::{BANK_MODULE, BankCall, ModuleCall as _};
use counterweight_crypto::SigningKey;
use counterweight_types::{
    Block, Call, ChainId, Genesis, GenesisAccount, Params, SignedTransaction, Transaction,
};
use cpu_time::ThreadTime;
use criterion::{Criterion, Throughput, criterion_group, criterion_main};

const TXS_PER_BLOCK: usize = 5_000;

struct Chain {
    proposer_key: SigningKey,
    senders: Vec<SigningKey>,
    nonce: u64,
    proposer: App,
    validator: App,
    _dirs: (tempfile::TempDir, tempfile::TempDir),
}

impl Chain {
    fn new() -> Self {
        let proposer_key = SigningKey::from_seed(u64::MAX);
        let senders: Vec<SigningKey> = (0..TXS_PER_BLOCK as u64)
            .map(SigningKey::from_seed)
            .collect();
        let genesis = Genesis {
            chain_id: ChainId::new("bench").expect("valid chain id"),
            genesis_time_ms: 0,
            validators: vec![proposer_key.address()],
            accounts: senders
                .iter()
                .map(|k| GenesisAccount {
                    address: k.address(),
                    balance: 1_000_000_000,
                })
                .collect(),
            params: Params {
                min_fee: 1,
                max_block_txs: TXS_PER_BLOCK as u32,
            },
        };
        let dirs = (
            tempfile::tempdir().expect("temp dir"),
            tempfile::tempdir().expect("temp dir"),
        );
        let proposer = App::open(dirs.0.path(), genesis.clone()).expect("open proposer");
        let validator = App::open(dirs.1.path(), genesis).expect("open validator");
        Self {
            proposer_key,
            senders,
            nonce: 0,
            proposer,
            validator,
            _dirs: dirs,
        }
    }

    /// Signs one transfer per sender and has the proposer build (and finalize) the block.
    fn next_block(&mut self) -> (Block, Block) {
        let chain_id = self.proposer.genesis().chain_id.clone();
        let n = self.senders.len();
        let txs: Vec<SignedTransaction> = self
            .senders
            .iter()
            .enumerate()
            .map(|(i, key)| {
                key.sign_tx(Transaction {
                    chain_id: chain_id.clone(),
                    sender: key.address(),
                    nonce: self.nonce,
                    fee: 1,
                    call: Call {
                        module: BANK_MODULE,
                        payload: BankCall::Transfer {
                            to: self.senders[(i + 1) % n].address(),
                            amount: 1,
                        }
                        .to_payload(),
                    },
                })
            })
            .collect();
        self.nonce += 1;
        let parent = self.proposer.committed_block().expect("tip");
        let block = self
            .proposer
            .build_block(&parent, self.nonce * 1000, self.proposer_key.address(), txs)
            .expect("build")
            .expect("known parent");
        assert_eq!(block.txs.len(), n, "every transfer is included");
        self.proposer
            .finalize_block(&block)
            .expect("proposer finalize");
        (parent, block)
    }
}

/// What a sample measures. On a shared machine the CPU time of the executing thread shows
/// the cost of the work itself; wall time adds waiting for the CPU and for `fsync`.
#[derive(Clone, Copy, Debug)]
enum Clock {
    Wall,
    ThreadCpu,
}

fn block_execution(c: &mut Criterion) {
    let mut chain = Chain::new();
    let mut group = c.benchmark_group("app");
    group.throughput(Throughput::Elements(TXS_PER_BLOCK as u64));
    group.sample_size(10);
    group.measurement_time(Duration::from_secs(20));
    for clock in [Clock::Wall, Clock::ThreadCpu] {
        let name = format!("verify_finalize/txs={TXS_PER_BLOCK} store=disk clock={clock:?}");
        group.bench_function(name, |b| {
            b.iter_custom(|iters| {
                let mut total = Duration::ZERO;
                for _ in 0..iters {
                    let (parent, block) = chain.next_block();
                    let wall = Instant::now();
                    let cpu = ThreadTime::now();
                    chain
                        .validator
                        .verify_block(&parent, &block)
                        .expect("verify")
                        .expect("valid block");
                    chain.validator.finalize_block(&block).expect("finalize");
                    total += match clock {
                        Clock::Wall => wall.elapsed(),
                        Clock::ThreadCpu => cpu.elapsed(),
                    };
                }
                total
            });
        });
    }
    group.finish();
}

criterion_group!(benches, block_execution);
criterion_main!(benches);
