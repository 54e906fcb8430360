//! `downhill demo`: the learning notes' five figures, reproduced with their
//! settings (DESIGN.md, "Seed figures"), and an `index.html` that explains them.

use crate::error::CliError;
use crate::output::runs_json;
use crate::plot::anim::write_gif;
use crate::plot::args::{FIGURE, FRAME};
use crate::plot::contour::Contour;
use crate::plot::file::{write_atomic, write_figure, Figure, Still};
use crate::plot::scene::{Layers, Scene, StillOf};
use crate::plot::surface3d::Surface3d;
use crate::plot::sweep::PanelGrid;
use crate::progress;
use clap::Args;
use downhill::lab::{self, sweep::GridPoint, Run};
use downhill::surface::{self, Resolved};
use plotters::coord::Shift;
use plotters::prelude::DrawingArea;
use plotters::style::RGBColor;
use std::path::{Path, PathBuf};

/// A method as the notes name it, with the settings of the notes' code.
struct Method {
    name: &'static str,
    /// The spec without its learning rate.
    spec: &'static str,
    /// The notes' AdaDelta has no learning rate (PyTorch's lr factor fixed at 1).
    takes_lr: bool,
}

impl Method {
    /// The spec at learning rate `lr` (ignored by a method without one).
    fn at(&self, lr: f64) -> String {
        if !self.takes_lr {
            return self.spec.to_string();
        }
        match self.spec.split_once(':') {
            Some((name, keys)) => format!("{name}:lr={lr},{keys}"),
            None => format!("{}:lr={lr}", self.spec),
        }
    }
}

/// The notes' seven methods (seed 004's Python functions): momentum 0.95 for
/// Momentum and NAG and decay 0.9 for RMSProp and AdaDelta (the saddle grid's
/// caption), ε = 1e-8 in AdaGrad, RMSProp, AdaDelta and Adam, Adam's β
/// 0.9 and 0.999. Their order fixes each method's colour in every figure.
const NOTES: [Method; 7] = [
    Method {
        name: "SGD",
        spec: "gd",
        takes_lr: true,
    },
    Method {
        name: "Momentum",
        spec: "momentum:momentum=0.95",
        takes_lr: true,
    },
    Method {
        name: "NAG",
        spec: "nag:momentum=0.95",
        takes_lr: true,
    },
    Method {
        name: "AdaGrad",
        spec: "adagrad:eps=1e-8",
        takes_lr: true,
    },
    Method {
        name: "RMSProp",
        spec: "rmsprop:alpha=0.9",
        takes_lr: true,
    },
    Method {
        name: "AdaDelta",
        spec: "adadelta:lr=1,rho=0.9,eps=1e-8",
        takes_lr: false,
    },
    Method {
        name: "Adam",
        spec: "adam",
        takes_lr: true,
    },
];

/// The notes' `n_iters = 500`: 500 points, the start and 499 updates
/// (`for k in range(1, n_iters)`).
const NOTES_POINTS: usize = 500;

/// The classic four panels on x²/20 + y² (Saito, "Deep Learning from
/// Scratch", ch. 6, whose optimizer classes seed 001 copies): the notes'
/// name, the spec, and the colour of that name among [`NOTES`].
const FOUR: [(&str, &str); 4] = [
    ("SGD", "gd:lr=0.95"),
    ("Momentum", "momentum:lr=0.1,momentum=0.9"),
    ("AdaGrad", "adagrad:lr=1.5,eps=1e-7"),
    ("Adam", "adam:lr=0.3"),
];
/// The book's loop `for i in range(30)` records the point before each
/// update: 30 points, the start and 29 updates.
const FOUR_POINTS: usize = 30;

/// The colour of a method named as in the notes, the same in every figure.
fn color_of(name: &str) -> RGBColor {
    let i = NOTES
        .iter()
        .position(|m| m.name == name)
        .unwrap_or(NOTES.len());
    crate::plot::color(i)
}

