//! Optimizer names for specs: PyTorch's algorithms and the learning notes' names.

use super::{
    Adadelta, Adafactor, Adagrad, Adam, Adamax, Adan, Ademamix, Adopt, AnyRule, Asgd, Lamb, Lars,
    Lbfgs, Lion, Muon, Nadam, Nag, Prodigy, Radam, Rmsprop, Rprop, SchedulefreeAdamw,
    SchedulefreeSgd, Sgd, SparseAdam,
};
use crate::spec::{ConfigError, Spec};
use crate::RuleSet;

/// A name a spec can use, with the rule it starts from and the keys it accepts.
pub struct Entry {
    pub name: &'static str,
    pub summary: &'static str,
    /// The rule with this name's defaults.
    pub make: fn() -> AnyRule,
    /// The keys a spec may set; `None` means all of the rule's keys.
    pub keys: Option<&'static [&'static str]>,
}

/// Every optimizer name, in the order `downhill list` shows them.
pub const OPTIMIZERS: &[Entry] = &[
    Entry {
        name: "gd",
        summary: "plain gradient descent θ ← θ − η∇f (the notes' batch/stochastic GD)",
        make: || AnyRule::Sgd(Sgd::default()),
        keys: Some(&["lr", "weight_decay", "maximize"]),
    },
    Entry {
        name: "momentum",
        summary: "classical momentum: sgd with momentum 0.9 unless given; effective step η/(1−μ)",
        make: || {
            AnyRule::Sgd(Sgd {
                momentum: 0.9,
                ..Sgd::default()
            })
        },
        keys: Some(&[
            "lr",
            "momentum",
            "dampening",
            "weight_decay",
            "nesterov",
            "maximize",
        ]),
    },
    Entry {
        name: "nag",
        summary: "Nesterov's method in look-ahead form: v ← μv − η∇f(θ+μv); θ ← θ+v",
        make: || AnyRule::Nag(Nag::default()),
        keys: None,
    },
    Entry {
        name: "sgd",
        summary: "torch.optim.SGD: momentum, dampening, Nesterov, weight decay",
        make: || AnyRule::Sgd(Sgd::default()),
        keys: None,
    },
    Entry {
        name: "adagrad",
        summary: "torch.optim.Adagrad: per-coordinate steps η/√(Σg²)",
        make: || AnyRule::Adagrad(Adagrad::default()),
        keys: None,
    },
    Entry {
        name: "rmsprop",
        summary: "torch.optim.RMSprop: steps scaled by a moving RMS of gradients",
        make: || AnyRule::Rmsprop(Rmsprop::default()),
        keys: None,
    },
    Entry {
        name: "adadelta",
        summary: "torch.optim.Adadelta: unit-corrected RMS steps (lr is a factor, 1 = Zeiler)",
        make: || AnyRule::Adadelta(Adadelta::default()),
        keys: None,
    },
    Entry {
        name: "adam",
        summary: "torch.optim.Adam: bias-corrected moments; AMSGrad; L2 or decoupled decay",
        make: || AnyRule::Adam(Adam::default()),
        keys: None,
    },
    Entry {
        name: "adamw",
        summary: "torch.optim.AdamW: Adam with decoupled weight decay (default 0.01)",
        make: || AnyRule::Adam(Adam::adamw()),
        keys: Some(&[
            "lr",
            "beta1",
            "beta2",
            "eps",
            "weight_decay",
            "amsgrad",
            "maximize",
        ]),
    },
    Entry {
        name: "nadam",
        summary: "torch.optim.NAdam: Adam with Nesterov momentum and a μ schedule",
        make: || AnyRule::Nadam(Nadam::default()),
        keys: None,
    },
    Entry {
        name: "radam",
        summary: "torch.optim.RAdam: Adam with a variance-rectified warm-up",
        make: || AnyRule::Radam(Radam::default()),
        keys: None,
    },
    Entry {
        name: "adamax",
        summary: "torch.optim.Adamax: Adam with the infinity norm",
        make: || AnyRule::Adamax(Adamax::default()),
        keys: None,
    },
    Entry {
        name: "rprop",
        summary: "torch.optim.Rprop: sign-based steps that grow and shrink",
        make: || AnyRule::Rprop(Rprop::default()),
        keys: None,
    },
    Entry {
        name: "asgd",
        summary: "torch.optim.ASGD: SGD with decaying steps and iterate averaging",
        make: || AnyRule::Asgd(Asgd::default()),
        keys: None,
    },
    Entry {
        name: "lion",
        summary: "lion-pytorch Lion: signed interpolated momentum, decoupled decay (Chen et al. 2023)",
        make: || AnyRule::Lion(Lion::default()),
        keys: None,
    },
    Entry {
        name: "adopt",
        summary: "pytorch-optimizer ADOPT: momentum of gradients normalised by the previous second moment",
        make: || AnyRule::Adopt(Adopt::default()),
        keys: None,
    },
    Entry {
        name: "ademamix",
        summary: "pytorch-optimizer AdEMAMix: Adam plus a slow momentum weighted by alpha",
        make: || AnyRule::Ademamix(Ademamix::default()),
        keys: None,
    },
    Entry {
        name: "adan",
        summary: "pytorch-optimizer Adan: Nesterov-style momentum of gradients and their differences",
        make: || AnyRule::Adan(Adan::default()),
        keys: None,
    },
    Entry {
        name: "lamb",
        summary: "pytorch-optimizer Lamb: Adam steps scaled per tensor by the trust ratio ‖θ‖/‖u‖",
        make: || AnyRule::Lamb(Lamb::default()),
        keys: None,
    },
    Entry {
        name: "lars",
        summary: "pytorch-optimizer LARS: SGD with momentum, matrices scaled by tc·‖θ‖/(‖g‖ + wd·‖θ‖)",
        make: || AnyRule::Lars(Lars::default()),
        keys: None,
    },
    Entry {
        name: "prodigy",
        summary: "prodigyopt Prodigy: Adam with its step size d estimated on the fly; lr stays 1 (Mishchenko & Defazio 2024)",
        make: || AnyRule::Prodigy(Prodigy::default()),
        keys: None,
    },
    Entry {
        name: "schedulefree-sgd",
        summary: "schedulefree SGDScheduleFree: steps at y, averages into x; no schedule needed (Defazio et al. 2024)",
        make: || AnyRule::SchedulefreeSgd(SchedulefreeSgd::default()),
        keys: None,
    },
    Entry {
        name: "schedulefree-adamw",
        summary: "schedulefree AdamWScheduleFree: Schedule-Free with Adam's normalised gradient",
        make: || AnyRule::SchedulefreeAdamw(SchedulefreeAdamw::default()),
        keys: None,
    },
    Entry {
        name: "sparse_adam",
        summary: "torch.optim.SparseAdam: lazy Adam for sparse gradients (step_sparse); a dense step updates every entry",
        make: || AnyRule::SparseAdam(SparseAdam::default()),
        keys: None,
    },
    Entry {
        name: "muon",
        summary: "torch.optim.Muon: momentum orthogonalised by Newton–Schulz, for weight matrices only",
        make: || AnyRule::Muon(Muon::default()),
        keys: None,
    },
    Entry {
        name: "adafactor",
        summary: "torch.optim.Adafactor: relative steps, second moment factored into row and column means for matrices",
        make: || AnyRule::Adafactor(Adafactor::default()),
        keys: None,
    },
    Entry {
        name: "lbfgs",
        summary: "torch.optim.LBFGS: quasi-Newton two-loop steps from a limited history, optional strong-Wolfe line search; one step runs up to max_iter iterations",
        make: || AnyRule::Lbfgs(Lbfgs::default()),
        keys: None,
    },
];

impl Entry {
    /// The entry's keys with their defaults, ranges and docs.
    pub fn keys(&self) -> Vec<crate::hyper::KeyInfo> {
        let rule = (self.make)();
        let all = rule.hyper().keys();
        match self.keys {
            Some(allowed) => all
                .into_iter()
                .filter(|k| allowed.contains(&k.name))
                .collect(),
            None => all,
        }
    }

    /// Looks a name up.
    pub fn find(name: &str) -> Result<&'static Entry, ConfigError> {
        OPTIMIZERS.iter().find(|e| e.name == name).ok_or_else(|| {
            let valid: Vec<&str> = OPTIMIZERS.iter().map(|e| e.name).collect();
            ConfigError::unknown_name("optimizer", name, &valid)
        })
    }
}

/// Builds a validated rule from a spec such as `adam:lr=0.01,amsgrad=true`.
pub fn build(spec: &str) -> Result<AnyRule, ConfigError> {
    let spec = Spec::parse(spec)?;
    let entry = Entry::find(&spec.name)?;
    let mut rule = (entry.make)();
    spec.apply(rule.hyper_mut(), entry.keys)?;
    rule.validate()
        .map_err(|e| ConfigError::key(&spec.name, e))?;
    Ok(rule)
}
