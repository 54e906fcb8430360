// End-to-end checks of the paths view (issue 15): the contour's axes, aspect
// and colour bar, the state table at 1400 px, the overlay arrows and their key,
// the phone layout with touch, and the presets.
//
// usage: node e2e/view.mjs DOWNHILL_BINARY SCREENSHOT.png
import { check, session } from "./harness.mjs";

const [binary, screenshot] = process.argv.slice(2);
const data = (page, sel, name) => page.getAttribute(sel, `data-${name}`);

await session(binary, screenshot, async (open) => {
  // 3. anisotropic's [−10, 10] × [−5, 5] is drawn twice as wide as high, with axes and a colour bar
  let page = await open("/#surface=anisotropic");
  let [, , w, h] = (await data(page, "#contour", "plot")).split(",").map(Number);
  check(Math.abs(w / h - 2) < 0.01, `equal aspect: the plot is ${w} × ${h} px for a 20 × 10 domain`);
  const [xt, yt, bar] = (await data(page, "#contour", "ticks")).split(",").map(Number);
  check(xt >= 4 && yt >= 2 && bar >= 3, `ticks on both axes (${xt}, ${yt}) and a labelled colour bar (${bar} labels)`);
  await page.click("#ov-stretch");
  [, , w, h] = (await data(page, "#contour", "plot")).split(",").map(Number);
  check(Math.abs(w - 476) < 1 && Math.abs(h - 550) < 1 && page.url().includes("stretch"), `'stretch to fill' fills the whole ${w} × ${h} px room and is in the link`);

  // 4. the state table at 1400 px: no number or name broken over two lines
  page = await open("/#surface=rosenbrock&steps=300&opt=momentum%3Alr%3D0.0001%2Cmomentum%3D0.9&opt=adam%3Alr%3D0.0123&opt=nag%3Alr%3D0.0002");
  const broken = await page.evaluate(() => {
    const out = [];
    const walker = document.createTreeWalker(document.getElementById("readout"), NodeFilter.SHOW_TEXT);
    for (let n = walker.nextNode(); n; n = walker.nextNode()) {
      const range = document.createRange(); range.selectNodeContents(n);
      if (range.getClientRects().length > 1) out.push(n.textContent);
    }
    return out;
  });
  const cells = await page.locator("#readout td").count();
  check(cells === 21 && broken.length === 0, `the state table's ${cells} cells wrap inside nothing${broken.length ? ": " + broken.join(" | ") : ""}`);

  // 5. overlays: −∇f lengths in proportion to |∇f|, displacements magnified by a stated factor, a key
  await page.fill("#frame", "40");
  await page.locator("#frame").dispatchEvent("input");
  const arrows = JSON.parse(await data(page, "#contour", "arrows"));
  const norms = await page.evaluate(() => window.__downhill.view.runs.map((r) => Math.hypot(...r.overlays.gradient[40])));
  const scale = await page.evaluate(() => window.__downhill.view.scale.gradient);
  const proportional = arrows.every((a, i) => Math.min(a.gradient, 160) === a.gradient ? Math.abs(a.gradient - norms[i] * scale) < 1e-6 * a.gradient : true);
  const unclipped = arrows.filter((a) => a.gradient < 160).length;
  check(proportional && unclipped >= 2, `−∇f arrows are ${scale.toPrecision(3)} px per unit of |∇f| (${arrows.map((a) => a.gradient.toFixed(1)).join(", ")} px)`);
  const key = await page.textContent("#overlay-key");
  const magnify = Number(await data(page, "#overlay-key", "magnify"));
  check(key.includes("px = |∇f|") && key.includes("velocity") && (magnify > 1) === key.includes(`×${magnify}`),
    `the key names every arrow and its scale (displacements ×${magnify})`);
  await page.screenshot({ path: screenshot });

  // 6. a phone: no horizontal overflow, taps instead of hover
  page = await open("/#surface=quartic", { viewport: { width: 390, height: 844 }, hasTouch: true, isMobile: true });
  const width = await page.evaluate(() => document.documentElement.scrollWidth);
  check(width <= 390, `at 390 px the page is ${width} px wide`);
  await page.locator("#loss-chart").scrollIntoViewIfNeeded();
  await page.tap("#loss-chart");
  await page.waitForSelector("#chart-tip:not([hidden])", { timeout: 5000 });
  check((await page.textContent("#chart-tip")).startsWith("step "), "tapping a chart shows its values");
  await page.locator("#contour").scrollIntoViewIfNeeded();
  await page.tap("#contour");
  await page.waitForSelector("#contour-tip:not([hidden])", { timeout: 5000 });
  check((await page.textContent("#contour-tip")).includes("∇f") && (await page.textContent("#chart-tip")) !== null,
    "tapping the contour shows f and ∇f there");
  await page.screenshot({ path: screenshot.replace(/\.png$/, "-phone.png"), fullPage: true });

  // 13. presets: one click sets the whole view and shows a caption
  page = await open("/");
  const ids = await page.locator(".preset").evaluateAll((bs) => bs.map((b) => b.dataset.preset));
  check(ids.length === 9, `nine presets (${ids.join(", ")})`);
  const finals = {};
  const crosses = {};
  for (const id of ids) {
    await page.click(`.preset[data-preset="${id}"]`);
    await page.waitForFunction((want) => document.getElementById("preset-caption").dataset.preset === want &&
      !document.body.dataset.busy && (() => {
        // the runs drawn are this preset's: its surface and its optimizers
        const want = new URLSearchParams(location.hash.slice(1));
        const view = window.__downhill.view;
        return view.runsSurface === want.get("surface") && view.runs.map((r) => r.optimizer).join(" ") === want.getAll("opt").join(" ");
      })(), id, { timeout: 20000 });
    await page.settle();
    finals[id] = await page.evaluate(() => window.__downhill.view.runs.map((r) => ({ last: r.points[r.points.length - 1], diverged: r.diverged })));
    crosses[id] = await data(page, "#contour", "crosses");
  }
  check(await page.isVisible("#preset-caption") && (await page.textContent("#preset-caption")).length > 40, "each preset shows its caption");
  const [gd, momentum] = finals.plateau;
  check(Math.abs(gd.last[0]) < 0.5 && Math.abs(momentum.last[0] + 1.5) < 0.05,
    `quartic: GD stalls at x = ${gd.last[0].toFixed(3)}, momentum reaches x = ${momentum.last[0].toFixed(3)}`);
  const [ok, osc, bad] = finals.divergence;
  check(Math.hypot(ok.last[0], ok.last[1]) < 1e-6 && Math.hypot(osc.last[0], osc.last[1]) < 1.8 && Math.hypot(bad.last[0], bad.last[1]) > 1e3,
    "too large lr: 0.4 converges, 0.95 oscillates in, 1.05 runs away");
  check(crosses.divergence === "1", "and the runaway is marked ✕");
});
