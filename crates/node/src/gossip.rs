//! Gossip pending transactions to the other validators over a p2p channel, in small batches.

use crate::chain::Chain;
use bytes::Bytes;
use commonware_codec::{DecodeRangeExt as _, Encode as _};
use commonware_cryptography::ed25519;
use commonware_p2p::{Receiver, Recipients, Sender};
use commonware_runtime::{Clock, Spawner};
use counterweight_types::{EncodeSize as _, SignedTransaction};
use std::time::Duration;
use tokio::sync::mpsc;
use tracing::{debug, warn};

/// Most transactions in one gossip message.
pub const MAX_GOSSIP_BATCH: usize = 1_024;

/// How long a transaction may wait to be batched before it is sent.
const FLUSH_INTERVAL: Duration = Duration::from_millis(5);

/// Most encoded bytes in one gossip message: a batch is cut by bytes as well as by count, so
/// every message fits the p2p frame limit (audit L4; the limit is at least a block's size).
pub const MAX_GOSSIP_MESSAGE_BYTES: usize = 4 * 1024 * 1024;

/// The largest encoded gossip message.
pub const fn max_gossip_message_size() -> usize {
    MAX_GOSSIP_MESSAGE_BYTES
}

/// Bytes of a batch's length prefix (a varint of at most [`MAX_GOSSIP_BATCH`]).
const BATCH_PREFIX_BYTES: usize = 5;

/// A batch being gathered, with its encoded size.
struct Batch {
    txs: Vec<SignedTransaction>,
    bytes: usize,
}

impl Batch {
    /// A batch holding `first` (one transaction is at most `MAX_TX_BYTES`, far below the cap).
    fn starting_with(first: SignedTransaction) -> Self {
        let bytes = BATCH_PREFIX_BYTES + first.encode_size();
        let mut txs = Vec::with_capacity(MAX_GOSSIP_BATCH);
        txs.push(first);
        Self { txs, bytes }
    }

    fn is_full(&self) -> bool {
        self.txs.len() >= MAX_GOSSIP_BATCH
    }

    /// Whether `tx` keeps the batch within its count and bytes.
    fn fits(&self, tx: &SignedTransaction) -> bool {
        !self.is_full() && self.bytes + tx.encode_size() <= MAX_GOSSIP_MESSAGE_BYTES
    }

    fn push(&mut self, tx: SignedTransaction) {
        self.bytes += tx.encode_size();
        self.txs.push(tx);
    }
}

/// Send locally submitted transactions to every peer, batching up to [`MAX_GOSSIP_BATCH`]
/// transactions and [`MAX_GOSSIP_MESSAGE_BYTES`].
pub async fn run_outbound<E, S>(
    context: E,
    mut sender: S,
    mut outbound: mpsc::UnboundedReceiver<SignedTransaction>,
) where
    E: Clock,
    S: Sender<PublicKey = ed25519::PublicKey>,
{
    // A transaction that did not fit the previous batch opens the next one.
    let mut carried: Option<SignedTransaction> = None;
    loop {
        let first = match carried.take() {
            Some(tx) => tx,
            None => match outbound.recv().await {
                Some(tx) => tx,
                None => return,
            },
        };
        let mut batch = Batch::starting_with(first);
        // Gather what else arrives within the flush interval (or until the batch is full).
        let deadline = context.current() + FLUSH_INTERVAL;
        while !batch.is_full() {
            match outbound.try_recv() {
                Ok(tx) if batch.fits(&tx) => batch.push(tx),
                Ok(tx) => {
                    carried = Some(tx);
                    break;
                }
                Err(mpsc::error::TryRecvError::Empty) => {
                    if context.current() >= deadline {
                        break;
                    }
                    context.sleep(Duration::from_millis(1)).await;
                }
                Err(mpsc::error::TryRecvError::Disconnected) => break,
            }
        }
        let message: Bytes = batch.txs.encode();
        debug_assert!(message.len() <= MAX_GOSSIP_MESSAGE_BYTES);
        let sent = sender.send(Recipients::All, message, false);
        debug!(target: "node::gossip", peers = sent.len(), "sent transaction batch");
    }
}

/// Admit transactions gossiped by peers into the local mempool (without re-gossiping them).
pub async fn run_inbound<R>(chain: Chain, mut receiver: R)
where
    R: Receiver<PublicKey = ed25519::PublicKey>,
{
    loop {
        let (peer, message) = match receiver.recv().await {
            Ok(m) => m,
            Err(e) => {
                debug!(target: "node::gossip", error = %e, "gossip channel closed");
                return;
            }
        };
        let txs = match Vec::<SignedTransaction>::decode_range(
            commonware_codec::Copying(message.as_ref()),
            ..=MAX_GOSSIP_BATCH,
        ) {
            Ok(txs) => txs,
            Err(e) => {
                warn!(target: "node::gossip", ?peer, error = %e, "malformed transaction batch");
                continue;
            }
        };
        chain.admit_gossiped(txs);
    }
}

