//! Every subcommand with missing, duplicated, out-of-range and malformed
//! arguments, and with output paths that cannot be written: one `error:` line
//! on stderr naming the problem, exit status 2, nothing on stdout, no panic,
//! and no file created or changed in the working folder.
//!
//! Each case runs in its own temporary folder that holds `keep.png`,
//! `keep.csv` and `keep.json` (so an output path may point at an existing
//! file) and a folder `sub.png`; afterwards the folder must hold exactly these,
//! byte for byte.

use std::path::Path;
use std::process::Command;

/// (arguments, a text the error line must contain)
type Case = (&'static str, &'static str);

/// Arguments are split on spaces; `_` stands for an empty argument.
const CASES: &[Case] = &[
    // no subcommand, unknown subcommand, unknown flag
    ("", "subcommand"),
    ("fly", "unrecognized subcommand 'fly'"),
    // the error line carries the valid values and the nearest name (issue 16, item 3)
    ("run --format xml", "invalid value 'xml' for '--format <FORMAT>'; valid: csv, json, table"),
    ("list optimizer", "valid: optimizers, schedules, surfaces; did you mean 'optimizers'?"),
    ("runn", "unrecognized subcommand 'runn'; did you mean 'run'?"),
    ("run -o adam --lr 0.1", "unexpected argument '--lr' found; did you mean '-o adam:lr=0.1'?"),
    ("run -o adamw:lr=0.1 --weight-decay 0.1", "did you mean '-o adamw:lr=0.1,weight_decay=0.1'?"),
    ("run --steps -1", "invalid value '-1' for '--steps <STEPS>': expected a whole number ≥ 0, not a negative number"),
    ("train --dataset iris --epochs -3", "invalid value '-3' for '--epochs <EPOCHS>': expected a whole number ≥ 0, not a negative number"),
    ("bench -o adam --samples 1.5", "invalid value '1.5' for '--samples <SAMPLES>': expected a whole number ≥ 0"),
    ("train --dataset iris --seed -1", "expected a whole number ≥ 0, not a negative number"),
    ("schedule cosine:tmax=10", "cosine: unknown key 'tmax'; valid keys: t_max, eta_min; did you mean 't_max'?"),
    ("schedule cosine", "cosine: missing required key 't_max'"),
    ("schedule cosin:t_max=3", "unknown schedule 'cosin' (did you mean 'cosine'?); valid: constant,"),
    ("run -o adamm", "unknown optimizer 'adamm' (did you mean 'adam'?); valid: gd,"),
    ("run -o adam:betas1=0.8", "did you mean 'beta1'?"),
    ("run --surface rosenbrok", "unknown surface 'rosenbrok' (did you mean 'rosenbrock'?)"),
    ("train --dataset nonexistent.csv", "no such file 'nonexistent.csv'"),
    ("train --dataset data/none", "no such file 'data/none'"),
    ("train --dataset irsi", "unknown dataset 'irsi' (did you mean 'iris'?); valid: a bundled name"),
    ("train --dataset moonz:n=50", "unknown dataset 'moonz:n=50' (did you mean 'moons'?)"),
    ("train --dataset iris --model mlpp", "unknown model 'mlpp' (did you mean 'mlp'?)"),
    ("run --view 3d", "--view 3d applies to the figures of --plot and --animate; give one of them"),
    ("run --view 2d --curves keep.png", "--view 2d applies to the figures of --plot and --animate"),
    ("run --colour red", "unexpected argument '--colour'"),
    // run
    ("run --steps -1", "invalid value '-1' for '--steps <STEPS>'"),
    ("run --steps abc", "invalid value 'abc' for '--steps"),
    ("run --steps _", "invalid value '' for '--steps"),
    ("run --steps 1 --steps 2", "'--steps <STEPS>' cannot be used multiple times"),
    ("run --steps 99999999999999999999", "too large"),
    ("run --steps 18446744073709551615", "--steps must be at most"),
    ("run --steps 1 --surface nope", "unknown surface 'nope'; valid: sphere"),
    ("run --steps 1 --surface _", "formula: column 1"),
    ("run --steps 1 --surface x^^2", "column 3"),
    ("run --steps 1 --surface x+z", "unknown name 'z'; valid: x, y"),
    ("run --steps 1 --start 1", "--start must be two finite numbers X,Y, got '1'"),
    ("run --steps 1 --start a,b", "--start must be two finite numbers"),
    ("run --steps 1 --start nan,0", "--start must be two finite numbers"),
    ("run --steps 1 --start inf,0", "--start must be two finite numbers"),
    ("run --steps 1 --start 1,2,3", "--start must be two finite numbers"),
    ("run --steps 1 --start _", "--start must be two finite numbers"),
    ("run --steps 1 --start 1,1 --start 2,2", "cannot be used multiple times"),
        ("run --steps 1 -o _", "the name is missing"),
    ("run --steps 1 -o adam:", "nothing after ':'"),
    ("run --steps 1 -o adam:lr", "'lr' is not key=value"),
    ("run --steps 1 -o adam:lr=-1", "lr must be in [0, inf), got -1"),
    ("run --steps 1 -o adam:lr=nan", "lr must be in [0, inf), got NaN"),
    ("run --steps 1 -o adam:lr=inf", "lr must be in [0, inf), got inf"),
    ("run --steps 1 -o gd:lr=1e400", "lr must be in [0, inf), got inf"),
    ("run --steps 1 -o gd:lr=0x10", "lr must be a number, got '0x10'"),
    ("run --steps 1 -o adam:lr=0.1,lr=0.2", "key 'lr' is given twice"),
    ("run --steps 1 -o adam:betas=[0.9,0.99]", "unknown key 'betas'; valid keys: lr,"),
    ("run --steps 1 -o adam:amsgrad=maybe", "amsgrad must be true or false"),
    ("run --steps 1 -o adam:lr=[0.1", "unclosed '['"),
    ("run --steps 1 --format xml", "invalid value 'xml' for '--format"),
    ("run --steps 1 --format csv --format json", "cannot be used multiple times"),
    ("run --steps 1 --schedule nope", "unknown schedule 'nope'; valid: constant"),
    ("run --steps 1 --schedule cosine", "missing required key 't_max'"),
    ("run --steps 1 --view 4d --plot out.png", "invalid value '4d' for '--view"),
    ("run --steps 1 --plot out.jpg", "--plot 'out.jpg' must end in .png or .svg"),
    ("run --steps 1 --curves out", "--curves 'out' must end in .png or .svg"),
    ("run --steps 1 --animate out.png", "--animate 'out.png' must end in .gif"),
    ("run --steps 1 --plot out.png --plot out2.png", "cannot be used multiple times"),
    // list
    ("list nope", "invalid value 'nope'"),
    ("list surfaces optimizers", "unexpected argument 'optimizers'"),
    // bench
    ("bench", "required arguments were not provided: --optimizer"),
    ("bench --optimizer nope --params 10", "unknown optimizer 'nope'"),
    ("bench --optimizer adam:lr=-1 --params 10", "lr must be in [0, inf)"),
    ("bench --optimizer adam --params 0", "--params and --tensors must be positive"),
    ("bench --optimizer adam --params -5", "invalid value '-5' for '--params <PARAMS>'"),
    ("bench --optimizer adam --params 10 --tensors 0", "--params and --tensors"),
    ("bench --optimizer adam --params 10 --tensors 11", "tensors <= params"),
    ("bench --optimizer adam --params 10 --threads 0", "--threads must be at least 1"),
    ("bench --optimizer adam --params 10 --samples 3", "--samples must be at least 20"),
    ("bench --optimizer adam --params 10 --dtype f16", "invalid value 'f16' for '--dtype"),
    ("bench --optimizer adam --params 10 --on-non-finite nope", "unknown non-finite gradient policy 'nope'"),
    ("bench --optimizer adam --params 99999999999999", "more than can be allocated"),
    ("bench --optimizer adam --params 18446744073709551615", "more than can be allocated"),
    // schedule
    ("schedule", "required arguments were not provided: <SPEC>"),
    ("schedule nope", "unknown schedule 'nope'"),
    ("schedule _", "the name is missing"),
    ("schedule cosine:t_max=10 --lr -1", "the base lr must be a finite number >= 0, got -1"),
    ("schedule cosine:t_max=10 --lr nan", "got NaN"),
    ("schedule cosine:t_max=10 --lr inf", "got inf"),
    ("schedule cosine:t_max=10 --lr abc", "invalid value 'abc' for '--lr"),
    ("schedule cosine:t_max=10 --steps -1", "invalid value '-1' for '--steps <STEPS>'"),
    ("schedule cosine:t_max=10 --steps 999999999999", "--steps must be at most"),
    ("schedule cosine:t_max=-1", "t_max must be a whole number, got '-1'"),
    ("schedule cosine:t_max=10,t_max=5", "key 't_max' is given twice"),
    ("schedule cosine:t_max=10,eta_min=nan", "eta_min must be in [0, inf), got NaN"),
    ("schedule step:step_size=0", "step_size must be in (0, inf)"),
    ("schedule exponential:gamma=-1", "gamma must be in [0, inf)"),
    ("schedule sequential:schedulers=[cosine:t_max=5;nope],milestones=[5]", "unknown schedule 'nope'"),
    ("schedule sequential:schedulers=[constant;constant],milestones=[]", "milestones must have one entry fewer"),
    ("schedule onecycle:max_lr=1,total_steps=5 --steps 10 --plot out.png", "step 6 is past total_steps=5"),
    ("schedule plateau --metrics a,b", "--metrics must be comma-separated finite numbers"),
    ("schedule plateau --metrics nan", "--metrics must be comma-separated finite numbers"),
    ("schedule plateau --metrics _", "--metrics must be comma-separated finite numbers"),
    ("schedule constant --format xml", "invalid value 'xml' for '--format"),
    ("schedule constant --momentum --momentum", "cannot be used multiple times"),
    ("schedule constant --momentum", "--momentum needs a schedule that cycles momentum"),
    ("schedule constant --plot out.txt", "--plot must name a .png or .svg file"),
    ("schedule constant --steps 0 --plot out.png", "--plot needs at least one step"),
    // sweep
    ("tune -o gd --criterion loss", "valid: final-loss, steps-to=TOL"),
    ("tune -o gd --grid 1e-4:1", "LO:HI:N"),
    ("sweep", "required arguments were not provided: --optimizer"),
    ("sweep -o gd --csv out.csv", "required arguments were not provided: --lr"),
    ("sweep -o gd --lr 0.1 --csv _", "'--csv <FILE>'"),
    ("sweep -o gd --lr _ --csv out.csv", "--lr must be comma-separated non-negative numbers"),
    ("sweep -o gd --lr -1 --csv out.csv", "--lr must be comma-separated non-negative numbers"),
    ("sweep -o gd --lr nan --csv out.csv", "--lr must be comma-separated non-negative numbers"),
    ("sweep -o gd --lr 0.1,,0.2 --csv out.csv", "--lr must be comma-separated"),
    ("sweep -o gd --lr 0.1 --param momentum --csv out.csv", "--param must be KEY=V1,V2"),
    ("sweep -o gd --lr 0.1 --param momentum= --csv out.csv", "--param must be KEY=V1,V2"),
    ("sweep -o gd --lr 0.1 --param nokey=1 --csv out.csv", "none of the optimizers has the key 'nokey'"),
    ("sweep -o gd --lr 0.1 --eps nan --csv out.csv", "--eps must be a positive number"),
    ("sweep -o gd --lr 0.1 --eps 0 --csv out.csv", "--eps must be a positive number"),
    ("sweep -o gd --lr 0.1 --eps -1 --csv out.csv", "--eps must be a positive number, got -1"),
    ("sweep -o gd --lr 0.1 --steps -2 --csv out.csv", "invalid value '-2' for '--steps <STEPS>'"),
    ("sweep -o gd --lr 0.1 --surface nope --csv out.csv", "unknown surface 'nope'"),
    ("sweep -o nope --lr 0.1 --csv out.csv", "unknown optimizer 'nope'"),
    ("sweep -o gd --lr 0.1 --csv out.csv --plot out.jpg", "--plot 'out.jpg' must end in .png or .svg"),
    ("sweep -o gd --lr 0.1 --csv out.csv --grid out.jpg", "--grid 'out.jpg' must end in .png or .svg"),
    ("sweep -o gd --lr 0.1 --csv out.csv --csv out2.csv", "cannot be used multiple times"),
    // sweep --phase: one optimizer, one key, increasing values and lrs, a metric the surface allows
    ("sweep -o gd -o momentum --lr 0.1 --param momentum=0.5 --phase out.png", "--phase: a phase diagram needs exactly one optimizer, got 2"),
    ("sweep -o momentum --lr 0.1 --phase out.png", "--phase: a phase diagram needs exactly one swept key besides lr, got 0"),
    ("sweep -o adam --lr 0.1 --param beta1=0.5 --param beta2=0.9 --phase out.png", "exactly one swept key besides lr, got 2"),
    ("sweep -o momentum --lr 0.1,0.01 --param momentum=0.5 --phase out.png", "learning rates of a phase diagram must be positive and increasing (the lr axis is logarithmic), got 0.1,0.01"),
    ("sweep -o momentum --lr 0,0.1 --param momentum=0.5 --phase out.svg", "must be positive and increasing"),
    ("sweep -o momentum --lr 0.1 --param momentum=0.9,0.5 --phase out.png", "the values of 'momentum' in a phase diagram must be increasing numbers, got 0.9,0.5"),
    ("sweep -o momentum --lr 0.1 --param nesterov=false,true --phase out.png", "the values of 'nesterov' in a phase diagram must be increasing numbers"),
    ("sweep -o gd --lr 0.1 --param momentum=0.5 --phase out.png", "none of the optimizers has the key 'momentum'"),
    ("sweep -o momentum --lr 0.1 --param momentum=0.5 --phase out.jpg", "--phase 'out.jpg' must end in .png or .svg"),
    ("sweep -o momentum --lr 0.1 --param momentum=0.5 --metric final-loss --csv out.csv", "--metric colours the --phase figure; give --phase FILE too"),
    ("sweep -o momentum --lr 0.1 --param momentum=0.5 --phase out.png --metric steps", "--metric: unknown criterion 'steps'; valid: final-loss, steps-to=TOL"),
    ("sweep --surface saddle -o momentum --lr 0.1 --param momentum=0.5 --phase out.png --metric steps-to=0.1", "--metric: steps-to needs a surface with known minima"),
    // demo
    ("demo --out _", "'--out <OUT>'"),
    ("demo --out keep.png", "cannot create 'keep.png': a file of that name exists"),
    ("demo --out missing/demo", "cannot create 'missing/demo': the folder 'missing' does not exist"),
    ("demo --out a b", "unexpected argument 'b'"),
    // train
    ("train", "required arguments were not provided: --dataset"),
    ("train --dataset nope", "unknown dataset 'nope'; valid: a bundled name (iris"),
    ("train --dataset iris --swa 0", "--swa must be START or START,SWA_LR (an epoch >= 1 and a learning rate >= 0), got '0'"),
    ("train --dataset iris --swa 2,x", "--swa must be START or START,SWA_LR"),
    ("train --dataset iris --swa 2,-0.1", "got '2,-0.1'"),
    ("run --steps 1 -o lars --param-shape 2x1", "invalid value '2x1' for '--param-shape <PARAM_SHAPE>'; valid: 2, 1x2"),
    ("run --steps 1 -o muon", "muon steps matrices only (shape [rows, cols]), got a tensor of shape [2]; give vectors and other tensors a group with another rule (adamw); run it with --param-shape 1x2"),
    ("run --steps 1 -o muon:ns_coefficients=[1,2] --param-shape 1x2", "ns_coefficients must hold exactly 3 values [a,b,c], got 2"),
    ("run --steps 1 -o adafactor:eps1=small", "eps1 must be a number or none, got 'small'"),
    ("bench -o muon --params 1000 --cols 7", "--cols 7 must divide every tensor's size (params / tensors = 1000), got a remainder"),
    ("schedule sequential:schedulers=[constant;swalr:swa_lr=0.1],milestones=[2] --steps 4", "swalr counts its steps from the start"),
    ("train --dataset _", "unknown dataset ''"),
    ("train --dataset iris --dataset digits", "cannot be used multiple times"),
    ("train --dataset iris --epochs -1", "invalid value '-1' for '--epochs <EPOCHS>'"),
    ("train --dataset iris --epochs 0", "--epochs must be at least 1, got 0"),
    ("train --dataset iris --epochs x", "invalid value 'x' for '--epochs"),
    ("train --dataset iris --batch-size 0", "batch size must be 'full' or a whole number"),
    ("train --dataset iris --batch-size abc", "batch size must be 'full' or a whole number"),
    ("train --dataset iris --test-fraction 1", "--test-fraction must be in [0, 1), got 1"),
    ("train --dataset iris --test-fraction nan", "--test-fraction must be in [0, 1), got NaN"),
    ("train --dataset iris --test-fraction 1.5", "--test-fraction must be in [0, 1)"),
    ("train --dataset iris --model nope", "unknown model 'nope'; valid: linear"),
    ("train --dataset iris --model mlp:hidden=[0]", "hidden must be in [1, 1000000]"),
    ("train --dataset iris --model mlp:hidden=[99999999999]", "hidden must be in [1, 1000000]"),
    ("train --dataset iris --model mlp:activation=nope", "activation must be one of relu"),
    ("train --dataset iris --optimizer adam:lr=-1", "lr must be in [0, inf)"),
    ("train --dataset iris --optimizer _", "the name is missing"),
    ("train --dataset iris --clip nope", "clip must be value:C, norm:M or global-norm:M"),
    ("train --dataset iris --clip value:-1", "clip must be value:C"),
    ("train --dataset iris --clip norm:nan", "clip must be value:C"),
    ("train --dataset iris --schedule nope", "unknown schedule 'nope'"),
    ("train --dataset iris --schedule-unit hour", "invalid value 'hour'"),
    ("train --dataset iris --scale-lr 0", "invalid value '0' for '--scale-lr"),
    ("train --dataset iris --patience 0", "invalid value '0' for '--patience"),
    ("train --dataset iris --checkpoint-every 0", "invalid value '0' for '--checkpoint-every"),
    ("train --dataset iris --metrics out.txt", "--metrics out.txt: use a .csv, .json or .jsonl"),
    ("train --dataset iris --resume missing.json", "missing.json"),
    ("train --dataset iris --label species", "--label applies to a dataset file only"),
    ("train --dataset moons --labels x", "--labels applies to a dataset file only"),
    ("train --dataset iris --data-format csv", "--data-format applies to a dataset file only"),
    ("train --dataset iris --data-format xml", "invalid value 'xml' for '--data-format"),
    ("train --dataset moons:n=0", "n must be in [1, 10000000], got 0"),
    ("train --dataset moons:n=-1", "n must be a whole number, got '-1'"),
    ("train --dataset moons:noise=nan", "noise must be in [0, inf), got NaN"),
    ("train --dataset moons:nope=1", "unknown key 'nope'; valid keys: n, noise, seed"),
    ("train --dataset blobs:classes=0", "classes must be in [2, 1000]"),
    ("train --dataset iris --test-dataset nope", "unknown dataset 'nope'"),
    ("train --dataset iris --seed -1", "invalid value '-1' for '--seed <SEED>'"),
    ("train --dataset iris --test-fraction -0.1", "--test-fraction must be in [0, 1), got -0.1"),
    ("train --dataset iris --dtype f16", "invalid value 'f16' for '--dtype"),
    ("train --dataset iris --format xml", "invalid value 'xml' for '--format"),
    // compare
    ("compare --dataset iris", "required arguments were not provided: --optimizer"),
    ("compare -o adam", "required arguments were not provided: --dataset"),
    ("compare --dataset iris -o nope", "unknown optimizer 'nope'"),
    ("compare --dataset iris -o adam --plot out.gif", "--plot out.gif: use a .png or .svg file name"),
    ("compare --dataset iris -o adam --epochs 0", "--epochs must be at least 1"),
    ("compare --dataset nope -o adam", "unknown dataset 'nope'"),
    // serve
    ("serve --port 70000", "invalid value '70000' for '--port"),
    ("serve --port -1", "-1 is not in 0..=65535"),
    ("serve --port x", "invalid value 'x' for '--port"),
    ("serve --host nowhere.invalid --port 0", "cannot listen on nowhere.invalid:0"),
    // output paths that cannot be written (the folder `missing` does not
    // exist; `sub.png` is a folder)
    ("run --steps 1 --plot missing/out.png", "cannot write --plot 'missing/out.png': the folder 'missing' does not exist"),
    ("run --steps 1 --plot sub.png", "cannot write --plot 'sub.png': is a folder"),
    ("run --steps 1 --curves missing/out.svg", "the folder 'missing' does not exist"),
    ("run --steps 1 --animate missing/out.gif", "the folder 'missing' does not exist"),
    ("schedule constant --plot missing/out.png", "cannot write --plot 'missing/out.png'"),
    ("schedule constant --plot sub.png", "is a folder"),
    ("sweep -o gd --lr 0.1 --csv missing/out.csv", "cannot write --csv 'missing/out.csv'"),
    ("sweep -o gd --lr 0.1 --csv sub.png", "cannot write --csv 'sub.png': is a folder"),
    ("sweep -o gd --lr 0.1 --csv out.csv --plot missing/out.png", "the folder 'missing' does not exist"),
    ("sweep -o gd --lr 0.1 --csv out.csv --grid sub.png", "is a folder"),
    ("sweep -o momentum --lr 0.1 --param momentum=0.5 --phase missing/out.png", "cannot write --phase 'missing/out.png': the folder 'missing' does not exist"),
    ("sweep -o momentum --lr 0.1 --param momentum=0.5 --phase sub.png", "cannot write --phase 'sub.png': is a folder"),
    ("train --dataset iris --metrics missing/m.csv", "cannot write --metrics 'missing/m.csv'"),
    ("train --dataset iris --checkpoint missing/c.json", "cannot write --checkpoint 'missing/c.json'"),
    ("train --dataset iris --checkpoint sub.png", "is a folder"),
    ("compare --dataset iris -o adam --plot missing/out.png", "cannot write --plot 'missing/out.png'"),
    // bad arguments with an existing file as the output: the file is kept
    ("run --steps 1 --surface nope --plot keep.png", "unknown surface 'nope'"),
    ("run --steps x --animate keep.png", "invalid value 'x' for '--steps"),
    ("sweep -o gd --lr nan --csv keep.csv", "--lr must be comma-separated"),
    ("sweep -o gd -o nag --lr 0.1 --param momentum=0.5 --csv keep.csv --phase keep.png", "exactly one optimizer, got 2"),
    ("schedule nope --plot keep.png", "unknown schedule 'nope'"),
    ("train --dataset iris --epochs 0 --metrics keep.csv --checkpoint keep.json", "--epochs must be at least 1"),
    ("compare --dataset iris -o nope --plot keep.png", "unknown optimizer 'nope'"),
    // failures after the work started: nothing written, existing files kept
    ("train --dataset iris --epochs 3 -q --optimizer gd:lr=1e30 --metrics keep.csv --checkpoint keep.json", "the loss became NaN"),
    ("compare --dataset iris --epochs 2 -q -o adam -o gd:lr=1e30 --plot keep.png", "the loss became NaN"),
    ("schedule onecycle:max_lr=1,total_steps=3 --steps 9 --plot keep.png", "past total_steps=3"),
];

