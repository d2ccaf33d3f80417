import { describe, expect, it } from "vitest";
import { instant, runFigures } from "./figures";

const metrics = {
  fault_started_at: 1_800_000_000,
  fault_ended_at: 1_800_000_030,
  faultsVerifiedTime: new Date(1_800_000_002_600).toISOString(),
  probes: [
    {
      probe: "writes",
      baselineQps: 412.25,
      minQps: 0,
      dipDepthPercent: 100,
      timeToRecoverFromStartSeconds: 20.6,
      timeToRecoverFromEndSeconds: 0,
      errorRateDuringFault: 0.8051,
      lostRequests: 8123,
    },
    { probe: "reads", baselineQps: 80, minQps: 72, dipDepthPercent: 10 },
  ],
};

describe("runFigures", () => {
  it("shows each figure of the chosen probe once, with a label and a unit", () => {
    const figures = runFigures(metrics, "writes");
    const labels = figures.map((f) => f.label);
    expect(new Set(labels).size).toBe(labels.length);
    const value = (label: string) => figures.find((f) => f.label === label)?.value;
    expect(value("Baseline")).toBe("412 req/s");
    expect(value("Lowest (1 s average)")).toBe("0.0 req/s");
    expect(value("Errors during the fault")).toBe("80.5 %");
    expect(value("Recovered")).toBe("20.6 s after the fault started (0.0 s after it ended)");
    expect(value("Faults verified")).toContain("(+2.6 s after the fault started)");
    expect(value("Fault ended")).toContain("(+30.0 s after the fault started)");
    // No raw keys, in either spelling.
    expect(labels.some((l) => /_|[a-z][A-Z]/.test(l))).toBe(false);
  });

  it("follows the probe the chart shows", () => {
    const reads = runFigures(metrics, "reads");
    expect(reads.find((f) => f.label === "Baseline")?.value).toBe("80.0 req/s");
    expect(reads.find((f) => f.label === "Recovered")?.value).toBe("not within the run");
  });

  it("says an instant before the fault started as such", () => {
    expect(instant(90, 100)).toContain("(−10.0 s before the fault started)");
  });
});
