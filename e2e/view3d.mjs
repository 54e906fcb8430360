// End-to-end checks of the 3-D view (issue 15, item 9): it renders with the
// vendored three.js and nothing from the network, draws one path per run,
// rotates on a drag and zooms on the wheel, follows playback, new runs and a new
// surface (holes where f is undefined), and works on a phone.
//
// usage: node e2e/view3d.mjs DOWNHILL_BINARY SCREENSHOT.png
import { check, session } from "./harness.mjs";

const [binary, screenshot] = process.argv.slice(2);
const info = (page) => page.evaluate(() => {
  const { view3d, runs, view } = window.__downhill;
  return { ...view3d, runs, frame: view.frame, pixels: view3d.pixels?.() };
});

/** Waits until the 3-D view has drawn the page's current runs at its current step. */
const drawnNow = (page, timeout = 20000) => page.waitForFunction(() => {
  const { view3d, view } = window.__downhill;
  return !document.body.dataset.busy && view3d.frame === view.frame && view3d.paths === view.runs.filter((r) => r.points.length).length &&
    view3d.drawnRuns === view.runs;
}, null, { timeout });

/** Drags on the 3-D canvas from its centre by (dx, dy) pixels. */
async function drag(page, dx, dy) {
  const box = await page.locator("#view3d").boundingBox();
  const [x, y] = [box.x + box.width / 2, box.y + box.height / 2];
  await page.mouse.move(x, y);
  await page.mouse.down();
  for (let k = 1; k <= 8; k++) await page.mouse.move(x + (dx * k) / 8, y + (dy * k) / 8);
  await page.mouse.up();
}

