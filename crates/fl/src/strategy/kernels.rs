//! Chunked integer kernels shared by the strategies.
//!
//! Work is cut into fixed chunks of [`CHUNK`] coordinates. Outputs of a chunk depend only on
//! that chunk's inputs, and reductions across chunks are exact integer sums, so running the
//! chunks on one thread or on many gives the same bits.

use rayon::prelude::*;

use crate::aggregator::Exec;

/// Coordinates per work chunk.
pub(crate) const CHUNK: usize = 1 << 15;
/// Coordinates per cache block inside a chunk.
const BLOCK: usize = 1024;
/// Columns summed together in registers by [`weighted_mean`].
const LANES: usize = 8;
/// Coordinates per cache block of [`pairwise_sq_distances`]: `n` rows of `u64` stay in L1.
const DIST_BLOCK: usize = 256;
/// Largest row count sorted with a sorting network; more rows fall back to a per-column sort.
const MAX_NETWORK_ROWS: usize = 64;

/// Fill `out` chunk by chunk with `f(start, chunk)`.
pub(crate) fn for_chunks<F>(exec: Exec, out: &mut [i32], f: F)
where
    F: Fn(usize, &mut [i32]) + Sync + Send,
{
    match exec {
        Exec::Sequential => out
            .chunks_mut(CHUNK)
            .enumerate()
            .for_each(|(i, c)| f(i * CHUNK, c)),
        Exec::Parallel => out
            .par_chunks_mut(CHUNK)
            .enumerate()
            .for_each(|(i, c)| f(i * CHUNK, c)),
    }
}

/// Map every chunk `[start, end)` of `0..dim` with `f`, returning the results in chunk order.
pub(crate) fn map_ranges<T, F>(exec: Exec, dim: usize, f: F) -> Vec<T>
where
    T: Send,
    F: Fn(usize, usize) -> T + Sync + Send,
{
    let n = dim.div_ceil(CHUNK);
    let range = move |i: usize| (i * CHUNK, ((i + 1) * CHUNK).min(dim));
    match exec {
        Exec::Sequential => (0..n)
            .map(|i| {
                let (a, b) = range(i);
                f(a, b)
            })
            .collect(),
        Exec::Parallel => (0..n)
            .into_par_iter()
            .map(|i| {
                let (a, b) = range(i);
                f(a, b)
            })
            .collect(),
    }
}

/// Sample-weighted mean: `out[j] = round_half_even(Σ w_i · x_ij / Σ w_i)`, exact.
///
/// Each `x` is biased to an unsigned value `x + 2^31` so the products are `u32 × u32 → u64`
/// (which vectorises); with `Σ w ≤ 2^31` the biased sum stays below `2^63`, and the bias
/// `2^31 · Σ w` is subtracted before the rounded division.
pub(crate) fn weighted_mean(rows: &[&[i32]], weights: &[u32], exec: Exec, out: &mut [i32]) {
    let total: u64 = weights.iter().map(|&w| u64::from(w)).sum();
    if total == 0 {
        return;
    }
    let div = RoundDiv::new(total);
    for_chunks(exec, out, |start, chunk| {
        let mut acc = [0u64; BLOCK];
        for (b, out_block) in chunk.chunks_mut(BLOCK).enumerate() {
            let lo = start + b * BLOCK;
            let len = out_block.len();
            let acc = &mut acc[..len];
            // Accumulate LANES columns at a time over all rows, so the partial sums stay in
            // registers instead of making a round trip through memory per row.
            let mut groups = acc.chunks_exact_mut(LANES);
            for (g, dst) in groups.by_ref().enumerate() {
                let at = lo + g * LANES;
                let mut s = [0u64; LANES];
                for (row, &w) in rows.iter().zip(weights) {
                    let w = u64::from(w);
                    let x = &row[at..at + LANES];
                    for (s, &x) in s.iter_mut().zip(x) {
                        *s += w * bias(x);
                    }
                }
                dst.copy_from_slice(&s);
            }
            let tail = groups.into_remainder();
            let (at, tail_len) = (lo + len - tail.len(), tail.len());
            tail.fill(0);
            for (row, &w) in rows.iter().zip(weights) {
                let w = u64::from(w);
                for (a, &x) in tail.iter_mut().zip(&row[at..at + tail_len]) {
                    *a += w * bias(x);
                }
            }
            div.apply_block(acc, out_block);
        }
    });
}

