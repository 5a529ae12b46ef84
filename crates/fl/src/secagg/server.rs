//! The server side of secure aggregation: routes messages and unmasks the sum.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};
use x25519_dalek::{PublicKey, StaticSecret};

use crate::error::{Error, Result};
use crate::fixed;
use crate::secagg::config::{Recovery, SecAggConfig};
use crate::secagg::shamir::{self, Share};
use crate::secagg::{
    AdvertiseKeys, EncryptedShare, KeyRoster, KeyShareRequest, MaskedInput, UnmaskRequest,
    UnmaskShares, crypto,
};
use crate::update::ClientId;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stage {
    Keys,
    Shares,
    Masked,
    Unmask,
    Done,
}

impl Stage {
    fn name(self) -> &'static str {
        match self {
            Self::Keys => "collect_keys",
            Self::Shares => "collect_shares",
            Self::Masked => "collect_masked",
            Self::Unmask => "collect_unmask",
            Self::Done => "done",
        }
    }
}

/// The unmasked result: the exact sum of the survivors' inputs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SecAggSum {
    /// Σ of the survivors' Q16.16 inputs.
    pub sum: Vec<i32>,
    /// Clients whose inputs are in the sum, ascending.
    pub contributors: Vec<ClientId>,
    /// Dropped clients whose mask secret key the server reconstructed, ascending: each must
    /// rotate its mask key ([`SecAggKeys::rotate_mask_key`](crate::secagg::SecAggKeys::rotate_mask_key))
    /// before it takes part again.
    #[serde(default)]
    pub revealed_keys: Vec<ClientId>,
}

impl SecAggSum {
    /// The unweighted mean, rounded half to even.
    pub fn mean(&self) -> Vec<i32> {
        let n = self.contributors.len().max(1) as i64;
        self.sum
            .iter()
            .map(|&s| fixed::div_round_i64(i64::from(s), n) as i32)
            .collect()
    }
}

/// The server's secure-aggregation state machine. Feed it client messages with the
/// `receive_*` methods and advance with the `close_*` methods; each close returns what to send
/// next. Dropouts beyond [`SecAggConfig::max_dropouts`] end the round with
/// [`Error::TooManyDropouts`].
#[derive(Debug, Clone)]
pub struct SecAggServer {
    cfg: SecAggConfig,
    stage: Stage,
    keys: BTreeMap<ClientId, AdvertiseKeys>,
    shares: BTreeMap<ClientId, Vec<EncryptedShare>>,
    masked: BTreeMap<ClientId, Vec<u32>>,
    request: Option<UnmaskRequest>,
    unmask: BTreeMap<ClientId, UnmaskShares>,
    fallback: BTreeMap<ClientId, UnmaskShares>,
}

impl SecAggServer {
    /// A server for one round.
    pub fn new(cfg: SecAggConfig) -> Self {
        Self {
            cfg,
            stage: Stage::Keys,
            keys: BTreeMap::new(),
            shares: BTreeMap::new(),
            masked: BTreeMap::new(),
            request: None,
            unmask: BTreeMap::new(),
            fallback: BTreeMap::new(),
        }
    }

    /// The round's configuration.
    pub fn config(&self) -> &SecAggConfig {
        &self.cfg
    }

