//! `downhill run … --emit LANGUAGE`: the run written out as a program that
//! prints the CSV of `downhill run … --format csv` for the same arguments.

mod pytorch;
mod rust;

use crate::error::CliError;
use downhill::lab::ParamShape;

/// `--emit`: the language of the program.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Language {
    /// A Python script using torch.optim in float64.
    Pytorch,
    /// A `main.rs` using the `downhill` crate.
    Rust,
}

impl Language {
    /// The name a download is saved under.
    pub fn file_name(self) -> &'static str {
        match self {
            Language::Pytorch => "downhill_run.py",
            Language::Rust => "main.rs",
        }
    }
}

/// What a run is: the arguments of `downhill run`, resolved and checked.
pub struct Problem {
    /// The surface as typed: a name or a formula.
    pub surface: String,
    pub start: [f64; 2],
    pub specs: Vec<String>,
    pub steps: usize,
    pub schedule: Option<String>,
    pub shape: ParamShape,
}

impl Problem {
    /// `downhill run … --format csv` for this run, as one shell line.
    pub fn command_line(&self) -> String {
        let mut words = vec![
            "downhill run --surface".to_string(),
            shell_word(&self.surface),
            format!("--start={:?},{:?}", self.start[0], self.start[1]),
            format!("--steps {}", self.steps),
        ];
        for spec in &self.specs {
            words.push(format!("-o {}", shell_word(spec)));
        }
        if let Some(schedule) = &self.schedule {
            words.push(format!("--schedule {}", shell_word(schedule)));
        }
        if self.shape == ParamShape::Row {
            words.push("--param-shape 1x2".to_string());
        }
        words.push("--format csv".to_string());
        words.join(" ")
    }
}

/// `text` as one shell word: as is when it is plain, else single-quoted.
fn shell_word(text: &str) -> String {
    let plain = !text.is_empty()
        && text
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_.,:=+/@%".contains(c));
    if plain {
        text.to_string()
    } else {
        format!("'{}'", text.replace('\'', r"'\''"))
    }
}

/// The program for `problem` in `language`.
pub fn script(language: Language, problem: &Problem) -> Result<String, CliError> {
    match language {
        Language::Pytorch => pytorch::script(problem),
        Language::Rust => Ok(rust::script(problem)),
    }
}
