//! Canonical call encodings: round trips, trailing bytes, size bounds.

use counterweight_coop::{
    Admission, Consent, CoopCall, MAX_NAME_BYTES, ModuleCall as _, ProposalKind, Rules,
};
use counterweight_types::{Address, Hash};
use proptest::prelude::*;

fn hash() -> impl Strategy<Value = Hash> {
    any::<[u8; 32]>().prop_map(Hash)
}

fn address() -> impl Strategy<Value = Address> {
    any::<[u8; 32]>().prop_map(Address)
}

fn consent() -> impl Strategy<Value = Consent> {
    (any::<bool>(), any::<bool>(), any::<bool>()).prop_map(|(training, commercial, derivatives)| {
        Consent {
            training,
            commercial,
            derivatives,
        }
    })
}

fn rules() -> impl Strategy<Value = Rules> {
    let admission = prop_oneof![
        Just(Admission::ByVote),
        (address(), "[a-z]{0,20}")
            .prop_map(|(issuer, kind)| Admission::ByCredential { issuer, kind }),
    ];
    (
        any::<u16>(),
        any::<u16>(),
        any::<u64>(),
        any::<u16>(),
        admission,
    )
        .prop_map(
            |(
                quorum_permille,
                approval_permille,
                voting_period_ms,
                revenue_share_permille,
                admission,
            )| {
                Rules {
                    quorum_permille,
                    approval_permille,
                    voting_period_ms,
                    revenue_share_permille,
                    admission,
                }
            },
        )
}

fn kind() -> impl Strategy<Value = ProposalKind> {
    prop_oneof![
        address().prop_map(|member| ProposalKind::Admit { member }),
        address().prop_map(|member| ProposalKind::Remove { member }),
        hash().prop_map(|task| ProposalKind::ApproveTask { task }),
        rules().prop_map(|rules| ProposalKind::ChangeRules { rules }),
        (address(), any::<u64>()).prop_map(|(to, amount)| ProposalKind::Spend { to, amount }),
    ]
}

fn call() -> impl Strategy<Value = CoopCall> {
    prop_oneof![
        ("\\PC{0,40}", rules()).prop_map(|(name, rules)| CoopCall::Create { name, rules }),
        (
            hash(),
            proptest::option::of(proptest::collection::vec(any::<u8>(), 0..300))
        )
            .prop_map(|(coop, credential)| CoopCall::Join { coop, credential }),
        hash().prop_map(|coop| CoopCall::Leave { coop }),
        (hash(), hash(), "\\PC{0,60}", any::<u64>(), consent()).prop_map(
            |(coop, root, schema, records, consent)| CoopCall::CommitDataset {
                coop,
                root,
                schema,
                records,
                consent
            }
        ),
        (hash(), consent())
            .prop_map(|(dataset, consent)| CoopCall::SetConsent { dataset, consent }),
        hash().prop_map(|dataset| CoopCall::RevokeConsent { dataset }),
        (hash(), kind()).prop_map(|(coop, kind)| CoopCall::Propose { coop, kind }),
        (hash(), any::<bool>()).prop_map(|(proposal, yes)| CoopCall::Vote { proposal, yes }),
        hash().prop_map(|proposal| CoopCall::Execute { proposal }),
        (hash(), any::<u64>()).prop_map(|(coop, amount)| CoopCall::Deposit { coop, amount }),
    ]
}

proptest! {
    #[test]
    fn calls_round_trip(call in call()) {
        let payload = call.to_payload();
        prop_assert_eq!(payload.len(), commonware_codec::EncodeSize::encode_size(&call));
        prop_assert_eq!(&CoopCall::from_payload(&payload).unwrap(), &call);
        let json = serde_json::to_string(&call).unwrap();
        prop_assert_eq!(serde_json::from_str::<CoopCall>(&json).unwrap(), call);
    }

    #[test]
    fn trailing_bytes_are_rejected(call in call(), extra in proptest::collection::vec(any::<u8>(), 1..8)) {
        let mut payload = call.to_payload().to_vec();
        payload.extend(extra);
        prop_assert!(CoopCall::from_payload(&payload).is_err());
    }

    #[test]
    fn truncated_payloads_are_rejected(call in call()) {
        let payload = call.to_payload();
        for cut in 0..payload.len() {
            prop_assert!(CoopCall::from_payload(&payload[..cut]).is_err());
        }
    }
}

#[test]
fn oversized_name_is_rejected() {
    let call = CoopCall::Create {
        name: "n".repeat(MAX_NAME_BYTES + 1),
        rules: Rules {
            quorum_permille: 500,
            approval_permille: 500,
            voting_period_ms: 1,
            revenue_share_permille: 0,
            admission: Admission::ByVote,
        },
    };
    assert!(CoopCall::from_payload(&call.to_payload()).is_err());
}

#[test]
fn unknown_tags_and_bad_bools_are_rejected() {
    assert!(CoopCall::from_payload(&[10]).is_err());
    assert!(CoopCall::from_payload(&[]).is_err());
    let mut vote = CoopCall::Vote {
        proposal: Hash([1; 32]),
        yes: true,
    }
    .to_payload()
    .to_vec();
    if let Some(last) = vote.last_mut() {
        *last = 2;
    }
    assert!(CoopCall::from_payload(&vote).is_err());
}

#[test]
fn encoding_is_stable() {
    let call = CoopCall::Vote {
        proposal: Hash([0xAB; 32]),
        yes: true,
    };
    let mut expected = vec![7u8];
    expected.extend([0xAB; 32]);
    expected.push(1);
    assert_eq!(call.to_payload().to_vec(), expected);
}
