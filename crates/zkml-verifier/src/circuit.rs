//! The public description of a quantised model (architecture and requantisation parameters)
//! and everything the prover and verifier derive from it: shapes, bit layouts, wiring and the
//! layouts of the committed vectors.

use ark_ff::{Field, One, Zero};

use crate::error::{Error, Result};
#[cfg(test)]
use crate::field::mle_eval;
use crate::field::{Fr, eq_table, index_bits, log2_ceil};
use crate::generators::MAX_COLUMNS;

/// Most layers in a model.
pub const MAX_LAYERS: usize = 32;
/// Most entries of any activation tensor.
pub const MAX_TENSOR_LEN: usize = 1 << 20;
/// Most entries of a padded committed vector (weights or witness).
pub const MAX_COMMITTED_LEN: usize = 1 << 24;
/// Most terms of one dot product (in features or `in_channels · kh · kw`).
pub const MAX_DOT_LEN: usize = 1 << 16;

/// The shape of one weighted layer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LayerKind {
    /// `acc[o] = b[o] + Σ_k W[o][k] · x[k]`, weights `[out_features, in_features]`.
    Linear {
        /// Input features.
        in_features: u32,
        /// Output features.
        out_features: u32,
    },
    /// A 2-D convolution over `[in_channels, in_height, in_width]` with zero padding;
    /// weights `[out_channels, in_channels, kh, kw]`, output `[out_channels, oh, ow]` flattened.
    Conv2d {
        /// Input channels.
        in_channels: u32,
        /// Input height.
        in_height: u32,
        /// Input width.
        in_width: u32,
        /// Output channels.
        out_channels: u32,
        /// Kernel `[height, width]`.
        kernel: [u32; 2],
        /// Stride `[vertical, horizontal]`.
        stride: [u32; 2],
        /// Zero padding on both sides `[vertical, horizontal]`.
        padding: [u32; 2],
    },
}

/// Requantisation of one output channel: `q = (acc · multiplier + 2^(shift-1)) >> shift`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Requant {
    /// Positive multiplier below 2^31.
    pub multiplier: u32,
    /// Shift in `1..=62`.
    pub shift: u8,
}

/// One weighted layer followed by requantisation and a clamp to int8 (`[0, 127]` with ReLU).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LayerSpec {
    /// Shape.
    pub kind: LayerKind,
    /// Whether a ReLU is fused into the clamp.
    pub relu: bool,
    /// One requantisation per output channel.
    pub requant: Vec<Requant>,
    /// Public bound on the committed biases: every `|b| < 2^bias_bits` (`1..=32`). With the
    /// int8 bound on weights and inputs it bounds the accumulator, which sizes the clamp's
    /// overflow and underflow range checks. The prover refuses to commit biases above it.
    pub bias_bits: u8,
}

/// The public, integer-only description of a quantised model.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Circuit {
    /// Length of the flattened int8 input.
    pub input_len: u32,
    /// The layers in order.
    pub layers: Vec<LayerSpec>,
}

/// Convolution geometry, resolved.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConvGeom {
    /// Input channels, height, width.
    pub cin: usize,
    /// Input height.
    pub h: usize,
    /// Input width.
    pub w: usize,
    /// Kernel height.
    pub kh: usize,
    /// Kernel width.
    pub kw: usize,
    /// Strides.
    pub sy: usize,
    /// Horizontal stride.
    pub sx: usize,
    /// Padding.
    pub py: usize,
    /// Horizontal padding.
    pub px: usize,
    /// Output height.
    pub oh: usize,
    /// Output width.
    pub ow: usize,
}

