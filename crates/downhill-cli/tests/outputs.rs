//! Output files respect the filesystem: `-` is standard output, a symbolic
//! link is followed (its target replaced, the link kept), a FIFO is written
//! in place. Everything happens in temporary folders; no test touches a
//! system path.

use std::path::Path;
use std::process::{Command, Output};

fn downhill(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_downhill"))
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap()
}

const SWEEP: &[&str] = &[
    "sweep",
    "--surface",
    "sphere",
    "--start",
    "1,1",
    "--optimizer",
    "adam",
    "--lr",
    "0.01,0.1",
    "--steps",
    "5",
];

fn sweep_to(dir: &Path, csv: &str) -> Output {
    let mut args = SWEEP.to_vec();
    args.extend(["--csv", csv]);
    downhill(dir, &args)
}

fn names(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

const HEADER: &str = "optimizer,lr,final_step,final_x,final_y,final_loss,steps_to_eps,diverged\n";

#[test]
fn a_dash_is_standard_output_not_a_file_named_dash() {
    let dir = tempfile::tempdir().unwrap();
    let out = sweep_to(dir.path(), "-");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.starts_with(HEADER), "{text}");
    assert_eq!(text.lines().count(), 3, "{text}");
    assert!(names(dir.path()).is_empty(), "{:?}", names(dir.path()));

    // The same CSV as written to a file.
    let file = sweep_to(dir.path(), "s.csv");
    assert!(file.status.success());
    assert_eq!(
        std::fs::read_to_string(dir.path().join("s.csv")).unwrap(),
        text
    );
}

#[test]
fn a_symlink_is_followed_and_stays_a_link() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("t.csv"), "old\n").unwrap();
    std::os::unix::fs::symlink("t.csv", dir.path().join("link.csv")).unwrap();
    let out = sweep_to(dir.path(), "link.csv");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let meta = std::fs::symlink_metadata(dir.path().join("link.csv")).unwrap();
    assert!(
        meta.file_type().is_symlink(),
        "link.csv was replaced by a file"
    );
    let written = std::fs::read_to_string(dir.path().join("t.csv")).unwrap();
    assert!(written.starts_with(HEADER), "{written}");
    assert_eq!(names(dir.path()), ["link.csv", "t.csv"]);
}

#[test]
fn a_link_into_a_missing_folder_is_an_error_before_any_work() {
    let dir = tempfile::tempdir().unwrap();
    std::os::unix::fs::symlink("nowhere/t.csv", dir.path().join("link.csv")).unwrap();
    let out = sweep_to(dir.path(), "link.csv");
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(
        err.starts_with("error: cannot write --csv 'link.csv'"),
        "{err}"
    );
    assert!(err.contains("does not exist"), "{err}");
    assert_eq!(err.lines().count(), 1, "{err}");
}

#[test]
fn a_fifo_is_written_in_place_and_its_reader_gets_the_csv() {
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("pipe.csv");
    let made = Command::new("mkfifo").arg(&fifo).status();
    if !made.is_ok_and(|s| s.success()) {
        eprintln!("mkfifo is not available here: skipped");
        return;
    }
    let reader = {
        let fifo = fifo.clone();
        std::thread::spawn(move || std::fs::read_to_string(fifo).unwrap())
    };
    let out = sweep_to(dir.path(), "pipe.csv");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let got = reader.join().unwrap();
    assert!(got.starts_with(HEADER), "{got}");
    assert_eq!(got.lines().count(), 3);
    use std::os::unix::fs::FileTypeExt;
    assert!(std::fs::symlink_metadata(&fifo)
        .unwrap()
        .file_type()
        .is_fifo());
    assert_eq!(names(dir.path()), ["pipe.csv"]);
}

#[test]
fn training_metrics_go_to_standard_output_with_a_dash() {
    let dir = tempfile::tempdir().unwrap();
    let out = downhill(
        dir.path(),
        &[
            "train",
            "--dataset",
            "iris",
            "--model",
            "softmax",
            "--optimizer",
            "sgd:lr=0.1",
            "--epochs",
            "2",
            "--metrics",
            "-",
            "--format",
            "json",
        ],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("epoch"), "{text}");
    assert!(names(dir.path()).is_empty(), "{:?}", names(dir.path()));
}
