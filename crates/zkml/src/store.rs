//! The local model store: registered models under `<home>/zk/models/<model id>/`.

use std::fs;
use std::path::{Path, PathBuf};

use counterweight_zkml_verifier::{ModelId, PreparedModel, PublicModel};
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::model::{CommittedModel, Prover};

/// Public metadata kept next to a registered model (what clients need to quantise inputs and
/// read outputs; not part of the proof statement).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModelMeta {
    /// Model id (hex).
    pub model_id: String,
    /// Input scale: `x_int8 = clamp(round(x / input_scale), -128, 127)`.
    pub input_scale: f32,
    /// Output scale: `y = y_int8 · output_scale`.
    pub output_scale: f32,
    /// Flattened input length.
    pub input_len: usize,
    /// Output length.
    pub output_len: usize,
}

/// Registered models on disk.
#[derive(Debug, Clone)]
pub struct Store {
    root: PathBuf,
}

const PUBLIC_FILE: &str = "public.bin";
const SECRET_FILE: &str = "secret.bin";
const META_FILE: &str = "meta.json";
/// Largest secret file read back.
const MAX_SECRET_BYTES: u64 = 256 << 20;

fn read_limited(path: &Path, max: u64) -> Result<Vec<u8>> {
    let len = fs::metadata(path)?.len();
    if len > max {
        return Err(Error::Store(format!(
            "{} is larger than {max} bytes",
            path.display()
        )));
    }
    Ok(fs::read(path)?)
}

impl Store {
    /// The store under a Counterweight home directory.
    pub fn new(home: impl AsRef<Path>) -> Self {
        Self {
            root: home.as_ref().join("zk").join("models"),
        }
    }

    fn dir(&self, id: &ModelId) -> PathBuf {
        self.root.join(id.to_hex())
    }

    /// Save a registered model; returns its directory.
    ///
    /// # Errors
    /// File-system errors.
    pub fn save(&self, m: &CommittedModel, meta: &ModelMeta) -> Result<PathBuf> {
        let dir = self.dir(&m.public.id());
        fs::create_dir_all(&dir)?;
        fs::write(dir.join(PUBLIC_FILE), m.public.encode())?;
        fs::write(dir.join(SECRET_FILE), m.encode_secret())?;
        let json = serde_json::to_vec_pretty(meta).map_err(|e| Error::Store(e.to_string()))?;
        fs::write(dir.join(META_FILE), json)?;
        Ok(dir)
    }

    /// Load only the public part (what a verifier uses) and the metadata.
    ///
    /// # Errors
    /// A missing or corrupt model, or one whose content does not hash to `id`.
    pub fn load_public(&self, id: &ModelId) -> Result<(PreparedModel, ModelMeta)> {
        let dir = self.dir(id);
        let bytes = read_limited(
            &dir.join(PUBLIC_FILE),
            counterweight_zkml_verifier::MAX_MODEL_BYTES as u64,
        )
        .map_err(|e| Error::Store(format!("model {id} not found in the local store ({e})")))?;
        let prepared = PreparedModel::new(PublicModel::decode(&bytes)?)?;
        if prepared.id != *id {
            return Err(Error::Store(format!("stored model does not hash to {id}")));
        }
        Ok((prepared, self.meta(id)?))
    }

    fn meta(&self, id: &ModelId) -> Result<ModelMeta> {
        let bytes = read_limited(&self.dir(id).join(META_FILE), 1 << 20)?;
        serde_json::from_slice(&bytes).map_err(|e| Error::Store(format!("corrupt metadata: {e}")))
    }

    /// Load a model for proving (public part, weights and blinding factors).
    ///
    /// # Errors
    /// A missing or corrupt model, or a secret part that does not open the commitment.
    pub fn load_prover(&self, id: &ModelId) -> Result<(Prover, ModelMeta)> {
        let dir = self.dir(id);
        let public = read_limited(
            &dir.join(PUBLIC_FILE),
            counterweight_zkml_verifier::MAX_MODEL_BYTES as u64,
        )
        .map_err(|e| Error::Store(format!("model {id} not found in the local store ({e})")))?;
        let secret = read_limited(&dir.join(SECRET_FILE), MAX_SECRET_BYTES)?;
        let m = CommittedModel::decode(&public, &secret)?;
        if m.public.id() != *id {
            return Err(Error::Store(format!("stored model does not hash to {id}")));
        }
        Ok((Prover::new(m)?, self.meta(id)?))
    }
}
