//! `Averaged` against `torch.optim.swa_utils.AveragedModel` (float64, CPU),
//! recorded by `scripts/golden_swa.py`: SWA's running mean and EMAs, bit for
//! bit after every update; bad lengths and decays refused.

use downhill_optim::{Averaged, Averaging};
use serde_json::Value;

mod common;
use common::numbers;

#[test]
fn averages_equal_pytorch_bit_for_bit() {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../tests/golden/swa/averaged.json"
    );
    let doc: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let cases = doc["cases"].as_array().unwrap();
    assert_eq!(cases.len(), 3);
    for case in cases {
        let averaging = match case["averaging"].as_str().unwrap() {
            "swa" => Averaging::Swa,
            _ => Averaging::Ema {
                decay: case["decay"].as_f64().unwrap(),
            },
        };
        let fed = case["params"].as_array().unwrap();
        let mut average = Averaged::<f64>::new(averaging, 7).unwrap();
        for (k, (params, expected)) in fed
            .iter()
            .zip(case["averaged"].as_array().unwrap())
            .enumerate()
        {
            average.update(&numbers(params)).unwrap();
            let bits = |v: &[f64]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
            assert_eq!(
                bits(average.values()),
                bits(&numbers(expected)),
                "{averaging:?} after update {}",
                k + 1
            );
        }
        assert_eq!(average.count(), fed.len() as u64);
    }
}

#[test]
fn bad_lengths_and_decays_are_refused() {
    let mut average = Averaged::<f32>::new(Averaging::Swa, 3).unwrap();
    average.update(&[1.0, 2.0, 3.0]).unwrap();
    let before = average.clone();
    assert_eq!(
        average.update(&[1.0]).unwrap_err().to_string(),
        "parameters have 1 elements, the optimizer was built for 3"
    );
    assert_eq!(average, before);
    let err = Averaged::<f32>::new(Averaging::Ema { decay: 1.5 }, 3).unwrap_err();
    assert_eq!(err, "ema decay must be in [0, 1], got 1.5");
    // Serialised with its count, it resumes exactly.
    let json = serde_json::to_string(&average).unwrap();
    let back: Averaged<f32> = serde_json::from_str(&json).unwrap();
    assert_eq!(back, average);
}
