//! The engine over a minimal ledger (the `Ledger` seam), on the deterministic runtime and the
//! simulated network: four validators finalize the same blocks, a ledger that refuses a
//! block is respected, and the engine refuses configurations it cannot run.

use std::{
    collections::BTreeMap,
    sync::{Arc, Mutex},
    time::Duration,
};

use bytes::BufMut;
use commonware_codec::{EncodeSize, Error as CodecError, Read, ReadExt, Write};
use commonware_cryptography::{Signer as _, ed25519};
use commonware_p2p::{
    Manager as _,
    simulated::{self, Link, Network},
};
use commonware_runtime::{
    Clock as _, Quota, Runner as _, Spawner as _, Supervisor as _, deterministic,
};
use commonware_utils::{NZU32, NZUsize, ordered::Set};
use counterweight_consensus::{BlockDigest, Channels, Config, Error, Ledger, Timeouts, Verdict};

/// A block of the toy chain: a height, a parent, a time, and a number the proposer chose.
#[derive(Clone, Debug, PartialEq, Eq)]
struct ToyBlock {
    height: u64,
    parent: BlockDigest,
    timestamp_ms: u64,
    proposer: BlockDigest,
    value: u64,
}

impl Write for ToyBlock {
    fn write(&self, buf: &mut impl BufMut) {
        self.height.write(buf);
        self.parent.write(buf);
        self.timestamp_ms.write(buf);
        self.proposer.write(buf);
        self.value.write(buf);
    }
}

impl EncodeSize for ToyBlock {
    fn encode_size(&self) -> usize {
        8 + 32 + 8 + 32 + 8
    }
}

impl Read for ToyBlock {
    type Cfg = ();
    fn read_cfg(buf: &mut impl commonware_codec::Buf, _: &()) -> Result<Self, CodecError> {
        Ok(Self {
            height: u64::read(buf)?,
            parent: <[u8; 32]>::read(buf)?,
            timestamp_ms: u64::read(buf)?,
            proposer: <[u8; 32]>::read(buf)?,
            value: u64::read(buf)?,
        })
    }
}

#[derive(Debug, thiserror::Error)]
#[error("toy ledger fault")]
struct Fault;

/// The toy ledger: finalized blocks in memory; `value` is the parent's plus one, and a
/// ledger built with `refuse` finds blocks whose value is that number invalid.
#[derive(Clone, Default)]
struct ToyLedger {
    finalized: Arc<Mutex<BTreeMap<u64, ToyBlock>>>,
    refuse: Option<u64>,
    /// A Byzantine (or badly skewed) proposer: stamps its blocks this many ms ahead.
    skew_ms: Option<u64>,
}

fn digest(block: &ToyBlock) -> BlockDigest {
    let mut buf = Vec::with_capacity(block.encode_size());
    block.write(&mut buf);
    *blake3::hash(&buf).as_bytes()
}

impl Ledger for ToyLedger {
    type Block = ToyBlock;
    type Error = Fault;

