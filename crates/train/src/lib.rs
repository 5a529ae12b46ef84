//! Train models locally on real data and simulate federated learning.
