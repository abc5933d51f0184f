/**
 * A minimal MQTT 5 broker on a loopback TCP port, for answers Mosquitto cannot be configured to
 * give (a PUBACK with reason 0x99 payload format invalid). It speaks the real protocol through
 * mqtt-packet; `pubackReason` decides each QoS 1 PUBLISH's answer (undefined: no answer at all). It does not route messages:
 * it records them.
 *
 *   const broker = await startWireBroker({ pubackReason: (p) => (p.payload.includes('bad') ? 0x99 : 0) });
 *   broker.url        // mqtt://127.0.0.1:<port>
 *   broker.accepted   // PUBLISH packets answered with a success code
 */
import { createServer, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { generate, parser, type IConnectPacket, type IPublishPacket, type Packet } from 'mqtt-packet';

export interface WireBroker {
  url: string;
  accepted: IPublishPacket[];
  refused: Array<{ packet: IPublishPacket; reasonCode: number }>;
  connects: number;
  /** The CONNECT packets received, in order. */
  connectPackets: IConnectPacket[];
  /** Writes raw bytes to every connected client, e.g. the start of a packet that never ends. */
  sendRaw(bytes: Uint8Array): void;
  close(): Promise<void>;
}

export interface WireBrokerOptions {
  pubackReason: (packet: IPublishPacket) => number | undefined;
  /** A reason code to answer a PUBLISH with DISCONNECT (then close), e.g. 0x95 for one over an unannounced size limit. */
  disconnectReason?: (packet: IPublishPacket) => number | undefined;
}

export async function startWireBroker(options: WireBrokerOptions): Promise<WireBroker> {
  const sockets = new Set<Socket>();
  const broker: Omit<WireBroker, 'url' | 'close' | 'sendRaw'> = { accepted: [], refused: [], connects: 0, connectPackets: [] };
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => socket.destroy());
    const input = parser({ protocolVersion: 5 });
    const send = (packet: Packet) => socket.write(generate(packet, { protocolVersion: 5 }));
    input.on('error', () => socket.destroy());
    input.on('packet', (packet: Packet) => {
      switch (packet.cmd) {
        case 'connect':
          broker.connects++;
          broker.connectPackets.push(packet);
          send({ cmd: 'connack', sessionPresent: false, reasonCode: 0, properties: { receiveMaximum: 10 } });
          break;
        case 'subscribe':
          send({ cmd: 'suback', messageId: packet.messageId, granted: packet.subscriptions.map(() => 1) });
          break;
        case 'publish': {
          const disconnect = options.disconnectReason?.(packet);
          if (disconnect !== undefined) {
            broker.refused.push({ packet, reasonCode: disconnect });
            send({ cmd: 'disconnect', reasonCode: disconnect });
            socket.end();
            input.removeAllListeners('packet'); // nothing after this packet is processed
            break;
          }
          const reasonCode = options.pubackReason(packet);
          if (reasonCode === undefined) break;
          if (reasonCode < 0x80) broker.accepted.push(packet);
          else broker.refused.push({ packet, reasonCode });
          if (packet.qos === 1) send({ cmd: 'puback', messageId: packet.messageId, reasonCode });
          break;
        }
        case 'pingreq':
          send({ cmd: 'pingresp' });
          break;
        case 'disconnect':
          socket.end();
          break;
        default:
          break;
      }
    });
    socket.on('data', (chunk: Buffer) => input.parse(chunk));
  });
  server.listen(0, '127.0.0.1');
  await new Promise<void>((resolve) => server.once('listening', resolve));
  const { port } = server.address() as AddressInfo;
  return Object.assign(broker, {
    url: `mqtt://127.0.0.1:${port}`,
    sendRaw: (bytes: Uint8Array) => {
      for (const socket of sockets) socket.write(bytes);
    },
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  });
}
