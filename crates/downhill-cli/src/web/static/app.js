// The playground page: state (mirrored in the URL hash), controls, the contour
// view with paths and overlays, linked charts, playback, the sweep tab and
// (in train.js) the training tab.
import { get, post } from "./api.js";
import { renderContour, arrow, lineChart, heatmap, short, withoutLr } from "./plot.js";
import { initTraining, readTrainHash, writeTrainHash } from "./train.js";

const COLORS = ["#ff4747", "#ffa21a", "#2ad4f5", "#f06bc4", "#9be23a", "#f7d038", "#a98bff", "#ff8a8a",
  "#36d6a0", "#5aa8ff", "#ffc285", "#e58bff", "#62e08a", "#d9d9d9", "#4fc3f7", "#c7a0ff"];
const PRIMARY = ["lr", "momentum", "beta1", "beta2", "alpha", "rho", "lr_decay"];
const GRID_N = 220;
const PLAY = '<svg viewBox="0 0 16 16"><path d="M3 2l11 6-11 6z"/></svg>';
const PAUSE = '<svg viewBox="0 0 16 16"><path d="M3 2h4v12H3zM9 2h4v12H9z"/></svg>';
const $ = (id) => document.getElementById(id);

const defaults = {
  surface: "quartic", start: null, steps: 200, schedule: "",
  optimizers: ["momentum:lr=0.01,momentum=0.95", "nag:lr=0.01,momentum=0.95", "adam:lr=0.1"],
  show: ["trails", "gradient", "velocity", "lookahead", "effective"], tab: "paths",
};
const state = { ...defaults, opts: [] };
const view = {
  catalogue: null, optimizerInfo: null, surfaceInfo: null, contour: null, grid: null,
  runs: [], frame: 0, hover: null, playing: false, acc: 0, lastTime: null,
  runToken: 0, controller: null, sweep: null,
};
const hook = (window.__downhill = { ready: false, runs: 0, formulaError: null, runError: null, state, view });

// ---------- URL hash ----------
function readHash() {
  const p = new URLSearchParams(location.hash.slice(1));
  if (p.has("surface")) state.surface = p.get("surface");
  if (p.has("start")) {
    const s = p.get("start").split(",").map(Number);
    state.start = s.length === 2 && s.every(Number.isFinite) ? s : null;
  }
  if (p.has("steps")) state.steps = Math.max(1, Math.min(20000, parseInt(p.get("steps"), 10) || defaults.steps));
  if (p.has("schedule")) state.schedule = p.get("schedule");
  if (p.getAll("opt").length) state.optimizers = p.getAll("opt");
  if (p.has("show")) state.show = p.get("show").split(",").filter(Boolean);
  if (p.has("tab")) state.tab = ["sweep", "train"].includes(p.get("tab")) ? p.get("tab") : "paths";
  readTrainHash(p);
}

function writeHash() {
  const p = new URLSearchParams();
  p.set("surface", state.surface);
  if (state.start) p.set("start", state.start.join(","));
  p.set("steps", String(state.steps));
  if (state.schedule) p.set("schedule", state.schedule);
  for (const spec of specs()) p.append("opt", spec);
  p.set("show", state.show.join(","));
  p.set("tab", state.tab);
  writeTrainHash(p);
  history.replaceState(null, "", "#" + p.toString());
}

// ---------- optimizer specs ----------
function splitTop(text) {
  const out = [];
  let depth = 0, cur = "";
  for (const ch of text) {
    if (ch === "[") depth++;
    if (ch === "]") depth--;
    if (ch === "," && depth === 0) { out.push(cur); cur = ""; } else cur += ch;
  }
  if (cur) out.push(cur);
  return out;
}

function defaultText(key) {
  const v = key.default;
  if (key.type === "list") return "[" + v.join(",") + "]";
  return String(v);
}

