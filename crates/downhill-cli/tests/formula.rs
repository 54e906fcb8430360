//! `downhill run --surface FORMULA`: typed surfaces run like built-ins, and
//! bad formulas are one-line errors with the column.

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

/// stdout and stderr (divergence warnings) of a CSV run with the default optimizers.
fn run_csv(surface: &str, start: &str) -> (String, String) {
    let args = [
        "run",
        "--surface",
        surface,
        "--start",
        start,
        "--steps",
        "50",
        "--format",
        "csv",
    ];
    let out = downhill(&args);
    assert!(out.status.success(), "{surface}: {}", text(&out.stderr));
    (text(&out.stdout), text(&out.stderr))
}

#[test]
fn a_builtin_formula_typed_out_gives_the_builtin_output_byte_for_byte() {
    // The notes' seven optimizers, printed as shortest round-trip floats; on
    // Rosenbrock three of them diverge, at the same step with the same message.
    for (name, formula, start) in [
        ("saddle", "x^2 - y^2", "0.5,0.001"),
        ("quartic", "x^4 + 2*x^3 + y^2 - 1", "1,-0.5"),
        ("rosenbrock", "(1 - x)^2 + 100*(y - x^2)^2", "-1.2,1"),
    ] {
        assert_eq!(run_csv(name, start), run_csv(formula, start), "{name}");
    }
}

#[test]
fn a_formula_starts_at_the_default_start_and_is_labelled_by_its_text() {
    let out = downhill(&[
        "run",
        "--surface",
        " x^2 + y^2 ",
        "--optimizer",
        "gd:lr=0.25",
        "--steps",
        "1",
        "--format",
        "json",
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["surface"], "x^2 + y^2");
    assert_eq!(json["start"], serde_json::json!([-4.0, 3.0]));
    // One step of gd at lr 0.25 on the sphere halves the point.
    assert_eq!(
        json["runs"][0]["points"][1],
        serde_json::json!([-2.0, 1.5, 6.25])
    );
}

#[test]
fn a_bad_formula_is_one_error_line_with_the_column() {
    let out = downhill(&["run", "--surface", "x^4 + *2"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(out.stdout.is_empty());
    assert_eq!(
        text(&out.stderr),
        "error: formula: column 7: expected a number, a variable, a function or '(' but found '*'\n"
    );
}

#[test]
fn a_misspelt_name_lists_the_surfaces() {
    let out = downhill(&["run", "--surface", "six-hump-camle"]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = text(&out.stderr);
    assert!(
        stderr.starts_with("error: unknown surface 'six-hump-camle' (did you mean 'six-hump-camel'?); valid: sphere, "),
        "{stderr}"
    );
    assert!(
        stderr.ends_with(", banana, or a formula in x and y such as 'x^2 - y^2'\n"),
        "{stderr}"
    );
    assert_eq!(stderr.lines().count(), 1);
}
