// What the alerts integration tests share: the cloud subscriber's view of `…/alerts` (deduplicated
// by key and seq, as a real consumer reconciles), the reconciliation check of every key's events,
// and reads of the running gateway's API with its local status token.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { apiDataDir } from '../../../main/config/location.js';
import { STATUS_TOKEN_FILE } from '../../../main/api/auth.js';
import type { Gateway } from '../../../main/service/gateway.js';
import type { Mosquitto } from '../../helpers/mosquitto.js';
import type { IssuedCert, Pki } from '../../helpers/pki.js';
import type { Received } from '../uplink/fixture.js';
import { waitFor } from '../uplink/fixture.js';

export interface AlertEvent {
  event: 'raise' | 'clear' | 'notice';
  key: string;
  seq: number;
  type: string;
  kind: string;
  subject: string;
  severity: string;
  message: string;
  hint?: string;
  raisedAt: string;
  clearedAt: string | null;
}

export class AlertWatch {
  constructor(
    private readonly messages: readonly Received[],
    private readonly topic: string,
  ) {}

  /** What the cloud got on …/alerts, deduplicated by key and seq (QoS 1 may repeat one after a lost PUBACK). */
  received(): AlertEvent[] {
    const seen = new Set<string>();
    const events: AlertEvent[] = [];
    for (const message of this.messages) {
      if (message.topic !== this.topic) continue;
      const body = JSON.parse(message.text) as AlertEvent;
      if (body.event === undefined) continue; // drop records (readings-dropped) have no event
      const id = `${body.key}#${body.seq}`;
      if (seen.has(id)) continue;
      seen.add(id);
      events.push(body);
    }
    return events;
  }

  eventsOf(key: string): AlertEvent[] {
    return this.received().filter((e) => e.key === key);
  }

  /** The first `event` of `key` after seq `after` at the subscriber. */
  waitEvent(key: string, event: AlertEvent['event'], after = 0): Promise<AlertEvent> {
    return waitFor(() => this.eventsOf(key).find((e) => e.event === event && e.seq > after), `${event} of ${key} after seq ${after} at the subscriber`);
  }

  /** Every key's events, reconciled by seq: 1, 2, 3… without gaps, raise and clear alternating. */
  assertReconciles(): void {
    const byKey = new Map<string, AlertEvent[]>();
    for (const event of this.received()) byKey.set(event.key, [...(byKey.get(event.key) ?? []), event]);
    for (const [key, events] of byKey) {
      events.sort((a, b) => a.seq - b.seq);
      assert.deepEqual(events.map((e) => e.seq), events.map((_, i) => i + 1), `${key}: seqs without gaps`);
      for (const [i, event] of events.entries()) {
        if (event.event === 'notice') continue;
        const previous = events.slice(0, i).filter((e) => e.event !== 'notice').at(-1);
        assert.notEqual(previous?.event === 'raise' && previous.severity === event.severity && event.event === 'raise', true, `${key}: no second raise of one alert`);
        if (event.event === 'clear') assert.equal(previous?.event, 'raise', `${key}: a clear follows a raise`);
      }
    }
  }
}

/** GET on the running gateway's API with its local status token. */
export async function apiGet(gateway: Gateway, dataDir: string, path: string): Promise<{ status: number; body: unknown }> {
  const token = readFileSync(join(apiDataDir(dataDir), STATUS_TOKEN_FILE), 'utf8').trim();
  const response = await fetch(`${(gateway.apiServer as NonNullable<Gateway['apiServer']>).url}${path}`, { headers: { authorization: `Bearer ${token}` } });
  return { status: response.status, body: await response.json() };
}

/** The `cloud:` section of a gateway on `broker` with `client`'s certificate, reconnecting fast. */
export function cloudSection(broker: Mosquitto, pki: Pki, client: IssuedCert): Record<string, unknown> {
  return {
    url: broker.url,
    caFile: pki.ca.certPath,
    certFile: client.certPath,
    keyFile: client.keyPath,
    topicPrefix: broker.prefix,
    connectTimeoutMs: 2_000,
    backoff: { initialMs: 50, maxMs: 200, stableMs: 1_000 },
  };
}
