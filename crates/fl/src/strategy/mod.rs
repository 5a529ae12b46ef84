//! Aggregation rules, all in Q16.16 integer arithmetic.

mod fedavg;
mod fedopt;
pub(crate) mod kernels;
mod krum;
mod qfedavg;
mod robust;

pub use fedavg::FedAvg;
pub use fedopt::{FedAdagrad, FedAdam, FedAvgM, FedOptParams, FedYogi};
pub use krum::{Bulyan, Krum, MultiKrum};
pub use qfedavg::QFedAvg;
pub use robust::{FedMedian, FedTrimmedAvg};
