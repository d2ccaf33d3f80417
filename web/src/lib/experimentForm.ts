// The new-experiment form as data: form fields <-> the request document (shown as YAML), and the
// checks run before submitting. Pure functions, so the YAML round trip and every check are unit
// tested. Error keys are dotted paths ("experiment.name", "hypothesis.tolerances.0.recoverTo")
// so client checks and the API's 422 `loc` land next to the same input. The hypothesis is
// written as the Experiment resource states it: tolerances on the form's probe.
import { parse, stringify } from "yaml";
import type { FieldError } from "./api";

export type Kind = "PodChaos" | "NetworkChaos" | "IOChaos";
export type Metric = "qps" | "errorRate" | "latencyP50" | "latencyP99";
export type Bound =
  | "recoverTo"
  | "maxDropPercent"
  | "atLeastPercentOfBaseline"
  | "atMostPercentOfBaseline"
  | "atLeast"
  | "atMost";
export type Window = "fault" | "afterRecovery" | "whole";
export const KINDS: Kind[] = ["PodChaos", "NetworkChaos", "IOChaos"];
export const ACTIONS: Record<Kind, string[]> = {
  PodChaos: ["pod-kill", "pod-failure", "container-kill"],
  NetworkChaos: ["loss", "delay", "partition", "duplicate", "corrupt", "bandwidth"],
  IOChaos: ["latency", "fault"],
};
export const MODES = ["one", "all", "fixed", "fixed-percent", "random-max-percent"];
export const METRICS: Record<Metric, string> = {
  qps: "QPS (req/s)",
  errorRate: "error rate (0-1)",
  latencyP50: "p50 latency (ms)",
  latencyP99: "p99 latency (ms)",
};
/** The tolerance's bound, in words; the value goes where the blank is. */
export const BOUNDS: Record<Bound, string> = {
  recoverTo: "is back to __ % of baseline within the recovery deadline",
  maxDropPercent: "falls at most __ % below baseline",
  atLeastPercentOfBaseline: "stays at or above __ % of baseline",
  atMostPercentOfBaseline: "stays at or below __ % of baseline",
  atLeast: "stays at or above __",
  atMost: "stays at or below __",
};
export const WINDOWS: Record<Window, string> = {
  fault: "while the fault is in force",
  afterRecovery: "after it recovered",
  whole: "from the fault's start to the end",
};
const FIELD: Record<Kind, string> = {
  PodChaos: "podChaos",
  NetworkChaos: "networkChaos",
  IOChaos: "ioChaos",
};

/** One tolerance of the hypothesis, on the form's probe. */
export interface ToleranceRow {
  metric: Metric;
  bound: Bound;
  value: string;
  during: Window;
}

export interface FormState {
  name: string;
  namespace: string;
  description: string;
  kind: Kind;
  action: string;
  mode: string;
  value: string;
  targetNamespaces: string;
  labels: string;
  /** The action's main parameter: loss %, latency, rate, errno... (see paramLabel). */
  param: string;
  volumePath: string;
  baseline: string;
  faultDuration: string;
  recoveryDeadline: string;
  hypothesisTitle: string;
  tolerances: ToleranceRow[];
  /** The service URL the load probe measures; needed to start a run in the cluster. */
  probeUrl: string;
}

export const EMPTY_FORM: FormState = {
  name: "",
  namespace: "default",
  description: "",
  kind: "PodChaos",
  action: "pod-kill",
  mode: "one",
  value: "",
  targetNamespaces: "default",
  labels: "",
  param: "",
  volumePath: "/data",
  baseline: "60s",
  faultDuration: "30s",
  recoveryDeadline: "60s",
  hypothesisTitle: "",
  tolerances: [{ metric: "qps", bound: "recoverTo", value: "80", during: "fault" }],
  probeUrl: "",
};

/** The probe the form writes: a light closed-loop load (2 workers) on the service. */
export const PROBE_NAME = "service";

