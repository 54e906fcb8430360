// The training tab: a dataset, a model and optimizers trained on the server
// (POST /api/train), its server-sent events drawn as live loss and accuracy
// curves per optimizer, and the final table.
import { lineChart, short } from "./plot.js";

const $ = (id) => document.getElementById(id);

export const trainDefaults = {
  dataset: "iris", model: "softmax", epochs: 30, batch: "16", seed: 0, schedule: "",
  optimizers: ["sgd:lr=0.1,momentum=0.9", "adam:lr=0.01"],
};
const train = { ...trainDefaults, optimizers: [...trainDefaults.optimizers] };
const live = { controller: null, start: null, runs: [], summary: null, events: 0 };
let colors = [];
let changed = () => {};

/** Reads the tab's settings from URL parameters (`t…` keys). */
export function readTrainHash(p) {
  if (p.has("tdata")) train.dataset = p.get("tdata");
  if (p.has("tmodel")) train.model = p.get("tmodel");
  if (p.has("tepochs")) train.epochs = Math.max(1, Math.min(200, parseInt(p.get("tepochs"), 10) || trainDefaults.epochs));
  if (p.has("tbatch")) train.batch = p.get("tbatch");
  if (p.has("tseed")) train.seed = Math.max(0, parseInt(p.get("tseed"), 10) || 0);
  train.schedule = p.get("tsched") ?? "";
  if (p.getAll("topt").length) train.optimizers = p.getAll("topt").slice(0, 8);
  showSettings();
}

/** Writes the tab's settings into URL parameters. */
export function writeTrainHash(p) {
  p.set("tdata", train.dataset);
  p.set("tmodel", train.model);
  p.set("tepochs", String(train.epochs));
  p.set("tbatch", train.batch);
  p.set("tseed", String(train.seed));
  if (train.schedule) p.set("tsched", train.schedule);
  for (const spec of train.optimizers) p.append("topt", spec);
}

function showSettings() {
  if (!$("train-dataset")) return;
  $("train-dataset").value = train.dataset;
  $("train-model").value = train.model;
  $("train-epochs").value = train.epochs;
  $("train-batch").value = train.batch;
  $("train-seed").value = train.seed;
  $("train-schedule").value = train.schedule;
  $("train-optimizers").value = train.optimizers.join("\n");
}

function readSettings() {
  train.dataset = $("train-dataset").value.trim();
  train.model = $("train-model").value.trim();
  train.epochs = Math.round(Number($("train-epochs").value));
  train.batch = $("train-batch").value.trim() || "32";
  train.seed = Math.round(Number($("train-seed").value)) || 0;
  train.schedule = $("train-schedule").value.trim();
  train.optimizers = $("train-optimizers").value.split("\n").map((s) => s.trim()).filter(Boolean);
}

function request() {
  const body = {
    dataset: train.dataset, model: train.model, optimizers: train.optimizers, epochs: train.epochs,
    batch_size: /^\d+$/.test(train.batch) ? Number(train.batch) : train.batch, seed: train.seed,
  };
  if (train.schedule) body.schedule = train.schedule;
  return body;
}

function showError(message) {
  $("train-error").textContent = message ?? "";
  $("train-error").hidden = !message;
}

/** Starts a job; the previous one, if any, is stopped first. */
async function start() {
  stop();
  readSettings();
  changed();
  const controller = (live.controller = new AbortController());
  Object.assign(live, { start: null, runs: [], summary: null, events: 0 });
  showError(null);
  draw();
  $("train-start").disabled = true; $("train-stop").disabled = false;
  $("train-status").textContent = "starting…";
  try {
    const response = await fetch("/api/train", {
      method: "POST", headers: { "content-type": "application/json" },
      body: JSON.stringify(request()), signal: controller.signal,
    });
    if (!response.ok) {
      let message = `HTTP ${response.status}`;
      try { message = (await response.json()).error ?? message; } catch (_) { /* keep the status */ }
      throw new Error(message);
    }
    const reader = response.body.getReader();
    const decoder = new TextDecoder();
    let buffer = "";
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      buffer += decoder.decode(value, { stream: true });
      let end;
      while ((end = buffer.indexOf("\n\n")) >= 0) {
        handle(buffer.slice(0, end));
        buffer = buffer.slice(end + 2);
      }
    }
    if (!live.summary && !$("train-error").textContent) showError("the stream ended before the summary");
  } catch (error) {
    if (error.name !== "AbortError") { showError(error.message); $("train-status").textContent = ""; }
  } finally {
    if (live.controller === controller) {
      live.controller = null;
      $("train-start").disabled = false; $("train-stop").disabled = true;
      if (!live.summary && live.start) $("train-status").textContent += " (stopped)";
    }
  }
}

