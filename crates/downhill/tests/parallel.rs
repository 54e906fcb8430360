//! The parallel path (runs split across rayon threads) gives results
//! bit-identical to one thread, for every optimizer, in f32 and f64.

use downhill::optim::{build, Optimizer, ParamGroup};
use downhill::Scalar;

const SPECS: &[&str] = &[
    "gd:lr=0.01",
    "sgd:lr=0.01,momentum=0.9,dampening=0.1,weight_decay=0.01,maximize=true",
    "sgd:lr=0.01,momentum=0.9,nesterov=true",
    "nag:lr=0.01",
    "adagrad:lr=0.1,lr_decay=0.01,weight_decay=0.1",
    "rmsprop:lr=0.01,centered=true,momentum=0.5,weight_decay=0.1",
    "adadelta",
    "adam:lr=0.01,amsgrad=true,weight_decay=0.1",
    "adamw:lr=0.01",
    "nadam:lr=0.01,decoupled_weight_decay=true,weight_decay=0.1",
    "radam:lr=0.01",
    "adamax:lr=0.01,beta1=0.2",
    "rprop",
    "asgd:lr=0.01,t0=2",
];

fn run<T: Scalar>(spec: &str, threads: usize) -> (Optimizer<T>, Vec<T>) {
    let sizes = vec![70_000, 7, 66_001];
    let n: usize = sizes.iter().sum();
    let groups = vec![ParamGroup::new(sizes), ParamGroup::new(vec![65_600])];
    let mut opt = Optimizer::<T>::with_groups(build(spec).unwrap(), groups).unwrap();
    let mut params: Vec<T> = (0..n + 65_600)
        .map(|i| T::of(((i * 37) % 101) as f64 / 50.0 - 1.0))
        .collect();
    let mut grads = vec![T::zero(); params.len()];
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .unwrap();
    pool.install(|| {
        for step in 0..4 {
            opt.step_with(&mut params, &mut grads, |p, g| {
                for (i, (g, p)) in g.iter_mut().zip(p).enumerate() {
                    *g = *p * T::of(0.5) + T::of(((i + step) % 13) as f64 * 1e-3 - 6e-3);
                }
                T::zero()
            })
            .unwrap();
        }
    });
    (opt, params)
}

#[test]
fn threads_do_not_change_results() {
    for spec in SPECS {
        let (one, p1) = run::<f64>(spec, 1);
        let (two, p2) = run::<f64>(spec, 2);
        let (four, p4) = run::<f64>(spec, 4);
        assert!(
            p1.iter().zip(&p2).all(|(a, b)| a.to_bits() == b.to_bits()),
            "{spec}: f64 1 vs 2 threads"
        );
        assert!(
            p1.iter().zip(&p4).all(|(a, b)| a.to_bits() == b.to_bits()),
            "{spec}: f64 1 vs 4 threads"
        );
        assert_eq!(one, two, "{spec}");
        assert_eq!(one, four, "{spec}");
        let (one, p1) = run::<f32>(spec, 1);
        let (three, p3) = run::<f32>(spec, 3);
        assert!(
            p1.iter().zip(&p3).all(|(a, b)| a.to_bits() == b.to_bits()),
            "{spec}: f32 1 vs 3 threads"
        );
        assert_eq!(one, three, "{spec}");
    }
}

#[test]
fn a_non_finite_gradient_deep_in_a_large_vector_is_found() {
    let mut opt = Optimizer::<f32>::new(build("adam").unwrap(), 300_000).unwrap();
    let mut params = vec![1.0f32; 300_000];
    let mut grads = vec![0.5f32; 300_000];
    grads[271_828] = f32::NAN;
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(2)
        .build()
        .unwrap();
    let before = opt.clone();
    let err = pool.install(|| opt.step(&mut params, &grads)).unwrap_err();
    assert_eq!(
        err.to_string(),
        "gradient element 271828 is NaN (not finite); the step was not applied"
    );
    assert_eq!(opt, before);
    assert!(params.iter().all(|&p| p == 1.0));
}

