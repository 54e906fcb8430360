//! Criterion benchmarks of one optimizer step on a large buffer and on many
//! small tensors, with the default finiteness check and without it
//! (`propagate`). `cargo bench -p downhill`; for side-by-side ratios against
//! PyTorch and the memory-bandwidth probe use `scripts/bench_compare.py`.

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use downhill::optim::{build, NonFinite, Optimizer, ParamGroup};

const SPECS: &[&str] = &[
    "sgd",
    "sgd:momentum=0.9",
    "adam",
    "adamw",
    "adagrad",
    "rmsprop",
    "adadelta",
    "nadam",
    "radam",
    "adamax",
    "rprop",
    "asgd",
];

fn one_tensor(c: &mut Criterion) {
    let n = 1_000_000;
    for policy in [NonFinite::Error, NonFinite::Propagate] {
        let mut group = c.benchmark_group(format!("step_1e6_f32_{}", policy.name()));
        group.throughput(Throughput::Elements(n as u64));
        for spec in SPECS {
            let mut opt = Optimizer::<f32>::new(build(spec).unwrap(), n).unwrap();
            opt.set_non_finite(policy);
            let mut params = vec![0.5f32; n];
            let grads = vec![1e-3f32; n];
            group.bench_function(BenchmarkId::from_parameter(spec), |b| {
                b.iter(|| opt.step(&mut params, &grads).unwrap())
            });
        }
        group.finish();
    }
}

fn many_tensors(c: &mut Criterion) {
    let (tensors, size) = (100, 10_000);
    let mut group = c.benchmark_group("step_100x1e4_f32");
    group.throughput(Throughput::Elements((tensors * size) as u64));
    for spec in SPECS {
        let layout = vec![ParamGroup::new(vec![size; tensors])];
        let mut opt = Optimizer::<f32>::with_groups(build(spec).unwrap(), layout).unwrap();
        let mut params = vec![vec![0.5f32; size]; tensors];
        let grads = vec![vec![1e-3f32; size]; tensors];
        group.bench_function(BenchmarkId::from_parameter(spec), |b| {
            b.iter(|| {
                let mut views: Vec<&mut [f32]> = params.iter_mut().map(Vec::as_mut_slice).collect();
                let grad_views: Vec<&[f32]> = grads.iter().map(Vec::as_slice).collect();
                opt.step_tensors(&mut views, &grad_views).unwrap()
            })
        });
    }
    group.finish();
}

criterion_group!(benches, one_tensor, many_tensors);
criterion_main!(benches);
