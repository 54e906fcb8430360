//! The test surfaces' gradients, for the golden tests that run on them.

/// ∇f of the 2-D test surfaces of the golden generators (scripts/golden_optim.py).
pub fn gradient(surface: &str, x: f64, y: f64) -> [f64; 2] {
    match surface {
        "rosenbrock" => [
            -2.0 * (1.0 - x) - 400.0 * x * (y - x * x),
            200.0 * (y - x * x),
        ],
        "booth" => {
            let (a, b) = (x + 2.0 * y - 7.0, 2.0 * x + y - 5.0);
            [2.0 * a + 4.0 * b, 4.0 * a + 2.0 * b]
        }
        "himmelblau" => {
            let (a, b) = (x * x + y - 11.0, x + y * y - 7.0);
            [4.0 * x * a + 2.0 * b, 2.0 * a + 4.0 * y * b]
        }
        "anisotropic" => [x / 10.0, 2.0 * y],
        "quartic" => [4.0 * x * x * x + 6.0 * x * x, 2.0 * y],
        "beale" => {
            let (y2, y3) = (y * y, y * y * y);
            let a = 1.5 - x + x * y;
            let b = 2.25 - x + x * y2;
            let c = 2.625 - x + x * y3;
            [
                2.0 * a * (y - 1.0) + 2.0 * b * (y2 - 1.0) + 2.0 * c * (y3 - 1.0),
                2.0 * a * x + 2.0 * b * 2.0 * x * y + 2.0 * c * 3.0 * x * y2,
            ]
        }
        other => panic!("unknown surface {other}"),
    }
}
