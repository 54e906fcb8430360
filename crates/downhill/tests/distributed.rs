//! Data-parallel training against an in-process communicator of threads:
//! the same parameters as a single process (within a stated bound), state
//! sharded 1/N, refusals named, a bad gradient on one rank seen by all.

use downhill::data::{self, BatchSize, Scaling};
use downhill::model::{ModelSpec, Network};
use downhill::optim::{self, NonFinite};
use downhill::train::{
    self, shards, Clip, CommError, Communicator, Distributed, Samples, TrainConfig, TrainError,
    TrainState,
};
use std::sync::{Barrier, Mutex};

/// `size` ranks in threads, exchanging buffers through shared slots.
struct Threads {
    slots: Mutex<Vec<Vec<f64>>>,
    barrier: Barrier,
    size: usize,
}

struct Rank<'a> {
    group: &'a Threads,
    rank: usize,
}

impl Communicator for Rank<'_> {
    fn rank(&self) -> usize {
        self.rank
    }
    fn size(&self) -> usize {
        self.group.size
    }
    fn all_gather(&self, local: &[f64]) -> Result<Vec<Vec<f64>>, CommError> {
        self.group.slots.lock().unwrap()[self.rank] = local.to_vec();
        self.group.barrier.wait();
        let all = self.group.slots.lock().unwrap().clone();
        self.group.barrier.wait();
        Ok(all)
    }
}

fn problem() -> (Network, Samples<f64>) {
    let all = data::resolve("moons:n=96,noise=0.2", &Default::default()).unwrap();
    let (mut tr, _) = data::split(&all, 0.0, true, 0);
    data::Scaler::fit(&tr.features, Scaling::Standard).apply(&mut tr.features);
    let net = ModelSpec::parse("mlp:hidden=[8]")
        .unwrap()
        .build(all.dim(), all.task)
        .unwrap();
    (net, Samples::of(&tr))
}

fn config(clip: Option<Clip>) -> TrainConfig {
    TrainConfig {
        epochs: 3,
        batch: BatchSize::Size(20),
        drop_last: false,
        clip,
        patience: None,
        swa: None,
    }
}

fn state(net: &Network, spec: &str, policy: NonFinite) -> TrainState<f64> {
    let mut s = TrainState::new(net, optim::build(spec).unwrap(), 7).unwrap();
    s.optimizer.set_non_finite(policy);
    s
}

type RankResult = (Result<train::Outcome, TrainError>, Vec<f64>, usize);

/// Runs `spec` on `ranks` threads; per rank: outcome, final parameters, optimizer length.
fn distributed(
    net: &Network,
    data: &Samples<f64>,
    spec: &str,
    ranks: usize,
    cfg: &TrainConfig,
    policy: NonFinite,
) -> Vec<RankResult> {
    let group = Threads {
        slots: Mutex::new(vec![Vec::new(); ranks]),
        barrier: Barrier::new(ranks),
        size: ranks,
    };
    std::thread::scope(|scope| {
        let handles: Vec<_> = (0..ranks)
            .map(|rank| {
                let group = &group;
                scope.spawn(move || {
                    let comm = Rank { group, rank };
                    let mut s = state(net, spec, policy);
                    let rule = optim::build(spec).unwrap();
                    let dist = Distributed::shard(&comm, net, rule, &mut s).unwrap();
                    let out =
                        train::train_distributed(net, data, None, cfg, &mut s, &mut [], &dist);
                    (out, s.params, s.optimizer.len())
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    })
}

/// The stated bound: every parameter within 1e-12·max(1, |p|) of the
/// single-process run's (gradients summed per rank, then across ranks,
/// instead of over the whole batch at once).
fn assert_close(a: &[f64], b: &[f64], what: &str) {
    for (i, (x, y)) in a.iter().zip(b).enumerate() {
        assert!(
            (x - y).abs() <= 1e-12 * y.abs().max(1.0),
            "{what}: parameter {i}: {x} vs {y}"
        );
    }
}

#[test]
fn two_and_three_ranks_match_one_process() {
    let (net, data) = problem();
    let cases = [
        ("sgd:lr=0.1,momentum=0.9", None),
        ("adam:lr=0.01", Some(Clip::Norm(0.5))),
        ("adagrad:lr=0.1", Some(Clip::Value(0.2))),
        ("lamb:lr=0.01", None),
        ("muon:lr=0.02", None),
        ("adafactor:lr=0.01", None),
    ];
    for (spec, clip) in cases {
        let cfg = config(clip);
        let mut single = state(&net, spec, NonFinite::Error);
        train::train(&net, &data, None, &cfg, &mut single, &mut []).unwrap();
        for ranks in [2, 3] {
            let results = distributed(&net, &data, spec, ranks, &cfg, NonFinite::Error);
            for (rank, (out, params, _)) in results.iter().enumerate() {
                out.as_ref().unwrap();
                assert_close(
                    params,
                    &single.params,
                    &format!("{spec} rank {rank}/{ranks}"),
                );
                assert_eq!(params, &results[0].1, "{spec}: ranks disagree");
            }
        }
    }
}

#[test]
fn optimizer_state_is_sharded() {
    let (net, data) = problem();
    let total = net.param_len();
    let results = distributed(
        &net,
        &data,
        "adam:lr=0.01",
        2,
        &config(None),
        NonFinite::Error,
    );
    let lens: Vec<usize> = results.iter().map(|r| r.2).collect();
    assert_eq!(lens, vec![total / 2, total - total / 2]);
    // Whole-tensor rules: tensors stay whole, every rank gets one.
    let rule = optim::build("muon:lr=0.02").unwrap();
    let parts = shards(&rule, &net.tensor_shapes(), 2).unwrap();
    assert_eq!(parts.len(), 2);
    assert_eq!(parts[0].elements.end, parts[1].elements.start);
    assert_eq!(parts[1].elements.end, total);
    let whole = net.tensor_shapes();
    assert!(parts
        .iter()
        .flat_map(|p| &p.shapes)
        .all(|s| whole.contains(s)));
}

#[test]
fn rules_with_global_state_are_refused_by_name() {
    let (net, _) = problem();
    for name in ["lbfgs", "prodigy"] {
        let rule = optim::build(name).unwrap();
        let err = shards(&rule, &net.tensor_shapes(), 2).unwrap_err();
        assert!(
            err.contains(name) && err.contains("lbfgs or prodigy"),
            "{err}"
        );
    }
}

#[test]
fn a_bad_sample_on_one_rank_is_seen_by_all() {
    let (net, mut data) = problem();
    data.x[[5, 0]] = f64::NAN;
    let cfg = config(None);
    for policy in [NonFinite::Error, NonFinite::Skip, NonFinite::Zero] {
        let mut single = state(&net, "adam:lr=0.01", policy);
        let expected = train::train(&net, &data, None, &cfg, &mut single, &mut []);
        let expected = format!("{expected:?}");
        let results = distributed(&net, &data, "adam:lr=0.01", 2, &cfg, policy);
        for (out, params, _) in &results {
            assert_eq!(format!("{out:?}"), expected, "{policy:?}");
            assert_eq!(params, &results[0].1);
        }
        assert!(
            expected.contains("NonFiniteGradient")
                || expected.contains("skipped_updates: 3")
                || expected.contains("zeroed_values"),
            "{policy:?}: the bad batch was not noticed: {expected}"
        );
    }
}
