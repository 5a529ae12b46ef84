//! Deterministic random models for tests and benchmarks.

use counterweight_zkml_verifier::{Circuit, LayerKind, LayerSpec, Requant};

use crate::compile::{MIN_BIAS_BITS, MULTIPLIER_BITS};

use crate::model::{LayerWeights, SecretModel};

/// A tiny deterministic generator (SplitMix64).
#[derive(Debug, Clone)]
pub struct TestRng(u64);

impl TestRng {
    /// Seeded generator.
    pub fn new(seed: u64) -> Self {
        Self(seed)
    }
    /// Next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    /// Uniform in `lo..=hi`.
    pub fn range(&mut self, lo: i64, hi: i64) -> i64 {
        lo + (self.next_u64() % ((hi - lo + 1) as u64)) as i64
    }
    /// `n` int8 values in `lo..=hi`.
    pub fn i8s(&mut self, n: usize, lo: i8, hi: i8) -> Vec<i8> {
        (0..n)
            .map(|_| self.range(i64::from(lo), i64::from(hi)) as i8)
            .collect()
    }
}

fn requant(rng: &mut TestRng, n: usize, dot: usize) -> Vec<Requant> {
    // Scale so a typical accumulator (about sqrt(dot) * 64 * 64) lands near 64.
    let typical = (dot as f64).sqrt() * 4096.0;
    let ratio = 64.0 / typical;
    // Multipliers of MULTIPLIER_BITS bits, like the ones `zk register` produces.
    let top = MULTIPLIER_BITS as i32 - 1;
    let shift = (f64::from(top) - ratio.log2()).ceil() as i32;
    (0..n)
        .map(|_| {
            let jitter = rng.range(0, 1 << (top - 6)) as u32;
            Requant {
                multiplier: ((ratio * 2f64.powi(shift)) as u32)
                    .saturating_add(jitter)
                    .min((1 << MULTIPLIER_BITS) - 1),
                shift: (shift + rng.range(0, 1) as i32) as u8,
            }
        })
        .collect()
}

/// A random MLP with the given widths (ReLU between layers, none after the last).
pub fn random_mlp(widths: &[usize], seed: u64) -> SecretModel {
    let mut rng = TestRng::new(seed);
    let mut layers = Vec::new();
    let mut weights = Vec::new();
    for (i, w) in widths.windows(2).enumerate() {
        let (fin, fout) = (w[0], w[1]);
        layers.push(LayerSpec {
            kind: LayerKind::Linear {
                in_features: fin as u32,
                out_features: fout as u32,
            },
            relu: i + 2 < widths.len(),
            requant: requant(&mut rng, fout, fin),
            bias_bits: MIN_BIAS_BITS,
        });
        weights.push(LayerWeights {
            weight: rng.i8s(fin * fout, -127, 127),
            bias: (0..fout).map(|_| rng.range(-5000, 5000) as i32).collect(),
        });
    }
    let circuit = Circuit {
        input_len: widths[0] as u32,
        layers,
    };
    SecretModel::new(circuit, weights).expect("consistent random model")
}

/// The anchor CNN shape: conv 1→4 3×3 on 28×28, ReLU, linear 2704→10.
pub fn random_cnn(seed: u64) -> SecretModel {
    let mut rng = TestRng::new(seed);
    let conv = LayerSpec {
        kind: LayerKind::Conv2d {
            in_channels: 1,
            in_height: 28,
            in_width: 28,
            out_channels: 4,
            kernel: [3, 3],
            stride: [1, 1],
            padding: [0, 0],
        },
        relu: true,
        requant: requant(&mut rng, 4, 9),
        bias_bits: MIN_BIAS_BITS,
    };
    let fc = LayerSpec {
        kind: LayerKind::Linear {
            in_features: 2704,
            out_features: 10,
        },
        relu: false,
        requant: requant(&mut rng, 10, 2704),
        bias_bits: MIN_BIAS_BITS,
    };
    let weights = vec![
        LayerWeights {
            weight: rng.i8s(36, -127, 127),
            bias: (0..4).map(|_| rng.range(-500, 500) as i32).collect(),
        },
        LayerWeights {
            weight: rng.i8s(27040, -127, 127),
            bias: (0..10).map(|_| rng.range(-5000, 5000) as i32).collect(),
        },
    ];
    let circuit = Circuit {
        input_len: 784,
        layers: vec![conv, fc],
    };
    SecretModel::new(circuit, weights).expect("consistent random model")
}
