//! Integer powers, computed one way for built-in surfaces and formulas alike.

/// `base^n` by binary exponentiation (square-and-multiply, the algorithm of
/// compiler-rt's `__powidf2`), `1 / base^|n|` for negative `n`.
///
/// Built-in surfaces and formula surfaces both call this, so `x^3` rounds the
/// same way in both: `x·(x·x)`; `x^4` is `(x·x)·(x·x)`.
pub fn powi(base: f64, n: i32) -> f64 {
    let mut result = 1.0;
    let mut square = base;
    let mut k = n.unsigned_abs();
    loop {
        if k & 1 == 1 {
            result *= square;
        }
        k >>= 1;
        if k == 0 {
            break;
        }
        square *= square;
    }
    if n < 0 {
        1.0 / result
    } else {
        result
    }
}

#[cfg(test)]
mod tests {
    use super::powi;

    #[test]
    fn small_powers_are_the_products_they_name() {
        for x in [-2.7, -1.0, 0.0, 0.3, 1.1, 3.9, 1e-5, 123.456] {
            assert_eq!(powi(x, 0), 1.0);
            assert_eq!(powi(x, 1), x);
            assert_eq!(powi(x, 2), x * x);
            assert_eq!(powi(x, 3), x * (x * x));
            assert_eq!(powi(x, 4), (x * x) * (x * x));
            assert_eq!(powi(x, 5), x * ((x * x) * (x * x)));
            assert_eq!(powi(x, 6), (x * x) * ((x * x) * (x * x)));
        }
        assert_eq!(powi(2.0, -3), 0.125);
        assert_eq!(powi(0.0, -1), f64::INFINITY);
        assert_eq!(powi(2.0, i32::MIN), 0.0);
    }
}
