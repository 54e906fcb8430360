//! The CUDA kernels against the CPU optimizer, bit for bit: every rule ×
//! f32/f64 × flag combinations × layouts (one tensor; several tensors in two
//! groups, straddling chunk edges), state moved CPU → GPU → CPU, and the
//! non-finite policies. Without a CUDA driver and device every test prints
//! why it is skipped and passes.

use cudarc::driver::{CudaSlice, CudaStream};
use downhill_cuda::{open, CudaError, CudaOptimizer, CudaScalar};
use downhill_optim::hyper::Value;
use downhill_optim::{build, NonFinite, Optimizer, Outcome, ParamGroup, StepError};
use std::sync::Arc;

mod common;
use common::{bits, tensors, SPECS};

fn stream(test: &str) -> Option<Arc<CudaStream>> {
    match open(0) {
        Ok(ctx) => Some(ctx.default_stream()),
        Err(e) => {
            eprintln!("{test}: skipped, {e}");
            None
        }
    }
}

/// Layouts: groups of tensor sizes (4096 is the chunk size; a tensor whose
/// parameters, gradients and state are 16-byte aligned takes the vector path).
fn layouts() -> Vec<Vec<Vec<usize>>> {
    vec![
        vec![vec![10_007]],
        vec![vec![1, 4095, 4096, 4097], vec![3, 9000, 0, 17]],
        // Aligned tensors (the 16-byte vector path), with tails and a misaligned one.
        vec![vec![4096, 8, 10_001, 3], vec![4100]],
    ]
}

fn cpu_optimizer<T: CudaScalar>(spec: &str, groups: &[Vec<usize>]) -> Optimizer<T> {
    let rule = build(spec).unwrap();
    let lr = downhill_optim::RuleSet::lr(&rule);
    let groups = groups
        .iter()
        .enumerate()
        .map(|(i, sizes)| {
            let g = ParamGroup::new(sizes.clone());
            if i == 1 {
                g.with("lr", Value::Float(lr * 0.5))
            } else {
                g
            }
        })
        .collect();
    Optimizer::<T>::with_groups(rule, groups).unwrap()
}

fn upload<T: CudaScalar>(stream: &Arc<CudaStream>, host: &[Vec<T>]) -> Vec<CudaSlice<T>> {
    host.iter()
        .map(|t| {
            if t.is_empty() {
                stream.null::<T>().unwrap()
            } else {
                stream.clone_htod(t).unwrap()
            }
        })
        .collect()
}

fn download<T: CudaScalar>(stream: &Arc<CudaStream>, dev: &[CudaSlice<T>]) -> Vec<Vec<T>> {
    let out = dev
        .iter()
        .map(|t| {
            if t.is_empty() {
                Vec::new()
            } else {
                stream.clone_dtoh(t).unwrap()
            }
        })
        .collect();
    stream.synchronize().unwrap();
    out
}

/// `steps` steps on the CPU and on the GPU (after `cpu_first` CPU-only steps
/// moved over with `from_cpu`), comparing parameters every step and the whole
/// state at the end.
fn compare<T: CudaScalar>(
    stream: &Arc<CudaStream>,
    spec: &str,
    groups: &[Vec<usize>],
    cpu_first: usize,
) {
    let sizes: Vec<usize> = groups.iter().flatten().copied().collect();
    let mut cpu = cpu_optimizer::<T>(spec, groups);
    cpu.set_non_finite(NonFinite::Propagate);
    let mut params = tensors::<T>(&sizes, 1);
    let step_cpu = |cpu: &mut Optimizer<T>, params: &mut Vec<Vec<T>>, grads: &[Vec<T>]| {
        let mut p: Vec<&mut [T]> = params.iter_mut().map(|v| v.as_mut_slice()).collect();
        let g: Vec<&[T]> = grads.iter().map(|v| v.as_slice()).collect();
        cpu.step_tensors(&mut p, &g).unwrap()
    };
    for s in 0..cpu_first {
        let grads = tensors::<T>(&sizes, 100 + s as u64);
        step_cpu(&mut cpu, &mut params, &grads);
    }
    let mut gpu = CudaOptimizer::from_cpu(stream, &cpu).unwrap();
    let mut dev = upload(stream, &params);
    for s in cpu_first..8 {
        let grads = tensors::<T>(&sizes, 100 + s as u64);
        step_cpu(&mut cpu, &mut params, &grads);
        let dev_grads = upload(stream, &grads);
        assert_eq!(
            gpu.step_tensors(&mut dev, &dev_grads).unwrap(),
            Outcome::Applied
        );
        let back = download(stream, &dev);
        for (t, (a, b)) in params.iter().zip(&back).enumerate() {
            assert_eq!(
                bits(a),
                bits(b),
                "{spec} ({}) step {} tensor {t}",
                T::DTYPE,
                s + 1
            );
        }
    }
    let state = gpu.to_cpu().unwrap();
    assert_eq!(
        state.save().unwrap(),
        cpu.save().unwrap(),
        "{spec} ({}) state",
        T::DTYPE
    );
    for g in 0..cpu.group_count() {
        assert_eq!(gpu.steps_taken(g), cpu.steps_taken(g));
    }
}

