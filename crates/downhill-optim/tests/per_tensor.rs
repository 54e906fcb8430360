//! Rules that look at whole tensors (LAMB's and LARS's norms, LARS's
//! matrices-only scaling): tensor shapes in groups and state files, results
//! independent of threads and of how the caller passes the tensors, one
//! tensor's norms never mixing with another's, and LARS on vectors being SGD.

use downhill_optim::{build, AnyRule, ConfigError, Optimizer, ParamGroup, RuleSet};

fn bits(v: &[f64]) -> Vec<u64> {
    v.iter().map(|x| x.to_bits()).collect()
}

/// Varied values, different for every `seed`.
fn values(n: usize, seed: usize) -> Vec<f64> {
    (0..n)
        .map(|i| ((((i + 7 * seed) * 31) % 47) as f64 * 0.04 - 0.9) * (1.0 + (i % 5) as f64 * 0.1))
        .collect()
}

/// Splits `v` by `sizes`.
fn split<'a, T>(mut v: &'a mut [T], sizes: &[usize]) -> Vec<&'a mut [T]> {
    sizes
        .iter()
        .map(|&n| {
            let (head, tail) = std::mem::take(&mut v).split_at_mut(n);
            v = tail;
            head
        })
        .collect()
}

/// Three steps of `spec` on tensors of `shapes` with `threads` threads, the
/// tensors passed as one flat vector or one by one.
fn steps(spec: &str, shapes: &[Vec<usize>], threads: usize, flat: bool) -> Vec<u64> {
    let sizes: Vec<usize> = shapes.iter().map(|s| s.iter().product()).collect();
    let n = sizes.iter().sum();
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .unwrap();
    pool.install(|| {
        let group = ParamGroup::shaped(shapes.to_vec());
        let mut opt = Optimizer::<f64>::with_groups(build(spec).unwrap(), vec![group]).unwrap();
        let mut p = values(n, 0);
        for step in 1..=3 {
            let mut g = values(n, step);
            if flat {
                opt.step(&mut p, &g).unwrap();
            } else {
                let mut ps = split(&mut p, &sizes);
                let gs: Vec<&[f64]> = split(&mut g, &sizes).into_iter().map(|g| &*g).collect();
                opt.step_tensors(&mut ps, &gs).unwrap();
            }
        }
        bits(&p)
    })
}

#[test]
fn results_do_not_depend_on_threads_or_how_tensors_are_passed() {
    // Tensors longer than two parallel grains, shorter ones, matrices and vectors.
    let shapes = vec![
        vec![700, 100],
        vec![3],
        vec![65_537],
        vec![1000, 100],
        vec![2, 6],
    ];
    for spec in [
        "lamb:lr=0.01,weight_decay=0.1",
        "lars:lr=0.5,weight_decay=0.01,nesterov=true",
    ] {
        let one = steps(spec, &shapes, 1, true);
        for threads in [2, 4] {
            assert_eq!(
                steps(spec, &shapes, threads, true),
                one,
                "{spec}: {threads} threads"
            );
            assert_eq!(steps(spec, &shapes, threads, false), one, "{spec}: tensors");
        }
    }
}

#[test]
fn each_tensor_has_its_own_norms() {
    // One optimizer over two tensors equals two optimizers over one tensor each.
    for spec in ["lamb:lr=0.05", "lars:lr=1,weight_decay=0.1"] {
        let shapes = vec![vec![3, 4], vec![2, 5]];
        let together = steps(spec, &shapes, 1, true);
        let mut apart = steps(spec, &shapes[..1], 1, true);
        // The second tensor alone, with the same values it had in the pair.
        let group = ParamGroup::shaped(vec![shapes[1].clone()]);
        let mut opt = Optimizer::<f64>::with_groups(build(spec).unwrap(), vec![group]).unwrap();
        let mut p = values(22, 0)[12..].to_vec();
        for step in 1..=3 {
            opt.step(&mut p, &values(22, step)[12..]).unwrap();
        }
        // `steps` on the first tensor alone used values(12, ·), the pair's first 12.
        apart.extend(bits(&p));
        assert_eq!(together, apart, "{spec}");
    }
}