    fn digest(block: &ToyBlock) -> BlockDigest {
        digest(block)
    }
    fn height(block: &ToyBlock) -> u64 {
        block.height
    }
    fn parent(block: &ToyBlock) -> BlockDigest {
        block.parent
    }
    fn timestamp_ms(block: &ToyBlock) -> u64 {
        block.timestamp_ms
    }
    fn block_codec_config(&self) {}
    fn genesis(&self) -> ToyBlock {
        ToyBlock {
            height: 0,
            parent: [0; 32],
            timestamp_ms: 0,
            proposer: [0; 32],
            value: 0,
        }
    }
    fn committed_height(&self) -> Result<u64, Fault> {
        let finalized = self.finalized.lock().map_err(|_| Fault)?;
        Ok(finalized.keys().next_back().copied().unwrap_or(0))
    }
    fn propose(
        &self,
        parent: &ToyBlock,
        timestamp_ms: u64,
        proposer: BlockDigest,
    ) -> Result<Verdict<ToyBlock>, Fault> {
        Ok(Verdict::Valid(ToyBlock {
            height: parent.height + 1,
            parent: digest(parent),
            timestamp_ms: timestamp_ms
                .saturating_add(self.skew_ms.unwrap_or(0))
                .max(parent.timestamp_ms),
            proposer,
            value: parent.value + 1,
        }))
    }
    fn verify(&self, parent: &ToyBlock, block: &ToyBlock) -> Result<Verdict<()>, Fault> {
        let valid = block.height == parent.height + 1
            && block.parent == digest(parent)
            && block.timestamp_ms >= parent.timestamp_ms
            && block.value == parent.value + 1
            && Some(block.value) != self.refuse;
        Ok(if valid {
            Verdict::Valid(())
        } else {
            Verdict::Invalid
        })
    }
    fn finalize(&self, block: &ToyBlock) -> Result<(), Fault> {
        let mut finalized = self.finalized.lock().map_err(|_| Fault)?;
        finalized
            .entry(block.height)
            .or_insert_with(|| block.clone());
        Ok(())
    }
}

struct Outcome {
    chains: Vec<BTreeMap<u64, ToyBlock>>,
    /// Simulated time (ms since the Unix epoch) when the run ended.
    end_ms: u64,
}

/// Runs `validators` engines (each with its ledger from `ledger(i)`) until every one has
/// finalized `target` blocks or simulated time runs out.
fn run(seed: u64, validators: usize, target: u64, ledger: impl Fn(usize) -> ToyLedger) -> Outcome {
    let runner = deterministic::Runner::new(
        deterministic::Config::new()
            .with_seed(seed)
            .with_timeout(Some(Duration::from_secs(600))),
    );
    let ledgers: Vec<ToyLedger> = (0..validators).map(ledger).collect();
    let shared = ledgers.clone();
    let end_ms = runner.start(async move |context| {
        let signers: Vec<_> = (0..validators)
            .map(|i| ed25519::PrivateKey::from_seed(i as u64))
            .collect();
        let publics: Vec<_> = signers.iter().map(|s| s.public_key()).collect();
        let (network, oracle) = Network::new(
            context.child("network"),
            simulated::Config {
                max_size: 1024 * 1024,
                max_peers_per_set: NZUsize!(16),
                disconnect_on_block: true,
                tracked_peer_sets: NZUsize!(1),
            },
        );
        network.start();
        let mut manager = oracle.manager();
        let _ = manager.track(0, Set::try_from(publics.clone()).expect("distinct keys"));
        for a in &publics {
            for b in &publics {
                if a != b {
                    let link = Link {
                        latency: Duration::from_millis(10),
                        jitter: Duration::from_millis(2),
                        success_rate: commonware_utils::probability!(1.0),
                    };
                    oracle
                        .add_link(a.clone(), b.clone(), link)
                        .await
                        .expect("link");
                }
            }
        }
        for (i, ledger) in shared.iter().enumerate() {
            let control = oracle.control(publics[i].clone());
            let quota = Quota::per_second(NZU32!(100_000));
            let mut channels = Vec::new();
            for channel in 0..5u64 {
                channels.push(control.register(channel, quota).await.expect("channel"));
            }
            let mut channels = channels.into_iter();
            let mut next = || channels.next().expect("five channels");
            let config = Config {
                ledger: ledger.clone(),
                signer: signers[i].clone(),
                validators: publics.clone(),
                namespace: b"toy".to_vec(),
                partition_prefix: format!("toy{i}"),
                blocker: control.clone(),
                peer_provider: oracle.manager(),
                timeouts: Timeouts {
                    leader_timeout: Duration::from_millis(500),
                    certification_timeout: Duration::from_secs(1),
                    timeout_retry: Duration::from_secs(2),
                },
                mailbox_size: NZUsize!(1_024),
                min_block_interval: Duration::from_millis(20),
            };
            let channels = Channels {
                votes: next(),
                certificates: next(),
                resolver: next(),
                blocks: next(),
                backfill: next(),
            };
            let ctx = context.child("validator").with_attribute("index", i);
            context.child("start").spawn(move |_| async move {
                let running = counterweight_consensus::start(ctx, config, channels)
                    .await
                    .expect("engine starts");
                let _ = running.finalizer.await;
            });
        }
        let deadline = context.current() + Duration::from_secs(300);
        loop {
            let done = shared
                .iter()
                .all(|l| l.committed_height().unwrap_or(0) >= target);
            if done || context.current() >= deadline {
                break;
            }
            context.sleep(Duration::from_millis(50)).await;
        }
        context
            .current()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
            .unwrap_or(0)
    });
    Outcome {
        end_ms,
        chains: ledgers
            .iter()
            .map(|l| l.finalized.lock().expect("lock").clone())
            .collect(),
    }
}

