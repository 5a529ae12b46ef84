//! The learn module's transactions, with their canonical encodings.
//!
//! Every variable-length field has an explicit bound; decoding rejects trailing bytes.

use bytes::{BufMut, Bytes};
use commonware_codec::{Buf, EncodeSize, Error as CodecError, Read, ReadExt, Write};
use counterweight_state::ModuleCall;
use counterweight_types::{Hash, codec::read_bytes, hex_bytes};
use serde::{Deserialize, Serialize};

/// Most datasets one task may name.
pub const MAX_DATASETS: usize = 64;
/// Largest canonical architecture encoding, in bytes.
pub const MAX_ARCH_BYTES: usize = 4096;
/// Most parameters a task's model may have (one update must fit a 128 KiB transaction).
pub const MAX_PARAMS: usize = 30_000;
/// Most rounds a task may run.
pub const MAX_ROUNDS: u32 = 10_000;
/// Most encrypted shares one `ShareKeys` call may carry (one per neighbour).
pub const MAX_SHARES: usize = 64;
/// Largest encrypted share, in bytes.
pub const MAX_CIPHERTEXT_BYTES: usize = 256;
/// Largest learn payload, in bytes (below the 128 KiB transaction limit).
pub const MAX_PAYLOAD_BYTES: usize = 124 * 1024;
/// The largest `max_examples_per_client` a task may set: `fl`'s round limit
/// ([`counterweight_fl::MAX_TOTAL_SAMPLES`], 2^31) shared by the most clients a round can have
/// (one per dataset, [`MAX_DATASETS`]), so a round's total never exceeds the `fl` limit.
pub const MAX_EXAMPLES_PER_CLIENT: u32 =
    (counterweight_fl::MAX_TOTAL_SAMPLES / MAX_DATASETS as u64) as u32;
/// The most attempts a task may allow per round.
pub const MAX_ATTEMPTS: u32 = 16;
/// Attempts per round a client proposes unless told otherwise.
pub const DEFAULT_MAX_ATTEMPTS: u32 = 3;
/// Start timeout a client proposes unless told otherwise: one day of block time.
pub const DEFAULT_START_TIMEOUT_MS: u64 = 86_400_000;
/// A whole aggregate, in basis points (`max_client_share_bps` of 10000 caps nothing).
pub const FULL_SHARE_BPS: u16 = 10_000;
/// Bytes of one Shamir share: the evaluation point and eight field elements, each a `u64`.
pub(crate) const SHARE_BYTES: usize = 8 * 9;

/// The aggregation rule of a task, with integer (Q16.16) hyper-parameters.
///
/// Validators run the `fl` crate's implementation of each rule in fixed point.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "rule", rename_all = "snake_case")]
pub enum TaskStrategy {
    /// Sample-weighted average.
    FedAvg,
    /// FedAvg with server momentum (`server_lr`, `momentum` in Q16.16).
    FedAvgM {
        /// Server learning rate, Q16.16 (> 0).
        server_lr: i32,
        /// Momentum, Q16.16 in [0, 1].
        momentum: i32,
    },
    /// Coordinate-wise median.
    Median,
    /// Coordinate-wise trimmed mean.
    TrimmedMean {
        /// Fraction trimmed per side, Q16.16 in [0, 0.5).
        beta: i32,
    },
    /// Krum.
    Krum {
        /// Byzantine clients tolerated.
        f: u32,
    },
    /// Multi-Krum.
    MultiKrum {
        /// Byzantine clients tolerated.
        f: u32,
        /// Updates kept.
        m: u32,
    },
    /// Bulyan.
    Bulyan {
        /// Byzantine clients tolerated.
        f: u32,
    },
}

impl TaskStrategy {
    /// Stable short name of the rule.
    pub fn name(&self) -> &'static str {
        match self {
            Self::FedAvg => "fedavg",
            Self::FedAvgM { .. } => "fedavgm",
            Self::Median => "median",
            Self::TrimmedMean { .. } => "trimmed_mean",
            Self::Krum { .. } => "krum",
            Self::MultiKrum { .. } => "multikrum",
            Self::Bulyan { .. } => "bulyan",
        }
    }

    /// Whether the rule needs only the (weighted) sum of the updates, so it can run under
    /// secure aggregation.
    pub fn is_sum_based(&self) -> bool {
        matches!(self, Self::FedAvg | Self::FedAvgM { .. })
    }
}

/// Secure-aggregation settings of a task.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SecAggParams {
    /// Fraction of a round's participants (in thousandths, < 1000) that may drop out.
    pub max_dropout_permille: u16,
    /// Neighbours per client in the SecAgg+ graph; 0 means the complete graph.
    pub neighbours: u16,
}

