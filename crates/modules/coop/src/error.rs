//! The coop's refusals: one variant per reason, each with its stable code.

use counterweight_state::{MalformedCall, ModuleError, Verdict, query::BadQuery};
use counterweight_types::{Address, Hash};

use crate::MAX_MEMBERS;

/// Failure codes in receipts of coop calls and queries (stable: never renumber one).
pub mod codes {
    /// The payload does not decode.
    pub const MALFORMED: u32 = 1;
    /// Unknown query path or bad query argument.
    pub const BAD_QUERY: u32 = 2;
    /// No cooperative has this id.
    pub const UNKNOWN_COOP: u32 = 3;
    /// The sender (or the named account) is not a member.
    pub const NOT_MEMBER: u32 = 4;
    /// The account is already a member.
    pub const ALREADY_MEMBER: u32 = 5;
    /// Rules out of range (shares above 1000, quorum or approval 0, bad period or kind).
    pub const INVALID_RULES: u32 = 6;
    /// The name is empty.
    pub const INVALID_NAME: u32 = 7;
    /// The coop admits by credential and none was presented.
    pub const CREDENTIAL_REQUIRED: u32 = 8;
    /// The credential does not verify (forged, revoked, expired or malformed).
    pub const CREDENTIAL_INVALID: u32 = 9;
    /// The credential verifies but has the wrong issuer, kind or subject.
    pub const CREDENTIAL_MISMATCH: u32 = 10;
    /// A credential was presented to a coop that admits by vote.
    pub const CREDENTIAL_UNEXPECTED: u32 = 11;
    /// The sender already has an admission proposal open in this coop.
    pub const JOIN_PENDING: u32 = 12;
    /// The last member cannot leave or be removed.
    pub const LAST_MEMBER: u32 = 13;
    /// The coop has [`crate::MAX_MEMBERS`] members.
    pub const TOO_MANY_MEMBERS: u32 = 14;
    /// No dataset has this id.
    pub const UNKNOWN_DATASET: u32 = 15;
    /// This dataset (same coop, root and owner) is already committed.
    pub const DATASET_EXISTS: u32 = 16;
    /// Only the dataset's owner may change its consent.
    pub const NOT_OWNER: u32 = 17;
    /// The dataset's consent was revoked, which is final.
    pub const CONSENT_REVOKED: u32 = 18;
    /// No proposal has this id.
    pub const UNKNOWN_PROPOSAL: u32 = 19;
    /// The proposal's voting deadline has passed.
    pub const VOTING_CLOSED: u32 = 20;
    /// The member already voted on this proposal.
    pub const ALREADY_VOTED: u32 = 21;
    /// The member joined after the proposal opened and may not vote on it.
    pub const NOT_ELIGIBLE: u32 = 22;
    /// The proposal can still go either way and its deadline has not passed.
    pub const NOT_DECIDED: u32 = 23;
    /// The proposal was already executed.
    pub const PROPOSAL_CLOSED: u32 = 24;
    /// The proposal cannot apply (e.g. removing a non-member, approving an approved task).
    pub const INVALID_PROPOSAL: u32 = 25;
    /// Amounts must be at least 1.
    pub const ZERO_AMOUNT: u32 = 26;
    /// The payer (sender or treasury) has too little balance.
    pub const INSUFFICIENT_FUNDS: u32 = 27;
    /// The member's admitting credential has been revoked or has expired: it acts as a
    /// member again only after rejoining with a valid credential.
    pub const MEMBERSHIP_LAPSED: u32 = 28;
}

