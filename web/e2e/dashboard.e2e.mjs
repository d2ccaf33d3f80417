// End-to-end check of the dashboard against a real Faultline API (started and seeded by
// tests/web/test_web.py): Debian's Chromium driven by playwright-core. Every page is visited,
// checked for the seeded data, and saved as a screenshot.
//
// Env: FAULTLINE_URL, FAULTLINE_TOKEN, FAULTLINE_SEED (JSON from tests/web/seed.py),
//      SCREENSHOT_DIR (where the PNGs go).
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chromium } from "playwright-core";

const base = process.env.FAULTLINE_URL;
const token = process.env.FAULTLINE_TOKEN;
const seed = JSON.parse(process.env.FAULTLINE_SEED ?? "{}");
const shots = process.env.SCREENSHOT_DIR;
assert.ok(
  base && token && shots && seed.live_run_id,
  "FAULTLINE_URL/TOKEN/SEED and SCREENSHOT_DIR are required",
);

const ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];
// Waits poll the page without a wall-clock limit of their own: the pytest timeout bounds the run.
const NO_LIMIT = { timeout: 0 };

async function api(method, path, body) {
  const res = await fetch(base + path, {
    method,
    headers: { Authorization: `Bearer ${token}`, "Content-Type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${await res.text()}`);
  return res.status === 204 ? null : res.json();
}

/** Polls until `check` holds: React may render an interaction's result a frame later. */
async function until(check, what) {
  for (let i = 0; !(await check()); i++) {
    if (i % 100 === 99) console.log(`    still waiting: ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

function step(name) {
  console.log(`--> ${name}`);
}

const profile = mkdtempSync(join(tmpdir(), "faultline-chromium-"));
const context = await chromium.launchPersistentContext(profile, {
  executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
  headless: true,
  args: ARGS,
  viewport: { width: 1280, height: 900 },
});
const page = context.pages()[0] ?? (await context.newPage());
page.setDefaultTimeout(0);
const consoleErrors = [];
page.on("pageerror", (e) => consoleErrors.push(String(e)));
const shot = (name) => page.screenshot({ path: join(shots, `${name}.png`), fullPage: true });
const apiPaths = [];
page.on("request", (r) => {
  const url = new URL(r.url());
  if (url.pathname.startsWith("/api/")) apiPaths.push(url.pathname);
});

try {
  step("login: redirect, keyboard focus, a wrong token is explained");
  await page.goto(base + "/");
  await page.waitForURL(/\/login$/, NO_LIMIT);
  await page.getByLabel("API token").waitFor(NO_LIMIT);
  await page.keyboard.press("Tab");
  assert.equal(await page.evaluate(() => document.activeElement?.id), "token");
  await page.keyboard.type("flt_not-a-real-token");
  await page.keyboard.press("Enter");
  const alert = page.getByRole("alert");
  await alert.waitFor(NO_LIMIT);
  const text = await alert.innerText();
  assert.match(text, /401/);
  assert.match(text, /not a token of this dashboard/);
  assert.ok(await page.getByText("faultline dashboard reset-token").first().isVisible());
  assert.ok(
    await page.getByText("kubectl -n faultline create token faultline-dashboard").isVisible(),
  );
  await shot("login-error");

  step("login with the admin token");
  apiPaths.length = 0;
  await page.getByLabel("API token").fill(token);
  await page.getByRole("button", { name: "Log in" }).click();
  await page.getByRole("heading", { name: "Overview" }).waitFor(NO_LIMIT);

  step("overview: running, verdicts, time-to-recover trend, events");
  await page.getByRole("heading", { name: "Running experiments (1)" }).waitFor(NO_LIMIT);
  // Scoped to the trend card: an event row can name the same experiment and time.
  const ttrRow = page
    .getByRole("region", { name: "Time to recover, run by run" })
    .getByRole("row")
    .filter({ hasText: "shop/checkout" });
  await ttrRow.filter({ hasText: "12.5 s" }).waitFor(NO_LIMIT);
  assert.equal(await ttrRow.locator("svg.trend circle").count(), 3);
  await page.getByRole("cell", { name: "Aborted" }).first().waitFor(NO_LIMIT);
  // Recent events come from one cross-run request, not one request per run.
  assert.ok(apiPaths.includes("/api/v1/events"), apiPaths.join(" "));
  assert.deepEqual(
    apiPaths.filter((p) => /^\/api\/v1\/runs\/\d+\/events$/.test(p)),
    [],
    "the overview fetched events run by run",
  );
  await shot("overview");

  step("experiments list and filters");
  await page.getByRole("link", { name: "Experiments", exact: true }).click();
  const table = page.getByRole("table", { name: "Experiments" });
  await table.getByRole("link", { name: "search" }).waitFor(NO_LIMIT);
  assert.equal(await table.locator("tbody tr").count(), 3);
  await page.getByLabel("Verdict").selectOption("Failed");
  await page.waitForFunction(
    () => document.querySelectorAll("table tbody tr").length === 1,
    null,
    NO_LIMIT,
  );
  assert.equal(await table.locator("tbody tr").first().getByRole("link").innerText(), "cart");
  await page.getByLabel("Verdict").selectOption("");
  await page.getByLabel("Status").selectOption("running");
  await table.getByRole("link", { name: "search" }).waitFor(NO_LIMIT);
  await page.waitForFunction(
    () => document.querySelectorAll("table tbody tr").length === 1,
    null,
    NO_LIMIT,
  );
  await shot("experiments");

  step("live experiment: seeded series, then new observations, then the verdict");
  await page.goto(`${base}/experiments/${seed.live_experiment_id}`);
  const chart = page.locator("figure.chart");
  await page
    .locator(`figure.chart[data-points="${seed.live_points}"] canvas`)
    .first()
    .waitFor(NO_LIMIT);
  assert.match(await chart.locator("figcaption").innerText(), /baseline (9\d|10\d)\.\d QPS/);
  assert.match(await page.getByTestId("verdict").first().innerText(), /pending/);
  const last = seed.live_fault_start + 20;
  const recovery = Array.from({ length: 10 }, (_, i) => ({
    probe: "web",
    ts: last + i,
    qps: 60 + 4 * i,
    error_rate: 0.01,
  }));
  await api("POST", `/api/v1/runs/${seed.live_run_id}/observations:batch`, { points: recovery });
  await page
    .locator(`figure.chart[data-points="${seed.live_points + 10}"] canvas`)
    .first()
    .waitFor(NO_LIMIT);
  await api("PATCH", `/api/v1/runs/${seed.live_run_id}`, {
    phase: "Finished",
    verdict: "Passed",
    metrics: {
      fault_started_at: seed.live_fault_start,
      fault_ended_at: last,
      recovered_at: last + 9,
      time_to_recover_s: 9,
    },
  });
  await page.locator("#hyp-h [data-testid=verdict]", { hasText: "Passed" }).waitFor(NO_LIMIT);
  await page.getByRole("heading", { name: /Run #\d+: Finished/ }).waitFor(NO_LIMIT);
  await page.getByText("FaultInjected").first().waitFor(NO_LIMIT);
  await shot("experiment-live");

  step("finished experiment: runs compared over time");
  await page.goto(`${base}/experiments/${seed.finished_experiment_id}`);
  await page.getByRole("heading", { name: "Runs over time" }).waitFor(NO_LIMIT);
  const runRows = page
    .locator("section", { has: page.getByRole("heading", { name: "Runs over time" }) })
    .locator("tbody tr");
  await page.waitForFunction(
    () => document.querySelectorAll("tr[aria-current]").length === 1,
    null,
    NO_LIMIT,
  );
  assert.equal(await runRows.count(), 3);
  const labels = await page.locator("svg.trend text").allTextContents();
  assert.deepEqual(labels, ["21 s", "16.5 s", "12.5 s"]);
  await page.locator("figure.chart canvas").first().waitFor(NO_LIMIT);
  await shot("experiment-finished");

  step("aborted experiment: abort marker and the warning in the timeline");
  await page.goto(`${base}/experiments/${seed.aborted_experiment_id}`);
  await page.locator("figure.chart canvas").first().waitFor(NO_LIMIT);
  assert.match(await page.locator("figure.chart figcaption").innerText(), /aborted/);
  await page.locator(".timeline li.warning", { hasText: "Aborted" }).waitFor(NO_LIMIT);
  await shot("experiment-aborted");

  step("new experiment: checks before submit, YAML sync, server 422 inline, create");
  await page.getByRole("link", { name: "New experiment" }).first().click();
  await page.getByLabel("Name", { exact: true }).fill("web-loss");
  await page.getByLabel("Fault type").selectOption("NetworkChaos");
  await page.getByLabel("Action").selectOption("loss");
  await page.getByRole("button", { name: "Create experiment" }).click();
  await page.getByText("Loss % is required for loss").waitFor(NO_LIMIT);
  assert.equal(await page.getByLabel("Loss %").getAttribute("aria-invalid"), "true");
  await page.getByText("say what you expect").waitFor(NO_LIMIT);
  await page.getByLabel("Loss %").fill("30");
  await page.getByLabel("Hypothesis title").fill("Web keeps 70 % of its QPS under 30 % loss");
  const yaml = page.getByRole("textbox", { name: "YAML" });
  await until(async () => /loss: "30"/.test(await yaml.inputValue()), "loss in the YAML");
  assert.match(await yaml.inputValue(), /type: NetworkChaos/);
  // YAML -> form
  await yaml.fill((await yaml.inputValue()).replace("name: web-loss", "name: web-loss-2"));
  await until(
    async () => (await page.getByLabel("Name", { exact: true }).inputValue()) === "web-loss-2",
    "the name from the YAML",
  );
  // A typo only the server knows about comes back as a field error.
  await yaml.fill((await yaml.inputValue()).replace("within:", "withn:"));
  await page.getByRole("button", { name: "Create experiment" }).click();
  const other = page.getByRole("alert", { name: "Other errors" });
  await other.waitFor(NO_LIMIT);
  assert.match(await other.innerText(), /hypothesis\.tolerances\.0\.withn/);
  assert.match(await other.innerText(), /Extra inputs are not permitted/);
  await shot("new-experiment-errors");
  // Editing the form rebuilds the YAML from the form (the typo is gone), then it submits.
  await page.getByLabel("Name", { exact: true }).fill("web-loss");
  await until(
    async () => !/withn:/.test(await yaml.inputValue()),
    "the YAML rebuilt from the form",
  );
  await shot("new-experiment");
  await page.getByRole("button", { name: "Create experiment" }).click();
  await page.getByRole("heading", { name: /default\/web-loss/ }).waitFor(NO_LIMIT);
  await page.getByRole("heading", { name: /Hypothesis: Web keeps 70 %/ }).waitFor(NO_LIMIT);
  // Starting a run needs a probe (and a cluster): the API's reason is shown.
  await page.getByRole("button", { name: "Start run" }).click();
  await page.getByRole("alert").filter({ hasText: "spec.probes is empty" }).waitFor(NO_LIMIT);
  const created = await api("GET", "/api/v1/experiments?namespace=default");
  assert.equal(created.items.length, 1);
  assert.equal(created.items[0].spec.faults[0].networkChaos.loss.loss, "30");
  // The same name again: the API's 409 appears next to the name.
  await page.goto(`${base}/experiments/new`);
  await page.getByLabel("Name", { exact: true }).fill("web-loss");
  await page.getByLabel("Hypothesis title").fill("again");
  await page.getByRole("button", { name: "Create experiment" }).click();
  await page.locator(".field-error", { hasText: /already|exists|taken/i }).waitFor(NO_LIMIT);
  const hypotheses = await api("GET", "/api/v1/hypotheses?limit=500");
  assert.equal(
    hypotheses.items.filter((h) => h.title === "again").length,
    0,
    "orphan hypothesis left behind",
  );

  step("chaos objects: list, per-target records, pause needs confirmation");
  await page.getByRole("link", { name: "Chaos objects" }).click();
  await page.getByRole("link", { name: "checkout-kill" }).waitFor(NO_LIMIT);
  assert.equal(
    await page.getByRole("table", { name: "Chaos objects" }).locator("tbody tr").count(),
    2,
  );
  await shot("chaos-list");
  await page.getByRole("link", { name: "checkout-kill" }).click();
  await page.getByRole("cell", { name: "chaosd unreachable", exact: true }).waitFor(NO_LIMIT);
  await page.getByRole("cell", { name: "InjectFailed" }).waitFor(NO_LIMIT);
  await page.getByRole("button", { name: "Pause" }).click();
  const dialog = page.getByRole("dialog");
  await dialog.waitFor(NO_LIMIT);
  await page.keyboard.press("Escape");
  await dialog.waitFor({ state: "hidden", timeout: 0 });
  await page.getByRole("button", { name: "Pause" }).click();
  await page.getByRole("button", { name: "Yes, pause" }).click();
  // Local mode has no cluster: the API answers 503 with its reason, and the page shows it.
  await page.getByRole("alert").filter({ hasText: "503" }).waitFor(NO_LIMIT);
  assert.match(await page.getByRole("alert").first().innerText(), /local mode/);
  await shot("chaos-detail");

  step("schedules, events, archives");
  await page.getByRole("link", { name: "Schedules" }).click();
  await page.getByRole("cell", { name: "nightly-kill" }).waitFor(NO_LIMIT);
  assert.ok(await page.getByText("0 3 * * *").isVisible());
  await page.getByRole("button", { name: "Delete" }).click();
  await page.getByRole("button", { name: "Yes, delete" }).click();
  await page.getByRole("alert").filter({ hasText: "503" }).waitFor(NO_LIMIT);
  await shot("schedules");
  await page.getByRole("link", { name: "Events" }).click();
  await page.getByRole("cell", { name: "Aborted" }).waitFor(NO_LIMIT);
  await page.getByLabel("Type").selectOption("Warning");
  // Rows present and all Warning: an empty table (the filtered page still loading) also has
  // "every row" Warning, and its status reads "0 events".
  await page.waitForFunction(
    () => {
      const rows = [...document.querySelectorAll("tbody tr")];
      return rows.length > 0 && rows.every((r) => r.textContent.includes("Warning"));
    },
    null,
    NO_LIMIT,
  );
  await page
    .getByRole("status")
    .filter({ hasText: /^1–\d+ of \d+$/ })
    .waitFor(NO_LIMIT);
  await shot("events");
  await page.getByRole("link", { name: "Archives" }).click();
  await page.getByRole("cell", { name: "shop/legacy-io" }).waitFor(NO_LIMIT);
  await shot("archives");

  step("emergency stop: engage with a reason, a red banner on every page, lift");
  await page.getByRole("button", { name: "Emergency stop" }).click();
  await page.getByLabel("Reason (shown to everyone)").fill("drill from the e2e run");
  await page.getByRole("button", { name: "Stop every fault" }).click();
  const banner = page.locator(".emergency-banner");
  await banner.waitFor(NO_LIMIT);
  assert.match(
    await banner.innerText(),
    /Emergency stop engaged by admin.*drill from the e2e run/s,
  );
  await page.getByRole("link", { name: "Experiments", exact: true }).click();
  await page.waitForURL(/\/experiments$/, NO_LIMIT);
  await banner.waitFor(NO_LIMIT); // on every page, not only where it was pulled
  await page.getByRole("table").first().waitFor(NO_LIMIT);
  assert.equal(await page.getByRole("button", { name: "Emergency stop" }).count(), 0);
  await shot("emergency-stop");
  const engaged = await api("GET", "/api/v1/emergency-stop");
  assert.equal(engaged.engaged, true);
  assert.equal(engaged.reason, "drill from the e2e run");
  await banner.getByRole("button", { name: "Lift" }).click();
  await page.getByRole("button", { name: "Yes, lift" }).click();
  await banner.waitFor({ state: "detached", timeout: 0 });
  assert.equal((await api("GET", "/api/v1/emergency-stop")).engaged, false);

  step("narrow screen");
  await page.setViewportSize({ width: 390, height: 844 });
  await page.goto(`${base}/experiments/${seed.finished_experiment_id}`);
  await page.locator("figure.chart canvas").first().waitFor(NO_LIMIT);
  await shot("mobile-experiment");

  assert.deepEqual(consoleErrors, [], "uncaught errors in the page");
  console.log("e2e: all checks passed");
} finally {
  await context.close();
  rmSync(profile, { recursive: true, force: true });
}
