// Property tests for config YAML: any text gives a Config or a ConfigError whose every problem
// names where it is (a key path in quotes, or the file with "invalid YAML"); nothing else escapes.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { parse, stringify } from 'yaml';
import { effectiveConfig, parseConfigText } from '../../../main/config/load.js';
import { ConfigError } from '../../../main/shared/errors.js';
import { fuzz, mutatedText } from './harness.js';

const SOURCE = '/etc/fieldgate/fieldgate.yaml';
const EXAMPLE = readFileSync(new URL('../../../../native-config/fieldgate.example.yaml', import.meta.url), 'utf8');
// A key path in quotes (keys may contain quotes themselves), the file, or the override's name.
const PROBLEM = /^("[^\n]*": |\/etc\/fieldgate\/fieldgate\.yaml: invalid YAML: |environment FIELDGATE__\w+: invalid YAML value: )/;

function loadChecked(text: string, env: NodeJS.ProcessEnv = {}): void {
  try {
    effectiveConfig(parseConfigText(text, SOURCE), SOURCE, env);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    assert.ok(error.problems.length > 0);
    for (const problem of error.problems) assert.match(problem, PROBLEM);
  }
}

/** Inputs that once escaped as a bare ReferenceError from the yaml library (found by this test). */
const REGRESSIONS = [
  'a: &a [x,x,x,x,x,x,x,x,x]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\nc: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]\nd: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]\ne: [*d,*d,*d,*d,*d,*d,*d,*d,*d]\n',
  'gateway: *missing\n',
  'gateway: {id: x}\n---\nb: 2\n',
  '? [a]\n: 1\n',
  '<<: {gateway: 1}\n',
  `${EXAMPLE}\nsensors: !!binary aGVsbG8=\n`,
  `${'- '.repeat(2_000)}x\n`,
];

const example = parse(EXAMPLE) as Record<string, unknown>;
const keyPaths = ['gateway.id', 'gateway.dataDir', 'buffer.maxRows', 'buffer.fullPolicy', 'buffer.synchronous', 'cloud.url', 'cloud.caFile', 'cloud.topicPrefix', 'sensors.sim', 'sensors.serial', 'sensors.ble', 'ui.host', 'ui.port', 'log.level', 'ota', 'identity', 'gateway.idd', 'extra'];
const yamlValue = fc.oneof(fc.jsonValue({ maxDepth: 3 }), fc.constantFrom('mqtt://user:pass@broker:1883', '../../etc/passwd', '0.0.0.0', -1, 1e309, '', '~'));

describe('fuzz: config YAML', () => {
  it('the example config mutated as text', () => {
    fuzz(mutatedText(fc.constant(EXAMPLE)), (text) => loadChecked(text), { regressions: REGRESSIONS, cases: 4_000 });
  });

  it('the example config with keys set to arbitrary values', () => {
    const edits = fc.array(fc.tuple(fc.constantFrom(...keyPaths), yamlValue), { minLength: 1, maxLength: 4 });
    fuzz(edits, (changes) => {
      const document = structuredClone(example);
      for (const [path, value] of changes) {
        const keys = path.split('.');
        let node = document;
        for (const key of keys.slice(0, -1)) {
          const child = node[key];
          node = (typeof child === 'object' && child !== null ? child : (node[key] = {})) as Record<string, unknown>;
        }
        node[keys.at(-1) as string] = value;
      }
      loadChecked(stringify(document));
    }, { cases: 4_000 });
  });

  it('random YAML-ish text and environment overrides', () => {
    const yamlish = fc.string({ unit: fc.constantFrom('a', ':', ' ', '\n', '-', '[', ']', '{', '}', '&', '*', '!', '|', '>', '#', "'", '"', '?', ',', '1', '<'), maxLength: 80 });
    const env = fc.dictionary(fc.constantFrom('FIELDGATE__CLOUD__URL', 'FIELDGATE__BUFFER__MAX_ROWS', 'FIELDGATE__UI__PORT', 'FIELDGATE__SENSORS'), yamlish, { maxKeys: 2 });
    fuzz(fc.tuple(yamlish, env), ([text, overrides]) => {
      loadChecked(text);
      loadChecked(EXAMPLE, overrides);
    }, { cases: 2_000 });
  });
});
