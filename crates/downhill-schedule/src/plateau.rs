//! Reduce the lr when a metric stops improving (`ReduceLROnPlateau`).

use super::{Event, Schedule};
use downhill_optim::hyper::Check;
use downhill_optim::spec::ConfigError;
use serde::{Deserialize, Serialize};

downhill_optim::hyperparams! {
    /// `ReduceLROnPlateau`: after more than `patience` metrics in a row without
    /// improvement, lr ← max(lr·factor, min_lr) (skipped when that changes the
    /// lr by eps or less), then `cooldown` metrics are ignored. Improvement in
    /// mode min: metric < best·(1 − threshold) (rel) or < best − threshold (abs);
    /// in mode max: metric > best·(1 + threshold) or > best + threshold.
    pub struct PlateauConfig {
        /// whether lower (min) or higher (max) metrics are better
        mode: String = "min".into(), Check::OneOf(&["min", "max"]);
        /// the factor applied at a reduction
        factor: f64 = 0.1, Check::UNIT_HALF_OPEN;
        /// metrics without improvement tolerated before a reduction
        patience: u64 = 10, Check::NON_NEGATIVE;
        /// the margin an improvement must beat
        threshold: f64 = 1e-4, Check::NON_NEGATIVE;
        /// whether threshold is relative (rel) or absolute (abs)
        threshold_mode: String = "rel".into(), Check::OneOf(&["rel", "abs"]);
        /// metrics ignored after a reduction
        cooldown: u64 = 0, Check::NON_NEGATIVE;
        /// the lowest lr
        min_lr: f64 = 0.0, Check::NON_NEGATIVE;
        /// the smallest lr change that is applied
        eps: f64 = 1e-8, Check::NON_NEGATIVE;
    }
}

/// What `plateau` remembers between metrics (PyTorch's `state_dict` fields).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct PlateauState {
    /// The best metric so far; `None` before the first (PyTorch's ±inf).
    pub best: Option<f64>,
    pub num_bad_epochs: u64,
    pub cooldown_counter: u64,
    /// Metrics taken so far (PyTorch's `last_epoch`).
    pub metrics_seen: u64,
    /// A metric observed since the last step, applied at the next step.
    pub pending: Option<f64>,
}

/// `plateau`: its keys and its state.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Plateau {
    pub config: PlateauConfig,
    pub state: PlateauState,
}

impl Plateau {
    fn is_better(&self, metric: f64) -> bool {
        let c = &self.config;
        let min = c.mode == "min";
        let best = self.state.best.unwrap_or(if min {
            f64::INFINITY
        } else {
            f64::NEG_INFINITY
        });
        match (min, c.threshold_mode == "rel") {
            (true, true) => metric < best * (1.0 - c.threshold),
            (true, false) => metric < best - c.threshold,
            (false, true) => metric > best * (c.threshold + 1.0),
            (false, false) => metric > best + c.threshold,
        }
    }

    /// PyTorch's `step(metric)` on the lr `current`.
    fn take(&mut self, metric: f64, current: f64) -> f64 {
        self.state.metrics_seen += 1;
        if self.is_better(metric) {
            self.state.best = Some(metric);
            self.state.num_bad_epochs = 0;
        } else {
            self.state.num_bad_epochs += 1;
        }
        if self.state.cooldown_counter > 0 {
            self.state.cooldown_counter -= 1;
            self.state.num_bad_epochs = 0;
        }
        let mut lr = current;
        if self.state.num_bad_epochs > self.config.patience {
            let reduced = (current * self.config.factor).max(self.config.min_lr);
            if current - reduced > self.config.eps {
                lr = reduced;
            }
            self.state.cooldown_counter = self.config.cooldown;
            self.state.num_bad_epochs = 0;
        }
        lr
    }
}

impl Schedule for Plateau {
    /// Starts at the lr in force (as PyTorch's constructor leaves it); at a
    /// `sequential` milestone it starts afresh at the base lr.
    fn lr(&mut self, event: Event, base: f64, current: f64) -> Result<f64, ConfigError> {
        Ok(match event {
            Event::Start => current,
            Event::Restart => {
                self.state = PlateauState::default();
                base
            }
            Event::Step(_) => match self.state.pending.take() {
                Some(metric) => self.take(metric, current),
                None => current,
            },
        })
    }

    fn observe(&mut self, metric: f64) {
        self.state.pending = Some(metric);
    }
}
