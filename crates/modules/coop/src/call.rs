//! The coop's transactions and their parts (rules, admission, consent, proposal kinds), with
//! canonical encodings.

use bytes::BufMut;
use commonware_codec::{Buf, EncodeSize, Error as CodecError, FixedSize, Read, ReadExt, Write};
use counterweight_state::ModuleCall;
use counterweight_types::{
    Address, Hash,
    codec::{read_byte_vec, read_str, str_size, write_str},
};
use serde::{Deserialize, Serialize};

/// Maximum length in bytes of a cooperative's name.
pub const MAX_NAME_BYTES: usize = 256;
/// Maximum length in bytes of a credential kind in [`Admission::ByCredential`].
pub const MAX_KIND_BYTES: usize = 256;
/// Maximum length in bytes of a dataset's schema (for a CSV shard: its header line).
pub const MAX_SCHEMA_BYTES: usize = 1024;
/// Maximum length in bytes of a credential presented with [`CoopCall::Join`].
pub const MAX_CREDENTIAL_BYTES: usize = 16 * 1024;

/// How a cooperative admits new members.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Admission {
    /// A [`CoopCall::Join`] opens an [`ProposalKind::Admit`] proposal the members vote on.
    ByVote,
    /// Anyone holding a valid credential of `kind` from `issuer`, whose subject is the
    /// joining account, joins at once.
    ByCredential {
        /// The required issuer.
        issuer: Address,
        /// The required credential kind.
        kind: String,
    },
}

impl Write for Admission {
    fn write(&self, buf: &mut impl BufMut) {
        match self {
            Self::ByVote => buf.put_u8(0),
            Self::ByCredential { issuer, kind } => {
                buf.put_u8(1);
                issuer.write(buf);
                write_str(kind, buf);
            }
        }
    }
}

impl EncodeSize for Admission {
    fn encode_size(&self) -> usize {
        1 + match self {
            Self::ByVote => 0,
            Self::ByCredential { kind, .. } => Address::SIZE + str_size(kind),
        }
    }
}

impl Read for Admission {
    type Cfg = ();

    fn read_cfg(buf: &mut impl Buf, _: &()) -> Result<Self, CodecError> {
        match u8::read(buf)? {
            0 => Ok(Self::ByVote),
            1 => Ok(Self::ByCredential {
                issuer: Address::read(buf)?,
                kind: read_str(buf, MAX_KIND_BYTES, "Admission.kind")?,
            }),
            tag => Err(CodecError::InvalidEnum(tag)),
        }
    }
}

/// A cooperative's governance and revenue rules. Shares are in permille (0..=1000).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rules {
    /// Share of the members (at the proposal's creation) that must vote for a decision.
    pub quorum_permille: u16,
    /// Share of the votes cast that must be yes for a proposal to pass.
    pub approval_permille: u16,
    /// How long a proposal is open for votes, in milliseconds of block time.
    pub voting_period_ms: u64,
    /// Share of task revenue kept by the treasury; the rest goes to contributors.
    pub revenue_share_permille: u16,
    /// How new members are admitted.
    pub admission: Admission,
}

impl Write for Rules {
    fn write(&self, buf: &mut impl BufMut) {
        self.quorum_permille.write(buf);
        self.approval_permille.write(buf);
        self.voting_period_ms.write(buf);
        self.revenue_share_permille.write(buf);
        self.admission.write(buf);
    }
}

impl EncodeSize for Rules {
    fn encode_size(&self) -> usize {
        3 * u16::SIZE + u64::SIZE + self.admission.encode_size()
    }
}

impl Read for Rules {
    type Cfg = ();

    fn read_cfg(buf: &mut impl Buf, _: &()) -> Result<Self, CodecError> {
        Ok(Self {
            quorum_permille: u16::read(buf)?,
            approval_permille: u16::read(buf)?,
            voting_period_ms: u64::read(buf)?,
            revenue_share_permille: u16::read(buf)?,
            admission: Admission::read(buf)?,
        })
    }
}

/// What a dataset's owner allows its data to be used for.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Consent {
    /// Training models (a training round may include the dataset).
    pub training: bool,
    /// Commercial use of what is trained on it.
    pub commercial: bool,
    /// Derivative works (fine-tunes, forks of models trained on it).
    pub derivatives: bool,
}

impl Write for Consent {
    fn write(&self, buf: &mut impl BufMut) {
        self.training.write(buf);
        self.commercial.write(buf);
        self.derivatives.write(buf);
    }
}

impl FixedSize for Consent {
    const SIZE: usize = 3 * bool::SIZE;
}

impl Read for Consent {
    type Cfg = ();

    fn read_cfg(buf: &mut impl Buf, _: &()) -> Result<Self, CodecError> {
        Ok(Self {
            training: bool::read(buf)?,
            commercial: bool::read(buf)?,
            derivatives: bool::read(buf)?,
        })
    }
}

