//! Run a whole secure-aggregation round in one process (simulations, tests, benchmarks).

use std::collections::{BTreeMap, BTreeSet};

use rand::{Rng, RngExt, SeedableRng};
use rand_chacha::ChaCha20Rng;

use crate::error::{Error, Result};
use crate::secagg::{SecAggClient, SecAggConfig, SecAggKeys, SecAggServer, SecAggSum};
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
    run(cfg, inputs, dropouts, None, rng)
}

/// [`run_round`] for one round of a session: each client uses (and updates) its long-lived
/// keys in `keys`, generated on first use; after the round, clients whose mask key the server
/// reconstructed get a fresh one. With [`Recovery::PairSeeds`](crate::secagg::Recovery) a
/// session computes each client's agreements once instead of every round.
///
/// # Errors
/// As [`run_round`]. A client that was mid-round when an error stopped it loses its keys and
/// gets fresh ones next time.
pub fn run_session_round<R: Rng + ?Sized>(
    cfg: &SecAggConfig,
    inputs: &BTreeMap<ClientId, Vec<i32>>,
    dropouts: &Dropouts,
    keys: &mut BTreeMap<ClientId, SecAggKeys>,
    rng: &mut R,
) -> Result<SecAggSum> {
    run(cfg, inputs, dropouts, Some(keys), rng)
}

fn run<R: Rng + ?Sized>(
    cfg: &SecAggConfig,
    inputs: &BTreeMap<ClientId, Vec<i32>>,
    dropouts: &Dropouts,
    mut keys: Option<&mut BTreeMap<ClientId, SecAggKeys>>,
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
        let own = match keys.as_deref_mut() {
            Some(map) => map
                .remove(&id)
                .unwrap_or_else(|| SecAggKeys::generate(&mut client_rng)),
            None => SecAggKeys::generate(&mut client_rng),
        };
        let (client, advertised) = SecAggClient::with_keys(cfg.clone(), id, own, &mut client_rng)?;
        server.receive_keys(advertised)?;
        clients.insert(id, (client, client_rng));
    }
    let result = drive(&mut server, &mut clients, inputs, dropouts);
    if let Some(map) = keys {
        let revealed = result
            .as_ref()
            .map(|s| s.revealed_keys.clone())
            .unwrap_or_default();
        for (id, (client, _)) in clients {
            let mut own = client.into_keys();
            if revealed.contains(&id) {
                own.rotate_mask_key(rng);
            }
            map.insert(id, own);
        }
    }
    result
}

fn drive(
    server: &mut SecAggServer,
    clients: &mut BTreeMap<ClientId, (SecAggClient, ChaCha20Rng)>,
    inputs: &BTreeMap<ClientId, Vec<i32>>,
    dropouts: &Dropouts,
) -> Result<SecAggSum> {
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
    let answering: Vec<ClientId> = request
        .survivors
        .iter()
        .filter(|id| !dropouts.before_unmask.contains(id))
        .copied()
        .collect();
    for id in &answering {
        if let Some((client, _)) = clients.get_mut(id) {
            server.receive_unmask(client.unmask(&request)?)?;
        }
    }
    if let Some(wanted) = server.key_share_request() {
        for id in &answering {
            if let Some((client, _)) = clients.get(id) {
                server.receive_key_shares(client.reveal_key_shares(&wanted)?)?;
            }
        }
    }
    server.finish()
}
