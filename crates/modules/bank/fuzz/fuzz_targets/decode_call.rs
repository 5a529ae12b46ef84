//! Decode arbitrary bytes as a bank call: it must never panic, and whatever decodes must
//! re-encode to the same bytes (the encoding is canonical).
#![no_main]

use counterweight_bank::{BankCall, ModuleCall as _};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(call) = BankCall::from_payload(data) {
        assert_eq!(call.to_payload().as_ref(), data, "decoding is canonical");
    }
});
