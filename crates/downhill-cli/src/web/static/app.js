// The playground page: state (mirrored in the URL hash), the surface, runs,
// playback and the wiring of the controls. The optimizer cards are in
// optimizers.js, the paths view in paths.js, the 3-D view in view3d.js, the
// sweep tab in sweep.js (its phase diagram in phase.js), the Explain panel in
// explain.js, the Tune button in tune.js and the training tab in train.js.
import { get, post } from "./api.js";
import { canvasXY, short } from "./plot.js";
import { initOptimizers, newOpt, renderOptimizers, specs } from "./optimizers.js";
import { at, charts, draw, fmt, fromPx, initPaths, shown } from "./paths.js";
import { initPhase } from "./phase.js";
import { initExplain } from "./explain.js";
import { initEmit } from "./emit.js";
import { initPresets } from "./presets.js";
import { initSweep } from "./sweep.js";
import { initTune } from "./tune.js";
import { initTraining, readTrainHash, writeTrainHash } from "./train.js";
import { initView3d } from "./view3d.js";

const COLORS = ["#ff4747", "#ffa21a", "#2ad4f5", "#f06bc4", "#9be23a", "#f7d038", "#a98bff", "#ff8a8a",
  "#36d6a0", "#5aa8ff", "#ffc285", "#e58bff", "#62e08a", "#d9d9d9", "#4fc3f7", "#c7a0ff"];
const GRID_N = 220;
const $ = (id) => document.getElementById(id);

const defaults = {
  surface: "quartic", start: null, steps: 200, schedule: "",
  optimizers: ["momentum:lr=0.01,momentum=0.95", "nag:lr=0.01,momentum=0.95", "adam:lr=0.1"],
  show: ["trails", "gradient", "velocity", "lookahead", "effective"], tab: "paths",
};
const state = { ...defaults, opts: [] };
const view = {
  catalogue: null, optimizerInfo: null, limits: null, surfaceInfo: null, contour: null, grid: null,
  runs: [], frame: 0, hover: null, playing: false, acc: 0, lastTime: null,
  runToken: 0, controller: null, sweep: null,
};
const hook = (window.__downhill = { ready: false, runs: 0, formulaError: null, runError: null, startError: null, state, view });

