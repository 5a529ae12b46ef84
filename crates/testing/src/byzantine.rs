//! What the one Byzantine validator of a simulation does, and the real-node wrappers that do it.
//!
//! Except for [`Behaviour::Conflicter`] (commonware's vote-level mock in place of the engine),
//! a Byzantine validator runs our real node, app and engine, and misbehaves at one seam: the
//! timestamp it proposes with ([`SkewedLedger`]), the bytes it sends on the block channel
//! ([`TamperingSender`]), or the transactions it gossips ([`flood`]).

use bytes::Bytes;
use commonware_codec::Encode as _;
use commonware_cryptography::ed25519;
use commonware_p2p::{CheckedSender, LimitedSender, Recipients};
use commonware_runtime::{Clock, IoBufs};
use counterweight_bank::ModuleCall as _;
use counterweight_consensus::{BlockDigest, Ledger, Verdict};
use counterweight_crypto::SigningKey;
use counterweight_node::Chain;
use counterweight_types::{Block, Genesis, GenesisAccount, SignedTransaction};
use std::{
    sync::{Arc, Mutex},
    time::{Duration, SystemTime},
};

/// How the Byzantine validator misbehaves.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Behaviour {
    /// commonware's conflicting-vote mock replaces the engine: it votes for conflicting
    /// proposals (an equivocator at the vote level) and is blocked by its peers.
    Conflicter,
    /// A real node that stamps its proposals `offset_ms` ahead of its clock (saturating, so
    /// `u64::MAX` stamps the largest timestamp there is).
    FutureTimestamps {
        /// How far ahead.
        offset_ms: u64,
    },
    /// A real node that sends these validators a copy of each block it proposes with one
    /// signature byte flipped (the others get the genuine block).
    CorruptedCopies {
        /// Indices of the validators that get the corrupted copy.
        victims: Vec<usize>,
    },
    /// A real node that keeps gossiping transactions which can never execute: each of
    /// `accounts` accounts funded with exactly one fee queues a transaction that spends it and
    /// then more that cannot pay their fee.
    Flood {
        /// How many attacker accounts.
        accounts: u64,
        /// Never-payable transactions queued per account after the one that spends the balance.
        stuck_per_account: u64,
    },
}

/// The Byzantine validator of a simulation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Byzantine {
    /// Its validator index.
    pub index: usize,
    /// What it does.
    pub behaviour: Behaviour,
}

/// The attacker account `i` of [`Behaviour::Flood`].
pub fn attacker_account(i: u64) -> SigningKey {
    SigningKey::from_seed(0x000F_100D_0000 + i)
}

/// Adds the flood's attacker accounts to `genesis`, each funded with exactly one fee.
pub(crate) fn fund_attackers(genesis: &mut Genesis, accounts: u64) {
    for i in 0..accounts {
        genesis.accounts.push(GenesisAccount {
            address: attacker_account(i).address(),
            balance: genesis.params.min_fee,
        });
    }
}

/// The flood's transactions: per attacker account, nonce 0 (a transfer that leaves the balance
/// at zero once its fee is paid) and `stuck` more that can never pay.
pub(crate) fn flood_transactions(
    genesis: &Genesis,
    accounts: u64,
    stuck: u64,
) -> Vec<SignedTransaction> {
    let mut txs = Vec::new();
    for i in 0..accounts {
        let key = attacker_account(i);
        for nonce in 0..=stuck {
            txs.push(
                key.sign_tx(counterweight_types::Transaction {
                    chain_id: genesis.chain_id.clone(),
                    sender: key.address(),
                    nonce,
                    fee: genesis.params.min_fee,
                    call: counterweight_types::Call {
                        module: counterweight_bank::BANK_MODULE,
                        payload: counterweight_bank::BankCall::Transfer {
                            to: attacker_account((i + 1) % accounts).address(),
                            amount: 0,
                        }
                        .to_payload(),
                    },
                }),
            );
        }
    }
    txs
}

/// Gossips `txs` to every peer on the mempool channel, again every `every` (the way a
/// flooding validator re-sends), and offers them to its own pool too, so that no proposer's
/// pool is free of them.
pub(crate) async fn flood<E, S>(
    context: E,
    mut sender: S,
    chain: Chain,
    txs: Vec<SignedTransaction>,
    every: Duration,
) where
    E: Clock,
    S: commonware_p2p::Sender<PublicKey = ed25519::PublicKey>,
{
    loop {
        chain.admit_gossiped(txs.clone());
        for batch in txs.chunks(64) {
            let message: Bytes = batch.to_vec().encode();
            let _ = sender.send(Recipients::All, message, false);
        }
        context.sleep(every).await;
    }
}

/// Signatures of the transactions in the blocks a [`SkewedLedger`] proposed, newest last, for
/// the [`TamperingSender`] to find in outgoing messages.
pub(crate) type Proposed = Arc<Mutex<Vec<[u8; 64]>>>;

/// Our real ledger, proposing with a skewed timestamp and remembering what it proposed.
#[derive(Clone)]
pub(crate) struct SkewedLedger {
    pub(crate) chain: Chain,
    pub(crate) offset_ms: u64,
    pub(crate) proposed: Proposed,
}

impl Ledger for SkewedLedger {
    type Block = Block;
    type Error = <Chain as Ledger>::Error;

