// New experiment: a form and a YAML view of the same request, kept in sync both ways. Checks run
// before submitting; the API's 422 field errors are shown next to their inputs.
import { useQueryClient } from "@tanstack/react-query";
import { useId, useState, type FormEvent, type ReactNode } from "react";
import { useNavigate } from "react-router-dom";
import { ApiError, call, client, type Schemas } from "../lib/api";
import {
  ACTIONS,
  BOUNDS,
  EMPTY_FORM,
  fromYaml,
  KINDS,
  METRICS,
  MODES,
  paramLabel,
  serverErrors,
  toDocument,
  toYaml,
  validate,
  WINDOWS,
  type Bound,
  type Errors,
  type FormState,
  type Kind,
  type Metric,
  type RequestDocument,
  type Window,
} from "../lib/experimentForm";

function Field(props: {
  label: string;
  error?: string;
  children: (id: string, aria: object) => ReactNode;
}) {
  const id = useId();
  const errorId = `${id}-error`;
  const aria = props.error ? { "aria-invalid": true, "aria-describedby": errorId } : {};
  return (
    <div className="field">
      <label htmlFor={id}>{props.label}</label>
      {props.children(id, aria)}
      {props.error ? (
        <span id={errorId} className="field-error" role="alert">
          {props.error}
        </span>
      ) : null}
    </div>
  );
}

