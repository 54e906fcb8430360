//! The driver that walks an optimizer over a 2-D landscape and records the path.
//!
//! The loop owns stepping; what to do before each step (a schedule setting the
//! learning rate, say) is passed in, so the update math never sees the driver.

use crate::optim::{AnyRule, Optimizer, ParamGroup, RuleSet, StepError};
use crate::scalar::Scalar;
use crate::spec::ConfigError;
use crate::surface::Landscape;
use serde::Serialize;

/// How the point (x, y) is handed to the optimizer: as a vector of two, or
/// as one 1×2 matrix. Rules that treat matrices differently (LARS scales
/// only tensors of two or more dimensions) can be watched both ways.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum ParamShape {
    /// `2`: a vector.
    #[default]
    Vector,
    /// `1x2`: one row.
    Row,
}

impl ParamShape {
    /// The names, as the command line and the API spell them.
    pub const NAMES: [&'static str; 2] = ["2", "1x2"];

    /// The tensor's dimensions.
    pub fn dims(self) -> Vec<usize> {
        match self {
            ParamShape::Vector => vec![2],
            ParamShape::Row => vec![1, 2],
        }
    }
}

impl std::str::FromStr for ParamShape {
    type Err = String;
    fn from_str(text: &str) -> Result<Self, String> {
        match text {
            "2" => Ok(ParamShape::Vector),
            "1x2" => Ok(ParamShape::Row),
            _ => Err(format!(
                "unknown parameter shape '{text}'; valid: {}",
                Self::NAMES.join(", ")
            )),
        }
    }
}

/// One recorded iterate: step 0 is the start.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct Point {
    pub step: usize,
    pub x: f64,
    pub y: f64,
    pub loss: f64,
}

/// Why and where a run stopped early.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Divergence {
    /// The step that would have produced a non-finite value; the path ends one before it.
    pub step: usize,
    pub reason: String,
}

/// The path of one optimizer: finite points only.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Trajectory {
    pub points: Vec<Point>,
    pub diverged: Option<Divergence>,
    /// For rules evaluated away from their iterate (Schedule-Free), the
    /// evaluation point x after each point's step (one per point); else empty.
    pub evaluation: Vec<[f64; 2]>,
}

impl Trajectory {
    /// The first step within `eps` of one of `minima`.
    pub fn steps_to(&self, minima: &[[f64; 2]], eps: f64) -> Option<usize> {
        self.points
            .iter()
            .find(|p| minima.iter().any(|m| (p.x - m[0]).hypot(p.y - m[1]) <= eps))
            .map(|p| p.step)
    }

    /// The loss at the last point of a run that did not diverge.
    pub fn final_loss(&self) -> Option<f64> {
        match self.diverged {
            None => self.points.last().map(|p| p.loss),
            Some(_) => None,
        }
    }
}

/// A number in a divergence message: 3 significant digits (`-1.23e105`, `inf`).
fn short(v: f64) -> String {
    format!("{v:.2e}")
}

/// Runs `steps` updates of `rule` from `start` (handed over as `shape`),
/// computing in `T`.
///
/// `before_step(point, optimizer)` runs before each update with the point
/// reached so far (`point.step` = k before the (k+1)-th update, with its loss),
/// e.g. to feed a plateau schedule the loss and set the learning rate. A
/// step whose gradient, point or loss is not finite ends the run with a
/// [`Divergence`]; the points kept are all finite.
pub fn trajectory<T, F>(
    landscape: &dyn Landscape,
    start: [f64; 2],
    shape: ParamShape,
    rule: AnyRule,
    steps: usize,
    mut before_step: F,
) -> Result<Trajectory, ConfigError>
where
    T: Scalar,
    F: FnMut(&Point, &mut Optimizer<T>) -> Result<(), ConfigError>,
{
    let group = ParamGroup::shaped(vec![shape.dims()]);
    let mut optimizer = Optimizer::<T>::with_groups(rule, vec![group])?;
    let mut params = [T::of(start[0]), T::of(start[1])];
    let mut grads = [T::zero(); 2];
    let mut points = Vec::with_capacity(steps + 1);
    let first = Point {
        step: 0,
        x: start[0],
        y: start[1],
        loss: landscape.value(start[0], start[1]),
    };
    if !(first.x.is_finite() && first.y.is_finite() && first.loss.is_finite()) {
        let reason = format!(
            "the start ({}, {}) has loss {}",
            short(first.x),
            short(first.y),
            short(first.loss)
        );
        return Ok(Trajectory {
            points: Vec::new(),
            diverged: Some(Divergence { step: 0, reason }),
            evaluation: Vec::new(),
        });
    }
    points.push(first);
    let evaluated = optimizer.rule(0).has_evaluation_point();
    let mut evaluation = Vec::new();
    let mut x = [T::zero(); 2];
    let mut record_evaluation = |optimizer: &Optimizer<T>, params: &[T; 2]| {
        if evaluated {
            optimizer
                .evaluation_point(params, &mut x)
                .expect("a 2-element optimizer");
            evaluation.push([x[0].widen(), x[1].widen()]);
        }
    };
    record_evaluation(&optimizer, &params);
    for k in 1..=steps {
        let reached = points[points.len() - 1];
        before_step(&reached, &mut optimizer)?;
        let result = optimizer.step_with(&mut params, &mut grads, |p, g| {
            let (x, y) = (p[0].widen(), p[1].widen());
            let [gx, gy] = landscape.gradient(x, y);
            g[0] = T::of(gx);
            g[1] = T::of(gy);
            T::of(landscape.value(x, y))
        });
        let reason = match result {
            Err(StepError::NonFiniteGradient { value, .. }) => {
                Some(format!("the gradient is {}", short(value)))
            }
            Err(other) => unreachable!("a 2-element optimizer refused a 2-element step: {other}"),
            Ok(_) => {
                let (x, y) = (params[0].widen(), params[1].widen());
                let loss = landscape.value(x, y);
                if x.is_finite() && y.is_finite() && loss.is_finite() {
                    points.push(Point {
                        step: k,
                        x,
                        y,
                        loss,
                    });
                    record_evaluation(&optimizer, &params);
                    None
                } else {
                    Some(format!(
                        "the point ({}, {}) has loss {}",
                        short(x),
                        short(y),
                        short(loss)
                    ))
                }
            }
        };
        if let Some(reason) = reason {
            return Ok(Trajectory {
                points,
                diverged: Some(Divergence { step: k, reason }),
                evaluation,
            });
        }
    }
    Ok(Trajectory {
        points,
        diverged: None,
        evaluation,
    })
}
