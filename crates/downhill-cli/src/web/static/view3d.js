// The 3-D view: the surface as a lit mesh coloured like the contour, each
// run's path on it up to the playback step with a marker there, rotated by
// dragging and zoomed by the wheel or a pinch; a click on the surface sets the
// start. three.js (vendored under vendor/) is loaded the first time the view
// is shown. The view follows the page's state on every animation frame: a new
// grid, new runs, the playback step or a hovered chart step redraw it.
import { exitIndex, runaway } from "./paths.js";
import { band, colormap, short } from "./plot.js";

const $ = (id) => document.getElementById(id);
/** The mesh's height in world units; the longer side of the domain spans 2. */
const HEIGHT = 0.8;
/** Paths float this far above the surface so the mesh does not hide them. */
const LIFT = 0.012;
/** The share of the grid (from the top) the linear heights clip. */
const CLIP = 0.02;
/** A path's line skips points closer than this to the last one it kept (world
 * units, about half a pixel at the first zoom), so 20 000 steps of a converged
 * run cost a few segments; no drawn point is farther than this from the path. */
const NEAR = 0.003;
/** Paths end at a point this far out (world units; the domain is 2 wide). */
const FAR = 1e4;
/** In the log mode f − f_min is shown from this fraction of the grid's range up. */
const LOG_FLOOR = 1e-3;

let page = null;
let three = null;
/** OrbitControls and the fat lines (LineSegments2, LineSegmentsGeometry, LineMaterial). */
let addons = null;
let scene = null;
/** Loading three.js and making the scene: started once, the first time the view is shown. */
let loading = null;
/** Why the view could not start (no WebGL), or null. */
let failed = null;

/** The state the drawing was made from, to redraw only what changed. */
const drawn = { grid: null, levels: null, mode: null, runs: null, frame: null, hover: null, marks: null, pending: true };

/** Connects the view to the page ({state, view, colors, startPoint, writeHash}) and wires its switch. */
export function initView3d(p) {
  page = p;
  $("show-contour").onclick = () => setShown(false);
  $("show-3d").onclick = () => setShown(true);
  $("height-mode").onchange = () => {
    const mode = $("height-mode").value;
    page.state.show = page.state.show.filter((s) => !s.startsWith("height-"));
    if (mode !== "auto") page.state.show.push(`height-${mode}`);
    page.writeHash();
  };
  // a pasted link may switch the view (the page has read the new state by then)
  window.addEventListener("hashchange", () => setShown(isShown(), false));
  window.__downhill.view3d = { shown: false, paths: 0, markers: 0, frame: null, renders: 0 };
  setShown(isShown(), false);
}

const isShown = () => page.state.show.includes("3d");
const trails = () => page.state.show.includes("trails");
const heightMode = () => page.state.show.find((s) => s.startsWith("height-"))?.slice(7) ?? "auto";

/** Shows the 3-D view in place of the contour (or the contour again). */
function setShown(on, write = true) {
  const { state } = page;
  state.show = state.show.filter((s) => s !== "3d");
  if (on) state.show.push("3d");
  if (write) page.writeHash();
  $("show-contour").classList.toggle("active", !on);
  $("show-3d").classList.toggle("active", on);
  $("show-contour").setAttribute("aria-pressed", String(!on));
  $("show-3d").setAttribute("aria-pressed", String(on));
  // without WebGL the contour stays, with the reason under it
  const drawing = on && !failed;
  $("contour").hidden = drawing;
  if (drawing) $("contour-tip").hidden = true;
  $("view3d").hidden = !drawing;
  $("view3d-bar").hidden = !on;
  $("height-mode").value = heightMode();
  window.__downhill.view3d.shown = drawing;
  if (on) loading ??= start();
}

async function start() {
  try {
    const [core, ...parts] = await Promise.all(["three.module.min.js", "OrbitControls.js", "LineSegments2.js", "LineSegmentsGeometry.js", "LineMaterial.js"]
      .map((file) => import(`./vendor/${file}`)));
    three = core;
    addons = Object.assign({}, ...parts);
    scene = createScene();
  } catch (error) {
    failed = `The 3-D view cannot start: ${error.message || error} (it needs WebGL).`;
    $("view3d-note").textContent = failed;
    $("view3d-note").classList.add("error");
    setShown(isShown(), false);
    return;
  }
  requestAnimationFrame(follow);
}

