//! Prints what `downhill run --surface rosenbrock --start=-1.2,1.0 --steps 200 -o adam:lr=0.02 -o sgd:lr=0.0001,momentum=0.9,nesterov=true --format csv` prints.
//! Written by `downhill run … --emit rust`; build it with the `downhill` crate as a dependency.

use downhill::lab::{self, ParamShape};
use downhill::surface;

const SURFACE: &str = "rosenbrock";
const START: [f64; 2] = [-1.2, 1.0];
const SPECS: &[&str] = &["adam:lr=0.02", "sgd:lr=0.0001,momentum=0.9,nesterov=true"];
const STEPS: usize = 200;
const SCHEDULE: Option<&str> = None;

fn main() {
    let surface = surface::resolve(SURFACE).expect("a surface name or formula");
    let specs: Vec<String> = SPECS.iter().map(|s| s.to_string()).collect();
    let runs = lab::runs(
        surface.landscape.as_ref(),
        START,
        ParamShape::Vector,
        &specs,
        STEPS,
        SCHEDULE,
        |_, _, _| {},
    )
    .expect("valid optimizer and schedule specs");
    println!("optimizer,step,x,y,loss");
    for run in &runs {
        if let Some(d) = &run.path.diverged {
            let (spec, step, reason) = (&run.spec, d.step, &d.reason);
            eprintln!("warning: {spec} diverged at step {step} ({reason})");
        }
        for p in &run.path.points {
            // `{:?}`: the shortest text that reads back as the same f64.
            let (x, y, loss) = (p.x, p.y, p.loss);
            println!("{},{},{x:?},{y:?},{loss:?}", csv_field(&run.spec), p.step);
        }
    }
}

/// A CSV field: quoted (quotes doubled) when it holds a comma, a quote or a line break.
fn csv_field(text: &str) -> String {
    if text.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text.to_string()
    }
}
