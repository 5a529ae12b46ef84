//! The server's settings.

use serde::{Deserialize, Serialize};

/// RPC server limits. The node owns the listening socket (and its address); these settings
/// shape what the router accepts and how it streams.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RpcConfig {
    /// Largest accepted request body in bytes (default 512 KiB: a maximal transaction in hex
    /// plus JSON framing fits).
    pub max_body_bytes: usize,
    /// Interval between keep-alive comments on the event stream, in milliseconds (default 15 s).
    pub keep_alive_ms: u64,
}

impl Default for RpcConfig {
    fn default() -> Self {
        Self {
            max_body_bytes: 512 * 1024,
            keep_alive_ms: 15_000,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_body_limit_fits_a_maximal_transaction_in_hex() {
        let config = RpcConfig::default();
        assert!(config.max_body_bytes > 2 * counterweight_types::MAX_TX_BYTES + 64);
    }

    #[test]
    fn rejects_unknown_fields() {
        let parsed: Result<RpcConfig, _> = serde_json::from_str(r#"{"listen":"x"}"#);
        assert!(parsed.is_err());
        let parsed: RpcConfig = serde_json::from_str(r#"{"max_body_bytes":1024}"#).unwrap();
        assert_eq!(parsed.max_body_bytes, 1024);
        assert_eq!(parsed.keep_alive_ms, 15_000);
    }
}
