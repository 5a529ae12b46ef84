//! Time registration, proving and verification of the three anchor model shapes with random
//! weights: `cargo run --release -p counterweight-zkml --example prove_timing`.

// A benchmark reads the clock; it is not on the consensus path.
#![allow(clippy::disallowed_methods)]

use std::time::Instant;

use cpu_time::ThreadTime;

use counterweight_zkml::test_utils::{TestRng, random_cnn, random_mlp};
use counterweight_zkml::{BlindRng, CommittedModel, Prover, RequestBinding};
use counterweight_zkml_verifier::verify;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let models = [
        ("mlp_64_32_10", random_mlp(&[64, 32, 10], 1), 64),
        ("mlp_784_128_10", random_mlp(&[784, 128, 10], 2), 784),
        ("cnn_28", random_cnn(3), 784),
    ];
    let _ = counterweight_zkml_verifier::Generators::get();
    for (name, secret, n) in models {
        let mut rng = BlindRng::from_seed([5; 32]);
        let t = Instant::now();
        let prover = Prover::new(CommittedModel::commit(secret, &mut rng)?)?;
        let reg = t.elapsed();
        let input = TestRng::new(9).i8s(n, 0, 127);
        let binding = RequestBinding::default();
        let _ = prover.prove(&input, &binding, &mut rng)?;
        let (t, c) = (Instant::now(), ThreadTime::now());
        let (out, proof) = prover.prove(&input, &binding, &mut rng)?;
        let (pt, pc) = (t.elapsed(), c.elapsed());
        let (t, c) = (Instant::now(), ThreadTime::now());
        verify(prover.public(), &input, &out, &binding, &proof)?;
        let (vt, vc) = (t.elapsed(), c.elapsed());
        println!(
            "{name}: register {:?} prove wall {:?} cpu {:?} verify wall {:?} cpu {:?} proof {} bytes",
            reg,
            pt,
            pc,
            vt,
            vc,
            proof.encode().len()
        );
    }
    Ok(())
}
