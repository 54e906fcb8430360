// End-to-end test of `downhill serve` in the system's headless Chromium:
// loads the page, picks a surface, runs two optimizers, checks the paths, the
// loss chart and its hover link, a bad formula's inline error, the sweep tab,
// the PyTorch and Rust downloads, the shareable URL and the training tab (live
// curves, Stop), and saves screenshots.
//
// usage: node e2e/playground.mjs DOWNHILL_BINARY SCREENSHOT.png
import { chromium } from "playwright-core";
import { execFileSync, spawn } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { createInterface } from "node:readline";

const [binary, screenshot] = process.argv.slice(2);
const executablePath = process.env.CHROMIUM ?? "/usr/bin/chromium";
if (!binary || !screenshot) fail("usage: node e2e/playground.mjs DOWNHILL_BINARY SCREENSHOT.png");
if (!existsSync(executablePath)) fail(`no Chromium at ${executablePath} (scripts/test.sh installs Debian's chromium)`);

function fail(message) {
  console.error(`e2e: FAIL: ${message}`);
  process.exit(1);
}

function check(ok, message) {
  if (!ok) throw new Error(message);
  console.log(`e2e: ok: ${message}`);
}

const server = spawn(binary, ["serve", "--port", "0"], { stdio: ["ignore", "pipe", "inherit"] });
const url = await new Promise((resolve, reject) => {
  const lines = createInterface({ input: server.stdout });
  lines.once("line", (line) => {
    const m = line.match(/^downhill: serving on (http:\/\/\S+)$/);
    m ? resolve(m[1]) : reject(new Error(`unexpected first line '${line}'`));
  });
  server.once("exit", (code) => reject(new Error(`downhill serve exited with ${code}`)));
  setTimeout(() => reject(new Error("downhill serve printed no URL in 20 s")), 20000);
}).catch((e) => fail(e.message));

// launch() gives Chromium a fresh temporary profile of its own.
const browser = await chromium.launch({
  executablePath,
  headless: true,
  args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
    "--disable-component-update", "--disable-sync"],
}).catch((e) => fail(`cannot start Chromium: ${e.message}`));

