use counterweight_zkml_verifier::{RequestBinding, verify};

use crate::test_utils::{TestRng, random_mlp};
use crate::{BlindRng, CommittedModel, Prover};

#[test]
fn proves_and_verifies_small_mlp() {
    let secret = random_mlp(&[8, 4, 3], 1);
    let mut rng = BlindRng::from_seed([1; 32]);
    let prover = Prover::new(CommittedModel::commit(secret, &mut rng).unwrap()).unwrap();
    let input = TestRng::new(5).i8s(8, -128, 127);
    let binding = RequestBinding::default();
    let (out, proof) = prover.prove(&input, &binding, &mut rng).unwrap();
    assert_eq!(out, prover.secret().evaluate(&input).unwrap());
    verify(prover.public(), &input, &out, &binding, &proof).unwrap();
    let mut bad = out;
    bad[0] = bad[0].wrapping_add(1);
    assert!(verify(prover.public(), &input, &bad, &binding, &proof).is_err());
}

fn roundtrip(secret: crate::SecretModel, input: Vec<i8>) {
    let mut rng = BlindRng::from_seed([3; 32]);
    let prover = Prover::new(CommittedModel::commit(secret, &mut rng).unwrap()).unwrap();
    let binding = RequestBinding {
        request_id: [9; 32],
        prover: b"prover-address".to_vec(),
        chain_id: "counterweight-test".into(),
    };
    let (out, proof) = prover.prove(&input, &binding, &mut rng).unwrap();
    assert_eq!(out, prover.secret().evaluate(&input).unwrap());
    let bytes = proof.encode();
    let decoded = counterweight_zkml_verifier::Proof::decode(&bytes).unwrap();
    assert_eq!(decoded, proof);
    verify(prover.public(), &input, &out, &binding, &decoded).unwrap();
}

#[test]
fn proves_mlp_64_32_10() {
    roundtrip(
        random_mlp(&[64, 32, 10], 11),
        TestRng::new(12).i8s(64, 0, 127),
    );
}

#[test]
fn proves_small_cnn() {
    roundtrip(
        crate::test_utils::random_cnn(13),
        TestRng::new(14).i8s(784, 0, 127),
    );
}

#[test]
fn proves_mlp_784_128_10_slow() {
    roundtrip(
        random_mlp(&[784, 128, 10], 15),
        TestRng::new(16).i8s(784, 0, 127),
    );
}

#[test]
fn refuses_biases_above_the_declared_bound() {
    let model = random_mlp(&[8, 4, 3], 2);
    let mut layers = model.layers().to_vec();
    layers[1].bias[0] = 1 << 16;
    let err = crate::SecretModel::new(model.circuit().clone(), layers.clone()).unwrap_err();
    assert!(
        matches!(
            err,
            crate::Error::BiasBound {
                layer: 1,
                bits: 16,
                ..
            }
        ),
        "{err}"
    );
    // Within the bound (|b| < 2^16) is fine, at both signs.
    layers[1].bias[0] = -(1 << 16) + 1;
    crate::SecretModel::new(model.circuit().clone(), layers).unwrap();
}
