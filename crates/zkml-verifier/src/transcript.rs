//! Fiat–Shamir transcript: a BLAKE3 chain with labelled, length-prefixed messages.

use ark_serialize::CanonicalSerialize;

use crate::field::{Affine, Fr, fr_from_wide};

const TRANSCRIPT_CONTEXT: &str = "counterweight zkml-v1 transcript";

/// A running Fiat–Shamir transcript. Prover and verifier feed it the same messages in the same
/// order; challenges are derived from everything absorbed so far.
#[derive(Clone, Debug)]
pub struct Transcript {
    state: [u8; 32],
}

impl Transcript {
    /// Start a transcript for one protocol, separated from every other use by `domain`.
    pub fn new(domain: &[u8]) -> Self {
        let mut h = blake3::Hasher::new_derive_key(TRANSCRIPT_CONTEXT);
        h.update(&(domain.len() as u64).to_le_bytes());
        h.update(domain);
        Self {
            state: *h.finalize().as_bytes(),
        }
    }

    /// Absorb a labelled message.
    pub fn append(&mut self, label: &[u8], data: &[u8]) {
        let mut h = blake3::Hasher::new_keyed(&self.state);
        h.update(b"m");
        h.update(&(label.len() as u64).to_le_bytes());
        h.update(label);
        h.update(&(data.len() as u64).to_le_bytes());
        h.update(data);
        self.state = *h.finalize().as_bytes();
    }

    /// Absorb a field element.
    pub fn append_fr(&mut self, label: &[u8], v: &Fr) {
        let mut buf = Vec::with_capacity(32);
        // Serialising a field element into a Vec cannot fail.
        let _ = v.serialize_compressed(&mut buf);
        self.append(label, &buf);
    }

    /// Absorb several field elements.
    pub fn append_frs(&mut self, label: &[u8], vs: &[Fr]) {
        let mut buf = Vec::with_capacity(32 * vs.len());
        for v in vs {
            let _ = v.serialize_compressed(&mut buf);
        }
        self.append(label, &buf);
    }

    /// Absorb a group element.
    pub fn append_point(&mut self, label: &[u8], p: &Affine) {
        let mut buf = Vec::with_capacity(64);
        let _ = p.serialize_uncompressed(&mut buf);
        self.append(label, &buf);
    }

    /// Absorb several group elements.
    pub fn append_points(&mut self, label: &[u8], ps: &[Affine]) {
        let mut buf = Vec::with_capacity(64 * ps.len());
        for p in ps {
            let _ = p.serialize_uncompressed(&mut buf);
        }
        self.append(label, &buf);
    }

    /// Derive a challenge field element and absorb the fact that it was drawn.
    pub fn challenge(&mut self, label: &[u8]) -> Fr {
        let mut h = blake3::Hasher::new_keyed(&self.state);
        h.update(b"c");
        h.update(&(label.len() as u64).to_le_bytes());
        h.update(label);
        let mut wide = [0u8; 64];
        h.finalize_xof().fill(&mut wide);
        let mut next = blake3::Hasher::new_keyed(&self.state);
        next.update(b"n");
        next.update(&wide);
        self.state = *next.finalize().as_bytes();
        fr_from_wide(&wide)
    }

    /// Derive `n` challenges.
    pub fn challenges(&mut self, label: &[u8], n: usize) -> Vec<Fr> {
        (0..n).map(|_| self.challenge(label)).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn challenges_depend_on_every_message_and_label() {
        let mut a = Transcript::new(b"t");
        let mut b = Transcript::new(b"t");
        a.append(b"x", b"1");
        b.append(b"x", b"1");
        assert_eq!(a.challenge(b"c"), b.challenge(b"c"));
        let mut c = a.clone();
        a.append(b"x", b"2");
        c.append(b"y", b"2");
        assert_ne!(a.challenge(b"c"), c.challenge(b"c"));
        let mut d = Transcript::new(b"u");
        assert_ne!(Transcript::new(b"t").challenge(b"c"), d.challenge(b"c"));
    }
}
