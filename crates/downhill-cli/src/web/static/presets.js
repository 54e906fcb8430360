// One-click presets: the classic behaviours of the notes, each a link (the
// page's own URL state) with a short caption of what to watch.

const enc = (specs) => specs.map((s) => `opt=${encodeURIComponent(s)}`).join("&");

/** [id, button label, caption, URL hash]. */
export const PRESETS = [
  ["saddle", "Saddle escape",
    "x² − y² from (0.5, 0.001): the gradient along y starts a thousandth of that along x. GD crawls toward the saddle point and leaves it late; momentum leaves sooner; Adam scales each coordinate, so it turns away almost at once.",
    `surface=saddle&start=0.5,0.001&steps=300&${enc(["gd:lr=0.01", "momentum:lr=0.01,momentum=0.95", "adam:lr=0.01"])}`],
  ["ravine", "Ravine",
    "x²/20 + y² from (−7, 2), the notes' four panels: SGD with lr 0.95 zig-zags across the steep y direction and crawls along the flat x; momentum, AdaGrad and Adam take the valley floor.",
    `surface=anisotropic&start=-7,2&steps=100&${enc(["gd:lr=0.95", "momentum:lr=0.1,momentum=0.9", "adagrad:lr=1.5", "adam:lr=0.3"])}`],
  ["plateau", "Quartic's plateau",
    "x⁴ + 2x³ + y² − 1 from (1, −0.5): the gradient vanishes at the flat inflection at the origin. Plain GD stalls on it; momentum and NAG carry through to the minimum at (−1.5, 0).",
    `surface=quartic&start=1,-0.5&steps=300&${enc(["gd:lr=0.01", "momentum:lr=0.01,momentum=0.95", "nag:lr=0.01,momentum=0.95"])}`],
  ["himmelblau", "Himmelblau",
    "Four minima of equal depth: from one start, the optimizers end in different ones.",
    `surface=himmelblau&start=-0.3,-0.9&steps=300&${enc(["gd:lr=0.01", "momentum:lr=0.01,momentum=0.9", "adam:lr=0.1"])}`],
  ["rastrigin", "Rastrigin",
    "A grid of local minima around the global one at the origin: GD stops in the nearest dip; a large step or momentum can hop over a few.",
    `surface=rastrigin&start=3.3,2.2&steps=300&${enc(["gd:lr=0.002", "momentum:lr=0.002,momentum=0.95", "adam:lr=0.3"])}`],
  ["divergence", "Too large lr",
    "On x² + y² each GD step multiplies the point by 1 − 2·lr: lr 0.4 converges, 0.95 oscillates inward, 1.05 grows without bound (✕ where it leaves).",
    `surface=sphere&start=1.5,1&steps=100&${enc(["gd:lr=0.4", "gd:lr=0.95", "gd:lr=1.05"])}`],
  ["adadelta", "AdaDelta and lr",
    "The notes' AdaDelta has no learning rate; PyTorch's, like downhill's, multiplies its step by lr (default 1.0). lr = 1 is the notes' rule; 0.1 is the same path ten times slower.",
    `surface=quartic&start=1,-0.5&steps=300&${enc(["adadelta:lr=1", "adadelta:lr=0.1"])}`],
  ["overshoot", "Momentum's overshoot",
    "Momentum's effective step is lr/(1 − μ): with μ = 0.95 the point shoots past the minimum and spirals back; μ = 0.5 overshoots a little; GD goes straight in.",
    `surface=anisotropic&start=-7,2&steps=150&${enc(["gd:lr=0.1", "momentum:lr=0.1,momentum=0.5", "momentum:lr=0.1,momentum=0.95"])}`],
  ["rosenbrock", "Adam vs SGD, Rosenbrock",
    "(1 − x)² + 100(y − x²)²: both reach the curved valley fast; along its floor SGD's step shrinks with the gradient while Adam's stays near lr.",
    `surface=rosenbrock&start=-1.5,2&steps=2000&${enc(["gd:lr=0.001", "adam:lr=0.02"])}`],
];

/** Fills `box` with a button per preset; a click sets the page's URL state
 * (the page loads it as a pasted link) and shows the caption in `caption`. */
export function initPresets(box, caption) {
  for (const [id, label, text, hash] of PRESETS) {
    const b = document.createElement("button");
    b.className = "small preset";
    b.dataset.preset = id;
    b.textContent = label;
    b.title = text;
    b.onclick = () => {
      caption.textContent = text;
      caption.hidden = false;
      caption.dataset.preset = id;
      location.hash = `${hash}&show=trails,gradient,velocity,lookahead,effective&tab=paths`;
    };
    box.appendChild(b);
  }
}
