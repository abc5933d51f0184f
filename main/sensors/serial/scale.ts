/**
 * `raw * scale + offset`, rounded to 12 significant digits to drop the binary noise decimal
 * scales bring (-12 * 0.1 is -1.2, not -1.2000000000000002). Undefined when not finite.
 */
export function scaleValue(raw: number, scale: number, offset: number): number | undefined {
  const value = raw * scale + offset;
  return Number.isFinite(value) ? Number(value.toPrecision(12)) : undefined;
}
