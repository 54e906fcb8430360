// Drawing: filled contours with iso-lines, arrows, line charts and the sweep heatmap.

const VIRIDIS = [
  [68, 1, 84], [72, 36, 117], [64, 67, 135], [52, 94, 141], [41, 120, 142],
  [32, 144, 140], [34, 167, 132], [68, 190, 112], [121, 209, 81], [189, 222, 38], [253, 231, 37],
];

/** Viridis at t ∈ [0, 1] as [r, g, b]. */
export function colormap(t) {
  const x = Math.min(1, Math.max(0, t)) * (VIRIDIS.length - 1);
  const i = Math.min(VIRIDIS.length - 2, Math.floor(x));
  const f = x - i;
  return VIRIDIS[i].map((c, k) => Math.round(c + f * (VIRIDIS[i + 1][k] - c)));
}

export const rgb = (c) => `rgb(${c[0]},${c[1]},${c[2]})`;

/** Contour levels at equally spaced quantiles of the finite grid values, so
 * every surface (flat valleys, steep walls) gets evenly used bands. */
export function levels(values, count) {
  const finite = values.filter((v) => v !== null && Number.isFinite(v)).sort((a, b) => a - b);
  if (finite.length === 0) return [];
  const out = [];
  for (let k = 1; k < count; k++) {
    const v = finite[Math.floor((k / count) * (finite.length - 1))];
    if (out.length === 0 || v > out[out.length - 1]) out.push(v);
  }
  return out;
}

/** The index of the contour band that `v` falls in (0 below the first level). */
export function band(levelList, v) {
  let lo = 0, hi = levelList.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (levelList[mid] <= v) lo = mid + 1; else hi = mid;
  }
  return lo;
}

/** Renders the grid (`values[j*n+i]`, y upwards) as filled bands with
 * iso-lines into a new canvas of size w×h. */
export function renderContour(grid, w, h, bandCount = 24) {
  const { n, values } = grid;
  const lv = levels(values, bandCount);
  const colors = Array.from({ length: lv.length + 1 }, (_, k) => colormap(k / Math.max(1, lv.length)));
  const canvas = document.createElement("canvas");
  canvas.width = w; canvas.height = h;
  const ctx = canvas.getContext("2d");
  const image = ctx.createImageData(w, h);
  const at = (i, j) => values[j * n + i];
  for (let py = 0; py < h; py++) {
    const gy = (1 - (py + 0.5) / h) * (n - 1);
    const j = Math.min(n - 2, Math.floor(gy)), fy = gy - j;
    for (let px = 0; px < w; px++) {
      const gx = ((px + 0.5) / w) * (n - 1);
      const i = Math.min(n - 2, Math.floor(gx)), fx = gx - i;
      const a = at(i, j), b = at(i + 1, j), c = at(i, j + 1), d = at(i + 1, j + 1);
      const o = (py * w + px) * 4;
      if (a === null || b === null || c === null || d === null) {
        image.data.set([250, 250, 250, 255], o);
        continue;
      }
      const v = (a * (1 - fx) + b * fx) * (1 - fy) + (c * (1 - fx) + d * fx) * fy;
      const col = colors[band(lv, v)];
      image.data[o] = col[0]; image.data[o + 1] = col[1]; image.data[o + 2] = col[2]; image.data[o + 3] = 255;
    }
  }
  ctx.putImageData(image, 0, 0);
  drawIsoLines(ctx, grid, lv, w, h);
  return { canvas, levels: lv };
}

