//! `SWALR` (`torch.optim.swa_utils`): anneals the lr to a constant for
//! stochastic weight averaging (Izmailov et al., "Averaging Weights Leads to
//! Wider Optima and Better Generalization", UAI 2018).

use super::{Event, Schedule};
use downhill_optim::hyper::Check;
use downhill_optim::spec::ConfigError;
use std::f64::consts::PI;

/// The annealing shapes of [`Swalr`].
pub const SWALR_STRATEGIES: &[&str] = &["cos", "linear"];

downhill_optim::hyperparams! {
    /// `SWALR`: from the lr in force to swa_lr over anneal_epochs steps, then
    /// swa_lr. Chainable as PyTorch computes it: with s = the step (at least
    /// 1 when anneal_epochs = 0), a(u) = u (linear) or (1 − cos πu)/2 (cos),
    /// α = a(min(1, s/n)) and α′ = a(clamp((s − 1)/n, 0, 1)) (n = max(1,
    /// anneal_epochs)): the previous lr is unwound to l = (lr − α′·swa_lr)/(1 − α′)
    /// (swa_lr if α′ = 1) and lr ← swa_lr·α + l·(1 − α).
    pub struct Swalr {
        /// the lr to anneal to and then keep (required)
        swa_lr: f64 = -1.0, Check::NON_NEGATIVE;
        /// steps (epochs, as PyTorch uses it) of the annealing
        anneal_epochs: u64 = 10, Check::NON_NEGATIVE;
        /// the annealing's shape: cos or linear
        anneal_strategy: String = "cos".into(), Check::OneOf(SWALR_STRATEGIES);
    }
}

impl Swalr {
    fn anneal(&self, t: f64) -> f64 {
        match self.anneal_strategy.as_str() {
            "linear" => t,
            _ => (1.0 - (PI * t).cos()) / 2.0,
        }
    }

    /// The lr at PyTorch's step `step` from the lr in force.
    fn at(&self, step: u64, current: f64) -> f64 {
        let step = if self.anneal_epochs == 0 {
            step.max(1)
        } else {
            step
        };
        let n = self.anneal_epochs.max(1) as f64;
        let previous = self.anneal(((step as f64 - 1.0) / n).clamp(0.0, 1.0));
        let unwound = if previous == 1.0 {
            self.swa_lr
        } else {
            (current - previous * self.swa_lr) / (1.0 - previous)
        };
        let alpha = self.anneal((step as f64 / n).min(1.0));
        self.swa_lr * alpha + unwound * (1.0 - alpha)
    }
}

impl Schedule for Swalr {
    fn lr(&mut self, event: Event, _base: f64, current: f64) -> Result<f64, ConfigError> {
        match event {
            Event::Start => Ok(self.at(0, current)),
            Event::Step(t) => Ok(self.at(t, current)),
            // PyTorch's SWALR counts its steps from its construction, not
            // from a milestone: inside SequentialLR it would start half-way.
            Event::Restart => Err(ConfigError::Syntax {
                spec: "swalr".into(),
                message: "swalr counts its steps from the start: use it alone or in chained, \
                          not after a milestone of sequential"
                    .into(),
            }),
        }
    }
}
