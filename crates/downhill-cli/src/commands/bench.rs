//! `downhill bench`: time optimizer steps on large parameter buffers.

use crate::error::CliError;
use crate::output::{number, write_table, Format};
use clap::{Args, ValueEnum};
use downhill::optim::{self, Optimizer, ParamGroup, RuleSet};
use downhill::Scalar;
use std::io::Write;
use std::time::Instant;

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Dtype {
    F32,
    F64,
}

#[derive(Args)]
pub struct BenchArgs {
    /// Optimizer spec NAME[:key=value,…] (see `downhill list optimizers`).
    #[arg(long, short = 'o')]
    optimizer: String,
    /// Total number of parameters.
    #[arg(long, default_value_t = 10_000_000, value_parser = crate::args::number::whole::<0>)]
    params: usize,
    /// Number of separately stored tensors the parameters are split into.
    #[arg(long, default_value_t = 1, value_parser = crate::args::number::whole::<0>)]
    tensors: usize,
    /// Hold each tensor as a matrix of this many columns (its size must be a
    /// multiple): what rules for matrices (muon, adafactor's factoring) time.
    #[arg(long, value_parser = crate::args::number::whole::<1>)]
    cols: Option<usize>,
    /// Worker threads (default: all cores).
    #[arg(long, value_parser = crate::args::number::whole::<0>)]
    threads: Option<usize>,
    /// Element type.
    #[arg(long, value_enum, default_value_t = Dtype::F32)]
    dtype: Dtype,
    /// Timed steps (the median is reported; at least 20).
    #[arg(long, default_value_t = 21, value_parser = crate::args::number::whole::<0>)]
    samples: usize,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    format: Format,
    /// The optimizer's non-finite gradient policy: `propagate` times the step
    /// without the finiteness scan the other policies make (error, skip, zero, propagate).
    #[arg(long, value_name = "POLICY", default_value = "error")]
    on_non_finite: optim::NonFinite,
}

/// The measurement, as printed.
#[derive(serde::Serialize)]
struct Report {
    optimizer: String,
    dtype: &'static str,
    params: usize,
    tensors: usize,
    threads: usize,
    on_non_finite: &'static str,
    samples: usize,
    median_ns: f64,
    min_ns: f64,
    ns_per_param: f64,
    params_per_second: f64,
    bytes_per_param: usize,
    gb_per_second: f64,
}

pub fn run(args: BenchArgs) -> Result<(), CliError> {
    let rule = optim::build(&args.optimizer)?;
    if args.params == 0 || args.tensors == 0 || args.tensors > args.params {
        return Err(CliError::new(format!(
            "--params and --tensors must be positive with tensors <= params, got params={} tensors={}",
            args.params, args.tensors
        )));
    }
    if let Some(cols) = args.cols {
        if tensor_sizes(&args).iter().any(|n| n % cols != 0) {
            return Err(CliError::new(format!(
                "--cols {cols} must divide every tensor's size (params / tensors = {}), got a remainder",
                args.params / args.tensors
            )));
        }
    }
    if args.samples < 20 {
        return Err(CliError::new(format!(
            "--samples must be at least 20, got {}",
            args.samples
        )));
    }
    let threads = args
        .threads
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
    if threads == 0 {
        return Err(CliError::new("--threads must be at least 1, got 0"));
    }
    let elem = if args.dtype == Dtype::F32 { 4 } else { 8 };
    // A rule's own state (L-BFGS's history), held twice: the timed copy and a fresh one.
    let extra = 2 * rule.extra_len(&[vec![args.params]]).div_ceil(args.params);
    check_memory(args.params, (5 + rule.buffers().len() + extra) * elem)?;
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()?;
    let times = pool.install(|| match args.dtype {
        Dtype::F32 => time_steps::<f32>(rule.clone(), &args),
        Dtype::F64 => time_steps::<f64>(rule.clone(), &args),
    })?;
    let mut sorted = times.clone();
    sorted.sort_by(f64::total_cmp);
    let median_ns = sorted[sorted.len() / 2];
    let bytes_per_param = rule.bytes_per_param(elem);
    let report = Report {
        optimizer: args.optimizer.clone(),
        dtype: if elem == 4 { "f32" } else { "f64" },
        params: args.params,
        tensors: args.tensors,
        threads,
        on_non_finite: args.on_non_finite.name(),
        samples: args.samples,
        median_ns,
        min_ns: sorted[0],
        ns_per_param: median_ns / args.params as f64,
        params_per_second: args.params as f64 / (median_ns * 1e-9),
        bytes_per_param,
        gb_per_second: (bytes_per_param * args.params) as f64 / median_ns,
    };
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    match args.format {
        Format::Json => writeln!(out, "{}", serde_json::to_string(&report)?)?,
        Format::Csv | Format::Table => {
            let row = vec![
                report.optimizer.clone(),
                report.dtype.to_string(),
                report.params.to_string(),
                report.tensors.to_string(),
                report.threads.to_string(),
                format!("{:.3}", report.ns_per_param),
                format!("{:.3e}", report.params_per_second),
                format!("{:.2}", report.gb_per_second),
                number(report.median_ns / 1e6),
            ];
            let header = [
                "optimizer",
                "dtype",
                "params",
                "tensors",
                "threads",
                "ns/param",
                "params/s",
                "GB/s",
                "median ms",
            ];
            if args.format == Format::Csv {
                let mut writer = csv::Writer::from_writer(&mut out);
                writer.write_record(header)?;
                writer.write_record(&row)?;
                writer.flush()?;
            } else {
                write_table(&mut out, &header, &[row])?;
            }
        }
    }
    Ok(())
}