/// Client-side differential privacy the clients promise to apply (recorded, not checked).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DpParams {
    /// L2 clip norm of an update, in millionths.
    pub clip_norm_micros: u32,
    /// Noise multiplier (noise std / clip norm), in millionths.
    pub noise_multiplier_micros: u32,
}

/// Local-training hints for the clients.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TrainHints {
    /// Local epochs per round.
    pub epochs: u32,
    /// Learning rate, in millionths (0.1 is 100000, which divides back to exactly 0.1).
    pub lr_micros: u32,
    /// Mini-batch size.
    pub batch: u32,
    /// Seed the clients mix into their local shuffles.
    pub seed: u64,
}

/// Everything a task is opened with.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TaskSpec {
    /// The cooperative whose datasets train the model.
    pub coop: Hash,
    /// The datasets the task may use (1..=64, no duplicates).
    pub datasets: Vec<Hash>,
    /// The model architecture: the `model` crate's canonical encoding.
    #[serde(with = "hex_bytes")]
    pub architecture: Bytes,
    /// Initial parameters: f32 little-endian, flat layout of the architecture.
    #[serde(with = "hex_bytes")]
    pub initial_params: Bytes,
    /// Rounds to run (1..=10000).
    pub rounds: u32,
    /// Submissions needed before a round may close at its deadline (at least 1).
    pub min_clients: u32,
    /// The aggregation rule.
    pub strategy: TaskStrategy,
    /// Secure aggregation, if wanted (sum-based rules only).
    pub secagg: Option<SecAggParams>,
    /// Client-side differential privacy, if promised.
    pub dp: Option<DpParams>,
    /// Local-training hints.
    pub train: TrainHints,
    /// How long a round (or secure-aggregation phase) waits for stragglers, in block time.
    pub round_timeout_ms: u64,
    /// Reward pool moved from the creator into the task's escrow account.
    pub reward: u64,
    /// Most examples one client may declare in a round (1..=[`MAX_EXAMPLES_PER_CLIENT`]); a
    /// client's weight is also capped by its datasets' committed records.
    pub max_examples_per_client: u32,
    /// Largest share of a round's aggregate weight one client may hold, in basis points
    /// (1..=10000; 10000 caps nothing). Plain rounds cap the FedAvg weights and the
    /// example-based points; secure rounds cap the record-based points.
    pub max_client_share_bps: u16,
    /// Attempts per round (1..=[`MAX_ATTEMPTS`]): when the last one fails, the task ends.
    pub max_attempts: u32,
    /// Block time after opening from which the creator may cancel a task that never started.
    pub start_timeout_ms: u64,
}

/// A learn transaction, carried in `Call.payload` with module id [`crate::LEARN_MODULE`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum LearnCall {
    /// Opens a task (the creator must be a member of the coop); its id is reported in the
    /// `task_opened` event (see [`crate::task_id`]).
    OpenTask {
        /// The task.
        spec: Box<TaskSpec>,
    },
    /// Starts an approved task: opens round 1. Anyone may send it.
    Start {
        /// The task.
        task: Hash,
    },
    /// A participant's plain update: its locally trained model (full parameters, f32 LE).
    SubmitUpdate {
        /// The task.
        task: Hash,
        /// The round it trained for.
        round: u32,
        /// The new local model, f32 little-endian.
        #[serde(with = "hex_bytes")]
        params: Bytes,
        /// Local training examples (the FedAvg weight; at most the participant's records).
        examples: u32,
    },
    /// Closes a plain round after its deadline with at least `min_clients` submissions.
    CloseRound {
        /// The task.
        task: Hash,
    },
    /// Secure aggregation, phase 1: the participant's two X25519 public keys.
    AdvertiseKeys {
        /// The task.
        task: Hash,
        /// The round.
        round: u32,
        /// Key for encrypting shares.
        #[serde(with = "hex_arr")]
        enc_key: [u8; 32],
        /// Key for pairwise masks.
        #[serde(with = "hex_arr")]
        mask_key: [u8; 32],
    },
    /// Secure aggregation, phase 2: encrypted shares, one per live neighbour.
    ShareKeys {
        /// The task.
        task: Hash,
        /// The round.
        round: u32,
        /// `(recipient client id, ciphertext)` pairs.
        shares: Vec<ShareTo>,
    },
    /// Secure aggregation, phase 3: the masked input `[n·w…, n]` over Z_2^32 (u32 LE).
    MaskedInput {
        /// The task.
        task: Hash,
        /// The round.
        round: u32,
        /// Masked values, u32 little-endian, one more than the model's parameters.
        #[serde(with = "hex_bytes")]
        values: Bytes,
    },
    /// Secure aggregation, phase 4: shares revealing survivors' self masks and dropped
    /// clients' mask keys.
    UnmaskShares {
        /// The task.
        task: Hash,
        /// The round.
        round: u32,
        /// Shares of survivors' self-mask seeds.
        self_mask_shares: Vec<ShareOf>,
        /// Shares of dropped clients' mask keys.
        key_shares: Vec<ShareOf>,
    },
    /// Advances a secure-aggregation phase after its deadline with the messages present.
    Advance {
        /// The task.
        task: Hash,
    },
    /// Cancels a task that never started, once its `start_timeout_ms` has passed; only its
    /// creator may send it, and the whole pool returns to the creator.
    Cancel {
        /// The task.
        task: Hash,
    },
}

