// The phase diagram in the sweep tab: one optimizer of the Paths tab over a
// log grid of learning rates × the values of one numeric key (POST /api/sweep
// with `param`), each cell coloured by the final loss or the steps to a
// tolerance. Hover or tap shows a cell's numbers; a click opens its run in the
// Paths tab (the card's spec replaced by the cell's, at the diagram's steps).
import { post } from "./api.js";
import { canvasXY, colormap, cross, rgb, short } from "./plot.js";
import { specs } from "./optimizers.js";

const $ = (id) => document.getElementById(id);
const M = { l: 70, r: 130, t: 14, b: 46 };

let state = null, view = null, startPoint = () => null;
/** The last answer, with what was asked: { sweep, optimizer (card index), metric, steps }. */
let result = null;
let layout = null;

const FORM = `
  <h3>Phase diagram</h3>
  <div class="sweep-form">
    <label>optimizer <select id="phase-opt"></select></label>
    <label>key <select id="phase-key"></select></label>
    <label>values <input id="phase-values" type="text" spellcheck="false"></label>
    <label>lr from <input id="phase-lo" type="number" step="any" value="0.001"></label>
    <label>to <input id="phase-hi" type="number" step="any" value="1"></label>
    <label>lrs <input id="phase-n" type="number" min="2" max="64" value="10"></label>
    <label>steps <input id="phase-steps" type="number" min="1" max="20000" value="200"></label>
    <label>colour <select id="phase-metric"><option value="final-loss">final loss</option>
      <option value="steps-to">steps to tolerance</option></select></label>
    <label>tolerance <input id="phase-tol" type="number" step="any" value="0.001"></label>
    <button id="phase-run">Phase diagram</button>
  </div>
  <p class="muted">One optimizer, its lr × one key; a cell's colour is its final loss or its steps to within the tolerance of a minimum (✕ diverged). Click a cell to open that run.</p>
  <div id="phase-error" class="error" role="alert" hidden></div>
  <div class="canvas-wrap"><canvas id="phase" width="900" height="320"></canvas><div id="phase-tip" class="tip" hidden></div></div>`;

/** The numeric keys (besides lr) of the optimizer named in `spec`. */
function numericKeys(spec) {
  const info = view.optimizerInfo.find((e) => e.name === spec.split(":")[0]);
  return (info?.keys ?? []).filter((k) => (k.type === "float" || k.type === "int") && k.name !== "lr");
}

/** Suggested values for a key: fractions below 1 for a key in [0, 1], else a decade either side of its default. */
function suggest(key) {
  if (key.min === 0 && key.max === 1) return "0,0.5,0.8,0.9,0.95,0.99";
  const d = key.default;
  return d > 0 ? [d / 10, d, d * 10].map((v) => Number(v.toPrecision(3))).join(",") : "0,0.1,1";
}

function fillOptimizers() {
  const sel = $("phase-opt"), keep = sel.value;
  sel.innerHTML = "";
  specs().forEach((s, i) => { if (numericKeys(s).length) sel.add(new Option(`${i + 1}: ${s}`, String(i))); });
  if ([...sel.options].some((o) => o.value === keep)) sel.value = keep;
  fillKeys();
}

/** Lists the chosen card's numeric keys, keeping the chosen key if `keep` and the card has it. */
function fillKeys(keep = true) {
  const sel = $("phase-key"), spec = specs()[Number($("phase-opt").value)] ?? "", was = sel.value;
  const keys = numericKeys(spec);
  sel.innerHTML = "";
  for (const k of keys) sel.add(new Option(k.name, k.name));
  const names = keys.map((k) => k.name);
  sel.value = keep && names.includes(was) ? was : ["momentum", "beta1", "alpha", "rho"].find((n) => names.includes(n)) ?? names[0] ?? "";
  if (sel.value !== was) suggestValues();
}

function suggestValues() {
  const key = numericKeys(specs()[Number($("phase-opt").value)] ?? "").find((k) => k.name === $("phase-key").value);
  if (key) $("phase-values").value = suggest(key);
}

function fail(message) {
  $("phase-error").textContent = message; $("phase-error").hidden = false;
}

