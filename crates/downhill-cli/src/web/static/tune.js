// The Tune button: a fair race. Every optimizer card's lr is chosen on a log
// grid by a stated criterion (POST /api/tune, as `downhill tune`), the cards
// take the chosen lr, and the tuned optimizers run side by side.
import { post } from "./api.js";
import { renderOptimizers, specs } from "./optimizers.js";

const $ = (id) => document.getElementById(id);

let state = null, view = null, startPoint = () => null, changed = () => {};

/** The criterion as the API spells it, or an error text. */
function criterion() {
  if ($("tune-criterion").value === "final-loss") return { text: "final-loss" };
  const tol = Number($("tune-tol").value);
  return tol > 0 && Number.isFinite(tol) ? { text: `steps-to=${tol}` } : { error: "the tolerance must be a positive number" };
}

/** The grid as `LO:HI:N`, or an error text. */
function grid() {
  const lo = Number($("tune-lo").value), hi = Number($("tune-hi").value), n = Number($("tune-n").value);
  const ok = lo > 0 && hi >= lo && Number.isFinite(hi) && Number.isInteger(n) && n >= 1 && (n > 1 || lo === hi);
  return ok ? { text: `${lo}:${hi}:${n}` } : { error: "the grid needs 0 < from ≤ to and a whole number of values (1 only when from = to)" };
}

function showError(text) {
  $("tune-error").textContent = text ?? "";
  $("tune-error").hidden = !text;
}

/** One line per optimizer: the chosen lr and what it achieved; the caption
 * states the grid, the criterion and the steps. */
function showResults(doc, gridText, steps) {
  const table = $("tune-results");
  table.innerHTML = "";
  const tolerance = doc.criterion.startsWith("steps-to");
  const head = table.insertRow();
  for (const h of ["optimizer", "best lr", tolerance ? "steps to tol" : "final loss"]) head.appendChild(document.createElement("th")).textContent = h;
  for (const r of doc.results) {
    const row = table.insertRow();
    row.insertCell().textContent = r.optimizer.split(":")[0];
    row.insertCell().textContent = r.lr === null ? "diverged at every lr" : String(Number(r.lr.toPrecision(3)));
    const what = tolerance ? (r.steps_to_tolerance ?? "not reached") : (r.final_loss === null ? "—" : r.final_loss.toPrecision(4));
    row.insertCell().textContent = String(what);
  }
  const [lo, hi, n] = gridText.split(":");
  $("tune-caption").textContent = `Each card's lr is now its best of ${n} log-spaced values from ${lo} to ${hi} ` +
    `by ${doc.criterion} after ${steps} steps (runs that diverge are never chosen).`;
}

/** What a race depends on, to notice a change while it runs. */
const race = () => JSON.stringify([state.surface, startPoint(), state.steps, specs()]);

/** Races the cards' optimizers, sets each card's lr to its best and runs them. */
async function tune() {
  const c = criterion(), g = grid();
  if (c.error || g.error) { showError(c.error ?? g.error); return; }
  if (state.schedule.trim()) { showError("Tune races constant learning rates: clear the schedule first"); return; }
  const body = { surface: state.surface, start: startPoint(), optimizers: specs(), steps: state.steps, criterion: c.text, grid: g.text };
  const asked = race();
  $("tune-run").disabled = true;
  try {
    const doc = await post("/api/tune", body);
    if (race() !== asked) {
      showError("the surface, start, steps or optimizers changed during the race: tune again");
      return;
    }
    doc.results.forEach((r, i) => { if (r.lr !== null && state.opts[i]?.values.lr !== undefined) state.opts[i].values.lr = String(r.lr); });
    view.tune = doc;
    showError(null);
    showResults(doc, g.text, body.steps);
    renderOptimizers();
    changed();
  } catch (error) {
    showError(error.message);
  } finally {
    $("tune-run").disabled = false;
  }
}

/** Connects the button to the page (`state`, `view`, the start point and
 * what to do after the cards change). */
export function initTune(page) {
  ({ state, view, startPoint, changed } = page);
  $("tune-run").onclick = tune;
  const toggle = () => { $("tune-tol-label").hidden = $("tune-criterion").value === "final-loss"; };
  $("tune-criterion").onchange = toggle;
  toggle();
}
