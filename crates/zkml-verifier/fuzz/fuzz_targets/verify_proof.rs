//! Feed arbitrary bytes to the proof decoder and verifier: they must return, never panic.
#![no_main]

use std::sync::OnceLock;

use counterweight_zkml_verifier::{
    Circuit, Generators, LayerKind, LayerSpec, PreparedModel, PublicModel, Requant, RequestBinding,
    verify_bytes,
};
use libfuzzer_sys::fuzz_target;

fn model() -> &'static PreparedModel {
    static M: OnceLock<PreparedModel> = OnceLock::new();
    M.get_or_init(|| {
        let circuit = Circuit {
            input_len: 4,
            layers: vec![LayerSpec {
                kind: LayerKind::Linear {
                    in_features: 4,
                    out_features: 2,
                },
                relu: true,
                requant: vec![
                    Requant {
                        multiplier: 1 << 30,
                        shift: 33
                    };
                    2
                ],
                bias_bits: 16,
            }],
        };
        let geoms = circuit.geometry().expect("valid circuit");
        let rows = Circuit::weight_layout(&geoms).expect("layout").rows;
        let weight_rows = Generators::get().vec[..rows].to_vec();
        PreparedModel::new(PublicModel {
            circuit,
            weight_rows,
        })
        .expect("valid model")
    })
}

fuzz_target!(|data: &[u8]| {
    let _ = verify_bytes(
        model(),
        &[1, 2, 3, 4],
        &[0, 5],
        &RequestBinding::default(),
        data,
    );
});