    fn digest(block: &Block) -> BlockDigest {
        <Chain as Ledger>::digest(block)
    }
    fn height(block: &Block) -> u64 {
        <Chain as Ledger>::height(block)
    }
    fn parent(block: &Block) -> BlockDigest {
        <Chain as Ledger>::parent(block)
    }
    fn timestamp_ms(block: &Block) -> u64 {
        <Chain as Ledger>::timestamp_ms(block)
    }
    fn block_codec_config(&self) {}
    fn genesis(&self) -> Block {
        <Chain as Ledger>::genesis(&self.chain)
    }
    fn committed_height(&self) -> Result<u64, Self::Error> {
        <Chain as Ledger>::committed_height(&self.chain)
    }
    fn propose(
        &self,
        parent: &Block,
        timestamp_ms: u64,
        proposer: BlockDigest,
    ) -> Result<Verdict<Block>, Self::Error> {
        let stamped = timestamp_ms.saturating_add(self.offset_ms);
        let verdict = <Chain as Ledger>::propose(&self.chain, parent, stamped, proposer)?;
        if let Verdict::Valid(block) = &verdict {
            let mut proposed = lock(&self.proposed);
            proposed.extend(block.txs.iter().map(|tx| tx.signature.0));
            let excess = proposed.len().saturating_sub(4_096);
            proposed.drain(..excess);
        }
        Ok(verdict)
    }
    fn verify(&self, parent: &Block, block: &Block) -> Result<Verdict<()>, Self::Error> {
        <Chain as Ledger>::verify(&self.chain, parent, block)
    }
    fn finalize(&self, block: &Block) -> Result<(), Self::Error> {
        <Chain as Ledger>::finalize(&self.chain, block)
    }
}

/// A p2p sender that, when `tamper` is set, sends `victims` a copy of each outgoing message in
/// which the first signature of a proposed transaction has one bit flipped (the rest get the
/// message as it is). Used on the block channel only.
#[derive(Clone)]
pub(crate) struct TamperingSender<S> {
    pub(crate) inner: S,
    pub(crate) tamper: bool,
    pub(crate) victims: Vec<ed25519::PublicKey>,
    pub(crate) peers: Vec<ed25519::PublicKey>,
    pub(crate) proposed: Proposed,
}

/// A [`TamperingSender`]'s checked send.
pub(crate) struct TamperingChecked<'a, S> {
    sender: &'a mut TamperingSender<S>,
    recipients: Vec<ed25519::PublicKey>,
}

impl<S> LimitedSender for TamperingSender<S>
where
    S: LimitedSender<PublicKey = ed25519::PublicKey>,
{
    type PublicKey = ed25519::PublicKey;
    type Checked<'a>
        = TamperingChecked<'a, S>
    where
        Self: 'a;

    fn check(
        &mut self,
        recipients: Recipients<ed25519::PublicKey>,
    ) -> Result<Self::Checked<'_>, SystemTime> {
        let recipients = match recipients {
            Recipients::All => self.peers.clone(),
            Recipients::Some(list) => list,
            Recipients::One(one) => vec![one],
        };
        Ok(TamperingChecked {
            sender: self,
            recipients,
        })
    }
}

impl<S> CheckedSender for TamperingChecked<'_, S>
where
    S: LimitedSender<PublicKey = ed25519::PublicKey>,
{
    type PublicKey = ed25519::PublicKey;

    fn recipients(&self) -> Vec<ed25519::PublicKey> {
        self.recipients.clone()
    }

    fn send(
        self,
        message: impl Into<IoBufs> + Send,
        priority: bool,
    ) -> commonware_actor::Unreliable<commonware_actor::Feedback> {
        let message: IoBufs = message.into();
        let mut bytes = Vec::with_capacity(message.len());
        message.for_each_chunk(|chunk| bytes.extend_from_slice(chunk));
        let sender = self.sender;
        let (victims, others): (Vec<_>, Vec<_>) = self
            .recipients
            .into_iter()
            .partition(|pk| sender.tamper && sender.victims.contains(pk));
        let corrupted = if victims.is_empty() {
            None
        } else {
            corrupt(&bytes, &lock(&sender.proposed))
        };
        let mut outcome = commonware_actor::Unreliable::Rejected;
        let mut send_to = |to: Vec<ed25519::PublicKey>, payload: Vec<u8>| {
            if to.is_empty() {
                return;
            }
            if let Ok(checked) = sender.inner.check(Recipients::Some(to)) {
                outcome = checked.send(payload, priority);
            }
        };
        match corrupted {
            Some(bad) => {
                send_to(others, bytes);
                send_to(victims, bad);
            }
            None => {
                let everyone = others.into_iter().chain(victims).collect();
                send_to(everyone, bytes);
            }
        }
        outcome
    }
}

/// `message` with one bit flipped in the first proposed signature it contains, if any.
fn corrupt(message: &[u8], proposed: &[[u8; 64]]) -> Option<Vec<u8>> {
    for signature in proposed.iter().rev() {
        if let Some(at) = message.windows(64).position(|w| w == signature) {
            let mut copy = message.to_vec();
            copy[at + 7] ^= 0x01;
            return Some(copy);
        }
    }
    None
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn corrupt_flips_one_bit_of_a_known_signature_only() {
        let sig = [7u8; 64];
        let mut message = vec![1u8, 2, 3];
        message.extend_from_slice(&sig);
        message.push(9);
        let bad = corrupt(&message, &[[5u8; 64], sig]).expect("found");
        let differing: Vec<usize> = (0..message.len())
            .filter(|&i| message[i] != bad[i])
            .collect();
        assert_eq!(differing, vec![3 + 7]);
        assert_eq!(corrupt(&message, &[[5u8; 64]]), None);
    }
}
