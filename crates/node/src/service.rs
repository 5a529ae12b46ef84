//! Run a validator process: tokio runtime, authenticated p2p, consensus, gossip, RPC, shutdown.

use crate::{
    chain::Chain,
    config::NodeConfig,
    error::{Error, Result},
    gossip,
    home::Home,
    keys,
    mempool::Mempool,
};
use commonware_cryptography::{ChaCha20Poly1305, Signer as _, ed25519};
use commonware_p2p::{Manager as _, authenticated::discovery};
use commonware_runtime::{Metrics as _, Quota, Runner as _, Spawner as _, Supervisor as _, tokio};
use commonware_stream::{
    cups::{self, Cups},
    sake::{self, Sake},
};
use commonware_utils::{NZU32, NZUsize, ordered::Set};
use counterweight_app::App;
use counterweight_types::{Genesis, SignedTransaction};
use std::{net::SocketAddr, time::Duration};
use tracing::{error, info, warn};

/// Channel ids on the validators' p2p network.
mod channel {
    pub(super) const VOTES: u64 = 0;
    pub(super) const CERTIFICATES: u64 = 1;
    pub(super) const RESOLVER: u64 = 2;
    pub(super) const BLOCKS: u64 = 3;
    pub(super) const BACKFILL: u64 = 4;
    pub(super) const MEMPOOL: u64 = 5;
}

/// What a started node reports once its RPC server is listening.
#[derive(Clone)]
pub struct Ready {
    /// The running chain (for in-process clients such as the benchmark).
    pub chain: Chain,
    /// The RPC server's bound address.
    pub rpc: SocketAddr,
    /// The p2p listener's address.
    pub p2p: SocketAddr,
    /// This validator's public key, hex.
    pub public_key: String,
}

/// The namespace all consensus and p2p signatures of a chain are bound to.
pub fn namespace(genesis: &Genesis) -> Vec<u8> {
    let mut out = b"counterweight/".to_vec();
    out.extend_from_slice(genesis.chain_id.as_str().as_bytes());
    out.push(b'/');
    out.extend_from_slice(&genesis.hash().0);
    out
}

/// The validator set of `genesis` as consensus keys.
///
/// # Errors
/// [`Error::Genesis`] if a validator address is not an ed25519 key.
pub fn validator_keys(genesis: &Genesis) -> Result<Vec<ed25519::PublicKey>> {
    genesis
        .validators
        .iter()
        .map(|a| keys::parse_public_key(&a.to_hex()))
        .collect::<Result<_>>()
        .map_err(|e| Error::Genesis(format!("bad validator key: {e}")))
}

/// The p2p frame limit of a network of `validators`: the largest consensus message, block
/// or gossip batch.
pub fn p2p_max_message_size(validators: usize) -> usize {
    counterweight_consensus::max_consensus_message_size(validators)
        .max(counterweight_types::MAX_BLOCK_BYTES + 1024 * 1024)
        .max(gossip::max_gossip_message_size())
}

/// Open the app in `home` and a mempool restored from the last graceful shutdown.
///
/// # Errors
/// Storage and genesis errors.
pub fn open_chain(home: &Home, genesis: &Genesis, config: &NodeConfig) -> Result<Chain> {
    home.create_dirs()?;
    let app = App::open(&home.app_dir(), genesis.clone())?;
    let chain = Chain::new(app, Mempool::new(config.mempool.clone()));
    chain.set_blobs(counterweight_blobs::BlobStore::open(
        &config.blobs,
        home.root(),
    )?);
    let restored = crate::persist::load_mempool(&home.mempool_file());
    let count = restored.len();
    chain.admit_gossiped(restored);
    let dropped = chain.recheck_mempool();
    if count > 0 {
        info!(target: "node", restored = count, dropped, "restored mempool");
    }
    Ok(chain)
}

/// Run a validator from `home` until SIGINT/SIGTERM or a fatal error; blocks the thread.
///
/// `on_ready` is called once the RPC server listens.
///
/// # Errors
/// Configuration, key, storage and bind errors.
pub fn run(
    home: &Home,
    config: NodeConfig,
    on_ready: impl FnOnce(&Ready) + Send + 'static,
) -> Result<()> {
    run_until(home, config, on_ready, shutdown_signal())
}

/// Like [`run`], but stop when `stop` completes (or on a fatal error).
///
/// # Errors
/// Configuration, key, storage and bind errors.
pub fn run_until(
    home: &Home,
    config: NodeConfig,
    on_ready: impl FnOnce(&Ready) + Send + 'static,
    stop: impl std::future::Future<Output = ()> + Send + 'static,
) -> Result<()> {
    config.validate()?;
    let genesis = home.read_genesis()?;
    let signer = keys::read_private_key(&home.validator_key())?;
    let validators = validator_keys(&genesis)?;
    if !validators.contains(&signer.public_key()) {
        return Err(Error::Config(
            "this node's validator key is not in the genesis validator set".into(),
        ));
    }
    let chain = open_chain(home, &genesis, &config)?;
    let mut runtime_cfg = tokio::Config::new()
        .with_storage_directory(home.consensus_dir())
        .with_catch_panics(false);
    if config.worker_threads > 0 {
        runtime_cfg = runtime_cfg.with_worker_threads(config.worker_threads);
    }
    let executor = tokio::Runner::new(runtime_cfg);
    let mempool_file = home.mempool_file();
    executor.start(async move |context| {
        let identity = Identity {
            genesis,
            signer,
            validators,
        };
        let result = serve(
            context.child("node"),
            chain.clone(),
            identity,
            config,
            on_ready,
            stop,
        )
        .await;
        crate::persist::save_mempool(&mempool_file, &chain.mempool().snapshot());
        let _ = context.stop(0, Some(Duration::from_secs(5))).await;
        result
    })
}

