//! Decode arbitrary bytes as a block: it must never panic, and whatever decodes must re-encode
//! to the same bytes (the encoding is canonical).
#![no_main]

use counterweight_types::Block;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(block) = Block::from_bytes(data) {
        assert_eq!(block.to_bytes().as_ref(), data, "decoding is canonical");
    }
});
