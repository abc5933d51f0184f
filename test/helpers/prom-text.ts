// A strict parser of the Prometheus text exposition format (0.0.4): # HELP / # TYPE lines and
// samples `name{label="value",…} value [timestamp]`, with the format's escapes. Anything else
// throws naming the line, so a malformed /metrics fails the test instead of being skipped.

export interface PromSample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

export interface PromFamily {
  name: string;
  type: 'counter' | 'gauge' | 'histogram' | 'summary' | 'untyped';
  help: string;
  samples: PromSample[];
}

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*/;
const TYPES = new Set(['counter', 'gauge', 'histogram', 'summary', 'untyped']);

function parseValue(text: string, line: number): number {
  if (text === '+Inf') return Infinity;
  if (text === '-Inf') return -Infinity;
  if (text === 'NaN') return NaN;
  if (!/^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(text)) throw new SyntaxError(`line ${line}: "${text}" is not a sample value`);
  return Number(text);
}

function unescape(text: string, escapes: Record<string, string>, line: number): string {
  return text.replace(/\\(.)/g, (_, char: string) => {
    const replaced = escapes[char];
    if (replaced === undefined) throw new SyntaxError(`line ${line}: unknown escape \\${char}`);
    return replaced;
  });
}

/** Which family a sample belongs to (a histogram's `_bucket`, `_sum`, `_count`). */
function familyOf(families: Map<string, PromFamily>, name: string): PromFamily | undefined {
  if (families.has(name)) return families.get(name);
  for (const suffix of ['_bucket', '_sum', '_count']) {
    if (!name.endsWith(suffix)) continue;
    const family = families.get(name.slice(0, -suffix.length));
    if (family && (family.type === 'histogram' || family.type === 'summary')) return family;
  }
  return undefined;
}

export function parsePrometheusText(text: string): Map<string, PromFamily> {
  const families = new Map<string, PromFamily>();
  if (!text.endsWith('\n')) throw new SyntaxError('the exposition must end with a newline');
  const lines = text.slice(0, -1).split('\n');
  lines.forEach((raw, index) => {
    const line = index + 1;
    if (raw === '') return;
    if (raw.startsWith('#')) {
      const meta = /^# (HELP|TYPE) ([a-zA-Z_:][a-zA-Z0-9_:]*) ?(.*)$/.exec(raw);
      if (!meta) return; // a plain comment
      const [, keyword, name, rest] = meta as unknown as [string, string, string, string];
      const family = families.get(name) ?? { name, type: 'untyped' as const, help: '', samples: [] };
      families.set(name, family);
      if (keyword === 'HELP') family.help = unescape(rest, { '\\': '\\', n: '\n' }, line);
      else {
        if (!TYPES.has(rest)) throw new SyntaxError(`line ${line}: unknown type "${rest}"`);
        if (family.samples.length > 0) throw new SyntaxError(`line ${line}: TYPE of ${name} after its samples`);
        family.type = rest as PromFamily['type'];
      }
      return;
    }
    const nameMatch = NAME.exec(raw);
    if (!nameMatch) throw new SyntaxError(`line ${line}: expected a metric name`);
    const name = nameMatch[0];
    let rest = raw.slice(name.length);
    const labels: Record<string, string> = {};
    if (rest.startsWith('{')) {
      rest = rest.slice(1);
      while (!rest.startsWith('}')) {
        const labelMatch = LABEL_NAME.exec(rest);
        if (!labelMatch) throw new SyntaxError(`line ${line}: expected a label name`);
        const label = labelMatch[0];
        rest = rest.slice(label.length);
        const value = /^="((?:[^"\\\n]|\\.)*)"/.exec(rest);
        if (!value) throw new SyntaxError(`line ${line}: expected ="…" after label ${label}`);
        if (label in labels) throw new SyntaxError(`line ${line}: label ${label} given twice`);
        labels[label] = unescape(value[1] as string, { '\\': '\\', n: '\n', '"': '"' }, line);
        rest = rest.slice(value[0].length);
        if (rest.startsWith(',')) rest = rest.slice(1);
        else if (!rest.startsWith('}')) throw new SyntaxError(`line ${line}: expected , or } after a label`);
      }
      rest = rest.slice(1);
    }
    const fields = /^ (\S+)(?: (-?\d+))?$/.exec(rest);
    if (!fields) throw new SyntaxError(`line ${line}: expected " value [timestamp]" after the name and labels`);
    let family = familyOf(families, name);
    if (!family) {
      family = { name, type: 'untyped', help: '', samples: [] };
      families.set(name, family);
    }
    family.samples.push({ name, labels, value: parseValue(fields[1] as string, line) });
  });
  return families;
}
