//! The lab's figures, sweeps and demo, driven through the `downhill` binary:
//! every written image is decoded and its size checked.

use downhill::lab;
use downhill::optim;
use downhill::surface::{self, Landscape};
use std::path::Path;
use std::process::{Command, Output};

fn downhill(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_downhill"))
        .args(args)
        .output()
        .expect("the binary runs")
}

fn ok(args: &[&str]) -> Output {
    let out = downhill(args);
    assert!(
        out.status.success(),
        "{args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// Exit status 2, one `error:` line naming `needle`.
fn fails(args: &[&str], needle: &str) {
    let out = downhill(args);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
    assert!(
        stderr.starts_with("error:") && stderr.contains(needle),
        "{args:?}: {stderr}"
    );
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
}

fn png_size(path: &Path) -> (u32, u32) {
    let img =
        image::open(path).unwrap_or_else(|e| panic!("{} does not decode: {e}", path.display()));
    (img.width(), img.height())
}

/// Frame count and canvas size of a GIF, every frame decoded.
fn gif_frames(path: &Path) -> (usize, (u32, u32)) {
    use image::AnimationDecoder;
    let file = std::io::BufReader::new(std::fs::File::open(path).unwrap());
    let decoder = image::codecs::gif::GifDecoder::new(file).expect("a GIF");
    let frames = decoder
        .into_frames()
        .collect_frames()
        .expect("every frame decodes");
    let (w, h) = frames[0].buffer().dimensions();
    assert!(frames.iter().all(|f| f.buffer().dimensions() == (w, h)));
    (frames.len(), (w, h))
}

/// The only entries of a folder (no temporary files left behind).
fn entries(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

#[test]
fn run_writes_contours_3d_curves_and_svg() {
    let dir = tempfile::tempdir().unwrap();
    let p = |name: &str| dir.path().join(name).to_string_lossy().into_owned();
    let base = [
        "run",
        "--surface",
        "rosenbrock",
        "-o",
        "adam:lr=0.05",
        "-o",
        "gd:lr=0.01",
        "--steps",
        "60",
    ];
    let plain = ok(&[&base[..], &["--format", "csv"]].concat());
    let with_figures = ok(&[
        &base[..],
        &[
            "--format",
            "csv",
            "--plot",
            &p("r.png"),
            "--curves",
            &p("c.svg"),
            "--animate",
            &p("a.gif"),
        ],
    ]
    .concat());
    assert_eq!(
        plain.stdout, with_figures.stdout,
        "figures must not change stdout"
    );
    ok(&[
        &base[..],
        &[
            "--plot",
            &p("r3.png"),
            "--view",
            "3d",
            "--curves",
            &p("c.png"),
        ],
    ]
    .concat());
    ok(&[&base[..], &["--plot", &p("r.svg")]].concat());
    assert_eq!(png_size(&dir.path().join("r.png")), (900, 720));
    assert_eq!(png_size(&dir.path().join("r3.png")), (900, 720));
    assert_eq!(png_size(&dir.path().join("c.png")), (1100, 820));
    assert_eq!(gif_frames(&dir.path().join("a.gif")), (61, (720, 580)));
    for svg in ["r.svg", "c.svg"] {
        let text = std::fs::read_to_string(dir.path().join(svg)).unwrap();
        assert!(
            text.starts_with("<svg") && text.trim_end().ends_with("</svg>"),
            "{svg}"
        );
    }
    assert!(std::fs::read_to_string(dir.path().join("r.svg"))
        .unwrap()
        .contains("width=\"900\""));
    assert_eq!(
        entries(dir.path()),
        ["a.gif", "c.png", "c.svg", "r.png", "r.svg", "r3.png"]
    );
}

#[test]
fn divergence_and_paths_leaving_the_domain_are_drawn() {
    let dir = tempfile::tempdir().unwrap();
    let png = dir.path().join("d.png");
    let gif = dir.path().join("d.gif");
    let out = ok(&[
        "run",
        "--surface",
        "rosenbrock",
        "-o",
        "gd:lr=0.01",
        "-o",
        "adam:lr=0.5",
        "--steps",
        "40",
        "--plot",
        png.to_str().unwrap(),
        "--animate",
        gif.to_str().unwrap(),
        "--view",
        "3d",
    ]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("diverged"));
    assert_eq!(png_size(&png), (900, 720));
    assert_eq!(gif_frames(&gif).1, (720, 580));
}

#[test]
fn sweep_rows_match_direct_runs() {
    let dir = tempfile::tempdir().unwrap();
    let csv_path = dir.path().join("s.csv");
    let (grid, heat) = (dir.path().join("g.png"), dir.path().join("h.svg"));
    ok(&[
        "sweep",
        "--surface",
        "quartic",
        "--start",
        "1,-0.5",
        "-o",
        "momentum",
        "-o",
        "adam:beta1=0.8",
        "--lr",
        "0.001,0.01,0.1",
        "--param",
        "momentum=0.5,0.9",
        "--steps",
        "150",
        "--eps",
        "1e-3",
        "--csv",
        csv_path.to_str().unwrap(),
        "--grid",
        grid.to_str().unwrap(),
        "--plot",
        heat.to_str().unwrap(),
    ]);
    let mut reader = csv::Reader::from_path(&csv_path).unwrap();
    let header: Vec<String> = reader.headers().unwrap().iter().map(String::from).collect();
    assert_eq!(
        header,
        [
            "optimizer",
            "lr",
            "momentum",
            "final_step",
            "final_x",
            "final_y",
            "final_loss",
            "steps_to_eps",
            "diverged"
        ]
    );
    let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    assert_eq!(
        rows.len(),
        2 * 3 + 3,
        "momentum × 2 values × 3 lrs, adam × 3 lrs"
    );
    let quartic = surface::resolve("quartic").unwrap();
    let mut reached = 0;
    for row in &rows {
        let spec = match (&row[0], &row[2]) {
            ("momentum", m) => format!("momentum:lr={},momentum={m}", &row[1]),
            (_, "") => format!("adam:beta1=0.8,lr={}", &row[1]),
            other => panic!("unexpected row {other:?}"),
        };
        let rule = optim::build(&spec).unwrap();
        let path = lab::trajectory::<f64, _>(
            quartic.landscape.as_ref(),
            [1.0, -0.5],
            lab::ParamShape::Vector,
            rule,
            150,
            |_, _| Ok(()),
        )
        .unwrap();
        let last = path.points.last().unwrap();
        assert_eq!(row[3].parse::<usize>().unwrap(), last.step, "{spec}");
        assert_eq!(
            row[4].parse::<f64>().unwrap().to_bits(),
            last.x.to_bits(),
            "{spec}"
        );
        assert_eq!(
            row[5].parse::<f64>().unwrap().to_bits(),
            last.y.to_bits(),
            "{spec}"
        );
        assert_eq!(
            row[6].parse::<f64>().unwrap().to_bits(),
            last.loss.to_bits(),
            "{spec}"
        );
        let first = path
            .points
            .iter()
            .find(|p| (p.x + 1.5).hypot(p.y) <= 1e-3)
            .map(|p| p.step.to_string());
        assert_eq!(&row[7], first.unwrap_or_default().as_str(), "{spec}");
        reached += usize::from(!row[7].is_empty());
        assert_eq!(
            &row[8],
            if path.diverged.is_some() {
                "true"
            } else {
                "false"
            }
        );
    }
    assert!(
        reached > 0 && reached < rows.len(),
        "the ε column should be neither all empty nor all full"
    );
    assert_eq!(png_size(&grid), (1320, 60 + 300 * 3));
    assert!(
        std::fs::read_to_string(&heat).unwrap().contains("diverged")
            || rows.iter().all(|r| &r[8] == "false")
    );
}

#[test]
fn sweep_marks_divergence_and_leaves_eps_empty_without_minima() {
    let dir = tempfile::tempdir().unwrap();
    let csv_path = dir.path().join("s.csv");
    let heat = dir.path().join("h.png");
    ok(&[
        "sweep",
        "--surface",
        "rosenbrock",
        "-o",
        "gd",
        "--lr",
        "0.0001,0.1",
        "--steps",
        "50",
        "--csv",
        csv_path.to_str().unwrap(),
        "--plot",
        heat.to_str().unwrap(),
    ]);
    let text = std::fs::read_to_string(&csv_path).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert!(
        lines[1].ends_with(",false") && lines[2].ends_with(",true"),
        "{text}"
    );
    png_size(&heat);
    ok(&[
        "sweep",
        "--surface",
        "saddle",
        "-o",
        "gd",
        "--lr",
        "0.1",
        "--steps",
        "5",
        "--csv",
        csv_path.to_str().unwrap(),
    ]);
    let text = std::fs::read_to_string(&csv_path).unwrap();
    assert!(
        text.lines().nth(1).unwrap().ends_with(",,false"),
        "no minima: empty steps_to_eps\n{text}"
    );
}

/// `--phase`: gd on the sphere over lr × weight decay. The CSV is the same
/// as without the figure; cells show the closed-form steps to 1e-3
/// (⌈ln(1e-3)/ln|1 − lr(2 + wd)|⌉ from distance 1) where |1 − lr(2 + wd)| < 1,
/// "never" at lr 1, and each diverged cell (lr 10 and 100: the loss
/// overflows) is crossed out by two red strokes (one more in the legend).
#[test]
fn a_phase_diagram_of_one_value_labels_its_colour_bar_once() {
    let dir = tempfile::tempdir().unwrap();
    let svg = dir.path().join("one.svg");
    // Only momentum 0.5 at lr 1 comes within 1e-3 of the minimum in 100 steps (28 steps).
    ok(&[
        "sweep",
        "--surface",
        "anisotropic",
        "-o",
        "momentum",
        "--lr",
        "0.001,1",
        "--param",
        "momentum=0.5,0.99",
        "--phase",
        svg.to_str().unwrap(),
        "--metric",
        "steps-to=1e-3",
    ]);
    let text = std::fs::read_to_string(&svg).unwrap();
    let labels = text
        .split("</text>")
        .filter_map(|chunk| chunk.trim_end().lines().last())
        .filter(|t| *t == "28")
        .count();
    assert_eq!(labels, 2, "the cell and one colour-bar label");
}

#[test]
fn sweep_draws_a_phase_diagram_and_keeps_the_csv() {
    let dir = tempfile::tempdir().unwrap();
    let p = |name: &str| dir.path().join(name).to_string_lossy().into_owned();
    let base = [
        "sweep",
        "--surface",
        "sphere",
        "--start",
        "0.6,0.8",
        "-o",
        "gd",
        "--lr",
        "0.01,0.1,1,10,100",
        "--param",
        "weight_decay=0,0.5,1",
        "--steps",
        "400",
    ];
    ok(&[&base[..], &["--csv", &p("plain.csv")]].concat());
    let (svg, png) = (p("phase.svg"), p("phase.png"));
    let with = [
        "--csv",
        &p("with.csv"),
        "--phase",
        &svg,
        "--metric",
        "steps-to=1e-3",
    ];
    ok(&[&base[..], &with[..]].concat());
    let out = ok(&[&base[..], &["--phase", &png]].concat());
    assert!(out.stdout.is_empty(), "a figure alone prints no CSV");
    let read = |name: &str| std::fs::read_to_string(dir.path().join(name)).unwrap();
    assert_eq!(read("plain.csv"), read("with.csv"));
    assert_eq!(
        entries(dir.path()),
        ["phase.png", "phase.svg", "plain.csv", "with.csv"]
    );
    let (w, h) = png_size(Path::new(&png));
    assert!(w >= 600 && h >= 300, "{w}×{h}");
    let svg = read("phase.svg");
    // every text element's text (plotters writes it on a line of its own)
    let texts: Vec<&str> = svg
        .split("</text>")
        .filter_map(|chunk| chunk.trim_end().lines().last())
        .collect();
    for text in [
        "gd: steps to within 0.001 of a minimum × lr (darker = lower)",
        "lr (log scale)",
        "weight_decay",
        "0.5",
        "diverged",
        "never",
    ] {
        assert!(texts.contains(&text), "no '{text}' in the SVG");
    }
    let cells: [(f64, f64); 6] = [
        (0.01, 0.0),
        (0.01, 0.5),
        (0.01, 1.0),
        (0.1, 0.0),
        (0.1, 0.5),
        (0.1, 1.0),
    ];
    for (lr, wd) in cells {
        let q = (1.0 - lr * (2.0 + wd)).abs();
        let steps = (1e-3f64.ln() / q.ln()).ceil().to_string();
        assert!(texts.contains(&steps.as_str()), "no cell reads {steps}");
    }
    let red = svg.to_ascii_uppercase().matches("#BE3C3C").count();
    assert_eq!(red, 2 * 6 + 1, "six diverged cells and the legend");
}

#[test]
fn bad_arguments_fail_cleanly_without_files() {
    let dir = tempfile::tempdir().unwrap();
    let p = |name: &str| dir.path().join(name).to_string_lossy().into_owned();
    fails(&["run", "--plot", &p("x.jpg")], "--plot");
    fails(&["run", "--curves", &p("x")], "--curves");
    fails(&["run", "--animate", &p("x.png")], ".gif");
    fails(&["run", "--plot", &p("missing/x.png")], "cannot write");
    fails(&["run", "--view", "4d", "--plot", &p("x.png")], "4d");
    let sweep = ["sweep", "-o", "gd", "--steps", "5", "--csv"];
    fails(
        &[&sweep[..], &[&p("s.csv"), "--lr", "0.1,abc"]].concat(),
        "--lr",
    );
    fails(&[&sweep[..], &[&p("s.csv"), "--lr", "-1"]].concat(), "--lr");
    fails(
        &[
            &sweep[..],
            &[&p("s.csv"), "--lr", "0.1", "--param", "momentum=0.5"],
        ]
        .concat(),
        "momentum",
    );
    fails(
        &[
            &sweep[..],
            &[&p("s.csv"), "--lr", "0.1", "--param", "nonsense"],
        ]
        .concat(),
        "--param",
    );
    fails(
        &[
            &sweep[..],
            &[&p("s.csv"), "--lr", "0.1", "--plot", &p("h.bmp")],
        ]
        .concat(),
        "--plot",
    );
    fails(
        &[&sweep[..], &[&p("no/s.csv"), "--lr", "0.1"]].concat(),
        "cannot write",
    );
    std::fs::write(dir.path().join("file"), "").unwrap();
    fails(&["demo", "--out", &p("file")], "cannot create");
    assert_eq!(entries(dir.path()), ["file"]);
}

#[test]
fn demo_writes_the_seed_figures_and_an_index() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("demo");
    let run = ok(&["demo", "--out", out.to_str().unwrap()]);
    assert!(run.stdout.is_empty(), "demo prints nothing on stdout");
    assert_eq!(
        entries(&out),
        [
            "anisotropic.png",
            "index.html",
            "quartic-3d.png",
            "quartic-momentum-nag.png",
            "runs.json",
            "saddle-3d.png",
            "saddle-grid.png",
            "saddle.gif"
        ]
    );
    assert_eq!(png_size(&out.join("saddle-3d.png")), (900, 720));
    assert_eq!(png_size(&out.join("saddle-grid.png")), (1320, 960));
    assert_eq!(png_size(&out.join("quartic-momentum-nag.png")), (900, 720));
    assert_eq!(png_size(&out.join("quartic-3d.png")), (900, 720));
    assert_eq!(png_size(&out.join("anisotropic.png")), (1200, 800));
    assert_eq!(gif_frames(&out.join("saddle.gif")), (120, (720, 580)));
    assert!(std::fs::metadata(out.join("saddle.gif")).unwrap().len() < 5_000_000);
    let html = std::fs::read_to_string(out.join("index.html")).unwrap();
    for name in entries(&out)
        .iter()
        .filter(|n| n.ends_with(".png") || n.ends_with(".gif"))
    {
        assert!(
            html.contains(&format!("src=\"{name}\"")),
            "index.html misses {name}"
        );
    }
    assert!(
        html.contains("no minimum")
            && html.contains("ignores the learning rate")
            && html.contains("η/(1 − μ)")
    );
}

/// The notes' AdaGrad (seed 004's `Adagrad`, seed 001's `AdaGrad.update`
/// with eps = 1e-7): `n_iters` points, the start and `n_iters - 1` updates.
fn notes_adagrad(
    grad: impl Fn([f64; 2]) -> [f64; 2],
    start: [f64; 2],
    eta: f64,
    eps: f64,
    n_iters: usize,
) -> Vec<[f64; 2]> {
    let (mut theta, mut big_g) = (vec![start], [0.0; 2]);
    for k in 1..n_iters {
        let g = grad(theta[k - 1]);
        let mut next = theta[k - 1];
        for i in 0..2 {
            big_g[i] += g[i] * g[i];
            next[i] -= eta * g[i] / (big_g[i].sqrt() + eps);
        }
        theta.push(next);
    }
    theta
}

/// The notes' momentum (seed 004's `gradient_descent`): v = μv − η∇f, θ += v.
fn notes_momentum(
    grad: impl Fn([f64; 2]) -> [f64; 2],
    start: [f64; 2],
    eta: f64,
    mu: f64,
    n_iters: usize,
) -> Vec<[f64; 2]> {
    let (mut theta, mut v) = (vec![start], [0.0; 2]);
    for k in 1..n_iters {
        let g = grad(theta[k - 1]);
        let mut next = theta[k - 1];
        for i in 0..2 {
            v[i] = mu * v[i] - eta * g[i];
            next[i] += v[i];
        }
        theta.push(next);
    }
    theta
}

#[test]
fn demo_runs_are_the_notes_runs() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("demo");
    ok(&["demo", "--out", out.to_str().unwrap()]);
    let text = std::fs::read_to_string(out.join("runs.json")).unwrap();
    let doc: serde_json::Value = serde_json::from_str(&text).unwrap();
    let runs: Vec<(&str, &serde_json::Value)> = doc["figures"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|f| {
            let file = f["file"].as_str().unwrap();
            f["runs"].as_array().unwrap().iter().map(move |r| (file, r))
        })
        .collect();
    let find = |file: &str, spec: &str| {
        let run = runs
            .iter()
            .find(|(f, r)| *f == file && r["optimizer"] == spec);
        run.unwrap_or_else(|| panic!("{file} has no run {spec}")).1
    };
    let last = |run: &serde_json::Value| {
        let p = run["points"].as_array().unwrap().last().unwrap().clone();
        [p[0].as_f64().unwrap(), p[1].as_f64().unwrap()]
    };
    let close = |got: [f64; 2], want: [f64; 2]| {
        (0..2).all(|i| (got[i] - want[i]).abs() <= 1e-9 * want[i].abs().max(1e-12))
    };
    // the notes' names, not the specs' ("SGD", not "gd"), and their n_iters = 500
    let saddle = |f: &&(&str, &serde_json::Value)| f.0.starts_with("saddle");
    let names: Vec<&str> = runs
        .iter()
        .filter(saddle)
        .map(|(_, r)| r["method"].as_str().unwrap())
        .collect();
    assert_eq!(names.len(), 7 * 4);
    assert_eq!(
        names[..7],
        ["SGD", "Momentum", "NAG", "AdaGrad", "RMSProp", "AdaDelta", "Adam"]
    );
    for (file, run) in runs.iter().filter(saddle) {
        let n = run["points"].as_array().unwrap().len();
        assert_eq!(
            n, 500,
            "{file} {}: 500 points, the start and 499 updates",
            run["optimizer"]
        );
    }
    let saddle_grad = |p: [f64; 2]| [2.0 * p[0], -2.0 * p[1]];
    for lr in [0.001, 0.01, 0.1] {
        // AdaGrad with the notes' eps = 1e-8 (PyTorch's default 1e-10 lands elsewhere)
        let spec = format!("adagrad:lr={lr},eps=1e-8");
        let want = notes_adagrad(saddle_grad, [0.5, 1e-3], lr, 1e-8, 500);
        assert!(
            close(last(find("saddle-grid.png", &spec)), want[499]),
            "{spec}"
        );
        let other = notes_adagrad(saddle_grad, [0.5, 1e-3], lr, 1e-10, 500);
        assert!(
            !close(other[499], want[499]),
            "the test tells the two eps apart"
        );
        let spec = format!("momentum:lr={lr},momentum=0.95");
        let want = notes_momentum(saddle_grad, [0.5, 1e-3], lr, 0.95, 500);
        assert!(
            close(last(find("saddle-grid.png", &spec)), want[499]),
            "{spec}"
        );
    }
    let spec = "adagrad:lr=0.01,eps=1e-8";
    assert_eq!(
        last(find("saddle-3d.png", spec)),
        last(find("saddle-grid.png", spec))
    );
    // the four panels: the book's 30 points, AdaGrad's eps = 1e-7
    let ravine = |p: [f64; 2]| [p[0] / 10.0, 2.0 * p[1]];
    let adagrad = find("anisotropic.png", "adagrad:lr=1.5,eps=1e-7");
    assert_eq!(adagrad["method"], "AdaGrad");
    assert_eq!(adagrad["points"].as_array().unwrap().len(), 30);
    let want = notes_adagrad(ravine, [-7.0, 2.0], 1.5, 1e-7, 30);
    assert!(close(last(adagrad), want[29]));
    let sgd = find("anisotropic.png", "gd:lr=0.95");
    assert_eq!(
        (
            sgd["method"].as_str(),
            sgd["points"].as_array().unwrap().len()
        ),
        (Some("SGD"), 30)
    );
}

#[test]
fn formula_surfaces_and_schedules_plot_like_built_ins() {
    let dir = tempfile::tempdir().unwrap();
    let (png, gif) = (dir.path().join("f.png"), dir.path().join("f.gif"));
    ok(&[
        "run",
        "--surface",
        "sin(x)*cos(y) + 0.1*(x^2+y^2)",
        "-o",
        "adam:lr=0.1",
        "--schedule",
        "cosine:t_max=40",
        "--steps",
        "40",
        "--plot",
        png.to_str().unwrap(),
        "--animate",
        gif.to_str().unwrap(),
        "--view",
        "3d",
    ]);
    assert_eq!(png_size(&png), (900, 720));
    assert_eq!(gif_frames(&gif), (41, (720, 580)));
}

/// Schedule-Free runs report their iterate y as x,y and, in JSON, the
/// evaluation point after each step (the library's `evaluation_point`);
/// `--param-shape 1x2` hands rules a matrix (LARS then scales its steps).
#[test]
fn schedule_free_evaluation_points_and_parameter_shapes() {
    let out = ok(&[
        "run",
        "--surface",
        "booth",
        "-o",
        "schedulefree-sgd:lr=0.01",
        "-o",
        "sgd:lr=0.01",
        "--steps",
        "5",
        "--format",
        "json",
    ]);
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let (sf, sgd) = (&doc["runs"][0], &doc["runs"][1]);
    let evaluation = sf["evaluation"].as_array().unwrap();
    assert_eq!(evaluation.len(), sf["points"].as_array().unwrap().len());
    assert_eq!(evaluation[0], serde_json::json!([-6.0, -4.0]));
    assert_ne!(evaluation[5][0], sf["points"][5][0], "x and y coincide");
    assert!(sgd.get("evaluation").is_none(), "{sgd}");
    // The same point through the library.
    let mut opt =
        optim::Optimizer::<f64>::new(optim::build("schedulefree-sgd:lr=0.01").unwrap(), 2).unwrap();
    let mut theta = [-6.0, -4.0];
    for _ in 0..5 {
        let g = surface::Surface::Booth.gradient(theta[0], theta[1]);
        opt.step(&mut theta, &g).unwrap();
    }
    let mut x = [0.0; 2];
    opt.evaluation_point(&theta, &mut x).unwrap();
    assert_eq!(serde_json::json!(x), evaluation[5]);

    let csv = |shape: &str| {
        let out = ok(&[
            "run",
            "--surface",
            "quartic",
            "-o",
            "lars:lr=2",
            "--steps",
            "3",
            "--format",
            "csv",
            "--param-shape",
            shape,
        ]);
        String::from_utf8(out.stdout).unwrap()
    };
    let (vector, matrix) = (csv("2"), csv("1x2"));
    // As a vector LARS is SGD with momentum: lr 2 throws it far; as a matrix
    // the trust ratio (1e-3·‖θ‖/‖g‖) keeps its steps small.
    let last_x = |text: &str| -> f64 {
        text.lines()
            .last()
            .unwrap()
            .split(',')
            .nth(2)
            .unwrap()
            .parse()
            .unwrap()
    };
    assert!(last_x(&vector).abs() > 100.0, "{vector}");
    assert!((last_x(&matrix) - 1.0).abs() < 0.1, "{matrix}");
    fails(
        &["run", "-o", "lars", "--param-shape", "2x1"],
        "valid: 2, 1x2",
    );
}

#[test]
fn lbfgs_runs_in_the_lab_and_reaches_rosenbrocks_minimum() {
    let out = ok(&[
        "run",
        "--optimizer",
        "lbfgs:line_search_fn=strong_wolfe",
        "--surface",
        "rosenbrock",
        "--steps",
        "3",
        "--format",
        "csv",
    ]);
    let text = String::from_utf8(out.stdout).unwrap();
    let last: Vec<f64> = text
        .lines()
        .last()
        .unwrap()
        .split(',')
        .skip(2)
        .map(|v| v.parse().unwrap())
        .collect();
    assert!(
        (last[0] - 1.0).abs() < 1e-4 && (last[1] - 1.0).abs() < 1e-4,
        "{text}"
    );
    // Its keys are checked like any other.
    fails(
        &[
            "run",
            "--optimizer",
            "lbfgs:history_size=0",
            "--surface",
            "booth",
        ],
        "history_size",
    );
}