// Marching squares on each level; segments interpolated along cell edges.
function drawIsoLines(ctx, grid, lv, w, h) {
  const { n, values } = grid;
  const sx = w / (n - 1), sy = h / (n - 1);
  ctx.strokeStyle = "rgba(255,255,255,0.28)";
  ctx.lineWidth = 0.8;
  ctx.beginPath();
  for (const level of lv) {
    for (let j = 0; j < n - 1; j++) {
      for (let i = 0; i < n - 1; i++) {
        const v = [values[j * n + i], values[j * n + i + 1], values[(j + 1) * n + i + 1], values[(j + 1) * n + i]];
        if (v.some((q) => q === null)) continue;
        const corners = [[i, j], [i + 1, j], [i + 1, j + 1], [i, j + 1]];
        const cuts = [];
        for (let e = 0; e < 4; e++) {
          const a = v[e], b = v[(e + 1) % 4];
          if ((a < level) !== (b < level)) {
            const t = (level - a) / (b - a);
            const [x0, y0] = corners[e], [x1, y1] = corners[(e + 1) % 4];
            cuts.push([(x0 + t * (x1 - x0)) * sx, h - (y0 + t * (y1 - y0)) * sy]);
          }
        }
        for (let k = 0; k + 1 < cuts.length; k += 2) {
          ctx.moveTo(cuts[k][0], cuts[k][1]);
          ctx.lineTo(cuts[k + 1][0], cuts[k + 1][1]);
        }
      }
    }
  }
  ctx.stroke();
}

/** An arrow from (x0, y0) to (x1, y1) in canvas pixels. */
export function arrow(ctx, x0, y0, x1, y1, color, width = 2, dash = []) {
  const len = Math.hypot(x1 - x0, y1 - y0);
  if (!(len > 0.5)) return;
  const head = Math.min(9, 0.45 * len);
  const a = Math.atan2(y1 - y0, x1 - x0);
  ctx.save();
  ctx.strokeStyle = color; ctx.fillStyle = color; ctx.lineWidth = width; ctx.setLineDash(dash);
  ctx.beginPath(); ctx.moveTo(x0, y0); ctx.lineTo(x1 - head * 0.6 * Math.cos(a), y1 - head * 0.6 * Math.sin(a)); ctx.stroke();
  ctx.setLineDash([]);
  ctx.beginPath();
  ctx.moveTo(x1, y1);
  ctx.lineTo(x1 - head * Math.cos(a - 0.42), y1 - head * Math.sin(a - 0.42));
  ctx.lineTo(x1 - head * Math.cos(a + 0.42), y1 - head * Math.sin(a + 0.42));
  ctx.closePath(); ctx.fill();
  ctx.restore();
}

/** A number in a short readable form for axes and tips. */
export function short(v) {
  if (v === null || v === undefined || !Number.isFinite(v)) return String(v);
  const a = Math.abs(v);
  if (a !== 0 && (a < 1e-3 || a >= 1e5)) return v.toExponential(2);
  return Number(v.toPrecision(4)).toString();
}

/** Round tick values (1, 2 or 5 × 10^k apart), about `count` of them, in [lo, hi]. */
export function ticks(lo, hi, count) {
  const raw = (hi - lo) / count;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((f) => f * mag).find((s) => s >= raw) ?? 10 * mag;
  const out = [];
  for (let v = Math.ceil(lo / step) * step; v <= hi + 1e-9 * step; v += step) out.push(Math.abs(v) < 1e-12 * step ? 0 : v);
  return out;
}

/** The y range of a chart: the values of the series that stay bounded (no
 * `runaway` flag), so one diverging run does not flatten the others; all
 * values when every series runs away; [-1, 1] when there are none. */
export function boundedRange(series) {
  const bounded = series.filter((s) => !s.runaway);
  let lo = Infinity, hi = -Infinity;
  for (const s of bounded.length ? bounded : series) {
    for (const v of s.values) if (Number.isFinite(v)) { if (v < lo) lo = v; if (v > hi) hi = v; }
  }
  return lo <= hi ? [lo, hi] : [-1, 1];
}

/** A line chart of `series` ([{color, values, runaway}]) against the step,
 * with a marker at `frame` and a highlighted `hover` step. The y axis spans
 * the bounded series ([`boundedRange`]); a series that leaves it is cut at the
 * edge and marked there with ✕. Returns the step under a canvas x
 * coordinate. The first value is labelled `first` on the x axis. */
