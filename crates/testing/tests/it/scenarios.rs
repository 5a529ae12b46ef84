//! The simulation scenarios: each prints its seed on failure (in the panic message).

use counterweight_testing::{Behaviour, Byzantine, SimConfig, Step, run};
use std::time::Duration;

fn ok(config: &SimConfig, steps: &[Step]) -> counterweight_testing::Report {
    match run(config, steps) {
        Ok(report) => report,
        Err(e) => panic!("simulation failed (rerun with this seed): {e}"),
    }
}

#[test]
fn four_validators_finalize_with_transfers_flowing() {
    let config = SimConfig::new(1);
    let report = ok(
        &config,
        &[Step::WaitHeight(8), Step::StopLoad, Step::Advance(3)],
    );
    report.assert_consistent();
    let honest: Vec<_> = report.honest().collect();
    assert_eq!(honest.len(), 4, "seed {}", report.seed);
    assert!(
        report.submitted > 0,
        "seed {}: nothing submitted",
        report.seed
    );
    for v in &honest {
        assert!(v.height >= 8, "seed {}", report.seed);
        assert!(v.txs > 0, "seed {}: no transfer finalized", report.seed);
    }
    assert!(
        report.blocked.is_empty(),
        "seed {}: honest peers blocked",
        report.seed
    );
}

#[test]
fn same_seed_gives_identical_state_roots() {
    let config = SimConfig::new(42);
    let steps = [Step::WaitHeight(5), Step::StopLoad, Step::Advance(2)];
    let a = ok(&config, &steps);
    let b = ok(&config, &steps);
    assert_eq!(a, b, "seed {}: two runs differ", config.seed);
    let roots: Vec<_> = a.honest().map(|v| (v.height, v.state_root)).collect();
    assert!(!roots.is_empty());
}

#[test]
fn crashed_validator_restarts_and_catches_up_to_the_same_state_root() {
    let config = SimConfig::new(7);
    let report = ok(
        &config,
        &[
            Step::WaitHeight(4),
            Step::Crash(3),
            Step::Advance(6),
            Step::Restart(3),
            Step::Advance(4),
            Step::StopLoad,
            Step::Advance(3),
        ],
    );
    report.assert_consistent();
    let honest: Vec<_> = report.honest().collect();
    assert_eq!(honest.len(), 4, "seed {}", report.seed);
    let restarted = &honest[3];
    let reference = &honest[0];
    let common = restarted.height.min(reference.height) as usize;
    assert!(
        common >= 10,
        "seed {}: restarted node at {common}",
        report.seed
    );
    assert_eq!(
        restarted.digests[..common],
        reference.digests[..common],
        "seed {}",
        report.seed
    );
    if restarted.height == reference.height {
        assert_eq!(
            restarted.state_root, reference.state_root,
            "seed {}",
            report.seed
        );
    }
}

#[test]
fn partition_two_two_never_conflicts_and_heals() {
    let config = SimConfig::new(11);
    let report = ok(
        &config,
        &[
            Step::WaitHeight(3),
            Step::Partition(vec![vec![0, 1], vec![2, 3]]),
            Step::Sleep(Duration::from_secs(5)),
            Step::Heal,
            Step::Advance(4),
            Step::StopLoad,
            Step::Advance(2),
        ],
    );
    report.assert_consistent();
    assert_eq!(report.honest().count(), 4, "seed {}", report.seed);
}

#[test]
fn equivocating_validator_is_blocked_and_honest_nodes_keep_finalizing() {
    let config = SimConfig {
        byzantine: Some(Byzantine {
            index: 3,
            behaviour: Behaviour::Conflicter,
        }),
        ..SimConfig::new(5)
    };
    let report = ok(&config, &[Step::WaitHeight(6)]);
    report.assert_consistent();
    assert_eq!(report.honest().count(), 3, "seed {}", report.seed);
    assert!(
        report.blocked.iter().any(|(_, blocked)| *blocked == 3),
        "seed {}: byzantine peer not blocked ({:?})",
        report.seed,
        report.blocked
    );
    assert!(
        report.blocked.iter().all(|(_, blocked)| *blocked == 3),
        "seed {}: an honest peer was blocked ({:?})",
        report.seed,
        report.blocked
    );
}

/// Runs `config` twice (same seed, same steps): the honest validators keep finalizing, agree on
/// every block and state root, and the two runs are identical.
fn byzantine_run_is_survived_and_reproducible(
    config: &SimConfig,
    steps: &[Step],
) -> counterweight_testing::Report {
    let a = ok(config, steps);
    let b = ok(config, steps);
    assert_eq!(a, b, "seed {}: two runs differ", config.seed);
    a.assert_consistent();
    let honest: Vec<_> = a.honest().collect();
    assert_eq!(honest.len(), 3, "seed {}: three honest validators", a.seed);
    let roots: std::collections::BTreeSet<_> =
        honest.iter().map(|v| (v.height, v.state_root)).collect();
    assert_eq!(
        roots.len(),
        1,
        "seed {}: honest validators end at one height and root: {roots:?}",
        a.seed
    );
    a
}

fn byzantine(index: usize, behaviour: Behaviour, seed: u64) -> SimConfig {
    SimConfig {
        byzantine: Some(Byzantine { index, behaviour }),
        ..SimConfig::new(seed)
    }
}

/// The honest validators finalize past `height` and then, with the load stopped, all agree.
fn steps_to(height: u64) -> [Step; 3] {
    [Step::WaitHeight(height), Step::StopLoad, Step::Advance(3)]
}

#[test]
fn a_proposer_sending_a_copy_with_a_corrupted_signature_does_not_halt_its_victim() {
    // Validator 0 gets a copy of every block validator 3 proposes with one signature bit
    // flipped; 1 and 2 get the genuine block, so the genuine digest can be finalized.
    let config = byzantine(3, Behaviour::CorruptedCopies { victims: vec![0] }, 21);
    let report = byzantine_run_is_survived_and_reproducible(&config, &steps_to(12));
    assert!(report.honest().all(|v| v.txs > 0), "seed {}", report.seed);
}

#[test]
fn a_proposer_stamping_a_year_ahead_neither_halts_nor_moves_chain_time() {
    let config = byzantine(
        1,
        Behaviour::FutureTimestamps {
            offset_ms: 365 * 24 * 3_600 * 1_000,
        },
        22,
    );
    byzantine_run_is_survived_and_reproducible(&config, &steps_to(12));
}

#[test]
fn a_proposer_stamping_u64_max_neither_halts_nor_moves_chain_time() {
    let config = byzantine(
        2,
        Behaviour::FutureTimestamps {
            offset_ms: u64::MAX,
        },
        23,
    );
    byzantine_run_is_survived_and_reproducible(&config, &steps_to(12));
}

#[test]
fn a_validator_flooding_never_executable_transactions_censors_no_honest_transfer() {
    // Blocks hold 16 transactions; 64 attacker accounts, each funded with one fee, queue a
    // transaction that spends it and three that can never pay, gossiped again every 250 ms.
    let config = SimConfig {
        max_block_txs: Some(16),
        ..byzantine(
            3,
            Behaviour::Flood {
                accounts: 64,
                stuck_per_account: 3,
            },
            24,
        )
    };
    let report = byzantine_run_is_survived_and_reproducible(
        &config,
        &[Step::WaitHeight(10), Step::StopLoad, Step::Advance(10)],
    );
    for v in report.honest() {
        assert_eq!(
            v.load_finalized, report.submitted,
            "seed {}: every honest transfer admitted is finalized",
            report.seed
        );
    }
}
