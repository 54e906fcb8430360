//! `downhill sweep`: every optimizer × learning rate × parameter value on one
//! surface, one CSV row per grid point, with optional panel-grid and heatmap
//! figures.

use super::run::resolve_problem;
use crate::output::number;
use crate::plot::file::{check_output, write_atomic, write_figure, Still};
use crate::plot::sweep::{Cell, Heatmap, PanelGrid};
use crate::CliError;
use clap::Args;
use downhill::lab::{self, Trajectory};
use downhill::optim::{self, OPTIMIZERS};
use downhill::spec::Spec;
use downhill::surface::Resolved;
use rayon::prelude::*;
use std::path::PathBuf;

#[derive(Args)]
pub struct SweepArgs {
    /// Surface name (see `downhill list surfaces`).
    #[arg(long, default_value = "quartic")]
    surface: String,
    /// Start point X,Y (default: the surface's own start).
    #[arg(long, allow_hyphen_values = true)]
    start: Option<String>,
    /// Optimizer spec NAME[:key=value,…]; repeat for several.
    #[arg(long = "optimizer", short = 'o', required = true)]
    optimizers: Vec<String>,
    /// Learning rates, comma-separated (e.g. 0.001,0.01,0.1); each overrides the spec's lr.
    #[arg(long, required = true, allow_hyphen_values = true)]
    lr: String,
    /// Another swept key, KEY=V1,V2,…; applies to the optimizers that have KEY. Repeatable.
    #[arg(long = "param", value_name = "KEY=V1,V2")]
    params: Vec<String>,
    /// Number of updates per run.
    #[arg(long, default_value_t = 100)]
    steps: usize,
    /// Distance to a known minimum that counts as reached.
    #[arg(long, default_value_t = 1e-3)]
    eps: f64,
    /// Write the results here, one row per grid point.
    #[arg(long, value_name = "FILE", required = true)]
    csv: PathBuf,
    /// Heatmap of the final loss (optimizer × lr, divergence marked), .png or .svg.
    #[arg(long, value_name = "FILE")]
    plot: Option<PathBuf>,
    /// Panel grid: rows = lr, columns = x(t), y(t), f(t), one line per optimizer; .png or .svg.
    #[arg(long, value_name = "FILE")]
    grid: Option<PathBuf>,
}

/// A swept key and its values as typed.
struct Param {
    key: String,
    values: Vec<String>,
}

/// One grid point and its run.
pub struct Point {
    /// The spec as given.
    pub optimizer: String,
    /// The swept values of the keys this optimizer has (`None` where it has not).
    pub params: Vec<Option<String>>,
    pub lr: f64,
    pub path: Trajectory,
}

impl Point {
    /// The row label of the figures: the spec and its swept values.
    pub fn variant(&self, keys: &[String]) -> String {
        let mut label = self.optimizer.clone();
        for (key, value) in keys.iter().zip(&self.params) {
            if let Some(v) = value {
                label.push_str(&format!(" {key}={v}"));
            }
        }
        label
    }
}

/// Parses `0.001,0.01,0.1` into non-negative finite numbers.
pub fn parse_lrs(text: &str) -> Result<Vec<f64>, CliError> {
    let bad = || {
        CliError(format!(
            "--lr must be comma-separated non-negative numbers (e.g. 0.001,0.01,0.1), got '{text}'"
        ))
    };
    text.split(',')
        .map(|part| match part.trim().parse::<f64>() {
            Ok(v) if v.is_finite() && v >= 0.0 => Ok(v),
            _ => Err(bad()),
        })
        .collect()
}

fn parse_param(text: &str) -> Result<Param, CliError> {
    let bad = || {
        CliError(format!(
            "--param must be KEY=V1,V2,… (e.g. momentum=0.5,0.9), got '{text}'"
        ))
    };
    let (key, values) = text.split_once('=').ok_or_else(bad)?;
    let key = key.trim();
    let values: Vec<String> = values.split(',').map(|v| v.trim().to_string()).collect();
    if key.is_empty() || key == "lr" || values.iter().any(String::is_empty) {
        return Err(bad());
    }
    Ok(Param {
        key: key.to_string(),
        values,
    })
}