export function lineChart(canvas, series, steps, { frame = null, hover = null, clipTop = null, first = 0 } = {}) {
  const ctx = canvas.getContext("2d");
  const W = canvas.width, H = canvas.height;
  const m = { l: 58, r: 10, t: 8, b: 20 };
  ctx.clearRect(0, 0, W, H);
  let [lo, hi] = boundedRange(series);
  if (clipTop !== null && clipTop > lo && clipTop < hi) hi = clipTop;
  if (!(hi > lo)) { hi = lo + 1; lo -= 1; }
  const pad = 0.04 * (hi - lo); lo -= pad; hi += pad;
  const N = Math.max(1, steps);
  const X = (k) => m.l + (k / N) * (W - m.l - m.r);
  // clamped a little outside the plot, so huge values stay drawable
  const Y = (v) => Math.min(H, Math.max(0, m.t + (1 - (v - lo) / (hi - lo)) * (H - m.t - m.b)));
  ctx.font = "11px system-ui, sans-serif"; ctx.fillStyle = "#6b7385"; ctx.strokeStyle = "#e6e9ef"; ctx.lineWidth = 1;
  for (const v of ticks(lo, hi, 4)) {
    const y = Y(v);
    ctx.beginPath(); ctx.moveTo(m.l, y); ctx.lineTo(W - m.r, y); ctx.stroke();
    ctx.textAlign = "right"; ctx.textBaseline = "middle"; ctx.fillText(short(v), m.l - 5, y);
  }
  ctx.textAlign = "center"; ctx.textBaseline = "top";
  for (const s of ticks(0, N, 5)) ctx.fillText(String(s + first), X(s), H - m.b + 4);
  ctx.save();
  ctx.beginPath(); ctx.rect(m.l, m.t, W - m.l - m.r, H - m.t - m.b); ctx.clip();
  let cut = 0;
  for (const s of series) {
    ctx.strokeStyle = s.color; ctx.lineWidth = 1.6; ctx.beginPath();
    s.values.forEach((v, k) => (k ? ctx.lineTo(X(k), Y(v)) : ctx.moveTo(X(k), Y(v))));
    ctx.stroke();
    const out = s.values.findIndex((v) => v > hi || v < lo);
    if (out >= 0) {
      cut++;
      const y = s.values[out] > hi ? m.t + 6 : H - m.b - 6;
      cross(ctx, X(out), y, 5, s.color);
    }
  }
  canvas.dataset.range = `${lo},${hi}`;
  canvas.dataset.cut = String(cut);
  const marker = (k, color, dash) => {
    ctx.strokeStyle = color; ctx.setLineDash(dash); ctx.beginPath();
    ctx.moveTo(X(k), m.t); ctx.lineTo(X(k), H - m.b); ctx.stroke(); ctx.setLineDash([]);
  };
  if (frame !== null) marker(frame, "rgba(29,35,48,0.45)", [3, 3]);
  if (hover !== null) {
    marker(hover, "#1d2330", []);
    for (const s of series) {
      const v = s.values[Math.min(hover, s.values.length - 1)];
      if (v === undefined) continue;
      ctx.fillStyle = s.color; ctx.beginPath(); ctx.arc(X(Math.min(hover, s.values.length - 1)), Y(v), 3.5, 0, 7); ctx.fill();
    }
  }
  ctx.restore();
  return (px) => Math.max(0, Math.min(N, Math.round(((px - m.l) / (W - m.l - m.r)) * N)));
}

/** A ✕ of half-size `r` at (x, y) in `color`, outlined dark so it shows on any background. */
export function cross(ctx, x, y, r, color) {
  ctx.save();
  ctx.lineCap = "round";
  for (const [style, width] of [["#111", 4.5], [color, 2.2]]) {
    ctx.strokeStyle = style; ctx.lineWidth = width; ctx.beginPath();
    ctx.moveTo(x - r, y - r); ctx.lineTo(x + r, y + r); ctx.moveTo(x + r, y - r); ctx.lineTo(x - r, y + r); ctx.stroke();
  }
  ctx.restore();
}

/** A spec without its `lr` key (the sweep sets lr itself). */
export const withoutLr = (spec) => spec.replace(/(^|[:,])lr=[^,]*,?/, "$1").replace(/[:,]$/, "");

