//! `counterweight fl`: federated-learning simulations on real data, in-process.

use std::fmt::Write as _;
use std::path::PathBuf;

use anyhow::{Context, bail};
use clap::{Args as ClapArgs, Subcommand, ValueEnum};
use counterweight_fl::Strategy;
use counterweight_train::{
    Attack, Dataset, DpSettings, ModelChoice, Optimizer, RoundReport, SecAggSettings,
    SimulationConfig, SimulationReport, SplitChoice, TrainConfig, plot_png, simulate,
};
use indicatif::{ProgressBar, ProgressStyle};

use crate::{Global, Output};

/// Federated learning: simulate a federation, measure robustness to poisoning.
#[derive(Debug, ClapArgs)]
pub struct Args {
    /// What to run.
    #[command(subcommand)]
    pub command: FlCommand,
}

/// The `fl` subcommands.
#[derive(Debug, Subcommand)]
pub enum FlCommand {
    /// Train a model over simulated clients and aggregate in fixed point, all in-process.
    Simulate(Box<SimulateArgs>),
    /// Compare aggregation rules under sign-flip and label-flip attacks (2 of 10 malicious).
    Robustness(RobustnessArgs),
}

/// How client data is split.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum PartitionKind {
    /// Per-class Dirichlet(alpha) label skew.
    Dirichlet,
    /// Equal random shares.
    Iid,
    /// Dirichlet(alpha) client sizes, balanced labels.
    Quantity,
}

/// The model to train.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ModelKind {
    /// Multilayer perceptron (hidden widths from --hidden).
    Mlp,
    /// Small CNN (3×3 conv to 8 channels, 2×2 max-pool, linear); image data only.
    Cnn,
}

/// The local optimiser.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum OptimizerKind {
    /// Minibatch SGD.
    Sgd,
    /// Adam.
    Adam,
}

/// Options of `fl simulate`.
#[derive(Debug, ClapArgs)]
pub struct SimulateArgs {
    /// `digits`, `breast_cancer`, or a CSV file (last column the integer label).
    #[arg(long, default_value = "digits")]
    pub dataset: String,
    /// Features as a NumPy `.npy` file (with --labels) instead of --dataset.
    #[arg(long, requires = "labels")]
    pub features: Option<PathBuf>,
    /// Labels as a NumPy `.npy` file (with --features).
    #[arg(long, requires = "features")]
    pub labels: Option<PathBuf>,
    /// Number of (honest) clients.
    #[arg(long, default_value_t = 10)]
    pub clients: usize,
    /// Concentration of the Dirichlet split (smaller is more skewed).
    #[arg(long, default_value_t = 0.5)]
    pub alpha: f64,
    /// How data is split over clients.
    #[arg(long, value_enum, default_value_t = PartitionKind::Dirichlet)]
    pub partition: PartitionKind,
    /// Federated rounds.
    #[arg(long, default_value_t = 20)]
    pub rounds: usize,
    /// Aggregation rule: fedavg, fedavgm, fedadam, fedyogi, fedadagrad, qfedavg, median,
    /// trimmed[:beta], krum[:f], multikrum[:f[:m]], bulyan[:f].
    #[arg(long, default_value = "fedavg")]
    pub strategy: String,
    /// Poisoning: signflip:FRACTION[:SCALE], labelflip:FRACTION or sybil:COUNT.
    #[arg(long)]
    pub attack: Option<String>,
    /// The model.
    #[arg(long, value_enum, default_value_t = ModelKind::Mlp)]
    pub model: ModelKind,
    /// Hidden widths of the MLP, comma-separated.
    #[arg(long, value_delimiter = ',', default_value = "64")]
    pub hidden: Vec<usize>,
    /// Local epochs per round.
    #[arg(long, default_value_t = 2)]
    pub epochs: usize,
    /// Local learning rate.
    #[arg(long, default_value_t = 0.1)]
    pub lr: f64,
    /// Local minibatch size.
    #[arg(long, default_value_t = 32)]
    pub batch_size: usize,
    /// Local optimiser.
    #[arg(long, value_enum, default_value_t = OptimizerKind::Sgd)]
    pub optimizer: OptimizerKind,
    /// FedProx proximal coefficient mu (0 disables).
    #[arg(long, default_value_t = 0.0)]
    pub mu: f64,
    /// Aggregate with secure aggregation (SecAgg+ style; fedavg only).
    #[arg(long)]
    pub secagg: bool,
    /// Fraction of clients that drop out of each secure-aggregation round.
    #[arg(long, default_value_t = 0.0, requires = "secagg")]
    pub dropout: f64,
    /// SecAgg+ neighbours per client (default: every other client). Must leave a majority of
    /// each client's share holders after the dropouts, e.g. at least 6 for 10 clients at 0.3.
    #[arg(long, requires = "secagg")]
    pub secagg_neighbours: Option<usize>,
    /// Client-side differential privacy: target epsilon over the whole run.
    #[arg(long)]
    pub dp_epsilon: Option<f64>,
    /// Differential privacy: delta.
    #[arg(long, default_value_t = 1e-5, requires = "dp_epsilon")]
    pub dp_delta: f64,
    /// Differential privacy: L2 clip norm of each update.
    #[arg(long, default_value_t = 1.0, requires = "dp_epsilon")]
    pub dp_clip: f64,
    /// Seed of the split, initial weights and shuffles.
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    /// Worker threads for client training (0: one per core).
    #[arg(long, default_value_t = 0)]
    pub threads: usize,
    /// Write the JSON result to this file.
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Draw test accuracy and loss per round to this PNG file (800×480).
    #[arg(long)]
    pub plot: Option<PathBuf>,
}

