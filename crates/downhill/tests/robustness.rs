//! Arbitrary input never panics the spec parser, the optimizer builder or
//! the state reader: it is accepted or refused with an error.

use downhill::optim::RuleSet;
use downhill::optim::{build, Optimizer};
use downhill::StateFiles;
use proptest::prelude::*;

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn specs_never_panic(text in "\\PC{0,60}") {
        let _ = build(&text);
    }

    #[test]
    fn spec_like_text_never_panics(
        name in "(adam|sgd|nag|rprop|asgd|x)",
        pairs in proptest::collection::vec(("[a-z_]{0,12}", "[-0-9.e\\[\\],a-z]{0,10}"), 0..5),
    ) {
        let args: Vec<String> = pairs.iter().map(|(k, v)| format!("{k}={v}")).collect();
        let spec = format!("{name}:{}", args.join(","));
        if let Ok(rule) = build(&spec) {
            prop_assert!(rule.validate().is_ok(), "{spec} built an invalid rule");
        }
    }

    #[test]
    fn damaged_state_never_panics(cut in 0usize..2000, byte in any::<u8>(), at in 0usize..2000) {
        let mut opt = Optimizer::<f64>::new(build("adam:amsgrad=true").unwrap(), 3).unwrap();
        let mut p = [1.0, -2.0, 0.5];
        opt.step(&mut p, &[0.1, 0.2, -0.3]).unwrap();
        let good = opt.to_json().unwrap().into_bytes();
        let mut bad = good.clone();
        if at < bad.len() {
            bad[at] = byte;
        }
        bad.truncate(cut.min(bad.len()));
        if let Ok(text) = String::from_utf8(bad) {
            if let Ok(loaded) = Optimizer::<f64>::from_json(&text) {
                // Whatever loads is a valid optimizer that can step.
                let mut q = vec![0.0; loaded.len()];
                let g = vec![0.1; loaded.len()];
                let mut loaded = loaded;
                let _ = loaded.step(&mut q, &g);
            }
        }
    }
}
