import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseCommand } from '../../../main/uplink/commands.js';
import { Topics, topicMatches } from '../../../main/uplink/topics.js';

const bytes = (text: string) => Buffer.from(text);

describe('inbound commands', () => {
  it('accepts ping and flush with an optional id, and an empty payload', () => {
    assert.deepEqual(parseCommand('ping', bytes('{"id":"a1"}')), { ok: true, command: { name: 'ping', id: 'a1' } });
    assert.deepEqual(parseCommand('flush', bytes('')), { ok: true, command: { name: 'flush' } });
  });

  it('rejects unknown commands, naming the known ones and echoing the id', () => {
    assert.deepEqual(parseCommand('reboot', bytes('{"id":"x"}')), { ok: false, id: 'x', error: 'unknown command "reboot"; known: ping, flush' });
    assert.equal(parseCommand('toString', bytes('{}')).ok, false);
    assert.equal(parseCommand('__proto__', bytes('{}')).ok, false);
  });

  it('rejects invalid payloads with a reason', () => {
    const notJson = parseCommand('ping', bytes('{nope'));
    assert.equal(notJson.ok, false);
    assert.match(!notJson.ok ? notJson.error : '', /not JSON/);
    const extra = parseCommand('ping', bytes('{"id":"1","force":true}'));
    assert.equal(extra.ok, false);
    assert.match(!extra.ok ? extra.error : '', /force/);
    assert.equal(parseCommand('ping', bytes('{"id":""}')).ok, false);
    assert.equal(parseCommand('ping', bytes('[1]')).ok, false);
  });
});

describe('topics', () => {
  const topics = new Topics('fieldgate', 'gw-1');

  it('builds every topic under <prefix>/<gatewayId>/', () => {
    assert.equal(topics.readings('t1'), 'fieldgate/gw-1/readings/t1');
    assert.equal(topics.status, 'fieldgate/gw-1/status');
    assert.equal(topics.alerts, 'fieldgate/gw-1/alerts');
    assert.equal(topics.commands, 'fieldgate/gw-1/cmd/#');
    assert.equal(topics.commandResult('ping'), 'fieldgate/gw-1/cmd-result/ping');
    assert.equal(topics.control('cert/csr'), 'fieldgate/gw-1/cert/csr');
    assert.throws(() => topics.control('/x'), /suffix/);
  });

  it('extracts command names and matches filters', () => {
    assert.equal(topics.commandName('fieldgate/gw-1/cmd/ping'), 'ping');
    assert.equal(topics.commandName('fieldgate/gw-2/cmd/ping'), undefined);
    assert.ok(topicMatches('a/+/c', 'a/b/c'));
    assert.ok(topicMatches('a/#', 'a/b/c'));
    assert.ok(!topicMatches('a/+', 'a/b/c'));
    assert.ok(!topicMatches('a/b/c', 'a/b'));
  });
});
