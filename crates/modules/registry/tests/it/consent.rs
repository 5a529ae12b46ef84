//! A version's datasets must exist and consent (audit L8): training consent for the datasets a
//! version names, derivative-works consent for the datasets behind a parent or a fork.

use counterweight_coop::ModuleCall as _;
use counterweight_coop::{Admission, COOP_MODULE, Consent, CoopCall, Rules, coop_id, dataset_id};
use counterweight_registry::{Lineage, Publish, RegistryCall, codes};
use counterweight_state::test_utils::TestChain;
use counterweight_types::Hash;

use crate::{ALICE, BOB, call, create_repo, new_chain, publish, send, version};

pub(crate) const ALL: Consent = Consent {
    training: true,
    commercial: true,
    derivatives: true,
};

/// A coop of ALICE with one dataset of hers under `consent`; returns (coop, dataset).
pub(crate) fn dataset(chain: &mut TestChain, root: u8, consent: Consent) -> (Hash, Hash) {
    let (tx, _) = call(
        chain,
        ALICE,
        COOP_MODULE,
        CoopCall::Create {
            name: format!("coop-{root}"),
            rules: Rules {
                quorum_permille: 500,
                approval_permille: 500,
                voting_period_ms: 1_000_000,
                revenue_share_permille: 0,
                admission: Admission::ByVote,
            },
        }
        .to_payload(),
    )
    .expect("coop created");
    let coop = coop_id(chain.chain_id(), &tx);
    let root = Hash([root; 32]);
    call(
        chain,
        ALICE,
        COOP_MODULE,
        CoopCall::CommitDataset {
            coop,
            root,
            schema: "x,label".into(),
            records: 10,
            consent,
        }
        .to_payload(),
    )
    .expect("dataset committed");
    (
        coop,
        dataset_id(chain.chain_id(), &coop, &root, &crate::addr(ALICE)),
    )
}

fn listing(datasets: Vec<Hash>) -> Lineage {
    Lineage {
        task: None,
        datasets,
    }
}

#[test]
fn a_version_listing_an_unknown_dataset_is_refused() {
    let mut chain = new_chain();
    let repo = create_repo(&mut chain, ALICE, "m");
    let refused = publish(
        &mut chain,
        ALICE,
        Publish {
            lineage: listing(vec![Hash([0xD0; 32])]),
            ..version(repo, "v1")
        },
    );
    assert_eq!(refused, Err(codes::UNKNOWN_DATASET));
}

#[test]
fn a_version_listing_a_dataset_without_training_consent_is_refused() {
    let mut chain = new_chain();
    let (_, no_training) = dataset(
        &mut chain,
        1,
        Consent {
            training: false,
            ..ALL
        },
    );
    let repo = create_repo(&mut chain, ALICE, "m");
    let refused = publish(
        &mut chain,
        ALICE,
        Publish {
            lineage: listing(vec![no_training]),
            ..version(repo, "v1")
        },
    );
    assert_eq!(refused, Err(codes::NO_CONSENT));
    let (_, fine) = dataset(&mut chain, 2, ALL);
    publish(
        &mut chain,
        ALICE,
        Publish {
            lineage: listing(vec![fine]),
            ..version(repo, "v1")
        },
    )
    .expect("a consenting dataset is fine");
}

#[test]
fn forking_a_model_whose_data_forbids_derivatives_is_refused() {
    let mut chain = new_chain();
    let (_, no_derivatives) = dataset(
        &mut chain,
        1,
        Consent {
            derivatives: false,
            ..ALL
        },
    );
    let repo = create_repo(&mut chain, ALICE, "m");
    let v1 = publish(
        &mut chain,
        ALICE,
        Publish {
            lineage: listing(vec![no_derivatives]),
            ..version(repo, "v1")
        },
    )
    .expect("the model itself may be published (training consent)");
    let fork = send(
        &mut chain,
        BOB,
        &RegistryCall::Fork {
            version: v1,
            name: "fork".into(),
        },
    );
    assert_eq!(fork, Err(codes::NO_CONSENT));
    // Nor may a fine-tune name it as its parent.
    let other = create_repo(&mut chain, BOB, "tune");
    let tune = publish(
        &mut chain,
        BOB,
        Publish {
            parent: Some(v1),
            ..version(other, "v1")
        },
    );
    assert_eq!(tune, Err(codes::NO_CONSENT));
}

#[test]
fn consent_revoked_after_publishing_stops_later_forks() {
    let mut chain = new_chain();
    let (_, data) = dataset(&mut chain, 1, ALL);
    let repo = create_repo(&mut chain, ALICE, "m");
    let v1 = publish(
        &mut chain,
        ALICE,
        Publish {
            lineage: listing(vec![data]),
            ..version(repo, "v1")
        },
    )
    .expect("v1");
    let fork = |chain: &mut TestChain, name: &str| {
        send(
            chain,
            BOB,
            &RegistryCall::Fork {
                version: v1,
                name: name.into(),
            },
        )
    };
    fork(&mut chain, "early").expect("derivatives allowed");
    call(
        &mut chain,
        ALICE,
        COOP_MODULE,
        CoopCall::RevokeConsent { dataset: data }.to_payload(),
    )
    .expect("revoked");
    assert_eq!(fork(&mut chain, "late"), Err(codes::NO_CONSENT));
}
