//! A task's lifecycle status and a round's phase, as stored (one byte) and as views show them.

use borsh::{BorshDeserialize, BorshSerialize};
use serde::{Deserialize, Serialize};

/// Where a task is in its lifecycle (stored as one byte: 0 to 4).
#[derive(
    Clone,
    Copy,
    Debug,
    Default,
    PartialEq,
    Eq,
    Serialize,
    Deserialize,
    BorshSerialize,
    BorshDeserialize,
)]
#[serde(rename_all = "snake_case")]
#[borsh(use_discriminant = true)]
#[non_exhaustive]
pub enum TaskStatus {
    /// Opened, waiting for the coop's approval and a `Start`.
    #[default]
    Proposed = 0,
    /// Started: a round is open.
    Running = 1,
    /// Ended with at least one aggregated round: all rounds aggregated, or the task ended
    /// early (too few participants, or a round failed `max_attempts` times).
    Finished = 2,
    /// Ended without any aggregated round; the pool went back to the creator.
    Failed = 3,
    /// Cancelled by its creator before it started; the pool went back to the creator.
    Cancelled = 4,
}

impl TaskStatus {
    /// The status's name in views and messages (`proposed`, `running`, `finished`,
    /// `failed`, `cancelled`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Proposed => "proposed",
            Self::Running => "running",
            Self::Finished => "finished",
            Self::Failed => "failed",
            Self::Cancelled => "cancelled",
        }
    }
}

impl std::fmt::Display for TaskStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The phase of an open round (stored as one byte: 0 for plain rounds, 1–4 for the
/// secure-aggregation phases in order).
#[derive(
    Clone,
    Copy,
    Debug,
    Default,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Serialize,
    Deserialize,
    BorshSerialize,
    BorshDeserialize,
)]
#[serde(rename_all = "snake_case")]
#[borsh(use_discriminant = true)]
#[non_exhaustive]
pub enum RoundPhase {
    /// A plain round collecting updates.
    #[default]
    CollectUpdates = 0,
    /// Secure aggregation, phase 1: public keys.
    AdvertiseKeys = 1,
    /// Secure aggregation, phase 2: encrypted shares.
    ShareKeys = 2,
    /// Secure aggregation, phase 3: masked inputs.
    MaskedInput = 3,
    /// Secure aggregation, phase 4: unmask shares.
    Unmask = 4,
}

impl RoundPhase {
    /// The phase's name in views, events and messages (`collect_updates`, `advertise_keys`,
    /// `share_keys`, `masked_input`, `unmask`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::CollectUpdates => "collect_updates",
            Self::AdvertiseKeys => "advertise_keys",
            Self::ShareKeys => "share_keys",
            Self::MaskedInput => "masked_input",
            Self::Unmask => "unmask",
        }
    }
}

impl std::fmt::Display for RoundPhase {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stored_bytes_and_names_are_stable() {
        for (s, byte) in [
            (TaskStatus::Proposed, 0u8),
            (TaskStatus::Running, 1),
            (TaskStatus::Finished, 2),
            (TaskStatus::Failed, 3),
            (TaskStatus::Cancelled, 4),
        ] {
            assert_eq!(borsh::to_vec(&s).expect("encodes"), [byte]);
            assert_eq!(
                serde_json::to_string(&s).expect("json"),
                format!("\"{}\"", s.as_str())
            );
        }
        for (p, byte) in [
            (RoundPhase::CollectUpdates, 0u8),
            (RoundPhase::AdvertiseKeys, 1),
            (RoundPhase::ShareKeys, 2),
            (RoundPhase::MaskedInput, 3),
            (RoundPhase::Unmask, 4),
        ] {
            assert_eq!(borsh::to_vec(&p).expect("encodes"), [byte]);
            assert_eq!(
                serde_json::to_string(&p).expect("json"),
                format!("\"{}\"", p.as_str())
            );
        }
        assert!(borsh::from_slice::<RoundPhase>(&[5]).is_err());
    }
}
