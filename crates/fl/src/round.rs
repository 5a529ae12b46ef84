//! The sans-IO round state machine: open → collect validated updates (or run the secure
//! aggregation phases) → close → aggregate.
//!
//! The machine never performs I/O, reads a clock or draws randomness: the caller delivers
//! messages and decides when to close (e.g. at a block height or a timeout of its own), so
//! the simulator and the on-chain `learn` module drive the same code.

use std::collections::{BTreeMap, BTreeSet};

use tracing::debug;

use crate::aggregator::Aggregator;
use crate::error::{Error, Result};
use crate::secagg::{SecAggConfig, SecAggServer};
use crate::update::{ClientId, Update};

/// Where a [`Round`] is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    /// Accepting updates (or secure-aggregation messages).
    Open,
    /// No more input; ready to aggregate.
    Closed,
    /// The aggregate has been computed.
    Aggregated,
}

impl Phase {
    fn name(self) -> &'static str {
        match self {
            Self::Open => "open",
            Self::Closed => "closed",
            Self::Aggregated => "aggregated",
        }
    }
}

/// What a round needs to know up front.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoundConfig {
    /// Round number.
    pub round: u64,
    /// Clients allowed to submit.
    pub clients: BTreeSet<ClientId>,
    /// Fewest accepted updates (or secure-aggregation contributors) for the round to count.
    pub min_updates: usize,
    /// Run the round under secure aggregation with these parameters (its client list must
    /// equal `clients` and its dimension the model's).
    pub secagg: Option<SecAggConfig>,
}

/// One federated round.
#[derive(Debug, Clone)]
pub struct Round {
    config: RoundConfig,
    global: Vec<i32>,
    phase: Phase,
    updates: BTreeMap<ClientId, Update>,
    rejected: BTreeMap<ClientId, Error>,
    secagg: Option<SecAggServer>,
}

impl Round {
    /// Open a round starting from the model `global`.
    ///
    /// # Errors
    /// [`Error::InvalidParameters`] for an empty client set, `min_updates == 0` or more than
    /// the clients, or a secure-aggregation configuration that does not match.
    pub fn open(config: RoundConfig, global: Vec<i32>) -> Result<Self> {
        let bad = |reason: String| Error::InvalidParameters {
            strategy: "round",
            reason,
        };
        if config.clients.is_empty() || global.is_empty() {
            return Err(bad(
                "a round needs at least one client and one parameter".into()
            ));
        }
        if config.min_updates == 0 || config.min_updates > config.clients.len() {
            return Err(bad(format!(
                "min_updates must be in 1..={}, got {}",
                config.clients.len(),
                config.min_updates
            )));
        }
        let secagg = match &config.secagg {
            None => None,
            Some(s) => {
                if !s
                    .clients()
                    .iter()
                    .copied()
                    .eq(config.clients.iter().copied())
                {
                    return Err(bad(
                        "secure aggregation clients differ from the round's".into()
                    ));
                }
                if s.dim() != global.len() || s.round() != config.round {
                    return Err(bad(
                        "secure aggregation dimension or round differs from the round's".into(),
                    ));
                }
                Some(SecAggServer::new(s.clone()))
            }
        };
        debug!(target: "fl::round", round = config.round, clients = config.clients.len(), secure = secagg.is_some(), "round opened");
        Ok(Self {
            config,
            global,
            phase: Phase::Open,
            updates: BTreeMap::new(),
            rejected: BTreeMap::new(),
            secagg,
        })
    }

    /// The current phase.
    pub fn phase(&self) -> Phase {
        self.phase
    }

    /// The model the round started from.
    pub fn global(&self) -> &[i32] {
        &self.global
    }

