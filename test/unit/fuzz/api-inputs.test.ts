// Property tests for the control API's inputs: every method's input through the one dispatch path
// (role check, input schema, handler), raw HTTP bodies and WebSocket messages on a real server.
// Every refusal is an ApiError / error body whose kind is in the contract's documented set.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { WebSocket } from 'ws';
import fc from 'fast-check';
import { z } from 'zod';
import type { Auth } from '../../../main/api/auth.js';
import { createDispatch } from '../../../main/api/dispatch.js';
import type { ApiHandlers, CallContext } from '../../../main/api/handlers.js';
import { silentLogger } from '../../../main/log/logger.js';
import { API_ERROR_STATUS, ApiError, apiErrorBodySchema, apiMethods, EVENTS_PATH, httpRoute, METHOD_NAMES, roleAllows, type MethodName, type Role } from '../../../main/shared/api.js';
import { startFakeServer } from '../../integration/api/server-fixture.js';
import { fuzz, fuzzAsync } from './harness.js';

const KINDS = new Set(Object.keys(API_ERROR_STATUS));
const STATUSES = new Set<number>(Object.values(API_ERROR_STATUS));
/** The handler's answer once role and input are accepted: proves the input got through. */
const REACHED = 'reached the handler';

type JsonSchema = { type?: string | string[]; properties?: Record<string, JsonSchema>; required?: string[]; items?: JsonSchema; enum?: unknown[]; const?: unknown; anyOf?: JsonSchema[]; oneOf?: JsonSchema[]; minLength?: number; maxLength?: number; minimum?: number; maximum?: number };

/** Values shaped like a JSON Schema (from the zod input schema), so generated input often passes. */
function shaped(schema: JsonSchema, depth = 0): fc.Arbitrary<unknown> {
  const noise = fc.oneof(fc.jsonValue({ maxDepth: 2 }), fc.constant(undefined));
  if (depth > 4) return noise;
  const variants = schema.anyOf ?? schema.oneOf;
  if (variants && variants.length > 0) return fc.oneof(...variants.map((variant) => shaped(variant, depth + 1)));
  if (schema.const !== undefined) return fc.constant(schema.const);
  if (schema.enum) return fc.constantFrom(...schema.enum);
  const type = Array.isArray(schema.type) ? schema.type[0] : schema.type;
  switch (type) {
    case 'string':
      return fc.oneof(fc.string({ minLength: schema.minLength ?? 0, maxLength: Math.min(schema.maxLength ?? 24, 64) }), fc.constantFrom('admin', 'sim-1', '/dev/ttyUSB0', 'AA:BB:CC:DD:EE:FF', '231d39c1d7cc1ab1aee224cd096db932', 'x'.repeat(5_000)));
    case 'integer':
    case 'number':
      return fc.oneof(fc.integer({ min: schema.minimum ?? -10, max: Math.min(schema.maximum ?? 100_000, 2 ** 31) }), fc.double());
    case 'boolean':
      return fc.boolean();
    case 'array':
      return fc.array(schema.items ? shaped(schema.items, depth + 1) : noise, { maxLength: 3 });
    case 'object': {
      const properties = Object.entries(schema.properties ?? {});
      const required = new Set(schema.required ?? []);
      return fc.record(Object.fromEntries(properties.map(([key, child]) => [key, shaped(child, depth + 1)])), { requiredKeys: properties.map(([key]) => key).filter((key) => required.has(key)) });
    }
    default:
      return noise;
  }
}

function inputSchemaOf(name: MethodName): JsonSchema {
  try {
    return z.toJSONSchema(apiMethods[name].input, { io: 'input', unrepresentable: 'any' }) as JsonSchema;
  } catch {
    return {};
  }
}

const inputArbitraries = new Map<MethodName, fc.Arbitrary<unknown>>();
const inputFor = (name: MethodName): fc.Arbitrary<unknown> => {
  let arbitrary = inputArbitraries.get(name);
  if (!arbitrary) inputArbitraries.set(name, (arbitrary = generatedInput(name)));
  return arbitrary;
};
const generatedInput = (name: MethodName) => fc.oneof({ weight: 3, arbitrary: shaped(inputSchemaOf(name)) }, { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 3 }) }, { weight: 1, arbitrary: fc.constantFrom(undefined, null, [], '', 0, { __proto__: { role: 'admin' } }, { constructor: { prototype: {} } }) });

function contextFor(role: Role | undefined): CallContext {
  return { transport: 'http', session: undefined, bearerRole: role, client: '127.0.0.1', startSession: () => undefined, endSession: () => undefined };
}

