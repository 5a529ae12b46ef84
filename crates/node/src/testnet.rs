//! Lay out the home directories of a local network: genesis, validator keys and configs.

use crate::{
    config::{NodeConfig, PeerConfig},
    error::{Error, Result},
    home::Home,
    keys,
};
use counterweight_crypto::SigningKey;
use counterweight_types::{Address, ChainId, Genesis, GenesisAccount, Params};
use std::path::Path;

/// The seed of the first funded dev account; account `i` uses `DEV_ACCOUNT_SEED_BASE + i`.
///
/// Dev accounts are derived from public seeds, so anyone can spend them: they exist for local
/// networks, tests and benchmarks only.
pub const DEV_ACCOUNT_SEED_BASE: u64 = 1_000_000;

/// The signing key of dev account `index`.
pub fn dev_account(index: u64) -> SigningKey {
    SigningKey::from_seed(DEV_ACCOUNT_SEED_BASE.saturating_add(index))
}

/// What `testnet init` (and the devnet) creates.
#[derive(Clone, Debug)]
pub struct TestnetPlan {
    /// The chain id.
    pub chain_id: String,
    /// Number of validators.
    pub validators: usize,
    /// Number of funded dev accounts (see [`dev_account`]).
    pub dev_accounts: u64,
    /// Balance of each dev account.
    pub dev_balance: u64,
    /// Validator `i` listens for p2p on `base_port + 2i` and for RPC on `base_port + 2i + 1`.
    pub base_port: u16,
    /// Genesis timestamp, milliseconds since the Unix epoch.
    pub genesis_time_ms: u64,
    /// Minimum milliseconds between blocks.
    pub min_block_interval_ms: u64,
}

/// Default minimum block interval of a multi-validator network. Each block costs every
/// validator a fixed amount of work (votes, durable commits of the block and the state), so
/// with several validators sharing a small machine fewer, larger blocks finalize sooner: on
/// 2 cores with 4 validators at 5,500 transfers/s the median latency was 240-290 ms at 100
/// and 150 ms intervals against 330-450 ms at 25-50 ms (`counterweight bench chain`). The
/// single-validator devnet keeps the node default (50 ms).
pub const TESTNET_BLOCK_INTERVAL_MS: u64 = 150;

impl Default for TestnetPlan {
    fn default() -> Self {
        Self {
            chain_id: "counterweight-local".into(),
            validators: 4,
            dev_accounts: 16,
            dev_balance: 1_000_000_000_000,
            base_port: 27_000,
            genesis_time_ms: 0,
            min_block_interval_ms: TESTNET_BLOCK_INTERVAL_MS,
        }
    }
}

fn port(base: u16, offset: usize) -> Result<u16> {
    u16::try_from(offset)
        .ok()
        .and_then(|o| base.checked_add(o))
        .ok_or_else(|| Error::Config(format!("port {base} + {offset} is out of range")))
}

/// The genesis document for `plan` and the given validator addresses.
///
/// # Errors
/// An invalid chain id or genesis.
pub fn genesis(plan: &TestnetPlan, validators: Vec<Address>) -> Result<Genesis> {
    let chain_id =
        ChainId::new(plan.chain_id.clone()).map_err(|e| Error::Genesis(e.to_string()))?;
    let accounts = (0..plan.dev_accounts)
        .map(|i| GenesisAccount {
            address: dev_account(i).address(),
            balance: plan.dev_balance,
        })
        .collect();
    let genesis = Genesis {
        chain_id,
        genesis_time_ms: plan.genesis_time_ms,
        validators,
        accounts,
        params: Params::default(),
    };
    genesis
        .validate()
        .map_err(|e| Error::Genesis(e.to_string()))?;
    Ok(genesis)
}

/// Write `out/0 .. out/N-1`, one home per validator, all sharing one genesis.
///
/// # Errors
/// I/O errors, an existing non-empty `out/<i>`, or an invalid plan.
pub fn init(out: &Path, plan: &TestnetPlan) -> Result<Vec<Home>> {
    if plan.validators == 0 {
        return Err(Error::Config(
            "a network needs at least one validator".into(),
        ));
    }
    let signers: Vec<_> = (0..plan.validators).map(|_| keys::generate()).collect();
    let publics: Vec<_> = signers.iter().map(keys::public_key).collect();
    let addresses = publics
        .iter()
        .map(|pk| Address(keys::public_key_bytes(pk)))
        .collect();
    let genesis = genesis(plan, addresses)?;
    let mut homes = Vec::with_capacity(plan.validators);
    for (i, signer) in signers.iter().enumerate() {
        let home = Home::new(out.join(i.to_string()));
        if home.genesis().exists() || home.validator_key().exists() {
            return Err(Error::Config(format!(
                "{} already holds a node; choose another --out",
                home.root().display()
            )));
        }
        let mut config = NodeConfig::default();
        config.p2p.listen = ([127, 0, 0, 1], port(plan.base_port, 2 * i)?).into();
        config.rpc.listen = ([127, 0, 0, 1], port(plan.base_port, 2 * i + 1)?).into();
        config.consensus.min_block_interval_ms = plan.min_block_interval_ms;
        for (j, peer) in publics.iter().enumerate() {
            if j != i {
                config.p2p.bootstrappers.push(PeerConfig {
                    public_key: keys::public_key_hex(peer),
                    address: ([127, 0, 0, 1], port(plan.base_port, 2 * j)?).into(),
                });
            }
        }
        home.write_genesis(&genesis)?;
        keys::write_private_key(&home.validator_key(), signer)?;
        let path = home.config();
        std::fs::write(&path, config.to_toml()?).map_err(|source| Error::Io { path, source })?;
        home.create_dirs()?;
        homes.push(home);
    }
    Ok(homes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_one_home_per_validator_with_shared_genesis() {
        let dir = tempfile::tempdir().unwrap();
        let plan = TestnetPlan {
            validators: 3,
            ..TestnetPlan::default()
        };
        let homes = init(dir.path(), &plan).unwrap();
        assert_eq!(homes.len(), 3);
        let genesis = homes[0].read_genesis().unwrap();
        assert_eq!(genesis.validators.len(), 3);
        assert_eq!(genesis.accounts.len(), 16);
        for home in &homes {
            assert_eq!(home.read_genesis().unwrap(), genesis);
            let config = NodeConfig::load_or_default(&home.config()).unwrap();
            assert_eq!(config.p2p.bootstrappers.len(), 2);
            keys::read_private_key(&home.validator_key()).unwrap();
        }
        // Refuses to overwrite an existing network.
        assert!(init(dir.path(), &plan).is_err());
    }
}
