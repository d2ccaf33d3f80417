// Events of every run, newest first, one page at a time, filtered by type and namespace on the
// server (GET /events).
import { useState } from "react";
import { ErrorNotice } from "../components/ErrorNotice";
import type { RunEvent } from "../lib/api";
import { useEvents } from "../lib/queries";
import { EventTable } from "./Overview";

const PAGE = 50;

export function Events() {
  const [type, setType] = useState<RunEvent["type"] | "">("");
  const [namespace, setNamespace] = useState("");
  const [offset, setOffset] = useState(0);
  const events = useEvents({
    type: type || undefined,
    namespace: namespace.trim() || undefined,
    limit: PAGE,
    offset,
  });
  const total = events.data?.total ?? 0;
  const shown = events.data?.items ?? [];
  return (
    <>
      <h1>Events</h1>
      <form className="filters" role="search" onSubmit={(e) => e.preventDefault()}>
        <label>
          Type
          <select
            value={type}
            onChange={(e) => {
              setType(e.target.value as RunEvent["type"] | "");
              setOffset(0);
            }}
          >
            <option value="">any</option>
            <option>Normal</option>
            <option>Warning</option>
          </select>
        </label>
        <label>
          Namespace
          <input
            value={namespace}
            placeholder="all"
            onChange={(e) => {
              setNamespace(e.target.value);
              setOffset(0);
            }}
          />
        </label>
      </form>
      <ErrorNotice error={events.error} />
      <EventTable events={shown} />
      <nav className="pager" aria-label="Event pages">
        <button type="button" disabled={offset === 0} onClick={() => setOffset(offset - PAGE)}>
          Newer
        </button>{" "}
        <span role="status">
          {total ? `${offset + 1}–${offset + shown.length} of ${total}` : "0 events"}
        </span>{" "}
        <button
          type="button"
          disabled={offset + PAGE >= total}
          onClick={() => setOffset(offset + PAGE)}
        >
          Older
        </button>
      </nav>
    </>
  );
}
