//! Datasets: members commit them with consent terms; owners change or revoke consent.

use counterweight_state::{CallError, TxContext};
use counterweight_storage_api::StateReader;
use counterweight_types::{Address, Hash};

use crate::{
    CoopError, CoopEvent,
    call::Consent,
    membership::{require_coop, require_member},
    records::Dataset,
    store::{dataset, dataset_count_key, dataset_id, dataset_index_key, push_index, write_dataset},
};

/// Returns the dataset if `who` owns it and its consent was not revoked.
fn require_owned(state: &dyn StateReader, id: &Hash, who: &Address) -> Result<Dataset, CallError> {
    let d = dataset(state, id)?.ok_or(CoopError::UnknownDataset { id: *id })?;
    if d.owner != *who {
        return Err(CoopError::NotOwner { owner: d.owner }.into());
    }
    if d.revoked {
        return Err(CoopError::ConsentRevoked { dataset: *id }.into());
    }
    Ok(d)
}

/// [`crate::CoopCall::CommitDataset`]: a member commits a dataset.
pub(crate) fn commit(
    ctx: &mut TxContext<'_>,
    coop_id: Hash,
    root: Hash,
    schema: String,
    records: u64,
    consent: Consent,
) -> Result<(), CallError> {
    require_coop(ctx, &coop_id)?;
    let owner = ctx.sender;
    require_member(ctx, &coop_id, &owner)?;
    let id = dataset_id(ctx.chain_id, &coop_id, &root, &owner);
    if dataset(ctx, &id)?.is_some() {
        return Err(CoopError::DatasetExists { id }.into());
    }
    let d = Dataset {
        id,
        coop: coop_id,
        owner,
        root,
        schema,
        records,
        consent,
        revoked: false,
        committed_height: ctx.height.0,
    };
    write_dataset(ctx, &d);
    push_index(
        ctx,
        dataset_count_key(&coop_id),
        |n| dataset_index_key(&coop_id, n),
        &id,
    )?;
    ctx.emit_event(&CoopEvent::DatasetCommitted {
        dataset: id,
        coop: coop_id,
        owner,
        root,
        records,
        training: consent.training,
        commercial: consent.commercial,
        derivatives: consent.derivatives,
    })
}

/// [`crate::CoopCall::SetConsent`]: the owner replaces the consent terms.
pub(crate) fn set_consent(
    ctx: &mut TxContext<'_>,
    dataset: Hash,
    consent: Consent,
) -> Result<(), CallError> {
    let mut d = require_owned(ctx, &dataset, &ctx.sender)?;
    d.consent = consent;
    write_dataset(ctx, &d);
    ctx.emit_event(&CoopEvent::ConsentChanged {
        dataset,
        coop: d.coop,
        training: consent.training,
        commercial: consent.commercial,
        derivatives: consent.derivatives,
    })
}

/// [`crate::CoopCall::RevokeConsent`]: the owner revokes all consent, finally.
pub(crate) fn revoke_consent(ctx: &mut TxContext<'_>, dataset: Hash) -> Result<(), CallError> {
    let mut d = require_owned(ctx, &dataset, &ctx.sender)?;
    d.consent = Consent::default();
    d.revoked = true;
    write_dataset(ctx, &d);
    ctx.emit_event(&CoopEvent::ConsentRevoked {
        coop: d.coop,
        dataset,
    })
}
