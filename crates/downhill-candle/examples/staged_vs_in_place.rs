//! The two paths of a step on one f32 variable of 1e6 and 1e7 parameters
//! (adamw, the same gradient): in place (CPU variables) against staged (the
//! path of CUDA and Metal variables, forced here on the CPU). Median of 11
//! steps each.
//!
//! `cargo run --release -p downhill-candle --example staged_vs_in_place [SIZES…]`

use candle_core::{Device, Result, Tensor, Var};
use candle_nn::Optimizer as _;
use downhill_candle::Builder;
use std::time::Instant;

fn msg(e: impl std::fmt::Display) -> candle_core::Error {
    candle_core::Error::Msg(e.to_string())
}

/// Median seconds of one step over one variable of `n` parameters.
fn step_time(n: usize, staged: bool) -> Result<f64> {
    let w = Var::from_tensor(&Tensor::randn(0f32, 1.0, n, &Device::Cpu)?)?;
    let c = Tensor::randn(0f32, 1.0, n, &Device::Cpu)?;
    let grads = (w.as_tensor() * c)?.sum_all()?.backward()?;
    let rule = downhill_optim::build("adamw:lr=0.001,weight_decay=0.01").map_err(msg)?;
    let mut builder = Builder::from_named([("w".to_string(), w)], rule);
    if staged {
        builder = builder.staged();
    }
    let mut opt = builder.build()?;
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
        let (in_place, staged) = (step_time(n, false)?, step_time(n, true)?);
        println!(
            "{n} parameters: in place {:.3} ms/step, staged {:.3} ms/step, staged/in place {:.2}",
            in_place * 1e3,
            staged * 1e3,
            staged / in_place
        );
    }
    Ok(())
}
