//! Errors of the consensus crate.

/// What can go wrong starting the engine.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The validator set is empty.
    #[error("the validator set is empty")]
    NoValidators,
    /// The validator set lists a key twice.
    #[error("the validator set lists a key twice")]
    DuplicateValidator,
    /// This node's key is not in the validator set.
    #[error("this node's key is not in the validator set")]
    NotAValidator,
    /// A block or certificate archive could not be opened.
    #[error("could not open a consensus archive")]
    Archive {
        /// The storage error.
        #[source]
        source: commonware_storage::archive::Error,
    },
}

/// The crate's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;
