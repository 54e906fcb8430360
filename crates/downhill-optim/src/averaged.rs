//! Averaged parameters: `torch.optim.swa_utils.AveragedModel` on CPU, for
//! stochastic weight averaging (SWA, Izmailov et al., UAI 2018) or an
//! exponential moving average of the weights.

use crate::ops::{self, specialize};
use crate::scalar::Scalar;
use crate::StepError;
use serde::{Deserialize, Serialize};

/// How [`Averaged`] averages.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Averaging {
    /// The running mean of every update so far (AveragedModel's default on
    /// CPU, `get_swa_avg_fn`): a ← a + (θ − a)/(n + 1).
    Swa,
    /// An exponential moving average (`get_ema_multi_avg_fn(decay)`):
    /// a ← lerp(a, θ, 1 − decay).
    Ema { decay: f64 },
}

/// A running average of parameter vectors; the first update copies them.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Averaged<T> {
    averaging: Averaging,
    values: Vec<T>,
    count: u64,
}

impl<T: Scalar> Averaged<T> {
    /// An empty average of `len` parameters; an EMA's decay must be in [0, 1].
    pub fn new(averaging: Averaging, len: usize) -> Result<Self, String> {
        if let Averaging::Ema { decay } = averaging {
            if !(0.0..=1.0).contains(&decay) {
                return Err(format!("ema decay must be in [0, 1], got {decay}"));
            }
        }
        Ok(Averaged {
            averaging,
            values: vec![T::zero(); len],
            count: 0,
        })
    }

    /// Adds `params` to the average (AveragedModel's `update_parameters`).
    pub fn update(&mut self, params: &[T]) -> Result<(), StepError> {
        if params.len() != self.values.len() {
            return Err(StepError::Length {
                what: "parameters",
                expected: self.values.len(),
                got: params.len(),
            });
        }
        if self.count == 0 {
            self.values.copy_from_slice(params);
        } else {
            match self.averaging {
                Averaging::Swa => {
                    let n = T::of((self.count + 1) as f64);
                    for (a, &p) in self.values.iter_mut().zip(params) {
                        *a = *a + (p - *a) / n;
                    }
                }
                Averaging::Ema { decay } => {
                    let w = ops::LerpWeight::<T>::new(1.0 - decay);
                    specialize!([SMALL = w.small] {
                        for (a, &p) in self.values.iter_mut().zip(params) {
                            *a = ops::lerp::<T, SMALL>(*a, p, w.w, w.one_minus_w);
                        }
                    });
                }
            }
        }
        self.count += 1;
        Ok(())
    }

    /// The averaged parameters (zeros before the first update).
    pub fn values(&self) -> &[T] {
        &self.values
    }

    /// How many updates the average holds.
    pub fn count(&self) -> u64 {
        self.count
    }

    /// How it averages.
    pub fn averaging(&self) -> Averaging {
        self.averaging
    }
}