/// Everything derived from one layer's spec that the protocol needs.
///
/// Accumulators are indexed by rows `row = o · 2^p_vars + p` (output channel `o`, output
/// position `p`); the witness matrix `B` of a layer has one row per accumulator and `2^j_vars`
/// bit columns laid out as: `q_bits` bits of `q - lo`, `shift` bits of the rounding remainder,
/// `e_bits` bits of the overflow above `hi`, `e_bits` bits of the underflow below `lo`, then the
/// two clamp flags.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LayerGeom {
    /// Flattened input length.
    pub in_len: usize,
    /// Output channels.
    pub out_channels: usize,
    /// Output positions per channel (1 for linear layers).
    pub spatial: usize,
    /// Dot-product length.
    pub dot: usize,
    /// Variables of the output-channel index.
    pub o_vars: usize,
    /// Variables of the position index.
    pub p_vars: usize,
    /// Variables of the dot-product index.
    pub k_vars: usize,
    /// Variables of the bit-column index.
    pub j_vars: usize,
    /// Lower clamp bound (0 with ReLU, else -128).
    pub lo: i64,
    /// Bits of `q - lo` (7 with ReLU, else 8).
    pub q_bits: usize,
    /// Common shift `S` of the layer (largest channel shift).
    pub shift: usize,
    /// Bits of the overflow and underflow values.
    pub e_bits: usize,
    /// Per channel multiplier scaled to the common shift: `m · 2^(S - shift_c)`.
    pub mprime: Vec<u128>,
    /// Convolution geometry, if a convolution.
    pub conv: Option<ConvGeom>,
}

impl LayerGeom {
    /// Flattened output length.
    pub fn out_len(&self) -> usize {
        self.out_channels * self.spatial
    }
    /// Variables of the row (accumulator) index.
    pub fn row_vars(&self) -> usize {
        self.o_vars + self.p_vars
    }
    /// Upper clamp bound.
    pub fn hi(&self) -> i64 {
        127
    }
    /// First column of the remainder bits.
    pub fn col_rem(&self) -> usize {
        self.q_bits
    }
    /// First column of the overflow bits.
    pub fn col_over(&self) -> usize {
        self.q_bits + self.shift
    }
    /// First column of the underflow bits.
    pub fn col_under(&self) -> usize {
        self.col_over() + self.e_bits
    }
    /// Column of the overflow flag.
    pub fn col_flag_over(&self) -> usize {
        self.col_under() + self.e_bits
    }
    /// Column of the underflow flag.
    pub fn col_flag_under(&self) -> usize {
        self.col_flag_over() + 1
    }
    /// Number of used bit columns.
    pub fn cols_used(&self) -> usize {
        self.col_flag_under() + 1
    }
    /// The flattened output index of a row, if the row is a real accumulator.
    pub fn flat(&self, row: usize) -> Option<usize> {
        let o = row >> self.p_vars;
        let p = row & ((1 << self.p_vars) - 1);
        (o < self.out_channels && p < self.spatial).then_some(o * self.spatial + p)
    }
    /// The output channel of a row.
    pub fn channel(&self, row: usize) -> usize {
        row >> self.p_vars
    }
    /// The input index read by dot-product term `k` at output position `p` (im2col wiring);
    /// `None` for padding and out-of-range indices.
    pub fn wire(&self, k: usize, p: usize) -> Option<usize> {
        if k >= self.dot || p >= self.spatial {
            return None;
        }
        match &self.conv {
            None => Some(k),
            Some(c) => {
                let kx = k % c.kw;
                let ky = (k / c.kw) % c.kh;
                let ic = k / (c.kw * c.kh);
                let ox = p % c.ow;
                let oy = p / c.ow;
                let iy = (oy * c.sy + ky).checked_sub(c.py)?;
                let ix = (ox * c.sx + kx).checked_sub(c.px)?;
                (iy < c.h && ix < c.w).then_some((ic * c.h + iy) * c.w + ix)
            }
        }
    }

    /// Row table `eq(tau, row) · [row is real]`.
    pub fn masked_eq_rows(&self, tau: &[Fr]) -> Vec<Fr> {
        let mut t = eq_table(tau);
        for (row, v) in t.iter_mut().enumerate() {
            if self.flat(row).is_none() {
                *v = Fr::zero();
            }
        }
        t
    }

