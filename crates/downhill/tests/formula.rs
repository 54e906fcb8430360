//! Formula surfaces: a built-in's own formula, parsed, gives the same values,
//! gradients and trajectories to the last bit; the dual-number gradient of any
//! formula agrees with finite differences; the parser never panics and bounds
//! its nesting.

use downhill::lab;
use downhill::optim;
use downhill::surface::formula::{Formula, Problem, MAX_DEPTH, MAX_LEN};
use downhill::surface::{Landscape, Surface};
use proptest::prelude::*;

fn formula_of(surface: Surface) -> Formula {
    Formula::parse(surface.info().formula).unwrap_or_else(|e| panic!("{surface}: {e}"))
}

/// The point at fractions (u, v) of the surface's domain, widened by half its
/// size on each side so that the test also covers where paths wander off.
fn point_in(surface: Surface, u: f64, v: f64) -> (f64, f64) {
    let d = surface.info().domain;
    let (w, h) = (d.x[1] - d.x[0], d.y[1] - d.y[0]);
    (
        d.x[0] - w / 2.0 + u * 2.0 * w,
        d.y[0] - h / 2.0 + v * 2.0 * h,
    )
}

fn bits(values: [f64; 3]) -> [u64; 3] {
    values.map(f64::to_bits)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(3000))]

    #[test]
    fn builtin_formulas_match_their_surfaces_bit_for_bit(u in 0.0..=1.0f64, v in 0.0..=1.0f64) {
        for surface in Surface::ALL {
            let formula = formula_of(surface);
            let (x, y) = point_in(surface, u, v);
            let [fx, fy] = formula.gradient(x, y);
            let [bx, by] = surface.gradient(x, y);
            let (from_formula, builtin) = ([formula.value(x, y), fx, fy], [surface.value(x, y), bx, by]);
            prop_assert_eq!(bits(from_formula), bits(builtin), "{} at ({:?}, {:?}): formula {:?}, built-in {:?}",
                surface, x, y, from_formula, builtin);
        }
    }
}

/// The one point where a built-in and its formula differ: Ackley's cone
/// √(x² + y²) has no derivative at the origin; the built-in takes the
/// subgradient 0, the formula's chain rule gives 0·∞ = NaN.
#[test]
fn ackley_differs_only_at_its_kink() {
    let formula = formula_of(Surface::Ackley);
    assert_eq!(Surface::Ackley.gradient(0.0, 0.0), [0.0, 0.0]);
    assert!(formula.gradient(0.0, 0.0).iter().all(|g| g.is_nan()));
    assert_eq!(
        formula.value(0.0, 0.0).to_bits(),
        Surface::Ackley.value(0.0, 0.0).to_bits()
    );
}

const OPTIMIZERS: [&str; 8] = [
    "gd:lr=0.001",
    "momentum:lr=0.001",
    "nag:lr=0.001",
    "adagrad:lr=0.05",
    "rmsprop:lr=0.001",
    "adadelta:lr=1",
    "adam:lr=0.01",
    "rprop:lr=0.01",
];

#[test]
fn trajectories_on_builtin_formulas_equal_the_builtins() {
    for surface in Surface::ALL {
        let formula = formula_of(surface);
        let start = surface.info().start;
        let mut complete = 0;
        for spec in OPTIMIZERS {
            let run = |landscape: &dyn Landscape| {
                lab::trajectory::<f64, _>(
                    landscape,
                    start,
                    lab::ParamShape::Vector,
                    optim::build(spec).unwrap(),
                    400,
                    |_, _| Ok(()),
                )
                .unwrap()
            };
            let (builtin, typed) = (run(&surface), run(&formula));
            assert_eq!(builtin, typed, "{surface} {spec}");
            let bits = |t: &lab::Trajectory| {
                t.points
                    .iter()
                    .map(|p| bits([p.x, p.y, p.loss]))
                    .collect::<Vec<_>>()
            };
            assert_eq!(bits(&builtin), bits(&typed), "{surface} {spec}");
            complete += usize::from(builtin.diverged.is_none());
        }
        // At lr 1e-3, gd, momentum and nag overshoot Goldstein–Price's steep walls.
        assert!(
            complete >= 5,
            "{surface}: only {complete} of the runs went all 400 steps"
        );
    }
}

/// Random formulas from the grammar, built so that every function stays in its
/// domain and the result is smooth on [−1, 1]², with every rule represented.
fn smooth_formula() -> impl Strategy<Value = String> {
    let leaf = prop_oneof![
        Just("x".to_string()),
        Just("y".to_string()),
        Just("pi".to_string()),
        Just("e".to_string()),
        (-1.0..1.0f64).prop_map(|c| format!("{c:?}")),
        (1u32..10, -2i32..=0).prop_map(|(m, k)| format!("{m}.5e{k}")),
    ];
    leaf.prop_recursive(3, 32, 2, |inner| {
        let pair = (inner.clone(), inner.clone());
        prop_oneof![
            (pair.clone(), prop::sample::select(vec!["+", "-", "*"]))
                .prop_map(|((a, b), op)| format!("({a}) {op} ({b})")),
            pair.clone()
                .prop_map(|(a, b)| format!("({a}) / (2 + sin({b}))")),
            pair.prop_map(|(a, b)| format!("(1 + ({a})^2)^tanh({b})")),
            (inner.clone(), 0i32..4).prop_map(|(a, n)| format!("({a})^{n}")),
            inner.clone().prop_map(|a| format!("(2 + cos({a}))^-2")),
            inner.clone().prop_map(|a| format!("(1.5 + sin({a}))^0.5")),
            inner.clone().prop_map(|a| format!("-({a})")),
            (
                inner,
                prop::sample::select(vec![
                    "sin",
                    "cos",
                    "tanh",
                    "abs",
                    "exp(tanh",
                    "log(1.5 + tanh",
                    "sqrt(1.5 + tanh",
                    "tan(tanh"
                ])
            )
                .prop_map(|(a, f)| {
                    let closing = if f.contains('(') { "))" } else { ")" };
                    format!("{f}({a}{closing}")
                }),
        ]
    })
}

