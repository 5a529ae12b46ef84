//! Declare the storage traits the chain reads and writes through.
