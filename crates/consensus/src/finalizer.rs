//! Apply marshal's ordered finalized blocks to the ledger, acknowledging only once durable.

use crate::{block::ChainBlock, ledger::Ledger, metrics::Metrics};
use commonware_actor::Feedback;
use commonware_consensus::{Reporter, marshal::Update};
use commonware_runtime::Clock;
use commonware_utils::{Acknowledgement as _, acknowledgement::Exact, channel::mpsc};
use tracing::{error, info};

/// Forwards marshal's updates to the finalizer task without blocking marshal.
#[derive(Clone)]
pub(crate) struct FinalizedReporter<L: Ledger> {
    sender: mpsc::UnboundedSender<Update<ChainBlock<L>, Exact>>,
}

impl<L: Ledger> Reporter for FinalizedReporter<L> {
    type Activity = Update<ChainBlock<L>, Exact>;

    fn report(&mut self, activity: Self::Activity) -> Feedback {
        if self.sender.send(activity).is_err() {
            return Feedback::Closed;
        }
        Feedback::Ok
    }
}

/// Create the reporter handed to marshal and the receiving end for [`run_finalizer`].
pub(crate) fn channel<L: Ledger>() -> (
    FinalizedReporter<L>,
    mpsc::UnboundedReceiver<Update<ChainBlock<L>, Exact>>,
) {
    let (sender, receiver) = mpsc::unbounded_channel();
    (FinalizedReporter { sender }, receiver)
}

/// Apply each finalized block in order; stop (without acknowledging) on a fatal error so
/// marshal redelivers the block after a restart.
pub(crate) async fn run_finalizer<L: Ledger>(
    clock: impl Clock,
    ledger: L,
    metrics: Metrics,
    mut updates: mpsc::UnboundedReceiver<Update<ChainBlock<L>, Exact>>,
) {
    while let Some(update) = updates.recv().await {
        match update {
            Update::Tip(_, height, _) => metrics.set_tip(height.get()),
            Update::Block(block, ack) => {
                let height = block.inner().height_u64();
                let started = clock.current();
                if let Err(err) = ledger.finalize(block.inner().inner()) {
                    error!(
                        target: "consensus::finalize",
                        height,
                        error = %err,
                        "fatal: could not apply finalized block; stopping"
                    );
                    return;
                }
                let elapsed = clock.current().duration_since(started).unwrap_or_default();
                metrics.observe_finalize(elapsed);
                metrics.set_finalized(height);
                info!(
                    target: "consensus::finalize",
                    height,
                    elapsed_us = u64::try_from(elapsed.as_micros()).unwrap_or(u64::MAX),
                    "finalized block"
                );
                ack.acknowledge();
            }
        }
    }
}
