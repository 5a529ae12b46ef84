//! Blinding randomness: a BLAKE3 stream keyed from the operating system's random source.

use counterweight_zkml_verifier::{Fr, fr_from_wide};

use crate::error::{Error, Result};

/// Source of blinding factors. Keyed from OS randomness for real proofs, or from a fixed seed
/// in tests that need reproducible proofs.
pub struct BlindRng {
    reader: blake3::OutputReader,
}

impl std::fmt::Debug for BlindRng {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("BlindRng")
    }
}

impl BlindRng {
    /// Seed from the operating system.
    ///
    /// # Errors
    /// [`Error::Random`] if the OS random source fails.
    pub fn from_os() -> Result<Self> {
        let mut seed = [0u8; 32];
        getrandom::fill(&mut seed).map_err(|e| Error::Random(e.to_string()))?;
        Ok(Self::from_seed(seed))
    }

    /// Seed deterministically (tests and reproducible benchmarks only: reusing a seed across
    /// proofs of different statements breaks zero knowledge).
    pub fn from_seed(seed: [u8; 32]) -> Self {
        let mut h = blake3::Hasher::new_derive_key("counterweight zkml-v1 blinding rng");
        h.update(&seed);
        Self {
            reader: h.finalize_xof(),
        }
    }

    /// A uniformly random field element.
    pub fn fr(&mut self) -> Fr {
        let mut wide = [0u8; 64];
        self.reader.fill(&mut wide);
        fr_from_wide(&wide)
    }

    /// `n` random field elements.
    pub fn frs(&mut self, n: usize) -> Vec<Fr> {
        (0..n).map(|_| self.fr()).collect()
    }
}
