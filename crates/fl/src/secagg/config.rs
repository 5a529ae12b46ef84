//! Secure-aggregation parameters, validated up front, and the SecAgg+ communication graph.

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::update::ClientId;

/// Largest model dimension a secure-aggregation round accepts.
pub const MAX_DIM: usize = 1 << 28;

/// How the server cancels the pairwise masks of clients that dropped after sharing.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum Recovery {
    /// SecAgg/SecAgg+ as published: survivors reveal their Shamir shares of each dropped
    /// client's mask secret key; the server reconstructs the key and recomputes every
    /// agreement of that client. The key is then known to the server and must be rotated.
    #[default]
    KeyShares,
    /// Survivors reveal, for each dropped neighbour, only this round's pairwise seed with it
    /// (a value derived from the agreement, the round and both ids). No secret key leaves a
    /// client, so keys can live for a whole session, and the server computes no agreement.
    /// If a dropped client's surviving neighbour does not answer the unmask request, the
    /// server falls back to key shares for that client
    /// ([`SecAggServer::key_share_request`](crate::secagg::SecAggServer::key_share_request)).
    PairSeeds,
}

/// Validated parameters of one secure-aggregation round. Build with [`SecAggConfig::builder`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SecAggConfig {
    #[serde(default)]
    recovery: Recovery,
    round: u64,
    clients: Vec<ClientId>,
    dim: usize,
    half_degree: usize,
    threshold: usize,
    max_dropouts: usize,
    max_abs_param: i32,
}

/// Builder for [`SecAggConfig`].
#[derive(Debug, Clone)]
pub struct SecAggConfigBuilder {
    round: u64,
    clients: Vec<ClientId>,
    dim: usize,
    neighbours: Option<usize>,
    threshold: Option<usize>,
    max_dropout_permille: u32,
    recovery: Recovery,
}

impl SecAggConfig {
    /// Start configuring a round for `clients` (any order, no duplicates) summing vectors of
    /// `dim` parameters. `round` separates the keys of different rounds.
    pub fn builder(round: u64, clients: Vec<ClientId>, dim: usize) -> SecAggConfigBuilder {
        SecAggConfigBuilder {
            round,
            clients,
            dim,
            neighbours: None,
            threshold: None,
            max_dropout_permille: 0,
            recovery: Recovery::KeyShares,
        }
    }

    /// How dropped clients' pairwise masks are cancelled.
    pub fn recovery(&self) -> Recovery {
        self.recovery
    }

    /// Round number (mixed into every derived key).
    pub fn round(&self) -> u64 {
        self.round
    }

    /// Enrolled clients in ascending order.
    pub fn clients(&self) -> &[ClientId] {
        &self.clients
    }

    /// Parameters per vector.
    pub fn dim(&self) -> usize {
        self.dim
    }

    /// Shares needed to reconstruct a secret.
    pub fn threshold(&self) -> usize {
        self.threshold
    }

    /// Clients that may drop out while the round still completes.
    pub fn max_dropouts(&self) -> usize {
        self.max_dropouts
    }

    /// Largest `|parameter|` a client may submit, so the sum of all inputs cannot wrap the
    /// 32-bit ring.
    pub fn max_abs_param(&self) -> i32 {
        self.max_abs_param
    }

    /// Neighbours of each client in the communication graph.
    pub fn degree(&self) -> usize {
        (2 * self.half_degree).min(self.clients.len() - 1)
    }

    /// Number of holders of each client's secret shares (neighbours plus itself).
    pub fn share_count(&self) -> usize {
        self.degree() + 1
    }

    pub(crate) fn position(&self, c: ClientId) -> Option<usize> {
        self.clients.binary_search(&c).ok()
    }

    /// The Shamir evaluation point of client `c`.
    pub(crate) fn share_x(&self, c: ClientId) -> Option<u64> {
        self.position(c).map(|p| p as u64 + 1)
    }

    /// Neighbours of `c` (ring distance at most `half_degree` in client-id order), ascending.
    pub fn neighbours(&self, c: ClientId) -> BTreeSet<ClientId> {
        let n = self.clients.len();
        let Some(p) = self.position(c) else {
            return BTreeSet::new();
        };
        let mut out = BTreeSet::new();
        for d in 1..=self.half_degree.min(n - 1) {
            out.insert(self.clients[(p + d) % n]);
            out.insert(self.clients[(p + n - d) % n]);
        }
        out.remove(&c);
        out
    }
}

impl SecAggConfigBuilder {
    /// Neighbours per client (SecAgg+'s `k`). Odd values are rounded up to the next even number
    /// (the graph is a symmetric ring); values `>= n - 1` give the complete graph (SecAgg).
    /// Default: the complete graph.
    #[must_use]
    pub fn neighbours(mut self, k: usize) -> Self {
        self.neighbours = Some(k);
        self
    }

    /// Shares needed to reconstruct a secret. Default: `share_count - max_dropouts`.
    #[must_use]
    pub fn threshold(mut self, t: usize) -> Self {
        self.threshold = Some(t);
        self
    }

