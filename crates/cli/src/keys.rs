//! `counterweight keys`: create, list, import and export account keys in the keystore.

use std::io::Read as _;
use std::path::PathBuf;

use anyhow::Context as _;
use clap::{Args as ClapArgs, Subcommand};
use counterweight_crypto::SigningKey;
use serde::Serialize;

use crate::chain_opts::HomeOpt;
use crate::keystore::parse_secret;
use crate::{Global, Output};

/// Manage account keys (ed25519) in the home directory's keystore.
#[derive(Debug, ClapArgs)]
pub struct Args {
    /// Where the keystore is.
    #[command(flatten)]
    pub home: HomeOpt,
    /// What to do.
    #[command(subcommand)]
    pub command: KeysCommand,
}

/// The `keys` subcommands.
#[derive(Debug, Subcommand)]
pub enum KeysCommand {
    /// Create a new random key.
    New {
        /// Name for the key.
        name: String,
    },
    /// List keys with their addresses.
    List,
    /// Import a secret key (64 hex characters) read from a file or standard input.
    Import {
        /// Name for the key.
        name: String,
        /// File holding the secret key; standard input when absent.
        #[arg(long, value_name = "PATH")]
        secret_file: Option<PathBuf>,
    },
    /// Print a key's secret (64 hex characters) to standard output.
    Export {
        /// The key's name.
        name: String,
    },
}

#[derive(Serialize)]
struct KeyOut<'a> {
    name: &'a str,
    address: String,
}

/// Run `keys`.
///
/// # Errors
/// Invalid names, existing or missing keys, corrupt files, I/O errors.
pub fn run(args: Args, _global: &Global) -> anyhow::Result<Output> {
    let store = args.home.keystore()?;
    match args.command {
        KeysCommand::New { name } => {
            let key = SigningKey::from_bytes(rand::random());
            store.save(&name, &key)?;
            report_key(&name, &key, "created")
        }
        KeysCommand::List => {
            let keys = store.list()?;
            let out: Vec<_> = keys
                .iter()
                .map(|k| KeyOut {
                    name: &k.name,
                    address: k.address.to_hex(),
                })
                .collect();
            let text = if keys.is_empty() {
                format!("no keys in {}", store.dir().display())
            } else {
                let width = keys.iter().map(|k| k.name.len()).max().unwrap_or(0);
                keys.iter()
                    .map(|key| format!("{:width$}  {}\n", key.name, key.address))
                    .collect()
            };
            Ok(Output::with_text(&out, text)?)
        }
        KeysCommand::Import { name, secret_file } => {
            let text = match secret_file {
                Some(path) => std::fs::read_to_string(&path)
                    .with_context(|| format!("cannot read {}", path.display()))?,
                None => {
                    let mut text = String::new();
                    std::io::stdin()
                        .take(4096)
                        .read_to_string(&mut text)
                        .context("cannot read the secret key from standard input")?;
                    text
                }
            };
            let key = parse_secret(&text)?;
            store.save(&name, &key)?;
            report_key(&name, &key, "imported")
        }
        KeysCommand::Export { name } => {
            let key = store.load(&name)?;
            let secret = hex::encode(key.to_bytes());
            #[derive(Serialize)]
            struct Export<'a> {
                name: &'a str,
                address: String,
                secret_key: &'a str,
            }
            let export = Export {
                name: &name,
                address: key.address().to_hex(),
                secret_key: &secret,
            };
            Ok(Output::with_text(&export, secret.as_str())?)
        }
    }
}

fn report_key(name: &str, key: &SigningKey, verb: &str) -> anyhow::Result<Output> {
    let out = KeyOut {
        name,
        address: key.address().to_hex(),
    };
    let text = format!("{verb} key {name}\naddress {}", key.address());
    Ok(Output::with_text(&out, text)?)
}
