// The sidebar's optimizer cards: specs split into per-key values (from the
// catalogue of GET /api/optimizers: every name with its keys, defaults and
// ranges) and written back, one control per key.

const PRIMARY = ["lr", "momentum", "beta1", "beta2", "alpha", "rho", "lr_decay"];
const $ = (id) => document.getElementById(id);

let state = null, view = null, colors = [], changed = () => {};

/** Connects the cards to the page: `state.opts` (the cards' values),
 * `view.optimizerInfo` (the catalogue), the path colours and what to do on a change. */
export function initOptimizers(page) {
  ({ state, view, colors, changed } = page);
}

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

/** Whether `text` is a bracketed list of finite numbers like [3.4,-4.7,2]. */
function numberList(text) {
  const inner = text.trim().match(/^\[(.*)\]$/s);
  return inner !== null && inner[1].split(",").every((x) => x.trim() !== "" && Number.isFinite(Number(x)));
}

function defaultText(key) {
  const v = key.default;
  if (key.type === "list" || key.type === "numbers") return "[" + v.join(",") + "]";
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

/** The spec of every card, in order. */
export const specs = () => state.opts.map(specOf);

/** A card's values for `spec`: its keys, defaults where the spec has none. */
export function newOpt(spec) {
  const { name, values } = parseSpec(spec);
  const info = entry(name) ?? view.optimizerInfo[0];
  const opt = { name: info.name, values: {} };
  for (const key of info.keys) opt.values[key.name] = values[key.name] ?? defaultText(key);
  return opt;
}

/** Draws one card per optimizer into the sidebar. */
export function renderOptimizers() {
  const box = $("optimizers");
  box.innerHTML = "";
  state.opts.forEach((opt, i) => box.appendChild(optimizerCard(opt, i)));
  $("add-optimizer").disabled = state.opts.length >= 16;
}

function optimizerCard(opt, i) {
  const info = entry(opt.name);
  const card = document.createElement("div");
  card.className = "opt";
  card.style.setProperty("--c", colors[i % colors.length]);
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
  // A "text" key here is a number that may be "none" (prodigy's beta3);
  // lists are typed as text too.
  exact.type = key.type === "float" || key.type === "int" ? "number" : "text";
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
    const none = key.type === "text" && exact.value.trim() === "none";
    const ok = key.type === "list" ? /^\[\s*(\d+\s*(,\s*\d+\s*)*)?\]$/.test(exact.value)
      : key.type === "numbers" ? numberList(exact.value)
      : none || (inRange(key, Number(exact.value)) && exact.value.trim() !== "");
    row.classList.toggle("invalid", !ok);
    if (ok) set(exact.value.trim());
  };
  exact.addEventListener("input", check);
  row.append(slider ?? document.createElement("span"), exact);
  return row;
}
