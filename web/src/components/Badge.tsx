// Verdict and status badges: colour plus a word, so colour-blind users read the same thing.
// An aborted run has no verdict of its own: its phase (or its experiment's status) says so.
export function VerdictBadge({
  verdict,
  phase,
}: {
  verdict: string | null | undefined;
  phase?: string | null;
}) {
  const v = verdict ?? (phase?.toLowerCase() === "aborted" ? "aborted" : "pending");
  return (
    <span className={`badge verdict-${v}`} data-testid="verdict">
      {v}
    </span>
  );
}

export function StatusBadge({ status }: { status: string }) {
  return <span className={`badge status-${status.toLowerCase()}`}>{status || "unknown"}</span>;
}
