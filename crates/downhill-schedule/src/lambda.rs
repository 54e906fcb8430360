//! Schedules given by a closure: `LambdaLR` and `MultiplicativeLR`.

use super::{Event, Schedule};
use downhill_optim::spec::ConfigError;
use std::fmt;
use std::sync::Arc;

/// A schedule from a closure f of the local step t:
/// [`Lambda::new`] is `LambdaLR` (lr = base·f(t)),
/// [`Lambda::multiplicative`] is `MultiplicativeLR` (lr_t = lr_{t−1}·f(t) for t ≥ 1).
///
/// Closures are not data: a schedule holding one cannot be saved.
#[derive(Clone)]
pub struct Lambda {
    f: Arc<dyn Fn(u64) -> f64 + Send + Sync>,
    multiplicative: bool,
}

impl Lambda {
    /// `LambdaLR`: lr = base·f(t).
    pub fn new(f: impl Fn(u64) -> f64 + Send + Sync + 'static) -> Self {
        Lambda {
            f: Arc::new(f),
            multiplicative: false,
        }
    }

    /// `MultiplicativeLR`: the lr is multiplied by f(t) at every step t ≥ 1.
    pub fn multiplicative(f: impl Fn(u64) -> f64 + Send + Sync + 'static) -> Self {
        Lambda {
            f: Arc::new(f),
            multiplicative: true,
        }
    }
}

impl fmt::Debug for Lambda {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Lambda")
            .field("multiplicative", &self.multiplicative)
            .finish_non_exhaustive()
    }
}

impl Schedule for Lambda {
    fn lr(&mut self, event: Event, base: f64, current: f64) -> Result<f64, ConfigError> {
        let f = &self.f;
        Ok(match (self.multiplicative, event) {
            (false, Event::Start | Event::Restart) => base * f(0),
            (false, Event::Step(t)) => base * f(t),
            (true, Event::Start) => current,
            (true, Event::Restart) => current * f(0),
            (true, Event::Step(t)) => current * f(t),
        })
    }
}
