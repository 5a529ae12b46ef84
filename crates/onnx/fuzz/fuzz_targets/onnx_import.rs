//! Fuzz the ONNX importer: arbitrary bytes must give `Ok` or `Err`, never a crash.
//!
//! The importer runs tract (third-party code) under `catch_unwind` and turns its panics into
//! `Error::TractPanic`. libFuzzer's default hook aborts on *every* panic, even a caught one,
//! so `init` installs a silent hook: caught panics are then ordinary errors, while a panic
//! that escapes `import_bytes` still aborts (the harness wraps each input in `catch_unwind`
//! and aborts on unwinding).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(
    init: std::panic::set_hook(Box::new(|_| {})),
    |data: &[u8]| {
        if let Ok(model) = counterweight_onnx::import_bytes(data) {
            if model.architecture().input_len() <= 1 << 16 {
                let x = vec![0.25f32; model.architecture().input_len()];
                let _ = model.forward(&x);
            }
        }
    }
);