/** The sweep heatmap: rows = optimizers, columns = learning rates; colour =
 * log10 of the final loss above the best one; diverged cells grey with a cross. Returns a
 * function from canvas pixels to the cell [row, column] (or null). */
export function heatmap(canvas, sweep, colors) {
  const ctx = canvas.getContext("2d");
  const rows = sweep.optimizers.length, cols = sweep.lrs.length;
  const m = { l: 190, r: 120, t: 14, b: 46 };
  canvas.height = Math.max(160, m.t + m.b + rows * 40);
  const W = canvas.width, H = canvas.height;
  const cw = (W - m.l - m.r) / cols, ch = (H - m.t - m.b) / rows;
  ctx.clearRect(0, 0, W, H);
  const finite = sweep.final_loss.flat().filter((v) => v !== null);
  const lo = Math.min(...finite), hi = Math.max(...finite);
  // log10 of the gap to the best cell, over twelve decades below the spread
  const delta = Math.max((hi - lo) * 1e-12, Number.MIN_VALUE);
  const scale = (v) => (hi > lo ? Math.log10((v - lo + delta) / delta) / Math.log10((hi - lo + delta) / delta) : 0.5);
  ctx.font = "12px system-ui, sans-serif";
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) {
      const v = sweep.final_loss[r][c];
      const x = m.l + c * cw, y = m.t + r * ch;
      ctx.fillStyle = v === null ? "#c9ccd3" : rgb(colormap(1 - scale(v)));
      ctx.fillRect(x, y, cw - 1, ch - 1);
      if (v === null) {
        ctx.strokeStyle = "#8a8f9a"; ctx.lineWidth = 1.2; ctx.beginPath();
        ctx.moveTo(x + cw * 0.3, y + ch * 0.3); ctx.lineTo(x + cw * 0.7, y + ch * 0.7);
        ctx.moveTo(x + cw * 0.7, y + ch * 0.3); ctx.lineTo(x + cw * 0.3, y + ch * 0.7); ctx.stroke();
      }
    }
    ctx.fillStyle = colors[r] ?? "#1d2330";
    ctx.fillRect(8, m.t + r * ch + ch / 2 - 5, 10, 10);
    ctx.fillStyle = "#1d2330"; ctx.textAlign = "left"; ctx.textBaseline = "middle";
    const label = withoutLr(sweep.optimizers[r]);
    ctx.fillText(label.length > 26 ? label.slice(0, 25) + "…" : label, 24, m.t + r * ch + ch / 2);
  }
  ctx.fillStyle = "#6b7385"; ctx.textAlign = "center"; ctx.textBaseline = "top";
  const every = Math.max(1, Math.ceil(cols / 9));
  for (let c = 0; c < cols; c += every) ctx.fillText(short(sweep.lrs[c]), m.l + (c + 0.5) * cw, H - m.b + 6);
  ctx.fillText("learning rate", m.l + (W - m.l - m.r) / 2, H - m.b + 24);
  // colour bar: low loss is bright
  const bx = W - m.r + 24, bh = H - m.t - m.b;
  for (let k = 0; k < bh; k++) { ctx.fillStyle = rgb(colormap(1 - k / bh)); ctx.fillRect(bx, m.t + k, 14, 1); }
  ctx.textAlign = "left"; ctx.textBaseline = "middle"; ctx.fillStyle = "#1d2330";
  ctx.fillText(short(lo), bx + 18, m.t + 6); ctx.fillText(short(hi), bx + 18, m.t + bh - 6);
  return (px, py) => {
    const c = Math.floor((px - m.l) / cw), r = Math.floor((py - m.t) / ch);
    return r >= 0 && r < rows && c >= 0 && c < cols ? [r, c] : null;
  };
}

/** The canvas pixel under a mouse event (the canvas may be scaled by CSS). */
export function canvasXY(canvas, event) {
  const r = canvas.getBoundingClientRect();
  return [(event.clientX - r.left) * (canvas.width / r.width), (event.clientY - r.top) * (canvas.height / r.height)];
}
