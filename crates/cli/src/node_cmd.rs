//! `counterweight node`: run one validator from its home directory.

use anyhow::Context as _;
use clap::Args as ClapArgs;
use counterweight_node::{Home, NodeConfig, service};
use std::{net::SocketAddr, path::PathBuf};

use std::fmt;

use serde::Serialize;

use crate::{Global, Output};

/// Overrides shared by `node` and `devnet` (each beats the home's `config.toml`).
#[derive(Debug, Clone, Default, ClapArgs)]
pub struct Overrides {
    /// RPC listen address [env: COUNTERWEIGHT_RPC_LISTEN].
    #[arg(long, value_name = "ADDR", env = "COUNTERWEIGHT_RPC_LISTEN")]
    pub rpc_listen: Option<SocketAddr>,
    /// P2P listen address [env: COUNTERWEIGHT_P2P_LISTEN].
    #[arg(long, value_name = "ADDR", env = "COUNTERWEIGHT_P2P_LISTEN")]
    pub p2p_listen: Option<SocketAddr>,
    /// Minimum milliseconds between blocks [env: COUNTERWEIGHT_BLOCK_INTERVAL_MS].
    #[arg(long, value_name = "MS", env = "COUNTERWEIGHT_BLOCK_INTERVAL_MS")]
    pub block_interval_ms: Option<u64>,
}

impl Overrides {
    /// Apply the overrides to a configuration read from the file.
    pub fn apply(&self, config: &mut NodeConfig) {
        if let Some(addr) = self.rpc_listen {
            config.rpc.listen = addr;
        }
        if let Some(addr) = self.p2p_listen {
            config.p2p.listen = addr;
        }
        if let Some(ms) = self.block_interval_ms {
            config.consensus.min_block_interval_ms = ms;
        }
    }
}

/// Run one validator process.
#[derive(Debug, ClapArgs)]
pub struct Args {
    /// The node's home directory (made by `counterweight testnet init`).
    #[arg(long, value_name = "DIR")]
    pub home: PathBuf,
    /// Settings that override the home's `config.toml`.
    #[command(flatten)]
    pub overrides: Overrides,
}

/// Load `home/config.toml`, apply env and flag overrides.
///
/// # Errors
/// A malformed config file or invalid values.
pub fn load_config(home: &Home, overrides: &Overrides) -> anyhow::Result<NodeConfig> {
    let mut config = NodeConfig::load_or_default(&home.config())
        .with_context(|| format!("cannot read {}", home.config().display()))?;
    overrides.apply(&mut config);
    config.validate()?;
    Ok(config)
}

/// Run `counterweight node`.
///
/// # Errors
/// A home that is not initialised, bad configuration, or a fatal node error.
pub fn run(args: Args, global: &Global) -> anyhow::Result<Output> {
    let home = Home::new(&args.home);
    if !home.is_initialised() {
        anyhow::bail!(
            "{} is not a node home (no genesis.json and validator.key); run `counterweight testnet init`",
            home.root().display()
        );
    }
    let config = load_config(&home, &args.overrides)?;
    let shell = global.shell();
    service::run(&home, config, move |ready| {
        let ready = NodeReady {
            rpc: format!("http://{}", ready.rpc),
            p2p: ready.p2p.to_string(),
            public_key: ready.public_key.clone(),
        };
        // A closed stdout must not stop the node; the node logs its own lifecycle.
        let _ = shell.stream(&ready);
    })?;
    Ok(Output::nothing())
}

/// The line a node prints once it serves: where to reach it.
#[derive(Debug, Serialize)]
struct NodeReady {
    rpc: String,
    p2p: String,
    public_key: String,
}

impl fmt::Display for NodeReady {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "validator {} running\nrpc: {}",
            self.public_key, self.rpc
        )
    }
}
