//! `downhill schedule` and `downhill run --schedule` through the binary.

use std::path::PathBuf;
use std::process::{Command, Output};

fn downhill(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_downhill"))
        .args(args)
        .output()
        .expect("run downhill")
}

fn stdout(out: &Output) -> String {
    assert!(
        out.status.success(),
        "stderr: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout.clone()).unwrap()
}

/// Asserts one `error:` line naming `wanted`, exit status 2, nothing on stdout.
fn assert_error(args: &[&str], wanted: &str) {
    let out = downhill(args);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
    assert!(out.stdout.is_empty(), "{args:?} wrote to stdout");
    assert_eq!(err.lines().count(), 1, "{args:?}: {err}");
    assert!(
        err.starts_with("error:") && err.contains(wanted),
        "{args:?}: {err}"
    );
}

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("downhill-schedule-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

const WARMUP_COSINE: &str =
    "sequential:schedulers=[linear:start_factor=0.1,total_iters=5;cosine:t_max=95],milestones=[5]";

#[test]
fn csv_is_step_lr_for_each_update() {
    let text = stdout(&downhill(&[
        "schedule",
        WARMUP_COSINE,
        "--lr",
        "0.1",
        "--steps",
        "200",
        "--format",
        "csv",
    ]));
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines[0], "step,lr");
    assert_eq!(lines.len(), 201);
    // PyTorch's values (tests/golden/schedules): the warm-up, the switch, the oscillation past t_max.
    assert_eq!(lines[1], "0,0.010000000000000002");
    assert_eq!(lines[6], "5,0.1");
    assert_eq!(lines[7], "6,0.09997266286704631");
    assert_eq!(lines[101], "100,0.0");
    for (k, line) in lines[1..].iter().enumerate() {
        let (step, lr) = line.split_once(',').unwrap();
        assert_eq!(step.parse::<usize>().unwrap(), k);
        assert!(lr.parse::<f64>().unwrap() >= 0.0);
    }
}

#[test]
fn json_and_table_carry_the_same_numbers() {
    let spec = "step:step_size=3,gamma=0.5";
    let json: serde_json::Value = serde_json::from_str(&stdout(&downhill(&[
        "schedule", spec, "--lr", "1", "--steps", "7", "--format", "json",
    ])))
    .unwrap();
    assert_eq!(json["schedule"], spec);
    assert_eq!(
        json["lr"],
        serde_json::json!([1.0, 1.0, 1.0, 0.5, 0.5, 0.5, 0.25])
    );
    let table = stdout(&downhill(&["schedule", spec, "--lr", "1", "--steps", "7"]));
    let rows: Vec<Vec<&str>> = table
        .lines()
        .map(|l| l.split_whitespace().collect())
        .collect();
    assert_eq!(rows[0], ["step", "lr"]);
    assert_eq!(rows[7], ["6", "0.25"]);
}

#[test]
fn momentum_column_only_on_request() {
    let spec = "onecycle:max_lr=0.1,total_steps=10";
    let plain = stdout(&downhill(&[
        "schedule", spec, "--steps", "11", "--format", "csv",
    ]));
    assert!(plain.starts_with("step,lr\n"));
    let text = stdout(&downhill(&[
        "schedule",
        spec,
        "--steps",
        "11",
        "--format",
        "csv",
        "--momentum",
    ]));
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines[0], "step,lr,momentum");
    assert_eq!(lines[1], "0,0.0040000000000000036,0.95");
    assert_eq!(lines[3], "2,0.1,0.85");
    assert_error(
        &["schedule", "cosine:t_max=5", "--momentum"],
        "--momentum needs a schedule that cycles momentum",
    );
}

#[test]
fn metrics_feed_plateau() {
    let text = stdout(&downhill(&[
        "schedule",
        "plateau:patience=1,factor=0.5",
        "--lr",
        "1",
        "--steps",
        "6",
        "--metrics",
        "3,3,3,2,2",
        "--format",
        "csv",
    ]));
    let lrs: Vec<&str> = text
        .lines()
        .skip(1)
        .map(|l| l.split_once(',').unwrap().1)
        .collect();
    assert_eq!(lrs, ["1.0", "1.0", "1.0", "0.5", "0.5", "0.5"]);
    assert_error(
        &["schedule", "plateau", "--metrics", "1,x"],
        "--metrics must be comma-separated finite numbers",
    );
}