    /// Fraction of clients (in thousandths) that may drop out. Default: 0.
    #[must_use]
    pub fn max_dropout_permille(mut self, permille: u32) -> Self {
        self.max_dropout_permille = permille;
        self
    }

    /// How dropped clients' pairwise masks are cancelled. Default: [`Recovery::KeyShares`].
    #[must_use]
    pub fn recovery(mut self, recovery: Recovery) -> Self {
        self.recovery = recovery;
        self
    }

    /// Validate everything and build the configuration.
    ///
    /// # Errors
    /// [`Error::InvalidParameters`] explaining the first violated rule: at least 2 distinct
    /// clients; `1 <= dim <= MAX_DIM`; at least one neighbour; dropout fraction below 1;
    /// `share_count / 2 < threshold <= share_count - max_dropouts` (a majority of holders,
    /// so the server never obtains both secrets of one client, and enough holders left after
    /// the worst-case dropouts).
    pub fn build(self) -> Result<SecAggConfig> {
        let bad = |reason: String| Error::InvalidParameters {
            strategy: "secagg",
            reason,
        };
        let mut clients = self.clients;
        clients.sort_unstable();
        let before = clients.len();
        clients.dedup();
        if clients.len() != before {
            return Err(bad("client list has duplicates".into()));
        }
        let n = clients.len();
        if n < 2 {
            return Err(bad(format!("needs at least 2 clients, got {n}")));
        }
        if self.dim == 0 || self.dim > MAX_DIM {
            return Err(bad(format!(
                "dimension must be in 1..={MAX_DIM}, got {}",
                self.dim
            )));
        }
        let k = self.neighbours.unwrap_or(n - 1);
        if k == 0 {
            return Err(bad("needs at least one neighbour per client".into()));
        }
        let half_degree = k.div_ceil(2).min(n - 1);
        if self.max_dropout_permille >= 1000 {
            return Err(bad("dropout fraction must be below 1".into()));
        }
        let max_dropouts = n * self.max_dropout_permille as usize / 1000;
        let share_count = (2 * half_degree).min(n - 1) + 1;
        let threshold = match self.threshold {
            Some(t) => t,
            None => share_count.saturating_sub(max_dropouts),
        };
        if 2 * threshold <= share_count {
            return Err(bad(format!(
                "threshold {threshold} must exceed half of the {share_count} share holders \
                 (tolerating {max_dropouts} dropouts needs more neighbours)"
            )));
        }
        if threshold + max_dropouts > share_count {
            return Err(bad(format!(
                "threshold {threshold} plus {max_dropouts} tolerated dropouts exceeds the \
                 {share_count} share holders"
            )));
        }
        let max_abs_param = i32::try_from(i64::from(i32::MAX) / n as i64).unwrap_or(i32::MAX);
        Ok(SecAggConfig {
            recovery: self.recovery,
            round: self.round,
            clients,
            dim: self.dim,
            half_degree,
            threshold,
            max_dropouts,
            max_abs_param,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids(n: u64) -> Vec<ClientId> {
        (0..n).map(ClientId).collect()
    }

    #[test]
    fn validates_parameters_up_front() {
        let ok = SecAggConfig::builder(1, ids(10), 8)
            .max_dropout_permille(300)
            .build()
            .unwrap();
        assert_eq!(ok.degree(), 9);
        assert_eq!(ok.threshold(), 7);
        assert_eq!(ok.max_dropouts(), 3);
        // Even and odd share counts both work.
        for k in 1..=9 {
            let c = SecAggConfig::builder(1, ids(10), 8).neighbours(k).build();
            assert!(c.is_ok(), "k = {k}: {c:?}");
        }
        let c = SecAggConfig::builder(1, ids(10), 8)
            .neighbours(3)
            .build()
            .unwrap();
        assert_eq!(c.degree(), 4);
        assert_eq!(
            c.neighbours(ClientId(0)).into_iter().collect::<Vec<_>>(),
            vec![ClientId(1), ClientId(2), ClientId(8), ClientId(9)]
        );
        let bad = [
            SecAggConfig::builder(1, ids(1), 8).build(),
            SecAggConfig::builder(1, vec![ClientId(1), ClientId(1)], 8).build(),
            SecAggConfig::builder(1, ids(10), 0).build(),
            SecAggConfig::builder(1, ids(10), 8).neighbours(0).build(),
            SecAggConfig::builder(1, ids(10), 8).threshold(5).build(),
            SecAggConfig::builder(1, ids(10), 8).threshold(11).build(),
            SecAggConfig::builder(1, ids(10), 8)
                .max_dropout_permille(1000)
                .build(),
            SecAggConfig::builder(1, ids(10), 8)
                .neighbours(2)
                .max_dropout_permille(200)
                .build(),
        ];
        for b in bad {
            assert!(matches!(b, Err(Error::InvalidParameters { .. })), "{b:?}");
        }
    }
}
