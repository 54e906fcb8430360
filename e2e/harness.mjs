// What every end-to-end script shares: `downhill serve` on a free port, the
// system's headless Chromium, checks that print as they pass, and a page that
// records page errors, console errors and requests leaving the server.
import { chromium } from "playwright-core";
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { createInterface } from "node:readline";

export function fail(message) {
  console.error(`e2e: FAIL: ${message}`);
  process.exit(1);
}

export function check(ok, message) {
  if (!ok) throw new Error(message);
  console.log(`e2e: ok: ${message}`);
}

/** Starts the server and the browser; `run(open)` gets a function that opens a
 * page at a path (`options` as for a new browser context, 1400 × 900 unless
 * given) and waits until it is ready; the process exits 0 when `run` returns
 * without a failed check and no page had a problem. */
export async function session(binary, screenshot, run) {
  const executablePath = process.env.CHROMIUM ?? "/usr/bin/chromium";
  if (!binary || !screenshot) fail("usage: node e2e/SCRIPT.mjs DOWNHILL_BINARY SCREENSHOT.png");
  if (!existsSync(executablePath)) fail(`no Chromium at ${executablePath} (scripts/test.sh installs Debian's chromium)`);
  const server = spawn(binary, ["serve", "--port", "0"], { stdio: ["ignore", "pipe", "inherit"] });
  const url = await new Promise((resolve, reject) => {
    const lines = createInterface({ input: server.stdout });
    lines.once("line", (line) => {
      const m = line.match(/^downhill: serving on (http:\/\/\S+)$/);
      m ? resolve(m[1].replace(/\/$/, "")) : reject(new Error(`unexpected first line '${line}'`));
    });
    server.once("exit", (code) => reject(new Error(`downhill serve exited with ${code}`)));
    setTimeout(() => reject(new Error("downhill serve printed no URL in 20 s")), 20000);
  }).catch((e) => fail(e.message));
  const browser = await chromium.launch({
    executablePath, headless: true,
    // WebGL (the 3-D view) on the CPU: SwiftShader, asked for explicitly now that Chromium no longer falls back to it
    args: ["--no-sandbox", "--disable-gpu", "--enable-unsafe-swiftshader", "--disable-quic", "--no-first-run",
      "--disable-background-networking", "--disable-component-update", "--disable-sync"],
  }).catch((e) => { server.kill(); fail(`cannot start Chromium: ${e.message}`); });
  const pages = [];
  const open = async (path, options = {}) => {
    const page = await browser.newPage({ viewport: { width: 1400, height: 900 }, ...options });
    page.problems = [];
    page.requests = [];
    page.on("pageerror", (e) => page.problems.push(`page error: ${e.message}`));
    // a 400 answer is how the API reports bad input: the browser logs it, the page shows it
    page.on("console", (m) => m.type() === "error" && !/status of 400/.test(m.text()) && page.problems.push(`console error: ${m.text()}`));
    page.on("request", (r) => {
      page.requests.push(r.url());
      if (!r.url().startsWith(url) && !/^(data|blob):/.test(r.url())) page.problems.push(`external request ${r.url()}`);
    });
    page.settle = () => page.waitForFunction(() => window.__downhill?.ready && !document.body.dataset.busy, null, { timeout: 20000 });
    pages.push(page);
    await page.goto(url + path);
    await page.settle();
    return page;
  };
  let status = 0;
  try {
    await run(open);
    const problems = pages.flatMap((p) => p.problems);
    check(problems.length === 0, `no page errors or outside requests${problems.length ? ": " + problems.join("; ") : ""}`);
  } catch (e) {
    console.error(`e2e: FAIL: ${e.message}`);
    status = 1;
    const page = pages[pages.length - 1];
    if (page) {
      const failed = screenshot.replace(/\.png$/, "-failure.png");
      await page.screenshot({ path: failed, fullPage: true });
      console.error(`e2e: the page at the failure: ${failed}; URL ${page.url()}`);
      console.error(await page.evaluate(() => JSON.stringify({ runs: window.__downhill?.runs, error: window.__downhill?.runError,
        formula: window.__downhill?.formulaError, start: window.__downhill?.startError })));
    }
  } finally {
    await browser.close();
    server.kill();
  }
  process.exit(status);
}
