import type { UiConfig } from '../shared/config/gateway.js';
import { isIpLiteral, isLoopbackHost } from '../shared/config/gateway.js';
import { uiServerNames } from './https-cert.js';

/** `box.local:8443` → `box.local`; `[::1]:8080` → `::1`. Undefined when malformed. */
export function hostnameOf(hostHeader: string | undefined): string | undefined {
  if (!hostHeader) return undefined;
  const match = /^(?:\[([0-9a-fA-F:.]+)\]|([A-Za-z0-9._-]+))(?::(\d{1,5}))?$/.exec(hostHeader.trim());
  const name = match?.[1] ?? match?.[2];
  return name?.toLowerCase().replace(/\.$/, '');
}

/**
 * The Host names the UI answers to (besides IP literals, which no DNS rebinding can produce).
 * Anything else gets 421: a page on `attacker.example` that rebinds its DNS to 127.0.0.1 must not
 * reach the API.
 */
export function servedHostnames(ui: Pick<UiConfig, 'host' | 'serverNames'>): Set<string> {
  const names = new Set(uiServerNames(ui).map((name) => name.toLowerCase()));
  if (isLoopbackHost(ui.host) || ui.host === '0.0.0.0' || ui.host === '::') {
    for (const name of ['localhost', '127.0.0.1', '::1']) names.add(name);
  }
  return names;
}

/** A browser's Origin for a same-origin request: the scheme we serve and exactly the Host it asked for. */
export function originMatches(origin: string | undefined, hostHeader: string | undefined, scheme: 'http' | 'https'): boolean {
  if (!origin || !hostHeader) return false;
  try {
    const url = new URL(origin);
    return url.protocol === `${scheme}:` && url.host === new URL(`${scheme}://${hostHeader}`).host;
  } catch {
    return false;
  }
}

/** True when the request's Host is an IP literal or one of the served names. */
export function hostServed(hostname: string | undefined, served: ReadonlySet<string>): boolean {
  return hostname !== undefined && (served.has(hostname) || isIpLiteral(hostname));
}
