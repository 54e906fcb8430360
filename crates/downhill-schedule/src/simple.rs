//! The multiplicative schedules: each lr is the previous one times a factor,
//! exactly as PyTorch's chainable `get_lr` computes it.

use super::{Event, Schedule};
use downhill_optim::hyper::Check;
use downhill_optim::spec::ConfigError;

downhill_optim::hyperparams! {
    /// `ConstantLR`: lr = base·factor for t < total_iters, then base
    /// (chainable: ×factor at t = 0, ×1/factor at t = total_iters).
    pub struct Constant {
        /// the factor applied until total_iters
        factor: f64 = 1.0 / 3.0, Check::Range { lo: 0.0, lo_open: true, hi: 1.0, hi_open: false };
        /// the step at which the factor is removed
        total_iters: u64 = 5, Check::NON_NEGATIVE;
    }
}

impl Schedule for Constant {
    fn lr(&mut self, event: Event, base: f64, current: f64) -> Result<f64, ConfigError> {
        Ok(match event {
            Event::Start => current * self.factor,
            Event::Restart => {
                base * (self.factor
                    + if self.total_iters == 0 {
                        1.0 - self.factor
                    } else {
                        0.0
                    })
            }
            Event::Step(t) if t == self.total_iters => current * (1.0 / self.factor),
            Event::Step(_) => current,
        })
    }
}

downhill_optim::hyperparams! {
    /// `LinearLR`: the factor goes linearly from start_factor to end_factor
    /// over total_iters steps: lr = base·(s + (e − s)·min(t, T)/T).
    /// Chainable: lr_t = lr_{t−1}·(1 + (e − s)/(T·s + (t − 1)·(e − s))).
    pub struct Linear {
        /// the factor at step 0
        start_factor: f64 = 1.0 / 3.0, Check::Range { lo: 0.0, lo_open: true, hi: 1.0, hi_open: false };
        /// the factor from step total_iters on
        end_factor: f64 = 1.0, Check::UNIT;
        /// steps of the linear ramp T
        total_iters: u64 = 5, Check::POSITIVE;
    }
}

impl Schedule for Linear {
    fn lr(&mut self, event: Event, base: f64, current: f64) -> Result<f64, ConfigError> {
        let (s, e, total) = (self.start_factor, self.end_factor, self.total_iters);
        Ok(match event {
            Event::Start => current * s,
            Event::Restart => base * (s + (e - s) * 0.0 / total as f64),
            Event::Step(t) if t > total => current,
            Event::Step(t) => {
                current * (1.0 + (e - s) / (total as f64 * s + (t - 1) as f64 * (e - s)))
            }
        })
    }
}

downhill_optim::hyperparams! {
    /// `StepLR`: lr = base·γ^⌊t / step_size⌋ (chainable: ×γ every step_size steps).
    pub struct StepLr {
        /// steps between decays (required)
        step_size: u64 = 0, Check::POSITIVE;
        /// the decay factor γ
        gamma: f64 = 0.1, Check::NON_NEGATIVE;
    }
}

impl Schedule for StepLr {
    fn lr(&mut self, event: Event, base: f64, current: f64) -> Result<f64, ConfigError> {
        Ok(match event {
            Event::Start => current,
            Event::Restart => base * self.gamma.powf(0.0),
            Event::Step(t) if t % self.step_size == 0 => current * self.gamma,
            Event::Step(_) => current,
        })
    }
}

downhill_optim::hyperparams! {
    /// `MultiStepLR`: lr = base·γ^(number of milestones ≤ t); a milestone
    /// listed twice decays twice.
    pub struct MultiStep {
        /// the steps at which the lr decays (required)
        milestones: Vec<u64> = Vec::new(), Check::NON_NEGATIVE;
        /// the decay factor γ
        gamma: f64 = 0.1, Check::NON_NEGATIVE;
    }
}

impl MultiStep {
    fn count(&self, t: u64) -> usize {
        self.milestones.iter().filter(|&&m| m == t).count()
    }
}

impl Schedule for MultiStep {
    fn lr(&mut self, event: Event, base: f64, current: f64) -> Result<f64, ConfigError> {
        let decayed = |lr: f64, n: usize| {
            if n == 0 {
                lr
            } else {
                lr * self.gamma.powf(n as f64)
            }
        };
        Ok(match event {
            Event::Start => decayed(current, self.count(0)),
            Event::Restart => base * self.gamma.powf(self.count(0) as f64),
            Event::Step(t) => decayed(current, self.count(t)),
        })
    }
}

downhill_optim::hyperparams! {
    /// `ExponentialLR`: lr = base·γ^t (chainable: ×γ every step).
    pub struct Exponential {
        /// the decay factor γ per step (required)
        gamma: f64 = 0.0, Check::NON_NEGATIVE;
    }
}

impl Schedule for Exponential {
    fn lr(&mut self, event: Event, base: f64, current: f64) -> Result<f64, ConfigError> {
        Ok(match event {
            Event::Start => current,
            Event::Restart => base * self.gamma.powf(0.0),
            Event::Step(_) => current * self.gamma,
        })
    }
}

downhill_optim::hyperparams! {
    /// `PolynomialLR`: lr = base·(1 − min(t, T)/T)^power.
    /// Chainable: lr_t = lr_{t−1}·((1 − t/T)/(1 − (t − 1)/T))^power.
    pub struct Polynomial {
        /// steps T until the lr reaches 0
        total_iters: u64 = 5, Check::POSITIVE;
        /// the power of the polynomial
        power: f64 = 1.0, Check::NON_NEGATIVE;
    }
}

impl Schedule for Polynomial {
    fn lr(&mut self, event: Event, base: f64, current: f64) -> Result<f64, ConfigError> {
        let total = self.total_iters as f64;
        Ok(match event {
            Event::Start => current,
            Event::Restart => base * (1.0 - 0.0 / total).powf(self.power),
            Event::Step(t) if t > self.total_iters => current,
            Event::Step(t) => {
                current
                    * ((1.0 - t as f64 / total) / (1.0 - (t - 1) as f64 / total)).powf(self.power)
            }
        })
    }
}

downhill_optim::hyperparams! {
    /// `MultiplicativeLR` with a constant factor: lr_t = lr_{t−1}·factor for t ≥ 1
    /// (for a factor that depends on t, use [`Lambda::multiplicative`](super::Lambda::multiplicative)).
    pub struct Multiplicative {
        /// the factor applied at every step (required)
        factor: f64 = 0.0, Check::NON_NEGATIVE;
    }
}

impl Schedule for Multiplicative {
    fn lr(&mut self, event: Event, _base: f64, current: f64) -> Result<f64, ConfigError> {
        Ok(match event {
            Event::Start => current,
            Event::Restart | Event::Step(_) => current * self.factor,
        })
    }
}
