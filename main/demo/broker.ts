import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { createServer, type Server, type TLSSocket } from 'node:tls';
import type { AddressInfo } from 'node:net';
import { Aedes, type Client } from 'aedes';
import type { Logger } from '../log/logger.js';
import type { DemoPki } from './pki.js';

export interface DemoBroker {
  port: number;
  /** Readings delivered to the broker, by sensor. */
  delivered: Map<string, number>;
  close(): Promise<void>;
}

/** The CN of the client certificate the TLS layer verified: the MQTT identity, as Mosquitto's use_identity_as_username. */
function certificateIdentity(client: Client | null): string | undefined {
  const socket = client?.conn as TLSSocket | undefined;
  const subject = socket?.getPeerCertificate?.()?.subject;
  const cn = subject?.CN;
  return Array.isArray(cn) ? cn[0] : cn;
}

/**
 * An in-process MQTT broker for the demo: mutual TLS (requestCert) with the demo CA, and each
 * client confined to `<prefix>/<its certificate CN>/#`, like the recommended Mosquitto ACL.
 */
export async function startDemoBroker(options: { pki: DemoPki; topicPrefix: string; log: Logger }): Promise<DemoBroker> {
  const delivered = new Map<string, number>();
  const allowed = (client: Client | null, topic: string) => {
    const identity = certificateIdentity(client);
    return identity !== undefined && topic.startsWith(`${options.topicPrefix}/${identity}/`);
  };
  const broker = await Aedes.createBroker({
    authorizePublish: (client, packet, callback) =>
      callback(allowed(client, packet.topic) ? null : new Error(`topic ${packet.topic} is outside this client's namespace`)),
    authorizeSubscribe: (client, subscription, callback) =>
      callback(allowed(client, subscription.topic) ? null : new Error('subscription outside namespace'), subscription),
  });
  broker.on('publish', (packet, client) => {
    if (!client || !packet.topic.includes('/readings/')) return;
    const sensor = packet.topic.slice(packet.topic.lastIndexOf('/') + 1);
    const count = (JSON.parse(packet.payload.toString()) as { readings: unknown[] }).readings.length;
    delivered.set(sensor, (delivered.get(sensor) ?? 0) + count);
  });
  const server: Server = createServer(
    {
      ca: readFileSync(options.pki.caFile),
      cert: readFileSync(options.pki.serverCertFile),
      key: readFileSync(options.pki.serverKeyFile),
      requestCert: true,
      rejectUnauthorized: true,
      minVersion: 'TLSv1.2',
    },
    (socket) => broker.handle(socket),
  );
  server.on('tlsClientError', (error) => options.log.warn({ err: error.message }, 'demo broker refused a TLS client'));
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    port: (server.address() as AddressInfo).port,
    delivered,
    async close() {
      await new Promise<void>((resolve) => broker.close(() => resolve()));
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