#[derive(Args)]
pub struct DemoArgs {
    /// The folder to write the figures, runs.json and index.html into (created if missing).
    #[arg(long, default_value = "downhill-demo")]
    out: PathBuf,
}

/// Runs of methods named as in the notes, drawn into one figure.
struct Named {
    names: Vec<String>,
    runs: Vec<Run>,
}

impl Named {
    /// `(name, spec)` pairs from `start` on `surface`, `points` points each.
    fn run(
        surface: &Resolved,
        start: [f64; 2],
        methods: &[(String, String)],
        points: usize,
    ) -> Result<Named, CliError> {
        let specs: Vec<String> = methods.iter().map(|(_, s)| s.clone()).collect();
        let runs = lab::runs(
            surface.landscape.as_ref(),
            start,
            lab::ParamShape::Vector,
            &specs,
            points - 1,
            None,
            |_, _, _| {},
        )?;
        Ok(Named {
            names: methods.iter().map(|(n, _)| n.clone()).collect(),
            runs,
        })
    }

    /// The runs labelled with the notes' names, for a figure's legend.
    fn labelled(&self) -> Vec<Run> {
        let pairs = self.names.iter().zip(&self.runs);
        pairs
            .map(|(name, run)| Run {
                spec: name.clone(),
                path: run.path.clone(),
            })
            .collect()
    }

    fn colors(&self) -> Vec<RGBColor> {
        self.names.iter().map(|n| color_of(n)).collect()
    }

    /// `runs_json`'s document of these runs, each with the notes' name as `method`.
    fn json(&self, file: &str, surface: &Resolved, start: [f64; 2]) -> serde_json::Value {
        let steps = self
            .runs
            .iter()
            .map(|r| r.path.points.len().saturating_sub(1));
        let mut doc = runs_json(&surface.label, start, steps.max().unwrap_or(0), &self.runs);
        doc["file"] = file.into();
        if let Some(runs) = doc["runs"].as_array_mut() {
            for (entry, name) in runs.iter_mut().zip(&self.names) {
                entry["method"] = name.as_str().into();
            }
        }
        doc
    }
}

