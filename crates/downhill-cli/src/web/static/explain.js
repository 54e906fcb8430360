// The Explain panel: one update of one run as typeset math (MathML), first as
// the library describes the rule (/api/explain's `lines`), then with that
// step's numbers put in. Nothing here knows a formula: it draws the
// expression trees the server sends and looks each symbol's value up.
import { post } from "./api.js";
import { draw } from "./paths.js";

const NS = "http://www.w3.org/1998/Math/MathML";
const SUBSCRIPTS = "₀₁₂₃₄₅₆₇₈₉";
const ACCENTS = { "\u0302": "^", "\u0303": "~" };
let page, doc = null, token = 0, inFlight = false, seen = { runs: null, frame: null };
const ui = {};
const hook = () => window.__downhill;

/** A MathML element with children (strings become text). */
function m(tag, ...children) {
  const e = document.createElementNS(NS, tag);
  for (const c of children) e.append(c);
  return e;
}
const mo = (text) => m("mo", text);
/** Parentheses of one size, whatever they hold. */
function fenced(...inner) {
  const [open, close] = [mo("("), mo(")")];
  for (const f of [open, close]) f.setAttribute("stretchy", "false");
  return m("mrow", open, ...inner, close);
}

/** A symbol: trailing subscript digits and its step index become a subscript. */
function symbol(name, index) {
  let base = name, digits = "";
  while (base.length > 1 && SUBSCRIPTS.includes(base.at(-1))) {
    digits = String(SUBSCRIPTS.indexOf(base.at(-1))) + digits;
    base = base.slice(0, -1);
  }
  const sub = [digits, index === null ? "" : ["t−1", "t", "t+1"][index + 1]].filter(Boolean).join(",");
  const accent = ACCENTS[base.at(-1)];
  let mi = m("mi", accent ? base.slice(0, -1) : base);
  if (accent) {
    mi = m("mover", mi, mo(accent));
    mi.setAttribute("accent", "true");
  }
  return sub ? m("msub", mi, m("mi", sub)) : mi;
}

/** A number as the page shows it (6 digits; negative ones in parentheses); `data-value` keeps every digit. */
function number(v, bare = false) {
  let node;
  const size = Math.abs(v);
  if (v === null || !Number.isFinite(v)) node = m("mn", String(v));
  else if (Number.isInteger(v) && size < 1e6) node = m("mn", String(size));
  else {
    const [mant, exp] = size.toExponential(5).split("e").map(Number);
    node = exp >= -3 && exp < 5 ? m("mn", String(Number(size.toPrecision(6))))
      : m("mrow", m("mn", String(mant)), mo("×"), m("msup", m("mn", "10"), m("mn", String(exp).replace("-", "−"))));
  }
  if (v < 0) node = bare ? m("mrow", mo("−"), node) : fenced(m("mrow", mo("−"), node));
  node.dataset.value = String(v);
  return node;
}

const key = ({ name, index }) => index === null ? name : `${name}[t${index === 0 ? "" : index > 0 ? "+1" : "-1"}]`;
const unparen = (e) => (e.op === "paren" ? e.args : e);

/** The MathML of expression `e`; with `at` = { values, coord, bare? } symbols are replaced by
 * their values (negative ones in parentheses unless `bare`). */
function render(e, at) {
  const r = (x) => render(x, at);
  const [a, b] = Array.isArray(e.args) ? e.args : [e.args];
  switch (e.op) {
    case "num": return m("mn", String(e.args));
    case "var": {
      const v = at && at.values[key(e.args)];
      return v ? number(v[at.coord], at.bare) : symbol(e.args.name, e.args.index);
    }
    case "neg": return m("mrow", mo("−"), r(a));
    case "add": return m("mrow", r(a), mo("+"), r(b));
    case "sub": return m("mrow", r(a), mo("−"), r(b));
    case "mul": return m("mrow", r(a), mo("·"), r(b));
    case "div": return m("mfrac", r(unparen(a)), r(unparen(b)));
    case "pow": return m("msup", r(a), r(unparen(b)));
    case "sqrt": return m("msqrt", r(unparen(a)));
    case "abs": return m("mrow", mo("|"), r(a), mo("|"));
    case "max": return m("mrow", m("mi", "max"), fenced(r(a), mo(","), r(b)));
    case "paren": return a.op === "div" ? r(a) : fenced(r(a));
    case "grad": {
      if (!at) return m("mrow", m("mi", "∇"), m("mi", "f"), fenced(r(a)));
      // one coordinate of ∇f at the point, both of whose coordinates are shown
      const axis = ["x", "y"][at.coord];
      const point = [0, 1].map((c) => render(a, { ...at, coord: c, bare: a.op === "var" }));
      return m("mrow", m("mfrac", m("mrow", m("mi", "∂"), m("mi", "f")), m("mrow", m("mi", "∂"), m("mi", axis))),
        fenced(point[0], mo(","), point[1]));
    }
    default: throw new Error(`unknown operation ${e.op}`);
  }
}

/** One equation: the rule as written, then with the numbers and the result. */
function equation(line) {
  const coord = Number(ui.coord.value);
  const at = { values: doc.values, coord };
  const value = number(line.value[coord], true);
  value.classList.add("value");
  value.dataset.key = key(line.lhs);
  const row = document.createElement("div");
  row.className = "explain-line";
  row.dataset.text = line.text;
  const rule = m("math", m("mrow", symbol(line.lhs.name, line.lhs.index), mo("="), render(line.rhs)));
  const numbers = m("math", m("mrow", mo("="), render(line.rhs, at), mo("="), value));
  rule.setAttribute("display", "block");
  numbers.setAttribute("display", "block");
  row.append(rule, numbers);
  return row;
}

