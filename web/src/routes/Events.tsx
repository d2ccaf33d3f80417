// Events of recent runs, newest first, with a type filter. The API lists events per run only,
// so this page gathers them from the latest run of each recently updated experiment.
import { useState } from "react";
import { ErrorNotice } from "../components/ErrorNotice";
import type { Run } from "../lib/api";
import { useEventsOf, useExperiments, useRunsOf } from "../lib/queries";
import { EventTable } from "./Overview";

export function Events() {
  const [type, setType] = useState("");
  const experiments = useExperiments({}, 100);
  const recent = [...(experiments.data?.items ?? [])]
    .sort((a, b) => b.updated_at.localeCompare(a.updated_at))
    .slice(0, 20);
  const runs = useRunsOf(recent);
  const latest = runs.flatMap((r) => r.data?.items.slice(0, 3) ?? []).filter((r): r is Run => !!r);
  const { events, error } = useEventsOf(latest);
  const shown = events.filter((e) => !type || e.type === type);
  return (
    <>
      <h1>Events</h1>
      <form className="filters" role="search" onSubmit={(e) => e.preventDefault()}>
        <label>
          Type
          <select value={type} onChange={(e) => setType(e.target.value)}>
            <option value="">any</option>
            <option>Normal</option>
            <option>Warning</option>
          </select>
        </label>
      </form>
      <ErrorNotice error={experiments.error ?? error} />
      <p className="muted">
        From the latest three runs of the 20 most recently updated experiments.
      </p>
      <EventTable events={shown.slice(0, 200)} />
    </>
  );
}
