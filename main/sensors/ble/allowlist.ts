import { mkdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { writeFileDurablySync } from '../../files/durable.js';
import { identifier } from '../../shared/config/common.js';
import { UserError } from '../../shared/errors.js';
import { normalizeMac } from './decoders/bytes.js';
import { BLE_FORMATS, type BleFormat } from './decoders/types.js';
import { SecretBox } from './secret-box.js';

export interface AllowlistEntry {
  mac: string;
  /** Sensor id used for readings and topics. */
  id: string;
  name: string;
  format: BleFormat;
  bindKey?: Uint8Array;
  addedAt: number;
}

/** What may be shown or logged: never the key, only whether there is one. */
export interface AllowlistEntryView {
  mac: string;
  id: string;
  name: string;
  format: BleFormat;
  encrypted: boolean;
  addedAt: string;
}

const fileSchema = z.strictObject({
  version: z.literal(1),
  devices: z.array(
    z.strictObject({
      mac: z.string(),
      id: identifier,
      name: z.string(),
      format: z.enum(BLE_FORMATS),
      bindKey: z.string().optional(),
      addedAt: z.string(),
    }),
  ),
});

/** `54:48:E6:8F:80:A5` → `ble-5448e68f80a5`. */
export function defaultSensorId(mac: string): string {
  return `ble-${mac.replaceAll(':', '').toLowerCase()}`;
}

export function viewOf(entry: AllowlistEntry): AllowlistEntryView {
  return {
    mac: entry.mac,
    id: entry.id,
    name: entry.name,
    format: entry.format,
    encrypted: entry.bindKey !== undefined,
    addedAt: new Date(entry.addedAt).toISOString(),
  };
}

/**
 * The BLE allowlist in `<dir>/allowlist.json` (0600). Only listed devices produce readings.
 * Bind keys are sealed with SecretBox. Writes are atomic and durable (fsynced temp file + rename); another process
 * (the CLI) may change the file, and `refreshIfChanged` picks that up.
 */
export class AllowlistStore {
  private entries = new Map<string, AllowlistEntry>();
  private box: SecretBox | undefined;
  private stamp = '';

  constructor(private readonly deps: { dir: string }) {}

  get file(): string {
    return join(this.deps.dir, 'allowlist.json');
  }

  load(): void {
    mkdirSync(this.deps.dir, { recursive: true, mode: 0o700 });
    this.box = SecretBox.openOrCreate(this.deps.dir);
    this.stamp = this.currentStamp();
    this.entries = this.read();
  }

  /** Re-reads the file when another process changed it; returns whether it did. */
  refreshIfChanged(): boolean {
    const stamp = this.currentStamp();
    if (stamp === this.stamp) return false;
    this.stamp = stamp;
    this.entries = this.read();
    return true;
  }

  get(mac: string): AllowlistEntry | undefined {
    return this.entries.get(mac.toUpperCase());
  }

  list(): AllowlistEntryView[] {
    return [...this.entries.values()].sort((a, b) => a.id.localeCompare(b.id)).map(viewOf);
  }

  all(): AllowlistEntry[] {
    return [...this.entries.values()];
  }

  upsert(entry: AllowlistEntry): void {
    if (!identifier.safeParse(entry.id).success) {
      throw new UserError(`sensor id "${entry.id}": expected 1-64 letters, digits, ".", "_" or "-", starting with a letter or digit`);
    }
    const clash = [...this.entries.values()].find((e) => e.id === entry.id && e.mac !== entry.mac);
    if (clash) throw new UserError(`sensor id "${entry.id}" is already used by ${clash.mac}; choose another id`);
    this.entries.set(entry.mac, entry);
    this.write();
  }

  remove(mac: string): boolean {
    const removed = this.entries.delete(normalizeMac(mac));
    if (removed) this.write();
    return removed;
  }

  private read(): Map<string, AllowlistEntry> {
    let text: string;
    try {
      text = readFileSync(this.file, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return new Map();
      throw error;
    }
    const parsed = fileSchema.safeParse(JSON.parse(text));
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      throw new UserError(`${this.file}: invalid allowlist at "${issue?.path.join('.')}": ${issue?.message}`);
    }
    const box = this.secretBox();
    const entries = new Map<string, AllowlistEntry>();
    for (const device of parsed.data.devices) {
      const mac = normalizeMac(device.mac);
      let bindKey: Uint8Array | undefined;
      if (device.bindKey !== undefined) {
        try {
          bindKey = box.open(device.bindKey, mac);
        } catch {
          throw new UserError(`${this.file}: the bind key of ${mac} cannot be decrypted (was keys/allowlist.key replaced?); remove and re-add the device`);
        }
      }
      entries.set(mac, {
        mac,
        id: device.id,
        name: device.name,
        format: device.format,
        addedAt: Date.parse(device.addedAt),
        ...(bindKey ? { bindKey } : {}),
      });
    }
    return entries;
  }

  private write(): void {
    const box = this.secretBox();
    const devices = [...this.entries.values()].map((e) => ({
      mac: e.mac,
      id: e.id,
      name: e.name,
      format: e.format,
      ...(e.bindKey ? { bindKey: box.seal(e.bindKey, e.mac) } : {}),
      addedAt: new Date(e.addedAt).toISOString(),
    }));
    writeFileDurablySync(this.file, `${JSON.stringify({ version: 1, devices }, null, 2)}\n`, 0o600);
    this.stamp = this.currentStamp();
  }

  private secretBox(): SecretBox {
    if (!this.box) throw new Error('AllowlistStore used before load()');
    return this.box;
  }

  private currentStamp(): string {
    try {
      const stat = statSync(this.file);
      return `${stat.mtimeMs}:${stat.size}:${stat.ino}`;
    } catch {
      return 'missing';
    }
  }
}