/// An encrypted share addressed to one client.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShareTo {
    /// Recipient's client id in the round.
    pub to: u64,
    /// ChaCha20-Poly1305 ciphertext.
    #[serde(with = "hex_bytes")]
    pub ciphertext: Bytes,
}

/// A revealed Shamir share of one client's secret.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShareOf {
    /// Owner of the secret (client id in the round).
    pub owner: u64,
    /// Evaluation point.
    pub x: u64,
    /// Values, one per 32-bit limb of the secret.
    pub y: [u64; 8],
}

pub(crate) mod hex_arr {
    use serde::{Deserialize, Deserializer, Serializer};

    pub(crate) fn serialize<S: Serializer>(bytes: &[u8; 32], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&hex::encode(bytes))
    }

    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<[u8; 32], D::Error> {
        let s = String::deserialize(d)?;
        let raw =
            hex::decode(s.strip_prefix("0x").unwrap_or(&s)).map_err(serde::de::Error::custom)?;
        <[u8; 32]>::try_from(raw.as_slice())
            .map_err(|_| serde::de::Error::custom("expected 32 bytes"))
    }
}

impl ModuleCall for LearnCall {
    const WHAT: &'static str = "learn call";
}

fn read_flag(buf: &mut impl Buf) -> Result<bool, CodecError> {
    match u8::read(buf)? {
        0 => Ok(false),
        1 => Ok(true),
        _ => Err(CodecError::Invalid(
            "learn call",
            "option flag must be 0 or 1",
        )),
    }
}

impl Write for TaskStrategy {
    fn write(&self, buf: &mut impl BufMut) {
        match *self {
            Self::FedAvg => buf.put_u8(0),
            Self::FedAvgM {
                server_lr,
                momentum,
            } => {
                buf.put_u8(1);
                server_lr.write(buf);
                momentum.write(buf);
            }
            Self::Median => buf.put_u8(2),
            Self::TrimmedMean { beta } => {
                buf.put_u8(3);
                beta.write(buf);
            }
            Self::Krum { f } => {
                buf.put_u8(4);
                f.write(buf);
            }
            Self::MultiKrum { f, m } => {
                buf.put_u8(5);
                f.write(buf);
                m.write(buf);
            }
            Self::Bulyan { f } => {
                buf.put_u8(6);
                f.write(buf);
            }
        }
    }
}

impl EncodeSize for TaskStrategy {
    fn encode_size(&self) -> usize {
        1 + match self {
            Self::FedAvg | Self::Median => 0,
            Self::FedAvgM { .. } | Self::MultiKrum { .. } => 8,
            Self::TrimmedMean { .. } | Self::Krum { .. } | Self::Bulyan { .. } => 4,
        }
    }
}

impl Read for TaskStrategy {
    type Cfg = ();

    fn read_cfg(buf: &mut impl Buf, _: &()) -> Result<Self, CodecError> {
        Ok(match u8::read(buf)? {
            0 => Self::FedAvg,
            1 => Self::FedAvgM {
                server_lr: i32::read(buf)?,
                momentum: i32::read(buf)?,
            },
            2 => Self::Median,
            3 => Self::TrimmedMean {
                beta: i32::read(buf)?,
            },
            4 => Self::Krum { f: u32::read(buf)? },
            5 => Self::MultiKrum {
                f: u32::read(buf)?,
                m: u32::read(buf)?,
            },
            6 => Self::Bulyan { f: u32::read(buf)? },
            tag => return Err(CodecError::InvalidEnum(tag)),
        })
    }
}

