//! Secure aggregation in the SecAgg+ style (Bell et al. 2020): the server learns only the sum.
//!
//! Each client advertises two X25519 public keys, Shamir-shares its self-mask seed and its
//! mask secret key among its neighbours in a ring graph (threshold `t`, shares encrypted
//! with ChaCha20-Poly1305 under pairwise X25519 keys), then uploads
//! `x + PRG(b_u) + Σ ±PRG(s_uv)` over Z_2^32 (ChaCha12 streams; `+` towards higher client ids,
//! `-` towards lower ones). Every seed and share key is derived from an agreement together
//! with the round number and both client ids, so each round's masks are fresh even when the
//! keys are not. The sum of the `i32` inputs is recovered exactly as long as it does not
//! wrap, which [`SecAggConfig::max_abs_param`] guarantees.
//!
//! To unmask, every survivor reveals shares of the self-mask seeds of survivors and, for the
//! clients that dropped after sharing, never the self-mask share but either
//! - ([`Recovery::KeyShares`], the published protocol and the default) its share of the
//!   dropped client's mask secret key: the server reconstructs the key and recomputes that
//!   client's agreements; the key is spent and the client must rotate it
//!   ([`SecAggSum::revealed_keys`]); or
//! - ([`Recovery::PairSeeds`]) only this round's pairwise seed with the dropped neighbour. No
//!   secret key leaves a client, so a client keeps its keys for a whole session
//!   ([`SecAggKeys`], [`SecAggClient::with_keys`]) and, after the first round, computes no
//!   agreement at all. If a surviving neighbour of a dropped client goes silent before
//!   revealing its seed, the server falls back to key shares for that client
//!   ([`SecAggServer::key_share_request`]).
//!
//! Why the server still learns only the sum (honest-but-curious server, at most `t - 1`
//! colluding clients per neighbourhood): a survivor's input is hidden by its self mask, whose
//! seed the server reconstructs only from `t` shares, and by its pairwise masks, each of which
//! only the two partners can compute. A client answers for each owner either with the
//! self-mask share (owner survived) or with the key share / pair seed (owner dropped), never
//! both, so even a server that tells different clients different stories would need `t`
//! holders to call an owner a survivor and every neighbour to call it dropped — impossible for
//! `t >= 2`, which the threshold rule (`t` > half the holders) guarantees. A revealed pair
//! seed depends on the round, so it says nothing about any other round's masks. A revealed
//! seed cannot be checked against a commitment; a client lying about one corrupts the sum,
//! which a malicious client can do anyway through its own masked input.
//!
//! Every type here is sans-IO: methods take and return messages; the caller moves them.

mod client;
mod config;
mod crypto;
mod keys;
pub mod local;
mod server;
mod shamir;

pub use client::SecAggClient;
pub use config::{MAX_DIM, Recovery, SecAggConfig, SecAggConfigBuilder};
pub use keys::SecAggKeys;
pub use server::{SecAggServer, SecAggSum};
pub use shamir::Share;

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use crate::update::ClientId;

/// Stage 0, client → server: the client's public keys.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AdvertiseKeys {
    /// Sender.
    pub client: ClientId,
    /// X25519 public key for encrypting shares.
    pub enc_key: [u8; 32],
    /// X25519 public key for pairwise masks.
    pub mask_key: [u8; 32],
}

/// Stage 0, server → clients: every key received.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeyRoster {
    /// Advertised keys by client.
    pub keys: BTreeMap<ClientId, AdvertiseKeys>,
}

/// Stage 1: an encrypted pair of shares from one client to a neighbour (routed by the server).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EncryptedShare {
    /// Owner of the shared secrets.
    pub from: ClientId,
    /// Holder.
    pub to: ClientId,
    /// ChaCha20-Poly1305 ciphertext of (owner, self-mask share, key share).
    pub ciphertext: Vec<u8>,
}

/// Stage 2, client → server: the masked input.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MaskedInput {
    /// Sender.
    pub client: ClientId,
    /// Masked parameters in Z_2^32.
    pub values: Vec<u32>,
}

/// Stage 3, server → survivors: who is in and who dropped after sharing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UnmaskRequest {
    /// Clients whose masked input arrived.
    pub survivors: BTreeSet<ClientId>,
    /// Clients that shared keys but sent no masked input.
    pub dropped: BTreeSet<ClientId>,
}

/// Stage 3, survivor → server: the shares needed to unmask.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UnmaskShares {
    /// Sender.
    pub client: ClientId,
    /// Shares of survivors' self-mask seeds, by owner.
    pub self_mask_shares: BTreeMap<ClientId, Share>,
    /// Shares of dropped clients' mask secret keys, by owner ([`Recovery::KeyShares`], or
    /// the answer to a [`KeyShareRequest`]).
    pub key_shares: BTreeMap<ClientId, Share>,
    /// This round's pairwise seed with each dropped neighbour, by neighbour
    /// ([`Recovery::PairSeeds`]).
    #[serde(default)]
    pub pair_seeds: BTreeMap<ClientId, [u8; 32]>,
}

/// Fallback of [`Recovery::PairSeeds`], server → survivors: key shares of these dropped
/// clients, whose pairwise seed a silent survivor never revealed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeyShareRequest {
    /// Dropped clients whose mask keys must be reconstructed.
    pub dropped: BTreeSet<ClientId>,
}

#[cfg(test)]
mod tests;
