// Property tests for inbound MQTT commands (`<prefix>/<gatewayId>/cmd/<name>`): any name, payload
// and MQTT 5 properties give exactly one typed result on the gateway's own topics, never a throw.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import type { IPublishPacket } from 'mqtt';
import { silentLogger } from '../../../main/log/logger.js';
import { CommandHandler } from '../../../main/uplink/command-handler.js';
import { parseCommand } from '../../../main/uplink/commands.js';
import { GenericWire } from '../../../main/uplink/profiles/generic.js';
import type { Session } from '../../../main/uplink/session.js';
import { fuzz } from './harness.js';

const wire = new GenericWire({ config: { topicPrefix: 'fieldgate', protocolVersion: 5 }, gatewayId: 'gw-1' });
const OWN = 'fieldgate/gw-1/';

// The name is the rest of a received topic name, which the broker never lets carry wildcards or U+0000.
const name = fc.oneof(fc.constantFrom('ping', 'flush', 'reboot', '__proto__', 'constructor', 'toString', '', 'ping/extra', 'a//b'), fc.string({ maxLength: 12 })).filter((text) => !/[#+\u0000]/.test(text));
const payloadText = fc.oneof(
  fc.constantFrom('', '{}', '{"id":"a"}', '{"id":""}', `{"id":"${'x'.repeat(129)}"}`, '{"id":1}', '{"id":"a","extra":1}', 'null', '[]', '"ping"', '{"__proto__":{"id":"x"}}', ' \n{"id":"b"}\n '),
  fc.jsonValue({ maxDepth: 3 }).map((value) => JSON.stringify(value)),
  fc.string({ unit: 'binary', maxLength: 64 }),
);
const payload = fc.oneof(payloadText.map((text) => Buffer.from(text)), fc.uint8Array({ maxLength: 64 }).map((bytes) => Buffer.from(bytes)), fc.constant(Buffer.alloc(16 * 1024 + 1, 0x20)));
const responseTopic = fc.option(fc.oneof(fc.constantFrom(`${OWN}replies/1`, `${OWN}#`, `${OWN}+/x`, 'other/gw-2/replies', 'fieldgate/gw-10/replies', `${OWN}`, 'fieldgate/gw-1', '', `${OWN}a\u0000b`), fc.string({ maxLength: 20 }).map((s) => `${OWN}${s}`)), { nil: undefined });

describe('fuzz: inbound MQTT commands', () => {
  it('parseCommand: ok with a known name and a valid payload, otherwise an error naming the command', () => {
    fuzz(fc.tuple(name, payload), ([command, bytes]) => {
      const parsed = parseCommand(command, bytes);
      if (parsed.ok) {
        assert.ok(command === 'ping' || command === 'flush', `accepted "${command}"`);
        if (parsed.command.id !== undefined) assert.ok(parsed.command.id.length >= 1 && parsed.command.id.length <= 128);
      } else {
        assert.ok(parsed.error.includes(`"${command}"`), parsed.error);
        if (parsed.id !== undefined) assert.equal(typeof parsed.id, 'string');
      }
    });
  });

  it('GenericWire and CommandHandler: exactly one reply, JSON, on an own topic without wildcards, for any request', () => {
    const published: { topic: string; body: Buffer; options: unknown }[] = [];
    let flushes = 0;
    const session = { open: true, publishAsync: async (topic: string, body: Buffer, options: unknown) => void published.push({ topic, body, options }) } as unknown as Session;
    const handler = new CommandHandler({ version: '1.0.0', log: silentLogger, clock: { now: () => 0 } as never, bufferDepth: () => 3, flush: () => flushes++ });
    const correlation = fc.option(fc.uint8Array({ maxLength: 16 }).map((bytes) => Buffer.from(bytes)), { nil: undefined });
    fuzz(fc.tuple(name, payload, responseTopic, correlation), ([command, bytes, reply, correlationData]) => {
      published.length = 0;
      const before = flushes;
      const packet = { cmd: 'publish', topic: `${OWN}cmd/${command}`, payload: bytes, qos: 1, dup: false, retain: false, properties: { ...(reply !== undefined && { responseTopic: reply }), ...(correlationData && { correlationData }) } } as IPublishPacket;
      const request = wire.inbound(packet.topic, bytes, packet);
      assert.equal(request?.kind, 'command');
      if (request?.kind === 'command') handler.handle(session, request);
      assert.equal(published.length, 1, 'one reply');
      const [answer] = published as [(typeof published)[number]];
      assert.ok(answer.topic.startsWith(OWN), answer.topic);
      assert.doesNotMatch(answer.topic, /[#+\u0000]/);
      const body = JSON.parse(answer.body.toString('utf8')) as { ok: boolean; command: string; error?: string; result?: unknown };
      assert.equal(body.command, command);
      assert.equal(typeof body.ok, 'boolean');
      if (!body.ok) assert.equal(typeof body.error, 'string');
      assert.equal(flushes - before, body.ok && command === 'flush' ? 1 : 0, 'flush runs only when accepted');
    });
  });
});
