//! Run a whole secure-aggregation round in one process (simulations, tests, benchmarks).

use std::collections::{BTreeMap, BTreeSet};

use rand::{Rng, RngExt, SeedableRng};
use rand_chacha::ChaCha20Rng;

use crate::error::{Error, Result};
use crate::secagg::{SecAggClient, SecAggConfig, SecAggServer, SecAggSum};
use crate::update::ClientId;

/// Which clients fail, and when.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Dropouts {
    /// Never advertise keys.
    pub before_keys: BTreeSet<ClientId>,
    /// Advertise keys but never share them.
    pub before_shares: BTreeSet<ClientId>,
    /// Share keys but never send a masked input (the case that needs key recovery).
    pub before_masked: BTreeSet<ClientId>,
    /// Send a masked input but never answer the unmask request.
    pub before_unmask: BTreeSet<ClientId>,
}

/// Run every client and the server of one round in memory. Each client draws its randomness
/// from a ChaCha20 stream seeded by `rng`, so a seeded `rng` makes the whole round
/// reproducible.
///
/// # Errors
/// Any protocol error, e.g. [`Error::TooManyDropouts`], or [`Error::UnknownClient`] when
/// `inputs` names a client outside the configuration. A client enrolled in the configuration
/// without an input counts as dropped before advertising keys.
pub fn run_round<R: Rng + ?Sized>(
    cfg: &SecAggConfig,
    inputs: &BTreeMap<ClientId, Vec<i32>>,
    dropouts: &Dropouts,
    rng: &mut R,
) -> Result<SecAggSum> {
    if let Some(&c) = inputs.keys().find(|c| cfg.position(**c).is_none()) {
        return Err(Error::UnknownClient { client: c });
    }
    let mut server = SecAggServer::new(cfg.clone());
    let mut clients = BTreeMap::new();
    for &id in cfg.clients() {
        let mut client_rng = ChaCha20Rng::from_seed(rng.random());
        if !inputs.contains_key(&id) || dropouts.before_keys.contains(&id) {
            continue;
        }
        let (client, keys) = SecAggClient::new(cfg.clone(), id, &mut client_rng)?;
        server.receive_keys(keys)?;
        clients.insert(id, (client, client_rng));
    }
    let roster = server.close_keys()?;
    for (id, (client, client_rng)) in clients.iter_mut() {
        if dropouts.before_shares.contains(id) {
            continue;
        }
        let shares = client.share_keys(&roster, client_rng)?;
        server.receive_shares(*id, shares)?;
    }
    let inbox = server.close_shares()?;
    for (id, msgs) in &inbox {
        if dropouts.before_masked.contains(id) {
            continue;
        }
        let (Some((client, _)), Some(x)) = (clients.get_mut(id), inputs.get(id)) else {
            continue;
        };
        let masked = client.mask(msgs, x)?;
        server.receive_masked(masked)?;
    }
    let request = server.close_masked()?;
    for id in &request.survivors {
        if dropouts.before_unmask.contains(id) {
            continue;
        }
        if let Some((client, _)) = clients.get_mut(id) {
            server.receive_unmask(client.unmask(&request)?)?;
        }
    }
    server.finish()
}
