//! The identity module's events, as they appear in receipts and the audit log.

use counterweight_state::ModuleEvent;
use counterweight_types::Address;
use serde::Serialize;

/// Who rotated a DID's key.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RotatedBy {
    /// The DID's owner ([`crate::IdentityCall::RotateKey`]).
    Owner,
    /// Its recovery delegates ([`crate::IdentityCall::ApproveRecovery`]).
    Recovery,
}

/// An event of the identity module. DIDs are `did:key` strings; addresses and keys are hex.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
#[non_exhaustive]
pub enum IdentityEvent {
    /// A DID was registered.
    DidRegistered {
        /// The DID.
        did: String,
        /// Its address (the account's key).
        address: Address,
    },
    /// A DID's key was rotated.
    KeyRotated {
        /// The DID.
        did: String,
        /// Its address.
        address: Address,
        /// The replaced key.
        old_key: Address,
        /// The new key.
        new_key: Address,
        /// Who rotated it.
        by: RotatedBy,
    },
    /// A DID named its recovery delegates.
    RecoverySet {
        /// The DID.
        did: String,
        /// How many delegates.
        delegates: usize,
        /// Approvals needed.
        threshold: u8,
    },
    /// A delegate approved a recovery.
    RecoveryApproved {
        /// The DID to recover.
        did: String,
        /// The approving delegate's DID.
        delegate: String,
        /// The key approved.
        new_key: Address,
        /// Approvals for that key so far.
        approvals: usize,
        /// Approvals needed.
        threshold: u8,
    },
    /// Enough delegates approved: the key rotated.
    RecoveryCompleted {
        /// The recovered DID.
        did: String,
        /// Its new key.
        new_key: Address,
        /// The approvals that rotated it.
        approvals: usize,
    },
    /// A DID registered as a credential issuer.
    IssuerRegistered {
        /// The issuer's DID.
        issuer: String,
        /// Its address.
        address: Address,
        /// Its display name.
        name: String,
        /// Its credential types, comma-separated.
        credential_types: String,
    },
    /// An issuer revoked a status-list index.
    CredentialRevoked {
        /// The issuer's DID.
        issuer: String,
        /// Its address.
        address: Address,
        /// The revoked index.
        index: u64,
        /// The issuer's status list.
        status_list: String,
    },
}

impl ModuleEvent for IdentityEvent {}
