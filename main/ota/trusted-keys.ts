import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseKeyset, type Keyset } from './documents.js';
import { OtaError } from './reasons.js';

/** The key set that ships with the app (dist/main/ota → native-config/ota). Production builds replace the file. */
export const SHIPPED_KEYS_FILE = fileURLToPath(new URL('../../../native-config/ota/trusted-keys.json', import.meta.url));

export function loadKeysetFile(path: string): Keyset {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new OtaError('keyset-invalid', `trusted key set "${path}" is unreadable: ${(error as NodeJS.ErrnoException).code ?? String(error)}`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new OtaError('keyset-invalid', `trusted key set "${path}" is not valid JSON`);
  }
  return parseKeyset(parsed, path);
}
