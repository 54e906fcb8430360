//! The syntax tree of a formula and its evaluation in any [`Number`] type.

use super::number::Number;

/// The functions a formula may call.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Func {
    Sin,
    Cos,
    Tan,
    Exp,
    Log,
    Sqrt,
    Abs,
    Tanh,
}

impl Func {
    /// Every function, in the order error messages list them.
    pub const ALL: [Func; 8] = [
        Func::Sin,
        Func::Cos,
        Func::Tan,
        Func::Exp,
        Func::Log,
        Func::Sqrt,
        Func::Abs,
        Func::Tanh,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Func::Sin => "sin",
            Func::Cos => "cos",
            Func::Tan => "tan",
            Func::Exp => "exp",
            Func::Log => "log",
            Func::Sqrt => "sqrt",
            Func::Abs => "abs",
            Func::Tanh => "tanh",
        }
    }

    pub fn from_name(name: &str) -> Option<Func> {
        Func::ALL.into_iter().find(|f| f.name() == name)
    }

    /// f(u); `log` is the natural logarithm.
    pub fn value(self, u: f64) -> f64 {
        match self {
            Func::Sin => u.sin(),
            Func::Cos => u.cos(),
            Func::Tan => u.tan(),
            Func::Exp => u.exp(),
            Func::Log => u.ln(),
            Func::Sqrt => u.sqrt(),
            Func::Abs => u.abs(),
            Func::Tanh => u.tanh(),
        }
    }

    /// f′(u), given `fu` = f(u). |u|′ is taken as 0 at u = 0 (a subgradient).
    pub fn derivative(self, u: f64, fu: f64) -> f64 {
        match self {
            Func::Sin => u.cos(),
            Func::Cos => -u.sin(),
            Func::Tan => 1.0 + fu * fu,
            Func::Exp => fu,
            Func::Log => 1.0 / u,
            Func::Sqrt => 0.5 / fu,
            Func::Abs if u > 0.0 => 1.0,
            Func::Abs if u < 0.0 => -1.0,
            Func::Abs => 0.0,
            Func::Tanh => 1.0 - fu * fu,
        }
    }
}

/// `+ − * /`: the operators of left-associative chains.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Op {
    Add,
    Sub,
    Mul,
    Div,
}

/// A formula. Chains of equal-precedence operators are one node, so the tree's
/// depth is bounded by the nesting depth the parser allows, not by the length.
#[derive(Clone, Debug, PartialEq)]
pub enum Expr {
    Number(f64),
    X,
    Y,
    Neg(Box<Expr>),
    /// `first op₁ e₁ op₂ e₂ …`, evaluated left to right.
    Chain(Box<Expr>, Vec<(Op, Expr)>),
    /// `base ^ n` with a constant integer exponent.
    PowI(Box<Expr>, i32),
    /// `base ^ exponent` otherwise.
    Pow(Box<Expr>, Box<Expr>),
    Call(Func, Box<Expr>),
}

impl Expr {
    /// Evaluates at (x, y) in the number type of `x` and `y`.
    pub fn eval<N: Number>(&self, x: N, y: N) -> N {
        match self {
            Expr::Number(c) => N::constant(*c),
            Expr::X => x,
            Expr::Y => y,
            Expr::Neg(e) => -e.eval(x, y),
            Expr::Chain(first, rest) => rest.iter().fold(first.eval(x, y), |acc, (op, e)| {
                let e = e.eval(x, y);
                match op {
                    Op::Add => acc + e,
                    Op::Sub => acc - e,
                    Op::Mul => acc * e,
                    Op::Div => acc / e,
                }
            }),
            Expr::PowI(base, n) => base.eval(x, y).powi(*n),
            Expr::Pow(base, exponent) => base.eval(x, y).pow(exponent.eval(x, y)),
            Expr::Call(f, e) => e.eval(x, y).call(*f),
        }
    }

    /// The value if the expression mentions neither x nor y.
    pub fn constant_value(&self) -> Option<f64> {
        self.is_constant().then(|| self.eval(0.0, 0.0))
    }

    fn is_constant(&self) -> bool {
        match self {
            Expr::Number(_) => true,
            Expr::X | Expr::Y => false,
            Expr::Neg(e) | Expr::PowI(e, _) | Expr::Call(_, e) => e.is_constant(),
            Expr::Chain(first, rest) => {
                first.is_constant() && rest.iter().all(|(_, e)| e.is_constant())
            }
            Expr::Pow(base, exponent) => base.is_constant() && exponent.is_constant(),
        }
    }
}
