//! Secret (weight-holding) models, registration commitments and their storage encoding.

use ark_ff::AdditiveGroup;
use counterweight_zkml_verifier::{
    Circuit, Fr, LayerGeom, Layout, PreparedModel, PublicModel, Reader, Writer, fr_i64,
};

use crate::error::{Error, Result};
use crate::pedersen::commit_rows_small;
use crate::rng::BlindRng;
use crate::witness;

/// The int8 weights and int32 biases of one layer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LayerWeights {
    /// Weights, row-major `[out_channels, dot]` (for convolutions `[oc, ic, kh, kw]`).
    pub weight: Vec<i8>,
    /// Biases, one per output channel.
    pub bias: Vec<i32>,
}

/// A quantised model in circuit form: the public circuit and the secret weights.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SecretModel {
    circuit: Circuit,
    layers: Vec<LayerWeights>,
    geoms: Vec<LayerGeom>,
}

impl SecretModel {
    /// Check the weights fit the circuit.
    ///
    /// # Errors
    /// [`Error::Verifier`] for an invalid circuit, [`Error::Length`] for mis-sized weights.
    pub fn new(circuit: Circuit, layers: Vec<LayerWeights>) -> Result<Self> {
        let geoms = circuit.geometry()?;
        if layers.len() != geoms.len() {
            return Err(Error::Length {
                layer: layers.len().min(geoms.len()),
                what: "layer list",
                expected: geoms.len(),
                got: layers.len(),
            });
        }
        for (i, (g, l)) in geoms.iter().zip(&layers).enumerate() {
            if l.weight.len() != g.out_channels * g.dot {
                return Err(Error::Length {
                    layer: i,
                    what: "weight",
                    expected: g.out_channels * g.dot,
                    got: l.weight.len(),
                });
            }
            if l.bias.len() != g.out_channels {
                return Err(Error::Length {
                    layer: i,
                    what: "bias",
                    expected: g.out_channels,
                    got: l.bias.len(),
                });
            }
            let bits = circuit.layers[i].bias_bits;
            if let Some(&bias) = l
                .bias
                .iter()
                .find(|b| u64::from(b.unsigned_abs()) >> bits != 0)
            {
                return Err(Error::BiasBound {
                    layer: i,
                    bias,
                    bits,
                });
            }
        }
        Ok(Self {
            circuit,
            layers,
            geoms,
        })
    }

    /// The public circuit.
    pub fn circuit(&self) -> &Circuit {
        &self.circuit
    }

    /// The weights.
    pub fn layers(&self) -> &[LayerWeights] {
        &self.layers
    }

    pub(crate) fn geoms(&self) -> &[LayerGeom] {
        &self.geoms
    }

    /// Evaluate with the circuit's fixed-point semantics.
    ///
    /// # Errors
    /// [`Error::InputLength`] for a wrong-length input.
    pub fn evaluate(&self, input: &[i8]) -> Result<Vec<i8>> {
        self.check_input(input)?;
        let t = witness::trace(&self.geoms, &self.layers, input)?;
        Ok(t.last().map(|l| l.output.clone()).unwrap_or_default())
    }

    pub(crate) fn check_input(&self, input: &[i8]) -> Result<()> {
        let expected = self.circuit.input_len as usize;
        if input.len() != expected {
            return Err(Error::InputLength {
                expected,
                got: input.len(),
            });
        }
        Ok(())
    }

    /// The packed weight vector (weights then biases per layer, at the layout's offsets).
    pub(crate) fn packed(&self, layout: &Layout) -> Vec<i64> {
        let mut v = vec![0i64; layout.len];
        for (l, (g, w)) in self.geoms.iter().zip(&self.layers).enumerate() {
            let kpad = 1usize << g.k_vars;
            let ws = layout.segments[2 * l].offset;
            for o in 0..g.out_channels {
                for k in 0..g.dot {
                    v[ws + o * kpad + k] = i64::from(w.weight[o * g.dot + k]);
                }
            }
            let bs = layout.segments[2 * l + 1].offset;
            for (o, b) in w.bias.iter().enumerate() {
                v[bs + o] = i64::from(*b);
            }
        }
        v
    }
}

/// A registered model: the public part and the secret opening of its weight commitment.
#[derive(Debug, Clone)]
pub struct CommittedModel {
    /// The model with its weights.
    pub secret: SecretModel,
    /// What the chain stores.
    pub public: PublicModel,
    /// Blinding factor of each weight row commitment.
    pub blinds: Vec<Fr>,
}

const SECRET_MAGIC: &[u8; 4] = b"CWZS";
const SECRET_VERSION: u16 = 1;

