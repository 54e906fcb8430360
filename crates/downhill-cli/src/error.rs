//! The command line's one error type: printed as one `error:` line, exit status 2.

use downhill::lab::sweep::SweepError;
use downhill::lab::tune::TuneError;
use downhill::optim::StepError;
use downhill::spec::ConfigError;
use downhill::surface::SurfaceError;
use downhill::train::{SetupError, TrainError};
use std::io;
use thiserror::Error;

/// A failure the user can act on. Each library error keeps its own message.
#[derive(Debug, Error)]
pub enum CliError {
    /// A message of the command line's own (a bad option value, a file that cannot be written).
    #[error("{0}")]
    Message(String),
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error(transparent)]
    Surface(#[from] SurfaceError),
    #[error(transparent)]
    Step(#[from] StepError),
    #[error(transparent)]
    Setup(#[from] SetupError),
    #[error(transparent)]
    Train(#[from] TrainError),
    #[error(transparent)]
    Sweep(SweepError),
    #[error(transparent)]
    Io(#[from] io::Error),
    #[error(transparent)]
    Csv(#[from] csv::Error),
    #[error(transparent)]
    Json(#[from] serde_json::Error),
    #[error(transparent)]
    Threads(#[from] rayon::ThreadPoolBuildError),
    /// Already reported by rank 0 of a distributed run: exit status 2, no line.
    #[error("reported by rank 0")]
    Reported,
    /// A figure that could not be drawn.
    #[error("{0}")]
    Draw(String),
}

impl CliError {
    /// A message of the command line's own.
    pub fn new(message: impl Into<String>) -> Self {
        CliError::Message(message.into())
    }

    /// Whether this is stdout closed by its reader (`downhill list | head`): no error.
    pub fn is_closed_stdout(&self) -> bool {
        let io = match self {
            CliError::Io(e) => Some(e),
            CliError::Csv(e) => match e.kind() {
                csv::ErrorKind::Io(e) => Some(e),
                _ => None,
            },
            _ => None,
        };
        io.is_some_and(|e| e.kind() == io::ErrorKind::BrokenPipe)
    }
}

impl From<TuneError> for CliError {
    fn from(e: TuneError) -> Self {
        match e {
            TuneError::Sweep(e) => e.into(),
            TuneError::Config(e) => e.into(),
            e @ (TuneError::Criterion(_) | TuneError::NoMinima) => {
                CliError::new(format!("--criterion: {e}"))
            }
            e @ TuneError::Grid(_) => CliError::new(format!("--grid: {e}")),
        }
    }
}

impl From<SweepError> for CliError {
    fn from(e: SweepError) -> Self {
        match &e {
            SweepError::UnusedKey { key } => CliError::new(format!("--param {key}: {e}")),
            _ => CliError::Sweep(e),
        }
    }
}

impl<E: std::error::Error + Send + Sync> From<plotters::drawing::DrawingAreaErrorKind<E>>
    for CliError
{
    fn from(e: plotters::drawing::DrawingAreaErrorKind<E>) -> Self {
        CliError::Draw(e.to_string())
    }
}
