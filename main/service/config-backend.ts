import type { ConfigBackend, ConfigWriteBackend } from '../api/backends.js';
import { ConfigConflictError, type ConfigChange, type ConfigPath } from '../config/document.js';
import { ApiError } from '../shared/api.js';
import { configJsonSchema } from '../shared/config/schema.js';
import { ConfigError } from '../shared/errors.js';
import type { LiveConfig } from './live-config.js';

type Plain = Record<string, unknown>;

function isPlain(value: unknown): value is Plain {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A JSON merge patch (RFC 7396) as key-path edits against the file's content: null removes, objects merge, anything else replaces. */
export function mergePatchChanges(document: unknown, patch: Plain, path: ConfigPath = []): ConfigChange[] {
  const target = isPlain(document) ? document : undefined;
  return Object.entries(patch).flatMap(([key, value]): ConfigChange[] => {
    const keyPath = [...path, key];
    if (value === null) return target && Object.hasOwn(target, key) ? [{ path: keyPath, remove: true }] : [];
    if (isPlain(value) && isPlain(target?.[key])) return mergePatchChanges(target[key], value, keyPath);
    return [{ path: keyPath, value: withoutNulls(value) }];
  });
}

function withoutNulls(value: unknown): unknown {
  if (!isPlain(value)) return value;
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== null).map(([k, v]) => [k, withoutNulls(v)]));
}

/** ConfigError problems read `"sensors.sim.0.rate": expected …`; the API names the key in `field` and `issues`. */
function toApiError(error: unknown): unknown {
  if (error instanceof ConfigConflictError) {
    return new ApiError('conflict', error.message, { currentVersion: error.currentVersion, hint: 'read the config again (its version changed) and redo the edit' });
  }
  if (error instanceof ConfigError) {
    const issues = error.problems.map((problem) => {
      const match = /^"([^"]*)": (.*)$/s.exec(problem);
      return match ? { path: match[1] as string, message: match[2] as string } : { path: '', message: problem };
    });
    return new ApiError('bad-request', error.message, { ...(issues[0]?.path && { field: issues[0].path }), issues });
  }
  return error;
}

type SensorKind = 'sim' | 'serial' | 'modbusTcp';
type SensorRef = { kind: 'sim'; id: string } | { kind: 'serial'; port: string } | { kind: 'modbusTcp'; server: string };

/**
 * The config area of the control API, on the live config: reads give the effective config with the
 * file's version; writes edit the file (comments kept, atomic, `.bak`) and the gateway reconciles.
 * A write without a version applies to the file as it is now.
 */
export function createConfigBackends(live: LiveConfig): { config: ConfigBackend; configWrites: ConfigWriteBackend } {
  async function edit(version: string | undefined, changes: (document: Plain) => ConfigChange[]): Promise<{ version: string }> {
    try {
      const snapshot = await live.read();
      const document = isPlain(snapshot.document) ? snapshot.document : {};
      const applied = await live.update(changes(document), version ?? snapshot.version);
      return { version: applied.version };
    } catch (error) {
      throw toApiError(error);
    }
  }

  function list(document: Plain, kind: SensorKind): Plain[] {
    const sensors = isPlain(document.sensors) ? document.sensors : {};
    return Array.isArray(sensors[kind]) ? (sensors[kind] as Plain[]) : [];
  }

  function indexOf(document: Plain, ref: SensorRef): number {
    const index =
      ref.kind === 'sim'
        ? list(document, 'sim').findIndex((entry) => entry.id === ref.id)
        : ref.kind === 'modbusTcp'
          ? list(document, 'modbusTcp').findIndex((entry) => entry.id === ref.server)
          : list(document, 'serial').findIndex((entry) => entry.path === ref.port || entry.id === ref.port);
    if (index < 0) {
      const name = ref.kind === 'sim' ? `sim sensor "${ref.id}"` : ref.kind === 'modbusTcp' ? `Modbus TCP server "${ref.server}"` : `serial port "${ref.port}"`;
      throw new ApiError('not-found', `no ${name} in the config`, { field: 'ref' });
    }
    return index;
  }

  return {
    config: {
      read: async () => {
        const snapshot = await live.read().catch((error: unknown) => Promise.reject(toApiError(error)));
        return { version: snapshot.version, file: live.file, config: snapshot.config as unknown as Plain };
      },
      schema: () => ({ schema: configJsonSchema() }),
      cloud: async () => ({ settings: (await live.read()).config.cloud ?? null }),
    },
    configWrites: {
      update: (input) => edit(input.version, (document) => mergePatchChanges(document, input.patch)),
      addSensor: (input) =>
        edit(input.version, (document) => {
          const { kind, entry } = input.sensor;
          const entries = list(document, kind);
          const id = (entry as Plain).id;
          if (entries.some((existing) => existing.id === id)) {
            throw new ApiError('conflict', `a ${kind} entry with id "${String(id)}" exists already`, { field: 'sensor.entry.id' });
          }
          return entries.length === 0 ? [{ path: ['sensors', kind], value: [entry] }] : [{ path: ['sensors', kind, entries.length], value: entry }];
        }),
      updateSensor: (input) =>
        edit(input.version, (document) => {
          if (input.sensor.kind !== input.ref.kind) throw new ApiError('bad-request', 'ref and sensor must be of the same kind', { field: 'sensor.kind' });
          return [{ path: ['sensors', input.ref.kind, indexOf(document, input.ref)], value: input.sensor.entry }];
        }),
      removeSensor: (input) => edit(input.version, (document) => [{ path: ['sensors', input.ref.kind, indexOf(document, input.ref)], remove: true }]),
      saveCloud: (input) => edit(input.version, () => [{ path: ['cloud'], value: input.settings }]),
    },
  };
}
