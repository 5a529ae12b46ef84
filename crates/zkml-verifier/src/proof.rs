//! Proof types and their canonical, size-limited encoding (format version 3).
//!
//! Layout: `"CWZP" ‖ version u16 ‖ witness rows ‖ layer proofs (last layer first) ‖ witness
//! batch ‖ weight batch`. Counts are u32 little endian; field elements are 32 bytes canonical
//! little endian; group elements are 64-byte uncompressed affine points (on-curve checked and
//! re-encoded, so each has one encoding). See `docs/zkml.md`.

use crate::circuit::MAX_LAYERS;
use crate::codec::{FR_BYTES, POINT_BYTES, Reader, Writer};
use crate::error::{Error, Result};
use crate::field::{Affine, Fr};

const PROOF_MAGIC: &[u8; 4] = b"CWZP";
/// Version of the proof encoding (and of the protocol it carries): 3. Versions 1 and 2 carried
/// a proof of each sumcheck round's sum, which version 3 derives instead; they are rejected.
pub const PROOF_FORMAT_VERSION: u16 = 3;
/// Largest accepted proof.
pub const MAX_PROOF_BYTES: usize = 1 << 20;
const MAX_ROUNDS: usize = 64;
const MAX_VECTOR: usize = 1 << 14;

/// Proof that a commitment `D` opens to zero: knowledge of `t` with `D = t·H`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ZeroProof {
    /// `k·H`.
    pub a: Affine,
    /// `k + c·t`.
    pub z: Fr,
}

/// One committed sumcheck round: commitments to the round polynomial's coefficients of degree
/// 1 and up. The constant term's commitment follows from `g(0) + g(1) = claim`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoundProof {
    /// Commitments to the coefficients of `x^1 .. x^degree`.
    pub coeffs: Vec<Affine>,
}

/// A committed sumcheck.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SumcheckProof {
    /// One entry per variable.
    pub rounds: Vec<RoundProof>,
}

/// Σ-protocol proof that commitments `X, Y, Z` satisfy `z = x·y`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProductProof {
    /// `α, β, δ`.
    pub points: [Affine; 3],
    /// `z1..z5`.
    pub z: [Fr; 5],
}

/// Σ-protocol proof that a committed vector (a Hyrax row combination) has a committed inner
/// product with a public vector.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DotProof {
    /// Commitment to the masking vector.
    pub delta: Affine,
    /// Commitment to the masking vector's inner product.
    pub beta: Affine,
    /// Response vector.
    pub z: Vec<Fr>,
    /// Response blinding for `delta`.
    pub z_delta: Fr,
    /// Response blinding for `beta`.
    pub z_beta: Fr,
}

/// Proof of one committed vector's batched evaluation claims.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BatchProof {
    /// Sumcheck reducing the claims to one point.
    pub sumcheck: SumcheckProof,
    /// Commitment to the vector's evaluation at that point.
    pub eval: Affine,
    /// Final sumcheck claim equals the public weight times `eval`.
    pub end: ZeroProof,
    /// Opening of `eval` against the row commitments.
    pub open: DotProof,
}

/// Proof of one layer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LayerProof {
    /// Commitment to `T = Σ_row eq(τ,row)·m'·acc`.
    pub t: Affine,
    /// Sumcheck over the accumulator rows.
    pub s1: SumcheckProof,
    /// Commitment to `acc~(ρ)`.
    pub acc: Affine,
    /// Closing relation of `s1`.
    pub s1_end: ZeroProof,
    /// Commitment to `b~(ρ_o)`.
    pub bias: Affine,
    /// Sumcheck over the dot-product index.
    pub s3: SumcheckProof,
    /// Commitment to `W~(ρ_k, ρ_o)`.
    pub w: Affine,
    /// For all but the first layer: commitments to the input claim and to `W~ · X~`, with the
    /// product proof.
    pub x: Option<(Affine, Affine, ProductProof)>,
    /// Closing relation of `s3`.
    pub s3_end: ZeroProof,
    /// Sumcheck over the bit matrix (relation, output claim, booleanity, clamp).
    pub s2: SumcheckProof,
    /// Commitments `B, F_over, F_under, B·F_over, B·F_under, B·B` at the sumcheck point.
    pub evals: [Affine; 6],
    /// Product proofs for the three products.
    pub products: [ProductProof; 3],
    /// Closing relation of `s2`.
    pub s2_end: ZeroProof,
}

/// A complete proof.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Proof {
    /// Hyrax row commitments of the witness bit vector.
    pub witness_rows: Vec<Affine>,
    /// Layer proofs, last layer first.
    pub layers: Vec<LayerProof>,
    /// Batched opening of the witness claims.
    pub witness: BatchProof,
    /// Batched opening of the weight claims.
    pub weights: BatchProof,
}