#[test]
fn lars_on_vectors_is_sgd_with_momentum() {
    // pytorch-optimizer's LARS skips decay and scaling for vectors, and its
    // zero-started buffer with dampening 0 equals SGD's first-step copy.
    for (lars, sgd) in [
        ("lars:lr=0.1,momentum=0.9", "sgd:lr=0.1,momentum=0.9"),
        (
            "lars:lr=0.1,momentum=0.5,nesterov=true",
            "sgd:lr=0.1,momentum=0.5,nesterov=true",
        ),
        ("lars:lr=0.1,momentum=0", "sgd:lr=0.1"),
    ] {
        assert_eq!(
            steps(lars, &[vec![9], vec![4]], 1, true),
            steps(sgd, &[vec![9], vec![4]], 1, true),
            "{lars}"
        );
    }
}

#[test]
fn shapes_must_hold_their_tensors() {
    let bad = ParamGroup {
        sizes: vec![6, 4],
        shapes: vec![vec![2, 3], vec![3]],
        overrides: Vec::new(),
    };
    let err =
        Optimizer::<f64>::with_groups(build("lars").unwrap(), vec![ParamGroup::new(vec![1]), bad])
            .unwrap_err();
    assert!(matches!(err, ConfigError::Shape { group: 1, .. }), "{err}");
    assert_eq!(
        err.to_string(),
        "parameter group 1: tensor 1 has shape [3], which does not hold its 4 elements"
    );
    let counted = ParamGroup {
        sizes: vec![6],
        shapes: vec![vec![2, 3], vec![1]],
        overrides: Vec::new(),
    };
    let err = Optimizer::<f64>::with_groups(build("lamb").unwrap(), vec![counted]).unwrap_err();
    assert_eq!(err.to_string(), "parameter group 0: 2 shapes for 1 tensors");
}

#[test]
fn state_files_keep_shapes_and_resume_exactly() {
    let shapes = vec![vec![3, 4], vec![5]];
    let group = || ParamGroup::shaped(shapes.clone());
    let mut opt = Optimizer::<f64>::with_groups(
        build("lars:lr=0.5,weight_decay=0.1").unwrap(),
        vec![group()],
    )
    .unwrap();
    let mut p = values(17, 0);
    opt.step(&mut p, &values(17, 1)).unwrap();
    let json = serde_json::to_string(&opt.save().unwrap()).unwrap();
    assert!(json.contains(r#""shapes":[[3,4],[5]]"#), "{json}");
    let mut resumed =
        Optimizer::<f64, AnyRule>::from_saved(serde_json::from_str(&json).unwrap()).unwrap();
    assert_eq!(resumed, opt);
    let mut q = p.clone();
    for step in 2..6 {
        opt.step(&mut p, &values(17, step)).unwrap();
        resumed.step(&mut q, &values(17, step)).unwrap();
    }
    assert_eq!(bits(&p), bits(&q));
    // Vectors only: no "shapes" written, so older files and these read the same.
    let plain = Optimizer::<f64>::new(build("lamb").unwrap(), 4).unwrap();
    let json = serde_json::to_string(&plain.save().unwrap()).unwrap();
    assert!(!json.contains("shapes"), "{json}");
    // A state of other shapes is refused, and nothing changes.
    let mut flat = Optimizer::<f64>::with_groups(
        build("lars:lr=0.5,weight_decay=0.1").unwrap(),
        vec![ParamGroup::new(vec![12, 5])],
    )
    .unwrap();
    let before = flat.clone();
    let err = flat.load(opt.save().unwrap()).unwrap_err();
    assert!(
        err.to_string().contains("differs from this optimizer's"),
        "{err}"
    );
    assert_eq!(flat, before);
    assert!(opt.rule(0).per_tensor() && !build("adam").unwrap().per_tensor());
}
