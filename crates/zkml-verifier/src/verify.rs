//! The verifier: replays the transcript, checks every committed sumcheck and Σ-protocol, and
//! folds all group equations into one multi-scalar multiplication.

use std::collections::BTreeMap;

use ark_ec::AffineRepr;
use ark_ff::{AdditiveGroup, Field, Zero};

use crate::circuit::{LayerGeom, Layout, wiring_functional};
use crate::error::{Error, Result};
use crate::field::{Affine, Fr, eq_eval, eq_table, fr_i64, index_bits, mle_eval};
use crate::generators::Generators;
use crate::model::PreparedModel;
use crate::proof::{BatchProof, DotProof, ProductProof, Proof, SumcheckProof, ZeroProof};
use crate::statement::{RequestBinding, statement_transcript};
use crate::transcript::Transcript;

/// A linear combination `g·G + h·H + Σ s_i·P_i` of group elements, kept symbolic so that all
/// checks collapse into one multi-scalar multiplication at the end.
#[derive(Debug, Clone, Default)]
pub struct Lc {
    /// Coefficient of the value generator.
    pub g: Fr,
    /// Coefficient of the blinding generator.
    pub h: Fr,
    /// Other terms.
    pub terms: Vec<(Fr, Affine)>,
}

impl Lc {
    /// The single point `p`.
    pub fn point(p: Affine) -> Self {
        Self {
            terms: vec![(Fr::ONE, p)],
            ..Self::default()
        }
    }
    /// The public constant `v·G` (a commitment to `v` with zero blinding).
    pub fn constant(v: Fr) -> Self {
        Self {
            g: v,
            ..Self::default()
        }
    }
    /// `self += s·other`.
    pub fn add_scaled(&mut self, other: &Self, s: Fr) {
        self.g += other.g * s;
        self.h += other.h * s;
        self.terms
            .extend(other.terms.iter().map(|(c, p)| (*c * s, *p)));
    }
    /// `self *= s`.
    pub fn scale(&mut self, s: Fr) {
        self.g *= s;
        self.h *= s;
        self.terms.iter_mut().for_each(|(c, _)| *c *= s);
    }
    /// `self += s·p`.
    pub fn add_point(&mut self, p: Affine, s: Fr) {
        self.terms.push((s, p));
    }
}

/// A total order on points for merging equal ones: the coordinates' internal limbs.
type PointKey = (bool, [u64; 4], [u64; 4]);

fn point_key(p: &Affine) -> PointKey {
    match p.xy() {
        Some((x, y)) => (false, x.0.0, y.0.0),
        None => (true, [0; 4], [0; 4]),
    }
}

/// Collected group equations (each must equal the identity).
#[derive(Debug, Default)]
pub(crate) struct Checks {
    list: Vec<Lc>,
}

impl Checks {
    fn push(&mut self, lc: Lc) {
        self.list.push(lc);
    }

    /// Combine all equations with powers of a final challenge and check the sum is the
    /// identity with one multi-scalar multiplication.
    fn finish(self, tr: &mut Transcript) -> Result<()> {
        let xi = tr.challenge(b"checks.batch");
        let gens = Generators::get();
        let mut g = Fr::ZERO;
        let mut h = Fr::ZERO;
        // The same point recurs across equations (sumcheck coefficients close one round and
        // open the next; both openings use the vector generators): merge equal points so each
        // enters the multi-scalar multiplication once.
        let mut merged: BTreeMap<PointKey, (Affine, Fr)> = BTreeMap::new();
        let mut w = Fr::ONE;
        for lc in &self.list {
            g += lc.g * w;
            h += lc.h * w;
            for (s, p) in &lc.terms {
                merged
                    .entry(point_key(p))
                    .and_modify(|e| e.1 += *s * w)
                    .or_insert((*p, *s * w));
            }
            w *= xi;
        }
        merged
            .entry(point_key(&gens.g))
            .and_modify(|e| e.1 += g)
            .or_insert((gens.g, g));
        merged
            .entry(point_key(&gens.h))
            .and_modify(|e| e.1 += h)
            .or_insert((gens.h, h));
        let (bases, scalars): (Vec<Affine>, Vec<Fr>) = merged.into_values().unzip();
        let sum = crate::msm::msm(&bases, &scalars);
        if sum.is_zero() {
            Ok(())
        } else {
            Err(Error::Rejected {
                reason: "group equations do not hold",
            })
        }
    }
}

