//! Store blocks and authenticated state on disk or in memory.
