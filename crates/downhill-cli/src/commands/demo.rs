//! `downhill demo`: the learning notes' five figures, reproduced with their
//! settings (DESIGN.md, "Seed figures"), and an `index.html` that explains them.

use crate::error::CliError;
use crate::plot::anim::write_gif;
use crate::plot::args::{FIGURE, FRAME};
use crate::plot::contour::Contour;
use crate::plot::file::{write_atomic, write_figure, Figure, Still};
use crate::plot::scene::{Layers, Scene, StillOf};
use crate::plot::surface3d::Surface3d;
use crate::plot::sweep::PanelGrid;
use crate::progress;
use clap::Args;
use downhill::lab::{self, sweep::GridPoint, Run, SEED_OPTIMIZERS};
use downhill::surface::{self, Resolved};
use plotters::coord::Shift;
use plotters::prelude::DrawingArea;
use std::path::{Path, PathBuf};

/// The notes' AdaDelta: no learning rate (PyTorch's lr factor fixed at 1), ρ = 0.9.
pub const NOTES_ADADELTA: &str = "adadelta:lr=1,rho=0.9,eps=1e-8";
/// The notes' saddle AdaGrad: ε = 1e-8 (PyTorch's default is 1e-10).
const NOTES_ADAGRAD_EPS: &str = "eps=1e-8";
/// The notes' `n_iters = 500` on the saddle: 500 points, the start and 499
/// updates (`for k in range(1, n_iters)`).
const SADDLE_UPDATES: usize = 499;

#[derive(Args)]
pub struct DemoArgs {
    /// The folder to write the figures and index.html into (created if missing).
    #[arg(long, default_value = "downhill-demo")]
    out: PathBuf,
}

/// The seven seed optimizers with the notes' AdaDelta and AdaGrad.
fn seven() -> Vec<String> {
    SEED_OPTIMIZERS
        .iter()
        .map(|s| match s.split(':').next() {
            Some("adadelta") => NOTES_ADADELTA.to_string(),
            Some("adagrad") => format!("{s},{NOTES_ADAGRAD_EPS}"),
            _ => s.to_string(),
        })
        .collect()
}

/// The paths of `specs` from `start` on `surface`.
fn runs(
    surface: &Resolved,
    start: [f64; 2],
    specs: &[String],
    steps: usize,
) -> Result<Vec<Run>, CliError> {
    let landscape = surface.landscape.as_ref();
    Ok(lab::runs(
        landscape,
        start,
        lab::ParamShape::Vector,
        specs,
        steps,
        None,
        |_, _, _| {},
    )?)
}

/// Several trajectory figures side by side.
struct Panels<L: Layers> {
    panels: Vec<L>,
    cols: usize,
    size: (u32, u32),
}

impl<L: Layers> Figure for Panels<L> {
    fn size(&self) -> (u32, u32) {
        self.size
    }
    fn draw<DB: crate::plot::Backend>(
        &self,
        area: &DrawingArea<DB, Shift>,
        fine: bool,
    ) -> Result<(), CliError> {
        let rows = self.panels.len().div_ceil(self.cols);
        for (layers, sub) in self.panels.iter().zip(area.split_evenly((rows, self.cols))) {
            StillOf(layers).draw(&sub, fine)?;
        }
        Ok(())
    }
}

