//! Decoding the `model` crate's canonical architecture encoding.

use counterweight_model::{Architecture, Conv2d, Layer, Linear, MAX_LAYERS, Pool2d};

struct Reader<'a> {
    bytes: &'a [u8],
}

impl Reader<'_> {
    fn next(&mut self) -> Option<usize> {
        let (head, rest) = self.bytes.split_first_chunk::<8>()?;
        self.bytes = rest;
        usize::try_from(u64::from_le_bytes(*head)).ok()
    }

    fn pair(&mut self) -> Option<[usize; 2]> {
        Some([self.next()?, self.next()?])
    }
}

/// Decodes [`Architecture::canonical_bytes`] and validates the result; `None` if the bytes
/// are not exactly the canonical encoding of a valid architecture.
pub fn decode_architecture(bytes: &[u8]) -> Option<Architecture> {
    let mut r = Reader { bytes };
    let rank = r.next()?;
    if rank == 0 || rank > 3 {
        return None;
    }
    let input: Vec<usize> = (0..rank).map(|_| r.next()).collect::<Option<_>>()?;
    let count = r.next()?;
    if count > MAX_LAYERS {
        return None;
    }
    let mut layers = Vec::with_capacity(count);
    for _ in 0..count {
        let layer = match r.next()? {
            1 => Layer::Linear(Linear {
                in_features: r.next()?,
                out_features: r.next()?,
            }),
            2 => Layer::Conv2d(Conv2d {
                in_channels: r.next()?,
                out_channels: r.next()?,
                kernel: r.pair()?,
                stride: r.pair()?,
                padding: r.pair()?,
            }),
            3 => Layer::Relu,
            4 => Layer::MaxPool2d(Pool2d {
                kernel: r.pair()?,
                stride: r.pair()?,
            }),
            5 => Layer::AvgPool2d(Pool2d {
                kernel: r.pair()?,
                stride: r.pair()?,
            }),
            6 => Layer::Flatten,
            7 => Layer::Softmax,
            _ => return None,
        };
        layers.push(layer);
    }
    if !r.bytes.is_empty() {
        return None;
    }
    let arch = Architecture::new(input, layers).ok()?;
    (arch.canonical_bytes() == bytes).then_some(arch)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_rejects_trailing_bytes() {
        let arch = Architecture::new(
            vec![64],
            vec![
                Layer::Linear(Linear {
                    in_features: 64,
                    out_features: 16,
                }),
                Layer::Relu,
                Layer::Linear(Linear {
                    in_features: 16,
                    out_features: 10,
                }),
            ],
        )
        .unwrap();
        let bytes = arch.canonical_bytes();
        assert_eq!(decode_architecture(&bytes), Some(arch));
        let mut longer = bytes.clone();
        longer.push(0);
        assert_eq!(decode_architecture(&longer), None);
        assert_eq!(decode_architecture(&bytes[..bytes.len() - 8]), None);
    }
}
