//! The audit log as the runtime writes it: events of audited modules become provable entries,
//! bank events and failed calls do not, and tampering with a proof is caught offline.

use std::{collections::BTreeMap, sync::Arc};

use bytes::Bytes;
use counterweight_audit::{AUDIT_MODULE, Audit, AuditProof, VerifyError, codes};
use counterweight_bank::{BANK_MODULE, Bank, BankCall, ModuleCall as _};
use counterweight_state::{
    BlockEnv, BlockState, CallError, Layered, Module, ModuleError, Runtime, StateAccess, TxContext,
};
use counterweight_storage_api::{StateChanges, StateReader};
use counterweight_types::{
    Address, Call, ChainId, Genesis, GenesisAccount, Height, ModuleId, Params, Signature,
    SignedTransaction, Transaction,
};

struct Empty;

impl StateReader for Empty {
    fn get(&self, _: &[u8]) -> counterweight_storage_api::Result<Option<Vec<u8>>> {
        Ok(None)
    }
}

/// A stand-in for an AI module (the seam the audit log listens at): payload `[n]` emits `n`
/// events, payload `[]` fails.
struct Emitter;

impl Module for Emitter {
    fn id(&self) -> ModuleId {
        ModuleId(9)
    }
    fn name(&self) -> &'static str {
        "emitter"
    }
    fn check_payload(&self, _: &[u8]) -> Result<(), ModuleError> {
        Ok(())
    }
    fn init_genesis(&self, _: &mut dyn StateAccess, _: &Genesis) -> Result<(), CallError> {
        Ok(())
    }
    fn execute(&self, ctx: &mut TxContext<'_>, payload: &[u8]) -> Result<(), CallError> {
        let Some(&n) = payload.first() else {
            ctx.emit("never_recorded", BTreeMap::new());
            return Err(ModuleError::new(1, "empty payload").into());
        };
        for i in 0..n {
            ctx.emit(
                "dataset_committed",
                BTreeMap::from([("n".to_owned(), i.to_string())]),
            );
        }
        Ok(())
    }
    fn query(&self, _: &dyn StateReader, _: &str, _: &[u8]) -> Result<Vec<u8>, CallError> {
        Ok(Vec::new())
    }
}

fn addr(i: u8) -> Address {
    Address([i; 32])
}