function parseSpec(spec) {
  const [name, rest = ""] = spec.split(/:(.*)/s);
  const values = {};
  for (const part of splitTop(rest)) {
    const eq = part.indexOf("=");
    if (eq > 0) values[part.slice(0, eq).trim()] = part.slice(eq + 1).trim();
  }
  return { name: name.trim(), values };
}

function entry(name) {
  return view.optimizerInfo.find((e) => e.name === name);
}

function specOf(opt) {
  const info = entry(opt.name);
  const parts = [];
  for (const key of info ? info.keys : []) {
    const text = opt.values[key.name];
    if (text === undefined) continue;
    const same = key.type === "float" || key.type === "int" ? Number(text) === key.default : text === defaultText(key);
    if (key.name === "lr" || !same) parts.push(`${key.name}=${text}`);
  }
  return parts.length ? `${opt.name}:${parts.join(",")}` : opt.name;
}

const specs = () => state.opts.map(specOf);

// ---------- sidebar: optimizers ----------
function newOpt(spec) {
  const { name, values } = parseSpec(spec);
  const info = entry(name) ?? view.optimizerInfo[0];
  const opt = { name: info.name, values: {} };
  for (const key of info.keys) opt.values[key.name] = values[key.name] ?? defaultText(key);
  return opt;
}

function renderOptimizers() {
  const box = $("optimizers");
  box.innerHTML = "";
  state.opts.forEach((opt, i) => box.appendChild(optimizerCard(opt, i)));
  $("add-optimizer").disabled = state.opts.length >= 16;
}

function optimizerCard(opt, i) {
  const info = entry(opt.name);
  const card = document.createElement("div");
  card.className = "opt";
  card.style.setProperty("--c", COLORS[i % COLORS.length]);
  card.dataset.index = i;
  const head = document.createElement("div");
  head.className = "opt-head";
  const select = document.createElement("select");
  select.className = "opt-name";
  for (const e of view.optimizerInfo) select.add(new Option(e.name, e.name, false, e.name === opt.name));
  select.title = info.summary;
  select.onchange = () => {
    const lr = opt.values.lr;
    state.opts[i] = newOpt(select.value);
    if (lr !== undefined && state.opts[i].values.lr !== undefined) state.opts[i].values.lr = lr;
    renderOptimizers();
    changed();
  };
  const remove = document.createElement("button");
  remove.className = "small remove"; remove.textContent = "✕"; remove.title = "Remove";
  remove.disabled = state.opts.length <= 1;
  remove.onclick = () => { state.opts.splice(i, 1); renderOptimizers(); changed(); };
  head.append(select, remove);
  card.appendChild(head);
  const more = document.createElement("details");
  const summary = document.createElement("summary");
  more.appendChild(summary);
  let hidden = 0;
  for (const key of info.keys) {
    const row = keyControl(opt, key);
    if (PRIMARY.includes(key.name)) card.appendChild(row); else { more.appendChild(row); hidden++; }
  }
  if (hidden) { summary.textContent = `${hidden} more keys`; card.appendChild(more); }
  const spec = document.createElement("div");
  spec.className = "spec mono"; spec.textContent = specOf(opt);
  card.appendChild(spec);
  return card;
}

function inRange(key, x) {
  if (!Number.isFinite(x)) return false;
  if (key.type === "int" && !Number.isInteger(x)) return false;
  const lo = key.min ?? -Infinity, hi = key.max ?? Infinity;
  return (key.min_open ? x > lo : x >= lo) && (key.max_open ? x < hi : x <= hi);
}