// ---------- the scene ----------

function createScene() {
  const T = three;
  const canvas = $("view3d");
  const renderer = new T.WebGLRenderer({ canvas, antialias: true });
  renderer.setPixelRatio(Math.min(2, window.devicePixelRatio || 1));
  renderer.setClearColor(0xeef1f6);
  renderer.localClippingEnabled = true;
  const world = new T.Scene();
  world.add(new T.HemisphereLight(0xffffff, 0x50586a, 1.6));
  const sun = new T.DirectionalLight(0xffffff, 1.7);
  sun.position.set(-2, -3, 5);
  world.add(sun);
  const camera = new T.PerspectiveCamera(35, 1, 0.01, 100);
  camera.up.set(0, 0, 1);
  camera.position.set(1.1, -3.5, 2.5);
  const controls = new addons.OrbitControls(camera, canvas);
  controls.target.set(0, 0, HEIGHT / 3);
  controls.minDistance = 0.8;
  controls.maxDistance = 14;
  controls.update();
  const s = { renderer, world, camera, controls, surface: null, frame: null, paths: [], start: null, domain: null };
  controls.addEventListener("change", () => render(s));
  new ResizeObserver(() => { resize(s); render(s); }).observe(canvas);
  wireClick(s, canvas);
  // for the page tests: render now and count what differs from the background
  window.__downhill.view3d.pixels = () => pixels(s);
  resize(s);
  return s;
}

function resize(s) {
  const canvas = s.renderer.domElement;
  const w = canvas.clientWidth, h = canvas.clientHeight;
  if (!w || !h) return;
  s.renderer.setSize(w, h, false);
  s.camera.aspect = w / h;
  s.camera.updateProjectionMatrix();
  for (const path of s.paths) for (const line of path.lines) line.material.resolution.set(w, h);
}

function render(s) {
  s.renderer.render(s.world, s.camera);
  window.__downhill.view3d.renders++;
  window.__downhill.view3d.distance = s.camera.position.distanceTo(s.controls.target);
}

/** Renders and reads the image back: pixels unlike the background, and a checksum. */
function pixels(s) {
  render(s);
  const gl = s.renderer.getContext();
  const w = gl.drawingBufferWidth, h = gl.drawingBufferHeight;
  const data = new Uint8Array(w * h * 4);
  gl.readPixels(0, 0, w, h, gl.RGBA, gl.UNSIGNED_BYTE, data);
  const bg = [0xee, 0xf1, 0xf6];
  let painted = 0, sum = 0;
  for (let o = 0; o < data.length; o += 4) {
    if (Math.abs(data[o] - bg[0]) + Math.abs(data[o + 1] - bg[1]) + Math.abs(data[o + 2] - bg[2]) > 6) painted++;
    sum = (sum * 31 + data[o] + 7 * data[o + 1] + 13 * data[o + 2]) % 1000000007;
  }
  return { width: w, height: h, painted, sum };
}

/** A click (not a drag) on the surface sets the start there, as a click on the contour does. */
function wireClick(s, canvas) {
  let down = null;
  canvas.addEventListener("pointerdown", (e) => { down = [e.clientX, e.clientY]; });
  canvas.addEventListener("pointerup", (e) => {
    if (!down || !s.surface || Math.hypot(e.clientX - down[0], e.clientY - down[1]) > 4) return;
    const box = canvas.getBoundingClientRect();
    const ndc = new three.Vector2(((e.clientX - box.left) / box.width) * 2 - 1, 1 - ((e.clientY - box.top) / box.height) * 2);
    const ray = new three.Raycaster();
    ray.setFromCamera(ndc, s.camera);
    const hit = ray.intersectObject(s.surface)[0];
    if (!hit) return;
    const [x, y] = fromWorld(s.domain, hit.point);
    $("start-x").value = String(Number(x.toPrecision(4)));
    $("start-y").value = String(Number(y.toPrecision(4)));
    page.view.frame = 0;
    $("start-x").dispatchEvent(new Event("change"));
  });
}

// ---------- following the page ----------

