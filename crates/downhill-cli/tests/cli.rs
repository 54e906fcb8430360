//! The command-line contract of `downhill run`, `downhill list` and `downhill bench`.

use std::process::{Command, Output};

fn downhill(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_downhill"))
        .args(args)
        .output()
        .expect("run downhill")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8(bytes.to_vec()).unwrap()
}

#[test]
fn run_csv_follows_the_contract() {
    let out = downhill(&[
        "run",
        "--surface",
        "rosenbrock",
        "--start",
        "-1.2,1",
        "--optimizer",
        "adam:lr=0.01,amsgrad=true",
        "--optimizer",
        "gd:lr=0.001",
        "--steps",
        "20",
        "--format",
        "csv",
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(out.stderr.is_empty(), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    let mut reader = csv::Reader::from_reader(stdout.as_bytes());
    assert_eq!(
        reader.headers().unwrap(),
        vec!["optimizer", "step", "x", "y", "loss"]
    );
    let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    assert_eq!(rows.len(), 42);
    // A spec holding commas is quoted (RFC 4180) and comes back as given.
    assert!(stdout.contains("\"adam:lr=0.01,amsgrad=true\",0,-1.2,1.0,24.199999999999996"));
    assert_eq!(&rows[0][0], "adam:lr=0.01,amsgrad=true");
    assert_eq!(&rows[21][0], "gd:lr=0.001");
    for (i, row) in rows.iter().enumerate() {
        assert_eq!(row[1].parse::<usize>().unwrap(), i % 21);
        for cell in [&row[2], &row[3], &row[4]] {
            let v: f64 = cell.parse().unwrap();
            assert_eq!(format!("{v:?}"), cell, "shortest round-trip form");
        }
    }
    // One plain gradient step on Rosenbrock from (−1.2, 1): θ − η∇f.
    let (x, y) = (-1.2f64, 1.0f64);
    let g = [
        -2.0 * (1.0 - x) - 400.0 * x * (y - x * x),
        200.0 * (y - x * x),
    ];
    assert_eq!(rows[22][2].parse::<f64>().unwrap(), x + -0.001 * g[0]);
    assert_eq!(rows[22][3].parse::<f64>().unwrap(), y + -0.001 * g[1]);
}

#[test]
fn run_json_and_table() {
    let out = downhill(&[
        "run",
        "--surface",
        "booth",
        "--optimizer",
        "nag:lr=0.01",
        "--steps",
        "5",
        "--format",
        "json",
    ]);
    assert!(out.status.success());
    let doc: serde_json::Value = serde_json::from_str(text(&out.stdout).trim()).unwrap();
    assert_eq!(doc["surface"], "booth");
    assert_eq!(doc["start"], serde_json::json!([-6.0, -4.0]));
    assert_eq!(doc["runs"][0]["optimizer"], "nag:lr=0.01");
    assert_eq!(doc["runs"][0]["points"].as_array().unwrap().len(), 6);
    assert!(doc["runs"][0]["diverged"].is_null());

    let out = downhill(&[
        "run",
        "--surface",
        "booth",
        "--optimizer",
        "adam",
        "--steps",
        "3",
    ]);
    let table = text(&out.stdout);
    let lines: Vec<&str> = table.lines().collect();
    assert_eq!(lines.len(), 5);
    assert!(lines[0].starts_with("optimizer") && lines[0].ends_with("loss"));
    assert!(lines[1].starts_with("adam") && lines[1].contains("-6.0"));
}

#[test]
fn default_run_uses_the_seven_seed_optimizers() {
    let out = downhill(&["run", "--format", "csv", "--steps", "2"]);
    assert!(out.status.success());
    let stdout = text(&out.stdout);
    assert_eq!(stdout.lines().count(), 1 + 7 * 3);
    for name in [
        "gd", "momentum", "nag", "adagrad", "rmsprop", "adadelta", "adam",
    ] {
        assert!(stdout.lines().any(|l| l.starts_with(name)), "{name}");
    }
}

#[test]
fn divergence_stops_at_the_last_finite_point() {
    let out = downhill(&[
        "run",
        "--surface",
        "rosenbrock",
        "--optimizer",
        "gd:lr=0.1",
        "--optimizer",
        "adam:lr=0.01",
        "--steps",
        "50",
        "--format",
        "csv",
    ]);
    assert!(out.status.success());
    let stderr = text(&out.stderr);
    assert!(
        stderr.starts_with("warning: gd:lr=0.1 diverged at step "),
        "{stderr}"
    );
    assert_eq!(stderr.lines().count(), 1);
    let stdout = text(&out.stdout);
    let mut reader = csv::Reader::from_reader(stdout.as_bytes());
    let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    let gd: Vec<_> = rows.iter().filter(|r| &r[0] == "gd:lr=0.1").collect();
    assert!(gd.len() < 51 && gd.len() > 1);
    let diverged_at: usize = stderr
        .split("step ")
        .nth(1)
        .unwrap()
        .split(' ')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    assert_eq!(gd.len(), diverged_at, "rows 0..step-1 are kept");
    assert_eq!(rows.iter().filter(|r| &r[0] == "adam:lr=0.01").count(), 51);
    for row in &rows {
        for cell in [&row[2], &row[3], &row[4]] {
            assert!(cell.parse::<f64>().unwrap().is_finite());
        }
    }
}

#[test]
fn errors_are_one_line_with_status_2() {
    let cases: &[(&[&str], &str)] = &[
        (
            &["run", "--surface", "nope"],
            "error: unknown surface 'nope'; valid: sphere, anisotropic,",
        ),
        (
            &["run", "--optimizer", "adamm"],
            "error: unknown optimizer 'adamm' (did you mean 'adam'?); valid: gd,",
        ),
        (
            &["run", "--optimizer", "adam:lr=-1"],
            "error: adam: lr must be in [0, inf), got -1.0",
        ),
        (
            &["run", "--start", "1"],
            "error: --start must be two finite numbers X,Y, got '1'",
        ),
        (
            &["run", "--start", "1,inf"],
            "error: --start must be two finite numbers X,Y, got '1,inf'",
        ),
        (&["run", "--steps", "-3"], "error: "),
        (
            &["run", "--steps", "100000000"],
            "error: --steps must be at most 10000000, got 100000000",
        ),
        (
            &["run", "--format", "xml"],
            "error: invalid value 'xml' for '--format <FORMAT>'",
        ),
        (
            &["run", "--bogus"],
            "error: unexpected argument '--bogus' found",
        ),
        (
            &["frobnicate"],
            "error: unrecognized subcommand 'frobnicate'",
        ),
        (&["list", "things"], "error: invalid value 'things'"),
    ];
    for (args, want) in cases {
        let out = downhill(args);
        let stderr = text(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(stderr.starts_with(want), "{args:?}: got '{stderr}'");
        assert_eq!(stderr.lines().count(), 1, "{args:?}: '{stderr}'");
        assert!(out.stdout.is_empty(), "{args:?}");
        assert!(!stderr.contains("panicked"));
    }
}

#[test]
fn list_shows_every_optimizer_and_surface() {
    let out = downhill(&["list"]);
    assert!(out.status.success());
    let stdout = text(&out.stdout);
    for entry in downhill::optim::OPTIMIZERS {
        assert!(
            stdout.contains(&format!("\n  {:<9} {}", entry.name, entry.summary)),
            "{}",
            entry.name
        );
    }
    for s in downhill::surface::Surface::ALL {
        let info = s.info();
        assert!(
            stdout.contains(&format!("{:<17} f = {}", info.name, info.formula)),
            "{}",
            info.name
        );
    }
    assert!(stdout.contains("    beta1                      = 0.9      [0, 1)"));
    assert!(stdout.contains("global minima (1.0, 1.0) with f = 0.0"));
    let only = text(&downhill(&["list", "surfaces"]).stdout);
    assert!(!only.contains("Optimizers"));
}

#[test]
fn help_and_version_exit_zero() {
    for args in [&["--help"][..], &["run", "--help"], &["--version"]] {
        let out = downhill(args);
        assert_eq!(out.status.code(), Some(0), "{args:?}");
        assert!(!out.stdout.is_empty());
    }
}

#[test]
fn run_feeds_the_loss_to_a_plateau_schedule() {
    let csv = |extra: &[&str]| {
        let mut args = vec![
            "run",
            "--surface",
            "booth",
            "--optimizer",
            "adam:lr=0.5",
            "--steps",
            "60",
            "--format",
            "csv",
        ];
        args.extend_from_slice(extra);
        let out = downhill(&args);
        assert!(out.status.success(), "{}", text(&out.stderr));
        text(&out.stdout)
            .lines()
            .map(str::to_string)
            .collect::<Vec<_>>()
    };
    let constant = csv(&[]);
    let plateau = csv(&["--schedule", "plateau:patience=2,factor=0.5"]);
    // Identical until the loss stops improving for three updates, then the lr halves.
    let first_difference = constant
        .iter()
        .zip(&plateau)
        .position(|(a, b)| a != b)
        .expect("plateau never acted");
    assert!(first_difference > 4, "differs from row {first_difference}");
    // A plateau that never runs out of patience changes nothing.
    assert_eq!(constant, csv(&["--schedule", "plateau:patience=1000"]));
}

/// `downhill bench --format json`: the last stdout line is one object whose
/// figures agree with each other (ns per parameter from the median, bytes the
/// rule must touch, the policy and thread count asked for).
#[test]
fn bench_json_reports_consistent_figures() {
    for (spec, policy, buffers) in [("adam", "error", 2), ("sgd:momentum=0.9", "propagate", 1)] {
        let out = downhill(&[
            "bench",
            "--optimizer",
            spec,
            "--params",
            "3000",
            "--tensors",
            "7",
            "--threads",
            "2",
            "--on-non-finite",
            policy,
            "--format",
            "json",
        ]);
        assert!(out.status.success(), "{}", text(&out.stderr));
        let stdout = text(&out.stdout);
        let last = stdout.lines().last().unwrap();
        let report: serde_json::Value = serde_json::from_str(last).unwrap();
        assert_eq!(report["optimizer"], spec);
        assert_eq!(report["on_non_finite"], policy);
        assert_eq!(report["params"], 3000);
        assert_eq!(report["tensors"], 7);
        assert_eq!(report["threads"], 2);
        assert_eq!(report["samples"], 21);
        assert_eq!(report["bytes_per_param"], (3 + 2 * buffers) * 4);
        let median = report["median_ns"].as_f64().unwrap();
        assert!(report["min_ns"].as_f64().unwrap() <= median);
        let ns = report["ns_per_param"].as_f64().unwrap();
        assert!((ns - median / 3000.0).abs() <= 1e-12 * ns, "{report}");
        let rate = report["params_per_second"].as_f64().unwrap();
        assert!((rate * ns * 1e-9 - 1.0).abs() < 1e-9, "{report}");
        let gb = report["gb_per_second"].as_f64().unwrap();
        assert!((gb * ns - (3 + 2 * buffers) as f64 * 4.0).abs() < 1e-9 * gb * ns);
    }
    let out = downhill(&[
        "bench",
        "--optimizer",
        "sgd",
        "--params",
        "10",
        "--on-non-finite",
        "ignore",
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("(valid: error, skip, zero, propagate)"));
}
