//! Run the deterministic state-transition framework: modules, dispatch, fees, state root.
