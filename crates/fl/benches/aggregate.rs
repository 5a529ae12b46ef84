//! Aggregation throughput on one core: 10 clients × 10 M Q16.16 parameters (input bytes/s),
//! plus the CPU cost of a secure-aggregation round against a plain one.
//!
//! Times are the benchmark thread's CPU time, not wall time, so that a busy shared machine
//! does not inflate them; every measured path is single-threaded. Set `FL_BENCH_PARAMS` to
//! change the model size.

// A benchmark/example program: printing its measurements is its job.
#![allow(clippy::print_stderr)]

use std::collections::BTreeMap;
use std::hint::black_box;
use std::time::Duration;

use counterweight_fl::secagg::SecAggConfig;
use counterweight_fl::secagg::local::{Dropouts, run_round};
use counterweight_fl::{
    Aggregator, Bulyan, ClientId, Exec, FedAvg, FedMedian, FedTrimmedAvg, Krum, MultiKrum, Update,
    fixed,
};
use criterion::measurement::{Measurement, ValueFormatter};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha20Rng;

const CLIENTS: usize = 10;

/// Criterion measurement of the calling thread's CPU time, in nanoseconds.
struct ThreadCpu;

impl Measurement for ThreadCpu {
    type Intermediate = cpu_time::ThreadTime;
    type Value = Duration;

    fn start(&self) -> Self::Intermediate {
        cpu_time::ThreadTime::now()
    }

    fn end(&self, i: Self::Intermediate) -> Self::Value {
        i.elapsed()
    }

    fn add(&self, a: &Self::Value, b: &Self::Value) -> Self::Value {
        *a + *b
    }

    fn zero(&self) -> Self::Value {
        Duration::ZERO
    }

    fn to_f64(&self, v: &Self::Value) -> f64 {
        v.as_nanos() as f64
    }

    fn formatter(&self) -> &dyn ValueFormatter {
        &CpuFormatter
    }
}

struct CpuFormatter;

impl ValueFormatter for CpuFormatter {
    fn scale_values(&self, typical: f64, values: &mut [f64]) -> &'static str {
        let (div, unit) = if typical < 1e3 {
            (1.0, "ns cpu")
        } else if typical < 1e6 {
            (1e3, "µs cpu")
        } else if typical < 1e9 {
            (1e6, "ms cpu")
        } else {
            (1e9, "s cpu")
        };
        values.iter_mut().for_each(|v| *v /= div);
        unit
    }

    fn scale_throughputs(&self, _typical: f64, t: &Throughput, values: &mut [f64]) -> &'static str {
        let (amount, unit) = match *t {
            Throughput::Bytes(b) | Throughput::BytesDecimal(b) => (b as f64 / 1e9, "GB/s cpu"),
            Throughput::Elements(e) => (e as f64, "elem/s cpu"),
            _ => (1.0, "iter/s cpu"),
        };
        values.iter_mut().for_each(|v| *v = amount / (*v * 1e-9));
        unit
    }

    fn scale_for_machines(&self, _values: &mut [f64]) -> &'static str {
        "ns"
    }
}

