//! The client side of secure aggregation.

use std::collections::BTreeMap;

use rand::{Rng, RngExt};

use crate::error::{Error, Result};
use crate::secagg::config::{Recovery, SecAggConfig};
use crate::secagg::keys::SecAggKeys;
use crate::secagg::shamir::{self, SHARE_BYTES, Share};
use crate::secagg::{
    AdvertiseKeys, EncryptedShare, KeyRoster, KeyShareRequest, MaskedInput, UnmaskRequest,
    UnmaskShares, crypto,
};
use crate::update::ClientId;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stage {
    Advertised,
    Shared,
    Masked,
    Done,
}

impl Stage {
    fn name(self) -> &'static str {
        match self {
            Self::Advertised => "advertised",
            Self::Shared => "shared",
            Self::Masked => "masked",
            Self::Done => "done",
        }
    }
}

/// One client's secure-aggregation state. Call [`SecAggClient::new`], then
/// [`share_keys`](Self::share_keys), [`mask`](Self::mask) and [`unmask`](Self::unmask) in
/// order; each returns the message to send.
pub struct SecAggClient {
    cfg: SecAggConfig,
    id: ClientId,
    keys: SecAggKeys,
    self_seed: [u8; 32],
    neighbours: BTreeMap<ClientId, AdvertiseKeys>,
    share_keys: BTreeMap<ClientId, [u8; 32]>,
    pair_seeds: BTreeMap<ClientId, [u8; 32]>,
    advertised: AdvertiseKeys,
    held: BTreeMap<ClientId, (Share, Share)>,
    answered: Option<UnmaskRequest>,
    stage: Stage,
}

impl std::fmt::Debug for SecAggClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SecAggClient")
            .field("id", &self.id)
            .field("stage", &self.stage)
            .finish_non_exhaustive()
    }
}

impl SecAggClient {
    /// Create the client's keys and self-mask seed from `rng` and return the keys to advertise.
    ///
    /// # Errors
    /// [`Error::UnknownClient`] if `id` is not enrolled in `cfg`.
    pub fn new<R: Rng + ?Sized>(
        cfg: SecAggConfig,
        id: ClientId,
        rng: &mut R,
    ) -> Result<(Self, AdvertiseKeys)> {
        let keys = SecAggKeys::generate(rng);
        Self::with_keys(cfg, id, keys, rng)
    }

    /// A client for one round that uses the session's long-lived `keys` (and their cached
    /// agreements) and a fresh self-mask seed from `rng`; take the keys back with
    /// [`into_keys`](Self::into_keys) for the next round.
    ///
    /// # Errors
    /// [`Error::UnknownClient`] if `id` is not enrolled in `cfg`.
    pub fn with_keys<R: Rng + ?Sized>(
        cfg: SecAggConfig,
        id: ClientId,
        keys: SecAggKeys,
        rng: &mut R,
    ) -> Result<(Self, AdvertiseKeys)> {
        if cfg.position(id).is_none() {
            return Err(Error::UnknownClient { client: id });
        }
        let mut self_seed = [0u8; 32];
        rng.fill(&mut self_seed);
        let msg = AdvertiseKeys {
            client: id,
            enc_key: keys.enc_public(),
            mask_key: keys.mask_public(),
        };
        Ok((
            Self {
                cfg,
                id,
                keys,
                self_seed,
                neighbours: BTreeMap::new(),
                share_keys: BTreeMap::new(),
                pair_seeds: BTreeMap::new(),
                advertised: msg.clone(),
                held: BTreeMap::new(),
                answered: None,
                stage: Stage::Advertised,
            },
            msg,
        ))
    }

    /// The client's keys, with the agreements computed this round, for its next round.
    pub fn into_keys(self) -> SecAggKeys {
        self.keys
    }

