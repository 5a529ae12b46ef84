//! Dataset commitments and consent.

use counterweight_coop::{
    Admission, Consent, CoopCall, codes, dataset, dataset_id, dataset_root, datasets,
};
use counterweight_types::Hash;

use counterweight_state::test_utils::attr;

use crate::{CoopChain, addr, chain};

const ALL: Consent = Consent {
    training: true,
    commercial: true,
    derivatives: true,
};

fn commit(coop: Hash, root: Hash) -> CoopCall {
    CoopCall::CommitDataset {
        coop,
        root,
        schema: "date,field,yield_kg".into(),
        records: 2,
        consent: ALL,
    }
}

fn root() -> Hash {
    dataset_root(&[b"2026-05-01,north,310", b"2026-05-01,south,295"])
}

#[test]
fn member_commits_a_dataset() {
    let mut chain = chain();
    let coop = chain.create(addr(0), Admission::ByVote);
    let events = chain.ok(addr(0), &commit(coop, root()));
    let id = dataset_id(chain.chain_id(), &coop, &root(), &addr(0));
    assert_eq!(attr(&events, "dataset_committed", "dataset"), id.to_hex());
    assert_eq!(attr(&events, "dataset_committed", "records"), "2");
    let d = dataset(chain.state(), &id).unwrap().expect("stored");
    assert_eq!(d.owner, addr(0));
    assert_eq!(d.coop, coop);
    assert_eq!(d.root, root());
    assert_eq!(d.consent, ALL);
    assert!(!d.revoked);
    assert!(d.committed_height > 0);
    assert_eq!(datasets(chain.state(), &coop).unwrap(), vec![id]);

    let listed = chain.coop_query("datasets", &coop.0);
    assert_eq!(listed[0]["id"], id.to_hex());
    assert_eq!(listed[0]["schema"], "date,field,yield_kg");
    assert_eq!(chain.coop_query("dataset", &id.0)["records"], 2);
    assert_eq!(
        chain.coop_query("dataset", &[7; 32]),
        serde_json::Value::Null
    );

    chain.refused(addr(0), &commit(coop, root()), codes::DATASET_EXISTS);
}

#[test]
fn non_member_cannot_commit_a_dataset() {
    let mut chain = chain();
    let coop = chain.create(addr(0), Admission::ByVote);
    chain.refused(addr(1), &commit(coop, root()), codes::NOT_MEMBER);
    chain.refused(addr(0), &commit(Hash([3; 32]), root()), codes::UNKNOWN_COOP);
}

#[test]
fn owner_changes_consent() {
    let mut chain = chain();
    let coop = chain.create(addr(0), Admission::ByVote);
    chain.ok(addr(0), &commit(coop, root()));
    let id = dataset_id(chain.chain_id(), &coop, &root(), &addr(0));
    let only_training = Consent {
        training: true,
        commercial: false,
        derivatives: false,
    };
    let events = chain.ok(
        addr(0),
        &CoopCall::SetConsent {
            dataset: id,
            consent: only_training,
        },
    );
    assert_eq!(attr(&events, "consent_changed", "commercial"), "false");
    assert_eq!(
        dataset(chain.state(), &id).unwrap().unwrap().consent,
        only_training
    );
    chain.refused(
        addr(0),
        &CoopCall::SetConsent {
            dataset: Hash([4; 32]),
            consent: ALL,
        },
        codes::UNKNOWN_DATASET,
    );
}

#[test]
fn consent_changed_or_revoked_by_a_non_owner_is_refused() {
    let mut chain = chain();
    let coop = chain.create(addr(0), Admission::ByVote);
    chain.admit_all(coop, addr(0), &[addr(1)]);
    chain.ok(addr(0), &commit(coop, root()));
    let id = dataset_id(chain.chain_id(), &coop, &root(), &addr(0));
    chain.refused(
        addr(1),
        &CoopCall::RevokeConsent { dataset: id },
        codes::NOT_OWNER,
    );
    chain.refused(
        addr(1),
        &CoopCall::SetConsent {
            dataset: id,
            consent: Consent::default(),
        },
        codes::NOT_OWNER,
    );
    assert!(!dataset(chain.state(), &id).unwrap().unwrap().revoked);
}

#[test]
fn revocation_is_final() {
    let mut chain = chain();
    let coop = chain.create(addr(0), Admission::ByVote);
    chain.ok(addr(0), &commit(coop, root()));
    let id = dataset_id(chain.chain_id(), &coop, &root(), &addr(0));
    let events = chain.ok(addr(0), &CoopCall::RevokeConsent { dataset: id });
    assert_eq!(attr(&events, "consent_revoked", "dataset"), id.to_hex());
    let d = dataset(chain.state(), &id).unwrap().unwrap();
    assert!(d.revoked);
    assert_eq!(d.consent, Consent::default());
    chain.refused(
        addr(0),
        &CoopCall::SetConsent {
            dataset: id,
            consent: ALL,
        },
        codes::CONSENT_REVOKED,
    );
    chain.refused(
        addr(0),
        &CoopCall::RevokeConsent { dataset: id },
        codes::CONSENT_REVOKED,
    );
    // The same data cannot be re-committed under the same id to escape the revocation.
    chain.refused(addr(0), &commit(coop, root()), codes::DATASET_EXISTS);
}
