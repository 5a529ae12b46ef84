//! safetensors load and save of a model's float weights, checked against the architecture.

use std::path::Path;

use safetensors::{Dtype, SafeTensors, tensor::TensorView};

use crate::arch::Architecture;
use crate::error::{Error, Result};
use crate::model::Model;

/// Largest weights file [`Model::load_safetensors`] reads (1 GiB).
pub const MAX_WEIGHTS_FILE_BYTES: u64 = 1 << 30;

/// Name of layer `layer`'s weight tensor in a safetensors file: `layers.{layer}.weight`.
pub fn weight_tensor_name(layer: usize) -> String {
    format!("layers.{layer}.weight")
}

/// Name of layer `layer`'s bias tensor in a safetensors file: `layers.{layer}.bias`.
pub fn bias_tensor_name(layer: usize) -> String {
    format!("layers.{layer}.bias")
}

fn le_bytes(values: &[f32]) -> Vec<u8> {
    values.iter().flat_map(|v| v.to_le_bytes()).collect()
}

impl Model {
    /// Serialise the weights as safetensors: one little-endian `F32` tensor per weight and bias,
    /// named [`weight_tensor_name`] / [`bias_tensor_name`] by layer index, with the shapes of
    /// [`crate::Layer::param_shapes`]. The architecture itself is not stored.
    ///
    /// # Errors
    /// [`Error::Safetensors`] if the safetensors encoder refuses the data (oversized header).
    pub fn to_safetensors(&self) -> Result<Vec<u8>> {
        let mut buffers = Vec::new();
        for span in self.architecture().param_spans() {
            let (w, b) = self.layer_params(span.layer).unwrap_or_default();
            buffers.push((
                weight_tensor_name(span.layer),
                span.weight_shape.clone(),
                le_bytes(w),
            ));
            buffers.push((
                bias_tensor_name(span.layer),
                vec![span.bias_len],
                le_bytes(b),
            ));
        }
        let mut views = Vec::with_capacity(buffers.len());
        for (name, shape, data) in &buffers {
            views.push((
                name.clone(),
                TensorView::new(Dtype::F32, shape.clone(), data)?,
            ));
        }
        Ok(safetensors::serialize(views, None)?)
    }

    /// Load weights for `architecture` from safetensors bytes.
    ///
    /// Every tensor the architecture needs must be present as `F32` with exactly the expected
    /// shape; extra tensors are rejected, and so are NaN or infinite values.
    ///
    /// # Errors
    /// [`Error::Safetensors`] for bytes that are not valid safetensors; [`Error::WeightsFile`]
    /// for a missing, unexpected or wrongly typed tensor; [`Error::TensorShape`] for a wrong
    /// shape; [`Error::NonFinite`] for NaN/inf.
    pub fn from_safetensors(architecture: Architecture, bytes: &[u8]) -> Result<Self> {
        let st = SafeTensors::deserialize(bytes)?;
        let mut expected = 0usize;
        let mut params = Vec::with_capacity(architecture.parameter_count());
        for span in architecture.param_spans() {
            for (name, shape) in [
                (weight_tensor_name(span.layer), span.weight_shape.clone()),
                (bias_tensor_name(span.layer), vec![span.bias_len]),
            ] {
                expected += 1;
                let view = st.tensor(&name).map_err(|_| Error::WeightsFile {
                    tensor: name.clone(),
                    reason: "missing tensor",
                })?;
                if view.dtype() != Dtype::F32 {
                    return Err(Error::WeightsFile {
                        tensor: name,
                        reason: "dtype is not F32",
                    });
                }
                if view.shape() != shape.as_slice() {
                    return Err(Error::TensorShape {
                        what: name,
                        expected: shape,
                        got: view.shape().to_vec(),
                    });
                }
                let start = params.len();
                params.extend(
                    view.data()
                        .chunks_exact(4)
                        .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]])),
                );
                if let Some(index) = crate::model::first_non_finite(&params[start..]) {
                    return Err(Error::NonFinite { what: name, index });
                }
            }
        }
        if st.len() != expected {
            let extra = st
                .names()
                .into_iter()
                .find(|n| {
                    !architecture.param_spans().iter().any(|s| {
                        *n == weight_tensor_name(s.layer) || *n == bias_tensor_name(s.layer)
                    })
                })
                .unwrap_or_default()
                .to_string();
            return Err(Error::WeightsFile {
                tensor: extra,
                reason: "unexpected tensor",
            });
        }
        Self::from_flat(architecture, params)
    }

    /// Write [`Model::to_safetensors`] to `path`.
    ///
    /// # Errors
    /// [`Error::Io`] if the file cannot be written, or as [`Model::to_safetensors`].
    pub fn save_safetensors(&self, path: impl AsRef<Path>) -> Result<()> {
        let path = path.as_ref();
        let bytes = self.to_safetensors()?;
        std::fs::write(path, bytes).map_err(|source| Error::Io {
            path: path.display().to_string(),
            source,
        })
    }

    /// Read a safetensors file of at most [`MAX_WEIGHTS_FILE_BYTES`] and load it as
    /// [`Model::from_safetensors`] does.
    ///
    /// # Errors
    /// [`Error::Io`], [`Error::TooLarge`], or as [`Model::from_safetensors`].
    pub fn load_safetensors(architecture: Architecture, path: impl AsRef<Path>) -> Result<Self> {
        let path = path.as_ref();
        let io = |source| Error::Io {
            path: path.display().to_string(),
            source,
        };
        let size_bytes = std::fs::metadata(path).map_err(io)?.len();
        if size_bytes > MAX_WEIGHTS_FILE_BYTES {
            return Err(Error::TooLarge {
                what: "weights file",
                size_bytes,
                max_bytes: MAX_WEIGHTS_FILE_BYTES,
            });
        }
        let bytes = std::fs::read(path).map_err(io)?;
        Self::from_safetensors(architecture, &bytes)
    }
}
