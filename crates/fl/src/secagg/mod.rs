//! Secure aggregation in the SecAgg+ style (Bell et al. 2020): the server learns only the sum.
//!
//! Each client advertises two X25519 public keys, Shamir-shares its self-mask seed and its
//! mask secret key among its neighbours in a ring graph (threshold `t`, shares encrypted
//! with ChaCha20-Poly1305 under pairwise X25519 keys), then uploads
//! `x + PRG(b_u) + Σ ±PRG(s_uv)` over Z_2^32 (ChaCha20 streams; `+` towards higher client ids,
//! `-` towards lower ones). To unmask, every survivor reveals shares of the self-mask seeds
//! of survivors and of the mask keys of clients that dropped after sharing, never both for
//! one client. The sum of the `i32` inputs is recovered exactly as long as it does not wrap,
//! which [`SecAggConfig::max_abs_param`] guarantees.
//!
//! Every type here is sans-IO: methods take and return messages; the caller moves them.

mod client;
mod config;
mod crypto;
pub mod local;
mod server;
mod shamir;

pub use client::SecAggClient;
pub use config::{MAX_DIM, SecAggConfig, SecAggConfigBuilder};
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
    /// Shares of dropped clients' mask secret keys, by owner.
    pub key_shares: BTreeMap<ClientId, Share>,
}

#[cfg(test)]
mod tests;
