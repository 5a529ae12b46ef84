//! Sign calls with a keystore key and send them to a node: the one path every command and
//! worker uses to write to the chain. The signing lives in the worker crate
//! ([`counterweight_worker::Sender`]); this is its face for commands, with `anyhow` errors.

use std::time::Duration;

use counterweight_crypto::SigningKey;
use counterweight_rpc_api::{Client, ReceiptView};
use counterweight_types::{Address, Call, ChainId, Hash};
use counterweight_worker::Sender;

/// Signs calls for one account and submits them, keeping the account's nonce locally so that
/// several transactions can be queued in one block.
#[derive(Debug)]
pub struct Signer(Sender);

impl Signer {
    /// A signer for `key` on the node behind `client`; reads the chain id and the account's
    /// next nonce from the node.
    ///
    /// # Errors
    /// An unreachable node or a malformed answer.
    pub fn new(client: Client, key: SigningKey) -> anyhow::Result<Self> {
        Ok(Self(Sender::new(client, key)?))
    }

    /// Offer `fee` per transaction instead of the minimum (1).
    #[must_use]
    pub fn with_fee(self, fee: u64) -> Self {
        Self(self.0.with_fee(fee))
    }

    /// Wait at most `timeout` for finality in [`Signer::send_and_wait`].
    #[must_use]
    pub fn with_timeout(self, timeout: Duration) -> Self {
        Self(self.0.with_timeout(timeout))
    }

    /// The signing account.
    pub fn address(&self) -> Address {
        self.0.address()
    }

    /// The node client.
    pub fn client(&self) -> &Client {
        self.0.client()
    }

    /// The chain id transactions are signed for.
    pub fn chain_id(&self) -> &ChainId {
        self.0.chain_id()
    }

    /// The worker crate's sender underneath.
    pub fn into_sender(self) -> Sender {
        self.0
    }

    /// Re-reads the account's next nonce from the node (after a transaction was dropped).
    ///
    /// # Errors
    /// An unreachable node.
    pub fn resync(&mut self) -> anyhow::Result<()> {
        Ok(self.0.resync()?)
    }

    /// Signs `call` with the next nonce and submits it; returns the transaction hash without
    /// waiting for a block.
    ///
    /// # Errors
    /// The node's rejection (the local nonce is then re-read) or an unreachable node.
    pub fn send(&mut self, call: Call) -> anyhow::Result<Hash> {
        Ok(self.0.send(call)?)
    }

    /// Sends `call` and waits until its block is final.
    ///
    /// # Errors
    /// A rejection, a transaction dropped before inclusion, a call that failed in its block
    /// (the module's message and code; the fee was charged), a timeout, or an unreachable node.
    pub fn send_and_wait(&mut self, call: Call) -> anyhow::Result<ReceiptView> {
        Ok(self.0.send_and_wait(call)?)
    }

    /// Waits until transaction `hash` is final and returns its successful receipt.
    ///
    /// # Errors
    /// As [`Signer::send_and_wait`].
    pub fn wait(&mut self, hash: &Hash) -> anyhow::Result<ReceiptView> {
        Ok(self.0.wait(hash)?)
    }
}

/// Polls until transaction `hash` is in a final block and returns its receipt, whatever its
/// outcome.
///
/// # Errors
/// A transaction dropped before inclusion, a timeout, or an unreachable node.
pub fn wait_final(client: &Client, hash: &Hash, timeout: Duration) -> anyhow::Result<ReceiptView> {
    Ok(counterweight_worker::wait_final(client, hash, timeout)?)
}
