//! The node's typed configuration (TOML file < environment < flags; the CLI applies the last two).

use serde::{Deserialize, Serialize};
use std::{net::SocketAddr, path::Path, time::Duration};

use crate::error::{Error, Result};

/// A peer to dial at startup.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PeerConfig {
    /// The peer's ed25519 public key, hex.
    pub public_key: String,
    /// The peer's p2p address.
    pub address: SocketAddr,
}

/// Peer-to-peer networking.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct P2pConfig {
    /// Address the p2p listener binds (env `COUNTERWEIGHT_P2P_LISTEN`, flag `--p2p-listen`).
    pub listen: SocketAddr,
    /// Validators to dial at startup (every validator but this one, for a small network).
    pub bootstrappers: Vec<PeerConfig>,
}

impl Default for P2pConfig {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 26_656)),
            bootstrappers: Vec::new(),
        }
    }
}

/// The HTTP RPC server.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RpcConfig {
    /// Address the RPC server binds (env `COUNTERWEIGHT_RPC_LISTEN`, flag `--rpc-listen`); port 0
    /// picks a free port.
    pub listen: SocketAddr,
}

impl Default for RpcConfig {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 26_657)),
        }
    }
}

/// Mempool limits.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MempoolConfig {
    /// Most transactions held at once.
    pub max_txs: usize,
    /// Most bytes of encoded transactions held at once.
    pub max_bytes: usize,
    /// Most transactions held for one sender.
    pub max_txs_per_account: usize,
    /// How far ahead of the committed nonce a sender may queue: at most the app's
    /// `MAX_NONCE_GAP` (the default), so the pool holds nothing `check_tx` would refuse.
    pub max_nonce_gap: u64,
}

impl Default for MempoolConfig {
    fn default() -> Self {
        Self {
            max_txs: 200_000,
            max_bytes: 256 * 1024 * 1024,
            max_txs_per_account: 1_024,
            max_nonce_gap: counterweight_app::MAX_NONCE_GAP,
        }
    }
}

/// Consensus timing.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ConsensusConfig {
    /// Minimum milliseconds between a block and its child.
    pub min_block_interval_ms: u64,
    /// Milliseconds to wait for a leader's proposal before skipping its view.
    pub leader_timeout_ms: u64,
    /// Milliseconds to wait for a notarized proposal to certify.
    pub certification_timeout_ms: u64,
}

impl Default for ConsensusConfig {
    fn default() -> Self {
        Self {
            min_block_interval_ms: 50,
            leader_timeout_ms: 1_000,
            certification_timeout_ms: 2_000,
        }
    }
}

impl ConsensusConfig {
    /// The engine's timeouts.
    pub fn timeouts(&self) -> counterweight_consensus::Timeouts {
        counterweight_consensus::Timeouts {
            leader_timeout: Duration::from_millis(self.leader_timeout_ms),
            certification_timeout: Duration::from_millis(self.certification_timeout_ms),
            ..counterweight_consensus::Timeouts::default()
        }
    }
}

/// The whole node configuration (`config.toml` in the home directory).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct NodeConfig {
    /// Networking between validators.
    pub p2p: P2pConfig,
    /// The RPC server.
    pub rpc: RpcConfig,
    /// Mempool limits.
    pub mempool: MempoolConfig,
    /// Consensus timing.
    pub consensus: ConsensusConfig,
    /// The blob store (model weights) this node keeps and serves: `<home>/blobs` by default,
    /// or an S3-compatible bucket.
    pub blobs: counterweight_blobs::BlobConfig,
    /// Tokio worker threads (0: one per core).
    pub worker_threads: usize,
}

impl NodeConfig {
    /// Parse a TOML document.
    ///
    /// # Errors
    /// [`Error::Config`] on syntax errors, unknown keys or bad values.
    pub fn from_toml(text: &str) -> Result<Self> {
        let config: Self = toml::from_str(text).map_err(|e| Error::Config(e.to_string()))?;
        config.validate()?;
        Ok(config)
    }

    /// Read `path` if it exists, defaults otherwise.
    ///
    /// # Errors
    /// I/O errors other than "not found", and [`NodeConfig::from_toml`]'s.
    pub fn load_or_default(path: &Path) -> Result<Self> {
        match std::fs::read_to_string(path) {
            Ok(text) => Self::from_toml(&text),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Self::default()),
            Err(source) => Err(Error::Io {
                path: path.to_path_buf(),
                source,
            }),
        }
    }

    /// Render as TOML.
    ///
    /// # Errors
    /// [`Error::Config`] if serialization fails.
    pub fn to_toml(&self) -> Result<String> {
        toml::to_string_pretty(self).map_err(|e| Error::Config(e.to_string()))
    }

    /// Check values that serde cannot.
    ///
    /// # Errors
    /// [`Error::Config`] naming the bad field.
    pub fn validate(&self) -> Result<()> {
        let m = &self.mempool;
        if m.max_txs == 0 || m.max_bytes == 0 || m.max_txs_per_account == 0 {
            return Err(Error::Config("mempool limits must be positive".into()));
        }
        if m.max_nonce_gap > counterweight_app::MAX_NONCE_GAP {
            return Err(Error::Config(format!(
                "mempool.max_nonce_gap {} exceeds the chain's limit {}; lower it",
                m.max_nonce_gap,
                counterweight_app::MAX_NONCE_GAP
            )));
        }
        if self.consensus.leader_timeout_ms == 0 || self.consensus.certification_timeout_ms == 0 {
            return Err(Error::Config("consensus timeouts must be positive".into()));
        }
        if self.blobs.max_blob_bytes == 0 {
            return Err(Error::Config(
                "blobs.max_blob_bytes must be positive".into(),
            ));
        }
        for peer in &self.p2p.bootstrappers {
            crate::keys::parse_public_key(&peer.public_key)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_through_toml() {
        let mut config = NodeConfig::default();
        config.rpc.listen = "127.0.0.1:9".parse().unwrap();
        let text = config.to_toml().unwrap();
        assert_eq!(NodeConfig::from_toml(&text).unwrap(), config);
    }

    #[test]
    fn rejects_unknown_keys_and_zero_limits() {
        assert!(NodeConfig::from_toml("[rpc]\nlisten = \"127.0.0.1:1\"\nbogus = 1\n").is_err());
        assert!(NodeConfig::from_toml("[mempool]\nmax_txs = 0\n").is_err());
        assert!(NodeConfig::from_toml("[p2p]\nlisten = \"nope\"\n").is_err());
    }

    #[test]
    fn nonce_gap_may_only_be_lowered_below_the_apps() {
        // Audit L7.
        let gap = counterweight_app::MAX_NONCE_GAP;
        assert_eq!(NodeConfig::default().mempool.max_nonce_gap, gap);
        assert!(
            NodeConfig::from_toml(&format!("[mempool]\nmax_nonce_gap = {}\n", gap + 1)).is_err()
        );
        let lower = NodeConfig::from_toml("[mempool]\nmax_nonce_gap = 16\n").unwrap();
        assert_eq!(lower.mempool.max_nonce_gap, 16);
    }
}
