//! Feed arbitrary bytes to the proof decoder and verifier: they must return, never panic.
//!
//! The first input byte picks the mode: even, the rest of the input is the proof; odd, the rest
//! is XORed onto a valid proof, so that the fuzzer can keep the encoding intact (every point on
//! the curve) and reach the verifier's checks instead of stopping at the decoder.
#![no_main]

use std::sync::OnceLock;

use counterweight_zkml::test_utils::{TestRng, random_mlp};
use counterweight_zkml::{BlindRng, CommittedModel, Prover};
use counterweight_zkml_verifier::{RequestBinding, verify_bytes};
use libfuzzer_sys::fuzz_target;

struct Fixture {
    prover: Prover,
    input: Vec<i8>,
    output: Vec<i8>,
    proof: Vec<u8>,
}

fn fixture() -> &'static Fixture {
    static F: OnceLock<Fixture> = OnceLock::new();
    F.get_or_init(|| {
        let mut rng = BlindRng::from_seed([7; 32]);
        let committed = CommittedModel::commit(random_mlp(&[4, 3, 2], 5), &mut rng).expect("commit");
        let prover = Prover::new(committed).expect("prover");
        let input = TestRng::new(6).i8s(4, -128, 127);
        let (output, proof) = prover
            .prove(&input, &RequestBinding::default(), &mut rng)
            .expect("prove");
        let proof = proof.encode();
        verify_bytes(prover.public(), &input, &output, &RequestBinding::default(), &proof)
            .expect("the fixture proof verifies");
        Fixture {
            prover,
            input,
            output,
            proof,
        }
    })
}

fuzz_target!(|data: &[u8]| {
    let f = fixture();
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    let bytes = if mode % 2 == 0 {
        rest.to_vec()
    } else {
        let mut p = f.proof.clone();
        p.iter_mut().zip(rest).for_each(|(b, x)| *b ^= x);
        p
    };
    let verdict = verify_bytes(
        f.prover.public(),
        &f.input,
        &f.output,
        &RequestBinding::default(),
        &bytes,
    );
    // Only the untouched proof may verify.
    assert!(verdict.is_err() || bytes == f.proof);
});
