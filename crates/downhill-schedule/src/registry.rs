//! Schedule names for specs, PyTorch's schedulers under short names.

use super::{
    AnySchedule, Chained, Constant, Cosine, CosineRestarts, Cyclic, Exponential, Linear, MultiStep,
    Multiplicative, OneCycle, Plateau, PlateauConfig, Polynomial, Sequential, StepLr, Swalr,
};
use downhill_optim::hyper::{Hyper, KeyError, KeyInfo};
use downhill_optim::spec::{split_top_level, ConfigError, Spec};

/// A schedule name a spec can use.
pub struct Entry {
    pub name: &'static str,
    /// The PyTorch class it reproduces.
    pub pytorch: &'static str,
    pub summary: &'static str,
    /// Keys a spec must give (no default).
    pub required: &'static [&'static str],
}

/// Every schedule name, in the order help texts show them.
pub const SCHEDULES: &[Entry] = &[
    Entry { name: "constant", pytorch: "ConstantLR", summary: "base·factor until total_iters, then base", required: &[] },
    Entry { name: "linear", pytorch: "LinearLR", summary: "factor ramps linearly from start_factor to end_factor over total_iters (warm-up)", required: &[] },
    Entry { name: "step", pytorch: "StepLR", summary: "×gamma every step_size steps", required: &["step_size"] },
    Entry { name: "multistep", pytorch: "MultiStepLR", summary: "×gamma at each of the milestones", required: &["milestones"] },
    Entry { name: "exponential", pytorch: "ExponentialLR", summary: "×gamma every step", required: &["gamma"] },
    Entry { name: "polynomial", pytorch: "PolynomialLR", summary: "base·(1 − t/total_iters)^power, then 0", required: &[] },
    Entry { name: "cosine", pytorch: "CosineAnnealingLR", summary: "half a cosine from base to eta_min over t_max steps, oscillating beyond", required: &["t_max"] },
    Entry { name: "cosine-restarts", pytorch: "CosineAnnealingWarmRestarts", summary: "cosine from base to eta_min, restarting after t_0, t_0·t_mult, … steps (SGDR)", required: &["t_0"] },
    Entry { name: "cyclic", pytorch: "CyclicLR", summary: "triangle waves between base_lr and max_lr (triangular, triangular2, exp_range); cycles momentum", required: &["base_lr", "max_lr"] },
    Entry { name: "onecycle", pytorch: "OneCycleLR", summary: "up from max_lr/div_factor to max_lr, then down to a tiny lr over total_steps; cycles momentum", required: &["max_lr"] },
    Entry { name: "multiplicative", pytorch: "MultiplicativeLR", summary: "×factor every step", required: &["factor"] },
    Entry { name: "plateau", pytorch: "ReduceLROnPlateau", summary: "×factor when the observed metric stops improving for patience steps", required: &[] },
    Entry { name: "sequential", pytorch: "SequentialLR", summary: "schedulers=[a;b;…] one after another, switching at milestones=[…]", required: &["schedulers"] },
    Entry { name: "chained", pytorch: "ChainedScheduler", summary: "schedulers=[a;b;…] all applied at every step (their factors multiply)", required: &["schedulers"] },
    Entry { name: "swalr", pytorch: "swa_utils.SWALR", summary: "anneals from the lr in force to swa_lr over anneal_epochs steps (cos or linear), then keeps it", required: &["swa_lr"] },
];

impl Entry {
    /// Looks a name up.
    pub fn find(name: &str) -> Result<&'static Entry, ConfigError> {
        SCHEDULES
            .iter()
            .find(|e| e.name == name)
            .ok_or_else(|| unknown_schedule(name))
    }

    /// The keys with their defaults, ranges and docs; the composites
    /// (`sequential`, `chained`) take `schedulers=[…]` and have none.
    pub fn keys(&self) -> Vec<KeyInfo> {
        match self.name {
            "constant" => Constant::default().keys(),
            "linear" => Linear::default().keys(),
            "step" => StepLr::default().keys(),
            "multistep" => MultiStep::default().keys(),
            "exponential" => Exponential::default().keys(),
            "polynomial" => Polynomial::default().keys(),
            "cosine" => Cosine::default().keys(),
            "cosine-restarts" => CosineRestarts::default().keys(),
            "cyclic" => Cyclic::default().keys(),
            "onecycle" => OneCycle::default().keys(),
            "multiplicative" => Multiplicative::default().keys(),
            "plateau" => PlateauConfig::default().keys(),
            "swalr" => Swalr::default().keys(),
            _ => Vec::new(),
        }
    }
}

fn unknown_schedule(name: &str) -> ConfigError {
    let valid: Vec<&str> = SCHEDULES.iter().map(|e| e.name).collect();
    ConfigError::unknown_name("schedule", name, &valid)
}

/// Builds a schedule from a spec such as `cosine:t_max=100,eta_min=0.001`.
pub fn build(text: &str) -> Result<AnySchedule, ConfigError> {
    build_spec(&Spec::parse(text)?)
}

