// The contour's frame: where the domain sits on the canvas (equal aspect
// unless stretched), the axes with ticks and names, and the colour bar.
import { colormap, rgb, short, ticks } from "./plot.js";

/** Room around the plot: y ticks on the left, x ticks and name below, the colour bar on the right. */
const M = { l: 50, r: 74, t: 10, b: 40 };

/** The plot rectangle {x, y, w, h} in canvas pixels for `domain` on a
 * `width`×`height` canvas: one unit of x as long as one of y (`stretch` fills the room). */
export function plotRect(domain, width, height, stretch = false) {
  const W = width - M.l - M.r, H = height - M.t - M.b;
  if (stretch) return { x: M.l, y: M.t, w: W, h: H };
  const aspect = (domain.x[1] - domain.x[0]) / (domain.y[1] - domain.y[0]);
  const w = Math.min(W, H * aspect), h = w / aspect;
  return { x: M.l + (W - w) / 2, y: M.t + (H - h) / 2, w, h };
}

/** Surface coordinates to canvas pixels in `rect`. */
export const toCanvas = (domain, rect, [x, y]) => [
  rect.x + ((x - domain.x[0]) / (domain.x[1] - domain.x[0])) * rect.w,
  rect.y + (1 - (y - domain.y[0]) / (domain.y[1] - domain.y[0])) * rect.h,
];

/** Canvas pixels in `rect` to surface coordinates. */
export const fromCanvas = (domain, rect, px, py) => [
  domain.x[0] + ((px - rect.x) / rect.w) * (domain.x[1] - domain.x[0]),
  domain.y[0] + (1 - (py - rect.y) / rect.h) * (domain.y[1] - domain.y[0]),
];

export const inside = (rect, px, py) => px >= rect.x && px <= rect.x + rect.w && py >= rect.y && py <= rect.y + rect.h;

/** Axes around `rect` (ticks at round values, names x and y) and a colour bar
 * of the contour's bands labelled with their levels of f. Returns how many
 * ticks each axis and the bar got. */
export function drawFrame(ctx, domain, rect, levels) {
  ctx.save();
  ctx.font = "11px system-ui, sans-serif";
  ctx.fillStyle = "#4a5263"; ctx.strokeStyle = "#8a91a0"; ctx.lineWidth = 1;
  ctx.strokeRect(rect.x, rect.y, rect.w, rect.h);
  const count = (px) => Math.max(2, Math.round(px / 70));
  const xs = ticks(domain.x[0], domain.x[1], count(rect.w)), ys = ticks(domain.y[0], domain.y[1], count(rect.h));
  ctx.textAlign = "center"; ctx.textBaseline = "top";
  for (const v of xs) {
    const [x] = toCanvas(domain, rect, [v, domain.y[0]]);
    ctx.beginPath(); ctx.moveTo(x, rect.y + rect.h); ctx.lineTo(x, rect.y + rect.h + 4); ctx.stroke();
    ctx.fillText(short(v), x, rect.y + rect.h + 6);
  }
  ctx.textAlign = "right"; ctx.textBaseline = "middle";
  for (const v of ys) {
    const [, y] = toCanvas(domain, rect, [domain.x[0], v]);
    ctx.beginPath(); ctx.moveTo(rect.x - 4, y); ctx.lineTo(rect.x, y); ctx.stroke();
    ctx.fillText(short(v), rect.x - 6, y);
  }
  ctx.font = "italic 13px system-ui, sans-serif"; ctx.fillStyle = "#1d2330";
  ctx.textAlign = "center"; ctx.textBaseline = "top";
  ctx.fillText("x", rect.x + rect.w / 2, rect.y + rect.h + 22);
  ctx.textAlign = "right"; ctx.textBaseline = "middle";
  ctx.fillText("y", rect.x - 36, rect.y + rect.h / 2);
  const bar = drawColourBar(ctx, ctx.canvas.width - M.r + 14, M.t, ctx.canvas.height - M.t - M.b, levels);
  ctx.restore();
  return { x: xs.length, y: ys.length, bar };
}

// One equal-height band per contour band, lowest at the bottom; a few levels labelled.
function drawColourBar(ctx, x, top, height, levels) {
  if (!levels.length) return 0;
  const bands = levels.length + 1, bh = height / bands;
  for (let k = 0; k < bands; k++) {
    ctx.fillStyle = rgb(colormap(k / levels.length));
    ctx.fillRect(x, top + height - (k + 1) * bh, 12, Math.ceil(bh));
  }
  ctx.strokeStyle = "#8a91a0"; ctx.strokeRect(x, top, 12, height);
  ctx.font = "10px system-ui, sans-serif"; ctx.fillStyle = "#4a5263";
  ctx.textAlign = "left"; ctx.textBaseline = "middle";
  const every = Math.max(1, Math.ceil(levels.length / Math.max(2, Math.floor(height / 40))));
  let labels = 0;
  for (let k = 0; k < levels.length; k += every, labels++) ctx.fillText(short(levels[k]), x + 16, top + height - (k + 1) * bh);
  ctx.textAlign = "center"; ctx.textBaseline = "bottom"; ctx.font = "italic 12px system-ui, sans-serif";
  ctx.fillText("f", x + 6, top + height + 16);
  return labels;
}