    /// The current stage's name.
    pub fn stage(&self) -> &'static str {
        self.stage.name()
    }

    fn expect(&self, stage: Stage, action: &'static str) -> Result<()> {
        if self.stage != stage {
            return Err(Error::WrongPhase {
                action,
                phase: self.stage.name(),
            });
        }
        Ok(())
    }

    fn check_dropouts(&self, alive: usize, step: &str) -> Result<()> {
        let dropped = self.cfg.clients().len() - alive;
        if dropped > self.cfg.max_dropouts() {
            return Err(Error::TooManyDropouts {
                reason: format!(
                    "{dropped} of {} clients dropped by {step}, at most {} tolerated",
                    self.cfg.clients().len(),
                    self.cfg.max_dropouts()
                ),
            });
        }
        Ok(())
    }

    /// Accept a client's public keys.
    ///
    /// # Errors
    /// [`Error::WrongPhase`], [`Error::UnknownClient`], or [`Error::DuplicateClient`].
    pub fn receive_keys(&mut self, msg: AdvertiseKeys) -> Result<()> {
        self.expect(Stage::Keys, "receive_keys")?;
        if self.cfg.position(msg.client).is_none() {
            return Err(Error::UnknownClient { client: msg.client });
        }
        if self.keys.contains_key(&msg.client) {
            return Err(Error::DuplicateClient { client: msg.client });
        }
        self.keys.insert(msg.client, msg);
        Ok(())
    }

    /// Stop collecting keys; returns the roster to broadcast.
    ///
    /// # Errors
    /// [`Error::TooManyDropouts`] if too few clients advertised.
    pub fn close_keys(&mut self) -> Result<KeyRoster> {
        self.expect(Stage::Keys, "close_keys")?;
        self.check_dropouts(self.keys.len(), "key advertisement")?;
        self.stage = Stage::Shares;
        Ok(KeyRoster {
            keys: self.keys.clone(),
        })
    }

    /// Accept one client's encrypted shares (one for each of its live neighbours).
    ///
    /// # Errors
    /// [`Error::WrongPhase`], [`Error::UnknownClient`] for a client without keys,
    /// [`Error::DuplicateClient`], or [`Error::Malformed`] for shares with the wrong sender or
    /// recipients.
    pub fn receive_shares(&mut self, from: ClientId, shares: Vec<EncryptedShare>) -> Result<()> {
        self.expect(Stage::Shares, "receive_shares")?;
        if !self.keys.contains_key(&from) {
            return Err(Error::UnknownClient { client: from });
        }
        if self.shares.contains_key(&from) {
            return Err(Error::DuplicateClient { client: from });
        }
        let expected: BTreeSet<ClientId> = self
            .cfg
            .neighbours(from)
            .into_iter()
            .filter(|v| self.keys.contains_key(v))
            .collect();
        let got: BTreeSet<ClientId> = shares.iter().map(|s| s.to).collect();
        if shares.iter().any(|s| s.from != from) || got != expected || got.len() != shares.len() {
            return Err(Error::Malformed {
                reason: "shares must go exactly once to each live neighbour",
            });
        }
        self.shares.insert(from, shares);
        Ok(())
    }

    /// Stop collecting shares; returns each live client's inbox.
    ///
    /// # Errors
    /// [`Error::TooManyDropouts`] if too few clients shared.
    pub fn close_shares(&mut self) -> Result<BTreeMap<ClientId, Vec<EncryptedShare>>> {
        self.expect(Stage::Shares, "close_shares")?;
        self.check_dropouts(self.shares.len(), "key sharing")?;
        let mut inbox: BTreeMap<ClientId, Vec<EncryptedShare>> =
            self.shares.keys().map(|&c| (c, Vec::new())).collect();
        for list in self.shares.values() {
            for s in list {
                if let Some(b) = inbox.get_mut(&s.to) {
                    b.push(s.clone());
                }
            }
        }
        self.stage = Stage::Masked;
        Ok(inbox)
    }

    /// Accept a masked input.
    ///
    /// # Errors
    /// [`Error::WrongPhase`], [`Error::UnknownClient`] for a client that did not share,
    /// [`Error::DuplicateClient`], or [`Error::WrongShape`].
    pub fn receive_masked(&mut self, msg: MaskedInput) -> Result<()> {
        self.expect(Stage::Masked, "receive_masked")?;
        if !self.shares.contains_key(&msg.client) {
            return Err(Error::UnknownClient { client: msg.client });
        }
        if self.masked.contains_key(&msg.client) {
            return Err(Error::DuplicateClient { client: msg.client });
        }
        if msg.values.len() != self.cfg.dim() {
            return Err(Error::WrongShape {
                client: msg.client,
                expected: self.cfg.dim(),
                got: msg.values.len(),
            });
        }
        self.masked.insert(msg.client, msg.values);
        Ok(())
    }

    /// Stop collecting masked inputs; returns the unmask request for the survivors.
    ///
    /// # Errors
    /// [`Error::TooManyDropouts`] if too few inputs arrived.
    pub fn close_masked(&mut self) -> Result<UnmaskRequest> {
        self.expect(Stage::Masked, "close_masked")?;
        self.check_dropouts(self.masked.len(), "masked input")?;
        if self.masked.len() < self.cfg.threshold() {
            return Err(Error::TooManyDropouts {
                reason: format!(
                    "{} masked inputs, threshold is {}",
                    self.masked.len(),
                    self.cfg.threshold()
                ),
            });
        }
        let survivors: BTreeSet<ClientId> = self.masked.keys().copied().collect();
        let dropped = self
            .shares
            .keys()
            .filter(|c| !survivors.contains(c))
            .copied()
            .collect();
        let req = UnmaskRequest { survivors, dropped };
        self.request = Some(req.clone());
        self.stage = Stage::Unmask;
        Ok(req)
    }

    /// Accept a survivor's unmasking shares.
    ///
    /// # Errors
    /// [`Error::WrongPhase`], [`Error::UnknownClient`] for a non-survivor,
    /// [`Error::DuplicateClient`], or [`Error::Malformed`] if it reveals both secrets of a
    /// client or shares of clients outside the request.
    pub fn receive_unmask(&mut self, msg: UnmaskShares) -> Result<()> {
        self.expect(Stage::Unmask, "receive_unmask")?;
        let req = self.request.as_ref().ok_or(Error::WrongPhase {
            action: "receive_unmask",
            phase: self.stage.name(),
        })?;
        if !req.survivors.contains(&msg.client) {
            return Err(Error::UnknownClient { client: msg.client });
        }
        if self.unmask.contains_key(&msg.client) {
            return Err(Error::DuplicateClient { client: msg.client });
        }
        let ok = msg
            .self_mask_shares
            .keys()
            .all(|c| req.survivors.contains(c))
            && msg.key_shares.keys().all(|c| req.dropped.contains(c))
            && msg.pair_seeds.keys().all(|c| req.dropped.contains(c));
        if !ok {
            return Err(Error::Malformed {
                reason: "unmask shares for clients outside the request",
            });
        }
        let mode_ok = match self.cfg.recovery() {
            Recovery::KeyShares => msg.pair_seeds.is_empty(),
            Recovery::PairSeeds => {
                let neighbours = self.cfg.neighbours(msg.client);
                msg.key_shares.is_empty() && msg.pair_seeds.keys().all(|c| neighbours.contains(c))
            }
        };
        if !mode_ok {
            return Err(Error::Malformed {
                reason: "unmask answer reveals secrets this recovery mode does not use",
            });
        }
        self.unmask.insert(msg.client, msg);
        Ok(())
    }

    /// The surviving neighbours of dropped client `v` (they masked with `v`), each with the
    /// pairwise seed it revealed, if any.
    fn revealed_seeds(
        &self,
        req: &UnmaskRequest,
        v: ClientId,
    ) -> Vec<(ClientId, Option<[u8; 32]>)> {
        self.cfg
            .neighbours(v)
            .into_iter()
            .filter(|u| req.survivors.contains(u))
            .map(|u| {
                let seed = self
                    .unmask
                    .get(&u)
                    .and_then(|m| m.pair_seeds.get(&v))
                    .copied();
                (u, seed)
            })
            .collect()
    }

    /// Under [`Recovery::PairSeeds`], once the unmask answers are in: the dropped clients
    /// whose masks cannot be cancelled from revealed seeds because a surviving neighbour did
    /// not answer. Send the request to the survivors and feed their answers to
    /// [`receive_key_shares`](Self::receive_key_shares) before [`finish`](Self::finish).
    /// `None` when every seed is in (always under [`Recovery::KeyShares`]).
    pub fn key_share_request(&self) -> Option<KeyShareRequest> {
        if self.stage != Stage::Unmask || self.cfg.recovery() != Recovery::PairSeeds {
            return None;
        }
        let req = self.request.as_ref()?;
        let dropped: BTreeSet<ClientId> = req
            .dropped
            .iter()
            .filter(|&&v| self.revealed_seeds(req, v).iter().any(|(_, s)| s.is_none()))
            .copied()
            .collect();
        (!dropped.is_empty()).then_some(KeyShareRequest { dropped })
    }

    /// Accept a survivor's answer to the [`key_share_request`](Self::key_share_request).
    ///
    /// # Errors
    /// [`Error::WrongPhase`] when no key shares are needed, [`Error::UnknownClient`] for a
    /// non-survivor, [`Error::DuplicateClient`], or [`Error::Malformed`] for anything but
    /// key shares of the requested clients.
    pub fn receive_key_shares(&mut self, msg: UnmaskShares) -> Result<()> {
        let wanted = self.key_share_request().ok_or(Error::WrongPhase {
            action: "receive_key_shares",
            phase: self.stage.name(),
        })?;
        let survivor = self
            .request
            .as_ref()
            .is_some_and(|r| r.survivors.contains(&msg.client));
        if !survivor {
            return Err(Error::UnknownClient { client: msg.client });
        }
        if self.fallback.contains_key(&msg.client) {
            return Err(Error::DuplicateClient { client: msg.client });
        }
        if !msg.self_mask_shares.is_empty()
            || !msg.pair_seeds.is_empty()
            || !msg.key_shares.keys().all(|c| wanted.dropped.contains(c))
        {
            return Err(Error::Malformed {
                reason: "key-share answer carries other secrets or other clients",
            });
        }
        self.fallback.insert(msg.client, msg);
        Ok(())
    }

    /// Reconstruct the masks and return the sum of the survivors' inputs.
    ///
    /// # Errors
    /// [`Error::TooManyDropouts`] when some secret has fewer than `threshold` shares;
    /// [`Error::Malformed`] for inconsistent shares or a reconstructed key that does not match
    /// its advertised public key.
    pub fn finish(&mut self) -> Result<SecAggSum> {
        self.expect(Stage::Unmask, "finish")?;
        let req = self.request.clone().ok_or(Error::WrongPhase {
            action: "finish",
            phase: self.stage.name(),
        })?;
        self.check_dropouts(self.unmask.len(), "unmasking")?;
        let t = self.cfg.threshold();
        let round = self.cfg.round();
        let mut sum = vec![0u32; self.cfg.dim()];
        for values in self.masked.values() {
            for (s, &v) in sum.iter_mut().zip(values) {
                *s = s.wrapping_add(v);
            }
        }
        let collect = |owner: ClientId, self_mask: bool| -> Vec<Share> {
            let answers = self.unmask.values();
            if self_mask {
                return answers
                    .filter_map(|m| m.self_mask_shares.get(&owner).copied())
                    .collect();
            }
            answers
                .chain(self.fallback.values())
                .filter_map(|m| m.key_shares.get(&owner).copied())
                .collect()
        };
        for &u in &req.survivors {
            let seed = shamir::reconstruct(&collect(u, true), t).map_err(|e| annotate(e, u))?;
            crypto::apply_mask(seed, true, &mut sum);
        }
        let mut revealed_keys = Vec::new();
        for &v in &req.dropped {
            if self.cfg.recovery() == Recovery::PairSeeds {
                let seeds = self.revealed_seeds(&req, v);
                if seeds.iter().all(|(_, s)| s.is_some()) {
                    for (u, seed) in seeds {
                        if let Some(seed) = seed {
                            // u added the mask if u < v and subtracted it otherwise; undo that.
                            crypto::apply_mask(seed, u < v, &mut sum);
                        }
                    }
                    continue;
                }
            }
            revealed_keys.push(v);
            let sk = shamir::reconstruct(&collect(v, false), t).map_err(|e| annotate(e, v))?;
            let secret = StaticSecret::from(sk);
            let advertised = self.keys.get(&v).map(|k| k.mask_key);
            if advertised != Some(PublicKey::from(&secret).to_bytes()) {
                return Err(Error::Malformed {
                    reason: "reconstructed mask key does not match the advertised key",
                });
            }
            for u in self.cfg.neighbours(v) {
                if !req.survivors.contains(&u) {
                    continue;
                }
                let Some(pk) = self.keys.get(&u).map(|k| k.mask_key) else {
                    continue;
                };
                let seed = crypto::pair_seed(&secret, &pk, round, v, u)?;
                // u added the mask if u < v and subtracted it otherwise; undo that.
                crypto::apply_mask(seed, u < v, &mut sum);
            }
        }
        self.stage = Stage::Done;
        Ok(SecAggSum {
            sum: sum.into_iter().map(|x| x as i32).collect(),
            contributors: req.survivors.into_iter().collect(),
            revealed_keys,
        })
    }
}

fn annotate(e: Error, owner: ClientId) -> Error {
    match e {
        Error::TooManyDropouts { reason } => Error::TooManyDropouts {
            reason: format!("client {owner}: {reason}"),
        },
        other => other,
    }
}
