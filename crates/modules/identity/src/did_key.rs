//! `did:key` identifiers for ed25519 accounts.

use counterweight_types::Address;
use multibase::Base;
use ssi_jwk::{Base64urlUInt, JWK, OctetParams, Params};
use ssi_multicodec::{ED25519_PUB, MultiEncoded, MultiEncodedBuf};

const DID_KEY_PREFIX: &str = "did:key:";

/// Returns the multibase (base58btc) multicodec form of an ed25519 key: `z6Mk...`.
pub fn key_multibase(key: &Address) -> String {
    let encoded = MultiEncodedBuf::encode_bytes(ED25519_PUB, &key.0);
    multibase::encode(Base::Base58Btc, encoded.as_bytes())
}

/// Returns the `did:key` of an account (its ed25519 public key): `did:key:z6Mk...`.
pub fn did_key(address: &Address) -> String {
    format!("{DID_KEY_PREFIX}{}", key_multibase(address))
}

/// Parses a `z6Mk...` ed25519 multikey back to its key; only the canonical encoding is
/// accepted.
pub(crate) fn key_of_multibase(text: &str) -> Option<Address> {
    if !text.starts_with('z') || text.len() > 64 {
        return None;
    }
    let (base, bytes) = multibase::decode(text).ok()?;
    if base != Base::Base58Btc {
        return None;
    }
    let multi = MultiEncoded::new(&bytes).ok()?;
    let (codec, data) = multi.parts();
    if codec != ED25519_PUB {
        return None;
    }
    let address = Address(<[u8; 32]>::try_from(data).ok()?);
    (key_multibase(&address) == text).then_some(address)
}

/// Returns the account of a `did:key` naming an ed25519 key, or `None` for anything else
/// (another method, another key type, a DID URL with path or fragment, a non-canonical
/// encoding).
pub fn address_of_did(did: &str) -> Option<Address> {
    key_of_multibase(did.strip_prefix(DID_KEY_PREFIX)?)
}

/// Returns the public JWK of an ed25519 key (for JWS verification).
pub(crate) fn public_jwk(key: &Address) -> JWK {
    JWK::from(Params::OKP(OctetParams {
        curve: "Ed25519".to_owned(),
        public_key: Base64urlUInt(key.0.to_vec()),
        private_key: None,
    }))
}

/// Whether 32 bytes are a valid ed25519 public key (a point on the curve).
pub(crate) fn is_valid_key(key: &Address) -> bool {
    ssi_jwk::ed25519_parse(&key.0).is_ok()
}

/// The DID URL of a DID's verification method for `key`: `did:key:z...#z...`.
pub fn verification_method_id(did: &Address, key: &Address) -> String {
    format!("{}#{}", did_key(did), key_multibase(key))
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    #[test]
    fn did_key_matches_the_published_ed25519_prefix() {
        let did = did_key(&Address([7; 32]));
        assert!(did.starts_with("did:key:z6Mk"), "{did}");
        assert_eq!(address_of_did(&did), Some(Address([7; 32])));
    }

    #[test]
    fn other_dids_are_refused() {
        let did = did_key(&Address([7; 32]));
        for bad in [
            "did:web:example.com".to_owned(),
            format!("{did}#frag"),
            did.replace("did:key:z", "did:key:m"),
            did[..did.len() - 1].to_owned(),
            "did:key:".to_owned(),
        ] {
            assert_eq!(address_of_did(&bad), None, "{bad}");
        }
    }

    proptest! {
        #[test]
        fn did_key_round_trips(bytes in any::<[u8; 32]>()) {
            let address = Address(bytes);
            prop_assert_eq!(address_of_did(&did_key(&address)), Some(address));
        }
    }
}