await session(binary, screenshot, async (open) => {
  let page = await open("/#surface=himmelblau&start=-0.5,-4&steps=150&opt=gd%3Alr%3D0.01&opt=momentum%3Alr%3D0.005%2Cmomentum%3D0.9&opt=adam%3Alr%3D0.2");
  const origin = new URL(page.url()).origin;
  await page.click("#show-3d");
  await drawnNow(page);
  let now = await info(page);
  check(await page.isHidden("#contour") && await page.isVisible("#view3d") && page.url().includes("3d"),
    "the 3-D button shows the 3-D view in the contour's place, and the link says so");
  check(now.pixels.painted > 0.3 * now.pixels.width * now.pixels.height,
    `the 3-D canvas is drawn: ${now.pixels.painted} of ${now.pixels.width} × ${now.pixels.height} pixels differ from the background`);
  check(now.runs === 3 && now.paths === 3 && now.markers === 3, `one path and one marker per run (${now.paths} paths, ${now.markers} markers, ${now.runs} runs)`);
  const note = await page.textContent("#view3d-note");
  check(/height: (f from|log10)/.test(note) && now.triangles === 2 * 219 * 219, `the note states the height scale ("${note.split(";")[0]}"); ${now.triangles} triangles`);
  const vendor = page.requests.filter((u) => u.includes("/static/vendor/"));
  check(vendor.some((u) => u.endsWith("three.module.min.js")) && vendor.some((u) => u.endsWith("three.core.min.js")) &&
    page.requests.every((u) => u.startsWith(origin)), `three.js comes from the server itself (${vendor.length} vendor files; all ${page.requests.length} requests to ${origin})`);

  // rotate and zoom
  let before = now.pixels.sum;
  await drag(page, 140, 40);
  now = await info(page);
  check(now.pixels.sum !== before, "dragging turns the surface (the image changes)");
  before = now.pixels.sum;
  const box = await page.locator("#view3d").boundingBox();
  await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
  await page.mouse.wheel(0, -400);
  await page.waitForTimeout(100);
  now = await info(page);
  check(now.pixels.sum !== before, "the wheel zooms (the image changes)");

  // playback: the markers move with the step
  const at = async (frame) => {
    await page.fill("#frame", String(frame));
    await page.locator("#frame").dispatchEvent("input");
    await drawnNow(page);
    return info(page);
  };
  const early = await at(5), late = await at(120);
  const moved = early.positions.filter((p, i) => Math.hypot(p[0] - late.positions[i][0], p[1] - late.positions[i][1]) > 1e-3).length;
  check(early.frame === 5 && late.frame === 120 && moved === 3 && early.pixels.sum !== late.pixels.sum,
    `moving the playback step from 5 to 120 moves all ${moved} markers`);
  // the markers sit where the runs are at that step
  const want = await page.evaluate(() => window.__downhill.view.runs.map((r) => r.points[Math.min(120, r.points.length - 1)]));
  const dom = await page.evaluate(() => window.__downhill.view.surfaceInfo.domain);
  const k = 2 / Math.max(dom.x[1] - dom.x[0], dom.y[1] - dom.y[0]);
  const off = late.positions.map((p, i) => Math.hypot(p[0] - (want[i][0] - (dom.x[0] + dom.x[1]) / 2) * k, p[1] - (want[i][1] - (dom.y[0] + dom.y[1]) / 2) * k));
  check(Math.max(...off) < 1e-5, `each marker is at its run's point of step 120 (largest offset ${Math.max(...off).toExponential(1)})`);

  // hovering a chart rings that step's points on the surface too
  const chart = await page.locator("#loss-chart").boundingBox();
  await page.mouse.move(chart.x + chart.width * 0.5, chart.y + chart.height / 2);
  await page.waitForFunction(() => window.__downhill.view.hover !== null && window.__downhill.view3d.rings === 3, null, { timeout: 10000 });
  check(true, `hovering step ${await page.evaluate(() => window.__downhill.view.hover)} of the loss chart rings the 3 paths there`);
  await page.mouse.move(chart.x - 40, chart.y - 40);

  // new runs: one more optimizer adds a path
  await page.click("#add-optimizer");
  await page.waitForFunction(() => window.__downhill.runs === 4, null, { timeout: 20000 });
  await drawnNow(page);
  now = await info(page);
  check(now.paths === 4 && now.markers === 4, `adding an optimizer adds a path (${now.paths})`);

  // a click on the surface (no drag) sets the start
  const startBefore = await page.inputValue("#start-x") + "," + await page.inputValue("#start-y");
  await page.mouse.click(box.x + box.width / 2, box.y + box.height / 2);
  await page.waitForFunction((b) => window.__downhill.state.start && String(window.__downhill.state.start) !== b, startBefore, { timeout: 10000 });
  check(true, `clicking the surface sets the start (${startBefore} → ${await page.evaluate(() => window.__downhill.state.start.join(","))})`);
  await page.screenshot({ path: screenshot });

  // the height scale can be chosen; log states itself
  await page.selectOption("#height-mode", "log");
  await page.waitForFunction(() => window.__downhill.view3d.height === "log", null, { timeout: 10000 });
  check((await page.textContent("#view3d-note")).includes("log10") && page.url().includes("height-log"), "log heights are stated and kept in the link");

  // another surface: the mesh and the paths are rebuilt for it
  const oldNote = await page.textContent("#view3d-note");
  await page.selectOption("#surface-select", "rosenbrock");
  await page.waitForFunction(() => window.__downhill.view.surfaceInfo.domain.x[0] === -2, null, { timeout: 20000 });
  await page.settle();
  await page.waitForFunction(() => window.__downhill.view3d.drawnGrid === window.__downhill.view.grid, null, { timeout: 20000 });
  await drawnNow(page);
  now = await info(page);
  check((await page.textContent("#view3d-note")) !== oldNote && now.paths === 4 && now.pixels.painted > 0.2 * now.pixels.width * now.pixels.height,
    `choosing Rosenbrock redraws the surface and its ${now.paths} paths`);

  // a surface with holes: f = sqrt(x + 1) + y² is undefined for x < −1
  page = await open("/#surface=sqrt(x%2B1)%2By%5E2&start=3,3&show=trails,3d&opt=adam%3Alr%3D0.1&opt=gd%3Alr%3D0.05");
  await drawnNow(page);
  now = await info(page);
  const full = 2 * 219 * 219;
  check(now.triangles > 0.5 * full && now.triangles < 0.65 * full && now.paths === 2 && now.pixels.painted > 0.15 * now.pixels.width * now.pixels.height,
    `NaN cells are holes: ${now.triangles} of ${full} triangles drawn, ${now.paths} paths (a link with show=3d opens in 3-D)`);
  // a run that steps into the hole stops at its last finite point (the server cuts it there)
  page = await open("/#surface=sqrt(x%2B1)%2By%5E2&start=0,1&steps=60&show=trails,3d&opt=gd%3Alr%3D0.5");
  await drawnNow(page);
  now = await info(page);
  const run = await page.evaluate(() => ({ n: window.__downhill.view.runs[0].points.length, diverged: window.__downhill.view.runs[0].diverged }));
  check(run.diverged && now.paths === 1 && now.drawnPoints[0] === run.n, `a run that diverges is drawn to its last point (${now.drawnPoints[0]} of ${run.n})`);
  // a non-finite point in a path (null in the JSON) ends the path there
  await page.evaluate(() => {
    const { view } = window.__downhill;
    const points = view.runs[0].points.map((p, k) => (k === 2 ? [p[0], null, p[2]] : p));
    view.runs = [{ ...view.runs[0], points }];
  });
  await drawnNow(page);
  now = await info(page);
  check(now.drawnPoints[0] === 2 && now.markers === 1, `a path ends before its first non-finite point (${now.drawnPoints[0]} points drawn)`);

  // a runaway is marked ✕ where it leaves the view, from the step it leaves
  page = await open("/#surface=sphere&steps=60&show=trails,3d&opt=gd%3Alr%3D0.4&opt=gd%3Alr%3D1.05");
  await drawnNow(page);
  const leaves = await page.evaluate(() => window.__downhill.view.runs[1].points.findIndex(([x, y]) => Math.abs(x) > 5 || Math.abs(y) > 5));
  const crosses = async (frame) => { await at(frame); return (await info(page)).crosses; };
  check(leaves > 0 && await crosses(leaves - 1) === 0 && await crosses(leaves) === 1 && await page.getAttribute("#contour", "data-crosses") === "1",
    `lr 1.05 leaves the sphere's view at step ${leaves}: ✕ from then on, as on the contour`);

  // segments are cut to the square |x|, |y| ≤ r before the GPU clips them at the domain
  const cuts = await page.evaluate(async () => {
    const { clipSegment } = await import("/static/view3d.js");
    return [clipSegment([0, 0, 0], [10, 0, 1], 3), clipSegment([-1e4, 1, 0], [1e4, 1, 0], 3), clipSegment([4, 4, 0], [5, -9, 0], 3)];
  });
  const near = (got, want) => got.flat().every((v, i) => Math.abs(v - want.flat()[i]) < 1e-9);
  check(near(cuts[0], [[0, 0, 0], [3, 0, 0.3]]) && near(cuts[1], [[-3, 1, 0], [3, 1, 0]]) && cuts[2] === null,
    `a segment is cut at the square's edges, also from as far out as paths go (10⁴), and one outside is dropped`);

  // heights: linear clipped at the top 2 % unless half the grid would lie in the lowest 5 %, then log
  const scales = await page.evaluate(async () => {
    const { heightScale } = await import("/static/view3d.js");
    const even = [...Array.from({ length: 101 }, (_, i) => i), null];
    const steep = Array.from({ length: 101 }, (_, i) => 10 ** (i / 10));
    const a = heightScale(even, "auto"), b = heightScale(steep, "auto"), c = heightScale(even, "log");
    return { a: [a.mode, a.height(0), a.height(49), a.height(98), a.height(100)], b: [b.mode, b.height(1), b.height(1e10), b.height(1e5)],
      c: c.mode, text: b.text };
  });
  check(JSON.stringify(scales.a) === JSON.stringify(["linear", 0, 0.5, 1, 1]) && scales.b[0] === "log" && scales.b[1] === 0 &&
    scales.b[2] === 1 && Math.abs(scales.b[3] - Math.log10((1e5 - 1 + 1e-3 * (1e10 - 1)) / (1e-3 * (1e10 - 1))) / Math.log10(1001)) < 1e-12 &&
    scales.c === "log" && scales.text.startsWith("height: log10(f − 1 + δ)"),
    `heights: 0…100 evenly is linear, clipped at 98 (${scales.a.slice(1).join(", ")}); 10^0…10^10 is log ("${scales.text}")`);

  // long runs: a line skips points within half a pixel of the last one it kept, so 4 × 20 000 steps stay quick to draw
  page = await open(`/#surface=rosenbrock&steps=20000&show=trails,3d&${[1, 2, 3, 4].map((i) => "opt=" + encodeURIComponent(`adam:lr=${0.01 * i}`)).join("&")}`);
  await drawnNow(page, 60000);
  now = await info(page);
  const points = now.drawnPoints.reduce((a, b) => a + b, 0);
  const ms = await page.evaluate(() => { const t = performance.now(); window.__downhill.view3d.pixels(); return performance.now() - t; });
  check(now.paths === 4 && points === 4 * 20001 && now.segments < 0.1 * points && now.segments > 100,
    `4 runs of 20 000 steps: ${now.segments} line segments for ${points} points; one frame in ${ms.toFixed(0)} ms (software WebGL)`);

  // without WebGL the view says why and the contour stays
  page = await open("/#surface=quartic");
  await page.addInitScript(() => {
    const get = HTMLCanvasElement.prototype.getContext;
    HTMLCanvasElement.prototype.getContext = function (kind, ...rest) { return /webgl/.test(kind) ? null : get.call(this, kind, ...rest); };
  });
  await page.reload();
  await page.settle();
  await page.click("#show-3d");
  await page.waitForFunction(() => /cannot start/.test(document.getElementById("view3d-note").textContent), null, { timeout: 20000 });
  check(await page.isVisible("#contour") && await page.isHidden("#view3d"),
    `without WebGL: "${(await page.textContent("#view3d-note")).slice(0, 60)}…", and the contour stays`);
  // three.js logs the missing context as an error: expected here, not a problem of the page
  page.problems = page.problems.filter((p) => !/WebGL/.test(p));

  // a phone: the switch and the view fit, drawing works
  page = await open("/#surface=quartic&show=trails,3d", { viewport: { width: 390, height: 844 }, hasTouch: true, isMobile: true });
  await drawnNow(page);
  now = await info(page);
  const width = await page.evaluate(() => document.documentElement.scrollWidth);
  check(width <= 390 && now.pixels.width > 300 && now.pixels.painted > 0.3 * now.pixels.width * now.pixels.height,
    `at 390 px the page is ${width} px wide and the 3-D view ${now.pixels.width} px wide, drawn`);
  // a pinch (two fingers apart) zooms in
  await page.locator("#view3d").scrollIntoViewIfNeeded();
  const pad = await page.locator("#view3d").boundingBox();
  const cdp = await page.context().newCDPSession(page);
  const [cx, cy] = [pad.x + pad.width / 2, pad.y + pad.height / 2];
  const fingers = (d) => [{ x: cx - d, y: cy, id: 1 }, { x: cx + d, y: cy, id: 2 }];
  const far = now.distance;
  await cdp.send("Input.dispatchTouchEvent", { type: "touchStart", touchPoints: fingers(20) });
  for (let d = 30; d <= 120; d += 10) await cdp.send("Input.dispatchTouchEvent", { type: "touchMove", touchPoints: fingers(d) });
  await cdp.send("Input.dispatchTouchEvent", { type: "touchEnd", touchPoints: [] });
  now = await info(page);
  check(now.distance < 0.8 * far, `a pinch zooms in (camera distance ${far.toFixed(2)} → ${now.distance.toFixed(2)})`);
  await page.screenshot({ path: screenshot.replace(/\.png$/, "-phone.png") });
});