/// A group element: 64 bytes uncompressed affine. Version 2 compressed points to 32 bytes, but
/// decompressing costs a square root per point (about 9 µs on Grumpkin's base field, whose
/// 2-adicity is 28), which for a CNN proof was more than half of the verification time; an
/// uncompressed point costs only the curve-equation check.
fn get_point(r: &mut Reader<'_>) -> Result<Affine> {
    r.point()
}

fn put_point(w: &mut Writer, p: &Affine) {
    w.point(p);
}

fn put_zero(w: &mut Writer, z: &ZeroProof) {
    put_point(w, &z.a);
    w.fr(&z.z);
}
fn get_zero(r: &mut Reader<'_>) -> Result<ZeroProof> {
    Ok(ZeroProof {
        a: get_point(r)?,
        z: r.fr()?,
    })
}
fn put_sumcheck(w: &mut Writer, s: &SumcheckProof) {
    w.u32(s.rounds.len() as u32);
    for rd in &s.rounds {
        w.u8(rd.coeffs.len() as u8);
        for c in &rd.coeffs {
            put_point(w, c);
        }
    }
}
fn get_sumcheck(r: &mut Reader<'_>) -> Result<SumcheckProof> {
    let n = r.count("sumcheck rounds", MAX_ROUNDS, POINT_BYTES)?;
    let mut rounds = Vec::with_capacity(n);
    for _ in 0..n {
        let d = r.u8()? as usize;
        if d == 0 || d > 3 {
            return Err(Error::Shape {
                what: "round polynomial degree",
            });
        }
        let coeffs = (0..d).map(|_| get_point(r)).collect::<Result<_>>()?;
        rounds.push(RoundProof { coeffs });
    }
    Ok(SumcheckProof { rounds })
}
fn put_product(w: &mut Writer, p: &ProductProof) {
    p.points.iter().for_each(|q| put_point(w, q));
    p.z.iter().for_each(|z| w.fr(z));
}
fn get_product(r: &mut Reader<'_>) -> Result<ProductProof> {
    Ok(ProductProof {
        points: [get_point(r)?, get_point(r)?, get_point(r)?],
        z: [r.fr()?, r.fr()?, r.fr()?, r.fr()?, r.fr()?],
    })
}
fn put_batch(w: &mut Writer, b: &BatchProof) {
    put_sumcheck(w, &b.sumcheck);
    put_point(w, &b.eval);
    put_zero(w, &b.end);
    put_point(w, &b.open.delta);
    put_point(w, &b.open.beta);
    w.u32(b.open.z.len() as u32);
    b.open.z.iter().for_each(|z| w.fr(z));
    w.fr(&b.open.z_delta);
    w.fr(&b.open.z_beta);
}
fn get_batch(r: &mut Reader<'_>) -> Result<BatchProof> {
    let sumcheck = get_sumcheck(r)?;
    let eval = get_point(r)?;
    let end = get_zero(r)?;
    let delta = get_point(r)?;
    let beta = get_point(r)?;
    let n = r.count("opening vector", MAX_VECTOR, FR_BYTES)?;
    let z = (0..n).map(|_| r.fr()).collect::<Result<_>>()?;
    Ok(BatchProof {
        sumcheck,
        eval,
        end,
        open: DotProof {
            delta,
            beta,
            z,
            z_delta: r.fr()?,
            z_beta: r.fr()?,
        },
    })
}

impl Proof {
    /// Canonical encoding (the current [`PROOF_FORMAT_VERSION`]).
    pub fn encode(&self) -> Vec<u8> {
        let mut w = Writer::new();
        w.bytes(PROOF_MAGIC);
        w.u16(PROOF_FORMAT_VERSION);
        w.u32(self.witness_rows.len() as u32);
        self.witness_rows.iter().for_each(|p| put_point(&mut w, p));
        w.u32(self.layers.len() as u32);
        for l in &self.layers {
            put_point(&mut w, &l.t);
            put_sumcheck(&mut w, &l.s1);
            put_point(&mut w, &l.acc);
            put_zero(&mut w, &l.s1_end);
            put_point(&mut w, &l.bias);
            put_sumcheck(&mut w, &l.s3);
            put_point(&mut w, &l.w);
            match &l.x {
                None => w.u8(0),
                Some((x, wx, p)) => {
                    w.u8(1);
                    put_point(&mut w, x);
                    put_point(&mut w, wx);
                    put_product(&mut w, p);
                }
            }
            put_zero(&mut w, &l.s3_end);
            put_sumcheck(&mut w, &l.s2);
            l.evals.iter().for_each(|p| put_point(&mut w, p));
            l.products.iter().for_each(|p| put_product(&mut w, p));
            put_zero(&mut w, &l.s2_end);
        }
        put_batch(&mut w, &self.witness);
        put_batch(&mut w, &self.weights);
        w.into_bytes()
    }