    /// `Σ_row eq(τ,row)·[row real]·eq(ρ,row)·f(channel)` without building a row table: the
    /// real rows are a product of a channel range and a position range, and over a range
    /// `[0, n)` a product of per-bit weights sums in one pass over the bits
    /// ([`prefix_product_sum`]). `rho = None` sums the table itself (`eq(ρ,·) = 1`).
    pub fn masked_eq_eval(&self, tau: &[Fr], rho: Option<&[Fr]>, f: impl Fn(usize) -> Fr) -> Fr {
        let weights = |t: &[Fr], r: Option<&[Fr]>| -> (Vec<Fr>, Vec<Fr>) {
            match r {
                Some(r) => t
                    .iter()
                    .zip(r)
                    .map(|(&t, &r)| ((Fr::ONE - t) * (Fr::ONE - r), t * r))
                    .unzip(),
                None => t.iter().map(|&t| (Fr::ONE - t, t)).unzip(),
            }
        };
        let (tau_p, tau_o) = tau.split_at(self.p_vars.min(tau.len()));
        let (rho_p, rho_o) = match rho {
            Some(r) => {
                let (a, b) = r.split_at(self.p_vars.min(r.len()));
                (Some(a), Some(b))
            }
            None => (None, None),
        };
        let (p0, p1) = weights(tau_p, rho_p);
        let positions = prefix_product_sum(&p0, &p1, self.spatial);
        let eo = eq_table(tau_o);
        let ro = rho_o.map(eq_table);
        let channels: Fr = (0..self.out_channels)
            .map(|o| {
                let w = eo.get(o).copied().unwrap_or(Fr::zero()) * f(o);
                match &ro {
                    Some(ro) => w * ro.get(o).copied().unwrap_or(Fr::zero()),
                    None => w,
                }
            })
            .sum();
        channels * positions
    }

    /// `Σ_row u(flat(row))·eq(ρ,row)` over the real rows: the multilinear extension of
    /// [`LayerGeom::rows_from_flat`] at `ρ`, without the padded table.
    pub fn flat_eval(&self, u: &[Fr], rho: &[Fr]) -> Fr {
        let (rho_p, rho_o) = rho.split_at(self.p_vars.min(rho.len()));
        let ep = eq_table(rho_p);
        let eo = eq_table(rho_o);
        let mut total = Fr::zero();
        for (o, &wo) in eo.iter().enumerate().take(self.out_channels) {
            let row: Fr = ep
                .iter()
                .take(self.spatial)
                .zip(u.iter().skip(o * self.spatial))
                .map(|(a, b)| *a * b)
                .sum();
            total += wo * row;
        }
        total
    }

    /// Row table `m'_c(row)` (zero on padding rows).
    pub fn mprime_rows(&self) -> Vec<Fr> {
        (0..1usize << self.row_vars())
            .map(|row| match self.flat(row) {
                Some(_) => self
                    .mprime
                    .get(self.channel(row))
                    .map_or(Fr::zero(), |&m| Fr::from(m)),
                None => Fr::zero(),
            })
            .collect()
    }

    /// Row table of a functional `u` on the flattened output, moved onto rows.
    pub fn rows_from_flat(&self, u: &[Fr]) -> Vec<Fr> {
        (0..1usize << self.row_vars())
            .map(|row| {
                self.flat(row)
                    .and_then(|f| u.get(f).copied())
                    .unwrap_or(Fr::zero())
            })
            .collect()
    }

    /// Column coefficients of the requantisation relation
    /// `m' · acc + 2^(S-1) - 2^S · lo = Σ_j R(j) · B[row][j]`.
    pub fn relation_cols(&self) -> Vec<Fr> {
        let two = Fr::from(2u64);
        let pow = |e: usize| two.pow([e as u64]);
        let mut c = vec![Fr::zero(); 1 << self.j_vars];
        let s = pow(self.shift);
        for (j, v) in c.iter_mut().enumerate().take(self.q_bits) {
            *v = s * pow(j);
        }
        for j in 0..self.shift {
            c[self.col_rem() + j] = pow(j);
        }
        for j in 0..self.e_bits {
            c[self.col_over() + j] = s * pow(j);
            c[self.col_under() + j] = -(s * pow(j));
        }
        c
    }

