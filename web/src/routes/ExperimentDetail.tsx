// One experiment: its hypothesis and verdict, the live QPS chart of a run, the run's timeline,
// and how its runs compare over time.
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useMemo, useState } from "react";
import { useParams } from "react-router-dom";
import { StatusBadge, VerdictBadge } from "../components/Badge";
import { ConfirmButton } from "../components/ConfirmButton";
import { ErrorNotice } from "../components/ErrorNotice";
import { QpsChart } from "../components/QpsChart";
import { Trend } from "../components/Trend";
import { call, client, type Hypothesis, type Run } from "../lib/api";
import { seconds, when } from "../lib/format";
import { isLive, useRunEvents, useRuns } from "../lib/queries";
import { runFigures } from "../lib/figures";
import { chartModel, metric, probesOf } from "../lib/series";

function HypothesisCard({
  hypothesis,
  run,
  probe,
}: {
  hypothesis: Hypothesis | undefined;
  run?: Run;
  probe?: string;
}) {
  // A run reported by the engine keeps its figures per probe: show the charted probe's.
  const figures = runFigures(run?.metrics ?? {}, probe);
  return (
    <section className="card" aria-labelledby="hyp-h">
      <h2 id="hyp-h">
        Hypothesis: {hypothesis?.title ?? "none attached"}{" "}
        <VerdictBadge verdict={run?.verdict ?? null} phase={run?.phase} />
      </h2>
      {hypothesis?.description ? <p>{hypothesis.description}</p> : null}
      {hypothesis ? (
        <ul aria-label="Tolerances">
          {hypothesis.statements.map((text, i) => (
            <li key={i}>{text}</li>
          ))}
        </ul>
      ) : null}
      {figures.length ? (
        <>
          <h3>{probe ? `Figures of probe ${probe}` : "Figures"}</h3>
          <dl className="metrics" data-testid="figures">
            {figures.map((f) => (
              <div key={f.label} title={f.hint}>
                <dt>{f.label}</dt>
                <dd>{f.value}</dd>
              </div>
            ))}
          </dl>
        </>
      ) : null}
    </section>
  );
}