/// Round-half-to-even division by a fixed divisor `1 <= d <= 2^31` of *biased* sums.
///
/// A biased sum is `a = s + d · 2^31`, where `s` is a sum of `d`-weighted `i32` values; then
/// `a` is non-negative, below `2^63`, and `floor(a / d) = floor(s / d) + 2^31`, so the
/// quotient is found with unsigned arithmetic: a shift for powers of two, otherwise a
/// multiply by `m = ceil(2^(63+l) / d)` with `2^(l-1) < d <= 2^l` (Granlund–Montgomery,
/// exact for every `a < 2^63`).
#[derive(Clone, Copy)]
pub(crate) struct RoundDiv {
    d: u64,
    magic: u64,
    shift: u32,
    pow2: bool,
}

impl RoundDiv {
    pub(crate) fn new(d: u64) -> Self {
        debug_assert!((1..=1 << 31).contains(&d));
        if d.is_power_of_two() {
            return Self {
                d,
                magic: 0,
                shift: d.trailing_zeros(),
                pow2: true,
            };
        }
        let l = 64 - (d - 1).leading_zeros();
        let magic = (1u128 << (63 + l)).div_ceil(u128::from(d));
        Self {
            d,
            magic: magic as u64,
            shift: 63 + l,
            pow2: false,
        }
    }

    #[inline(always)]
    fn quotient(self, a: u64) -> u64 {
        if self.pow2 {
            a >> self.shift
        } else {
            ((u128::from(a) * u128::from(self.magic)) >> self.shift) as u64
        }
    }

    /// `round_half_even(s / d)` from the biased sum `a = s + d · 2^31`.
    #[inline(always)]
    pub(crate) fn apply_biased(self, a: u64) -> i32 {
        let q = self.quotient(a);
        let r = a - q * self.d;
        let twice = 2 * r;
        let up = (twice > self.d) | ((twice == self.d) & (q & 1 == 1));
        (q + u64::from(up)).wrapping_sub(1 << 31) as i32
    }

    /// Apply to a whole block; the power-of-two case is branch-free and vectorises.
    #[inline]
    pub(crate) fn apply_block(self, acc: &[u64], out: &mut [i32]) {
        if self.pow2 {
            let (d, shift) = (self.d, self.shift);
            for (o, &a) in out.iter_mut().zip(acc) {
                let q = a >> shift;
                let twice = 2 * (a - (q << shift));
                let up = (twice > d) | ((twice == d) & (q & 1 == 1));
                *o = (q + u64::from(up)).wrapping_sub(1 << 31) as i32;
            }
        } else {
            for (o, &a) in out.iter_mut().zip(acc) {
                *o = self.apply_biased(a);
            }
        }
    }
}

#[inline(always)]
fn bias(x: i32) -> u64 {
    u64::from((x as u32) ^ 0x8000_0000)
}

/// Batcher's odd-even merge sort network for `n` inputs (comparators touching padding
/// positions `>= n` are dropped, which is valid because padding acts as +∞).
pub(crate) fn sorting_network(n: usize) -> Vec<(usize, usize)> {
    let size = n.next_power_of_two();
    let mut pairs = Vec::new();
    let mut p = 1;
    while p < size {
        let mut k = p;
        while k >= 1 {
            let mut j = k % p;
            while j + k < size {
                for i in 0..k.min(size - j - k) {
                    if (i + j) / (p * 2) == (i + j + k) / (p * 2) {
                        let (a, b) = (i + j, i + j + k);
                        if b < n {
                            pairs.push((a, b));
                        }
                    }
                }
                j += 2 * k;
            }
            k /= 2;
        }
        p *= 2;
    }
    pairs
}

