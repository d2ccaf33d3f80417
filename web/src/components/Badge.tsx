// Verdict and status badges: colour plus a word, so colour-blind users read the same thing.
export function VerdictBadge({ verdict }: { verdict: string | null | undefined }) {
  const v = verdict ?? "pending";
  return (
    <span className={`badge verdict-${v}`} data-testid="verdict">
      {v}
    </span>
  );
}

export function StatusBadge({ status }: { status: string }) {
  return <span className={`badge status-${status.toLowerCase()}`}>{status || "unknown"}</span>;
}
