// A tiny inline SVG trend (time-to-recover per run): cheap enough to draw one per table row.
interface Props {
  values: (number | null)[];
  label: string;
  width?: number;
  height?: number;
}

export function Trend({ values, label, width = 120, height = 28 }: Props) {
  const known = values.filter((v): v is number => v !== null);
  if (known.length === 0) return <span className="muted">no data</span>;
  const max = Math.max(...known, 1e-9);
  const step = values.length > 1 ? width / (values.length - 1) : 0;
  const points = values
    .map((v, i) => (v === null ? null : `${(i * step).toFixed(1)},${(height - (v / max) * (height - 4) - 2).toFixed(1)}`))
    .filter(Boolean)
    .join(" ");
  return (
    <svg width={width} height={height} role="img" aria-label={label} className="trend">
      <title>{label}</title>
      <polyline points={points} fill="none" stroke="currentColor" strokeWidth="1.5" />
      {values.map((v, i) =>
        v === null ? null : (
          <circle key={i} cx={i * step} cy={height - (v / max) * (height - 4) - 2} r="2" />
        ),
      )}
    </svg>
  );
}
