//! The chain's [`Ledger`] behind commonware's `Application` trait (proposal and verification).

use crate::{
    block::ChainBlock,
    ledger::{Ledger, Verdict},
    metrics::Metrics,
};
use commonware_consensus::{
    Application, marshal::ancestry::Ancestry, simplex::types::Context, types::Epoch,
};
use commonware_cryptography::{Digested, ed25519};
use commonware_runtime::{Clock, Spawner, Supervisor};
use futures_util::StreamExt as _;
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use tracing::{debug, error, warn};

/// The simplex signing scheme (ed25519, attributable).
pub type Scheme = commonware_consensus::simplex::scheme::ed25519::Scheme;

/// Adapts a [`Ledger`] to commonware's marshal `Application`.
#[derive(Clone)]
pub(crate) struct LedgerApplication<L: Ledger> {
    ledger: L,
    metrics: Metrics,
    min_block_interval: Duration,
}

impl<L: Ledger> LedgerApplication<L> {
    pub(crate) const fn new(ledger: L, metrics: Metrics, min_block_interval: Duration) -> Self {
        Self {
            ledger,
            metrics,
            min_block_interval,
        }
    }
}

impl<L: Ledger> LedgerApplication<L> {
    /// Re-verify `newest` and its unfinalized ancestors (taken from `ancestry`, which yields
    /// `newest`'s parent next) oldest first, so the ledger holds their speculative state again.
    async fn replay(
        &self,
        newest: &Digested<ChainBlock<L>>,
        ancestry: &mut impl Ancestry<ChainBlock<L>>,
    ) -> bool {
        let committed = match self.ledger.committed_height() {
            Ok(h) => h,
            Err(_) => return false,
        };
        // Newest first: newest, its parent, ... down to the committed block.
        let mut chain = vec![newest.clone()];
        while chain
            .last()
            .is_some_and(|b| b.inner().height_u64() > committed)
        {
            match ancestry.next().await {
                Some(b) => chain.push(b),
                None => return false,
            }
        }
        debug!(
            target: "consensus::verify",
            blocks = chain.len() - 1,
            "replaying unfinalized ancestry"
        );
        for pair in chain.windows(2).rev() {
            let [child, parent] = pair else { return false };
            match self
                .ledger
                .verify(parent.inner().inner(), child.inner().inner())
            {
                Ok(Verdict::Valid(())) => {}
                _ => return false,
            }
        }
        true
    }
}

/// How far ahead of a verifier's clock a block's timestamp may be (PBTS-like: the bound covers
/// clock skew between honest validators plus the time a proposal travels). A validator does
/// not vote for a block stamped later than `now + MAX_TIMESTAMP_DRIFT` by its own clock, so one
/// proposer can move on-chain time ahead of real time by at most this much, and never stall
/// honest leaders (they do not wait toward a parent's timestamp for longer than the minimum
/// block interval). Finalized blocks are not re-checked: finality, not the clock, decides them.
pub const MAX_TIMESTAMP_DRIFT: Duration = Duration::from_secs(2);

/// Whether a block stamped `stamped_ms` may be voted for by a verifier whose clock reads
/// `now_ms` (both in milliseconds since the Unix epoch).
pub fn timestamp_in_bound(stamped_ms: u64, now_ms: u64) -> bool {
    let drift_ms = u64::try_from(MAX_TIMESTAMP_DRIFT.as_millis()).unwrap_or(u64::MAX);
    stamped_ms <= now_ms.saturating_add(drift_ms)
}

fn unix_ms(now: SystemTime) -> u64 {
    now.duration_since(UNIX_EPOCH)
        .map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
        .unwrap_or(0)
}