describe('fuzz: API method inputs through dispatch', () => {
  const handlers = new Proxy({} as ApiHandlers, { get: () => async () => Promise.reject(new ApiError('conflict', REACHED)) });
  const auth = { countFailure: () => undefined } as unknown as Auth;
  const dispatch = createDispatch({ handlers, auth, log: silentLogger });
  const call = fc.constantFrom(...METHOD_NAMES).chain((name) => fc.record({ name: fc.constant(name), input: inputFor(name), role: fc.constantFrom<Role | undefined>('admin', 'admin', 'technician', undefined) }));

  it(`every method (${METHOD_NAMES.length}): accepted input reaches the handler, anything else is a documented ApiError`, async () => {
    let reached = 0;
    await fuzzAsync(call, async ({ name, input, role }) => {
      const spec = apiMethods[name];
      try {
        await dispatch(name, input, contextFor(role));
        assert.fail(`${name} returned without the handler`);
      } catch (error) {
        assert.ok(error instanceof ApiError, `${name}: ${String(error)}`);
        assert.ok(KINDS.has(error.kind), error.kind);
        const allowed = roleAllows(role, spec.access);
        const valid = spec.input.safeParse(input ?? {}).success;
        if (error.message === REACHED) {
          reached++;
          assert.ok(allowed && valid, `${name}: only allowed, valid input reaches the handler`);
        } else if (!allowed) {
          assert.ok(error.kind === 'unauthorized' || error.kind === 'forbidden', error.kind);
        } else {
          assert.equal(valid, false);
          assert.equal(error.kind, 'bad-request');
          assert.ok((error.toBody().issues ?? []).length > 0, 'a bad request lists its issues');
        }
      }
    });
    assert.ok(reached > 1_000, `the generator reaches handlers (${reached})`);
  });
});

describe('fuzz: HTTP bodies and WebSocket messages on a real server', () => {
  it('raw bodies on every POST route and query inputs on every GET route: a documented status and error body', async (t) => {
    const fixture = await startFakeServer(t);
    const admin = await fixture.admin();
    const routes = METHOD_NAMES.filter((name) => !apiMethods[name].streamedBody && !['logout', 'completeSetup', 'login', 'changePassword', 'addUser', 'removeUser'].includes(name)).map(httpRoute);
    const body = fc.oneof(fc.jsonValue({ maxDepth: 3 }).map((v) => JSON.stringify(v)), fc.string({ unit: 'binary', maxLength: 100 }), fc.constantFrom('', '{', '{"__proto__":{"x":1}}', '[]', 'null', `{"a":"${'x'.repeat(70_000)}"}`));
    const contentType = fc.constantFrom('application/json', 'application/json; charset=utf-8', 'text/plain', 'application/x-www-form-urlencoded', '');
    await fuzzAsync(fc.tuple(fc.constantFrom(...routes), body, contentType), async ([route, raw, type]) => {
      // A URL above Node's 16 KiB header limit is refused by the HTTP parser (431) before the API sees it.
      if (route.verb === 'GET' && raw.length > 8_000) return;
      const answer = route.verb === 'GET'
        ? await admin.request('GET', `${route.url}?input=${encodeURIComponent(raw)}`)
        : await admin.request('POST', route.url, { raw, headers: type ? { 'content-type': type } : {} });
      if (answer.status < 400) return;
      assert.ok(STATUSES.has(answer.status), `status ${answer.status} on ${route.url}`);
      const parsed = apiErrorBodySchema.safeParse(answer.body);
      assert.ok(parsed.success, `error body on ${route.url}: ${JSON.stringify(answer.body).slice(0, 200)}`);
      assert.equal(API_ERROR_STATUS[parsed.data.error], answer.status);
    }, { cases: 800 });
    assert.equal((await admin.call('status')).status, 200, 'the server still answers');
  });

  it('whatever a client sends on the event socket is ignored: the socket stays open and events flow', async (t) => {
    const fixture = await startFakeServer(t);
    const admin = await fixture.admin();
    const cookie = [...admin.cookies].map(([name, value]) => `${name}=${value}`).join('; ');
    const socket = new WebSocket(`${fixture.url.replace(/^http/, 'ws')}${EVENTS_PATH}`, { headers: { origin: fixture.url, cookie } });
    const received: string[] = [];
    socket.on('message', (data) => received.push(String(data)));
    await new Promise((resolve, reject) => socket.once('open', resolve).once('error', reject));
    const message = fc.oneof(fc.uint8Array({ maxLength: 256 }).map((bytes) => ({ data: Buffer.from(bytes), binary: true })), fc.jsonValue({ maxDepth: 3 }).map((v) => ({ data: JSON.stringify(v), binary: false })), fc.string({ maxLength: 64 }).map((s) => ({ data: s, binary: false })));
    const sent = fuzz(message, ({ data, binary }) => socket.send(data, { binary }));
    await new Promise<void>((resolve, reject) => socket.ping(undefined, undefined, (error) => (error ? reject(error) : resolve())));
    await new Promise((resolve) => setTimeout(resolve, 200));
    assert.equal(sent, 10_000);
    assert.equal(socket.readyState, WebSocket.OPEN, 'the server did not close the socket');
    assert.ok(received.some((text) => text.includes('"session"')), 'events arrived');
    socket.close();
  });
});
