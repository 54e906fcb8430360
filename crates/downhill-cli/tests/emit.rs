//! `downhill run … --emit`: the programs are what the committed copies hold,
//! and what they print is what `downhill run … --format csv` prints.
//!
//! The Rust programs are the examples of this crate (`cargo test` builds
//! them); the PyTorch scripts were run once with torch by
//! `scripts/golden_emit.py`, their output committed under tests/golden/emit/.

mod common;

use common::{downhill_in, success};
use std::path::{Path, PathBuf};
use std::process::Command;

/// The examples: name and the `downhill run` arguments that emit them.
const RUST_EXAMPLES: [(&str, &[&str]); 3] = [
    (
        "emit_rosenbrock",
        &[
            "--surface",
            "rosenbrock",
            "-o",
            "adam:lr=0.02",
            "-o",
            "sgd:lr=0.0001,momentum=0.9,nesterov=true",
            "--steps",
            "200",
        ],
    ),
    (
        "emit_formula",
        &[
            "--surface",
            "x^4/4 + y^2 - x*y + sin(x)",
            "--start=2,-1",
            "-o",
            "rmsprop:lr=0.01",
            "-o",
            "nag:lr=0.01",
            "--steps",
            "100",
        ],
    ),
    (
        "emit_schedule",
        &[
            "--surface",
            "himmelblau",
            "-o",
            "adagrad:lr=0.5",
            "-o",
            "lion:lr=0.01",
            "--schedule",
            "cosine:t_max=50",
            "--steps",
            "100",
            "--param-shape",
            "1x2",
        ],
    ),
];

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn run(args: &[&str], extra: &[&str]) -> String {
    let all: Vec<&str> = ["run"].iter().chain(args).chain(extra).copied().collect();
    success(&downhill_in(&root(), &all))
}

/// target/…/examples/NAME, next to the folder of this test's binary.
fn example_binary(name: &str) -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    let profile = exe.parent().and_then(Path::parent).unwrap();
    profile.join("examples").join(name)
}

#[test]
fn rust_examples_are_what_emit_prints_and_print_the_csv() {
    for (name, args) in RUST_EXAMPLES {
        let file = root().join(format!("crates/downhill-cli/examples/{name}.rs"));
        let committed = std::fs::read_to_string(&file).unwrap();
        assert_eq!(
            run(args, &["--emit", "rust"]),
            committed,
            "{name}.rs is stale: write it anew with `downhill run {} --emit rust`",
            args.join(" ")
        );
        let binary = example_binary(name);
        assert!(
            binary.exists(),
            "{} is missing: `cargo test -p downhill-cli` builds the examples",
            binary.display()
        );
        let out = Command::new(&binary).output().unwrap();
        assert!(out.status.success(), "{name} failed");
        let csv = run(args, &["--format", "csv"]);
        assert!(csv.lines().count() > 100, "{name}: a short run");
        assert_eq!(String::from_utf8(out.stdout).unwrap(), csv, "{name}");
    }
}

/// Rows of a CSV as fields.
fn rows(text: &str) -> Vec<Vec<String>> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .from_reader(text.as_bytes());
    reader
        .records()
        .map(|r| r.unwrap().iter().map(String::from).collect())
        .collect()
}

/// Equal, or the same rows with numbers within 1e-9 relative (torch's
/// kernels may round a last digit differently from downhill's).
fn assert_close(name: &str, torch: &str, downhill: &str) -> usize {
    if torch == downhill {
        return 0;
    }
    let (a, b) = (rows(torch), rows(downhill));
    assert_eq!(a.len(), b.len(), "{name}: row count");
    assert_eq!(a[0], b[0], "{name}: header");
    let mut differing = 0;
    for (ra, rb) in a.iter().zip(&b).skip(1) {
        assert_eq!(ra[..2], rb[..2], "{name}: optimizer and step");
        for (x, y) in ra[2..].iter().zip(&rb[2..]) {
            let (x, y): (f64, f64) = (x.parse().unwrap(), y.parse().unwrap());
            assert!(
                (x - y).abs() <= 1e-9 * x.abs().max(y.abs()),
                "{name}: {ra:?} vs {rb:?}"
            );
        }
        differing += usize::from(ra != rb);
    }
    differing
}

