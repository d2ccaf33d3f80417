// Screenshot of the demo's result page in the dashboard (docs/screenshots/demo-*.png), taken
// the way tests/web does it: playwright-core from web/node_modules driving Debian's Chromium.
//
//   node hack/demo/screenshot.mjs <experiment page URL> <token> <out.png>
//
// Logs in with the token, opens the page, waits until the verdict is shown and the chart has
// its points, and saves the full page.
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const [pageUrl, token, out] = process.argv.slice(2);
assert.ok(pageUrl && token && out, "usage: screenshot.mjs <page URL> <token> <out.png>");
const repo = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
const { chromium } = await import(
  pathToFileURL(join(repo, "web/node_modules/playwright-core/index.mjs")).href
);

const profile = mkdtempSync(join(tmpdir(), "faultline-chromium-"));
const context = await chromium.launchPersistentContext(profile, {
  executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
  headless: true,
  args: ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-sync"],
  viewport: { width: 1280, height: 900 },
});
try {
  const page = context.pages()[0] ?? (await context.newPage());
  page.setDefaultTimeout(120_000);
  await page.goto(new URL("/login", pageUrl).href);
  await page.getByLabel("API token").fill(token);
  await page.getByRole("button", { name: "Log in" }).click();
  await page.getByRole("heading", { name: "Overview" }).waitFor();
  await page.goto(pageUrl);
  const chart = page.locator("figure.chart").first();
  await chart.waitFor();
  await page.waitForFunction(
    () => Number(document.querySelector("figure.chart")?.getAttribute("data-points") ?? 0) > 0,
  );
  await page.getByText(/passed|failed/i).first().waitFor();
  await page.waitForTimeout(1000); // let uPlot finish drawing the markers
  await page.screenshot({ path: out, fullPage: true });
  console.log(`screenshot: ${out}`);
} finally {
  await context.close();
  rmSync(profile, { recursive: true, force: true });
}
