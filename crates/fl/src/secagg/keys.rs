//! A client's long-lived secure-aggregation keys and its cache of key agreements.

use std::collections::{BTreeMap, BTreeSet};

use rand::Rng;
use x25519_dalek::{PublicKey, StaticSecret};

use crate::error::Result;
use crate::secagg::crypto;

/// A client's two X25519 key pairs (share encryption and pairwise masks), kept across the
/// rounds of one training session, with the agreements already computed against each peer
/// key.
///
/// Every secret derived from an agreement binds the round and both client ids, so reusing
/// the keys across rounds yields fresh, independent masks and share keys each round; with
/// [`Recovery::PairSeeds`](crate::secagg::Recovery::PairSeeds) the secret keys never leave
/// the client, so a session needs one agreement per neighbour instead of two per neighbour
/// and round. A mask key whose secret the server reconstructed (listed in
/// [`SecAggSum::revealed_keys`](crate::secagg::SecAggSum::revealed_keys)) must be replaced
/// with [`SecAggKeys::rotate_mask_key`] before the client's next round.
pub struct SecAggKeys {
    enc_secret: StaticSecret,
    mask_secret: StaticSecret,
    enc_public: [u8; 32],
    mask_public: [u8; 32],
    enc_agreed: BTreeMap<[u8; 32], [u8; 32]>,
    mask_agreed: BTreeMap<[u8; 32], [u8; 32]>,
}

impl std::fmt::Debug for SecAggKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SecAggKeys")
            .field(
                "agreements",
                &(self.enc_agreed.len() + self.mask_agreed.len()),
            )
            .finish_non_exhaustive()
    }
}

impl SecAggKeys {
    /// Fresh key pairs from `rng`.
    pub fn generate<R: Rng + ?Sized>(rng: &mut R) -> Self {
        let enc_secret = crypto::secret_from(rng);
        let mask_secret = crypto::secret_from(rng);
        Self {
            enc_public: PublicKey::from(&enc_secret).to_bytes(),
            mask_public: PublicKey::from(&mask_secret).to_bytes(),
            enc_secret,
            mask_secret,
            enc_agreed: BTreeMap::new(),
            mask_agreed: BTreeMap::new(),
        }
    }

    /// Replace the mask key pair (after its secret was revealed) and forget its agreements.
    pub fn rotate_mask_key<R: Rng + ?Sized>(&mut self, rng: &mut R) {
        self.mask_secret = crypto::secret_from(rng);
        self.mask_public = PublicKey::from(&self.mask_secret).to_bytes();
        self.mask_agreed.clear();
    }

    /// The public key that encrypts shares sent to this client.
    pub fn enc_public(&self) -> [u8; 32] {
        self.enc_public
    }

    /// The public key of this client's pairwise masks.
    pub fn mask_public(&self) -> [u8; 32] {
        self.mask_public
    }

    pub(crate) fn mask_secret_bytes(&self) -> [u8; 32] {
        self.mask_secret.to_bytes()
    }

    /// The share-encryption agreement with `peer`, computed once per peer key.
    pub(crate) fn enc_shared(&mut self, peer: &[u8; 32]) -> Result<[u8; 32]> {
        agreed(&self.enc_secret, &mut self.enc_agreed, peer)
    }

    /// The mask agreement with `peer`, computed once per peer key.
    pub(crate) fn mask_shared(&mut self, peer: &[u8; 32]) -> Result<[u8; 32]> {
        agreed(&self.mask_secret, &mut self.mask_agreed, peer)
    }

    /// Keep only the agreements with the given peer keys (the current roster), so the cache
    /// never outgrows one round's neighbourhood.
    pub(crate) fn retain_peers(&mut self, enc: &BTreeSet<[u8; 32]>, mask: &BTreeSet<[u8; 32]>) {
        self.enc_agreed.retain(|k, _| enc.contains(k));
        self.mask_agreed.retain(|k, _| mask.contains(k));
    }
}

fn agreed(
    secret: &StaticSecret,
    cache: &mut BTreeMap<[u8; 32], [u8; 32]>,
    peer: &[u8; 32],
) -> Result<[u8; 32]> {
    if let Some(shared) = cache.get(peer) {
        return Ok(*shared);
    }
    let shared = crypto::dh(secret, peer)?;
    cache.insert(*peer, shared);
    Ok(shared)
}
