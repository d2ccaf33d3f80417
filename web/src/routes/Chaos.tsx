// Chaos objects (PodChaos, NetworkChaos, IOChaos): the list, and a detail page with one record
// per target plus pause/resume/delete behind a confirmation.
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { Link, useNavigate, useParams, useSearchParams } from "react-router-dom";
import { stringify } from "yaml";
import { StatusBadge } from "../components/Badge";
import { ConfirmButton } from "../components/ConfirmButton";
import { ErrorNotice } from "../components/ErrorNotice";
import { call, client } from "../lib/api";
import { when } from "../lib/format";
import { EventTable } from "./Overview";

type Kind = "PodChaos" | "NetworkChaos" | "IOChaos";
const KINDS: Kind[] = ["PodChaos", "NetworkChaos", "IOChaos"];

interface TargetRecord {
  id: string;
  node?: string;
  phase?: string;
  injectedCount?: number;
  recoveredCount?: number;
  lastError?: string;
}

export function ChaosList() {
  const [params, setParams] = useSearchParams();
  const kind = (params.get("kind") as Kind | null) ?? undefined;
  const namespace = params.get("namespace") || undefined;
  const list = useQuery({
    queryKey: ["chaos", kind, namespace],
    queryFn: () =>
      call(client.GET("/api/v1/chaos", { params: { query: { kind, namespace, limit: 200 } } })),
    refetchInterval: 5000,
  });
  const set = (key: string, value: string) => {
    const next = new URLSearchParams(params);
    if (value) next.set(key, value);
    else next.delete(key);
    setParams(next, { replace: true });
  };
  return (
    <>
      <h1>Chaos objects</h1>
      <form className="filters" role="search" onSubmit={(e) => e.preventDefault()}>
        <label>
          Kind
          <select value={kind ?? ""} onChange={(e) => set("kind", e.target.value)}>
            <option value="">any</option>
            {KINDS.map((k) => (
              <option key={k}>{k}</option>
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
      </form>
      <ErrorNotice error={list.error} />
      {list.data?.items.length === 0 ? <p className="muted">No chaos objects.</p> : null}
      {list.data?.items.length ? (
        <table aria-label="Chaos objects">
          <thead>
            <tr>
              <th scope="col">Kind</th>
              <th scope="col">Namespace</th>
              <th scope="col">Name</th>
              <th scope="col">Phase</th>
              <th scope="col">Targets</th>
              <th scope="col">Updated</th>
            </tr>
          </thead>
          <tbody>
            {list.data.items.map((o) => (
              <tr key={o.id}>
                <td>{o.kind}</td>
                <td>{o.namespace}</td>
                <td>
                  <Link to={`/chaos/${o.kind}/${o.namespace}/${o.name}`}>{o.name}</Link>
                </td>
                <td>
                  <StatusBadge status={o.phase} />
                </td>
                <td>
                  {String(o.status.injectedTargets ?? 0)}/{String(o.status.desiredTargets ?? 0)}{" "}
                  injected
                </td>
                <td>{when(o.updated_at)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : null}
    </>
  );
}

export function ChaosDetail() {
  const { kind, namespace, name } = useParams() as { kind: Kind; namespace: string; name: string };
  const navigate = useNavigate();
  const queries = useQueryClient();
  const path = { kind, namespace, name };
  const object = useQuery({
    queryKey: ["chaos-object", kind, namespace, name],
    queryFn: () =>
      call(client.GET("/api/v1/chaos/{kind}/{namespace}/{name}", { params: { path } })),
    refetchInterval: 5000,
  });
  const events = useQuery({
    queryKey: ["chaos-events", kind, namespace, name],
    queryFn: () =>
      call(client.GET("/api/v1/chaos/{kind}/{namespace}/{name}/events", { params: { path } })),
    refetchInterval: 5000,
  });
  const act = useMutation({
    mutationFn: async (action: "pause" | "resume" | "delete") => {
      if (action === "delete")
        return call(client.DELETE("/api/v1/chaos/{kind}/{namespace}/{name}", { params: { path } }));
      if (action === "pause")
        return call(
          client.POST("/api/v1/chaos/{kind}/{namespace}/{name}/pause", { params: { path } }),
        );
      return call(
        client.POST("/api/v1/chaos/{kind}/{namespace}/{name}/resume", { params: { path } }),
      );
    },
    onSuccess: async (_data, action) => {
      await queries.invalidateQueries({ queryKey: ["chaos"] });
      if (action === "delete") navigate("/chaos");
    },
  });
  const o = object.data;
  const records = (o?.status.records ?? []) as TargetRecord[];
  return (
    <>
      <h1>
        {kind} {namespace}/{name} {o ? <StatusBadge status={o.phase} /> : null}
      </h1>
      <ErrorNotice error={object.error ?? act.error} />
      {act.isSuccess ? <p role="status">{(act.data as { detail?: string }).detail}</p> : null}
      <div className="row">
        <ConfirmButton
          label="Pause"
          question={`Pause ${name}? Its fault is recovered until resumed.`}
          onConfirm={() => act.mutate("pause")}
        />
        <ConfirmButton
          label="Resume"
          question={`Resume ${name}? Its fault is injected again.`}
          onConfirm={() => act.mutate("resume")}
        />
        <ConfirmButton
          label="Delete"
          danger
          question={`Delete ${name}? The fault is recovered on every target first.`}
          onConfirm={() => act.mutate("delete")}
        />
      </div>
      {o?.status.message ? <p>{String(o.status.message)}</p> : null}
      <section className="card" aria-labelledby="records-h">
        <h2 id="records-h">Targets ({records.length})</h2>
        <table>
          <thead>
            <tr>
              <th scope="col">Target</th>
              <th scope="col">Node</th>
              <th scope="col">Phase</th>
              <th scope="col">Injected</th>
              <th scope="col">Recovered</th>
              <th scope="col">Last error</th>
            </tr>
          </thead>
          <tbody>
            {records.map((r) => (
              <tr key={r.id}>
                <td>{r.id}</td>
                <td>{r.node ?? ""}</td>
                <td>
                  <StatusBadge status={r.phase ?? "NotInjected"} />
                </td>
                <td>{r.injectedCount ?? 0}</td>
                <td>{r.recoveredCount ?? 0}</td>
                <td>{r.lastError ?? ""}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </section>
      <section className="card" aria-labelledby="cev-h">
        <h2 id="cev-h">Events</h2>
        <EventTable events={events.data?.items ?? []} />
      </section>
      {o ? (
        <details className="card" open>
          <summary>Spec</summary>
          <pre>{stringify(o.spec)}</pre>
        </details>
      ) : null}
    </>
  );
}