#[test]
fn every_rule_matches_the_cpu_bit_for_bit() {
    let Some(stream) = stream("every_rule_matches_the_cpu_bit_for_bit") else {
        return;
    };
    let mut cases = 0;
    for (i, spec) in SPECS.iter().enumerate() {
        for groups in layouts() {
            compare::<f32>(&stream, spec, &groups, i % 3);
            compare::<f64>(&stream, spec, &groups, (i + 1) % 3);
            cases += 2;
        }
    }
    eprintln!("{cases} cases bit-identical");
}

#[test]
fn the_flat_step_matches_the_cpu() {
    let Some(stream) = stream("the_flat_step_matches_the_cpu") else {
        return;
    };
    for spec in [
        "adamw:amsgrad=true",
        "rmsprop:centered=true,momentum=0.9",
        "sgd:momentum=0.9,nesterov=true",
    ] {
        let groups = vec![vec![5000, 3000], vec![7000]];
        let mut cpu = cpu_optimizer::<f32>(spec, &groups);
        let mut gpu = CudaOptimizer::from_cpu(&stream, &cpu).unwrap();
        let mut params: Vec<f32> = tensors::<f32>(&[15000], 3).remove(0);
        let mut dev = stream.clone_htod(&params).unwrap();
        for s in 0..5 {
            let grads = tensors::<f32>(&[15000], 50 + s).remove(0);
            cpu.step(&mut params, &grads).unwrap();
            gpu.step(&mut dev, &stream.clone_htod(&grads).unwrap())
                .unwrap();
        }
        let back = stream.clone_dtoh(&dev).unwrap();
        stream.synchronize().unwrap();
        assert_eq!(bits(&params), bits(&back), "{spec}");
        assert_eq!(gpu.to_cpu().unwrap(), cpu, "{spec}");
    }
}

fn with_bad<T: CudaScalar>(sizes: &[usize], seed: u64) -> Vec<Vec<T>> {
    let mut g = tensors::<T>(sizes, seed);
    g[1][7] = T::of(f64::NAN);
    g[1][4000] = T::of(f64::INFINITY);
    g[3][4096] = T::of(f64::NEG_INFINITY);
    g
}

