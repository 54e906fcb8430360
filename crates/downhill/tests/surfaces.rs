//! Every built-in surface: analytic gradients against central finite
//! differences, and the documented minima are stationary with the stated value.

use downhill::surface::{Landscape, Surface};
use proptest::prelude::*;

/// Central difference with a step scaled to the coordinate.
fn numeric_gradient(s: Surface, x: f64, y: f64) -> [f64; 2] {
    let hx = 1e-6 * x.abs().max(1.0);
    let hy = 1e-6 * y.abs().max(1.0);
    [
        (s.value(x + hx, y) - s.value(x - hx, y)) / (2.0 * hx),
        (s.value(x, y + hy) - s.value(x, y - hy)) / (2.0 * hy),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]

    #[test]
    fn gradients_match_finite_differences(index in 0..Surface::ALL.len(), u in 0.0..1.0f64, v in 0.0..1.0f64) {
        let s = Surface::ALL[index];
        let d = s.info().domain;
        let x = d.x[0] + u * (d.x[1] - d.x[0]);
        let y = d.y[0] + v * (d.y[1] - d.y[0]);
        let exact = s.gradient(x, y);
        let numeric = numeric_gradient(s, x, y);
        // The difference quotient's own error is about h²·f''' + ε·f/h; scale by
        // the gradient and the function's magnitude at the point.
        let scale = 1.0 + exact[0].abs().max(exact[1].abs()) + s.value(x, y).abs() * 1e-4;
        for i in 0..2 {
            prop_assert!(
                (exact[i] - numeric[i]).abs() <= 1e-5 * scale,
                "{s} at ({x}, {y}): d/d{} exact {} numeric {}", ["x", "y"][i], exact[i], numeric[i]
            );
        }
    }
}

#[test]
fn minima_are_stationary_and_have_the_stated_value() {
    for s in Surface::ALL {
        let info = s.info();
        assert_eq!(info.minima.is_empty(), info.minimum.is_none(), "{s}");
        for m in info.minima {
            let g = s.gradient(m[0], m[1]);
            assert!(
                g[0].abs() < 1e-7 && g[1].abs() < 1e-7,
                "{s}: gradient {g:?} at minimum {m:?}"
            );
            let f = s.value(m[0], m[1]);
            let want = info.minimum.unwrap();
            assert!(
                (f - want).abs() <= 1e-12 * want.abs().max(1.0),
                "{s}: f{m:?} = {f}, stated {want}"
            );
            assert!(
                info.domain.contains(m[0], m[1]),
                "{s}: minimum {m:?} outside the plotting domain"
            );
        }
        assert!(
            info.domain.contains(info.start[0], info.start[1]),
            "{s}: start outside the domain"
        );
        assert!(s.value(info.start[0], info.start[1]).is_finite());
    }
}

#[test]
fn minima_are_lowest_on_a_grid_of_the_domain() {
    for s in Surface::ALL {
        let info = s.info();
        let Some(min) = info.minimum else { continue };
        let d = info.domain;
        for i in 0..=200 {
            for j in 0..=200 {
                let x = d.x[0] + (d.x[1] - d.x[0]) * i as f64 / 200.0;
                let y = d.y[0] + (d.y[1] - d.y[0]) * j as f64 / 200.0;
                assert!(
                    s.value(x, y) >= min - 1e-9,
                    "{s}: f({x}, {y}) = {} below the minimum {min}",
                    s.value(x, y)
                );
            }
        }
    }
}

#[test]
fn names_round_trip() {
    for s in Surface::ALL {
        assert_eq!(Surface::from_name(s.info().name), Some(s));
    }
    assert_eq!(Surface::from_name("nope"), None);
}
