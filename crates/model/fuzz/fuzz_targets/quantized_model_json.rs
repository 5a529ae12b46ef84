//! Fuzz the validation of serialised quantised models: whatever deserialises must evaluate and
//! trace without panicking.
#![no_main]

use counterweight_model::QuantizedModel;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(q) = serde_json::from_slice::<QuantizedModel>(data) {
        if q.input_len() <= 4096 {
            let x = vec![1i8; q.input_len()];
            let _ = q.trace(&x);
        }
    }
});
