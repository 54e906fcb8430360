#!/usr/bin/env python3
"""Prints what `downhill run --surface rosenbrock --start=-1.2,1.0 --steps 300 -o adam:lr=0.01 -o sgd:lr=0.0005,momentum=0.9,nesterov=true -o rmsprop:lr=0.005 -o adagrad:lr=0.5,lr_decay=0.01 --format csv` prints, computed with PyTorch.

Written by `downhill run ... --emit pytorch`; needs only torch:
    python3 downhill_run.py > run.csv

The optimizers are torch.optim's, in float64, on their single-tensor code path
(foreach=False).  f is evaluated in Python floats and its gradient is exact:
forward-mode dual numbers, in the order downhill computes it (autograd's
reverse mode would round the last digits differently), handed to torch as
p.grad.
"""
import csv
import math
import sys

import torch

torch.set_default_dtype(torch.float64)

# What this script cannot compute with torch.optim: it stops rather than print other numbers.
LACKING = [
]


def f(x, y):
    """rosenbrock: (1 - x)^2 + 100*(y - x^2)^2"""
    return (powi((1.0 - x), 2) + (100.0 * powi((y - powi(x, 2)), 2)))


START = [-1.2, 1.0]
STEPS = 300


class NAG(torch.optim.Optimizer):
    """The learning notes' Nesterov in look-ahead form, which torch.optim lacks:
    v <- mu*v - lr*grad f(theta + mu*v); theta <- theta + v.  `closure` sets
    p.grad at the parameter's value, so step moves p to the look-ahead point
    first."""

    def __init__(self, params, lr, momentum):
        super().__init__(params, dict(lr=lr, momentum=momentum))

    @torch.no_grad()
    def step(self, closure):
        for group in self.param_groups:
            lr, mu = group["lr"], group["momentum"]
            for p in group["params"]:
                v = self.state[p].setdefault("velocity", torch.zeros_like(p))
                theta = p.clone()
                p.copy_(theta + mu * v)
                closure()
                v.copy_(v * mu - lr * p.grad)
                p.copy_(theta + v)


# (spec, optimizer of the parameter p)
RUNS = [
    ("adam:lr=0.01", lambda p: torch.optim.Adam([p], lr=0.01, foreach=False)),
    ("sgd:lr=0.0005,momentum=0.9,nesterov=true", lambda p: torch.optim.SGD([p], lr=0.0005, momentum=0.9, nesterov=True, foreach=False)),
    ("rmsprop:lr=0.005", lambda p: torch.optim.RMSprop([p], lr=0.005, foreach=False)),
    ("adagrad:lr=0.5,lr_decay=0.01", lambda p: torch.optim.Adagrad([p], lr=0.5, lr_decay=0.01, foreach=False)),
]
# The learning-rate schedule of every run, made from its optimizer.
SCHEDULE = None
PLATEAU = False  # ReduceLROnPlateau: stepped with the loss


# --- f's arithmetic: IEEE results (inf, nan) where Python would raise, and
# --- exact partial derivatives (None: identically zero, so no `+ 0` terms).


def div(a, b):
    if isinstance(a, Dual) or isinstance(b, Dual):
        return Dual.of(a) / Dual.of(b)
    return fdiv(a, b)


def fdiv(a, b):
    try:
        return a / b
    except ZeroDivisionError:
        if a == 0 or a != a:
            return math.nan
        return math.copysign(math.inf, a) * math.copysign(1.0, b)


def fpowi(base, n):
    """base^n by square-and-multiply, as downhill (compiler-rt's __powidf2)."""
    result, square, k = 1.0, base, abs(n)
    while True:
        if k & 1:
            result *= square
        k >>= 1
        if k == 0:
            break
        square *= square
    return fdiv(1.0, result) if n < 0 else result


def odd_integer(e):
    return math.isfinite(e) and e == math.floor(e) and math.fmod(e, 2.0) != 0


def fpow(base, e):
    try:
        return math.pow(base, e)
    except ValueError:  # 0 to a negative power, a negative base to a fraction
        if base == 0:
            return math.copysign(math.inf, base) if odd_integer(e) else math.inf
        return math.nan
    except OverflowError:
        return -math.inf if base < 0 and odd_integer(e) else math.inf


def value_of(name, u):
    try:
        return abs(u) if name == "abs" else getattr(math, name)(u)
    except OverflowError:  # exp
        return math.inf
    except ValueError:  # log of 0 or less, sqrt of less than 0, sin of inf
        return -math.inf if name == "log" and u == 0 else math.nan


def derivative_of(name, u, fu):
    if name == "sin":
        return value_of("cos", u)
    if name == "cos":
        return -value_of("sin", u)
    if name == "tan":
        return 1.0 + fu * fu
    if name == "exp":
        return fu
    if name == "log":
        return fdiv(1.0, u)
    if name == "sqrt":
        return fdiv(0.5, fu)
    if name == "abs":
        return 1.0 if u > 0 else -1.0 if u < 0 else 0.0
    return 1.0 - fu * fu  # tanh


def plus(a, b):
    return a if b is None else b if a is None else a + b


def minus(a, b):
    return a if b is None else (-b if a is None else a - b)


