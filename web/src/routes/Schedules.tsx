// Schedules: chaos created on a cron schedule.
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { StatusBadge } from "../components/Badge";
import { ConfirmButton } from "../components/ConfirmButton";
import { ErrorNotice } from "../components/ErrorNotice";
import { call, client } from "../lib/api";
import { when } from "../lib/format";

export function Schedules() {
  const queries = useQueryClient();
  const remove = useMutation({
    mutationFn: ({ namespace, name }: { namespace: string; name: string }) =>
      call(
        client.DELETE("/api/v1/schedules/{namespace}/{name}", {
          params: { path: { namespace, name } },
        }),
      ),
    onSuccess: () => queries.invalidateQueries({ queryKey: ["schedules"] }),
  });
  const list = useQuery({
    queryKey: ["schedules"],
    queryFn: () => call(client.GET("/api/v1/schedules", { params: { query: { limit: 200 } } })),
    refetchInterval: 10000,
  });
  return (
    <>
      <h1>Schedules</h1>
      <ErrorNotice error={list.error ?? remove.error} />
      {remove.isSuccess ? <p role="status">{remove.data.detail}</p> : null}
      {list.data?.items.length === 0 ? <p className="muted">No schedules.</p> : null}
      {list.data?.items.length ? (
        <table aria-label="Schedules">
          <thead>
            <tr>
              <th scope="col">Namespace</th>
              <th scope="col">Name</th>
              <th scope="col">Schedule</th>
              <th scope="col">Type</th>
              <th scope="col">Phase</th>
              <th scope="col">Last run</th>
              <th scope="col">Updated</th>
              <th scope="col">
                <span className="sr-only">Actions</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {list.data.items.map((s) => (
              <tr key={s.id}>
                <td>{s.namespace}</td>
                <td>{s.name}</td>
                <td>
                  <code>{s.schedule}</code>
                </td>
                <td>{s.type}</td>
                <td>
                  <StatusBadge status={s.phase} />
                </td>
                <td>
                  {when(
                    typeof s.status.lastScheduleTime === "string"
                      ? s.status.lastScheduleTime
                      : null,
                  )}
                </td>
                <td>{when(s.updated_at)}</td>
                <td>
                  <ConfirmButton
                    label="Delete"
                    danger
                    question={`Delete schedule ${s.namespace}/${s.name}? No more chaos is created from it.`}
                    onConfirm={() => remove.mutate({ namespace: s.namespace, name: s.name })}
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
