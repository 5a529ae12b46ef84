//! The client protocol: wait for a round, train, submit, wait for the aggregate, collect the
//! reward.

use std::time::{Duration, Instant};

use counterweight_crypto::SigningKey;
use counterweight_fl::{dp, fixed};
use counterweight_learn::{
    LEARN_MODULE, LearnCall, ModuleCall as _, ParticipantView, RoundView, TaskStatus, TaskView,
    decode_architecture,
};
use counterweight_rpc_api::{Client, ReceiptView};
use counterweight_train::{Dataset, TrainConfig, Trainer};
use counterweight_types::{Address, Call, Hash};

use crate::error::{Error, Result};
use crate::events::{RoundTiming, WorkerEvent, WorkerReport};
use crate::reader::LearnReader;
use crate::secure::SecureRound;
use crate::sender::Sender;
use crate::spec::{f32_le, from_micros};

/// Builds a [`Worker`]: the node, the participant's key, the task and the local data are
/// required; the shard index, poll interval and timeout have defaults.
#[derive(Debug, Clone)]
pub struct WorkerBuilder {
    client: Client,
    key: SigningKey,
    task: Hash,
    data: Dataset,
    shard_index: Option<u64>,
    poll: Duration,
    timeout: Duration,
}

impl WorkerBuilder {
    /// The shard's index in the partition (seeds local shuffles as `fl simulate` does);
    /// default: the client id of the first round.
    #[must_use]
    pub fn shard_index(mut self, index: Option<u64>) -> Self {
        self.shard_index = index;
        self
    }

    /// How often to poll the node (default 20 ms).
    #[must_use]
    pub fn poll(mut self, poll: Duration) -> Self {
        self.poll = poll;
        self
    }

    /// Give up waiting for one state change after this long (default 10 minutes).
    #[must_use]
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Connects: reads the account's nonce, the task's model and checks the data fits it.
    ///
    /// # Errors
    /// An unreachable node, [`Error::TaskNotFound`], an architecture that does not decode,
    /// or data that does not fit the model.
    pub fn build(self) -> Result<Worker> {
        let sender = Sender::new(self.client.clone(), self.key)?;
        let reader = LearnReader::new(self.client, self.task);
        let global = reader.global()?;
        let arch =
            decode_architecture(&hex::decode(&global.architecture)?).ok_or(Error::Architecture)?;
        let trainer = Trainer::new(arch)?;
        trainer.check_data(&self.data)?;
        Ok(Worker {
            sender,
            reader,
            trainer,
            data: self.data,
            shard_index: self.shard_index,
            poll: self.poll,
            timeout: self.timeout,
        })
    }
}

/// A locally trained update, ready to submit.
#[derive(Debug, Clone, PartialEq)]
pub struct LocalUpdate {
    /// The round it is for.
    pub round: u32,
    /// The trained parameters (after client-side DP, if the task asks for it).
    pub params: Vec<f32>,
    /// Examples it was trained on, as the chain weights it (at least 1, at most the
    /// dataset's committed records).
    pub examples: u32,
    /// Mean local loss.
    pub loss: f64,
    /// Training wall time, ms.
    pub train_ms: u64,
}

/// One participant of one task: trains on its data every round it is a participant of and
/// submits the plain update or runs the secure-aggregation phases.
#[derive(Debug)]
pub struct Worker {
    sender: Sender,
    reader: LearnReader,
    trainer: Trainer,
    data: Dataset,
    shard_index: Option<u64>,
    poll: Duration,
    timeout: Duration,
}

/// The last round this worker completed (or skipped), and when.
#[derive(Debug, Clone, Copy)]
struct Done {
    round: u32,
    attempt: u32,
    at: Instant,
}

impl Worker {
    /// A builder for a worker of `task` with `key`'s account and `data`, talking to `client`.
    pub fn builder(client: Client, key: SigningKey, task: Hash, data: Dataset) -> WorkerBuilder {
        WorkerBuilder {
            client,
            key,
            task,
            data,
            shard_index: None,
            poll: Duration::from_millis(20),
            timeout: Duration::from_secs(600),
        }
    }

    /// Returns the participant's account.
    pub fn address(&self) -> Address {
        self.sender.address()
    }

    /// Returns the reader of the task's state.
    pub fn reader(&self) -> &LearnReader {
        &self.reader
    }