def times(d, k):
    return None if d is None else d * k


class Dual:
    """A value with its partial derivatives by x and by y."""

    def __init__(self, v, dx=None, dy=None):
        self.v, self.dx, self.dy = v, dx, dy

    @staticmethod
    def of(a):
        return a if isinstance(a, Dual) else Dual(a)

    def __add__(self, o):
        o = Dual.of(o)
        return Dual(self.v + o.v, plus(self.dx, o.dx), plus(self.dy, o.dy))

    def __radd__(self, o):
        return Dual.of(o) + self

    def __sub__(self, o):
        o = Dual.of(o)
        return Dual(self.v - o.v, minus(self.dx, o.dx), minus(self.dy, o.dy))

    def __rsub__(self, o):
        return Dual.of(o) - self

    def __mul__(self, o):
        o = Dual.of(o)

        def product(du, dv):
            return plus(times(du, o.v), None if dv is None else self.v * dv)

        return Dual(self.v * o.v, product(self.dx, o.dx), product(self.dy, o.dy))

    def __rmul__(self, o):
        return Dual.of(o) * self

    def __truediv__(self, o):
        def quotient(du, dv):
            if dv is None:
                return None if du is None else fdiv(du, o.v)
            n = minus(times(du, o.v), self.v * dv)
            return None if n is None else fdiv(n, o.v * o.v)

        return Dual(fdiv(self.v, o.v), quotient(self.dx, o.dx), quotient(self.dy, o.dy))

    def __neg__(self):
        return Dual(-self.v, times(self.dx, -1.0), times(self.dy, -1.0))


def powi(u, n):
    if not isinstance(u, Dual):
        return fpowi(u, n)
    if n == 0:
        return Dual(1.0)
    slope = float(n) * fpowi(u.v, n - 1)
    return Dual(fpowi(u.v, n), times(u.dx, slope), times(u.dy, slope))


def power(u, e):
    if not isinstance(u, Dual) and not isinstance(e, Dual):
        return fpow(u, e)
    u, e = Dual.of(u), Dual.of(e)
    v = fpow(u.v, e.v)
    base, exponent = e.v * fpow(u.v, e.v - 1.0), v * value_of("log", u.v)

    def chain(du, de):
        return plus(times(du, base), times(de, exponent))

    return Dual(v, chain(u.dx, e.dx), chain(u.dy, e.dy))


def call(name, u):
    if not isinstance(u, Dual):
        return value_of(name, u)
    v = value_of(name, u.v)
    slope = derivative_of(name, u.v, v)
    return Dual(v, times(u.dx, slope), times(u.dy, slope))


def gradient(x, y):
    d = f(Dual(x, 1.0, None), Dual(y, None, 1.0))
    if not isinstance(d, Dual):
        return [0.0, 0.0]
    return [0.0 if d.dx is None else d.dx, 0.0 if d.dy is None else d.dy]


# --- The runs.


class NonFinite(Exception):
    pass


def number(v):
    """v as downhill prints it: Python's shortest round trip, with the exponent
    written as Rust writes it (1e-5, not 1e-05; 1e16, not 1e+16)."""
    text = repr(v)
    if "e" in text:
        mantissa, exponent = text.split("e")
        text = f"{mantissa}e{int(exponent)}"
    return text


def path(spec, make_optimizer):
    """(step, x, y, loss) from the start until STEPS updates or the first
    non-finite gradient, point or loss."""
    x, y = START[0] if len(START) == 1 else START
    points = [(0, x, y, f(x, y))]
    if not all(math.isfinite(v) for v in points[0][1:]):
        print(f"warning: {spec} diverged at step 0 (the start has loss {points[0][3]})", file=sys.stderr)
        return []
    p = torch.tensor(START)
    optimizer = make_optimizer(p)
    scheduler = SCHEDULE(optimizer) if SCHEDULE else None

    def closure():
        x, y = p.view(-1).tolist()
        g = gradient(x, y)
        if not all(math.isfinite(v) for v in g):
            raise NonFinite(f"the gradient is {g}")
        p.grad = torch.tensor(g).view_as(p)
        return f(x, y)

    for k in range(1, STEPS + 1):
        if scheduler is not None and k > 1:
            if PLATEAU:
                scheduler.step(points[-1][3])
            else:
                scheduler.step()
        try:
            optimizer.step(closure)
        except NonFinite as reason:
            print(f"warning: {spec} diverged at step {k} ({reason})", file=sys.stderr)
            break
        x, y = p.view(-1).tolist()
        loss = f(x, y)
        if not all(math.isfinite(v) for v in (x, y, loss)):
            print(f"warning: {spec} diverged at step {k} (the point ({x}, {y}) has loss {loss})", file=sys.stderr)
            break
        points.append((k, x, y, loss))
    return points


def main():
    if LACKING:
        sys.exit("not run: " + "; ".join(LACKING))
    out = csv.writer(sys.stdout, lineterminator="\n")
    out.writerow(["optimizer", "step", "x", "y", "loss"])
    for spec, make_optimizer in RUNS:
        for step, x, y, loss in path(spec, make_optimizer):
            out.writerow([spec, step, number(x), number(y), number(loss)])


if __name__ == "__main__":
    main()