pub(crate) fn verify_zero(tr: &mut Transcript, checks: &mut Checks, d: &Lc, pf: &ZeroProof) {
    tr.append_point(b"zero.a", &pf.a);
    let c = tr.challenge(b"zero.c");
    tr.append_fr(b"zero.z", &pf.z);
    let mut lc = Lc {
        h: pf.z,
        ..Lc::default()
    };
    lc.add_point(pf.a, -Fr::ONE);
    lc.add_scaled(d, -c);
    checks.push(lc);
}

/// Verify a committed sumcheck of `vars` rounds and degree `degree` for the committed `claim`;
/// returns the challenge point and the committed final claim.
///
/// Each round carries commitments `C_1..C_d` to the round polynomial's coefficients of degree
/// 1 and up; the constant term's commitment is `C_0 = (claim − Σ C_k) / 2`, which makes
/// `g(0) + g(1) = claim` hold by construction. The next claim `g(r) = C_0 + Σ r^k·C_k` is
/// `claim/2 + Σ (r^k − 1/2)·C_k`, kept as `scale·claim + rest` so the (possibly long) input
/// claim is copied once, not once per round.
fn verify_sumcheck(
    tr: &mut Transcript,
    claim: Lc,
    pf: &SumcheckProof,
    vars: usize,
    degree: usize,
) -> Result<(Vec<Fr>, Lc)> {
    if pf.rounds.len() != vars {
        return Err(Error::Shape {
            what: "sumcheck round count",
        });
    }
    let half = Fr::from(2u64).inverse().unwrap_or(Fr::ZERO);
    let mut scale = Fr::ONE;
    let mut rest = Lc::default();
    let mut point = Vec::with_capacity(vars);
    for rd in &pf.rounds {
        if rd.coeffs.len() != degree {
            return Err(Error::Shape {
                what: "sumcheck degree",
            });
        }
        tr.append_points(b"sc.coeffs", &rd.coeffs);
        let r = tr.challenge(b"sc.r");
        scale *= half;
        rest.scale(half);
        let mut pow = Fr::ONE;
        for c in &rd.coeffs {
            pow *= r;
            rest.add_point(*c, pow - half);
        }
        point.push(r);
    }
    let mut out = Lc::default();
    out.add_scaled(&claim, scale);
    out.add_scaled(&rest, Fr::ONE);
    Ok((point, out))
}

fn verify_product(
    tr: &mut Transcript,
    checks: &mut Checks,
    x: Affine,
    y: Affine,
    z: Affine,
    pf: &ProductProof,
) {
    let [alpha, beta, delta] = pf.points;
    tr.append_points(b"prod.commit", &pf.points);
    let c = tr.challenge(b"prod.c");
    tr.append_frs(b"prod.z", &pf.z);
    let [z1, z2, z3, z4, z5] = pf.z;
    checks.push(Lc {
        g: -z1,
        h: -z2,
        terms: vec![(Fr::ONE, alpha), (c, x)],
    });
    checks.push(Lc {
        g: -z3,
        h: -z4,
        terms: vec![(Fr::ONE, beta), (c, y)],
    });
    checks.push(Lc {
        g: Fr::ZERO,
        h: -z5,
        terms: vec![(Fr::ONE, delta), (c, z), (-z1, y)],
    });
}

