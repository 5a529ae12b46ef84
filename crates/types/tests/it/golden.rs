//! Golden fixtures: committed encodings and hashes of known values. A failure here means the
//! wire format changed; regenerate (`UPDATE_GOLDEN=1`) only as a deliberate, reviewed change.

use std::path::PathBuf;

use bytes::Bytes;
use counterweight_types::{
    Address, Block, Call, ChainId, Hash, Header, Height, ModuleId, Signature, SignedTransaction,
    Transaction, signed_tx_root,
};

fn fixture_tx() -> SignedTransaction {
    SignedTransaction {
        tx: Transaction {
            chain_id: ChainId::new("golden-1").expect("valid"),
            sender: Address([0x11; 32]),
            nonce: 7,
            fee: 1_000,
            call: Call {
                module: ModuleId(1),
                payload: Bytes::from_static(&[0, 1, 2, 3, 4, 5]),
            },
        },
        signature: Signature([0x22; 64]),
    }
}

fn fixture_block() -> Block {
    let tx = fixture_tx();
    Block {
        header: Header {
            chain_id: ChainId::new("golden-1").expect("valid"),
            height: Height(42),
            parent: Hash([0x33; 32]),
            timestamp_ms: 1_700_000_000_000,
            proposer: Address([0x44; 32]),
            tx_root: signed_tx_root(std::slice::from_ref(&tx)),
            state_root: Hash([0x55; 32]),
        },
        txs: vec![tx],
    }
}

fn check(name: &str, actual: &str) {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name);
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        std::fs::write(&path, format!("{actual}\n")).expect("write fixture");
    }
    let expected = std::fs::read_to_string(&path).expect("fixture exists");
    assert_eq!(actual, expected.trim(), "golden fixture {name} changed");
}

#[test]
fn transaction_encoding_and_hash_are_stable() {
    let tx = fixture_tx();
    check("tx.hex", &hex::encode(tx.to_bytes()));
    check("tx.hash", &tx.hash().to_hex());
}

#[test]
fn block_encoding_and_digest_are_stable() {
    let block = fixture_block();
    check("block.hex", &hex::encode(block.to_bytes()));
    check("block.digest", &block.digest().to_hex());
}