fn write_spec(spec: &TaskSpec, buf: &mut impl BufMut) {
    spec.coop.write(buf);
    spec.datasets.write(buf);
    spec.architecture.write(buf);
    spec.initial_params.write(buf);
    spec.rounds.write(buf);
    spec.min_clients.write(buf);
    spec.strategy.write(buf);
    match &spec.secagg {
        None => buf.put_u8(0),
        Some(s) => {
            buf.put_u8(1);
            s.max_dropout_permille.write(buf);
            s.neighbours.write(buf);
        }
    }
    match &spec.dp {
        None => buf.put_u8(0),
        Some(d) => {
            buf.put_u8(1);
            d.clip_norm_micros.write(buf);
            d.noise_multiplier_micros.write(buf);
        }
    }
    spec.train.epochs.write(buf);
    spec.train.lr_micros.write(buf);
    spec.train.batch.write(buf);
    spec.train.seed.write(buf);
    spec.round_timeout_ms.write(buf);
    spec.reward.write(buf);
    spec.max_examples_per_client.write(buf);
    spec.max_client_share_bps.write(buf);
    spec.max_attempts.write(buf);
    spec.start_timeout_ms.write(buf);
}

fn spec_size(spec: &TaskSpec) -> usize {
    spec.coop.encode_size()
        + spec.datasets.encode_size()
        + spec.architecture.encode_size()
        + spec.initial_params.encode_size()
        + 8
        + spec.strategy.encode_size()
        + 1
        + spec.secagg.map_or(0, |_| 4)
        + 1
        + spec.dp.map_or(0, |_| 8)
        + 4 * 3
        + 8 * 3
        + 4
        + 2
        + 4
        + 8
}

fn read_spec(buf: &mut impl Buf) -> Result<TaskSpec, CodecError> {
    Ok(TaskSpec {
        coop: Hash::read(buf)?,
        datasets: Vec::<Hash>::read_cfg(buf, &((1..=MAX_DATASETS).into(), ()))?,
        architecture: read_bytes(buf, MAX_ARCH_BYTES)?,
        initial_params: read_bytes(buf, MAX_PARAMS * 4)?,
        rounds: u32::read(buf)?,
        min_clients: u32::read(buf)?,
        strategy: TaskStrategy::read(buf)?,
        secagg: if read_flag(buf)? {
            Some(SecAggParams {
                max_dropout_permille: u16::read(buf)?,
                neighbours: u16::read(buf)?,
            })
        } else {
            None
        },
        dp: if read_flag(buf)? {
            Some(DpParams {
                clip_norm_micros: u32::read(buf)?,
                noise_multiplier_micros: u32::read(buf)?,
            })
        } else {
            None
        },
        train: TrainHints {
            epochs: u32::read(buf)?,
            lr_micros: u32::read(buf)?,
            batch: u32::read(buf)?,
            seed: u64::read(buf)?,
        },
        round_timeout_ms: u64::read(buf)?,
        reward: u64::read(buf)?,
        max_examples_per_client: u32::read(buf)?,
        max_client_share_bps: u16::read(buf)?,
        max_attempts: u32::read(buf)?,
        start_timeout_ms: u64::read(buf)?,
    })
}

fn write_share_of(s: &ShareOf, buf: &mut impl BufMut) {
    s.owner.write(buf);
    s.x.write(buf);
    for y in s.y {
        y.write(buf);
    }
}

fn read_share_of(buf: &mut impl Buf) -> Result<ShareOf, CodecError> {
    let owner = u64::read(buf)?;
    let x = u64::read(buf)?;
    let mut y = [0u64; 8];
    for v in &mut y {
        *v = u64::read(buf)?;
    }
    Ok(ShareOf { owner, x, y })
}

fn write_shares_of(list: &[ShareOf], buf: &mut impl BufMut) {
    list.len().write(buf);
    for s in list {
        write_share_of(s, buf);
    }
}

fn shares_of_size(list: &[ShareOf]) -> usize {
    list.len().encode_size() + list.len() * (8 + SHARE_BYTES)
}

fn read_shares_of(buf: &mut impl Buf) -> Result<Vec<ShareOf>, CodecError> {
    let len = usize::read_cfg(buf, &(..=MAX_SHARES + 1).into())?;
    (0..len).map(|_| read_share_of(buf)).collect()
}

