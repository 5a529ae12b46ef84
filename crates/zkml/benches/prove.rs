//! Criterion benchmarks: proving and verifying the anchor model shapes (random int8 weights).

use counterweight_zkml::test_utils::{TestRng, random_cnn, random_mlp};
use counterweight_zkml::{BlindRng, CommittedModel, Prover, RequestBinding};
use counterweight_zkml_verifier::verify_bytes;
use criterion::{Criterion, criterion_group, criterion_main};

fn bench(c: &mut Criterion) {
    let models = [
        ("mlp_64_32_10", random_mlp(&[64, 32, 10], 1), 64),
        ("mlp_784_128_10", random_mlp(&[784, 128, 10], 2), 784),
        ("cnn_28", random_cnn(3), 784),
    ];
    let mut group = c.benchmark_group("zkml");
    group.sample_size(10);
    for (name, secret, n) in models {
        let mut rng = BlindRng::from_seed([5; 32]);
        let prover =
            Prover::new(CommittedModel::commit(secret, &mut rng).expect("commit")).expect("prover");
        let input = TestRng::new(9).i8s(n, 0, 127);
        let binding = RequestBinding::default();
        group.bench_function(format!("prove/model={name}"), |b| {
            b.iter(|| prover.prove(&input, &binding, &mut rng).expect("prove"))
        });
        // What the chain pays: decoding the proof bytes, then verifying.
        let (out, proof) = prover.prove(&input, &binding, &mut rng).expect("prove");
        let bytes = proof.encode();
        group.bench_function(format!("verify_bytes/model={name}"), |b| {
            b.iter(|| {
                verify_bytes(prover.public(), &input, &out, &binding, &bytes).expect("verify")
            })
        });
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
