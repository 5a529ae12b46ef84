//! The server's own metrics, and the `/metrics` text that joins them with the node's.

use std::sync::Arc;
use std::time::Duration;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

/// Renders the node's metrics (everything but the server's own) in the text format.
pub type MetricsSource = Arc<dyn Fn() -> String + Send + Sync>;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub(crate) struct RequestLabels {
    pub(crate) method: String,
    pub(crate) route: String,
    pub(crate) status: u16,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub(crate) struct RouteLabels {
    pub(crate) route: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub(crate) struct ReasonLabels {
    pub(crate) reason: String,
}

/// Counters and histograms of the HTTP server, in their own registry.
#[derive(Debug)]
pub(crate) struct RpcMetrics {
    registry: Registry,
    pub(crate) requests: Family<RequestLabels, Counter>,
    pub(crate) latency: Family<RouteLabels, Histogram>,
    pub(crate) txs_accepted: Counter,
    pub(crate) txs_refused: Family<ReasonLabels, Counter>,
    pub(crate) event_streams: Gauge,
}

impl RpcMetrics {
    pub(crate) fn new() -> Self {
        let mut registry = Registry::with_prefix("rpc");
        let requests = Family::<RequestLabels, Counter>::default();
        registry.register(
            "http_requests",
            "HTTP requests served, by method, route and status",
            requests.clone(),
        );
        let latency = Family::<RouteLabels, Histogram>::new_with_constructor(|| {
            Histogram::new(exponential_buckets(0.000_1, 4.0, 10))
        });
        registry.register(
            "http_request_duration_seconds",
            "Time to produce a response, by route",
            latency.clone(),
        );
        let txs_accepted = Counter::default();
        registry.register(
            "txs_accepted",
            "Transactions accepted into the mempool",
            txs_accepted.clone(),
        );
        let txs_refused = Family::<ReasonLabels, Counter>::default();
        registry.register(
            "txs_refused",
            "Transactions refused at submission, by reason",
            txs_refused.clone(),
        );
        let event_streams = Gauge::default();
        registry.register(
            "event_streams",
            "Open server-sent event streams",
            event_streams.clone(),
        );
        Self {
            registry,
            requests,
            latency,
            txs_accepted,
            txs_refused,
            event_streams,
        }
    }

    pub(crate) fn observe(&self, method: &str, route: &str, status: u16, elapsed: Duration) {
        self.requests
            .get_or_create(&RequestLabels {
                method: method.to_owned(),
                route: route.to_owned(),
                status,
            })
            .inc();
        self.latency
            .get_or_create(&RouteLabels {
                route: route.to_owned(),
            })
            .observe(elapsed.as_secs_f64());
    }

    pub(crate) fn refused(&self, reason: &str) {
        self.txs_refused
            .get_or_create(&ReasonLabels {
                reason: reason.to_owned(),
            })
            .inc();
    }

    /// The node's metrics followed by the server's, as one OpenMetrics text document.
    pub(crate) fn render(&self, node: Option<&MetricsSource>) -> String {
        let mut out = String::new();
        if let Some(node) = node {
            for line in node().lines() {
                // Each document ends with `# EOF`; only the joined document may have one.
                if line != "# EOF" {
                    out.push_str(line);
                    out.push('\n');
                }
            }
        }
        let mut ours = String::new();
        if prometheus_client::encoding::text::encode(&mut ours, &self.registry).is_err() {
            tracing::error!(target: "rpc", "cannot encode the server's metrics");
            ours = "# EOF\n".to_owned();
        }
        out.push_str(&ours);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn render_joins_documents_with_one_eof() {
        let metrics = RpcMetrics::new();
        metrics.observe("GET", "/v1/status", 200, Duration::from_millis(2));
        let node: MetricsSource =
            Arc::new(|| "# TYPE node_height gauge\nnode_height 7\n# EOF\n".to_owned());
        let text = metrics.render(Some(&node));
        assert!(text.contains("node_height 7"));
        assert!(text.contains(
            "rpc_http_requests_total{method=\"GET\",route=\"/v1/status\",status=\"200\"} 1"
        ));
        assert_eq!(text.matches("# EOF").count(), 1);
        assert!(text.trim_end().ends_with("# EOF"));
    }
}