#[test]
fn audited_events_become_provable_entries_and_others_do_not() {
    let chain_id = ChainId::new("audit-test").expect("valid");
    let genesis = Genesis {
        chain_id: chain_id.clone(),
        genesis_time_ms: 0,
        validators: vec![addr(9)],
        accounts: vec![GenesisAccount {
            address: addr(1),
            balance: 1_000,
        }],
        params: Params::default(),
    };
    let bank = Arc::new(Bank);
    let mut runtime = Runtime::new(chain_id.clone(), genesis.params.clone(), bank.clone());
    runtime.register(bank).expect("bank");
    runtime.register(Arc::new(Audit)).expect("audit");
    runtime.register(Arc::new(Emitter)).expect("emitter");
    runtime.set_recorder(Arc::new(Audit));

    let mut genesis_state = BlockState::new(&Empty);
    runtime
        .init_genesis(&mut genesis_state, &genesis)
        .expect("genesis");
    let genesis_changes: StateChanges = genesis_state.into_changes();
    let view = Layered::new(&Empty, vec![&genesis_changes]);
    let mut state = BlockState::new(&view);
    let env = BlockEnv {
        height: Height(1),
        proposer: addr(9),
        timestamp_ms: 0,
    };
    let calls = [
        Call {
            module: ModuleId(9),
            payload: Bytes::from_static(&[3]),
        },
        Call {
            module: BANK_MODULE,
            payload: BankCall::Transfer {
                to: addr(2),
                amount: 5,
            }
            .to_payload(),
        },
        Call {
            module: ModuleId(9),
            payload: Bytes::new(),
        },
        Call {
            module: ModuleId(9),
            payload: Bytes::from_static(&[2]),
        },
    ];
    let mut hashes = Vec::new();
    for (nonce, call) in calls.into_iter().enumerate() {
        let stx = SignedTransaction {
            tx: Transaction {
                chain_id: chain_id.clone(),
                sender: addr(1),
                nonce: nonce as u64,
                fee: 1,
                call,
            },
            signature: Signature([0; 64]),
        };
        hashes.push(stx.hash());
        runtime
            .apply_tx(&mut state, &env, nonce as u32, &stx)
            .expect("no fault")
            .expect("accepted");
    }

    // 3 + 2 entries: the bank's transfer and the failed call left nothing.
    assert_eq!(counterweight_audit::leaves(&state).unwrap(), 5);
    assert_eq!(
        counterweight_audit::entries_of_tx(&state, &hashes[0]).unwrap(),
        [0, 1, 2]
    );
    assert!(
        counterweight_audit::entries_of_tx(&state, &hashes[1])
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        counterweight_audit::entries_of_tx(&state, &hashes[3]).unwrap(),
        [3, 4]
    );

    let root = counterweight_audit::current_root(&state).unwrap();
    for index in 0..5 {
        let proof = counterweight_audit::prove(&state, index)
            .unwrap()
            .expect("entry");
        assert_eq!(proof.root, root);
        let entry = proof.verify().expect("verifies offline");
        assert_eq!(entry.event.kind, "dataset_committed");
        // The proof survives a JSON round trip (what `audit prove` writes to a file).
        let text = serde_json::to_vec(&proof).unwrap();
        let back: AuditProof = counterweight_audit::proof_from_json(&text).unwrap();
        back.verify().expect("verifies after a round trip");
    }
    assert!(counterweight_audit::prove(&state, 5).unwrap().is_none());

    // Tampering: another attribute value, another index, a forged root.
    let good = counterweight_audit::prove(&state, 3).unwrap().unwrap();
    let mut p = good.clone();
    p.entry.attributes.insert("n".into(), "7".into());
    assert!(matches!(p.verify(), Err(VerifyError::EntryMismatch(_))));
    let mut p = good.clone();
    p.entry.bytes.replace_range(0..2, "ff");
    assert!(p.verify().is_err());
    let mut p = good.clone();
    p.root.0[0] ^= 1;
    assert!(matches!(p.verify(), Err(VerifyError::Proof(_))));
    let mut p = good;
    p.root_key.push_str("00");
    assert!(matches!(p.verify(), Err(VerifyError::RootKeyMismatch)));

    // Queries answer in JSON; a transaction to the audit module itself is malformed.
    let status = runtime.query(&state, AUDIT_MODULE, "status", &[]).unwrap();
    let status: serde_json::Value = serde_json::from_slice(&status).unwrap();
    assert_eq!(status["leaves"], 5);
    assert_eq!(status["root"], root.to_hex());
    let entries = runtime
        .query(&state, AUDIT_MODULE, &format!("tx/{}", hashes[3]), &[])
        .unwrap();
    let entries: serde_json::Value = serde_json::from_slice(&entries).unwrap();
    assert_eq!(entries.as_array().map(Vec::len), Some(2));
    match runtime.query(&state, AUDIT_MODULE, "entry/99", &[]) {
        Err(CallError::Failed(e)) => assert_eq!(e.code, codes::UNKNOWN_ENTRY),
        other => panic!("expected a refusal, got {other:?}"),
    }
    let to_audit = SignedTransaction {
        tx: Transaction {
            chain_id,
            sender: addr(1),
            nonce: 4,
            fee: 1,
            call: Call {
                module: AUDIT_MODULE,
                payload: Bytes::from_static(b"x"),
            },
        },
        signature: Signature([0; 64]),
    };
    assert!(runtime.check_stateless(&to_audit).is_err());
}
