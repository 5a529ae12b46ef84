//! Fuzz the safetensors weights loader: arbitrary bytes must give `Ok` or `Err`, never a panic.
#![no_main]

use counterweight_model::{Architecture, Conv2d, Layer, Linear, Model};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(arch) = Architecture::new(
        vec![1, 4, 4],
        vec![
            Layer::Conv2d(Conv2d {
                in_channels: 1,
                out_channels: 2,
                kernel: [3, 3],
                stride: [1, 1],
                padding: [1, 1],
            }),
            Layer::Relu,
            Layer::Flatten,
            Layer::Linear(Linear { in_features: 32, out_features: 3 }),
        ],
    ) else {
        return;
    };
    if let Ok(model) = Model::from_safetensors(arch, data) {
        // Whatever loads must evaluate without panicking.
        let _ = model.forward(&[0.5; 16]);
    }
});
