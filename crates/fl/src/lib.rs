//! Aggregate federated-learning updates deterministically in fixed point.
