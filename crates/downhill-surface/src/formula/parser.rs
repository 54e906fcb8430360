//! Recursive-descent parser from tokens to an `Expr`.
//!
//! ```text
//! formula := sum END
//! sum     := product (('+' | '-') product)*
//! product := unary (('*' | '/') unary)*
//! unary   := '-' unary | power
//! power   := primary ('^' unary)?          right-associative; -x^2 = -(x^2)
//! primary := NUMBER | 'x' | 'y' | 'pi' | 'e' | FUNCTION '(' sum ')' | '(' sum ')'
//! ```

use super::ast::{Expr, Func, Op};
use super::lexer::{tokens, Kind, Token};
use std::f64::consts::{E, PI};

/// The longest formula accepted, in characters.
pub const MAX_LEN: usize = 4096;
/// The deepest nesting accepted: parentheses, function calls, unary minus and
/// exponents each add a level. Parsing and evaluation recurse once per level,
/// so this bound keeps both far from the stack's limit.
pub const MAX_DEPTH: usize = 32;
/// The largest |n| for which `u^n` is an integer power (larger exponents use `powf`).
const MAX_INTEGER_EXPONENT: f64 = 1_048_576.0;

const OPERAND: &str = "a number, a variable, a function or '('";

/// A formula that could not be parsed, with the 1-based column of the problem.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
#[error("column {column}: {problem}")]
pub struct FormulaError {
    pub column: usize,
    pub problem: Problem,
}

/// What is wrong at [`FormulaError::column`].
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum Problem {
    #[error("expected {expected} but found {found}")]
    Expected { expected: String, found: String },
    #[error("unknown name '{0}'; valid: x, y, pi, e and the functions sin, cos, tan, exp, log, sqrt, abs, tanh")]
    UnknownName(String),
    #[error("'{0}' is not a finite number")]
    BadNumber(String),
    #[error("the formula is longer than {MAX_LEN} characters")]
    TooLong,
    #[error("the formula nests deeper than {MAX_DEPTH} levels (parentheses, functions, unary minus and powers)")]
    TooDeep,
}

/// Parses a whole formula.
pub fn parse(text: &str) -> Result<Expr, FormulaError> {
    if text.chars().count() > MAX_LEN {
        return Err(FormulaError {
            column: MAX_LEN + 1,
            problem: Problem::TooLong,
        });
    }
    let mut parser = Parser {
        tokens: tokens(text),
        at: 0,
        depth: 0,
    };
    let expr = parser.sum()?;
    parser.expect(Kind::End, "an operator or the end of the formula")?;
    Ok(expr)
}

struct Parser {
    tokens: Vec<Token>,
    at: usize,
    depth: usize,
}

impl Parser {
    fn peek(&self) -> &Token {
        &self.tokens[self.at]
    }

    /// Takes the next token (the final `End` is never passed).
    fn advance(&mut self) -> Token {
        let token = self.tokens[self.at].clone();
        if token.kind != Kind::End {
            self.at += 1;
        }
        token
    }

    fn error(&self, expected: &str) -> FormulaError {
        let token = self.peek();
        FormulaError {
            column: token.column,
            problem: Problem::Expected {
                expected: expected.to_string(),
                found: token.kind.to_string(),
            },
        }
    }

    fn expect(&mut self, kind: Kind, expected: &str) -> Result<(), FormulaError> {
        if self.peek().kind != kind {
            return Err(self.error(expected));
        }
        self.advance();
        Ok(())
    }

    /// Parses `inner` one nesting level deeper.
    fn nested(
        &mut self,
        inner: fn(&mut Parser) -> Result<Expr, FormulaError>,
    ) -> Result<Expr, FormulaError> {
        if self.depth == MAX_DEPTH {
            return Err(FormulaError {
                column: self.peek().column,
                problem: Problem::TooDeep,
            });
        }
        self.depth += 1;
        let expr = inner(self);
        self.depth -= 1;
        expr
    }

    /// A left-associative chain of `operand`s joined by the operators `ops` picks.
    fn chain(
        &mut self,
        operand: fn(&mut Parser) -> Result<Expr, FormulaError>,
        ops: fn(&Kind) -> Option<Op>,
    ) -> Result<Expr, FormulaError> {
        let first = operand(self)?;
        let mut rest = Vec::new();
        while let Some(op) = ops(&self.peek().kind) {
            self.advance();
            rest.push((op, operand(self)?));
        }
        Ok(if rest.is_empty() {
            first
        } else {
            Expr::Chain(Box::new(first), rest)
        })
    }

    fn sum(&mut self) -> Result<Expr, FormulaError> {
        self.chain(Parser::product, |kind| match kind {
            Kind::Plus => Some(Op::Add),
            Kind::Minus => Some(Op::Sub),
            _ => None,
        })
    }

    fn product(&mut self) -> Result<Expr, FormulaError> {
        self.chain(Parser::unary, |kind| match kind {
            Kind::Star => Some(Op::Mul),
            Kind::Slash => Some(Op::Div),
            _ => None,
        })
    }

    fn unary(&mut self) -> Result<Expr, FormulaError> {
        if self.peek().kind == Kind::Minus {
            self.advance();
            return Ok(Expr::Neg(Box::new(self.nested(Parser::unary)?)));
        }
        self.power()
    }

    fn power(&mut self) -> Result<Expr, FormulaError> {
        let base = self.primary()?;
        if self.peek().kind != Kind::Caret {
            return Ok(base);
        }
        self.advance();
        let exponent = self.nested(Parser::unary)?;
        Ok(match exponent.constant_value() {
            Some(n) if n.fract() == 0.0 && n.abs() <= MAX_INTEGER_EXPONENT => {
                Expr::PowI(Box::new(base), n as i32)
            }
            _ => Expr::Pow(Box::new(base), Box::new(exponent)),
        })
    }

    fn primary(&mut self) -> Result<Expr, FormulaError> {
        let token = self.peek().clone();
        match &token.kind {
            Kind::Number(text) => {
                let value = text.parse::<f64>().ok().filter(|v| v.is_finite());
                let value = value.ok_or_else(|| FormulaError {
                    column: token.column,
                    problem: Problem::BadNumber(text.clone()),
                })?;
                self.advance();
                Ok(Expr::Number(value))
            }
            Kind::Name(name) => {
                self.advance();
                match name.as_str() {
                    "x" => Ok(Expr::X),
                    "y" => Ok(Expr::Y),
                    "pi" => Ok(Expr::Number(PI)),
                    "e" => Ok(Expr::Number(E)),
                    _ => {
                        let f = Func::from_name(name).ok_or_else(|| FormulaError {
                            column: token.column,
                            problem: Problem::UnknownName(name.clone()),
                        })?;
                        self.expect(Kind::Open, &format!("'(' after '{name}'"))?;
                        let argument = self.nested(Parser::enclosed)?;
                        Ok(Expr::Call(f, Box::new(argument)))
                    }
                }
            }
            Kind::Open => {
                self.advance();
                self.nested(Parser::enclosed)
            }
            _ => Err(self.error(OPERAND)),
        }
    }

    /// The inside of `( … )`, after the `(`.
    fn enclosed(&mut self) -> Result<Expr, FormulaError> {
        let expr = self.sum()?;
        self.expect(Kind::Close, "an operator or ')'")?;
        Ok(expr)
    }
}