pub fn run(args: DemoArgs) -> Result<(), CliError> {
    let staging = Staging::new(&args.out)?;
    let out = staging.dir.path();
    let bar = progress::bar("demo");
    bar.inc_length(5);

    // 1. Saddle, all seven at lr 0.01 from (0.5, 1e-3): 3-D still and animation.
    let saddle = surface::resolve("saddle")?;
    let start = [0.5, 1e-3];
    let saddle_runs = runs(&saddle, start, &seven(), SADDLE_UPDATES)?;
    let scene = Scene::new(
        &saddle,
        &saddle_runs,
        "saddle x² − y², seven optimizers, lr 0.01".into(),
    );
    write_figure(
        &out.join("saddle-3d.png"),
        Still::Png,
        &StillOf(&Surface3d::new(&scene, FIGURE)),
    )?;
    bar.inc(1);
    write_gif(
        &out.join("saddle.gif"),
        &Surface3d::new(&scene, FRAME),
        &bar,
    )?;

    // 2. The saddle over three learning rates, n_iters = 500.
    let lrs = [0.001, 0.01, 0.1];
    let mut points = Vec::new();
    for spec in [
        "gd",
        "momentum:momentum=0.95",
        "nag:momentum=0.95",
        &format!("adagrad:{NOTES_ADAGRAD_EPS}"),
        "rmsprop:alpha=0.9",
    ] {
        for &lr in &lrs {
            let full = format!(
                "{spec}{}lr={lr}",
                if spec.contains(':') { "," } else { ":" }
            );
            let run = runs(&saddle, start, &[full], SADDLE_UPDATES)?.remove(0);
            points.push(GridPoint {
                optimizer: spec.to_string(),
                params: Vec::new(),
                lr,
                path: run.path,
            });
        }
    }
    for &lr in &lrs {
        let run = runs(
            &saddle,
            start,
            &[NOTES_ADADELTA.to_string()],
            SADDLE_UPDATES,
        )?
        .remove(0);
        points.push(GridPoint {
            optimizer: "adadelta:rho=0.9 (lr ignored)".into(),
            params: Vec::new(),
            lr,
            path: run.path,
        });
        let adam = runs(&saddle, start, &[format!("adam:lr={lr}")], SADDLE_UPDATES)?.remove(0);
        points.push(GridPoint {
            optimizer: "adam".into(),
            params: Vec::new(),
            lr,
            path: adam.path,
        });
    }
    let title = "saddle x² − y² from (0.5, 0.001), n_iters = 500 (499 updates)";
    write_figure(
        &out.join("saddle-grid.png"),
        Still::Png,
        &PanelGrid {
            title,
            keys: &[],
            points: &points,
            lrs: &lrs,
        },
    )?;
    bar.inc(1);

    // 3. Quartic, Momentum vs NAG with μ = 0.95 on filled contours.
    let quartic = surface::resolve("quartic")?;
    let qstart = [1.0, -0.5];
    let pair = [
        "momentum:lr=0.01,momentum=0.95".to_string(),
        "nag:lr=0.01,momentum=0.95".to_string(),
    ];
    let pair_runs = runs(&quartic, qstart, &pair, 200)?;
    let scene = Scene::new(
        &quartic,
        &pair_runs,
        "quartic x⁴ + 2x³ + y² − 1: Momentum vs NAG, μ = 0.95".into(),
    );
    write_figure(
        &out.join("quartic-momentum-nag.png"),
        Still::Png,
        &StillOf(&Contour::new(&scene, FIGURE)),
    )?;
    bar.inc(1);

    // 4. Quartic in 3-D, all seven.
    let seven_runs = runs(&quartic, qstart, &seven(), 200)?;
    let scene = Scene::new(
        &quartic,
        &seven_runs,
        "quartic x⁴ + 2x³ + y² − 1, seven optimizers, 200 steps".into(),
    );
    write_figure(
        &out.join("quartic-3d.png"),
        Still::Png,
        &StillOf(&Surface3d::new(&scene, FIGURE)),
    )?;
    bar.inc(1);

    // 5. Anisotropic x²/20 + y² from (−7, 2): the classic four panels.
    let aniso = surface::resolve("anisotropic")?;
    // (the notes' name, the spec, the panel's settings)
    let four = [
        ("SGD", "gd:lr=0.95", "lr 0.95"),
        ("Momentum", "momentum:lr=0.1", "lr 0.1, μ 0.9"),
        ("AdaGrad", "adagrad:lr=1.5,eps=1e-7", "lr 1.5, ε 1e-7"),
        ("Adam", "adam:lr=0.3", "lr 0.3"),
    ];
    let four_runs: Vec<Vec<Run>> = four
        .iter()
        .map(|(_, s, _)| runs(&aniso, [-7.0, 2.0], &[s.to_string()], 30))
        .collect::<Result<_, _>>()?;
    let scenes: Vec<Scene> = four_runs
        .iter()
        .zip(four)
        .map(|(r, (name, _, settings))| {
            Scene::new(&aniso, r, format!("{name} ({settings}), 30 steps"))
        })
        .collect();
    let panels = Panels {
        panels: scenes
            .iter()
            .map(|s| Contour {
                font_size: 15,
                ..Contour::new(s, (600, 400))
            })
            .collect(),
        cols: 2,
        size: (1200, 800),
    };
    write_figure(&out.join("anisotropic.png"), Still::Png, &panels)?;
    bar.inc(1);

    write_index(&out.join("index.html"))?;
    staging.publish()?;
    bar.finish_and_clear();
    eprintln!(
        "wrote {} (5 figures and an animation)",
        args.out.join("index.html").display()
    );
    Ok(())
}