/// Why the coop refuses a call (or a query).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CoopError {
    /// The payload does not decode.
    #[error(transparent)]
    Malformed(#[from] MalformedCall),
    /// Unknown query path or bad query argument.
    #[error(transparent)]
    BadQuery(#[from] BadQuery),
    /// No cooperative has this id.
    #[error("no coop {id}")]
    UnknownCoop {
        /// The cooperative asked for.
        id: Hash,
    },
    /// The account is not a member.
    #[error("{who} is not a member of coop {coop}")]
    NotMember {
        /// The account.
        who: Address,
        /// The cooperative.
        coop: Hash,
    },
    /// The credential that admitted the member has been revoked or has expired.
    #[error("{who}'s membership of coop {coop} lapsed: its credential is revoked or expired")]
    MembershipLapsed {
        /// The member.
        who: Address,
        /// The cooperative.
        coop: Hash,
    },
    /// The account is already a member.
    #[error("{who} is already a member of coop {coop}")]
    AlreadyMember {
        /// The account.
        who: Address,
        /// The cooperative.
        coop: Hash,
    },
    /// A numeric rule is outside its allowed range.
    #[error("{field} is {value}, expected {min} to {max}")]
    RuleOutOfRange {
        /// The rule's field name.
        field: &'static str,
        /// Its value.
        value: u64,
        /// The smallest allowed value.
        min: u64,
        /// The largest allowed value.
        max: u64,
    },
    /// Credential admission names an empty credential kind.
    #[error("credential kind is empty")]
    EmptyCredentialKind,
    /// The cooperative's name is empty.
    #[error("coop name is empty")]
    EmptyName,
    /// The coop admits by credential and none was presented.
    #[error("this coop admits holders of a {kind:?} credential from {issuer}")]
    CredentialRequired {
        /// The required credential kind.
        kind: String,
        /// The required issuer.
        issuer: Address,
    },
    /// The credential does not verify (forged, revoked, expired or malformed).
    #[error("credential does not verify: {}", source.message)]
    CredentialInvalid {
        /// The identity module's refusal.
        #[source]
        source: ModuleError,
    },
    /// The credential was issued by another issuer.
    #[error("credential issuer is {got}, this coop accepts {accepted}")]
    IssuerMismatch {
        /// The credential's issuer.
        got: Address,
        /// The issuer the coop accepts.
        accepted: Address,
    },
    /// The credential has another kind.
    #[error("credential kind is {got:?}, this coop accepts {accepted:?}")]
    KindMismatch {
        /// The credential's kind.
        got: String,
        /// The kind the coop accepts.
        accepted: String,
    },
    /// The credential names someone other than the joining account.
    #[error("credential subject is {got}, but {joining} is joining")]
    SubjectMismatch {
        /// The credential's subject.
        got: Address,
        /// The joining account.
        joining: Address,
    },
    /// A credential was presented to a coop that admits by vote.
    #[error("this coop admits by vote; join without a credential")]
    CredentialUnexpected,
    /// The sender already has an admission proposal open in this coop.
    #[error("admission proposal {proposal} is already open")]
    JoinPending {
        /// The open admission proposal.
        proposal: Hash,
    },
    /// The last member cannot leave or be removed.
    #[error("{who} is the last member of coop {coop}")]
    LastMember {
        /// The member.
        who: Address,
        /// The cooperative.
        coop: Hash,
    },
    /// The coop has [`MAX_MEMBERS`] members.
    #[error("coop {coop} has the maximum of {} members", MAX_MEMBERS)]
    TooManyMembers {
        /// The cooperative.
        coop: Hash,
    },
    /// No dataset has this id.
    #[error("no dataset {id}")]
    UnknownDataset {
        /// The dataset asked for.
        id: Hash,
    },
    /// This dataset (same coop, root and owner) is already committed.
    #[error("dataset {id} is already committed")]
    DatasetExists {
        /// The dataset.
        id: Hash,
    },
    /// Only the dataset's owner may change its consent.
    #[error("only the owner {owner} may change consent")]
    NotOwner {
        /// The dataset's owner.
        owner: Address,
    },
    /// The dataset's consent was revoked, which is final.
    #[error("consent for dataset {dataset} was revoked, which is final")]
    ConsentRevoked {
        /// The dataset.
        dataset: Hash,
    },
    /// No proposal has this id.
    #[error("no proposal {id}")]
    UnknownProposal {
        /// The proposal asked for.
        id: Hash,
    },
    /// The proposal's voting deadline has passed.
    #[error("voting on proposal {proposal} closed at {deadline_ms} ms; block time is {now_ms} ms")]
    VotingClosed {
        /// The proposal.
        proposal: Hash,
        /// Its deadline.
        deadline_ms: u64,
        /// The block time.
        now_ms: u64,
    },
    /// The member already voted on this proposal.
    #[error("{voter} already voted on proposal {proposal}")]
    AlreadyVoted {
        /// The member.
        voter: Address,
        /// The proposal.
        proposal: Hash,
    },
    /// The member joined after the proposal opened and may not vote on it.
    #[error("{voter} joined after proposal {proposal} opened")]
    NotEligible {
        /// The member.
        voter: Address,
        /// The proposal.
        proposal: Hash,
    },
    /// The proposal can still go either way and its deadline has not passed.
    #[error(
        "proposal {proposal} is undecided ({yes} yes, {no} no of {electorate}) until {deadline_ms} ms"
    )]
    NotDecided {
        /// The proposal.
        proposal: Hash,
        /// Yes votes so far.
        yes: u32,
        /// No votes so far.
        no: u32,
        /// Members at the proposal's creation.
        electorate: u32,
        /// Its deadline.
        deadline_ms: u64,
    },
    /// The proposal was already executed.
    #[error("proposal {proposal} was already executed")]
    ProposalClosed {
        /// The proposal.
        proposal: Hash,
    },
    /// The task a proposal would approve is already approved.
    #[error("task {task} is already approved")]
    TaskAlreadyApproved {
        /// The task.
        task: Hash,
    },
    /// An amount (of a deposit or a spend) is zero.
    #[error("{what} amount must be at least 1")]
    ZeroAmount {
        /// What the amount is for: `deposit` or `spend`.
        what: &'static str,
    },
    /// The bank refused to move the sender's deposit into the treasury.
    #[error("cannot deposit: {}", source.message)]
    CannotDeposit {
        /// The bank's refusal.
        #[source]
        source: ModuleError,
    },
    /// The bank refused to pay a passed spend out of the treasury.
    #[error("treasury cannot pay: {}", source.message)]
    TreasuryCannotPay {
        /// The bank's refusal.
        #[source]
        source: ModuleError,
    },
}