fn build_spec(spec: &Spec) -> Result<AnySchedule, ConfigError> {
    Ok(match spec.name.as_str() {
        "constant" => AnySchedule::Constant(keyed::<Constant>(spec)?),
        "linear" => AnySchedule::Linear(keyed::<Linear>(spec)?),
        "step" => AnySchedule::Step(keyed::<StepLr>(spec)?),
        "multistep" => AnySchedule::Multistep(keyed::<MultiStep>(spec)?),
        "exponential" => AnySchedule::Exponential(keyed::<Exponential>(spec)?),
        "polynomial" => AnySchedule::Polynomial(keyed::<Polynomial>(spec)?),
        "cosine" => AnySchedule::Cosine(keyed::<Cosine>(spec)?),
        "cosine-restarts" => AnySchedule::CosineRestarts(keyed::<CosineRestarts>(spec)?),
        "cyclic" => AnySchedule::Cyclic(keyed::<Cyclic>(spec)?),
        "onecycle" => {
            let one: OneCycle = keyed(spec)?;
            one.validate()
                .map_err(|e| ConfigError::key("onecycle", e))?;
            AnySchedule::Onecycle(one)
        }
        "multiplicative" => AnySchedule::Multiplicative(keyed::<Multiplicative>(spec)?),
        "swalr" => AnySchedule::Swalr(keyed::<Swalr>(spec)?),
        "plateau" => AnySchedule::Plateau(Plateau {
            config: keyed::<PlateauConfig>(spec)?,
            ..Plateau::default()
        }),
        "sequential" => {
            let members = members(spec, &["schedulers", "milestones"])?;
            let milestones = match value(spec, "milestones") {
                Some(raw) => downhill_optim::hyper::HyperValue::parse(raw).ok_or_else(|| {
                    ConfigError::key(
                        "sequential",
                        KeyError::NotOfType {
                            key: "milestones".into(),
                            raw: raw.into(),
                            expected: <Vec<u64> as downhill_optim::hyper::HyperValue>::EXPECTED,
                        },
                    )
                })?,
                None => Vec::new(),
            };
            AnySchedule::Sequential(Sequential::new(members, milestones)?)
        }
        "chained" => AnySchedule::Chained(Chained::new(members(spec, &["schedulers"])?)?),
        other => return Err(unknown_schedule(other)),
    })
}

/// A keyed schedule from its defaults and the spec's keys; the entry's
/// required keys must be given. Unknown keys are reported first (`tmax` is a
/// misspelt `t_max`, not a missing one).
fn keyed<H: Hyper + Default>(spec: &Spec) -> Result<H, ConfigError> {
    let mut target = H::default();
    let keys = target.keys();
    let valid: Vec<&str> = keys.iter().map(|k| k.name).collect();
    if let Some((key, _)) = spec.args.iter().find(|(k, _)| !valid.contains(&k.as_str())) {
        return Err(ConfigError::key(&spec.name, KeyError::unknown(key, &valid)));
    }
    let required = Entry::find(&spec.name)?.required;
    if let Some(key) = required.iter().find(|k| value(spec, k).is_none()) {
        return Err(ConfigError::key(
            &spec.name,
            KeyError::Constraint(format!("missing required key '{key}'")),
        ));
    }
    spec.apply(&mut target, None)?;
    Ok(target)
}

fn value<'a>(spec: &'a Spec, key: &str) -> Option<&'a str> {
    spec.args
        .iter()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.as_str())
}

/// The member schedules of a composite: `schedulers=[spec;spec;…]`.
fn members(spec: &Spec, allowed: &[&str]) -> Result<Vec<AnySchedule>, ConfigError> {
    let owner = spec.name.as_str();
    if let Some((key, _)) = spec
        .args
        .iter()
        .find(|(k, _)| !allowed.contains(&k.as_str()))
    {
        return Err(ConfigError::key(owner, KeyError::unknown(key, allowed)));
    }
    let shape = "a bracketed list of schedule specs separated by ';', like [linear:total_iters=5;cosine:t_max=95]";
    let bad = |raw: &str| {
        ConfigError::key(
            owner,
            KeyError::NotOfType {
                key: "schedulers".into(),
                raw: raw.into(),
                expected: shape,
            },
        )
    };
    let raw = value(spec, "schedulers").ok_or_else(|| {
        ConfigError::key(
            owner,
            KeyError::Constraint("missing required key 'schedulers'".into()),
        )
    })?;
    let inner = raw
        .strip_prefix('[')
        .and_then(|r| r.strip_suffix(']'))
        .ok_or_else(|| bad(raw))?;
    let parts = split_top_level(inner, ';').map_err(|_| bad(raw))?;
    if parts.iter().any(|p| p.trim().is_empty()) {
        return Err(bad(raw));
    }
    parts.into_iter().map(build).collect()
}
