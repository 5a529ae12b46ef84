//! A `NodeApi` over the real `App` on a temporary directory. The only double is where the
//! consensus engine would be: `finalize_pending` builds and finalizes a block directly.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use axum::Router;
use counterweight_app::App;
use counterweight_bank::{BANK_MODULE, BankCall, ModuleCall as _};
use counterweight_crypto::SigningKey;
use counterweight_rpc::{
    Account, ChainEvent, FinalizedBlock, NodeApi, NodeStatus, Rejection, RpcConfig, RpcState,
    StateProof, SubmitError, TxStatus, router,
};
use counterweight_state::ModuleError;
use counterweight_types::{
    Address, Block, Call, ChainId, Genesis, GenesisAccount, Hash, Height, ModuleId, Params,
    SignedTransaction, Transaction,
};
use tokio::sync::broadcast;

pub(crate) const CHAIN: &str = "rpc-test";
pub(crate) const FUNDS: u64 = 1_000_000;

pub(crate) struct AppNode {
    app: App,
    pending: Mutex<BTreeMap<Hash, SignedTransaction>>,
    dropped: Mutex<BTreeMap<Hash, Rejection>>,
    events: broadcast::Sender<ChainEvent>,
    proposer: Address,
    _dir: tempfile::TempDir,
}

impl AppNode {
    /// A chain where `funded` keys hold [`FUNDS`] each.
    pub(crate) fn open(funded: &[&SigningKey]) -> Arc<Self> {
        let dir = tempfile::tempdir().unwrap();
        let validator = SigningKey::from_seed(1_000);
        let genesis = Genesis {
            chain_id: ChainId::new(CHAIN).unwrap(),
            genesis_time_ms: 1_700_000_000_000,
            validators: vec![validator.address()],
            accounts: funded
                .iter()
                .map(|key| GenesisAccount {
                    address: key.address(),
                    balance: FUNDS,
                })
                .collect(),
            params: Params::default(),
        };
        let app = App::open(dir.path(), genesis).unwrap();
        let (events, _) = broadcast::channel(16);
        Arc::new(Self {
            app,
            pending: Mutex::new(BTreeMap::new()),
            dropped: Mutex::new(BTreeMap::new()),
            events,
            proposer: validator.address(),
            _dir: dir,
        })
    }

    pub(crate) fn pending_len(&self) -> usize {
        self.pending.lock().unwrap().len()
    }

    /// Stand-in for consensus: build a block from the mempool on the committed tip and
    /// finalize it; returns its height.
    pub(crate) fn finalize_pending(&self) -> Height {
        let parent = self.app.committed_block().unwrap();
        let mut candidates: Vec<SignedTransaction> =
            self.pending.lock().unwrap().values().cloned().collect();
        candidates.sort_by_key(|tx| (tx.tx.sender, tx.tx.nonce));
        let block = self
            .app
            .build_block(
                &parent,
                parent.header.timestamp_ms + 1_000,
                self.proposer,
                candidates,
            )
            .unwrap()
            .unwrap();
        let outcome = self.app.finalize_block(&block).unwrap();
        let counterweight_app::FinalizeOutcome::Applied { receipts, .. } = outcome else {
            panic!("a new block must apply");
        };
        {
            let mut pending = self.pending.lock().unwrap();
            let mut dropped = self.dropped.lock().unwrap();
            for tx in &block.txs {
                pending.remove(&tx.hash());
            }
            // What was left out is dropped with the reason it now fails admission.
            let left: Vec<_> = pending.values().cloned().collect();
            for tx in left {
                if let Err(err) = self.app.check_tx(&tx).unwrap() {
                    pending.remove(&tx.hash());
                    dropped.insert(tx.hash(), Rejection::from(&err));
                }
            }
        }
        let _ = self
            .events
            .send(ChainEvent::Finalized(Arc::new(FinalizedBlock {
                hash: block.digest(),
                header: block.header.clone(),
                receipts,
            })));
        block.header.height
    }
}

