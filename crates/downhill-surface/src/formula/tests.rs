use super::*;
use crate::Landscape;
use std::f64::consts::{E, PI};

fn value(text: &str, x: f64, y: f64) -> f64 {
    Formula::parse(text).unwrap().value(x, y)
}

fn gradient(text: &str, x: f64, y: f64) -> [f64; 2] {
    Formula::parse(text).unwrap().gradient(x, y)
}

fn error(text: &str) -> String {
    Formula::parse(text).unwrap_err().to_string()
}

#[test]
fn precedence_and_associativity_follow_maths() {
    assert_eq!(value("-x^2", 3.0, 0.0), -9.0);
    assert_eq!(value("2^3^2", 0.0, 0.0), 512.0);
    assert_eq!(value("2^-1", 0.0, 0.0), 0.5);
    assert_eq!(value("-2^-x^2", 1.0, 0.0), -0.5);
    assert_eq!(value("1 - 2 - 3", 0.0, 0.0), -4.0);
    assert_eq!(value("8 / 4 / 2", 0.0, 0.0), 1.0);
    assert_eq!(value("1 + 2 * 3 ^ 2", 0.0, 0.0), 19.0);
    assert_eq!(value("(1 + 2) * 3", 0.0, 0.0), 9.0);
    assert_eq!(value("2 * -y", 0.0, 4.0), -8.0);
    assert_eq!(value("x - -y", 1.0, 2.0), 3.0);
    assert_eq!(value("1.5e-3 + .5 + 2.", 0.0, 0.0), 1.5e-3 + 0.5 + 2.0);
    assert_eq!(value("pi + e", 0.0, 0.0), PI + E);
    assert_eq!(value("x \u{2212} y", 5.0, 2.0), 3.0);
}

#[test]
fn functions_and_their_derivatives() {
    let (x, y): (f64, f64) = (0.7, -0.3);
    let cases: [(&str, f64, f64); 8] = [
        ("sin(x)", x.sin(), x.cos()),
        ("cos(x)", x.cos(), -x.sin()),
        ("tan(x)", x.tan(), 1.0 + x.tan() * x.tan()),
        ("exp(x)", x.exp(), x.exp()),
        ("log(x)", x.ln(), 1.0 / x),
        ("sqrt(x)", x.sqrt(), 0.5 / x.sqrt()),
        ("abs(x)", x, 1.0),
        ("tanh(x)", x.tanh(), 1.0 - x.tanh() * x.tanh()),
    ];
    for (text, v, d) in cases {
        assert_eq!(value(text, x, y), v, "{text}");
        assert_eq!(gradient(text, x, y), [d, 0.0], "{text}");
    }
    assert_eq!(gradient("abs(y)", x, y), [0.0, -1.0]);
    assert_eq!(gradient("abs(x)", 0.0, y), [0.0, 0.0]);
}

#[test]
fn gradient_rules_are_exact_on_simple_cases() {
    assert_eq!(gradient("x*y", 3.0, 5.0), [5.0, 3.0]);
    assert_eq!(gradient("x/y", 3.0, 2.0), [0.5, -0.75]);
    assert_eq!(gradient("1/x", 2.0, 0.0), [-0.25, 0.0]);
    assert_eq!(gradient("x^3", 2.0, 0.0), [12.0, 0.0]);
    assert_eq!(gradient("x^-2", 2.0, 0.0), [-0.25, 0.0]);
    assert_eq!(gradient("x^0", 0.0, 0.0), [0.0, 0.0]);
    assert_eq!(gradient("x^0.5", 4.0, 0.0), [0.25, 0.0]);
    assert_eq!(gradient("x^y", 2.0, 3.0), [12.0, 8.0 * 2f64.ln()]);
    assert_eq!(gradient("2^x", 3.0, 0.0), [8.0 * 2f64.ln(), 0.0]);
    assert_eq!(gradient("7", 1.0, 1.0), [0.0, 0.0]);
    assert_eq!(gradient("-(x - y)", 1.0, 1.0), [-1.0, 1.0]);
}

#[test]
fn constant_integer_exponents_are_integer_powers() {
    let pow = |text: &str| match Formula::parse(text).unwrap().expr {
        ast::Expr::PowI(_, n) => Some(n),
        _ => None,
    };
    assert_eq!(pow("x^2"), Some(2));
    assert_eq!(pow("x^(1 + 2)"), Some(3));
    assert_eq!(pow("x^-4"), Some(-4));
    assert_eq!(pow("x^2.5"), None);
    assert_eq!(pow("x^y"), None);
    assert_eq!(pow("x^1e300"), None);
    // A negative base with an integer exponent is fine (powf would agree, but
    // the integer power is what the built-ins use).
    assert_eq!(value("x^3", -2.0, 0.0), -8.0);
}

#[test]
fn errors_name_the_column_and_what_was_expected() {
    assert_eq!(
        error("x^4 + *2"),
        "column 7: expected a number, a variable, a function or '(' but found '*'"
    );
    assert_eq!(error(""), "column 1: expected a number, a variable, a function or '(' but found the end of the formula");
    assert_eq!(error("x + "), "column 5: expected a number, a variable, a function or '(' but found the end of the formula");
    assert_eq!(
        error("2x"),
        "column 2: expected an operator or the end of the formula but found 'x'"
    );
    assert_eq!(
        error("(x + y"),
        "column 7: expected an operator or ')' but found the end of the formula"
    );
    assert_eq!(
        error("x + y)"),
        "column 6: expected an operator or the end of the formula but found ')'"
    );
    assert_eq!(
        error("sin x"),
        "column 5: expected '(' after 'sin' but found 'x'"
    );
    assert_eq!(
        error("x % 2"),
        "column 3: expected an operator or the end of the formula but found '%'"
    );
    assert_eq!(error("z + 1"), "column 1: unknown name 'z'; valid: x, y, pi, e and the functions sin, cos, tan, exp, log, sqrt, abs, tanh");
    assert_eq!(
        error("1 + 1e999"),
        "column 5: '1e999' is not a finite number"
    );
    assert_eq!(error("x + ."), "column 5: '.' is not a finite number");
    assert_eq!(
        error("x\u{2212}\u{3b1}"),
        "column 3: expected a number, a variable, a function or '(' but found 'α'"
    );
}

#[test]
fn length_and_depth_are_bounded() {
    let long = "x+".repeat(MAX_LEN / 2) + "x";
    assert_eq!(
        error(&long),
        format!(
            "column {}: the formula is longer than {MAX_LEN} characters",
            MAX_LEN + 1
        )
    );
    let flat = "x+".repeat(MAX_LEN / 2 - 1) + "x";
    assert_eq!(value(&flat, 1.0, 0.0), (MAX_LEN / 2) as f64);

    let parens = |n: usize| "(".repeat(n) + "x" + &")".repeat(n);
    assert_eq!(value(&parens(MAX_DEPTH), 2.0, 0.0), 2.0);
    assert!(error(&parens(MAX_DEPTH + 1)).contains("nests deeper than 32 levels"));
    for deep in [
        "-".repeat(2000) + "x",
        "x^".repeat(2000) + "x",
        "sin(".repeat(1000) + "x",
        "(".repeat(MAX_LEN),
    ] {
        assert!(error(&deep).contains("nests deeper"), "{deep:.20}");
    }
}

#[test]
fn formula_text_is_kept_trimmed() {
    assert_eq!(Formula::parse("  x^2 + y  ").unwrap().text(), "x^2 + y");
}