fn assert_same_prefix(outcome: &Outcome, target: u64) {
    let first = &outcome.chains[0];
    for chain in &outcome.chains {
        assert!(
            chain.len() as u64 >= target,
            "every validator finalized {target} blocks: {}",
            chain.len()
        );
        for h in 1..=target {
            assert_eq!(chain.get(&h), first.get(&h), "same block at height {h}");
        }
    }
    for h in 1..=target {
        let (block, parent) = (&first[&h], first.get(&(h - 1)));
        if let Some(parent) = parent {
            assert_eq!(block.parent, digest(parent), "height {h} extends {}", h - 1);
        }
        assert_eq!(block.value, h, "values count heights");
    }
}

#[test]
fn four_validators_finalize_the_same_chain() {
    let outcome = run(1, 4, 10, |_| ToyLedger::default());
    assert_same_prefix(&outcome, 10);
}

#[test]
fn the_same_seed_finalizes_the_same_blocks() {
    let a = run(7, 4, 5, |_| ToyLedger::default());
    let b = run(7, 4, 5, |_| ToyLedger::default());
    for (x, y) in a.chains.iter().zip(&b.chains) {
        for h in 1..=5 {
            assert_eq!(x.get(&h), y.get(&h));
        }
    }
}

#[test]
fn a_block_the_ledgers_refuse_is_never_finalized() {
    // Every honest ledger refuses the block with value 3: no chain can grow past height 2,
    // and nothing invalid is finalized.
    let outcome = run(3, 4, 3, |_| ToyLedger {
        refuse: Some(3),
        ..ToyLedger::default()
    });
    for chain in &outcome.chains {
        assert!(chain.keys().all(|&h| h <= 2), "{:?}", chain.keys());
        assert!(chain.values().all(|b| b.value != 3));
    }
}

/// Validator 0 stamps its blocks `skew_ms` ahead; the three honest ones must keep finalizing,
/// and no finalized block may be stamped beyond the bound of the clock that voted for it.
fn assert_skewed_proposer_cannot_stall_or_move_time(seed: u64, skew_ms: u64) {
    let target = 12;
    let outcome = run(seed, 4, target, |i| ToyLedger {
        skew_ms: (i == 0).then_some(skew_ms),
        ..ToyLedger::default()
    });
    for (i, chain) in outcome.chains.iter().enumerate().skip(1) {
        assert!(
            chain.len() as u64 >= target,
            "honest validator {i} finalized {} blocks with a proposer {skew_ms} ms ahead",
            chain.len()
        );
    }
    assert_same_prefix(&outcome, target);
    for block in outcome.chains[1].values() {
        assert!(
            counterweight_consensus::timestamp_in_bound(block.timestamp_ms, outcome.end_ms),
            "height {} stamped {} ms, run ended at {} ms",
            block.height,
            block.timestamp_ms,
            outcome.end_ms
        );
    }
}