/// What a proposal would do if it passes.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ProposalKind {
    /// Admit `member`.
    Admit {
        /// The account to admit.
        member: Address,
    },
    /// Remove `member`.
    Remove {
        /// The member to remove.
        member: Address,
    },
    /// Approve a training task (see the learn module); [`crate::is_approved`] then holds.
    ApproveTask {
        /// The task id.
        task: Hash,
    },
    /// Replace the cooperative's rules.
    ChangeRules {
        /// The new rules.
        rules: Rules,
    },
    /// Pay `amount` from the treasury to `to`.
    Spend {
        /// The payee.
        to: Address,
        /// The amount (at least 1).
        amount: u64,
    },
}

/// What a proposal does, without its parameters: the `kind` of proposal events and the
/// `type` tag of a [`ProposalKind`] in JSON.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ProposalType {
    /// [`ProposalKind::Admit`].
    Admit,
    /// [`ProposalKind::Remove`].
    Remove,
    /// [`ProposalKind::ApproveTask`].
    ApproveTask,
    /// [`ProposalKind::ChangeRules`].
    ChangeRules,
    /// [`ProposalKind::Spend`].
    Spend,
}

impl ProposalKind {
    /// Returns what the proposal does, without its parameters.
    pub fn proposal_type(&self) -> ProposalType {
        match self {
            Self::Admit { .. } => ProposalType::Admit,
            Self::Remove { .. } => ProposalType::Remove,
            Self::ApproveTask { .. } => ProposalType::ApproveTask,
            Self::ChangeRules { .. } => ProposalType::ChangeRules,
            Self::Spend { .. } => ProposalType::Spend,
        }
    }
}

impl Write for ProposalKind {
    fn write(&self, buf: &mut impl BufMut) {
        match self {
            Self::Admit { member } => {
                buf.put_u8(0);
                member.write(buf);
            }
            Self::Remove { member } => {
                buf.put_u8(1);
                member.write(buf);
            }
            Self::ApproveTask { task } => {
                buf.put_u8(2);
                task.write(buf);
            }
            Self::ChangeRules { rules } => {
                buf.put_u8(3);
                rules.write(buf);
            }
            Self::Spend { to, amount } => {
                buf.put_u8(4);
                to.write(buf);
                amount.write(buf);
            }
        }
    }
}

impl EncodeSize for ProposalKind {
    fn encode_size(&self) -> usize {
        1 + match self {
            Self::Admit { .. } | Self::Remove { .. } => Address::SIZE,
            Self::ApproveTask { .. } => Hash::SIZE,
            Self::ChangeRules { rules } => rules.encode_size(),
            Self::Spend { .. } => Address::SIZE + u64::SIZE,
        }
    }
}

impl Read for ProposalKind {
    type Cfg = ();

    fn read_cfg(buf: &mut impl Buf, _: &()) -> Result<Self, CodecError> {
        match u8::read(buf)? {
            0 => Ok(Self::Admit {
                member: Address::read(buf)?,
            }),
            1 => Ok(Self::Remove {
                member: Address::read(buf)?,
            }),
            2 => Ok(Self::ApproveTask {
                task: Hash::read(buf)?,
            }),
            3 => Ok(Self::ChangeRules {
                rules: Rules::read(buf)?,
            }),
            4 => Ok(Self::Spend {
                to: Address::read(buf)?,
                amount: u64::read(buf)?,
            }),
            tag => Err(CodecError::InvalidEnum(tag)),
        }
    }
}

/// A coop transaction, carried in `Call.payload` with module id [`crate::COOP_MODULE`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum CoopCall {
    /// Founds a cooperative; the sender is its first member. Its id is
    /// [`crate::coop_id`] of the transaction and is reported in the `coop_created` event.
    Create {
        /// A display name (1 to [`MAX_NAME_BYTES`] bytes).
        name: String,
        /// Its rules.
        rules: Rules,
    },
    /// Joins a cooperative: with [`Admission::ByCredential`] at once by presenting
    /// `credential`; with [`Admission::ByVote`] by opening an admission proposal.
    Join {
        /// The cooperative.
        coop: Hash,
        /// An encoded credential (identity module), for credential admission only.
        #[serde(with = "counterweight_types::codec::opt_hex", default)]
        credential: Option<Vec<u8>>,
    },
    /// Leaves a cooperative (its last member cannot leave).
    Leave {
        /// The cooperative.
        coop: Hash,
    },
    /// Commits a dataset: the Merkle root of its records (see [`crate::dataset_root`]),
    /// its schema, record count and consent terms. Members only.
    CommitDataset {
        /// The cooperative.
        coop: Hash,
        /// The records' Merkle root.
        root: Hash,
        /// The schema (for a CSV shard: its header), at most [`MAX_SCHEMA_BYTES`] bytes.
        schema: String,
        /// The number of records.
        records: u64,
        /// The consent terms.
        consent: Consent,
    },
    /// Replaces a dataset's consent terms. Owner only; not after revocation.
    SetConsent {
        /// The dataset.
        dataset: Hash,
        /// The new terms.
        consent: Consent,
    },
    /// Revokes all consent for a dataset, finally: it is excluded from every later round.
    /// Owner only.
    RevokeConsent {
        /// The dataset.
        dataset: Hash,
    },
    /// Opens a proposal. Members only.
    Propose {
        /// The cooperative.
        coop: Hash,
        /// What it would do.
        kind: ProposalKind,
    },
    /// Votes on an open proposal, once, before its deadline. Members at the proposal's
    /// creation only.
    Vote {
        /// The proposal.
        proposal: Hash,
        /// Yes or no.
        yes: bool,
    },
    /// Decides a proposal once its deadline passed or its outcome can no longer change;
    /// a passing proposal takes effect. Anyone may call it.
    Execute {
        /// The proposal.
        proposal: Hash,
    },
    /// Moves `amount` from the sender to the cooperative's treasury.
    Deposit {
        /// The cooperative.
        coop: Hash,
        /// The amount (at least 1).
        amount: u64,
    },
}