    /// Decode a proof; never panics, whatever the bytes.
    ///
    /// # Errors
    /// Oversized, truncated, non-canonical or trailing-byte encodings.
    pub fn decode(bytes: &[u8]) -> Result<Self> {
        if bytes.len() > MAX_PROOF_BYTES {
            return Err(Error::TooLarge {
                what: "proof",
                got: bytes.len() as u64,
                max: MAX_PROOF_BYTES as u64,
            });
        }
        let mut r = Reader::new(bytes);
        r.header(
            PROOF_MAGIC,
            "proof",
            PROOF_FORMAT_VERSION,
            "prove again with this build",
        )?;
        let n = r.count("witness rows", MAX_VECTOR, POINT_BYTES)?;
        let witness_rows = (0..n).map(|_| get_point(&mut r)).collect::<Result<_>>()?;
        let n = r.count("layers", MAX_LAYERS, POINT_BYTES)?;
        let mut layers = Vec::with_capacity(n);
        for _ in 0..n {
            let t = get_point(&mut r)?;
            let s1 = get_sumcheck(&mut r)?;
            let acc = get_point(&mut r)?;
            let s1_end = get_zero(&mut r)?;
            let bias = get_point(&mut r)?;
            let s3 = get_sumcheck(&mut r)?;
            let w = get_point(&mut r)?;
            let x = match r.u8()? {
                0 => None,
                1 => Some((get_point(&mut r)?, get_point(&mut r)?, get_product(&mut r)?)),
                _ => return Err(Error::BadHeader { what: "option tag" }),
            };
            let s3_end = get_zero(&mut r)?;
            let s2 = get_sumcheck(&mut r)?;
            let evals = [
                get_point(&mut r)?,
                get_point(&mut r)?,
                get_point(&mut r)?,
                get_point(&mut r)?,
                get_point(&mut r)?,
                get_point(&mut r)?,
            ];
            let products = [
                get_product(&mut r)?,
                get_product(&mut r)?,
                get_product(&mut r)?,
            ];
            let s2_end = get_zero(&mut r)?;
            layers.push(LayerProof {
                t,
                s1,
                acc,
                s1_end,
                bias,
                s3,
                w,
                x,
                s3_end,
                s2,
                evals,
                products,
                s2_end,
            });
        }
        let witness = get_batch(&mut r)?;
        let weights = get_batch(&mut r)?;
        r.finish()?;
        Ok(Self {
            witness_rows,
            layers,
            witness,
            weights,
        })
    }
}

#[cfg(test)]
mod tests {
    use ark_ec::CurveGroup;

    use super::*;
    use crate::generators::Generators;

    fn sample() -> Proof {
        let g = Generators::get();
        let p = |i: u64| (g.g * Fr::from(i) + g.h).into_affine();
        let zero = |i| ZeroProof {
            a: p(i),
            z: Fr::from(i),
        };
        let sc = |n: u64| SumcheckProof {
            rounds: (0..n)
                .map(|i| RoundProof {
                    coeffs: vec![p(i), p(i + 1), g.vec[0]],
                })
                .collect(),
        };
        let prod = ProductProof {
            points: [p(3), p(4), g.h],
            z: [1u64, 2, 3, 4, 5].map(Fr::from),
        };
        let batch = BatchProof {
            sumcheck: sc(3),
            eval: p(9),
            end: zero(10),
            open: DotProof {
                delta: p(11),
                beta: p(12),
                z: vec![Fr::from(13u64); 4],
                z_delta: Fr::from(14u64),
                z_beta: -Fr::from(15u64),
            },
        };
        let layer = |x| LayerProof {
            t: p(1),
            s1: sc(2),
            acc: p(2),
            s1_end: zero(3),
            bias: p(4),
            s3: sc(1),
            w: p(5),
            x,
            s3_end: zero(6),
            s2: sc(4),
            evals: [p(1), p(2), p(3), p(4), p(5), g.g],
            products: [prod.clone(), prod.clone(), prod.clone()],
            s2_end: zero(7),
        };
        Proof {
            witness_rows: vec![p(20), p(21)],
            layers: vec![layer(Some((p(30), p(31), prod.clone()))), layer(None)],
            witness: batch.clone(),
            weights: batch,
        }
    }

    #[test]
    fn round_trips_and_rejects_other_versions() {
        let proof = sample();
        let v2 = proof.encode();
        assert_eq!(v2[4..6], PROOF_FORMAT_VERSION.to_le_bytes());
        assert_eq!(Proof::decode(&v2).unwrap(), proof);
        for version in [1u8, 2, 4] {
            let mut other = v2.clone();
            other[4] = version;
            let err = Proof::decode(&other).unwrap_err();
            assert!(matches!(err, Error::Version { got, .. } if got == u16::from(version)));
        }
        let mut trailing = v2;
        trailing.push(0);
        assert!(Proof::decode(&trailing).is_err());
    }
}
