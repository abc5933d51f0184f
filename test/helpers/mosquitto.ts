/**
 * A real /usr/sbin/mosquitto on a free loopback port, configured exactly as the README recommends
 * for production: mutual TLS with `require_certificate true`, `use_identity_as_username true`
 * (the client certificate's CN is the MQTT username) and an ACL confining each gateway to
 * `<prefix>/%u/#`. One extra ACL user (`readerCn`, default `cloud-ingest`) may read and write
 * everything under the prefix, standing in for the cloud side.
 *
 *   const pki = await createPki();
 *   const broker = await startMosquitto({ pki });
 *   broker.url            // mqtts://localhost:<port>
 *   await broker.stop();  // outage
 *   await broker.start(); // back on the same port
 *   await broker.cleanup();
 */
import { spawnTied } from './tied-spawn.js';
import type { ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { freePort } from './net.js';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { IssuedCert, Pki } from './pki.js';

export interface MosquittoOptions {
  /** The CA that signs the broker's certificate and the client certificates it accepts. */
  pki: Pki;
  /** Topic prefix for the ACL (default `fieldgate`). */
  prefix?: string;
  /** CN of the cloud-side client allowed to read and write `<prefix>/#` (default `cloud-ingest`). */
  readerCn?: string;
  /** Server certificate; default one issued by `pki` for localhost and 127.0.0.1. */
  serverCert?: IssuedCert;
  /** Fixed port; default a free one picked at start. */
  port?: number;
  /**
   * Keep sessions and queued QoS 1 messages across stop()/start() (saved at shutdown), as a cloud
   * broker would. Default false.
   */
  persistence?: boolean;
  /**
   * Also listen for MQTT over WebSockets with the same mutual TLS (`protocol websockets`), at
   * `wsUrl`. Mosquitto 2.0.11 needs a plain listener besides it to start, which the TLS one is.
   */
  websockets?: boolean;
  /** Extra mosquitto.conf lines (global options such as `max_packet_size 8192`), added before the listener. */
  extraConfig?: readonly string[];
  /** The ACL file's text instead of recommendedAcl(prefix, readerCn), e.g. one mimicking a cloud platform's policy. */
  acl?: string;
  /**
   * false: the MQTT user name is the one the client sends, unchecked but for the ACL (the client
   * certificate is still required and is the authentication; Mosquitto then needs allow_anonymous,
   * and a client without a user name gets no ACL rule). Default true: the user name is the CN.
   */
  identityAsUsername?: boolean;
  /**
   * Also listen with TLS that asks for no client certificate, at `usernameUrl`: a client there is
   * known by the user name it gives (a platform's access token), and the ACL alone decides what it
   * may do. Mosquitto 2.0 cannot check a user name without a password, so an unknown name connects
   * and is refused at its first PUBLISH (PUBACK 0x87; its subscriptions are granted but deliver nothing).
   */
  usernameListener?: boolean;
}

export interface Mosquitto {
  host: '127.0.0.1';
  port: number;
  /** `mqtts://localhost:<port>`: the name matches the server certificate's SAN. */
  url: string;
  /** `wss://localhost:<wsPort>` with the `websockets` option. */
  wsUrl?: string;
  /** `mqtts://localhost:<port>` of the listener without client certificates, with the `usernameListener` option. */
  usernameUrl?: string;
  prefix: string;
  readerCn: string;
  running(): boolean;
  /** Starts the broker again on the same port (after stop()); resolves once it accepts connections. */
  start(): Promise<void>;
  /** SIGTERM and wait for the process to exit. */
  stop(): Promise<void>;
  /** The running broker's process id (e.g. to read its CPU time from /proc). */
  pid(): number | undefined;
  /** Sends a signal to the running broker (e.g. SIGSTOP/SIGCONT to stall it); false when not running. */
  signal(signal: NodeJS.Signals): boolean;
  /** The broker's log so far (useful in assertion messages). */
  log(): string;
  /** Stops the broker and removes its temp folder. */
  cleanup(): Promise<void>;
}

export const MOSQUITTO_BIN = '/usr/sbin/mosquitto';

/** The ACL the README recommends: a gateway may only touch topics under its own CN. */
export function recommendedAcl(prefix: string, readerCn: string): string {
  return [`pattern readwrite ${prefix}/%u/#`, '', `user ${readerCn}`, `topic readwrite ${prefix}/#`, ''].join('\n');
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export async function startMosquitto(options: MosquittoOptions): Promise<Mosquitto> {
  const prefix = options.prefix ?? 'fieldgate';
  const readerCn = options.readerCn ?? 'cloud-ingest';
  const dir = await mkdtemp(join(tmpdir(), 'fieldgate-mosquitto-'));
  const server = options.serverCert ?? (await options.pki.issueServerCert());
  const port = options.port ?? (await freePort());
  const wsPort = options.websockets ? await freePort() : undefined;
  const usernamePort = options.usernameListener ? await freePort() : undefined;
  const serverTls = [`cafile ${options.pki.ca.certPath}`, `certfile ${server.certPath}`, `keyfile ${server.keyPath}`, 'tls_version tlsv1.2'];
  const tlsListener = [...serverTls, 'require_certificate true', `use_identity_as_username ${options.identityAsUsername ?? true}`];
  const aclPath = join(dir, 'acl');
  const confPath = join(dir, 'mosquitto.conf');
  await writeFile(aclPath, options.acl ?? recommendedAcl(prefix, readerCn));
  await writeFile(
    confPath,
    [
      // Test-only: we run as root in CI; production runs as the mosquitto user.
      'user root',
      ...(options.persistence ? ['persistence true', `persistence_location ${dir}/`, 'autosave_interval 1'] : ['persistence false']),
      'log_dest stderr',
      'log_type error',
      'log_type warning',
      'log_type notice',
      'log_type information',
      'per_listener_settings false',
      ...(options.extraConfig ?? []),
      // Clients of a listener using the CN always have a user name; the other listeners take any name.
      `allow_anonymous ${options.identityAsUsername === false || usernamePort !== undefined}`,
      `acl_file ${aclPath}`,
      `listener ${port} 127.0.0.1`,
      ...tlsListener,
      ...(wsPort === undefined ? [] : [`listener ${wsPort} 127.0.0.1`, 'protocol websockets', ...tlsListener]),
      ...(usernamePort === undefined ? [] : [`listener ${usernamePort} 127.0.0.1`, ...serverTls, 'require_certificate false']),
      '',
    ].join('\n'),
  );

  let child: ChildProcess | undefined;
  let output = '';

  async function start(): Promise<void> {
    if (child) throw new Error('mosquitto is already running');
    const proc = spawnTied(MOSQUITTO_BIN, ['-c', confPath], { stdio: ['ignore', 'pipe', 'pipe'] });
    child = proc;
    proc.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    proc.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    let exited = false;
    proc.once('exit', () => {
      exited = true;
      if (child === proc) child = undefined;
    });
    const deadline = Date.now() + 15_000;
    while (Date.now() < deadline) {
      if (exited) throw new Error(`mosquitto exited at start:\n${output}`);
      // A freshly stopped broker's port may still be in use briefly; mosquitto exits then, so retry.
      if (await canConnect(port)) return;
      await sleep(50);
    }
    proc.kill('SIGKILL');
    throw new Error(`mosquitto did not listen on port ${port} within 15 s:\n${output}`);
  }

  async function stop(): Promise<void> {
    const proc = child;
    if (!proc) return;
    const exited = new Promise((resolve) => proc.once('exit', resolve));
    proc.kill('SIGTERM');
    const timer = setTimeout(() => proc.kill('SIGKILL'), 5_000);
    await exited;
    clearTimeout(timer);
    child = undefined;
  }

  async function startWithRetry(): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      try {
        await start();
        return;
      } catch (error) {
        if (attempt >= 5 || !/Address already in use/.test(String(error))) throw error;
        await sleep(200 * attempt);
      }
    }
  }

  try {
    await startWithRetry();
  } catch (error) {
    await rm(dir, { recursive: true, force: true });
    throw error;
  }
  return {
    host: '127.0.0.1',
    port,
    url: `mqtts://localhost:${port}`,
    ...(wsPort === undefined ? {} : { wsUrl: `wss://localhost:${wsPort}` }),
    ...(usernamePort === undefined ? {} : { usernameUrl: `mqtts://localhost:${usernamePort}` }),
    prefix,
    readerCn,
    running: () => child !== undefined,
    start: startWithRetry,
    stop,
    pid: () => child?.pid,
    signal: (signal) => child?.kill(signal) ?? false,
    log: () => output,
    cleanup: async () => {
      await stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
