//! Canonical call encodings: round trips, trailing bytes, size bounds.

use counterweight_identity::{
    IDENTITY_MODULE, IdentityCall, MAX_CREDENTIAL_TYPE_LEN, MAX_CREDENTIAL_TYPES, MAX_DELEGATES,
    ModuleCall as _, codes,
};
use counterweight_state::{Module as _, TxError};
use counterweight_types::{Address, Signature};
use proptest::prelude::*;

use crate::support::{addr, chain};

fn address() -> impl Strategy<Value = Address> {
    any::<[u8; 32]>().prop_map(Address)
}

fn signature() -> impl Strategy<Value = Signature> {
    any::<[u8; 32]>().prop_map(|half| {
        let mut sig = [0u8; 64];
        sig[..32].copy_from_slice(&half);
        sig[32..].copy_from_slice(&half);
        Signature(sig)
    })
}

fn call() -> impl Strategy<Value = IdentityCall> {
    let type_name = proptest::string::string_regex("[A-Za-z0-9_-]{1,31}").expect("regex");
    prop_oneof![
        Just(IdentityCall::Register),
        (address(), signature())
            .prop_map(|(new_key, proof)| IdentityCall::RotateKey { new_key, proof }),
        (
            proptest::collection::vec(address(), 0..=MAX_DELEGATES),
            any::<u8>()
        )
            .prop_map(|(delegates, threshold)| IdentityCall::SetRecovery {
                delegates,
                threshold
            }),
        (address(), address(), signature()).prop_map(|(did_owner, new_key, proof)| {
            IdentityCall::ApproveRecovery {
                did_owner,
                new_key,
                proof,
            }
        }),
        (
            "\\PC{0,40}",
            proptest::collection::vec(type_name, 0..=MAX_CREDENTIAL_TYPES)
        )
            .prop_map(|(name, credential_types)| IdentityCall::RegisterIssuer {
                name,
                credential_types
            }),
        any::<u64>().prop_map(|index| IdentityCall::Revoke { index }),
    ]
}

proptest! {
    #[test]
    fn calls_round_trip_and_reject_trailing_bytes(call in call(), extra in 1usize..4) {
        let bytes = call.to_payload();
        prop_assert_eq!(&IdentityCall::from_payload(&bytes).expect("decodes"), &call);
        let mut longer = bytes.to_vec();
        longer.extend(std::iter::repeat_n(0u8, extra));
        prop_assert!(IdentityCall::from_payload(&longer).is_err());
        // Every strict prefix is refused too.
        for cut in 0..bytes.len() {
            prop_assert!(IdentityCall::from_payload(&bytes[..cut]).is_err());
        }
        // JSON form (for the CLI) round-trips as well.
        let json = serde_json::to_string(&call).expect("json");
        prop_assert_eq!(serde_json::from_str::<IdentityCall>(&json).expect("from json"), call);
    }
}

#[test]
fn oversized_fields_do_not_decode() {
    let too_many = IdentityCall::SetRecovery {
        delegates: vec![Address([1; 32]); MAX_DELEGATES + 1],
        threshold: 1,
    };
    assert!(IdentityCall::from_payload(&too_many.to_payload()).is_err());
    let long_type = IdentityCall::RegisterIssuer {
        name: "x".into(),
        credential_types: vec!["a".repeat(MAX_CREDENTIAL_TYPE_LEN + 1)],
    };
    assert!(IdentityCall::from_payload(&long_type.to_payload()).is_err());
    assert!(IdentityCall::from_payload(&[9]).is_err());
}

#[test]
fn malformed_payloads_fail_with_the_malformed_code() {
    let module = counterweight_identity::Identity;
    let mut payload = IdentityCall::Register.to_payload().to_vec();
    payload.push(0);
    assert_eq!(
        module.check_payload(&payload).unwrap_err().code,
        codes::MALFORMED
    );
    // Through the runtime the check happens before the module runs.
    let mut chain = chain();
    let rejected = chain
        .try_send(addr(1), IDENTITY_MODULE, payload.into())
        .unwrap_err();
    assert!(
        matches!(rejected, TxError::Malformed { .. }),
        "{rejected:?}"
    );
}
