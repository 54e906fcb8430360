//! Each rule's update as equations in a small math notation: the one
//! description the web page typesets and the lab evaluates with a run's numbers.
//!
//! A line reads `m[t] = β₁·m[t-1] + (1 − β₁)·g[t]`: a symbol with an optional
//! step index (`[t-1]`, `[t]`, `[t+1]`), numbers, `+ − · / ^`, `√x`, `|x|`,
//! `max(a, b)`, parentheses and `∇f(point)`. A [`Description`] says which
//! hyperparameter, state buffer or scalar each symbol stands for; `θ` is the
//! point and `t` the step count. Tests in the lab check that evaluating every
//! line reproduces the library's own state and update.

use crate::hyper::{Hyper, Value};
use crate::{AnyRule, Rule};
use serde::Serialize;
use std::collections::BTreeMap;

/// Where a symbol's value comes from.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
#[serde(rename_all = "lowercase", tag = "kind", content = "name")]
pub enum Source {
    /// A hyperparameter key (`lr`).
    Key(&'static str),
    /// A per-parameter state buffer (`exp_avg`), before and after the step.
    Buffer(&'static str),
    /// A per-group state scalar (`mu_product`), before and after the step.
    Scalar(&'static str),
}

/// A symbol with its step index relative to t (`m[t-1]` has index −1).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Var {
    pub name: String,
    pub index: Option<i8>,
}

impl Var {
    /// The symbol as written: `m[t-1]`, `β₁`.
    pub fn key(&self) -> String {
        match self.index {
            None => self.name.clone(),
            Some(0) => format!("{}[t]", self.name),
            Some(i) => format!("{}[t{i:+}]", self.name),
        }
    }
}

/// A parsed right-hand side, kept as written (parentheses included) so the
/// page can typeset it faithfully.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "lowercase", tag = "op", content = "args")]
pub enum Expr {
    Num(f64),
    Var(Var),
    Neg(Box<Expr>),
    Add(Box<Expr>, Box<Expr>),
    Sub(Box<Expr>, Box<Expr>),
    Mul(Box<Expr>, Box<Expr>),
    Div(Box<Expr>, Box<Expr>),
    Pow(Box<Expr>, Box<Expr>),
    Sqrt(Box<Expr>),
    Abs(Box<Expr>),
    Max(Box<Expr>, Box<Expr>),
    /// ∇f at a point.
    Grad(Box<Expr>),
    Paren(Box<Expr>),
}

/// One equation: `lhs = rhs`.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Line {
    pub text: String,
    pub lhs: Var,
    pub rhs: Expr,
}

/// A symbol and what it stands for.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Symbol {
    pub symbol: &'static str,
    pub source: Source,
}

/// A rule's update at one step: its equations in order, and its symbols.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Description {
    pub lines: Vec<Line>,
    pub symbols: Vec<Symbol>,
}

/// Values by symbol key (`m[t]`); every value has one entry per coordinate
/// of a 2-D point (hyperparameters repeat theirs).
pub type Values = BTreeMap<String, [f64; 2]>;

impl Description {
    /// Evaluates the lines in order with the `known` values (symbols,
    /// `θ[t-1]`, `θ[t]`, `t`) and `gradient` for ∇f, returning each line's
    /// value. A line whose left side is not known yet adds its value to `known`.
    pub fn evaluate(
        &self,
        known: &mut Values,
        gradient: &dyn Fn([f64; 2]) -> [f64; 2],
    ) -> Result<Vec<[f64; 2]>, String> {
        let mut out = Vec::with_capacity(self.lines.len());
        for line in &self.lines {
            let value = eval(&line.rhs, known, gradient)?;
            known.entry(line.lhs.key()).or_insert(value);
            out.push(value);
        }
        Ok(out)
    }
}

fn eval(e: &Expr, known: &Values, grad: &dyn Fn([f64; 2]) -> [f64; 2]) -> Result<[f64; 2], String> {
    let one = |a: &Expr, f: fn(f64) -> f64| eval(a, known, grad).map(|v| v.map(f));
    let two = |a: &Expr, b: &Expr, f: fn(f64, f64) -> f64| {
        let (a, b) = (eval(a, known, grad)?, eval(b, known, grad)?);
        Ok([f(a[0], b[0]), f(a[1], b[1])])
    };
    match e {
        Expr::Num(x) => Ok([*x; 2]),
        Expr::Var(v) => known
            .get(&v.key())
            .copied()
            .ok_or_else(|| format!("no value for {}", v.key())),
        Expr::Neg(a) => one(a, |x| -x),
        Expr::Paren(a) => one(a, |x| x),
        Expr::Sqrt(a) => one(a, f64::sqrt),
        Expr::Abs(a) => one(a, f64::abs),
        Expr::Add(a, b) => two(a, b, |x, y| x + y),
        Expr::Sub(a, b) => two(a, b, |x, y| x - y),
        Expr::Mul(a, b) => two(a, b, |x, y| x * y),
        Expr::Div(a, b) => two(a, b, |x, y| x / y),
        Expr::Pow(a, b) => two(a, b, f64::powf),
        Expr::Max(a, b) => two(a, b, f64::max),
        Expr::Grad(a) => Ok(grad(eval(a, known, grad)?)),
    }
}

