//! candle-nn's AdamW against downhill's adamw through this adapter: test
//! accuracy of the same MLP on the digits (same initialisation), and the
//! median time of one optimizer step on one variable of 1e6 and 1e7
//! parameters (same gradients, same run).
//!
//! `cargo run --release -p downhill-candle --example vs_candle_adamw [SIZES…]`

use candle_core::{DType, Device, Module, Result, Tensor, Var, D};
use candle_nn::{linear, loss, AdamW, Optimizer, ParamsAdamW, VarBuilder, VarMap};
use downhill::data::{bundled, split};
use std::time::Instant;

const LR: f64 = 0.01;
const WEIGHT_DECAY: f64 = 0.01;

fn msg(e: impl std::fmt::Display) -> candle_core::Error {
    candle_core::Error::Msg(e.to_string())
}

fn candle_adamw(vars: Vec<Var>) -> Result<AdamW> {
    let params = ParamsAdamW {
        lr: LR,
        weight_decay: WEIGHT_DECAY,
        ..Default::default()
    };
    AdamW::new(vars, params)
}

fn downhill_adamw(vars: Vec<Var>) -> Result<downhill_candle::Optimizer> {
    let rule = downhill_optim::build(&format!("adamw:lr={LR},weight_decay={WEIGHT_DECAY}"))
        .map_err(msg)?;
    downhill_candle::Optimizer::new(vars, rule)
}

/// Test accuracy after 200 full-batch steps from the weights in `init`.
fn accuracy<O: Optimizer>(init: &VarMap, make: impl FnOnce(Vec<Var>) -> Result<O>) -> Result<f32> {
    let data = bundled("digits").expect("bundled").map_err(msg)?;
    let (train, test) = split(&data, 0.2, true, 0);
    let tensors = |d: &downhill::data::Dataset| -> Result<(Tensor, Tensor)> {
        let x: Vec<f32> = d.features.iter().map(|&v| (v / 16.0) as f32).collect();
        let y: Vec<u32> = d.targets.iter().map(|&t| t as u32).collect();
        Ok((
            Tensor::from_vec(x, (d.len(), 64), &Device::Cpu)?,
            Tensor::new(y, &Device::Cpu)?,
        ))
    };
    let ((x, y), (tx, ty)) = (tensors(&train)?, tensors(&test)?);
    let varmap = VarMap::new();
    let vb = VarBuilder::from_varmap(&varmap, DType::F32, &Device::Cpu);
    let (fc1, fc2) = (linear(64, 64, vb.pp("fc1"))?, linear(64, 10, vb.pp("fc2"))?);
    for (name, var) in varmap.data().lock().map_err(msg)?.iter() {
        var.set(&init.data().lock().map_err(msg)?[name])?;
    }
    let mut vars: Vec<(String, Var)> = varmap
        .data()
        .lock()
        .map_err(msg)?
        .clone()
        .into_iter()
        .collect();
    vars.sort_by(|a, b| a.0.cmp(&b.0));
    let mut opt = make(vars.into_iter().map(|(_, v)| v).collect())?;
    let forward = |x: &Tensor| fc2.forward(&fc1.forward(x)?.relu()?);
    for _ in 0..200 {
        opt.backward_step(&loss::cross_entropy(&forward(&x)?, &y)?)?;
    }
    forward(&tx)?
        .argmax(D::Minus1)?
        .eq(&ty)?
        .to_dtype(DType::F32)?
        .mean_all()?
        .to_scalar()
}

/// Median seconds of one `step` over one variable of `n` parameters.
fn step_time<O: Optimizer>(n: usize, make: impl FnOnce(Vec<Var>) -> Result<O>) -> Result<f64> {
    let w = Var::from_tensor(&Tensor::randn(0f32, 1.0, n, &Device::Cpu)?)?;
    let c = Tensor::randn(0f32, 1.0, n, &Device::Cpu)?;
    let grads = (w.as_tensor() * c)?.sum_all()?.backward()?;
    let mut opt = make(vec![w])?;
    let mut times: Vec<f64> = (0..11)
        .map(|_| {
            let start = Instant::now();
            opt.step(&grads).map(|()| start.elapsed().as_secs_f64())
        })
        .collect::<Result<_>>()?;
    times.sort_by(f64::total_cmp);
    Ok(times[times.len() / 2])
}

fn main() -> Result<()> {
    let init = VarMap::new();
    let vb = VarBuilder::from_varmap(&init, DType::F32, &Device::Cpu);
    let _ = (linear(64, 64, vb.pp("fc1"))?, linear(64, 10, vb.pp("fc2"))?);
    println!(
        "test accuracy: candle-nn AdamW {:.4}, downhill adamw {:.4}",
        accuracy(&init, candle_adamw)?,
        accuracy(&init, downhill_adamw)?
    );
    let sizes: Vec<usize> = match std::env::args()
        .skip(1)
        .map(|a| a.parse::<f64>().map(|x| x as usize))
        .collect()
    {
        Ok(s) if !Vec::<usize>::is_empty(&s) => s,
        Ok(_) => vec![1_000_000, 10_000_000],
        Err(e) => return Err(msg(format!("sizes must be numbers: {e}"))),
    };
    for n in sizes {
        let (theirs, ours) = (step_time(n, candle_adamw)?, step_time(n, downhill_adamw)?);
        println!(
            "{n} parameters: candle-nn AdamW {:.3} ms/step, downhill adamw {:.3} ms/step, ratio {:.2}",
            theirs * 1e3,
            ours * 1e3,
            theirs / ours
        );
    }
    Ok(())
}
