//! Cyclical learning rates (Smith, WACV 2017) and the one-cycle policy
//! (Smith & Topin, 2018), with momentum cycled the opposite way.
//!
//! Both set the lr absolutely: the base lr given to the schedule is ignored
//! (`cyclic` uses its own `base_lr`, `onecycle` starts at `max_lr/div_factor`).

use super::{Event, Schedule};
use downhill_optim::hyper::{Check, KeyError};
use downhill_optim::spec::ConfigError;
use std::f64::consts::PI;

downhill_optim::hyperparams! {
    /// `CyclicLR`: lr goes from base_lr to max_lr in step_size_up steps and
    /// back in step_size_down steps; the amplitude is scaled by 1 (triangular),
    /// 1/2^(cycle − 1) (triangular2) or γ^t (exp_range). Momentum, when
    /// cycled, moves from max_momentum to base_momentum and back.
    pub struct Cyclic {
        /// the lower lr bound (required)
        base_lr: f64 = 0.0, Check::NON_NEGATIVE;
        /// the upper lr bound (required)
        max_lr: f64 = 0.0, Check::NON_NEGATIVE;
        /// steps of the rising half
        step_size_up: u64 = 2000, Check::POSITIVE;
        /// steps of the falling half; 0 means step_size_up (PyTorch's None)
        step_size_down: u64 = 0, Check::NON_NEGATIVE;
        /// the amplitude policy
        mode: String = "triangular".into(), Check::OneOf(&["triangular", "triangular2", "exp_range"]);
        /// the per-step factor γ of exp_range
        gamma: f64 = 1.0, Check::NON_NEGATIVE;
        /// cycle the optimizer's momentum (or Adam's β₁) inversely to the lr
        cycle_momentum: bool = true, Check::Any;
        /// the lower momentum bound (at the lr peak)
        base_momentum: f64 = 0.8, Check::NON_NEGATIVE;
        /// the upper momentum bound (at base_lr)
        max_momentum: f64 = 0.9, Check::NON_NEGATIVE;
    }
}

impl Cyclic {
    /// (position in the cycle ∈ [0, 1], amplitude scale) at step t, as PyTorch computes them.
    fn shape(&self, t: u64) -> (f64, f64) {
        let up = self.step_size_up as f64;
        let down = if self.step_size_down == 0 {
            up
        } else {
            self.step_size_down as f64
        };
        let total = up + down;
        let ratio = up / total;
        let cycle = (1.0 + t as f64 / total).floor();
        let x = 1.0 + t as f64 / total - cycle;
        let position = if x <= ratio {
            x / ratio
        } else {
            (x - 1.0) / (ratio - 1.0)
        };
        let scale = match self.mode.as_str() {
            "triangular2" => 1.0 / 2f64.powf(cycle - 1.0),
            "exp_range" => self.gamma.powf(t as f64),
            _ => 1.0,
        };
        (position, scale)
    }
}

impl Schedule for Cyclic {
    fn lr(&mut self, event: Event, _base: f64, _current: f64) -> Result<f64, ConfigError> {
        let (position, scale) = self.shape(local_step(event));
        Ok(self.base_lr + (self.max_lr - self.base_lr) * position * scale)
    }

    fn momentum(&self, t: u64) -> Option<f64> {
        self.cycle_momentum.then(|| {
            let (position, scale) = self.shape(t);
            self.max_momentum - (self.max_momentum - self.base_momentum) * position * scale
        })
    }
}

downhill_optim::hyperparams! {
    /// `OneCycleLR`: the lr rises from max_lr/div_factor to max_lr over the
    /// first pct_start of total_steps, then anneals to
    /// max_lr/(div_factor·final_div_factor); with three_phase it first falls
    /// back to the initial lr symmetrically. Momentum, when cycled, moves the
    /// other way between max_momentum and base_momentum. Defined for steps
    /// 0..=total_steps (PyTorch raises past that).
    pub struct OneCycle {
        /// the peak lr (required)
        max_lr: f64 = 0.0, Check::NON_NEGATIVE;
        /// the length of the cycle (required, or epochs and steps_per_epoch)
        total_steps: u64 = 0, Check::NON_NEGATIVE;
        /// with steps_per_epoch, gives total_steps = epochs·steps_per_epoch
        epochs: u64 = 0, Check::NON_NEGATIVE;
        /// with epochs, gives total_steps = epochs·steps_per_epoch
        steps_per_epoch: u64 = 0, Check::NON_NEGATIVE;
        /// the fraction of the cycle spent rising
        pct_start: f64 = 0.3, Check::UNIT;
        /// the annealing curve
        anneal_strategy: String = "cos".into(), Check::OneOf(&["cos", "linear"]);
        /// cycle the optimizer's momentum (or Adam's β₁) inversely to the lr
        cycle_momentum: bool = true, Check::Any;
        /// the lower momentum bound (at the lr peak)
        base_momentum: f64 = 0.85, Check::NON_NEGATIVE;
        /// the upper momentum bound (at the ends)
        max_momentum: f64 = 0.95, Check::NON_NEGATIVE;
        /// initial lr = max_lr/div_factor
        div_factor: f64 = 25.0, Check::POSITIVE;
        /// final lr = initial lr/final_div_factor
        final_div_factor: f64 = 1e4, Check::POSITIVE;
        /// rise, fall back to the initial lr, then anneal (fast.ai's variant) instead of two phases
        three_phase: bool = false, Check::Any;
    }
}

