//! Times one optimizer step on the GPU with CUDA events (median of 20 after 3
//! warm-ups) for every rule, in f32, on three layouts: 1 tensor × 1e8,
//! 1000 × 1e5 and 100 × 1e4; prints ns/param and GB/s (the bytes the rule
//! must touch, (3 + 2·buffers)·4 B/param) next to a device-to-device copy's
//! bandwidth measured in the same run, and the cost of each non-finite policy
//! for Adam, and AdamW on bf16 parameters with f32 state. Writes JSON with `--json PATH`; `--quick` runs smaller layouts.
//!
//! `cargo run --release -p downhill-cuda --example bench -- --json bench.json`

use cudarc::driver::sys::CUevent_flags;
use cudarc::driver::{CudaSlice, CudaStream};
use downhill_cuda::{open, CudaOptimizer};
use downhill_optim::{build, NonFinite, ParamGroup, RuleSet};
use std::sync::Arc;

const WARMUP: usize = 3;
const RUNS: usize = 20;

const RULES: &[(&str, &str)] = &[
    ("sgd_momentum", "sgd:lr=0.01,momentum=0.9"),
    ("adam", "adam:lr=0.001"),
    ("adamw", "adamw:lr=0.001"),
    ("adagrad", "adagrad:lr=0.01"),
    ("rmsprop", "rmsprop:lr=0.01"),
    ("adadelta", "adadelta:lr=1.0"),
    ("nadam", "nadam:lr=0.002"),
    ("radam", "radam:lr=0.001"),
    ("adamax", "adamax:lr=0.002"),
    ("rprop", "rprop:lr=0.01"),
    ("asgd", "asgd:lr=0.01"),
];

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.partial_cmp(b).unwrap());
    v[v.len() / 2]
}

/// Median milliseconds of `f` timed with events on `stream`.
fn time(stream: &Arc<CudaStream>, mut f: impl FnMut()) -> f64 {
    let ctx = stream.context();
    for _ in 0..WARMUP {
        f();
    }
    stream.synchronize().unwrap();
    let mut ms = Vec::with_capacity(RUNS);
    for _ in 0..RUNS {
        let start = ctx
            .new_event(Some(CUevent_flags::CU_EVENT_DEFAULT))
            .unwrap();
        let end = ctx
            .new_event(Some(CUevent_flags::CU_EVENT_DEFAULT))
            .unwrap();
        start.record(stream).unwrap();
        f();
        end.record(stream).unwrap();
        end.synchronize().unwrap();
        ms.push(f64::from(start.elapsed_ms(&end).unwrap()));
    }
    median(ms)
}

