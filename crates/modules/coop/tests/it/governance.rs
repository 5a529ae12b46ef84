//! Proposals, votes, execution, treasury and queries.

use counterweight_coop::{
    Admission, CoopCall, ProposalKind, ProposalStatus, ProposalView, Rules, codes, coop,
    is_approved, proposal, treasury_address,
};
use counterweight_types::Hash;

use counterweight_state::test_utils::{TestChain, attr};

use crate::{BALANCE, CoopChain, PERIOD_MS, addr, chain, has};

/// A coop with members 0, 1, 2 and 3 (founder 0).
fn four_member_coop(chain: &mut TestChain) -> Hash {
    let id = chain.create(addr(0), Admission::ByVote);
    chain.admit_all(id, addr(0), &[addr(1), addr(2), addr(3)]);
    id
}

const TASK: Hash = Hash([0x7A; 32]);

#[test]
fn vote_after_the_deadline_is_refused() {
    let mut chain = chain();
    let id = four_member_coop(&mut chain);
    let pid = chain.propose(addr(0), id, ProposalKind::ApproveTask { task: TASK });
    chain.advance_ms(PERIOD_MS);
    chain.refused(
        addr(1),
        &CoopCall::Vote {
            proposal: pid,
            yes: true,
        },
        codes::VOTING_CLOSED,
    );
}

#[test]
fn voting_twice_is_refused() {
    let mut chain = chain();
    let id = four_member_coop(&mut chain);
    let pid = chain.propose(addr(0), id, ProposalKind::ApproveTask { task: TASK });
    chain.vote(addr(1), pid, true);
    chain.refused(
        addr(1),
        &CoopCall::Vote {
            proposal: pid,
            yes: false,
        },
        codes::ALREADY_VOTED,
    );
    assert_eq!(proposal(chain.state(), &pid).unwrap().unwrap().yes, 1);
}

#[test]
fn non_members_cannot_vote_or_propose() {
    let mut chain = chain();
    let id = four_member_coop(&mut chain);
    let pid = chain.propose(addr(0), id, ProposalKind::ApproveTask { task: TASK });
    chain.refused(
        addr(6),
        &CoopCall::Vote {
            proposal: pid,
            yes: true,
        },
        codes::NOT_MEMBER,
    );
    chain.refused(
        addr(6),
        &CoopCall::Propose {
            coop: id,
            kind: ProposalKind::ApproveTask { task: TASK },
        },
        codes::NOT_MEMBER,
    );
    chain.refused(
        addr(6),
        &CoopCall::Vote {
            proposal: Hash([5; 32]),
            yes: true,
        },
        codes::UNKNOWN_PROPOSAL,
    );
}

#[test]
fn execute_before_the_outcome_is_decided_is_refused() {
    let mut chain = chain();
    let id = four_member_coop(&mut chain);
    let receipt = chain.call(
        addr(0),
        &CoopCall::Propose {
            coop: id,
            kind: ProposalKind::ApproveTask { task: TASK },
        },
    );
    assert_eq!(
        attr(&receipt.events, "proposal_created", "task"),
        TASK.to_hex()
    );
    let pid = counterweight_coop::proposal_id(chain.chain_id(), &receipt.tx_hash);
    chain.refused(
        addr(0),
        &CoopCall::Execute { proposal: pid },
        codes::NOT_DECIDED,
    );
    // One yes of four: two no votes would still reject it (approval 50 %, 1 of 3 yes).
    chain.vote(addr(0), pid, true);
    chain.refused(
        addr(0),
        &CoopCall::Execute { proposal: pid },
        codes::NOT_DECIDED,
    );
    // Two yes of four: passes even if the other two vote no (quorum 4/4, approval 2/4).
    chain.vote(addr(1), pid, true);
    let events = chain.ok(addr(5), &CoopCall::Execute { proposal: pid });
    assert_eq!(attr(&events, "task_approved", "task"), TASK.to_hex());
    assert!(is_approved(chain.state(), &id, &TASK).unwrap());
    chain.refused(
        addr(0),
        &CoopCall::Execute { proposal: pid },
        codes::PROPOSAL_CLOSED,
    );
    chain.refused(
        addr(2),
        &CoopCall::Vote {
            proposal: pid,
            yes: true,
        },
        codes::PROPOSAL_CLOSED,
    );
    chain.refused(
        addr(0),
        &CoopCall::Propose {
            coop: id,
            kind: ProposalKind::ApproveTask { task: TASK },
        },
        codes::INVALID_PROPOSAL,
    );
}

