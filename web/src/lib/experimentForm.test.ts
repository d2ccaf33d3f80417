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
  tolerances: [
    { metric: "qps", bound: "recoverTo", value: "70", during: "fault" },
    { metric: "latencyP99", bound: "atMostPercentOfBaseline", value: "300", during: "whole" },
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
    // The hypothesis as the Experiment resource states it, on the form's probe.
    expect(doc.hypothesis!.tolerances).toEqual([
      { probe: "service", recoverTo: 70, within: "60s" },
      { probe: "service", metric: "latencyP99", during: "whole", atMostPercentOfBaseline: 300 },
    ]);
    expect(doc.spec!.timing).toEqual({
      baseline: "60s",
      faultDuration: "30s",
      recoveryDeadline: "60s",
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

  it("writes only the bound each tolerance has", () => {
    const yaml = toYaml(toDocument(good));
    expect(yaml).toMatch(/recoverTo: 70/);
    expect(yaml).not.toMatch(/maxDropPercent|atLeast:/);
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
      tolerances: [
        { metric: "qps", bound: "maxDropPercent", value: "", during: "fault" },
        { metric: "errorRate", bound: "recoverTo", value: "150", during: "fault" },
      ],
    });
    expect(Object.keys(errors).sort()).toEqual([
      "experiment.name",
      "fault.param",
      "fault.value",
      "hypothesis.title",
      "hypothesis.tolerances.0.maxDropPercent",
      "hypothesis.tolerances.1.metric",
      "hypothesis.tolerances.1.recoverTo",
      "spec.timing.faultDuration",
    ]);
    expect(errors["hypothesis.tolerances.1.recoverTo"]).toBe("from 0 to 100");
    expect(validate({ ...good, tolerances: [] })["hypothesis.tolerances"]).toMatch(/at least one/);
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
        { loc: ["body", "tolerances", 0, "maxDropPercent"], msg: "too big" },
        { loc: ["body", "title"], msg: "empty" },
      ]),
    ).toEqual({
      "hypothesis.tolerances.0.maxDropPercent": "too big",
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
