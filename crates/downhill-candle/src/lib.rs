//! # downhill-candle
//!
//! Every downhill rule as a [`candle_nn::Optimizer`]: parameter groups chosen
//! by variable name, downhill's schedules, global-norm gradient clipping, the
//! [`NonFinite`] policies, in-place steps of the variables' CPU storage with
//! downhill's fused loops, and exact save → load → resume as safetensors.
//! Variables on CUDA or Metal take the staged path: copied to the host,
//! stepped by the same loops, written back with `Var::set` (state on the host).
//!
//! ```
//! use candle_core::{DType, Device, Tensor};
//! use candle_nn::{Optimizer as _, VarBuilder, VarMap};
//! let varmap = VarMap::new();
//! let vb = VarBuilder::from_varmap(&varmap, DType::F32, &Device::Cpu);
//! let w = vb.get_with_hints(3, "w", candle_nn::Init::Const(1.0)).unwrap();
//! let mut opt = downhill_candle::Builder::new(&varmap, "adamw:lr=0.1")
//!     .unwrap()
//!     .build()
//!     .unwrap();
//! for _ in 0..100 {
//!     let loss = w.sqr().unwrap().sum_all().unwrap();
//!     opt.backward_step(&loss).unwrap();
//! }
//! assert!(w.sqr().unwrap().sum_all().unwrap().to_scalar::<f32>().unwrap() < 1e-2);
//! ```
//!
//! Not supported: rules that evaluate the objective themselves (`lbfgs`) or look
//! ahead, sparse gradients (`sparse_adam` steps dense gradients only as the
//! slice path does), and optimizers mixing f64 with other variables.

mod builder;
mod elem;
mod glob;
mod state;
mod step;

pub use builder::Builder;
pub use glob::matches;

use candle_core::backprop::GradStore;
use candle_core::{Result, Var};
use downhill_optim::{AnyRule, NonFinite};
use downhill_schedule::Scheduler;
use step::Core;

/// A candle optimizer over any downhill rule (see [`Builder`]).
pub struct Optimizer {
    names: Vec<String>,
    vars: Vec<Var>,
    core: Inner,
    schedulers: Vec<Scheduler>,
    clip: Option<f64>,
}

/// The optimizer in the element type of its variables.
enum Inner {
    F32(Core<f32>),
    F64(Core<f64>),
}

impl Optimizer {
    /// The variables' names, in the optimizer's (group) order.
    pub fn names(&self) -> &[String] {
        &self.names
    }

    /// Whether steps go through host copies (variables not all on the CPU,
    /// or [`Builder::staged`]) rather than in place.
    pub fn staged(&self) -> bool {
        match &self.core {
            Inner::F32(c) => c.staged,
            Inner::F64(c) => c.staged,
        }
    }

    /// The updates taken so far (of the first group).
    pub fn steps_taken(&self) -> u64 {
        match &self.core {
            Inner::F32(c) => c.opt.steps_taken(0),
            Inner::F64(c) => c.opt.steps_taken(0),
        }
    }

    /// The learning rate of group `group`.
    pub fn lr(&self, group: usize) -> f64 {
        match &self.core {
            Inner::F32(c) => c.opt.lr(group),
            Inner::F64(c) => c.opt.lr(group),
        }
    }

    /// What a step does with a non-finite gradient.
    pub fn set_non_finite(&mut self, policy: NonFinite) {
        match &mut self.core {
            Inner::F32(c) => c.opt.set_non_finite(policy),
            Inner::F64(c) => c.opt.set_non_finite(policy),
        }
    }

    /// The rule of group `group`.
    pub fn rule(&self, group: usize) -> &AnyRule {
        match &self.core {
            Inner::F32(c) => c.opt.rule(group),
            Inner::F64(c) => c.opt.rule(group),
        }
    }

    fn apply_schedules(&mut self) -> Result<()> {
        for (group, scheduler) in self.schedulers.iter().enumerate() {
            let lr = scheduler.lr();
            let set = match &mut self.core {
                Inner::F32(c) => c.opt.set_lr(group, lr),
                Inner::F64(c) => c.opt.set_lr(group, lr),
            };
            set.map_err(|e| candle_core::Error::Msg(e.to_string()))?;
        }
        Ok(())
    }
}

impl candle_nn::Optimizer for Optimizer {
    /// The rule every variable is stepped with (one group).
    type Config = AnyRule;

    /// One group over `vars`, named `var0`, `var1`… in the order given.
    fn new(vars: Vec<Var>, rule: AnyRule) -> Result<Self> {
        let named = vars
            .into_iter()
            .enumerate()
            .map(|(i, v)| (format!("var{i}"), v));
        Builder::from_named(named, rule).build()
    }

    /// Sets each group's lr from its schedule, then steps every variable
    /// (clipped, under the non-finite policy; in place or staged) and
    /// advances the schedules.
    fn step(&mut self, grads: &GradStore) -> Result<()> {
        self.apply_schedules()?;
        match &mut self.core {
            Inner::F32(c) => c.step(&self.names, &self.vars, grads, self.clip)?,
            Inner::F64(c) => c.step(&self.names, &self.vars, grads, self.clip)?,
        }
        for scheduler in &mut self.schedulers {
            scheduler
                .advance()
                .map_err(|e| candle_core::Error::Msg(e.to_string()))?;
        }
        Ok(())
    }

    fn learning_rate(&self) -> f64 {
        self.lr(0)
    }

    /// Sets every group's lr (a schedule, if any, overrides it at the next step).
    fn set_learning_rate(&mut self, lr: f64) {
        let _ = match &mut self.core {
            Inner::F32(c) => c.opt.set_lr_all(lr),
            Inner::F64(c) => c.opt.set_lr_all(lr),
        };
    }
}
