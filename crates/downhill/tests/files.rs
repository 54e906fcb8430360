//! Saved optimizer state and checkpoint files: atomic, sealed with a
//! checksum, versioned. Damaged or mismatched files are clear errors, never
//! panics, and leave the optimizer being loaded into unchanged.

use downhill::data::Task;
use downhill::hyper::Value;
use downhill::model::ModelSpec;
use downhill::optim::{build, Optimizer, ParamGroup};
use downhill::train::{Checkpoint, TrainState};
use downhill::StateFiles;
use proptest::prelude::*;
use std::path::PathBuf;

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("downhill-files-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// An Adam optimizer with two groups after one step, and its file text.
fn adam(first: Vec<usize>) -> Optimizer<f64> {
    let groups = vec![
        ParamGroup::new(first),
        ParamGroup::new(vec![2]).with("lr", Value::Float(0.01)),
    ];
    Optimizer::<f64>::with_groups(build("adam:amsgrad=true").unwrap(), groups).unwrap()
}

fn stepped() -> Optimizer<f64> {
    let mut opt = adam(vec![2, 2]);
    let mut p = vec![0.5, -1.0, 2.0, 0.25, 3.0, -0.5];
    let g: Vec<f64> = p.iter().map(|x| 2.0 * x + 0.1).collect();
    opt.step(&mut p, &g).unwrap();
    opt
}

fn state_text(opt: &Optimizer<f64>) -> String {
    let path = temp_dir("text").join(format!("{:?}.json", std::thread::current().id()));
    opt.save_file(&path).unwrap();
    std::fs::read_to_string(path).unwrap()
}

fn run() -> serde_json::Value {
    serde_json::json!({"model": "mlp:hidden=[3]", "dataset": "test"})
}

fn checkpoint_text() -> String {
    let net = ModelSpec::parse("mlp:hidden=[3]")
        .unwrap()
        .build(2, Task::Classification { classes: 3 })
        .unwrap();
    let state = TrainState::<f32>::new(&net, build("adam").unwrap(), 7).unwrap();
    Checkpoint::of(&state, &run())
        .unwrap()
        .to_file_text()
        .unwrap()
}

#[test]
fn state_file_round_trips_bit_for_bit_and_is_written_atomically() {
    let dir = temp_dir("round");
    let path = dir.join("adam.json");
    let opt = stepped();
    opt.save_file(&path).unwrap();
    assert_eq!(Optimizer::<f64>::read_file(&path).unwrap(), opt);
    let mut fresh = adam(vec![2, 2]);
    fresh.load_file(&path).unwrap();
    assert_eq!(fresh, opt);
    // Only the file itself is left in the folder (no temporary files).
    let names: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(names, vec!["adam.json"]);
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(
        text.starts_with(r#"{"format":"downhill-optimizer-state","version":2,"crc32":""#),
        "{text}"
    );
}

#[test]
fn bad_state_files_are_clear_errors_and_change_nothing() {
    let dir = temp_dir("bad-state");
    let opt = stepped();
    let good = state_text(&opt);
    let other_rule = state_text(&Optimizer::new(build("sgd:momentum=0.9").unwrap(), 6).unwrap());
    let other_sizes = state_text(&adam(vec![4]));
    let other_len = state_text(&Optimizer::new(build("adam").unwrap(), 5).unwrap());
    // An unsealed version 1 document, as written before checksums.
    let version_1 = opt
        .to_json()
        .unwrap()
        .replace("\"version\":2", "\"version\":1");
    let cases: Vec<(&str, String, &str)> = vec![
        (
            "truncated",
            good[..good.len() - 9].into(),
            "the file is corrupt: not a complete downhill-optimizer-state document",
        ),
        ("empty", String::new(), "the file is corrupt"),
        (
            "flipped",
            good.replacen("0.01", "0.02", 1),
            "the file is corrupt: checksum mismatch",
        ),
        (
            "version-1",
            version_1,
            "version 1 is not supported (this build reads version 2",
        ),
        (
            "version-9",
            good.replace("\"version\":2", "\"version\":9"),
            "version 9 is not supported",
        ),
        (
            "checkpoint",
            checkpoint_text(),
            "not a downhill-optimizer-state file (format 'downhill-checkpoint')",
        ),
        ("other-rule", other_rule, "saved layout"),
        ("other-sizes", other_sizes, "saved layout"),
        ("other-len", other_len, "saved layout"),
    ];
    let mut target = stepped();
    let before = target.clone();
    for (name, text, want) in cases {
        let path = dir.join(format!("{name}.json"));
        std::fs::write(&path, text).unwrap();
        let err = target.load_file(&path).unwrap_err().to_string();
        assert!(
            err.starts_with(&format!("{}: ", path.display())) && err.contains(want),
            "{name}: expected '{want}' in '{err}'"
        );
        assert!(!err.contains('\n'), "{err}");
        assert_eq!(target, before, "{name} changed the optimizer");
    }
    let missing = dir.join("missing.json");
    let err = target.load_file(&missing).unwrap_err().to_string();
    assert!(err.starts_with(&missing.display().to_string()), "{err}");
    assert_eq!(target, before);
}

#[test]
fn every_cut_of_a_state_file_is_refused() {
    let good = state_text(&stepped());
    for cut in 0..good.len() {
        let err = Optimizer::<f64>::from_file_text(&good[..cut]).unwrap_err();
        assert!(err.to_string().contains("corrupt"), "{cut}: {err}");
    }
}

#[test]
fn bad_checkpoint_files_are_clear_errors() {
    let dir = temp_dir("bad-checkpoint");
    let good = checkpoint_text();
    let path = dir.join("ck.json");
    std::fs::write(&path, &good).unwrap();
    assert_eq!(Checkpoint::<f32>::load(&path, &run()).unwrap().epoch, 0);
    let state = state_text(&stepped());
    let cases: Vec<(&str, String, &str)> = vec![
        (
            "truncated",
            good[..good.len() / 2].into(),
            "the file is corrupt: not a complete downhill-checkpoint document",
        ),
        (
            "flipped",
            good.replacen("\"epoch\":0", "\"epoch\":1", 1),
            "the file is corrupt: checksum mismatch",
        ),
        (
            "version",
            good.replace("\"version\":2", "\"version\":1"),
            "downhill-checkpoint version 1 is not supported",
        ),
        (
            "state",
            state,
            "not a downhill-checkpoint file (format 'downhill-optimizer-state')",
        ),
    ];
    for (name, text, want) in cases {
        let path = dir.join(format!("{name}.json"));
        std::fs::write(&path, text).unwrap();
        let err = Checkpoint::<f32>::load(&path, &run())
            .unwrap_err()
            .to_string();
        assert!(
            err.contains(&format!("{}: ", path.display())) && err.contains(want),
            "{name}: expected '{want}' in '{err}'"
        );
    }
    for cut in 0..good.len() {
        let err = Checkpoint::<f32>::parse(&good[..cut], &run()).unwrap_err();
        assert!(err.contains("corrupt"), "{cut}: {err}");
    }
    // Another model's shapes.
    let ck = Checkpoint::<f32>::parse(&good, &run()).unwrap();
    let err = ck.into_state(5).unwrap_err().to_string();
    assert!(
        err.contains("holds 21 parameters, the model has 5"),
        "{err}"
    );
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    /// CRC-32 detects every change of one byte: a flipped byte anywhere is refused.
    #[test]
    fn a_flipped_byte_anywhere_is_refused(at in any::<prop::sample::Index>(), flip in 1u8..=255) {
        let good = state_text(&stepped()).into_bytes();
        let mut bad = good.clone();
        let i = at.index(bad.len());
        bad[i] ^= flip;
        let text = String::from_utf8_lossy(&bad);
        prop_assert!(Optimizer::<f64>::from_file_text(&text).is_err(), "byte {i}");
        let ck = checkpoint_text().into_bytes();
        let mut bad = ck.clone();
        let i = at.index(bad.len());
        bad[i] ^= flip;
        let text = String::from_utf8_lossy(&bad);
        prop_assert!(Checkpoint::<f32>::parse(&text, &run()).is_err(), "byte {i}");
    }

    #[test]
    fn random_text_never_panics_the_readers(text in "\\PC{0,200}") {
        let _ = Optimizer::<f64>::from_file_text(&text);
        let _ = Checkpoint::<f32>::parse(&text, &run());
    }
}
