//! Fixed-point results against f64 references, with stated bounds.

use counterweight_fl::{
    Aggregator, ClientId, Error, FedAvg, FedMedian, FedTrimmedAvg, Update, fixed,
};
use proptest::prelude::*;

const ULP: f64 = 1.0 / 65536.0;

fn to_f64(q: i32) -> f64 {
    f64::from(q) * ULP
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// FedAvg of Q16.16 inputs is within half an ulp (2^-17) of the exact weighted mean of
    /// those inputs, and within one ulp of the weighted mean of the original floats.
    #[test]
    fn fedavg_within_half_ulp_of_f64(
        rows in prop::collection::vec(
            (1u64..5000, prop::collection::vec(-30000.0f32..30000.0, 16)),
            1..12,
        )
    ) {
        let ups: Vec<Update> = rows
            .iter()
            .enumerate()
            .map(|(i, (n, p))| Update::from_f32(ClientId(i as u64), *n, p).unwrap())
            .collect();
        let out = FedAvg::new().aggregate(&[0; 16], &ups).unwrap();
        let total: f64 = rows.iter().map(|(n, _)| *n as f64).sum();
        for j in 0..16 {
            let exact_q: f64 = ups.iter().map(|u| u.num_samples as f64 * to_f64(u.params[j])).sum::<f64>() / total;
            let exact_f: f64 = rows.iter().map(|(n, p)| *n as f64 * f64::from(p[j])).sum::<f64>() / total;
            // f64 itself carries ~1e-11 relative error at these magnitudes.
            prop_assert!((to_f64(out[j]) - exact_q).abs() <= 0.5 * ULP + 1e-9);
            prop_assert!((to_f64(out[j]) - exact_f).abs() <= ULP + 1e-9);
        }
    }

    /// Median and trimmed mean are within half an ulp of their f64 definitions.
    #[test]
    fn order_statistics_within_half_ulp_of_f64(
        cols in prop::collection::vec(prop::collection::vec(-1000.0f32..1000.0, 8), 3..14)
    ) {
        let ups: Vec<Update> = cols
            .iter()
            .enumerate()
            .map(|(i, p)| Update::from_f32(ClientId(i as u64), 1, p).unwrap())
            .collect();
        let n = ups.len();
        let med = FedMedian::new().aggregate(&[0; 8], &ups).unwrap();
        let mut trim = FedTrimmedAvg::new(fixed::from_f32(0.1).unwrap()).unwrap();
        let k = trim.trimmed_per_side(n);
        let tm = trim.aggregate(&[0; 8], &ups).unwrap();
        for j in 0..8 {
            let mut col: Vec<f64> = ups.iter().map(|u| to_f64(u.params[j])).collect();
            col.sort_by(f64::total_cmp);
            let m = if n % 2 == 1 { col[n / 2] } else { 0.5 * (col[n / 2 - 1] + col[n / 2]) };
            prop_assert!((to_f64(med[j]) - m).abs() <= 0.5 * ULP + 1e-12);
            let t: f64 = col[k..n - k].iter().sum::<f64>() / (n - 2 * k) as f64;
            prop_assert!((to_f64(tm[j]) - t).abs() <= 0.5 * ULP + 1e-9);
        }
    }
}

#[test]
fn bad_inputs_are_clear_errors() {
    assert_eq!(
        Update::from_f32(ClientId(1), 1, &[0.0, f32::INFINITY]),
        Err(Error::NonFinite { index: 1 })
    );
    assert_eq!(
        Update::from_f32(ClientId(1), 1, &[40_000.0]),
        Err(Error::OutOfRange { index: 0 })
    );
    let err = FedAvg::new()
        .aggregate(&[0; 3], &[Update::new(ClientId(7), 1, vec![0; 4])])
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "update from client 7 has 4 parameters, expected 3"
    );
    assert_eq!(
        FedMedian::new().aggregate(&[0; 3], &[]),
        Err(Error::NoUpdates)
    );
}
