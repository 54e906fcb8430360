// End-to-end checks of the Explain panel (issue 15, item 10): Adam's update
// at a step as MathML with the numbers /api/explain returned, stepping back and
// forth with the playback, the step reproducing the run's own move, and a
// rule the library has no equations for showing its state.
//
// usage: node e2e/explain.mjs DOWNHILL_BINARY SCREENSHOT.png
import { check, session } from "./harness.mjs";

const [binary, screenshot] = process.argv.slice(2);

await session(binary, screenshot, async (open) => {
  const page = await open("/#surface=anisotropic&start=4,-3&steps=40&opt=adam%3Alr%3D0.3&opt=lion%3Alr%3D0.05");
  await page.click("#explain summary");
  const shown = (step) => page.waitForFunction((s) => window.__downhill.explain?.step === s && window.__downhill.explain.doc,
    step, { timeout: 10000 });
  await shown(40);
  check(await page.inputValue("#explain-step") === "40", "the panel opens at the playback step (40)");

  /** The numbers the page shows, by key, for the coordinate chosen. */
  const displayed = () => page.evaluate(() => Object.fromEntries([...document.querySelectorAll("#explain-math .value")]
    .map((e) => [e.dataset.key, Number(e.dataset.value)])));
  /** What the API answers for the same step, asked directly. */
  const api = (step) => page.evaluate((step) => fetch("/api/explain", {
    method: "POST", headers: { "content-type": "application/json" },
    body: JSON.stringify({ surface: "anisotropic", start: [4, -3], optimizer: "adam:lr=0.3", step }),
  }).then((r) => r.json()), step);

  await page.click("#explain-prev");
  await shown(39);
  check(await page.evaluate(() => window.__downhill.view.frame) === 39, "◀ moves the explained step and the playback to 39");
  for (const step of [39, 40]) {
    if (step === 40) { await page.click("#explain-next"); await shown(40); }
    const expected = await api(step);
    const values = await displayed();
    const keys = ["g[t]", "m[t]", "v[t]", "m̂[t]", "v̂[t]", "Δθ[t]", "θ[t]"];
    check(keys.every((k) => values[k] === expected.values[k][0]),
      `step ${step}: the MathML shows the API's g, m, v, m̂, v̂, Δθ, θ (m̂ = ${values["m̂[t]"]}, Δθ = ${values["Δθ[t]"]})`);
    const mathml = await page.evaluate(() => [...document.querySelectorAll("#explain-math math")].length);
    const text = await page.textContent("#explain-math");
    check(mathml >= 14 && text.includes("β") && text.includes("0.9"), `step ${step}: ${mathml} MathML equations, the numbers substituted (β₁ = 0.9)`);
    const points = await page.evaluate(() => window.__downhill.view.runs[0].points);
    const moved = points[step][0] - points[step - 1][0];
    check(Math.abs(values["Δθ[t]"] - moved) < 1e-12 && values["θ[t]"] === points[step][0],
      `step ${step}: −η·m̂/(√v̂ + ε) = ${values["Δθ[t]"]} is the run's own move θ_t − θ_{t−1} = ${moved}`);
  }
  // the playback slider moves the explanation
  await page.fill("#frame", "25");
  await page.locator("#frame").dispatchEvent("input");
  await shown(25);
  const at25 = await displayed(), expected25 = await api(25);
  check(at25["Δθ[t]"] === expected25.values["Δθ[t]"][0], "moving the playback slider to 25 explains update 25");
  await page.click("#explain-next");
  await shown(26);
  await page.fill("#explain-step", "40");
  await page.locator("#explain-step").dispatchEvent("change");
  await shown(40);
  // the y coordinate
  await page.selectOption("#explain-coord", "1");
  const y = await displayed(), expected = await api(40);
  check(y["m̂[t]"] === expected.values["m̂[t]"][1], `the y coordinate shows the API's m̂ = ${y["m̂[t]"]}`);
  await page.screenshot({ path: screenshot, fullPage: true });

  // a rule without equations: its summary and state instead of nothing
  await page.selectOption("#explain-run", "1");
  await page.waitForFunction(() => window.__downhill.explain?.run === 1 && window.__downhill.explain.doc?.rule === "lion", null, { timeout: 10000 });
  const state = await page.textContent("#explain-math");
  check(state.includes("no equations for lion") && state.includes("exp_avg"), "lion shows its state before and after the step");

  // a phone: the open panel keeps the page as wide as the screen (long equations scroll)
  const phone = await open("/#surface=rosenbrock&start=-1,1&steps=20&opt=nag%3Alr%3D0.0005",
    { viewport: { width: 390, height: 844 }, hasTouch: true, isMobile: true });
  await phone.tap("#explain summary");
  await phone.waitForFunction(() => window.__downhill.explain?.step === 20, null, { timeout: 10000 });
  const width = await phone.evaluate(() => document.documentElement.scrollWidth);
  check(width <= 390, `at 390 px with NAG explained the page is ${width} px wide`);
});