/** Redraws what changed since the last animation frame, while the view is shown. */
function follow() {
  if (!isShown()) { drawn.pending = true; return requestAnimationFrame(follow); }
  const { view } = page;
  const s = scene;
  if (drawn.pending) { resize(s); drawn.pending = false; drawn.frame = null; }
  const levels = view.contour?.grid === view.grid ? view.contour.levels : null;
  let dirty = false;
  if (view.grid && view.surfaceInfo && levels &&
      (view.grid !== drawn.grid || levels !== drawn.levels || heightMode() !== drawn.mode)) {
    buildSurface(s, view.grid, levels, heightMode());
    Object.assign(drawn, { grid: view.grid, levels, mode: heightMode(), runs: null });
    dirty = true;
  }
  if (s.surface && view.runs !== drawn.runs) {
    buildPaths(s, view.runs);
    drawn.runs = view.runs;
    drawn.frame = null;
    dirty = true;
  }
  const markerKey = `${page.startPoint()} ${trails()}`;
  if (s.surface && (view.frame !== drawn.frame || view.hover !== drawn.hover || markerKey !== drawn.marks)) {
    placeMarkers(s, view.runs, view.frame, view.hover);
    Object.assign(drawn, { frame: view.frame, hover: view.hover, marks: markerKey });
    dirty = true;
  }
  if (dirty) render(s);
  requestAnimationFrame(follow);
}

// ---------- heights ----------

/** The map from f to a height in [0, 1] for a grid, and the sentence that states it:
 * linear in f clipped at the grid's top 2 %, or log10(f − f_min + δ), δ = 10⁻³ of
 * the grid's range. "auto" takes log when the linear heights would put half
 * the grid in their lowest 5 %. */
export function heightScale(values, mode) {
  const finite = values.filter((v) => v !== null && Number.isFinite(v)).sort((a, b) => a - b);
  if (!finite.length) return { height: () => 0, mode: "linear", text: "f is undefined on the whole view" };
  const lo = finite[0], hi = finite[finite.length - 1];
  const cap = finite[Math.floor((1 - CLIP) * (finite.length - 1))];
  const median = finite[Math.floor(0.5 * (finite.length - 1))];
  const log = mode === "log" || (mode === "auto" && cap > lo && median - lo < 0.05 * (cap - lo));
  const clamp = (t) => (Number.isFinite(t) ? Math.min(1, Math.max(0, t)) : 1);
  if (!(hi > lo)) return { height: () => 0, mode: "linear", text: `f = ${short(lo)} on the whole view` };
  if (log) {
    const delta = LOG_FLOOR * (hi - lo), top = Math.log10((hi - lo + delta) / delta);
    return {
      mode: "log",
      height: (f) => clamp(Math.log10((Math.max(0, f - lo) + delta) / delta) / top),
      text: `height: log10(f − ${short(lo)} + δ), δ = ${short(delta)} (10⁻³ of the range of f)`,
    };
  }
  const top = cap > lo ? cap : hi;
  return {
    mode: "linear",
    height: (f) => clamp((f - lo) / (top - lo)),
    text: `height: f from ${short(lo)}, clipped above ${short(top)}` + (top < hi ? ` (the top ${100 * CLIP} % of the view, up to ${short(hi)})` : ""),
  };
}

/** World coordinates: x and y centred, the longer side 2 long (equal aspect, as the contour). */
function worldScale(domain) {
  const [x0, x1] = domain.x, [y0, y1] = domain.y;
  return { cx: (x0 + x1) / 2, cy: (y0 + y1) / 2, k: 2 / Math.max(x1 - x0, y1 - y0), domain };
}
const toWorld = (w, x, y, z) => [(x - w.cx) * w.k, (y - w.cy) * w.k, z];
const fromWorld = (w, p) => [w.cx + p.x / w.k, w.cy + p.y / w.k];

// ---------- the surface ----------