/// The files every case starts with.
const KEPT: [(&str, &str); 3] = [
    ("keep.png", "not a real png"),
    ("keep.csv", "a,b\n1,2\n"),
    ("keep.json", "{\"kept\": true}"),
];

fn prepare(dir: &Path) {
    for (name, text) in KEPT {
        std::fs::write(dir.join(name), text).unwrap();
    }
    std::fs::create_dir(dir.join("sub.png")).unwrap();
}

/// Every entry below `dir` with its contents (empty for folders), sorted.
fn snapshot(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).unwrap() {
            let path = entry.unwrap().path();
            let name = path.strip_prefix(dir).unwrap().display().to_string();
            if path.is_dir() {
                stack.push(path);
                out.push((name + "/", Vec::new()));
            } else {
                out.push((name, std::fs::read(&path).unwrap()));
            }
        }
    }
    out.sort();
    out
}

/// Runs `downhill ARGS` in a fresh folder and checks the contract; returns
/// a description of what went wrong, if anything.
fn check(args: &[&str], needle: &str) -> Option<String> {
    let dir = tempfile::tempdir().unwrap();
    prepare(dir.path());
    let before = snapshot(dir.path());
    let out = Command::new(env!("CARGO_BIN_EXE_downhill"))
        .args(args)
        .current_dir(dir.path())
        .env("RUST_BACKTRACE", "0")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    let stdout = String::from_utf8_lossy(&out.stdout);
    let mut problems = Vec::new();
    if out.status.code() != Some(2) {
        problems.push(format!("exit status {:?}", out.status.code()));
    }
    let lines: Vec<&str> = stderr.lines().collect();
    if lines.len() != 1 || !lines[0].starts_with("error: ") {
        problems.push("stderr is not one 'error:' line".into());
    }
    if !stderr.contains(needle) {
        problems.push(format!("stderr lacks {needle:?}"));
    }
    if stderr.contains("panicked") {
        problems.push("panic".into());
    }
    if !stdout.is_empty() {
        problems.push(format!(
            "stdout: {:?}",
            stdout.chars().take(200).collect::<String>()
        ));
    }
    let after = snapshot(dir.path());
    if after != before {
        let names: Vec<&String> = after.iter().map(|(n, _)| n).collect();
        problems.push(format!("the folder changed: {names:?}"));
    }
    (!problems.is_empty()).then(|| {
        format!(
            "downhill {}: {}\n  stderr: {}",
            args.join(" "),
            problems.join("; "),
            stderr.trim_end()
        )
    })
}

