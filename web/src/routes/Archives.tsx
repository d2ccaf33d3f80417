// Archived runs: finished runs kept after their experiment was deleted.
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { VerdictBadge } from "../components/Badge";
import { ConfirmButton } from "../components/ConfirmButton";
import { ErrorNotice } from "../components/ErrorNotice";
import { call, client } from "../lib/api";
import { seconds, when } from "../lib/format";
import { metric } from "../lib/series";

export function Archives() {
  const queries = useQueryClient();
  const list = useQuery({
    queryKey: ["archives"],
    queryFn: () => call(client.GET("/api/v1/archives", { params: { query: { limit: 200 } } })),
  });
  const remove = useMutation({
    mutationFn: (runId: number) =>
      call(client.DELETE("/api/v1/archives/{run_id}", { params: { path: { run_id: runId } } })),
    onSuccess: () => queries.invalidateQueries({ queryKey: ["archives"] }),
  });
  return (
    <>
      <h1>Archives</h1>
      <ErrorNotice error={list.error ?? remove.error} />
      {list.data?.items.length === 0 ? <p className="muted">No archived runs.</p> : null}
      {list.data?.items.length ? (
        <table aria-label="Archived runs">
          <thead>
            <tr>
              <th scope="col">Run</th>
              <th scope="col">Experiment</th>
              <th scope="col">Verdict</th>
              <th scope="col">Time to recover</th>
              <th scope="col">Finished</th>
              <th scope="col">Archived</th>
              <th scope="col">
                <span className="sr-only">Actions</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {list.data.items.map((r) => (
              <tr key={r.id}>
                <td>#{r.id}</td>
                <td>
                  {r.namespace}/{r.experiment_name}
                </td>
                <td>
                  <VerdictBadge verdict={r.verdict} />
                </td>
                <td>{seconds(metric(r.metrics, "timeToRecover"))}</td>
                <td>{when(r.finished_at)}</td>
                <td>{when(r.archived_at)}</td>
                <td>
                  <ConfirmButton
                    label="Delete"
                    danger
                    question={`Delete archived run #${r.id} with its observations and events?`}
                    onConfirm={() => remove.mutate(r.id)}
                  />
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : null}
    </>
  );
}
