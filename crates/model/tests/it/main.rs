//! Integration tests of the model IR, its evaluators and its file formats.

// The suite prints the accuracies it measured (shown with `--nocapture`).
#![allow(clippy::print_stdout)]

mod arch;
mod float;
mod quant;
mod suite;
mod support;
mod weights;
