//! The registered public model (circuit + weight commitment), its canonical encoding and id.

use ark_ec::AffineRepr;

use crate::circuit::{Circuit, LayerGeom, LayerKind, LayerSpec, Layout, MAX_LAYERS, Requant};
use crate::codec::{POINT_COMPRESSED_BYTES, Reader, Writer};
use crate::error::{Error, Result};
use crate::field::Affine;
use crate::generators::{GENERATOR_CONTEXT, MAX_COLUMNS};

const MODEL_MAGIC: &[u8; 4] = b"CWZM";
/// Version of the public-model encoding: 2 (version 1 had no bias bound and belonged to proof
/// format versions 1 and 2; it is rejected).
pub const MODEL_FORMAT_VERSION: u16 = 2;
/// Largest accepted public-model encoding.
pub const MAX_MODEL_BYTES: usize = 8 << 20;
/// Proof-system parameters hashed into every model id.
pub const PROOF_SYSTEM_PARAMS: &str = concat!(
    "zkml-v1;curve=grumpkin;commitment=hyrax-pedersen;max_columns=1024;",
    "sumcheck=committed,derived-constant;range=bit-decomposition;transcript=blake3"
);
const ID_CONTEXT: &str = "counterweight zkml-v1 model id";
const PART_CONTEXT: &str = "counterweight zkml-v1 model part";

/// A 32-byte model identifier.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ModelId(pub [u8; 32]);

impl ModelId {
    /// Lower-case hex.
    pub fn to_hex(&self) -> String {
        self.0.iter().map(|b| format!("{b:02x}")).collect()
    }
    /// Parse 64 hex characters.
    pub fn from_hex(s: &str) -> Option<Self> {
        let s = s.strip_prefix("0x").unwrap_or(s);
        if s.len() != 64 || !s.is_ascii() {
            return None;
        }
        let mut out = [0u8; 32];
        for (i, b) in out.iter_mut().enumerate() {
            *b = u8::from_str_radix(s.get(2 * i..2 * i + 2)?, 16).ok()?;
        }
        Some(Self(out))
    }
}

impl std::fmt::Display for ModelId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.to_hex())
    }
}

/// What the chain stores for a registered model: the circuit and the Hyrax row commitments of
/// the weight vector. It reveals the architecture and the requantisation parameters, never the
/// weights.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublicModel {
    /// Architecture and quantisation parameters.
    pub circuit: Circuit,
    /// Row commitments of the packed weight vector.
    pub weight_rows: Vec<Affine>,
}

fn part_hash(label: &str, bytes: &[u8]) -> [u8; 32] {
    let mut h = blake3::Hasher::new_derive_key(PART_CONTEXT);
    h.update(&(label.len() as u64).to_le_bytes());
    h.update(label.as_bytes());
    h.update(bytes);
    *h.finalize().as_bytes()
}

impl Circuit {
    fn encode_arch(&self, w: &mut Writer) {
        w.u32(self.input_len);
        w.u32(self.layers.len() as u32);
        for l in &self.layers {
            match l.kind {
                LayerKind::Linear {
                    in_features,
                    out_features,
                } => {
                    w.u8(1);
                    w.u32(in_features);
                    w.u32(out_features);
                }
                LayerKind::Conv2d {
                    in_channels,
                    in_height,
                    in_width,
                    out_channels,
                    kernel,
                    stride,
                    padding,
                } => {
                    w.u8(2);
                    for v in [in_channels, in_height, in_width, out_channels] {
                        w.u32(v);
                    }
                    for v in kernel.iter().chain(&stride).chain(&padding) {
                        w.u32(*v);
                    }
                }
            }
            w.u8(u8::from(l.relu));
        }
    }

    fn encode_quant(&self, w: &mut Writer) {
        w.u32(self.layers.len() as u32);
        for l in &self.layers {
            w.u32(l.requant.len() as u32);
            for r in &l.requant {
                w.u32(r.multiplier);
                w.u8(r.shift);
            }
            w.u8(l.bias_bits);
        }
    }

    /// Hash of the architecture part.
    pub fn arch_hash(&self) -> [u8; 32] {
        let mut w = Writer::new();
        self.encode_arch(&mut w);
        part_hash("arch", &w.into_bytes())
    }

    /// Hash of the quantisation parameters.
    pub fn quant_hash(&self) -> [u8; 32] {
        let mut w = Writer::new();
        self.encode_quant(&mut w);
        part_hash("quant", &w.into_bytes())
    }
}

impl PublicModel {
    /// Canonical encoding (version 2).
    pub fn encode(&self) -> Vec<u8> {
        let mut w = Writer::new();
        w.bytes(MODEL_MAGIC);
        w.u16(MODEL_FORMAT_VERSION);
        self.circuit.encode_arch(&mut w);
        self.circuit.encode_quant(&mut w);
        w.u32(self.weight_rows.len() as u32);
        for p in &self.weight_rows {
            w.point_compressed(p);
        }
        w.into_bytes()
    }

