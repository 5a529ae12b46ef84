//! The layout of a node's home directory.

use crate::error::{Error, Result};
use counterweight_types::Genesis;
use std::path::{Path, PathBuf};

/// Paths inside a node home directory.
///
/// ```text
/// <home>/config.toml      node configuration (NodeConfig)
/// <home>/genesis.json     the chain's genesis document
/// <home>/validator.key    this validator's consensus key (hex seed, owner-only)
/// <home>/data/app/        committed state, blocks and receipts
/// <home>/data/consensus/  consensus journals and finalized-block archives
/// <home>/data/mempool.bin pending transactions saved at shutdown
/// <home>/keys/            account keystore (dev accounts on a devnet)
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Home {
    root: PathBuf,
}

impl Home {
    /// A home rooted at `root` (nothing is created).
    pub fn new(root: impl Into<PathBuf>) -> Self {
        Self { root: root.into() }
    }

    /// The root directory.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// `config.toml`.
    pub fn config(&self) -> PathBuf {
        self.root.join("config.toml")
    }

    /// `genesis.json`.
    pub fn genesis(&self) -> PathBuf {
        self.root.join("genesis.json")
    }

    /// `validator.key`.
    pub fn validator_key(&self) -> PathBuf {
        self.root.join("validator.key")
    }

    /// `data/app/`.
    pub fn app_dir(&self) -> PathBuf {
        self.root.join("data").join("app")
    }

    /// `data/consensus/`.
    pub fn consensus_dir(&self) -> PathBuf {
        self.root.join("data").join("consensus")
    }

    /// `data/mempool.bin`.
    pub fn mempool_file(&self) -> PathBuf {
        self.root.join("data").join("mempool.bin")
    }

    /// `keys/`.
    pub fn keys_dir(&self) -> PathBuf {
        self.root.join("keys")
    }

    /// Whether this home has been initialised (it has a genesis and a validator key).
    pub fn is_initialised(&self) -> bool {
        self.genesis().is_file() && self.validator_key().is_file()
    }

    /// Create the data directories.
    ///
    /// # Errors
    /// I/O errors.
    pub fn create_dirs(&self) -> Result<()> {
        for dir in [self.app_dir(), self.consensus_dir(), self.keys_dir()] {
            std::fs::create_dir_all(&dir).map_err(|source| Error::Io { path: dir, source })?;
        }
        Ok(())
    }

    /// Read and validate `genesis.json`.
    ///
    /// # Errors
    /// I/O errors, malformed JSON, or an invalid genesis.
    pub fn read_genesis(&self) -> Result<Genesis> {
        let path = self.genesis();
        let text = std::fs::read_to_string(&path).map_err(|source| Error::Io {
            path: path.clone(),
            source,
        })?;
        let genesis: Genesis = serde_json::from_str(&text)
            .map_err(|e| Error::Genesis(format!("{}: {e}", path.display())))?;
        genesis
            .validate()
            .map_err(|e| Error::Genesis(e.to_string()))?;
        Ok(genesis)
    }

    /// Write `genesis.json`.
    ///
    /// # Errors
    /// I/O errors.
    pub fn write_genesis(&self, genesis: &Genesis) -> Result<()> {
        let path = self.genesis();
        let text =
            serde_json::to_string_pretty(genesis).map_err(|e| Error::Genesis(e.to_string()))?;
        std::fs::create_dir_all(&self.root).map_err(|source| Error::Io {
            path: self.root.clone(),
            source,
        })?;
        std::fs::write(&path, text).map_err(|source| Error::Io { path, source })
    }
}