export function NewExperiment() {
  const navigate = useNavigate();
  const queries = useQueryClient();
  const [form, setForm] = useState<FormState>(EMPTY_FORM);
  // Set while the YAML view is the source of truth (it may carry keys the form has no input for).
  const [yamlDoc, setYamlDoc] = useState<RequestDocument | null>(null);
  const [yamlText, setYamlText] = useState(() => toYaml(toDocument(EMPTY_FORM)));
  const [yamlError, setYamlError] = useState<string | null>(null);
  const [errors, setErrors] = useState<Errors>({});
  const [failure, setFailure] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const update = (changes: Partial<FormState>) => {
    const next = { ...form, ...changes };
    setForm(next);
    setYamlDoc(null);
    setYamlText(toYaml(toDocument(next)));
    setYamlError(null);
  };
  const onYaml = (text: string) => {
    setYamlText(text);
    try {
      const { doc, form: parsed } = fromYaml(text);
      setForm(parsed);
      setYamlDoc(doc);
      setYamlError(null);
    } catch (e) {
      setYamlError(`YAML: ${(e as Error).message.split("\n")[0]}`);
    }
  };
  const setTolerance = (i: number, changes: Partial<FormState["tolerances"][number]>) =>
    update({ tolerances: form.tolerances.map((t, j) => (i === j ? { ...t, ...changes } : t)) });

  async function submit(event: FormEvent) {
    event.preventDefault();
    setFailure(null);
    const found = validate(form);
    setErrors(found);
    if (yamlError || Object.keys(found).length) {
      setFailure("Fix the marked fields first.");
      return;
    }
    const { hypothesis, ...experiment } = yamlDoc ?? toDocument(form);
    // An experiment uses a hypothesis of its own namespace, so the hypothesis takes the
    // experiment's namespace field (RBAC on experiments there guards both).
    const hypothesisBody = {
      ...hypothesis,
      namespace: experiment.namespace,
    } as Schemas["HypothesisCreate"];
    setBusy(true);
    try {
      const hypothesisId = await call(
        client.POST("/api/v1/hypotheses", { body: hypothesisBody }),
      ).then(
        (created) => created.id,
        (e: unknown) => {
          if (e instanceof ApiError && e.fields.length)
            setErrors(serverErrors("hypothesis", e.fields));
          throw e;
        },
      );
      const body = { ...experiment, hypothesis_id: hypothesisId } as Schemas["ExperimentCreate"];
      try {
        const created = await call(client.POST("/api/v1/experiments", { body }));
        await queries.invalidateQueries({ queryKey: ["experiments"] });
        navigate(`/experiments/${created.id}`);
      } catch (e) {
        // Do not leave an orphan hypothesis behind a failed create.
        await client.DELETE("/api/v1/hypotheses/{hypothesis_id}", {
          params: { path: { hypothesis_id: hypothesisId } },
        });
        if (e instanceof ApiError && e.fields.length)
          setErrors(serverErrors("experiment", e.fields));
        if (e instanceof ApiError && e.status === 409) setErrors({ "experiment.name": e.detail });
        throw e;
      }
    } catch (e) {
      setFailure(
        e instanceof ApiError ? `The API refused it (${e.status}): ${e.detail}` : String(e),
      );
    } finally {
      setBusy(false);
    }
  }

  const label = paramLabel(form.kind, form.action);
  const known = new Set([
    "experiment.name",
    "experiment.namespace",
    "experiment.description",
    "fault.action",
    "fault.mode",
    "fault.value",
    "fault.selector",
    "fault.labels",
    "fault.param",
    "fault.volumePath",
    "spec.timing.baseline",
    "spec.timing.faultDuration",
    "spec.timing.recoveryDeadline",
    "hypothesis.title",
    "hypothesis.tolerances",
  ]);
  const shown = (k: string) => {
    const m = /^hypothesis\.tolerances\.(\d+)(?:\.(\w+))?$/.exec(k);
    const row = m ? form.tolerances[Number(m[1])] : undefined;
    return !!row && (m![2] === undefined || m![2] === "metric" || m![2] === row.bound);
  };
  const other = Object.entries(errors).filter(([k]) => !known.has(k) && !shown(k));

  return (
    <>
      <h1>New experiment</h1>
      <div className="split">
        <form onSubmit={submit} noValidate aria-label="New experiment">
          <fieldset>
            <legend>Experiment</legend>
            <Field label="Name" error={errors["experiment.name"]}>
              {(id, aria) => (
                <input
                  id={id}
                  {...aria}
                  value={form.name}
                  onChange={(e) => update({ name: e.target.value })}
                />
              )}
            </Field>
            <Field label="Namespace" error={errors["experiment.namespace"]}>
              {(id, aria) => (
                <input
                  id={id}
                  {...aria}
                  value={form.namespace}
                  onChange={(e) => update({ namespace: e.target.value })}
                />
              )}
            </Field>
            <Field label="Description" error={errors["experiment.description"]}>
              {(id, aria) => (
                <textarea
                  id={id}
                  {...aria}
                  rows={2}
                  value={form.description}
                  onChange={(e) => update({ description: e.target.value })}
                />
              )}
            </Field>
          </fieldset>
          <fieldset>
            <legend>Fault</legend>
            <Field label="Fault type">
              {(id) => (
                <select
                  id={id}
                  value={form.kind}
                  onChange={(e) => {
                    const kind = e.target.value as Kind;
                    update({ kind, action: ACTIONS[kind][0]!, param: "" });
                  }}
                >
                  {KINDS.map((k) => (
                    <option key={k}>{k}</option>
                  ))}
                </select>
              )}
            </Field>
            <Field label="Action" error={errors["fault.action"]}>
              {(id, aria) => (
                <select
                  id={id}
                  {...aria}
                  value={form.action}
                  onChange={(e) => update({ action: e.target.value, param: "" })}
                >
                  {ACTIONS[form.kind].map((a) => (
                    <option key={a}>{a}</option>
                  ))}
                </select>
              )}
            </Field>
            {label ? (
              <Field label={label} error={errors["fault.param"]}>
                {(id, aria) => (
                  <input
                    id={id}
                    {...aria}
                    value={form.param}
                    onChange={(e) => update({ param: e.target.value })}
                  />
                )}
              </Field>
            ) : null}
            {form.kind === "IOChaos" ? (
              <Field label="Volume path" error={errors["fault.volumePath"]}>
                {(id, aria) => (
                  <input
                    id={id}
                    {...aria}
                    value={form.volumePath}
                    onChange={(e) => update({ volumePath: e.target.value })}
                  />
                )}
              </Field>
            ) : null}
            <Field label="Target namespaces" error={errors["fault.selector"]}>
              {(id, aria) => (
                <input
                  id={id}
                  {...aria}
                  placeholder="default, shop"
                  value={form.targetNamespaces}
                  onChange={(e) => update({ targetNamespaces: e.target.value })}
                />
              )}
            </Field>
            <Field label="Label selectors" error={errors["fault.labels"]}>
              {(id, aria) => (
                <input
                  id={id}
                  {...aria}
                  placeholder="app=web"
                  value={form.labels}
                  onChange={(e) => update({ labels: e.target.value })}
                />
              )}
            </Field>
            <Field label="Mode" error={errors["fault.mode"]}>
              {(id, aria) => (
                <select
                  id={id}
                  {...aria}
                  value={form.mode}
                  onChange={(e) => update({ mode: e.target.value })}
                >
                  {MODES.map((m) => (
                    <option key={m}>{m}</option>
                  ))}
                </select>
              )}
            </Field>
            {form.mode !== "one" && form.mode !== "all" ? (
              <Field label="Value" error={errors["fault.value"]}>
                {(id, aria) => (
                  <input
                    id={id}
                    {...aria}
                    value={form.value}
                    onChange={(e) => update({ value: e.target.value })}
                  />
                )}
              </Field>
            ) : null}
          </fieldset>
          <fieldset>
            <legend>Timing</legend>
            <Field label="Baseline" error={errors["spec.timing.baseline"]}>
              {(id, aria) => (
                <input
                  id={id}
                  {...aria}
                  value={form.baseline}
                  onChange={(e) => update({ baseline: e.target.value })}
                />
              )}
            </Field>
            <Field label="Fault duration" error={errors["spec.timing.faultDuration"]}>
              {(id, aria) => (
                <input
                  id={id}
                  {...aria}
                  value={form.faultDuration}
                  onChange={(e) => update({ faultDuration: e.target.value })}
                />
              )}
            </Field>
            <Field label="Recovery deadline" error={errors["spec.timing.recoveryDeadline"]}>
              {(id, aria) => (
                <input
                  id={id}
                  {...aria}
                  value={form.recoveryDeadline}
                  onChange={(e) => update({ recoveryDeadline: e.target.value })}
                />
              )}
            </Field>
          </fieldset>
          <fieldset>
            <legend>Measurement</legend>
            <Field label="Probe URL" error={errors["spec.probes"]}>
              {(id, aria) => (
                <input
                  id={id}
                  {...aria}
                  type="url"
                  placeholder="http://web.shop/ (needed to start a run)"
                  value={form.probeUrl}
                  onChange={(e) => update({ probeUrl: e.target.value })}
                />
              )}
            </Field>
          </fieldset>
          <fieldset>
            <legend>Hypothesis</legend>
            <Field label="Hypothesis title" error={errors["hypothesis.title"]}>
              {(id, aria) => (
                <input
                  id={id}
                  {...aria}
                  placeholder="QPS stays above 80 % and recovers within 60 s"
                  value={form.hypothesisTitle}
                  onChange={(e) => update({ hypothesisTitle: e.target.value })}
                />
              )}
            </Field>
            {errors["hypothesis.tolerances"] ? (
              <p className="field-error" role="alert">
                {errors["hypothesis.tolerances"]}
              </p>
            ) : null}
            {form.tolerances.map((t, i) => {
              const at = `hypothesis.tolerances.${i}`;
              return (
                <div className="criterion" key={i} role="group" aria-label={`Tolerance ${i + 1}`}>
                  <Field label={`Metric ${i + 1}`} error={errors[`${at}.metric`] ?? errors[at]}>
                    {(id, aria) => (
                      <select
                        id={id}
                        {...aria}
                        value={t.metric}
                        onChange={(e) => setTolerance(i, { metric: e.target.value as Metric })}
                      >
                        {Object.entries(METRICS).map(([m, text]) => (
                          <option key={m} value={m}>
                            {text}
                          </option>
                        ))}
                      </select>
                    )}
                  </Field>
                  <Field label={`Bound ${i + 1}`}>
                    {(id, aria) => (
                      <select
                        id={id}
                        {...aria}
                        value={t.bound}
                        onChange={(e) => setTolerance(i, { bound: e.target.value as Bound })}
                      >
                        {Object.entries(BOUNDS).map(([b, text]) => (
                          <option key={b} value={b}>
                            {text}
                          </option>
                        ))}
                      </select>
                    )}
                  </Field>
                  <Field label={`Value ${i + 1}`} error={errors[`${at}.${t.bound}`]}>
                    {(id, aria) => (
                      <input
                        id={id}
                        {...aria}
                        inputMode="decimal"
                        value={t.value}
                        onChange={(e) => setTolerance(i, { value: e.target.value })}
                      />
                    )}
                  </Field>
                  {t.bound === "recoverTo" ? null : (
                    <Field label={`Window ${i + 1}`} error={errors[`${at}.during`]}>
                      {(id, aria) => (
                        <select
                          id={id}
                          {...aria}
                          value={t.during}
                          onChange={(e) => setTolerance(i, { during: e.target.value as Window })}
                        >
                          {Object.entries(WINDOWS).map(([w, text]) => (
                            <option key={w} value={w}>
                              {text}
                            </option>
                          ))}
                        </select>
                      )}
                    </Field>
                  )}
                  <button
                    type="button"
                    onClick={() =>
                      update({ tolerances: form.tolerances.filter((_, j) => j !== i) })
                    }
                  >
                    Remove tolerance {i + 1}
                  </button>
                </div>
              );
            })}
            <button
              type="button"
              onClick={() =>
                update({
                  tolerances: [
                    ...form.tolerances,
                    { metric: "errorRate", bound: "atMost", value: "0.05", during: "fault" },
                  ],
                })
              }
            >
              Add tolerance
            </button>
          </fieldset>
          {other.length ? (
            <ul className="error" role="alert" aria-label="Other errors">
              {other.map(([k, v]) => (
                <li key={k}>
                  <code>{k}</code>: {v}
                </li>
              ))}
            </ul>
          ) : null}
          {failure ? (
            <p className="error" role="alert">
              {failure}
            </p>
          ) : null}
          <button type="submit" className="primary" disabled={busy}>
            Create experiment
          </button>
        </form>
        <section aria-labelledby="yaml-h" className="yaml">
          <h2 id="yaml-h">
            <label htmlFor="yaml">YAML</label>
          </h2>
          <textarea
            id="yaml"
            spellCheck={false}
            rows={36}
            value={yamlText}
            onChange={(e) => onYaml(e.target.value)}
          />
          {yamlError ? (
            <p className="field-error" role="alert">
              {yamlError}
            </p>
          ) : null}
        </section>
      </div>
    </>
  );
}