fn fill(stream: &Arc<CudaStream>, n: usize, seed: u32, scale: f32) -> CudaSlice<f32> {
    let host: Vec<f32> = (0..n as u32)
        .map(|i| {
            let x = i
                .wrapping_mul(2654435761)
                .wrapping_add(seed.wrapping_mul(40503))
                >> 8;
            (x as f32 / (1u32 << 24) as f32 - 0.5) * scale
        })
        .collect();
    stream.clone_htod(&host).unwrap()
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let json_path = args
        .iter()
        .position(|a| a == "--json")
        .and_then(|i| args.get(i + 1).cloned());
    let quick = args.iter().any(|a| a == "--quick");
    let ctx = match open(0) {
        Ok(ctx) => ctx,
        Err(e) => {
            eprintln!("bench: {e}");
            std::process::exit(2);
        }
    };
    let stream = ctx.default_stream();
    let device = ctx.name().unwrap_or_default();
    let scale = if quick { 100 } else { 1 };
    let layouts: Vec<(usize, usize)> = vec![
        (1, 100_000_000 / scale),
        (1000, 100_000 / scale),
        (100, 10_000),
    ];

    // Device-to-device copy of 1e8 f32: read + write bytes over time.
    let n = 100_000_000 / scale;
    let src = fill(&stream, n, 1, 1.0);
    let mut dst = stream.alloc_zeros::<f32>(n).unwrap();
    let copy_ms = time(&stream, || stream.memcpy_dtod(&src, &mut dst).unwrap());
    let copy_gbps = 2.0 * 4.0 * n as f64 / (copy_ms * 1e-3) / 1e9;
    drop((src, dst));
    println!("device: {device}");
    println!(
        "device-to-device copy: {n} f32 in {:.1} us = {copy_gbps:.0} GB/s (read + write)",
        copy_ms * 1e3
    );
    println!(
        "{:<14} {:>6} {:>10} {:>9} {:>11} {:>9} {:>8} {:>7}",
        "rule", "tensors", "numel", "policy", "median_us", "ns/param", "GB/s", "of copy"
    );

    let mut rows = Vec::new();
    for &(count, size) in &layouts {
        let numel = count * size;
        let mut params: Vec<CudaSlice<f32>> = (0..count)
            .map(|i| fill(&stream, size, i as u32, 2.0))
            .collect();
        let grads: Vec<CudaSlice<f32>> = (0..count)
            .map(|i| fill(&stream, size, 7919 + i as u32, 0.2))
            .collect();
        for &(name, spec) in RULES {
            let rule = build(spec).unwrap();
            let bytes = rule.bytes_per_param(4) as f64;
            let policies: &[NonFinite] = if name == "adam" {
                &[NonFinite::Propagate, NonFinite::Zero, NonFinite::Skip]
            } else {
                &[NonFinite::Propagate]
            };
            for &policy in policies {
                let mut opt = CudaOptimizer::<f32>::new(
                    &stream,
                    rule.clone(),
                    vec![ParamGroup::new(vec![size; count])],
                )
                .unwrap();
                opt.set_non_finite(policy);
                let ms = time(&stream, || {
                    opt.step_tensors(&mut params, &grads).unwrap();
                });
                let ns_per_param = ms * 1e6 / numel as f64;
                let gbps = bytes * numel as f64 / (ms * 1e-3) / 1e9;
                println!(
                    "{name:<14} {count:>6} {numel:>10} {:>9} {:>11.1} {ns_per_param:>9.4} {gbps:>8.0} {:>6.0}%",
                    policy.name(),
                    ms * 1e3,
                    100.0 * gbps / copy_gbps
                );
                rows.push(format!(
                    "{{\"rule\":\"{name}\",\"spec\":\"{spec}\",\"tensors\":{count},\"size\":{size},\"numel\":{numel},\"policy\":\"{}\",\"dtype\":\"f32\",\"median_us\":{:.3},\"ns_per_param\":{ns_per_param:.6},\"bytes_per_param\":{bytes},\"gbps\":{gbps:.2}}}",
                    policy.name(),
                    ms * 1e3
                ));
            }
        }
    }
    // bf16 parameters and gradients with f32 state (AdamW): 2·3 + 4·2·2 = 22 B/param.
    for &(count, size) in &layouts {
        let numel = count * size;
        let to_bf16 = |v: CudaSlice<f32>| {
            let host: Vec<half::bf16> = stream
                .clone_dtoh(&v)
                .unwrap()
                .into_iter()
                .map(half::bf16::from_f32)
                .collect();
            stream.clone_htod(&host).unwrap()
        };
        let mut params: Vec<CudaSlice<half::bf16>> = (0..count)
            .map(|i| to_bf16(fill(&stream, size, i as u32, 2.0)))
            .collect();
        let grads: Vec<CudaSlice<half::bf16>> = (0..count)
            .map(|i| to_bf16(fill(&stream, size, 7919 + i as u32, 0.2)))
            .collect();
        let (name, spec) = ("adamw", "adamw:lr=0.001");
        let mut opt = CudaOptimizer::<f32>::new(
            &stream,
            build(spec).unwrap(),
            vec![ParamGroup::new(vec![size; count])],
        )
        .unwrap();
        opt.set_non_finite(NonFinite::Propagate);
        let ms = time(&stream, || {
            opt.step_tensors_as::<half::bf16, _, _>(&mut params, &grads)
                .unwrap();
        });
        let bytes = 22.0;
        let ns_per_param = ms * 1e6 / numel as f64;
        let gbps = bytes * numel as f64 / (ms * 1e-3) / 1e9;
        println!(
            "{:<14} {count:>6} {numel:>10} {:>9} {:>11.1} {ns_per_param:>9.4} {gbps:>8.0} {:>6.0}%",
            "adamw_bf16",
            "propagate",
            ms * 1e3,
            100.0 * gbps / copy_gbps
        );
        rows.push(format!(
            "{{\"rule\":\"{name}\",\"spec\":\"{spec}\",\"tensors\":{count},\"size\":{size},\"numel\":{numel},\"policy\":\"propagate\",\"dtype\":\"bf16/f32\",\"median_us\":{:.3},\"ns_per_param\":{ns_per_param:.6},\"bytes_per_param\":{bytes},\"gbps\":{gbps:.2}}}",
            ms * 1e3
        ));
    }
    if let Some(path) = json_path {
        let json = format!(
            "{{\"device\":\"{device}\",\"copy_gbps\":{copy_gbps:.2},\"warmup\":{WARMUP},\"runs\":{RUNS},\"rows\":[\n{}\n]}}\n",
            rows.join(",\n")
        );
        std::fs::write(&path, json).unwrap();
        println!("wrote {path}");
    }
}
