// End-to-end checks of the Tune button (issue 15, item 12): every card's lr
// becomes the best lr that POST /api/tune finds for it, the tuned optimizers
// run side by side and the link names them; a bad grid is refused inline.
//
// usage: node e2e/tune.mjs DOWNHILL_BINARY SCREENSHOT.png
import { check, session } from "./harness.mjs";

const [binary, screenshot] = process.argv.slice(2);

/** The lr shown by each optimizer card. */
const cardLrs = (page) => page.$$eval("#optimizers .opt .key[data-key=lr] input.exact", (inputs) => inputs.map((i) => Number(i.value)));

/** What POST /api/tune answers for `optimizers` on the page's surface, asked by the test itself. */
const api = (page, optimizers, extra) => page.evaluate(async ([optimizers, extra]) => {
  const { state } = window.__downhill;
  const body = { surface: state.surface, start: [1, -0.5], optimizers, steps: state.steps, ...extra };
  const answer = await fetch("/api/tune", { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
  return answer.json();
}, [optimizers, extra]);

const SPECS = ["gd:lr=0.01", "momentum:lr=0.01,momentum=0.95", "adam:lr=0.1"];
const hash = `/#surface=quartic&start=1,-0.5&steps=200&${SPECS.map((s) => `opt=${encodeURIComponent(s)}`).join("&")}`;

/** Clicks Tune and waits until the tuned runs are drawn. */
async function tune(page) {
  await page.evaluate(() => { window.__downhill.view.tune = null; });
  await page.click("#tune-run");
  await page.waitForFunction(() => window.__downhill.view.tune, null, { timeout: 30000 });
  await page.settle();
}

await session(binary, screenshot, async (open) => {
  const page = await open(hash);

  // final loss (the default), on the default grid 1e-4 … 1, 13 values
  const want = await api(page, SPECS, {});
  await tune(page);
  const best = want.results.map((r) => r.lr);
  check(want.criterion === "final-loss" && best.every((lr) => lr !== null), `the API's best lrs by final loss: ${best.join(", ")}`);
  check(JSON.stringify(await cardLrs(page)) === JSON.stringify(best), `each card's lr is its best lr (${(await cardLrs(page)).join(", ")})`);
  const tunedSpecs = ["gd:lr=", "momentum:lr=", "adam:lr="].map((head, i) => head + String(best[i]) + (i === 1 ? ",momentum=0.95" : ""));
  const ran = await page.evaluate(() => window.__downhill.view.runs.map((r) => r.optimizer));
  check(JSON.stringify(ran) === JSON.stringify(tunedSpecs), `the tuned optimizers run side by side: ${ran.join(" | ")}`);
  const link = new URLSearchParams(new URL(page.url()).hash.slice(1)).getAll("opt");
  check(JSON.stringify(link) === JSON.stringify(tunedSpecs), "the share link names the tuned specs");
  const rows = await page.$$eval("#tune-results tr", (trs) => trs.map((tr) => tr.textContent));
  const caption = await page.textContent("#tune-caption");
  check(rows.length === 4 && rows[0].includes("final loss") && caption.includes("13 log-spaced values from 0.0001 to 1") &&
    caption.includes("final-loss"), `the chosen lr per optimizer is listed with the criterion (${caption})`);
  await page.screenshot({ path: screenshot });

  // steps to a tolerance, on a grid of 7 values
  await page.selectOption("#tune-criterion", "steps-to");
  await page.fill("#tune-tol", "0.01");
  await page.fill("#tune-n", "7");
  const want2 = await api(page, tunedSpecs, { criterion: "steps-to=0.01", grid: "0.0001:1:7" });
  await tune(page);
  const best2 = want2.results.map((r) => r.lr);
  check(JSON.stringify(await cardLrs(page)) === JSON.stringify(best2.map((lr, i) => lr ?? best[i])),
    `by steps to 0.01 the cards hold ${best2.join(", ")}`);
  const header = await page.textContent("#tune-results tr");
  check(header.includes("steps to tol") && (await page.textContent("#tune-caption")).includes("steps-to=0.01"), "the table and caption state the tolerance criterion");

  // a bad grid: an inline message and no request
  await page.fill("#tune-n", "0");
  const before = page.requests.length;
  await page.click("#tune-run");
  check(await page.isVisible("#tune-error") && (await page.textContent("#tune-error")).includes("whole number of values") &&
    !page.requests.slice(before).some((u) => u.endsWith("/api/tune")), "a grid of 0 values is refused inline without a request");
});
