//! Gossip pending transactions to the other validators over a p2p channel, in small batches.

use crate::chain::Chain;
use bytes::Bytes;
use commonware_codec::{DecodeRangeExt as _, Encode as _};
use commonware_cryptography::ed25519;
use commonware_p2p::{Receiver, Recipients, Sender};
use commonware_runtime::{Clock, Spawner};
use counterweight_types::SignedTransaction;
use std::time::Duration;
use tokio::sync::mpsc;
use tracing::{debug, warn};

/// Most transactions in one gossip message.
pub const MAX_GOSSIP_BATCH: usize = 1_024;

/// How long a transaction may wait to be batched before it is sent.
const FLUSH_INTERVAL: Duration = Duration::from_millis(5);

/// The largest encoded gossip message.
pub const fn max_gossip_message_size() -> usize {
    MAX_GOSSIP_BATCH * (counterweight_types::MAX_TX_BYTES + 8) + 8
}

/// Send locally submitted transactions to every peer, batching up to [`MAX_GOSSIP_BATCH`].
pub async fn run_outbound<E, S>(
    context: E,
    mut sender: S,
    mut outbound: mpsc::UnboundedReceiver<SignedTransaction>,
) where
    E: Clock,
    S: Sender<PublicKey = ed25519::PublicKey>,
{
    let mut batch = Vec::with_capacity(MAX_GOSSIP_BATCH);
    loop {
        let Some(tx) = outbound.recv().await else {
            return;
        };
        batch.push(tx);
        // Gather what else arrives within the flush interval (or until the batch is full).
        let deadline = context.current() + FLUSH_INTERVAL;
        while batch.len() < MAX_GOSSIP_BATCH {
            match outbound.try_recv() {
                Ok(tx) => batch.push(tx),
                Err(mpsc::error::TryRecvError::Empty) => {
                    if context.current() >= deadline {
                        break;
                    }
                    context.sleep(Duration::from_millis(1)).await;
                }
                Err(mpsc::error::TryRecvError::Disconnected) => break,
            }
        }
        let message: Bytes = std::mem::take(&mut batch).encode();
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
