// The paths view: the contour with each optimizer's path and overlays, its
// legend, the loss/x/y charts and the readout table at the current frame.
import { fromCanvas, drawFrame, inside, plotRect, toCanvas } from "./frame.js";
import { drawOverlays, overlayKey, overlayScale } from "./overlays.js";
import { cross, lineChart, renderContour } from "./plot.js";
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

/** Where the domain is drawn on the contour canvas. */
export function rect() {
  const c = $("contour");
  return plotRect(view.surfaceInfo.domain, c.width, c.height, shown("stretch"));
}

const toPx = (p) => toCanvas(view.surfaceInfo.domain, rect(), p);

/** Canvas pixels to surface coordinates, or null outside the plot. */
export function fromPx(px, py) {
  const r = rect();
  return inside(r, px, py) ? fromCanvas(view.surfaceInfo.domain, r, px, py) : null;
}

export const shown = (what) => state.show.includes(what);

/** Whether a run stopped on a non-finite value or ended far outside the plotted
 * domain (more than its width beyond an edge): the charts leave it out of their range. */
export function runaway(run) {
  if (run.diverged) return true;
  const last = run.points[run.points.length - 1];
  if (!last || !view.surfaceInfo) return false;
  const { domain } = view.surfaceInfo;
  return [domain.x, domain.y].some(([lo, hi], i) => Math.abs(last[i] - (lo + hi) / 2) > 1.5 * (hi - lo));
}
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
  if (!view.grid || !view.surfaceInfo) return;
  const r = rect(), w = Math.round(r.w), h = Math.round(r.h);
  if (view.contour?.grid !== view.grid || view.contour.canvas.width !== w || view.contour.canvas.height !== h) {
    view.contour = { ...renderContour(view.grid, w, h), grid: view.grid };
  }
  ctx.drawImage(view.contour.canvas, r.x, r.y, r.w, r.h);
  const axes = drawFrame(ctx, view.surfaceInfo.domain, r, view.contour.levels);
  c.dataset.plot = [r.x, r.y, r.w, r.h].map((v) => v.toFixed(1)).join(",");
  c.dataset.ticks = `${axes.x},${axes.y},${axes.bar}`;
  ctx.save();
  ctx.beginPath(); ctx.rect(r.x, r.y, r.w, r.h); ctx.clip();
  for (const m of view.surfaceInfo.minima) {
    const [x, y] = toPx(m);
    ctx.save(); ctx.strokeStyle = "#fff"; ctx.lineWidth = 2;
    ctx.beginPath(); ctx.moveTo(x - 6, y - 6); ctx.lineTo(x + 6, y + 6); ctx.moveTo(x + 6, y - 6); ctx.lineTo(x - 6, y + 6); ctx.stroke();
    ctx.restore();
  }
  const [sx, sy] = toPx(startPoint());
  ctx.save(); ctx.strokeStyle = "#fff"; ctx.lineWidth = 2; ctx.beginPath(); ctx.arc(sx, sy, 7, 0, 7); ctx.stroke(); ctx.restore();
  let drawn = 0;
  let crosses = 0;
  const scale = scaleFor(r);
  const lengths = [];
  view.runs.forEach((run, i) => {
    if (!run.points.length) return;
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
    lengths.push(drawOverlays(ctx, run, k, color, toPx, scale, shown));
    if (runaway(run) && view.frame >= exitIndex(run)) {
      const [ex, ey] = toPx(run.points[exitIndex(run)]);
      cross(ctx, Math.min(r.x + r.w - 8, Math.max(r.x + 8, ex)), Math.min(r.y + r.h - 8, Math.max(r.y + 8, ey)), 7, color);
      crosses++;
    }
    if (view.hover !== null) {
      const [hx, hy] = toPx(at(run, view.hover));
      ctx.save(); ctx.strokeStyle = "#fff"; ctx.lineWidth = 2.5; ctx.beginPath(); ctx.arc(hx, hy, 9, 0, 7); ctx.stroke();
      ctx.strokeStyle = color; ctx.lineWidth = 1.5; ctx.stroke(); ctx.restore();
    }
  });
  ctx.restore();
  drawLegend(ctx, r);
  c.dataset.paths = String(view.runs.filter((r) => r.points.length).length);
  c.dataset.crosses = String(crosses);
  c.dataset.arrows = JSON.stringify(lengths);
  c.dataset.points = String(drawn);
  c.dataset.frame = String(view.frame);
}

