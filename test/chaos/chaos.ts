// `npm run chaos -- --seconds 120 [--seed N] [--rate 200]`: prints the reconciliation as JSON and
// exits 1 when any accepted reading is neither delivered nor explained by a drop record.
import { parseArgs } from 'node:util';
import { runChaos } from './chaos-run.js';

const { values } = parseArgs({ options: { seconds: { type: 'string', default: '60' }, seed: { type: 'string' }, rate: { type: 'string' } } });
const summary = await runChaos({
  seconds: Number(values.seconds),
  ...(values.seed !== undefined && { seed: Number(values.seed) }),
  ...(values.rate !== undefined && { rate: Number(values.rate) }),
  say: (line) => process.stderr.write(`${line}\n`),
});
const { sensors, ...totals } = summary;
const brief = { ...totals, sensors: Object.fromEntries(Object.entries(sensors).map(([id, s]) => [id, { ...s, unexplained: s.unexplained.slice(0, 20) }])) };
process.stdout.write(`${JSON.stringify(brief, null, 2)}\n`);
process.exit(summary.unexplainedLosses > 0 || summary.deliveredBeyondAccepted > 0 ? 1 : 0);