impl Verdict for CoopError {
    fn code(&self) -> u32 {
        match self {
            Self::Malformed(_) => codes::MALFORMED,
            Self::BadQuery(_) => codes::BAD_QUERY,
            Self::UnknownCoop { .. } => codes::UNKNOWN_COOP,
            Self::NotMember { .. } => codes::NOT_MEMBER,
            Self::MembershipLapsed { .. } => codes::MEMBERSHIP_LAPSED,
            Self::AlreadyMember { .. } => codes::ALREADY_MEMBER,
            Self::RuleOutOfRange { .. } | Self::EmptyCredentialKind => codes::INVALID_RULES,
            Self::EmptyName => codes::INVALID_NAME,
            Self::CredentialRequired { .. } => codes::CREDENTIAL_REQUIRED,
            Self::CredentialInvalid { .. } => codes::CREDENTIAL_INVALID,
            Self::IssuerMismatch { .. }
            | Self::KindMismatch { .. }
            | Self::SubjectMismatch { .. } => codes::CREDENTIAL_MISMATCH,
            Self::CredentialUnexpected => codes::CREDENTIAL_UNEXPECTED,
            Self::JoinPending { .. } => codes::JOIN_PENDING,
            Self::LastMember { .. } => codes::LAST_MEMBER,
            Self::TooManyMembers { .. } => codes::TOO_MANY_MEMBERS,
            Self::UnknownDataset { .. } => codes::UNKNOWN_DATASET,
            Self::DatasetExists { .. } => codes::DATASET_EXISTS,
            Self::NotOwner { .. } => codes::NOT_OWNER,
            Self::ConsentRevoked { .. } => codes::CONSENT_REVOKED,
            Self::UnknownProposal { .. } => codes::UNKNOWN_PROPOSAL,
            Self::VotingClosed { .. } => codes::VOTING_CLOSED,
            Self::AlreadyVoted { .. } => codes::ALREADY_VOTED,
            Self::NotEligible { .. } => codes::NOT_ELIGIBLE,
            Self::NotDecided { .. } => codes::NOT_DECIDED,
            Self::ProposalClosed { .. } => codes::PROPOSAL_CLOSED,
            Self::TaskAlreadyApproved { .. } => codes::INVALID_PROPOSAL,
            Self::ZeroAmount { .. } => codes::ZERO_AMOUNT,
            Self::CannotDeposit { .. } | Self::TreasuryCannotPay { .. } => {
                codes::INSUFFICIENT_FUNDS
            }
        }
    }
}
