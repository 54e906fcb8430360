//! `mpirun -np N downhill train … --distributed` with real MPI processes
//! (Open MPI, oversubscribed on this machine): the same bits on 1, 2 and 3
//! ranks, a stated bound against a single process, checkpoints resumed on
//! another number of ranks bit for bit, the optimizer state cut 1/N, a
//! killed rank ending the job with one `error:` line and an intact
//! checkpoint, refusals reported once. Built only with `--features mpi`.
#![cfg(feature = "mpi")]

mod common;

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("downhill-mpi-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// `mpirun -np ranks downhill ARGS` in `dir`.
fn mpirun(dir: &Path, ranks: usize, args: &[&str]) -> Command {
    let mut cmd = Command::new("mpirun");
    cmd.args(["--oversubscribe", "--allow-run-as-root", "-np"])
        .arg(ranks.to_string())
        .arg(env!("CARGO_BIN_EXE_downhill"))
        .args(args)
        .current_dir(dir)
        // Containers often forbid the cross-process copy Open MPI tries first.
        .env("OMPI_MCA_btl_vader_single_copy_mechanism", "none");
    cmd
}

fn run(dir: &Path, ranks: usize, args: &[&str]) -> Output {
    mpirun(dir, ranks, args)
        .output()
        .expect("mpirun (Debian: openmpi-bin) runs")
}

const DIGITS: [&str; 12] = [
    "train",
    "--dataset",
    "digits",
    "--model",
    "mlp:hidden=[32]",
    "--dtype",
    "f64",
    "--seed",
    "5",
    "--format",
    "json",
    "-q",
];

/// The run's summary (the last JSON line) without its timing and its
/// `distributed` measurements.
fn summary(out: &Output) -> Value {
    let text = common::success(out);
    let mut v: Value = serde_json::from_str(text.lines().last().unwrap()).unwrap();
    let map = v.as_object_mut().unwrap();
    map.remove("seconds");
    map.remove("distributed");
    v
}

/// A checkpoint's content without its timing.
fn checkpoint(path: &Path) -> Value {
    let mut v: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let content = v["content"].take();
    let mut content = content.as_object().unwrap().clone();
    content.remove("seconds");
    Value::Object(content)
}

fn params(ck: &Value) -> Vec<f64> {
    serde_json::from_value(ck["params"].clone()).unwrap()
}

#[test]
fn the_same_bits_on_any_number_of_ranks_and_close_to_one_process() {
    let dir = temp_dir("exact");
    let cases: [&[&str]; 4] = [
        &[
            "-o",
            "adam:lr=0.01",
            "--epochs",
            "2",
            "--clip",
            "global-norm:1",
        ],
        &[
            "-o",
            "sgd:lr=0.05,momentum=0.9,nesterov=true",
            "--epochs",
            "2",
            "--batch-size",
            "50",
        ],
        &[
            "-o",
            "lamb:lr=0.01",
            "--epochs",
            "1",
            "--schedule",
            "cosine:t_max=2",
            "--clip",
            "norm:0.5",
        ],
        // replicated: every rank holds prodigy's whole state
        &["-o", "prodigy", "--epochs", "1"],
    ];
    for case in cases {
        let args = |ck: &'static str| [&DIGITS[..], case, &["--checkpoint", ck]].concat();
        let single = summary(&common::downhill_in(&dir, &args("single.json")));
        let mut sharded = Vec::new();
        for (ranks, ck) in [(1, "r1.json"), (2, "r2.json"), (3, "r3.json")] {
            let a = [args(ck), vec!["--distributed"]].concat();
            let out = run(&dir, ranks, &a);
            sharded.push((summary(&out), checkpoint(&dir.join(ck))));
            if ranks == 2 {
                // State memory is cut in two, measured by what each rank holds.
                let text = String::from_utf8(out.stdout).unwrap();
                let last: Value = serde_json::from_str(text.lines().last().unwrap()).unwrap();
                let d = &last["distributed"];
                assert_eq!(d["ranks"], 2, "{case:?}");
                let per_rank: Vec<u64> =
                    serde_json::from_value(d["parameters_per_rank"].clone()).unwrap();
                let p = last["parameters"].as_u64().unwrap();
                if case.contains(&"prodigy") {
                    assert_eq!(per_rank, [p, p], "{case:?}: replicated");
                } else {
                    assert_eq!(per_rank.iter().sum::<u64>(), p, "{case:?}");
                    assert!(per_rank.iter().all(|&p| p > 0), "{case:?}: {d}");
                }
            }
        }
        for (ranks, (s, ck)) in sharded.iter().enumerate().skip(1) {
            assert_eq!(s, &sharded[0].0, "{case:?}: summary on {} ranks", ranks + 1);
            assert_eq!(
                ck,
                &sharded[0].1,
                "{case:?}: checkpoint on {} ranks",
                ranks + 1
            );
        }
        // Gradients summed per chunk, then along the tree, instead of in one pass.
        let one = checkpoint(&dir.join("single.json"));
        for (a, b) in params(&sharded[0].1).iter().zip(params(&one)) {
            assert!(
                (a - b).abs() <= 1e-12 * b.abs().max(1.0),
                "{case:?}: {a} vs {b}"
            );
        }
        let loss = |v: &Value| v["train_loss"].as_f64().unwrap();
        assert!(
            (loss(&sharded[0].0) - loss(&single)).abs() <= 1e-12,
            "{case:?}"
        );
    }
}

#[test]
fn a_checkpoint_resumes_on_another_number_of_ranks_bit_for_bit() {
    let dir = temp_dir("resume");
    let opt = [
        "-o",
        "adamw:lr=0.01,weight_decay=0.1",
        "--schedule",
        "step:step_size=1,gamma=0.5",
    ];
    let args = |epochs: &'static str, ck: &'static str| {
        [
            &DIGITS[..],
            &opt,
            &["--epochs", epochs, "--checkpoint", ck, "--distributed"],
        ]
        .concat()
    };
    common::success(&run(&dir, 2, &args("4", "whole.json")));
    for (first, then) in [(2, 1), (1, 2), (3, 2)] {
        common::success(&run(&dir, first, &args("2", "half.json")));
        let resumed = [args("4", "half.json"), vec!["--resume", "half.json"]].concat();
        common::success(&run(&dir, then, &resumed));
        assert_eq!(
            checkpoint(&dir.join("half.json")),
            checkpoint(&dir.join("whole.json")),
            "{first} ranks, then {then}"
        );
    }
    // And a single process continues the sharded run's checkpoint.
    common::success(&run(&dir, 2, &args("2", "half.json")));
    let plain = [
        &DIGITS[..],
        &opt,
        &["--epochs", "4", "--checkpoint", "half.json"],
    ]
    .concat();
    let resumed = [plain, vec!["--resume", "half.json"]].concat();
    common::success(&common::downhill_in(&dir, &resumed));
    let (a, b) = (
        checkpoint(&dir.join("half.json")),
        checkpoint(&dir.join("whole.json")),
    );
    for (x, y) in params(&a).iter().zip(params(&b)) {
        assert!((x - y).abs() <= 1e-12 * y.abs().max(1.0), "{x} vs {y}");
    }
}

#[test]
fn the_optimizer_state_is_cut_in_n() {
    let dir = temp_dir("memory");
    let args = [
        &DIGITS[..],
        &["-o", "adam:lr=0.01", "--epochs", "1", "--distributed"],
    ]
    .concat();
    let bytes = |ranks| {
        let out = common::success(&run(&dir, ranks, &args));
        let last: Value = serde_json::from_str(out.lines().last().unwrap()).unwrap();
        serde_json::from_value::<Vec<u64>>(
            last["distributed"]["optimizer_state_bytes_per_rank"].clone(),
        )
        .unwrap()
    };
    let whole = bytes(1)[0];
    let halves = bytes(2);
    // Adam holds two f64 buffers per parameter (amsgrad off).
    assert_eq!(halves.iter().sum::<u64>(), whole);
    assert!(
        halves.iter().all(|&b| b.abs_diff(whole / 2) <= 16),
        "{halves:?} of {whole}"
    );
}

/// The lines of `stderr` that are downhill's own errors.
fn error_lines(stderr: &[u8]) -> Vec<String> {
    String::from_utf8_lossy(stderr)
        .lines()
        .filter(|l| l.starts_with("error:"))
        .map(str::to_string)
        .collect()
}

#[test]
fn a_killed_rank_stops_the_job_and_the_checkpoint_stays() {
    let dir = temp_dir("kill");
    let args = [
        &DIGITS[..],
        &[
            "-o",
            "adam:lr=0.001",
            "--epochs",
            "100000",
            "--checkpoint",
            "ck.json",
            "--distributed",
        ],
    ]
    .concat();
    let mut job = mpirun(&dir, 2, &args)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(120);
    while !dir.join("ck.json").exists() {
        assert!(Instant::now() < deadline, "no checkpoint after 120 s");
        std::thread::sleep(Duration::from_millis(50));
    }
    let rank1 = rank_pid(job.id(), 1).expect("rank 1's process");
    std::process::Command::new("kill")
        .args(["-KILL", &rank1.to_string()])
        .status()
        .unwrap();
    // Bounded: the test fails instead of hanging.
    let stopped = Instant::now() + Duration::from_secs(60);
    let status = loop {
        if let Some(status) = job.try_wait().unwrap() {
            break status;
        }
        if Instant::now() > stopped {
            job.kill().unwrap();
            panic!("the job still ran 60 s after a rank was killed");
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let out = job.wait_with_output().unwrap();
    assert!(!status.success());
    let errors = error_lines(&out.stderr);
    assert_eq!(errors.len(), 1, "{}", String::from_utf8_lossy(&out.stderr));
    assert!(
        errors[0].contains("rank 0 of 2") && errors[0].contains("ck.json is intact"),
        "{}",
        errors[0]
    );
    // The checkpoint is whole: a single process resumes it.
    let resumed = [
        &DIGITS[..],
        &[
            "-o",
            "adam:lr=0.001",
            "--epochs",
            "100000",
            "--resume",
            "ck.json",
            "--checkpoint",
            "ck.json",
        ],
    ]
    .concat();
    let ck = checkpoint(&dir.join("ck.json"));
    let epochs = ck["epoch"].as_u64().unwrap();
    let more = (epochs + 1).to_string();
    let mut resumed: Vec<&str> = resumed;
    let at = resumed.iter().position(|a| *a == "100000").unwrap();
    resumed[at] = &more;
    let out = common::downhill_in(&dir, &resumed);
    let last: Value = serde_json::from_str(common::success(&out).lines().last().unwrap()).unwrap();
    assert_eq!(last["epochs"].as_u64(), Some(epochs + 1));
}

/// The pid of `rank` among the children of mpirun `parent`.
fn rank_pid(parent: u32, rank: usize) -> Option<u32> {
    let want = format!("OMPI_COMM_WORLD_RANK={rank}");
    let deadline = Instant::now() + Duration::from_secs(30);
    while Instant::now() < deadline {
        for entry in std::fs::read_dir("/proc").ok()?.flatten() {
            let Ok(pid) = entry.file_name().to_string_lossy().parse::<u32>() else {
                continue;
            };
            let stat = std::fs::read_to_string(entry.path().join("stat")).unwrap_or_default();
            let ppid = stat
                .rsplit(')')
                .next()
                .and_then(|rest| rest.split_whitespace().nth(1))
                .and_then(|p| p.parse::<u32>().ok());
            let environ = std::fs::read(entry.path().join("environ")).unwrap_or_default();
            if ppid == Some(parent) && environ.split(|&b| b == 0).any(|v| v == want.as_bytes()) {
                return Some(pid);
            }
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    None
}

#[test]
fn refusals_are_reported_once() {
    let dir = temp_dir("refuse");
    let cases: [(&[&str], &str); 5] = [
        // Rank 0 cannot write its checkpoint: every rank stops with it.
        (
            &["--dataset", "iris", "--checkpoint", "/dev/full"],
            "No space left on device",
        ),
        (
            &["--dataset", "iris", "--model", "softmax", "-o", "lamb"],
            "fewer than the 3 ranks",
        ),
        (&["--dataset", "nope.csv"], "nope.csv"),
        (
            &["--dataset", "iris", "--metrics", "m.txt"],
            "--metrics m.txt",
        ),
        (&["--dataset", "iris", "--epochs", "-1"], "--epochs"),
    ];
    for (args, named) in cases {
        let args = [&["train", "-q", "--distributed"], args].concat();
        // Three ranks: more than softmax's two tensors.
        let out = run(&dir, 3, &args);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let errors = error_lines(&out.stderr);
        assert_eq!(
            errors.len(),
            1,
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(errors[0].contains(named), "{args:?}: {}", errors[0]);
    }
    assert!(!dir.join("m.txt").exists());
}
