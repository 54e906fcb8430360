//! Prints what `downhill run --surface 'x^4/4 + y^2 - x*y + sin(x)' --start=2.0,-1.0 --steps 100 -o rmsprop:lr=0.01 -o nag:lr=0.01 --format csv` prints.
//! Written by `downhill run … --emit rust`; build it with the `downhill` crate as a dependency.

use downhill::lab::{self, ParamShape};
use downhill::surface;

const SURFACE: &str = "x^4/4 + y^2 - x*y + sin(x)";
const START: [f64; 2] = [2.0, -1.0];
const SPECS: &[&str] = &["rmsprop:lr=0.01", "nag:lr=0.01"];
const STEPS: usize = 100;
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
