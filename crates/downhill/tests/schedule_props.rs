//! Properties of schedules for arbitrary keys: the chainable forms stay on
//! their closed forms, and saving then resuming never changes a sequence.

use downhill::schedule::{build, lrs, Scheduler};
use proptest::prelude::*;
use std::f64::consts::PI;

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// StepLR and ExponentialLR multiply step by step; the products stay within
    /// 1e-12 of base·γ^⌊k/s⌋ and base·γ^k.
    #[test]
    fn multiplicative_forms_follow_their_closed_forms(
        step_size in 1u64..20, gamma in 0.5f64..1.0, base in 1e-4f64..1.0,
    ) {
        let step = lrs(&build(&format!("step:step_size={step_size},gamma={gamma}")).unwrap(), base, 300).unwrap();
        let exp = lrs(&build(&format!("exponential:gamma={gamma}")).unwrap(), base, 300).unwrap();
        for k in 0..300u64 {
            let closed = base * gamma.powf((k / step_size) as f64);
            prop_assert!((step.lr[k as usize] - closed).abs() <= 1e-12 * closed, "step k={k}");
            let closed = base * gamma.powf(k as f64);
            prop_assert!((exp.lr[k as usize] - closed).abs() <= 1e-12 * closed, "exponential k={k}");
        }
    }

    /// CosineAnnealingLR's recursion keeps following η_min + (base − η_min)(1 + cos(πk/T))/2
    /// past T: it oscillates with period 2T instead of stopping at η_min.
    #[test]
    fn cosine_oscillates_past_t_max(t_max in 1u64..60, eta_min in 0.0f64..0.01, base in 0.01f64..1.0) {
        let n = 5 * t_max + 3;
        let seq = lrs(&build(&format!("cosine:t_max={t_max},eta_min={eta_min}")).unwrap(), base, n).unwrap();
        for k in 0..n {
            let closed = eta_min + (base - eta_min) * (1.0 + (PI * k as f64 / t_max as f64).cos()) / 2.0;
            prop_assert!((seq.lr[k as usize] - closed).abs() <= 1e-9 * base, "k={k}: {} vs {closed}", seq.lr[k as usize]);
        }
    }

    /// Saving at any step and resuming gives bit-identical lrs and momenta,
    /// with metrics flowing into plateau members.
    #[test]
    fn save_resume_anywhere(
        which in 0usize..4, cut in 0u64..80, patience in 0u64..4, seeds in proptest::collection::vec(0.0f64..1.0, 100),
    ) {
        let specs = [
            format!("plateau:patience={patience},factor=0.5,cooldown=1"),
            format!("sequential:schedulers=[linear:start_factor=0.2,total_iters=6;plateau:patience={patience};cosine:t_max=11],milestones=[9,50]"),
            format!("chained:schedulers=[cosine-restarts:t_0=5,t_mult=2;plateau:mode=max,patience={patience},factor=0.7]"),
            "cyclic:base_lr=0.01,max_lr=0.1,step_size_up=7,mode=triangular2".to_string(),
        ];
        let schedule = build(&specs[which]).unwrap();
        let mut straight = Scheduler::new(schedule, 0.1).unwrap();
        let mut history = Vec::new();
        let mut resumed = None;
        for k in 0..100u64 {
            if k == cut {
                resumed = Some(Scheduler::from_json(&straight.to_json().unwrap()).unwrap());
            }
            history.push((straight.lr().to_bits(), straight.momentum().map(f64::to_bits)));
            straight.observe(seeds[k as usize]);
            straight.advance().unwrap();
        }
        let mut resumed = resumed.unwrap();
        for k in cut..100 {
            prop_assert_eq!((resumed.lr().to_bits(), resumed.momentum().map(f64::to_bits)), history[k as usize], "step {}", k);
            resumed.observe(seeds[k as usize]);
            resumed.advance().unwrap();
        }
    }
}