/// The values a one-cycle phase goes between.
#[derive(Clone, Copy)]
enum Level {
    Initial,
    Max,
    Min,
}

/// One phase: its last step, lr from → to, momentum from → to (true = max_momentum).
type Phase = (f64, Level, Level, bool, bool);

impl OneCycle {
    /// The cycle length: total_steps, else epochs·steps_per_epoch.
    pub fn length(&self) -> u64 {
        if self.total_steps > 0 {
            self.total_steps
        } else {
            self.epochs.saturating_mul(self.steps_per_epoch)
        }
    }

    /// Checks what the key ranges cannot: a cycle length, and no empty phase.
    pub fn validate(&self) -> Result<(), KeyError> {
        if self.length() == 0 {
            return Err(KeyError::Constraint(
                "onecycle needs total_steps (or epochs and steps_per_epoch), a whole number > 0"
                    .into(),
            ));
        }
        let mut start = 0.0;
        for (end, ..) in self.phases() {
            if end == start {
                return Err(KeyError::Constraint(format!(
                    "pct_start={} with total_steps={} leaves a phase of zero length",
                    self.pct_start,
                    self.length()
                )));
            }
            start = end;
        }
        Ok(())
    }

    fn phases(&self) -> Vec<Phase> {
        let total = self.length();
        let rise = self.pct_start * total as f64 - 1.0;
        let last = (total - 1) as f64;
        if self.three_phase {
            vec![
                (rise, Level::Initial, Level::Max, true, false),
                (
                    2.0 * self.pct_start * total as f64 - 2.0,
                    Level::Max,
                    Level::Initial,
                    false,
                    true,
                ),
                (last, Level::Initial, Level::Min, true, true),
            ]
        } else {
            vec![
                (rise, Level::Initial, Level::Max, true, false),
                (last, Level::Max, Level::Min, false, true),
            ]
        }
    }

    fn anneal(&self, start: f64, end: f64, pct: f64) -> f64 {
        if self.anneal_strategy == "linear" {
            (end - start) * pct + start
        } else {
            let cos_out = (PI * pct).cos() + 1.0;
            end + (start - end) / 2.0 * cos_out
        }
    }

    /// (lr, momentum) at step t ≤ total_steps.
    fn at(&self, t: u64) -> (f64, f64) {
        let initial = self.max_lr / self.div_factor;
        let level = |l: Level| match l {
            Level::Initial => initial,
            Level::Max => self.max_lr,
            Level::Min => initial / self.final_div_factor,
        };
        let mom = |high: bool| {
            if high {
                self.max_momentum
            } else {
                self.base_momentum
            }
        };
        let phases = self.phases();
        let mut start = 0.0;
        let mut chosen = 0;
        for (i, &(end, ..)) in phases.iter().enumerate() {
            if t as f64 <= end || i == phases.len() - 1 {
                chosen = i;
                break;
            }
            start = end;
        }
        let (end, lr_from, lr_to, m_from, m_to) = phases[chosen];
        let pct = (t as f64 - start) / (end - start);
        (
            self.anneal(level(lr_from), level(lr_to), pct),
            self.anneal(mom(m_from), mom(m_to), pct),
        )
    }
}

impl Schedule for OneCycle {
    fn lr(&mut self, event: Event, _base: f64, _current: f64) -> Result<f64, ConfigError> {
        let t = local_step(event);
        if t > self.length() {
            return Err(ConfigError::key(
                "onecycle",
                KeyError::Constraint(format!(
                    "step {t} is past total_steps={} (the cycle has lrs for steps 0..={})",
                    self.length(),
                    self.length()
                )),
            ));
        }
        Ok(self.at(t).0)
    }

    fn momentum(&self, t: u64) -> Option<f64> {
        (self.cycle_momentum && t <= self.length()).then(|| self.at(t).1)
    }
}

/// The local step of an event (0 at a start or restart).
fn local_step(event: Event) -> u64 {
    match event {
        Event::Start | Event::Restart => 0,
        Event::Step(t) => t,
    }
}
