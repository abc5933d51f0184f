import { z } from 'zod';

/** Quantity names become metric labels and JSON keys upstream. */
export const QUANTITY_NAME = /^[A-Za-z][A-Za-z0-9_.-]{0,63}$/;
export const QUANTITY_RULE = 'expected 1-64 characters of letters, digits, "_", "." or "-", starting with a letter';
export const quantityName = z.string().regex(QUANTITY_NAME, { error: QUANTITY_RULE });
export const unit = z.string().max(32, { error: 'expected a unit of at most 32 characters, e.g. "°C"' });
export const finite = z.number().refine(Number.isFinite, { error: 'expected a finite number' });

/** Two values under one quantity name would overwrite each other in a reading. */
export function flagRepeatedQuantities(quantities: (string | undefined)[], ctx: z.RefinementCtx, pathOf: (index: number) => (string | number)[]): void {
  const seen = new Set<string>();
  quantities.forEach((quantity, index) => {
    if (quantity === undefined) return;
    if (seen.has(quantity)) ctx.addIssue({ code: 'custom', path: pathOf(index), input: quantity, message: 'quantity already used by another value of this sensor' });
    seen.add(quantity);
  });
}