/// Whether the optimizer named in `spec` accepts `key`.
fn accepts(spec: &Spec, key: &str) -> bool {
    OPTIMIZERS
        .iter()
        .find(|e| e.name == spec.name)
        .is_some_and(|e| match e.keys {
            Some(keys) => keys.contains(&key),
            None => (e.make)().hyper().get(key).is_some(),
        })
}

/// The spec text with `overrides` replacing or adding keys.
fn with_overrides(spec: &Spec, overrides: &[(&str, String)]) -> String {
    let mut args: Vec<(String, String)> = spec
        .args
        .iter()
        .filter(|(k, _)| !overrides.iter().any(|(o, _)| o == k))
        .cloned()
        .collect();
    args.extend(overrides.iter().map(|(k, v)| (k.to_string(), v.clone())));
    let body: Vec<String> = args.iter().map(|(k, v)| format!("{k}={v}")).collect();
    format!("{}:{}", spec.name, body.join(","))
}

/// Every combination of the applicable parameters' values.
fn combinations(spec: &Spec, params: &[Param]) -> Vec<Vec<Option<String>>> {
    let mut combos: Vec<Vec<Option<String>>> = vec![Vec::new()];
    for p in params {
        let choices: Vec<Option<String>> = if accepts(spec, &p.key) {
            p.values.iter().cloned().map(Some).collect()
        } else {
            vec![None]
        };
        combos = combos
            .into_iter()
            .flat_map(|c| {
                choices.iter().map(move |v| {
                    let mut next = c.clone();
                    next.push(v.clone());
                    next
                })
            })
            .collect();
    }
    combos
}

pub fn run(args: SweepArgs) -> Result<(), CliError> {
    let plot_kind = args
        .plot
        .as_deref()
        .map(|p| Still::from_path("--plot", p))
        .transpose()?;
    let grid_kind = args
        .grid
        .as_deref()
        .map(|p| Still::from_path("--grid", p))
        .transpose()?;
    check_output("--csv", &args.csv)?;
    for (flag, path) in [("--plot", &args.plot), ("--grid", &args.grid)] {
        if let Some(path) = path {
            check_output(flag, path)?;
        }
    }
    let (surface, start) = resolve_problem(&args.surface, args.start.as_deref(), args.steps)?;
    if !(args.eps.is_finite() && args.eps > 0.0) {
        return Err(CliError(format!(
            "--eps must be a positive number, got {}",
            args.eps
        )));
    }
    let lrs = parse_lrs(&args.lr)?;
    let params = args
        .params
        .iter()
        .map(|p| parse_param(p))
        .collect::<Result<Vec<_>, _>>()?;
    let specs = args
        .optimizers
        .iter()
        .map(|s| Spec::parse(s))
        .collect::<Result<Vec<_>, _>>()?;
    for p in &params {
        if !specs.iter().any(|s| accepts(s, &p.key)) {
            return Err(CliError(format!(
                "--param {}: none of the optimizers has the key '{}'",
                p.key, p.key
            )));
        }
    }
    let mut jobs = Vec::new();
    for (text, spec) in args.optimizers.iter().zip(&specs) {
        for combo in combinations(spec, &params) {
            for &lr in &lrs {
                let mut overrides = vec![("lr", number(lr))];
                for (p, v) in params.iter().zip(&combo) {
                    if let Some(v) = v {
                        overrides.push((p.key.as_str(), v.clone()));
                    }
                }
                let rule = optim::build(&with_overrides(spec, &overrides))?;
                jobs.push((text.clone(), combo.clone(), lr, rule));
            }
        }
    }
    let bar = crate::plot::args::progress("runs");
    bar.inc_length(jobs.len() as u64);
    let points = jobs
        .into_par_iter()
        .map(|(optimizer, params, lr, rule)| {
            let path = lab::trajectory::<f64, _>(
                surface.landscape.as_ref(),
                start,
                rule,
                args.steps,
                |_, _| Ok(()),
            );
            bar.inc(1);
            path.map(|path| Point {
                optimizer,
                params,
                lr,
                path,
            })
        })
        .collect::<Result<Vec<_>, _>>()?;
    bar.finish_and_clear();
    let keys: Vec<String> = params.iter().map(|p| p.key.clone()).collect();
    write_csv(&args, &surface, &keys, &points)?;
    let title = format!(
        "{} from ({}, {}) — {} steps",
        surface.label,
        number(start[0]),
        number(start[1]),
        args.steps
    );
    if let (Some(path), Some(kind)) = (&args.grid, grid_kind) {
        write_figure(
            path,
            kind,
            &PanelGrid {
                title: &title,
                keys: &keys,
                points: &points,
                lrs: &lrs,
            },
        )?;
    }
    if let (Some(path), Some(kind)) = (&args.plot, plot_kind) {
        let cells: Vec<Cell> = points
            .iter()
            .map(|p| Cell {
                row: p.variant(&keys),
                lr: p.lr,
                loss: p.path.points.last().map(|q| q.loss),
                diverged: p.path.diverged.as_ref().map(|d| d.step),
            })
            .collect();
        write_figure(
            path,
            kind,
            &Heatmap {
                title: &title,
                cells: &cells,
                lrs: &lrs,
            },
        )?;
    }
    Ok(())
}

