import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { loadConfig } from '../config/load.js';
import type { GatewayStatus } from '../shared/api.js';
import { UserError } from '../shared/errors.js';
import { printJson } from './output.js';

const DEFAULT_CONFIG = '/etc/fieldgate/fieldgate.yaml';

function statusUrl(host: string, port: number): string {
  const reachableHost = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host;
  return `http://${reachableHost.includes(':') ? `[${reachableHost}]` : reachableHost}:${port}/api/status`;
}

async function fetchStatus(url: string, token: string | undefined): Promise<GatewayStatus> {
  let response: Response;
  try {
    response = await fetch(url, { headers: token ? { authorization: `Bearer ${token}` } : {}, signal: AbortSignal.timeout(5000) });
  } catch {
    throw new UserError(`no gateway answers at ${url}: is the service running? (systemctl status fieldgate)`);
  }
  if (response.status === 401) throw new UserError(`${url} refused the token: check ui.tokenFile`);
  if (!response.ok) throw new UserError(`${url} answered HTTP ${response.status}`);
  return (await response.json()) as GatewayStatus;
}

function describe(status: GatewayStatus): string {
  const lines = [`gateway ${status.gatewayId} (version ${status.version}, up since ${status.startedAt})`, 'components:'];
  for (const component of status.components) {
    lines.push(`  ${component.name.padEnd(12)} ${component.state}${component.error ? `: ${component.error}` : ''}`);
  }
  lines.push('sensors:');
  for (const sensor of status.sensors) {
    const seen = sensor.lastSeen === null ? 'never seen' : `last seen ${new Date(sensor.lastSeen).toISOString()}`;
    lines.push(`  ${sensor.sensorId.padEnd(20)} ${sensor.source.padEnd(7)} ${sensor.online ? 'online ' : 'OFFLINE'} ${seen}, ${sensor.rate.toFixed(1)}/s`);
  }
  const { buffer, uplink, identity } = status;
  const oldest = buffer.oldestUnsentAgeMs === null ? 'none' : `${Math.round(buffer.oldestUnsentAgeMs / 1000)} s`;
  lines.push(`buffer: ${buffer.depth} unsent (${buffer.bytes} bytes, oldest ${oldest}), dropped ${JSON.stringify(buffer.drops)}`);
  if (uplink === null) lines.push('uplink: no cloud configured (readings are buffered)');
  else {
    lines.push(`uplink: ${uplink.state} to ${uplink.broker}, ${uplink.readingsSent} readings sent`);
    if (uplink.lastError) lines.push(`  last error: ${uplink.lastError.kind}: ${uplink.lastError.message} (${uplink.lastError.at})`);
  }
  if (identity === null) lines.push('identity: no client certificate yet');
  else lines.push(`identity: ${identity.subject}, ${identity.daysLeft} days left (${identity.validity}, ${identity.managed})`);
  return `${lines.join('\n')}\n`;
}

export function registerStatusCommand(program: Command): void {
  program
    .command('status')
    .description('show the running gateway: components, sensors, buffer and uplink')
    .option('-c, --config <file>', 'config of the running gateway (for its UI address and token)', DEFAULT_CONFIG)
    .option('--json', 'print the raw status as JSON')
    .action(async (options: { config: string; json?: boolean }) => {
      const config = loadConfig(options.config);
      const token = config.ui.tokenFile === undefined ? undefined : readFileSync(config.ui.tokenFile, 'utf8').trim();
      const status = await fetchStatus(statusUrl(config.ui.host, config.ui.port), token);
      if (options.json) printJson(status);
      else process.stdout.write(describe(status));
    });
}