/** The overlay scales of the current runs (kept while runs and plot size stay), and their key. */
function scaleFor(r) {
  const pxPerUnit = r.w / (view.surfaceInfo.domain.x[1] - view.surfaceInfo.domain.x[0]);
  if (view.scale?.runs !== view.runs || view.scale.pxPerUnit !== pxPerUnit) {
    view.scale = { ...overlayScale(view.runs, pxPerUnit), runs: view.runs };
    $("overlay-key").innerHTML = view.runs.some((run) => run.overlays) ? overlayKey(view.scale) : "";
    $("overlay-key").dataset.magnify = String(view.scale.magnify);
  }
  return view.scale;
}

/** Where a runaway run leaves the view: its first point outside the domain,
 * else (it diverged inside) its last point. */
export function exitIndex(run) {
  const { domain } = view.surfaceInfo;
  const out = run.points.findIndex(([x, y]) => x < domain.x[0] || x > domain.x[1] || y < domain.y[0] || y > domain.y[1]);
  return out >= 0 ? out : run.points.length - 1;
}

function drawLegend(ctx, r) {
  if (!view.runs.length) return;
  const list = specs();
  ctx.save();
  ctx.font = "12px system-ui, sans-serif";
  const labels = list.map((s, i) => clipText(ctx, s, 200) + (view.runs[i]?.diverged ? `  ✕ ${view.runs[i].diverged.step}` : ""));
  const w = Math.max(...labels.map((s) => ctx.measureText(s).width)) + 34;
  const h = 8 + 17 * list.length;
  ctx.canvas.dataset.legendWidth = String(Math.ceil(w));
  ctx.fillStyle = "rgba(255,255,255,0.86)";
  ctx.translate(r.x, r.y);
  ctx.beginPath(); ctx.roundRect(8, 8, w, h, 5); ctx.fill();
  list.forEach((s, i) => {
    const y = 8 + 12 + 17 * i;
    ctx.fillStyle = colors[i % colors.length]; ctx.fillRect(16, y - 5, 14, 4);
    ctx.fillStyle = "#1d2330"; ctx.textBaseline = "middle";
    ctx.fillText(labels[i], 36, y - 3);
  });
  ctx.restore();
}

/** `text` cut with … to fit `width` pixels in the context's font. */
function clipText(ctx, text, width) {
  if (ctx.measureText(text).width <= width) return text;
  let n = text.length;
  while (n > 1 && ctx.measureText(text.slice(0, n) + "…").width > width) n--;
  return text.slice(0, n) + "…";
}

/** Each chart's map from canvas x to step (for hover). */
export const charts = [];
function drawCharts() {
  const top = Math.max(...view.runs.filter((r) => !runaway(r)).map((r) => r.points[0]?.[2] ?? -Infinity));
  const defs = [["loss-chart", 2, top], ["x-chart", 0, null], ["y-chart", 1, null]];
  defs.forEach(([id, col, clipTop], n) => {
    const canvas = $(id);
    const series = view.runs.map((r, i) => ({ color: colors[i % colors.length], values: r.points.map((p) => p[col]), runaway: runaway(r) }));
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
    if (!run.points.length) return;
    const j = pointIndex(run, k), p = run.points[j], o = run.overlays ?? {};
    const name = specs()[i] ?? run.optimizer;
    rows.push(`<tr><td class="name" data-run="${i}">${name.split(":")[0]}</td>` +
      `<td>${pair(p)}</td><td>${fmt(p[2])}</td><td>${pair(o.gradient?.[j])}</td><td>${pair(o.velocity?.[j])}</td>` +
      `<td>${pair(o.lookahead?.[j])}</td><td>${pair(o.effective_lr?.[j])}</td></tr>`);
  });
  table.innerHTML = rows.join("");
  // Colours through the CSSOM: the page's Content-Security-Policy allows no inline style attributes.
  table.querySelectorAll("td.name").forEach((cell) => cell.style.setProperty("--c", colors[Number(cell.dataset.run) % colors.length]));
}
