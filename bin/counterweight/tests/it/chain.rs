//! CLI tests: chain commands.