#[derive(Debug, thiserror::Error)]
#[error("app fault")]
pub(crate) struct Fault(#[source] counterweight_app::Error);

impl NodeApi for AppNode {
    type Error = Fault;

    async fn submit(&self, tx: SignedTransaction) -> Result<Hash, SubmitError<Fault>> {
        let hash = tx.hash();
        if self.pending.lock().unwrap().contains_key(&hash) {
            return Err(SubmitError::AlreadyPending);
        }
        match self
            .app
            .check_tx(&tx)
            .map_err(|e| SubmitError::Node(Fault(e)))?
        {
            Ok(()) => {
                self.pending.lock().unwrap().insert(hash, tx);
                Ok(hash)
            }
            Err(err) => Err(SubmitError::Rejected(Rejection::from(&err))),
        }
    }

    fn tx_status(&self, hash: &Hash) -> Result<TxStatus, Fault> {
        if let Some(receipt) = self.app.receipt(hash).map_err(Fault)? {
            return Ok(TxStatus::Finalized(receipt));
        }
        if self.pending.lock().unwrap().contains_key(hash) {
            return Ok(TxStatus::Pending);
        }
        if let Some(rejection) = self.dropped.lock().unwrap().get(hash) {
            return Ok(TxStatus::Rejected(rejection.clone()));
        }
        Ok(TxStatus::Unknown)
    }

    fn account(&self, address: &Address) -> Result<Account, Fault> {
        let account = self.app.account(address).map_err(Fault)?;
        Ok(Account {
            balance: account.balance,
            nonce: account.nonce,
        })
    }

    fn block(&self, height: Option<Height>) -> Result<Option<Block>, Fault> {
        let height = match height {
            Some(height) => height,
            None => self.app.committed_height().map_err(Fault)?,
        };
        self.app.block(height).map_err(Fault)
    }

    fn query(
        &self,
        module: ModuleId,
        path: &str,
        data: &[u8],
    ) -> Result<Result<Vec<u8>, ModuleError>, Fault> {
        self.app.query(module, path, data).map_err(Fault)
    }

    fn state_proof(&self, key: &[u8]) -> Result<StateProof, Fault> {
        let proof = self.app.state_proof(key).map_err(Fault)?;
        Ok(StateProof {
            value: proof.value,
            proof: proof.proof,
            root: proof.root,
            height: proof.height,
        })
    }

    fn status(&self) -> Result<NodeStatus, Fault> {
        let block = self.app.committed_block().map_err(Fault)?;
        Ok(NodeStatus {
            chain_id: self.app.genesis().chain_id.clone(),
            height: block.header.height,
            block_hash: block.digest(),
            state_root: block.header.state_root,
            peers: 0,
            mempool_size: self.pending_len() as u64,
        })
    }

    fn subscribe(&self) -> broadcast::Receiver<ChainEvent> {
        self.events.subscribe()
    }
}

/// The router over `node`, with a small node metrics document.
pub(crate) fn app_router(node: &Arc<AppNode>) -> Router {
    router(
        RpcState::new(Arc::clone(node), RpcConfig::default())
            .with_node_metrics(|| "# TYPE node_up gauge\nnode_up 1\n# EOF\n".to_owned()),
    )
}

/// A bank transfer signed by `from`.
pub(crate) fn transfer(
    from: &SigningKey,
    to: Address,
    amount: u64,
    nonce: u64,
    fee: u64,
) -> SignedTransaction {
    transfer_on(CHAIN, from, to, amount, nonce, fee)
}

/// A bank transfer for chain `chain`.
pub(crate) fn transfer_on(
    chain: &str,
    from: &SigningKey,
    to: Address,
    amount: u64,
    nonce: u64,
    fee: u64,
) -> SignedTransaction {
    from.sign_tx(Transaction {
        chain_id: ChainId::new(chain).unwrap(),
        sender: from.address(),
        nonce,
        fee,
        call: Call {
            module: BANK_MODULE,
            payload: BankCall::Transfer { to, amount }.to_payload(),
        },
    })
}
