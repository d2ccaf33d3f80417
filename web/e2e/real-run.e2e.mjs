// A real run through the dashboard (started by tests/web/test_real_run.py): the API in cluster
// mode, the operator, a demo service in a throwaway namespace. The browser logs in with a
// Kubernetes token, creates the experiment through the form, starts it, watches the chart grow
// with the probe's real observations, and waits for the verdict. A screenshot of every step.
//
// Env: FAULTLINE_URL, FAULTLINE_TOKEN (a ServiceAccount token), FAULTLINE_NAMESPACE,
//      FAULTLINE_SERVICE_URL (what the probe loads), SCREENSHOT_DIR.
// Prints one line "result: {...}" for the test to compare with the Experiment's status.
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chromium } from "playwright-core";

const base = process.env.FAULTLINE_URL;
const token = process.env.FAULTLINE_TOKEN;
const ns = process.env.FAULTLINE_NAMESPACE;
const service = process.env.FAULTLINE_SERVICE_URL;
const shots = process.env.SCREENSHOT_DIR;
assert.ok(base && token && ns && service && shots, "FAULTLINE_* and SCREENSHOT_DIR are required");

const NAME = "real-kill";
// Waits have no wall-clock limit of their own: the pytest timeout bounds the run.
const NO_LIMIT = { timeout: 0 };

function step(name) {
  console.log(`--> ${name}`);
}

const profile = mkdtempSync(join(tmpdir(), "faultline-chromium-"));
const context = await chromium.launchPersistentContext(profile, {
  executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
  headless: true,
  args: ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-sync"],
  viewport: { width: 1280, height: 900 },
});
const page = context.pages()[0] ?? (await context.newPage());
page.setDefaultTimeout(0);
const pageErrors = [];
page.on("pageerror", (e) => pageErrors.push(String(e)));
const shot = (name) =>
  page.screenshot({ path: join(shots, `real-run-${name}.png`), fullPage: true });
const chartPoints = async () =>
  Number((await page.locator("figure.chart").first().getAttribute("data-points")) ?? 0);

try {
  step("log in with the ServiceAccount's token (TokenReview)");
  await page.goto(base + "/login");
  await page.getByLabel("API token").fill(token);
  await page.getByRole("button", { name: "Log in" }).click();
  await page.getByRole("heading", { name: "Overview" }).waitFor(NO_LIMIT);
  await shot("login");

  step("fill the new-experiment form: pod-kill, short windows, a probe on the service");
  await page.getByRole("link", { name: "New experiment" }).first().click();
  await page.getByLabel("Name", { exact: true }).fill(NAME);
  await page.getByLabel("Namespace", { exact: true }).fill(ns);
  await page.getByLabel("Fault type").selectOption("PodChaos");
  await page.getByLabel("Action").selectOption("pod-kill");
  await page.getByLabel("Target namespaces").fill(ns);
  await page.getByLabel("Label selectors").fill("app=web");
  await page.getByLabel("Mode").selectOption("one");
  await page.getByLabel("Baseline").fill("10s");
  await page.getByLabel("Fault duration").fill("5s");
  await page.getByLabel("Recovery deadline").fill("60s");
  await page.getByLabel("Probe URL").fill(service);
  await page
    .getByLabel("Hypothesis title")
    .fill("Killing the web pod: QPS is back to 50 % in 60 s");
  await page.getByLabel("Value 1").fill("50");
  const yaml = page.getByRole("textbox", { name: "YAML" });
  assert.match(await yaml.inputValue(), new RegExp(`url: ${service.replace(/[./]/g, "\\$&")}`));
  await shot("form");
  await page.getByRole("button", { name: "Create experiment" }).click();
  await page.getByRole("heading", { name: `${ns}/${NAME}` }).waitFor(NO_LIMIT);

  step("start the run: the API creates the Experiment object, the operator runs it");
  await page.getByRole("button", { name: "Start run" }).click();
  await page.getByRole("status").filter({ hasText: "created in the cluster" }).waitFor(NO_LIMIT);
  await page.getByRole("heading", { name: /Run #\d+: / }).waitFor(NO_LIMIT);
  await shot("started");

  step("the live chart grows with the probe's observations");
  await page.locator("figure.chart canvas").first().waitFor(NO_LIMIT);
  await page.waitForFunction(
    () => Number(document.querySelector("figure.chart")?.getAttribute("data-points")) > 0,
    null,
    NO_LIMIT,
  );
  const first = await chartPoints();
  await page.waitForFunction(
    (n) => Number(document.querySelector("figure.chart")?.getAttribute("data-points")) > n + 20,
    first,
    NO_LIMIT,
  );
  const later = await chartPoints();
  assert.ok(later > first, `the chart did not grow (${first} -> ${later})`);
  const liveHeading = await page.getByRole("heading", { name: /Run #\d+: / }).innerText();
  await shot("live");

  step("the verdict appears");
  // Whatever the verdict (the engine's own tests judge it), the page must show the one stored.
  const done = page.getByRole("heading", { name: /Run #\d+: (Finished|Failed|Aborted)/ });
  await done.waitFor(NO_LIMIT);
  const phase = (await done.innerText()).split(": ")[1];
  const badge = page.locator("#hyp-h [data-testid=verdict]");
  if (phase !== "Aborted") await badge.filter({ hasNotText: "pending" }).waitFor(NO_LIMIT);
  const verdict = (await badge.innerText()).trim();
  const figures = page.locator("section[aria-labelledby=hyp-h] dt", { hasText: "Baseline" });
  if (phase === "Finished") await figures.waitFor(NO_LIMIT);
  const points = await chartPoints();
  await shot("verdict");

  assert.deepEqual(pageErrors, [], "uncaught errors in the page");
  console.log(`result: ${JSON.stringify({ first, later, points, phase, verdict, liveHeading })}`);
  console.log("e2e: all checks passed");
} finally {
  await context.close();
  rmSync(profile, { recursive: true, force: true });
}
