//! The simulation scenarios: each prints its seed on failure (in the panic message).

use counterweight_testing::{SimConfig, Step, run};
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
        byzantine: Some(3),
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
