// The paths view: the contour with each optimizer's path and overlays, its
// legend, the loss/x/y charts and the readout table at the current frame.
import { arrow, lineChart } from "./plot.js";
import { specs } from "./optimizers.js";

const PLAY = '<svg viewBox="0 0 16 16"><path d="M3 2l11 6-11 6z"/></svg>';
const PAUSE = '<svg viewBox="0 0 16 16"><path d="M3 2h4v12H3zM9 2h4v12H9z"/></svg>';
const $ = (id) => document.getElementById(id);

let state = null, view = null, colors = [], startPoint = () => null;

/** Connects the view to the page: `state`, `view` (runs, frame, hover,
 * surface, contour image), the path colours and the start point. */
export function initPaths(page) {
  ({ state, view, colors, startPoint } = page);
}

function toPx([x, y]) {
  const { domain } = view.surfaceInfo, c = $("contour");
  return [((x - domain.x[0]) / (domain.x[1] - domain.x[0])) * c.width,
    (1 - (y - domain.y[0]) / (domain.y[1] - domain.y[0])) * c.height];
}

/** Canvas pixels to surface coordinates. */
export function fromPx(px, py) {
  const { domain } = view.surfaceInfo, c = $("contour");
  return [domain.x[0] + (px / c.width) * (domain.x[1] - domain.x[0]),
    domain.y[0] + (1 - py / c.height) * (domain.y[1] - domain.y[0])];
}

export const shown = (what) => state.show.includes(what);
export const at = (run, k) => run.points[Math.min(k, run.points.length - 1)];
const pointIndex = (run, k) => Math.min(k, run.points.length - 1);

/** Redraws the contour view, the charts, the readout and the frame controls. */
export function draw() {
  drawContour();
  drawCharts();
  drawReadout();
  $("frame").value = String(view.frame);
  $("frame-label").textContent = `${view.frame} / ${state.steps}`;
  $("play").innerHTML = view.playing ? PAUSE : PLAY;
  $("play").dataset.playing = view.playing ? "1" : "";
}

function drawContour() {
  const c = $("contour"), ctx = c.getContext("2d");
  ctx.clearRect(0, 0, c.width, c.height);
  if (!view.contour || !view.surfaceInfo) return;
  ctx.drawImage(view.contour.canvas, 0, 0);
  for (const m of view.surfaceInfo.minima) {
    const [x, y] = toPx(m);
    ctx.save(); ctx.strokeStyle = "#fff"; ctx.lineWidth = 2;
    ctx.beginPath(); ctx.moveTo(x - 6, y - 6); ctx.lineTo(x + 6, y + 6); ctx.moveTo(x + 6, y - 6); ctx.lineTo(x - 6, y + 6); ctx.stroke();
    ctx.restore();
  }
  const [sx, sy] = toPx(startPoint());
  ctx.save(); ctx.strokeStyle = "#fff"; ctx.lineWidth = 2; ctx.beginPath(); ctx.arc(sx, sy, 7, 0, 7); ctx.stroke(); ctx.restore();
  let drawn = 0;
  view.runs.forEach((run, i) => {
    const color = colors[i % colors.length];
    const k = pointIndex(run, view.frame);
    const from = shown("trails") ? 0 : Math.max(0, k - 8);
    const pts = run.points.slice(from, k + 1).map(toPx);
    drawn += pts.length;
    ctx.save();
    ctx.lineJoin = "round";
    for (const [style, width] of [["rgba(0,0,0,0.55)", 4.2], [color, 2]]) {
      ctx.strokeStyle = style; ctx.lineWidth = width; ctx.beginPath();
      pts.forEach(([x, y], j) => (j ? ctx.lineTo(x, y) : ctx.moveTo(x, y)));
      ctx.stroke();
    }
    if (pts.length < 80) {
      ctx.fillStyle = color;
      for (const [x, y] of pts) { ctx.beginPath(); ctx.arc(x, y, 2.2, 0, 7); ctx.fill(); }
    }
    const [x, y] = toPx(run.points[k]);
    ctx.fillStyle = color; ctx.strokeStyle = "#111"; ctx.lineWidth = 1.5;
    ctx.beginPath(); ctx.arc(x, y, 5.5, 0, 7); ctx.fill(); ctx.stroke();
    ctx.restore();
    drawOverlays(ctx, run, k, color);
    if (view.hover !== null) {
      const [hx, hy] = toPx(at(run, view.hover));
      ctx.save(); ctx.strokeStyle = "#fff"; ctx.lineWidth = 2.5; ctx.beginPath(); ctx.arc(hx, hy, 9, 0, 7); ctx.stroke();
      ctx.strokeStyle = color; ctx.lineWidth = 1.5; ctx.stroke(); ctx.restore();
    }
  });
  drawLegend(ctx);
  c.dataset.paths = String(view.runs.length);
  c.dataset.points = String(drawn);
  c.dataset.frame = String(view.frame);
}

