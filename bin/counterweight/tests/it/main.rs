//! Integration tests that run the real `counterweight` binary in temporary directories.

mod chain;
mod fl;
mod zk;
