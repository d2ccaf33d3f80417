// Small display helpers shared by the pages.
export function when(iso: string | null | undefined): string {
  if (!iso) return "—";
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? iso : d.toLocaleString();
}

export function seconds(value: number | null | undefined): string {
  if (value == null) return "—";
  return value < 120 ? `${value.toFixed(1)} s` : `${(value / 60).toFixed(1)} min`;
}

export const TERMINAL_PHASES = new Set(["Finished", "Aborted", "Failed"]);