/// Parses `lhs = rhs`; panics on a malformed line (the lines are the
/// library's own, and a test parses every one).
fn line(text: String) -> Line {
    let (lhs, rhs) = text.split_once(" = ").expect("a line is `lhs = rhs`");
    let mut p = Parser::new(lhs);
    let Expr::Var(lhs) = p.primary() else {
        panic!("the left side of '{text}' is not a symbol")
    };
    let mut p = Parser::new(rhs);
    let rhs = p.expr();
    assert!(p.at_end(), "unparsed text in '{text}'");
    Line { text, lhs, rhs }
}

struct Parser {
    chars: Vec<char>,
    at: usize,
}

fn symbol_char(c: char) -> bool {
    c.is_alphabetic()
        || ('\u{0300}'..='\u{036f}').contains(&c)
        || ('₀'..='₉').contains(&c)
        || c == '∞'
}

impl Parser {
    fn new(text: &str) -> Self {
        Parser {
            chars: text.chars().filter(|c| !c.is_whitespace()).collect(),
            at: 0,
        }
    }

    fn at_end(&self) -> bool {
        self.at == self.chars.len()
    }

    fn peek(&self) -> Option<char> {
        self.chars.get(self.at).copied()
    }

    fn eat(&mut self, c: char) -> bool {
        let hit = self.peek() == Some(c);
        self.at += usize::from(hit);
        hit
    }

    fn expect(&mut self, c: char) {
        assert!(self.eat(c), "expected '{c}' at {}", self.at);
    }

    fn expr(&mut self) -> Expr {
        let mut e = self.term();
        loop {
            if self.eat('+') {
                e = Expr::Add(e.into(), self.term().into());
            } else if self.eat('−') {
                e = Expr::Sub(e.into(), self.term().into());
            } else {
                return e;
            }
        }
    }

    fn term(&mut self) -> Expr {
        let mut e = self.factor();
        loop {
            if self.eat('·') {
                e = Expr::Mul(e.into(), self.factor().into());
            } else if self.eat('/') {
                e = Expr::Div(e.into(), self.factor().into());
            } else {
                return e;
            }
        }
    }

    fn factor(&mut self) -> Expr {
        if self.eat('−') {
            return Expr::Neg(self.factor().into());
        }
        let base = self.primary();
        if self.eat('^') {
            Expr::Pow(base.into(), self.primary().into())
        } else {
            base
        }
    }

    fn primary(&mut self) -> Expr {
        let c = self.peek().expect("an operand");
        if self.eat('(') {
            let e = self.expr();
            self.expect(')');
            Expr::Paren(e.into())
        } else if self.eat('√') {
            Expr::Sqrt(self.primary().into())
        } else if self.eat('|') {
            let e = self.expr();
            self.expect('|');
            Expr::Abs(e.into())
        } else if self.eat('∇') {
            self.expect('f');
            self.expect('(');
            let e = self.expr();
            self.expect(')');
            Expr::Grad(e.into())
        } else if c.is_ascii_digit() {
            let start = self.at;
            while self.peek().is_some_and(|c| c.is_ascii_digit() || c == '.') {
                self.at += 1;
            }
            let text: String = self.chars[start..self.at].iter().collect();
            Expr::Num(text.parse().expect("a number"))
        } else {
            let start = self.at;
            while self.peek().is_some_and(symbol_char) {
                self.at += 1;
            }
            assert!(self.at > start, "unexpected '{c}' at {start}");
            let name: String = self.chars[start..self.at].iter().collect();
            if name == "max" {
                self.expect('(');
                let a = self.expr();
                self.expect(',');
                let b = self.expr();
                self.expect(')');
                return Expr::Max(a.into(), b.into());
            }
            let index = self.eat('[').then(|| {
                self.expect('t');
                let index = if self.eat('−') || self.eat('-') {
                    -1
                } else if self.eat('+') {
                    1
                } else {
                    0
                };
                if index != 0 {
                    self.expect('1');
                }
                self.expect(']');
                index
            });
            Expr::Var(Var { name, index })
        }
    }
}

