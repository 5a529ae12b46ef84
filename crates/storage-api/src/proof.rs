//! State proofs: a value (or its absence) at a state root, checkable offline.
//!
//! This lives beside the storage traits, not in the disk backend, so that clients (the CLI,
//! light verifiers) can check a node's proof without linking a database.

use counterweight_types::{Hash, Height, domain};
use jmt::{KeyHash, RootHash, SimpleHasher, proof::SparseMerkleProof};
use serde::{Deserialize, Serialize};

/// BLAKE3 as the Jellyfish Merkle tree's hash function: a backend builds its state tree with
/// it, so that the proofs it serves verify here.
#[derive(Debug)]
pub struct Blake3Hasher(blake3::Hasher);

impl SimpleHasher for Blake3Hasher {
    fn new() -> Self {
        Self(blake3::Hasher::new())
    }

    fn update(&mut self, data: &[u8]) {
        self.0.update(data);
    }

    fn finalize(self) -> [u8; 32] {
        *self.0.finalize().as_bytes()
    }
}

/// Returns the tree position of a state key (domain-separated BLAKE3 of the key).
pub fn key_hash(key: &[u8]) -> KeyHash {
    KeyHash(Hash::digest(domain::STATE_KEY, &[key]).0)
}

/// A value (or its absence) under a key, with a Merkle proof against a block's state root.
///
/// Verify it with [`StateProof::verify`] — a pure function of the proof and the root — after
/// checking that `root` is the `state_root` of the header at `height`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StateProof {
    /// The state key (hex in JSON).
    #[serde(with = "hex_vec")]
    pub key: Vec<u8>,
    /// The value, or `None` if the key is absent (hex in JSON).
    #[serde(with = "hex_opt_vec")]
    pub value: Option<Vec<u8>>,
    /// The state root the proof is against.
    pub root: Hash,
    /// The height whose header carries `root`.
    pub height: Height,
    /// The encoded sparse Merkle proof (hex in JSON).
    #[serde(with = "hex_vec")]
    pub proof: Vec<u8>,
}

/// Why a state proof does not verify.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ProofError {
    /// The proof bytes do not decode.
    #[error("state proof bytes are malformed")]
    Malformed,
    /// The proof does not show this key/value at this root.
    #[error("state proof does not match the root: {0}")]
    Mismatch(String),
}

impl StateProof {
    /// Checks that `value` is what the state under `key` holds at `root` (absence if `None`).
    ///
    /// # Errors
    /// [`ProofError`] if the proof is malformed or proves something else.
    pub fn verify(&self) -> Result<(), ProofError> {
        verify_state_proof(&self.root, &self.key, self.value.as_deref(), &self.proof)
    }
}

/// Checks a raw proof: that `key` holds `value` (or is absent if `None`) at state `root`.
///
/// # Errors
/// [`ProofError`] if the proof is malformed or proves something else.
pub fn verify_state_proof(
    root: &Hash,
    key: &[u8],
    value: Option<&[u8]>,
    proof: &[u8],
) -> Result<(), ProofError> {
    let proof: SparseMerkleProof<Blake3Hasher> =
        borsh::from_slice(proof).map_err(|_| ProofError::Malformed)?;
    proof
        .verify(RootHash(root.0), key_hash(key), value)
        .map_err(|e| ProofError::Mismatch(e.to_string()))
}

mod hex_vec {
    use serde::{Deserialize, Deserializer, Serializer};

    pub(super) fn serialize<S: Serializer>(v: &[u8], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&hex::encode(v))
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<u8>, D::Error> {
        let s = String::deserialize(d)?;
        hex::decode(s.strip_prefix("0x").unwrap_or(&s)).map_err(serde::de::Error::custom)
    }
}

mod hex_opt_vec {
    use serde::{Deserialize, Deserializer, Serializer};

    pub(super) fn serialize<S: Serializer>(v: &Option<Vec<u8>>, s: S) -> Result<S::Ok, S::Error> {
        match v {
            Some(v) => s.serialize_some(&hex::encode(v)),
            None => s.serialize_none(),
        }
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(
        d: D,
    ) -> Result<Option<Vec<u8>>, D::Error> {
        Option::<String>::deserialize(d)?
            .map(|s| hex::decode(s.strip_prefix("0x").unwrap_or(&s)))
            .transpose()
            .map_err(serde::de::Error::custom)
    }
}