/// A hidden folder next to the output folder that the files are written into
/// first; an error half-way removes it, leaving the output folder as it was.
struct Staging {
    dir: tempfile::TempDir,
    out: PathBuf,
}

impl Staging {
    /// Checks that `out` is a folder or can be made one (its parent exists).
    fn new(out: &Path) -> Result<Staging, CliError> {
        let cannot =
            |why: String| CliError::new(format!("cannot create '{}': {why}", out.display()));
        let parent = match out.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
            _ => PathBuf::from("."),
        };
        if out.exists() && !out.is_dir() {
            return Err(cannot("a file of that name exists".into()));
        }
        if !parent.is_dir() {
            return Err(cannot(format!(
                "the folder '{}' does not exist",
                parent.display()
            )));
        }
        let dir = tempfile::Builder::new()
            .prefix(".downhill-demo-")
            .tempdir_in(&parent)
            .map_err(|e| cannot(e.kind().to_string()))?;
        Ok(Staging {
            dir,
            out: out.to_path_buf(),
        })
    }

    /// Moves the finished files into place: the whole folder when `out` does
    /// not exist yet, else file by file (each rename is atomic).
    fn publish(self) -> Result<(), CliError> {
        let cannot = |e: std::io::Error| {
            CliError::new(format!("cannot create '{}': {e}", self.out.display()))
        };
        if !self.out.exists() {
            // temporary folders are private (0700); the output is an ordinary folder
            #[cfg(unix)]
            {
                use std::os::unix::fs::PermissionsExt;
                std::fs::set_permissions(self.dir.path(), std::fs::Permissions::from_mode(0o755))
                    .map_err(cannot)?;
            }
            let dir = self.dir.keep();
            return std::fs::rename(&dir, &self.out).map_err(|e| {
                let _ = std::fs::remove_dir_all(&dir);
                cannot(e)
            });
        }
        for entry in std::fs::read_dir(self.dir.path()).map_err(cannot)? {
            let entry = entry.map_err(cannot)?;
            std::fs::rename(entry.path(), self.out.join(entry.file_name())).map_err(cannot)?;
        }
        Ok(())
    }
}

