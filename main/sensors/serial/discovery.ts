import { readdir, readFile, realpath } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { SerialPort } from 'serialport';
import type { Logger } from '../../log/logger.js';

export interface DiscoveredPort {
  path: string;
  vendorId?: string;
  productId?: string;
  serialNumber?: string;
  /** The USB device's own names (its `manufacturer` and `product` strings), where it reports them. */
  manufacturer?: string;
  product?: string;
  /** The `/dev/serial/by-id/…` link pointing at this port, when udev made one. */
  byId?: string;
}

export interface UsbMatch {
  vendorId?: string;
  productId?: string;
  serialNumber?: string;
}

export interface PortDiscovery {
  list(): Promise<DiscoveredPort[]>;
}

export interface SystemPortDiscoveryDeps {
  log: Logger;
  /** `SerialPort.list()` by default; it runs `udevadm`, which minimal images and containers lack. */
  udevList?: () => Promise<UdevPort[]>;
  sysRoot?: string;
  devRoot?: string;
  timeoutMs?: number;
}

type UdevPort = { path: string; vendorId?: string; productId?: string; serialNumber?: string; manufacturer?: string };

/** How many directories up from a tty's device a USB device's idVendor file may be (tty → interface → device). */
const USB_ANCESTOR_LEVELS = 4;

/**
 * Lists serial ports with their USB identity. Uses `SerialPort.list()` and, where that fails or
 * finds nothing (no `udevadm`, no udev database, a hang), reads sysfs directly, so discovery
 * degrades instead of crashing the gateway.
 */
export class SystemPortDiscovery implements PortDiscovery {
  private warnedUdev = false;

  constructor(private readonly deps: SystemPortDiscoveryDeps) {}

  async list(): Promise<DiscoveredPort[]> {
    const byId = await this.byIdLinks();
    let ports: DiscoveredPort[] = [];
    try {
      const listed = await this.udevList();
      ports = await Promise.all(
        listed.map(async (p) => ({
          path: p.path,
          ...(p.vendorId && { vendorId: p.vendorId.toLowerCase() }),
          ...(p.productId && { productId: p.productId.toLowerCase() }),
          ...(p.serialNumber && { serialNumber: p.serialNumber }),
          ...(p.manufacturer && { manufacturer: p.manufacturer }),
          // udev's list has no product name; the USB device's own string is in sysfs.
          ...(await this.sysfsNames(p.path)),
        })),
      );
    } catch (error) {
      if (!this.warnedUdev) {
        this.warnedUdev = true;
        this.deps.log.warn({ err: (error as Error).message }, 'SerialPort.list() failed (is udevadm installed?); reading sysfs instead');
      }
    }
    // A failing udevadm can also make SerialPort.list() resolve with nothing (its output ends before it exits).
    if (ports.length === 0) ports = await this.sysfsList();
    return ports.map((port) => {
      const link = byId.get(port.path);
      return link ? { ...port, byId: link } : port;
    });
  }

  private udevList(): Promise<UdevPort[]> {
    const list = this.deps.udevList ?? (() => SerialPort.list());
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error('SerialPort.list() timed out')), this.deps.timeoutMs ?? 5000);
    });
    // Listing may reject synchronously or asynchronously; both end up in the caller's catch.
    return Promise.race([Promise.resolve().then(list), timeout]).finally(() => clearTimeout(timer));
  }

  private async sysfsNames(path: string): Promise<Pick<DiscoveredPort, 'manufacturer' | 'product'>> {
    const device = await realpath(join(this.deps.sysRoot ?? '/sys', 'class', 'tty', basename(path), 'device')).catch(() => undefined);
    if (device === undefined) return {};
    const { manufacturer, product } = await usbIdentity(device);
    return { ...(manufacturer && { manufacturer }), ...(product && { product }) };
  }

  private async sysfsList(): Promise<DiscoveredPort[]> {
    const sysRoot = this.deps.sysRoot ?? '/sys';
    const devRoot = this.deps.devRoot ?? '/dev';
    const ttyClass = join(sysRoot, 'class', 'tty');
    const names = await readdir(ttyClass).catch(() => [] as string[]);
    const ports: DiscoveredPort[] = [];
    for (const name of names.sort()) {
      const device = await realpath(join(ttyClass, name, 'device')).catch(() => undefined);
      if (device === undefined) continue;
      ports.push({ path: join(devRoot, name), ...(await usbIdentity(device)) });
    }
    return ports;
  }

  /** Maps each port's device path to its by-id link; empty when udev made none. */
  private async byIdLinks(): Promise<Map<string, string>> {
    const dir = join(this.deps.devRoot ?? '/dev', 'serial', 'by-id');
    const links = new Map<string, string>();
    for (const name of await readdir(dir).catch(() => [] as string[])) {
      const target = await realpath(join(dir, name)).catch(() => undefined);
      if (target !== undefined) links.set(target, join(dir, name));
    }
    return links;
  }
}

async function usbIdentity(device: string): Promise<UsbMatch & Pick<DiscoveredPort, 'manufacturer' | 'product'>> {
  let dir = device;
  for (let level = 0; level < USB_ANCESTOR_LEVELS && dir !== dirname(dir); level++, dir = dirname(dir)) {
    const vendorId = await readAttribute(dir, 'idVendor');
    if (vendorId === undefined) continue;
    const productId = await readAttribute(dir, 'idProduct');
    const serialNumber = await readAttribute(dir, 'serial');
    const manufacturer = await readAttribute(dir, 'manufacturer');
    const product = await readAttribute(dir, 'product');
    return {
      vendorId: vendorId.toLowerCase(),
      ...(productId && { productId: productId.toLowerCase() }),
      ...(serialNumber && { serialNumber }),
      ...(manufacturer && { manufacturer }),
      ...(product && { product }),
    };
  }
  return {};
}

async function readAttribute(dir: string, name: string): Promise<string | undefined> {
  const text = await readFile(join(dir, name), 'utf8').catch(() => undefined);
  const trimmed = text?.trim();
  return trimmed ? trimmed : undefined;
}

/** Ports whose identity has every field `match` gives. */
export function matchingPorts(ports: readonly DiscoveredPort[], match: UsbMatch): DiscoveredPort[] {
  return ports.filter(
    (port) =>
      (match.vendorId === undefined || port.vendorId === match.vendorId) &&
      (match.productId === undefined || port.productId === match.productId) &&
      (match.serialNumber === undefined || port.serialNumber === match.serialNumber),
  );
}

export function describeMatch(match: UsbMatch): string {
  return Object.entries(match)
    .map(([key, value]) => `${key}=${String(value)}`)
    .join(' ');
}
