//! The four secure-aggregation phases of one round, one method each.

use std::collections::{BTreeMap, BTreeSet};

use counterweight_fl::secagg::{
    AdvertiseKeys, EncryptedShare, KeyRoster, SecAggClient, SecAggConfig, Share, UnmaskRequest,
};
use counterweight_fl::{ClientId, fixed};
use counterweight_learn::{
    LearnCall, RoundPhase, RoundView, SecAggParams, SecAggView, ShareOf, ShareTo, secagg_config,
};

use crate::error::Result;
use crate::events::WorkerEvent;
use crate::worker::{LocalUpdate, Worker};

/// One client's state through one secure-aggregation round.
pub(crate) struct SecureRound {
    round: RoundView,
    cfg: SecAggConfig,
    client: SecAggClient,
    keys: AdvertiseKeys,
}

impl SecureRound {
    /// Draws this client's keys for `round` over vectors of `dim` parameters plus the
    /// example count.
    pub(crate) fn new(
        round: &RoundView,
        client_id: u64,
        params: &SecAggParams,
        dim: usize,
    ) -> Result<Self> {
        let cfg = secagg_config(
            round.secagg_round_id,
            round.participants.len(),
            counterweight_learn::secagg_dim(dim),
            params,
        )?;
        let (client, keys) = SecAggClient::new(cfg.clone(), ClientId(client_id), &mut rand::rng())?;
        Ok(Self {
            round: round.clone(),
            cfg,
            client,
            keys,
        })
    }

    /// Runs the phases in order; `false` as soon as the round moves on without this client.
    pub(crate) fn run(
        &mut self,
        worker: &mut Worker,
        update: &LocalUpdate,
        on_event: &mut dyn FnMut(&WorkerEvent),
    ) -> Result<bool> {
        let r = self.round.round;
        let mut sent = |phase| on_event(&WorkerEvent::SecAggPhase { round: r, phase });
        self.advertise_keys(worker)?;
        sent(RoundPhase::AdvertiseKeys);
        let Some(view) = worker.wait_phase(&self.round, RoundPhase::ShareKeys)? else {
            return Ok(false);
        };
        self.share_keys(worker, &view)?;
        sent(RoundPhase::ShareKeys);
        if worker
            .wait_phase(&self.round, RoundPhase::MaskedInput)?
            .is_none()
        {
            return Ok(false);
        }
        self.masked_input(worker, update)?;
        sent(RoundPhase::MaskedInput);
        let Some(view) = worker.wait_phase(&self.round, RoundPhase::Unmask)? else {
            return Ok(false);
        };
        self.unmask(worker, &view)?;
        sent(RoundPhase::Unmask);
        Ok(true)
    }

    /// Phase 1: publish this client's encryption and masking public keys.
    fn advertise_keys(&self, worker: &mut Worker) -> Result<()> {
        worker.send(LearnCall::AdvertiseKeys {
            task: worker.reader().task_id(),
            round: self.round.round,
            enc_key: self.keys.enc_key,
            mask_key: self.keys.mask_key,
        })?;
        Ok(())
    }

    /// Phase 2: send encrypted shares of this client's secrets to the roster's clients.
    fn share_keys(&mut self, worker: &mut Worker, view: &SecAggView) -> Result<()> {
        let mut roster = KeyRoster {
            keys: BTreeMap::new(),
        };
        for e in &view.keys {
            roster.keys.insert(
                ClientId(e.client),
                AdvertiseKeys {
                    client: ClientId(e.client),
                    enc_key: e.enc_key,
                    mask_key: e.mask_key,
                },
            );
        }
        let shares = self.client.share_keys(&roster, &mut rand::rng())?;
        worker.send(LearnCall::ShareKeys {
            task: worker.reader().task_id(),
            round: self.round.round,
            shares: shares
                .into_iter()
                .map(|s| ShareTo {
                    to: s.to.0,
                    ciphertext: s.ciphertext.into(),
                })
                .collect(),
        })?;
        Ok(())
    }

    /// Phase 3: send the masked vector `[n·w…, n]`, so the chain recovers the
    /// sample-weighted mean.
    fn masked_input(&mut self, worker: &mut Worker, update: &LocalUpdate) -> Result<()> {
        let inbox = worker
            .reader()
            .inbox(self.client.id().0)?
            .into_iter()
            .map(|e| {
                Ok(EncryptedShare {
                    from: ClientId(e.from),
                    to: ClientId(e.to),
                    ciphertext: hex::decode(e.ciphertext)?,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        let w = fixed::quantize(&update.params)?;
        // Each n·w travels exactly (two limbs per value, then n): refused if out of range,
        // never clamped (audit L6).
        let input = counterweight_learn::secagg_input(&w, update.examples, &self.cfg)?;
        let masked = self.client.mask(&inbox, &input)?;
        let values: Vec<u8> = masked.values.iter().flat_map(|v| v.to_le_bytes()).collect();
        worker.send(LearnCall::MaskedInput {
            task: worker.reader().task_id(),
            round: self.round.round,
            values: values.into(),
        })?;
        Ok(())
    }

    /// Phase 4: reveal the self-mask shares of survivors and the key shares of dropped
    /// clients.
    fn unmask(&mut self, worker: &mut Worker, view: &SecAggView) -> Result<()> {
        let request = UnmaskRequest {
            survivors: view
                .survivors
                .iter()
                .map(|&c| ClientId(c))
                .collect::<BTreeSet<_>>(),
            dropped: view.dropped.iter().map(|&c| ClientId(c)).collect(),
        };
        let msg = self.client.unmask(&request)?;
        let convert = |m: &BTreeMap<ClientId, Share>| -> Vec<ShareOf> {
            m.iter()
                .map(|(c, s)| ShareOf {
                    owner: c.0,
                    x: s.x,
                    y: s.y,
                })
                .collect()
        };
        worker.send(LearnCall::UnmaskShares {
            task: worker.reader().task_id(),
            round: self.round.round,
            self_mask_shares: convert(&msg.self_mask_shares),
            key_shares: convert(&msg.key_shares),
        })?;
        Ok(())
    }
}
