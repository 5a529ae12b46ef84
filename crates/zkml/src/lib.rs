//! Prove model inference in zero knowledge with a layered-sumcheck prover.
