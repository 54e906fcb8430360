//! `--emit pytorch`: a Python script that walks the same paths with
//! torch.optim in float64 and prints the CSV.
//!
//! The surface is written from its formula (a built-in's formula is that of
//! `downhill list surfaces`) and evaluated in plain Python floats, its exact
//! gradient by forward-mode dual numbers with downhill's operation order, so
//! the optimizers see the gradients downhill's see (autograd's reverse mode
//! rounds differently). Optimizer specs become torch.optim constructors
//! with the keys that differ from the defaults, schedule specs
//! `torch.optim.lr_scheduler` objects. What torch.optim lacks is named in the
//! script, which then refuses to run rather than print other numbers.

use super::Problem;
use crate::error::CliError;
use downhill::hyper::Value;
use downhill::lab::ParamShape;
use downhill::optim::{self, Entry};
use downhill::spec::{split_top_level, Spec};
use downhill::surface::formula::{Expr, Formula, Op};
use downhill::surface::{self, Surface};

/// A torch keyword and the downhill keys it takes (two for a split tuple).
type Keyword = (&'static str, &'static [&'static str]);

/// torch.optim classes the export writes: downhill name, class, keywords.
#[rustfmt::skip]
const TORCH_OPTIMIZERS: &[(&str, &str, &[Keyword])] = &[
    ("sgd", "SGD", &[("lr", &["lr"]), ("momentum", &["momentum"]), ("dampening", &["dampening"]), ("weight_decay", &["weight_decay"]), ("nesterov", &["nesterov"]), ("maximize", &["maximize"])]),
    ("adagrad", "Adagrad", &[("lr", &["lr"]), ("lr_decay", &["lr_decay"]), ("weight_decay", &["weight_decay"]), ("initial_accumulator_value", &["initial_accumulator_value"]), ("eps", &["eps"]), ("maximize", &["maximize"])]),
    ("rmsprop", "RMSprop", &[("lr", &["lr"]), ("alpha", &["alpha"]), ("eps", &["eps"]), ("weight_decay", &["weight_decay"]), ("momentum", &["momentum"]), ("centered", &["centered"]), ("maximize", &["maximize"])]),
    ("adadelta", "Adadelta", &[("lr", &["lr"]), ("rho", &["rho"]), ("eps", &["eps"]), ("weight_decay", &["weight_decay"]), ("maximize", &["maximize"])]),
    ("adam", "Adam", &[("lr", &["lr"]), ("betas", &["beta1", "beta2"]), ("eps", &["eps"]), ("weight_decay", &["weight_decay"]), ("amsgrad", &["amsgrad"]), ("maximize", &["maximize"]), ("decoupled_weight_decay", &["decoupled_weight_decay"])]),
    ("adamw", "AdamW", &[("lr", &["lr"]), ("betas", &["beta1", "beta2"]), ("eps", &["eps"]), ("weight_decay", &["weight_decay"]), ("amsgrad", &["amsgrad"]), ("maximize", &["maximize"])]),
    ("nadam", "NAdam", &[("lr", &["lr"]), ("betas", &["beta1", "beta2"]), ("eps", &["eps"]), ("weight_decay", &["weight_decay"]), ("momentum_decay", &["momentum_decay"]), ("decoupled_weight_decay", &["decoupled_weight_decay"]), ("maximize", &["maximize"])]),
    ("radam", "RAdam", &[("lr", &["lr"]), ("betas", &["beta1", "beta2"]), ("eps", &["eps"]), ("weight_decay", &["weight_decay"]), ("decoupled_weight_decay", &["decoupled_weight_decay"]), ("maximize", &["maximize"])]),
    ("adamax", "Adamax", &[("lr", &["lr"]), ("betas", &["beta1", "beta2"]), ("eps", &["eps"]), ("weight_decay", &["weight_decay"]), ("maximize", &["maximize"])]),
    ("rprop", "Rprop", &[("lr", &["lr"]), ("etas", &["eta_minus", "eta_plus"]), ("step_sizes", &["step_min", "step_max"]), ("maximize", &["maximize"])]),
    ("asgd", "ASGD", &[("lr", &["lr"]), ("lambd", &["lambd"]), ("alpha", &["alpha"]), ("t0", &["t0"]), ("weight_decay", &["weight_decay"]), ("maximize", &["maximize"])]),
];

/// The learning notes' names for torch.optim.SGD settings.
const SGD_PRESETS: [&str; 2] = ["gd", "momentum"];

/// torch.optim scheduler classes by downhill schedule name.
const TORCH_SCHEDULES: &[(&str, &str)] = &[
    ("constant", "lr_scheduler.ConstantLR"),
    ("linear", "lr_scheduler.LinearLR"),
    ("step", "lr_scheduler.StepLR"),
    ("multistep", "lr_scheduler.MultiStepLR"),
    ("exponential", "lr_scheduler.ExponentialLR"),
    ("polynomial", "lr_scheduler.PolynomialLR"),
    ("cosine", "lr_scheduler.CosineAnnealingLR"),
    (
        "cosine-restarts",
        "lr_scheduler.CosineAnnealingWarmRestarts",
    ),
    ("cyclic", "lr_scheduler.CyclicLR"),
    ("onecycle", "lr_scheduler.OneCycleLR"),
    ("multiplicative", "lr_scheduler.MultiplicativeLR"),
    ("plateau", "lr_scheduler.ReduceLROnPlateau"),
    ("sequential", "lr_scheduler.SequentialLR"),
    ("chained", "lr_scheduler.ChainedScheduler"),
    ("swalr", "swa_utils.SWALR"),
];

/// A Python expression, or why torch has none.
type Written = Result<String, String>;

/// The script for `problem` (its specs already checked by the library).
pub fn script(problem: &Problem) -> Result<String, CliError> {
    let resolved = surface::resolve(&problem.surface)?;
    let formula = match Surface::from_name(problem.surface.trim()) {
        Some(s) => Formula::parse(s.info().formula).expect("a built-in's formula parses"),
        None => Formula::parse(&problem.surface).map_err(surface::SurfaceError::from)?,
    };
    let mut lacking = Vec::new();
    let mut runs = String::new();
    for spec in &problem.specs {
        match optimizer(spec)? {
            Ok(make) => runs.push_str(&format!("    ({}, lambda p: {make}),\n", py_str(spec))),
            Err(why) => {
                runs.push_str(&format!("    # {spec}: {why}\n"));
                lacking.push(format!("{spec}: {why}"));
            }
        }
    }
    let (schedule, plateau) = match problem.schedule.as_deref() {
        None => ("None".to_string(), false),
        Some(text) => match schedule(text) {
            Ok(make) => (
                format!("lambda opt: {make}"),
                Spec::parse(text)?.name == "plateau",
            ),
            Err(why) => {
                lacking.push(format!("schedule {text}: {why}"));
                (format!("None  # {why}"), false)
            }
        },
    };
    let start = format!(
        "{}, {}",
        py_float(problem.start[0]),
        py_float(problem.start[1])
    );
    let start = match problem.shape {
        ParamShape::Vector => format!("[{start}]"),
        ParamShape::Row => format!("[[{start}]]"),
    };
    let lacking: Vec<String> = lacking
        .iter()
        .map(|l| format!("\n    {},", py_str(l)))
        .collect();
    let body = TEMPLATE
        .replace("@COMMAND@", &one_line(&problem.command_line()))
        .replace("@LABEL@", &one_line(&resolved.label))
        .replace("@FORMULA@", &one_line(formula.text()))
        .replace("@EXPR@", &function_body(formula.expr()))
        .replace("@START@", &start)
        .replace("@STEPS@", &problem.steps.to_string())
        .replace("@RUNS@", &runs)
        .replace("@SCHEDULE@", &schedule)
        .replace("@PLATEAU@", if plateau { "True" } else { "False" })
        .replace("@LACKING@", &lacking.concat());
    Ok(body)
}

/// `text` on one line (for a comment or a docstring).
fn one_line(text: &str) -> String {
    text.replace(['\n', '\r'], " ")
}

/// The torch.optim constructor for `spec` (`p` is the parameter), or why there is none.
fn optimizer(spec: &str) -> Result<Written, CliError> {
    let name = Spec::parse(spec)?.name;
    let rule = optim::build(spec)?;
    let values = rule.hyper().keys();
    let value = |key: &str| {
        values
            .iter()
            .find(|k| k.name == key)
            .map(|k| k.value.clone())
    };
    if name == "nag" {
        let (lr, mu) = (value("lr"), value("momentum"));
        return Ok(Ok(format!(
            "NAG([p], lr={}, momentum={})",
            py_value(&lr.expect("nag has lr")),
            py_value(&mu.expect("nag has momentum"))
        )));
    }
    let base = if SGD_PRESETS.contains(&name.as_str()) {
        "sgd"
    } else {
        name.as_str()
    };
    let Some((_, class, keywords)) = TORCH_OPTIMIZERS.iter().find(|(n, _, _)| *n == base) else {
        let summary = Entry::find(&name)?.summary;
        let written: Vec<&str> = TORCH_OPTIMIZERS.iter().map(|(_, c, _)| *c).collect();
        return Ok(Err(match summary.split(':').next() {
            // A torch class the export does not write (it steps differently or needs other shapes).
            Some(class) if class.starts_with("torch.optim.") => format!(
                "the export writes no {class} for {name}; it writes {} and the notes' nag",
                written.join(", ")
            ),
            _ => format!("torch.optim has no {name} ({summary})"),
        }));
    };
    let defaults = (Entry::find(base)?.make)();
    let default = |key: &str| defaults.hyper().get(key);
    // A key torch does not take may stay at its default only.
    for key in &values {
        let taken = keywords.iter().any(|(_, keys)| keys.contains(&key.name));
        if !taken && default(key.name).as_ref() != Some(&key.value) {
            return Ok(Err(format!("torch.optim.{class} has no key {}", key.name)));
        }
    }
    let mut args = vec!["[p]".to_string()];
    for (keyword, keys) in keywords.iter() {
        let given: Vec<Value> = keys.iter().filter_map(|k| value(k)).collect();
        let changed = keys.iter().any(|k| value(k) != default(k));
        if given.len() == keys.len() && (changed || *keyword == "lr") {
            let text: Vec<String> = given.iter().map(py_value).collect();
            args.push(match text.as_slice() {
                [one] => format!("{keyword}={one}"),
                many => format!("{keyword}=({})", many.join(", ")),
            });
        }
    }
    args.push("foreach=False".to_string());
    Ok(Ok(format!("torch.optim.{class}({})", args.join(", "))))
}

/// The `torch.optim.lr_scheduler` object for a schedule spec on `opt`, or why there is none.
fn schedule(text: &str) -> Written {
    let spec = Spec::parse(text).map_err(|e| e.to_string())?;
    let class = TORCH_SCHEDULES
        .iter()
        .find(|(n, _)| *n == spec.name)
        .map(|(_, c)| *c)
        .ok_or_else(|| format!("the export writes no torch scheduler for '{}'", spec.name))?;
    let members = |raw: &str| -> Result<Vec<String>, String> {
        let inner = raw.trim().trim_start_matches('[').trim_end_matches(']');
        split_top_level(inner, ';')?
            .into_iter()
            .map(
                |m| match Spec::parse(m).map_err(|e| e.to_string())?.name.as_str() {
                    "plateau" => {
                        Err("ReduceLROnPlateau cannot be a member of a torch composite".into())
                    }
                    _ => schedule(m),
                },
            )
            .collect()
    };
    let mut args = Vec::new();
    let mut milestones = None;
    for (key, raw) in &spec.args {
        match (spec.name.as_str(), key.as_str()) {
            ("sequential" | "chained", "schedulers") => {
                args.insert(0, format!("[{}]", members(raw)?.join(", ")))
            }
            ("sequential", "milestones") => milestones = Some(raw.clone()),
            ("multiplicative", "factor") => {
                args.push(format!("lr_lambda=lambda _: {}", py_literal(raw)))
            }
            ("cyclic", "step_size_down") if raw.trim() == "0" => {
                args.push("step_size_down=None".into())
            }
            (_, "epochs" | "steps_per_epoch" | "total_steps") if raw.trim() == "0" => {}
            (_, key) => {
                let key = match key {
                    "t_max" => "T_max",
                    "t_0" => "T_0",
                    "t_mult" => "T_mult",
                    other => other,
                };
                args.push(format!("{key}={}", py_literal(raw)));
            }
        }
    }
    let opt = match spec.name.as_str() {
        // ChainedScheduler takes the schedulers first.
        "chained" => {
            args.push("optimizer=opt".into());
            None
        }
        _ => Some("opt".to_string()),
    };
    if let Some(m) = milestones {
        args.push(format!("milestones={}", py_literal(&m)));
    }
    let all: Vec<String> = opt.into_iter().chain(args).collect();
    Ok(format!("torch.optim.{class}({})", all.join(", ")))
}

/// `return …` of `f(x, y)`: constant parts are the numbers downhill computes for them.
fn function_body(expr: &Expr) -> String {
    match expr.constant_value() {
        Some(c) => py_float(c),
        None => py_expr(expr),
    }
}

/// A formula as Python in `x` and `y` (floats or `Dual`s), evaluated in the
/// formula's order; `/`, powers and functions go through the script's helpers,
/// which give IEEE results (inf, nan) where Python would raise.
fn py_expr(expr: &Expr) -> String {
    if let Some(c) = expr.constant_value() {
        return match py_float(c) {
            text if c < 0.0 => format!("({text})"),
            text => text,
        };
    }
    match expr {
        Expr::Number(c) => py_float(*c),
        Expr::X => "x".into(),
        Expr::Y => "y".into(),
        Expr::Neg(e) => format!("(-{})", py_expr(e)),
        Expr::Chain(first, rest) => {
            let mut text = py_expr(first);
            for (op, e) in rest {
                let e = py_expr(e);
                text = match op {
                    Op::Add => format!("{text} + {e}"),
                    Op::Sub => format!("{text} - {e}"),
                    Op::Mul => format!("{text} * {e}"),
                    Op::Div => format!("div({text}, {e})"),
                };
            }
            format!("({text})")
        }
        Expr::PowI(base, n) => format!("powi({}, {n})", py_expr(base)),
        Expr::Pow(base, exponent) => format!("power({}, {})", py_expr(base), py_expr(exponent)),
        Expr::Call(f, e) => format!("call({:?}, {})", f.name(), py_expr(e)),
    }
}

/// A float as a Python literal that reads back as the same f64.
fn py_float(v: f64) -> String {
    if v.is_finite() {
        format!("{v:?}")
    } else {
        format!("float('{v}')")
    }
}

/// A typed hyperparameter as a Python literal.
fn py_value(value: &Value) -> String {
    match value {
        Value::Bool(b) => (if *b { "True" } else { "False" }).into(),
        Value::Int(i) => i.to_string(),
        Value::Float(x) => py_float(*x),
        Value::Text(s) => py_str(s),
        other => other.to_string(),
    }
}

/// Spec text as a Python literal: a boolean, a list, an int, a float or a string.
fn py_literal(raw: &str) -> String {
    let raw = raw.trim();
    match raw {
        "true" => "True".into(),
        "false" => "False".into(),
        _ if raw.starts_with('[') => raw.to_string(),
        _ if raw.parse::<i64>().is_ok() => raw.to_string(),
        _ => match raw.parse::<f64>() {
            Ok(v) => py_float(v),
            Err(_) => py_str(raw),
        },
    }
}

/// A Python string literal.
fn py_str(text: &str) -> String {
    serde_json::to_string(text).expect("a string serialises")
}

/// The script; `@MARK@`s are filled in by [`script`].
const TEMPLATE: &str = include_str!("template.py");
