//! The help the command line gives when it is not an error (issue 16, item 3):
//! help texts that point at commands that work, outputs sized to what was
//! asked for, one unit per column, readable warnings, README examples that run.
//! The error lines (valid values, "did you mean") are in `bad_args.rs`.

mod common;

use common::{downhill_in, success as ok};
use std::path::Path;
use std::process::Output;

fn downhill(args: &[&str]) -> Output {
    downhill_in(Path::new("."), args)
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).to_string()
}

#[test]
fn every_see_downhill_list_hint_in_the_help_runs() {
    for command in [
        "run", "train", "compare", "sweep", "tune", "bench", "schedule",
    ] {
        let help = ok(&downhill(&[command, "--help"]));
        for what in help.split("downhill list ").skip(1).map(|rest| {
            rest.split(|c: char| !c.is_ascii_alphabetic())
                .next()
                .unwrap()
        }) {
            let listed = ok(&downhill(&["list", what]));
            assert!(listed.lines().count() > 5, "downhill list {what}");
        }
    }
    let help = ok(&downhill(&["train", "--help"]));
    assert!(help.contains("see `downhill list schedules`"), "{help}");
}

#[test]
fn list_schedules_shows_keys_defaults_and_required_keys() {
    let out = ok(&downhill(&["list", "schedules"]));
    assert!(out.contains("cosine"), "{out}");
    assert!(out.contains("CosineAnnealingLR"), "{out}");
    let t_max = out
        .lines()
        .find(|l| l.trim_start().starts_with("t_max"))
        .unwrap();
    assert!(t_max.contains("required"), "{t_max}");
    let gamma = out
        .lines()
        .find(|l| l.trim_start().starts_with("gamma"))
        .unwrap();
    assert!(gamma.contains("0.1"), "{gamma}");
    // `list` alone shows all three sections.
    let all = ok(&downhill(&["list"]));
    for head in ["Optimizers", "Schedules", "Surfaces"] {
        assert!(all.contains(head), "{head}");
    }
}

#[test]
fn help_shows_each_default_once_and_bench_has_the_short_flag() {
    for command in ["run", "bench", "schedule", "train", "sweep", "tune"] {
        let help = ok(&downhill(&[command, "--help"]));
        assert!(!help.contains("(default: a table)"), "{command}: {help}");
    }
    let help = ok(&downhill(&["bench", "--help"]));
    assert!(help.contains("-o, --optimizer"), "{help}");
    let out = ok(&downhill(&[
        "bench", "-o", "adam", "--params", "1000", "--format", "json",
    ]));
    let report: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(report["optimizer"], "adam");
    let sweep = ok(&downhill(&["sweep", "--help"]));
    assert!(sweep.contains("or a formula in x and y"), "{sweep}");
}

#[test]
fn run_with_a_figure_prints_one_row_per_optimizer() {
    let dir = tempfile::tempdir().unwrap();
    let out = ok(&downhill_in(
        dir.path(),
        &[
            "run",
            "--surface",
            "rosenbrock",
            "-o",
            "adam:lr=0.05",
            "-o",
            "gd:lr=0.001",
            "--steps",
            "2000",
            "--plot",
            "p.svg",
        ],
    ));
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 3, "{out}");
    assert!(lines[1].starts_with("adam:lr=0.05") && lines[1].contains(" 2000 "));
    assert!(dir.path().join("p.svg").is_file());
    // Without a figure the table holds every step, and --format csv always does.
    let table = ok(&downhill(&["run", "-o", "adam", "--steps", "10"]));
    assert_eq!(table.lines().count(), 12);
    let csv = ok(&downhill_in(
        dir.path(),
        &[
            "run", "-o", "adam", "--steps", "10", "--format", "csv", "--plot", "q.png",
        ],
    ));
    assert_eq!(csv.lines().count(), 12);
}

#[test]
fn sweep_writes_only_the_figure_asked_for_or_csv_to_stdout() {
    let dir = tempfile::tempdir().unwrap();
    let out = ok(&downhill_in(
        dir.path(),
        &[
            "sweep", "-o", "adam", "--lr", "0.01,0.1", "--steps", "20", "--plot", "h.svg",
        ],
    ));
    assert!(out.is_empty(), "{out}");
    let names: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().to_string())
        .collect();
    assert_eq!(names, ["h.svg"]);
    let csv = ok(&downhill_in(
        dir.path(),
        &[
            "sweep",
            "-o",
            "adam",
            "--lr",
            "0.01,0.1",
            "--steps",
            "20",
            "--surface",
            "x^2 + 3*y^2",
        ],
    ));
    assert!(csv.starts_with("optimizer,lr,final_step"), "{csv}");
    assert_eq!(csv.lines().count(), 3);
}

