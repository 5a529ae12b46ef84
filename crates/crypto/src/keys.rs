//! Ed25519 signing keys and transaction signatures.

use commonware_codec::{Copying, DecodeExt as _, Encode as _, ReadExt as _};
use commonware_cryptography::{
    BatchEntry, BatchVerifier as _, Signer as _, Verifier as _,
    ed25519::{PrivateKey, PublicKey, Signature as EdSignature},
};
use commonware_parallel::Sequential;
use counterweight_types::{Address, Hash, Signature, SignedTransaction, Transaction, domain};
use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng as _;

use crate::error::{Error, Result};

/// An ed25519 signing key. Its [`Address`] is its public key.
#[derive(Clone)]
pub struct SigningKey {
    key: PrivateKey,
    address: Address,
}

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SigningKey")
            .field("address", &self.address)
            .finish_non_exhaustive()
    }
}

impl SigningKey {
    /// Builds a key from its 32 secret bytes (for example freshly drawn from the OS).
    pub fn from_bytes(secret: [u8; 32]) -> Self {
        // Any 32 bytes are a valid ed25519 secret key, so this read cannot fail.
        let key = PrivateKey::read(&mut Copying(&secret[..]))
            .expect("every 32-byte string is an ed25519 secret key");
        Self::from_private(key)
    }

    /// Builds a key from a secret byte slice.
    ///
    /// # Errors
    /// [`Error::SecretKeyLength`] unless the slice has 32 bytes.
    pub fn from_slice(secret: &[u8]) -> Result<Self> {
        let bytes: [u8; 32] = secret
            .try_into()
            .map_err(|_| Error::SecretKeyLength(secret.len()))?;
        Ok(Self::from_bytes(bytes))
    }

    /// Derives a key deterministically from a seed. For tests and dev accounts only.
    pub fn from_seed(seed: u64) -> Self {
        Self::from_private(PrivateKey::from_seed(seed))
    }

    fn from_private(key: PrivateKey) -> Self {
        let mut address = [0u8; 32];
        address.copy_from_slice(key.public_key().as_ref());
        Self {
            key,
            address: Address(address),
        }
    }

    /// Returns the 32 secret bytes (store them with care).
    pub fn to_bytes(&self) -> [u8; 32] {
        let mut out = [0u8; 32];
        out.copy_from_slice(&self.key.encode());
        out
    }

    /// Returns the account address (the public key).
    pub fn address(&self) -> Address {
        self.address
    }

    /// Signs `msg` under the domain tag `namespace`.
    pub fn sign_message(&self, namespace: &[u8], msg: &[u8]) -> Signature {
        let sig = self.key.sign(namespace, msg);
        let mut out = [0u8; 64];
        out.copy_from_slice(sig.as_ref());
        Signature(out)
    }

    /// Signs a transaction under [`domain::TX_SIGNATURE`].
    pub fn sign_tx(&self, tx: Transaction) -> SignedTransaction {
        let signature = self.sign_message(domain::TX_SIGNATURE, &tx.to_bytes());
        SignedTransaction { tx, signature }
    }
}

fn public_key(address: &Address) -> Result<PublicKey> {
    PublicKey::decode(Copying(&address.0[..])).map_err(|_| Error::InvalidPublicKey(*address))
}

fn ed_signature(sig: &Signature) -> EdSignature {
    // Any 64 bytes decode as a signature; validity is checked by verification.
    EdSignature::decode(Copying(&sig.0[..])).expect("every 64-byte string decodes as a signature")
}

/// Verifies a signature by `address` over `msg` under the domain tag `namespace`.
pub fn verify_message(address: &Address, namespace: &[u8], msg: &[u8], sig: &Signature) -> bool {
    public_key(address).is_ok_and(|pk| pk.verify(namespace, msg, &ed_signature(sig)))
}

/// Verifies one transaction's signature.
///
/// # Errors
/// [`Error::BadSignature`] (index 0) if the sender is not a valid key or the signature fails.
pub fn verify_tx(stx: &SignedTransaction) -> Result<()> {
    if verify_message(
        &stx.tx.sender,
        domain::TX_SIGNATURE,
        &stx.tx.to_bytes(),
        &stx.signature,
    ) {
        Ok(())
    } else {
        Err(Error::BadSignature {
            index: 0,
            sender: stx.tx.sender,
        })
    }
}