/// For every coordinate, sort the column of `rows` and write the round-half-even mean of the
/// sorted positions `lo..hi` to `out`. Requires `lo < hi <= rows.len()`.
pub(crate) fn sorted_range_mean(
    rows: &[&[i32]],
    lo: usize,
    hi: usize,
    exec: Exec,
    out: &mut [i32],
) {
    let n = rows.len();
    debug_assert!(lo < hi && hi <= n);
    let div = RoundDiv::new((hi - lo) as u64);
    if n > MAX_NETWORK_ROWS {
        for_chunks(exec, out, |start, chunk| {
            let mut col = vec![0i32; n];
            for (j, o) in chunk.iter_mut().enumerate() {
                for (c, row) in col.iter_mut().zip(rows) {
                    *c = row[start + j];
                }
                col.sort_unstable();
                *o = div.apply_biased(col[lo..hi].iter().map(|&x| bias(x)).sum());
            }
        });
        return;
    }
    let network = sorting_network(n);
    for_chunks(exec, out, |start, chunk| {
        let mut buf = vec![0i32; n * BLOCK];
        let mut acc = [0u64; BLOCK];
        for (b, out_block) in chunk.chunks_mut(BLOCK).enumerate() {
            let base = start + b * BLOCK;
            let len = out_block.len();
            for (r, row) in rows.iter().enumerate() {
                buf[r * BLOCK..r * BLOCK + len].copy_from_slice(&row[base..base + len]);
            }
            for &(a, c) in &network {
                // a < c always, so the split keeps row a on the left.
                let (left, right) = buf.split_at_mut(c * BLOCK);
                let ra = &mut left[a * BLOCK..a * BLOCK + len];
                let rc = &mut right[..len];
                for (x, y) in ra.iter_mut().zip(rc.iter_mut()) {
                    let (p, q) = (*x, *y);
                    *x = p.min(q);
                    *y = p.max(q);
                }
            }
            let acc = &mut acc[..len];
            acc.fill(0);
            for r in lo..hi {
                for (s, &x) in acc.iter_mut().zip(&buf[r * BLOCK..r * BLOCK + len]) {
                    *s += bias(x);
                }
            }
            div.apply_block(acc, out_block);
        }
    });
}

/// Exact pairwise squared Euclidean distances between rows, as a row-major `n × n` matrix.
///
/// In a block where every value has `|x| <= 2^25` (weights below 512 in magnitude, the common
/// case) the distances come from exact Gram entries of the values shifted into `[0, 2^26)`;
/// otherwise `d² < 2^64` per coordinate and its low and high 32-bit halves are summed in
/// separate `u64` accumulators. Block sums are joined in `u128`, so the result is exact.
pub(crate) fn pairwise_sq_distances(rows: &[&[i32]], exec: Exec) -> Vec<u128> {
    const SMALL: u32 = 1 << 25;
    let n = rows.len();
    let dim = rows.first().map_or(0, |r| r.len());
    let pairs: Vec<(usize, usize)> = (0..n)
        .flat_map(|a| (a + 1..n).map(move |b| (a, b)))
        .collect();
    let partials = map_ranges(exec, dim, |start, end| {
        let mut sums = vec![0u128; pairs.len()];
        let mut gram = vec![0u64; n * n];
        // Shifted values widened to u64 lanes, so the products map onto 32×32→64-bit
        // multiplies without a widening step per use.
        let mut wide = vec![0u64; n * DIST_BLOCK];
        let mut block = start;
        while block < end {
            let stop = (block + DIST_BLOCK).min(end);
            let len = stop - block;
            // `x ^ (x >> 31)` is |x| for x >= 0 and |x| - 1 below; OR-ing keeps the top bit.
            let small = rows.iter().all(|r| {
                r[block..stop]
                    .iter()
                    .fold(0u32, |m, &x| m | (x ^ (x >> 31)) as u32)
                    < SMALL
            });
            if small {
                // Shift every value by 2^25 into [0, 2^26): distances are unchanged, and the
                // Gram entries x'·y' < 2^52 sum to below 2^62 over a block, so
                // ‖x - y‖² = G_xx + G_yy - 2 G_xy is exact in integers.
                for (r, row) in rows.iter().enumerate() {
                    let dst = &mut wide[r * DIST_BLOCK..r * DIST_BLOCK + len];
                    for (b, &x) in dst.iter_mut().zip(&row[block..stop]) {
                        *b = u64::from(x.wrapping_add(SMALL as i32) as u32);
                    }
                }
                let row = |r: usize| &wide[r * DIST_BLOCK..r * DIST_BLOCK + len];
                for a in 0..n {
                    let xa = row(a);
                    let mut b = a;
                    // Four Gram entries per pass share the loads of row `a`.
                    while b + 4 <= n {
                        let g = dot4(xa, [row(b), row(b + 1), row(b + 2), row(b + 3)]);
                        gram[a * n + b..a * n + b + 4].copy_from_slice(&g);
                        b += 4;
                    }
                    while b < n {
                        gram[a * n + b] = dot1(xa, row(b));
                        b += 1;
                    }
                }
                for (&(a, b), s) in pairs.iter().zip(sums.iter_mut()) {
                    let d = u128::from(gram[a * n + a]) + u128::from(gram[b * n + b])
                        - 2 * u128::from(gram[a * n + b]);
                    *s += d;
                }
            } else {
                for (&(a, b), s) in pairs.iter().zip(sums.iter_mut()) {
                    let (xa, xb) = (&rows[a][block..stop], &rows[b][block..stop]);
                    let (mut lo, mut hi) = (0u64, 0u64);
                    for (&x, &y) in xa.iter().zip(xb) {
                        let d = u64::from(x.abs_diff(y));
                        let sq = d * d;
                        lo += sq & 0xFFFF_FFFF;
                        hi += sq >> 32;
                    }
                    *s += (u128::from(hi) << 32) + u128::from(lo);
                }
            }
            block = stop;
        }
        sums
    });
    let mut dist = vec![0u128; n * n];
    for (p, &(a, b)) in pairs.iter().enumerate() {
        let total: u128 = partials.iter().map(|part| part[p]).sum();
        dist[a * n + b] = total;
        dist[b * n + a] = total;
    }
    dist
}

