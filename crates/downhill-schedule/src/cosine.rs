//! Cosine annealing (Loshchilov & Hutter, "SGDR", ICLR 2017), as PyTorch computes it.

use super::{Event, Schedule};
use downhill_optim::hyper::Check;
use downhill_optim::spec::ConfigError;
use std::f64::consts::PI;

downhill_optim::hyperparams! {
    /// `CosineAnnealingLR`: lr = η_min + (base − η_min)·(1 + cos(πt/T))/2 in
    /// PyTorch's chainable form, which keeps oscillating past t = T (the lr
    /// climbs back to base at t = 2T, and so on) rather than stopping at η_min:
    /// lr_t = η_min + (lr_{t−1} − η_min)·(1 + cos(πt/T))/(1 + cos(π(t−1)/T)),
    /// and lr_t = lr_{t−1} + (base − η_min)·(1 − cos(π/T))/2 when (t − 1 − T) mod 2T = 0.
    pub struct Cosine {
        /// half-period T in steps (required)
        t_max: u64 = 0, Check::POSITIVE;
        /// the lowest lr η_min
        eta_min: f64 = 0.0, Check::NON_NEGATIVE;
    }
}

impl Schedule for Cosine {
    fn lr(&mut self, event: Event, base: f64, current: f64) -> Result<f64, ConfigError> {
        let (t_max, eta_min) = (self.t_max as f64, self.eta_min);
        Ok(match event {
            Event::Start => current,
            Event::Restart => eta_min + (base - eta_min) * (1.0 + (PI * 0.0 / t_max).cos()) / 2.0,
            Event::Step(t) => {
                let lag = t as i128 - 1 - self.t_max as i128;
                if lag.rem_euclid(2 * self.t_max as i128) == 0 {
                    current + (base - eta_min) * (1.0 - (PI / t_max).cos()) / 2.0
                } else {
                    (1.0 + (PI * t as f64 / t_max).cos())
                        / (1.0 + (PI * (t - 1) as f64 / t_max).cos())
                        * (current - eta_min)
                        + eta_min
                }
            }
        })
    }
}

downhill_optim::hyperparams! {
    /// `CosineAnnealingWarmRestarts` (SGDR): lr = η_min + (base − η_min)·(1 + cos(π·T_cur/T_i))/2,
    /// where T_cur counts steps since the last restart and the period T_i
    /// starts at t_0 and is multiplied by t_mult at each restart.
    pub struct CosineRestarts {
        /// steps until the first restart (required)
        t_0: u64 = 0, Check::POSITIVE;
        /// the factor by which the period grows after each restart
        t_mult: u64 = 1, Check::POSITIVE;
        /// the lowest lr η_min
        eta_min: f64 = 0.0, Check::NON_NEGATIVE;
    }
}

impl CosineRestarts {
    /// (T_cur, T_i) at local step t.
    fn phase(&self, t: u64) -> (u64, u64) {
        if self.t_mult == 1 {
            return (t % self.t_0, self.t_0);
        }
        let (mut rest, mut period) = (t, self.t_0);
        while rest >= period {
            rest -= period;
            period = period.saturating_mul(self.t_mult);
        }
        (rest, period)
    }
}

impl Schedule for CosineRestarts {
    fn lr(&mut self, event: Event, base: f64, _current: f64) -> Result<f64, ConfigError> {
        let t = match event {
            Event::Start | Event::Restart => 0,
            Event::Step(t) => t,
        };
        let (t_cur, t_i) = self.phase(t);
        let eta_min = self.eta_min;
        Ok(eta_min + (base - eta_min) * (1.0 + (PI * t_cur as f64 / t_i as f64).cos()) / 2.0)
    }
}