#[test]
fn bad_specs_and_arguments_are_one_error_line() {
    let cases: &[(&[&str], &str)] = &[
        (
            &["schedule", "step:step_size=0"],
            "step_size must be in (0, inf), got 0",
        ),
        (
            &["schedule", "cosine:t_max=0"],
            "t_max must be in (0, inf), got 0",
        ),
        (
            &["schedule", "constant", "--lr", "-0.1"],
            "base lr must be a finite number >= 0, got -0.1",
        ),
        (
            &["schedule", "exponential:gamma=-1"],
            "gamma must be in [0, inf), got -1",
        ),
        (
            &["schedule", "onecycle:max_lr=0.1"],
            "onecycle needs total_steps",
        ),
        (
            &["schedule", "cyclic:base_lr=0.1,max_lr=1,mode=saw"],
            "mode must be one of triangular, triangular2, exp_range",
        ),
        (
            &["schedule", "multistep:milestones=[1,,2]"],
            "milestones must be a bracketed list",
        ),
        (
            &["schedule", "sequential:schedulers=[constant;linear"],
            "invalid spec",
        ),
        (
            &["schedule", "sequential:schedulers=[constant;linear]"],
            "one entry fewer than schedulers",
        ),
        (&["schedule", "warmup"], "unknown schedule 'warmup'"),
        (
            &[
                "schedule",
                "onecycle:max_lr=0.1,total_steps=5",
                "--steps",
                "7",
            ],
            "step 6 is past total_steps=5",
        ),
        (
            &["schedule", "constant", "--steps", "99999999999"],
            "--steps must be at most",
        ),
        (
            &["schedule", "constant", "--format", "xml"],
            "invalid value 'xml'",
        ),
    ];
    for (args, wanted) in cases {
        assert_error(args, wanted);
    }
}

#[test]
fn plots_png_and_svg_without_leftovers() {
    let dir = temp_dir("plot");
    let png = dir.join("lr.png");
    let svg = dir.join("lr.svg");
    for path in [&png, &svg] {
        let out = downhill(&[
            "schedule",
            WARMUP_COSINE,
            "--steps",
            "150",
            "--plot",
            path.to_str().unwrap(),
        ]);
        stdout(&out);
    }
    let bytes = std::fs::read(&png).unwrap();
    assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n");
    let text = std::fs::read_to_string(&svg).unwrap();
    assert!(
        text.contains("<svg") && text.contains("\nstep\n") && text.contains("cosine:t_max=95"),
        "{}",
        &text[..200]
    );
    assert_error(
        &[
            "schedule",
            "constant",
            "--plot",
            dir.join("lr.gif").to_str().unwrap(),
        ],
        "must name a .png or .svg",
    );
    let missing = dir.join("no-such-dir").join("lr.png");
    assert_error(
        &["schedule", "constant", "--plot", missing.to_str().unwrap()],
        "cannot write --plot",
    );
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(names, ["lr.png", "lr.svg"]);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn run_follows_the_schedule() {
    // On the sphere, gd moves x ← x·(1 − 2·lr_k); lr halves every 2 steps from 0.1.
    let text = stdout(&downhill(&[
        "run",
        "--surface",
        "sphere",
        "--start",
        "1,1",
        "-o",
        "gd:lr=0.1",
        "-o",
        "gd:lr=0.2",
        "--steps",
        "5",
        "--schedule",
        "step:step_size=2,gamma=0.5",
        "--format",
        "csv",
    ]));
    let xs: Vec<(String, f64)> = text
        .lines()
        .skip(1)
        .map(|l| {
            let cells: Vec<&str> = l.split(',').collect();
            (cells[0].to_string(), cells[2].parse().unwrap())
        })
        .collect();
    for (spec, base) in [("gd:lr=0.1", 0.1), ("gd:lr=0.2", 0.2)] {
        let mut x = 1.0f64;
        let mut want = vec![x];
        for k in 0..5 {
            let lr = base * 0.5f64.powi(k / 2);
            x = (2.0 * x).mul_add(-lr, x); // PyTorch's p.add_(grad, alpha=-lr), fused
            want.push(x);
        }
        let got: Vec<f64> = xs
            .iter()
            .filter(|(s, _)| s == spec)
            .map(|(_, x)| *x)
            .collect();
        assert_eq!(got, want, "{spec}");
    }
    assert_error(
        &[
            "run",
            "--surface",
            "sphere",
            "-o",
            "adagrad",
            "--schedule",
            "onecycle:max_lr=0.1,total_steps=9",
        ],
        "cycle_momentum=true needs an optimizer with momentum or beta1",
    );
    assert_error(
        &["run", "--surface", "sphere", "--schedule", "cosine"],
        "missing required key 't_max'",
    );
}
