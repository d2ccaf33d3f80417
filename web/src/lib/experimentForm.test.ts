import { describe, expect, it } from "vitest";
import {
  durationSeconds,
  EMPTY_FORM,
  fromYaml,
  serverErrors,
  toDocument,
  toYaml,
  validate,
  type FormState,
} from "./experimentForm";

const good: FormState = {
  ...EMPTY_FORM,
  name: "web-loss",
  kind: "NetworkChaos",
  action: "loss",
  param: "30",
  labels: "app=web, tier=front",
  hypothesisTitle: "QPS stays above 70 %",
  criteria: [
    { metric: "qps", max_drop_percent: "30", max_increase_percent: "" },
    { metric: "latency_p99_ms", max_drop_percent: "", max_increase_percent: "200" },
  ],
};

describe("document and YAML", () => {
  it("builds the fault in the kind's field, the Chaos Mesh layout", () => {
    const doc = toDocument(good);
    const fault = (doc.spec!.faults as Record<string, unknown>[])[0]!;
    expect(fault.type).toBe("NetworkChaos");
    expect(fault.networkChaos).toEqual({
      action: "loss",
      mode: "one",
      loss: { loss: "30" },
      selector: { namespaces: ["default"], labelSelectors: { app: "web", tier: "front" } },
    });
    expect(doc.hypothesis!.steady_state).toMatchObject({
      baseline_seconds: 60,
      recovery_deadline_seconds: 60,
    });
  });

  it("round-trips the form through YAML", () => {
    expect(fromYaml(toYaml(toDocument(good))).form).toEqual(good);
    const io = {
      ...good,
      kind: "IOChaos" as const,
      action: "latency",
      param: "250ms",
      volumePath: "/var/lib/db",
    };
    expect(fromYaml(toYaml(toDocument(io))).form).toEqual(io);
  });

  it("leaves empty optional numbers out of the YAML", () => {
    expect(toYaml(toDocument(good))).not.toMatch(/max_increase_percent: *\n/);
    expect(toYaml(toDocument(good))).toMatch(/max_increase_percent: 200/);
  });

  it("keeps keys the form does not know in the parsed document", () => {
    const { doc } = fromYaml(toYaml(toDocument(good)) + "labels: {team: sre}\n");
    expect(doc.labels).toEqual({ team: "sre" });
  });

  it("reports broken YAML", () => {
    expect(() => fromYaml("name: [unclosed")).toThrow();
  });
});

describe("validate", () => {
  it("accepts a complete form", () => {
    expect(validate(good)).toEqual({});
  });

  it("names every broken field", () => {
    const errors = validate({
      ...good,
      name: "Web_Loss",
      param: "",
      faultDuration: "30 seconds",
      mode: "fixed-percent",
      value: "150",
      hypothesisTitle: " ",
      criteria: [{ metric: "qps", max_drop_percent: "", max_increase_percent: "" }],
    });
    expect(Object.keys(errors).sort()).toEqual([
      "experiment.name",
      "fault.param",
      "fault.value",
      "hypothesis.steady_state.criteria.0",
      "hypothesis.title",
      "spec.timing.faultDuration",
    ]);
    expect(errors["fault.param"]).toMatch(/Loss % is required/);
  });

  it("checks the parameter's kind", () => {
    expect(validate({ ...good, param: "130" })["fault.param"]).toMatch(/0 to 100/);
    expect(validate({ ...good, action: "delay", param: "fast" })["fault.param"]).toMatch(
      /duration/,
    );
    expect(
      validate({ ...good, kind: "IOChaos", action: "fault", param: "500" })["fault.param"],
    ).toMatch(/errno/);
    expect(validate({ ...good, targetNamespaces: "", labels: "" })["fault.selector"]).toBeDefined();
  });

  it("parses Go durations", () => {
    expect(durationSeconds("1m30s")).toBe(90);
    expect(durationSeconds("250ms")).toBe(0.25);
    expect(durationSeconds("soon")).toBeNull();
  });
});

describe("serverErrors", () => {
  it("maps FastAPI's loc to the inputs' error paths", () => {
    expect(
      serverErrors("hypothesis", [
        { loc: ["body", "steady_state", "criteria", 0, "max_drop_percent"], msg: "too big" },
        { loc: ["body", "title"], msg: "empty" },
      ]),
    ).toEqual({
      "hypothesis.steady_state.criteria.0.max_drop_percent": "too big",
      "hypothesis.title": "empty",
    });
    expect(serverErrors("experiment", [{ loc: ["body", "name"], msg: "bad" }])).toEqual({
      "experiment.name": "bad",
    });
  });

  it("shows the hypothesis' namespace error on the one namespace field", () => {
    expect(serverErrors("hypothesis", [{ loc: ["body", "namespace"], msg: "no" }])).toEqual({
      "experiment.namespace": "no",
    });
  });
});

describe("the probe URL", () => {
  it("becomes a light load probe in the spec, and comes back from the YAML", () => {
    const doc = toDocument({ ...good, probeUrl: " http://web.shop/ " });
    expect(doc.spec!.probes).toEqual([
      { name: "service", type: "load", url: "http://web.shop/", workers: 2 },
    ]);
    expect(fromYaml(toYaml(doc)).form.probeUrl).toBe("http://web.shop/");
    expect(toDocument(good).spec!.probes).toBeUndefined();
    expect(toYaml(toDocument(good))).not.toContain("probes");
  });

  it("must be an http(s) URL when given", () => {
    expect(validate({ ...good, probeUrl: "web.shop" })["spec.probes"]).toMatch(/http:\/\//);
    expect(
      validate({ ...good, probeUrl: "https://web.shop:8443/x" })["spec.probes"],
    ).toBeUndefined();
    expect(validate(good)["spec.probes"]).toBeUndefined();
  });
});
