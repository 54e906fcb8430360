// Makes the README's screenshots: the quartic surface with momentum, NAG, Adam
// and RMSProp paused at step 30, the loss chart hovered at step 42; and, given
// a third argument, the training tab after three optimizers fit an MLP to digits.
// docs/playground.png and docs/playground-training.png are these images
// reduced to 256 colours (Pillow's Image.quantize) to keep the repository small.
//
// usage: node e2e/docs-screenshot.mjs DOWNHILL_BINARY OUT.png [TRAINING_OUT.png]
import { chromium } from "playwright-core";
import { spawn } from "node:child_process";
import { createInterface } from "node:readline";

const [binary, out, trainingOut] = process.argv.slice(2);
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
  if (trainingOut) {
    const training = "#tab=train&tdata=digits&tmodel=mlp:hidden=[32]&tepochs=20&tbatch=32&tseed=0" +
      "&topt=sgd:lr=0.05&topt=sgd:lr=0.05,momentum=0.9&topt=adam:lr=0.003";
    await page.goto(url + training.replace(/\[/g, "%5B").replace(/\]/g, "%5D"));
    await page.waitForFunction(() => window.__downhill?.ready);
    await page.click("#train-start");
    await page.waitForFunction(() => document.getElementById("train-table").dataset.final === "3", null, { timeout: 120000 });
    await page.screenshot({ path: trainingOut, clip: { x: 0, y: 0, width: 1480, height: 640 } });
  }
} finally {
  await browser.close();
  server.kill();
}
