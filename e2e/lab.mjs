// End-to-end checks of what used to break the playground (issue 15): a start
// where f is undefined, a diverging run among bounded ones, and the limits the
// page used to apply silently (steps, overlays, a mistyped formula in the link).
//
// usage: node e2e/lab.mjs DOWNHILL_BINARY SCREENSHOT.png
import { check, session } from "./harness.mjs";

const [binary, screenshot] = process.argv.slice(2);
const attr = (page, sel, name) => page.getAttribute(sel, name);

/** Clicks the contour at the surface point (x, y). */
async function clickAt(page, x, y) {
  const { domain } = await page.evaluate(() => window.__downhill.view.surfaceInfo);
  const box = await page.locator("#contour").boundingBox();
  await page.mouse.click(box.x + box.width * (x - domain.x[0]) / (domain.x[1] - domain.x[0]),
    box.y + box.height * (1 - (y - domain.y[0]) / (domain.y[1] - domain.y[0])));
}

await session(binary, screenshot, async (open) => {
  // 1. f undefined at the start: the link of the issue, then an explicit start at x < 0
  let page = await open("/#surface=log(x)%2By%5E2");
  check(await page.evaluate(() => window.__downhill.ready), "the page starts on log(x) + y^2");
  const steps = await page.inputValue("#steps");
  check(steps === String(await page.evaluate(() => window.__downhill.state.steps)) && steps !== "",
    `a link without steps shows the steps run (${steps})`);
  page = await open("/#surface=log(x)%2By%5E2&start=-1,0.5");
  const message = await page.textContent("#start-error");
  check(await page.isVisible("#start-error") && message.includes("undefined at the start (-1, 0.5)") && /grey \d+%/.test(message),
    `a start where f is undefined says so inline (${message})`);
  check(await attr(page, "#contour", "data-paths") === "0" && await attr(page, "#loss-chart", "data-points") === "0",
    "no path and no curve are drawn from it");
  const before = page.requests.length;
  await clickAt(page, 1, 0.5);
  await page.waitForFunction(() => document.getElementById("start-error").hidden, null, { timeout: 10000 });
  await page.settle();
  check(page.requests.slice(before).some((u) => u.endsWith("/api/run")) && await attr(page, "#contour", "data-paths") === "3",
    "clicking where f is defined moves the start and runs again");
  // typed mid-session: the old surface's curves do not stay
  await page.fill("#formula", "sqrt(-1) + x^2");
  await page.waitForFunction(() => !document.getElementById("start-error").hidden, null, { timeout: 10000 });
  await page.settle();
  check(await attr(page, "#loss-chart", "data-points") === "0" && await attr(page, "#x-chart", "data-points") === "0",
    "a formula undefined everywhere clears the previous curves");
  await page.fill("#start-x", "0.5");
  await page.locator("#start-x").dispatchEvent("change");
  await page.settle();
  check(await page.evaluate(() => window.__downhill.startError !== null), "and moving the start keeps the page working");

  // 2. one run diverges (gd with lr 1000 on the sphere), two stay bounded
  const long = "sgd:lr=1000,momentum=0,dampening=0,weight_decay=0,nesterov=false,maximize=false";
  page = await open(`/#surface=sphere&steps=200&opt=${encodeURIComponent(long)}&opt=gd%3Alr%3D0.1&opt=adam%3Alr%3D0.05`);
  const runs = await page.evaluate(() => window.__downhill.view.runs.map((r) => r.diverged?.step ?? null));
  check(runs[0] !== null && runs[1] === null && runs[2] === null, `the lr = 1000 run diverges at step ${runs[0]}`);
  for (const [id, col] of [["x-chart", 0], ["y-chart", 1]]) {
    const bounded = await page.evaluate((c) => {
      const v = window.__downhill.view.runs.slice(1).flatMap((r) => r.points.map((p) => p[c]));
      return [Math.min(...v), Math.max(...v)];
    }, col);
    const [lo, hi] = (await attr(page, `#${id}`, "data-range")).split(",").map(Number);
    const span = bounded[1] - bounded[0];
    check(lo <= bounded[0] && hi >= bounded[1] && hi - lo < 1.2 * span && await attr(page, `#${id}`, "data-cut") === "1",
      `${id} spans the bounded runs [${bounded.map((v) => v.toPrecision(3))}] (axis ${lo.toPrecision(3)}..${hi.toPrecision(3)}); the runaway is cut and marked`);
  }
  check(await attr(page, "#contour", "data-crosses") === "1", "a ✕ marks where the runaway leaves the contour");
  const legend = Number(await attr(page, "#contour", "data-legend-width"));
  check(legend > 40 && legend < 0.5 * (await page.evaluate(() => document.getElementById("contour").width)), `the legend stays narrow (${legend} px)`);
  await page.screenshot({ path: screenshot });

  // 8. no silent limits
  page = await open("/#surface=sphere&steps=100000");
  check(await page.isVisible("#steps-error") && (await page.textContent("#steps-error")).includes("from 1 to 20000, got 100000") &&
    await page.inputValue("#steps") === "200", "steps above the limit are refused with a message, not silently capped");
  const ten = Array.from({ length: 10 }, (_, i) => `opt=gd%3Alr%3D0.00${i + 1}`).join("&");
  page = await open(`/#surface=sphere&steps=20000&${ten}`);
  check(await page.isVisible("#overlay-note") && (await page.textContent("#overlay-note")).includes("Overlays are off") &&
    await attr(page, "#contour", "data-paths") === "10" && await page.evaluate(() => window.__downhill.runError === null),
    "10 optimizers × 20000 steps are drawn without overlays, and the page says so");
  await page.fill("#formula", "x^^2 + y");
  await page.waitForSelector("#formula-error:not([hidden])", { timeout: 10000 });
  await page.click("#ov-trails"); // any change rewrites the link
  check(!page.url().includes("%5E%5E") && page.url().includes("surface=sphere"), "a mistyped formula is not written into the link");
});
