//! Serve the node's JSON RPC, event stream, OpenAPI document and metrics.
