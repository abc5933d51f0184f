import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { stringify } from 'yaml';
import { loadConfig } from '../config/load.js';
import { createLogger, namespaced } from '../log/logger.js';
import { LogRing } from '../log/log-ring.js';
import { runUntilSignalled } from '../service/run.js';
import { readSetupCode } from '../api/setup-code.js';
import type { ConfigInput } from '../shared/config/schema.js';
import { startDemoBroker, type DemoBroker } from './broker.js';
import { ensureDemoPki, type DemoPki } from './pki.js';

const GATEWAY_ID = 'demo-gateway';
const TOPIC_PREFIX = 'fieldgate';
const SUMMARY_INTERVAL_MS = 10_000;

export interface DemoOptions {
  dataDir: string;
  uiPort: number;
  logLevel: string;
}

function demoConfig(dataDir: string, pki: DemoPki, broker: DemoBroker, uiPort: number): ConfigInput {
  return {
    gateway: { id: GATEWAY_ID, dataDir },
    cloud: {
      url: `mqtts://localhost:${broker.port}`,
      caFile: pki.caFile,
      certFile: pki.deviceCertFile,
      keyFile: pki.deviceKeyFile,
      topicPrefix: TOPIC_PREFIX,
      // The embedded broker (aedes) speaks MQTT 3.1.1; a real Mosquitto uses MQTT 5.
      protocolVersion: 4,
    },
    sensors: {
      sim: [
        { id: 'greenhouse-1', rate: 2, quantities: ['temperature', 'humidity'] },
        { id: 'cellar-1', rate: 1, quantities: ['temperature', 'humidity', 'pressure'] },
      ],
    },
    ui: { host: '127.0.0.1', port: uiPort },
  };
}

/**
 * The embedded demo: a local CA, an in-process mutual-TLS broker and simulated sensors, all in
 * `dataDir`, so a new user sees readings flow end to end without any set-up.
 */
export async function runDemo(options: DemoOptions): Promise<void> {
  const dataDir = resolve(options.dataDir);
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const logs = new LogRing();
  const log = createLogger({ level: options.logLevel, ring: logs });
  const pki = await ensureDemoPki(join(dataDir, 'pki'), GATEWAY_ID);
  const broker = await startDemoBroker({ pki, topicPrefix: TOPIC_PREFIX, log: namespaced(log, 'demo-broker') });
  const configFile = join(dataDir, 'fieldgate.yaml');
  writeFileSync(configFile, `# Written by \`fieldgate demo\`; run it yourself with: fieldgate run --config ${configFile}\n${stringify(demoConfig(dataDir, pki, broker, options.uiPort))}`);
  const config = loadConfig(configFile);

  const summary = setInterval(() => {
    const delivered = [...broker.delivered].map(([sensor, count]) => `${sensor} ${count}`).join(', ');
    process.stdout.write(`readings delivered to the broker: ${delivered || 'none yet'}\n`);
  }, SUMMARY_INTERVAL_MS);
  const gateway = await runUntilSignalled(config, log, {
    logs,
    configFile,
    afterStop: async () => {
      clearInterval(summary);
      await broker.close();
    },
  });
  const api = gateway.supervisor.report().find((component) => component.name === 'api');
  const uiUrl = api?.state === 'running' ? gateway.apiServer?.url : undefined;
  const uiLine = uiUrl
    ? `${uiUrl}  (metrics: ${uiUrl}/metrics; status: fieldgate status --config ${configFile})`
    : `not available: ${api?.error ?? 'disabled'} (another port: --ui-port 0 picks a free one)`;
  const setupCode = readSetupCode(gateway.control.dir, Date.now());
  const accountLine = setupCode
    ? `setup code ${setupCode.code}  (enter it in the setup UI to create the admin account; once, until ${setupCode.expiresAt})`
    : `sign in with the admin account made earlier (to start over, delete ${join(gateway.control.dir, 'accounts.json')})`;
  const lines = [
    'fieldgate demo is running (Ctrl+C to stop)',
    `  setup UI and status: ${uiLine}`,
    `  first run: ${accountLine}`,
    `  broker:  mqtts://localhost:${broker.port} with mutual TLS (CA ${pki.caFile})`,
    `  sensors: ${config.sensors.sim.map((s) => `${s.id} (${s.rate}/s)`).join(', ')}`,
    `  data:    ${dataDir}  (config ${configFile})`,
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
}