function RunComparison({
  runs,
  onPick,
  picked,
}: {
  runs: Run[];
  onPick: (id: number) => void;
  picked?: number;
}) {
  const ttr = [...runs].reverse().map((r) => metric(r.metrics, "timeToRecover"));
  return (
    <section className="card" aria-labelledby="cmp-h">
      <h2 id="cmp-h">Runs over time</h2>
      <Trend
        values={ttr}
        label="time to recover per run, oldest to newest"
        width={360}
        height={80}
        unit="s"
      />
      <table>
        <thead>
          <tr>
            <th scope="col">Run</th>
            <th scope="col">Started</th>
            <th scope="col">Phase</th>
            <th scope="col">Verdict</th>
            <th scope="col">Time to recover</th>
            <th scope="col">Dip depth</th>
          </tr>
        </thead>
        <tbody>
          {runs.map((r) => (
            <tr key={r.id} aria-current={r.id === picked ? "true" : undefined}>
              <td>
                <button type="button" className="link" onClick={() => onPick(r.id)}>
                  #{r.id}
                </button>
              </td>
              <td>{when(r.started_at)}</td>
              <td>
                <StatusBadge status={r.phase} />
              </td>
              <td>
                <VerdictBadge verdict={r.verdict} phase={r.phase} />
              </td>
              <td>{seconds(metric(r.metrics, "timeToRecover"))}</td>
              <td>
                {metric(r.metrics, "dipDepth") != null
                  ? `${metric(r.metrics, "dipDepth")!.toFixed(1)} %`
                  : "—"}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}

export function ExperimentDetail() {
  const id = Number(useParams().id);
  const queries = useQueryClient();
  const experiment = useQuery({
    queryKey: ["experiment", id],
    queryFn: () =>
      call(
        client.GET("/api/v1/experiments/{experiment_id}", {
          params: { path: { experiment_id: id } },
        }),
      ),
    // Its status and verdict follow the latest run, which may finish at any moment.
    refetchInterval: 2000,
  });
  const hypothesisId = experiment.data?.hypothesis_id ?? undefined;
  const hypothesis = useQuery({
    queryKey: ["hypothesis", hypothesisId],
    enabled: hypothesisId != null,
    queryFn: () =>
      call(
        client.GET("/api/v1/hypotheses/{hypothesis_id}", {
          params: { path: { hypothesis_id: hypothesisId! } },
        }),
      ),
  });
  const [picked, setPicked] = useState<number | undefined>();
  const runs = useRuns(id, true);
  const runList = runs.data?.items ?? [];
  const run = runList.find((r) => r.id === picked) ?? runList[0];
  const live = isLive(run);
  const observations = useQuery({
    queryKey: ["observations", run?.id],
    enabled: run !== undefined,
    queryFn: () =>
      call(
        client.GET("/api/v1/runs/{run_id}/observations", {
          params: { path: { run_id: run!.id }, query: { limit: 100000 } },
        }),
      ),
    refetchInterval: live ? 2000 : false,
  });
  const events = useRunEvents(run?.id, live);
  const probes = useMemo(
    () => probesOf(observations.data?.points ?? [], run?.metrics ?? {}),
    [observations.data, run?.metrics],
  );
  const [chosen, setChosen] = useState<string | undefined>();
  const probe = chosen !== undefined && probes.includes(chosen) ? chosen : probes[0];
  const model = useMemo(
    () =>
      chartModel(
        observations.data?.points ?? [],
        run?.metrics ?? {},
        events.data?.items ?? [],
        probe,
      ),
    [observations.data, run?.metrics, events.data, probe],
  );
  const start = useMutation({
    mutationFn: () =>
      call(
        client.POST("/api/v1/experiments/{experiment_id}/start", {
          params: { path: { experiment_id: id } },
        }),
      ),
    onSuccess: () => queries.invalidateQueries({ queryKey: ["runs", id] }),
  });
  const archive = useMutation({
    mutationFn: (runId: number) =>
      call(client.POST("/api/v1/runs/{run_id}/archive", { params: { path: { run_id: runId } } })),
    onSuccess: () => queries.invalidateQueries({ queryKey: ["runs", id] }),
  });

  const e = experiment.data;
  return (
    <>
      <ErrorNotice
        error={experiment.error ?? runs.error ?? observations.error ?? archive.error ?? start.error}
      />
      {e ? (
        <>
          <h1>
            {e.namespace}/{e.name} <StatusBadge status={e.status} />{" "}
            <VerdictBadge verdict={e.verdict} phase={e.status} />
          </h1>
          {e.description ? <p>{e.description}</p> : null}
          <p className="actions">
            <button
              type="button"
              disabled={start.isPending || live}
              onClick={() => start.mutate()}
              title="Creates the Experiment object in the cluster; the operator runs it"
            >
              Start run
            </button>{" "}
            {start.data ? (
              <span role="status">
                {start.data.kind} {start.data.namespace}/{start.data.name}: {start.data.detail}
              </span>
            ) : null}
          </p>
        </>
      ) : (
        <h1>Experiment #{id}</h1>
      )}
      <HypothesisCard hypothesis={hypothesis.data} run={run} probe={probe} />
      <section className="card" aria-labelledby="chart-h">
        <h2 id="chart-h">
          {run ? `Run #${run.id}: ${run.phase}` : "No runs yet"}{" "}
          {live ? <span className="live">live</span> : null}
        </h2>
        {probes.length > 1 ? (
          <div className="row" role="group" aria-label="Probe">
            Probe:
            {probes.map((p) => (
              <button key={p} type="button" aria-pressed={p === probe} onClick={() => setChosen(p)}>
                {p}
              </button>
            ))}
          </div>
        ) : null}
        {run ? <QpsChart model={model} probe={probe} /> : null}
        {run && run.phase === "Finished" && !run.archived ? (
          <ConfirmButton
            label="Archive run"
            question={`Archive run #${run.id}? It is kept after the experiment is deleted.`}
            onConfirm={() => archive.mutate(run.id)}
          />
        ) : null}
      </section>
      <section className="card" aria-labelledby="timeline-h">
        <h2 id="timeline-h">Timeline</h2>
        {run ? (
          <ol className="timeline">
            <li>{when(run.started_at)} — run started</li>
            {(events.data?.items ?? []).map((ev) => (
              <li key={ev.id} className={ev.type === "Warning" ? "warning" : undefined}>
                {when(ev.ts)} — <strong>{ev.reason}</strong> {ev.message}
              </li>
            ))}
            {run.finished_at ? (
              <li>
                {when(run.finished_at)} — run ended: {run.phase}
                {run.verdict ? `, verdict ${run.verdict}` : ""}
              </li>
            ) : null}
          </ol>
        ) : null}
      </section>
      <RunComparison runs={runList} onPick={setPicked} picked={run?.id} />
      {e && Object.keys(e.spec).length ? (
        <details className="card">
          <summary>Spec</summary>
          <pre>{JSON.stringify(e.spec, null, 2)}</pre>
        </details>
      ) : null}
    </>
  );
}