#[test]
fn non_finite_policies_match_the_cpu() {
    let Some(stream) = stream("non_finite_policies_match_the_cpu") else {
        return;
    };
    let groups = vec![vec![100, 5000], vec![300, 8193]];
    let sizes: Vec<usize> = groups.iter().flatten().copied().collect();
    for spec in ["adam:weight_decay=0.1", "sgd:momentum=0.9", "rprop"] {
        for policy in [NonFinite::Zero, NonFinite::Skip, NonFinite::Error] {
            let mut cpu = cpu_optimizer::<f64>(spec, &groups);
            cpu.set_non_finite(policy);
            let mut gpu = CudaOptimizer::from_cpu(&stream, &cpu).unwrap();
            assert_eq!(gpu.non_finite(), policy);
            let mut params = tensors::<f64>(&sizes, 9);
            let mut dev = upload(&stream, &params);
            for s in 0..4u64 {
                let grads = if !s.is_multiple_of(2) {
                    with_bad::<f64>(&sizes, s)
                } else {
                    tensors::<f64>(&sizes, s)
                };
                let mut p: Vec<&mut [f64]> = params.iter_mut().map(|v| v.as_mut_slice()).collect();
                let g: Vec<&[f64]> = grads.iter().map(|v| v.as_slice()).collect();
                let want = cpu.step_tensors(&mut p, &g);
                let got = gpu.step_tensors(&mut dev, &upload(&stream, &grads));
                match (want, got) {
                    (Ok(Outcome::Zeroed { count }), Ok(Outcome::Applied)) => {
                        assert_eq!(gpu.take_zeroed().unwrap(), count as u64, "{spec}");
                    }
                    (Ok(Outcome::Applied), Ok(Outcome::Applied)) => {
                        assert_eq!(gpu.take_zeroed().unwrap(), 0, "{spec}");
                    }
                    (
                        Ok(Outcome::Skipped { index: i, value: v }),
                        Ok(Outcome::Skipped { index: j, value: w }),
                    ) => {
                        assert_eq!((i, v.is_nan()), (j, w.is_nan()), "{spec}");
                        assert_eq!(i, 100 + 7);
                    }
                    (
                        Err(StepError::NonFiniteGradient { index: i, value: v }),
                        Err(CudaError::Step(StepError::NonFiniteGradient { index: j, value: w })),
                    ) => {
                        assert_eq!((i, v.is_nan()), (j, w.is_nan()), "{spec}");
                        assert_eq!(i, 100 + 7);
                    }
                    (w, g) => panic!("{spec} {policy:?}: cpu {w:?}, gpu {g:?}"),
                }
                let back = download(&stream, &dev);
                for (a, b) in params.iter().zip(&back) {
                    assert_eq!(bits(a), bits(b), "{spec} {policy:?} step {s}");
                }
            }
            assert_eq!(gpu.to_cpu().unwrap(), cpu, "{spec} {policy:?}");
        }
    }
}

#[test]
fn propagate_lets_non_finite_values_through_as_the_cpu_does() {
    let Some(stream) = stream("propagate_lets_non_finite_values_through_as_the_cpu_does") else {
        return;
    };
    let groups = vec![vec![100, 5000], vec![300, 8193]];
    let sizes: Vec<usize> = groups.iter().flatten().copied().collect();
    let mut cpu = cpu_optimizer::<f32>("adam", &groups);
    cpu.set_non_finite(NonFinite::Propagate);
    let mut gpu = CudaOptimizer::from_cpu(&stream, &cpu).unwrap();
    let mut params = tensors::<f32>(&sizes, 9);
    let mut dev = upload(&stream, &params);
    let grads = with_bad::<f32>(&sizes, 1);
    let mut p: Vec<&mut [f32]> = params.iter_mut().map(|v| v.as_mut_slice()).collect();
    let g: Vec<&[f32]> = grads.iter().map(|v| v.as_slice()).collect();
    cpu.step_tensors(&mut p, &g).unwrap();
    gpu.step_tensors(&mut dev, &upload(&stream, &grads))
        .unwrap();
    let back = download(&stream, &dev);
    for (a, b) in params.iter().zip(&back) {
        for (x, y) in a.iter().zip(b) {
            // NaN payloads may differ between processors; everything else is exact.
            assert!(
                x.to_bits() == y.to_bits() || (x.is_nan() && y.is_nan()),
                "{x} vs {y}"
            );
        }
    }
}

#[test]
fn learning_rate_and_errors() {
    let Some(stream) = stream("learning_rate_and_errors") else {
        return;
    };
    let cpu = Optimizer::<f32>::new(build("adam:lr=0.1").unwrap(), 10).unwrap();
    let mut gpu = CudaOptimizer::from_cpu(&stream, &cpu).unwrap();
    assert_eq!(gpu.lr(0), 0.1);
    gpu.set_lr(0, 0.5).unwrap();
    assert_eq!(gpu.lr(0), 0.5);
    assert!(gpu.set_lr(0, -1.0).is_err());
    assert!(gpu.set_lr(0, f64::NAN).is_err());
    assert_eq!(gpu.lr(0), 0.5);
    let mut p = stream.clone_htod(&[0.0f32; 9]).unwrap();
    let g = stream.clone_htod(&[0.0f32; 10]).unwrap();
    assert!(matches!(
        gpu.step(&mut p, &g),
        Err(CudaError::Step(StepError::Length { .. }))
    ));
    let nag = Optimizer::<f32>::new(build("nag").unwrap(), 10).unwrap();
    assert!(matches!(
        CudaOptimizer::from_cpu(&stream, &nag),
        Err(CudaError::Unsupported("nag"))
    ));
    let lbfgs = Optimizer::<f32>::new(build("lbfgs").unwrap(), 10).unwrap();
    assert!(matches!(
        CudaOptimizer::from_cpu(&stream, &lbfgs),
        Err(CudaError::Unsupported("lbfgs"))
    ));
}

