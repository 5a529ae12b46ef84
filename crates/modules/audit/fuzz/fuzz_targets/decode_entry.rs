//! Decode arbitrary bytes as an audit entry: it must never panic, and whatever decodes must
//! re-encode to the same bytes (the encoding is canonical).
#![no_main]

use counterweight_audit::AuditEntry;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(entry) = AuditEntry::from_bytes(data) {
        assert_eq!(entry.to_bytes(), data, "decoding is canonical");
    }
});
