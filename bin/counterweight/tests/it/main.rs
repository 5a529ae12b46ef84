//! Integration tests that run the real `counterweight` binary in temporary directories.

// Tests drive real processes and wait on the wall clock; they are off the consensus path.
#![allow(clippy::disallowed_types, clippy::disallowed_methods)]

mod chain;
mod demo;
mod fl;
mod model;
mod network;
mod zk;