/** Asks the server for the grid of the chosen card, key and values. */
async function runPhase() {
  fillOptimizers();
  const index = Number($("phase-opt").value), spec = specs()[index];
  const lo = Number($("phase-lo").value), hi = Number($("phase-hi").value);
  const n = Math.round(Number($("phase-n").value)), steps = Math.round(Number($("phase-steps").value));
  const values = $("phase-values").value.split(",").map((v) => v.trim()).filter(Boolean);
  const metric = $("phase-metric").value, tol = Number($("phase-tol").value);
  if (spec === undefined) return fail("no optimizer of the Paths tab has a numeric key to sweep");
  if (!(lo > 0 && hi > lo && n >= 2 && n <= 64)) return fail("the learning rates need 0 < from < to and 2 to 64 values");
  if (!values.length || values.some((v) => !Number.isFinite(Number(v)))) return fail("the values must be numbers separated by commas, e.g. 0,0.5,0.9");
  if (metric === "steps-to" && !(tol > 0)) return fail("the tolerance must be a positive number");
  const lrs = Array.from({ length: n }, (_, k) => Number((lo * (hi / lo) ** (k / (n - 1))).toPrecision(4)));
  const body = { surface: state.surface, start: startPoint(), optimizers: [spec], lrs, steps, param: { key: $("phase-key").value, values } };
  if (metric === "steps-to") body.criterion = `steps-to=${tol}`;
  if (state.schedule.trim()) body.schedule = state.schedule.trim();
  $("phase-run").disabled = true;
  try {
    const sweep = await post("/api/sweep", body);
    result = { sweep, optimizer: index, metric, steps, start: body.start };
    $("phase-error").hidden = true;
    draw();
  } catch (error) {
    fail(error.message);
  } finally {
    $("phase-run").disabled = false;
  }
}

/** The number a cell is coloured by (null: diverged or never within the tolerance). */
function metricAt(r, c) {
  const s = result.sweep;
  if (s.diverged_at[r][c] !== null) return null;
  return result.metric === "steps-to" ? s.steps_to_tolerance[r][c] : s.final_loss[r][c];
}

function draw() {
  const canvas = $("phase"), ctx = canvas.getContext("2d"), s = result.sweep;
  const rows = s.values.length, cols = s.lrs.length;
  canvas.height = Math.max(200, M.t + M.b + rows * 36);
  const W = canvas.width, H = canvas.height;
  const cw = (W - M.l - M.r) / cols, ch = (H - M.t - M.b) / rows;
  // row 0 (the first value) at the bottom
  const top = (r) => H - M.b - (r + 1) * ch;
  layout = { cw, ch, rows, cols, top };
  const finite = [];
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) { const v = metricAt(r, c); if (v !== null) finite.push(v); }
  const lo = Math.min(...finite), hi = Math.max(...finite);
  const log = result.metric === "final-loss" && lo > 0 && hi / lo > 100;
  const f = (v) => (log ? Math.log10(v) : v);
  const t = (v) => (hi > lo ? (f(v) - f(lo)) / (f(hi) - f(lo)) : 0.5);
  ctx.clearRect(0, 0, W, H);
  ctx.font = "11px system-ui, sans-serif"; ctx.textAlign = "center"; ctx.textBaseline = "middle";
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) {
      const v = metricAt(r, c), x = M.l + c * cw, y = top(r);
      ctx.fillStyle = v === null ? "#e1e3e8" : rgb(colormap(1 - t(v)));
      ctx.fillRect(x, y, cw - 1, ch - 1);
      if (s.diverged_at[r][c] !== null) cross(ctx, x + cw / 2, y + ch / 2, Math.min(cw, ch) * 0.25, "#c0392b");
      else if (cw >= 46) {
        ctx.fillStyle = v === null || t(v) < 0.5 ? "#1d2330" : "#ffffff"; // dark ink on the bright (low) end
        ctx.fillText(v === null ? "never" : short(v), x + cw / 2, y + ch / 2);
      }
    }
  }
  ctx.fillStyle = "#1d2330"; ctx.textAlign = "right";
  for (let r = 0; r < rows; r++) ctx.fillText(String(s.values[r]), M.l - 8, top(r) + ch / 2);
  ctx.textAlign = "left"; ctx.textBaseline = "top"; ctx.fillText(s.key, 6, 2);
  ctx.fillStyle = "#6b7385"; ctx.textAlign = "center";
  const every = Math.max(1, Math.ceil(cols / 10));
  for (let c = 0; c < cols; c += every) ctx.fillText(short(s.lrs[c]), M.l + (c + 0.5) * cw, H - M.b + 6);
  ctx.fillText("learning rate (log scale)", M.l + (W - M.l - M.r) / 2, H - M.b + 24);
  // colour bar (low = bright) and the grey cells' key
  const bx = W - M.r + 20, bh = H - M.t - M.b - 40;
  if (finite.length) {
    for (let k = 0; k < bh; k++) { ctx.fillStyle = rgb(colormap(1 - k / bh)); ctx.fillRect(bx, M.t + k, 14, 1); }
    ctx.textAlign = "left"; ctx.textBaseline = "middle"; ctx.fillStyle = "#1d2330";
    ctx.fillText(short(lo), bx + 18, M.t + 6); ctx.fillText(short(hi), bx + 18, M.t + bh - 6);
    ctx.fillText(result.metric === "steps-to" ? "steps" : log ? "loss (log)" : "loss", bx + 18, M.t + bh / 2);
  }
  ctx.fillStyle = "#e1e3e8"; ctx.fillRect(bx, H - M.b - 20, 14, 14);
  cross(ctx, bx + 7, H - M.b - 13, 4, "#c0392b");
  ctx.fillStyle = "#1d2330"; ctx.textAlign = "left"; ctx.fillText("diverged", bx + 18, H - M.b - 13);
  canvas.dataset.cells = String(rows * cols);
  canvas.dataset.metric = result.metric;
}

