//! Surfaces typed as formulas in x and y, with exact gradients by forward-mode
//! automatic differentiation ([`Dual`] numbers), not finite differences.
//!
//! Grammar (see [`parser`] for the productions): numbers (`2`, `1.5e-3`),
//! `x`, `y`, `pi`, `e`, `+ - * / ^` (`^` right-associative and binding tighter
//! than unary minus, so `-x^2` = −(x²) and `2^-x` = 2^(−x)), parentheses and the
//! functions `sin cos tan exp log sqrt abs tanh` (`log` is the natural log).
//!
//! A power with a constant integer exponent (`x^3`) is computed by
//! `powi`, as the built-in surfaces do, and its derivative
//! as (n·uⁿ⁻¹)·u′; every other rule is the textbook one, applied in the order
//! the formula is written. Built-in surfaces write their analytic gradients in
//! that same order, so a formula equal to a built-in's gives bit-identical
//! values, gradients and trajectories.
//!
//! ```
//! use downhill_surface::{formula::Formula, Landscape};
//! let f = Formula::parse("x^2 - y^2").unwrap();
//! assert_eq!(f.value(3.0, 1.0), 8.0);
//! assert_eq!(f.gradient(3.0, 1.0), [6.0, -2.0]);
//! let err = Formula::parse("x + * y").unwrap_err();
//! assert_eq!(err.to_string(), "column 5: expected a number, a variable, a function or '(' but found '*'");
//! ```

mod ast;
mod lexer;
mod number;
pub mod parser;

pub use ast::{Expr, Func, Op};
pub use number::{Dual, Number, Partial};
pub use parser::{FormulaError, Problem, MAX_DEPTH, MAX_LEN};

use super::{Domain, Landscape};

/// The plotting domain of a formula surface: [−5, 5]².
pub const DEFAULT_DOMAIN: Domain = Domain {
    x: [-5.0, 5.0],
    y: [-5.0, 5.0],
};
/// Where runs on a formula surface start unless told otherwise: (−4, 3), the
/// sphere's start, inside [`DEFAULT_DOMAIN`] and off both axes.
pub const DEFAULT_START: [f64; 2] = [-4.0, 3.0];

/// A parsed formula f(x, y).
#[derive(Clone, Debug, PartialEq)]
pub struct Formula {
    text: String,
    expr: ast::Expr,
}

impl Formula {
    /// Parses `text`; errors name the 1-based column and what was expected.
    pub fn parse(text: &str) -> Result<Formula, FormulaError> {
        Ok(Formula {
            text: text.trim().to_string(),
            expr: parser::parse(text)?,
        })
    }

    /// The formula as typed (trimmed).
    pub fn text(&self) -> &str {
        &self.text
    }

    /// The syntax tree (for code that writes the formula in another language).
    pub fn expr(&self) -> &Expr {
        &self.expr
    }

    /// f at (x, y) in any [`Number`] type: `f64` for the value, [`Dual`] for
    /// the value with its gradient.
    pub fn eval<N: Number>(&self, x: N, y: N) -> N {
        self.expr.eval(x, y)
    }
}

impl Landscape for Formula {
    fn value(&self, x: f64, y: f64) -> f64 {
        self.eval(x, y)
    }

    fn gradient(&self, x: f64, y: f64) -> [f64; 2] {
        self.eval(Dual::x(x), Dual::y(y)).gradient()
    }
}

#[cfg(test)]
mod tests;
