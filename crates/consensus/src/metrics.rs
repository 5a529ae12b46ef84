//! Consensus metrics, registered on the runtime context (exported with the node's `/metrics`).

use commonware_runtime::telemetry::metrics::{
    Counter, Gauge, Histogram, MetricsExt as _, histogram::Buckets,
};
use std::time::Duration;

/// Counters and gauges the engine updates.
#[derive(Clone)]
pub(crate) struct Metrics {
    finalized_height: Gauge,
    finalized_tip: Gauge,
    finalized_blocks: Counter,
    build_seconds: Histogram,
    verify_seconds: Histogram,
    finalize_seconds: Histogram,
}

impl Metrics {
    pub(crate) fn init(context: &impl commonware_runtime::Metrics) -> Self {
        Self {
            finalized_height: context.gauge(
                "ledger_finalized_height",
                "Height of the last block applied durably to the ledger",
            ),
            finalized_tip: context.gauge(
                "ledger_finalized_tip",
                "Highest finalized height known to marshal",
            ),
            finalized_blocks: context.counter(
                "ledger_finalized_blocks",
                "Finalized blocks applied to the ledger",
            ),
            build_seconds: context.histogram(
                "ledger_build_seconds",
                "Time to build a proposed block",
                Buckets::LOCAL,
            ),
            verify_seconds: context.histogram(
                "ledger_verify_seconds",
                "Time to verify (execute) a peer's proposed block, replays included",
                Buckets::LOCAL,
            ),
            finalize_seconds: context.histogram(
                "ledger_finalize_seconds",
                "Time to apply a finalized block durably",
                Buckets::LOCAL,
            ),
        }
    }

    pub(crate) fn set_finalized(&self, height: u64) {
        self.finalized_height
            .set(i64::try_from(height).unwrap_or(i64::MAX));
        self.finalized_blocks.inc();
    }

    pub(crate) fn set_tip(&self, height: u64) {
        self.finalized_tip
            .set(i64::try_from(height).unwrap_or(i64::MAX));
    }

    pub(crate) fn observe_build(&self, elapsed: Duration) {
        self.build_seconds.observe(elapsed.as_secs_f64());
    }

    pub(crate) fn observe_verify(&self, elapsed: Duration) {
        self.verify_seconds.observe(elapsed.as_secs_f64());
    }

    pub(crate) fn observe_finalize(&self, elapsed: Duration) {
        self.finalize_seconds.observe(elapsed.as_secs_f64());
    }
}
