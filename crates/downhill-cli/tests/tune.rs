//! `downhill tune`: the best lr per optimizer, its JSON line, diverged runs and bad input.

use std::process::{Command, Output};

fn downhill(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_downhill"))
        .args(args)
        .output()
        .expect("the binary runs")
}

/// The last stdout line of a run that must succeed, parsed.
fn last_json(args: &[&str]) -> (String, serde_json::Value) {
    let out = downhill(args);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{args:?}: {stderr}");
    let stdout = String::from_utf8(out.stdout).unwrap();
    let line = stdout.lines().last().expect("a line").to_string();
    let value = serde_json::from_str(&line).expect("JSON");
    (line, value)
}

/// gd on the sphere: x ← x − lr·2x. Of the default grid 10^(k/3 − 4),
/// lr = 10^(−1/3) shrinks fastest (|1 − 2lr| ≈ 0.07); lr = 1 flips sign forever.
#[test]
fn gd_on_the_sphere_picks_the_lr_that_shrinks_fastest() {
    let steps = 40;
    let (line, json) = last_json(&[
        "tune",
        "--surface",
        "sphere",
        "--start",
        "1,1",
        "-o",
        "gd",
        "--steps",
        "40",
        "--format",
        "json",
    ]);
    assert!(
        line.starts_with(r#"{"criterion":"final-loss","results":[{"optimizer":"gd","lr":"#),
        "{line}"
    );
    let row = &json["results"][0];
    let lr = row["lr"].as_f64().unwrap();
    assert!((lr - 10f64.powf(-1.0 / 3.0)).abs() < 1e-15, "{lr}");
    let mut x = 1.0f64;
    for _ in 0..steps {
        x -= lr * (2.0 * x);
    }
    // the same map, up to the rounding of the library's fused operations
    let final_loss = row["final_loss"].as_f64().unwrap();
    assert!(
        (final_loss / (2.0 * x * x) - 1.0).abs() < 1e-12,
        "{final_loss}"
    );
    assert!(row["steps_to_tolerance"].is_null());
}

#[test]
fn steps_to_a_tolerance_and_several_optimizers() {
    let (_, json) = last_json(&[
        "tune",
        "--surface",
        "sphere",
        "--start",
        "1,1",
        "-o",
        "gd",
        "-o",
        "momentum:momentum=0.9",
        "--steps",
        "30",
        "--grid",
        "0.1:0.5:3",
        "--criterion",
        "steps-to=1e-3",
        "--format",
        "json",
    ]);
    assert_eq!(json["criterion"], "steps-to=0.001");
    let results = json["results"].as_array().unwrap();
    assert_eq!(results.len(), 2);
    // lr = 0.5 lands gd on the minimum in one update.
    assert_eq!(results[0]["lr"], 0.5);
    assert_eq!(results[0]["steps_to_tolerance"], 1);
    // Momentum's first update is gd's (the buffer starts as the gradient).
    assert_eq!(results[1]["optimizer"], "momentum:momentum=0.9");
    assert_eq!(results[1]["lr"], 0.5);
    assert_eq!(results[1]["steps_to_tolerance"], 1);
}

/// lr 10 and 100 on the sphere grow |x| 19× and 199× per update: no best lr.
#[test]
fn an_optimizer_that_diverges_everywhere_has_no_lr() {
    let out = downhill(&[
        "tune",
        "--surface",
        "sphere",
        "--start",
        "1,1",
        "-o",
        "gd",
        "--steps",
        "300",
        "--grid",
        "10:100:2",
        "--format",
        "json",
    ]);
    assert!(out.status.success());
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert_eq!(
        stdout.lines().last().unwrap(),
        r#"{"criterion":"final-loss","results":[{"optimizer":"gd","lr":null,"final_loss":null,"steps_to_tolerance":null}]}"#
    );
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(stderr.contains("gd diverged at every lr"), "{stderr}");
}

#[test]
fn bad_input_is_one_error_line() {
    for (args, needle) in [
        (
            &["--criterion", "loss"][..],
            "valid: final-loss, steps-to=TOL",
        ),
        (&["--criterion", "steps-to=0"][..], "--criterion"),
        (&["--grid", "1:0.1:3"][..], "--grid"),
        (&["--grid", "1e-4:1"][..], "LO:HI:N"),
        (&["-o", "nosuch"][..], "nosuch"),
        (
            &["--surface", "x^2+y^2", "--criterion", "steps-to=0.1"][..],
            "known minima",
        ),
    ] {
        let mut argv = vec!["tune", "--start", "1,1", "-o", "gd", "--steps", "5"];
        argv.extend_from_slice(args);
        let out = downhill(&argv);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{argv:?}: {stderr}");
        assert!(
            stderr.starts_with("error:") && stderr.contains(needle),
            "{argv:?}: {stderr}"
        );
        assert_eq!(stderr.lines().count(), 1, "{stderr}");
        assert!(out.stdout.is_empty());
    }
}
