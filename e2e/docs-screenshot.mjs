// Makes the README's screenshot: the quartic surface with momentum, NAG, Adam
// and RMSProp paused at step 30, the loss chart hovered at step 42.
// docs/playground.png is this image reduced to 256 colours (Pillow's
// Image.quantize) to keep the repository small.
//
// usage: node e2e/docs-screenshot.mjs DOWNHILL_BINARY OUT.png
import { chromium } from "playwright-core";
import { spawn } from "node:child_process";
import { createInterface } from "node:readline";

const [binary, out] = process.argv.slice(2);
const server = spawn(binary, ["serve", "--port", "0"], { stdio: ["ignore", "pipe", "inherit"] });
const url = await new Promise((resolve) =>
  createInterface({ input: server.stdout }).once("line", (line) => resolve(line.split(" ").pop())));
const view = "#surface=quartic&start=1,-0.5&steps=200&opt=momentum:lr=0.01,momentum=0.95" +
  "&opt=nag:lr=0.01,momentum=0.95&opt=adam:lr=0.1&opt=rmsprop:lr=0.01";
const browser = await chromium.launch({ executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium", args: ["--no-sandbox", "--disable-gpu"] });
try {
  const page = await browser.newPage({ viewport: { width: 1480, height: 900 } });
  await page.goto(url + view);
  await page.waitForFunction(() => window.__downhill?.ready && !document.body.dataset.busy);
  await page.fill("#frame", "30");
  await page.locator("#frame").dispatchEvent("input");
  const box = await page.locator("#loss-chart").boundingBox();
  await page.mouse.move(box.x + box.width * 0.3, box.y + box.height * 0.6);
  await page.waitForTimeout(300);
  await page.screenshot({ path: out });
} finally {
  await browser.close();
  server.kill();
}
