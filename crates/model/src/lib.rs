//! Describe neural networks in one IR and evaluate them in float and fixed point.