/** What the action's parameter means, or null when the action takes none. */
export function paramLabel(kind: Kind, action: string): string | null {
  if (kind === "NetworkChaos") {
    return (
      {
        loss: "Loss %",
        delay: "Latency (e.g. 100ms)",
        duplicate: "Duplicate %",
        corrupt: "Corrupt %",
        bandwidth: "Rate (e.g. 1mbps)",
      }[action] ?? null
    );
  }
  if (kind === "IOChaos") return action === "latency" ? "Delay (e.g. 100ms)" : "errno (e.g. 5)";
  return null;
}

export interface RequestDocument {
  name?: unknown;
  namespace?: unknown;
  description?: unknown;
  hypothesis?: Record<string, unknown>;
  spec?: Record<string, unknown>;
  [extra: string]: unknown;
}

const DURATION = /^(\d+(\.\d+)?(ns|us|µs|ms|s|m|h))+$/;
const NAME = /^[a-z0-9]([-.a-z0-9]*[a-z0-9])?$/;
const NAMESPACE = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

export function durationSeconds(text: string): number | null {
  if (!DURATION.test(text)) return null;
  const unit: Record<string, number> = {
    ns: 1e-9,
    us: 1e-6,
    µs: 1e-6,
    ms: 1e-3,
    s: 1,
    m: 60,
    h: 3600,
  };
  let total = 0;
  for (const m of text.matchAll(/(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)/g))
    total += Number(m[1]) * unit[m[2]!]!;
  return total;
}

function splitList(text: string): string[] {
  return text.split(/[\s,]+/).filter(Boolean);
}

function parseLabels(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const pair of splitList(text)) {
    const [k, ...v] = pair.split("=");
    if (k) out[k] = v.join("=");
  }
  return out;
}

function numberOrUndefined(text: string): number | undefined {
  return text.trim() === "" ? undefined : Number(text);
}

function faultSpec(f: FormState): Record<string, unknown> {
  const spec: Record<string, unknown> = {
    action: f.action,
    mode: f.mode,
    selector: { namespaces: splitList(f.targetNamespaces), labelSelectors: parseLabels(f.labels) },
  };
  if (f.value) spec.value = f.value;
  if (f.kind === "NetworkChaos" && f.param) {
    const key = { loss: "loss", duplicate: "duplicate", corrupt: "corrupt" }[f.action];
    if (key) spec[f.action] = { [key]: f.param };
    if (f.action === "delay") spec.delay = { latency: f.param };
    if (f.action === "bandwidth") spec.bandwidth = { rate: f.param };
  }
  if (f.kind === "IOChaos") {
    spec.volumePath = f.volumePath;
    if (f.param) {
      if (f.action === "latency") spec.delay = f.param;
      else spec.errno = Number(f.param);
    }
  }
  return spec;
}

export function toDocument(f: FormState): RequestDocument {
  return {
    name: f.name,
    namespace: f.namespace,
    description: f.description,
    hypothesis: {
      title: f.hypothesisTitle,
      tolerances: f.tolerances.map((t) =>
        t.bound === "recoverTo"
          ? { probe: PROBE_NAME, recoverTo: numberOrUndefined(t.value), within: f.recoveryDeadline }
          : {
              probe: PROBE_NAME,
              metric: t.metric,
              during: t.during,
              [t.bound]: numberOrUndefined(t.value),
            },
      ),
    },
    spec: {
      probes: f.probeUrl.trim()
        ? [{ name: PROBE_NAME, type: "load", url: f.probeUrl.trim(), workers: 2 }]
        : undefined,
      faults: [{ name: "fault-1", type: f.kind, [FIELD[f.kind]]: faultSpec(f) }],
      timing: {
        baseline: f.baseline,
        faultDuration: f.faultDuration,
        recoveryDeadline: f.recoveryDeadline,
      },
    },
  };
}

export function toYaml(doc: RequestDocument): string {
  // undefined values are dropped, so an empty optional input leaves no key behind.
  return stringify(JSON.parse(JSON.stringify(doc)));
}

