//! Local training on real digits: it learns, FedProx pulls towards the global model, and the
//! exported flat parameters mean the same thing to the model IR's evaluator.

use counterweight_model::Model;
use counterweight_train::{
    Dataset, Error, Optimizer, SecAggSettings, SimulationConfig, StandardSplit, TrainConfig,
    Trainer, models, simulate,
};

fn split() -> (Dataset, Dataset) {
    let digits = Dataset::digits();
    let s = StandardSplit::digits();
    let train: Vec<usize> = s.clients.iter().flatten().copied().collect();
    (
        digits.subset(&train).unwrap(),
        digits.subset(&s.test).unwrap(),
    )
}

#[test]
fn sgd_and_adam_training_improve_test_accuracy() {
    let (train, test) = split();
    let trainer = Trainer::new(models::mlp(64, &[64], 10).unwrap()).unwrap();
    let init = Model::init_he(trainer.architecture().clone(), 42);
    let before = trainer.evaluate(init.params(), &test).unwrap();
    assert!(
        before.accuracy < 0.35,
        "untrained accuracy {}",
        before.accuracy
    );
    for (optimizer, lr) in [(Optimizer::Sgd, 0.1), (Optimizer::Adam, 0.01)] {
        let cfg = TrainConfig {
            epochs: 1,
            lr,
            optimizer,
            ..TrainConfig::default()
        };
        let out = trainer.train(init.params(), &train, &cfg).unwrap();
        assert_eq!(out.params.len(), 4810);
        assert_eq!(out.steps, train.len().div_ceil(32));
        let after = trainer.evaluate(&out.params, &test).unwrap();
        assert!(
            after.accuracy > 0.75,
            "{optimizer:?}: accuracy {}",
            after.accuracy
        );
        assert!(after.loss < before.loss);
    }
}

#[test]
fn small_cnn_learns_digits() {
    let (train, test) = split();
    let trainer = Trainer::new(models::small_cnn([1, 8, 8], 10).unwrap()).unwrap();
    let init = Model::init_he(trainer.architecture().clone(), 1);
    let cfg = TrainConfig {
        epochs: 2,
        ..TrainConfig::default()
    };
    let out = trainer.train(init.params(), &train, &cfg).unwrap();
    let after = trainer.evaluate(&out.params, &test).unwrap();
    assert!(after.accuracy > 0.8, "cnn accuracy {}", after.accuracy);
}

#[test]
fn proximal_term_keeps_the_update_close_to_the_global_model() {
    let (train, _) = split();
    let trainer = Trainer::new(models::mlp(64, &[64], 10).unwrap()).unwrap();
    let init = Model::init_he(trainer.architecture().clone(), 42);
    let dist = |p: &[f32]| -> f64 {
        p.iter()
            .zip(init.params())
            .map(|(a, b)| f64::from(a - b).powi(2))
            .sum::<f64>()
            .sqrt()
    };
    let plain = trainer
        .train(init.params(), &train, &TrainConfig::default())
        .unwrap();
    let prox_cfg = TrainConfig {
        proximal_mu: 5.0,
        ..TrainConfig::default()
    };
    let prox = trainer.train(init.params(), &train, &prox_cfg).unwrap();
    assert!(dist(&prox.params) < 0.7 * dist(&plain.params));
}

#[test]
fn flat_parameters_match_the_model_ir_float_evaluator() {
    let (_, test) = split();
    let trainer = Trainer::new(models::small_cnn([1, 8, 8], 10).unwrap()).unwrap();
    let model = Model::init_he(trainer.architecture().clone(), 3);
    let logits = trainer.logits(model.params(), &test).unwrap();
    for i in 0..5 {
        let x = &test.features()[i * 64..(i + 1) * 64];
        let reference = model.forward(x).unwrap();
        for (a, b) in logits[i * 10..(i + 1) * 10].iter().zip(&reference) {
            assert!((a - b).abs() < 1e-4, "sample {i}: burn {a} vs IR {b}");
        }
    }
}

#[test]
fn training_rejects_bad_inputs() {
    let (train, _) = split();
    let trainer = Trainer::new(models::mlp(64, &[64], 10).unwrap()).unwrap();
    let mut params = vec![0.0f32; 4810];
    assert!(
        trainer
            .train(&params[..10], &train, &TrainConfig::default())
            .is_err()
    );
    params[7] = f32::NAN;
    assert!(
        trainer
            .train(&params, &train, &TrainConfig::default())
            .is_err()
    );
    let zero_batch = TrainConfig {
        batch_size: 0,
        ..TrainConfig::default()
    };
    assert!(
        trainer
            .train(&vec![0.0; 4810], &train, &zero_batch)
            .is_err()
    );
    let wrong = Trainer::new(models::mlp(30, &[8], 2).unwrap()).unwrap();
    assert!(
        wrong
            .evaluate(&vec![0.0; wrong.parameter_count()], &train)
            .is_err()
    );
}

#[test]
fn three_round_simulation_learns_and_is_reproducible() {
    let digits = Dataset::digits();
    let config = SimulationConfig {
        rounds: 3,
        threads: 2,
        ..SimulationConfig::default()
    };
    let a = simulate(&digits, &config, |_| {}).unwrap();
    assert_eq!(a.split, "standard");
    assert_eq!(a.rounds.len(), 3);
    assert!(
        a.final_accuracy > a.initial.accuracy + 0.2,
        "{} -> {}",
        a.initial.accuracy,
        a.final_accuracy
    );
    let b = simulate(&digits, &config, |_| {}).unwrap();
    assert_eq!(a.final_params, b.final_params, "same seed, same model bits");
}

#[test]
fn secagg_neighbour_graph_is_validated_before_training_and_gives_the_same_model() {
    let digits = Dataset::digits();
    let with = |neighbours| SimulationConfig {
        rounds: 1,
        threads: 2,
        secagg: Some(SecAggSettings {
            dropout: 0.3,
            neighbours,
        }),
        ..SimulationConfig::default()
    };
    // 4 neighbours cannot keep a majority of 5 share holders after 3 dropouts: refused before
    // any round runs, with the reason.
    let mut rounds_run = 0;
    let err = simulate(&digits, &with(Some(4)), |_| rounds_run += 1).unwrap_err();
    assert_eq!(rounds_run, 0);
    match err {
        Error::Fl(counterweight_fl::Error::InvalidParameters { reason, .. }) => {
            assert!(reason.contains("threshold"), "{reason}");
        }
        other => panic!("expected invalid secagg parameters, got {other}"),
    }
    // The SecAgg+ graph changes the protocol's cost, not the aggregate.
    let full = simulate(&digits, &with(None), |_| {}).unwrap();
    let sparse = simulate(&digits, &with(Some(6)), |_| {}).unwrap();
    assert_eq!(full.final_params, sparse.final_params);
    assert_eq!(full.rounds[0].dropped, sparse.rounds[0].dropped);
}