#[test]
fn pytorch_scripts_are_what_emit_prints_and_torch_printed_the_csv() {
    let dir = root().join("tests/golden/emit");
    let meta: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("cases.json")).unwrap()).unwrap();
    let cases = meta["cases"].as_object().unwrap();
    assert!(cases.len() >= 5);
    let mut exact = 0;
    for (name, case) in cases {
        let args: Vec<&str> = case["args"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| a.as_str().unwrap())
            .collect();
        let script = std::fs::read_to_string(dir.join(format!("{name}.py"))).unwrap();
        assert_eq!(
            run(&args, &["--emit", "pytorch"]),
            script,
            "{name}.py is stale: run scripts/golden_emit.py"
        );
        if case["exit_status"] == 0 {
            let torch = std::fs::read_to_string(dir.join(format!("{name}.csv"))).unwrap();
            let differing = assert_close(name, &torch, &run(&args, &["--format", "csv"]));
            exact += usize::from(differing == 0);
        } else {
            // A rule torch.optim lacks: the script said so and printed nothing.
            let stderr = case["stderr"].as_str().unwrap();
            assert!(
                stderr.starts_with("not run: lion: torch.optim has no lion"),
                "{stderr}"
            );
            assert!(!dir.join(format!("{name}.csv")).exists());
        }
    }
    // Most cases match to the last digit (the gradients are downhill's own).
    assert!(exact >= 4, "only {exact} cases match exactly");
}

#[test]
fn emit_refuses_what_it_cannot_write() {
    let root = root();
    let refused = |args: &[&str], message: &str| {
        let out = downhill_in(&root, args);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(out.stdout.is_empty(), "{args:?}");
        assert!(
            stderr.starts_with("error: ") && stderr.contains(message),
            "{args:?}: {stderr}"
        );
        stderr.lines().count()
    };
    assert!(refused(&["run", "--emit", "java"], "valid: pytorch, rust") >= 1);
    let no_figures = "--emit prints a program";
    assert_eq!(
        refused(&["run", "--emit", "rust", "--format", "csv"], no_figures),
        1
    );
    assert_eq!(
        refused(&["run", "--emit", "pytorch", "--plot", "x.png"], no_figures),
        1
    );
    assert_eq!(
        refused(&["run", "--emit", "rust", "-o", "adam:lr=-1"], "lr"),
        1
    );
    assert_eq!(
        refused(
            &["run", "--emit", "pytorch", "-o", "muon"],
            "--param-shape 1x2"
        ),
        1
    );
    assert_eq!(
        refused(
            &["run", "--emit", "pytorch", "--surface", "rosenbrok"],
            "unknown surface"
        ),
        1
    );
}

#[test]
fn what_torch_lacks_is_named_in_the_script() {
    let script = run(
        &[
            "--surface",
            "booth",
            "-o",
            "lion",
            "-o",
            "adam:lr=0.1,beta1=0.8",
            "--schedule",
            "chained:schedulers=[plateau;exponential:gamma=0.9]",
        ],
        &["--emit", "pytorch"],
    );
    assert!(script.contains("    # lion: torch.optim has no lion"));
    assert!(script.contains(
        r#"("adam:lr=0.1,beta1=0.8", lambda p: torch.optim.Adam([p], lr=0.1, betas=(0.8, 0.999), foreach=False)),"#
    ));
    let why = "ReduceLROnPlateau cannot be a member of a torch composite";
    assert!(script.contains(&format!("SCHEDULE = None  # {why}")));
    assert!(script.contains(&format!(
        "\"schedule chained:schedulers=[plateau;exponential:gamma=0.9]: {why}\","
    )));
}