    /// Column coefficients giving the output value: `q = lo + Σ_j Q(j) · B[row][j]`.
    pub fn value_cols(&self) -> Vec<Fr> {
        let mut c = vec![Fr::zero(); 1 << self.j_vars];
        for (j, v) in c.iter_mut().enumerate().take(self.q_bits) {
            *v = Fr::from(1u64 << j);
        }
        c
    }

    /// Column selectors `(q bits, overflow bits, underflow bits, used columns)`.
    pub fn selector_cols(&self) -> [Vec<Fr>; 4] {
        let n = 1 << self.j_vars;
        let sel = |lo: usize, hi: usize| -> Vec<Fr> {
            (0..n)
                .map(|j| {
                    if (lo..hi).contains(&j) {
                        Fr::one()
                    } else {
                        Fr::zero()
                    }
                })
                .collect()
        };
        [
            sel(0, self.q_bits),
            sel(self.col_over(), self.col_over() + self.e_bits),
            sel(self.col_under(), self.col_under() + self.e_bits),
            sel(0, self.cols_used()),
        ]
    }

    /// `2^(S-1) - 2^S · lo`, the constant of the relation.
    pub fn relation_constant(&self) -> Fr {
        let two = Fr::from(2u64);
        two.pow([self.shift as u64 - 1])
            - two.pow([self.shift as u64]) * crate::field::fr_i64(self.lo)
    }
}

/// A segment of a committed vector: `2^vars` entries starting at `offset`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Segment {
    /// First index.
    pub offset: usize,
    /// log2 of the length.
    pub vars: usize,
}

/// How several power-of-two blocks are packed into one committed vector, and the Hyrax matrix
/// shape of that vector.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Layout {
    /// Segments, in the order they were requested.
    pub segments: Vec<Segment>,
    /// Total length (sum of the segment lengths).
    pub len: usize,
    /// Variables of the whole vector's multilinear extension.
    pub vars: usize,
    /// log2 of the Hyrax row width.
    pub col_vars: usize,
    /// Number of (non-empty) Hyrax rows.
    pub rows: usize,
    /// Rows that hold only padding (entries no layer can make nonzero). They are committed
    /// without blinding, so their commitment is the identity: weight rows are checked to be the
    /// identity, witness rows are left out of proofs. Which rows they are follows from the
    /// architecture alone, so this reveals nothing about weights or activations.
    pub padding: Vec<bool>,
}

impl Layout {
    /// Pack blocks of `2^vars[i]` entries, largest first so each is aligned to its size, in
    /// rows of `2^col_vars` entries (capped by the generator count and the vector's size).
    pub fn new(vars: &[usize], col_vars: usize) -> Result<Self> {
        let mut order: Vec<usize> = (0..vars.len()).collect();
        order.sort_by(|&a, &b| vars[b].cmp(&vars[a]).then(a.cmp(&b)));
        let mut segments = vec![Segment { offset: 0, vars: 0 }; vars.len()];
        let mut offset = 0usize;
        for i in order {
            if vars[i] >= 40 {
                return Err(Error::InvalidModel {
                    reason: "committed block too large",
                });
            }
            segments[i] = Segment {
                offset,
                vars: vars[i],
            };
            offset = offset
                .checked_add(1 << vars[i])
                .ok_or(Error::InvalidModel {
                    reason: "committed vector too large",
                })?;
        }
        if offset > MAX_COMMITTED_LEN {
            return Err(Error::InvalidModel {
                reason: "committed vector too large",
            });
        }
        let total_vars = log2_ceil(offset);
        let col_vars = col_vars.min(log2_ceil(MAX_COLUMNS)).min(total_vars);
        let rows = offset.div_ceil(1 << col_vars).max(1);
        Ok(Self {
            segments,
            len: offset,
            vars: total_vars,
            col_vars,
            rows,
            padding: vec![false; rows],
        })
    }