function buildSurface(s, grid, levels, mode) {
  const T = three;
  clear(s, "surface"); clear(s, "frame");
  const { n, values } = grid;
  const domain = { x: grid.x, y: grid.y };
  s.domain = worldScale(domain);
  s.scale = heightScale(values, mode);
  const positions = new Float32Array(n * n * 3), colours = new Float32Array(n * n * 3);
  const colour = new T.Color();
  for (let j = 0; j < n; j++) {
    for (let i = 0; i < n; i++) {
      const k = j * n + i, v = values[k];
      const x = grid.x[0] + ((grid.x[1] - grid.x[0]) * i) / (n - 1), y = grid.y[0] + ((grid.y[1] - grid.y[0]) * j) / (n - 1);
      positions.set(toWorld(s.domain, x, y, v === null ? 0 : HEIGHT * s.scale.height(v)), 3 * k);
      // the contour's band colours (sRGB) at each vertex
      const [r, g, b] = colormap(band(levels, v ?? 0) / Math.max(1, levels.length));
      colour.setRGB(r / 255, g / 255, b / 255, T.SRGBColorSpace);
      colours.set([colour.r, colour.g, colour.b], 3 * k);
    }
  }
  // two triangles per cell, each drawn only where f is finite at its three corners: NaN cells are holes
  const index = [];
  const ok = (k) => values[k] !== null;
  for (let j = 0; j + 1 < n; j++) {
    for (let i = 0; i + 1 < n; i++) {
      const a = j * n + i, b = a + 1, c = a + n, d = c + 1;
      if (ok(a) && ok(b) && ok(d)) index.push(a, b, d);
      if (ok(a) && ok(d) && ok(c)) index.push(a, d, c);
    }
  }
  const geometry = new T.BufferGeometry();
  geometry.setAttribute("position", new T.BufferAttribute(positions, 3));
  geometry.setAttribute("color", new T.BufferAttribute(colours, 3));
  geometry.setIndex(index);
  geometry.computeVertexNormals();
  s.surface = new T.Mesh(geometry, new T.MeshLambertMaterial({ vertexColors: true, side: T.DoubleSide }));
  s.world.add(s.surface);
  s.frame = domainFrame(s.domain);
  s.world.add(s.frame);
  // paths are cut at the domain's edges, as on the contour
  const [wx, wy] = toWorld(s.domain, grid.x[1], grid.y[1], 0);
  s.clip = [new T.Plane(new T.Vector3(1, 0, 0), wx), new T.Plane(new T.Vector3(-1, 0, 0), wx),
    new T.Plane(new T.Vector3(0, 1, 0), wy), new T.Plane(new T.Vector3(0, -1, 0), wy)];
  $("view3d-note").textContent = `${s.scale.text}; colours as on the contour. Drag to rotate, wheel or pinch to zoom, click the surface to set the start.`;
  $("view3d-note").classList.remove("error");
  Object.assign(window.__downhill.view3d, { height: s.scale.mode, triangles: index.length / 3, drawnGrid: grid });
}

/** The domain's outline at height 0, with its x and y ranges and an f axis at one corner. */
function domainFrame(w) {
  const T = three;
  const group = new T.Group();
  const [x0, x1] = w.domain.x, [y0, y1] = w.domain.y;
  const corners = [[x0, y0], [x1, y0], [x1, y1], [x0, y1]].map(([x, y]) => new T.Vector3(...toWorld(w, x, y, 0)));
  const line = (points) => new T.Line(new T.BufferGeometry().setFromPoints(points), new T.LineBasicMaterial({ color: 0x6b7385 }));
  group.add(line([...corners, corners[0]]));
  group.add(line([corners[3], corners[3].clone().setZ(HEIGHT)]));
  const gap = 0.16;
  group.add(label(`x ${short(x0)} … ${short(x1)}`, toWorld(w, (x0 + x1) / 2, y0, 0), [0, -gap]));
  group.add(label(`y ${short(y0)} … ${short(y1)}`, toWorld(w, x1, (y0 + y1) / 2, 0), [gap, 0]));
  group.add(label("f", toWorld(w, x0, y1, HEIGHT), [0, 0, 0.08]));
  return group;
}

/** A text sprite at world point `at`, moved by `shift`, `size` high; a coloured one is outlined dark. */
function label(text, at, shift, color = "#1d2330", size = 0.1) {
  const T = three;
  const canvas = document.createElement("canvas");
  const ctx = canvas.getContext("2d");
  const font = "28px system-ui, sans-serif";
  ctx.font = font;
  canvas.width = Math.ceil(ctx.measureText(text).width) + 8; canvas.height = 36;
  ctx.font = font; ctx.fillStyle = color; ctx.textBaseline = "middle";
  if (color !== "#1d2330") { ctx.lineWidth = 5; ctx.strokeStyle = "#111"; ctx.strokeText(text, 4, 18); }
  ctx.fillText(text, 4, 18);
  const texture = new T.CanvasTexture(canvas);
  texture.colorSpace = T.SRGBColorSpace;
  const sprite = new T.Sprite(new T.SpriteMaterial({ map: texture, depthTest: false }));
  sprite.scale.set((size * canvas.width) / canvas.height, size, 1);
  sprite.position.set(at[0] + shift[0], at[1] + shift[1], at[2] + (shift[2] ?? 0));
  return sprite;
}

