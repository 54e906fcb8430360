// The arrows drawn at each run's current point, in the run's colour, and their
// key. Lengths carry magnitude: −∇f at a fixed number of pixels per unit of
// gradient, velocity and update Δθ in the plot's own units magnified by one
// stated factor, both chosen once per set of runs.
import { arrow } from "./plot.js";

/** Pixels per unit of |∇f| make the 90th percentile of the runs' gradients this long. */
const GRADIENT_PX = 50;
/** Displacements whose 90th percentile is shorter than this are magnified. */
const STEP_PX = 36;
/** No arrow is drawn longer than this; a longer one ends in a bar. */
const MAX_PX = 160;

const norm = (v) => (v ? Math.hypot(v[0], v[1]) : NaN);

function quantile90(values) {
  const finite = values.filter((v) => Number.isFinite(v) && v > 0).sort((a, b) => a - b);
  return finite.length ? finite[Math.floor(0.9 * (finite.length - 1))] : null;
}

/** A round 1, 2 or 5 × 10^k at or above `v`. */
const roundUp = (v) => {
  const mag = 10 ** Math.floor(Math.log10(v));
  return [1, 2, 5, 10].map((f) => f * mag).find((s) => s >= v * (1 - 1e-12));
};

/** The scales for `runs` drawn at `pxPerUnit` pixels per unit of x:
 * `gradient` (pixels per unit of |∇f|) and `magnify` (the factor on displacements). */
export function overlayScale(runs, pxPerUnit) {
  const grads = quantile90(runs.flatMap((r) => (r.overlays?.gradient ?? []).map(norm)));
  const steps = quantile90(runs.flatMap((r) => [...(r.overlays?.step ?? []), ...(r.overlays?.velocity ?? [])].map(norm)));
  const gradient = grads ? GRADIENT_PX / grads : 0;
  const magnify = steps && steps * pxPerUnit < STEP_PX ? roundUp(STEP_PX / (steps * pxPerUnit)) : 1;
  return { gradient, magnify, pxPerUnit, refGradient: grads };
}

// An arrow of the run's colour outlined dark, cut at MAX_PX with a bar across its end.
function scaled(ctx, x, y, dx, dy, color, width, dash) {
  const len = Math.hypot(dx, dy);
  const cut = len > MAX_PX ? MAX_PX / len : 1;
  const [ex, ey] = [x + dx * cut, y + dy * cut];
  if (!dash.length) arrow(ctx, x, y, ex, ey, "#111", width + 2.5);
  arrow(ctx, x, y, ex, ey, color, width, dash);
  if (cut < 1) {
    const [nx, ny] = [-dy / len, dx / len];
    ctx.save(); ctx.strokeStyle = color; ctx.lineWidth = 2;
    ctx.beginPath(); ctx.moveTo(ex + 6 * nx, ey + 6 * ny); ctx.lineTo(ex - 6 * nx, ey - 6 * ny); ctx.stroke(); ctx.restore();
  }
  return len;
}

/** Draws the requested overlays of `run` at point k (canvas position from
 * `toPx`); returns the drawn arrows' lengths in pixels by kind. */
export function drawOverlays(ctx, run, k, color, toPx, scale, shown) {
  const o = run.overlays, drawn = {};
  if (!o) return drawn;
  const p = run.points[k];
  const [x, y] = toPx(p);
  const displacement = (d) => {
    const [ex, ey] = toPx([p[0] + scale.magnify * d[0], p[1] + scale.magnify * d[1]]);
    return [ex - x, ey - y];
  };
  if (shown("gradient") && o.gradient[k]) {
    const [gx, gy] = o.gradient[k];
    drawn.gradient = scaled(ctx, x, y, -gx * scale.gradient, gy * scale.gradient, "#fff", 1.8, []);
    scaled(ctx, x, y, -gx * scale.gradient, gy * scale.gradient, color, 1.8, [3, 3]);
  }
  if (shown("velocity") && o.velocity?.[k]) drawn.velocity = scaled(ctx, x, y, ...displacement(o.velocity[k]), color, 2.5, []);
  if (shown("lookahead") && o.lookahead?.[k]) {
    const [lx, ly] = toPx(o.lookahead[k]);
    ctx.save(); ctx.strokeStyle = color; ctx.lineWidth = 1.5; ctx.setLineDash([4, 3]);
    ctx.beginPath(); ctx.moveTo(x, y); ctx.lineTo(lx, ly); ctx.stroke(); ctx.setLineDash([]);
    ctx.fillStyle = "rgba(255,255,255,0.9)"; ctx.beginPath(); ctx.arc(lx, ly, 4.5, 0, 7); ctx.fill(); ctx.stroke();
    ctx.restore();
  }
  if (shown("effective") && o.effective_lr && o.step[k]) {
    const [dx, dy] = displacement(o.step[k]);
    drawn.step = Math.hypot(scaled(ctx, x, y, dx, 0, color, 2, [3, 2]), scaled(ctx, x, y, 0, dy, color, 2, [3, 2]));
  }
  return drawn;
}

/** The key: what each arrow is, in the runs' colours, with the scales. */
export function overlayKey(scale) {
  const g = scale.refGradient;
  const gradient = g ? `${GRADIENT_PX} px = |∇f| ${Number(g.toPrecision(3))}` : "none";
  const times = scale.magnify > 1 ? `drawn ×${scale.magnify} (longer than they are)` : "drawn to scale";
  return [
    ["grad", "−∇f", `striped white and the run's colour; ${gradient}`],
    ["vel", "velocity", `solid, run's colour; ${times}`],
    ["step", "per-coordinate step", `dashed x and y parts of Δθ (adaptive methods); ${times}`],
    ["look", "NAG look-ahead", "dotted line to a white dot, to scale"],
  ].map(([cls, name, text]) => `<span class="${cls}"><b>${name}</b> ${text}</span>`).join("");
}
