//! Options shared by the chain client commands (`keys`, `transfer`, `query`, `watch`).

use std::path::PathBuf;

use anyhow::Context as _;
use clap::Args;
use counterweight_rpc_api::Client;

use crate::keystore::{Keystore, default_home};

/// Where the home directory (and so the keystore) is.
#[derive(Debug, Clone, Args)]
pub struct HomeOpt {
    /// Home directory holding `keys/` [env: COUNTERWEIGHT_HOME; default: ~/.counterweight].
    #[arg(long, value_name = "DIR")]
    pub home: Option<PathBuf>,
}

impl HomeOpt {
    /// The keystore in the chosen home.
    ///
    /// # Errors
    /// When no home directory can be determined.
    pub fn keystore(&self) -> anyhow::Result<Keystore> {
        let home = match &self.home {
            Some(home) => home.clone(),
            None => default_home()?,
        };
        Ok(Keystore::in_home(&home))
    }
}

/// Which node to talk to.
#[derive(Debug, Clone, Args)]
pub struct RpcOpt {
    /// The node's RPC URL.
    #[arg(long, global = true, value_name = "URL", env = "COUNTERWEIGHT_RPC", default_value = counterweight_rpc_api::DEFAULT_RPC_URL)]
    pub rpc: String,
}

impl RpcOpt {
    /// A client for the chosen node.
    ///
    /// # Errors
    /// When the URL is not `http(s)://host:port`.
    pub fn client(&self) -> anyhow::Result<Client> {
        Client::new(&self.rpc).context("bad --rpc")
    }
}
