//! Simulate multi-node networks deterministically and provide fixtures.