/** The state table: every buffer and scalar before and after the step. */
function stateTable() {
  const table = document.createElement("table");
  table.className = "results";
  const row = (cells, tag = "td") => {
    const tr = table.insertRow();
    for (const c of cells) { const td = document.createElement(tag); td.textContent = c; tr.append(td); }
  };
  const f = (v) => (Array.isArray(v) ? v : [v]).map((x) => Number(x).toPrecision(6)).join(", ");
  row(["state", `before (t = ${doc.before.step})`, `after (t = ${doc.after.step})`], "th");
  for (const kind of ["buffers", "scalars"]) {
    for (const name of Object.keys(doc.after[kind])) row([name, f(doc.before[kind][name]), f(doc.after[kind][name])]);
  }
  return table;
}

function show() {
  ui.math.replaceChildren();
  ui.summary.textContent = doc ? doc.summary : "";
  if (!doc) return;
  if (doc.lines) {
    ui.math.append(...doc.lines.map(equation));
    const where = doc.symbols.map((s) => `${s.symbol} = ${s.source.kind === "key" ? "" : s.source.kind + " "}${s.source.name}`);
    const note = document.createElement("p");
    note.className = "muted";
    note.textContent = `where ${where.join(", ")}; θ is the point, t the step count.`;
    ui.math.append(note);
  } else {
    const note = document.createElement("p");
    note.className = "muted";
    note.textContent = `The library has no equations for ${doc.rule}; its state before and after step ${doc.step}:`;
    ui.math.append(note);
  }
  ui.math.append(stateTable());
}

/** The last step the chosen run reached (its points after the start). */
function lastStep() {
  const run = page.view.runs[Number(ui.run.value)];
  return run ? run.points.length - 1 : 0;
}

async function explain(step) {
  const i = Number(ui.run.value), spec = page.view.runs[i]?.optimizer;
  const last = lastStep();
  if (!spec || last < 1) { doc = null; ui.error.hidden = true; show(); return; }
  step = Math.max(1, Math.min(last, step));
  ui.step.value = String(step);
  const body = { surface: page.view.runsSurface ?? page.state.surface, start: page.startPoint(), optimizer: spec, step };
  if (page.state.schedule.trim()) body.schedule = page.state.schedule.trim();
  const mine = ++token;
  inFlight = true;
  try {
    const answer = await post("/api/explain", body);
    if (mine !== token) return;
    doc = answer;
    ui.error.hidden = true;
  } catch (error) {
    if (mine !== token) return;
    doc = null;
    ui.error.textContent = error.message;
    ui.error.hidden = false;
  } finally {
    if (mine === token) inFlight = false;
  }
  show();
  hook().explain = { step, run: i, doc };
}

/** Steps by `d`; when following playback, the playback moves along. */
function go(d) {
  const step = Math.max(1, Math.min(lastStep(), Number(ui.step.value) + d));
  if (ui.follow.checked) { page.view.playing = false; page.view.frame = seen.frame = step; draw(); }
  explain(step);
}

/** The runs drawn, by their specs, keeping the one chosen. */
function runOptions() {
  const chosen = ui.run.value, runs = page.view.runs;
  ui.run.replaceChildren(...runs.map((r, i) => new Option(r.optimizer, String(i))));
  if (chosen && Number(chosen) < runs.length) ui.run.value = chosen;
}

/** Follows the runs and the playback step while the panel is open (one request at a
 * time: during playback the step shown catches up when the answer is in). */
function watch() {
  const { runs, frame } = page.view;
  if (ui.panel.open && !inFlight && (runs !== seen.runs || (ui.follow.checked && frame !== seen.frame))) {
    const fresh = runs !== seen.runs;
    seen = { runs, frame };
    if (fresh) runOptions();
    explain(ui.follow.checked ? frame : Number(ui.step.value) || 1);
  }
  requestAnimationFrame(watch);
}

/** Builds the panel inside `panel` (a <details>) for the page's `{ state, view, startPoint }`. */
export function initExplain(panel, pageState) {
  page = pageState;
  const html = `<summary>Explain a step</summary>
    <div class="explain-bar">
      <select id="explain-run" aria-label="Run to explain"></select>
      <button id="explain-prev" title="Previous step" aria-label="Previous step">◀</button>
      <label>step <input id="explain-step" type="number" min="1" step="1"></label>
      <button id="explain-next" title="Next step" aria-label="Next step">▶</button>
      <label title="Coordinate whose numbers are shown">coordinate <select id="explain-coord"><option value="0">x</option><option value="1">y</option></select></label>
      <label><input type="checkbox" id="explain-follow" checked> follow playback</label>
    </div>
    <div id="explain-error" class="error" role="alert" hidden></div>
    <p id="explain-summary" class="muted"></p>
    <div id="explain-math"></div>`;
  panel.innerHTML = html;
  for (const [name, id] of [["run", "explain-run"], ["prev", "explain-prev"], ["step", "explain-step"], ["next", "explain-next"],
    ["coord", "explain-coord"], ["follow", "explain-follow"], ["error", "explain-error"], ["summary", "explain-summary"], ["math", "explain-math"]]) {
    ui[name] = document.getElementById(id);
  }
  ui.panel = panel;
  ui.prev.onclick = () => go(-1);
  ui.next.onclick = () => go(1);
  ui.step.addEventListener("change", () => go(0));
  ui.run.onchange = () => explain(Number(ui.step.value) || 1);
  ui.coord.onchange = show;
  panel.addEventListener("toggle", () => { seen = { runs: null, frame: null }; });
  requestAnimationFrame(watch);
}