// ---------- paths and markers ----------

/** A point's world position, or null when a coordinate or f is not finite or the
 * point is more than FAR away (a runaway, out of the view and of float32's reach): the path ends there. */
function pathPoint(s, p) {
  if (!p || !p.every((v) => typeof v === "number" && Number.isFinite(v))) return null;
  const q = toWorld(s.domain, p[0], p[1], HEIGHT * s.scale.height(p[2]) + LIFT);
  return Math.abs(q[0]) <= FAR && Math.abs(q[1]) <= FAR ? q : null;
}

function buildPaths(s, runs) {
  const T = three;
  for (const p of s.paths) { s.world.remove(p.group); dispose(p.group); p.full?.dispose(); }
  const canvas = s.renderer.domElement;
  s.paths = runs.map((run, i) => {
    const colour = new T.Color(page.colors[i % page.colors.length]);
    const points = [];
    for (const p of run.points) {
      const q = pathPoint(s, p);
      if (!q) break;
      points.push(...q);
    }
    const count = points.length / 3;
    const group = new T.Group();
    const kept = thinned(points);
    const path = { group, points, count, kept, lines: [], full: null };
    if (kept.length >= 2) {
      path.full = segments(points, kept);
      // solid where the path is in sight, faint where a hill hides it
      for (const [opacity, depthTest] of [[1, true], [0.3, false]]) {
        const material = new addons.LineMaterial({
          color: colour, linewidth: 2.5, transparent: opacity < 1, opacity, depthTest, clippingPlanes: s.clip,
        });
        material.resolution.set(canvas.clientWidth || 1, canvas.clientHeight || 1);
        const line = new addons.LineSegments2(path.full, material);
        line.renderOrder = depthTest ? 0 : -1;
        path.lines.push(line);
        group.add(line);
      }
    }
    path.marker = new T.Mesh(new T.SphereGeometry(0.042, 20, 14), new T.MeshLambertMaterial({ color: colour, clippingPlanes: s.clip }));
    const outline = new T.Mesh(path.marker.geometry, new T.MeshBasicMaterial({ color: 0x111111, side: T.BackSide, clippingPlanes: s.clip }));
    outline.scale.setScalar(1.22);
    path.marker.add(outline);
    path.ring = new T.Mesh(new T.TorusGeometry(0.06, 0.01, 8, 32), new T.MeshBasicMaterial({ color: 0xffffff, clippingPlanes: s.clip }));
    group.add(path.marker, path.ring);
    // a runaway gets ✕ where it leaves the view, as on the contour
    if (runaway(run)) {
      path.exit = exitIndex(run);
      const [x, y, f] = run.points[path.exit];
      const { x: dx, y: dy } = s.domain.domain;
      const at = toWorld(s.domain, Math.min(dx[1], Math.max(dx[0], x)), Math.min(dy[1], Math.max(dy[0], y)), HEIGHT * s.scale.height(f) + LIFT);
      path.cross = label("✕", at, [0, 0, 0.05], page.colors[i % page.colors.length], 0.16);
      group.add(path.cross);
    }
    s.world.add(group);
    return path;
  });
  if (!s.start) {
    s.start = new T.Mesh(new T.TorusGeometry(0.07, 0.013, 8, 40), new T.MeshBasicMaterial({ color: 0xffffff }));
    s.world.add(s.start);
  }
  Object.assign(window.__downhill.view3d, {
    paths: s.paths.filter((p) => p.count > 0).length, drawnPoints: s.paths.map((p) => p.count), drawnRuns: runs,
    segments: s.paths.reduce((n, p) => n + Math.max(0, p.kept.length - 1), 0),
  });
}

/** Half the side of the square (world units) segments are cut to before they
 * reach the GPU, which cuts them at the domain: far ends (10³ out and more)
 * would make its clipping inexact. */
const BOX = 3;

