//! Property tests: total supply is conserved and nonces only move forward, over random
//! sequences of transfers, escrow operations and fees (including failing calls).

use bytes::Bytes;
use counterweight_bank::{
    BANK_MODULE, BankCall, ModuleCall as _, balance, escrow, escrow_id, total_supply,
};
use counterweight_types::Hash;
use proptest::prelude::*;

use crate::{ACCOUNTS, addr, chain};

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

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn supply_is_conserved_and_nonces_are_monotonic(ops in proptest::collection::vec(op(), 1..60)) {
        let mut chain = chain();
        let supply = total_supply(chain.state()).expect("read");
        prop_assert_eq!(supply, 10_000);

        let mut escrows: Vec<Hash> = Vec::new();
        for op in ops {
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
            let mut stx = chain.transaction(addr(from), BANK_MODULE, payload);
            stx.tx.fee = fee;
            let runtime_nonce = |chain: &counterweight_state::test_utils::TestChain| {
                chain.runtime().nonce(chain.state(), &addr(from)).expect("read")
            };
            let before = runtime_nonce(&chain);
            let outcome = chain.apply(&stx);
            let after = runtime_nonce(&chain);
            match outcome {
                Ok(_) => {
                    prop_assert_eq!(after, before + 1);
                    let candidate = escrow_id(&addr(from), &stx.hash().0);
                    if escrow(chain.state(), &candidate).expect("read").is_some() {
                        escrows.push(candidate);
                    }
                }
                Err(_) => prop_assert_eq!(after, before),
            }
            prop_assert!(after >= before);

            let balances: u64 = (0..=ACCOUNTS).map(|i| balance(chain.state(), &addr(i)).expect("read")).sum();
            let escrowed: u64 = escrows
                .iter()
                .filter_map(|id| escrow(chain.state(), id).expect("read"))
                .map(|e| e.amount)
                .sum();
            prop_assert_eq!(balances + escrowed, supply);
        }
    }
}
