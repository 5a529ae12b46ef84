//! Round trips and rejection of malformed, trailing and oversized input.

use counterweight_types::{
    Block, Error, MAX_BLOCK_BYTES, MAX_TX_BYTES, SignedTransaction, TxReceipt, tx_root,
};
use proptest::prelude::*;

use crate::strategies::{block, receipt, signed_tx};

proptest! {
    #[test]
    fn signed_transactions_round_trip(tx in signed_tx()) {
        let bytes = tx.to_bytes();
        prop_assert_eq!(&SignedTransaction::from_bytes(&bytes).expect("decodes"), &tx);
        let json = serde_json::to_string(&tx).expect("serializes");
        prop_assert_eq!(serde_json::from_str::<SignedTransaction>(&json).expect("parses"), tx);
    }

    #[test]
    fn blocks_round_trip(b in block()) {
        let bytes = b.to_bytes();
        prop_assert_eq!(&Block::from_bytes(&bytes).expect("decodes"), &b);
        let json = serde_json::to_string(&b).expect("serializes");
        prop_assert_eq!(serde_json::from_str::<Block>(&json).expect("parses"), b);
    }

    #[test]
    fn receipts_round_trip(r in receipt()) {
        use counterweight_types::Encode as _;
        let bytes = r.encode();
        prop_assert_eq!(&TxReceipt::from_bytes(&bytes).expect("decodes"), &r);
        let json = serde_json::to_string(&r).expect("serializes");
        prop_assert_eq!(serde_json::from_str::<TxReceipt>(&json).expect("parses"), r);
    }

    #[test]
    fn trailing_bytes_are_rejected(tx in signed_tx(), b in block(), extra in 1u8..=255) {
        let mut bytes = tx.to_bytes().to_vec();
        bytes.push(extra);
        prop_assert!(SignedTransaction::from_bytes(&bytes).is_err());
        let mut bytes = b.to_bytes().to_vec();
        bytes.push(extra);
        prop_assert!(Block::from_bytes(&bytes).is_err());
    }

    #[test]
    fn truncations_are_rejected(tx in signed_tx(), cut in 1usize..64) {
        let bytes = tx.to_bytes();
        let keep = bytes.len().saturating_sub(cut);
        prop_assert!(SignedTransaction::from_bytes(&bytes[..keep]).is_err());
    }

    /// The decoders the fuzz targets drive never panic, whatever the input.
    #[test]
    fn decoders_never_panic_on_arbitrary_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..2048)) {
        // Same checks as the cargo-fuzz targets: no panic, and decoding is canonical.
        if let Ok(tx) = SignedTransaction::from_bytes(&bytes) {
            let again = tx.to_bytes();
            prop_assert_eq!(again.as_ref(), bytes.as_slice());
        }
        if let Ok(block) = Block::from_bytes(&bytes) {
            let again = block.to_bytes();
            prop_assert_eq!(again.as_ref(), bytes.as_slice());
        }
        let _ = TxReceipt::from_bytes(&bytes);
    }

    #[test]
    fn tx_root_commits_to_order(a in signed_tx(), b in signed_tx()) {
        prop_assume!(a.hash() != b.hash());
        let (ha, hb) = (a.hash(), b.hash());
        prop_assert_ne!(tx_root([&ha, &hb]), tx_root([&hb, &ha]));
        prop_assert_ne!(tx_root([&ha]), tx_root([&ha, &ha]));
    }

    #[test]
    fn a_body_changed_under_its_header_does_not_decode(
        block in block(),
        byte in any::<usize>(),
        bit in 0u8..8,
    ) {
        prop_assume!(!block.txs.is_empty());
        // Flip one bit of the first transaction's signature: same header, same tx hash.
        let mut copy = block.clone();
        let sig = &mut copy.txs[0].signature.0;
        sig[byte % 64] ^= 1 << bit;
        prop_assert_eq!(copy.txs[0].hash(), block.txs[0].hash());
        prop_assert_ne!(copy.txs[0].witness_hash(), block.txs[0].witness_hash());
        prop_assert!(Block::from_bytes(&block.to_bytes()).is_ok());
        prop_assert!(Block::from_bytes(&copy.to_bytes()).is_err());
    }
}

#[test]
fn oversized_inputs_are_rejected_before_decoding() {
    let err = SignedTransaction::from_bytes(&vec![0u8; MAX_TX_BYTES + 1]).expect_err("too big");
    assert!(matches!(err, Error::TooLarge { .. }));
    let err = Block::from_bytes(&vec![0u8; MAX_BLOCK_BYTES + 1]).expect_err("too big");
    assert!(matches!(err, Error::TooLarge { .. }));
}

#[test]
fn invalid_chain_ids_are_rejected() {
    use counterweight_types::ChainId;
    assert!(ChainId::new("").is_err());
    assert!(ChainId::new("a".repeat(33)).is_err());
    assert!(ChainId::new("has space").is_err());
    assert!(serde_json::from_str::<ChainId>("\"bad/id\"").is_err());
    assert!(ChainId::new("dev-net_1.0").is_ok());
}

#[test]
fn genesis_validation_catches_bad_documents() {
    use counterweight_types::{Address, ChainId, Genesis, GenesisAccount, GenesisError, Params};
    let mut g = Genesis {
        chain_id: ChainId::new("g").expect("valid"),
        genesis_time_ms: 0,
        validators: vec![],
        accounts: vec![],
        params: Params::default(),
    };
    assert_eq!(g.validate(), Err(GenesisError::NoValidators));
    g.validators = vec![Address([1; 32]), Address([1; 32])];
    assert!(matches!(
        g.validate(),
        Err(GenesisError::DuplicateValidator(_))
    ));
    g.validators = vec![Address([1; 32])];
    g.accounts = vec![
        GenesisAccount {
            address: Address([2; 32]),
            balance: u64::MAX,
        },
        GenesisAccount {
            address: Address([3; 32]),
            balance: 1,
        },
    ];
    assert_eq!(g.validate(), Err(GenesisError::SupplyOverflow));
    g.accounts.pop();
    assert_eq!(g.validate(), Ok(()));
    let json = serde_json::to_string(&g).expect("serializes");
    assert_eq!(serde_json::from_str::<Genesis>(&json).expect("parses"), g);
}

proptest! {
    /// Single-byte corruptions of valid encodings either fail to decode or decode canonically.
    #[test]
    fn corrupted_encodings_fail_cleanly(b in block(), pos in any::<prop::sample::Index>(), byte in any::<u8>()) {
        let mut bytes = b.to_bytes().to_vec();
        let i = pos.index(bytes.len());
        bytes[i] = byte;
        if let Ok(decoded) = Block::from_bytes(&bytes) {
            let again = decoded.to_bytes();
            prop_assert_eq!(again.as_ref(), bytes.as_slice());
        }
    }
}