/// Dot product of two rows of equal length under the bounds of [`dot4`].
#[inline(always)]
fn dot1(x: &[u64], y: &[u64]) -> u64 {
    x.iter()
        .zip(y)
        .map(|(&a, &b)| (a & 0xFFFF_FFFF) * (b & 0xFFFF_FFFF))
        .sum()
}

/// Dot products of `x` with four rows of the same length, for values below `2^32` whose
/// products' block sums fit `u64` (the caller guarantees both).
#[inline(always)]
fn dot4(x: &[u64], ys: [&[u64]; 4]) -> [u64; 4] {
    let len = x.len();
    let [y0, y1, y2, y3] = ys.map(|y| &y[..len]);
    let mut acc = [0u64; 4];
    for k in 0..len {
        // The masks state that only the low 32 bits are set, which lets the multiply use a
        // 32×32→64-bit instruction.
        let v = x[k] & 0xFFFF_FFFF;
        acc[0] += v * (y0[k] & 0xFFFF_FFFF);
        acc[1] += v * (y1[k] & 0xFFFF_FFFF);
        acc[2] += v * (y2[k] & 0xFFFF_FFFF);
        acc[3] += v * (y3[k] & 0xFFFF_FFFF);
    }
    acc
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn network_sorts_every_small_size() {
        // 0-1 principle: a network sorts all inputs iff it sorts all 0/1 inputs.
        for n in 1..=12usize {
            let net = sorting_network(n);
            for mask in 0u32..(1 << n) {
                let mut v: Vec<u32> = (0..n).map(|i| (mask >> i) & 1).collect();
                for &(a, b) in &net {
                    if v[a] > v[b] {
                        v.swap(a, b);
                    }
                }
                assert!(v.windows(2).all(|w| w[0] <= w[1]), "n={n} mask={mask:b}");
            }
        }
    }

    #[test]
    fn round_div_matches_reference() {
        use crate::fixed::div_round_i64;
        let ds = [
            1i64,
            2,
            3,
            6,
            7,
            8,
            10,
            1000,
            1783,
            65_536,
            (1 << 31) - 1,
            1 << 31,
        ];
        let qs = [
            i64::from(i32::MIN),
            -70_001,
            -2,
            -1,
            0,
            1,
            2,
            3,
            99_999,
            i64::from(i32::MAX) - 1,
        ];
        for &d in &ds {
            let div = RoundDiv::new(d as u64);
            for &q in &qs {
                let rs = [0, 1, d / 2 - 1, d / 2, d / 2 + 1, d - 1];
                for &r in rs.iter().filter(|&&r| (0..d).contains(&r)) {
                    let s = q * d + r;
                    let a = (s + (d << 31)) as u64;
                    let want = div_round_i64(s, d);
                    assert_eq!(i64::from(div.apply_biased(a)), want, "d={d} s={s}");
                    let mut out = [0i32];
                    div.apply_block(&[a], &mut out);
                    assert_eq!(i64::from(out[0]), want, "block d={d} s={s}");
                }
            }
        }
    }

    fn pseudo_rows(n: usize, dim: usize, spread: i64) -> Vec<Vec<i32>> {
        let mut state = 0x9E37_79B9_7F4A_7C15u64;
        (0..n)
            .map(|_| {
                (0..dim)
                    .map(|_| {
                        state = state
                            .wrapping_mul(6_364_136_223_846_793_005)
                            .wrapping_add(1_442_695_040_888_963_407);
                        ((state >> 33) as i64 % (2 * spread + 1) - spread) as i32
                    })
                    .collect()
            })
            .collect()
    }

    #[test]
    fn tiled_distances_match_direct_sums() {
        // 7 rows exercise the four-wide tiles and the single-row remainder; 1_037 coordinates
        // leave a partial cache block; the second case mixes in blocks of large values.
        for (spread, dim) in [(1i64 << 17, 1_037usize), (1 << 25, 1_037), (1 << 30, 700)] {
            let rows = pseudo_rows(7, dim, spread);
            let refs: Vec<&[i32]> = rows.iter().map(Vec::as_slice).collect();
            let got = pairwise_sq_distances(&refs, Exec::Sequential);
            assert_eq!(got, pairwise_sq_distances(&refs, Exec::Parallel));
            for a in 0..7 {
                for b in 0..7 {
                    let want: u128 = rows[a]
                        .iter()
                        .zip(&rows[b])
                        .map(|(&p, &q)| {
                            let d = (i128::from(p) - i128::from(q)).unsigned_abs();
                            d * d
                        })
                        .sum();
                    assert_eq!(got[a * 7 + b], want, "spread={spread} a={a} b={b}");
                }
            }
        }
    }

    #[test]
    fn lane_grouped_weighted_mean_matches_reference() {
        use crate::fixed::div_round_i64;
        // 1_037 coordinates: full lane groups, a lane tail, and a partial block.
        let rows = pseudo_rows(6, 1_037, i64::from(i32::MAX));
        let refs: Vec<&[i32]> = rows.iter().map(Vec::as_slice).collect();
        let weights = [3u32, 100, 7, 1, 65_536, 12];
        let total: i64 = weights.iter().map(|&w| i64::from(w)).sum();
        let mut out = vec![0i32; 1_037];
        weighted_mean(&refs, &weights, Exec::Sequential, &mut out);
        for (j, &o) in out.iter().enumerate() {
            let s: i64 = rows
                .iter()
                .zip(&weights)
                .map(|(r, &w)| i64::from(r[j]) * i64::from(w))
                .sum();
            assert_eq!(i64::from(o), div_round_i64(s, total), "coordinate {j}");
        }
    }

    #[test]
    fn distances_are_exact_for_extreme_values() {
        let a = vec![i32::MIN; 3];
        let b = vec![i32::MAX; 3];
        let d = pairwise_sq_distances(&[&a, &b], Exec::Sequential);
        let one = u128::from(u32::MAX) * u128::from(u32::MAX);
        assert_eq!(d[1], one * 3);
        assert_eq!(d[2], one * 3);
        assert_eq!(d[0], 0);
        // Small and large blocks agree with a direct u128 computation.
        let x: Vec<i32> = (0..3000)
            .map(|j| (j * 7919 % 60_000_000) - 30_000_000)
            .collect();
        let mut y: Vec<i32> = (0..3000)
            .map(|j| (j * 104_729 % 60_000_000) - 30_000_000)
            .collect();
        y[2500] = i32::MIN;
        let want: u128 = x
            .iter()
            .zip(&y)
            .map(|(&p, &q)| {
                let d = (i128::from(p) - i128::from(q)).unsigned_abs();
                d * d
            })
            .sum();
        assert_eq!(pairwise_sq_distances(&[&x, &y], Exec::Sequential)[1], want);
    }
}
