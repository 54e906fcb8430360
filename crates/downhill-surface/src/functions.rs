//! The formulas and their analytic gradients.
//!
//! Each gradient is the exact derivative of the surface's `info().formula`,
//! written in the order forward-mode differentiation of that text evaluates
//! it: terms left to right, (uⁿ)′ = (n·uⁿ⁻¹)·u′, (c·u)′ = c·u′,
//! (u·v)′ = u′·v + u·v′, f(u)′ = f′(u)·u′. Integer powers go through
//! [`powi`]. So a formula surface typed as the same text agrees with the
//! built-in to the last bit (checked in `tests/formula.rs`); factors such as
//! `6.0 * powi(x, 5) / 6.0` are kept unsimplified for that reason.

use super::power::powi;
use super::Surface;
use std::f64::consts::{E, PI};

pub(super) fn value(s: Surface, x: f64, y: f64) -> f64 {
    use Surface::*;
    match s {
        Sphere => x * x + y * y,
        Anisotropic => x * x / 20.0 + y * y,
        Saddle => x * x - y * y,
        Quartic => powi(x, 4) + 2.0 * powi(x, 3) + y * y - 1.0,
        Rosenbrock => powi(1.0 - x, 2) + 100.0 * powi(y - x * x, 2),
        Beale => {
            let (a, b, c) = beale_terms(x, y);
            a * a + b * b + c * c
        }
        Booth => powi(x + 2.0 * y - 7.0, 2) + powi(2.0 * x + y - 5.0, 2),
        Himmelblau => powi(x * x + y - 11.0, 2) + powi(x + y * y - 7.0, 2),
        Rastrigin => {
            20.0 + x * x - 10.0 * (2.0 * PI * x).cos() + y * y - 10.0 * (2.0 * PI * y).cos()
        }
        Ackley => {
            let r = (0.5 * (x * x + y * y)).sqrt();
            -20.0 * (-0.2 * r).exp() - (0.5 * ((2.0 * PI * x).cos() + (2.0 * PI * y).cos())).exp()
                + E
                + 20.0
        }
        GoldsteinPrice => {
            let gp = goldstein_price(x, y);
            gp.a * gp.b
        }
        StyblinskiTang => {
            (powi(x, 4) - 16.0 * (x * x) + 5.0 * x + powi(y, 4) - 16.0 * (y * y) + 5.0 * y) / 2.0
        }
        SixHumpCamel => {
            4.0 * (x * x) - 2.1 * powi(x, 4) + powi(x, 6) / 3.0 + x * y - 4.0 * (y * y)
                + 4.0 * powi(y, 4)
        }
        ThreeHumpCamel => 2.0 * (x * x) - 1.05 * powi(x, 4) + powi(x, 6) / 6.0 + x * y + y * y,
        Matyas => 0.26 * (x * x + y * y) - 0.48 * x * y,
        Mccormick => (x + y).sin() + powi(x - y, 2) - 1.5 * x + 2.5 * y + 1.0,
        Easom => -x.cos() * y.cos() * easom_exp(x, y),
        LeviN13 => {
            let (sx3, sy3, sy2) = (
                (3.0 * PI * x).sin(),
                (3.0 * PI * y).sin(),
                (2.0 * PI * y).sin(),
            );
            sx3 * sx3 + powi(x - 1.0, 2) * (1.0 + sy3 * sy3) + powi(y - 1.0, 2) * (1.0 + sy2 * sy2)
        }
        Banana => powi(1.0 - x, 2) + 20.0 * powi(3.0 * y - x * x, 2),
    }
}

