import { z } from 'zod';
import { MAX_UNIT_LENGTH, QUANTITY_PATTERN, QUANTITY_RULE } from './common.js';

/** Quantity names become metric labels and JSON keys upstream. */
export const quantityName = z.string().regex(QUANTITY_PATTERN, { error: QUANTITY_RULE });
export const unit = z.string().max(MAX_UNIT_LENGTH, { error: `expected a unit of at most ${MAX_UNIT_LENGTH} characters, e.g. "°C"` });
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
