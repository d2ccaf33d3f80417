import { screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it, vi } from "vitest";
import { renderPage, stubApi } from "../test/render";
import { ExperimentDetail } from "./ExperimentDetail";

// uPlot needs a real layout engine (matchMedia, canvas): the stand-in shows what it was given.
vi.mock("../components/QpsChart", () => ({
  QpsChart: ({ model, probe }: { model: { qps: number[] }; probe?: string }) => (
    <div data-testid="chart" data-probe={probe}>
      {model.qps.join(",")}
    </div>
  ),
}));

const experiment = {
  id: 1,
  namespace: "shop",
  name: "checkout",
  description: "",
  hypothesis_id: null,
  spec: {},
  status: "idle",
  verdict: null,
  created_at: "2026-01-01T00:00:00Z",
  updated_at: "2026-01-01T00:00:00Z",
};
const empty = { items: [], total: 0, limit: 100, offset: 0 };

function api(start: { status: number; body: unknown }) {
  return stubApi((method, url) => {
    if (method === "POST" && url.pathname === "/api/v1/experiments/1/start") return start;
    if (url.pathname === "/api/v1/experiments/1") return { status: 200, body: experiment };
    return { status: 200, body: empty };
  });
}

describe("Start run", () => {
  it("asks the API to create the Experiment object and says what happens next", async () => {
    const requests = api({
      status: 202,
      body: {
        kind: "Experiment",
        namespace: "shop",
        name: "checkout",
        uid: "u-1",
        detail: "created in the cluster; the run appears here once the operator starts it",
      },
    });
    renderPage(<ExperimentDetail />, { path: "/experiments/:id", route: "/experiments/1" });
    await userEvent.click(await screen.findByRole("button", { name: "Start run" }));
    expect((await screen.findByRole("status")).textContent).toContain(
      "Experiment shop/checkout: created in the cluster",
    );
    expect(requests.filter((r) => r.method === "POST").map((r) => r.url.pathname)).toEqual([
      "/api/v1/experiments/1/start",
    ]);
  });

  it("shows why the API refused", async () => {
    api({ status: 503, body: { detail: "cannot create Experiment shop/checkout: no cluster" } });
    renderPage(<ExperimentDetail />, { path: "/experiments/:id", route: "/experiments/1" });
    await userEvent.click(await screen.findByRole("button", { name: "Start run" }));
    await waitFor(() =>
      expect(screen.getByRole("alert").textContent).toContain("503: cannot create Experiment"),
    );
  });
});

describe("Hypothesis card", () => {
  it("shows each tolerance as stored, in the words the verdict uses", async () => {
    const hypothesis = {
      id: 7,
      namespace: "shop",
      title: "writes and reads survive losing a member",
      description: "",
      tolerances: [{ probe: "writes", recoverTo: 90, within: "40s", from: "faultStart" }],
      statements: ["writes qps back to 90% of baseline within 40s of faultStart"],
      created_at: "2026-01-01T00:00:00Z",
      updated_at: "2026-01-01T00:00:00Z",
    };
    stubApi((_method, url) => {
      if (url.pathname === "/api/v1/experiments/1")
        return { status: 200, body: { ...experiment, hypothesis_id: 7 } };
      if (url.pathname === "/api/v1/hypotheses/7") return { status: 200, body: hypothesis };
      return { status: 200, body: empty };
    });
    renderPage(<ExperimentDetail />, { path: "/experiments/:id", route: "/experiments/1" });
    await screen.findByRole("heading", { name: /writes and reads survive/ });
    const items = within(screen.getByRole("list", { name: "Tolerances" }))
      .getAllByRole("listitem")
      .map((li) => li.textContent);
    expect(items).toEqual(["writes qps back to 90% of baseline within 40s of faultStart"]);
  });
});

describe("Every probe", () => {
  const run = {
    id: 3,
    experiment_id: 1,
    namespace: "shop",
    experiment_name: "checkout",
    phase: "Finished",
    verdict: "Passed",
    started_at: "2026-01-01T00:00:00Z",
    finished_at: "2026-01-01T00:02:00Z",
    archived: false,
    archived_at: null,
    created_at: "2026-01-01T00:00:00Z",
    metrics: {
      fault_started_at: 1_800_000_010,
      probes: [
        { probe: "writes", baselineQps: 100, minQps: 0 },
        { probe: "reads", baselineQps: 40, minQps: 35 },
      ],
    },
  };
  const point = (probe: string, ts: number, qps: number) => ({
    probe,
    ts,
    qps,
    error_rate: 0,
    latency_p50_ms: null,
    latency_p99_ms: null,
    bucket_seconds: 0,
  });

  it("charts each probe on demand, with that probe's figures", async () => {
    stubApi((_method, url) => {
      if (url.pathname === "/api/v1/experiments/1") return { status: 200, body: experiment };
      if (url.pathname === "/api/v1/experiments/1/runs")
        return { status: 200, body: { ...empty, items: [run], total: 1 } };
      if (url.pathname === "/api/v1/runs/3/observations")
        return {
          status: 200,
          body: {
            run_id: 3,
            points: [point("writes", 1, 100), point("reads", 1, 40), point("writes", 2, 0)],
          },
        };
      return { status: 200, body: empty };
    });
    renderPage(<ExperimentDetail />, { path: "/experiments/:id", route: "/experiments/1" });
    const chart = await screen.findByTestId("chart");
    await waitFor(() => expect(chart.textContent).toBe("100,0"));
    expect(chart.dataset.probe).toBe("writes");
    const figures = () => screen.getByTestId("figures").textContent;
    expect(figures()).toContain("Baseline100 req/s");
    await userEvent.click(screen.getByRole("button", { name: "reads" }));
    await waitFor(() => expect(screen.getByTestId("chart").textContent).toBe("40"));
    expect(screen.getByTestId("chart").dataset.probe).toBe("reads");
    expect(figures()).toContain("Baseline40.0 req/s");
    expect(screen.getByRole("button", { name: "reads" }).getAttribute("aria-pressed")).toBe("true");
  });
});
