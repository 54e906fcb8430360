// End-to-end checks of the sweep tab's phase diagram (issue 15, item 11): the
// grid has a cell per lr × value, hovering shows a cell's numbers, and
// clicking a cell opens its run (that lr and key value) in the Paths tab,
// ending at the loss the cell reported.
//
// usage: node e2e/phase.mjs DOWNHILL_BINARY SCREENSHOT.png
import { check, session } from "./harness.mjs";

const [binary, screenshot] = process.argv.slice(2);

await session(binary, screenshot, async (open) => {
  const page = await open("/#surface=quartic&start=1,-0.5&steps=200&opt=gd%3Alr%3D0.01&opt=momentum%3Alr%3D0.01%2Cmomentum%3D0.95&tab=sweep");
  await page.selectOption("#phase-opt", "1");
  check(await page.inputValue("#phase-key") === "momentum", "the momentum card offers its key momentum");
  await page.fill("#phase-values", "0,0.5,0.9");
  await page.fill("#phase-lo", "0.001");
  await page.fill("#phase-hi", "0.1");
  await page.fill("#phase-n", "5");
  await page.fill("#phase-steps", "150");
  await page.click("#phase-run");
  await page.waitForFunction(() => document.getElementById("phase").dataset.cells === "15", null, { timeout: 20000 });
  check(true, "the phase diagram draws 3 values × 5 learning rates = 15 cells");
  const sweep = await page.evaluate(() => window.__downhill.phase.result().sweep);
  check(sweep.key === "momentum" && sweep.values.join() === "0,0.5,0.9" && sweep.specs.flat().length === 15,
    "the answer has a row per value and a spec per cell");

  // hover: the numbers of the cell under the pointer
  const [r, c] = [1, 3];
  const [x, y] = await page.evaluate(([r, c]) => window.__downhill.phase.center(r, c), [r, c]);
  await page.mouse.move(x, y);
  const tip = await page.textContent("#phase-tip");
  check(await page.isVisible("#phase-tip") && tip.includes(`momentum = 0.5, lr = ${sweep.lrs[c]}`) && tip.includes("final loss"),
    `hovering a cell shows its numbers (${tip.split("\n")[0]})`);

  // click: the cell's run in the Paths tab
  await page.mouse.click(x, y);
  await page.waitForFunction(() => window.__downhill.state.tab === "paths" &&
    (window.__downhill.view.runs[1]?.optimizer ?? "").includes("momentum=0.5"), null, { timeout: 20000 });
  await page.settle();
  const run = await page.evaluate(() => window.__downhill.view.runs[1]);
  const spec = run.optimizer;
  const keys = Object.fromEntries(spec.split(":")[1].split(",").map((kv) => kv.split("=")));
  check(Number(keys.lr) === sweep.lrs[c] && Number(keys.momentum) === 0.5,
    `clicking the cell runs ${spec} (lr ${sweep.lrs[c]}, momentum 0.5)`);
  const last = run.points[run.points.length - 1];
  check(run.points.length === 151 && last[2] === sweep.final_loss[r][c],
    `that run ends at the cell's final loss ${sweep.final_loss[r][c]}`);
  check(await page.evaluate(() => window.__downhill.view.runs[0].optimizer) === "gd:lr=0.01", "the other card is kept");

  // steps to a tolerance, with a diverged corner
  await page.click("#tab-sweep");
  await page.selectOption("#phase-opt", "0");
  check(await page.inputValue("#phase-key") === "weight_decay", "gd offers weight_decay");
  await page.selectOption("#phase-opt", "1");
  await page.fill("#phase-values", "0.5,0.9");
  await page.fill("#phase-lo", "0.01");
  await page.fill("#phase-hi", "1");
  await page.fill("#phase-n", "3");
  await page.selectOption("#phase-metric", "steps-to");
  await page.fill("#phase-tol", "0.01");
  await page.click("#phase-run");
  await page.waitForFunction(() => document.getElementById("phase").dataset.metric === "steps-to", null, { timeout: 20000 });
  const steps = await page.evaluate(() => window.__downhill.phase.result().sweep);
  const reached = steps.steps_to_tolerance.flat().filter((s) => s !== null);
  check(await page.getAttribute("#phase", "data-cells") === "6" && steps.criterion === "steps-to=0.01" &&
    reached.length > 0 && reached.every((s) => s > 0 && s <= 150) && steps.diverged_at.every((row) => row[2] !== null),
    `steps to 0.01: ${JSON.stringify(steps.steps_to_tolerance)}; lr 1 diverges`);
  const [sx, sy] = await page.evaluate(() => window.__downhill.phase.center(0, 2));
  await page.mouse.move(sx, sy);
  check((await page.textContent("#phase-tip")).includes("diverged at step"), "a diverged cell's tip says where it diverged");
  await page.locator("#phase").screenshot({ path: screenshot });
  await page.fill("#phase-values", "0,x");
  await page.click("#phase-run");
  check(await page.isVisible("#phase-error") && (await page.textContent("#phase-error")).includes("numbers separated by commas"),
    "values that are not numbers are refused inline");
});
