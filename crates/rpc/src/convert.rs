//! Domain values to wire views.

use counterweight_rpc_api::{
    BlockEvent, BlockResponse, EventView, HeaderView, ReceiptStatusView, ReceiptView,
    StateProofResponse, StatusResponse, TxStatusResponse, TxView,
};
use counterweight_types::{Block, Event, Header, ReceiptStatus, SignedTransaction, TxReceipt};

use crate::node::{FinalizedBlock, NodeStatus, StateProof, TxStatus};

pub(crate) fn header(header: &Header) -> HeaderView {
    HeaderView {
        chain_id: header.chain_id.to_string(),
        height: header.height.0,
        parent: header.parent.to_hex(),
        timestamp_ms: header.timestamp_ms,
        proposer: header.proposer.to_hex(),
        tx_root: header.tx_root.to_hex(),
        state_root: header.state_root.to_hex(),
    }
}

pub(crate) fn tx(tx: &SignedTransaction) -> TxView {
    TxView {
        hash: tx.hash().to_hex(),
        sender: tx.tx.sender.to_hex(),
        nonce: tx.tx.nonce,
        fee: tx.tx.fee,
        module: tx.tx.call.module.0,
        payload: hex::encode(&tx.tx.call.payload),
        signature: tx.signature.to_hex(),
    }
}

pub(crate) fn block(block: &Block) -> BlockResponse {
    BlockResponse {
        hash: block.digest().to_hex(),
        header: header(&block.header),
        txs: block.txs.iter().map(tx).collect(),
    }
}

pub(crate) fn event(event: &Event) -> EventView {
    EventView {
        module: event.module.0,
        kind: event.kind.clone(),
        attributes: event.attributes.clone(),
    }
}

pub(crate) fn receipt(receipt: &TxReceipt) -> ReceiptView {
    ReceiptView {
        tx_hash: receipt.tx_hash.to_hex(),
        height: receipt.height.0,
        index: receipt.index,
        status: match &receipt.status {
            ReceiptStatus::Ok => ReceiptStatusView::Ok,
            ReceiptStatus::Failed { code, message } => ReceiptStatusView::Failed {
                code: *code,
                message: message.clone(),
            },
        },
        events: receipt.events.iter().map(event).collect(),
    }
}

pub(crate) fn tx_status(status: &TxStatus) -> TxStatusResponse {
    match status {
        TxStatus::Pending => TxStatusResponse::Pending,
        TxStatus::Finalized(r) => TxStatusResponse::Finalized {
            height: r.height.0,
            receipt: receipt(r),
        },
        TxStatus::Rejected(rejection) => TxStatusResponse::Rejected {
            code: rejection.code,
            reason: rejection.reason.clone(),
            message: rejection.message.clone(),
        },
        TxStatus::Unknown => TxStatusResponse::Unknown,
    }
}

pub(crate) fn state_proof(key: &[u8], proof: &StateProof) -> StateProofResponse {
    StateProofResponse {
        key: hex::encode(key),
        value: proof.value.as_ref().map(hex::encode),
        proof: hex::encode(&proof.proof),
        root: proof.root.to_hex(),
        height: proof.height.0,
    }
}

pub(crate) fn status(status: &NodeStatus) -> StatusResponse {
    StatusResponse {
        chain_id: status.chain_id.to_string(),
        height: status.height.0,
        block_hash: status.block_hash.to_hex(),
        state_root: status.state_root.to_hex(),
        peers: status.peers,
        mempool_size: status.mempool_size,
    }
}

pub(crate) fn block_event(block: &FinalizedBlock) -> BlockEvent {
    BlockEvent {
        height: block.header.height.0,
        hash: block.hash.to_hex(),
        timestamp_ms: block.header.timestamp_ms,
        state_root: block.header.state_root.to_hex(),
        receipts: block.receipts.iter().map(receipt).collect(),
    }
}