#[test]
fn accuracy_is_a_fraction_everywhere_and_seconds_are_per_epoch() {
    let common = [
        "--dataset",
        "iris",
        "--model",
        "mlp:hidden=[8]",
        "--epochs",
        "4",
        "-q",
    ];
    let train = ok(&downhill(&[&["train"], &common[..]].concat()));
    let header: Vec<&str> = train.lines().next().unwrap().split_whitespace().collect();
    assert_eq!(
        header,
        [
            "epoch",
            "train_loss",
            "test_loss",
            "accuracy",
            "lr",
            "seconds",
            "elapsed"
        ]
    );
    let rows: Vec<Vec<f64>> = train
        .lines()
        .skip(1)
        .take(4)
        .map(|l| l.split_whitespace().map(|c| c.parse().unwrap()).collect())
        .collect();
    let mut elapsed = 0.0;
    for row in &rows {
        assert!((0.0..=1.0).contains(&row[3]), "accuracy {}", row[3]);
        // elapsed is the running sum of the (rounded) per-epoch seconds
        elapsed += row[5];
        assert!((row[6] - elapsed).abs() <= 0.0015 * 4.0, "{row:?}");
    }
    let accuracy = rows[3][3];
    assert!(
        train.contains(&format!("test accuracy {accuracy:?}")),
        "{train}"
    );
    let compare = ok(&downhill(
        &[&["compare", "-o", "adam"], &common[..]].concat(),
    ));
    let row = compare.lines().nth(1).unwrap();
    let cells: Vec<&str> = row.split_whitespace().collect();
    assert_eq!(cells[4].parse::<f64>().unwrap(), accuracy, "{compare}");
    assert!(!compare.contains('%'), "{compare}");
}

#[test]
fn regression_summary_names_the_final_metric() {
    let out = ok(&downhill(&[
        "train",
        "--dataset",
        "diabetes",
        "--model",
        "linear",
        "--epochs",
        "3",
        "-q",
    ]));
    let last_test_loss: f64 = out
        .lines()
        .nth(3)
        .unwrap()
        .split_whitespace()
        .nth(2)
        .unwrap()
        .parse()
        .unwrap();
    let summary = out.lines().last().unwrap();
    assert!(
        summary.ends_with(&format!("test loss {last_test_loss:?}")),
        "{summary}"
    );
}

#[test]
fn divergence_warnings_print_short_numbers() {
    let out = downhill(&[
        "run",
        "--surface",
        "quartic",
        "-o",
        "gd:lr=10",
        "--steps",
        "50",
    ]);
    ok(&out);
    let warning = stderr(&out);
    assert!(
        warning.starts_with("warning: gd:lr=10 diverged at step"),
        "{warning}"
    );
    assert!(warning.len() < 200, "{warning}");
    let longest_digits = warning
        .split(|c: char| !c.is_ascii_digit())
        .map(str::len)
        .max()
        .unwrap();
    // 3 significant digits: `1.23e105` has runs of 1, 2 and 3 digits.
    assert!(
        longest_digits <= 3,
        "3 significant digits expected: {warning}"
    );
}

#[test]
fn readme_json_example_lists_keys_in_output_order() {
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../README.md")).unwrap();
    let line = readme
        .lines()
        .find(|l| l.starts_with("# JSON"))
        .expect("the README's JSON example");
    let example = &line[line.find('{').unwrap()..];
    let keys = |text: &str| -> Vec<String> {
        text.split('"')
            .skip(1)
            .step_by(2)
            .map(str::to_string)
            .collect()
    };
    let out = ok(&downhill(&[
        "run",
        "--surface",
        "himmelblau",
        "-o",
        "rmsprop:centered=true",
        "--steps",
        "3",
        "--format",
        "json",
    ]));
    // The output's keys in order, dropping the values (strings) between them.
    let value: serde_json::Value = serde_json::from_str(&out).unwrap();
    let mut order: Vec<String> = value.as_object().unwrap().keys().cloned().collect();
    let run = &value["runs"][0];
    order.extend(run.as_object().unwrap().keys().cloned());
    assert_eq!(keys(example), order, "{line}");
    // The compare example writes into the working folder, not into docs/.
    assert!(readme.contains("--plot compare-digits.svg"));
    assert!(!readme.contains("--plot docs/"));
}
