//! Completeness, soundness and zero-knowledge sanity checks.

use counterweight_zkml::test_utils::{TestRng, random_mlp};
use counterweight_zkml::{BlindRng, CommittedModel, Prover, SecretModel};
use counterweight_zkml_verifier::{Fr, Proof, RequestBinding, fr_i64, verify, verify_bytes};
use proptest::prelude::*;

fn binding() -> RequestBinding {
    RequestBinding {
        request_id: [7; 32],
        prover: vec![1, 2, 3, 4],
        chain_id: "counterweight-it".into(),
    }
}

fn setup(secret: SecretModel, seed: u8) -> Prover {
    let mut rng = BlindRng::from_seed([seed; 32]);
    Prover::new(CommittedModel::commit(secret, &mut rng).expect("commit")).expect("prover")
}

struct Fixture {
    prover: Prover,
    input: Vec<i8>,
    output: Vec<i8>,
    bytes: Vec<u8>,
}

fn fixture() -> Fixture {
    let prover = setup(random_mlp(&[16, 8, 4], 21), 1);
    let input = TestRng::new(22).i8s(16, -128, 127);
    let (output, proof) = prover
        .prove(&input, &binding(), &mut BlindRng::from_seed([2; 32]))
        .expect("prove");
    Fixture {
        prover,
        input,
        output,
        bytes: proof.encode(),
    }
}

#[test]
fn valid_proof_verifies_and_output_matches_the_evaluator() {
    let f = fixture();
    assert_eq!(f.output, f.prover.secret().evaluate(&f.input).unwrap());
    verify_bytes(f.prover.public(), &f.input, &f.output, &binding(), &f.bytes).unwrap();
}

#[test]
fn rejects_changed_output_input_and_binding() {
    let f = fixture();
    let pm = f.prover.public();
    for i in 0..f.output.len() {
        let mut y = f.output.clone();
        y[i] = y[i].wrapping_add(1);
        assert!(
            verify_bytes(pm, &f.input, &y, &binding(), &f.bytes).is_err(),
            "output {i}"
        );
    }
    let mut x = f.input.clone();
    x[3] = x[3].wrapping_add(1);
    assert!(verify_bytes(pm, &x, &f.output, &binding(), &f.bytes).is_err());
    let mut b = binding();
    b.request_id[0] ^= 1;
    assert!(verify_bytes(pm, &f.input, &f.output, &b, &f.bytes).is_err());
    let mut b = binding();
    b.prover.push(0);
    assert!(verify_bytes(pm, &f.input, &f.output, &b, &f.bytes).is_err());
    let mut b = binding();
    b.chain_id.push('x');
    assert!(verify_bytes(pm, &f.input, &f.output, &b, &f.bytes).is_err());
    assert!(verify_bytes(pm, &f.input[1..], &f.output, &binding(), &f.bytes).is_err());
}

#[test]
fn rejects_a_proof_for_another_model_with_the_same_architecture() {
    let f = fixture();
    let mut layers = f.prover.secret().layers().to_vec();
    layers[0].weight[0] = layers[0].weight[0].wrapping_add(1);
    let circuit = f.prover.secret().circuit().clone();
    let other = setup(SecretModel::new(circuit, layers).unwrap(), 1);
    assert_eq!(
        other.public().model.circuit,
        f.prover.public().model.circuit
    );
    assert_ne!(other.public().id, f.prover.public().id);
    assert!(verify_bytes(other.public(), &f.input, &f.output, &binding(), &f.bytes).is_err());
    // Same weights, fresh commitment blinding: a different model id, and the proof fails too.
    let again = setup(f.prover.secret().clone(), 3);
    assert_ne!(again.public().id, f.prover.public().id);
    assert!(verify_bytes(again.public(), &f.input, &f.output, &binding(), &f.bytes).is_err());
}

#[test]
fn rejects_every_flipped_byte_class() {
    let f = fixture();
    let pm = f.prover.public();
    let n = f.bytes.len();
    // Header, counts and the first points in full; then a stride through every region
    // (witness rows, each layer's sumchecks, product proofs, both batch openings).
    let mut positions: Vec<usize> = (0..200.min(n)).collect();
    positions.extend((200..n).step_by(37));
    positions.extend(n.saturating_sub(100)..n);
    for &i in &positions {
        for mask in [0x01u8, 0x80] {
            let mut b = f.bytes.clone();
            b[i] ^= mask;
            assert!(
                verify_bytes(pm, &f.input, &f.output, &binding(), &b).is_err(),
                "flip {mask:#x} at byte {i} of {n} accepted"
            );
        }
    }
    let mut longer = f.bytes.clone();
    longer.push(0);
    assert!(verify_bytes(pm, &f.input, &f.output, &binding(), &longer).is_err());
    assert!(verify_bytes(pm, &f.input, &f.output, &binding(), &f.bytes[..n - 1]).is_err());
}