    /// Mark the rows in which `real(segment, local index)` holds for no entry.
    fn mark_padding(mut self, real: impl Fn(usize, usize) -> bool) -> Self {
        let c = 1usize << self.col_vars;
        let mut has_real = vec![false; self.rows];
        for (seg, s) in self.segments.iter().enumerate() {
            let end = s.offset + (1usize << s.vars);
            let mut e = s.offset;
            while e < end {
                let row = e / c;
                let row_end = ((row + 1) * c).min(end);
                if !has_real[row] && (e..row_end).any(|i| real(seg, i - s.offset)) {
                    has_real[row] = true;
                }
                e = row_end;
            }
        }
        self.padding = has_real.iter().map(|r| !r).collect();
        self
    }

    /// Number of rows that are not padding.
    pub fn real_rows(&self) -> usize {
        self.padding.iter().filter(|p| !**p).count()
    }

    /// The point on the whole vector for a point `local` on segment `seg`.
    pub fn full_point(&self, seg: usize, local: &[Fr]) -> Option<Vec<Fr>> {
        let s = self.segments.get(seg)?;
        if local.len() != s.vars || s.vars > self.vars {
            return None;
        }
        let mut p = local.to_vec();
        p.extend(index_bits(s.offset >> s.vars, self.vars - s.vars));
        Some(p)
    }
}

impl Circuit {
    /// Validate the description and derive each layer's geometry.
    ///
    /// # Errors
    /// [`Error::InvalidModel`] when shapes do not chain, a size limit is exceeded or a
    /// requantisation parameter is out of range.
    pub fn geometry(&self) -> Result<Vec<LayerGeom>> {
        let bad = |reason| Error::InvalidModel { reason };
        if self.layers.is_empty() || self.layers.len() > MAX_LAYERS {
            return Err(bad("layer count out of range"));
        }
        let mut in_len = self.input_len as usize;
        if in_len == 0 || in_len > MAX_TENSOR_LEN {
            return Err(bad("input length out of range"));
        }
        let mut out = Vec::with_capacity(self.layers.len());
        for spec in &self.layers {
            let (out_channels, spatial, dot, conv) = match spec.kind {
                LayerKind::Linear {
                    in_features,
                    out_features,
                } => {
                    if in_features as usize != in_len {
                        return Err(bad("linear input length does not chain"));
                    }
                    (out_features as usize, 1usize, in_features as usize, None)
                }
                LayerKind::Conv2d {
                    in_channels,
                    in_height,
                    in_width,
                    out_channels,
                    kernel,
                    stride,
                    padding,
                } => {
                    let [cin, h, w] = [in_channels, in_height, in_width].map(|v| v as usize);
                    let [kh, kw] = kernel.map(|v| v as usize);
                    let [sy, sx] = stride.map(|v| v as usize);
                    let [py, px] = padding.map(|v| v as usize);
                    if cin.checked_mul(h).and_then(|v| v.checked_mul(w)) != Some(in_len) {
                        return Err(bad("convolution input shape does not chain"));
                    }
                    if kh == 0 || kw == 0 || sy == 0 || sx == 0 || py >= kh || px >= kw {
                        return Err(bad("convolution kernel, stride or padding out of range"));
                    }
                    if h + 2 * py < kh || w + 2 * px < kw {
                        return Err(bad("convolution kernel larger than the input"));
                    }
                    let oh = (h + 2 * py - kh) / sy + 1;
                    let ow = (w + 2 * px - kw) / sx + 1;
                    let dot = cin.saturating_mul(kh).saturating_mul(kw);
                    let c = ConvGeom {
                        cin,
                        h,
                        w,
                        kh,
                        kw,
                        sy,
                        sx,
                        py,
                        px,
                        oh,
                        ow,
                    };
                    (out_channels as usize, oh.saturating_mul(ow), dot, Some(c))
                }
            };
            if out_channels == 0 || dot == 0 || dot > MAX_DOT_LEN {
                return Err(bad("layer dimensions out of range"));
            }
            let out_len = out_channels
                .checked_mul(spatial)
                .filter(|&n| n <= MAX_TENSOR_LEN)
                .ok_or(bad("output too large"))?;
            if spec.requant.len() != out_channels {
                return Err(bad("need one requantisation per output channel"));
            }
            let valid = |r: &Requant| {
                r.multiplier >= 1 && r.multiplier < (1 << 31) && (1..=62).contains(&r.shift)
            };
            if !spec.requant.iter().all(valid) {
                return Err(bad("requantisation out of range"));
            }
            let shift = spec
                .requant
                .iter()
                .map(|r| r.shift as usize)
                .max()
                .unwrap_or(1);
            let mprime: Vec<u128> = spec
                .requant
                .iter()
                .map(|r| u128::from(r.multiplier) << (shift - r.shift as usize))
                .collect();
            if !(1..=32).contains(&spec.bias_bits) {
                return Err(bad("bias bound out of range"));
            }
            // Largest |acc| over all int8 inputs and weights with a bias below 2^bias_bits.
            let acc_max = (dot as u128) * 128 * 128 + (1u128 << spec.bias_bits);
            let m_max = mprime.iter().copied().max().unwrap_or(1);
            let q_max = ((acc_max * m_max + (1u128 << (shift - 1))) >> shift) + 1;
            let e_bits = (u128::BITS - (q_max + 129).leading_zeros()) as usize;
            let (lo, q_bits) = if spec.relu { (0, 7) } else { (-128, 8) };
            let mut g = LayerGeom {
                in_len,
                out_channels,
                spatial,
                dot,
                o_vars: log2_ceil(out_channels),
                p_vars: log2_ceil(spatial),
                k_vars: log2_ceil(dot),
                j_vars: 0,
                lo,
                q_bits,
                shift,
                e_bits,
                mprime,
                conv,
            };
            g.j_vars = log2_ceil(g.cols_used());
            if g.row_vars() + g.j_vars > 30 || g.o_vars + g.k_vars > 30 {
                return Err(bad("layer too large"));
            }
            in_len = out_len;
            out.push(g);
        }
        Ok(out)
    }

