//! CLI tests: zk commands.