#[test]
fn proof_bytes_contain_no_weight_or_activation_values() {
    let f = fixture();
    let mut secrets: Vec<i64> = Vec::new();
    for l in f.prover.secret().layers() {
        secrets.extend(l.weight.iter().map(|&w| i64::from(w)));
        secrets.extend(l.bias.iter().map(|&b| i64::from(b)));
    }
    secrets.sort_unstable();
    secrets.dedup();
    secrets.retain(|&v| v != 0);
    let encode = |v: &Fr| {
        let mut w = counterweight_zkml_verifier::Writer::new();
        w.fr(v);
        w.into_bytes()
    };
    let needles: Vec<Vec<u8>> = secrets.iter().map(|&v| encode(&fr_i64(v))).collect();
    for chunk in f.bytes.windows(32) {
        assert!(
            !needles.iter().any(|n| n.as_slice() == chunk),
            "a weight value appears in the proof"
        );
    }
    // A second proof of the same statement shares no 32-byte group or field encoding with the
    // first: everything is freshly blinded.
    let (_, p2) = f
        .prover
        .prove(&f.input, &binding(), &mut BlindRng::from_seed([9; 32]))
        .unwrap();
    let b2 = p2.encode();
    assert_eq!(b2.len(), f.bytes.len());
    let head = 6 + 4;
    let same = f.bytes[head..]
        .chunks(32)
        .zip(b2[head..].chunks(32))
        .filter(|(a, b)| a == b)
        .count();
    assert!(
        same < 8,
        "{same} identical 32-byte chunks across two proofs"
    );
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn verifier_never_panics_on_arbitrary_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..4096)) {
        let f = FIXTURE.with(|f| (f.prover.public().clone(), f.input.clone(), f.output.clone()));
        let _ = verify_bytes(&f.0, &f.1, &f.2, &binding(), &bytes);
        let _ = Proof::decode(&bytes);
    }

    #[test]
    fn verifier_never_panics_on_mutated_proofs(edits in proptest::collection::vec((any::<usize>(), any::<u8>()), 1..8), cut in any::<usize>()) {
        FIXTURE.with(|f| {
            let mut b = f.bytes.clone();
            for (i, v) in &edits {
                let n = b.len();
                b[i % n] = *v;
            }
            let keep = b.len() - cut % 64;
            b.truncate(keep);
            prop_assert!(verify_bytes(f.prover.public(), &f.input, &f.output, &binding(), &b).is_err());
            Ok(())
        })?;
    }
}

thread_local! {
    static FIXTURE: Fixture = fixture();
}

#[test]
fn decoding_then_encoding_is_the_identity() {
    let f = fixture();
    let p = Proof::decode(&f.bytes).unwrap();
    assert_eq!(p.encode(), f.bytes);
    verify(f.prover.public(), &f.input, &f.output, &binding(), &p).unwrap();
}

#[test]
fn padding_rows_are_identities_and_must_stay_so() {
    use ark_ec::AffineRepr;
    use counterweight_zkml::test_utils::random_cnn;
    use counterweight_zkml_verifier::{Generators, PreparedModel, PublicModel};

    // The CNN's linear layer pads 2,704 inputs to 4,096 and 10 outputs to 16: whole Hyrax
    // rows of the weight vector and of the witness hold only padding.
    let prover = setup(random_cnn(31), 4);
    let public = prover.public();
    let wl = &public.weight_layout;
    let pad = wl
        .padding
        .iter()
        .position(|p| *p)
        .expect("a padding weight row");
    assert!(public.model.weight_rows[pad].xy().is_none());
    let decoded = PublicModel::decode(&public.model.encode()).expect("identity rows decode");
    assert_eq!(decoded, public.model);
    // A model file of the previous format is refused with a version error.
    let mut old = public.model.encode();
    old[4] = 1;
    let err = PublicModel::decode(&old).unwrap_err();
    assert!(err.to_string().contains("registered again"), "{err}");
    assert!(public.witness_layout.real_rows() < public.witness_layout.rows);
    let input = TestRng::new(32).i8s(784, 0, 127);
    let (output, proof) = prover
        .prove(&input, &binding(), &mut BlindRng::from_seed([5; 32]))
        .expect("prove");
    assert_eq!(proof.witness_rows.len(), public.witness_layout.real_rows());
    verify(public, &input, &output, &binding(), &proof).expect("valid");

    // A registrant who commits something in a padding row is refused.
    let mut model = public.model.clone();
    model.weight_rows[pad] = Generators::get().vec[0];
    assert!(PreparedModel::new(model).is_err());
    // A proof with the padding rows included does not fit the model.
    let mut padded = proof;
    padded.witness_rows.push(Generators::get().vec[1]);
    assert!(verify(public, &input, &output, &binding(), &padded).is_err());
}