const str = (v: unknown, fallback = ""): string =>
  v === undefined || v === null ? fallback : typeof v === "object" ? fallback : String(v);
const obj = (v: unknown): Record<string, unknown> =>
  v && typeof v === "object" && !Array.isArray(v) ? (v as Record<string, unknown>) : {};

/** Reads YAML typed by the user back into the form (best effort: unknown keys stay in the doc). */
export function fromYaml(text: string): { doc: RequestDocument; form: FormState } {
  const doc = obj(parse(text)) as RequestDocument;
  const hyp = obj(doc.hypothesis);
  const spec = obj(doc.spec);
  const timing = obj(spec.timing);
  const fault = obj(Array.isArray(spec.faults) ? spec.faults[0] : undefined);
  const probe = obj(Array.isArray(spec.probes) ? spec.probes[0] : undefined);
  const kind = (KINDS.includes(fault.type as Kind) ? fault.type : "PodChaos") as Kind;
  const chaos = obj(fault[FIELD[kind]]);
  const selector = obj(chaos.selector);
  const action = str(chaos.action, ACTIONS[kind][0]);
  const block = obj(chaos[action]);
  const param =
    kind === "IOChaos"
      ? str(action === "latency" ? chaos.delay : chaos.errno)
      : str(block.loss ?? block.latency ?? block.duplicate ?? block.corrupt ?? block.rate);
  const tolerances = (Array.isArray(hyp.tolerances) ? hyp.tolerances : []).map(
    (t): ToleranceRow => {
      const o = obj(t);
      const bound = (Object.keys(BOUNDS) as Bound[]).find((b) => o[b] !== undefined) ?? "atLeast";
      return {
        metric: (o.metric as string) in METRICS ? (o.metric as Metric) : "qps",
        bound,
        value: str(o[bound]),
        during: (o.during as string) in WINDOWS ? (o.during as Window) : "fault",
      };
    },
  );
  const form: FormState = {
    name: str(doc.name),
    namespace: str(doc.namespace),
    description: str(doc.description),
    kind,
    action,
    mode: str(chaos.mode, "one"),
    value: str(chaos.value),
    targetNamespaces: (Array.isArray(selector.namespaces) ? selector.namespaces : []).join(", "),
    labels: Object.entries(obj(selector.labelSelectors))
      .map(([k, v]) => `${k}=${str(v)}`)
      .join(", "),
    param,
    volumePath: str(chaos.volumePath, "/data"),
    baseline: str(timing.baseline, "60s"),
    faultDuration: str(timing.faultDuration),
    recoveryDeadline: str(timing.recoveryDeadline, "60s"),
    hypothesisTitle: str(hyp.title),
    tolerances,
    probeUrl: str(probe.url),
  };
  return { doc, form };
}

export type Errors = Record<string, string>;

