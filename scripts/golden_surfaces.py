"""The 2-D surfaces and the non-chaos check's constants shared by the
golden generators (scripts/golden_modern.py, scripts/golden_prodigy.py)."""

REL_FLOOR = 1e-3
PERTURBATION = 1e-12
SENSITIVITY_LIMIT = 1e-9
MAX_COORD = 1e3

SURFACES = {
    "rosenbrock": ("(1-x)^2 + 100(y-x^2)^2", lambda x, y: (1 - x) ** 2 + 100 * (y - x**2) ** 2),
    "booth": ("(x+2y-7)^2 + (2x+y-5)^2", lambda x, y: (x + 2 * y - 7) ** 2 + (2 * x + y - 5) ** 2),
    "himmelblau": ("(x^2+y-11)^2 + (x+y^2-7)^2", lambda x, y: (x**2 + y - 11) ** 2 + (x + y**2 - 7) ** 2),
    "anisotropic": ("x^2/20 + y^2", lambda x, y: x**2 / 20 + y**2),
    "quartic": ("x^4 + 2x^3 + y^2 - 1", lambda x, y: x**4 + 2 * x**3 + y**2 - 1),
    "beale": (
        "(1.5-x+xy)^2 + (2.25-x+xy^2)^2 + (2.625-x+xy^3)^2",
        lambda x, y: (1.5 - x + x * y) ** 2 + (2.25 - x + x * y**2) ** 2 + (2.625 - x + x * y**3) ** 2,
    ),
}

STARTS = {
    "rosenbrock": (-1.2, 1.0),
    "booth": (-5.0, -2.0),
    "himmelblau": (0.3, 0.2),
    "anisotropic": (-7.0, 2.0),
    "quartic": (1.0, -0.5),
    "beale": (1.0, -0.5),
}
