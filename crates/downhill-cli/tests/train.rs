//! `downhill train` and `downhill compare` through the binary.

mod common;

use common::success as stdout;
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("downhill-cli-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Runs the binary in `dir` (so bundled datasets must not depend on the working directory).
fn downhill(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_downhill"))
        .current_dir(dir)
        .args(args)
        .output()
        .unwrap()
}

/// Asserts one `error:` line on stderr, exit status 2, nothing on stdout; returns the line.
fn error_line(out: &Output) -> String {
    let err = String::from_utf8(out.stderr.clone()).unwrap();
    assert_eq!(out.status.code(), Some(2), "stderr: {err}");
    assert!(out.stdout.is_empty());
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.starts_with("error: "), "{err}");
    err.trim_end().to_string()
}

fn last_json(text: &str) -> Value {
    serde_json::from_str(text.lines().last().unwrap()).unwrap()
}

#[test]
fn json_last_line_holds_the_summary() {
    let dir = temp_dir("json");
    let args = [
        "train",
        "--dataset",
        "digits",
        "--model",
        "softmax",
        "--optimizer",
        "adam:lr=0.01",
    ];
    let out = downhill(
        &dir,
        &[
            &args[..],
            &[
                "--epochs",
                "2",
                "--seed",
                "3",
                "--format",
                "json",
                "--metrics",
                "m.csv",
            ],
        ]
        .concat(),
    );
    let text = stdout(&out);
    assert_eq!(text.lines().count(), 3);
    let summary = last_json(&text);
    for key in ["train_loss", "test_loss", "seconds"] {
        assert!(summary[key].as_f64().unwrap() >= 0.0, "{key}: {summary}");
    }
    let accuracy = summary["test_accuracy"].as_f64().unwrap();
    assert!(
        (0.0..=1.0).contains(&accuracy) && accuracy > 0.8,
        "{summary}"
    );
    assert_eq!(summary["epochs"], 2);
    assert_eq!(
        (
            summary["train_samples"].as_u64(),
            summary["test_samples"].as_u64()
        ),
        (Some(1438), Some(359))
    );
    let metrics = std::fs::read_to_string(dir.join("m.csv")).unwrap();
    let lines: Vec<&str> = metrics.lines().collect();
    assert_eq!(
        lines[0],
        "epoch,train_loss,test_loss,accuracy,lr,seconds,elapsed"
    );
    assert_eq!(lines.len(), 3);
    assert!(
        lines[2].starts_with("2,") && lines[2].contains(",0.01,"),
        "{}",
        lines[2]
    );

    let out = downhill(
        &dir,
        &[
            "train",
            "--dataset",
            "diabetes",
            "--model",
            "linear",
            "--epochs",
            "1",
            "--format",
            "json",
        ],
    );
    assert_eq!(last_json(&stdout(&out))["test_accuracy"], Value::Null);
}

#[test]
fn schedules_set_the_rate_per_epoch_or_per_update() {
    let dir = temp_dir("schedule");
    let args = [
        "train",
        "--dataset",
        "iris",
        "--model",
        "softmax",
        "--optimizer",
        "sgd:lr=0.1",
        "--epochs",
        "3",
    ];
    let lrs = |extra: &[&str]| -> Vec<f64> {
        let text = stdout(&downhill(
            &dir,
            &[&args[..], extra, &["--format", "json"]].concat(),
        ));
        text.lines()
            .take(3)
            .map(|l| {
                serde_json::from_str::<Value>(l).unwrap()["lr"]
                    .as_f64()
                    .unwrap()
            })
            .collect()
    };
    assert_eq!(
        lrs(&["--schedule", "step:step_size=1,gamma=0.5"]),
        vec![0.1, 0.05, 0.025]
    );
    // 120 training samples, full batch: one update per epoch either way.
    let per_step = [
        "--schedule",
        "exponential:gamma=0.5",
        "--schedule-unit",
        "step",
        "--batch-size",
        "full",
    ];
    assert_eq!(lrs(&per_step), vec![0.1, 0.05, 0.025]);
    assert_eq!(
        lrs(&[
            "--schedule",
            "exponential:gamma=0.5",
            "--schedule-unit",
            "step",
            "--batch-size",
            "60"
        ]),
        vec![0.05, 0.0125, 0.003125]
    );
    let line = error_line(&downhill(
        &dir,
        &[&args[..], &["--schedule", "warp"]].concat(),
    ));
    assert!(line.starts_with("error: unknown schedule 'warp'"), "{line}");
}

