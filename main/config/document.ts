import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { isMap, isScalar, isSeq, parseDocument, type Document } from 'yaml';
import type { Config } from '../shared/config/schema.js';
import { ConfigError } from '../shared/errors.js';
import { replaceFileAtomically } from './atomic-write.js';
import { effectiveConfig } from './load.js';

/** Keys from the top, e.g. `['sensors', 'sim', 0, 'rate']`; an index equal to a list's length appends. */
export type ConfigPath = readonly (string | number)[];

/** One edit: set the value at a key path (maps and lists are merged node by node, so untouched keys keep their comments), or remove it. */
export type ConfigChange = { path: ConfigPath; value: unknown } | { path: ConfigPath; remove: true };

export interface ConfigSnapshot {
  /** Changes whenever the file's bytes change, by an edit or by hand. */
  version: string;
  /** Effective: with env overrides applied and paths resolved. */
  config: Config;
  /** The file's own content (no env overrides, paths as written), as the UI edits it. */
  document: unknown;
}

/** An edit was based on a version that is no longer the file's (someone else wrote in between). */
export class ConfigConflictError extends Error {
  readonly kind = 'config-conflict';
  constructor(readonly expectedVersion: string, readonly currentVersion: string) {
    super(`config changed since version ${expectedVersion} (now ${currentVersion}): reload it and apply the edit again`);
    this.name = 'ConfigConflictError';
  }
}

export interface ConfigDocumentDeps {
  file: string;
  env: NodeJS.ProcessEnv;
}

/**
 * The YAML file as the single source of truth: read it, or edit it with the version it was read
 * at. An edit is validated by the same schema (and error wording) as `config check`, keeps the
 * file's comments and key order, and is written atomically with the previous file kept as
 * `<file>.bak`. Edits in this process run one at a time, so none is lost to a race.
 */
export class ConfigDocument {
  private queue: Promise<unknown> = Promise.resolve();

  constructor(private readonly deps: ConfigDocumentDeps) {}

  get file(): string {
    return this.deps.file;
  }

  async read(): Promise<ConfigSnapshot> {
    const { text, document } = await this.load();
    return this.snapshot(text, document);
  }

  /** Applies `changes` to the file if it is still at `version`; throws ConfigConflictError or ConfigError otherwise. */
  update(changes: readonly ConfigChange[], version: string): Promise<ConfigSnapshot> {
    const run = this.queue.then(() => this.apply(changes, version));
    this.queue = run.catch(() => undefined);
    return run;
  }

  private async apply(changes: readonly ConfigChange[], version: string): Promise<ConfigSnapshot> {
    const { text, document } = await this.load();
    const current = versionOf(text);
    if (current !== version) throw new ConfigConflictError(version, current);
    for (const change of changes) applyChange(document, change);
    const next = document.toString({ lineWidth: 0 });
    const snapshot = this.snapshot(next, document);
    await replaceFileAtomically(this.deps.file, next);
    return snapshot;
  }

  private async load(): Promise<{ text: string; document: Document }> {
    let text: string;
    try {
      text = await readFile(this.deps.file, 'utf8');
    } catch (error) {
      throw new ConfigError([`config file "${this.deps.file}": ${(error as NodeJS.ErrnoException).code ?? String(error)}`]);
    }
    const document = parseDocument(text, { prettyErrors: true, uniqueKeys: true });
    if (document.errors.length > 0) {
      throw new ConfigError(document.errors.map((e) => `${this.deps.file}: invalid YAML: ${e.message.split('\n')[0]}`));
    }
    return { text, document };
  }

  private snapshot(text: string, document: Document): ConfigSnapshot {
    const config = effectiveConfig(document.toJS() ?? {}, this.deps.file, this.deps.env);
    return { version: versionOf(text), config, document: (document.toJS() as unknown) ?? {} };
  }
}

export function versionOf(text: string): string {
  return createHash('sha256').update(text).digest('hex').slice(0, 16);
}

function formatPath(path: ConfigPath): string {
  return path.length === 0 ? '(top level)' : path.join('.');
}

function applyChange(document: Document, change: ConfigChange): void {
  const path = change.path;
  if ('remove' in change) {
    if (path.length === 0 || !document.hasIn(path)) throw new ConfigError([`"${formatPath(path)}": nothing to remove there`]);
    document.deleteIn(path);
    return;
  }
  if (path.length === 0) {
    document.contents = merged(document, document.contents, change.value) as Document['contents'];
    return;
  }
  const parentPath = path.slice(0, -1);
  const key = path.at(-1) as string | number;
  const parent = parentPath.length === 0 ? document.contents : document.getIn(parentPath, true);
  if (isSeq(parent)) {
    if (typeof key !== 'number' || !Number.isInteger(key) || key < 0 || key > parent.items.length) {
      throw new ConfigError([`"${formatPath(path)}": expected a list index from 0 to ${parent.items.length}`]);
    }
    parent.set(key, merged(document, parent.get(key, true), change.value));
  } else if (isMap(parent)) {
    parent.set(key, merged(document, parent.get(key, true), change.value));
  } else if (parent === undefined || parent === null || (isScalar(parent) && parent.value === null)) {
    document.setIn(path, document.createNode(change.value));
  } else {
    throw new ConfigError([`"${formatPath(parentPath)}": is a value, not a section, so "${String(key)}" cannot be set in it`]);
  }
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** `value` written over `node`, reusing nodes (and so their comments) wherever the shape allows. */
function merged(document: Document, node: unknown, value: unknown): unknown {
  if (isMap(node) && isPlainObject(value)) {
    for (const pair of [...node.items]) {
      const key = isScalar(pair.key) ? pair.key.value : pair.key;
      if (!Object.hasOwn(value, String(key))) node.delete(pair.key);
    }
    for (const [key, child] of Object.entries(value)) node.set(key, merged(document, node.get(key, true), child));
    return node;
  }
  if (isSeq(node) && Array.isArray(value)) {
    value.forEach((child, index) => node.set(index, merged(document, node.get(index, true), child)));
    while (node.items.length > value.length) node.items.pop();
    return node;
  }
  if (isScalar(node) && (value === null || typeof value !== 'object')) {
    node.value = value;
    return node;
  }
  return document.createNode(value);
}
