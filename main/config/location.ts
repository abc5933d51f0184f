/**
 * Where the service's config lives. Not under /etc: the unit's ProtectSystem=strict makes /etc
 * read-only, and live edits (API, UI) rewrite the file atomically next to itself, so it sits in
 * the state directory the unit may write.
 */
export const DEFAULT_CONFIG_FILE = '/var/lib/fieldgate/config/fieldgate.yaml';

/** An explicit path wins, then `FIELDGATE_CONFIG`, then the default. */
export function configFileFrom(explicit: string | undefined, env: NodeJS.ProcessEnv): string {
  return explicit ?? (env.FIELDGATE_CONFIG || DEFAULT_CONFIG_FILE);
}
