//! The prover: mirrors the verifier's transcript step by step.

use ark_ec::CurveGroup;
use ark_ff::{AdditiveGroup, Field};
use counterweight_zkml_verifier::{
    Affine, BatchProof, BitTables, Fr, LayerProof, Layout, Projective, Proof, RequestBinding,
    Transcript, eq_at_index, eq_table, fr_i64, index_bits, log2_ceil, mle_eval,
    statement_transcript, wiring_functional,
};
use tracing::instrument;

use crate::bits;
use crate::error::Result;
use crate::model::Prover;
use crate::pedersen::{Opening, commit, commit_bits_row, prove_dot, prove_product, prove_zero};
use crate::rng::BlindRng;
use crate::sumcheck::{self, Factor, Term};
use crate::witness;

/// An evaluation claim on segment `seg` of a committed vector at a segment-local point.
type Claim = (usize, Vec<Fr>, Opening);

fn batch(
    tr: &mut Transcript,
    rng: &mut BlindRng,
    layout: &Layout,
    values: &[Fr],
    bits: Option<&[u8]>,
    row_blinds: &[Fr],
    claims: &[Claim],
) -> BatchProof {
    let zeta = tr.challenge(b"batch.zeta");
    let n = 1usize << layout.vars;
    let mut weights = vec![Fr::ZERO; n];
    let mut claim = Opening::default();
    let mut pow = Fr::ONE;
    for (seg, p, c) in claims {
        claim.add_scaled(c, pow);
        let off = layout.segments.get(*seg).map_or(0, |s| s.offset);
        for (i, e) in eq_table(p).iter().enumerate() {
            if let Some(w) = weights.get_mut(off + i) {
                *w += pow * e;
            }
        }
        pow *= zeta;
    }
    let out = match bits {
        Some(bits) => sumcheck::prove_bits_dot(tr, rng, claim, bits, weights, layout.vars),
        None => {
            let mut vals = values.to_vec();
            vals.resize(n, Fr::ZERO);
            sumcheck::prove(
                tr,
                rng,
                claim,
                vec![Factor::Full(vals), Factor::Full(weights)],
                &[Term::new(&[0, 1])],
                layout.vars,
                2,
            )
        }
    };
    let eval = Opening::fresh(out.finals[0], rng);
    let eval_point = eval.point();
    tr.append_point(b"batch.eval", &eval_point);
    let mut d = out.claim;
    d.add_scaled(&eval, -out.finals[1]);
    let end = prove_zero(tr, rng, &d);
    let (zc, zr) = out.point.split_at(layout.col_vars);
    let c = 1usize << layout.col_vars;
    let mut w = vec![Fr::ZERO; c];
    let mut r_t = Fr::ZERO;
    for (i, rb) in row_blinds.iter().enumerate().take(layout.rows) {
        let l = eq_at_index(zr, i);
        r_t += l * rb;
        for (j, wj) in w.iter_mut().enumerate() {
            if let Some(v) = values.get(i * c + j) {
                *wj += l * v;
            }
        }
    }
    let open = prove_dot(tr, rng, &w, r_t, &eq_table(zc), &eval);
    BatchProof {
        sumcheck: out.proof,
        eval: eval_point,
        end,
        open,
    }
}

impl Prover {
    /// Evaluate the model on the int8 `input` and prove the result, bound to `binding`.
    /// Returns the int8 output and the proof.
    ///
    /// # Errors
    /// A wrong-length input, or a value outside the circuit's range.
    #[instrument(name = "zkml.prove", skip_all, fields(model = %self.prepared.id))]
    pub fn prove(
        &self,
        input: &[i8],
        binding: &RequestBinding,
        rng: &mut BlindRng,
    ) -> Result<(Vec<i8>, Proof)> {
        self.prove_with_progress(input, binding, rng, &mut |_| {})
    }

