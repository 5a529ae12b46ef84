//! What the learn module reads from the coop module: membership, datasets and approvals.

use counterweight_storage_api::{Result as StorageResult, StateReader};
use counterweight_types::{Address, Hash};

/// The facts of a cooperative the learn module uses.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CoopInfo {
    /// Where the coop's revenue share goes.
    pub treasury: Address,
    /// The coop's share of every reward pool, in thousandths.
    pub revenue_share_permille: u32,
}

/// The facts of a dataset the learn module uses.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DatasetInfo {
    /// The coop it was committed to.
    pub coop: Hash,
    /// Its owner (the member who trains on it).
    pub owner: Address,
    /// Its record count.
    pub records: u64,
    /// Whether its consent terms allow training.
    pub training_consent: bool,
    /// Whether its owner revoked it.
    pub revoked: bool,
}

/// Read access to the coop module's state, as the learn module needs it.
///
/// Contract: every method reads `state` only (deterministically); `Ok(None)` means "no such
/// object"; `Err` is a fatal storage error.
pub trait CoopReader: Send + Sync + 'static {
    /// The cooperative `id`.
    ///
    /// # Errors
    /// Fatal storage errors.
    fn coop(&self, state: &dyn StateReader, id: &Hash) -> StorageResult<Option<CoopInfo>>;

    /// Whether `who` is a member of `coop`.
    ///
    /// # Errors
    /// Fatal storage errors.
    fn is_member(&self, state: &dyn StateReader, coop: &Hash, who: &Address)
    -> StorageResult<bool>;

    /// The dataset `id`.
    ///
    /// # Errors
    /// Fatal storage errors.
    fn dataset(&self, state: &dyn StateReader, id: &Hash) -> StorageResult<Option<DatasetInfo>>;

    /// Whether `coop` approved training task `task`.
    ///
    /// # Errors
    /// Fatal storage errors.
    fn is_approved(&self, state: &dyn StateReader, coop: &Hash, task: &Hash)
    -> StorageResult<bool>;
}

/// Reads the coop module's state through its Rust API (the production [`CoopReader`]).
#[derive(Clone, Copy, Debug, Default)]
pub struct CoopModuleReader;

impl CoopReader for CoopModuleReader {
    fn coop(&self, state: &dyn StateReader, id: &Hash) -> StorageResult<Option<CoopInfo>> {
        Ok(counterweight_coop::coop(state, id)?.map(|c| CoopInfo {
            treasury: c.treasury,
            revenue_share_permille: u32::from(c.rules.revenue_share_permille),
        }))
    }

    fn is_member(
        &self,
        state: &dyn StateReader,
        coop: &Hash,
        who: &Address,
    ) -> StorageResult<bool> {
        counterweight_coop::is_member(state, coop, who)
    }

    fn dataset(&self, state: &dyn StateReader, id: &Hash) -> StorageResult<Option<DatasetInfo>> {
        Ok(
            counterweight_coop::dataset(state, id)?.map(|d| DatasetInfo {
                coop: d.coop,
                owner: d.owner,
                records: d.records,
                training_consent: d.consent.training,
                revoked: d.revoked,
            }),
        )
    }

    fn is_approved(
        &self,
        state: &dyn StateReader,
        coop: &Hash,
        task: &Hash,
    ) -> StorageResult<bool> {
        counterweight_coop::is_approved(state, coop, task)
    }
}