fn split(line: &str) -> Vec<&str> {
    line.split(' ')
        .filter(|w| !w.is_empty())
        .map(|w| if w == "_" { "" } else { w })
        .collect()
}

/// Runs the cases on a few threads; panics listing every failure.
fn check_all(cases: &[(Vec<&str>, &str)]) {
    let threads = 4;
    let failures: Vec<String> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..threads)
            .map(|t| {
                scope.spawn(move || {
                    cases
                        .iter()
                        .skip(t)
                        .step_by(threads)
                        .filter_map(|(args, needle)| check(args, needle))
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().unwrap())
            .collect()
    });
    assert!(
        failures.is_empty(),
        "{} of {} cases failed:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
}

#[test]
fn every_bad_argument_gets_one_error_line_and_exit_2_and_no_file() {
    let cases: Vec<(Vec<&str>, &str)> = CASES
        .iter()
        .map(|(line, needle)| (split(line), *needle))
        .collect();
    check_all(&cases);
}

#[test]
fn every_subcommand_is_covered() {
    let out = Command::new(env!("CARGO_BIN_EXE_downhill"))
        .arg("--help")
        .output()
        .unwrap();
    let help = String::from_utf8(out.stdout).unwrap();
    let commands: Vec<&str> = help
        .split("Commands:")
        .nth(1)
        .unwrap()
        .split("Options:")
        .next()
        .unwrap()
        .lines()
        .filter_map(|l| l.split_whitespace().next())
        .filter(|&c| c != "help")
        .collect();
    assert!(commands.len() >= 9, "{commands:?}");
    for command in commands {
        let cases = CASES
            .iter()
            .filter(|(line, _)| line.split(' ').next() == Some(command))
            .count();
        assert!(cases >= 2, "'{command}' has {cases} bad-argument cases");
    }
}

/// A folder that refuses new files: a read-only temporary folder, or, when
/// running as root (which ignores permissions), `/sys`.
fn read_only_folder() -> Option<(tempfile::TempDir, std::path::PathBuf)> {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let locked = dir.path().join("locked");
    std::fs::create_dir(&locked).unwrap();
    std::fs::set_permissions(&locked, std::fs::Permissions::from_mode(0o555)).unwrap();
    if std::fs::write(locked.join("probe"), "").is_err() {
        return Some((dir, locked));
    }
    let sys = Path::new("/sys");
    (sys.is_dir() && std::fs::write(sys.join("downhill-probe"), "").is_err())
        .then(|| (dir, sys.to_path_buf()))
}

#[test]
fn a_read_only_folder_is_an_error_before_any_work() {
    let Some((_dir, locked)) = read_only_folder() else {
        eprintln!("skipped: no folder refuses writes here");
        return;
    };
    let at = |name: &str| locked.join(name).display().to_string();
    let (png, csv, gif, json) = (at("out.png"), at("out.csv"), at("out.gif"), at("m.csv"));
    let demo = at("demo");
    let cases: Vec<(Vec<&str>, &str)> = vec![
        (
            vec!["run", "--steps", "1", "--plot", &png],
            "cannot write --plot",
        ),
        (
            vec!["run", "--steps", "1", "--animate", &gif],
            "cannot write --animate",
        ),
        (
            vec!["schedule", "constant", "--plot", &png],
            "cannot write --plot",
        ),
        (
            vec!["sweep", "-o", "gd", "--lr", "0.1", "--csv", &csv],
            "cannot write --csv",
        ),
        (
            vec!["train", "--dataset", "iris", "--metrics", &json],
            "cannot write --metrics",
        ),
        (
            vec!["compare", "--dataset", "iris", "-o", "gd", "--plot", &png],
            "cannot write --plot",
        ),
        (vec!["demo", "--out", &demo], "cannot create"),
    ];
    check_all(&cases);
    assert!(!Path::new(&png).exists() && !Path::new(&csv).exists());
}

#[test]
fn demo_into_an_existing_folder_keeps_other_files_and_leaves_no_staging() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("demo");
    std::fs::create_dir(&out).unwrap();
    std::fs::write(out.join("notes.txt"), "mine").unwrap();
    std::fs::write(out.join("index.html"), "old").unwrap();
    let run = Command::new(env!("CARGO_BIN_EXE_downhill"))
        .args(["demo", "--out", out.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let names: Vec<String> = snapshot(dir.path()).into_iter().map(|(n, _)| n).collect();
    assert_eq!(
        names,
        [
            "demo/",
            "demo/anisotropic.png",
            "demo/index.html",
            "demo/notes.txt",
            "demo/quartic-3d.png",
            "demo/quartic-momentum-nag.png",
            "demo/runs.json",
            "demo/saddle-3d.png",
            "demo/saddle-grid.png",
            "demo/saddle.gif",
        ]
    );
    assert_eq!(
        std::fs::read_to_string(out.join("notes.txt")).unwrap(),
        "mine"
    );
    assert!(std::fs::read_to_string(out.join("index.html"))
        .unwrap()
        .starts_with("<!doctype html>"));
}