/// The first step within `eps` of a known minimum.
pub fn steps_to(path: &Trajectory, minima: &[[f64; 2]], eps: f64) -> Option<usize> {
    path.points
        .iter()
        .find(|p| minima.iter().any(|m| (p.x - m[0]).hypot(p.y - m[1]) <= eps))
        .map(|p| p.step)
}

fn write_csv(
    args: &SweepArgs,
    surface: &Resolved,
    keys: &[String],
    points: &[Point],
) -> Result<(), CliError> {
    let mut header = vec!["optimizer".to_string(), "lr".to_string()];
    header.extend(keys.iter().cloned());
    header.extend(
        [
            "final_step",
            "final_x",
            "final_y",
            "final_loss",
            "steps_to_eps",
            "diverged",
        ]
        .map(String::from),
    );
    write_atomic(&args.csv, |file| {
        let mut writer = csv::Writer::from_writer(file);
        writer.write_record(&header)?;
        for p in points {
            let mut row = vec![p.optimizer.clone(), number(p.lr)];
            row.extend(p.params.iter().map(|v| v.clone().unwrap_or_default()));
            match p.path.points.last() {
                Some(last) => {
                    row.extend([
                        last.step.to_string(),
                        number(last.x),
                        number(last.y),
                        number(last.loss),
                    ]);
                }
                None => row.extend(["", "", "", ""].map(String::from)),
            }
            row.push(
                steps_to(&p.path, &surface.minima, args.eps)
                    .map(|s| s.to_string())
                    .unwrap_or_default(),
            );
            row.push(p.path.diverged.is_some().to_string());
            writer.write_record(&row)?;
        }
        writer.flush()?;
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn learning_rate_lists() {
        assert_eq!(
            parse_lrs("0.001, 0.01,0.1").unwrap(),
            vec![0.001, 0.01, 0.1]
        );
        for bad in ["", "0.1,", "x", "-1", "inf", "0.1;0.2"] {
            assert!(parse_lrs(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn overrides_replace_the_spec_keys() {
        let spec = Spec::parse("momentum:lr=0.5,momentum=0.1,dampening=0").unwrap();
        let text = with_overrides(&spec, &[("lr", "0.01".into()), ("momentum", "0.9".into())]);
        assert_eq!(text, "momentum:dampening=0,lr=0.01,momentum=0.9");
    }

    #[test]
    fn parameters_multiply_only_the_optimizers_that_have_them() {
        let params = [Param {
            key: "momentum".into(),
            values: vec!["0.5".into(), "0.9".into()],
        }];
        assert_eq!(combinations(&Spec::parse("nag").unwrap(), &params).len(), 2);
        assert_eq!(
            combinations(&Spec::parse("gd").unwrap(), &params),
            vec![vec![None]]
        );
        assert_eq!(
            combinations(&Spec::parse("adam").unwrap(), &params),
            vec![vec![None]]
        );
    }
}
