//! Verify zero-knowledge proofs of model inference.