/// Run a block execution (`work`) on the runtime's blocking-friendly pool, so executing a
/// large block never stalls the executor threads that carry votes, blocks and RPC.
async fn off_executor<E, T>(runtime: &E, work: impl FnOnce() -> T + Send + 'static) -> Option<T>
where
    E: Spawner + Supervisor,
    T: Send + 'static,
{
    runtime
        .child("execute")
        .shared(true)
        .spawn(move |_| async move { work() })
        .await
        .ok()
}

impl<E, L> Application<E> for LedgerApplication<L>
where
    E: Clock + Spawner + Supervisor + Send + Sync + 'static,
    L: Ledger,
{
    type SigningScheme = Scheme;
    type Context = Context<crate::block::Digest, ed25519::PublicKey>;
    type Block = ChainBlock<L>;
    type Input = ();

    async fn propose(
        &mut self,
        (runtime, context): (E, Self::Context),
        mut ancestry: impl Ancestry<Self::Block>,
        _input: (),
    ) -> Option<Digested<Self::Block>> {
        let mut parent = ancestry.next().await?;
        // Wait out the minimum interval after the parent so transactions batch into blocks,
        // but never longer than the interval itself: a parent stamped in the future (up to
        // MAX_TIMESTAMP_DRIFT, or more on a ledger finalized before the bound) must not put
        // an honest leader to sleep past its view.
        let interval_ms = u64::try_from(self.min_block_interval.as_millis()).unwrap_or(u64::MAX);
        let earliest_ms = L::timestamp_ms(parent.inner().inner()).saturating_add(interval_ms);
        let now_ms = unix_ms(runtime.current());
        if now_ms < earliest_ms {
            let wait_ms = (earliest_ms - now_ms).min(interval_ms);
            runtime.sleep(Duration::from_millis(wait_ms)).await;
        }
        let timestamp_ms = unix_ms(runtime.current()).max(L::timestamp_ms(parent.inner().inner()));
        let proposer: [u8; 32] = context.leader.as_ref().try_into().ok()?;
        let started = runtime.current();
        let mut replayed = false;
        let block = loop {
            let ledger = self.ledger.clone();
            let (built, p) = off_executor(&runtime, move || {
                let built = ledger.propose(parent.inner().inner(), timestamp_ms, proposer);
                (built, parent)
            })
            .await?;
            parent = p;
            match built {
                Ok(Verdict::Valid(block)) => break block,
                Ok(Verdict::UnknownParent) if !replayed => {
                    replayed = true;
                    if !self.replay(&parent, &mut ancestry).await {
                        return None;
                    }
                }
                Ok(_) => return None,
                Err(e) => {
                    error!(target: "consensus::propose", error = %e, "ledger fault while building");
                    return None;
                }
            }
        };
        let block = ChainBlock::<L>::new(block);
        self.metrics.observe_build(
            runtime
                .current()
                .duration_since(started)
                .unwrap_or_default(),
        );
        debug!(
            target: "consensus::propose",
            height = block.height_u64(),
            view = context.round.view().get(),
            elapsed_us = u64::try_from(
                runtime
                    .current()
                    .duration_since(started)
                    .unwrap_or_default()
                    .as_micros()
            )
            .unwrap_or(u64::MAX),
            "built block"
        );
        let digest = commonware_cryptography::Digestible::digest(&block);
        Some(Digested::precomputed(block, digest))
    }

    async fn verify(
        &mut self,
        (runtime, context): (E, Self::Context),
        mut ancestry: impl Ancestry<Self::Block>,
    ) -> bool {
        let Some(block) = ancestry.next().await else {
            return false;
        };
        let Some(parent) = ancestry.next().await else {
            return false;
        };
        if context.round.epoch() != Epoch::zero() {
            return false;
        }
        let started = runtime.current();
        let stamped_ms = L::timestamp_ms(block.inner().inner());
        let now_ms = unix_ms(started);
        if !timestamp_in_bound(stamped_ms, now_ms) {
            warn!(
                target: "consensus::verify",
                height = block.inner().height_u64(),
                view = context.round.view().get(),
                stamped_ms,
                now_ms,
                "rejected block stamped too far in the future"
            );
            return false;
        }
        let mut replayed = false;
        let (mut parent, mut block) = (parent, block);
        let valid = loop {
            let ledger = self.ledger.clone();
            // The blocks travel to the worker and back instead of being copied.
            let Some((verdict, p, b)) = off_executor(&runtime, move || {
                let verdict = ledger.verify(parent.inner().inner(), block.inner().inner());
                (verdict, parent, block)
            })
            .await
            else {
                return false;
            };
            (parent, block) = (p, b);
            match verdict {
                Ok(Verdict::Valid(())) => break true,
                Ok(Verdict::UnknownParent) if !replayed => {
                    replayed = true;
                    if !self.replay(&parent, &mut ancestry).await {
                        break false;
                    }
                }
                Ok(_) => break false,
                Err(e) => {
                    error!(target: "consensus::verify", error = %e, "ledger fault while verifying");
                    break false;
                }
            }
        };
        let elapsed = runtime
            .current()
            .duration_since(started)
            .unwrap_or_default();
        self.metrics.observe_verify(elapsed);
        debug!(
            target: "consensus::verify",
            height = block.inner().height_u64(),
            view = context.round.view().get(),
            elapsed_us = u64::try_from(elapsed.as_micros()).unwrap_or(u64::MAX),
            valid,
            "verified block"
        );
        if !valid {
            warn!(
                target: "consensus::verify",
                height = block.inner().height_u64(),
                view = context.round.view().get(),
                "rejected block"
            );
        }
        valid
    }
}
