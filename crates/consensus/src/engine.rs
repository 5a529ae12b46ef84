//! Wire simplex, marshal, the block broadcast buffer and the backfill resolver around a [`Ledger`].

use crate::{
    application::{LedgerApplication, Scheme},
    block::ChainBlock,
    error::{Error, Result},
    finalizer,
    ledger::Ledger,
    metrics::Metrics,
};
use commonware_broadcast::buffered;
use commonware_consensus::{
    marshal::{self, core::Actor as Marshal, resolver::p2p as marshal_resolver, standard::Inline},
    simplex::{self, ForwardPolicy, SkipBudget, SkipPolicy, elector::RoundRobin},
    types::{Epoch, FixedEpocher, ViewDelta},
};
use commonware_cryptography::{
    Digested, Digestible as _, Sha256, certificate::ConstantProvider, ed25519,
};
use commonware_p2p::{Blocker, Provider, Receiver, Sender};
use commonware_parallel::Sequential;
use commonware_runtime::{Clock, Handle, Spawner, Storage, buffer::paged::CacheRef};
use commonware_storage::archive::immutable;
use commonware_utils::{NZDuration, NZU16, NZU64, NZUsize, ordered::Set};
use rand_core::CryptoRng;
use std::{num::NonZeroUsize, time::Duration};
use tracing::info;

/// Consensus timing; the defaults suit validators on one LAN or loopback.
#[derive(Clone, Debug)]
pub struct Timeouts {
    /// How long to wait for the leader's proposal before voting to skip the view.
    pub leader_timeout: Duration,
    /// How long to wait for a notarized proposal to certify.
    pub certification_timeout: Duration,
    /// How often to rebroadcast a timeout vote.
    pub timeout_retry: Duration,
}

impl Default for Timeouts {
    fn default() -> Self {
        Self {
            leader_timeout: Duration::from_secs(1),
            certification_timeout: Duration::from_secs(2),
            timeout_retry: Duration::from_secs(5),
        }
    }
}

/// Everything the engine needs besides the runtime context and the network channels.
pub struct Config<L: Ledger, B, P> {
    /// The chain's state machine.
    pub ledger: L,
    /// This validator's consensus key.
    pub signer: ed25519::PrivateKey,
    /// The validator set (from genesis), in any order.
    pub validators: Vec<ed25519::PublicKey>,
    /// Domain separation for consensus signatures (the chain id is a good choice).
    pub namespace: Vec<u8>,
    /// Prefix for this engine's storage partitions.
    pub partition_prefix: String,
    /// Blocks misbehaving peers (the p2p oracle).
    pub blocker: B,
    /// Supplies the current peer set (the p2p oracle).
    pub peer_provider: P,
    /// Consensus timing.
    pub timeouts: Timeouts,
    /// Capacity of the engine's internal mailboxes.
    pub mailbox_size: NonZeroUsize,
    /// Minimum time between a parent's timestamp and its child's proposal (batches transactions
    /// and keeps an idle chain from spinning).
    pub min_block_interval: Duration,
}

/// The network channels the engine runs on, one `(sender, receiver)` pair each.
pub struct Channels<S, R> {
    /// Simplex votes.
    pub votes: (S, R),
    /// Simplex certificates.
    pub certificates: (S, R),
    /// Simplex certificate backfill.
    pub resolver: (S, R),
    /// Full blocks broadcast by their proposer.
    pub blocks: (S, R),
    /// Marshal's finalized-block backfill.
    pub backfill: (S, R),
}

/// Handles of a running engine; awaiting [`Running::finalizer`] ends when the ledger fails.
pub struct Running {
    /// The simplex voter.
    pub consensus: Handle<()>,
    /// The marshal actor.
    pub marshal: Handle<()>,
    /// The task applying finalized blocks to the ledger.
    pub finalizer: Handle<()>,
}

/// Page size of the archives' shared page cache, in bytes.
const PAGE_SIZE: std::num::NonZeroU16 = NZU16!(16_384);