/// Options of `fl robustness`.
#[derive(Debug, ClapArgs)]
pub struct RobustnessArgs {
    /// Federated rounds per run.
    #[arg(long, default_value_t = 20)]
    pub rounds: usize,
    /// Malicious clients out of 10.
    #[arg(long, default_value_t = 2)]
    pub malicious: usize,
    /// Worker threads for client training (0: one per core).
    #[arg(long, default_value_t = 0)]
    pub threads: usize,
    /// Write the JSON result to this file.
    #[arg(long)]
    pub out: Option<PathBuf>,
}

/// Run an `fl` subcommand.
///
/// # Errors
/// Bad options, unreadable data, or a failed simulation.
pub fn run(args: Args, global: &Global) -> anyhow::Result<Output> {
    match args.command {
        FlCommand::Simulate(a) => run_simulate(*a, global),
        FlCommand::Robustness(a) => run_robustness(a, global),
    }
}

fn load_dataset(a: &SimulateArgs) -> anyhow::Result<Dataset> {
    if let (Some(x), Some(y)) = (&a.features, &a.labels) {
        return Ok(Dataset::from_npy(x, y)?);
    }
    if let Some(d) = Dataset::builtin(&a.dataset) {
        return Ok(d);
    }
    let path = PathBuf::from(&a.dataset);
    if !path.exists() {
        bail!(
            "unknown data set {:?}: use digits, breast_cancer or a CSV file path",
            a.dataset
        );
    }
    Ok(Dataset::from_csv(&path)?)
}