/// The notes' seven at `lr`.
fn seven(lr: f64) -> Vec<(String, String)> {
    NOTES
        .iter()
        .map(|m| (m.name.to_string(), m.at(lr)))
        .collect()
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
    let mut record = Vec::new();

    // 1. Saddle, the notes' seven at lr 0.01 from (0.5, 1e-3): 3-D still and animation.
    let saddle = surface::resolve("saddle")?;
    let start = [0.5, 1e-3];
    let at_001 = Named::run(&saddle, start, &seven(0.01), NOTES_POINTS)?;
    let labelled = at_001.labelled();
    let scene = Scene::new(
        &saddle,
        &labelled,
        "saddle x² − y² from (0.5, 0.001), lr 0.01, 500 points".into(),
    )
    .with_colors(at_001.colors());
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
    record.push(at_001.json("saddle-3d.png", &saddle, start));

    // 2. The saddle over three learning rates, n_iters = 500.
    let lrs = [0.001, 0.01, 0.1];
    let mut points = Vec::new();
    for &lr in &lrs {
        let row = Named::run(&saddle, start, &seven(lr), NOTES_POINTS)?;
        record.push(row.json("saddle-grid.png", &saddle, start));
        for (name, run) in row.names.iter().zip(row.runs) {
            let ignored = NOTES.iter().any(|m| m.name == name && !m.takes_lr);
            points.push(GridPoint {
                optimizer: format!("{name}{}", if ignored { " (ignores lr)" } else { "" }),
                params: Vec::new(),
                lr,
                path: run.path,
            });
        }
    }
    write_figure(
        &out.join("saddle-grid.png"),
        Still::Png,
        &PanelGrid {
            title: "saddle x² − y² from (0.5, 0.001), n_iters = 500 (the start and 499 updates)",
            keys: &[],
            points: &points,
            lrs: &lrs,
        },
    )?;
    bar.inc(1);

    // 3. Quartic, Momentum vs NAG with μ = 0.95 on filled contours.
    let quartic = surface::resolve("quartic")?;
    let qstart = [1.0, -0.5];
    let pair = Named::run(&quartic, qstart, &seven(0.01)[1..3], 201)?;
    let labelled = pair.labelled();
    let scene = Scene::new(
        &quartic,
        &labelled,
        "quartic x⁴ + 2x³ + y² − 1: Momentum vs NAG, μ 0.95, lr 0.01".into(),
    )
    .with_colors(pair.colors());
    write_figure(
        &out.join("quartic-momentum-nag.png"),
        Still::Png,
        &StillOf(&Contour::new(&scene, FIGURE)),
    )?;
    record.push(pair.json("quartic-momentum-nag.png", &quartic, qstart));
    bar.inc(1);

    // 4. Quartic in 3-D, all seven.
    let all = Named::run(&quartic, qstart, &seven(0.01), 201)?;
    let labelled = all.labelled();
    let scene = Scene::new(
        &quartic,
        &labelled,
        "quartic x⁴ + 2x³ + y² − 1, lr 0.01, 200 updates".into(),
    )
    .with_colors(all.colors());
    write_figure(
        &out.join("quartic-3d.png"),
        Still::Png,
        &StillOf(&Surface3d::new(&scene, FIGURE)),
    )?;
    record.push(all.json("quartic-3d.png", &quartic, qstart));
    bar.inc(1);

    // 5. Anisotropic x²/20 + y² from (−7, 2): the classic four panels.
    let aniso = surface::resolve("anisotropic")?;
    let astart = [-7.0, 2.0];
    let four: Vec<Named> = FOUR
        .iter()
        .map(|(name, spec)| {
            let method = [(name.to_string(), spec.to_string())];
            Named::run(&aniso, astart, &method, FOUR_POINTS)
        })
        .collect::<Result<_, _>>()?;
    let labelled: Vec<Vec<Run>> = four.iter().map(Named::labelled).collect();
    let scenes: Vec<Scene> = four
        .iter()
        .zip(&labelled)
        .map(|(named, runs)| {
            let title = format!("{}: {}, 30 points", named.names[0], named.runs[0].spec);
            Scene::new(&aniso, runs, title).with_colors(named.colors())
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
    for named in &four {
        record.push(named.json("anisotropic.png", &aniso, astart));
    }
    bar.inc(1);

    let runs = serde_json::json!({ "figures": record });
    write_atomic(&out.join("runs.json"), |file| {
        serde_json::to_writer(&mut *file, &runs)
            .map_err(|e| CliError::new(format!("cannot write runs.json: {e}")))
    })?;
    write_index(&out.join("index.html"))?;
    staging.publish()?;
    bar.finish_and_clear();
    eprintln!(
        "wrote {} (5 figures, an animation and runs.json)",
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
        "The notes' seven methods at lr 0.01 from (0.5, 0.001) with the settings of the notes' code: their \
         n_iters = 500, that is 500 points (the start and 499 updates); Momentum and NAG with μ = 0.95, \
         RMSProp and AdaDelta with decay 0.9, AdaGrad with the notes' ε = 1e-8 (PyTorch's default is 1e-10), \
         AdaDelta without a learning rate (PyTorch's lr = 1), Adam with β = 0.9, 0.999 and ε = 1e-8. The saddle \
         has <b>no minimum</b>: every method that escapes along y runs off downhill forever, so paths leave the \
         plot (squares on the edge) and some runs would eventually overflow — downhill stops them at the last \
         finite point and marks it instead of crashing. Plain SGD first slides to the saddle point and only \
         leaves it because the tiny y = 0.001 grows by a factor 1 + 2η per step; the momentum methods leave \
         much sooner.",
    ),
    (
        "saddle-3d.png",
        "The saddle in 3-D",
        "The same runs as the animation, drawn on the surface (heights are f). RMSProp, Adam and the notes' \
         AdaDelta divide each coordinate's step by a running RMS of its gradients, so the tiny y-gradient \
         still gets a full-sized step and they turn downhill within a few dozen steps, about as fast as the \
         momentum methods. AdaGrad divides by the root of the whole sum of squared gradients, so its steps keep \
         shrinking: after 499 updates it is the only run still in the frame.",
    ),
    (
        "saddle-grid.png",
        "x(t), y(t) and f(t) for lr 0.001, 0.01 and 0.1",
        "The notes' grid with the settings of their code: n_iters = 500 (500 points, the start and 499 \
         updates), momentum 0.95 for Momentum and NAG, decay 0.9 for RMSProp and AdaDelta, AdaGrad ε = 1e-8. \
         Classical momentum's effective step is η/(1 − μ) = 20η here, which is why Momentum and NAG run away \
         first and furthest (by the end at lr 0.1 NAG is at y ≈ 10¹⁰⁵ and Momentum at 10⁸⁹, against 10³⁶ for \
         plain SGD). The notes' AdaDelta <b>ignores the learning rate</b>: its three rows are identical. \
         (PyTorch's Adadelta multiplies the update by lr, default 1.0 — the notes' version is lr = 1.)",
    ),
    (
        "quartic-momentum-nag.png",
        "Momentum vs NAG on the quartic, μ = 0.95",
        "x⁴ + 2x³ + y² − 1 from (1, −0.5), lr 0.01, 200 updates, on filled contours (the notes give μ = 0.95; \
         the learning rate and length are downhill's choice). The surface has a flat inflection (a plateau) at \
         the origin and its minimum at (−1.5, 0) (star). Both heavy-ball methods carry enough speed across the \
         plateau; NAG evaluates the gradient at the look-ahead point θ + μv, so it brakes earlier and \
         overshoots the minimum less.",
    ),
    (
        "quartic-3d.png",
        "The quartic in 3-D, all seven",
        "The seven with the notes' settings as in the saddle figures, lr 0.01, 200 updates. Only the momentum \
         methods (Momentum and NAG) cross the plateau and reach the minimum at (−1.5, 0). The others slow to a \
         crawl as they near the flat inflection at the origin, where the gradient vanishes: SGD and RMSProp \
         stop there, Adam just short of it, and AdaGrad and AdaDelta are still creeping towards it after 200 \
         updates. Without accumulated velocity nothing carries them across.",
    ),
    (
        "anisotropic.png",
        "The classic four panels on x²/20 + y²",
        "From (−7, 2), with the settings of the book whose optimizer classes seed 001 copies (Saito, \
         <i>Deep Learning from Scratch</i>, ch. 6): SGD lr 0.95, Momentum lr 0.1 with μ 0.9, AdaGrad lr 1.5 \
         with ε = 1e-7 (seed 001's <code>1e-7</code> in <code>AdaGrad.update</code>), Adam lr 0.3; 30 points, \
         as the book's <code>for i in range(30)</code> loop records the point before each update (the start \
         and 29 updates). SGD zig-zags across the steep y direction while crawling along the shallow x \
         direction; momentum rolls like a ball, overshooting in y but building up speed along x; AdaGrad \
         rescales each coordinate and heads almost straight for the minimum; Adam combines both.",
    ),
];

fn write_index(path: &Path) -> Result<(), CliError> {
    let mut html = String::from(
        "<!doctype html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>downhill demo: the learning \
         notes' figures</title>\n<style>body{font-family:sans-serif;max-width:980px;margin:2em auto;padding:0 1em;\
         line-height:1.45}figure{margin:2.5em 0}img{max-width:100%;border:1px solid #ddd}figcaption{margin-top:.6em}\
         </style>\n</head>\n<body>\n<h1>downhill demo</h1>\n<p>The five figures of the learning notes, reproduced \
         by <code>downhill demo</code> with their settings. Rings mark starts, dots the final points, stars the \
         known minima, squares where a path leaves the plot and ✕ where a run diverged. Every run's points are in \
         <a href=\"runs.json\">runs.json</a> (as <code>downhill run --format json</code> writes them, each \
         with the notes' name of its method).</p>\n",
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