    /// Takes part in the task until it finishes: for every round it is a participant of,
    /// trains ([`Worker::train`]), submits ([`Worker::submit_update`] or the secure round),
    /// and reports the aggregate; at the end reads its reward. Progress goes to `on_event`.
    ///
    /// # Errors
    /// An unreachable node, a refused transaction, a model that does not fit the data, or a
    /// state change not seen within the timeout.
    pub fn run(&mut self, on_event: &mut dyn FnMut(&WorkerEvent)) -> Result<WorkerReport> {
        let me = self.address();
        let mut timings: Vec<RoundTiming> = Vec::new();
        let mut done: Option<Done> = None;
        let mut last_change = Instant::now();
        let mut last_seen = (u32::MAX, u32::MAX);
        loop {
            let view = self.reader.task()?;
            if matches!(view.status, TaskStatus::Failed | TaskStatus::Cancelled) {
                return Err(Error::TaskEnded {
                    task: self.reader.task_id(),
                    status: view.status,
                });
            }
            if view.status == TaskStatus::Finished {
                if let Some(d) = done.take() {
                    self.record_aggregate(d, &mut timings, on_event)?;
                }
                let amount = self.reward()?;
                on_event(&WorkerEvent::Rewarded { amount });
                return Ok(WorkerReport {
                    address: me,
                    rounds: timings,
                    reward: amount,
                    weights_hash: view.weights_hash,
                });
            }
            if last_change.elapsed() > self.timeout {
                return Err(Error::NoProgress {
                    task: self.reader.task_id(),
                    timeout_s: self.timeout.as_secs(),
                });
            }
            if view.status != TaskStatus::Running {
                on_event(&WorkerEvent::Waiting { round: 0 });
                std::thread::sleep(self.poll);
                continue;
            }
            // No open round (between rounds) or a failed read: ask again.
            let Ok(Some(round)) = self.reader.round() else {
                std::thread::sleep(self.poll);
                continue;
            };
            if (round.round, round.attempt) != last_seen {
                last_seen = (round.round, round.attempt);
                last_change = Instant::now();
            }
            if let Some(d) = done {
                if (round.round, round.attempt) == (d.round, d.attempt) {
                    std::thread::sleep(self.poll);
                    continue;
                }
                if round.round > d.round {
                    self.record_aggregate(d, &mut timings, on_event)?;
                }
            }
            let Some(me_in_round) = round.participants.iter().find(|p| p.address == me) else {
                on_event(&WorkerEvent::Excluded { round: round.round });
                done = Some(Done {
                    round: round.round,
                    attempt: round.attempt,
                    at: Instant::now(),
                });
                continue;
            };
            if !me_in_round.sent {
                on_event(&WorkerEvent::Training { round: round.round });
                let update = self.train(&view, &round, me_in_round)?;
                on_event(&WorkerEvent::Trained {
                    round: round.round,
                    train_ms: update.train_ms,
                    loss: update.loss,
                });
                let t1 = Instant::now();
                let completed = match view.secagg {
                    None => {
                        self.submit_update(&update)?;
                        true
                    }
                    Some(_) => {
                        self.secure_round(&view, &round, me_in_round.client, &update, on_event)?
                    }
                };
                let submit_ms = ms(t1.elapsed());
                if completed {
                    on_event(&WorkerEvent::Submitted {
                        round: round.round,
                        submit_ms,
                    });
                    timings.push(RoundTiming {
                        round: round.round,
                        train_ms: update.train_ms,
                        submit_ms,
                        wait_ms: 0,
                    });
                }
            }
            // Done, or sent already (e.g. after a restart): wait for the next round.
            done = Some(Done {
                round: round.round,
                attempt: round.attempt,
                at: Instant::now(),
            });
        }
    }

    /// Trains on the local data from the current global model with the task's hints (the
    /// seed schedule of `fl simulate`), then applies client-side DP if the task asks for it.
    ///
    /// # Errors
    /// An unreachable node, or training / DP parameters that do not work.
    pub fn train(
        &mut self,
        task: &TaskView,
        round: &RoundView,
        me: &ParticipantView,
    ) -> Result<LocalUpdate> {
        let shard = *self.shard_index.get_or_insert(me.client);
        let t0 = Instant::now();
        let global = self.reader.global()?;
        let start = fixed::dequantize(&global.params);
        let cfg = TrainConfig {
            epochs: task.train.epochs as usize,
            batch_size: task.train.batch as usize,
            lr: from_micros(task.train.lr_micros),
            seed: task
                .train
                .seed
                .wrapping_mul(1000)
                .wrapping_add(10 * shard + u64::from(round.round)),
            ..TrainConfig::default()
        };
        let mut out = self.trainer.train(&start, &self.data, &cfg)?;
        if let Some(d) = task.dp {
            let share = u32::try_from(round.participants.len()).unwrap_or(u32::MAX);
            dp::ClientDp::new(
                from_micros(d.clip_norm_micros),
                from_micros(d.noise_multiplier_micros),
            )?
            .distributed(share)?
            .privatize(&start, &mut out.params, &mut rand::rng())?;
        }
        let examples = u32::try_from(out.samples.min(me.records as usize))
            .unwrap_or(u32::MAX)
            .max(1);
        Ok(LocalUpdate {
            round: round.round,
            params: out.params,
            examples,
            loss: out.mean_loss,
            train_ms: ms(t0.elapsed()),
        })
    }

