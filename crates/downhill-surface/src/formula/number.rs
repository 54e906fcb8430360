//! The numbers a formula is evaluated in: plain `f64` for values, [`Dual`]
//! numbers for values with exact gradients (forward-mode automatic
//! differentiation).

use super::ast::Func;
use crate::power::powi;
use std::ops::{Add, Div, Mul, Neg, Sub};

/// What formula evaluation needs from a number type.
pub trait Number:
    Copy
    + Add<Output = Self>
    + Sub<Output = Self>
    + Mul<Output = Self>
    + Div<Output = Self>
    + Neg<Output = Self>
{
    /// A constant (its derivatives are zero).
    fn constant(c: f64) -> Self;
    /// `self^n` for a constant integer `n`, by `powi`.
    fn powi(self, n: i32) -> Self;
    /// `self^e` for any exponent, by `f64::powf`.
    fn pow(self, e: Self) -> Self;
    /// `f(self)`.
    fn call(self, f: Func) -> Self;
}

impl Number for f64 {
    fn constant(c: f64) -> f64 {
        c
    }

    fn powi(self, n: i32) -> f64 {
        powi(self, n)
    }

    fn pow(self, e: f64) -> f64 {
        self.powf(e)
    }

    fn call(self, f: Func) -> f64 {
        f.value(self)
    }
}

/// A partial derivative; `None` where it is identically zero (the number does
/// not depend on that variable), so that no `+ 0` or `0·∞` terms arise and the
/// derivative is the sum of exactly the terms a hand derivation writes.
pub type Partial = Option<f64>;

/// A value with its partial derivatives ∂/∂x and ∂/∂y (a dual number
/// v + dx·εx + dy·εy with εx² = εy² = εx·εy = 0).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Dual {
    pub v: f64,
    pub dx: Partial,
    pub dy: Partial,
}

impl Dual {
    /// The variable x at `x` (∂x/∂x = 1).
    pub fn x(x: f64) -> Dual {
        Dual {
            v: x,
            dx: Some(1.0),
            dy: None,
        }
    }

    /// The variable y at `y` (∂y/∂y = 1).
    pub fn y(y: f64) -> Dual {
        Dual {
            v: y,
            dx: None,
            dy: Some(1.0),
        }
    }

    /// The gradient, with structurally zero partials as 0.
    pub fn gradient(self) -> [f64; 2] {
        [self.dx.unwrap_or(0.0), self.dy.unwrap_or(0.0)]
    }

    /// Applies `rule` to both partials.
    fn each(self, rule: impl Fn(f64) -> f64) -> (Partial, Partial) {
        (self.dx.map(&rule), self.dy.map(&rule))
    }
}

/// a + b, either possibly zero.
fn sum(a: Partial, b: Partial) -> Partial {
    match (a, b) {
        (Some(a), Some(b)) => Some(a + b),
        (a, None) => a,
        (None, b) => b,
    }
}

/// a − b, either possibly zero.
fn difference(a: Partial, b: Partial) -> Partial {
    match (a, b) {
        (Some(a), Some(b)) => Some(a - b),
        (a, None) => a,
        (None, b) => b.map(|b| -b),
    }
}

impl Add for Dual {
    type Output = Dual;
    fn add(self, o: Dual) -> Dual {
        Dual {
            v: self.v + o.v,
            dx: sum(self.dx, o.dx),
            dy: sum(self.dy, o.dy),
        }
    }
}

impl Sub for Dual {
    type Output = Dual;
    fn sub(self, o: Dual) -> Dual {
        Dual {
            v: self.v - o.v,
            dx: difference(self.dx, o.dx),
            dy: difference(self.dy, o.dy),
        }
    }
}

impl Mul for Dual {
    type Output = Dual;
    /// (uv)' = u'·v + u·v'.
    fn mul(self, o: Dual) -> Dual {
        let product = |du: Partial, dv: Partial| sum(du.map(|d| d * o.v), dv.map(|d| self.v * d));
        Dual {
            v: self.v * o.v,
            dx: product(self.dx, o.dx),
            dy: product(self.dy, o.dy),
        }
    }
}

// The quotient rule multiplies.
#[allow(clippy::suspicious_arithmetic_impl)]
impl Div for Dual {
    type Output = Dual;
    /// (u/v)' = u'/v where v is constant, else (u'·v − u·v') / v².
    fn div(self, o: Dual) -> Dual {
        let quotient = |du: Partial, dv: Partial| match dv {
            None => du.map(|d| d / o.v),
            Some(dv) => difference(du.map(|d| d * o.v), Some(self.v * dv)).map(|n| n / (o.v * o.v)),
        };
        Dual {
            v: self.v / o.v,
            dx: quotient(self.dx, o.dx),
            dy: quotient(self.dy, o.dy),
        }
    }
}

impl Neg for Dual {
    type Output = Dual;
    fn neg(self) -> Dual {
        let (dx, dy) = self.each(|d| -d);
        Dual { v: -self.v, dx, dy }
    }
}

impl Number for Dual {
    fn constant(c: f64) -> Dual {
        Dual {
            v: c,
            dx: None,
            dy: None,
        }
    }

    /// (uⁿ)' = (n·uⁿ⁻¹)·u'; u⁰ = 1 is constant.
    fn powi(self, n: i32) -> Dual {
        if n == 0 {
            return Dual::constant(1.0);
        }
        let slope = f64::from(n) * powi(self.v, n - 1);
        let (dx, dy) = self.each(|d| slope * d);
        Dual {
            v: powi(self.v, n),
            dx,
            dy,
        }
    }

    /// (uᵉ)' = (e·uᵉ⁻¹)·u' + (uᵉ·ln u)·e'.
    fn pow(self, e: Dual) -> Dual {
        let v = self.v.powf(e.v);
        let (base, exponent) = (e.v * self.v.powf(e.v - 1.0), v * self.v.ln());
        let chain = |du: Partial, de: Partial| sum(du.map(|d| base * d), de.map(|d| exponent * d));
        Dual {
            v,
            dx: chain(self.dx, e.dx),
            dy: chain(self.dy, e.dy),
        }
    }

    /// f(u)' = f'(u)·u'.
    fn call(self, f: Func) -> Dual {
        let v = f.value(self.v);
        let slope = f.derivative(self.v, v);
        let (dx, dy) = self.each(|d| slope * d);
        Dual { v, dx, dy }
    }
}