function keyControl(opt, key) {
  const row = document.createElement("div");
  row.className = "key";
  row.dataset.key = key.name;
  row.title = `${key.doc}; ${key.range}; default ${defaultText(key)}`;
  const name = document.createElement("span");
  name.className = "name"; name.textContent = key.name;
  row.appendChild(name);
  const set = (text) => {
    opt.values[key.name] = text;
    row.closest(".opt")?.querySelector(".spec")?.replaceChildren(specOf(opt));
    changed();
  };
  if (key.type === "bool") {
    row.classList.add("bool");
    const box = document.createElement("input");
    box.type = "checkbox"; box.checked = opt.values[key.name] === "true";
    box.onchange = () => set(String(box.checked));
    row.appendChild(box);
    return row;
  }
  if (key.one_of) {
    row.classList.add("bool");
    const sel = document.createElement("select");
    for (const w of key.one_of) sel.add(new Option(w, w, false, w === opt.values[key.name]));
    sel.onchange = () => set(sel.value);
    row.appendChild(sel);
    return row;
  }
  const exact = document.createElement("input");
  exact.type = key.type === "list" ? "text" : "number";
  exact.step = "any"; exact.value = opt.values[key.name]; exact.className = "exact";
  let slider = null;
  if (key.name === "lr") {
    slider = document.createElement("input");
    slider.type = "range"; slider.min = -5; slider.max = 1; slider.step = 0.01;
    const sync = () => { const x = Number(exact.value); if (x > 0) slider.value = Math.log10(x); };
    sync();
    slider.oninput = () => { exact.value = String(Number((10 ** Number(slider.value)).toPrecision(3))); check(); };
    exact.addEventListener("input", sync);
  } else if (key.type === "float" && key.min === 0 && key.max === 1) {
    slider = document.createElement("input");
    slider.type = "range"; slider.min = 0; slider.max = key.max_open ? 0.999 : 1; slider.step = 0.001;
    slider.value = exact.value;
    slider.oninput = () => { exact.value = slider.value; check(); };
    exact.addEventListener("input", () => { slider.value = exact.value; });
  }
  const check = () => {
    const ok = key.type === "list" ? /^\[\s*(\d+\s*(,\s*\d+\s*)*)?\]$/.test(exact.value) : inRange(key, Number(exact.value)) && exact.value.trim() !== "";
    row.classList.toggle("invalid", !ok);
    if (ok) set(exact.value.trim());
  };
  exact.addEventListener("input", check);
  row.append(slider ?? document.createElement("span"), exact);
  return row;
}

// ---------- surface ----------
function surfaceOptions() {
  const sel = $("surface-select");
  sel.innerHTML = "";
  for (const s of view.catalogue) sel.add(new Option(`${s.name}  —  ${s.formula}`, s.name));
  sel.add(new Option("formula (type below)", "__formula"));
}

function showFormulaError(text, error) {
  const box = $("formula-error");
  if (!error) { box.hidden = true; box.textContent = ""; hook.formulaError = null; return; }
  const col = error.column;
  box.textContent = col ? `${text}\n${" ".repeat(col - 1)}^\n${error.message}` : error.message;
  box.dataset.column = col ?? "";
  box.hidden = false;
  hook.formulaError = error.message;
}

async function loadSurface() {
  const text = state.surface;
  const builtin = view.catalogue.find((s) => s.name === text.trim());
  $("surface-select").value = builtin ? builtin.name : "__formula";
  if (!builtin && document.activeElement !== $("formula")) $("formula").value = text;
  if (builtin) $("formula").value = "";
  let info;
  try {
    info = await post("/api/surface", { surface: text });
  } catch (error) {
    showFormulaError(text, error);
    return false;
  }
  showFormulaError(text, null);
  info.formula = builtin ? builtin.formula : info.name;
  info.minimum = builtin ? builtin.minimum : null;
  view.surfaceInfo = info;
  $("surface-info").textContent = `x ∈ [${info.domain.x}], y ∈ [${info.domain.y}]` +
    (info.minima.length ? ` · minima ${info.minima.map((m) => `(${m.map(short)})`).join(" ")}` : "") +
    (info.minimum !== null && info.minimum !== undefined ? ` · f* = ${short(info.minimum)}` : "");
  const grid = await post("/api/grid", { surface: text, x: info.domain.x, y: info.domain.y, n: GRID_N });
  view.grid = grid;
  const c = $("contour");
  view.contour = renderContour(grid, c.width, c.height);
  return true;
}

