//! Fuzz the ONNX importer: arbitrary bytes must give `Ok` or `Err`, never a crash.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(model) = counterweight_onnx::import_bytes(data) {
        if model.architecture().input_len() <= 1 << 16 {
            let x = vec![0.25f32; model.architecture().input_len()];
            let _ = model.forward(&x);
        }
    }
});
