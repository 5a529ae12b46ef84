//! Feed arbitrary bytes to the public-model decoder: it must return, never panic.
#![no_main]

use counterweight_zkml_verifier::{PreparedModel, PublicModel};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(m) = PublicModel::decode(data) {
        assert_eq!(m.encode(), data, "decoding is canonical");
        let _ = PreparedModel::new(m);
    }
});