/// Many separately stored tensors (stepped by `step_tensors`, split across
/// threads by element count) under every policy: the same results for 1, 2
/// and 4 threads, and the same as one flat step. Under `zero` the gradient
/// holds NaN and ±∞ in several tensors and cleaning blocks.
#[test]
fn many_tensors_give_the_same_results_on_any_thread_count() {
    use downhill::optim::{NonFinite, Outcome};
    let sizes: Vec<usize> = (0..60)
        .map(|i| 500 + (i * 7919) % 9000)
        .chain([90_000])
        .collect();
    let n: usize = sizes.iter().sum();
    let start: Vec<f64> = (0..n)
        .map(|i| ((i * 37) % 101) as f64 / 50.0 - 1.0)
        .collect();
    let mut grads: Vec<f64> = (0..n).map(|i| ((i % 13) as f64) * 1e-3 - 6e-3).collect();
    for (k, i) in [5usize, 4_097, 77_777, n - 3].into_iter().enumerate() {
        grads[i] = [f64::NAN, f64::INFINITY, f64::NEG_INFINITY, f64::NAN][k];
    }
    let clean: Vec<f64> = grads
        .iter()
        .map(|g| if g.is_finite() { *g } else { 0.0 })
        .collect();
    for spec in SPECS.iter().filter(|s| !s.starts_with("nag")) {
        for policy in [NonFinite::Zero, NonFinite::Error] {
            let g = if policy == NonFinite::Zero {
                &grads
            } else {
                &clean
            };
            let run = |threads: usize| {
                let mut opt = Optimizer::<f64>::with_groups(
                    build(spec).unwrap(),
                    vec![ParamGroup::new(sizes.clone())],
                )
                .unwrap();
                opt.set_non_finite(policy);
                let mut params = start.clone();
                let pool = rayon::ThreadPoolBuilder::new()
                    .num_threads(threads)
                    .build()
                    .unwrap();
                let mut outcomes = Vec::new();
                pool.install(|| {
                    for _ in 0..3 {
                        let mut views: Vec<&mut [f64]> = Vec::new();
                        let mut rest = params.as_mut_slice();
                        for &size in &sizes {
                            let (head, tail) = rest.split_at_mut(size);
                            views.push(head);
                            rest = tail;
                        }
                        let mut offset = 0;
                        let grad_views: Vec<&[f64]> = sizes
                            .iter()
                            .map(|&size| {
                                offset += size;
                                &g[offset - size..offset]
                            })
                            .collect();
                        outcomes.push(opt.step_tensors(&mut views, &grad_views).unwrap());
                    }
                });
                (opt, params, outcomes)
            };
            let (one, p1, o1) = run(1);
            let expected = if policy == NonFinite::Zero {
                Outcome::Zeroed { count: 4 }
            } else {
                Outcome::Applied
            };
            assert!(o1.iter().all(|o| *o == expected), "{spec}: {o1:?}");
            for threads in [2, 4] {
                let (other, p, o) = run(threads);
                assert_eq!(o, o1, "{spec} {policy:?} {threads} threads");
                assert!(
                    p1.iter().zip(&p).all(|(a, b)| a.to_bits() == b.to_bits()),
                    "{spec} {policy:?}: 1 vs {threads} threads"
                );
                assert_eq!(one, other, "{spec} {policy:?}: {threads} threads");
            }
            // Zeroing in the step equals stepping with the cleaned gradient.
            let mut flat = Optimizer::<f64>::with_groups(
                build(spec).unwrap(),
                vec![ParamGroup::new(sizes.clone())],
            )
            .unwrap();
            let mut p_flat = start.clone();
            for _ in 0..3 {
                flat.step(&mut p_flat, &clean).unwrap();
            }
            assert!(
                p1.iter()
                    .zip(&p_flat)
                    .all(|(a, b)| a.to_bits() == b.to_bits()),
                "{spec} {policy:?}: tensors vs flat"
            );
            assert_eq!(one, flat, "{spec} {policy:?}: tensors vs flat state");
        }
    }
}

#[test]
fn a_non_finite_gradient_in_one_of_many_tensors_is_found() {
    let sizes = vec![5_000; 50];
    let mut opt =
        Optimizer::<f32>::with_groups(build("adam").unwrap(), vec![ParamGroup::new(sizes)])
            .unwrap();
    let mut params = vec![vec![1.0f32; 5_000]; 50];
    let mut grads = vec![vec![0.5f32; 5_000]; 50];
    grads[37][123] = f32::NEG_INFINITY;
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(2)
        .build()
        .unwrap();
    let before = opt.clone();
    let mut views: Vec<&mut [f32]> = params.iter_mut().map(Vec::as_mut_slice).collect();
    let grad_views: Vec<&[f32]> = grads.iter().map(Vec::as_slice).collect();
    let err = pool
        .install(|| opt.step_tensors(&mut views, &grad_views))
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        format!(
            "gradient element {} is -inf (not finite); the step was not applied",
            37 * 5_000 + 123
        )
    );
    assert_eq!(opt, before);
    assert!(params.iter().flatten().all(|&p| p == 1.0));
}
