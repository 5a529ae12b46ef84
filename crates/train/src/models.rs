//! Ready-made architectures for the bundled data sets, expressed in the model IR.

use counterweight_model::{Architecture, Conv2d, Layer, Linear, Pool2d};

use crate::error::Result;

/// A multilayer perceptron `inputs → hidden… → classes` with ReLU between layers
/// (e.g. `mlp(64, &[64], 10)` is the reference 64-64-10 digits model, 4,810 parameters).
///
/// # Errors
/// [`crate::Error::Model`] if a size is zero or the model is too large.
pub fn mlp(inputs: usize, hidden: &[usize], classes: usize) -> Result<Architecture> {
    let mut layers = Vec::new();
    let mut width = inputs;
    for &h in hidden {
        layers.push(Layer::Linear(Linear {
            in_features: width,
            out_features: h,
        }));
        layers.push(Layer::Relu);
        width = h;
    }
    layers.push(Layer::Linear(Linear {
        in_features: width,
        out_features: classes,
    }));
    Ok(Architecture::new(vec![inputs], layers)?)
}

/// A small CNN for `[channels, height, width]` images: 3×3 convolution to 8 channels (padding
/// 1), ReLU, 2×2 max-pool, flatten, linear to `classes`. On 8×8 digits: 1,370 parameters.
///
/// # Errors
/// [`crate::Error::Model`] if the image is smaller than 2×2 or a size is zero.
pub fn small_cnn(image: [usize; 3], classes: usize) -> Result<Architecture> {
    let [c, h, w] = image;
    let channels = 8;
    let flat = channels * (h / 2) * (w / 2);
    Ok(Architecture::new(
        vec![c, h, w],
        vec![
            Layer::Conv2d(Conv2d {
                in_channels: c,
                out_channels: channels,
                kernel: [3, 3],
                stride: [1, 1],
                padding: [1, 1],
            }),
            Layer::Relu,
            Layer::MaxPool2d(Pool2d {
                kernel: [2, 2],
                stride: [2, 2],
            }),
            Layer::Flatten,
            Layer::Linear(Linear {
                in_features: flat,
                out_features: classes,
            }),
        ],
    )?)
}