/** Checks run before submitting; keys are the inputs' error paths. */
export function validate(f: FormState): Errors {
  const e: Errors = {};
  if (!NAME.test(f.name) || f.name.length > 253)
    e["experiment.name"] =
      "lower-case letters, digits, '-' and '.', starting and ending alphanumeric";
  if (!NAMESPACE.test(f.namespace) || f.namespace.length > 63)
    e["experiment.namespace"] = "a namespace name: lower-case letters, digits and '-'";
  if (!ACTIONS[f.kind].includes(f.action)) e["fault.action"] = `not an action of ${f.kind}`;
  if (!MODES.includes(f.mode)) e["fault.mode"] = `one of ${MODES.join(", ")}`;
  if (f.mode !== "one" && f.mode !== "all" && !/^\d+$/.test(f.value))
    e["fault.value"] = `mode ${f.mode} needs a whole number`;
  if (f.mode.endsWith("percent") && Number(f.value) > 100)
    e["fault.value"] = "at most 100 (percent)";
  if (splitList(f.targetNamespaces).length === 0 && Object.keys(parseLabels(f.labels)).length === 0)
    e["fault.selector"] = "give target namespaces or label selectors, or every pod would match";
  for (const pair of splitList(f.labels))
    if (!/^[^=]+=[^=]*$/.test(pair)) e["fault.labels"] = `"${pair}" is not key=value`;
  const label = paramLabel(f.kind, f.action);
  if (label) {
    if (!f.param.trim()) e["fault.param"] = `${label} is required for ${f.action}`;
    else if (label.startsWith("Latency") || label.startsWith("Delay")) {
      if (!DURATION.test(f.param)) e["fault.param"] = "a duration such as 100ms or 1s";
    } else if (label.endsWith("%") && !(Number(f.param) >= 0 && Number(f.param) <= 100))
      e["fault.param"] = "a percentage from 0 to 100";
    else if (
      label.startsWith("errno") &&
      !(Number.isInteger(Number(f.param)) && Number(f.param) >= 1 && Number(f.param) <= 133)
    )
      e["fault.param"] = "an errno from 1 to 133";
  }
  if (f.kind === "IOChaos" && !f.volumePath.startsWith("/"))
    e["fault.volumePath"] = "an absolute path";
  const timings: [keyof FormState, string][] = [
    ["baseline", "spec.timing.baseline"],
    ["faultDuration", "spec.timing.faultDuration"],
    ["recoveryDeadline", "spec.timing.recoveryDeadline"],
  ];
  for (const [key, path] of timings)
    if (!DURATION.test(String(f[key]))) e[path] = "a duration such as 30s, 5m or 1m30s";
  const baseline = durationSeconds(f.baseline);
  if (baseline !== null && (baseline <= 0 || baseline > 3600))
    e["spec.timing.baseline"] = "more than 0 and at most 1h";
  if (f.probeUrl.trim() && !/^https?:\/\/\S+$/.test(f.probeUrl.trim()))
    e["spec.probes"] = "an http:// or https:// URL of the service, e.g. http://web.shop/";
  if (!f.hypothesisTitle.trim())
    e["hypothesis.title"] = "say what you expect, e.g. “QPS stays above 80 %”";
  if (f.tolerances.length === 0)
    e["hypothesis.tolerances"] = "add at least one tolerance: what must hold for the run to pass";
  f.tolerances.forEach((t, i) => {
    const at = `hypothesis.tolerances.${i}`;
    const value = numberOrUndefined(t.value);
    const [low, high] = {
      recoverTo: [0, 100],
      maxDropPercent: [0, 100],
      atLeastPercentOfBaseline: [0, 1000],
      atMostPercentOfBaseline: [0, Infinity],
      atLeast: [-Infinity, Infinity],
      atMost: [-Infinity, Infinity],
    }[t.bound];
    if (value === undefined || Number.isNaN(value)) e[`${at}.${t.bound}`] = "a number is required";
    else if (!(value >= low! && value <= high!))
      e[`${at}.${t.bound}`] = Number.isFinite(high) ? `from ${low} to ${high}` : `${low} or more`;
    if (t.bound === "recoverTo" && t.metric !== "qps")
      e[`${at}.metric`] = "recovery is measured on QPS: choose QPS";
  });
  return e;
}

/** Maps the API's 422 `loc` (["body", "name"]) to an error path under `prefix`. */
export function serverErrors(prefix: "experiment" | "hypothesis", fields: FieldError[]): Errors {
  const out: Errors = {};
  for (const f of fields) {
    const rest = f.loc[0] === "body" ? f.loc.slice(1) : f.loc;
    const top = rest[0];
    // The hypothesis is sent with the experiment's namespace: its errors belong to that field.
    const path =
      (prefix === "experiment" && (top === "name" || top === "description")) || top === "namespace"
        ? `experiment.${String(top)}`
        : prefix === "experiment"
          ? ["experiment", ...rest].join(".")
          : ["hypothesis", ...rest].join(".");
    out[path] = out[path] ? `${out[path]}; ${f.msg}` : f.msg;
  }
  return out;
}