/** The line through `points` at `indices`, as segments cut to the square |x|, |y| ≤ BOX
 * (a segment wholly outside becomes a point outside the domain, which the clipping planes drop). */
function segments(points, indices) {
  const out = new Float32Array(6 * Math.max(0, indices.length - 1));
  for (let j = 0; j + 1 < indices.length; j++) {
    const [a, b] = [indices[j], indices[j + 1]].map((k) => points.slice(3 * k, 3 * k + 3));
    const cut = clipSegment(a, b, BOX) ?? [[BOX, BOX, 0], [BOX, BOX, 0]];
    out.set([...cut[0], ...cut[1]], 6 * j);
  }
  return new addons.LineSegmentsGeometry().setPositions(out);
}

/** The part of segment a–b with |x|, |y| ≤ r (Liang–Barsky), or null. */
export function clipSegment(a, b, r) {
  let t0 = 0, t1 = 1;
  for (const c of [0, 1]) {
    const d = b[c] - a[c];
    for (const [p, q] of [[-d, a[c] + r], [d, r - a[c]]]) {
      if (p === 0) { if (q < 0) return null; continue; }
      const t = q / p;
      if (p < 0) { if (t > t1) return null; t0 = Math.max(t0, t); } else { if (t < t0) return null; t1 = Math.min(t1, t); }
    }
  }
  const at = (t) => a.map((v, c) => v + t * (b[c] - v));
  return [at(t0), at(t1)];
}

/** The indices of the points a path's line goes through: the first, then each
 * one at least NEAR from the last kept. */
function thinned(points) {
  const kept = [];
  for (let k = 0, last = -1; 3 * k < points.length; k++) {
    const d = last < 0 ? Infinity : Math.hypot(...[0, 1, 2].map((c) => points[3 * k + c] - points[3 * last + c]));
    if (d >= NEAR) { kept.push(k); last = k; }
  }
  return kept;
}

/** Draws `path` from point `from` to point `k`: the whole path's line up to its
 * last kept point at or before `k` (within NEAR of point k), or (without
 * trails) a new line through its last few points. */
function showTrail(path, from, k) {
  if (!path.full) return;
  const shown = path.lines[0].geometry;
  let geometry = path.full;
  if (from > 0) geometry = segments(path.points, Array.from({ length: k - from + 1 }, (_, j) => from + j));
  // band() counts the sorted kept indices at most k
  else path.full.instanceCount = Math.max(0, band(path.kept, k) - 1);
  if (shown !== path.full && shown !== geometry) shown.dispose();
  for (const line of path.lines) line.geometry = geometry;
}

/** The paths drawn up to step `frame`, a marker at that step, rings at a hovered chart step, the start. */
function placeMarkers(s, runs, frame, hover) {
  const at = (path, k) => path.points.slice(3 * k, 3 * k + 3);
  let markers = 0, rings = 0;
  const positions = [];
  s.paths.forEach((path) => {
    const k = Math.min(frame, path.count - 1);
    // the whole trail, or its last 8 steps, as the contour draws it
    showTrail(path, trails() ? 0 : Math.max(0, k - 8), k);
    path.marker.visible = k >= 0;
    if (k >= 0) {
      path.marker.position.set(...at(path, k));
      positions.push(at(path, k));
      markers++;
    }
    if (path.cross) path.cross.visible = frame >= path.exit;
    const h = hover === null ? -1 : Math.min(hover, path.count - 1);
    path.ring.visible = h >= 0;
    if (h >= 0) { path.ring.position.set(...at(path, h)); rings++; }
  });
  const [x, y] = page.startPoint();
  const f = runs.find((r) => r.points.length)?.points[0]?.[2];
  const q = pathPoint(s, [x, y, f ?? NaN]);
  s.start.visible = q !== null;
  if (q) s.start.position.set(...q);
  const crosses = s.paths.filter((p) => p.cross?.visible).length;
  Object.assign(window.__downhill.view3d, { markers, rings, crosses, frame, positions });
}

function clear(s, key) {
  if (!s[key]) return;
  s.world.remove(s[key]);
  dispose(s[key]);
  s[key] = null;
}

function dispose(object) {
  object.traverse((o) => {
    o.geometry?.dispose();
    o.material?.map?.dispose();
    o.material?.dispose();
  });
}
