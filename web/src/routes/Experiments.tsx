// Experiments list, filtered by status, namespace and verdict (kept in the URL so a filtered
// view can be bookmarked or shared).
import { Link, useSearchParams } from "react-router-dom";
import { StatusBadge, VerdictBadge } from "../components/Badge";
import { ErrorNotice } from "../components/ErrorNotice";
import { when } from "../lib/format";
import { useExperiments, type ExperimentFilters } from "../lib/queries";

const STATUSES = ["idle", "running", "finished", "aborted", "failed"] as const;
const VERDICTS = ["Passed", "Failed", "Aborted", "Error"] as const;

export function Experiments() {
  const [params, setParams] = useSearchParams();
  const filters: ExperimentFilters = {};
  const status = params.get("status");
  const verdict = params.get("verdict");
  const namespace = params.get("namespace");
  if (status) filters.status = status as ExperimentFilters["status"];
  if (verdict) filters.verdict = verdict as ExperimentFilters["verdict"];
  if (namespace) filters.namespace = namespace;
  const list = useExperiments(filters);

  const set = (key: string, value: string) => {
    const next = new URLSearchParams(params);
    if (value) next.set(key, value);
    else next.delete(key);
    setParams(next, { replace: true });
  };

  return (
    <>
      <h1>Experiments</h1>
      <form className="filters" role="search" onSubmit={(e) => e.preventDefault()}>
        <label>
          Status
          <select value={status ?? ""} onChange={(e) => set("status", e.target.value)}>
            <option value="">any</option>
            {STATUSES.map((s) => (
              <option key={s}>{s}</option>
            ))}
          </select>
        </label>
        <label>
          Verdict
          <select value={verdict ?? ""} onChange={(e) => set("verdict", e.target.value)}>
            <option value="">any</option>
            {VERDICTS.map((s) => (
              <option key={s}>{s}</option>
            ))}
          </select>
        </label>
        <label>
          Namespace
          <input
            value={namespace ?? ""}
            placeholder="all"
            onChange={(e) => set("namespace", e.target.value.trim())}
          />
        </label>
        <Link to="/experiments/new" className="button primary">
          New experiment
        </Link>
      </form>
      <ErrorNotice error={list.error} />
      {list.isLoading ? <p>Loading…</p> : null}
      {list.data ? (
        <table aria-label="Experiments">
          <thead>
            <tr>
              <th scope="col">Name</th>
              <th scope="col">Namespace</th>
              <th scope="col">Status</th>
              <th scope="col">Verdict</th>
              <th scope="col">Updated</th>
            </tr>
          </thead>
          <tbody>
            {list.data.items.map((e) => (
              <tr key={e.id}>
                <td>
                  <Link to={`/experiments/${e.id}`}>{e.name}</Link>
                </td>
                <td>{e.namespace}</td>
                <td>
                  <StatusBadge status={e.status} />
                </td>
                <td>
                  <VerdictBadge verdict={e.verdict} phase={e.status} />
                </td>
                <td>{when(e.updated_at)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : null}
      {list.data?.items.length === 0 ? (
        <p className="muted">No experiments match these filters.</p>
      ) : null}
      {list.data ? <p className="muted">{list.data.total} in total</p> : null}
    </>
  );
}
