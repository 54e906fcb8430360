//! Composition: `sequential` (switch at milestones) and `chained` (apply all in turn).

use super::{AnySchedule, Event, Schedule};
use downhill_optim::hyper::KeyError;
use downhill_optim::spec::ConfigError;
use serde::{Deserialize, Serialize};

/// `SequentialLR`: member i is in charge from milestone i − 1 (inclusive) to
/// milestone i, counting its own steps from 0 there. At a milestone the member
/// starts from its closed form at step 0 (PyTorch's `_update_lr(0)`); metrics
/// go to the member in charge.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(try_from = "SequentialParts")]
pub struct Sequential {
    members: Vec<AnySchedule>,
    milestones: Vec<u64>,
    /// The member in charge (the last step's).
    active: usize,
}

#[derive(Deserialize)]
struct SequentialParts {
    members: Vec<AnySchedule>,
    milestones: Vec<u64>,
    active: usize,
}

impl TryFrom<SequentialParts> for Sequential {
    type Error = ConfigError;
    fn try_from(parts: SequentialParts) -> Result<Self, ConfigError> {
        let mut sequential = Sequential::new(parts.members, parts.milestones)?;
        sequential.active = parts.active.min(sequential.members.len() - 1);
        Ok(sequential)
    }
}

impl Sequential {
    /// Needs one milestone fewer than members, increasing and > 0.
    pub fn new(members: Vec<AnySchedule>, milestones: Vec<u64>) -> Result<Self, ConfigError> {
        let fail = |message: String| {
            Err(ConfigError::key(
                "sequential",
                KeyError::Constraint(message),
            ))
        };
        if members.is_empty() {
            return fail("schedulers must list at least one schedule".into());
        }
        if milestones.len() + 1 != members.len() {
            return fail(format!(
                "milestones must have one entry fewer than schedulers: {} schedulers, {} milestones",
                members.len(),
                milestones.len()
            ));
        }
        if milestones.first() == Some(&0) || milestones.windows(2).any(|w| w[0] >= w[1]) {
            return fail(format!(
                "milestones must be increasing and > 0, got {milestones:?}"
            ));
        }
        Ok(Sequential {
            members,
            milestones,
            active: 0,
        })
    }

    pub fn members(&self) -> &[AnySchedule] {
        &self.members
    }

    /// The member in charge at local step t and its own step count.
    fn locate(&self, t: u64) -> (usize, u64) {
        let index = self.milestones.partition_point(|&m| m <= t);
        let since = if index == 0 {
            0
        } else {
            self.milestones[index - 1]
        };
        (index, t - since)
    }
}

impl Schedule for Sequential {
    fn lr(&mut self, event: Event, base: f64, current: f64) -> Result<f64, ConfigError> {
        let (index, inner) = match event {
            Event::Start => (0, Event::Start),
            Event::Restart => (0, Event::Restart),
            Event::Step(t) => match self.locate(t) {
                (index, 0) => (index, Event::Restart),
                (index, local) => (index, Event::Step(local)),
            },
        };
        self.active = index;
        // PyTorch resets the lr to the initial lr before the first member's initial step.
        let current = if event == Event::Start { base } else { current };
        self.members[index].lr(inner, base, current)
    }

    fn momentum(&self, t: u64) -> Option<f64> {
        let (index, local) = self.locate(t);
        self.members[index].momentum(local)
    }

    fn observe(&mut self, metric: f64) {
        self.members[self.active].observe(metric);
    }
}

/// `ChainedScheduler`: every member acts on the lr the previous one left, in
/// order, at every step (so multiplicative schedules multiply). Metrics go to
/// every member; the momentum is the last cycling member's.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(try_from = "ChainedParts")]
pub struct Chained {
    members: Vec<AnySchedule>,
}

#[derive(Deserialize)]
struct ChainedParts {
    members: Vec<AnySchedule>,
}

impl TryFrom<ChainedParts> for Chained {
    type Error = ConfigError;
    fn try_from(parts: ChainedParts) -> Result<Self, ConfigError> {
        Chained::new(parts.members)
    }
}

impl Chained {
    /// Needs at least one member.
    pub fn new(members: Vec<AnySchedule>) -> Result<Self, ConfigError> {
        if members.is_empty() {
            return Err(ConfigError::key(
                "chained",
                KeyError::Constraint("schedulers must list at least one schedule".into()),
            ));
        }
        Ok(Chained { members })
    }

    pub fn members(&self) -> &[AnySchedule] {
        &self.members
    }
}

impl Schedule for Chained {
    fn lr(&mut self, event: Event, base: f64, current: f64) -> Result<f64, ConfigError> {
        let mut lr = current;
        for member in &mut self.members {
            lr = member.lr(event, base, lr)?;
        }
        Ok(lr)
    }

    fn momentum(&self, t: u64) -> Option<f64> {
        self.members.iter().rev().find_map(|m| m.momentum(t))
    }

    fn observe(&mut self, metric: f64) {
        for member in &mut self.members {
            member.observe(metric);
        }
    }
}
