//! Optimizer and schedule specs: parsed, built, and a built schedule run for a few steps.
#![no_main]
use downhill::{optim, schedule, Spec};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|text: &str| {
    let _ = Spec::parse(text);
    if let Ok(rule) = optim::build(text) {
        assert!(rule.validate().is_ok(), "{text} built an invalid rule");
    }
    if let Ok(s) = schedule::build(text) {
        let _ = schedule::lrs(&s, 0.1, 50);
    }
});