#[test]
fn a_fresh_device_optimizer_matches_a_fresh_cpu_one() {
    let Some(stream) = stream("a_fresh_device_optimizer_matches_a_fresh_cpu_one") else {
        return;
    };
    for spec in [
        "rprop:lr=0.05",
        "adagrad:initial_accumulator_value=0.3",
        "nadam",
        "asgd:t0=1",
    ] {
        let groups = vec![
            ParamGroup::new(vec![5000, 10]),
            ParamGroup::new(vec![4097]).with("lr", Value::Float(0.02)),
        ];
        let mut cpu = Optimizer::<f32>::with_groups(build(spec).unwrap(), groups.clone()).unwrap();
        cpu.set_non_finite(NonFinite::Propagate);
        let mut gpu = CudaOptimizer::<f32>::new(&stream, build(spec).unwrap(), groups).unwrap();
        gpu.set_non_finite(NonFinite::Propagate);
        let sizes = [5000, 10, 4097];
        let mut params = tensors::<f32>(&sizes, 5);
        let mut dev = upload(&stream, &params);
        for s in 0..4 {
            let grads = tensors::<f32>(&sizes, 70 + s);
            let mut p: Vec<&mut [f32]> = params.iter_mut().map(|v| v.as_mut_slice()).collect();
            let g: Vec<&[f32]> = grads.iter().map(|v| v.as_slice()).collect();
            cpu.step_tensors(&mut p, &g).unwrap();
            gpu.step_tensors(&mut dev, &upload(&stream, &grads))
                .unwrap();
        }
        let back = download(&stream, &dev);
        for (a, b) in params.iter().zip(&back) {
            assert_eq!(bits(a), bits(b), "{spec}");
        }
        assert_eq!(gpu.to_cpu().unwrap(), cpu, "{spec}");
    }
}

/// Half-precision parameters and gradients stored as `P`, an f32 optimizer:
/// each step equals the CPU's f32 step on the widened values, rounded to `P`.
fn compare_half<P>(stream: &Arc<CudaStream>, spec: &str, policy: NonFinite)
where
    P: downhill_cuda::ParamElem + cudarc::driver::ValidAsZeroBits + PartialEq + std::fmt::Debug,
    P: HalfLike,
{
    let groups = vec![vec![1, 4095, 4097], vec![9000, 0, 17]];
    let sizes: Vec<usize> = groups.iter().flatten().copied().collect();
    let mut cpu = cpu_optimizer::<f32>(spec, &groups);
    cpu.set_non_finite(policy);
    let mut gpu = CudaOptimizer::<f32>::from_cpu(stream, &cpu).unwrap();
    let mut params: Vec<Vec<P>> = tensors::<f32>(&sizes, 4)
        .into_iter()
        .map(|t| t.into_iter().map(P::round).collect())
        .collect();
    let upload_p = |host: &[Vec<P>]| -> Vec<CudaSlice<P>> {
        host.iter()
            .map(|t| {
                if t.is_empty() {
                    stream.null::<P>().unwrap()
                } else {
                    stream.clone_htod(t).unwrap()
                }
            })
            .collect()
    };
    let mut dev = upload_p(&params);
    for s in 0..6u64 {
        let mut grads: Vec<Vec<P>> = tensors::<f32>(&sizes, 30 + s)
            .into_iter()
            .map(|t| t.into_iter().map(P::round).collect())
            .collect();
        if policy == NonFinite::Zero && s == 2 {
            grads[2][5] = P::round(f32::INFINITY);
            grads[3][100] = P::round(f32::NAN);
        }
        let mut wide: Vec<Vec<f32>> = params
            .iter()
            .map(|t| t.iter().map(|x| x.widen32()).collect())
            .collect();
        let g32: Vec<Vec<f32>> = grads
            .iter()
            .map(|t| t.iter().map(|x| x.widen32()).collect())
            .collect();
        let mut p: Vec<&mut [f32]> = wide.iter_mut().map(|v| v.as_mut_slice()).collect();
        let g: Vec<&[f32]> = g32.iter().map(|v| v.as_slice()).collect();
        cpu.step_tensors(&mut p, &g).unwrap();
        params = wide
            .into_iter()
            .map(|t| t.into_iter().map(P::round).collect())
            .collect();
        gpu.step_tensors_as::<P, _, _>(&mut dev, &upload_p(&grads))
            .unwrap();
        let back: Vec<Vec<P>> = dev
            .iter()
            .map(|t| {
                if t.is_empty() {
                    Vec::new()
                } else {
                    stream.clone_dtoh(t).unwrap()
                }
            })
            .collect();
        stream.synchronize().unwrap();
        assert_eq!(
            back,
            params,
            "{spec} {} step {}",
            std::any::type_name::<P>(),
            s + 1
        );
    }
    if policy == NonFinite::Zero {
        assert_eq!(gpu.take_zeroed().unwrap(), 2);
    }
    assert_eq!(
        gpu.to_cpu().unwrap(),
        cpu,
        "{spec} {}",
        std::any::type_name::<P>()
    );
}