    /// [`Prover::prove`], calling `progress(step)` after each of the `layers + 2` steps.
    ///
    /// # Errors
    /// As [`Prover::prove`].
    pub fn prove_with_progress(
        &self,
        input: &[i8],
        binding: &RequestBinding,
        rng: &mut BlindRng,
        progress: &mut dyn FnMut(&str),
    ) -> Result<(Vec<i8>, Proof)> {
        self.secret.check_input(input)?;
        let pm = &self.prepared;
        let geoms = &pm.geoms;
        let wits = witness::trace(geoms, self.secret.layers(), input)?;
        let output = wits.last().map(|w| w.output.clone()).unwrap_or_default();
        let mut tr = statement_transcript(&pm.id, input, &output, binding);

        // Commit the witness bit vector.
        let wl = &pm.witness_layout;
        let mut vbits = vec![0u8; wl.len];
        for (l, w) in wits.iter().enumerate() {
            let off = wl.segments[l].offset;
            vbits[off..off + w.bits.len()].copy_from_slice(&w.bits);
        }
        // Padding rows are zero by construction: no blinding, no commitment in the proof.
        let c = 1usize << wl.col_vars;
        let mut vblinds = rng.frs(wl.rows);
        let vrows: Vec<Projective> = (0..wl.rows)
            .filter(|&i| !wl.padding[i])
            .map(|i| {
                let s = (i * c).min(vbits.len());
                let e = ((i + 1) * c).min(vbits.len());
                commit_bits_row(&vbits[s..e], &vblinds[i])
            })
            .collect();
        for (b, pad) in vblinds.iter_mut().zip(&wl.padding) {
            if *pad {
                *b = Fr::ZERO;
            }
        }
        let witness_rows: Vec<Affine> = Projective::normalize_batch(&vrows);
        tr.append_points(b"witness.rows", &witness_rows);
        progress("witness committed");

        let last = &geoms[geoms.len() - 1];
        let ry = tr.challenges(b"out.r", log2_ceil(last.out_len()));
        let mut u_out = eq_table(&ry);
        u_out.truncate(last.out_len());
        let y_val: Fr = u_out
            .iter()
            .zip(&output)
            .map(|(u, &y)| *u * fr_i64(i64::from(y)))
            .sum();
        let mut x_claim = Opening::public(y_val);

        let mut v_claims: Vec<Claim> = Vec::new();
        let mut w_claims: Vec<Claim> = Vec::new();
        let mut layers = Vec::with_capacity(geoms.len());
        for l in (0..geoms.len()).rev() {
            let g = &geoms[l];
            let wit = &wits[l];
            let lw = &self.secret.layers()[l];

            // S1.
            let acc_fr: Vec<Fr> = wit.acc.iter().map(|&a| fr_i64(a)).collect();
            let t_blind = rng.fr();
            let tau = tr.challenges(b"layer.tau", g.row_vars());
            let er = g.masked_eq_rows(&tau);
            let mrows = g.mprime_rows();
            let g1: Vec<Fr> = er.iter().zip(&mrows).map(|(a, b)| *a * b).collect();
            let t_val: Fr = g1.iter().zip(&acc_fr).map(|(a, b)| *a * b).sum();
            let t = Opening {
                v: t_val,
                r: t_blind,
            };
            let t_point = t.point();
            tr.append_point(b"layer.t", &t_point);
            let s1 = sumcheck::prove(
                &mut tr,
                rng,
                t,
                vec![Factor::Full(g1.clone()), Factor::Full(acc_fr)],
                &[Term::new(&[0, 1])],
                g.row_vars(),
                2,
            );
            let acc = Opening::fresh(s1.finals[1], rng);
            let acc_point = acc.point();
            tr.append_point(b"layer.acc", &acc_point);
            let mut d = s1.claim;
            d.add_scaled(&acc, -s1.finals[0]);
            let s1_end = prove_zero(&mut tr, rng, &d);
            let (rho_p, rho_o) = s1.point.split_at(g.p_vars);

            // S3.
            let mut bias_tab: Vec<Fr> = lw.bias.iter().map(|&b| fr_i64(i64::from(b))).collect();
            bias_tab.resize(1 << g.o_vars, Fr::ZERO);
            let bias = Opening::fresh(mle_eval(&bias_tab, rho_o), rng);
            let bias_point = bias.point();
            tr.append_point(b"layer.bias", &bias_point);
            w_claims.push((2 * l + 1, rho_o.to_vec(), bias));
            let mut claim3 = acc;
            claim3.add_scaled(&bias, -Fr::ONE);
            let eo = eq_table(rho_o);
            let kpad = 1usize << g.k_vars;
            let mut wfold = vec![Fr::ZERO; kpad];
            for (o, &e) in eo.iter().enumerate().take(g.out_channels) {
                for (k, &wk) in lw.weight[o * g.dot..(o + 1) * g.dot].iter().enumerate() {
                    if wk != 0 {
                        wfold[k] += e * fr_i64(i64::from(wk));
                    }
                }
            }
            let ep = eq_table(rho_p);
            let mut xfold = vec![Fr::ZERO; kpad];
            for (p, &e) in ep.iter().enumerate().take(g.spatial) {
                for (k, xk) in xfold.iter_mut().enumerate().take(g.dot) {
                    if let Some(i) = g.wire(k, p) {
                        *xk += e * fr_i64(i64::from(wit.input[i]));
                    }
                }
            }
            let s3 = sumcheck::prove(
                &mut tr,
                rng,
                claim3,
                vec![Factor::Full(wfold), Factor::Full(xfold)],
                &[Term::new(&[0, 1])],
                g.k_vars,
                2,
            );
            let w = Opening::fresh(s3.finals[0], rng);
            let w_point = w.point();
            tr.append_point(b"layer.w", &w_point);
            let mut wpoint = s3.point.clone();
            wpoint.extend_from_slice(rho_o);
            w_claims.push((2 * l, wpoint, w));
            let u_in = wiring_functional(g, &s3.point, rho_p);
            let mut d = s3.claim;
            let (x_part, next_claim) = if l == 0 {
                d.add_scaled(&w, -s3.finals[1]);
                (None, None)
            } else {
                let x = Opening::fresh(s3.finals[1], rng);
                let wx = Opening::fresh(s3.finals[0] * s3.finals[1], rng);
                let (xp, wxp) = (x.point(), wx.point());
                tr.append_point(b"layer.x", &xp);
                tr.append_point(b"layer.wx", &wxp);
                let pp = prove_product(&mut tr, rng, &w, &x, xp, &wx);
                d.add_scaled(&wx, -Fr::ONE);
                (Some((xp, wxp, pp)), Some(x))
            };
            let s3_end = prove_zero(&mut tr, rng, &d);

            // S2.
            let beta = tr.challenge(b"layer.beta");
            let gamma = tr.challenge(b"layer.gamma");
            let tau_z = tr.challenges(b"layer.tauz", g.j_vars + g.row_vars());
            let tables = BitTables::new(g, &tau, &u_out, beta, gamma, &tau_z);
            let er_sum: Fr = er.iter().sum();
            let u_sum: Fr = u_out.iter().sum();
            let mut claim2 = t;
            claim2.v += g.relation_constant() * er_sum;
            claim2.add_scaled(&x_claim, beta);
            claim2.v -= beta * fr_i64(g.lo) * u_sum;
            let s2 = bits::prove_bits(&mut tr, rng, claim2, g, &wit.bits, &tables);
            let (rho_j, rho_r) = s2.point.split_at(g.j_vars);
            let (bv, fov, fuv) = (s2.finals[0], s2.finals[1], s2.finals[2]);
            let ob = Opening::fresh(bv, rng);
            let ofo = Opening::fresh(fov, rng);
            let ofu = Opening::fresh(fuv, rng);
            let obfo = Opening::fresh(bv * fov, rng);
            let obfu = Opening::fresh(bv * fuv, rng);
            let obb = Opening::fresh(bv * bv, rng);
            let pts = Projective::normalize_batch(
                &[ob, ofo, ofu, obfo, obfu, obb].map(|o| commit(&o.v, &o.r)),
            );
            let evals = [pts[0], pts[1], pts[2], pts[3], pts[4], pts[5]];
            tr.append_points(b"layer.evals", &evals);
            let products = [
                prove_product(&mut tr, rng, &ob, &ofo, evals[1], &obfo),
                prove_product(&mut tr, rng, &ob, &ofu, evals[2], &obfu),
                prove_product(&mut tr, rng, &ob, &ob, evals[0], &obb),
            ];
            let co = tables.coefficients(rho_j, rho_r);
            let mut d = s2.claim;
            d.add_scaled(&ob, -co.b);
            d.add_scaled(&ofo, -co.f_over);
            d.add_scaled(&obfo, -co.b_f_over);
            d.add_scaled(&obfu, -co.b_f_under);
            d.add_scaled(&obb, -co.bb);
            let s2_end = prove_zero(&mut tr, rng, &d);
            let at_col = |col: usize| {
                let mut p = index_bits(col, g.j_vars);
                p.extend_from_slice(rho_r);
                p
            };
            for (p, o) in [
                (s2.point.clone(), ob),
                (at_col(g.col_flag_over()), ofo),
                (at_col(g.col_flag_under()), ofu),
            ] {
                v_claims.push((l, p, o));
            }
            layers.push(LayerProof {
                t: t_point,
                s1: s1.proof,
                acc: acc_point,
                s1_end,
                bias: bias_point,
                s3: s3.proof,
                w: w_point,
                x: x_part,
                s3_end,
                s2: s2.proof,
                evals,
                products,
                s2_end,
            });
            if let Some(x) = next_claim {
                x_claim = x;
                u_out = u_in;
            }
            progress("layer proved");
        }
        let vvals: Vec<Fr> = vbits.iter().map(|&b| Fr::from(u64::from(b))).collect();
        let witness = batch(&mut tr, rng, wl, &vvals, Some(&vbits), &vblinds, &v_claims);
        progress("witness opened");
        let weights = batch(
            &mut tr,
            rng,
            &pm.weight_layout,
            &self.wvec,
            None,
            &self.blinds,
            &w_claims,
        );
        progress("weights opened");
        Ok((
            output,
            Proof {
                witness_rows,
                layers,
                witness,
                weights,
            },
        ))
    }
}
