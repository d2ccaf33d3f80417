// The figures of one probe of a run, each once, with a human label and its unit; instants as
// local times with their offset from the fault's start. Pure, so it is unit-tested.
import { num, probeSummary } from "./series";

export interface Figure {
  label: string;
  value: string;
  /** What the figure means, for the tooltip. */
  hint?: string;
}

const one = (v: number) => (Math.abs(v) >= 100 ? v.toFixed(0) : v.toFixed(1));

function epoch(value: unknown): number | null {
  if (typeof value === "string") {
    const t = Date.parse(value);
    return Number.isNaN(t) ? null : t / 1000;
  }
  return num(value);
}

/** "8:02:10 PM (+2.6 s after the fault started)" */
export function instant(t: number, faultStart: number | null): string {
  const local = new Date(t * 1000).toLocaleTimeString();
  if (faultStart === null) return local;
  const d = t - faultStart;
  const rel =
    Math.abs(d) < 0.05
      ? "when the fault started"
      : `${d > 0 ? "+" : "−"}${one(Math.abs(d))} s ${d > 0 ? "after" : "before"} the fault started`;
  return `${local} (${rel})`;
}

export function runFigures(metrics: Record<string, unknown>, probe?: string): Figure[] {
  const p = probeSummary(metrics, probe);
  const faultStart = epoch(metrics.fault_started_at);
  const out: Figure[] = [];
  const add = (label: string, value: string | null, hint?: string) => {
    if (value !== null) out.push({ label, value, hint });
  };
  const n = (key: string) => num(p[key]);
  const fmt = (v: number | null, unit: string) => (v === null ? null : `${one(v)} ${unit}`);
  add(
    "Baseline",
    fmt(n("baselineQps") ?? num(metrics.baseline_qps), "req/s"),
    "Median QPS before the fault",
  );
  add(
    "Lowest (1 s average)",
    fmt(n("minQps") ?? num(metrics.min_qps), "req/s"),
    "The lowest 1-second average the verdict judged; the chart's lowest is a single sample",
  );
  add("Dip depth", fmt(n("dipDepthPercent") ?? num(metrics.dip_depth_pct), "% below baseline"));
  add("Time to impact", fmt(n("timeToImpactSeconds"), "s after the fault started"));
  add("Dip lasted", fmt(n("dipDurationSeconds"), "s"));
  const fromStart = n("timeToRecoverFromStartSeconds") ?? num(metrics.time_to_recover_s);
  const fromEnd = n("timeToRecoverFromEndSeconds");
  if (fromStart !== null) {
    add(
      "Recovered",
      `${one(fromStart)} s after the fault started` +
        (fromEnd !== null ? ` (${one(fromEnd)} s after it ended)` : ""),
    );
  } else if (Object.keys(p).length) {
    add("Recovered", "not within the run");
  }
  const errors = n("errorRateDuringFault");
  add("Errors during the fault", errors === null ? null : `${one(errors * 100)} %`);
  add(
    "Requests lost",
    fmt(n("lostRequests"), "requests"),
    "Fewer than the baseline rate would have served",
  );
  add("Requests failed", fmt(n("failedRequests"), "requests"));
  const times: [string, unknown, string?][] = [
    ["Fault started", metrics.fault_started_at, "When the faults were created"],
    [
      "Faults verified",
      metrics.faultsVerifiedTime,
      "When every fault was seen in force on a target",
    ],
    ["Abort decided", metrics.abortTime],
    ["Fault ended", metrics.fault_ended_at],
    ["Faults removed", metrics.faultsRemovedTime, "When the last chaos object was gone"],
  ];
  for (const [label, value, hint] of times) {
    const t = epoch(value);
    add(label, t === null ? null : instant(t, faultStart), hint);
  }
  return out;
}