fn verify_dot(
    tr: &mut Transcript,
    checks: &mut Checks,
    t: &Lc,
    cy: Affine,
    rv: &[Fr],
    pf: &DotProof,
) -> Result<()> {
    let gens = Generators::get();
    if pf.z.len() != rv.len() || rv.len() > gens.vec.len() {
        return Err(Error::Shape {
            what: "opening vector length",
        });
    }
    tr.append_point(b"dot.delta", &pf.delta);
    tr.append_point(b"dot.beta", &pf.beta);
    let c = tr.challenge(b"dot.c");
    tr.append_frs(b"dot.z", &pf.z);
    tr.append_fr(b"dot.zd", &pf.z_delta);
    tr.append_fr(b"dot.zb", &pf.z_beta);
    let mut a = Lc {
        h: -pf.z_delta,
        ..Lc::default()
    };
    a.add_scaled(t, c);
    a.add_point(pf.delta, Fr::ONE);
    for (z, g) in pf.z.iter().zip(&gens.vec) {
        a.add_point(*g, -*z);
    }
    checks.push(a);
    let ip: Fr = pf.z.iter().zip(rv).map(|(a, b)| *a * b).sum();
    checks.push(Lc {
        g: -ip,
        h: -pf.z_beta,
        terms: vec![(c, cy), (Fr::ONE, pf.beta)],
    });
    Ok(())
}

/// An evaluation claim on a committed vector: the point and the claimed (committed) value.
type Claim = (Vec<Fr>, Lc);

fn verify_batch(
    tr: &mut Transcript,
    checks: &mut Checks,
    layout: &Layout,
    rows: &[Affine],
    claims: &[Claim],
    pf: &BatchProof,
) -> Result<()> {
    let zeta = tr.challenge(b"batch.zeta");
    let mut claim = Lc::default();
    let mut pow = Fr::ONE;
    for (_, c) in claims {
        claim.add_scaled(c, pow);
        pow *= zeta;
    }
    let (z, fin) = verify_sumcheck(tr, claim, &pf.sumcheck, layout.vars, 2)?;
    tr.append_point(b"batch.eval", &pf.eval);
    let mut weight = Fr::ZERO;
    let mut pow = Fr::ONE;
    for (p, _) in claims {
        weight += pow * eq_eval(p, &z);
        pow *= zeta;
    }
    let mut d = fin;
    d.add_point(pf.eval, -weight);
    verify_zero(tr, checks, &d, &pf.end);
    let (zc, zr) = z.split_at(layout.col_vars);
    let mut t = Lc::default();
    for (i, row) in rows.iter().enumerate() {
        t.add_point(*row, crate::field::eq_at_index(zr, i));
    }
    verify_dot(tr, checks, &t, pf.eval, &eq_table(zc), &pf.open)
}

/// Public coefficients of the bit-matrix sumcheck's closing relation, shared with the prover.
#[derive(Debug, Clone)]
pub struct BitCoefficients {
    /// Coefficient of `B`.
    pub b: Fr,
    /// Coefficient of `F_over`.
    pub f_over: Fr,
    /// Coefficient of `B·F_over`.
    pub b_f_over: Fr,
    /// Coefficient of `B·F_under`.
    pub b_f_under: Fr,
    /// Coefficient of `B·B`.
    pub bb: Fr,
}

/// The random row/column tables of one layer's bit-matrix sumcheck.
#[derive(Debug, Clone)]
pub struct BitTables {
    /// `eq(τ,row)·valid(row)` (relation rows).
    pub er: Vec<Fr>,
    /// Output functional moved onto rows.
    pub ur: Vec<Fr>,
    /// `eq(τz_rows,row)·valid(row)` (zero-check rows).
    pub zr: Vec<Fr>,
    /// Relation column coefficients `R(j)`.
    pub rel: Vec<Fr>,
    /// Value column coefficients `Q(j)` times `β`.
    pub val: Vec<Fr>,
    /// `eq(τz_cols, j)·(sel_over + γ²·sel_under + γ⁴·sel_used)`.
    pub c_b: Vec<Fr>,
    /// `eq(τz_cols, j)·γ·sel_q`.
    pub c_fo: Vec<Fr>,
    /// `-eq(τz_cols, j)·(sel_over + γ·sel_q)`.
    pub c_bfo: Vec<Fr>,
    /// `eq(τz_cols, j)·(γ³·sel_q - γ²·sel_under)`.
    pub c_bfu: Vec<Fr>,
    /// `-eq(τz_cols, j)·γ⁴·sel_used`.
    pub c_bb: Vec<Fr>,
}