fn simulate_config(a: &SimulateArgs) -> anyhow::Result<SimulationConfig> {
    let strategy: Strategy = a.strategy.parse().context("--strategy")?;
    let attack = match &a.attack {
        Some(s) => Some(s.parse::<Attack>().context("--attack")?),
        None => None,
    };
    let split = match a.partition {
        PartitionKind::Dirichlet => SplitChoice::Dirichlet { alpha: a.alpha },
        PartitionKind::Iid => SplitChoice::Iid,
        PartitionKind::Quantity => SplitChoice::Quantity { beta: a.alpha },
    };
    Ok(SimulationConfig {
        clients: a.clients,
        rounds: a.rounds,
        split,
        strategy,
        model: match a.model {
            ModelKind::Mlp => ModelChoice::Mlp {
                hidden: a.hidden.clone(),
            },
            ModelKind::Cnn => ModelChoice::Cnn,
        },
        train: TrainConfig {
            epochs: a.epochs,
            batch_size: a.batch_size,
            lr: a.lr,
            optimizer: match a.optimizer {
                OptimizerKind::Sgd => Optimizer::Sgd,
                OptimizerKind::Adam => Optimizer::Adam,
            },
            proximal_mu: a.mu,
            seed: a.seed,
        },
        attack,
        dp: a.dp_epsilon.map(|epsilon| DpSettings {
            epsilon,
            delta: a.dp_delta,
            clip_norm: a.dp_clip,
        }),
        secagg: a.secagg.then_some(SecAggSettings {
            dropout: a.dropout,
            neighbours: a.secagg_neighbours,
        }),
        seed: a.seed,
        threads: a.threads,
    })
}

fn progress(rounds: usize, hidden: bool) -> ProgressBar {
    if hidden {
        return ProgressBar::hidden();
    }
    let pb = ProgressBar::new(rounds as u64);
    if let Ok(style) = ProgressStyle::with_template("{bar:30} round {pos}/{len} {msg}") {
        pb.set_style(style);
    }
    pb
}

fn run_simulate(a: SimulateArgs, global: &Global) -> anyhow::Result<Output> {
    let data = load_dataset(&a)?;
    let config = simulate_config(&a)?;
    if let Some(dir) = a.plot.as_deref().and_then(|p| p.parent())
        && !dir.as_os_str().is_empty()
        && !dir.is_dir()
    {
        bail!("--plot: directory {} does not exist", dir.display());
    }
    let pb = progress(config.rounds, global.json);
    let report = simulate(&data, &config, |r: &RoundReport| {
        pb.inc(1);
        pb.set_message(format!("acc {:.4}", r.accuracy));
        if !global.json {
            pb.println(format!(
                "round {:>3}  accuracy {:.4}  loss {:.4}  {:>7.1} ms  ({:.1} ms CPU)",
                r.round, r.accuracy, r.loss, r.wall_ms, r.cpu_ms
            ));
        }
    })?;
    pb.finish_and_clear();
    let json = serde_json::to_string_pretty(&report)?;
    if let Some(out) = &a.out {
        std::fs::write(out, &json).with_context(|| format!("writing {}", out.display()))?;
    }
    if let Some(path) = &a.plot {
        let title = format!("{} on {}", report.config.strategy.name(), report.dataset);
        let png = plot_png(&report.rounds, &title, 800, 480).context("--plot")?;
        std::fs::write(path, png).with_context(|| format!("writing {}", path.display()))?;
    }
    let mut text = summary(&report);
    if let Some(out) = &a.out {
        let _ = write!(text, "\nresult written to {}", out.display());
    }
    if let Some(path) = &a.plot {
        let _ = write!(text, "\nplot written to {}", path.display());
    }
    Ok(Output::with_text(&report, text)?)
}

fn summary(r: &SimulationReport) -> String {
    let mut text = format!(
        "{}: {} clients ({} split), {} rounds of {}, {} parameters",
        r.dataset,
        r.client_samples.len(),
        r.split,
        r.rounds.len(),
        r.config.strategy.name(),
        r.parameters
    );
    let _ = write!(
        text,
        "\naccuracy {:.4} -> {:.4}; median round {:.1} ms wall, {:.1} ms CPU; total {:.2} s wall, {:.2} s CPU; peak RSS {}",
        r.initial.accuracy,
        r.final_accuracy,
        r.median_round_ms,
        r.median_round_cpu_ms,
        r.total_wall_s,
        r.total_cpu_s,
        r.peak_rss_mb
            .map_or_else(|| "n/a".to_string(), |m| format!("{m:.0} MB"))
    );
    if !r.flagged_rounds.is_empty() {
        let list: Vec<String> = r
            .flagged_rounds
            .iter()
            .map(|(c, n)| format!("client {c} in {n} rounds"))
            .collect();
        let _ = write!(text, "\npoisoning detection flagged: {}", list.join(", "));
    }
    if !r.malicious.is_empty() {
        let _ = write!(text, "\nmalicious clients: {:?}", r.malicious);
    }
    if let Some(dp) = &r.dp {
        let _ = write!(
            text,
            "\ndifferential privacy: noise multiplier {:.3}, clip {}, epsilon {:.3} at delta {:e} ({:.0}% of updates clipped)",
            dp.noise_multiplier,
            dp.clip_norm,
            dp.epsilon,
            dp.delta,
            dp.clipped_fraction * 100.0
        );
    }
    text
}