/** The cell [row, column] under canvas pixels (or null). */
function cellAt(px, py) {
  if (!layout) return null;
  const c = Math.floor((px - M.l) / layout.cw);
  const r = layout.rows - 1 - Math.floor((py - M.t) / layout.ch);
  return r >= 0 && r < layout.rows && c >= 0 && c < layout.cols ? [r, c] : null;
}

function showTip(e, [r, c]) {
  const s = result.sweep, tip = $("phase-tip"), [px, py] = canvasXY($("phase"), e);
  const loss = s.final_loss[r][c], steps = s.steps_to_tolerance?.[r][c];
  tip.textContent = `${s.key} = ${s.values[r]}, lr = ${s.lrs[c]}\n` +
    (s.diverged_at[r][c] !== null ? `diverged at step ${s.diverged_at[r][c]}` : `final loss ${short(loss)}`) +
    (s.criterion ? `\n${steps === null ? `never within ${s.criterion.slice(9)}` : `${steps} steps to ${s.criterion.slice(9)}`}` : "") +
    "\nclick: open this run";
  tip.style.left = `${px + 14}px`; tip.style.top = `${py + 10}px`; tip.hidden = false;
  tip.dataset.cell = `${r},${c}`;
}

/** Opens a cell's run in the Paths tab: the card's spec replaced by the cell's, at the diagram's start and steps. */
function open([r, c]) {
  const p = new URLSearchParams(location.hash.slice(1));
  p.set("surface", state.surface);
  p.set("start", result.start.join(","));
  p.set("steps", String(result.steps));
  p.delete("opt");
  specs().forEach((s, i) => p.append("opt", i === result.optimizer ? result.sweep.specs[r][c] : s));
  p.set("tab", "paths");
  location.hash = p.toString();
}

/** Connects the panel to the page (`state`, `view` with the optimizer
 * catalogue, the start point) and builds it inside `#phase-panel`. */
export function initPhase(page) {
  ({ state, view, startPoint } = page);
  $("phase-panel").innerHTML = FORM;
  $("phase-values").style.width = "170px";
  const canvas = $("phase");
  $("phase-run").onclick = runPhase;
  $("phase-opt").onchange = () => fillKeys(false);
  $("phase-key").onchange = suggestValues;
  // the cards may have changed since the list was filled
  $("phase-opt").onfocus = fillOptimizers;
  $("tab-sweep").addEventListener("click", fillOptimizers);
  const hover = (e) => {
    const cell = result && cellAt(...canvasXY(canvas, e));
    if (cell) showTip(e, cell); else $("phase-tip").hidden = true;
  };
  canvas.addEventListener("pointermove", (e) => { if (e.pointerType === "mouse") hover(e); });
  canvas.addEventListener("pointerleave", () => { $("phase-tip").hidden = true; });
  // a mouse click opens the run; by touch the first tap shows the numbers, a second tap opens it
  canvas.addEventListener("click", (e) => {
    const cell = result && cellAt(...canvasXY(canvas, e));
    if (!cell) return;
    const shown = !$("phase-tip").hidden && $("phase-tip").dataset.cell === cell.join(",");
    if (e.pointerType && e.pointerType !== "mouse" && !shown) { showTip(e, cell); return; }
    open(cell);
  });
  fillOptimizers();
  window.__downhill.phase = {
    /** The client coordinates of the centre of cell [row, column]. */
    center(r, c) {
      const box = canvas.getBoundingClientRect(), k = box.width / canvas.width;
      return [box.left + (M.l + (c + 0.5) * layout.cw) * k, box.top + (layout.top(r) + layout.ch / 2) * k];
    },
    result: () => result,
  };
}