    /// Packing of the committed weight vector: per layer the weights then the biases.
    pub fn weight_layout(geoms: &[LayerGeom]) -> Result<Layout> {
        let (weights, _) = Self::column_split(geoms);
        Ok(
            Layout::new(&Self::weight_blocks(geoms), weights)?.mark_padding(|seg, i| {
                let g = &geoms[seg / 2];
                if seg % 2 == 0 {
                    (i >> g.k_vars) < g.out_channels && (i & ((1 << g.k_vars) - 1)) < g.dot
                } else {
                    i < g.out_channels
                }
            }),
        )
    }

    /// Packing of the per-proof witness vector: one bit matrix per layer.
    pub fn witness_layout(geoms: &[LayerGeom]) -> Result<Layout> {
        let (_, witness) = Self::column_split(geoms);
        Ok(
            Layout::new(&Self::witness_blocks(geoms), witness)?.mark_padding(|seg, i| {
                let g = &geoms[seg];
                g.flat(i >> g.j_vars).is_some() && (i & ((1 << g.j_vars) - 1)) < g.cols_used()
            }),
        )
    }

    fn weight_blocks(geoms: &[LayerGeom]) -> Vec<usize> {
        geoms
            .iter()
            .flat_map(|g| [g.o_vars + g.k_vars, g.o_vars])
            .collect()
    }

    fn witness_blocks(geoms: &[LayerGeom]) -> Vec<usize> {
        geoms.iter().map(|g| g.row_vars() + g.j_vars).collect()
    }

    /// Row widths (log2) of the weight and witness commitments, chosen together to make the
    /// verifier's multi-scalar multiplication smallest: it has one term per row commitment of
    /// each vector plus one per vector generator, which the two openings share, so it costs
    /// `rows_w + rows_x + max(cols_w, cols_x)`. Ties go to the smaller proof (64 bytes per
    /// witness row, 32 per opening column).
    fn column_split(geoms: &[LayerGeom]) -> (usize, usize) {
        // Block sizes are checked (below 2^40 each) when the layouts are built.
        let len = |blocks: Vec<usize>| -> usize {
            blocks
                .iter()
                .fold(0usize, |a, &v| a.saturating_add(1usize << v.min(40)))
        };
        let (len_w, len_x) = (
            len(Self::weight_blocks(geoms)),
            len(Self::witness_blocks(geoms)),
        );
        let max = log2_ceil(MAX_COLUMNS);
        let mut best = (usize::MAX, usize::MAX, 0, 0);
        for cw in 0..=max.min(log2_ceil(len_w)) {
            for cx in 0..=max.min(log2_ceil(len_x)) {
                let rows_w = len_w.div_ceil(1 << cw);
                let rows_x = len_x.div_ceil(1 << cx);
                let terms = rows_w + rows_x + (1usize << cw.max(cx));
                let bytes = 64 * rows_x + 32 * ((1usize << cw) + (1usize << cx));
                if (terms, bytes) < (best.0, best.1) {
                    best = (terms, bytes, cw, cx);
                }
            }
        }
        (best.2, best.3)
    }

