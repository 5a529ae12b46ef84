//! Creating coops, joining by vote, leaving, removal.

use counterweight_coop::{
    Admission, CoopCall, CoopView, ProposalKind, ProposalStatus, Rules, codes, coop, is_member,
    members, proposal, treasury_address,
};
use counterweight_types::Hash;

use counterweight_state::test_utils::attr;

use crate::{CoopChain, addr, chain, has, rules};

#[test]
fn create_makes_the_founder_the_only_member() {
    let mut chain = chain();
    let id = chain.create(addr(0), Admission::ByVote);
    let c = coop(chain.state(), &id).unwrap().expect("coop stored");
    assert_eq!(c.founder, addr(0));
    assert_eq!(c.members, 1);
    assert_eq!(c.name, "farmers");
    assert_eq!(c.treasury, treasury_address(&id));
    assert_eq!(members(chain.state(), &id).unwrap(), vec![addr(0)]);
    let json = chain.coop_query("coop", &id.0);
    assert_eq!(json["id"], id.to_hex());
    assert_eq!(json["rules"]["admission"]["type"], "by_vote");
    let view: CoopView = serde_json::from_value(json).expect("a coop view");
    assert_eq!(view, CoopView::from(c));
    assert_eq!(
        chain.coop_query("members", &id.0),
        serde_json::json!([addr(0).to_hex()])
    );
}

#[test]
fn create_rejects_invalid_rules_and_names() {
    let mut chain = chain();
    let bad: [fn(&mut Rules); 6] = [
        |r| r.quorum_permille = 0,
        |r| r.quorum_permille = 1001,
        |r| r.approval_permille = 1001,
        |r| r.revenue_share_permille = 1001,
        |r| r.voting_period_ms = 0,
        |r| r.voting_period_ms = counterweight_coop::MAX_VOTING_PERIOD_MS + 1,
    ];
    for change in bad {
        let mut r = rules(Admission::ByVote);
        change(&mut r);
        chain.refused(
            addr(0),
            &CoopCall::Create {
                name: "x".into(),
                rules: r,
            },
            codes::INVALID_RULES,
        );
    }
    chain.refused(
        addr(0),
        &CoopCall::Create {
            name: "x".into(),
            rules: rules(Admission::ByCredential {
                issuer: addr(5),
                kind: String::new(),
            }),
        },
        codes::INVALID_RULES,
    );
    chain.refused(
        addr(0),
        &CoopCall::Create {
            name: " ".into(),
            rules: rules(Admission::ByVote),
        },
        codes::INVALID_NAME,
    );
}

#[test]
fn join_by_vote_end_to_end() {
    let mut chain = chain();
    let id = chain.create(addr(0), Admission::ByVote);
    let events = chain.ok(
        addr(1),
        &CoopCall::Join {
            coop: id,
            credential: None,
        },
    );
    let pid: Hash = attr(&events, "join_requested", "proposal").parse().unwrap();
    assert!(has(&events, "proposal_created"));
    assert!(!is_member(chain.state(), &id, &addr(1)).unwrap());
    let p = proposal(chain.state(), &pid).unwrap().unwrap();
    assert_eq!(p.kind, ProposalKind::Admit { member: addr(1) });
    assert_eq!(p.proposer, addr(1));
    assert_eq!(p.electorate, 1);

    // A second request while one is open is refused; the applicant cannot vote.
    chain.refused(
        addr(1),
        &CoopCall::Join {
            coop: id,
            credential: None,
        },
        codes::JOIN_PENDING,
    );
    chain.refused(
        addr(1),
        &CoopCall::Vote {
            proposal: pid,
            yes: true,
        },
        codes::NOT_MEMBER,
    );

    chain.vote(addr(0), pid, true);
    // Anyone may execute a decided proposal.
    let events = chain.ok(addr(7), &CoopCall::Execute { proposal: pid });
    assert_eq!(attr(&events, "proposal_executed", "passed"), "true");
    assert_eq!(attr(&events, "member_admitted", "member"), addr(1).to_hex());
    assert!(is_member(chain.state(), &id, &addr(1)).unwrap());
    assert_eq!(coop(chain.state(), &id).unwrap().unwrap().members, 2);
    assert_eq!(
        proposal(chain.state(), &pid).unwrap().unwrap().status,
        ProposalStatus::Passed
    );
    let mut expected = vec![addr(0), addr(1)];
    expected.sort();
    assert_eq!(members(chain.state(), &id).unwrap(), expected);

    chain.refused(
        addr(1),
        &CoopCall::Join {
            coop: id,
            credential: None,
        },
        codes::ALREADY_MEMBER,
    );
}

