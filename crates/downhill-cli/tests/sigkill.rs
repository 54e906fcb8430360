//! `downhill train` killed with SIGKILL at seeded-random moments (very early,
//! while a checkpoint is being written, mid-epoch) and resumed each time:
//! the checkpoint is always complete and loadable, each kill loses at most one
//! checkpoint interval, and the final result equals an uninterrupted run bit
//! for bit. No timing is asserted: a kill that comes after the run finished
//! simply ends the test early.

use rand::{rngs::StdRng, Rng, SeedableRng};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const EPOCHS: &str = "40";

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("downhill-cli-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Starts a training run in `dir` writing `metrics` and a checkpoint every epoch.
fn start(dir: &Path, metrics: &str, resume: bool) -> Child {
    let mut args = vec![
        "train",
        "--dataset",
        "digits",
        "--model",
        "mlp:hidden=[128]",
        "--optimizer",
        "adam:lr=0.01",
        "--epochs",
        EPOCHS,
        "--seed",
        "3",
        "--checkpoint",
        "ck.json",
        "--checkpoint-every",
        "1",
        "--metrics",
        metrics,
        "--format",
        "csv",
        "-q",
    ];
    if resume {
        args.extend(["--resume", "ck.json"]);
    }
    Command::new(env!("CARGO_BIN_EXE_downhill"))
        .current_dir(dir)
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

/// The checkpoint's content, checked complete (checksum, version) and parsed.
fn checkpoint(dir: &Path) -> Option<Value> {
    let text = std::fs::read_to_string(dir.join("ck.json")).ok()?;
    let content = downhill::file::unseal(&text, "downhill-checkpoint", 2)
        .unwrap_or_else(|e| panic!("a corrupt checkpoint after a kill: {e}"));
    Some(serde_json::from_str(content).unwrap())
}

/// Epoch numbers in a metrics CSV (the finished file or a killed run's temporary file).
fn metric_epochs(dir: &Path, metrics: &str) -> Vec<u64> {
    let prefix = format!(".{metrics}.");
    let path = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| {
            let name = p.file_name().unwrap().to_string_lossy().into_owned();
            name == metrics || name.starts_with(&prefix)
        });
    let Some(path) = path else { return Vec::new() };
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .skip(1)
        .filter_map(|l| l.split(',').next()?.parse().ok())
        .collect()
}

/// Epoch rows of CSV stdout without the seconds column.
fn rows(stdout: &[u8]) -> Vec<String> {
    String::from_utf8_lossy(stdout)
        .lines()
        .skip(1)
        // Drop the two timing columns (seconds, elapsed).
        .map(|l| l.rsplitn(3, ',').nth(2).unwrap().to_string())
        .collect()
}

/// When to kill: now, after a pause, or as soon as a checkpoint write has begun.
#[derive(Debug)]
enum Moment {
    After(Duration),
    MidWrite,
}

/// Waits for `moment`; returns whether the child was still running and got SIGKILL.
fn kill_at(child: &mut Child, dir: &Path, moment: &Moment) -> bool {
    let started = Instant::now();
    loop {
        if child.try_wait().unwrap().is_some() {
            return false;
        }
        let due = match moment {
            Moment::After(pause) => started.elapsed() >= *pause,
            Moment::MidWrite => writing(dir, child.id()),
        };
        // The time limit only guards against a hang; it is not an assertion.
        if due || started.elapsed() > Duration::from_secs(120) {
            // Child::kill sends SIGKILL on Unix.
            let killed = child.kill().is_ok();
            child.wait().unwrap();
            return killed;
        }
        std::thread::sleep(Duration::from_micros(100));
    }
}

/// Whether process `pid` has a temporary checkpoint file (a write begun, not yet renamed).
fn writing(dir: &Path, pid: u32) -> bool {
    let prefix = format!(".ck.json.{pid}-");
    std::fs::read_dir(dir).unwrap().any(|e| {
        e.unwrap()
            .file_name()
            .to_string_lossy()
            .starts_with(&prefix)
    })
}

#[cfg(unix)]
#[test]
fn killed_runs_resume_to_the_uninterrupted_result() {
    let straight_dir = temp_dir("sigkill-straight");
    let straight = start(&straight_dir, "m.csv", false)
        .wait_with_output()
        .unwrap();
    assert!(
        straight.status.success(),
        "{}",
        String::from_utf8_lossy(&straight.stderr)
    );
    let expected = checkpoint(&straight_dir).unwrap();

    let dir = temp_dir("sigkill");
    let mut rng = StdRng::seed_from_u64(8);
    let mut moments = vec![
        Moment::After(Duration::ZERO),
        Moment::After(Duration::from_millis(rng.random_range(0..5))),
    ];
    for _ in 0..3 {
        moments.push(Moment::MidWrite);
        moments.push(Moment::After(Duration::from_millis(
            rng.random_range(5..150),
        )));
    }
    let (mut kills, mut mid_write) = (0, 0);
    let mut segment = 0;
    let finished = loop {
        let metrics = format!("m{segment}.csv");
        let before = checkpoint(&dir).map_or(0, |c| c["epoch"].as_u64().unwrap());
        let mut child = start(&dir, &metrics, dir.join("ck.json").exists());
        let Some(moment) = moments.get(segment) else {
            break child.wait_with_output().unwrap();
        };
        segment += 1;
        let pid = child.id();
        if !kill_at(&mut child, &dir, moment) {
            break child.wait_with_output().unwrap();
        }
        kills += 1;
        mid_write += usize::from(writing(&dir, pid));
        // Whatever checkpoint is there is complete, never older than the one
        // resumed from, and at most one interval behind the epochs completed.
        let after = checkpoint(&dir).map_or(0, |c| c["epoch"].as_u64().unwrap());
        let epochs = metric_epochs(&dir, &metrics);
        if let Some(first) = epochs.first() {
            assert_eq!(
                *first,
                before + 1,
                "{moment:?}: the resumed run restarted elsewhere"
            );
        }
        let completed = epochs.last().copied().unwrap_or(before);
        assert!(
            after >= before,
            "{moment:?}: checkpoint went back from {before} to {after}"
        );
        assert!(
            after + 1 >= completed && after <= completed,
            "{moment:?}: checkpoint at epoch {after}, {completed} epochs completed"
        );
    };
    assert!(
        finished.status.success(),
        "{}",
        String::from_utf8_lossy(&finished.stderr)
    );
    eprintln!("{kills} kills, {mid_write} of them during a checkpoint write");
    let last = checkpoint(&dir).unwrap();
    for key in ["epoch", "step", "params", "optimizer", "rng", "best_loss"] {
        assert_eq!(
            last[key], expected[key],
            "{key} differs from the uninterrupted run"
        );
    }
    // The last run's epoch rows are the uninterrupted run's last rows.
    let (all, tail) = (rows(&straight.stdout), rows(&finished.stdout));
    assert!(!tail.is_empty() && tail.len() <= all.len());
    assert_eq!(tail[..], all[all.len() - tail.len()..]);
    // A sealed checkpoint is the only file named ck.json; killed writes leave only hidden temporaries.
    for entry in std::fs::read_dir(&dir).unwrap() {
        let name = entry.unwrap().file_name().to_string_lossy().into_owned();
        assert!(
            name == "ck.json"
                || name.starts_with(".ck.json.")
                || name.starts_with(".m")
                || name.starts_with('m'),
            "{name}"
        );
    }
    std::fs::remove_dir_all(&straight_dir).unwrap();
    std::fs::remove_dir_all(&dir).unwrap();
}