#[test]
fn a_separate_test_set_replaces_the_split() {
    let dir = temp_dir("testset");
    std::fs::write(dir.join("tr.csv"), "a,b,y\n0,0,0\n0,1,1\n1,0,1\n1,1,2\n").unwrap();
    std::fs::write(dir.join("te.csv"), "a,b,y\n0,0,0\n1,1,2\n0.5,0.5,1\n").unwrap();
    let out = downhill(
        &dir,
        &[
            "train",
            "--dataset",
            "tr.csv",
            "--test-dataset",
            "te.csv",
            "--model",
            "softmax",
            "--epochs",
            "2",
            "--format",
            "json",
        ],
    );
    let summary = last_json(&stdout(&out));
    assert_eq!(
        (
            summary["train_samples"].as_u64(),
            summary["test_samples"].as_u64()
        ),
        (Some(4), Some(3))
    );
    std::fs::write(dir.join("wide.csv"), "a,b,c,y\n0,0,0,0\n").unwrap();
    let line = error_line(&downhill(
        &dir,
        &[
            "train",
            "--dataset",
            "tr.csv",
            "--test-dataset",
            "wide.csv",
            "--model",
            "softmax",
        ],
    ));
    assert!(line.starts_with("error: wide.csv: 3 features"), "{line}");
}

#[test]
fn bad_input_is_one_error_line() {
    let dir = temp_dir("bad");
    let files = [
        (
            "ragged.csv",
            "a,b,y\n1,2,0\n3,1\n",
            "ragged.csv:3: 2 fields, but the header has 3",
        ),
        (
            "word.csv",
            "a,y\n1,0\n2,one\n",
            "word.csv:3: column 'y': 'one' is not a number",
        ),
        (
            "nan.csv",
            "a,y\n1,0\nNaN,1\n",
            "nan.csv:3: column 'a': NaN is not a finite number",
        ),
        ("empty.csv", "", "empty.csv: the file is empty"),
    ];
    for (name, text, expected) in files {
        std::fs::write(dir.join(name), text).unwrap();
        let line = error_line(&downhill(
            &dir,
            &["train", "--dataset", name, "--model", "softmax"],
        ));
        assert!(line.starts_with(&format!("error: {expected}")), "{line}");
    }
    std::fs::write(dir.join("ok.csv"), "a,y\n1,0\n2,1\n").unwrap();
    let line = error_line(&downhill(
        &dir,
        &["train", "--dataset", "ok.csv", "--label", "class"],
    ));
    assert_eq!(line, "error: ok.csv:1: no column 'class'; columns: a, y");
    std::fs::write(
        dir.join("sparse.dat"),
        "+1 1:0.5\n-1 2:1\n+1 1:1 2:0.1\n-1 2:2\n",
    )
    .unwrap();
    let line = error_line(&downhill(&dir, &["train", "--dataset", "sparse.dat"]));
    assert!(
        line.starts_with("error: sparse.dat: unknown file format"),
        "{line}"
    );
    let ok = downhill(
        &dir,
        &[
            "train",
            "--dataset",
            "sparse.dat",
            "--data-format",
            "libsvm",
            "--model",
            "softmax",
            "--test-fraction",
            "0",
            "--format",
            "json",
        ],
    );
    assert_eq!(last_json(&stdout(&ok))["train_samples"], 4);
    let line = error_line(&downhill(&dir, &["train", "--dataset", "mnist"]));
    assert!(
        line.starts_with(
            "error: unknown dataset 'mnist'; valid: a bundled name (iris, digits, diabetes)"
        ),
        "{line}"
    );
    let line = error_line(&downhill(
        &dir,
        &["train", "--dataset", "iris", "--model", "cnn"],
    ));
    assert_eq!(
        line,
        "error: unknown model 'cnn'; valid: linear, softmax, logistic, mlp"
    );
    let line = error_line(&downhill(
        &dir,
        &["train", "--dataset", "iris", "--batch-size", "0"],
    ));
    assert!(line.contains("'full' or a whole number ≥ 1"), "{line}");
    let line = error_line(&downhill(
        &dir,
        &["train", "--dataset", "iris", "--clip", "max:1"],
    ));
    assert!(line.contains("value:C, norm:M or global-norm:M"), "{line}");
    let line = error_line(&downhill(
        &dir,
        &[
            "compare",
            "--dataset",
            "iris",
            "-o",
            "sgd",
            "--plot",
            "x.gif",
        ],
    ));
    assert_eq!(line, "error: --plot x.gif: use a .png or .svg file name");
}