    /// Output length of the last layer.
    pub fn output_len(geoms: &[LayerGeom]) -> usize {
        geoms.last().map_or(0, LayerGeom::out_len)
    }
}

/// `Σ_{x < n} Π_t w_t(bit t of x)` with `w_t(0) = a0[t]`, `w_t(1) = a1[t]` and `x` ranging
/// over `a0.len()` bits (`n` at most `2^a0.len()`): the sum of a product-form table over a
/// prefix range, in `O(bits)`. Walking `n`'s bits from the top, each set bit contributes the
/// block of `x` that agree with `n` above it, have 0 there and are free below.
pub(crate) fn prefix_product_sum(a0: &[Fr], a1: &[Fr], n: usize) -> Fr {
    let bits = a0.len().min(a1.len());
    if n >= 1usize.checked_shl(bits as u32).unwrap_or(usize::MAX) {
        return a0.iter().zip(a1).map(|(a, b)| *a + b).product();
    }
    // free[t] = Π_{s<t} (a0[s] + a1[s]).
    let mut free = Vec::with_capacity(bits + 1);
    free.push(Fr::ONE);
    for t in 0..bits {
        let last = free[t];
        free.push(last * (a0[t] + a1[t]));
    }
    let mut total = Fr::zero();
    let mut prefix = Fr::ONE;
    for t in (0..bits).rev() {
        if (n >> t) & 1 == 1 {
            total += prefix * a0[t] * free[t];
            prefix *= a1[t];
        } else {
            prefix *= a0[t];
        }
    }
    total
}