trait HalfLike: Copy {
    fn round(x: f32) -> Self;
    fn widen32(self) -> f32;
}

impl HalfLike for half::f16 {
    fn round(x: f32) -> Self {
        half::f16::from_f32(x)
    }
    fn widen32(self) -> f32 {
        self.to_f32()
    }
}

impl HalfLike for half::bf16 {
    fn round(x: f32) -> Self {
        half::bf16::from_f32(x)
    }
    fn widen32(self) -> f32 {
        self.to_f32()
    }
}

#[test]
fn half_parameters_with_f32_state_match_the_cpu_in_f32() {
    let Some(stream) = stream("half_parameters_with_f32_state_match_the_cpu_in_f32") else {
        return;
    };
    for spec in SPECS {
        compare_half::<half::f16>(&stream, spec, NonFinite::Propagate);
        compare_half::<half::bf16>(&stream, spec, NonFinite::Propagate);
    }
    for spec in ["adamw", "sgd:momentum=0.9"] {
        compare_half::<half::f16>(&stream, spec, NonFinite::Zero);
        compare_half::<half::bf16>(&stream, spec, NonFinite::Zero);
    }
    // An f64 optimizer does not step half parameters.
    let cpu = Optimizer::<f64>::new(build("adam").unwrap(), 4).unwrap();
    let mut gpu = CudaOptimizer::from_cpu(&stream, &cpu).unwrap();
    let mut p = stream.clone_htod(&[half::f16::ZERO; 4]).unwrap();
    let g = stream.clone_htod(&[half::f16::ZERO; 4]).unwrap();
    assert!(matches!(
        gpu.step_as::<half::f16, _, _>(&mut p, &g),
        Err(CudaError::ParamType { .. })
    ));
}

/// The example of docs/cuda.md (a doc test that returns early without a device).
#[test]
fn the_book_example_runs() {
    let Some(stream) = stream("the_book_example_runs") else {
        return;
    };
    let groups = vec![ParamGroup::new(vec![1000, 24]), ParamGroup::new(vec![4096])];
    let mut opt =
        CudaOptimizer::<f32>::new(&stream, build("adamw:lr=1e-3").unwrap(), groups).unwrap();
    opt.set_non_finite(NonFinite::Skip);
    let mut params: Vec<_> = [1000, 24, 4096]
        .iter()
        .map(|&n| stream.clone_htod(&vec![0.5f32; n]).unwrap())
        .collect();
    let grads: Vec<_> = [1000, 24, 4096]
        .iter()
        .map(|&n| stream.clone_htod(&vec![0.1f32; n]).unwrap())
        .collect();
    assert_eq!(
        opt.step_tensors(&mut params, &grads).unwrap(),
        Outcome::Applied
    );
    opt.set_lr(0, 5e-4).unwrap();
    assert_eq!(opt.lr(0), 5e-4);
    let cpu: Optimizer<f32> = opt.to_cpu().unwrap();
    assert_eq!(cpu.steps_taken(0), 1);
    let again = CudaOptimizer::from_cpu(&stream, &cpu).unwrap();
    assert_eq!(again.to_cpu().unwrap(), cpu);
}
