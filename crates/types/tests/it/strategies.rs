//! Proptest strategies for the domain types.

use std::collections::BTreeMap;

use bytes::Bytes;
use counterweight_types::{
    Address, Block, Call, ChainId, Event, Hash, Header, Height, ModuleId, ReceiptStatus, Signature,
    SignedTransaction, Transaction, TxReceipt,
};
use proptest::{collection::vec, prelude::*};

pub(crate) fn chain_id() -> impl Strategy<Value = ChainId> {
    "[A-Za-z0-9._-]{1,32}".prop_map(|s| ChainId::new(s).expect("strategy yields valid ids"))
}

pub(crate) fn hash() -> impl Strategy<Value = Hash> {
    any::<[u8; 32]>().prop_map(Hash)
}

pub(crate) fn address() -> impl Strategy<Value = Address> {
    any::<[u8; 32]>().prop_map(Address)
}

fn signature() -> impl Strategy<Value = Signature> {
    (any::<[u8; 32]>(), any::<[u8; 32]>()).prop_map(|(a, b)| {
        let mut s = [0u8; 64];
        s[..32].copy_from_slice(&a);
        s[32..].copy_from_slice(&b);
        Signature(s)
    })
}

pub(crate) fn signed_tx() -> impl Strategy<Value = SignedTransaction> {
    (
        chain_id(),
        address(),
        any::<u64>(),
        any::<u64>(),
        any::<u16>(),
        vec(any::<u8>(), 0..300),
        signature(),
    )
        .prop_map(
            |(chain_id, sender, nonce, fee, module, payload, signature)| SignedTransaction {
                tx: Transaction {
                    chain_id,
                    sender,
                    nonce,
                    fee,
                    call: Call {
                        module: ModuleId(module),
                        payload: Bytes::from(payload),
                    },
                },
                signature,
            },
        )
}

pub(crate) fn block() -> impl Strategy<Value = Block> {
    (
        chain_id(),
        any::<u64>(),
        hash(),
        any::<u64>(),
        address(),
        hash(),
        vec(signed_tx(), 0..8),
    )
        .prop_map(
            |(chain_id, height, parent, timestamp_ms, proposer, state_root, txs)| Block {
                header: Header {
                    chain_id,
                    height: Height(height),
                    parent,
                    timestamp_ms,
                    proposer,
                    // A decodable block's header commits to its transactions.
                    tx_root: counterweight_types::signed_tx_root(&txs),
                    state_root,
                },
                txs,
            },
        )
}

fn event() -> impl Strategy<Value = Event> {
    (
        any::<u16>(),
        "[a-z_]{0,20}",
        proptest::collection::btree_map("[a-z]{0,8}", ".{0,20}", 0..5),
    )
        .prop_map(
            |(module, kind, attributes): (u16, String, BTreeMap<String, String>)| Event {
                module: ModuleId(module),
                kind,
                attributes,
            },
        )
}

pub(crate) fn receipt() -> impl Strategy<Value = TxReceipt> {
    let status = prop_oneof![
        Just(ReceiptStatus::Ok),
        (any::<u32>(), ".{0,40}")
            .prop_map(|(code, message)| ReceiptStatus::Failed { code, message }),
    ];
    (
        hash(),
        any::<u64>(),
        any::<u32>(),
        status,
        vec(event(), 0..4),
    )
        .prop_map(|(tx_hash, height, index, status, events)| TxReceipt {
            tx_hash,
            height: Height(height),
            index,
            status,
            events,
        })
}
