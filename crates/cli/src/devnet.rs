//! `counterweight devnet`: one embedded validator with funded dev accounts, RPC on localhost.

use anyhow::Context as _;
use clap::Args as ClapArgs;
use counterweight_crypto::SigningKey;
use counterweight_node::{Home, NodeConfig, keys, service};
use counterweight_types::{Address, ChainId, Genesis, GenesisAccount, Params};
use serde::Serialize;
use std::{fmt, path::PathBuf};

use crate::{
    Global, Output,
    keystore::{Keystore, default_home},
    node_cmd::{Overrides, load_config},
};

/// Run a single-validator development network.
#[derive(Debug, ClapArgs)]
pub struct Args {
    /// Home directory [env: COUNTERWEIGHT_HOME; default: ~/.counterweight].
    #[arg(long, value_name = "DIR")]
    pub home: Option<PathBuf>,
    /// Funded dev accounts created on first start (keys `dev0`, `dev1`, ... in the keystore).
    #[arg(long, default_value_t = 4)]
    pub accounts: u64,
    /// Balance of each dev account.
    #[arg(long, default_value_t = 1_000_000_000_000)]
    pub balance: u64,
    /// Settings that override the home's `config.toml`.
    #[command(flatten)]
    pub overrides: Overrides,
}

/// Create a devnet home: validator key, genesis with random funded dev accounts whose keys go to
/// the keystore, and a config with RPC on 127.0.0.1.
///
/// # Errors
/// I/O errors.
pub fn init_home(
    home: &Home,
    accounts: u64,
    balance: u64,
) -> anyhow::Result<Vec<(String, Address)>> {
    let validator = keys::generate();
    let keystore = Keystore::in_home(home.root());
    let mut funded = Vec::new();
    for i in 0..accounts {
        let key = SigningKey::from_bytes(rand::random());
        let name = format!("dev{i}");
        keystore
            .save(&name, &key)
            .with_context(|| format!("cannot save dev account {name}"))?;
        funded.push((name, key.address()));
    }
    let genesis = Genesis {
        chain_id: ChainId::new("counterweight-devnet")?,
        genesis_time_ms: 0,
        validators: vec![Address(keys::public_key_bytes(&keys::public_key(
            &validator,
        )))],
        accounts: funded
            .iter()
            .map(|(_, address)| GenesisAccount {
                address: *address,
                balance,
            })
            .collect(),
        params: Params::default(),
    };
    genesis.validate()?;
    home.write_genesis(&genesis)?;
    let mut config = NodeConfig::default();
    config.p2p.listen = ([127, 0, 0, 1], 26_656).into();
    config.rpc.listen = ([127, 0, 0, 1], 26_657).into();
    std::fs::write(home.config(), config.to_toml()?)
        .with_context(|| format!("cannot write {}", home.config().display()))?;
    keys::write_private_key(&home.validator_key(), &validator)?;
    home.create_dirs()?;
    Ok(funded)
}

/// Run `counterweight devnet`.
///
/// # Errors
/// Bad configuration, I/O errors or a fatal node error.
pub fn run(args: Args, global: &Global) -> anyhow::Result<Output> {
    let root = match args.home {
        Some(home) => home,
        None => default_home()?,
    };
    let home = Home::new(root);
    let created = if home.is_initialised() {
        None
    } else {
        std::fs::create_dir_all(home.root())
            .with_context(|| format!("cannot create {}", home.root().display()))?;
        Some(init_home(&home, args.accounts, args.balance)?)
    };
    let config = load_config(&home, &args.overrides)?;
    let shell = global.shell();
    let root = home.root().to_path_buf();
    let accounts = Keystore::in_home(home.root())
        .list()
        .unwrap_or_default()
        .into_iter()
        .map(|entry| DevAccount {
            name: entry.name,
            address: entry.address.to_hex(),
        })
        .collect::<Vec<_>>();
    service::run(&home, config, move |ready| {
        let ready = DevnetReady {
            rpc: format!("http://{}", ready.rpc),
            home: root,
            created: created.is_some(),
            accounts,
        };
        // A closed stdout must not stop the devnet; the node logs its own lifecycle.
        let _ = shell.stream(&ready);
    })?;
    Ok(Output::nothing())
}

/// What a devnet prints once it serves: where to reach it and its funded accounts.
#[derive(Debug, Serialize)]
struct DevnetReady {
    rpc: String,
    home: PathBuf,
    created: bool,
    accounts: Vec<DevAccount>,
}

/// A dev account in the devnet's keystore.
#[derive(Debug, Serialize)]
struct DevAccount {
    name: String,
    address: String,
}

impl fmt::Display for DevnetReady {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "devnet running (home {})", self.home.display())?;
        writeln!(f, "rpc: {}", self.rpc)?;
        let keys = self.home.join("keys");
        if self.created {
            writeln!(f, "created funded dev accounts in {}:", keys.display())?;
        } else {
            writeln!(f, "dev accounts in {}:", keys.display())?;
        }
        for account in &self.accounts {
            writeln!(f, "  {}  {}", account.name, account.address)?;
        }
        write!(f, "stop with Ctrl-C; state is kept for the next start")
    }
}