impl CommittedModel {
    /// Commit to the weights (Hyrax rows with fresh blinding): registration.
    ///
    /// # Errors
    /// Layout errors for oversized models.
    pub fn commit(secret: SecretModel, rng: &mut BlindRng) -> Result<Self> {
        let layout = Circuit::weight_layout(secret.geoms())?;
        let packed = secret.packed(&layout);
        let (weight_rows, blinds) = commit_rows_small(&packed, &layout, rng);
        let public = PublicModel {
            circuit: secret.circuit.clone(),
            weight_rows,
        };
        Ok(Self {
            secret,
            public,
            blinds,
        })
    }

    /// Encode the secret part (weights and blinding factors) for local storage.
    pub fn encode_secret(&self) -> Vec<u8> {
        let mut w = Writer::new();
        w.bytes(SECRET_MAGIC);
        w.u16(SECRET_VERSION);
        w.u32(self.secret.layers.len() as u32);
        for l in &self.secret.layers {
            w.u32(l.weight.len() as u32);
            w.bytes(&l.weight.iter().map(|&v| v as u8).collect::<Vec<_>>());
            w.u32(l.bias.len() as u32);
            for b in &l.bias {
                w.bytes(&b.to_le_bytes());
            }
        }
        w.u32(self.blinds.len() as u32);
        for b in &self.blinds {
            w.fr(b);
        }
        w.into_bytes()
    }

    /// Rebuild from the public encoding and the secret encoding, checking they match.
    ///
    /// # Errors
    /// Malformed bytes, or a secret that does not open the public commitment.
    pub fn decode(public: &[u8], secret: &[u8]) -> Result<Self> {
        let public = PublicModel::decode(public)?;
        let mut r = Reader::new(secret);
        let bad = |what| Error::Verifier(counterweight_zkml_verifier::Error::BadHeader { what });
        if r.take(4)? != SECRET_MAGIC || r.u16()? != SECRET_VERSION {
            return Err(bad("secret model header"));
        }
        let n = r.count("layers", counterweight_zkml_verifier::MAX_LAYERS, 8)?;
        let mut layers = Vec::with_capacity(n);
        for _ in 0..n {
            let wn = r.count("weights", counterweight_zkml_verifier::MAX_COMMITTED_LEN, 1)?;
            let weight = r.take(wn)?.iter().map(|&b| b as i8).collect();
            let bn = r.count("biases", counterweight_zkml_verifier::MAX_TENSOR_LEN, 4)?;
            let bias = (0..bn)
                .map(|_| r.array::<4>().map(i32::from_le_bytes))
                .collect::<counterweight_zkml_verifier::Result<_>>()?;
            layers.push(LayerWeights { weight, bias });
        }
        let bn = r.count("blinds", 1 << 20, 32)?;
        let blinds: Vec<Fr> = (0..bn)
            .map(|_| r.fr())
            .collect::<counterweight_zkml_verifier::Result<_>>()?;
        r.finish()?;
        let secret = SecretModel::new(public.circuit.clone(), layers)?;
        let layout = Circuit::weight_layout(secret.geoms())?;
        if blinds.len() != layout.rows || public.weight_rows.len() != layout.rows {
            return Err(bad("secret model does not match the commitment"));
        }
        let packed = secret.packed(&layout);
        let c = 1usize << layout.col_vars;
        for (i, (row, blind)) in public.weight_rows.iter().zip(&blinds).enumerate() {
            let start = (i * c).min(packed.len());
            let end = ((i + 1) * c).min(packed.len());
            let vals: Vec<Fr> = packed[start..end].iter().map(|&v| fr_i64(v)).collect();
            if crate::pedersen::commit_row(&vals, blind) != *row {
                return Err(bad("secret model does not open the commitment"));
            }
        }
        Ok(Self {
            secret,
            public,
            blinds,
        })
    }
}

/// A registered model loaded for proving.
#[derive(Debug, Clone)]
pub struct Prover {
    pub(crate) prepared: PreparedModel,
    pub(crate) secret: SecretModel,
    pub(crate) wvec: Vec<Fr>,
    pub(crate) blinds: Vec<Fr>,
}

impl Prover {
    /// Prepare a committed model for proving.
    ///
    /// # Errors
    /// An inconsistent public model.
    pub fn new(m: CommittedModel) -> Result<Self> {
        let prepared = PreparedModel::new(m.public)?;
        let packed = m.secret.packed(&prepared.weight_layout);
        let mut wvec: Vec<Fr> = packed.iter().map(|&v| fr_i64(v)).collect();
        wvec.resize(1 << prepared.weight_layout.vars, Fr::ZERO);
        Ok(Self {
            prepared,
            secret: m.secret,
            wvec,
            blinds: m.blinds,
        })
    }

    /// The public model (what a verifier needs).
    pub fn public(&self) -> &PreparedModel {
        &self.prepared
    }

    /// The model with its weights.
    pub fn secret(&self) -> &SecretModel {
        &self.secret
    }
}
