//! The coop's stored records (cooperatives, datasets, proposals), with canonical encodings.

use bytes::BufMut;
use commonware_codec::{Buf, EncodeSize, Error as CodecError, FixedSize, Read, ReadExt, Write};
use counterweight_types::{
    Address, Hash,
    codec::{read_str, str_size, write_str},
};
use serde::{Deserialize, Serialize};

use crate::call::{Consent, MAX_NAME_BYTES, MAX_SCHEMA_BYTES, ProposalKind, Rules};

/// A cooperative.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Coop {
    /// Its id ([`crate::coop_id`] of the creating transaction).
    pub id: Hash,
    /// Its display name.
    pub name: String,
    /// The account that created it.
    pub founder: Address,
    /// Its current rules.
    pub rules: Rules,
    /// The number of members.
    pub members: u32,
    /// Its treasury account ([`crate::treasury_address`]); no key controls it.
    pub treasury: Address,
}

impl Write for Coop {
    fn write(&self, buf: &mut impl BufMut) {
        self.id.write(buf);
        write_str(&self.name, buf);
        self.founder.write(buf);
        self.rules.write(buf);
        self.members.write(buf);
        self.treasury.write(buf);
    }
}

impl EncodeSize for Coop {
    fn encode_size(&self) -> usize {
        Hash::SIZE
            + str_size(&self.name)
            + Address::SIZE
            + self.rules.encode_size()
            + u32::SIZE
            + Address::SIZE
    }
}

impl Read for Coop {
    type Cfg = ();

    fn read_cfg(buf: &mut impl Buf, _: &()) -> Result<Self, CodecError> {
        Ok(Self {
            id: Hash::read(buf)?,
            name: read_str(buf, MAX_NAME_BYTES, "Coop.name")?,
            founder: Address::read(buf)?,
            rules: Rules::read(buf)?,
            members: u32::read(buf)?,
            treasury: Address::read(buf)?,
        })
    }
}

/// A committed dataset: a Merkle commitment to records its owner keeps off-chain.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Dataset {
    /// Its id ([`crate::dataset_id`]).
    pub id: Hash,
    /// The cooperative it was committed to.
    pub coop: Hash,
    /// The member who committed it.
    pub owner: Address,
    /// The Merkle root of its records ([`crate::dataset_root`]).
    pub root: Hash,
    /// Its schema (for a CSV shard: the header).
    pub schema: String,
    /// The number of records.
    pub records: u64,
    /// The current consent terms (all false once revoked).
    pub consent: Consent,
    /// Whether consent was revoked: final, the data is excluded from every later round.
    pub revoked: bool,
    /// The height of the block that committed it.
    pub committed_height: u64,
}

impl Write for Dataset {
    fn write(&self, buf: &mut impl BufMut) {
        self.id.write(buf);
        self.coop.write(buf);
        self.owner.write(buf);
        self.root.write(buf);
        write_str(&self.schema, buf);
        self.records.write(buf);
        self.consent.write(buf);
        self.revoked.write(buf);
        self.committed_height.write(buf);
    }
}

impl EncodeSize for Dataset {
    fn encode_size(&self) -> usize {
        3 * Hash::SIZE
            + Address::SIZE
            + str_size(&self.schema)
            + u64::SIZE
            + Consent::SIZE
            + bool::SIZE
            + u64::SIZE
    }
}

impl Read for Dataset {
    type Cfg = ();

    fn read_cfg(buf: &mut impl Buf, _: &()) -> Result<Self, CodecError> {
        Ok(Self {
            id: Hash::read(buf)?,
            coop: Hash::read(buf)?,
            owner: Address::read(buf)?,
            root: Hash::read(buf)?,
            schema: read_str(buf, MAX_SCHEMA_BYTES, "Dataset.schema")?,
            records: u64::read(buf)?,
            consent: Consent::read(buf)?,
            revoked: bool::read(buf)?,
            committed_height: u64::read(buf)?,
        })
    }
}

/// Where a proposal stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ProposalStatus {
    /// Open for votes, or decided but not yet executed.
    Open,
    /// Executed: it passed and took effect.
    Passed,
    /// Executed: it failed (quorum or approval not reached).
    Rejected,
}

impl Write for ProposalStatus {
    fn write(&self, buf: &mut impl BufMut) {
        buf.put_u8(match self {
            Self::Open => 0,
            Self::Passed => 1,
            Self::Rejected => 2,
        });
    }
}

impl FixedSize for ProposalStatus {
    const SIZE: usize = 1;
}

impl Read for ProposalStatus {
    type Cfg = ();

    fn read_cfg(buf: &mut impl Buf, _: &()) -> Result<Self, CodecError> {
        match u8::read(buf)? {
            0 => Ok(Self::Open),
            1 => Ok(Self::Passed),
            2 => Ok(Self::Rejected),
            tag => Err(CodecError::InvalidEnum(tag)),
        }
    }
}