const startPoint = () => state.start ?? view.surfaceInfo.start;

function showStart() {
  const [x, y] = startPoint();
  $("start-x").value = x; $("start-y").value = y;
}

// ---------- runs ----------
let runTimer = null;
function changed() {
  writeHash();
  document.body.dataset.busy = "1";
  clearTimeout(runTimer);
  runTimer = setTimeout(runNow, 180);
}

async function runNow() {
  if (!view.surfaceInfo) return;
  const token = ++view.runToken;
  view.controller?.abort();
  view.controller = new AbortController();
  const body = { surface: state.surface, start: startPoint(), optimizers: specs(), steps: state.steps, overlays: true };
  if (state.schedule.trim()) body.schedule = state.schedule.trim();
  try {
    const doc = await post("/api/run", body, { signal: view.controller.signal });
    if (token !== view.runToken) return;
    view.runs = doc.runs;
    hook.runs = doc.runs.length;
    hook.runError = null;
    $("run-error").hidden = true;
    const last = Math.max(...doc.runs.map((r) => r.points.length - 1), 0);
    view.frame = view.playing ? Math.min(view.frame, last) : last;
  } catch (error) {
    if (error.name === "AbortError" || token !== view.runToken) return;
    view.runs = [];
    hook.runs = 0;
    hook.runError = error.message;
    $("run-error").textContent = error.message;
    $("run-error").hidden = false;
  } finally {
    if (token === view.runToken) delete document.body.dataset.busy;
  }
  $("frame").max = String(state.steps);
  draw();
  hook.ready = true;
  document.body.dataset.ready = "1";
}

// ---------- drawing ----------
function toPx([x, y]) {
  const { domain } = view.surfaceInfo, c = $("contour");
  return [((x - domain.x[0]) / (domain.x[1] - domain.x[0])) * c.width,
    (1 - (y - domain.y[0]) / (domain.y[1] - domain.y[0])) * c.height];
}

function fromPx(px, py) {
  const { domain } = view.surfaceInfo, c = $("contour");
  return [domain.x[0] + (px / c.width) * (domain.x[1] - domain.x[0]),
    domain.y[0] + (1 - py / c.height) * (domain.y[1] - domain.y[0])];
}

const shown = (what) => state.show.includes(what);
const at = (run, k) => run.points[Math.min(k, run.points.length - 1)];
const pointIndex = (run, k) => Math.min(k, run.points.length - 1);

function draw() {
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
    const color = COLORS[i % COLORS.length];
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
    ctx.fillStyle = COLORS[i % COLORS.length]; ctx.fillRect(16, y - 5, 14, 4);
    ctx.fillStyle = "#1d2330"; ctx.textBaseline = "middle";
    const run = view.runs[i];
    ctx.fillText(s + (run?.diverged ? `  (diverged at ${run.diverged.step})` : ""), 36, y - 3);
  });
  ctx.restore();
}

const charts = [];
function drawCharts() {
  const top = Math.max(...view.runs.map((r) => r.points[0]?.[2] ?? -Infinity));
  const defs = [["loss-chart", 2, top], ["x-chart", 0, null], ["y-chart", 1, null]];
  defs.forEach(([id, col, clipTop], n) => {
    const canvas = $(id);
    const series = view.runs.map((r, i) => ({ color: COLORS[i % COLORS.length], values: r.points.map((p) => p[col]) }));
    charts[n] = lineChart(canvas, series, state.steps,
      { frame: view.frame, hover: view.hover, clipTop: Number.isFinite(clipTop) ? clipTop : null });
    canvas.dataset.series = String(series.length);
    canvas.dataset.points = String(series.reduce((a, s) => a + s.values.length, 0));
  });
}

const fmt = (v) => (v === null || v === undefined ? "—" : Number(v.toPrecision(5)).toString());
const pair = (p) => (p ? `${fmt(p[0])}<br>${fmt(p[1])}` : "—");