impl ModuleCall for CoopCall {
    const WHAT: &'static str = "coop call";
}

impl Write for CoopCall {
    fn write(&self, buf: &mut impl BufMut) {
        match self {
            Self::Create { name, rules } => {
                buf.put_u8(0);
                write_str(name, buf);
                rules.write(buf);
            }
            Self::Join { coop, credential } => {
                buf.put_u8(1);
                coop.write(buf);
                credential.write(buf);
            }
            Self::Leave { coop } => {
                buf.put_u8(2);
                coop.write(buf);
            }
            Self::CommitDataset {
                coop,
                root,
                schema,
                records,
                consent,
            } => {
                buf.put_u8(3);
                coop.write(buf);
                root.write(buf);
                write_str(schema, buf);
                records.write(buf);
                consent.write(buf);
            }
            Self::SetConsent { dataset, consent } => {
                buf.put_u8(4);
                dataset.write(buf);
                consent.write(buf);
            }
            Self::RevokeConsent { dataset } => {
                buf.put_u8(5);
                dataset.write(buf);
            }
            Self::Propose { coop, kind } => {
                buf.put_u8(6);
                coop.write(buf);
                kind.write(buf);
            }
            Self::Vote { proposal, yes } => {
                buf.put_u8(7);
                proposal.write(buf);
                yes.write(buf);
            }
            Self::Execute { proposal } => {
                buf.put_u8(8);
                proposal.write(buf);
            }
            Self::Deposit { coop, amount } => {
                buf.put_u8(9);
                coop.write(buf);
                amount.write(buf);
            }
        }
    }
}

impl EncodeSize for CoopCall {
    fn encode_size(&self) -> usize {
        1 + match self {
            Self::Create { name, rules } => str_size(name) + rules.encode_size(),
            Self::Join { credential, .. } => Hash::SIZE + credential.encode_size(),
            Self::Leave { .. } | Self::RevokeConsent { .. } | Self::Execute { .. } => Hash::SIZE,
            Self::CommitDataset { schema, .. } => {
                2 * Hash::SIZE + str_size(schema) + u64::SIZE + Consent::SIZE
            }
            Self::SetConsent { .. } => Hash::SIZE + Consent::SIZE,
            Self::Propose { kind, .. } => Hash::SIZE + kind.encode_size(),
            Self::Vote { .. } => Hash::SIZE + bool::SIZE,
            Self::Deposit { .. } => Hash::SIZE + u64::SIZE,
        }
    }
}

impl Read for CoopCall {
    type Cfg = ();

    fn read_cfg(buf: &mut impl Buf, _: &()) -> Result<Self, CodecError> {
        match u8::read(buf)? {
            0 => Ok(Self::Create {
                name: read_str(buf, MAX_NAME_BYTES, "Create.name")?,
                rules: Rules::read(buf)?,
            }),
            1 => Ok(Self::Join {
                coop: Hash::read(buf)?,
                credential: if bool::read(buf)? {
                    Some(read_byte_vec(buf, MAX_CREDENTIAL_BYTES)?)
                } else {
                    None
                },
            }),
            2 => Ok(Self::Leave {
                coop: Hash::read(buf)?,
            }),
            3 => Ok(Self::CommitDataset {
                coop: Hash::read(buf)?,
                root: Hash::read(buf)?,
                schema: read_str(buf, MAX_SCHEMA_BYTES, "CommitDataset.schema")?,
                records: u64::read(buf)?,
                consent: Consent::read(buf)?,
            }),
            4 => Ok(Self::SetConsent {
                dataset: Hash::read(buf)?,
                consent: Consent::read(buf)?,
            }),
            5 => Ok(Self::RevokeConsent {
                dataset: Hash::read(buf)?,
            }),
            6 => Ok(Self::Propose {
                coop: Hash::read(buf)?,
                kind: ProposalKind::read(buf)?,
            }),
            7 => Ok(Self::Vote {
                proposal: Hash::read(buf)?,
                yes: bool::read(buf)?,
            }),
            8 => Ok(Self::Execute {
                proposal: Hash::read(buf)?,
            }),
            9 => Ok(Self::Deposit {
                coop: Hash::read(buf)?,
                amount: u64::read(buf)?,
            }),
            tag => Err(CodecError::InvalidEnum(tag)),
        }
    }
}