impl Write for LearnCall {
    fn write(&self, buf: &mut impl BufMut) {
        match self {
            Self::OpenTask { spec } => {
                buf.put_u8(0);
                write_spec(spec, buf);
            }
            Self::Start { task } => {
                buf.put_u8(1);
                task.write(buf);
            }
            Self::SubmitUpdate {
                task,
                round,
                params,
                examples,
            } => {
                buf.put_u8(2);
                task.write(buf);
                round.write(buf);
                params.write(buf);
                examples.write(buf);
            }
            Self::CloseRound { task } => {
                buf.put_u8(3);
                task.write(buf);
            }
            Self::AdvertiseKeys {
                task,
                round,
                enc_key,
                mask_key,
            } => {
                buf.put_u8(4);
                task.write(buf);
                round.write(buf);
                buf.put_slice(enc_key);
                buf.put_slice(mask_key);
            }
            Self::ShareKeys {
                task,
                round,
                shares,
            } => {
                buf.put_u8(5);
                task.write(buf);
                round.write(buf);
                shares.len().write(buf);
                for s in shares {
                    s.to.write(buf);
                    s.ciphertext.write(buf);
                }
            }
            Self::MaskedInput {
                task,
                round,
                values,
            } => {
                buf.put_u8(6);
                task.write(buf);
                round.write(buf);
                values.write(buf);
            }
            Self::UnmaskShares {
                task,
                round,
                self_mask_shares,
                key_shares,
            } => {
                buf.put_u8(7);
                task.write(buf);
                round.write(buf);
                write_shares_of(self_mask_shares, buf);
                write_shares_of(key_shares, buf);
            }
            Self::Advance { task } => {
                buf.put_u8(8);
                task.write(buf);
            }
            Self::Cancel { task } => {
                buf.put_u8(9);
                task.write(buf);
            }
        }
    }
}

impl EncodeSize for LearnCall {
    fn encode_size(&self) -> usize {
        1 + match self {
            Self::OpenTask { spec } => spec_size(spec),
            Self::Start { .. }
            | Self::CloseRound { .. }
            | Self::Advance { .. }
            | Self::Cancel { .. } => 32,
            Self::SubmitUpdate { params, .. } => 32 + 4 + params.encode_size() + 4,
            Self::AdvertiseKeys { .. } => 32 + 4 + 64,
            Self::ShareKeys { shares, .. } => {
                32 + 4
                    + shares.len().encode_size()
                    + shares
                        .iter()
                        .map(|s| 8 + s.ciphertext.encode_size())
                        .sum::<usize>()
            }
            Self::MaskedInput { values, .. } => 32 + 4 + values.encode_size(),
            Self::UnmaskShares {
                self_mask_shares,
                key_shares,
                ..
            } => 32 + 4 + shares_of_size(self_mask_shares) + shares_of_size(key_shares),
        }
    }
}

impl Read for LearnCall {
    type Cfg = ();

    fn read_cfg(buf: &mut impl Buf, _: &()) -> Result<Self, CodecError> {
        Ok(match u8::read(buf)? {
            0 => Self::OpenTask {
                spec: Box::new(read_spec(buf)?),
            },
            1 => Self::Start {
                task: Hash::read(buf)?,
            },
            2 => Self::SubmitUpdate {
                task: Hash::read(buf)?,
                round: u32::read(buf)?,
                params: read_bytes(buf, MAX_PAYLOAD_BYTES)?,
                examples: u32::read(buf)?,
            },
            3 => Self::CloseRound {
                task: Hash::read(buf)?,
            },
            4 => {
                let task = Hash::read(buf)?;
                let round = u32::read(buf)?;
                let enc_key = Hash::read(buf)?.0;
                let mask_key = Hash::read(buf)?.0;
                Self::AdvertiseKeys {
                    task,
                    round,
                    enc_key,
                    mask_key,
                }
            }
            5 => {
                let task = Hash::read(buf)?;
                let round = u32::read(buf)?;
                let len = usize::read_cfg(buf, &(..=MAX_SHARES).into())?;
                let mut shares = Vec::with_capacity(len);
                for _ in 0..len {
                    shares.push(ShareTo {
                        to: u64::read(buf)?,
                        ciphertext: read_bytes(buf, MAX_CIPHERTEXT_BYTES)?,
                    });
                }
                Self::ShareKeys {
                    task,
                    round,
                    shares,
                }
            }
            6 => Self::MaskedInput {
                task: Hash::read(buf)?,
                round: u32::read(buf)?,
                values: read_bytes(buf, MAX_PAYLOAD_BYTES)?,
            },
            7 => Self::UnmaskShares {
                task: Hash::read(buf)?,
                round: u32::read(buf)?,
                self_mask_shares: read_shares_of(buf)?,
                key_shares: read_shares_of(buf)?,
            },
            8 => Self::Advance {
                task: Hash::read(buf)?,
            },
            9 => Self::Cancel {
                task: Hash::read(buf)?,
            },
            tag => return Err(CodecError::InvalidEnum(tag)),
        })
    }
}
