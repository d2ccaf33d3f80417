// A small inline SVG trend (time-to-recover per run): cheap enough to draw one per table row,
// and, with `unit`, labelled with each value for the experiment page.
interface Props {
  values: (number | null)[];
  label: string;
  width?: number;
  height?: number;
  /** When set, each point is labelled with its value and this unit. */
  unit?: string;
}

export function Trend({ values, label, width = 120, height = 28, unit }: Props) {
  const known = values.filter((v): v is number => v !== null);
  if (known.length === 0) return <span className="muted">no data</span>;
  const max = Math.max(...known, 1e-9);
  // Room for the labels above the highest point and beside the outer ones.
  const [top, side] = unit ? [14, 18] : [2, 2];
  const step = values.length > 1 ? (width - 2 * side) / (values.length - 1) : 0;
  const x = (i: number) => side + i * step;
  const y = (v: number) => height - 2 - (v / max) * (height - top - 4);
  const points = values
    .map((v, i) => (v === null ? null : `${x(i).toFixed(1)},${y(v).toFixed(1)}`))
    .filter(Boolean)
    .join(" ");
  return (
    <svg width={width} height={height} role="img" aria-label={label} className="trend">
      <title>{label}</title>
      <polyline points={points} fill="none" stroke="currentColor" strokeWidth="1.5" />
      {values.map((v, i) =>
        v === null ? null : (
          <g key={i}>
            <circle cx={x(i)} cy={y(v)} r={unit ? 3 : 2} />
            {unit ? (
              <text x={x(i)} y={y(v) - 6} textAnchor="middle" fontSize="11">
                {`${Number(v.toFixed(1))} ${unit}`}
              </text>
            ) : null}
          </g>
        ),
      )}
    </svg>
  );
}