/// Who this validator is on which chain.
struct Identity {
    genesis: Genesis,
    signer: ed25519::PrivateKey,
    validators: Vec<ed25519::PublicKey>,
}

async fn serve(
    context: tokio::Context,
    chain: Chain,
    identity: Identity,
    config: NodeConfig,
    on_ready: impl FnOnce(&Ready) + Send + 'static,
    stop: impl std::future::Future<Output = ()> + Send + 'static,
) -> Result<()> {
    let Identity {
        genesis,
        signer,
        validators,
    } = identity;
    let namespace = namespace(&genesis);
    let public_key = signer.public_key();
    let participants: Set<ed25519::PublicKey> = Set::try_from(validators.clone())
        .map_err(|_| Error::Genesis("duplicate validator".into()))?;

    // Authenticated, encrypted p2p between the validators.
    let bootstrappers = config
        .p2p
        .bootstrappers
        .iter()
        .map(|peer| {
            Ok((
                keys::parse_public_key(&peer.public_key)?,
                peer.address.into(),
            ))
        })
        .collect::<Result<Vec<_>>>()?;
    let max_message = u32::try_from(p2p_max_message_size(validators.len())).unwrap_or(u32::MAX);
    let p2p_cfg = discovery::Config::local(
        Cups::<_, ChaCha20Poly1305>::new(
            Sake {
                signer: signer.clone(),
                synchrony_bound: Duration::from_secs(5),
                max_handshake_age: Duration::from_secs(10),
                version: sake::Version::V1,
            },
            cups::Version::V1,
        ),
        &[namespace.as_slice(), b"/p2p"].concat(),
        config.p2p.listen,
        config.p2p.listen,
        bootstrappers,
        commonware_p2p::authenticated::peer_set_limit(&participants, &public_key),
        max_message,
        NZUsize!(16_384),
    );
    let (mut network, mut oracle) = discovery::Network::new(context.child("p2p"), p2p_cfg);
    let _ = oracle.track(0, participants);
    let fast = Quota::per_second(NZU32!(10_000));
    let votes = network.register(channel::VOTES, fast);
    let certificates = network.register(channel::CERTIFICATES, fast);
    let resolver = network.register(channel::RESOLVER, fast);
    let blocks = network.register(channel::BLOCKS, fast);
    let backfill = network.register(channel::BACKFILL, fast);
    let mempool = network.register(channel::MEMPOOL, fast);
    network.start();

    // Transaction gossip.
    let (gossip_tx, gossip_rx) = ::tokio::sync::mpsc::unbounded_channel::<SignedTransaction>();
    chain.set_gossip(gossip_tx);
    gossip::spawn(context.child("gossip"), chain.clone(), mempool, gossip_rx);

    // Consensus.
    let running = counterweight_consensus::start(
        context.child("consensus"),
        counterweight_consensus::Config {
            ledger: chain.clone(),
            signer,
            validators,
            namespace: [namespace.as_slice(), b"/consensus"].concat(),
            partition_prefix: "cw".into(),
            blocker: oracle.clone(),
            peer_provider: oracle,
            timeouts: config.consensus.timeouts(),
            mailbox_size: NZUsize!(4_096),
            min_block_interval: Duration::from_millis(config.consensus.min_block_interval_ms),
        },
        counterweight_consensus::Channels {
            votes,
            certificates,
            resolver,
            blocks,
            backfill,
        },
    )
    .await?;

    // RPC and metrics.
    let listener = ::tokio::net::TcpListener::bind(config.rpc.listen)
        .await
        .map_err(|source| Error::Rpc {
            addr: config.rpc.listen,
            source,
        })?;
    let rpc_addr = listener.local_addr().map_err(|source| Error::Rpc {
        addr: config.rpc.listen,
        source,
    })?;
    let metrics_context = context.child("metrics");
    let state = counterweight_rpc::RpcState::new(
        std::sync::Arc::new(chain.clone()),
        counterweight_rpc::RpcConfig::default(),
    )
    .with_node_metrics(move || metrics_context.encode());
    let router = counterweight_rpc::router(state);
    let server = ::tokio::spawn(async move { axum::serve(listener, router).await });
    let ready = Ready {
        chain: chain.clone(),
        rpc: rpc_addr,
        p2p: config.p2p.listen,
        public_key: keys::public_key_hex(&public_key),
    };
    info!(target: "node", rpc = %ready.rpc, p2p = %ready.p2p, key = %ready.public_key, "validator running");
    on_ready(&ready);

    let outcome = ::tokio::select! {
        () = stop => {
            info!(target: "node", "shutting down");
            Ok(())
        }
        _ = running.finalizer => {
            error!(target: "node", "ledger stopped applying blocks; shutting down");
            Err(Error::ShuttingDown)
        }
        result = server => {
            warn!(target: "node", ?result, "rpc server stopped");
            Err(Error::ShuttingDown)
        }
    };
    outcome
}

/// Resolve on SIGINT or SIGTERM.
pub async fn shutdown_signal() {
    #[cfg(unix)]
    {
        let mut term =
            match ::tokio::signal::unix::signal(::tokio::signal::unix::SignalKind::terminate()) {
                Ok(s) => s,
                Err(_) => {
                    let _ = ::tokio::signal::ctrl_c().await;
                    return;
                }
            };
        ::tokio::select! {
            _ = ::tokio::signal::ctrl_c() => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    {
        let _ = ::tokio::signal::ctrl_c().await;
    }
}
