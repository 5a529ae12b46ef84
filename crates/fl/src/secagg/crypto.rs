//! Key derivation, pairwise/self masks and share encryption for secure aggregation.

use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{ChaCha20Poly1305, Key, Nonce};
use rand::{Rng, RngExt, SeedableRng};
use rand_chacha::ChaCha12Rng;
use x25519_dalek::{PublicKey, StaticSecret};

use crate::error::{Error, Result};
use crate::update::ClientId;

const CTX_SHARE_KEY: &str = "counterweight fl secagg v1 share encryption key";
const CTX_PAIR_SEED: &str = "counterweight fl secagg v1 pairwise mask seed";

/// Mask values generated per PRG block.
const MASK_BLOCK: usize = 2048;

/// A fresh X25519 secret drawn from `rng`.
pub(crate) fn secret_from<R: Rng + ?Sized>(rng: &mut R) -> StaticSecret {
    let mut b = [0u8; 32];
    rng.fill(&mut b);
    StaticSecret::from(b)
}

/// The X25519 shared secret of `secret` and `public`, refusing low-order public keys.
pub(crate) fn dh(secret: &StaticSecret, public: &[u8; 32]) -> Result<[u8; 32]> {
    let shared = secret.diffie_hellman(&PublicKey::from(*public));
    if !shared.was_contributory() {
        return Err(Error::Malformed {
            reason: "public key is a low-order point",
        });
    }
    Ok(*shared.as_bytes())
}

fn derive(ctx: &str, shared: &[u8; 32], round: u64, a: ClientId, b: ClientId) -> [u8; 32] {
    let (lo, hi) = if a <= b { (a, b) } else { (b, a) };
    let mut material = [0u8; 56];
    material[..32].copy_from_slice(shared);
    material[32..40].copy_from_slice(&round.to_le_bytes());
    material[40..48].copy_from_slice(&lo.0.to_le_bytes());
    material[48..56].copy_from_slice(&hi.0.to_le_bytes());
    blake3::derive_key(ctx, &material)
}

/// The seed of the pairwise mask between `a` and `b` (symmetric in the two).
pub(crate) fn pair_seed(
    secret: &StaticSecret,
    other_public: &[u8; 32],
    round: u64,
    a: ClientId,
    b: ClientId,
) -> Result<[u8; 32]> {
    Ok(derive(
        CTX_PAIR_SEED,
        &dh(secret, other_public)?,
        round,
        a,
        b,
    ))
}

/// Add (`negate == false`) or subtract the ChaCha12 stream of `seed` (the cipher behind
/// `rand`'s `StdRng`; 12 rounds keep a wide margin over the best attacks on 7 and cost 60%
/// of ChaCha20's 20, and mask expansion is most of a session round's CPU), read as little-endian
/// `u32` words, to `acc` in Z_2^32.
pub(crate) fn apply_mask(seed: [u8; 32], negate: bool, acc: &mut [u32]) {
    let mut rng = ChaCha12Rng::from_seed(seed);
    let mut block = [0u32; MASK_BLOCK];
    for chunk in acc.chunks_mut(MASK_BLOCK) {
        let block = &mut block[..chunk.len()];
        rng.fill(block);
        if negate {
            for (a, &m) in chunk.iter_mut().zip(block.iter()) {
                *a = a.wrapping_sub(m);
            }
        } else {
            for (a, &m) in chunk.iter_mut().zip(block.iter()) {
                *a = a.wrapping_add(m);
            }
        }
    }
}

/// The pairwise mask seed of `a` and `b` for `round`, from their X25519 shared secret.
pub(crate) fn pair_seed_from(shared: &[u8; 32], round: u64, a: ClientId, b: ClientId) -> [u8; 32] {
    derive(CTX_PAIR_SEED, shared, round, a, b)
}

/// The symmetric key that protects shares between `a` and `b` (symmetric in the two) in
/// `round`, from their X25519 shared secret.
pub(crate) fn share_key_from(shared: &[u8; 32], round: u64, a: ClientId, b: ClientId) -> [u8; 32] {
    derive(CTX_SHARE_KEY, shared, round, a, b)
}

fn nonce_and_aad(round: u64, from: ClientId, to: ClientId) -> (Nonce, [u8; 24]) {
    // The key is shared by both directions of a pair; the sender id keeps nonces distinct.
    let mut n = [0u8; 12];
    n[..8].copy_from_slice(&from.0.to_le_bytes());
    let mut aad = [0u8; 24];
    aad[..8].copy_from_slice(&round.to_le_bytes());
    aad[8..16].copy_from_slice(&from.0.to_le_bytes());
    aad[16..].copy_from_slice(&to.0.to_le_bytes());
    (Nonce::from(n), aad)
}

/// Encrypt `plaintext` from `from` to `to` under their share key.
pub(crate) fn seal(
    key: &[u8; 32],
    round: u64,
    from: ClientId,
    to: ClientId,
    plaintext: &[u8],
) -> Result<Vec<u8>> {
    let c = ChaCha20Poly1305::new(&Key::from(*key));
    let (nonce, aad) = nonce_and_aad(round, from, to);
    c.encrypt(
        &nonce,
        Payload {
            msg: plaintext,
            aad: &aad,
        },
    )
    .map_err(|_| Error::Malformed {
        reason: "encryption failed",
    })
}

/// Decrypt and authenticate a ciphertext sent by `from` to `to`.
pub(crate) fn open(
    key: &[u8; 32],
    round: u64,
    from: ClientId,
    to: ClientId,
    ciphertext: &[u8],
) -> Result<Vec<u8>> {
    let c = ChaCha20Poly1305::new(&Key::from(*key));
    let (nonce, aad) = nonce_and_aad(round, from, to);
    c.decrypt(
        &nonce,
        Payload {
            msg: ciphertext,
            aad: &aad,
        },
    )
    .map_err(|_| Error::BadCiphertext { from, to })
}
