//! Hex helpers for the wire format: lowercase output, optional `0x` on input.

/// Encode bytes as lowercase hex without a prefix.
pub fn encode(bytes: impl AsRef<[u8]>) -> String {
    hex::encode(bytes)
}

/// Decode hex, accepting an optional `0x`/`0X` prefix.
///
/// # Errors
/// [`hex::FromHexError`] when the string has odd length or a non-hex character.
pub fn decode(text: &str) -> Result<Vec<u8>, hex::FromHexError> {
    let text = text.trim();
    let text = text
        .strip_prefix("0x")
        .or_else(|| text.strip_prefix("0X"))
        .unwrap_or(text);
    hex::decode(text)
}

/// Decode hex into exactly `N` bytes (hashes, addresses).
///
/// # Errors
/// [`hex::FromHexError::InvalidStringLength`] when the length is wrong, or any decoding error.
pub fn decode_array<const N: usize>(text: &str) -> Result<[u8; N], hex::FromHexError> {
    let bytes = decode(text)?;
    <[u8; N]>::try_from(bytes.as_slice()).map_err(|_| hex::FromHexError::InvalidStringLength)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_with_and_without_prefix() {
        assert_eq!(decode("0xabCD").unwrap(), vec![0xab, 0xcd]);
        assert_eq!(decode("abcd").unwrap(), vec![0xab, 0xcd]);
        assert!(decode("abc").is_err());
        assert!(decode("zz").is_err());
    }

    #[test]
    fn decode_array_checks_length() {
        assert_eq!(decode_array::<2>("0102").unwrap(), [1, 2]);
        assert!(decode_array::<3>("0102").is_err());
    }
}
