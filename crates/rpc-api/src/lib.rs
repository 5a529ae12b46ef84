//! Define the RPC types and a typed client.
