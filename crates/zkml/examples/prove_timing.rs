//! Time registration, proving and verification of the three anchor model shapes with random
//! weights: `cargo run --release -p counterweight-zkml --example prove_timing`.

// A benchmark/example program: printing its measurements is its job.
#![allow(clippy::print_stdout)]
// A benchmark reads the clock; it is not on the consensus path.
#![allow(clippy::disallowed_methods)]

use std::time::{Duration, Instant};

use cpu_time::ThreadTime;

use counterweight_zkml::test_utils::{TestRng, random_cnn, random_mlp};
use counterweight_zkml::{BlindRng, CommittedModel, Prover, RequestBinding};
use counterweight_zkml_verifier::{Proof, verify};

const RUNS: usize = 5;

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

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
        let (mut pw, mut pc, mut vw, mut vc, mut dc) = (vec![], vec![], vec![], vec![], vec![]);
        let mut size = 0;
        for _ in 0..RUNS {
            let (t, c) = (Instant::now(), ThreadTime::now());
            let (out, proof) = prover.prove(&input, &binding, &mut rng)?;
            pw.push(t.elapsed());
            pc.push(c.elapsed());
            let bytes = proof.encode();
            size = bytes.len();
            let c = ThreadTime::now();
            let decoded = Proof::decode(&bytes)?;
            dc.push(c.elapsed());
            let (t, c) = (Instant::now(), ThreadTime::now());
            verify(prover.public(), &input, &out, &binding, &decoded)?;
            vw.push(t.elapsed());
            vc.push(c.elapsed());
        }
        println!(
            "{name}: register {reg:?} median of {RUNS}: prove wall {:?} cpu {:?} verify wall {:?} cpu {:?} decode cpu {:?} proof {size} bytes",
            median(pw),
            median(pc),
            median(vw),
            median(vc),
            median(dc),
        );
    }
    Ok(())
}