/// Refuses a size whose buffers (parameters, gradients and their flat copies:
/// five, plus the optimizer's state; `per_param` bytes in all) cannot be
/// allocated, instead of aborting on the allocation later.
fn check_memory(params: usize, per_param: usize) -> Result<(), CliError> {
    let fits = params
        .checked_mul(per_param)
        .is_some_and(|bytes| Vec::<u8>::new().try_reserve_exact(bytes).is_ok());
    if fits {
        Ok(())
    } else {
        Err(CliError::new(format!(
            "--params {params} needs about {:.3e} bytes of memory ({per_param} per parameter), more than can be allocated here",
            params as f64 * per_param as f64
        )))
    }
}

/// Step times of a rule that evaluates the objective itself (`lbfgs`): each
/// sample is the first step of a fresh run (the optimizer and parameters
/// copied before the clock starts) on f(θ) = ½·Σ aᵢθᵢ², aᵢ = 1 + (i mod 100)/10,
/// from θ = 0.5, whose gradient aᵢθᵢ it writes in one pass (the loss in
/// f64, as PyTorch's blocked `dot` keeps it accurate); so every sample
/// does the same work (`scripts/bench_compare.py` times PyTorch the same way).
fn time_driven<T: Scalar>(fresh: Optimizer<T>, args: &BenchArgs) -> Result<Vec<f64>, CliError> {
    let scale: Vec<T> = (0..args.params)
        .map(|i| T::of(1.0 + (i % 100) as f64 / 10.0))
        .collect();
    // The loss summed in f64: a long sum in f32 would round away the
    // changes that L-BFGS's tolerance on the loss looks at.
    let objective = |p: &[T], g: &mut [T]| {
        let mut f = 0.0;
        for ((g, &p), &a) in g.iter_mut().zip(p).zip(&scale) {
            *g = a * p;
            f += (*g * p).widen();
        }
        T::of(0.5 * f)
    };
    let start = vec![T::of(0.5); args.params];
    let mut grads = vec![T::zero(); args.params];
    let mut times = Vec::with_capacity(args.samples);
    for sample in 0..args.samples + 1 {
        let (mut optimizer, mut params) = (fresh.clone(), start.clone());
        let clock = Instant::now();
        optimizer.step_with(&mut params, &mut grads, objective)?;
        // The first step warms up.
        if sample > 0 {
            times.push(clock.elapsed().as_nanos() as f64);
        }
    }
    Ok(times)
}

/// The tensors' sizes: `params` split into `tensors` nearly equal parts.
fn tensor_sizes(args: &BenchArgs) -> Vec<usize> {
    let base = args.params / args.tensors;
    (0..args.tensors)
        .map(|i| base + usize::from(i < args.params % args.tensors))
        .collect()
}

/// Step times in nanoseconds after a warm-up, one per sample.
fn time_steps<T: Scalar>(rule: optim::AnyRule, args: &BenchArgs) -> Result<Vec<f64>, CliError> {
    let sizes = tensor_sizes(args);
    let group = match args.cols {
        Some(cols) => ParamGroup::shaped(sizes.iter().map(|&n| vec![n / cols, cols]).collect()),
        None => ParamGroup::new(sizes.clone()),
    };
    let mut optimizer = Optimizer::<T>::with_groups(rule, vec![group])?;
    optimizer.set_non_finite(args.on_non_finite);
    if optimizer.rule(0).drives_objective() {
        return time_driven(optimizer, args);
    }
    let mut params: Vec<Vec<T>> = sizes
        .iter()
        .map(|&n| (0..n).map(|i| T::of(0.5 + (i % 7) as f64 * 0.1)).collect())
        .collect();
    let grads: Vec<Vec<T>> = sizes
        .iter()
        .map(|&n| {
            (0..n)
                .map(|i| T::of(1e-3 * (1.0 + (i % 5) as f64)))
                .collect()
        })
        .collect();
    // Look-ahead rules need an objective; theirs writes the same gradient each time.
    let lookahead = optimizer.rule(0).needs_lookahead();
    let mut flat_params = if lookahead {
        params.concat()
    } else {
        Vec::new()
    };
    let flat_grads = grads.concat();
    let mut grad_buffer = flat_grads.clone();
    let mut one_step = |optimizer: &mut Optimizer<T>| -> Result<(), CliError> {
        if lookahead {
            optimizer.step_with(&mut flat_params, &mut grad_buffer, |_, g| {
                g.copy_from_slice(&flat_grads);
                T::zero()
            })?;
        } else {
            let mut views: Vec<&mut [T]> = params.iter_mut().map(Vec::as_mut_slice).collect();
            let grad_views: Vec<&[T]> = grads.iter().map(Vec::as_slice).collect();
            optimizer.step_tensors(&mut views, &grad_views)?;
        }
        Ok(())
    };
    for _ in 0..3 {
        one_step(&mut optimizer)?;
    }
    let mut times = Vec::with_capacity(args.samples);
    for _ in 0..args.samples {
        let start = Instant::now();
        one_step(&mut optimizer)?;
        times.push(start.elapsed().as_nanos() as f64);
    }
    Ok(times)
}
