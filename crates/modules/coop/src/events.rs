//! The coop's events, as they appear in receipts and the audit log.

use std::collections::BTreeMap;

use counterweight_state::{EventError, ModuleEvent};
use counterweight_types::{Address, Hash};
use serde::Serialize;

use crate::ProposalType;

/// An event of the coop module.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
#[non_exhaustive]
pub enum CoopEvent {
    /// A cooperative was founded.
    CoopCreated {
        /// The cooperative.
        coop: Hash,
        /// Its founder (and first member).
        founder: Address,
        /// Its treasury account.
        treasury: Address,
    },
    /// An account asked to join a coop that admits by vote; an admission proposal opened.
    JoinRequested {
        /// The cooperative.
        coop: Hash,
        /// The applicant.
        member: Address,
        /// The admission proposal.
        proposal: Hash,
    },
    /// An account joined by presenting a credential.
    MemberJoined {
        /// The cooperative.
        coop: Hash,
        /// The new member.
        member: Address,
        /// The credential's id.
        credential: Hash,
    },
    /// A member left.
    MemberLeft {
        /// The cooperative.
        coop: Hash,
        /// The former member.
        member: Address,
    },
    /// A passed admission proposal took effect.
    MemberAdmitted {
        /// The cooperative.
        coop: Hash,
        /// The new member.
        member: Address,
        /// The proposal.
        proposal: Hash,
    },
    /// A passed removal proposal took effect.
    MemberRemoved {
        /// The cooperative.
        coop: Hash,
        /// The former member.
        member: Address,
        /// The proposal.
        proposal: Hash,
    },
    /// A member committed a dataset.
    DatasetCommitted {
        /// The dataset.
        dataset: Hash,
        /// The cooperative.
        coop: Hash,
        /// The member who committed it.
        owner: Address,
        /// The records' Merkle root.
        root: Hash,
        /// The number of records.
        records: u64,
        /// Consent to training.
        training: bool,
        /// Consent to commercial use.
        commercial: bool,
        /// Consent to derivative works.
        derivatives: bool,
    },
    /// A dataset's owner replaced its consent terms.
    ConsentChanged {
        /// The dataset.
        dataset: Hash,
        /// The cooperative.
        coop: Hash,
        /// Consent to training.
        training: bool,
        /// Consent to commercial use.
        commercial: bool,
        /// Consent to derivative works.
        derivatives: bool,
    },
    /// A dataset's owner revoked all consent, finally.
    ConsentRevoked {
        /// The cooperative.
        coop: Hash,
        /// The dataset.
        dataset: Hash,
    },
    /// A proposal opened. The kind's target is in `member` (admit, remove), `task`
    /// (approve task) or `to` and `amount` (spend).
    ProposalCreated {
        /// The cooperative.
        coop: Hash,
        /// The proposal.
        proposal: Hash,
        /// Who opened it.
        proposer: Address,
        /// What it would do (attribute `kind`).
        #[serde(rename = "proposal_kind")]
        kind: ProposalType,
        /// Block time from which it can always be executed.
        deadline_ms: u64,
        /// The account to admit or remove.
        member: Option<Address>,
        /// The task to approve.
        task: Option<Hash>,
        /// The payee of a spend.
        to: Option<Address>,
        /// The amount of a spend.
        amount: Option<u64>,
    },
    /// A member voted.
    VoteCast {
        /// The cooperative.
        coop: Hash,
        /// The proposal.
        proposal: Hash,
        /// The member.
        voter: Address,
        /// Yes or no.
        yes: bool,
    },
    /// A proposal was decided (and, if it passed, its effect follows in the same receipt).
    ProposalExecuted {
        /// The cooperative.
        coop: Hash,
        /// The proposal.
        proposal: Hash,
        /// What it does (attribute `kind`).
        #[serde(rename = "proposal_kind")]
        kind: ProposalType,
        /// Whether it passed.
        passed: bool,
        /// Yes votes.
        yes: u32,
        /// No votes.
        no: u32,
    },
    /// A passed proposal approved a training task.
    TaskApproved {
        /// The cooperative.
        coop: Hash,
        /// The task.
        task: Hash,
        /// The proposal.
        proposal: Hash,
    },
    /// A passed proposal replaced the rules.
    RulesChanged {
        /// The cooperative.
        coop: Hash,
        /// The proposal.
        proposal: Hash,
        /// The new quorum.
        quorum_permille: u16,
        /// The new approval threshold.
        approval_permille: u16,
        /// The new voting period.
        voting_period_ms: u64,
        /// The new treasury share of task revenue.
        revenue_share_permille: u16,
    },
    /// A passed proposal paid out of the treasury.
    Spend {
        /// The cooperative.
        coop: Hash,
        /// The payee.
        to: Address,
        /// The amount.
        amount: u64,
        /// The proposal.
        proposal: Hash,
    },
    /// Funds moved from the sender into the treasury.
    Deposit {
        /// The cooperative.
        coop: Hash,
        /// The depositor.
        from: Address,
        /// The amount.
        amount: u64,
    },
}

/// The key serde gives a proposal event's `kind` field: serde cannot name a field `kind` next
/// to the `kind` tag, so [`CoopEvent::to_parts`] renames it back.
const PROPOSAL_KIND: &str = "proposal_kind";

impl ModuleEvent for CoopEvent {
    fn to_parts(&self) -> Result<(String, BTreeMap<String, String>), EventError> {
        let (kind, mut attributes) = Tagged(self).to_parts()?;
        if let Some(proposal_kind) = attributes.remove(PROPOSAL_KIND) {
            attributes.insert("kind".to_owned(), proposal_kind);
        }
        Ok((kind, attributes))
    }
}

/// The event with the kit's default conversion.
#[derive(Serialize)]
#[serde(transparent)]
struct Tagged<'a>(&'a CoopEvent);

impl ModuleEvent for Tagged<'_> {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn proposal_events_carry_their_kind_as_the_kind_attribute() {
        let (kind, attributes) = CoopEvent::ProposalExecuted {
            coop: Hash([1; 32]),
            proposal: Hash([2; 32]),
            kind: ProposalType::ApproveTask,
            passed: true,
            yes: 1,
            no: 0,
        }
        .to_parts()
        .expect("parts");
        assert_eq!(kind, "proposal_executed");
        assert_eq!(attributes["kind"], "approve_task");
        assert!(!attributes.contains_key(PROPOSAL_KIND));
        assert_eq!(attributes["passed"], "true");
        assert_eq!(attributes.len(), 6);
    }
}
