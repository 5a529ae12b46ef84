//! The audit's H1 repro on a real one-validator devnet in this process: consensus, p2p,
//! gossip and RPC running, blocks of one transaction.

use counterweight_bank::{BANK_MODULE, BankCall, ModuleCall as _};
use counterweight_crypto::SigningKey;
use counterweight_node::{NodeConfig, service, testnet};
use counterweight_rpc::{NodeApi as _, TxStatus};
use counterweight_types::{Call, Genesis, GenesisAccount, SignedTransaction, Transaction};
use std::time::Duration;

fn transfer(
    genesis: &Genesis,
    from: &SigningKey,
    nonce: u64,
    to: &SigningKey,
) -> SignedTransaction {
    from.sign_tx(Transaction {
        chain_id: genesis.chain_id.clone(),
        sender: from.address(),
        nonce,
        fee: genesis.params.min_fee,
        call: Call {
            module: BANK_MODULE,
            payload: BankCall::Transfer {
                to: to.address(),
                amount: 1,
            }
            .to_payload(),
        },
    })
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

#[test]
fn stuck_transaction_does_not_censor_honest_transfers_on_a_devnet_slow() {
    let dir = tempfile::tempdir().unwrap();
    let plan = testnet::TestnetPlan {
        validators: 1,
        dev_accounts: 3,
        ..testnet::TestnetPlan::default()
    };
    let home = testnet::init(dir.path(), &plan).unwrap().remove(0);
    let honest = testnet::dev_account(2);
    let attacker = (1u64..)
        .map(SigningKey::from_seed)
        .find(|k| k.address() < honest.address())
        .unwrap();
    let mut genesis = home.read_genesis().unwrap();
    genesis.params.max_block_txs = 1;
    genesis.accounts.push(GenesisAccount {
        address: attacker.address(),
        balance: genesis.params.min_fee,
    });
    home.write_genesis(&genesis).unwrap();
    let mut config = NodeConfig::load_or_default(&home.config()).unwrap();
    config.rpc.listen = ([127, 0, 0, 1], 0).into();
    config.p2p.listen = ([127, 0, 0, 1], free_port()).into();

    let (ready_tx, ready_rx) = std::sync::mpsc::channel();
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let node_home = home;
    let node = std::thread::spawn(move || {
        service::run_until(
            &node_home,
            config,
            move |ready| {
                let _ = ready_tx.send(ready.chain.clone());
            },
            async move {
                let _ = stop_rx.await;
            },
        )
    });
    let chain = ready_rx.recv_timeout(Duration::from_secs(60)).unwrap();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();

    // The attacker, holding one fee, queues nonces 0 and 1 in one batch.
    let sink = testnet::dev_account(0);
    let stuck = transfer(&genesis, &attacker, 1, &sink);
    let stuck_hash = stuck.hash();
    let outcomes =
        runtime.block_on(chain.submit_batch(vec![transfer(&genesis, &attacker, 0, &sink), stuck]));
    assert!(outcomes[0].is_ok());
    // The honest transfer lands within the audit's 15 s.
    let honest_tx = transfer(&genesis, &honest, 0, &sink);
    let honest_hash = honest_tx.hash();
    runtime.block_on(chain.submit(honest_tx)).unwrap();
    // Poll every 50 ms for 15 s.
    let landed = (0..300).any(|_| {
        let done = matches!(
            chain.tx_status(&honest_hash).unwrap(),
            TxStatus::Finalized(_)
        );
        if !done {
            std::thread::sleep(Duration::from_millis(50));
        }
        done
    });
    let stuck_status = chain.tx_status(&stuck_hash).unwrap();
    let _ = stop_tx.send(());
    node.join().unwrap().unwrap();
    assert!(landed, "the honest transfer was censored");
    assert!(
        !matches!(stuck_status, TxStatus::Pending),
        "the never-payable transaction stays pending"
    );
}
