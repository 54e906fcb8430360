// The sweep tab: the current optimizers over a log grid of learning rates
// (POST /api/sweep), drawn as a heatmap of the final loss.
import { post } from "./api.js";
import { canvasXY, heatmap, withoutLr } from "./plot.js";
import { specs } from "./optimizers.js";

const $ = (id) => document.getElementById(id);

let state = null, view = null, colors = [], startPoint = () => null;

/** Runs the sweep of the current optimizers over the tab's learning rates. */
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
  heatCell = heatmap($("heatmap"), view.sweep, colors);
  $("heatmap").dataset.cells = String(view.sweep.lrs.length * view.sweep.optimizers.length);
}

/** Connects the tab to the page (`state`, `view` with its `sweep` result,
 * the path colours and the start point) and wires its button and tips. */
export function initSweep(page) {
  ({ state, view, colors, startPoint } = page);
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
