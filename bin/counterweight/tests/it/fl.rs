//! CLI tests: fl commands.