fn dim() -> usize {
    std::env::var("FL_BENCH_PARAMS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(10_000_000)
}

fn updates(dim: usize) -> Vec<Update> {
    let mut rng = ChaCha20Rng::seed_from_u64(42);
    (0..CLIENTS)
        .map(|c| {
            // Typical weights: |w| < 2, i.e. |q| < 2^17.
            let p = (0..dim)
                .map(|_| rng.random_range(-(1 << 17)..(1 << 17)))
                .collect();
            Update::new(ClientId(c as u64), 100 + c as u64 * 13, p)
        })
        .collect()
}

type MakeRule = Box<dyn Fn(Exec) -> Box<dyn Aggregator + Send> + Sync>;

fn rules() -> Vec<(&'static str, MakeRule)> {
    vec![
        ("fedavg", Box::new(|e| Box::new(FedAvg::new().with_exec(e)))),
        (
            "median",
            Box::new(|e| Box::new(FedMedian::new().with_exec(e))),
        ),
        (
            "trimmed_mean",
            Box::new(|e| {
                let beta = fixed::from_f32(0.2).expect("0.2 is in range");
                Box::new(FedTrimmedAvg::new(beta).expect("valid beta").with_exec(e))
            }),
        ),
        ("krum", Box::new(|e| Box::new(Krum::new(2).with_exec(e)))),
        (
            "multikrum",
            Box::new(|e| Box::new(MultiKrum::new(2, 6).expect("valid m").with_exec(e))),
        ),
        (
            "bulyan",
            Box::new(|e| Box::new(Bulyan::new(1).with_exec(e))),
        ),
    ]
}

fn aggregate(c: &mut Criterion<ThreadCpu>) {
    let dim = dim();
    let ups = updates(dim);
    let global = vec![0i32; dim];
    let bytes = (CLIENTS * dim * 4) as u64;

    // The result must not depend on the thread count.
    for (name, make) in rules() {
        let mut hashes = Vec::new();
        for threads in [1, 2, 3] {
            let pool = rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .expect("thread pool");
            let out = pool
                .install(|| make(Exec::Parallel).aggregate(&global, &ups))
                .expect("aggregate");
            let bytes: Vec<u8> = out.iter().flat_map(|x| x.to_le_bytes()).collect();
            hashes.push(blake3::hash(&bytes));
        }
        let seq = make(Exec::Sequential)
            .aggregate(&global, &ups)
            .expect("aggregate");
        let seq_bytes: Vec<u8> = seq.iter().flat_map(|x| x.to_le_bytes()).collect();
        hashes.push(blake3::hash(&seq_bytes));
        assert!(
            hashes.windows(2).all(|w| w[0] == w[1]),
            "{name}: hashes differ"
        );
        eprintln!(
            "{name}: result hash {} (sequential, 1, 2, 3 threads)",
            hashes[0]
        );
    }

    let mut group = c.benchmark_group("aggregate");
    group.throughput(Throughput::Bytes(bytes));
    group.sample_size(10);
    group.warm_up_time(Duration::from_secs(1));
    group.measurement_time(Duration::from_secs(8));
    for (name, make) in rules() {
        let mut agg = make(Exec::Sequential);
        group.bench_function(format!("{name}/clients={CLIENTS} params={dim}"), |b| {
            b.iter(|| black_box(agg.aggregate(&global, black_box(&ups)).expect("aggregate")))
        });
    }
    group.finish();
}

fn secagg(c: &mut Criterion<ThreadCpu>) {
    let mut group = c.benchmark_group("secagg");
    group.sample_size(10);
    group.warm_up_time(Duration::from_secs(1));
    group.measurement_time(Duration::from_secs(4));
    for dim in [4_810usize, 100_000] {
        let ups = updates(dim);
        let global = vec![0i32; dim];
        let clients: Vec<ClientId> = (0..CLIENTS as u64).map(ClientId).collect();
        let inputs: BTreeMap<ClientId, Vec<i32>> =
            ups.iter().map(|u| (u.client, u.params.clone())).collect();
        group.bench_function(
            format!("plain_fedavg/clients={CLIENTS} params={dim}"),
            |b| b.iter(|| black_box(FedAvg::new().aggregate(&global, &ups).expect("aggregate"))),
        );
        for (k, drop) in [(9usize, 0u32), (4, 0), (9, 300), (6, 300)] {
            let cfg = SecAggConfig::builder(1, clients.clone(), dim)
                .neighbours(k)
                .max_dropout_permille(drop)
                .build()
                .expect("config");
            let dropouts = Dropouts {
                before_masked: if drop > 0 {
                    [ClientId(1), ClientId(4), ClientId(8)]
                        .into_iter()
                        .collect()
                } else {
                    Default::default()
                },
                ..Dropouts::default()
            };
            let mut rng = ChaCha20Rng::seed_from_u64(7);
            group.bench_function(
                format!(
                    "round/clients={CLIENTS} params={dim} neighbours={k} dropout={drop}permille"
                ),
                |b| {
                    b.iter(|| {
                        black_box(run_round(&cfg, &inputs, &dropouts, &mut rng).expect("secagg"))
                    })
                },
            );
        }
    }
    group.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().with_measurement(ThreadCpu);
    targets = aggregate, secagg
}
criterion_main!(benches);
