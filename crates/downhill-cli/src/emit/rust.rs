//! `--emit rust`: a `main.rs` that runs the same paths through the `downhill`
//! crate (`surface::resolve`, `lab::runs`) and prints them as CSV.

use super::Problem;
use downhill::lab::ParamShape;
use std::fmt::Write;

/// The program; it needs `downhill` as its only dependency. Laid out as
/// rustfmt lays it out, so that a committed copy stays formatted.
pub fn script(problem: &Problem) -> String {
    let specs: Vec<String> = problem.specs.iter().map(|s| format!("{s:?}")).collect();
    let items = specs.join(", ");
    // rustfmt keeps an array on one line when its items take at most 60 columns.
    let specs = if items.len() <= 60 && items.len() + 27 <= 100 {
        format!("&[{items}]")
    } else {
        let lines: Vec<String> = specs.iter().map(|s| format!("\n    {s},")).collect();
        format!("&[{}\n]", lines.concat())
    };
    let shape = match problem.shape {
        ParamShape::Vector => "Vector",
        ParamShape::Row => "Row",
    };
    let schedule = match &problem.schedule {
        Some(s) => format!("Some({s:?})"),
        None => "None".to_string(),
    };
    let mut out = String::new();
    let _ = write!(
        out,
        r#"//! Prints what `{command}` prints.
//! Written by `downhill run … --emit rust`; build it with the `downhill` crate as a dependency.

use downhill::lab::{{self, ParamShape}};
use downhill::surface;

const SURFACE: &str = {surface:?};
const START: [f64; 2] = [{x:?}, {y:?}];
const SPECS: &[&str] = {specs};
const STEPS: usize = {steps};
const SCHEDULE: Option<&str> = {schedule};

fn main() {{
    let surface = surface::resolve(SURFACE).expect("a surface name or formula");
    let specs: Vec<String> = SPECS.iter().map(|s| s.to_string()).collect();
    let runs = lab::runs(
        surface.landscape.as_ref(),
        START,
        ParamShape::{shape},
        &specs,
        STEPS,
        SCHEDULE,
        |_, _, _| {{}},
    )
    .expect("valid optimizer and schedule specs");
    println!("optimizer,step,x,y,loss");
    for run in &runs {{
        if let Some(d) = &run.path.diverged {{
            let (spec, step, reason) = (&run.spec, d.step, &d.reason);
            eprintln!("warning: {{spec}} diverged at step {{step}} ({{reason}})");
        }}
        for p in &run.path.points {{
            // `{{:?}}`: the shortest text that reads back as the same f64.
            let (x, y, loss) = (p.x, p.y, p.loss);
            println!("{{}},{{}},{{x:?}},{{y:?}},{{loss:?}}", csv_field(&run.spec), p.step);
        }}
    }}
}}

/// A CSV field: quoted (quotes doubled) when it holds a comma, a quote or a line break.
fn csv_field(text: &str) -> String {{
    if text.contains([',', '"', '\n', '\r']) {{
        format!("\"{{}}\"", text.replace('"', "\"\""))
    }} else {{
        text.to_string()
    }}
}}
"#,
        command = problem.command_line().replace(['\n', '\r'], " "),
        surface = problem.surface,
        x = problem.start[0],
        y = problem.start[1],
        steps = problem.steps,
    );
    out
}
