//! Integration tests of the model IR, its evaluators and its file formats.

mod arch;
mod float;
mod quant;
mod suite;
mod support;
mod weights;