#[test]
fn nan_loss_is_an_error_and_leaves_no_metrics_file() {
    let dir = temp_dir("nan");
    let args = [
        "train",
        "--dataset",
        "linear:n=64",
        "--model",
        "linear",
        "--optimizer",
        "sgd:lr=1e30",
    ];
    let out = downhill(
        &dir,
        &[&args[..], &["--metrics", "m.csv", "--epochs", "3"]].concat(),
    );
    let line = error_line(&out);
    assert!(line.starts_with("error: the loss became"), "{line}");
    assert_eq!(
        std::fs::read_dir(&dir).unwrap().count(),
        0,
        "files left behind"
    );

    // Full-batch gradient descent with lr above 2/λ_max diverges geometrically.
    let args = [
        "train",
        "--dataset",
        "linear:n=64",
        "--model",
        "linear",
        "--optimizer",
        "sgd:lr=3",
    ];
    let out = downhill(
        &dir,
        &[
            &args[..],
            &[
                "--batch-size",
                "full",
                "--epochs",
                "1000",
                "--checkpoint",
                "ck.json",
            ],
        ]
        .concat(),
    );
    let line = error_line(&out);
    assert!(
        line.ends_with("; the last checkpoint ck.json is kept"),
        "{line}"
    );
    let epoch = line
        .split("at epoch ")
        .nth(1)
        .unwrap()
        .split(',')
        .next()
        .unwrap()
        .parse::<u64>()
        .unwrap();
    let ck: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("ck.json")).unwrap()).unwrap();
    assert_eq!(ck["content"]["epoch"].as_u64(), Some(epoch - 1));
    assert_eq!(
        std::fs::read_dir(&dir).unwrap().count(),
        1,
        "temporary files left behind"
    );
}

