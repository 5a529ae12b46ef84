//! Property tests: total supply is conserved and nonces only move forward, over random
//! sequences of transfers, escrow operations and fees (including failing calls).

use std::{collections::BTreeMap, sync::Arc};

use bytes::Bytes;
use counterweight_bank::{BANK_MODULE, Bank, BankCall, balance, escrow, escrow_id, total_supply};
use counterweight_state::{BlockEnv, BlockState, Layered, Runtime};
use counterweight_storage_api::{StateChanges, StateReader};
use counterweight_types::{
    Address, Call, ChainId, Genesis, GenesisAccount, Hash, Height, Params, Signature,
    SignedTransaction, Transaction,
};
use proptest::prelude::*;

const ACCOUNTS: usize = 4;

struct Empty;

impl StateReader for Empty {
    fn get(&self, _: &[u8]) -> counterweight_storage_api::Result<Option<Vec<u8>>> {
        Ok(None)
    }
}

#[derive(Clone, Debug)]
enum Op {
    Transfer {
        from: usize,
        to: usize,
        amount: u64,
        fee: u64,
    },
    Open {
        from: usize,
        amount: u64,
    },
    Release {
        from: usize,
        escrow: usize,
        to: usize,
    },
    Refund {
        from: usize,
        escrow: usize,
    },
    Garbage {
        from: usize,
    },
}

fn op() -> impl Strategy<Value = Op> {
    let who = 0..ACCOUNTS;
    prop_oneof![
        (who.clone(), 0..ACCOUNTS + 1, 0u64..2_000, 0u64..50).prop_map(
            |(from, to, amount, fee)| Op::Transfer {
                from,
                to,
                amount,
                fee
            }
        ),
        (who.clone(), 0u64..1_500).prop_map(|(from, amount)| Op::Open { from, amount }),
        (who.clone(), 0usize..8, 0..ACCOUNTS + 1).prop_map(|(from, escrow, to)| Op::Release {
            from,
            escrow,
            to
        }),
        (who.clone(), 0usize..8).prop_map(|(from, escrow)| Op::Refund { from, escrow }),
        who.prop_map(|from| Op::Garbage { from }),
    ]
}

fn addr(i: usize) -> Address {
    Address([i as u8 + 1; 32])
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn supply_is_conserved_and_nonces_are_monotonic(ops in proptest::collection::vec(op(), 1..60)) {
        let chain_id = ChainId::new("prop").expect("valid");
        let proposer = addr(ACCOUNTS);
        let genesis = Genesis {
            chain_id: chain_id.clone(),
            genesis_time_ms: 0,
            validators: vec![proposer],
            accounts: (0..ACCOUNTS)
                .map(|i| GenesisAccount { address: addr(i), balance: 1_000 * (i as u64 + 1) })
                .collect(),
            params: Params { min_fee: 1, max_block_txs: 1_000 },
        };
        let bank = Arc::new(Bank);
        let mut runtime = Runtime::new(chain_id.clone(), genesis.params.clone(), bank.clone());
        runtime.register(bank).expect("register");

        let mut genesis_state = BlockState::new(&Empty);
        runtime.init_genesis(&mut genesis_state, &genesis).expect("genesis");
        let genesis_changes: StateChanges = genesis_state.into_changes();
        let view = Layered::new(&Empty, vec![&genesis_changes]);
        let mut state = BlockState::new(&view);
        let supply = total_supply(&state).expect("read");
        prop_assert_eq!(supply, 10_000);

        let env = BlockEnv { height: Height(1), proposer, timestamp_ms: 0 };
        let mut nonces = BTreeMap::new();
        let mut escrows: Vec<Hash> = Vec::new();
        for (index, op) in ops.into_iter().enumerate() {
            let (from, fee, payload) = match op {
                Op::Transfer { from, to, amount, fee } => {
                    (from, fee, BankCall::Transfer { to: addr(to), amount }.to_payload())
                }
                Op::Open { from, amount } => (from, 1, BankCall::EscrowOpen { amount }.to_payload()),
                Op::Release { from, escrow, to } => {
                    let id = escrows.get(escrow).copied().unwrap_or(Hash([escrow as u8; 32]));
                    (from, 1, BankCall::EscrowRelease { id, to: addr(to) }.to_payload())
                }
                Op::Refund { from, escrow } => {
                    let id = escrows.get(escrow).copied().unwrap_or(Hash([escrow as u8; 32]));
                    (from, 1, BankCall::EscrowRefund { id }.to_payload())
                }
                Op::Garbage { from } => (from, 1, Bytes::from_static(b"\xff")),
            };
            let nonce = *nonces.get(&from).unwrap_or(&0u64);
            let stx = SignedTransaction {
                tx: Transaction {
                    chain_id: chain_id.clone(),
                    sender: addr(from),
                    nonce,
                    fee,
                    call: Call { module: BANK_MODULE, payload },
                },
                signature: Signature([0; 64]),
            };
            let before = runtime.nonce(&state, &addr(from)).expect("read");
            let outcome = runtime.apply_tx(&mut state, &env, index as u32, &stx).expect("no fault");
            let after = runtime.nonce(&state, &addr(from)).expect("read");
            match outcome {
                Ok(_) => {
                    prop_assert_eq!(after, before + 1);
                    nonces.insert(from, after);
                    let candidate = escrow_id(&addr(from), &stx.hash().0);
                    if escrow(&state, &candidate).expect("read").is_some() {
                        escrows.push(candidate);
                    }
                }
                Err(_) => prop_assert_eq!(after, before),
            }
            prop_assert!(after >= before);

            let balances: u64 = (0..=ACCOUNTS).map(|i| balance(&state, &addr(i)).expect("read")).sum();
            let escrowed: u64 = escrows
                .iter()
                .filter_map(|id| escrow(&state, id).expect("read"))
                .map(|e| e.amount)
                .sum();
            prop_assert_eq!(balances + escrowed, supply);
        }
    }
}
