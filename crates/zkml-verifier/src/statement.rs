//! The public statement of a proof and the transcript it starts.

use crate::error::{Error, Result};
use crate::model::ModelId;
use crate::transcript::Transcript;

/// Longest prover address or chain id accepted in a binding.
pub const MAX_BINDING_FIELD: usize = 128;

/// What a proof is bound to besides the model, input and output, so it cannot be replayed.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct RequestBinding {
    /// The market request this proof answers.
    pub request_id: [u8; 32],
    /// The prover's address (raw bytes).
    pub prover: Vec<u8>,
    /// The chain id.
    pub chain_id: String,
}

impl RequestBinding {
    pub(crate) fn check(&self) -> Result<()> {
        if self.prover.len() > MAX_BINDING_FIELD || self.chain_id.len() > MAX_BINDING_FIELD {
            return Err(Error::InvalidStatement {
                reason: "binding field too long",
            });
        }
        Ok(())
    }
}

/// Hash of an int8 input vector, `H(x)` in the statement.
pub fn input_hash(input: &[i8]) -> [u8; 32] {
    let mut h = blake3::Hasher::new_derive_key("counterweight zkml-v1 input");
    h.update(&(input.len() as u64).to_le_bytes());
    let bytes: Vec<u8> = input.iter().map(|&v| v as u8).collect();
    h.update(&bytes);
    *h.finalize().as_bytes()
}

/// The transcript every proof starts from:
/// `model_id ‖ H(x) ‖ y ‖ request_id ‖ prover ‖ chain_id`.
pub fn statement_transcript(
    id: &ModelId,
    input: &[i8],
    output: &[i8],
    binding: &RequestBinding,
) -> Transcript {
    let mut t = Transcript::new(b"counterweight zkml-v1 inference proof");
    t.append(b"model_id", &id.0);
    t.append(b"input_hash", &input_hash(input));
    let y: Vec<u8> = output.iter().map(|&v| v as u8).collect();
    t.append(b"output", &y);
    t.append(b"request_id", &binding.request_id);
    t.append(b"prover", &binding.prover);
    t.append(b"chain_id", binding.chain_id.as_bytes());
    t
}