const fn key(symbol: &'static str, name: &'static str) -> Symbol {
    Symbol {
        symbol,
        source: Source::Key(name),
    }
}

const fn buffer(symbol: &'static str, name: &'static str) -> Symbol {
    Symbol {
        symbol,
        source: Source::Buffer(name),
    }
}

/// The gradient line: ∇f, negated to maximize, plus λ·θ for L2 decay.
fn gradient(rule: &AnyRule, coupled_decay: bool) -> String {
    let sign = if flag(rule, "maximize") { "−" } else { "" };
    let decay = if coupled_decay { " + λ·θ[t-1]" } else { "" };
    format!("g[t] = {sign}∇f(θ[t-1]){decay}")
}

fn number(rule: &AnyRule, key: &str) -> f64 {
    match rule.get(key) {
        Some(Value::Float(x)) => x,
        _ => 0.0,
    }
}

fn flag(rule: &AnyRule, key: &str) -> bool {
    rule.get(key) == Some(Value::Bool(true))
}

/// Adam-style weight decay: (L2 added to the gradient, decoupled shrink of θ).
fn decay_kind(rule: &AnyRule) -> (bool, bool) {
    let decay = number(rule, "weight_decay") != 0.0;
    let decoupled = flag(rule, "decoupled_weight_decay");
    (decay && !decoupled, decay && decoupled)
}

/// The last line: θ moves by Δθ, after a decoupled shrink when there is one.
fn apply_step(decoupled: bool) -> String {
    if decoupled {
        "θ[t] = (1 − η·λ)·θ[t-1] + Δθ[t]".into()
    } else {
        "θ[t] = θ[t-1] + Δθ[t]".into()
    }
}

const MOMENTS: [&str; 2] = [
    "m[t] = β₁·m[t-1] + (1 − β₁)·g[t]",
    "v[t] = β₂·v[t-1] + (1 − β₂)·g[t]^2",
];
const ADAM_KEYS: [Symbol; 5] = [
    key("η", "lr"),
    key("β₁", "beta1"),
    key("β₂", "beta2"),
    key("ε", "eps"),
    key("λ", "weight_decay"),
];