#[test]
fn a_proposer_stamping_a_year_ahead_does_not_stall_honest_leaders() {
    assert_skewed_proposer_cannot_stall_or_move_time(11, 365 * 24 * 3_600 * 1_000);
}

#[test]
fn a_proposer_stamping_u64_max_does_not_stall_honest_leaders() {
    assert_skewed_proposer_cannot_stall_or_move_time(12, u64::MAX);
}

#[test]
fn a_slightly_skewed_clock_within_the_bound_still_proposes() {
    // 500 ms ahead is inside MAX_TIMESTAMP_DRIFT: its blocks are fine and time stays near real.
    assert_skewed_proposer_cannot_stall_or_move_time(13, 500);
}

#[test]
fn timestamps_are_bounded_by_the_verifiers_clock() {
    use counterweight_consensus::{MAX_TIMESTAMP_DRIFT, timestamp_in_bound};
    let drift = u64::try_from(MAX_TIMESTAMP_DRIFT.as_millis()).expect("small");
    assert!(timestamp_in_bound(1_000, 1_000));
    assert!(timestamp_in_bound(1_000 + drift, 1_000));
    assert!(!timestamp_in_bound(1_001 + drift, 1_000));
    assert!(!timestamp_in_bound(u64::MAX, 1_000));
    assert!(timestamp_in_bound(u64::MAX, u64::MAX));
}

#[test]
fn refuses_configurations_it_cannot_run() {
    let runner = deterministic::Runner::new(deterministic::Config::new().with_seed(0));
    runner.start(async move |context| {
        let signer = ed25519::PrivateKey::from_seed(0);
        let stranger = ed25519::PrivateKey::from_seed(9).public_key();
        let (network, oracle) = Network::new(
            context.child("network"),
            simulated::Config {
                max_size: 1024 * 1024,
                max_peers_per_set: NZUsize!(16),
                disconnect_on_block: true,
                tracked_peer_sets: NZUsize!(1),
            },
        );
        network.start();
        let control = oracle.control(signer.public_key());
        type Expect = fn(&Error) -> bool;
        let cases: [(Vec<ed25519::PublicKey>, Expect); 3] = [
            (vec![], |e| {
                matches!(e, Error::NoValidators | Error::NotAValidator)
            }),
            (vec![stranger.clone()], |e| {
                matches!(e, Error::NotAValidator)
            }),
            (vec![stranger.clone(), stranger], |e| {
                matches!(e, Error::DuplicateValidator)
            }),
        ];
        for (n, (validators, expected)) in cases.into_iter().enumerate() {
            let quota = Quota::per_second(NZU32!(1_000));
            let mut channels = Vec::new();
            for channel in 0..5u64 {
                let id = 10 * (n as u64 + 1) + channel;
                channels.push(control.register(id, quota).await.expect("channel"));
            }
            let mut channels = channels.into_iter();
            let mut next = || channels.next().expect("five channels");
            let config = Config {
                ledger: ToyLedger::default(),
                signer: signer.clone(),
                validators,
                namespace: b"toy".to_vec(),
                partition_prefix: format!("bad{n}"),
                blocker: control.clone(),
                peer_provider: oracle.manager(),
                timeouts: Timeouts::default(),
                mailbox_size: NZUsize!(16),
                min_block_interval: Duration::from_millis(20),
            };
            let channels = Channels {
                votes: next(),
                certificates: next(),
                resolver: next(),
                blocks: next(),
                backfill: next(),
            };
            match counterweight_consensus::start(context.child("bad"), config, channels).await {
                Err(e) => assert!(expected(&e), "case {n}: {e}"),
                Ok(_) => panic!("case {n}: the engine started"),
            }
        }
    });
}

#[test]
fn message_size_grows_with_the_validator_set() {
    let small = counterweight_consensus::max_consensus_message_size(4);
    let large = counterweight_consensus::max_consensus_message_size(100);
    assert!(small > 0 && large > small, "{small} {large}");
}
