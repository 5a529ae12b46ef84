//! Check arbitrary JSON as an audit proof file (what `audit verify` reads): decoding and
//! verifying must never panic, whatever the entry, the MMR shape or the root say.
#![no_main]

use counterweight_audit::proof_from_json;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(proof) = proof_from_json(data) {
        let _ = proof.verify();
    }
});