/// The update `rule` makes at step `t` (1 for the first), or `None` for a
/// rule this module does not describe (see [`Entry::summary`](crate::Entry)).
pub fn describe(rule: &AnyRule, t: u64) -> Option<Description> {
    let wd = number(rule, "weight_decay") != 0.0;
    let mut symbols = Vec::new();
    let lines: Vec<String> = match rule {
        AnyRule::Sgd(_) => {
            let momentum = number(rule, "momentum") != 0.0;
            let mut lines = vec![gradient(rule, wd)];
            symbols.extend([key("η", "lr"), key("λ", "weight_decay")]);
            if momentum {
                symbols.extend([
                    key("μ", "momentum"),
                    key("τ", "dampening"),
                    buffer("b", "momentum_buffer"),
                ]);
                lines.push(if t == 1 {
                    "b[t] = g[t]".into()
                } else if number(rule, "dampening") == 0.0 {
                    "b[t] = μ·b[t-1] + g[t]".into()
                } else {
                    "b[t] = μ·b[t-1] + (1 − τ)·g[t]".into()
                });
                if flag(rule, "nesterov") {
                    lines.push("d[t] = g[t] + μ·b[t]".into());
                    lines.push("Δθ[t] = −η·d[t]".into());
                } else {
                    lines.push("Δθ[t] = −η·b[t]".into());
                }
            } else {
                lines.push("Δθ[t] = −η·g[t]".into());
            }
            lines.push(apply_step(false));
            lines
        }
        AnyRule::Nag(_) => {
            symbols.extend([
                key("η", "lr"),
                key("μ", "momentum"),
                buffer("v", "velocity"),
            ]);
            vec![
                "g[t] = ∇f(θ[t-1] + μ·v[t-1])".into(),
                "v[t] = μ·v[t-1] − η·g[t]".into(),
                "θ[t] = θ[t-1] + v[t]".into(),
            ]
        }
        AnyRule::Adagrad(_) => {
            symbols.extend([
                key("η", "lr"),
                key("δ", "lr_decay"),
                key("ε", "eps"),
                key("λ", "weight_decay"),
                buffer("G", "sum"),
            ]);
            vec![
                gradient(rule, wd),
                "η[t] = η / (1 + (t − 1)·δ)".into(),
                "G[t] = G[t-1] + g[t]^2".into(),
                "Δθ[t] = −η[t]·(g[t] / (√G[t] + ε))".into(),
                apply_step(false),
            ]
        }
        AnyRule::Rmsprop(_) => {
            symbols.extend([
                key("η", "lr"),
                key("α", "alpha"),
                key("ε", "eps"),
                key("μ", "momentum"),
                key("λ", "weight_decay"),
                buffer("v", "square_avg"),
                buffer("b", "momentum_buffer"),
                buffer("ḡ", "grad_avg"),
            ]);
            let mut lines = vec![
                gradient(rule, wd),
                "v[t] = α·v[t-1] + (1 − α)·g[t]^2".into(),
            ];
            if flag(rule, "centered") {
                lines.push("ḡ[t] = α·ḡ[t-1] + (1 − α)·g[t]".into());
                lines.push("d[t] = √(v[t] − ḡ[t]^2) + ε".into());
            } else {
                lines.push("d[t] = √v[t] + ε".into());
            }
            if number(rule, "momentum") > 0.0 {
                lines.push("b[t] = μ·b[t-1] + g[t] / d[t]".into());
                lines.push("Δθ[t] = −η·b[t]".into());
            } else {
                lines.push("Δθ[t] = −η·(g[t] / d[t])".into());
            }
            lines.push(apply_step(false));
            lines
        }
        AnyRule::Adadelta(_) => {
            symbols.extend([
                key("η", "lr"),
                key("ρ", "rho"),
                key("ε", "eps"),
                key("λ", "weight_decay"),
                buffer("v", "square_avg"),
                buffer("u", "acc_delta"),
            ]);
            vec![
                gradient(rule, wd),
                "v[t] = ρ·v[t-1] + (1 − ρ)·g[t]^2".into(),
                "Δ[t] = √(u[t-1] + ε) / √(v[t] + ε)·g[t]".into(),
                "u[t] = ρ·u[t-1] + (1 − ρ)·Δ[t]^2".into(),
                "Δθ[t] = −η·Δ[t]".into(),
                apply_step(false),
            ]
        }
        AnyRule::Adam(_) => {
            let (coupled, decoupled) = decay_kind(rule);
            symbols.extend(ADAM_KEYS);
            symbols.extend([buffer("m", "exp_avg"), buffer("v", "exp_avg_sq")]);
            let mut lines = vec![gradient(rule, coupled)];
            lines.extend(MOMENTS.map(String::from));
            lines.push("m̂[t] = m[t] / (1 − β₁^t)".into());
            if flag(rule, "amsgrad") {
                symbols.push(buffer("ṽ", "max_exp_avg_sq"));
                lines.push("ṽ[t] = max(ṽ[t-1], v[t])".into());
                lines.push("v̂[t] = ṽ[t] / (1 − β₂^t)".into());
            } else {
                lines.push("v̂[t] = v[t] / (1 − β₂^t)".into());
            }
            lines.push("Δθ[t] = −η·(m̂[t] / (√v̂[t] + ε))".into());
            lines.push(apply_step(decoupled));
            lines
        }
        AnyRule::Nadam(_) => {
            let (coupled, decoupled) = decay_kind(rule);
            symbols.extend(ADAM_KEYS);
            symbols.extend([
                key("ψ", "momentum_decay"),
                buffer("m", "exp_avg"),
                buffer("v", "exp_avg_sq"),
                Symbol {
                    symbol: "Π",
                    source: Source::Scalar("mu_product"),
                },
            ]);
            let mut lines = vec![
                gradient(rule, coupled),
                "μ[t] = β₁·(1 − 0.5·0.96^(t·ψ))".into(),
                "μ[t+1] = β₁·(1 − 0.5·0.96^((t + 1)·ψ))".into(),
                "Π[t] = Π[t-1]·μ[t]".into(),
            ];
            lines.extend(MOMENTS.map(String::from));
            lines.extend(
                [
                    "v̂[t] = v[t] / (1 − β₂^t)",
                    "d[t] = √v̂[t] + ε",
                    "c₁[t] = η·(1 − μ[t]) / (1 − Π[t])",
                    "c₂[t] = η·μ[t+1] / (1 − Π[t]·μ[t+1])",
                    "Δθ[t] = −c₁[t]·(g[t] / d[t]) − c₂[t]·(m[t] / d[t])",
                ]
                .map(String::from),
            );
            lines.push(apply_step(decoupled));
            lines
        }
        AnyRule::Adamax(_) => {
            symbols.extend(ADAM_KEYS);
            symbols.extend([buffer("m", "exp_avg"), buffer("u", "exp_inf")]);
            vec![
                gradient(rule, wd),
                MOMENTS[0].into(),
                "u[t] = max(β₂·u[t-1], |g[t]| + ε)".into(),
                "η̃[t] = η / (1 − β₁^t)".into(),
                "Δθ[t] = −η̃[t]·(m[t] / u[t])".into(),
                apply_step(false),
            ]
        }
        AnyRule::Radam(radam) => {
            let (coupled, decoupled) = decay_kind(rule);
            symbols.extend(ADAM_KEYS);
            symbols.extend([buffer("m", "exp_avg"), buffer("v", "exp_avg_sq")]);
            let mut lines = vec![gradient(rule, coupled)];
            lines.extend(MOMENTS.map(String::from));
            lines.extend(
                [
                    "m̂[t] = m[t] / (1 − β₁^t)",
                    "ρ∞ = 2 / (1 − β₂) − 1",
                    "ρ[t] = ρ∞ − 2·t·β₂^t / (1 − β₂^t)",
                ]
                .map(String::from),
            );
            if radam.begin_step(t, &mut []).rect.is_some() {
                lines.push("r[t] = √((ρ[t] − 4)·(ρ[t] − 2)·ρ∞ / ((ρ∞ − 4)·(ρ∞ − 2)·ρ[t]))".into());
                lines.push("l[t] = √(1 − β₂^t) / (√v[t] + ε)".into());
                lines.push("Δθ[t] = −η·m̂[t]·r[t]·l[t]".into());
            } else {
                lines.push("Δθ[t] = −η·m̂[t]".into());
            }
            lines.push(apply_step(decoupled));
            lines
        }
        _ => return None,
    };
    Some(Description {
        lines: lines.into_iter().map(line).collect(),
        symbols,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::build;

    #[test]
    fn lines_parse_as_written() {
        let l = line("m̂[t] = m[t] / (1 − β₁^t)".into());
        assert_eq!(l.lhs.key(), "m̂[t]");
        let Expr::Div(num, den) = &l.rhs else {
            panic!("{:?}", l.rhs)
        };
        assert_eq!(
            **num,
            Expr::Var(Var {
                name: "m".into(),
                index: Some(0)
            })
        );
        assert!(matches!(&**den, Expr::Paren(inner) if matches!(&**inner, Expr::Sub(_, _))));
        assert_eq!(line("μ[t+1] = 1".into()).lhs.key(), "μ[t+1]");
        assert_eq!(
            line("v[t] = v[t-1]".into()).rhs,
            Expr::Var(Var {
                name: "v".into(),
                index: Some(-1)
            })
        );
    }

    #[test]
    fn evaluation_follows_precedence_and_adds_new_symbols() {
        let d = Description {
            lines: vec![
                line("a = −2^2 + 6 / 3·|1 − 4| − max(1, √9)".into()),
                line("b[t] = a·g[t]".into()),
            ],
            symbols: vec![],
        };
        let mut known = Values::from([("g[t]".to_string(), [1.0, -1.0])]);
        let out = d.evaluate(&mut known, &|p| p).unwrap();
        assert_eq!(out, vec![[-4.0 + 6.0 - 3.0; 2], [-1.0, 1.0]]);
        assert_eq!(known["b[t]"], [-1.0, 1.0]);
        let grad = Description {
            lines: vec![line("g = ∇f(p)".into())],
            symbols: vec![],
        };
        let mut known = Values::from([("p".to_string(), [2.0, 3.0])]);
        assert_eq!(
            grad.evaluate(&mut known, &|p| [p[1], p[0]]).unwrap(),
            vec![[3.0, 2.0]]
        );
        assert!(grad
            .evaluate(&mut Values::new(), &|p| p)
            .unwrap_err()
            .contains("p"));
    }

    #[test]
    fn the_named_rules_are_described_and_the_rest_are_not() {
        for spec in [
            "gd",
            "momentum:nesterov=true",
            "nag",
            "adagrad",
            "rmsprop:centered=true,momentum=0.5",
            "adadelta",
            "adam:amsgrad=true",
            "adamw",
            "nadam",
            "adamax",
            "radam",
        ] {
            for t in [1, 2, 10] {
                let d = describe(&build(spec).unwrap(), t).unwrap();
                assert_eq!(d.lines.last().unwrap().lhs.key(), "θ[t]", "{spec}");
            }
        }
        assert!(describe(&build("lion").unwrap(), 1).is_none());
    }
}
