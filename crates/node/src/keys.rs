//! The validator's consensus key on disk (hex of the 32-byte ed25519 seed, owner-only file).

use crate::error::{Error, Result};
use commonware_codec::{DecodeExt as _, Encode as _};
use commonware_cryptography::{Signer as _, ed25519};
use std::path::Path;

/// Parse a hex ed25519 public key.
///
/// # Errors
/// [`Error::Key`] if it is not 32 bytes of hex or not a valid point.
pub fn parse_public_key(text: &str) -> Result<ed25519::PublicKey> {
    let bytes = hex::decode(text.trim().trim_start_matches("0x"))
        .map_err(|e| Error::Key(format!("public key is not hex: {e}")))?;
    ed25519::PublicKey::decode(commonware_codec::Copying(bytes.as_slice()))
        .map_err(|e| Error::Key(format!("invalid public key: {e}")))
}

/// Hex of a public key.
pub fn public_key_hex(key: &ed25519::PublicKey) -> String {
    hex::encode(key.encode())
}

/// Parse a hex private key (the 32-byte seed).
///
/// # Errors
/// [`Error::Key`] if it is not 32 bytes of hex.
pub fn parse_private_key(text: &str) -> Result<ed25519::PrivateKey> {
    let bytes = hex::decode(text.trim().trim_start_matches("0x"))
        .map_err(|e| Error::Key(format!("private key is not hex: {e}")))?;
    ed25519::PrivateKey::decode(commonware_codec::Copying(bytes.as_slice()))
        .map_err(|e| Error::Key(format!("invalid private key: {e}")))
}

/// Hex of a private key's seed.
pub fn private_key_hex(key: &ed25519::PrivateKey) -> String {
    hex::encode(key.encode())
}

/// The 32 raw bytes of a public key (the chain's `Address` of that key).
pub fn public_key_bytes(key: &ed25519::PublicKey) -> [u8; 32] {
    let mut out = [0u8; 32];
    let encoded = key.encode();
    out.copy_from_slice(&encoded[..32]);
    out
}

/// Generate a fresh key from the operating system's randomness.
pub fn generate() -> ed25519::PrivateKey {
    loop {
        let seed: [u8; 32] = rand::random();
        if let Ok(key) = ed25519::PrivateKey::decode(commonware_codec::Copying(seed.as_slice())) {
            return key;
        }
    }
}

/// Read the validator key at `path`.
///
/// # Errors
/// I/O errors and malformed keys.
pub fn read_private_key(path: &Path) -> Result<ed25519::PrivateKey> {
    let text = std::fs::read_to_string(path).map_err(|source| Error::Io {
        path: path.to_path_buf(),
        source,
    })?;
    parse_private_key(&text)
}

/// Write the validator key to `path` with owner-only permissions.
///
/// # Errors
/// I/O errors.
pub fn write_private_key(path: &Path, key: &ed25519::PrivateKey) -> Result<()> {
    let io = |source| Error::Io {
        path: path.to_path_buf(),
        source,
    };
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).map_err(io)?;
    }
    std::fs::write(path, format!("{}\n", private_key_hex(key))).map_err(io)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600)).map_err(io)?;
    }
    Ok(())
}

/// The public key of a private key.
pub fn public_key(key: &ed25519::PrivateKey) -> ed25519::PublicKey {
    key.public_key()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_round_trip_and_reject_garbage() {
        let key = ed25519::PrivateKey::from_seed(7);
        let again = parse_private_key(&private_key_hex(&key)).unwrap();
        assert_eq!(public_key(&again), public_key(&key));
        let pk = public_key(&key);
        assert_eq!(parse_public_key(&public_key_hex(&pk)).unwrap(), pk);
        assert!(parse_public_key("zz").is_err());
        assert!(parse_public_key("abcd").is_err());
        assert!(parse_private_key("").is_err());
    }
}