function drawReadout() {
  const table = $("readout");
  const k = view.hover ?? view.frame;
  const rows = [`<tr><th>step ${k}</th><th>θ</th><th>f</th><th>∇f</th><th>velocity</th><th>look-ahead</th><th>Δθ / −∇f</th></tr>`];
  view.runs.forEach((run, i) => {
    const j = pointIndex(run, k), p = run.points[j], o = run.overlays ?? {};
    const name = specs()[i] ?? run.optimizer;
    rows.push(`<tr><td class="name" style="--c:${COLORS[i % COLORS.length]}">${name.split(":")[0]}</td>` +
      `<td>${pair(p)}</td><td>${fmt(p[2])}</td><td>${pair(o.gradient?.[j])}</td><td>${pair(o.velocity?.[j])}</td>` +
      `<td>${pair(o.lookahead?.[j])}</td><td>${pair(o.effective_lr?.[j])}</td></tr>`);
  });
  table.innerHTML = rows.join("");
}

// ---------- playback ----------
const rate = () => Math.round(10 ** Number($("speed").value));
function tick(time) {
  if (view.playing) {
    const dt = view.lastTime === null ? 0 : (time - view.lastTime) / 1000;
    view.acc += dt * rate();
    const n = Math.floor(view.acc);
    if (n > 0) {
      view.acc -= n;
      const last = Math.max(0, ...view.runs.map((r) => r.points.length - 1));
      view.frame = Math.min(last, view.frame + n);
      if (view.frame >= last) view.playing = false;
      draw();
    }
  }
  view.lastTime = time;
  requestAnimationFrame(tick);
}

function play() {
  const last = Math.max(0, ...view.runs.map((r) => r.points.length - 1));
  if (!view.playing && view.frame >= last) view.frame = 0;
  view.playing = !view.playing;
  view.acc = 0;
  draw();
}

// ---------- exports ----------
function download(name, href) {
  const a = document.createElement("a");
  a.href = href; a.download = name;
  document.body.appendChild(a); a.click(); a.remove();
}

async function exportCsv() {
  const body = { surface: state.surface, start: startPoint(), optimizers: specs(), steps: state.steps, format: "csv" };
  if (state.schedule.trim()) body.schedule = state.schedule.trim();
  try {
    const text = await post("/api/run", body, { text: true });
    download("downhill-run.csv", URL.createObjectURL(new Blob([text], { type: "text/csv" })));
  } catch (error) {
    $("run-error").textContent = error.message; $("run-error").hidden = false;
  }
}

// ---------- sweep ----------
async function runSweep() {
  const lo = Number($("sweep-lo").value), hi = Number($("sweep-hi").value);
  const n = Math.round(Number($("sweep-n").value)), steps = Math.round(Number($("sweep-steps").value));
  const box = $("sweep-error");
  if (!(lo > 0 && hi > lo && n >= 2 && n <= 64)) {
    box.textContent = "the learning rates need 0 < from < to and 2 to 64 values"; box.hidden = false; return;
  }
  const lrs = Array.from({ length: n }, (_, k) => Number((lo * (hi / lo) ** (k / (n - 1))).toPrecision(4)));
  const body = { surface: state.surface, start: startPoint(), optimizers: specs(), lrs, steps };
  if (state.schedule.trim()) body.schedule = state.schedule.trim();
  $("sweep-run").disabled = true;
  try {
    view.sweep = await post("/api/sweep", body);
    box.hidden = true;
    drawSweep();
  } catch (error) {
    box.textContent = error.message; box.hidden = false;
  } finally {
    $("sweep-run").disabled = false;
  }
}

let heatCell = () => null;
function drawSweep() {
  if (!view.sweep) return;
  heatCell = heatmap($("heatmap"), view.sweep, COLORS);
  $("heatmap").dataset.cells = String(view.sweep.lrs.length * view.sweep.optimizers.length);
}