/// Spawn both gossip directions on `context`.
pub fn spawn<E, S, R>(
    context: E,
    chain: Chain,
    (sender, receiver): (S, R),
    outbound: mpsc::UnboundedReceiver<SignedTransaction>,
) where
    E: Clock + Spawner,
    S: Sender<PublicKey = ed25519::PublicKey>,
    R: Receiver<PublicKey = ed25519::PublicKey>,
{
    context
        .child("gossip_out")
        .spawn(move |context| run_outbound(context, sender, outbound));
    context
        .child("gossip_in")
        .spawn(move |_| run_inbound(chain, receiver));
}

#[cfg(test)]
mod tests {
    use super::*;
    use commonware_cryptography::Signer as _;
    use commonware_p2p::{
        Manager as _,
        simulated::{self, Link, Network},
    };
    use commonware_runtime::{Quota, Runner as _, Supervisor as _, deterministic};
    use commonware_utils::{NZU32, NZUsize, ordered::Set};
    use counterweight_types::{Address, Call, ChainId, ModuleId, Signature, Transaction};

    fn large_tx(nonce: u64) -> SignedTransaction {
        SignedTransaction {
            tx: Transaction {
                chain_id: ChainId::new("test").unwrap(),
                sender: Address([1; 32]),
                nonce,
                fee: 1,
                call: Call {
                    module: ModuleId(1),
                    payload: Bytes::from(vec![7u8; 100 * 1024]),
                },
            },
            signature: Signature([0; 64]),
        }
    }

    #[test]
    fn a_burst_of_large_transactions_is_split_into_frames_that_all_arrive() {
        // Audit L4: 200 transactions of 100 KiB (20 MB) exceed one p2p frame.
        const BURST: u64 = 200;
        let frame_limit = crate::service::p2p_max_message_size(4);
        deterministic::Runner::default().start(|context| async move {
            let (network, oracle) = Network::new(
                context.child("network"),
                simulated::Config {
                    max_size: u32::try_from(frame_limit).unwrap(),
                    max_peers_per_set: NZUsize!(4),
                    disconnect_on_block: true,
                    tracked_peer_sets: NZUsize!(1),
                },
            );
            network.start();
            let keys: Vec<_> = (0..2)
                .map(|i| ed25519::PrivateKey::from_seed(i).public_key())
                .collect();
            let _ = oracle
                .manager()
                .track(0, Set::try_from(keys.clone()).unwrap());
            let link = Link {
                latency: Duration::from_millis(5),
                jitter: Duration::ZERO,
                success_rate: commonware_utils::probability!(1.0),
            };
            oracle
                .add_link(keys[0].clone(), keys[1].clone(), link)
                .await
                .unwrap();
            let quota = Quota::per_second(NZU32!(10_000));
            let (sender, _) = oracle
                .control(keys[0].clone())
                .register(5, quota)
                .await
                .unwrap();
            let (_, mut receiver) = oracle
                .control(keys[1].clone())
                .register(5, quota)
                .await
                .unwrap();
            let (outbound_tx, outbound) = mpsc::unbounded_channel();
            context
                .child("out")
                .spawn(move |context| run_outbound(context, sender, outbound));
            for nonce in 0..BURST {
                outbound_tx.send(large_tx(nonce)).unwrap();
            }
            // (nonces, frame sizes) as they arrive.
            let seen = std::sync::Arc::new(std::sync::Mutex::new((Vec::new(), Vec::new())));
            context.child("in").spawn({
                let seen = seen.clone();
                move |_| async move {
                    while let Ok((_, message)) = receiver.recv().await {
                        let txs = Vec::<SignedTransaction>::decode_range(
                            commonware_codec::Copying(message.as_ref()),
                            ..=MAX_GOSSIP_BATCH,
                        )
                        .unwrap();
                        let mut seen = seen.lock().unwrap();
                        seen.0.extend(txs.into_iter().map(|t| t.tx.nonce));
                        seen.1.push(message.len());
                    }
                }
            });
            context.sleep(Duration::from_secs(10)).await;
            let (received, frames) = seen.lock().unwrap().clone();
            for size in &frames {
                assert!(*size <= frame_limit && *size <= max_gossip_message_size());
            }
            assert!(frames.len() > 1);
            assert_eq!(
                received,
                (0..BURST).collect::<Vec<_>>(),
                "every transaction arrives, in order"
            );
        });
    }
}