// ---------- URL hash ----------
function readHash() {
  const p = new URLSearchParams(location.hash.slice(1));
  if (p.has("surface")) state.surface = p.get("surface");
  if (p.has("start")) {
    const s = p.get("start").split(",").map(Number);
    state.start = s.length === 2 && s.every(Number.isFinite) ? s : null;
  }
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

let lastFailure = null;

/** Loads the surface the URL asked for (now in `state.surface`); if it does
 * not parse, `previous` (or the default) is loaded and the error stays shown. */
async function loadAsked(previous) {
  const asked = state.surface;
  state.surface = previous;
  if (await loadSurface(asked)) return;
  const failed = lastFailure;
  if (!(await loadSurface(previous))) await loadSurface(defaults.surface);
  showFormulaError(failed.text, failed.error);
  $("formula").value = failed.text;
}

/** Loads the surface `text` (a name or formula); on success it becomes
 * `state.surface`, on failure the error shows and the state keeps the last good one. */
async function loadSurface(text = state.surface) {
  const builtin = view.catalogue.find((s) => s.name === text.trim());
  $("surface-select").value = builtin ? builtin.name : "__formula";
  if (!builtin && document.activeElement !== $("formula")) $("formula").value = text;
  if (builtin) $("formula").value = "";
  let info;
  try {
    info = await post("/api/surface", { surface: text });
  } catch (error) {
    showFormulaError(text, error);
    lastFailure = { text, error };
    return false;
  }
  showFormulaError(text, null);
  state.surface = text;
  info.formula = builtin ? builtin.formula : info.name;
  info.minimum = builtin ? builtin.minimum : null;
  view.surfaceInfo = info;
  $("surface-info").textContent = `x ∈ [${info.domain.x}], y ∈ [${info.domain.y}]` +
    (info.minima.length ? ` · minima ${info.minima.map((m) => `(${m.map(short)})`).join(" ")}` : "") +
    (info.minimum !== null && info.minimum !== undefined ? ` · f* = ${short(info.minimum)}` : "");
  const grid = await post("/api/grid", { surface: text, x: info.domain.x, y: info.domain.y, n: GRID_N });
  view.grid = grid;
  return true;
}

const startPoint = () => state.start ?? view.surfaceInfo.start;

/** The inline message for a start where f is not a finite number (`null` hides it). */
function showStartError(start) {
  const box = $("start-error");
  if (!start) { box.hidden = true; hook.startError = null; return; }
  const values = view.grid?.values ?? [];
  const share = values.length ? values.filter((v) => v === null).length / values.length : 0;
  box.textContent = `f is undefined at the start (${start.map(short).join(", ")}): ` +
    (share > 0 ? `it is undefined on the grey ${Math.max(1, Math.round(100 * share))}% of the view. ` : "") +
    "Click the contour where it is coloured, or edit Start x / y.";
  box.hidden = false;
  hook.startError = box.textContent;
}

function showStart() {
  const [x, y] = startPoint();
  $("start-x").value = x; $("start-y").value = y;
}

/** Shows `text` in the notice box `id`, or hides it for `null`. */
function showNotice(id, text) {
  $(id).hidden = !text;
  $(id).textContent = text ?? "";
}

/** Takes a steps value from the URL or the input; outside 1 ..= the server's
 * limit it is refused with a visible message and the steps stay as they were. */
function setSteps(raw) {
  const n = Number(raw), max = view.limits.max_steps;
  const ok = Number.isInteger(n) && n >= 1 && n <= max;
  if (ok) state.steps = n;
  showNotice("steps-error", ok ? null : `steps must be a whole number from 1 to ${max}, got ${raw}; kept ${state.steps}`);
  $("steps").value = state.steps;
  return ok;
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
  const overlays = specs().length * (state.steps + 1) <= view.limits.max_overlay_points;
  showNotice("overlay-note", overlays ? null :
    `Overlays are off: ${specs().length} optimizers × ${state.steps + 1} points exceed the ${view.limits.max_overlay_points} the server draws them for; fewer steps or optimizers bring them back.`);
  // the link names what runs (a preset may fill the optimizer cards after its first change)
  writeHash();
  const body = { surface: state.surface, start: startPoint(), optimizers: specs(), steps: state.steps, overlays };
  if (state.schedule.trim()) body.schedule = state.schedule.trim();
  try {
    const doc = await post("/api/run", body, { signal: view.controller.signal });
    if (token !== view.runToken) return;
    view.runs = doc.runs;
    view.runsSurface = body.surface;
    hook.runs = doc.runs.length;
    hook.runError = null;
    $("run-error").hidden = true;
    showStartError(doc.runs.every((r) => !r.points.length) ? body.start : null);
    const last = Math.max(...doc.runs.map((r) => r.points.length - 1), 0);
    view.frame = view.playing ? Math.min(view.frame, last) : last;
  } catch (error) {
    if (error.name === "AbortError" || token !== view.runToken) return;
    showStartError(null);
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

// the run the exports describe
function exportBody() {
  const body = { surface: state.surface, start: startPoint(), optimizers: specs(), steps: state.steps };
  if (state.schedule.trim()) body.schedule = state.schedule.trim();
  return body;
}

function exportError(message) {
  $("run-error").textContent = message; $("run-error").hidden = false;
}

async function exportCsv() {
  try {
    const text = await post("/api/run", { ...exportBody(), format: "csv" }, { text: true });
    download("downhill-run.csv", URL.createObjectURL(new Blob([text], { type: "text/csv" })));
  } catch (error) {
    exportError(error.message);
  }
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
      if (await loadSurface(text)) { showStart(); changed(); }
    }, 300);
  });
  for (const id of ["start-x", "start-y"]) {
    $(id).addEventListener("change", () => {
      const s = [Number($("start-x").value), Number($("start-y").value)];
      if (s.every(Number.isFinite)) { state.start = s; draw(); changed(); }
    });
  }
  $("steps").max = String(view.limits.max_steps);
  $("steps").addEventListener("change", () => { if (setSteps($("steps").value)) changed(); });
  $("schedule").value = state.schedule;
  $("schedule").addEventListener("input", () => { state.schedule = $("schedule").value; changed(); });
  $("add-optimizer").onclick = () => {
    if (state.opts.length >= 16) return;
    state.opts.push(newOpt(["gd:lr=0.01", "rmsprop:lr=0.01", "adagrad:lr=0.5", "adam:lr=0.05"][state.opts.length % 4]));
    renderOptimizers(); changed();
  };
  const contour = $("contour");
  contour.addEventListener("click", (e) => {
    const p = view.surfaceInfo && fromPx(...canvasXY(contour, e));
    if (!p) return;
    state.start = p.map((v) => Number(v.toPrecision(4)));
    showStart(); view.frame = 0; draw(); changed();
  });
  // f and ∇f under the pointer: on hover with a mouse, on a tap (which also sets the start) by touch
  let probing = false;
  const probe = async (e) => {
    if (!view.surfaceInfo || probing) return;
    const p = fromPx(...canvasXY(contour, e));
    if (!p) { $("contour-tip").hidden = true; return; }
    probing = true;
    try {
      const doc = await post("/api/gradient", { surface: state.surface, points: [p] });
      const tip = $("contour-tip"), box = contour.getBoundingClientRect();
      tip.textContent = `x ${short(p[0])}  y ${short(p[1])}\nf ${short(doc.values[0])}\n∇f ${doc.gradients[0].map(short).join(", ")}`;
      tip.style.left = `${Math.min(e.clientX - box.left + 14, box.width - 150)}px`; tip.style.top = `${e.clientY - box.top + 10}px`;
      tip.hidden = false;
    } catch (_) { /* the surface changed meanwhile */ } finally { probing = false; }
  };
  contour.addEventListener("pointermove", (e) => { if (e.pointerType === "mouse") probe(e); });
  contour.addEventListener("pointerdown", (e) => { if (e.pointerType !== "mouse") probe(e); });
  contour.addEventListener("pointerleave", (e) => { if (e.pointerType === "mouse") $("contour-tip").hidden = true; });
  ["loss-chart", "x-chart", "y-chart"].forEach((id, n) => {
    const canvas = $(id);
    // hover with a mouse; tap or drag sideways by touch
    const show = (e) => {
      if (!view.runs.length || !charts[n]) return;
      const [px] = canvasXY(canvas, e);
      view.hover = charts[n](px);
      draw();
      const tip = $("chart-tip");
      const col = [2, 0, 1][n], label = ["f", "x", "y"][n];
      tip.textContent = `step ${view.hover}\n` + view.runs.map((r, i) =>
        `${specs()[i].split(":")[0].padEnd(9)} ${label} = ${fmt(at(r, view.hover)?.[col])}`).join("\n");
      const box = canvas.getBoundingClientRect(), host = $("chart-tip").parentElement.getBoundingClientRect();
      tip.style.left = `${Math.min(e.clientX - host.left + 14, host.width - 170)}px`; tip.style.top = `${box.top - host.top + 10}px`;
      tip.hidden = false;
      hook.hover = view.hover;
    };
    canvas.addEventListener("pointermove", show);
    canvas.addEventListener("pointerdown", show);
    canvas.addEventListener("pointerleave", (e) => {
      if (e.pointerType !== "mouse") return;
      view.hover = null; $("chart-tip").hidden = true; draw();
    });
  });
  // by touch a chart's tip stays until a tap elsewhere
  document.addEventListener("pointerdown", (e) => {
    if (e.pointerType === "mouse" || view.hover === null || e.target.closest(".chart")) return;
    view.hover = null; $("chart-tip").hidden = true; draw();
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
  for (const what of ["trails", "gradient", "velocity", "lookahead", "effective", "stretch"]) {
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
  initEmit(exportBody, download, exportError);
  $("share").onclick = async () => {
    writeHash();
    try { await navigator.clipboard.writeText(location.href); $("share").textContent = "Copied"; } catch (_) { prompt("Link to this view:", location.href); }
    setTimeout(() => { $("share").textContent = "Copy link"; }, 1500);
  };
}

/** The steps asked for by the URL, checked against the limit once it is known. */
function hashSteps() {
  const raw = new URLSearchParams(location.hash.slice(1)).get("steps");
  if (raw !== null) setSteps(raw);
  else $("steps").value = state.steps;
}

async function main() {
  const surface = defaults.surface;
  readHash();
  [view.catalogue, view.optimizerInfo, view.limits] =
    await Promise.all([get("/api/surfaces"), get("/api/optimizers"), get("/api/limits")]);
  hashSteps();
  const page = { state, view, colors: COLORS, startPoint, changed, writeHash };
  initOptimizers(page);
  initPaths(page);
  initSweep(page);
  initExplain($("explain"), page);
  initTune(page);
  surfaceOptions();
  initPresets($("presets"), $("preset-caption"));
  state.opts = state.optimizers.slice(0, 16).map(newOpt);
  renderOptimizers();
  initPhase(page);
  wire();
  initView3d(page);
  hook.train = initTraining(COLORS, writeHash);
  setTab(state.tab);
  await loadAsked(surface);
  showStart();
  writeHash();
  await runNow();
  requestAnimationFrame(tick);
}

// A pasted link: take its whole state.
window.addEventListener("hashchange", () => {
  const surface = state.surface;
  readHash();
  hashSteps();
  $("schedule").value = state.schedule;
  setTab(state.tab);
  state.opts = state.optimizers.slice(0, 16).map(newOpt);
  renderOptimizers();
  loadAsked(surface).then(() => { showStart(); runNow(); });
});

main().catch((error) => {
  $("run-error").textContent = `the page could not start: ${error.message}`;
  $("run-error").hidden = false;
});