impl BitTables {
    /// Build the tables from the challenges.
    pub fn new(g: &LayerGeom, tau: &[Fr], u_out: &[Fr], beta: Fr, gamma: Fr, tau_z: &[Fr]) -> Self {
        let tz_rows = &tau_z[g.j_vars.min(tau_z.len())..];
        Self {
            er: g.masked_eq_rows(tau),
            ur: g.rows_from_flat(u_out),
            zr: g.masked_eq_rows(tz_rows),
            ..Self::columns(g, beta, gamma, tau_z)
        }
    }

    /// Only the column tables (the row tables left empty): what the verifier needs, since it
    /// evaluates the row tables' extensions in closed form.
    fn columns(g: &LayerGeom, beta: Fr, gamma: Fr, tau_z: &[Fr]) -> Self {
        let tz_cols = &tau_z[..g.j_vars.min(tau_z.len())];
        let ej = eq_table(tz_cols);
        let [sq, so, su, sused] = g.selector_cols();
        let g2 = gamma * gamma;
        let g3 = g2 * gamma;
        let g4 = g3 * gamma;
        let map = |f: &dyn Fn(usize) -> Fr| -> Vec<Fr> { (0..ej.len()).map(f).collect() };
        Self {
            er: Vec::new(),
            ur: Vec::new(),
            zr: Vec::new(),
            rel: g.relation_cols(),
            val: g.value_cols().into_iter().map(|v| v * beta).collect(),
            c_b: map(&|j| ej[j] * (so[j] + g2 * su[j] + g4 * sused[j])),
            c_fo: map(&|j| ej[j] * gamma * sq[j]),
            c_bfo: map(&|j| -(ej[j] * (so[j] + gamma * sq[j]))),
            c_bfu: map(&|j| ej[j] * (g3 * sq[j] - g2 * su[j])),
            c_bb: map(&|j| -(ej[j] * g4 * sused[j])),
        }
    }

    /// The closing coefficients at the sumcheck point `(ρ_cols, ρ_rows)`.
    pub fn coefficients(&self, rho_cols: &[Fr], rho_rows: &[Fr]) -> BitCoefficients {
        let rows = [&self.er, &self.ur, &self.zr].map(|t| mle_eval(t, rho_rows));
        self.with_rows(rho_cols, rows)
    }

    /// The closing coefficients given the row tables' values `[er, ur, zr]` at `ρ_rows`.
    fn with_rows(&self, rho_cols: &[Fr], [er, ur, zr]: [Fr; 3]) -> BitCoefficients {
        let col = |t: &[Fr]| mle_eval(t, rho_cols);
        BitCoefficients {
            b: er * col(&self.rel) + ur * col(&self.val) + zr * col(&self.c_b),
            f_over: zr * col(&self.c_fo),
            b_f_over: zr * col(&self.c_bfo),
            b_f_under: zr * col(&self.c_bfu),
            bb: zr * col(&self.c_bb),
        }
    }
}

