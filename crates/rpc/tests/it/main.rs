//! Router tests against the real app over a temporary directory (consensus replaced by
//! direct finalization).

mod blobs;
mod events;
mod http;
mod node;
mod openapi;
mod queries;
mod submit;