/// The wiring functional `u[i] = Σ_{k,p : wire(k,p) = i} eq(rk, k) · eq(rp, p)` over the
/// flattened layer input, for evaluating the im2col matrix at `(rk, rp)`.
pub fn wiring_functional(g: &LayerGeom, rk: &[Fr], rp: &[Fr]) -> Vec<Fr> {
    let ek = eq_table(rk);
    let ep = eq_table(rp);
    let mut u = vec![Fr::zero(); g.in_len];
    for p in 0..g.spatial {
        let Some(&wp) = ep.get(p) else { continue };
        for k in 0..g.dot {
            if let (Some(i), Some(&wk)) = (g.wire(k, p), ek.get(k))
                && let Some(slot) = u.get_mut(i)
            {
                *slot += wk * wp;
            }
        }
    }
    u
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cnn() -> Circuit {
        let rq = Requant {
            multiplier: 1 << 30,
            shift: 40,
        };
        Circuit {
            input_len: 784,
            layers: vec![
                LayerSpec {
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
                    requant: vec![rq; 4],
                    bias_bits: 16,
                },
                LayerSpec {
                    kind: LayerKind::Linear {
                        in_features: 2704,
                        out_features: 10,
                    },
                    relu: false,
                    requant: vec![rq; 10],
                    bias_bits: 16,
                },
            ],
        }
    }

    #[test]
    fn derives_shapes_wiring_and_layouts() {
        let g = cnn().geometry().unwrap();
        assert_eq!(g[0].spatial, 676);
        assert_eq!(g[0].dot, 9);
        assert_eq!(g[0].out_len(), 2704);
        assert_eq!(g[0].wire(4, 0), Some(29));
        assert_eq!(g[0].wire(0, 27), Some(28 + 1));
        assert!(g[0].cols_used() <= 1 << g[0].j_vars);
        let wl = Circuit::weight_layout(&g).unwrap();
        assert_eq!(wl.segments.len(), 4);
        for s in &wl.segments {
            assert_eq!(s.offset % (1 << s.vars), 0);
        }
        assert!(wl.rows << wl.col_vars >= wl.len);
        // Padding rows: the linear layer's 10 of 16 output rows and 2,704 of 4,096 inputs.
        assert_eq!(wl.padding.len(), wl.rows);
        assert!(wl.real_rows() < wl.rows);
        let xl = Circuit::witness_layout(&g).unwrap();
        assert!(xl.real_rows() < xl.rows);
        // The convolution's 348 padding positions per channel cover whole witness rows.
        let per_row = (1usize << xl.col_vars) >> g[0].j_vars;
        let conv_rows = (1usize << (g[0].row_vars() + g[0].j_vars)) >> xl.col_vars;
        let start = xl.segments[0].offset >> xl.col_vars;
        let padding = xl.padding[start..start + conv_rows]
            .iter()
            .filter(|p| **p)
            .count();
        assert_eq!(padding, 4 * (348 / per_row));
        // The bias bound sizes the clamp's range checks: |acc| ≤ 9·2^14 + 2^16 < 2^18, times
        // 2^30 / 2^40, is below 2^8, so overflow and underflow need 9 bits each.
        assert_eq!(g[0].e_bits, 9);
        let mut wide = cnn();
        wide.layers[0].bias_bits = 32;
        assert_eq!(wide.geometry().unwrap()[0].e_bits, 23);
    }

    #[test]
    fn closed_forms_match_the_row_tables() {
        let g = cnn().geometry().unwrap();
        let ch = |seed: u64, n: usize| -> Vec<Fr> {
            (0..n as u64)
                .map(|i| Fr::from(seed * 1_000_003 + i * 7_919 + 11))
                .collect()
        };
        for (i, g) in g.iter().enumerate() {
            let seed = i as u64;
            let (tau, rho) = (ch(seed + 1, g.row_vars()), ch(seed + 50, g.row_vars()));
            let er = g.masked_eq_rows(&tau);
            let m = g.mprime_rows();
            let g1: Vec<Fr> = er.iter().zip(&m).map(|(a, b)| *a * b).collect();
            let mp = |o: usize| Fr::from(g.mprime[o]);
            assert_eq!(g.masked_eq_eval(&tau, Some(&rho), mp), mle_eval(&g1, &rho));
            assert_eq!(
                g.masked_eq_eval(&tau, Some(&rho), |_| Fr::ONE),
                mle_eval(&er, &rho)
            );
            let sum: Fr = er.iter().sum();
            assert_eq!(g.masked_eq_eval(&tau, None, |_| Fr::ONE), sum);
            let u = ch(seed + 90, g.out_len());
            assert_eq!(g.flat_eval(&u, &rho), mle_eval(&g.rows_from_flat(&u), &rho));
        }
        // Prefix sums at every range end of a 4-bit table.
        let (a0, a1) = (ch(3, 4), ch(4, 4));
        let table: Vec<Fr> = (0..16usize)
            .map(|x| {
                (0..4)
                    .map(|t| if (x >> t) & 1 == 1 { a1[t] } else { a0[t] })
                    .product()
            })
            .collect();
        for n in 0..=16 {
            assert_eq!(
                prefix_product_sum(&a0, &a1, n),
                table[..n].iter().sum::<Fr>()
            );
        }
    }

    #[test]
    fn rejects_inconsistent_models() {
        let mut c = cnn();
        c.layers[1].kind = LayerKind::Linear {
            in_features: 100,
            out_features: 10,
        };
        assert!(c.geometry().is_err());
        let mut c = cnn();
        c.layers[0].requant[0].shift = 0;
        assert!(c.geometry().is_err());
        for bits in [0, 33] {
            let mut c = cnn();
            c.layers[0].bias_bits = bits;
            assert!(c.geometry().is_err());
        }
        let mut c = cnn();
        c.layers.clear();
        assert!(c.geometry().is_err());
    }
}