// ---------- wiring ----------
function setTab(tab) {
  state.tab = tab;
  for (const b of document.querySelectorAll(".tab")) b.classList.toggle("active", b.dataset.tab === tab);
  $("paths-view").hidden = tab !== "paths";
  $("sweep-view").hidden = tab !== "sweep";
  $("train-view").hidden = tab !== "train";
  $("sidebar").hidden = tab === "train";
  writeHash();
}

function canvasXY(canvas, event) {
  const r = canvas.getBoundingClientRect();
  return [(event.clientX - r.left) * (canvas.width / r.width), (event.clientY - r.top) * (canvas.height / r.height)];
}

function wire() {
  for (const b of document.querySelectorAll(".tab")) b.onclick = () => setTab(b.dataset.tab);
  $("surface-select").onchange = async () => {
    const v = $("surface-select").value;
    if (v === "__formula") { $("formula").focus(); return; }
    state.surface = v; state.start = null;
    if (await loadSurface()) { showStart(); changed(); }
  };
  let formulaTimer = null;
  $("formula").addEventListener("input", () => {
    clearTimeout(formulaTimer);
    formulaTimer = setTimeout(async () => {
      const text = $("formula").value;
      if (!text.trim()) return;
      state.surface = text;
      if (await loadSurface()) { showStart(); changed(); } else writeHash();
    }, 300);
  });
  for (const id of ["start-x", "start-y"]) {
    $(id).addEventListener("change", () => {
      const s = [Number($("start-x").value), Number($("start-y").value)];
      if (s.every(Number.isFinite)) { state.start = s; draw(); changed(); }
    });
  }
  $("steps").value = state.steps;
  $("steps").addEventListener("change", () => {
    const n = Math.round(Number($("steps").value));
    if (n >= 1 && n <= 20000) { state.steps = n; changed(); } else $("steps").value = state.steps;
  });
  $("schedule").value = state.schedule;
  $("schedule").addEventListener("input", () => { state.schedule = $("schedule").value; changed(); });
  $("add-optimizer").onclick = () => {
    if (state.opts.length >= 16) return;
    state.opts.push(newOpt(["gd:lr=0.01", "rmsprop:lr=0.01", "adagrad:lr=0.5", "adam:lr=0.05"][state.opts.length % 4]));
    renderOptimizers(); changed();
  };
  const contour = $("contour");
  contour.addEventListener("click", (e) => {
    if (!view.surfaceInfo) return;
    state.start = fromPx(...canvasXY(contour, e)).map((v) => Number(v.toPrecision(4)));
    showStart(); view.frame = 0; draw(); changed();
  });
  let probing = false;
  contour.addEventListener("mousemove", async (e) => {
    if (!view.surfaceInfo || probing) return;
    const [px, py] = canvasXY(contour, e);
    const p = fromPx(px, py);
    probing = true;
    try {
      const doc = await post("/api/gradient", { surface: state.surface, points: [p] });
      const tip = $("contour-tip");
      tip.textContent = `x ${short(p[0])}  y ${short(p[1])}\nf ${short(doc.values[0])}\n∇f ${doc.gradients[0].map(short).join(", ")}`;
      tip.style.left = `${px + 14}px`; tip.style.top = `${py + 10}px`; tip.hidden = false;
    } catch (_) { /* the surface changed meanwhile */ } finally { probing = false; }
  });
  contour.addEventListener("mouseleave", () => { $("contour-tip").hidden = true; });
  ["loss-chart", "x-chart", "y-chart"].forEach((id, n) => {
    const canvas = $(id);
    canvas.addEventListener("mousemove", (e) => {
      if (!view.runs.length || !charts[n]) return;
      const [px] = canvasXY(canvas, e);
      view.hover = charts[n](px);
      draw();
      const tip = $("chart-tip");
      const col = [2, 0, 1][n], label = ["f", "x", "y"][n];
      tip.textContent = `step ${view.hover}\n` + view.runs.map((r, i) =>
        `${specs()[i].split(":")[0].padEnd(9)} ${label} = ${fmt(at(r, view.hover)[col])}`).join("\n");
      const box = canvas.getBoundingClientRect(), host = $("chart-tip").parentElement.getBoundingClientRect();
      tip.style.left = `${e.clientX - host.left + 14}px`; tip.style.top = `${box.top - host.top + 10}px`; tip.hidden = false;
      hook.hover = view.hover;
    });
    canvas.addEventListener("mouseleave", () => { view.hover = null; $("chart-tip").hidden = true; draw(); });
  });
  $("play").onclick = play;
  $("step").onclick = () => {
    view.playing = false;
    const last = Math.max(0, ...view.runs.map((r) => r.points.length - 1));
    view.frame = Math.min(last, view.frame + 1); draw();
  };
  $("reset").onclick = () => { view.playing = false; view.frame = 0; draw(); };
  $("frame").addEventListener("input", () => { view.playing = false; view.frame = Number($("frame").value); draw(); });
  const speedLabel = () => { $("speed-label").textContent = `${rate()} steps/s`; };
  $("speed").addEventListener("input", speedLabel); speedLabel();
  for (const what of ["trails", "gradient", "velocity", "lookahead", "effective"]) {
    const box = $(`ov-${what}`);
    box.checked = shown(what);
    box.onchange = () => {
      state.show = state.show.filter((s) => s !== what);
      if (box.checked) state.show.push(what);
      writeHash(); draw();
    };
  }
  document.addEventListener("keydown", (e) => {
    if (e.code === "Space" && !["INPUT", "SELECT", "TEXTAREA"].includes(document.activeElement.tagName)) { e.preventDefault(); play(); }
  });
  $("export-png").onclick = () => download("downhill-view.png", $("contour").toDataURL("image/png"));
  $("export-csv").onclick = exportCsv;
  $("share").onclick = async () => {
    writeHash();
    try { await navigator.clipboard.writeText(location.href); $("share").textContent = "Copied"; } catch (_) { prompt("Link to this view:", location.href); }
    setTimeout(() => { $("share").textContent = "Copy link"; }, 1500);
  };
  $("sweep-run").onclick = runSweep;
  const heat = $("heatmap");
  heat.addEventListener("mousemove", (e) => {
    const cell = heatCell(...canvasXY(heat, e));
    const tip = $("heat-tip");
    if (!cell || !view.sweep) { tip.hidden = true; return; }
    const [r, c] = cell, s = view.sweep, loss = s.final_loss[r][c];
    tip.textContent = `${withoutLr(s.optimizers[r])}\nlr ${s.lrs[c]}\n` + (loss === null ? `diverged at step ${s.diverged_at[r][c]}` : `final loss ${loss}`);
    const [px, py] = canvasXY(heat, e);
    tip.style.left = `${px + 14}px`; tip.style.top = `${py + 10}px`; tip.hidden = false;
  });
  heat.addEventListener("mouseleave", () => { $("heat-tip").hidden = true; });
}

async function main() {
  readHash();
  [view.catalogue, view.optimizerInfo] = await Promise.all([get("/api/surfaces"), get("/api/optimizers")]);
  surfaceOptions();
  state.opts = state.optimizers.slice(0, 16).map(newOpt);
  renderOptimizers();
  wire();
  hook.train = initTraining(COLORS, writeHash);
  setTab(state.tab);
  if (!(await loadSurface())) {
    state.surface = defaults.surface;
    await loadSurface();
  }
  showStart();
  writeHash();
  await runNow();
  requestAnimationFrame(tick);
}

// A pasted link: take its whole state.
window.addEventListener("hashchange", () => {
  readHash();
  $("steps").value = state.steps;
  $("schedule").value = state.schedule;
  setTab(state.tab);
  state.opts = state.optimizers.slice(0, 16).map(newOpt);
  renderOptimizers();
  loadSurface().then((ok) => { if (ok) { showStart(); runNow(); } });
});

main().catch((error) => {
  $("run-error").textContent = `the page could not start: ${error.message}`;
  $("run-error").hidden = false;
});
