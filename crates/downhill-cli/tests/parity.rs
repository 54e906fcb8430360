//! Optimizer parity with PyTorch: `downhill run` must reproduce the golden
//! trajectories that `scripts/golden_optim.py` computed with `torch.optim`
//! (float64, single-tensor code path) and wrote to `tests/golden/optim/`.
//!
//! For every surface in `cases.json`, all of that surface's specs run in one
//! invocation:
//!
//! ```text
//! downhill run --surface S --start=X,Y --steps N --format csv --optimizer SPEC …
//! ```
//!
//! and every `x`, `y` and `loss` of steps 0..=N is compared with the golden
//! value. Regenerate the golden files with `python3 scripts/golden_optim.py`.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

const GOLDEN_DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../tests/golden/optim");
const HEADER: [&str; 5] = ["optimizer", "step", "x", "y", "loss"];
const COLUMNS: [&str; 3] = ["x", "y", "loss"];

/// Relative tolerance.
///
/// A value `a` matches the golden `b` when `|a − b| <= REL_TOL · max(|b|, ABS_FLOOR)`:
/// relative error 1e-9 for values of magnitude above 1e-3, and an absolute error
/// of 1e-12 below that, so coordinates and losses that converge to 0 (where a
/// relative error is meaningless) are held to a fixed absolute bound instead.
/// The generator rejects cases whose trajectories amplify one-ulp perturbations
/// beyond 1e-11 in this measure, so only a wrong formula, default or operation
/// (not rounding) can exceed it.
const REL_TOL: f64 = 1e-9;
const ABS_FLOOR: f64 = 1e-3;

/// Error of `actual` against `golden` in units of the tolerance's scale.
fn scaled_error(actual: f64, golden: f64) -> f64 {
    let err = (actual - golden).abs() / golden.abs().max(ABS_FLOOR);
    if err.is_nan() {
        f64::INFINITY
    } else {
        err
    }
}

/// One trajectory: (x, y, loss) for steps 0..=N.
type Rows = Vec<[f64; 3]>;

struct Surface {
    name: String,
    start: [f64; 2],
    steps: usize,
    file: PathBuf,
    cases: Option<Vec<String>>,
}