    /// Sends a learn call and waits until it is final.
    ///
    /// # Errors
    /// As [`Sender::send_and_wait`]; a refusal carries the module's code and message.
    pub fn send(&mut self, call: LearnCall) -> Result<ReceiptView> {
        self.sender.send_and_wait(Call {
            module: LEARN_MODULE,
            payload: call.to_payload(),
        })
    }

    /// Submits `update` to a plain (not secure-aggregation) round.
    ///
    /// # Errors
    /// As [`Worker::send`]: e.g. not a participant, a closed round, a wrong shape.
    pub fn submit_update(&mut self, update: &LocalUpdate) -> Result<ReceiptView> {
        let task = self.reader.task_id();
        self.send(LearnCall::SubmitUpdate {
            task,
            round: update.round,
            params: f32_le(&update.params).into(),
            examples: update.examples,
        })
    }

    /// Runs the four secure-aggregation phases for `update`; `false` if the round moved on
    /// without this client (it was dropped or the round failed).
    ///
    /// # Errors
    /// A refused message, secure-aggregation parameters that do not work, or a phase not
    /// reached within the timeout.
    pub fn secure_round(
        &mut self,
        task: &TaskView,
        round: &RoundView,
        client_id: u64,
        update: &LocalUpdate,
        on_event: &mut dyn FnMut(&WorkerEvent),
    ) -> Result<bool> {
        let Some(params) = task.secagg else {
            return Ok(false);
        };
        let mut secure = SecureRound::new(round, client_id, &params, task.param_count as usize)?;
        secure.run(self, update, on_event)
    }

    /// Waits until the open secure-aggregation round of `round` is in `phase`; `None` if the
    /// round moved on.
    pub(crate) fn wait_phase(
        &self,
        round: &RoundView,
        phase: counterweight_learn::RoundPhase,
    ) -> Result<Option<counterweight_learn::SecAggView>> {
        let started = Instant::now();
        loop {
            // A missing roster or a failed read both mean this client cannot go on.
            let Ok(Some(view)) = self.reader.roster() else {
                return Ok(None);
            };
            if view.round_id != round.secagg_round_id {
                return Ok(None);
            }
            if view.phase == phase {
                return Ok(Some(view));
            }
            if started.elapsed() > self.timeout {
                return Err(Error::PhaseTimeout {
                    phase,
                    timeout_s: self.timeout.as_secs(),
                });
            }
            std::thread::sleep(self.poll);
        }
    }

    /// Reports the aggregate of the round completed at `done` and records the wait.
    fn record_aggregate(
        &self,
        done: Done,
        timings: &mut [RoundTiming],
        on_event: &mut dyn FnMut(&WorkerEvent),
    ) -> Result<()> {
        let Some(t) = timings.iter_mut().find(|t| t.round == done.round) else {
            return Ok(());
        };
        let wait_ms = ms(done.at.elapsed());
        t.wait_ms = wait_ms;
        let weights_hash = self
            .reader
            .history()?
            .iter()
            .find(|h| h.round == done.round)
            .map_or(Hash::ZERO, |h| h.weights_hash);
        on_event(&WorkerEvent::Aggregated {
            round: done.round,
            weights_hash,
            wait_ms,
        });
        Ok(())
    }

    /// Returns what the finished task paid this worker's account (0 if nothing).
    ///
    /// # Errors
    /// A failed query.
    pub fn reward(&self) -> Result<u64> {
        let me = self.address();
        Ok(self
            .reader
            .rewards()?
            .payouts
            .iter()
            .find(|p| p.address == me)
            .map_or(0, |p| p.amount))
    }
}

pub(crate) fn ms(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}
