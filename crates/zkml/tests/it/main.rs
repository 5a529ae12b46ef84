//! Integration tests of the prover and verifier through their public APIs.

mod soundness;
