//! Decode arbitrary bytes as a learn call: it must never panic, whatever decodes must re-encode
//! to the same bytes (the encoding is canonical), and `check_payload` must agree.
#![no_main]

use counterweight_learn::{Learn, LearnCall, MAX_PAYLOAD_BYTES, ModuleCall as _};
use counterweight_state::Module as _;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let decoded = LearnCall::from_payload(data);
    if let Ok(call) = &decoded {
        assert_eq!(call.to_payload().as_ref(), data, "decoding is canonical");
    }
    let accepted = Learn.check_payload(data).is_ok();
    assert_eq!(accepted, decoded.is_ok() && data.len() <= MAX_PAYLOAD_BYTES);
});