/// Pages in the archives' shared page cache. The cache is allocated in full at start-up
/// (16 MiB here); 10,000 pages cost 160 MiB of resident memory on an idle node, which is most
/// of a devnet's footprint, while finalized blocks are read back rarely (sync, RPC).
const PAGE_CACHE_PAGES: NonZeroUsize = NZUsize!(1_024);

/// Capacity given to every archive's write and replay buffers.
const BUFFER: NonZeroUsize = NZUsize!(1024 * 1024);

/// Configuration of one immutable archive (finalized blocks or their certificates).
fn archive_config<C>(
    prefix: &str,
    page_cache: &CacheRef,
    name: &str,
    codec_config: C,
) -> immutable::Config<C> {
    immutable::Config {
        metadata_partition: format!("{prefix}-{name}-metadata"),
        freezer_table_partition: format!("{prefix}-{name}-freezer-table"),
        freezer_table_initial_size: 65_536,
        freezer_table_resize_frequency: 4,
        freezer_table_resize_chunk_size: 16_384,
        freezer_key_partition: format!("{prefix}-{name}-freezer-key"),
        freezer_key_page_cache: page_cache.clone(),
        freezer_value_partition: format!("{prefix}-{name}-freezer-value"),
        freezer_value_target_size: 1024 * 1024 * 1024,
        freezer_value_compression: None,
        ordinal_partition: format!("{prefix}-{name}-ordinal"),
        items_per_section: NZU64!(262_144),
        codec_config,
        replay_buffer: BUFFER,
        freezer_key_write_buffer: BUFFER,
        freezer_value_write_buffer: BUFFER,
        ordinal_write_buffer: BUFFER,
    }
}

/// The largest consensus-channel payload for `validators` participants.
pub fn max_consensus_message_size(validators: usize) -> usize {
    let participants = u32::try_from(validators).unwrap_or(u32::MAX);
    simplex::max_payload_size::<Scheme, crate::block::Digest>(participants)
}

