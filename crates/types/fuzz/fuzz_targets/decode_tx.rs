//! Decode arbitrary bytes as a signed transaction: it must never panic, and whatever decodes
//! must re-encode to the same bytes (the encoding is canonical).
#![no_main]

use counterweight_types::SignedTransaction;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(tx) = SignedTransaction::from_bytes(data) {
        assert_eq!(tx.to_bytes().as_ref(), data, "decoding is canonical");
    }
});
