import { describe, expect, it } from "vitest";
import type { FaultlineEvent, Observation } from "./api";
import { baselineOf, chartModel, dipOf, metric, probeSummary, probesOf } from "./series";

const obs = (
  ts: number,
  qps: number,
  error_rate: number | null = null,
  probe = "web",
): Observation => ({
  probe,
  ts,
  qps,
  error_rate,
  latency_p50_ms: null,
  latency_p99_ms: ts,
  bucket_seconds: 0,
});
const event = (ts: number, reason: string): FaultlineEvent => ({
  id: ts,
  run_id: 1,
  chaos_object_id: null,
  ts: new Date(ts * 1000).toISOString(),
  type: "Normal",
  reason,
  message: "",
});

describe("every probe", () => {
  const points = [
    obs(1, 100, null, "writes"),
    obs(1, 40, null, "reads"),
    obs(2, 90, null, "writes"),
    obs(2, 42, null, "reads"),
  ];
  const metrics = {
    fault_started_at: 1.5,
    probes: [
      { probe: "writes", baselineQps: 100, baselineLow: 95, timeToRecoverFromStartSeconds: 3 },
      { probe: "reads", baselineQps: 40, baselineLow: 38, timeToRecoverFromStartSeconds: 1 },
    ],
  };

  it("lists the engine's probes in its order, then any other with samples", () => {
    expect(probesOf(points, metrics)).toEqual(["writes", "reads"]);
    expect(
      probesOf([...points, obs(3, 1, null, "extra")], { probes: [{ probe: "reads" }] }),
    ).toEqual(["reads", "writes", "extra"]);
  });

  it("charts one probe's series with its own baseline and recovery", () => {
    const reads = chartModel(points, metrics, [], "reads");
    expect(reads.qps).toEqual([40, 42]);
    expect(reads.baseline).toEqual({ median: 40, low: 38, high: 42 });
    expect(reads.recoveredAt).toBe(2.5);
    const writes = chartModel(points, metrics, [], "writes");
    expect(writes.qps).toEqual([100, 90]);
    expect(writes.recoveredAt).toBe(4.5);
    expect(metric(metrics, "baselineMedian", "reads")).toBe(40);
    expect(probeSummary(metrics, "nope")).toEqual(metrics.probes[0]);
  });
});

describe("chartModel", () => {
  it("sorts the samples and converts error rate to percent", () => {
    const m = chartModel([obs(3, 30, 0.5), obs(1, 10), obs(2, 20, 0.01)], {});
    expect(m.x).toEqual([1, 2, 3]);
    expect(m.qps).toEqual([10, 20, 30]);
    expect(m.errorPct).toEqual([null, 1, 50]);
    expect(m.p99).toEqual([1, 2, 3]);
  });

  it("takes the fault window, markers and baseline from the run metrics", () => {
    const m = chartModel([obs(1, 100)], {
      fault_started_at: 10,
      fault_ended_at: 20,
      aborted_at: 15,
      recovered_at: 30,
      baseline_qps: 100,
      baseline_low: 90,
      baseline_high: 110,
    });
    expect([m.faultStart, m.faultEnd, m.abortAt, m.recoveredAt]).toEqual([10, 20, 15, 30]);
    expect(m.baseline).toEqual({ median: 100, low: 90, high: 110 });
  });

  it("falls back to events and to the samples before the fault", () => {
    const samples = [obs(1, 98), obs(2, 100), obs(3, 102), obs(4, 40), obs(5, 60)];
    const m = chartModel(samples, {}, [event(3.5, "FaultInjected"), event(5, "Recovered")]);
    expect(m.faultStart).toBe(3.5);
    expect(m.recoveredAt).toBe(5);
    expect(m.faultEnd).toBeNull();
    expect(m.baseline?.median).toBe(100);
    expect(m.baseline!.low).toBeLessThan(98);
    expect(dipOf(m)).toEqual({ qps: 40, ts: 4 });
  });

  it("metrics win over events", () => {
    const m = chartModel([], { fault_started_at: 7 }, [event(3, "FaultInjected")]);
    expect(m.faultStart).toBe(7);
  });
});

describe("baselineOf", () => {
  it("is at least 5 % wide even for a perfectly flat service", () => {
    expect(baselineOf([50, 50, 50])).toEqual({ median: 50, low: 47.5, high: 52.5 });
  });
  it("widens with noise", () => {
    const band = baselineOf([80, 100, 120, 90, 110])!;
    expect(band.median).toBe(100);
    expect(band.high - band.low).toBeGreaterThan(40);
  });
  it("has nothing to say about no samples", () => {
    expect(baselineOf([])).toBeNull();
  });
});

describe("a run reported by the engine (metrics.probes)", () => {
  const reported = {
    probes: [
      { probe: "web", baselineQps: 500, baselineLow: 400, timeToRecoverFromEndSeconds: 2.5 },
      { probe: "other", baselineQps: 1 },
    ],
  };

  it("reads the first probe's figures under the dashboard's keys", () => {
    expect(metric(reported, "timeToRecover")).toBe(2.5);
    expect(metric(reported, "baselineMedian")).toBe(500);
    expect(metric(reported, "dipDepth")).toBeNull();
    expect(metric({ time_to_recover_s: 9, ...reported }, "timeToRecover")).toBe(9);
    expect(probeSummary({ probes: "nonsense" })).toEqual({});
  });

  it("draws the engine's baseline band, symmetric around the median", () => {
    const m = chartModel([obs(1, 480), obs(2, 510)], reported);
    expect(m.baseline).toEqual({ median: 500, low: 400, high: 600 });
  });
});