/// Verifies all transactions' signatures at once (ed25519 batch verification).
///
/// The batch coefficients come from a ChaCha20 stream seeded by a hash of every key, message
/// and signature in the batch, so the check is deterministic yet cannot be gamed by choosing
/// signatures after the coefficients. An empty slice verifies.
///
/// # Errors
/// [`Error::BadSignature`] naming the first transaction whose signature fails on its own.
pub fn verify_batch(txs: &[SignedTransaction]) -> Result<()> {
    if txs.is_empty() {
        return Ok(());
    }
    let mut items = Vec::with_capacity(txs.len());
    let mut seed = Vec::with_capacity(txs.len() * 3);
    for (index, stx) in txs.iter().enumerate() {
        let pk = public_key(&stx.tx.sender).map_err(|_| Error::BadSignature {
            index,
            sender: stx.tx.sender,
        })?;
        let msg = stx.tx.to_bytes();
        items.push((pk, ed_signature(&stx.signature), msg));
    }
    for (pk, sig, msg) in &items {
        seed.push(pk.as_ref().to_vec());
        seed.push(sig.as_ref().to_vec());
        seed.push(msg.to_vec());
    }
    let parts: Vec<&[u8]> = seed.iter().map(Vec::as_slice).collect();
    let seed = Hash::digest(domain::BATCH_VERIFY_SEED, &parts);
    let mut rng = ChaCha20Rng::from_seed(seed.0);
    let ok = PublicKey::verify_batch(
        &mut rng,
        &items,
        |_, (pk, sig, msg)| BatchEntry {
            namespace: domain::TX_SIGNATURE,
            message: msg,
            public_key: pk,
            signature: sig,
        },
        &Sequential,
    );
    if ok {
        return Ok(());
    }
    for (index, (pk, sig, msg)) in items.iter().enumerate() {
        if !pk.verify(domain::TX_SIGNATURE, msg, sig) {
            return Err(Error::BadSignature {
                index,
                sender: txs[index].tx.sender,
            });
        }
    }
    // Every signature verified on its own, so the batch failure was a negligible-probability
    // false negative of the randomised check; the individual checks are authoritative.
    Ok(())
}

#[cfg(test)]
mod tests {
    use bytes::Bytes;
    use counterweight_types::{Call, ChainId, ModuleId};

    use super::*;

    fn tx(key: &SigningKey, nonce: u64) -> SignedTransaction {
        key.sign_tx(Transaction {
            chain_id: ChainId::new("t").expect("valid"),
            sender: key.address(),
            nonce,
            fee: 1,
            call: Call {
                module: ModuleId(1),
                payload: Bytes::from_static(b"p"),
            },
        })
    }

    #[test]
    fn batch_verification_names_the_first_bad_signature() {
        let keys: Vec<SigningKey> = (0..6).map(SigningKey::from_seed).collect();
        let mut txs: Vec<SignedTransaction> = keys.iter().map(|k| tx(k, 0)).collect();
        assert_eq!(verify_batch(&txs), Ok(()));
        assert_eq!(verify_batch(&[]), Ok(()));
        txs[4].tx.nonce = 9;
        txs[2].signature = txs[3].signature;
        assert_eq!(
            verify_batch(&txs),
            Err(Error::BadSignature {
                index: 2,
                sender: keys[2].address()
            })
        );
    }

    #[test]
    fn signatures_are_bound_to_their_domain() {
        let key = SigningKey::from_seed(1);
        let stx = tx(&key, 0);
        let msg = stx.tx.to_bytes();
        assert!(verify_message(
            &key.address(),
            domain::TX_SIGNATURE,
            &msg,
            &stx.signature
        ));
        assert!(!verify_message(
            &key.address(),
            domain::BLOCK_HASH,
            &msg,
            &stx.signature
        ));
    }

    #[test]
    fn invalid_sender_keys_fail_verification_without_panic() {
        let key = SigningKey::from_seed(1);
        let mut stx = tx(&key, 0);
        // Not a valid curve point encoding.
        stx.tx.sender = Address([0xff; 32]);
        assert!(verify_tx(&stx).is_err());
        assert!(matches!(
            verify_batch(&[stx]),
            Err(Error::BadSignature { index: 0, .. })
        ));
    }

    #[test]
    fn keys_round_trip_through_their_secret_bytes() {
        let key = SigningKey::from_seed(5);
        let again = SigningKey::from_bytes(key.to_bytes());
        assert_eq!(again.address(), key.address());
        assert!(SigningKey::from_slice(&[0u8; 31]).is_err());
    }
}
