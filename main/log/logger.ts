import { pino, type DestinationStream, type Logger } from 'pino';
import type { LogRing } from './log-ring.js';

export type { Logger };

/** Field names that may hold secret material. Anything logged under them is replaced. */
const SECRET_FIELDS = ['key', 'privateKey', 'password', 'passphrase', 'token', 'bindKey', 'secret', 'authorization'];

export const REDACT_PATHS = SECRET_FIELDS.flatMap((field) => [field, `*.${field}`, `*.*.${field}`]);

export interface LoggerOptions {
  level?: string;
  /** Defaults to stdout, where journald picks the JSON lines up. */
  destination?: DestinationStream;
  /** Also keeps every line (as written, so redacted) in this ring for the API's log view. */
  ring?: LogRing;
}

/** For CLI tools whose stdout carries their result: log lines go to stderr instead. */
export function stderrDestination(): DestinationStream {
  return pino.destination({ fd: 2, sync: true });
}

export function createLogger(options: LoggerOptions = {}): Logger {
  return pino(
    {
      level: options.level ?? 'info',
      base: { app: 'fieldgate' },
      redact: { paths: REDACT_PATHS, censor: '[redacted]' },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
    },
    tee(options.destination ?? pino.destination({ fd: 1, sync: false }), options.ring),
  );
}

type Flushable = DestinationStream & { flush?: (callback?: (error?: Error) => void) => void };

/** The destination, plus a copy of each line into the ring; flushing still reaches the destination. */
function tee(destination: Flushable, ring: LogRing | undefined): DestinationStream {
  if (!ring) return destination;
  return {
    write(line: string) {
      destination.write(line);
      ring.write(line);
    },
    flush(callback?: (error?: Error) => void) {
      if (destination.flush) destination.flush(callback);
      else callback?.();
    },
  } as Flushable;
}

/** A module's logger: every line carries `ns`, e.g. `{"ns":"uplink",…}`. */
export function namespaced(log: Logger, ns: string): Logger {
  return log.child({ ns });
}

export const silentLogger: Logger = pino({ level: 'silent' });
