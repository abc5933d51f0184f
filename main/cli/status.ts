import { existsSync, readFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { join } from 'node:path';
import type { TLSSocket } from 'node:tls';
import type { Command } from 'commander';
import { STATUS_TOKEN_FILE } from '../api/auth.js';
import { apiDataDir } from '../config/location.js';
import { readHttpsFingerprint } from '../api/https-cert.js';
import { readSetupCode, type IssuedSetupCode } from '../api/setup-code.js';
import { readTokenFile } from '../api/token.js';
import { loadConfig } from '../config/load.js';
import { configFileFrom } from '../config/location.js';
import { gatewayStatusSchema, type Alert, type GatewayStatus } from '../shared/api.js';
import type { Config } from '../shared/config/schema.js';
import { uiUsesHttps } from '../shared/config/gateway.js';
import { UserError } from '../shared/errors.js';
import { printJson } from './output.js';

const DEFAULT_CONFIG = configFileFrom(undefined, process.env);

function statusUrl(host: string, port: number, https: boolean): string {
  const reachableHost = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host;
  return `${https ? 'https' : 'http'}://${reachableHost.includes(':') ? `[${reachableHost}]` : reachableHost}:${port}/api/status`;
}

/**
 * The token to call the local API with: the running gateway's status token (readable by root and
 * the service user only), else the configured ui.tokenFile.
 */
function localToken(config: Config): string | undefined {
  const file = join(apiDataDir(config.gateway.dataDir), STATUS_TOKEN_FILE);
  try {
    return readFileSync(file, 'utf8').trim();
  } catch (error) {
    if (config.ui.tokenFile !== undefined) return readTokenFile(config.ui.tokenFile).trim();
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EACCES') throw new UserError(`cannot read ${file}: run fieldgate status as root or as the service user (sudo -u fieldgate fieldgate status)`);
    return undefined;
  }
}

/** GET over HTTP or HTTPS; HTTPS is pinned to the fingerprint of the certificate the gateway serves. */
function get(url: string, token: string | undefined, fingerprint: string | undefined): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const headers = token ? { authorization: `Bearer ${token}` } : {};
    const onResponse = (response: import('node:http').IncomingMessage) => {
      let body = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => (body += chunk));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, body }));
    };
    const request = url.startsWith('https:')
      ? httpsRequest(url, { headers, rejectUnauthorized: false, timeout: 5000 }, onResponse)
      : httpRequest(url, { headers, timeout: 5000 }, onResponse);
    if (url.startsWith('https:')) {
      request.on('socket', (socket) =>
        socket.on('secureConnect', () => {
          const served = (socket as TLSSocket).getPeerCertificate().fingerprint256;
          if (served !== fingerprint) request.destroy(new UserError(`${url} serves a certificate (${served}) that is not the gateway's (${fingerprint ?? 'none on disk'}): refusing it`));
        }),
      );
    }
    request.on('timeout', () => request.destroy(new Error('timeout')));
    request.on('error', reject);
    request.end();
  });
}

async function fetchStatus(url: string, token: string | undefined, fingerprint: string | undefined): Promise<GatewayStatus> {
  let answer: { status: number; body: string };
  try {
    answer = await get(url, token, fingerprint);
  } catch (error) {
    if (error instanceof UserError) throw error;
    throw new UserError(`no gateway answers at ${url}: is the service running? (systemctl status fieldgate)`);
  }
  if (answer.status === 401) throw new UserError(`${url} refused the token: run as root or the service user, or check ui.tokenFile`);
  if (answer.status !== 200) throw new UserError(`${url} answered HTTP ${answer.status}`);
  return gatewayStatusSchema.parse(JSON.parse(answer.body));
}

interface LocalFacts {
  setupCode: IssuedSetupCode | undefined;
  httpsFingerprint: string | undefined;
}

function describe(status: GatewayStatus, alerts: Alert[], facts: LocalFacts): string {
  const lines = [`gateway ${status.gatewayId} (version ${status.version}, up since ${status.startedAt})`];
  if (facts.setupCode) lines.push(`setup code:  ${facts.setupCode.code} (no admin account yet; valid once, until ${facts.setupCode.expiresAt})`);
  if (facts.httpsFingerprint) lines.push(`https:       SHA-256 ${facts.httpsFingerprint}`);
  lines.push('components:');
  for (const component of status.components) {
    lines.push(`  ${component.name.padEnd(12)} ${component.state}${component.error ? `: ${component.error}` : ''}`);
  }
  lines.push('sensors:');
  for (const sensor of status.sensors) {
    const seen = sensor.lastSeen === null ? 'never seen' : `last seen ${new Date(sensor.lastSeen).toISOString()}`;
    const rssi = sensor.rssi === undefined || sensor.rssi === null ? '' : `, ${sensor.rssi} dBm`;
    lines.push(`  ${sensor.sensorId.padEnd(20)} ${sensor.source.padEnd(10)} ${sensor.online ? 'online ' : 'OFFLINE'} ${seen}, ${sensor.rate.toFixed(1)}/s${rssi}`);
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
  lines.push(alerts.length === 0 ? 'alerts: none active' : `alerts: ${alerts.length} active`);
  for (const alert of alerts) {
    lines.push(`  ${alert.severity.toUpperCase().padEnd(8)} ${alert.key} (since ${alert.raisedAt}): ${alert.message}`);
    if (alert.hint) lines.push(`           fix: ${alert.hint}`);
  }
  return `${lines.join('\n')}\n`;
}

export function registerStatusCommand(program: Command): void {
  program
    .command('status')
    .description('show the running gateway: setup code, HTTPS fingerprint, components, sensors, buffer, uplink and active alerts')
    .option('-c, --config <file>', 'config of the running gateway (for its UI address and data dir)', DEFAULT_CONFIG)
    .option('--json', 'print the raw status as JSON (with setupCode and httpsFingerprint)')
    .action(async (options: { config: string; json?: boolean }) => {
      const config = loadConfig(options.config);
      const dir = apiDataDir(config.gateway.dataDir);
      const https = uiUsesHttps(config.ui);
      const facts: LocalFacts = {
        setupCode: existsSync(dir) ? safely(() => readSetupCode(dir, Date.now())) : undefined,
        httpsFingerprint: https ? readHttpsFingerprint(config.ui, dir) : undefined,
      };
      const url = statusUrl(config.ui.host, config.ui.port, https);
      const token = localToken(config);
      const status = await fetchStatus(url, token, facts.httpsFingerprint);
      const alerts = status.alerts.active;
      if (options.json) printJson({ ...status, alerts, setupCode: facts.setupCode ?? null, httpsFingerprint: facts.httpsFingerprint ?? null });
      else process.stdout.write(describe(status, alerts, facts));
    });
}

/** The setup-code file is private to the service user: without access, status shows the rest. */
function safely<T>(read: () => T): T | undefined {
  try {
    return read();
  } catch {
    return undefined;
  }
}
