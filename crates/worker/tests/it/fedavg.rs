//! A plain FedAvg task run end to end by two workers.

use std::sync::mpsc;
use std::time::Duration;

use counterweight_learn::TaskStatus;
use counterweight_node::testnet::dev_account;
use counterweight_worker::{LearnReader, Worker, WorkerEvent, WorkerReport};

use crate::devnet::{Devnet, approved_task, start};

#[test]
fn two_workers_run_a_fedavg_task_to_the_end_and_are_paid_slow() {
    let devnet = Devnet::start(3);
    let (task, shards) = approved_task(&devnet, 2);
    let (tx, rx) = mpsc::channel::<(usize, WorkerEvent)>();
    let mut threads = Vec::new();
    for (i, shard) in shards.into_iter().enumerate() {
        let client = devnet.client();
        let tx = tx.clone();
        threads.push(std::thread::spawn(
            move || -> counterweight_worker::Result<WorkerReport> {
                Worker::builder(client, dev_account(i as u64), task, shard)
                    .shard_index(Some(i as u64))
                    .timeout(Duration::from_secs(120))
                    .build()?
                    .run(&mut |e| {
                        let _ = tx.send((i, e.clone()));
                    })
            },
        ));
    }
    drop(tx);
    // Anyone may start an approved task: dev2 is not a member.
    start(&devnet, dev_account(2), task);
    let events: Vec<(usize, WorkerEvent)> = rx.iter().collect();
    let reports: Vec<WorkerReport> = threads
        .into_iter()
        .map(|t| t.join().expect("no panic").expect("the worker finishes"))
        .collect();

    let reader = LearnReader::new(devnet.client(), task);
    let view = reader.task().expect("task");
    assert_eq!(view.status, TaskStatus::Finished);
    assert_eq!(view.rounds_done, 2);
    let history = reader.history().expect("history");
    assert_eq!(history.len(), 2);
    for (i, report) in reports.iter().enumerate() {
        assert_eq!(report.address, dev_account(i as u64).address());
        let rounds: Vec<u32> = report.rounds.iter().map(|r| r.round).collect();
        assert_eq!(rounds, vec![1, 2], "worker {i} contributed to both rounds");
        assert_eq!(report.weights_hash, view.weights_hash);
        assert!(report.reward > 0, "worker {i} was paid");
        // Each aggregate it reported is the chain's.
        for h in &history {
            assert!(events.iter().any(|(w, e)| *w == i
                && *e
                    == WorkerEvent::Aggregated {
                        round: h.round,
                        weights_hash: h.weights_hash,
                        wait_ms: match e {
                            WorkerEvent::Aggregated { wait_ms, .. } => *wait_ms,
                            _ => u64::MAX,
                        },
                    }));
        }
        assert!(events.contains(&(
            i,
            WorkerEvent::Rewarded {
                amount: report.reward
            }
        )));
    }
    let rewards = reader.rewards().expect("rewards");
    assert!(rewards.settled);
    let paid: u64 = reports.iter().map(|r| r.reward).sum();
    assert_eq!(
        paid + rewards.treasury_amount,
        10_000,
        "the pool is paid out in full"
    );
}