function stop() {
  if (live.controller) live.controller.abort();
}

/** One server-sent event block: `event: NAME` and `data: JSON` lines. */
function handle(block) {
  let name = "message", data = "";
  for (const line of block.split("\n")) {
    if (line.startsWith("event:")) name = line.slice(6).trim();
    else if (line.startsWith("data:")) data += line.slice(5).trim();
  }
  if (!data) return; // a keep-alive comment
  const doc = JSON.parse(data);
  live.events++;
  if (name === "start") {
    live.start = doc;
    live.runs = doc.optimizers.map((spec) => ({ spec, epochs: [], error: null }));
  } else if (name === "epoch") {
    live.runs[doc.run].epochs.push(doc);
  } else if (name === "failed") {
    live.runs[doc.run].error = doc.error;
  } else if (name === "error") {
    showError(doc.error);
  } else if (name === "summary") {
    live.summary = doc;
  }
  draw();
}

function draw() {
  const s = live.start;
  const total = s ? s.epochs : train.epochs;
  const series = (key) => live.runs.map((r, i) => ({
    color: colors[i % colors.length], values: r.epochs.map((e) => e[key]).filter((v) => v !== null),
  }));
  const charts = [["train-loss", "train_loss"], ["test-loss", "test_loss"], ["train-accuracy", "accuracy"]];
  for (const [id, key] of charts) {
    const data = series(key);
    lineChart($(id), data, Math.max(1, total - 1), { first: 1 });
    $(id).dataset.series = String(data.filter((d) => d.values.length).length);
    $(id).dataset.points = String(data.reduce((n, d) => n + d.values.length, 0));
  }
  $("train-legend").innerHTML = live.runs.map((r) => `<span>${escape(r.spec)}</span>`).join("");
  paint($("train-legend").querySelectorAll("span"));
  if (s) {
    const done = live.runs.reduce((n, r) => n + r.epochs.length, 0);
    $("train-status").textContent = `${s.dataset}: ${s.train_samples} train, ${s.test_samples} test samples; ` +
      `${s.model}, ${s.parameters} parameters, ${s.steps_per_epoch} updates per epoch; ` +
      `${done} / ${s.epochs * live.runs.length} epochs` + (live.summary ? " — done" : "");
  }
  drawTable();
}

function drawTable() {
  const table = $("train-table");
  const rows = live.runs.map((r) => {
    const last = r.epochs[r.epochs.length - 1];
    const cells = last ? [last.epoch, short(last.train_loss), short(last.test_loss),
      last.accuracy === null ? "" : `${(100 * last.accuracy).toFixed(2)}%`, short(last.elapsed)] : ["", "", "", "", ""];
    return `<tr><td class="name">${escape(r.spec)}</td>` +
      cells.map((c) => `<td>${c}</td>`).join("") + `<td>${r.error ? escape(r.error) : ""}</td></tr>`;
  });
  table.innerHTML = rows.length ? "<tr><th>optimizer</th><th>epochs</th><th>train loss</th><th>test loss</th>" +
    "<th>accuracy</th><th>seconds</th><th></th></tr>" + rows.join("") : "";
  paint(table.querySelectorAll("td.name"));
  table.dataset.final = live.summary ? String(live.summary.runs.length) : "";
}

/** Gives the k-th element run k's colour, through the CSSOM: the page's
 * Content-Security-Policy allows no inline style attributes. */
const paint = (elements) => elements.forEach((e, i) => e.style.setProperty("--c", colors[i % colors.length]));

const escape = (text) => String(text).replace(/[&<>"]/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" })[c]);

/** Wires the tab's controls; `onChange` writes the URL hash. */
export function initTraining(palette, onChange) {
  colors = palette;
  changed = onChange;
  showSettings();
  for (const id of ["train-dataset", "train-model", "train-epochs", "train-batch", "train-seed", "train-schedule", "train-optimizers"]) {
    $(id).addEventListener("change", () => { readSettings(); changed(); });
  }
  $("train-start").onclick = start;
  $("train-stop").onclick = stop;
  draw();
  return live;
}
