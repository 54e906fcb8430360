//! Progress bars on stderr (indicatif): a plain counter, and the training
//! observer of `downhill train` and `downhill compare`.

use downhill::model::Float;
use downhill::train::{EpochRecord, Observer, StepRecord, TrainError, TrainState};
use std::io::IsTerminal;

/// A counting bar on stderr, hidden when stderr is not a terminal.
pub fn bar(what: &str) -> indicatif::ProgressBar {
    let target = if std::io::stderr().is_terminal() {
        indicatif::ProgressDrawTarget::stderr()
    } else {
        indicatif::ProgressDrawTarget::hidden()
    };
    let bar = indicatif::ProgressBar::with_draw_target(Some(0), target);
    if let Ok(style) = indicatif::ProgressStyle::with_template(&format!(
        "{{bar:40}} {{pos}}/{{len}} {what} {{elapsed}}"
    )) {
        bar.set_style(style);
    }
    bar
}

/// A training progress bar on stderr (drawn only when stderr is a terminal).
pub struct Progress {
    bar: indicatif::ProgressBar,
    epochs: usize,
}

impl Progress {
    pub fn new(label: &str, total_steps: u64, done: u64, epochs: usize, quiet: bool) -> Self {
        let bar = if quiet {
            indicatif::ProgressBar::hidden()
        } else {
            indicatif::ProgressBar::with_draw_target(
                Some(total_steps),
                indicatif::ProgressDrawTarget::stderr(),
            )
        };
        let style = indicatif::ProgressStyle::with_template(
            "{prefix} [{bar:30}] {pos}/{len} {msg} ({elapsed})",
        )
        .expect("valid template")
        .progress_chars("=> ");
        bar.set_style(style);
        bar.set_prefix(label.to_string());
        bar.set_position(done);
        Progress { bar, epochs }
    }

    pub fn finish(&self) {
        self.bar.finish_and_clear();
    }
}

impl<T: Float> Observer<T> for Progress {
    fn on_step(&mut self, record: &StepRecord) -> Result<(), TrainError> {
        self.bar.set_position(record.step);
        Ok(())
    }

    fn on_epoch(&mut self, r: &EpochRecord, _state: &TrainState<T>) -> Result<(), TrainError> {
        let mut message = format!("epoch {}/{} loss {:.4}", r.epoch, self.epochs, r.train_loss);
        if let Some(a) = r.accuracy {
            message.push_str(&format!(" acc {:.1}%", 100.0 * a));
        }
        self.bar.set_message(message);
        Ok(())
    }
}
