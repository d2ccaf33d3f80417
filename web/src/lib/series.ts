// Turns a run's observations, metrics and events into what the live chart draws: the QPS curve,
// the baseline band, the fault window and the abort/recovery markers. Pure, so it is unit-tested.
import type { FaultlineEvent, Observation } from "./api";

export interface Band {
  median: number;
  low: number;
  high: number;
}

export interface ChartModel {
  x: number[];
  qps: number[];
  errorPct: (number | null)[];
  p99: (number | null)[];
  baseline: Band | null;
  faultStart: number | null;
  faultEnd: number | null;
  abortAt: number | null;
  recoveredAt: number | null;
}

/** Run metric keys the dashboard reads (Unix seconds / QPS); see docs/dashboard.md. */
export const METRIC_KEYS = {
  faultStart: "fault_started_at",
  faultEnd: "fault_ended_at",
  abortAt: "aborted_at",
  recoveredAt: "recovered_at",
  baselineMedian: "baseline_qps",
  baselineLow: "baseline_low",
  baselineHigh: "baseline_high",
  timeToRecover: "time_to_recover_s",
  dipDepth: "dip_depth_pct",
} as const;

/** The engine's names for the same figures: a run the operator reports carries its summary as
 * `metrics.probes`, one entry per probe. */
const ENGINE_KEYS: Partial<Record<keyof typeof METRIC_KEYS, string>> = {
  baselineMedian: "baselineQps",
  baselineLow: "baselineLow",
  timeToRecover: "timeToRecoverFromEndSeconds",
  dipDepth: "dipDepthPercent",
};

function summaries(metrics: Record<string, unknown>): Record<string, unknown>[] {
  const probes = metrics.probes;
  return Array.isArray(probes)
    ? probes.filter((p): p is Record<string, unknown> => !!p && typeof p === "object")
    : [];
}

/** One probe's summary of a run reported by the engine (the first probe's when `probe` is not
 * given or not found), or {}. */
export function probeSummary(
  metrics: Record<string, unknown>,
  probe?: string,
): Record<string, unknown> {
  const all = summaries(metrics);
  return all.find((p) => p.probe === probe) ?? all[0] ?? {};
}

/** The probes of a run: those the engine summarised, in its order, then any other probe that
 * has samples. */
export function probesOf(points: Observation[], metrics: Record<string, unknown>): string[] {
  const names = summaries(metrics).map((p) => String(p.probe ?? ""));
  for (const p of points) if (!names.includes(p.probe)) names.push(p.probe);
  return names;
}

/** A run metric by its dashboard key, else by the engine's name for it (of `probe`). */
export function metric(
  metrics: Record<string, unknown>,
  key: keyof typeof METRIC_KEYS,
  probe?: string,
): number | null {
  const own = num(metrics[METRIC_KEYS[key]]);
  const engine = ENGINE_KEYS[key];
  return own ?? (engine ? num(probeSummary(metrics, probe)[engine]) : null);
}

/** Event reasons that stand in for missing metric keys. */
const EVENT_REASONS: Record<string, "faultStart" | "faultEnd" | "abortAt" | "recoveredAt"> = {
  FaultInjected: "faultStart",
  FaultRemoved: "faultEnd",
  Aborted: "abortAt",
  Recovered: "recoveredAt",
};

export function num(value: unknown): number | null {
  return typeof value === "number" && Number.isFinite(value) ? value : null;
}

function median(sorted: number[]): number {
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** Median of the samples before the fault, with a band of 3 robust sigmas (at least +-5 %). */
export function baselineOf(values: number[]): Band | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const m = median(sorted);
  const mad = median(sorted.map((v) => Math.abs(v - m)).sort((a, b) => a - b));
  const half = Math.max(3 * 1.4826 * mad, 0.05 * m);
  return { median: m, low: Math.max(0, m - half), high: m + half };
}

/** What the chart draws for one probe's series (`probe`; every sample when not given). */
export function chartModel(
  points: Observation[],
  metrics: Record<string, unknown>,
  events: FaultlineEvent[] = [],
  probe?: string,
): ChartModel {
  const mine = probe === undefined ? points : points.filter((p) => p.probe === probe);
  const sorted = [...mine].sort((a, b) => a.ts - b.ts);
  const marks = {
    faultStart: num(metrics[METRIC_KEYS.faultStart]),
    faultEnd: num(metrics[METRIC_KEYS.faultEnd]),
    abortAt: num(metrics[METRIC_KEYS.abortAt]),
    recoveredAt: num(metrics[METRIC_KEYS.recoveredAt]),
  };
  for (const e of [...events].sort((a, b) => a.ts.localeCompare(b.ts))) {
    const key = EVENT_REASONS[e.reason];
    if (key && marks[key] === null) marks[key] = Date.parse(e.ts) / 1000;
  }
  // The engine measures each probe's recovery: its marker is this probe's.
  const ttr = num(probeSummary(metrics, probe).timeToRecoverFromStartSeconds);
  if (ttr !== null && marks.faultStart !== null) marks.recoveredAt = marks.faultStart + ttr;
  const median = metric(metrics, "baselineMedian", probe);
  let baseline: Band | null = null;
  if (median !== null) {
    const low = metric(metrics, "baselineLow", probe);
    baseline = {
      median,
      low: low ?? median * 0.95,
      // The engine reports the lower edge only: its band is symmetric.
      high: metric(metrics, "baselineHigh") ?? (low !== null ? 2 * median - low : median * 1.05),
    };
  } else if (marks.faultStart !== null) {
    const start = marks.faultStart;
    baseline = baselineOf(sorted.filter((p) => p.ts < start).map((p) => p.qps));
  }
  return {
    x: sorted.map((p) => p.ts),
    qps: sorted.map((p) => p.qps),
    errorPct: sorted.map((p) => (p.error_rate == null ? null : p.error_rate * 100)),
    p99: sorted.map((p) => p.latency_p99_ms ?? null),
    baseline,
    ...marks,
  };
}

/** Lowest raw QPS sample after the fault started, for the chart's text summary (the engine's
 * `minQps` is the lowest of the 1-second averages it judges, so it can be higher). */
export function dipOf(model: ChartModel): { qps: number; ts: number } | null {
  let best: { qps: number; ts: number } | null = null;
  model.x.forEach((ts, i) => {
    const qps = model.qps[i]!;
    if ((model.faultStart === null || ts >= model.faultStart) && (!best || qps < best.qps)) {
      best = { qps, ts };
    }
  });
  return best;
}