#[test]
fn resume_matches_an_uninterrupted_run() {
    let dir = temp_dir("resume");
    let common = [
        "train",
        "--dataset",
        "iris",
        "--model",
        "mlp:hidden=[8]",
        "--optimizer",
        "adam:lr=0.01",
        "--batch-size",
        "16",
        "-q",
    ];
    let straight = downhill(
        &dir,
        &[
            &common[..],
            &["--epochs", "6", "--checkpoint", "a.json", "--format", "csv"],
        ]
        .concat(),
    );
    let part = downhill(
        &dir,
        &[&common[..], &["--epochs", "3", "--checkpoint", "b.json"]].concat(),
    );
    stdout(&part);
    let resumed = downhill(
        &dir,
        &[
            &common[..],
            &[
                "--epochs",
                "6",
                "--resume",
                "b.json",
                "--checkpoint",
                "b.json",
                "--format",
                "csv",
            ],
        ]
        .concat(),
    );
    let read = |name: &str| -> Value {
        let file: Value =
            serde_json::from_str(&std::fs::read_to_string(dir.join(name)).unwrap()).unwrap();
        file["content"].clone()
    };
    let (a, b) = (read("a.json"), read("b.json"));
    assert_eq!(a["epoch"], 6);
    for key in ["params", "optimizer", "rng", "step"] {
        assert_eq!(a[key], b[key], "{key}");
    }
    // Epoch rows without the seconds and elapsed columns: epochs 4..=6 of both runs.
    let rows = |text: String, skip: usize| -> Vec<String> {
        text.lines()
            .skip(skip)
            .map(|l| l.rsplitn(3, ',').last().unwrap().to_string())
            .collect()
    };
    assert_eq!(rows(stdout(&straight), 4), rows(stdout(&resumed), 1));
    let line = error_line(&downhill(
        &dir,
        &[
            "train",
            "--dataset",
            "iris",
            "--epochs",
            "6",
            "--resume",
            "b.json",
        ],
    ));
    // The line names the settings that differ, not two whole JSON objects.
    assert!(line.contains("written by a different run: batch_size was \"16\", this run has \"32\"; model was \"mlp:hidden=[8]\", this run has \"mlp:hidden=[128]\"; optimizer was \"adam:lr=0.01\", this run has \"adam:lr=0.001\""), "{line}");
    assert!(line.len() < 300, "{line}");
    // Resuming a finished checkpoint says so and still reports the final metric.
    let finished = downhill(
        &dir,
        &[&common[..], &["--epochs", "6", "--resume", "a.json"]].concat(),
    );
    let note = String::from_utf8_lossy(&finished.stderr).to_string();
    assert!(
        note.contains("a.json already holds 6 epochs and --epochs is 6: nothing to train"),
        "{note}"
    );
    let summary = stdout(&finished);
    let last_test_accuracy: f64 = stdout(&straight)
        .lines()
        .last()
        .unwrap()
        .split(',')
        .nth(3)
        .unwrap()
        .parse()
        .unwrap();
    assert!(
        summary.contains(&format!("test accuracy {last_test_accuracy:?}")),
        "{summary}"
    );
}

#[test]
fn compare_shares_weights_and_shuffles_and_plots() {
    let dir = temp_dir("compare");
    let out = downhill(
        &dir,
        &[
            "compare",
            "--dataset",
            "moons:n=120",
            "--model",
            "mlp:hidden=[6]",
            "-o",
            "sgd:lr=0.1",
            "-o",
            "sgd:lr=0.1",
            "-o",
            "adam",
            "--epochs",
            "3",
            "--format",
            "json",
            "--plot",
            "cmp.svg",
            "-q",
        ],
    );
    let doc = last_json(&stdout(&out));
    let runs = doc["runs"].as_array().unwrap();
    let losses = |r: &Value| {
        r["epochs"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["train_loss"].clone())
            .collect::<Vec<_>>()
    };
    assert_eq!(losses(&runs[0]), losses(&runs[1]));
    assert_ne!(losses(&runs[0]), losses(&runs[2]));
    let svg = std::fs::read_to_string(dir.join("cmp.svg")).unwrap();
    assert!(svg.starts_with("<svg") && svg.contains("test accuracy") && svg.contains("seconds"));
    let table = stdout(&downhill(
        &dir,
        &[
            "compare",
            "--dataset",
            "iris",
            "--model",
            "softmax",
            "-o",
            "sgd:lr=0.1",
            "-o",
            "adam:lr=0.01",
            "--epochs",
            "2",
            "-q",
        ],
    ));
    assert!(
        table.starts_with("optimizer") && table.lines().count() == 3,
        "{table}"
    );
}