#[test]
fn quorum_not_met_is_rejected_at_the_deadline() {
    let mut chain = chain();
    let id = four_member_coop(&mut chain);
    let pid = chain.propose(addr(0), id, ProposalKind::ApproveTask { task: TASK });
    // One yes of four members: quorum (50 %) is not met.
    chain.vote(addr(0), pid, true);
    chain.advance_ms(PERIOD_MS);
    let events = chain.ok(addr(0), &CoopCall::Execute { proposal: pid });
    assert_eq!(attr(&events, "proposal_executed", "passed"), "false");
    assert!(!has(&events, "task_approved"));
    assert_eq!(
        proposal(chain.state(), &pid).unwrap().unwrap().status,
        ProposalStatus::Rejected
    );
    assert!(!is_approved(chain.state(), &id, &TASK).unwrap());
}

#[test]
fn enough_no_votes_reject_early() {
    let mut chain = chain();
    let id = four_member_coop(&mut chain);
    let pid = chain.propose(addr(0), id, ProposalKind::ApproveTask { task: TASK });
    chain.vote(addr(1), pid, false);
    chain.vote(addr(2), pid, false);
    chain.vote(addr(3), pid, false);
    let events = chain.ok(addr(0), &CoopCall::Execute { proposal: pid });
    assert_eq!(attr(&events, "proposal_executed", "passed"), "false");
}

#[test]
fn change_rules_takes_effect() {
    let mut chain = chain();
    let id = four_member_coop(&mut chain);
    let new_rules = Rules {
        quorum_permille: 750,
        approval_permille: 667,
        voting_period_ms: 60_000,
        revenue_share_permille: 100,
        admission: Admission::ByCredential {
            issuer: addr(6),
            kind: "farmer".into(),
        },
    };
    let mut bad = new_rules.clone();
    bad.approval_permille = 0;
    chain.refused(
        addr(0),
        &CoopCall::Propose {
            coop: id,
            kind: ProposalKind::ChangeRules { rules: bad },
        },
        codes::INVALID_RULES,
    );
    let pid = chain.propose(
        addr(0),
        id,
        ProposalKind::ChangeRules {
            rules: new_rules.clone(),
        },
    );
    for i in 0..3 {
        chain.vote(addr(i), pid, true);
    }
    let events = chain.ok(addr(0), &CoopCall::Execute { proposal: pid });
    assert_eq!(attr(&events, "rules_changed", "quorum_permille"), "750");
    assert_eq!(coop(chain.state(), &id).unwrap().unwrap().rules, new_rules);
    // New proposals use the new thresholds and period.
    let next = chain.propose(addr(0), id, ProposalKind::ApproveTask { task: TASK });
    let p = proposal(chain.state(), &next).unwrap().unwrap();
    assert_eq!(p.quorum_permille, 750);
    assert_eq!(p.deadline_ms, p.created_ms + 60_000);
}