let status = 0;
try {
  const page = await browser.newPage({ viewport: { width: 1560, height: 940 } });
  const problems = [];
  page.on("pageerror", (e) => problems.push(`page error: ${e.message}`));
  // a 400 answer is how the API reports a bad formula: the browser logs it, the page shows it
  const expected = /status of 400 \(Bad Request\)/;
  page.on("console", (m) => m.type() === "error" && !expected.test(m.text()) && problems.push(`console error: ${m.text()}`));
  page.on("request", (r) => { if (!r.url().startsWith(url) && !r.url().startsWith("data:") && !r.url().startsWith("blob:")) problems.push(`external request ${r.url()}`); });
  const hook = (expr) => page.evaluate(expr);
  const settle = () => page.waitForFunction(() => window.__downhill?.ready && !document.body.dataset.busy, null, { timeout: 20000 });

  await page.goto(url);
  await settle();
  check(await hook(() => window.__downhill.runs) === 3, "the default view runs three optimizers");

  // choose a surface
  await page.selectOption("#surface-select", "himmelblau");
  await page.waitForFunction(() => location.hash.includes("surface=himmelblau"));
  await settle();

  // two optimizers: momentum and adam, lr typed exactly
  await page.locator(".opt").nth(2).locator(".remove").click();
  await page.locator(".opt").nth(1).locator(".opt-name").selectOption("adam");
  await page.locator(".opt").nth(1).locator('.key[data-key="lr"] .exact').fill("0.05");
  await page.locator(".opt").nth(0).locator('.key[data-key="lr"] .exact').fill("0.002");
  await page.fill("#steps", "150");
  await page.locator("#steps").dispatchEvent("change");
  await page.waitForFunction(() => location.hash.includes("adam%3Alr%3D0.05") && location.hash.includes("steps=150"));
  await settle();
  check(await page.getAttribute("#contour", "data-paths") === "2", "two paths are drawn on the contour view");

  // play from the start and watch the frame advance
  await page.click("#reset");
  check(await page.getAttribute("#contour", "data-frame") === "0", "reset goes back to step 0");
  await page.click("#play");
  await page.waitForFunction(() => Number(document.getElementById("contour").dataset.frame) >= 40, null, { timeout: 20000 });
  await page.click("#play");
  await page.click("#step");
  const frame = Number(await page.getAttribute("#contour", "data-frame"));
  check(frame >= 41, `play, pause and single-step advance the paths (step ${frame})`);
  check(Number(await page.getAttribute("#contour", "data-points")) > 60, "the trails hold the points walked so far");
  check(await page.getAttribute("#loss-chart", "data-series") === "2", "the loss chart shows two series");
  check(Number(await page.getAttribute("#loss-chart", "data-points")) === 302, "the loss chart has every step of both runs");
  const inked = await page.evaluate(() => {
    const c = document.getElementById("loss-chart");
    const d = c.getContext("2d").getImageData(0, 0, c.width, c.height).data;
    let n = 0;
    for (let i = 3; i < d.length; i += 4) if (d[i] > 0) n++;
    return n;
  });
  check(inked > 2000, `the loss chart is drawn (${inked} pixels)`);

  // hover the loss chart: step and loss shown, the point highlighted
  const box = await page.locator("#loss-chart").boundingBox();
  await page.mouse.move(box.x + box.width * 0.5, box.y + box.height * 0.5);
  await page.waitForFunction(() => typeof window.__downhill.hover === "number");
  const tip = await page.textContent("#chart-tip");
  check(/^step \d+/.test(tip) && tip.includes("f ="), `hovering the loss chart shows step and loss (${tip.split("\n")[0]})`);
  await page.mouse.move(5, 5);

  // overlays: exact state from the server for the momentum method
  const overlay = await hook(() => window.__downhill.view.runs[0].overlays);
  check(Array.isArray(overlay.velocity) && Array.isArray(overlay.gradient), "momentum runs carry gradient and velocity overlays");
  await page.click("#play");
  await page.waitForFunction(() => !window.__downhill.view.playing, null, { timeout: 30000 });
  await page.screenshot({ path: screenshot });
  console.log(`e2e: screenshot ${screenshot}`);

  // the run as a program: the downloads are what `downhill run … --emit` prints
  const runArgs = ["run", "--surface", "himmelblau", "-o", "momentum:lr=0.002,momentum=0.95", "-o", "adam:lr=0.05", "--steps", "150"];
  for (const [button, language, name] of [["#export-pytorch", "pytorch", "downhill_run.py"], ["#export-rust", "rust", "main.rs"]]) {
    const [download] = await Promise.all([page.waitForEvent("download"), page.click(button)]);
    const text = readFileSync(await download.path(), "utf8");
    const expected = execFileSync(binary, [...runArgs, "--emit", language], { encoding: "utf8" });
    check(download.suggestedFilename() === name && text === expected, `the ${language} download is ${name}, as --emit ${language} prints it (${text.length} bytes)`);
  }

  // the URL carries the whole state
  const shared = page.url();
  const second = await browser.newPage({ viewport: { width: 1560, height: 940 } });
  await second.goto(shared);
  await second.waitForFunction(() => window.__downhill?.ready && !document.body.dataset.busy);
  const restored = await second.evaluate(() => [document.getElementById("contour").dataset.paths,
    document.getElementById("surface-select").value, document.getElementById("steps").value,
    [...document.querySelectorAll(".opt .spec")].map((e) => e.textContent).join(" ")]);
  check(restored.join("|") === "2|himmelblau|150|momentum:lr=0.002,momentum=0.95 adam:lr=0.05", `a shared link restores the view (${restored.join("|")})`);
  await second.close();

  // a bad formula shows an inline error at its column
  await page.fill("#formula", "x^^2 + y");
  await page.waitForSelector("#formula-error:not([hidden])", { timeout: 10000 });
  const error = await page.textContent("#formula-error");
  check(await page.getAttribute("#formula-error", "data-column") === "3" && error.includes("^"),
    `a bad formula shows an inline error (${error.split("\n").pop()})`);
  await page.fill("#formula", "x^2 + 3*y^2");
  await page.waitForFunction(() => document.getElementById("formula-error").hidden && location.hash.includes("surface=x%5E2"));
  await settle();
  check(await page.getAttribute("#contour", "data-paths") === "2", "a valid formula replaces the error with paths");

  // the sweep tab
  await page.click("#tab-sweep");
  await page.fill("#sweep-n", "9");
  await page.click("#sweep-run");
  await page.waitForFunction(() => document.getElementById("heatmap").dataset.cells === "18", null, { timeout: 20000 });
  check(true, "the sweep tab draws a 2 × 9 heatmap");

  // the training tab: iris, softmax, two optimizers, live curves streamed from the server
  await page.click("#tab-train");
  await page.waitForFunction(() => location.hash.includes("tab=train"));
  await page.fill("#train-dataset", "iris");
  await page.fill("#train-model", "softmax");
  await page.fill("#train-epochs", "5");
  await page.fill("#train-batch", "16");
  await page.fill("#train-optimizers", "sgd:lr=0.1,momentum=0.9\nadam:lr=0.01");
  await page.click("#train-start");
  await page.waitForFunction(() => document.getElementById("train-table").dataset.final === "2", null, { timeout: 30000 });
  check(await page.getAttribute("#train-loss", "data-series") === "2" && await page.getAttribute("#train-loss", "data-points") === "10",
    "the training tab draws two train-loss curves of 5 epochs");
  check(await page.getAttribute("#train-accuracy", "data-points") === "10", "and the accuracy curves");
  check(await page.locator("#train-table tr").count() === 3, "the final table has a row per optimizer");
  check(page.url().includes("tepochs=5") && page.url().includes("topt=adam%3Alr%3D0.01"), "the training settings are in the URL");
  await page.screenshot({ path: screenshot.replace(/\.png$/, "-training.png") });
  console.log(`e2e: screenshot ${screenshot.replace(/\.png$/, "-training.png")}`);
  // a bad spec is shown inline, and Stop ends a long run
  await page.fill("#train-optimizers", "adam:lr=-1");
  await page.click("#train-start");
  await page.waitForSelector("#train-error:not([hidden])", { timeout: 10000 });
  check((await page.textContent("#train-error")).includes("lr"), "a bad optimizer spec shows an inline error");
  await page.fill("#train-dataset", "digits");
  await page.fill("#train-model", "mlp:hidden=[64]");
  await page.fill("#train-epochs", "200");
  await page.fill("#train-batch", "1");
  await page.fill("#train-optimizers", "sgd:lr=0.01");
  await page.click("#train-start");
  await page.waitForFunction(() => Number(document.getElementById("train-loss").dataset.points) >= 1, null, { timeout: 30000 });
  await page.click("#train-stop");
  await page.waitForFunction(() => !document.getElementById("train-start").disabled, null, { timeout: 10000 });
  check((await page.textContent("#train-status")).includes("(stopped)"), "Stop ends a running job");

  check(problems.length === 0, `no page errors or outside requests${problems.length ? ": " + problems.join("; ") : ""}`);
} catch (e) {
  console.error(`e2e: FAIL: ${e.message}`);
  status = 1;
  const page = browser.contexts()[0]?.pages()[0];
  if (page) {
    const failed = screenshot.replace(/\.png$/, "-failure.png");
    await page.screenshot({ path: failed });
    console.error(`e2e: the page at the failure: ${failed}; URL ${page.url()}`);
    console.error(await page.evaluate(() => JSON.stringify({ runs: window.__downhill?.runs, error: window.__downhill?.runError, formula: window.__downhill?.formulaError })));
  }
} finally {
  await browser.close();
  server.kill();
}
process.exit(status);
