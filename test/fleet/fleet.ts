// `npm run fleet -- --gateways N [--rate R] [--steady-seconds S] [--outage-seconds D]`: progress on
// stderr, the report as JSON on stdout; exits 1 when a reading was lost or a gateway did not come back.
import { parseArgs } from 'node:util';
import { runFleet } from './fleet-run.js';

const { values } = parseArgs({
  options: {
    gateways: { type: 'string', default: '100' },
    rate: { type: 'string', default: '1' },
    'steady-seconds': { type: 'string', default: '10' },
    'outage-seconds': { type: 'string', default: '5' },
    'timeout-seconds': { type: 'string', default: '180' },
  },
});
const number = (key: keyof typeof values, min: number) => {
  const value = Number(values[key]);
  if (!Number.isFinite(value) || value < min) {
    process.stderr.write(`fleet: --${key} expects a number >= ${min}, got ${JSON.stringify(values[key])}\n`);
    process.exit(2);
  }
  return value;
};
const report = await runFleet({
  gateways: Math.floor(number('gateways', 1)),
  rate: number('rate', 0.01),
  steadyMs: number('steady-seconds', 0) * 1000,
  outageMs: number('outage-seconds', 0) * 1000,
  timeoutMs: number('timeout-seconds', 10) * 1000,
  say: (line) => process.stderr.write(`${line}\n`),
});
process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
const failed = report.strategies.some((s) => s.readings.lost > 0 || s.gatewaysBack < report.gateways);
process.exit(failed ? 1 : 0);
