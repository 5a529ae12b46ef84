//! Compose the modules into the chain's state-transition function and genesis.