#[test]
fn rejected_admission_can_be_requested_again() {
    let mut chain = chain();
    let id = chain.create(addr(0), Admission::ByVote);
    let join = CoopCall::Join {
        coop: id,
        credential: None,
    };
    let events = chain.ok(addr(1), &join);
    let pid: Hash = attr(&events, "join_requested", "proposal").parse().unwrap();
    chain.vote(addr(0), pid, false);
    let events = chain.ok(addr(1), &CoopCall::Execute { proposal: pid });
    assert_eq!(attr(&events, "proposal_executed", "passed"), "false");
    assert!(!has(&events, "member_admitted"));
    assert!(!is_member(chain.state(), &id, &addr(1)).unwrap());
    chain.ok(addr(1), &join);
}

#[test]
fn join_refuses_unknown_coop_and_unexpected_credential() {
    let mut chain = chain();
    let id = chain.create(addr(0), Admission::ByVote);
    chain.refused(
        addr(1),
        &CoopCall::Join {
            coop: Hash([9; 32]),
            credential: None,
        },
        codes::UNKNOWN_COOP,
    );
    chain.refused(
        addr(1),
        &CoopCall::Join {
            coop: id,
            credential: Some(vec![1, 2, 3]),
        },
        codes::CREDENTIAL_UNEXPECTED,
    );
}

#[test]
fn join_by_credential_requires_a_credential() {
    let mut chain = chain();
    let id = chain.create(
        addr(0),
        Admission::ByCredential {
            issuer: addr(5),
            kind: "farmer".into(),
        },
    );
    chain.refused(
        addr(1),
        &CoopCall::Join {
            coop: id,
            credential: None,
        },
        codes::CREDENTIAL_REQUIRED,
    );
}

#[test]
fn leave_and_last_member() {
    let mut chain = chain();
    let id = chain.create(addr(0), Admission::ByVote);
    chain.refused(addr(0), &CoopCall::Leave { coop: id }, codes::LAST_MEMBER);
    chain.refused(addr(3), &CoopCall::Leave { coop: id }, codes::NOT_MEMBER);
    chain.admit_all(id, addr(0), &[addr(1)]);
    let events = chain.ok(addr(0), &CoopCall::Leave { coop: id });
    assert_eq!(attr(&events, "member_left", "member"), addr(0).to_hex());
    assert_eq!(members(chain.state(), &id).unwrap(), vec![addr(1)]);
    assert_eq!(coop(chain.state(), &id).unwrap().unwrap().members, 1);
}

#[test]
fn remove_by_vote() {
    let mut chain = chain();
    let id = chain.create(addr(0), Admission::ByVote);
    chain.refused(
        addr(0),
        &CoopCall::Propose {
            coop: id,
            kind: ProposalKind::Remove { member: addr(0) },
        },
        codes::LAST_MEMBER,
    );
    chain.admit_all(id, addr(0), &[addr(1), addr(2)]);
    chain.refused(
        addr(0),
        &CoopCall::Propose {
            coop: id,
            kind: ProposalKind::Remove { member: addr(4) },
        },
        codes::NOT_MEMBER,
    );
    chain.refused(
        addr(0),
        &CoopCall::Propose {
            coop: id,
            kind: ProposalKind::Admit { member: addr(1) },
        },
        codes::ALREADY_MEMBER,
    );
    let pid = chain.propose(addr(0), id, ProposalKind::Remove { member: addr(2) });
    chain.vote(addr(0), pid, true);
    chain.vote(addr(1), pid, true);
    let events = chain.ok(addr(0), &CoopCall::Execute { proposal: pid });
    assert_eq!(attr(&events, "member_removed", "member"), addr(2).to_hex());
    assert!(!is_member(chain.state(), &id, &addr(2)).unwrap());
    assert_eq!(coop(chain.state(), &id).unwrap().unwrap().members, 2);
}

#[test]
fn members_who_joined_after_a_proposal_cannot_vote_on_it() {
    let mut chain = chain();
    let id = chain.create(addr(0), Admission::ByVote);
    let early = chain.propose(
        addr(0),
        id,
        ProposalKind::ApproveTask {
            task: Hash([1; 32]),
        },
    );
    chain.admit_all(id, addr(0), &[addr(1)]);
    chain.refused(
        addr(1),
        &CoopCall::Vote {
            proposal: early,
            yes: true,
        },
        codes::NOT_ELIGIBLE,
    );
}
