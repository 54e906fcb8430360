//! The formulas and their analytic gradients.

use super::Surface;
use std::f64::consts::{E, PI};

pub(super) fn value(s: Surface, x: f64, y: f64) -> f64 {
    use Surface::*;
    match s {
        Sphere => x * x + y * y,
        Anisotropic => x * x / 20.0 + y * y,
        Saddle => x * x - y * y,
        Quartic => x.powi(4) + 2.0 * x.powi(3) + y * y - 1.0,
        Rosenbrock => (1.0 - x).powi(2) + 100.0 * (y - x * x).powi(2),
        Beale => {
            let (a, b, c) = beale_terms(x, y);
            a * a + b * b + c * c
        }
        Booth => (x + 2.0 * y - 7.0).powi(2) + (2.0 * x + y - 5.0).powi(2),
        Himmelblau => (x * x + y - 11.0).powi(2) + (x + y * y - 7.0).powi(2),
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
            0.5 * (x.powi(4) - 16.0 * x * x + 5.0 * x + y.powi(4) - 16.0 * y * y + 5.0 * y)
        }
        SixHumpCamel => {
            (4.0 - 2.1 * x * x + x.powi(4) / 3.0) * x * x + x * y + (-4.0 + 4.0 * y * y) * y * y
        }
        ThreeHumpCamel => 2.0 * x * x - 1.05 * x.powi(4) + x.powi(6) / 6.0 + x * y + y * y,
        Matyas => 0.26 * (x * x + y * y) - 0.48 * x * y,
        Mccormick => (x + y).sin() + (x - y).powi(2) - 1.5 * x + 2.5 * y + 1.0,
        Easom => -x.cos() * y.cos() * easom_exp(x, y),
        LeviN13 => {
            (3.0 * PI * x).sin().powi(2)
                + (x - 1.0).powi(2) * (1.0 + (3.0 * PI * y).sin().powi(2))
                + (y - 1.0).powi(2) * (1.0 + (2.0 * PI * y).sin().powi(2))
        }
        Banana => (1.0 - x).powi(2) + 20.0 * (3.0 * y - x * x).powi(2),
    }
}

pub(super) fn gradient(s: Surface, x: f64, y: f64) -> [f64; 2] {
    use Surface::*;
    match s {
        Sphere => [2.0 * x, 2.0 * y],
        Anisotropic => [x / 10.0, 2.0 * y],
        Saddle => [2.0 * x, -2.0 * y],
        Quartic => [4.0 * x.powi(3) + 6.0 * x * x, 2.0 * y],
        Rosenbrock => [
            -2.0 * (1.0 - x) - 400.0 * x * (y - x * x),
            200.0 * (y - x * x),
        ],
        Beale => {
            let (a, b, c) = beale_terms(x, y);
            [
                2.0 * a * (y - 1.0) + 2.0 * b * (y * y - 1.0) + 2.0 * c * (y.powi(3) - 1.0),
                2.0 * a * x + 4.0 * b * x * y + 6.0 * c * x * y * y,
            ]
        }
        Booth => {
            let (a, b) = (x + 2.0 * y - 7.0, 2.0 * x + y - 5.0);
            [2.0 * a + 4.0 * b, 4.0 * a + 2.0 * b]
        }
        Himmelblau => {
            let (a, b) = (x * x + y - 11.0, x + y * y - 7.0);
            [4.0 * x * a + 2.0 * b, 2.0 * a + 4.0 * y * b]
        }
        Rastrigin => [
            2.0 * x + 20.0 * PI * (2.0 * PI * x).sin(),
            2.0 * y + 20.0 * PI * (2.0 * PI * y).sin(),
        ],
        Ackley => {
            let r = (0.5 * (x * x + y * y)).sqrt();
            let cosine = (0.5 * ((2.0 * PI * x).cos() + (2.0 * PI * y).cos())).exp();
            // The cone term has no derivative at the origin; 0 is its subgradient there.
            let radial = if r > 0.0 {
                2.0 * (-0.2 * r).exp() / r
            } else {
                0.0
            };
            [
                radial * x + PI * (2.0 * PI * x).sin() * cosine,
                radial * y + PI * (2.0 * PI * y).sin() * cosine,
            ]
        }
        GoldsteinPrice => {
            let gp = goldstein_price(x, y);
            [gp.ax * gp.b + gp.a * gp.bx, gp.ay * gp.b + gp.a * gp.by]
        }
        StyblinskiTang => [
            0.5 * (4.0 * x.powi(3) - 32.0 * x + 5.0),
            0.5 * (4.0 * y.powi(3) - 32.0 * y + 5.0),
        ],
        SixHumpCamel => [
            8.0 * x - 8.4 * x.powi(3) + 2.0 * x.powi(5) + y,
            x - 8.0 * y + 16.0 * y.powi(3),
        ],
        ThreeHumpCamel => [4.0 * x - 4.2 * x.powi(3) + x.powi(5) + y, x + 2.0 * y],
        Matyas => [0.52 * x - 0.48 * y, 0.52 * y - 0.48 * x],
        Mccormick => {
            let c = (x + y).cos();
            [c + 2.0 * (x - y) - 1.5, c - 2.0 * (x - y) + 2.5]
        }
        Easom => {
            let e = easom_exp(x, y);
            [
                y.cos() * e * (x.sin() + 2.0 * (x - PI) * x.cos()),
                x.cos() * e * (y.sin() + 2.0 * (y - PI) * y.cos()),
            ]
        }
        LeviN13 => {
            let (sy3, sy2) = ((3.0 * PI * y).sin(), (2.0 * PI * y).sin());
            [
                3.0 * PI * (6.0 * PI * x).sin() + 2.0 * (x - 1.0) * (1.0 + sy3 * sy3),
                (x - 1.0).powi(2) * 3.0 * PI * (6.0 * PI * y).sin()
                    + 2.0 * (y - 1.0) * (1.0 + sy2 * sy2)
                    + (y - 1.0).powi(2) * 2.0 * PI * (4.0 * PI * y).sin(),
            ]
        }
        Banana => {
            let r = 3.0 * y - x * x;
            [-2.0 * (1.0 - x) - 80.0 * x * r, 120.0 * r]
        }
    }
}

fn beale_terms(x: f64, y: f64) -> (f64, f64, f64) {
    (
        1.5 - x + x * y,
        2.25 - x + x * y * y,
        2.625 - x + x * y.powi(3),
    )
}

fn easom_exp(x: f64, y: f64) -> f64 {
    (-((x - PI).powi(2) + (y - PI).powi(2))).exp()
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
    let p = 19.0 - 14.0 * x + 3.0 * x * x - 14.0 * y + 6.0 * x * y + 3.0 * y * y;
    let dp = -14.0 + 6.0 * x + 6.0 * y; // ∂P/∂x = ∂P/∂y
    let t = 2.0 * x - 3.0 * y;
    let q = 18.0 - 32.0 * x + 12.0 * x * x + 48.0 * y - 36.0 * x * y + 27.0 * y * y;
    let a = 1.0 + s * s * p;
    let b = 30.0 + t * t * q;
    let ax = 2.0 * s * p + s * s * dp;
    let bx = 4.0 * t * q + t * t * (-32.0 + 24.0 * x - 36.0 * y);
    let by = -6.0 * t * q + t * t * (48.0 - 36.0 * x + 54.0 * y);
    GoldsteinPrice {
        a,
        b,
        ax,
        ay: ax,
        bx,
        by,
    }
}