/// ∂f/∂t by Richardson-extrapolated central differences (error O(h⁴)).
fn finite_difference(f: &impl Fn(f64) -> f64, t: f64, h: f64) -> f64 {
    let central = |h: f64| (f(t + h) - f(t - h)) / (2.0 * h);
    (4.0 * central(h / 2.0) - central(h)) / 3.0
}

/// Checks `derivative` against finite differences of `f` at `t`; points where
/// two step sizes disagree (f too wiggly there for differences to converge)
/// are rejected, and proptest fails if that happens too often.
fn check_derivative(
    text: &str,
    derivative: f64,
    f: impl Fn(f64) -> f64,
    t: f64,
) -> Result<(), TestCaseError> {
    let tolerance = 1e-9 * (1.0 + f(t).abs() + derivative.abs());
    let (coarse, fine) = (
        finite_difference(&f, t, 1e-3),
        finite_difference(&f, t, 2.5e-4),
    );
    prop_assume!((coarse - fine).abs() <= tolerance);
    prop_assert!(
        (derivative - fine).abs() <= tolerance,
        "{}: AD {:?}, finite differences {:?}",
        text,
        derivative,
        fine
    );
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn dual_gradients_agree_with_finite_differences(text in smooth_formula(), x in -1.0..1.0f64, y in -1.0..1.0f64) {
        let formula = Formula::parse(&text).map_err(|e| TestCaseError::fail(format!("{text}: {e}")))?;
        let [gx, gy] = formula.gradient(x, y);
        check_derivative(&text, gx, |t| formula.value(t, y), x)?;
        check_derivative(&text, gy, |t| formula.value(x, t), y)?;
    }
}

/// Parses and, if that succeeds, evaluates; either way returns the error's column.
fn parse_and_evaluate(text: &str) -> Option<usize> {
    match Formula::parse(text) {
        Ok(formula) => {
            formula.value(0.5, -1.5);
            formula.gradient(0.5, -1.5);
            None
        }
        Err(e) => Some(e.column),
    }
}

const SOUP: [&str; 24] = [
    "x", "y", "pi", "e", "1", "2.5", "1e-3", "1e999", ".", "+", "-", "*", "/", "^", "(", ")",
    "sin", "sqrt(", "abs", " ", "foo", "%", "\u{2212}", "é",
];

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn the_parser_never_panics_on_arbitrary_text(text in any::<String>()) {
        if let Some(column) = parse_and_evaluate(&text) {
            prop_assert!(column >= 1 && column <= text.chars().count().min(MAX_LEN) + 1);
        }
    }

    #[test]
    fn the_parser_never_panics_on_token_soup(parts in prop::collection::vec(prop::sample::select(SOUP.to_vec()), 0..40)) {
        let text = parts.concat();
        if let Some(column) = parse_and_evaluate(&text) {
            prop_assert!(column >= 1 && column <= text.chars().count() + 1);
        }
    }

    #[test]
    fn deep_nesting_is_an_error_not_a_stack_overflow(
        levels in prop::collection::vec(prop::sample::select(vec![("(", ")"), ("-", ""), ("sin(", ")"), ("x^", ""), ("(1+", ")")]), 0..1000)
    ) {
        let opening: String = levels.iter().map(|(open, _)| *open).collect();
        let closing: String = levels.iter().rev().map(|(_, close)| *close).collect();
        let text = format!("{opening}y{closing}");
        match Formula::parse(&text) {
            Ok(formula) => {
                prop_assert!(levels.len() <= MAX_DEPTH);
                formula.gradient(0.5, 0.25);
            }
            Err(e) if text.chars().count() > MAX_LEN => prop_assert_eq!(e.problem, Problem::TooLong),
            Err(e) => {
                prop_assert!(levels.len() > MAX_DEPTH);
                prop_assert_eq!(e.problem, Problem::TooDeep);
            }
        }
    }
}

/// The deepest formulas accepted parse and differentiate on a quarter of a
/// test thread's stack, even unoptimized (about 7 KiB per level in debug builds).
#[test]
fn the_deepest_formula_fits_a_small_stack() {
    let half = MAX_DEPTH / 2;
    let texts = [
        "(".repeat(MAX_DEPTH) + "x" + &")".repeat(MAX_DEPTH),
        "sin(".repeat(half) + &"x^".repeat(half) + "y" + &")".repeat(half),
        "-".repeat(MAX_DEPTH) + "x",
    ];
    let run = move || {
        for text in texts {
            let formula = Formula::parse(&text).unwrap();
            formula.gradient(0.5, 0.25);
        }
    };
    std::thread::Builder::new()
        .stack_size(512 * 1024)
        .spawn(run)
        .unwrap()
        .join()
        .unwrap();
}