#[test]
fn deposit_and_spend_move_treasury_funds() {
    let mut chain = chain();
    let id = four_member_coop(&mut chain);
    let treasury = treasury_address(&id);
    let events = chain.ok(
        addr(1),
        &CoopCall::Deposit {
            coop: id,
            amount: 500,
        },
    );
    assert_eq!(attr(&events, "deposit", "amount"), "500");
    assert_eq!(chain.balance(&treasury), 500);
    chain.refused(
        addr(1),
        &CoopCall::Deposit {
            coop: id,
            amount: 0,
        },
        codes::ZERO_AMOUNT,
    );
    chain.refused(
        addr(1),
        &CoopCall::Deposit {
            coop: id,
            amount: BALANCE * 2,
        },
        codes::INSUFFICIENT_FUNDS,
    );
    chain.refused(
        addr(1),
        &CoopCall::Deposit {
            coop: Hash([1; 32]),
            amount: 5,
        },
        codes::UNKNOWN_COOP,
    );
    chain.refused(
        addr(0),
        &CoopCall::Propose {
            coop: id,
            kind: ProposalKind::Spend {
                to: addr(7),
                amount: 0,
            },
        },
        codes::ZERO_AMOUNT,
    );

    let before = chain.balance(&addr(7));
    let pid = chain.propose(
        addr(0),
        id,
        ProposalKind::Spend {
            to: addr(7),
            amount: 300,
        },
    );
    chain.vote(addr(0), pid, true);
    chain.vote(addr(1), pid, true);
    let events = chain.ok(addr(2), &CoopCall::Execute { proposal: pid });
    assert_eq!(attr(&events, "spend", "amount"), "300");
    assert_eq!(chain.balance(&treasury), 200);
    assert_eq!(chain.balance(&addr(7)), before + 300);
}

#[test]
fn spend_beyond_the_treasury_stays_open_until_funded() {
    let mut chain = chain();
    let id = four_member_coop(&mut chain);
    let pid = chain.propose(
        addr(0),
        id,
        ProposalKind::Spend {
            to: addr(7),
            amount: 300,
        },
    );
    chain.vote(addr(0), pid, true);
    chain.vote(addr(1), pid, true);
    chain.refused(
        addr(2),
        &CoopCall::Execute { proposal: pid },
        codes::INSUFFICIENT_FUNDS,
    );
    assert_eq!(
        proposal(chain.state(), &pid).unwrap().unwrap().status,
        ProposalStatus::Open
    );
    // Anyone can fund the treasury with a plain bank transfer, too.
    chain.transfer(addr(5), treasury_address(&id), 300);
    chain.ok(addr(2), &CoopCall::Execute { proposal: pid });
    assert_eq!(chain.balance(&treasury_address(&id)), 0);
}

#[test]
fn proposal_queries() {
    let mut chain = chain();
    let id = four_member_coop(&mut chain);
    let pid = chain.propose(addr(0), id, ProposalKind::ApproveTask { task: TASK });
    chain.vote(addr(2), pid, false);
    let p = chain.coop_query("proposal", &pid.0);
    assert_eq!(p["kind"]["type"], "approve_task");
    assert_eq!(p["kind"]["task"], TASK.to_hex());
    assert_eq!(p["no"], 1);
    assert_eq!(p["status"], "open");
    assert_eq!(p["electorate"], 4);
    let view: ProposalView = serde_json::from_value(p).expect("a proposal view");
    assert_eq!(view.status, ProposalStatus::Open);
    assert_eq!(view.kind, ProposalKind::ApproveTask { task: TASK });
    assert_eq!(
        view,
        ProposalView::from(proposal(chain.state(), &pid).unwrap().unwrap())
    );
    assert_eq!(
        chain.coop_query("proposal", &[9; 32]),
        serde_json::Value::Null
    );
    let all = chain.coop_query("proposals", &id.0);
    // Three admissions, then this one.
    assert_eq!(all.as_array().map(Vec::len), Some(4));
    assert_eq!(all[3]["id"], pid.to_hex());
    assert_eq!(all[0]["status"], "passed");
    let mut arg = id.0.to_vec();
    arg.extend(TASK.0);
    assert_eq!(chain.coop_query("approved", &arg), serde_json::json!(false));
    assert_eq!(chain.coop_query("coop", &[0; 32]), serde_json::Value::Null);
    assert_eq!(chain.coop_query_code("coop", &[0; 31]), codes::BAD_QUERY);
    assert_eq!(
        chain.coop_query_code("approved", &[0; 32]),
        codes::BAD_QUERY
    );
    assert_eq!(chain.coop_query_code("nope", &[]), codes::BAD_QUERY);
}
