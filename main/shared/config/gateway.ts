import { z } from 'zod';
import { filePath, identifier } from './common.js';

export const gatewaySchema = z.strictObject({
  /** Must equal the CN of the device certificate: the broker's ACL confines the gateway to it. */
  id: identifier,
  dataDir: filePath.describe('Where the buffer, identity and OTA state live'),
});

export const logSchema = z
  .strictObject({
    level: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace']).default('info'),
  })
  .default({ level: 'info' });

const IPV4 = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;

/** An IPv4 or IPv6 literal (no brackets, no zone); names are refused: DNS decides where they point. */
export function isIpLiteral(host: string): boolean {
  if (IPV4.test(host)) return true;
  if (!host.includes(':') || !/^[0-9a-fA-F:.]+$/.test(host)) return false;
  try {
    return new URL(`http://[${host}]/`).hostname.length > 2;
  } catch {
    return false;
  }
}

/** 127.0.0.0/8 and ::1, as literals only (`127.attacker.example` is a name, not loopback). */
export function isLoopbackHost(host: string): boolean {
  if (IPV4.test(host)) return host.startsWith('127.');
  return isIpLiteral(host) && new URL(`http://[${host}]/`).hostname === '[::1]';
}

export const UI_SESSION_DEFAULTS = { idleMinutes: 15, absoluteHours: 12 } as const;

export const uiSchema = z
  .strictObject({
    enabled: z.boolean().default(true),
    host: z
      .string()
      .min(1)
      .default('127.0.0.1')
      .refine(isIpLiteral, { error: 'expected an IP address literal such as 127.0.0.1, 0.0.0.0 or ::1 (host names are refused: use 127.0.0.1 for loopback)' })
      .describe('Loopback by default'),
    port: z.number().int().min(0).max(65535).default(8080),
    /**
     * HTTPS on or off; default: on beyond loopback, off on loopback. Plain HTTP beyond loopback
     * is refused.
     */
    https: z.boolean().optional(),
    /** The HTTPS certificate and key (PEM); without them a self-signed ECDSA P-256 one is made under gateway.dataDir. */
    certFile: filePath.optional(),
    keyFile: filePath.optional(),
    /** Extra names and addresses browsers use to reach the UI: added to the self-signed certificate and accepted as Host. */
    serverNames: z.array(z.string().min(1).max(253).regex(/^[A-Za-z0-9.:-]+$/, { error: 'expected a DNS name or IP address' })).default([]),
    /** The box's own Electron window: `login` asks for a password, `trusted` opens signed in as admin. */
    localWindow: z.enum(['login', 'trusted']).default('login'),
    /** The box's own Electron window as a kiosk: full screen, no menu, no developer tools, reloaded after a crash. */
    kiosk: z.boolean().default(false),
    session: z
      .strictObject({
        /** A session unused this long ends. */
        idleMinutes: z.number().int().min(1).max(24 * 60).default(UI_SESSION_DEFAULTS.idleMinutes),
        /** A session ends this long after login whatever happens. */
        absoluteHours: z.number().int().min(1).max(24 * 7).default(UI_SESSION_DEFAULTS.absoluteHours),
      })
      .prefault({}),
    /** Simultaneous connections (HTTP and WebSocket) beyond which new ones are refused. */
    maxConnections: z.number().int().min(4).max(10_000).default(64),
    /** File holding a bearer token for machine clients (Prometheus, automation); 32+ characters, mode 0600. */
    tokenFile: filePath.optional(),
  })
  .superRefine((ui, ctx) => {
    if (!isIpLiteral(ui.host)) return;
    if (!isLoopbackHost(ui.host) && ui.https === false) {
      ctx.addIssue({
        code: 'custom',
        path: ['https'],
        input: false,
        message: `ui.host "${ui.host}" is reachable from the network: plain HTTP is refused there; remove ui.https (HTTPS with a self-signed certificate) or listen on 127.0.0.1`,
      });
    }
    if (Boolean(ui.certFile) !== Boolean(ui.keyFile)) {
      const missing = ui.certFile ? 'keyFile' : 'certFile';
      ctx.addIssue({ code: 'custom', path: [missing], input: undefined, message: `ui.certFile and ui.keyFile go together: set ui.${missing} too` });
    }
  })
  .prefault({});

export type UiConfig = z.infer<typeof uiSchema>;

/** Whether the UI is served over HTTPS (on by default beyond loopback). */
export function uiUsesHttps(ui: Pick<UiConfig, 'host' | 'https' | 'certFile'>): boolean {
  return ui.https ?? (!isLoopbackHost(ui.host) || ui.certFile !== undefined);
}