/// A proposal and its tally. Thresholds and the electorate are fixed when it opens, so
/// later rule or membership changes do not move an open vote.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Proposal {
    /// Its id ([`crate::proposal_id`] of the creating transaction).
    pub id: Hash,
    /// The cooperative.
    pub coop: Hash,
    /// Who opened it (for a vote-admission: the applicant).
    pub proposer: Address,
    /// What it does if it passes.
    pub kind: ProposalKind,
    /// Block time at creation.
    pub created_ms: u64,
    /// Block time from which no more votes are accepted and it can always be executed.
    pub deadline_ms: u64,
    /// Block height at creation.
    pub created_height: u64,
    /// Membership epoch at creation: only members admitted at or before it may vote.
    pub epoch: u64,
    /// Number of members at creation.
    pub electorate: u32,
    /// Quorum (permille of the electorate) copied from the rules at creation.
    pub quorum_permille: u16,
    /// Approval (permille of the votes cast) copied from the rules at creation.
    pub approval_permille: u16,
    /// Yes votes.
    pub yes: u32,
    /// No votes.
    pub no: u32,
    /// Its status.
    pub status: ProposalStatus,
}

impl Write for Proposal {
    fn write(&self, buf: &mut impl BufMut) {
        self.id.write(buf);
        self.coop.write(buf);
        self.proposer.write(buf);
        self.kind.write(buf);
        self.created_ms.write(buf);
        self.deadline_ms.write(buf);
        self.created_height.write(buf);
        self.epoch.write(buf);
        self.electorate.write(buf);
        self.quorum_permille.write(buf);
        self.approval_permille.write(buf);
        self.yes.write(buf);
        self.no.write(buf);
        self.status.write(buf);
    }
}

impl EncodeSize for Proposal {
    fn encode_size(&self) -> usize {
        2 * Hash::SIZE
            + Address::SIZE
            + self.kind.encode_size()
            + 4 * u64::SIZE
            + 3 * u32::SIZE
            + 2 * u16::SIZE
            + ProposalStatus::SIZE
    }
}

impl Read for Proposal {
    type Cfg = ();

    fn read_cfg(buf: &mut impl Buf, _: &()) -> Result<Self, CodecError> {
        Ok(Self {
            id: Hash::read(buf)?,
            coop: Hash::read(buf)?,
            proposer: Address::read(buf)?,
            kind: ProposalKind::read(buf)?,
            created_ms: u64::read(buf)?,
            deadline_ms: u64::read(buf)?,
            created_height: u64::read(buf)?,
            epoch: u64::read(buf)?,
            electorate: u32::read(buf)?,
            quorum_permille: u16::read(buf)?,
            approval_permille: u16::read(buf)?,
            yes: u32::read(buf)?,
            no: u32::read(buf)?,
            status: ProposalStatus::read(buf)?,
        })
    }
}

#[cfg(test)]
mod tests {
    use commonware_codec::{Copying, Decode as _};
    use counterweight_types::{Address, Hash};

    use super::{Coop, Dataset, Proposal, ProposalStatus};
    use crate::call::{Admission, Consent, ProposalKind, Rules};

    fn rules() -> Rules {
        Rules {
            quorum_permille: 500,
            approval_permille: 600,
            voting_period_ms: 1_000,
            revenue_share_permille: 200,
            admission: Admission::ByCredential {
                issuer: Address([3; 32]),
                kind: "farmer".into(),
            },
        }
    }

    fn round_trip<T>(value: &T)
    where
        T: commonware_codec::Encode
            + commonware_codec::Read<Cfg = ()>
            + PartialEq
            + std::fmt::Debug,
    {
        let bytes = value.encode();
        assert_eq!(&T::decode_cfg(Copying(bytes.as_ref()), &()).unwrap(), value);
        let mut longer = bytes.to_vec();
        longer.push(0);
        assert!(T::decode_cfg(Copying(longer.as_slice()), &()).is_err());
    }

    #[test]
    fn records_round_trip_and_reject_trailing_bytes() {
        round_trip(&Coop {
            id: Hash([1; 32]),
            name: "farmers".into(),
            founder: Address([2; 32]),
            rules: rules(),
            members: 3,
            treasury: Address([4; 32]),
        });
        round_trip(&Dataset {
            id: Hash([1; 32]),
            coop: Hash([2; 32]),
            owner: Address([3; 32]),
            root: Hash([4; 32]),
            schema: "a,b".into(),
            records: 10,
            consent: Consent {
                training: true,
                commercial: false,
                derivatives: true,
            },
            revoked: false,
            committed_height: 7,
        });
        for status in [
            ProposalStatus::Open,
            ProposalStatus::Passed,
            ProposalStatus::Rejected,
        ] {
            round_trip(&Proposal {
                id: Hash([1; 32]),
                coop: Hash([2; 32]),
                proposer: Address([3; 32]),
                kind: ProposalKind::ChangeRules { rules: rules() },
                created_ms: 1,
                deadline_ms: 2,
                created_height: 3,
                epoch: 4,
                electorate: 5,
                quorum_permille: 6,
                approval_permille: 7,
                yes: 8,
                no: 9,
                status,
            });
        }
    }
}