/// Verify `proof` that the registered model maps the int8 `input` to the int8 `output` under
/// `binding`.
///
/// # Errors
/// [`Error::InvalidStatement`] for an input or output of the wrong length, [`Error::Shape`] for
/// a proof that does not fit the model, and [`Error::Rejected`] for a proof that fails a check.
pub fn verify(
    model: &PreparedModel,
    input: &[i8],
    output: &[i8],
    binding: &RequestBinding,
    proof: &Proof,
) -> Result<()> {
    binding.check()?;
    let geoms = &model.geoms;
    if input.len() != model.model.circuit.input_len as usize {
        return Err(Error::InvalidStatement {
            reason: "input length differs from the model",
        });
    }
    let Some(last) = geoms.last() else {
        return Err(Error::InvalidModel {
            reason: "no layers",
        });
    };
    if output.len() != last.out_len() {
        return Err(Error::InvalidStatement {
            reason: "output length differs from the model",
        });
    }
    if proof.layers.len() != geoms.len() {
        return Err(Error::Shape {
            what: "layer count",
        });
    }
    let wl = &model.witness_layout;
    if proof.witness_rows.len() != wl.real_rows() {
        return Err(Error::Shape {
            what: "witness row count",
        });
    }
    let mut tr = statement_transcript(&model.id, input, output, binding);
    let mut checks = Checks::default();
    tr.append_points(b"witness.rows", &proof.witness_rows);
    // Padding rows are not sent: they commit to zero with no blinding (the identity).
    let mut sent = proof.witness_rows.iter();
    let witness_rows: Vec<Affine> = wl
        .padding
        .iter()
        .map(|&pad| {
            if pad {
                Affine::zero()
            } else {
                sent.next().copied().unwrap_or_else(Affine::zero)
            }
        })
        .collect();

    // The claim on the last layer's output is public: y~(r_y).
    let ry = tr.challenges(b"out.r", crate::field::log2_ceil(last.out_len()));
    let mut u_out: Vec<Fr> = eq_table(&ry);
    u_out.truncate(last.out_len());
    let y_val: Fr = u_out
        .iter()
        .zip(output)
        .map(|(u, &y)| *u * fr_i64(i64::from(y)))
        .sum();
    let mut x_claim = Lc::constant(y_val);

    let mut v_claims: Vec<Claim> = Vec::new();
    let mut w_claims: Vec<Claim> = Vec::new();
    let nl = geoms.len();
    for (idx, lp) in proof.layers.iter().enumerate() {
        let l = nl - 1 - idx;
        let g = &geoms[l];
        let shape = |what| Error::Shape { what };

        // S1: T = Σ_row eq(τ,row)·valid·m'·acc.
        let tau = tr.challenges(b"layer.tau", g.row_vars());
        tr.append_point(b"layer.t", &lp.t);
        let (rho1, f1) = verify_sumcheck(&mut tr, Lc::point(lp.t), &lp.s1, g.row_vars(), 2)?;
        tr.append_point(b"layer.acc", &lp.acc);
        let mut d = f1;
        let mprime = |o: usize| g.mprime.get(o).map_or(Fr::ZERO, |&m| Fr::from(m));
        d.add_point(lp.acc, -g.masked_eq_eval(&tau, Some(&rho1), mprime));
        verify_zero(&mut tr, &mut checks, &d, &lp.s1_end);
        let (rho_p, rho_o) = rho1.split_at(g.p_vars);

        // S3: acc~(ρ) - b~(ρ_o) = Σ_k W~(ρ_o, k) · X~(k, ρ_p).
        tr.append_point(b"layer.bias", &lp.bias);
        w_claims.push((
            model
                .weight_layout
                .full_point(2 * l + 1, rho_o)
                .ok_or(shape("bias point"))?,
            Lc::point(lp.bias),
        ));
        let mut claim3 = Lc::point(lp.acc);
        claim3.add_point(lp.bias, -Fr::ONE);
        let (rho_k, f3) = verify_sumcheck(&mut tr, claim3, &lp.s3, g.k_vars, 2)?;
        tr.append_point(b"layer.w", &lp.w);
        let mut wpoint = rho_k.clone();
        wpoint.extend_from_slice(rho_o);
        w_claims.push((
            model
                .weight_layout
                .full_point(2 * l, &wpoint)
                .ok_or(shape("weight point"))?,
            Lc::point(lp.w),
        ));
        let u_in = wiring_functional(g, &rho_k, rho_p);
        let mut d = f3;
        let next_claim = match (&lp.x, l) {
            (None, 0) => {
                let xv: Fr = u_in
                    .iter()
                    .zip(input)
                    .map(|(u, &x)| *u * fr_i64(i64::from(x)))
                    .sum();
                d.add_point(lp.w, -xv);
                None
            }
            (Some((x, wx, pp)), l) if l > 0 => {
                tr.append_point(b"layer.x", x);
                tr.append_point(b"layer.wx", wx);
                verify_product(&mut tr, &mut checks, lp.w, *x, *wx, pp);
                d.add_point(*wx, -Fr::ONE);
                Some(Lc::point(*x))
            }
            _ => return Err(shape("input claim")),
        };
        verify_zero(&mut tr, &mut checks, &d, &lp.s3_end);

        // S2: relation + output claim + booleanity + clamp over the bit matrix.
        let beta = tr.challenge(b"layer.beta");
        let gamma = tr.challenge(b"layer.gamma");
        let tau_z = tr.challenges(b"layer.tauz", g.j_vars + g.row_vars());
        let tables = BitTables::columns(g, beta, gamma, &tau_z);
        let er_sum = g.masked_eq_eval(&tau, None, |_| Fr::ONE);
        let u_sum: Fr = u_out.iter().sum();
        let mut claim2 = Lc::point(lp.t);
        claim2.g += g.relation_constant() * er_sum;
        claim2.add_scaled(&x_claim, beta);
        claim2.g -= beta * fr_i64(g.lo) * u_sum;
        let (rho2, f2) = verify_sumcheck(&mut tr, claim2, &lp.s2, g.j_vars + g.row_vars(), 3)?;
        let (rho_j, rho_r) = rho2.split_at(g.j_vars);
        tr.append_points(b"layer.evals", &lp.evals);
        let [b, fo, fu, bfo, bfu, bb] = lp.evals;
        verify_product(&mut tr, &mut checks, b, fo, bfo, &lp.products[0]);
        verify_product(&mut tr, &mut checks, b, fu, bfu, &lp.products[1]);
        verify_product(&mut tr, &mut checks, b, b, bb, &lp.products[2]);
        let tz_rows = &tau_z[g.j_vars..];
        let co = tables.with_rows(
            rho_j,
            [
                g.masked_eq_eval(&tau, Some(rho_r), |_| Fr::ONE),
                g.flat_eval(&u_out, rho_r),
                g.masked_eq_eval(tz_rows, Some(rho_r), |_| Fr::ONE),
            ],
        );
        let mut d = f2;
        d.add_point(b, -co.b);
        d.add_point(fo, -co.f_over);
        d.add_point(bfo, -co.b_f_over);
        d.add_point(bfu, -co.b_f_under);
        d.add_point(bb, -co.bb);
        verify_zero(&mut tr, &mut checks, &d, &lp.s2_end);
        let at_col = |col: usize| {
            let mut p = index_bits(col, g.j_vars);
            p.extend_from_slice(rho_r);
            p
        };
        for (p, c) in [
            (rho2.clone(), b),
            (at_col(g.col_flag_over()), fo),
            (at_col(g.col_flag_under()), fu),
        ] {
            v_claims.push((
                wl.full_point(l, &p).ok_or(shape("witness point"))?,
                Lc::point(c),
            ));
        }
        match next_claim {
            Some(c) => {
                x_claim = c;
                u_out = u_in;
            }
            None => {
                x_claim = Lc::default();
                u_out = Vec::new();
            }
        }
    }
    verify_batch(
        &mut tr,
        &mut checks,
        wl,
        &witness_rows,
        &v_claims,
        &proof.witness,
    )?;
    verify_batch(
        &mut tr,
        &mut checks,
        &model.weight_layout,
        &model.model.weight_rows,
        &w_claims,
        &proof.weights,
    )?;
    checks.finish(&mut tr)
}

/// Decode and verify in one step (what the chain calls on untrusted bytes).
///
/// # Errors
/// Any decoding error or verification failure.
pub fn verify_bytes(
    model: &PreparedModel,
    input: &[i8],
    output: &[i8],
    binding: &RequestBinding,
    proof: &[u8],
) -> Result<()> {
    let proof = Proof::decode(proof)?;
    verify(model, input, output, binding, &proof)
}
