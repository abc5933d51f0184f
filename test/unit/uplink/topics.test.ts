import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Topics } from '../../../main/uplink/topics.js';

describe('Topics.isOwnTopicName', () => {
  const topics = new Topics('fieldgate', 'gw-1');

  it('accepts topic names strictly under <prefix>/<gatewayId>/', () => {
    for (const topic of ['fieldgate/gw-1/replies/x', 'fieldgate/gw-1/cmd-result/ping', 'fieldgate/gw-1/a']) assert.ok(topics.isOwnTopicName(topic), topic);
  });

  it('refuses other gateways, other prefixes, the base itself and wildcards', () => {
    for (const topic of ['fieldgate/gw-10/x', 'fieldgate/gw-2/x', 'other/gw-1/x', 'fieldgate/gw-1', 'fieldgate/gw-1/', 'fieldgate/gw-1/+', 'fieldgate/gw-1/a/#', 'fieldgate/gw-1/a\u0000b', '/fieldgate/gw-1/x']) {
      assert.equal(topics.isOwnTopicName(topic), false, JSON.stringify(topic));
    }
  });
});
