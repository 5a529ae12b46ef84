//! Give every account a DID, register credential issuers, issue and revoke verifiable credentials.
//!
//! [`Identity`] is module 2. Every account's DID is the `did:key` of its ed25519 key
//! ([`did_key`], [`address_of_did`]); [`IdentityCall::Register`] writes its DID document on
//! chain. The DID string never changes, while its verification key can: the owner rotates it
//! ([`IdentityCall::RotateKey`]) or `k` of `n` recovery delegates do
//! ([`IdentityCall::SetRecovery`], [`IdentityCall::ApproveRecovery`]); the chain keeps the
//! current key and the history.
//!
//! A DID registered as an issuer ([`IdentityCall::RegisterIssuer`]) signs W3C Verifiable
//! Credentials 2.0 off chain as VC-JOSE compact JWS with EdDSA ([`issue_credential`],
//! [`sign_credential`]); each credential carries a `BitstringStatusListEntry` into the
//! issuer's on-chain revocation list ([`IdentityCall::Revoke`]). [`verify_credential`]
//! checks one inside the state machine: synchronously, with the issuer's key resolved from
//! chain state and the time taken from the block, never from the network or a clock.
//!
//! JWS and JWK handling comes from the `ssi-jws` / `ssi-jwk` crates (ed25519 only); the VC
//! 2.0 data model is the small JSON structure defined here, with no JSON-LD processing.
//!
//! # Examples
//!
//! ```
//! use std::collections::BTreeMap;
//! use counterweight_crypto::SigningKey;
//! use counterweight_identity::{address_of_did, codes, did_key, issue_credential, verify_credential};
//! use counterweight_storage_api::StateReader;
//!
//! let issuer = SigningKey::from_seed(1);
//! let member = SigningKey::from_seed(2).address();
//! let did = did_key(&member);
//! assert!(did.starts_with("did:key:z6Mk"));
//! assert_eq!(address_of_did(&did), Some(member));
//!
//! let claims = BTreeMap::from([("role".to_owned(), "member".to_owned())]);
//! let vc = issue_credential(&issuer, &member, "CooperativeMembership", claims, 7, 0, None)?;
//!
//! // On an empty chain the issuer is unknown.
//! struct Empty;
//! impl StateReader for Empty {
//!     fn get(&self, _: &[u8]) -> counterweight_storage_api::Result<Option<Vec<u8>>> {
//!         Ok(None)
//!     }
//! }
//! let refused = verify_credential(&Empty, &vc, 1_000).unwrap_err();
//! assert_eq!(refused.code, codes::UNKNOWN_ISSUER);
//! # Ok::<(), counterweight_identity::Error>(())
//! ```

mod call;
mod credential;
mod did_key;
mod dids;
mod error;
mod events;
mod issuers;
mod module;
mod query;
mod store;
mod time;

pub use call::{
    DidRecord, IdentityCall, Issuer, MAX_CREDENTIAL_TYPE_LEN, MAX_CREDENTIAL_TYPES, MAX_DELEGATES,
    MAX_ISSUER_NAME_LEN, MAX_ROTATIONS, PreviousKey, Recovery,
};
pub use counterweight_state::ModuleCall;
pub use credential::{
    CredentialDraft, MAX_CLAIM_NAME_LEN, MAX_CLAIM_VALUE_LEN, MAX_CLAIMS, MAX_CREDENTIAL_BYTES,
    MAX_STATUS_INDEX, VerifiedCredential, check_credential, credential_id, is_valid_type_name,
    issue_credential, sign_credential, status_list_id, verify_credential,
};
pub use did_key::{address_of_did, did_key, key_multibase, verification_method_id};
pub use dids::{rotation_message, sign_rotation};
pub use error::{Error, IdentityError, Result, codes};
pub use events::{IdentityEvent, RotatedBy};
pub use module::{IDENTITY_MODULE, Identity};
pub use query::{
    ControllerView, CredentialView, DidDocument, DidMetadata, DidResolution, IssuerView,
    MethodType, PendingApproval, PreviousKeyView, RecoveryView, StatusPurpose, StatusView,
    VerificationMethod, VerifyView, did_document,
};
pub use store::{did_of_key, did_record, is_revoked, issuer, recovery, revoked_indices};