/// One row of the robustness table.
#[derive(Debug, serde::Serialize)]
struct RobustnessRow {
    attack: String,
    strategy: String,
    final_accuracy: Option<f64>,
    error: Option<String>,
}

fn run_robustness(a: RobustnessArgs, global: &Global) -> anyhow::Result<Output> {
    let data = Dataset::digits();
    let fraction = a.malicious as f64 / 10.0;
    let attacks = [
        ("none", None),
        (
            "signflip x4",
            Some(Attack::SignFlip {
                fraction,
                scale: counterweight_train::DEFAULT_SIGNFLIP_SCALE,
            }),
        ),
        ("labelflip", Some(Attack::LabelFlip { fraction })),
    ];
    let f = a.malicious.max(1);
    let strategies = [
        "fedavg".to_string(),
        "median".to_string(),
        "trimmed:0.2".to_string(),
        format!("krum:{f}"),
        format!("multikrum:{f}:{}", 10 - f),
        format!("bulyan:{f}"),
    ];
    let pb = progress(attacks.len() * strategies.len(), global.json);
    let mut rows = Vec::new();
    for (name, attack) in attacks {
        for s in &strategies {
            let config = SimulationConfig {
                rounds: a.rounds,
                strategy: s.parse().context("strategy")?,
                attack,
                threads: a.threads,
                ..SimulationConfig::default()
            };
            let outcome = simulate(&data, &config, |_| {});
            pb.inc(1);
            rows.push(match outcome {
                Ok(r) => RobustnessRow {
                    attack: name.into(),
                    strategy: s.clone(),
                    final_accuracy: Some(r.final_accuracy),
                    error: None,
                },
                Err(e) => RobustnessRow {
                    attack: name.into(),
                    strategy: s.clone(),
                    final_accuracy: None,
                    error: Some(e.to_string()),
                },
            });
        }
    }
    pb.finish_and_clear();
    let json = serde_json::to_string_pretty(&rows)?;
    if let Some(out) = &a.out {
        std::fs::write(out, &json).with_context(|| format!("writing {}", out.display()))?;
    }
    let mut text = format!(
        "digits, 10 clients (Dirichlet 0.5), {} malicious, {} rounds: final test accuracy\n",
        a.malicious, a.rounds
    );
    let _ = write!(text, "{:<14}", "strategy");
    for (name, _) in attacks {
        let _ = write!(text, "{name:>14}");
    }
    text.push('\n');
    for s in &strategies {
        let _ = write!(text, "{s:<14}");
        for (name, _) in attacks {
            let cell = rows
                .iter()
                .find(|r| r.attack == name && &r.strategy == s)
                .map_or("".to_string(), |r| match r.final_accuracy {
                    Some(acc) => format!("{acc:.4}"),
                    None => "refused".to_string(),
                });
            let _ = write!(text, "{cell:>14}");
        }
        text.push('\n');
    }
    for r in rows.iter().filter(|r| r.error.is_some()) {
        if let Some(e) = &r.error {
            let _ = writeln!(text, "{} under {}: {e}", r.strategy, r.attack);
        }
    }
    Ok(Output::with_text(&rows, text)?)
}