/// `--on-non-finite`: a bad name lists the valid ones; a run that diverges
/// still stops under `skip` (here its test loss is NaN after the first epoch)
/// and under `propagate`; a healthy run reports that nothing was skipped or zeroed.
#[test]
fn non_finite_policy_option() {
    let dir = temp_dir("policy");
    let base = ["train", "--dataset", "linear:n=64", "--model", "linear"];
    let out = downhill(&dir, &[&base[..], &["--on-non-finite", "ignore"]].concat());
    let line = error_line(&out);
    assert!(
        line.contains("(valid: error, skip, zero, propagate)"),
        "{line}"
    );

    let out = downhill(
        &dir,
        &[&base[..], &["-o", "sgd:lr=1e30", "--on-non-finite", "skip"]].concat(),
    );
    let line = error_line(&out);
    assert!(
        line.starts_with("error: the loss became NaN at epoch 1"),
        "{line}"
    );
    // Under `propagate` the huge step goes through and the next loss stops the run.
    let out = downhill(
        &dir,
        &[
            &base[..],
            &["-o", "sgd:lr=1e30", "--on-non-finite", "propagate"],
        ]
        .concat(),
    );
    let line = error_line(&out);
    assert!(line.starts_with("error: the loss became"), "{line}");

    for policy in ["skip", "zero", "propagate"] {
        let out = downhill(
            &dir,
            &[
                &base[..],
                &["--on-non-finite", policy, "--format", "json", "-q"],
            ]
            .concat(),
        );
        let summary = last_json(&stdout(&out));
        assert_eq!(summary["skipped_updates"], 0, "{policy}");
        assert_eq!(summary["zeroed_values"], 0, "{policy}");
    }
}

#[test]
fn swa_reports_the_averaged_model_and_must_match_on_resume() {
    let dir = temp_dir("swa");
    let args = [
        "train",
        "--dataset",
        "iris",
        "--model",
        "softmax",
        "-o",
        "sgd:lr=0.1,momentum=0.9",
        "--epochs",
        "6",
        "--swa",
        "4,0.05",
        "--format",
        "json",
        "--checkpoint",
        "ck.json",
    ];
    let out = downhill(&dir, &args);
    let summary = last_json(&stdout(&out));
    assert_eq!(summary["swa"]["epochs_averaged"], 3, "{summary}");
    let accuracy = summary["swa"]["test_accuracy"].as_f64().unwrap();
    assert!((0.0..=1.0).contains(&accuracy), "{summary}");
    assert!(summary["swa"]["test_loss"].as_f64().unwrap() > 0.0);
    // A checkpoint written with --swa 4,0.05 is refused by a run without it.
    let resumed = downhill(
        &dir,
        &[
            "train",
            "--dataset",
            "iris",
            "--model",
            "softmax",
            "-o",
            "sgd:lr=0.1,momentum=0.9",
            "--epochs",
            "8",
            "--resume",
            "ck.json",
        ],
    );
    let err = String::from_utf8_lossy(&resumed.stderr);
    assert_eq!(resumed.status.code(), Some(2), "{err}");
    assert!(
        err.contains("swa was \"4,0.05\", this run has null"),
        "{err}"
    );
}

#[test]
fn lbfgs_trains_full_batch_with_its_line_search() {
    let dir = temp_dir("lbfgs");
    let args = "train --dataset digits --optimizer lbfgs:line_search_fn=strong_wolfe,max_iter=5 \
                --batch-size full --epochs 3 --format json -q";
    let out = downhill(&dir, &args.split_whitespace().collect::<Vec<_>>());
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let summary = last_json(&String::from_utf8(out.stdout).unwrap());
    // One update per epoch, each of up to max_eval evaluations.
    assert_eq!(summary["steps"], 3);
    assert!(summary["train_loss"].as_f64().unwrap() < 0.2, "{summary}");
    assert!(
        summary["test_accuracy"].as_f64().unwrap() > 0.95,
        "{summary}"
    );
}

/// A build without the `mpi` feature names the build that has it.
#[cfg(not(feature = "mpi"))]
#[test]
fn distributed_needs_the_mpi_build() {
    let dir = temp_dir("no-mpi");
    let out = downhill(&dir, &["train", "--dataset", "iris", "--distributed"]);
    let line = error_line(&out);
    assert!(
        line.contains("--features mpi") && line.contains("mpirun"),
        "{line}"
    );
}
