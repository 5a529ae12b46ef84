//! Train models locally on real data and simulate federated learning.
//!
//! - [`Dataset`]: the bundled UCI digits and breast-cancer sets, and loaders for CSV and
//!   NumPy `.npy` files; [`StandardSplit`] is the reference digits split (360 test samples,
//!   10 Dirichlet(0.5) clients).
//! - [`Partitioner`]: seeded IID, Dirichlet label-skew and quantity-skew splits.
//! - [`Trainer`]: local training (SGD or Adam, minibatches, FedProx) and evaluation of a
//!   model-IR [`Architecture`](counterweight_model::Architecture) with burn's flex CPU
//!   backend; parameters go in and out in the IR's flat layout.
//! - [`simulate`]: an in-process federation: clients train in parallel (one thread each),
//!   attackers poison, and the `fl` crate aggregates in Q16.16 as validators would.
//! - [`plot_png`]: a PNG chart of test accuracy and loss per round.
//!
//! # Examples
//! ```
//! use counterweight_train::{Dataset, StandardSplit, TrainConfig, Trainer, models};
//!
//! let digits = Dataset::digits();
//! let split = StandardSplit::digits();
//! let test = digits.subset(&split.test)?;
//! let client = digits.subset(&split.clients[0])?;
//! let trainer = Trainer::new(models::mlp(64, &[64], 10)?)?;
//! let init = counterweight_model::Model::init_he(trainer.architecture().clone(), 42);
//! let out = trainer.train(init.params(), &client, &TrainConfig::default())?;
//! let metrics = trainer.evaluate(&out.params, &test)?;
//! assert!(metrics.accuracy > 0.0);
//! # Ok::<(), counterweight_train::Error>(())
//! ```

// Training is off the consensus path: it uses floats, threads and the clock.
#![allow(clippy::disallowed_types, clippy::disallowed_methods)]

mod dataset;
mod error;
pub mod models;
mod net;
mod partition;
mod plot;
mod simulate;
mod trainer;

pub use dataset::{Dataset, MAX_CLASSES, MAX_VALUES, StandardSplit};
pub use error::{Error, Result};
pub use partition::{MAX_REDRAWS, Partitioner};
pub use plot::{DrawError, PLOT_SIDE_RANGE, plot_png};
pub use simulate::{
    Attack, DEFAULT_SIGNFLIP_SCALE, DpReport, DpSettings, FlagReport, ModelChoice, RoundReport,
    SecAggSettings, SimulationConfig, SimulationReport, SplitChoice, peak_rss_mb, simulate,
    split_data,
};
pub use trainer::{Metrics, Optimizer, TrainConfig, TrainOutcome, Trainer};
