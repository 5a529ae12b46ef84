//! Decode arbitrary bytes as an identity call: it must never panic, whatever decodes must
//! re-encode to the same bytes (the encoding is canonical), and `check_payload` must agree
//! with the decoder.
#![no_main]

use counterweight_identity::{Identity, IdentityCall, ModuleCall as _, codes};
use counterweight_state::Module as _;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let checked = Identity.check_payload(data);
    match IdentityCall::from_payload(data) {
        Ok(call) => {
            assert_eq!(call.to_payload().as_ref(), data, "decoding is canonical");
            assert!(checked.is_ok(), "check_payload accepts what decodes");
        }
        Err(_) => {
            let refused = checked.expect_err("check_payload refuses what does not decode");
            assert_eq!(refused.code, codes::MALFORMED);
        }
    }
});
