//! Verify zero-knowledge proofs of model inference.
//!
//! A registered model is public only as a [`PublicModel`]: its architecture, its requantisation
//! parameters and Hyrax/Pedersen row commitments to its int8 weights. A [`Proof`] shows that
//! the committed weights map an int8 input to an int8 output under the fixed-point semantics
//! (i64 accumulation, multiplier-and-shift requantisation with round half up, clamp or fused
//! ReLU), bound to a request by [`RequestBinding`]. Verification uses only integers and field
//! arithmetic, never panics on any bytes, and folds all group equations into one
//! multi-scalar multiplication.
//!
//! The prover lives in `counterweight-zkml`; this crate is what the chain links.

mod circuit;
mod codec;
mod error;
mod field;
mod generators;
mod model;
mod msm;
mod proof;
mod statement;
mod transcript;
mod verify;

pub use circuit::{
    Circuit, ConvGeom, LayerGeom, LayerKind, LayerSpec, Layout, MAX_COMMITTED_LEN, MAX_DOT_LEN,
    MAX_LAYERS, MAX_TENSOR_LEN, Requant, Segment, wiring_functional,
};
pub use codec::{Reader, Writer};
pub use error::{Error, Result};
pub use field::{
    Affine, Fr, Projective, eq_at_index, eq_eval, eq_table, fr_from_wide, fr_i64, fr_i128,
    index_bits, inv_or_zero, log2_ceil, mle_eval, poly_eval,
};
pub use generators::{GENERATOR_CONTEXT, Generators, MAX_COLUMNS};
pub use model::{
    MAX_MODEL_BYTES, MODEL_FORMAT_VERSION, ModelId, PROOF_SYSTEM_PARAMS, PreparedModel, PublicModel,
};
pub use proof::{
    BatchProof, DotProof, LayerProof, MAX_PROOF_BYTES, PROOF_FORMAT_VERSION, ProductProof, Proof,
    RoundProof, SumcheckProof, ZeroProof,
};
pub use statement::{MAX_BINDING_FIELD, RequestBinding, input_hash, statement_transcript};
pub use transcript::Transcript;
pub use verify::{BitCoefficients, BitTables, Lc, verify, verify_bytes};
