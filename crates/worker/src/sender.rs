//! Sign calls with one account's key and send them to a node.

use std::time::{Duration, Instant};

use counterweight_crypto::SigningKey;
use counterweight_rpc_api::{Client, ReceiptStatusView, ReceiptView, TxStatusResponse};
use counterweight_types::{Address, Call, ChainId, Hash, Transaction};

use crate::error::{Error, Result};

/// How often a waiting sender asks for a transaction's status. Blocks on a devnet are tens of
/// milliseconds apart, so a short interval keeps round trips close to block time.
const WAIT_POLL: Duration = Duration::from_millis(20);

/// How long [`Sender::send_and_wait`] waits for finality before giving up.
const DEFAULT_WAIT: Duration = Duration::from_secs(60);

/// Signs calls for one account and submits them, keeping the account's nonce locally so that
/// several transactions can be queued in one block.
#[derive(Debug)]
pub struct Sender {
    client: Client,
    key: SigningKey,
    chain_id: ChainId,
    next_nonce: u64,
    fee: u64,
    timeout: Duration,
}

impl Sender {
    /// A sender for `key` on the node behind `client`; reads the chain id and the account's
    /// next nonce from the node.
    ///
    /// # Errors
    /// An unreachable node or a malformed answer.
    pub fn new(client: Client, key: SigningKey) -> Result<Self> {
        let chain_id = ChainId::new(client.status()?.chain_id).map_err(Error::ChainId)?;
        let next_nonce = client.account(&key.address().to_hex())?.nonce;
        Ok(Self {
            client,
            key,
            chain_id,
            next_nonce,
            fee: 1,
            timeout: DEFAULT_WAIT,
        })
    }

    /// Offer `fee` per transaction instead of the minimum (1).
    #[must_use]
    pub fn with_fee(mut self, fee: u64) -> Self {
        self.fee = fee;
        self
    }

    /// Wait at most `timeout` for finality in [`Sender::send_and_wait`].
    #[must_use]
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Returns the signing account.
    pub fn address(&self) -> Address {
        self.key.address()
    }

    /// Returns the node client.
    pub fn client(&self) -> &Client {
        &self.client
    }

    /// Returns the chain id transactions are signed for.
    pub fn chain_id(&self) -> &ChainId {
        &self.chain_id
    }

    /// Re-reads the account's next nonce from the node (after a transaction was dropped, or
    /// after another process used the same key).
    ///
    /// # Errors
    /// An unreachable node.
    pub fn resync(&mut self) -> Result<()> {
        self.next_nonce = self.client.account(&self.address().to_hex())?.nonce;
        Ok(())
    }

    /// Signs `call` with the next nonce and submits it; returns the transaction hash without
    /// waiting for a block.
    ///
    /// # Errors
    /// The node's rejection (the local nonce is then re-read) or an unreachable node.
    pub fn send(&mut self, call: Call) -> Result<Hash> {
        let tx = self.key.sign_tx(Transaction {
            chain_id: self.chain_id.clone(),
            sender: self.key.address(),
            nonce: self.next_nonce,
            fee: self.fee,
            call,
        });
        let hash = tx.hash();
        match self.client.submit_tx(&tx.to_bytes()) {
            Ok(reply) => {
                if reply.tx_hash != hash.to_hex() {
                    return Err(Error::HashMismatch { got: reply.tx_hash });
                }
                self.next_nonce += 1;
                Ok(hash)
            }
            Err(err) => {
                // A refused transaction used no nonce; the node's count is the truth.
                let _ = self.resync();
                Err(err.into())
            }
        }
    }

    /// Sends `call` and waits until its block is final.
    ///
    /// # Errors
    /// A rejection, a transaction dropped before inclusion, a call that failed in its block
    /// ([`Error::Failed`] with the module's message and code; the fee was charged), a
    /// timeout, or an unreachable node.
    pub fn send_and_wait(&mut self, call: Call) -> Result<ReceiptView> {
        let hash = self.send(call)?;
        self.wait(&hash)
    }

    /// Waits until transaction `hash` is final and returns its successful receipt.
    ///
    /// # Errors
    /// As [`Sender::send_and_wait`].
    pub fn wait(&mut self, hash: &Hash) -> Result<ReceiptView> {
        let receipt = wait_final(&self.client, hash, self.timeout).inspect_err(|_| {
            let _ = self.resync();
        })?;
        match receipt.status {
            ReceiptStatusView::Ok => Ok(receipt),
            ReceiptStatusView::Failed { code, message } => Err(Error::Failed {
                height: receipt.height,
                code,
                message,
            }),
        }
    }
}

/// Polls until transaction `hash` is in a final block and returns its receipt, whatever its
/// outcome.
///
/// # Errors
/// A transaction dropped before inclusion, a timeout, or an unreachable node.
pub fn wait_final(client: &Client, hash: &Hash, timeout: Duration) -> Result<ReceiptView> {
    let started = Instant::now();
    loop {
        match client.tx_status(&hash.to_hex())? {
            TxStatusResponse::Finalized { receipt, .. } => return Ok(receipt),
            TxStatusResponse::Rejected {
                code,
                reason,
                message,
            } => {
                return Err(Error::Dropped {
                    hash: *hash,
                    code,
                    reason,
                    message,
                });
            }
            TxStatusResponse::Pending | TxStatusResponse::Unknown => {}
        }
        if started.elapsed() >= timeout {
            return Err(Error::NotFinal {
                hash: *hash,
                timeout_s: timeout.as_secs(),
            });
        }
        std::thread::sleep(WAIT_POLL);
    }
}
