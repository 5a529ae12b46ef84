//! Typed reads of the learn module's queries.

use counterweight_learn::{
    GlobalView, HistoryView, InboxEntry, LEARN_MODULE, RewardsView, RoundView, SecAggView, TaskView,
};
use counterweight_rpc_api::Client;
use counterweight_types::Hash;
use serde::de::DeserializeOwned;

use crate::error::{Error, Result};

/// Reads one task's state from a node as the learn module's typed views.
///
/// The module answers JSON `null` for "not found": a view that must exist (the task, its
/// global model, its history and rewards) is [`Error::TaskNotFound`] then; a view that may be
/// absent (the open round, its secure-aggregation roster) is `None`.
#[derive(Debug, Clone)]
pub struct LearnReader {
    client: Client,
    task: Hash,
}

impl LearnReader {
    /// A reader of `task` on the node behind `client`.
    pub fn new(client: Client, task: Hash) -> Self {
        Self { client, task }
    }

    /// Returns the task read.
    pub fn task_id(&self) -> Hash {
        self.task
    }

    /// Returns the node client.
    pub fn client(&self) -> &Client {
        &self.client
    }

    fn get<T: DeserializeOwned>(&self, path: &'static str, data: &[u8]) -> Result<Option<T>> {
        self.client
            .query_json::<Option<T>>(LEARN_MODULE.0, path, data)
            .map_err(|source| Error::Query { path, source })
    }

    fn must<T: DeserializeOwned>(&self, path: &'static str) -> Result<T> {
        self.get(path, &self.task.0)?
            .ok_or(Error::TaskNotFound { task: self.task })
    }

    /// Returns the task.
    ///
    /// # Errors
    /// [`Error::TaskNotFound`], or a failed query.
    pub fn task(&self) -> Result<TaskView> {
        self.must("task")
    }

    /// Returns the open round, if any.
    ///
    /// # Errors
    /// A failed query.
    pub fn round(&self) -> Result<Option<RoundView>> {
        self.get("round", &self.task.0)
    }

    /// Returns the global model.
    ///
    /// # Errors
    /// [`Error::TaskNotFound`], or a failed query.
    pub fn global(&self) -> Result<GlobalView> {
        self.must("global")
    }

    /// Returns the aggregated rounds so far.
    ///
    /// # Errors
    /// [`Error::TaskNotFound`], or a failed query.
    pub fn history(&self) -> Result<Vec<HistoryView>> {
        self.must("history")
    }

    /// Returns the reward settlement.
    ///
    /// # Errors
    /// [`Error::TaskNotFound`], or a failed query.
    pub fn rewards(&self) -> Result<RewardsView> {
        self.must("rewards")
    }

    /// Returns the open secure-aggregation round's roster, if any.
    ///
    /// # Errors
    /// A failed query.
    pub fn roster(&self) -> Result<Option<SecAggView>> {
        self.get("secagg/roster", &self.task.0)
    }

    /// Returns the encrypted shares addressed to client `to` in the open round.
    ///
    /// # Errors
    /// A failed query.
    pub fn inbox(&self, to: u64) -> Result<Vec<InboxEntry>> {
        let mut data = self.task.0.to_vec();
        data.extend_from_slice(&to.to_be_bytes());
        Ok(self.get("secagg/inbox", &data)?.unwrap_or_default())
    }
}
