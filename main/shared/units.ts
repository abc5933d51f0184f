const UNITS = ['KiB', 'MiB', 'GiB', 'TiB', 'PiB'] as const;

/** A byte count for people: `512 B`, `1.5 KiB`, `3.2 GiB` (binary units, one decimal). */
export function formatBytes(count: number): string {
  if (count < 1024) return `${count} B`;
  let value = count / 1024;
  let unit = 0;
  while (value >= 1024 && unit < UNITS.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${value.toFixed(1)} ${UNITS[unit]}`;
}
