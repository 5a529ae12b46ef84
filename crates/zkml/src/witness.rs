//! The witness: every layer's int8 input, i64 accumulators and the bit matrix that proves the
//! requantisation and clamp.

use counterweight_zkml_verifier::LayerGeom;

use crate::error::{Error, Result};
use crate::model::LayerWeights;

/// One layer's witness.
#[derive(Debug, Clone)]
pub(crate) struct LayerWitness {
    pub(crate) input: Vec<i8>,
    /// Accumulators on padded rows `o · 2^p_vars + p` (padding rows follow the same formula).
    pub(crate) acc: Vec<i64>,
    /// Row-major bit matrix, `2^j_vars` columns per row.
    pub(crate) bits: Vec<u8>,
    pub(crate) output: Vec<i8>,
}

fn put_bits(row: &mut [u8], start: usize, n: usize, v: u128) {
    for j in 0..n {
        row[start + j] = ((v >> j) & 1) as u8;
    }
}

/// Evaluate one layer with the fixed-point semantics and build its witness.
pub(crate) fn layer(
    g: &LayerGeom,
    w: &LayerWeights,
    input: &[i8],
    index: usize,
) -> Result<LayerWitness> {
    let rows = 1usize << g.row_vars();
    let pad_p = 1usize << g.p_vars;
    let cols = 1usize << g.j_vars;
    let mut acc = vec![0i64; rows];
    for o in 0..g.out_channels {
        let wrow = &w.weight[o * g.dot..(o + 1) * g.dot];
        let b = i64::from(w.bias[o]);
        for p in 0..pad_p {
            let mut a = b;
            if p < g.spatial {
                for (k, &wk) in wrow.iter().enumerate() {
                    if wk != 0
                        && let Some(i) = g.wire(k, p)
                    {
                        a += i64::from(wk) * i64::from(input[i]);
                    }
                }
            }
            acc[o * pad_p + p] = a;
        }
    }
    let mut bits = vec![0u8; rows * cols];
    let mut output = vec![0i8; g.out_len()];
    let (lo, hi) = (g.lo as i128, g.hi() as i128);
    let s = g.shift as u32;
    for (row, &a) in acc.iter().enumerate() {
        let Some(flat) = g.flat(row) else { continue };
        let m = g.mprime[g.channel(row)] as i128;
        let t = i128::from(a) * m + (1i128 << (s - 1));
        let qp = t >> s;
        let rem = t - (qp << s);
        let q = qp.clamp(lo, hi);
        let over = (qp - hi).max(0);
        let under = (lo - qp).max(0);
        if over >= 1i128 << g.e_bits || under >= 1i128 << g.e_bits {
            return Err(Error::Range { layer: index });
        }
        let r = &mut bits[row * cols..(row + 1) * cols];
        put_bits(r, 0, g.q_bits, (q - lo) as u128);
        put_bits(r, g.col_rem(), g.shift, rem as u128);
        put_bits(r, g.col_over(), g.e_bits, over as u128);
        put_bits(r, g.col_under(), g.e_bits, under as u128);
        r[g.col_flag_over()] = u8::from(over > 0);
        r[g.col_flag_under()] = u8::from(under > 0);
        output[flat] = q as i8;
    }
    Ok(LayerWitness {
        input: input.to_vec(),
        acc,
        bits,
        output,
    })
}

/// Run the whole model, keeping every layer's witness.
pub(crate) fn trace(
    geoms: &[LayerGeom],
    weights: &[LayerWeights],
    input: &[i8],
) -> Result<Vec<LayerWitness>> {
    let mut out: Vec<LayerWitness> = Vec::with_capacity(geoms.len());
    let mut x = input.to_vec();
    for (i, (g, w)) in geoms.iter().zip(weights).enumerate() {
        let lw = layer(g, w, &x, i)?;
        x = lw.output.clone();
        out.push(lw);
    }
    Ok(out)
}