/// The figures and what they show.
const FIGURES: [(&str, &str, &str); 6] = [
    (
        "saddle.gif",
        "The saddle x² − y², animated",
        "Seven optimizers at lr 0.01 from (0.5, 0.001), the notes' n_iters = 500: the start and 499 updates; \
         AdaGrad with the notes' ε = 1e-8, AdaDelta with ρ = 0.9, ε = 1e-8. The saddle has <b>no minimum</b>: every \
         method that escapes along y runs off downhill forever, so paths leave the plot (squares on the edge) \
         and some runs would eventually overflow — downhill stops them at the last finite point and marks it \
         instead of crashing. Plain GD first slides to the saddle point and only leaves it because the tiny \
         y = 0.001 grows by a factor 1 + 2η per step; the momentum methods leave much sooner.",
    ),
    (
        "saddle-3d.png",
        "The saddle in 3-D",
        "The same runs as the animation, drawn on the surface. RMSProp, Adam and the notes' AdaDelta divide \
         each coordinate's step by a running RMS of its gradients, so the tiny y-gradient still gets a \
         full-sized step and they turn downhill within a few dozen steps, as fast as the momentum methods. \
         AdaGrad divides by the root of the whole sum of squared gradients, so its steps keep shrinking: \
         after 499 updates it is the only run still in the frame.",
    ),
    (
        "saddle-grid.png",
        "x(t), y(t) and f(t) for lr 0.001, 0.01 and 0.1",
        "The notes' grid: n_iters = 500 (the start and 499 updates), AdaGrad ε = 1e-8, momentum 0.95 for Momentum and NAG, decay 0.9 for RMSProp and \
         AdaDelta. Classical momentum's effective step is η/(1 − μ) = 20η here, which is why Momentum and NAG \
         run away first and furthest (y ≈ 10¹⁰⁵ by the end at lr 0.1, against 10³⁶ for plain GD). The \
         notes' AdaDelta <b>ignores the learning rate</b>: its three rows are identical. (PyTorch's Adadelta \
         multiplies the update by lr, default 1.0 — the notes' version is lr = 1.)",
    ),
    (
        "quartic-momentum-nag.png",
        "Momentum vs NAG on the quartic, μ = 0.95",
        "x⁴ + 2x³ + y² − 1 from (1, −0.5), lr 0.01, 200 steps, on filled contours. The surface has a flat \
         inflection (a plateau) at the origin and its minimum at (−1.5, 0) (star). Both heavy-ball methods \
         carry enough speed across the plateau; NAG evaluates the gradient at the look-ahead point θ + μv, so \
         it brakes earlier and overshoots the minimum less.",
    ),
    (
        "quartic-3d.png",
        "The quartic in 3-D, all seven",
        "Only the momentum methods (Momentum and NAG) cross the plateau and reach the minimum at (−1.5, 0). \
         The others slow to a crawl as they near the flat inflection at the origin, where the gradient \
         vanishes: GD and RMSProp stop there, Adam just short of it, and AdaGrad and AdaDelta are still \
         creeping towards it after 200 steps. Without accumulated velocity nothing carries them across.",
    ),
    (
        "anisotropic.png",
        "The classic four panels on x²/20 + y²",
        "From (−7, 2), 30 steps: SGD lr 0.95, Momentum lr 0.1 (μ 0.9), AdaGrad lr 1.5 with the notes' \
         ε = 1e-7 (their <code>1e-7</code> in <code>AdaGrad.update</code>), Adam lr 0.3. SGD \
         zig-zags across the steep y direction while crawling along the shallow x direction; momentum rolls \
         like a ball, overshooting in y but building up speed along x; AdaGrad rescales each coordinate and \
         heads almost straight for the minimum; Adam combines both.",
    ),
];

fn write_index(path: &Path) -> Result<(), CliError> {
    let mut html = String::from(
        "<!doctype html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>downhill demo: the learning \
         notes' figures</title>\n<style>body{font-family:sans-serif;max-width:980px;margin:2em auto;padding:0 1em;\
         line-height:1.45}figure{margin:2.5em 0}img{max-width:100%;border:1px solid #ddd}figcaption{margin-top:.6em}\
         </style>\n</head>\n<body>\n<h1>downhill demo</h1>\n<p>The five figures of the learning notes, reproduced \
         by <code>downhill demo</code> with their settings. Rings mark starts, dots the final points, stars the \
         known minima, squares where a path leaves the plot and ✕ where a run diverged.</p>\n",
    );
    for (file, title, caption) in FIGURES {
        html.push_str(&format!(
            "<figure>\n<h2>{title}</h2>\n<img src=\"{file}\" alt=\"{title}\">\n<figcaption>{caption}</figcaption>\n</figure>\n"
        ));
    }
    html.push_str("</body>\n</html>\n");
    write_atomic(path, |file| {
        file.write_all(html.as_bytes())
            .map_err(|e| CliError::new(format!("cannot write '{}': {e}", path.display())))
    })
}
