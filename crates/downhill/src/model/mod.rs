//! Models with exact backpropagation: linear regression (MSE), softmax
//! regression (cross-entropy) and multilayer perceptrons.
//!
//! All three are a [`Network`] of dense layers over ONE flat parameter vector
//! (per layer `W` as `fan_in × fan_out` row-major, then `b`), so a whole model
//! is updated by one `Optimizer::step`. Specs use the shared grammar:
//! `linear`, `softmax` (alias `logistic`), `mlp:hidden=[128,64],activation=relu,init=he`.

mod network;

pub use network::{Evaluation, Network, Workspace};

use crate::data::Task;
use crate::hyper::Check;
use crate::scalar::Scalar;
use crate::spec::{ConfigError, Spec};
use thiserror::Error;

/// An element type the models compute in: `f32` or `f64` (matrix products by
/// ndarray/matrixmultiply).
pub trait Float: Scalar + ndarray::LinalgScalar {}
impl<T: Scalar + ndarray::LinalgScalar> Float for T {}

downhill_optim::hyperparams! {
    /// Model keys (each model accepts the keys it uses).
    pub struct ModelConfig {
        /// Hidden layer widths, input side first (mlp).
        hidden: Vec<u64> = vec![128], Check::Range { lo: 1.0, lo_open: false, hi: 1_000_000.0, hi_open: false };
        /// Hidden-layer activation (mlp).
        activation: String = "relu".into(), Check::OneOf(&["relu", "tanh", "sigmoid"]);
        /// Weight initialisation: he = Kaiming uniform U(±√(6/fan_in)), xavier = Glorot uniform
        /// U(±√(6/(fan_in+fan_out))), both with zero biases; torch = nn.Linear's U(±1/√fan_in)
        /// for weights and biases; zeros.
        init: String = "he".into(), Check::OneOf(&["he", "xavier", "torch", "zeros"]);
    }
}

/// A model name a spec can use, with its summary and keys.
pub struct ModelEntry {
    pub name: &'static str,
    pub summary: &'static str,
    pub keys: &'static [&'static str],
}

/// The model names.
pub const MODELS: &[ModelEntry] = &[
    ModelEntry {
        name: "linear",
        summary: "linear regression ŷ = xW + b, mean squared error",
        keys: &["init"],
    },
    ModelEntry {
        name: "softmax",
        summary: "softmax (multinomial logistic) regression, cross-entropy",
        keys: &["init"],
    },
    ModelEntry {
        name: "logistic",
        summary: "alias of softmax (two classes: logistic regression)",
        keys: &["init"],
    },
    ModelEntry {
        name: "mlp",
        summary:
            "multilayer perceptron: hidden layers, cross-entropy (classes) or MSE (regression)",
        keys: &["hidden", "activation", "init"],
    },
];

/// Hidden-layer nonlinearity.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Activation {
    /// max(0, z)
    Relu,
    /// tanh z
    Tanh,
    /// 1 / (1 + e^(−z))
    Sigmoid,
}

/// How weights (and biases) start.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Init {
    He,
    Xavier,
    Torch,
    Zeros,
}

/// The training loss, averaged over the batch (PyTorch's `reduction='mean'`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Loss {
    /// −log softmax(z)_y (one output per class).
    CrossEntropy,
    /// (ŷ − y)² (one output).
    Mse,
}

/// Why a model spec does not fit the data.
#[derive(Debug, Error)]
pub enum ModelError {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error("model '{model}' needs class labels, but this dataset is a regression set; use linear or mlp")]
    NeedsClasses { model: String },
    #[error("model 'linear' fits real-valued targets, but this dataset has class labels; use softmax or mlp")]
    NeedsValues,
}

/// A parsed model spec.
#[derive(Clone, Debug, PartialEq)]
pub struct ModelSpec {
    pub name: String,
    pub config: ModelConfig,
}

impl ModelSpec {
    pub fn parse(text: &str) -> Result<ModelSpec, ConfigError> {
        let spec = Spec::parse(text)?;
        let entry = MODELS.iter().find(|m| m.name == spec.name).ok_or_else(|| {
            let valid: Vec<&str> = MODELS.iter().map(|m| m.name).collect();
            ConfigError::unknown_name("model", &spec.name, &valid)
        })?;
        let mut config = ModelConfig::default();
        spec.apply(&mut config, Some(entry.keys))?;
        Ok(ModelSpec {
            name: spec.name,
            config,
        })
    }

    /// The network for `inputs` features and the dataset's task.
    pub fn build(&self, inputs: usize, task: Task) -> Result<Network, ModelError> {
        let (loss, outputs) = match (self.name.as_str(), task) {
            ("linear", Task::Regression) => (Loss::Mse, 1),
            ("linear", _) => return Err(ModelError::NeedsValues),
            (_, Task::Classification { classes }) => (Loss::CrossEntropy, classes),
            ("mlp", Task::Regression) => (Loss::Mse, 1),
            (name, Task::Regression) => {
                return Err(ModelError::NeedsClasses {
                    model: name.to_string(),
                })
            }
        };
        let mut widths = vec![inputs];
        if self.name == "mlp" {
            widths.extend(self.config.hidden.iter().map(|&h| h as usize));
        }
        widths.push(outputs);
        let activation = match self.config.activation.as_str() {
            "tanh" => Activation::Tanh,
            "sigmoid" => Activation::Sigmoid,
            _ => Activation::Relu,
        };
        let init = match self.config.init.as_str() {
            "xavier" => Init::Xavier,
            "torch" => Init::Torch,
            "zeros" => Init::Zeros,
            _ => Init::He,
        };
        Ok(Network {
            widths,
            activation,
            loss,
            init,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn specs_build_networks() {
        let classes = Task::Classification { classes: 10 };
        let net = ModelSpec::parse("mlp:hidden=[128,64],activation=tanh,init=xavier")
            .unwrap()
            .build(64, classes)
            .unwrap();
        assert_eq!(net.widths, vec![64, 128, 64, 10]);
        assert_eq!(
            (net.activation, net.init, net.loss),
            (Activation::Tanh, Init::Xavier, Loss::CrossEntropy)
        );
        assert_eq!(
            net.param_len(),
            64 * 128 + 128 + 128 * 64 + 64 + 64 * 10 + 10
        );
        assert_eq!(
            ModelSpec::parse("softmax")
                .unwrap()
                .build(4, classes)
                .unwrap()
                .widths,
            vec![4, 10]
        );
        let linear = ModelSpec::parse("linear")
            .unwrap()
            .build(3, Task::Regression)
            .unwrap();
        assert_eq!(
            (linear.widths.clone(), linear.loss),
            (vec![3, 1], Loss::Mse)
        );
        assert!(matches!(
            ModelSpec::parse("linear").unwrap().build(3, classes),
            Err(ModelError::NeedsValues)
        ));
        assert!(ModelSpec::parse("softmax")
            .unwrap()
            .build(3, Task::Regression)
            .is_err());
    }

    #[test]
    fn bad_specs_name_what_is_valid() {
        let e = ModelSpec::parse("cnn").unwrap_err().to_string();
        assert_eq!(
            e,
            "unknown model 'cnn'; valid: linear, softmax, logistic, mlp"
        );
        let e = ModelSpec::parse("softmax:hidden=[3]")
            .unwrap_err()
            .to_string();
        assert!(
            e.starts_with("softmax: unknown key 'hidden'; valid keys: init"),
            "{e}"
        );
        let e = ModelSpec::parse("mlp:activation=gelu")
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("activation must be one of relu, tanh, sigmoid"),
            "{e}"
        );
    }
}
