interface SparklineProps {
  label: string;
  points: readonly number[];
  unit: string;
}

const WIDTH = 240;
const HEIGHT = 48;

/** An SVG line of the last hour; its accessible name states the latest value and the range. */
export function Sparkline({ label, points, unit }: SparklineProps) {
  const max = Math.max(1, ...points);
  const step = points.length > 1 ? WIDTH / (points.length - 1) : WIDTH;
  const coordinates = points.map((value, index) => `${(index * step).toFixed(1)},${(HEIGHT - 2 - (value / max) * (HEIGHT - 4)).toFixed(1)}`);
  const latest = points.at(-1);
  const summary = latest === undefined ? `${label}: no data yet` : `${label}: now ${format(latest)} ${unit}, peak ${format(max)} ${unit} in the last hour`;
  return (
    <figure class="spark">
      <svg class="sparkline" viewBox={`0 0 ${WIDTH} ${HEIGHT}`} preserveAspectRatio="none" role="img" aria-label={summary} data-points={points.length}>
        {coordinates.length > 1 && (
          <>
            <polygon class="area" points={`0,${HEIGHT} ${coordinates.join(' ')} ${WIDTH},${HEIGHT}`} />
            <polyline points={coordinates.join(' ')} />
          </>
        )}
      </svg>
      <figcaption class="muted">{summary}</figcaption>
    </figure>
  );
}

function format(value: number): string {
  return Number.isInteger(value) ? String(value) : value.toFixed(1);
}