function drawOverlays(ctx, run, k, color) {
  const o = run.overlays;
  if (!o) return;
  const p = run.points[k];
  const [x, y] = toPx(p);
  if (shown("gradient") && o.gradient[k]) {
    const [gx, gy] = o.gradient[k];
    const n = Math.hypot(gx, gy);
    if (n > 0) arrow(ctx, x, y, x - (gx / n) * 44, y + (gy / n) * 44, "rgba(255,255,255,0.95)", 2);
  }
  if (shown("velocity") && o.velocity?.[k]) {
    const [vx, vy] = toPx([p[0] + o.velocity[k][0], p[1] + o.velocity[k][1]]);
    arrow(ctx, x, y, vx, vy, "#111", 5);
    arrow(ctx, x, y, vx, vy, color, 2.5);
  }
  if (shown("lookahead") && o.lookahead?.[k]) {
    const [lx, ly] = toPx(o.lookahead[k]);
    ctx.save(); ctx.strokeStyle = color; ctx.lineWidth = 1.5; ctx.setLineDash([4, 3]);
    ctx.beginPath(); ctx.moveTo(x, y); ctx.lineTo(lx, ly); ctx.stroke(); ctx.setLineDash([]);
    ctx.fillStyle = "rgba(255,255,255,0.9)"; ctx.beginPath(); ctx.arc(lx, ly, 4.5, 0, 7); ctx.fill(); ctx.stroke();
    ctx.restore();
  }
  if (shown("effective") && o.effective_lr && o.step[k]) {
    const [dx, dy] = o.step[k];
    const [ex] = toPx([p[0] + dx, p[1]]);
    const [, ey] = toPx([p[0], p[1] + dy]);
    arrow(ctx, x, y, ex, y, "#ffe14d", 2, [3, 2]);
    arrow(ctx, x, y, x, ey, "#ffe14d", 2, [3, 2]);
  }
}

function drawLegend(ctx) {
  if (!view.runs.length) return;
  const list = specs();
  ctx.save();
  ctx.font = "12px system-ui, sans-serif";
  const w = Math.max(...list.map((s) => ctx.measureText(s).width)) + 34;
  const h = 8 + 17 * list.length;
  ctx.fillStyle = "rgba(255,255,255,0.86)";
  ctx.beginPath(); ctx.roundRect(8, 8, w, h, 5); ctx.fill();
  list.forEach((s, i) => {
    const y = 8 + 12 + 17 * i;
    ctx.fillStyle = colors[i % colors.length]; ctx.fillRect(16, y - 5, 14, 4);
    ctx.fillStyle = "#1d2330"; ctx.textBaseline = "middle";
    const run = view.runs[i];
    ctx.fillText(s + (run?.diverged ? `  (diverged at ${run.diverged.step})` : ""), 36, y - 3);
  });
  ctx.restore();
}

/** Each chart's map from canvas x to step (for hover). */
export const charts = [];
function drawCharts() {
  const top = Math.max(...view.runs.map((r) => r.points[0]?.[2] ?? -Infinity));
  const defs = [["loss-chart", 2, top], ["x-chart", 0, null], ["y-chart", 1, null]];
  defs.forEach(([id, col, clipTop], n) => {
    const canvas = $(id);
    const series = view.runs.map((r, i) => ({ color: colors[i % colors.length], values: r.points.map((p) => p[col]) }));
    charts[n] = lineChart(canvas, series, state.steps,
      { frame: view.frame, hover: view.hover, clipTop: Number.isFinite(clipTop) ? clipTop : null });
    canvas.dataset.series = String(series.length);
    canvas.dataset.points = String(series.reduce((a, s) => a + s.values.length, 0));
  });
}

export const fmt = (v) => (v === null || v === undefined ? "—" : Number(v.toPrecision(5)).toString());
const pair = (p) => (p ? `${fmt(p[0])}<br>${fmt(p[1])}` : "—");

function drawReadout() {
  const table = $("readout");
  const k = view.hover ?? view.frame;
  const rows = [`<tr><th>step ${k}</th><th>θ</th><th>f</th><th>∇f</th><th>velocity</th><th>look-ahead</th><th>Δθ / −∇f</th></tr>`];
  view.runs.forEach((run, i) => {
    const j = pointIndex(run, k), p = run.points[j], o = run.overlays ?? {};
    const name = specs()[i] ?? run.optimizer;
    rows.push(`<tr><td class="name">${name.split(":")[0]}</td>` +
      `<td>${pair(p)}</td><td>${fmt(p[2])}</td><td>${pair(o.gradient?.[j])}</td><td>${pair(o.velocity?.[j])}</td>` +
      `<td>${pair(o.lookahead?.[j])}</td><td>${pair(o.effective_lr?.[j])}</td></tr>`);
  });
  table.innerHTML = rows.join("");
  // Colours through the CSSOM: the page's Content-Security-Policy allows no inline style attributes.
  table.querySelectorAll("td.name").forEach((cell, i) => cell.style.setProperty("--c", colors[i % colors.length]));
}