fn load_surfaces(dir: &Path) -> Vec<Surface> {
    let path = dir.join("cases.json");
    let text =
        fs::read_to_string(&path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    let json: serde_json::Value =
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let surfaces = json["surfaces"]
        .as_object()
        .unwrap_or_else(|| panic!("{}: no \"surfaces\" object", path.display()));
    assert!(!surfaces.is_empty(), "{}: no surfaces", path.display());
    surfaces
        .iter()
        .map(|(name, s)| {
            let start = s["start"]
                .as_array()
                .filter(|a| a.len() == 2)
                .and_then(|a| Some([a[0].as_f64()?, a[1].as_f64()?]))
                .unwrap_or_else(|| panic!("{name}: \"start\" must be [x, y]"));
            let steps = s["steps"]
                .as_u64()
                .unwrap_or_else(|| panic!("{name}: \"steps\" must be a count"))
                as usize;
            let file = s["file"]
                .as_str()
                .map_or_else(|| format!("{name}.csv"), str::to_string);
            let cases = s["cases"].as_array().map(|list| {
                list.iter()
                    .map(|c| {
                        c.as_str()
                            .expect("\"cases\" holds spec strings")
                            .to_string()
                    })
                    .collect()
            });
            Surface {
                name: name.clone(),
                start,
                steps,
                file: dir.join(file),
                cases,
            }
        })
        .collect()
}

/// Parses `optimizer,step,x,y,loss` CSV into trajectories, in order of first
/// appearance, checking that each spec's rows are contiguous and numbered 0..=steps.
fn parse_trajectories(
    source: &str,
    reader: impl std::io::Read,
    steps: usize,
) -> Result<Vec<(String, Rows)>, String> {
    let mut csv = csv::ReaderBuilder::new()
        .has_headers(true)
        .from_reader(reader);
    let header = csv
        .headers()
        .map_err(|e| format!("{source}: bad header: {e}"))?;
    if header.iter().collect::<Vec<_>>() != HEADER {
        return Err(format!(
            "{source}: header is {:?}, expected {:?}",
            header,
            HEADER.join(",")
        ));
    }
    let mut out: Vec<(String, Rows)> = Vec::new();
    for (line, record) in csv.records().enumerate() {
        let line = line + 2;
        let record = record.map_err(|e| format!("{source} line {line}: {e}"))?;
        if record.len() != HEADER.len() {
            return Err(format!(
                "{source} line {line}: {} fields, expected 5",
                record.len()
            ));
        }
        let spec = &record[0];
        let step: usize = record[1]
            .parse()
            .map_err(|e| format!("{source} line {line}: step '{}': {e}", &record[1]))?;
        let mut values = [0.0; 3];
        for (k, value) in values.iter_mut().enumerate() {
            let text = &record[2 + k];
            *value = text.parse().map_err(|e| {
                format!(
                    "{source} line {line}: {} '{text}' is not a number: {e}",
                    COLUMNS[k]
                )
            })?;
        }
        match out.last_mut() {
            Some((last, rows)) if last == spec => {
                if step != rows.len() {
                    return Err(format!(
                        "{source} line {line}: '{spec}' step {step} follows step {}",
                        rows.len() - 1
                    ));
                }
                rows.push(values);
            }
            _ => {
                if out.iter().any(|(s, _)| s == spec) {
                    return Err(format!(
                        "{source} line {line}: rows of '{spec}' are not contiguous"
                    ));
                }
                if step != 0 {
                    return Err(format!(
                        "{source} line {line}: '{spec}' starts at step {step}"
                    ));
                }
                out.push((spec.to_string(), vec![values]));
            }
        }
        if out.last().is_some_and(|(_, rows)| rows.len() > steps + 1) {
            return Err(format!(
                "{source} line {line}: '{spec}' has more than {} rows",
                steps + 1
            ));
        }
    }
    Ok(out)
}

fn run_downhill(surface: &Surface, specs: &[&str]) -> Result<String, String> {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_downhill"));
    cmd.arg("run")
        .arg("--surface")
        .arg(&surface.name)
        // `=` form: the value may begin with '-', which would otherwise read as a flag.
        .arg(format!("--start={},{}", surface.start[0], surface.start[1]))
        .arg("--steps")
        .arg(surface.steps.to_string())
        .arg("--format")
        .arg("csv");
    for spec in specs {
        cmd.arg("--optimizer").arg(spec);
    }
    let output = cmd
        .output()
        .map_err(|e| format!("cannot run downhill: {e}"))?;
    if !output.status.success() {
        return Err(format!(
            "`{cmd:?}` exited with {}; stderr:\n{}",
            output.status,
            String::from_utf8_lossy(&output.stderr)
        ));
    }
    String::from_utf8(output.stdout).map_err(|e| format!("stdout is not UTF-8: {e}"))
}

/// Per optimizer name (the spec up to ':'): worst scaled error and where it occurred.
#[derive(Default)]
struct Worst {
    error: f64,
    place: String,
}

#[test]
fn optimizer_trajectories_match_pytorch() {
    let dir = Path::new(GOLDEN_DIR);
    let surfaces = load_surfaces(dir);
    const MAX_REPORTED: usize = 30;
    let mut failures: Vec<String> = Vec::new();
    let mut mismatches = 0usize;
    let mut worst: BTreeMap<String, Worst> = BTreeMap::new();
    let mut compared = 0usize;

    for surface in &surfaces {
        let golden_file = fs::File::open(&surface.file)
            .unwrap_or_else(|e| panic!("cannot open {}: {e}", surface.file.display()));
        let golden = parse_trajectories(
            &surface.file.display().to_string(),
            golden_file,
            surface.steps,
        )
        .unwrap_or_else(|e| panic!("golden file: {e}"));
        assert!(
            !golden.is_empty(),
            "{}: no trajectories",
            surface.file.display()
        );
        for (spec, rows) in &golden {
            assert_eq!(
                rows.len(),
                surface.steps + 1,
                "golden {}: '{spec}' has {} rows, expected {}",
                surface.file.display(),
                rows.len(),
                surface.steps + 1
            );
        }
        if let Some(cases) = &surface.cases {
            let specs: Vec<&String> = golden.iter().map(|(s, _)| s).collect();
            assert_eq!(
                specs,
                cases.iter().collect::<Vec<_>>(),
                "{}: the specs in cases.json and in the CSV differ",
                surface.name
            );
        }

        let specs: Vec<&str> = golden.iter().map(|(s, _)| s.as_str()).collect();
        let source = format!("downhill run --surface {}", surface.name);
        let ours = match run_downhill(surface, &specs)
            .and_then(|stdout| parse_trajectories(&source, stdout.as_bytes(), surface.steps))
        {
            Ok(ours) => ours,
            Err(e) => {
                failures.push(format!("surface {}: {e}", surface.name));
                continue;
            }
        };
        let order: Vec<&str> = ours.iter().map(|(s, _)| s.as_str()).collect();
        if order != specs {
            failures.push(format!(
                "surface {}: optimizer column order {order:?}, expected the --optimizer order {specs:?}",
                surface.name
            ));
        }

        for (spec, golden_rows) in &golden {
            let Some((_, rows)) = ours.iter().find(|(s, _)| s == spec) else {
                failures.push(format!(
                    "surface {}, spec '{spec}': no rows in the output",
                    surface.name
                ));
                continue;
            };
            if rows.len() != golden_rows.len() {
                failures.push(format!(
                    "surface {}, spec '{spec}': {} rows, expected {} (steps 0..={})",
                    surface.name,
                    rows.len(),
                    golden_rows.len(),
                    surface.steps
                ));
            }
            let name = spec.split(':').next().unwrap_or(spec).to_string();
            let entry = worst.entry(name).or_default();
            for (step, (got, want)) in rows.iter().zip(golden_rows).enumerate() {
                for (k, column) in COLUMNS.iter().enumerate() {
                    let (a, b) = (got[k], want[k]);
                    compared += 1;
                    let err = scaled_error(a, b);
                    if err > entry.error {
                        entry.error = err;
                        entry.place = format!("{} '{spec}' step {step} {column}", surface.name);
                    }
                    // Written so that NaN (in either value) is out of tolerance.
                    let within = (a - b).abs() <= REL_TOL * b.abs().max(ABS_FLOOR);
                    if !within {
                        mismatches += 1;
                        if mismatches <= MAX_REPORTED {
                            failures.push(format!(
                                "surface {}, spec '{spec}', step {step}, {column}: downhill {a:e}, \
                                 torch {b:e}, |diff| {:.3e}, relative (floor {ABS_FLOOR:e}) {err:.3e} > {REL_TOL:e}",
                                surface.name,
                                (a - b).abs()
                            ));
                        }
                    }
                }
            }
        }
    }

    let mut table = String::from("worst relative error per optimizer (|a-b| / max(|b|, 1e-3)):\n");
    for (name, w) in &worst {
        let place = if w.place.is_empty() {
            "(all exact)".to_string()
        } else {
            format!("at {}", w.place)
        };
        let _ = writeln!(table, "  {name:<10} {:>10.3e}  {place}", w.error);
    }
    eprintln!(
        "{table}compared {compared} values on {} surfaces",
        surfaces.len()
    );

    if mismatches > MAX_REPORTED {
        failures.push(format!(
            "… {} more values out of tolerance",
            mismatches - MAX_REPORTED
        ));
    }
    assert!(
        failures.is_empty(),
        "optimizer parity with PyTorch failed ({mismatches} values out of tolerance):\n{}",
        failures.join("\n")
    );
}