pub(super) fn gradient(s: Surface, x: f64, y: f64) -> [f64; 2] {
    use Surface::*;
    match s {
        Sphere => [2.0 * x, 2.0 * y],
        Anisotropic => [2.0 * x / 20.0, 2.0 * y],
        Saddle => [2.0 * x, -2.0 * y],
        Quartic => [4.0 * powi(x, 3) + 2.0 * (3.0 * (x * x)), 2.0 * y],
        Rosenbrock => {
            let r = y - x * x;
            [
                -2.0 * (1.0 - x) - 100.0 * (2.0 * r * (2.0 * x)),
                100.0 * (2.0 * r),
            ]
        }
        Beale => {
            let (a, b, c) = beale_terms(x, y);
            [
                2.0 * a * (y - 1.0) + 2.0 * b * (y * y - 1.0) + 2.0 * c * (powi(y, 3) - 1.0),
                2.0 * a * x + 2.0 * b * (x * (2.0 * y)) + 2.0 * c * (x * (3.0 * (y * y))),
            ]
        }
        Booth => {
            let (a, b) = (x + 2.0 * y - 7.0, 2.0 * x + y - 5.0);
            [2.0 * a + 2.0 * b * 2.0, 2.0 * a * 2.0 + 2.0 * b]
        }
        Himmelblau => {
            let (a, b) = (x * x + y - 11.0, x + y * y - 7.0);
            [2.0 * a * (2.0 * x) + 2.0 * b, 2.0 * a + 2.0 * b * (2.0 * y)]
        }
        Rastrigin => {
            let slope = |t: f64| 2.0 * t + 10.0 * ((2.0 * PI * t).sin() * (2.0 * PI));
            [slope(x), slope(y)]
        }
        Ackley => {
            let r = (0.5 * (x * x + y * y)).sqrt();
            let (cone, wave) = (
                (-0.2 * r).exp(),
                (0.5 * ((2.0 * PI * x).cos() + (2.0 * PI * y).cos())).exp(),
            );
            // The cone term has no derivative at the origin; 0 is its subgradient there.
            let sqrt_slope = if r > 0.0 { 0.5 / r } else { 0.0 };
            let slope = |t: f64| {
                20.0 * (cone * (0.2 * (sqrt_slope * (0.5 * (2.0 * t)))))
                    + wave * (0.5 * ((2.0 * PI * t).sin() * (2.0 * PI)))
            };
            [slope(x), slope(y)]
        }
        GoldsteinPrice => {
            let gp = goldstein_price(x, y);
            [gp.ax * gp.b + gp.a * gp.bx, gp.ay * gp.b + gp.a * gp.by]
        }
        StyblinskiTang => {
            let slope = |t: f64| (4.0 * powi(t, 3) - 16.0 * (2.0 * t) + 5.0) / 2.0;
            [slope(x), slope(y)]
        }
        SixHumpCamel => [
            4.0 * (2.0 * x) - 2.1 * (4.0 * powi(x, 3)) + 6.0 * powi(x, 5) / 3.0 + y,
            x - 4.0 * (2.0 * y) + 4.0 * (4.0 * powi(y, 3)),
        ],
        ThreeHumpCamel => [
            2.0 * (2.0 * x) - 1.05 * (4.0 * powi(x, 3)) + 6.0 * powi(x, 5) / 6.0 + y,
            x + 2.0 * y,
        ],
        Matyas => [0.26 * (2.0 * x) - 0.48 * y, 0.26 * (2.0 * y) - 0.48 * x],
        Mccormick => {
            let (c, d) = ((x + y).cos(), 2.0 * (x - y));
            [c + d - 1.5, c - d + 2.5]
        }
        Easom => {
            let e = easom_exp(x, y);
            let (cx, cy) = (x.cos(), y.cos());
            [
                x.sin() * cy * e + cx * cy * (e * (2.0 * (x - PI))),
                cx * y.sin() * e + cx * cy * (e * (2.0 * (y - PI))),
            ]
        }
        LeviN13 => {
            // d/dt sin(k·π·t)² = (2·sin)·(cos·kπ)
            let sin_squared =
                |k: f64, t: f64| 2.0 * (k * PI * t).sin() * ((k * PI * t).cos() * (k * PI));
            let (sy3, sy2) = ((3.0 * PI * y).sin(), (2.0 * PI * y).sin());
            [
                sin_squared(3.0, x) + 2.0 * (x - 1.0) * (1.0 + sy3 * sy3),
                powi(x - 1.0, 2) * sin_squared(3.0, y)
                    + (2.0 * (y - 1.0) * (1.0 + sy2 * sy2)
                        + powi(y - 1.0, 2) * sin_squared(2.0, y)),
            ]
        }
        Banana => {
            let r = 3.0 * y - x * x;
            [
                -2.0 * (1.0 - x) - 20.0 * (2.0 * r * (2.0 * x)),
                20.0 * (2.0 * r * 3.0),
            ]
        }
    }
}

fn beale_terms(x: f64, y: f64) -> (f64, f64, f64) {
    (
        1.5 - x + x * y,
        2.25 - x + x * (y * y),
        2.625 - x + x * powi(y, 3),
    )
}

fn easom_exp(x: f64, y: f64) -> f64 {
    (-(powi(x - PI, 2) + powi(y - PI, 2))).exp()
}

/// Goldstein–Price f = A·B with the partial derivatives of both factors.
struct GoldsteinPrice {
    a: f64,
    b: f64,
    ax: f64,
    ay: f64,
    bx: f64,
    by: f64,
}

fn goldstein_price(x: f64, y: f64) -> GoldsteinPrice {
    let s = x + y + 1.0;
    let p = 19.0 - 14.0 * x + 3.0 * (x * x) - 14.0 * y + 6.0 * x * y + 3.0 * (y * y);
    // ∂P/∂x = −14 + 6x + 6y = ∂P/∂y, and both orders of the sum round alike.
    let dp = -14.0 + 3.0 * (2.0 * x) + 6.0 * y;
    let t = 2.0 * x - 3.0 * y;
    let q = 18.0 - 32.0 * x + 12.0 * (x * x) + 48.0 * y - 36.0 * x * y + 27.0 * (y * y);
    let a = 1.0 + s * s * p;
    let b = 30.0 + t * t * q;
    let ax = 2.0 * s * p + s * s * dp;
    let bx = 2.0 * t * 2.0 * q + t * t * (-32.0 + 12.0 * (2.0 * x) - 36.0 * y);
    let by = 2.0 * t * -3.0 * q + t * t * (48.0 - 36.0 * x + 27.0 * (2.0 * y));
    GoldsteinPrice {
        a,
        b,
        ax,
        ay: ax,
        bx,
        by,
    }
}