/// Start the engine on `context` with the given channels.
///
/// # Errors
/// If this validator's key is not in the validator set, or the set is empty or has duplicates.
pub async fn start<E, L, B, P, S, R>(
    context: E,
    config: Config<L, B, P>,
    channels: Channels<S, R>,
) -> Result<Running>
where
    E: Spawner + Clock + Storage + commonware_runtime::Metrics + CryptoRng,
    L: Ledger,
    B: Blocker<PublicKey = ed25519::PublicKey> + Clone,
    P: Provider<PublicKey = ed25519::PublicKey> + Clone,
    S: Sender<PublicKey = ed25519::PublicKey>,
    R: Receiver<PublicKey = ed25519::PublicKey>,
{
    use commonware_cryptography::Signer as _;

    let Config {
        ledger,
        signer,
        validators,
        namespace,
        partition_prefix,
        blocker,
        peer_provider,
        timeouts,
        mailbox_size,
        min_block_interval,
    } = config;
    let count = validators.len();
    let participants: Set<ed25519::PublicKey> =
        Set::try_from(validators).map_err(|_| Error::DuplicateValidator)?;
    if count == 0 {
        return Err(Error::NoValidators);
    }
    let public_key = signer.public_key();
    let scheme = Scheme::signer(&namespace, participants, signer).ok_or(Error::NotAValidator)?;
    let metrics = Metrics::init(&context);
    let page_cache = CacheRef::new(PAGE_SIZE, PAGE_CACHE_PAGES);
    let block_cfg = ledger.block_codec_config();

    // Archives for finalized blocks and their finalization certificates.
    let finalizations = immutable::Archive::init(
        context.child("finalizations_by_height"),
        archive_config(
            &partition_prefix,
            &page_cache,
            "finalizations",
            <Scheme as commonware_cryptography::certificate::Verifier>::certificate_codec_config_unbounded(),
        ),
    )
    .await
    .map_err(|source| Error::Archive { source })?;
    let blocks = immutable::Archive::init(
        context.child("finalized_blocks"),
        archive_config(&partition_prefix, &page_cache, "blocks", block_cfg.clone()),
    )
    .await
    .map_err(|source| Error::Archive { source })?;

    let genesis = ChainBlock::<L>::new(ledger.genesis());
    let genesis_digest = genesis.digest();
    let epocher = FixedEpocher::new(NZU64!(1 << 48));
    let provider = ConstantProvider::<Scheme, Epoch>::new(scheme.clone());
    let marshal_cfg = marshal::Config {
        provider,
        epocher: epocher.clone(),
        start: marshal::Start::Genesis(Digested::precomputed(genesis, genesis_digest)),
        partition_prefix: format!("{partition_prefix}-marshal"),
        mailbox_size,
        view_retention: ViewDelta::new(64),
        prunable_items_per_section: NZU64!(4096),
        page_cache: page_cache.clone(),
        replay_buffer: BUFFER,
        key_write_buffer: BUFFER,
        value_write_buffer: BUFFER,
        block_codec_config: block_cfg.clone(),
        max_repair: NZUsize!(16),
        max_pending_acks: NZUsize!(16),
        strategy: Sequential,
    };
    let (marshal_actor, marshal_mailbox, floor) =
        Marshal::init(context.child("marshal"), finalizations, blocks, marshal_cfg).await;
    info!(
        target: "consensus::engine",
        processed = ?floor.processed().map(|p| p.height().get()),
        validators = count,
        "marshal restored"
    );

    // Full blocks travel over a buffered broadcast; missing ones are backfilled by the resolver.
    let (broadcast_engine, buffer) = buffered::Engine::new(
        context.child("broadcast"),
        buffered::Config {
            public_key: public_key.clone(),
            mailbox_size,
            deque_size: 64,
            priority: false,
            codec_config: block_cfg,
            peer_provider: peer_provider.clone(),
            strategy: Sequential,
        },
    );
    let resolver = marshal_resolver::init(
        context.child("backfill"),
        marshal_resolver::Config {
            public_key,
            peer_provider,
            blocker: blocker.clone(),
            mailbox_size,
            fetch_timeout: NZDuration!(Duration::from_secs(1)),
            fetch_retry_delay: Duration::from_millis(100),
            priority_requests: false,
            priority_responses: false,
        },
        channels.backfill,
    );

    let (reporter, updates) = finalizer::channel::<L>();
    // Durable commits block for tens of milliseconds under load: give them their own thread so
    // they never stall the executor that carries votes and blocks.
    let finalizer = context.child("finalizer").dedicated().spawn({
        let ledger = ledger.clone();
        let metrics = metrics.clone();
        move |context| finalizer::run_finalizer(context, ledger, metrics, updates)
    });
    broadcast_engine.start(channels.blocks);
    let marshal = marshal_actor.start(reporter, buffer, resolver);

    let application = LedgerApplication::new(ledger, metrics, min_block_interval);
    let inline = Inline::new(
        context.child("application"),
        application,
        marshal_mailbox,
        epocher,
    );
    let engine = simplex::Engine::new(
        context.child("simplex"),
        simplex::Config {
            scheme,
            elector: RoundRobin::<Sha256>::default(),
            blocker,
            automaton: inline.clone(),
            relay: inline.clone(),
            reporter: inline,
            partition: format!("{partition_prefix}-simplex"),
            mailbox_size,
            epoch: Epoch::zero(),
            floor: simplex::Floor::Genesis(genesis_digest),
            replay_buffer: BUFFER,
            write_buffer: BUFFER,
            leader_timeout: timeouts.leader_timeout,
            certification_timeout: timeouts.certification_timeout,
            timeout_retry: timeouts.timeout_retry,
            fetch_timeout: NZDuration!(Duration::from_secs(1)),
            fetch_retry_delay: Duration::from_millis(100),
            view_retention: ViewDelta::new(64),
            skip: SkipPolicy::Enabled {
                timeout: timeouts.leader_timeout * 10,
                budget: SkipBudget::Participants,
            },
            page_cache,
            strategy: Sequential,
            forward: ForwardPolicy::Disabled,
            track_historical_votes: false,
        },
    );
    let consensus = engine.start(channels.votes, channels.certificates, channels.resolver);
    Ok(Running {
        consensus,
        marshal,
        finalizer,
    })
}
