//! Sign, verify and hash with domain separation.
