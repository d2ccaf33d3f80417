// Overview: what is running now, the latest verdicts and events, and how time-to-recover moves
// from run to run for each experiment.
import { Link } from "react-router-dom";
import { StatusBadge, VerdictBadge } from "../components/Badge";
import { ErrorNotice } from "../components/ErrorNotice";
import { Trend } from "../components/Trend";
import type { FaultlineEvent, Run, RunEvent } from "../lib/api";
import { seconds, when } from "../lib/format";
import { useEvents, useExperiments, useRunsOf } from "../lib/queries";
import { metric } from "../lib/series";

export function ttrSeries(runs: Run[]): (number | null)[] {
  return [...runs].reverse().map((r) => metric(r.metrics, "timeToRecover"));
}

export function Overview() {
  const experiments = useExperiments();
  const all = experiments.data?.items ?? [];
  const recent = [...all].sort((a, b) => b.updated_at.localeCompare(a.updated_at)).slice(0, 10);
  const runs = useRunsOf(recent);
  const events = useEvents({ limit: 15 });
  const running = all.filter((e) => e.status === "running");
  const verdicts = recent.filter((e) => e.verdict !== null);

  return (
    <>
      <h1>Overview</h1>
      <ErrorNotice error={experiments.error ?? events.error} />
      <div className="grid">
        <section aria-labelledby="running-h" className="card">
          <h2 id="running-h">Running experiments ({running.length})</h2>
          {running.length === 0 ? <p className="muted">Nothing is running.</p> : null}
          <ul>
            {running.map((e) => (
              <li key={e.id}>
                <Link to={`/experiments/${e.id}`}>
                  {e.namespace}/{e.name}
                </Link>{" "}
                <StatusBadge status={e.status} />
              </li>
            ))}
          </ul>
        </section>
        <section aria-labelledby="verdicts-h" className="card">
          <h2 id="verdicts-h">Recent verdicts</h2>
          {verdicts.length === 0 ? <p className="muted">No verdicts yet.</p> : null}
          <ul>
            {verdicts.map((e) => (
              <li key={e.id}>
                <Link to={`/experiments/${e.id}`}>
                  {e.namespace}/{e.name}
                </Link>{" "}
                <VerdictBadge verdict={e.verdict} phase={e.status} />{" "}
                <span className="muted">{when(e.updated_at)}</span>
              </li>
            ))}
          </ul>
        </section>
      </div>
      <section aria-labelledby="ttr-h" className="card">
        <h2 id="ttr-h">Time to recover, run by run</h2>
        <table>
          <thead>
            <tr>
              <th scope="col">Experiment</th>
              <th scope="col">Runs</th>
              <th scope="col">Latest time to recover</th>
              <th scope="col">Trend (oldest to newest)</th>
            </tr>
          </thead>
          <tbody>
            {recent.map((e, i) => {
              const items = runs[i]?.data?.items ?? [];
              const series = ttrSeries(items);
              const latest = series.filter((v) => v !== null).pop() ?? null;
              return (
                <tr key={e.id}>
                  <td>
                    <Link to={`/experiments/${e.id}`}>
                      {e.namespace}/{e.name}
                    </Link>
                  </td>
                  <td>{items.length}</td>
                  <td>{seconds(latest)}</td>
                  <td>
                    <Trend values={series} label={`time to recover of ${e.name}`} />
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
      </section>
      <section aria-labelledby="events-h" className="card">
        <h2 id="events-h">Recent events</h2>
        <EventTable events={events.data?.items ?? []} />
      </section>
    </>
  );
}

function isRunEvent(e: FaultlineEvent | RunEvent): e is RunEvent {
  return "experiment_name" in e;
}

/** Events of one subject, or of many runs (then a column names each event's experiment). */
export function EventTable({ events }: { events: (FaultlineEvent | RunEvent)[] }) {
  if (events.length === 0) return <p className="muted">No events.</p>;
  const ofRuns = events.every(isRunEvent);
  return (
    <table>
      <thead>
        <tr>
          <th scope="col">Time</th>
          <th scope="col">Type</th>
          <th scope="col">Reason</th>
          <th scope="col">Message</th>
          {ofRuns ? <th scope="col">Run</th> : null}
        </tr>
      </thead>
      <tbody>
        {events.map((e) => (
          <tr key={e.id} className={e.type === "Warning" ? "warning" : undefined}>
            <td>{when(e.ts)}</td>
            <td>{e.type}</td>
            <td>{e.reason}</td>
            <td>{e.message}</td>
            {isRunEvent(e) ? (
              <td>
                {e.experiment_id ? (
                  <Link to={`/experiments/${e.experiment_id}`}>
                    {e.namespace}/{e.experiment_name} #{e.run_id}
                  </Link>
                ) : (
                  `${e.namespace}/${e.experiment_name} #${e.run_id}`
                )}
              </td>
            ) : null}
          </tr>
        ))}
      </tbody>
    </table>
  );
}