    /// Clients whose updates were accepted, ascending.
    pub fn accepted(&self) -> impl Iterator<Item = ClientId> + '_ {
        self.updates.keys().copied()
    }

    /// Updates that were rejected, with the reason.
    pub fn rejected(&self) -> &BTreeMap<ClientId, Error> {
        &self.rejected
    }

    fn expect(&self, phase: Phase, action: &'static str) -> Result<()> {
        if self.phase != phase {
            return Err(Error::WrongPhase {
                action,
                phase: self.phase.name(),
            });
        }
        Ok(())
    }

    /// Submit a plaintext update. Invalid updates are rejected (and recorded) without
    /// affecting the round.
    ///
    /// # Errors
    /// [`Error::WrongPhase`] after close or in a secure round; [`Error::UnknownClient`],
    /// [`Error::DuplicateClient`], [`Error::WrongShape`], [`Error::ZeroSamples`].
    pub fn submit(&mut self, update: Update) -> Result<()> {
        self.expect(Phase::Open, "submit")?;
        if self.secagg.is_some() {
            return Err(Error::WrongPhase {
                action: "submit a plaintext update",
                phase: "secure aggregation",
            });
        }
        let client = update.client;
        let verdict = if !self.config.clients.contains(&client) {
            Err(Error::UnknownClient { client })
        } else if self.updates.contains_key(&client) {
            Err(Error::DuplicateClient { client })
        } else if update.params.len() != self.global.len() {
            Err(Error::WrongShape {
                client,
                expected: self.global.len(),
                got: update.params.len(),
            })
        } else if update.num_samples == 0 {
            Err(Error::ZeroSamples { client })
        } else {
            Ok(())
        };
        match verdict {
            Ok(()) => {
                self.updates.insert(client, update);
                Ok(())
            }
            Err(e) => {
                debug!(target: "fl::round", %client, error = %e, "update rejected");
                if self.config.clients.contains(&client) {
                    self.rejected.entry(client).or_insert_with(|| e.clone());
                }
                Err(e)
            }
        }
    }

    /// The secure-aggregation server, to drive its phases while the round is open.
    ///
    /// # Errors
    /// [`Error::WrongPhase`] if the round is closed or not secure.
    pub fn secagg_mut(&mut self) -> Result<&mut SecAggServer> {
        self.expect(Phase::Open, "secure aggregation")?;
        self.secagg.as_mut().ok_or(Error::WrongPhase {
            action: "secure aggregation",
            phase: "plaintext round",
        })
    }

    /// Stop accepting input.
    ///
    /// # Errors
    /// [`Error::WrongPhase`] if already closed; [`Error::NoUpdates`] or
    /// [`Error::TooFewUpdates`] for a plaintext round below its minimum (the round stays
    /// open so the caller may decide to wait or abandon it).
    pub fn close(&mut self) -> Result<()> {
        self.expect(Phase::Open, "close")?;
        if self.secagg.is_none() {
            let got = self.updates.len();
            if got == 0 {
                return Err(Error::NoUpdates);
            }
            if got < self.config.min_updates {
                return Err(Error::TooFewUpdates {
                    min: self.config.min_updates,
                    got,
                });
            }
        }
        self.phase = Phase::Closed;
        Ok(())
    }

    /// Compute the next global model with `aggregator`.
    ///
    /// In a secure round the server first unmasks the sum (after the caller has delivered
    /// the unmasking shares) and hands the aggregator one synthetic update holding the
    /// unweighted mean, so only rules with
    /// [`needs_individual_updates`](Aggregator::needs_individual_updates) `== false` work.
    ///
    /// # Errors
    /// [`Error::WrongPhase`] unless closed; [`Error::InvalidParameters`] for a rule that
    /// needs individual updates in a secure round; [`Error::TooFewUpdates`]; any
    /// aggregation or unmasking error.
    pub fn aggregate(&mut self, aggregator: &mut dyn Aggregator) -> Result<Vec<i32>> {
        self.expect(Phase::Closed, "aggregate")?;
        let out = match self.secagg.as_mut() {
            None => {
                let updates: Vec<Update> = self.updates.values().cloned().collect();
                aggregator.aggregate(&self.global, &updates)?
            }
            Some(server) => {
                if aggregator.needs_individual_updates() {
                    return Err(Error::InvalidParameters {
                        strategy: aggregator.name(),
                        reason: "needs individual updates, but secure aggregation reveals \
                                 only their sum"
                            .into(),
                    });
                }
                let sum = server.finish()?;
                if sum.contributors.len() < self.config.min_updates {
                    return Err(Error::TooFewUpdates {
                        min: self.config.min_updates,
                        got: sum.contributors.len(),
                    });
                }
                let mean = Update::new(ClientId(0), 1, sum.mean());
                aggregator.aggregate(&self.global, std::slice::from_ref(&mean))?
            }
        };
        self.phase = Phase::Aggregated;
        debug!(target: "fl::round", round = self.config.round, rule = aggregator.name(), "round aggregated");
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use rand::SeedableRng;
    use rand_chacha::ChaCha20Rng;

    use super::*;
    use crate::secagg::SecAggClient;
    use crate::{FedAvg, FedMedian};

    fn cfg(n: u64, secagg: Option<SecAggConfig>) -> RoundConfig {
        RoundConfig {
            round: 1,
            clients: (0..n).map(ClientId).collect(),
            min_updates: 2,
            secagg,
        }
    }

    #[test]
    fn plaintext_round_validates_and_aggregates() {
        let mut r = Round::open(cfg(3, None), vec![0; 2]).unwrap();
        assert_eq!(r.close(), Err(Error::NoUpdates));
        r.submit(Update::new(ClientId(0), 1, vec![2, 4])).unwrap();
        assert!(matches!(
            r.close(),
            Err(Error::TooFewUpdates { min: 2, got: 1 })
        ));
        assert!(r.submit(Update::new(ClientId(9), 1, vec![0, 0])).is_err());
        assert!(r.submit(Update::new(ClientId(0), 1, vec![0, 0])).is_err());
        assert!(r.submit(Update::new(ClientId(1), 1, vec![0])).is_err());
        assert!(r.submit(Update::new(ClientId(2), 0, vec![0, 0])).is_err());
        r.submit(Update::new(ClientId(1), 1, vec![4, 8])).unwrap();
        assert_eq!(r.rejected().len(), 3);
        assert!(matches!(
            r.aggregate(&mut FedAvg::new()),
            Err(Error::WrongPhase { .. })
        ));
        r.close().unwrap();
        assert!(r.submit(Update::new(ClientId(2), 1, vec![0, 0])).is_err());
        assert_eq!(r.aggregate(&mut FedAvg::new()), Ok(vec![3, 6]));
        assert_eq!(r.phase(), Phase::Aggregated);
        assert!(Round::open(cfg(0, None), vec![0]).is_err());
    }

    #[test]
    fn secure_round_yields_the_mean() {
        let sc = SecAggConfig::builder(1, (0..4).map(ClientId).collect(), 3)
            .build()
            .unwrap();
        let mut r = Round::open(cfg(4, Some(sc.clone())), vec![0; 3]).unwrap();
        assert!(r.submit(Update::new(ClientId(0), 1, vec![0; 3])).is_err());
        let mut rng = ChaCha20Rng::seed_from_u64(11);
        let mut clients = Vec::new();
        for c in 0..4 {
            let (cl, keys) = SecAggClient::new(sc.clone(), ClientId(c), &mut rng).unwrap();
            r.secagg_mut().unwrap().receive_keys(keys).unwrap();
            clients.push(cl);
        }
        let roster = r.secagg_mut().unwrap().close_keys().unwrap();
        for cl in &mut clients {
            let s = cl.share_keys(&roster, &mut rng).unwrap();
            r.secagg_mut().unwrap().receive_shares(cl.id(), s).unwrap();
        }
        let inbox = r.secagg_mut().unwrap().close_shares().unwrap();
        for (i, cl) in clients.iter_mut().enumerate() {
            let x = vec![i as i32 * 4, -(i as i32), 7];
            let m = cl.mask(&inbox[&cl.id()], &x).unwrap();
            r.secagg_mut().unwrap().receive_masked(m).unwrap();
        }
        let req = r.secagg_mut().unwrap().close_masked().unwrap();
        for cl in &mut clients {
            let u = cl.unmask(&req).unwrap();
            r.secagg_mut().unwrap().receive_unmask(u).unwrap();
        }
        r.close().unwrap();
        let mut twin = r.clone();
        assert!(matches!(
            twin.aggregate(&mut FedMedian::new()),
            Err(Error::InvalidParameters { .. })
        ));
        // Sums 24, -6, 28 over 4 clients: 6, -1.5 -> -2 (half to even), 7.
        assert_eq!(r.aggregate(&mut FedAvg::new()), Ok(vec![6, -2, 7]));
    }
}
