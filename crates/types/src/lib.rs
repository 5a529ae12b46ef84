//! Define the chain's domain types and their canonical encoding.
