import { isGatewayError } from './client/index.js';
import { errorMessage } from './format.js';

/**
 * Spreads an API error over the form: each message goes next to the field it names. Keys are the
 * API's dotted paths; `localKey` maps one to the form's field name (or undefined: not on this form).
 * What names no field on the form is returned under `form`.
 */
export function fieldErrors(error: unknown, localKey: (path: string) => string | undefined): Record<string, string> {
  const errors: Record<string, string> = {};
  const put = (path: string | undefined, message: string) => {
    const key = (path && localKey(path)) ?? 'form';
    errors[key] = errors[key] ? `${errors[key]}; ${message}` : message;
  };
  if (!isGatewayError(error)) {
    put(undefined, errorMessage(error));
    return errors;
  }
  const { issues, field, message, hint } = error.body;
  if (issues && issues.length > 0) for (const issue of issues) put(issue.path, issue.message);
  else put(field, hint ? `${message} ${hint}` : message);
  return errors;
}

/** `sensors.serial.2.baudRate` → `baudRate`; `settings.caFile` → `caFile`. */
export function lastSegment(path: string): string {
  return path.split('.').filter((part) => !/^\d+$/.test(part)).at(-1) ?? path;
}