    /// Decode and validate a public model.
    ///
    /// # Errors
    /// Any malformed, non-canonical, oversized or inconsistent encoding.
    pub fn decode(bytes: &[u8]) -> Result<Self> {
        if bytes.len() > MAX_MODEL_BYTES {
            return Err(Error::TooLarge {
                what: "model",
                got: bytes.len() as u64,
                max: MAX_MODEL_BYTES as u64,
            });
        }
        let mut r = Reader::new(bytes);
        r.header(
            MODEL_MAGIC,
            "public model",
            MODEL_FORMAT_VERSION,
            "a model registered with another version must be registered again",
        )?;
        let input_len = r.u32()?;
        let n = r.count("layers", MAX_LAYERS, 10)?;
        let mut layers = Vec::with_capacity(n);
        for _ in 0..n {
            let kind = match r.u8()? {
                1 => LayerKind::Linear {
                    in_features: r.u32()?,
                    out_features: r.u32()?,
                },
                2 => {
                    let mut v = [0u32; 10];
                    for x in &mut v {
                        *x = r.u32()?;
                    }
                    LayerKind::Conv2d {
                        in_channels: v[0],
                        in_height: v[1],
                        in_width: v[2],
                        out_channels: v[3],
                        kernel: [v[4], v[5]],
                        stride: [v[6], v[7]],
                        padding: [v[8], v[9]],
                    }
                }
                _ => return Err(Error::BadHeader { what: "layer kind" }),
            };
            let relu = match r.u8()? {
                0 => false,
                1 => true,
                _ => return Err(Error::BadHeader { what: "relu flag" }),
            };
            layers.push(LayerSpec {
                kind,
                relu,
                requant: Vec::new(),
                bias_bits: 0,
            });
        }
        if r.u32()? as usize != n {
            return Err(Error::BadHeader {
                what: "quantisation layer count",
            });
        }
        for l in &mut layers {
            let m = r.count("requantisation entries", crate::circuit::MAX_TENSOR_LEN, 5)?;
            l.requant = (0..m)
                .map(|_| {
                    Ok(Requant {
                        multiplier: r.u32()?,
                        shift: r.u8()?,
                    })
                })
                .collect::<Result<_>>()?;
            l.bias_bits = r.u8()?;
        }
        let circuit = Circuit { input_len, layers };
        let geoms = circuit.geometry()?;
        let layout = Circuit::weight_layout(&geoms)?;
        let rows = r.count("weight rows", 1 << 20, POINT_COMPRESSED_BYTES)?;
        if rows != layout.rows {
            return Err(Error::InvalidModel {
                reason: "weight commitment has the wrong number of rows",
            });
        }
        let weight_rows = (0..rows)
            .map(|_| r.point_compressed())
            .collect::<Result<_>>()?;
        r.finish()?;
        Ok(Self {
            circuit,
            weight_rows,
        })
    }

    /// `model_id = H("zkml-v1" ‖ H(arch) ‖ H(quant params) ‖ H(weight commitment) ‖ H(params))`.
    pub fn id(&self) -> ModelId {
        let mut w = Writer::new();
        w.u32(self.weight_rows.len() as u32);
        for p in &self.weight_rows {
            w.point_compressed(p);
        }
        let mut h = blake3::Hasher::new_derive_key(ID_CONTEXT);
        h.update(b"zkml-v1");
        h.update(&self.circuit.arch_hash());
        h.update(&self.circuit.quant_hash());
        h.update(&part_hash("weights", &w.into_bytes()));
        let mut params = Vec::new();
        params.extend_from_slice(PROOF_SYSTEM_PARAMS.as_bytes());
        params.extend_from_slice(GENERATOR_CONTEXT.as_bytes());
        params.extend_from_slice(&(MAX_COLUMNS as u64).to_le_bytes());
        h.update(&part_hash("params", &params));
        ModelId(*h.finalize().as_bytes())
    }
}

/// A public model decoded once and checked, with its derived geometry, ready to verify proofs.
#[derive(Debug, Clone)]
pub struct PreparedModel {
    /// The model.
    pub model: PublicModel,
    /// Its id.
    pub id: ModelId,
    /// Per-layer geometry.
    pub geoms: Vec<LayerGeom>,
    /// Weight vector packing.
    pub weight_layout: Layout,
    /// Witness vector packing.
    pub witness_layout: Layout,
}

impl PreparedModel {
    /// Validate and prepare.
    ///
    /// # Errors
    /// An inconsistent circuit or a weight commitment of the wrong size.
    pub fn new(model: PublicModel) -> Result<Self> {
        let geoms = model.circuit.geometry()?;
        let weight_layout = Circuit::weight_layout(&geoms)?;
        let witness_layout = Circuit::witness_layout(&geoms)?;
        if model.weight_rows.len() != weight_layout.rows {
            return Err(Error::InvalidModel {
                reason: "weight commitment has the wrong number of rows",
            });
        }
        let padding_committed = model
            .weight_rows
            .iter()
            .zip(&weight_layout.padding)
            .any(|(p, pad)| *pad && !p.is_zero());
        if padding_committed {
            return Err(Error::InvalidModel {
                reason: "a padding row of the weight commitment is not the identity",
            });
        }
        Ok(Self {
            id: model.id(),
            model,
            geoms,
            weight_layout,
            witness_layout,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn model_id_hex_round_trips() {
        let id = ModelId([0xab; 32]);
        assert_eq!(ModelId::from_hex(&id.to_hex()), Some(id));
        assert_eq!(ModelId::from_hex("zz"), None);
        assert_eq!(ModelId::from_hex(&"é".repeat(32)), None);
    }
}
