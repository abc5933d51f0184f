import type { z } from 'zod';
import { ConfigError } from '../shared/errors.js';
import { configJsonSchema, configSchema, type Config } from '../shared/config/schema.js';
import { closestMatch } from '../shared/suggest.js';

type JsonSchemaNode = {
  properties?: Record<string, JsonSchemaNode>;
  items?: JsonSchemaNode;
  anyOf?: JsonSchemaNode[];
};

let cachedJsonSchema: JsonSchemaNode | undefined;

/** Keys allowed at a config path, read from the exported JSON Schema so there is one source of truth. */
function allowedKeysAt(path: readonly PropertyKey[]): string[] {
  cachedJsonSchema ??= configJsonSchema() as JsonSchemaNode;
  let nodes: JsonSchemaNode[] = [cachedJsonSchema];
  for (const segment of path) {
    const next: JsonSchemaNode[] = [];
    for (const node of nodes.flatMap((n) => [n, ...(n.anyOf ?? [])])) {
      const child = typeof segment === 'number' ? node.items : node.properties?.[String(segment)];
      if (child) next.push(child);
    }
    nodes = next;
  }
  return [...new Set(nodes.flatMap((n) => [n, ...(n.anyOf ?? [])]).flatMap((n) => Object.keys(n.properties ?? {})))];
}

function formatPath(path: readonly PropertyKey[]): string {
  return path.length === 0 ? '(top level)' : path.map(String).join('.');
}

function describeValue(value: unknown): string {
  if (value === undefined) return 'nothing';
  const text = JSON.stringify(value);
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}

function formatIssue(issue: z.core.$ZodIssue): string[] {
  if (issue.code === 'unrecognized_keys') {
    const allowed = allowedKeysAt(issue.path);
    return issue.keys.map((key) => {
      const suggestion = closestMatch(key, allowed);
      const hint = suggestion ? `did you mean "${suggestion}"?` : `allowed keys: ${allowed.join(', ')}`;
      return `"${formatPath([...issue.path, key])}": unknown key; ${hint}`;
    });
  }
  if (issue.code === 'invalid_type' && issue.input === undefined) {
    return [`"${formatPath(issue.path)}": required, expected ${issue.expected}`];
  }
  return [`"${formatPath(issue.path)}": ${issue.message}, got ${describeValue(issue.input)}`];
}

/** Validates a parsed config document; throws ConfigError listing every problem. */
export function validateConfig(document: unknown): Config {
  const result = configSchema.safeParse(document, { reportInput: true });
  if (result.success) return result.data;
  throw new ConfigError(result.error.issues.flatMap(formatIssue));
}