    /// This client's id.
    pub fn id(&self) -> ClientId {
        self.id
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

    /// Shamir-share the self-mask seed and mask secret key among the neighbours present in
    /// `roster` (and this client), returning one encrypted share per neighbour.
    ///
    /// # Errors
    /// [`Error::WrongPhase`] out of order; [`Error::Malformed`] if the roster lacks this
    /// client's own keys or carries a key under the wrong id or a low-order key;
    /// [`Error::TooManyDropouts`] if fewer than `threshold` holders remain.
    pub fn share_keys<R: Rng + ?Sized>(
        &mut self,
        roster: &KeyRoster,
        rng: &mut R,
    ) -> Result<Vec<EncryptedShare>> {
        self.expect(Stage::Advertised, "share_keys")?;
        let own = roster.keys.get(&self.id).ok_or(Error::Malformed {
            reason: "roster lacks this client's keys",
        })?;
        if *own != self.advertised {
            return Err(Error::Malformed {
                reason: "roster carries different keys for this client",
            });
        }
        let mut neighbours = BTreeMap::new();
        for v in self.cfg.neighbours(self.id) {
            if let Some(k) = roster.keys.get(&v) {
                if k.client != v {
                    return Err(Error::Malformed {
                        reason: "roster entry under the wrong client id",
                    });
                }
                neighbours.insert(v, k.clone());
            }
        }
        let enc_peers = neighbours.values().map(|k| k.enc_key).collect();
        let mask_peers = neighbours.values().map(|k| k.mask_key).collect();
        self.keys.retain_peers(&enc_peers, &mask_peers);
        let holders: Vec<ClientId> = std::iter::once(self.id)
            .chain(neighbours.keys().copied())
            .collect();
        let t = self.cfg.threshold();
        if holders.len() < t {
            return Err(Error::TooManyDropouts {
                reason: format!(
                    "client {} has {} live share holders, threshold is {t}",
                    self.id,
                    holders.len()
                ),
            });
        }
        let xs: Vec<u64> = holders
            .iter()
            .map(|&h| self.cfg.share_x(h).unwrap_or(0))
            .collect();
        let seed_shares = shamir::split(&self.self_seed, t, &xs, rng);
        let key_shares = shamir::split(&self.keys.mask_secret_bytes(), t, &xs, rng);
        let mut out = Vec::with_capacity(neighbours.len());
        for ((&h, s), k) in holders.iter().zip(seed_shares).zip(key_shares) {
            if h == self.id {
                self.held.insert(self.id, (s, k));
                continue;
            }
            let mut plain = Vec::with_capacity(8 + 2 * SHARE_BYTES);
            plain.extend_from_slice(&self.id.0.to_le_bytes());
            plain.extend_from_slice(&s.to_bytes());
            plain.extend_from_slice(&k.to_bytes());
            let to_key = neighbours.get(&h).map(|k| k.enc_key).unwrap_or_default();
            let shared = self.keys.enc_shared(&to_key)?;
            let key = crypto::share_key_from(&shared, self.cfg.round(), self.id, h);
            let ciphertext = crypto::seal(&key, self.cfg.round(), self.id, h, &plain)?;
            self.share_keys.insert(h, key);
            out.push(EncryptedShare {
                from: self.id,
                to: h,
                ciphertext,
            });
        }
        self.neighbours = neighbours;
        self.stage = Stage::Shared;
        Ok(out)
    }

    /// Decrypt the shares neighbours sent, and mask `params` with the self mask and a pairwise
    /// mask for every neighbour whose share arrived.
    ///
    /// # Errors
    /// [`Error::WrongPhase`] out of order; [`Error::WrongShape`] for a wrong-length input;
    /// [`Error::SecAggParamTooLarge`] for a value beyond [`SecAggConfig::max_abs_param`];
    /// [`Error::BadCiphertext`] or [`Error::Malformed`] for a share that fails to decrypt or
    /// parse, or that comes from a non-neighbour.
    pub fn mask(&mut self, inbox: &[EncryptedShare], params: &[i32]) -> Result<MaskedInput> {
        self.expect(Stage::Shared, "mask")?;
        if params.len() != self.cfg.dim() {
            return Err(Error::WrongShape {
                client: self.id,
                expected: self.cfg.dim(),
                got: params.len(),
            });
        }
        let limit = self.cfg.max_abs_param();
        if let Some(index) = params.iter().position(|&x| x.unsigned_abs() > limit as u32) {
            return Err(Error::SecAggParamTooLarge { index, limit });
        }
        for msg in inbox {
            if msg.to != self.id {
                return Err(Error::Malformed {
                    reason: "share addressed to another client",
                });
            }
            let key = self.share_keys.get(&msg.from).ok_or(Error::Malformed {
                reason: "share from a client that is not a live neighbour",
            })?;
            if self.held.contains_key(&msg.from) {
                return Err(Error::Malformed {
                    reason: "two shares from the same neighbour",
                });
            }
            let plain = crypto::open(key, self.cfg.round(), msg.from, self.id, &msg.ciphertext)?;
            if plain.len() != 8 + 2 * SHARE_BYTES || plain[..8] != msg.from.0.to_le_bytes() {
                return Err(Error::Malformed {
                    reason: "share plaintext has the wrong layout",
                });
            }
            let s = Share::from_bytes(&plain[8..8 + SHARE_BYTES])?;
            let k = Share::from_bytes(&plain[8 + SHARE_BYTES..])?;
            if Some(s.x) != self.cfg.share_x(self.id) || k.x != s.x {
                return Err(Error::Malformed {
                    reason: "share evaluated at the wrong point",
                });
            }
            self.held.insert(msg.from, (s, k));
        }
        let mut values: Vec<u32> = params.iter().map(|&x| x as u32).collect();
        crypto::apply_mask(self.self_seed, false, &mut values);
        for (&v, keys) in &self.neighbours {
            if !self.held.contains_key(&v) {
                continue;
            }
            let shared = self.keys.mask_shared(&keys.mask_key)?;
            let seed = crypto::pair_seed_from(&shared, self.cfg.round(), self.id, v);
            crypto::apply_mask(seed, self.id > v, &mut values);
            self.pair_seeds.insert(v, seed);
        }
        self.stage = Stage::Masked;
        Ok(MaskedInput {
            client: self.id,
            values,
        })
    }

    /// Reveal, for each client whose shares this client holds, the self-mask share if it
    /// survived, or if it dropped its key share ([`Recovery::KeyShares`]) or this round's
    /// pairwise seed with it ([`Recovery::PairSeeds`]) — never both kinds for one client.
    ///
    /// # Errors
    /// [`Error::WrongPhase`] out of order; [`Error::Malformed`] if the request lists a client
    /// as both survivor and dropped or omits this client; [`Error::TooManyDropouts`] if fewer
    /// than `threshold` clients survived.
    pub fn unmask(&mut self, req: &UnmaskRequest) -> Result<UnmaskShares> {
        self.expect(Stage::Masked, "unmask")?;
        if !req.survivors.contains(&self.id) {
            return Err(Error::Malformed {
                reason: "unmask request does not list this client as a survivor",
            });
        }
        if req.survivors.intersection(&req.dropped).next().is_some() {
            return Err(Error::Malformed {
                reason: "a client is listed as both survivor and dropped",
            });
        }
        if req.survivors.len() < self.cfg.threshold() {
            return Err(Error::TooManyDropouts {
                reason: format!(
                    "{} survivors, threshold is {}",
                    req.survivors.len(),
                    self.cfg.threshold()
                ),
            });
        }
        let mut out = UnmaskShares {
            client: self.id,
            self_mask_shares: BTreeMap::new(),
            key_shares: BTreeMap::new(),
            pair_seeds: BTreeMap::new(),
        };
        for (&owner, &(s, k)) in &self.held {
            if req.survivors.contains(&owner) {
                out.self_mask_shares.insert(owner, s);
            } else if req.dropped.contains(&owner) {
                match self.cfg.recovery() {
                    Recovery::KeyShares => {
                        out.key_shares.insert(owner, k);
                    }
                    Recovery::PairSeeds => {
                        if let Some(seed) = self.pair_seeds.get(&owner) {
                            out.pair_seeds.insert(owner, *seed);
                        }
                    }
                }
            }
        }
        self.answered = Some(req.clone());
        self.stage = Stage::Done;
        Ok(out)
    }

    /// Answer the fallback of [`Recovery::PairSeeds`]: the key shares of dropped clients this
    /// client holds, only for clients its unmask answer treated as dropped (so the server
    /// still never gets both secrets of one client).
    ///
    /// # Errors
    /// [`Error::WrongPhase`] before [`unmask`](Self::unmask) or under
    /// [`Recovery::KeyShares`] (the shares were already revealed); [`Error::Malformed`] if the
    /// request names a client that was not listed as dropped.
    pub fn reveal_key_shares(&self, req: &KeyShareRequest) -> Result<UnmaskShares> {
        self.expect(Stage::Done, "reveal_key_shares")?;
        let answered = self.answered.as_ref().ok_or(Error::WrongPhase {
            action: "reveal_key_shares",
            phase: self.stage.name(),
        })?;
        if self.cfg.recovery() != Recovery::PairSeeds {
            return Err(Error::WrongPhase {
                action: "reveal_key_shares",
                phase: "key shares already revealed",
            });
        }
        if !req.dropped.is_subset(&answered.dropped) {
            return Err(Error::Malformed {
                reason: "key shares requested for a client not reported as dropped",
            });
        }
        let key_shares = req
            .dropped
            .iter()
            .filter_map(|owner| self.held.get(owner).map(|&(_, k)| (*owner, k)))
            .collect();
        Ok(UnmaskShares {
            client: self.id,
            self_mask_shares: BTreeMap::new(),
            key_shares,
            pair_seeds: BTreeMap::new(),
        })
    }
}
