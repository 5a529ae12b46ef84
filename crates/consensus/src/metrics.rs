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
}
