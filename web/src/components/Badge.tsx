// Verdict and status badges: colour plus a word, so colour-blind users read the same thing.
// Verdicts read as kubectl shows them (Passed, Failed, Aborted, Error); a run without one yet is
// pending, and an aborted one recorded before verdicts were respelled says so by its phase.
export function VerdictBadge({
  verdict,
  phase,
}: {
  verdict: string | null | undefined;
  phase?: string | null;
}) {
  const v = verdict ?? (phase?.toLowerCase() === "aborted" ? "Aborted" : "pending");
  return (
    <span className={`badge verdict-${v.toLowerCase()}`} data-testid="verdict">
      {v}
    </span>
  );
}

export function StatusBadge({ status }: { status: string }) {
  return <span className={`badge status-${status.toLowerCase()}`}>{status || "unknown"}</span>;
}
