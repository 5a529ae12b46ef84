//! Measure the reference task side by side with its variants: plain FedAvg, secure
//! aggregation with 30% dropouts, and the robust rules under attack. Prints one line per run.
//!
//! `cargo run --release -p counterweight-train --example fl_bench`

// A benchmark/example program: printing its measurements is its job.
#![allow(clippy::print_stdout)]

use counterweight_fl::Strategy;
use counterweight_train::{Attack, Dataset, SecAggSettings, SimulationConfig, simulate};

fn main() -> Result<(), counterweight_train::Error> {
    let digits = Dataset::digits();
    let base = SimulationConfig::default();
    let runs: Vec<(&str, SimulationConfig)> = vec![
        ("fedavg", base.clone()),
        (
            "fedavg+secagg(dropout 0.3)",
            SimulationConfig {
                secagg: Some(SecAggSettings {
                    dropout: 0.3,
                    neighbours: None,
                }),
                ..base.clone()
            },
        ),
        (
            "fedavg+secagg(0.3, k=6)",
            SimulationConfig {
                secagg: Some(SecAggSettings {
                    dropout: 0.3,
                    neighbours: Some(6),
                }),
                ..base.clone()
            },
        ),
        ("fedavg (again)", base.clone()),
        (
            "multikrum:2:8 signflip",
            SimulationConfig {
                strategy: Strategy::MultiKrum { f: 2, m: 8 },
                attack: Some(Attack::SignFlip {
                    fraction: 0.2,
                    scale: 4.0,
                }),
                ..base
            },
        ),
    ];
    for (name, config) in runs {
        let r = simulate(&digits, &config, |_| {})?;
        let secagg_ms: f64 =
            r.rounds.iter().map(|x| x.secagg_ms).sum::<f64>() / r.rounds.len() as f64;
        let train_ms: f64 =
            r.rounds.iter().map(|x| x.train_ms).sum::<f64>() / r.rounds.len() as f64;
        println!(
            "{name:<28} acc {:.4}  median round {:.2} ms wall / {:.2} ms CPU  total CPU {:.3} s  train {:.2} ms  secagg {:.2} ms  peak RSS {:.0} MB",
            r.final_accuracy,
            r.median_round_ms,
            r.median_round_cpu_ms,
            r.total_cpu_s,
            train_ms,
            secagg_ms,
            r.peak_rss_mb.unwrap_or(0.0)
        );
    }
    Ok(())
}
