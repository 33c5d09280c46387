/**
 * A strict reader of the Prometheus text exposition format (version 0.0.4), for tests that scrape /metrics as
 * Prometheus would: every line must be a comment, a HELP/TYPE line or a sample, or parsing fails with the line.
 * https://prometheus.io/docs/instrumenting/exposition_formats/
 */

export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

export interface MetricFamily {
  name: string;
  type: string;
  help: string;
  samples: Sample[];
}

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
const TYPES = new Set(['counter', 'gauge', 'histogram', 'summary', 'untyped']);
/** Sample names a family of this type may expose besides its own name. */
const SUFFIXES: Record<string, string[]> = {
  histogram: ['_bucket', '_sum', '_count'],
  summary: ['_sum', '_count'],
};

function parseValue(text: string, line: string): number {
  if (text === '+Inf') return Number.POSITIVE_INFINITY;
  if (text === '-Inf') return Number.NEGATIVE_INFINITY;
  if (text === 'NaN') return Number.NaN;
  const value = Number(text);
  if (text === '' || Number.isNaN(value)) throw new Error(`metrics: bad sample value in line: ${line}`);
  return value;
}

/** Parses `{a="x",b="y"}` starting at `start` (the brace); returns the labels and the index after the brace. */
function parseLabels(line: string, start: number): { labels: Record<string, string>; end: number } {
  const labels: Record<string, string> = {};
  let i = start + 1;
  for (;;) {
    if (line[i] === '}') return { labels, end: i + 1 };
    const eq = line.indexOf('=', i);
    if (eq < 0) throw new Error(`metrics: bad labels in line: ${line}`);
    const name = line.slice(i, eq).trim();
    if (!LABEL_NAME.test(name)) throw new Error(`metrics: bad label name '${name}' in line: ${line}`);
    if (line[eq + 1] !== '"') throw new Error(`metrics: unquoted label value in line: ${line}`);
    let value = '';
    let j = eq + 2;
    for (; j < line.length && line[j] !== '"'; j++) {
      if (line[j] === '\\') {
        const next = line[++j];
        value += next === 'n' ? '\n' : (next ?? '');
      } else value += line[j];
    }
    if (j >= line.length) throw new Error(`metrics: unterminated label value in line: ${line}`);
    if (name in labels) throw new Error(`metrics: label '${name}' repeated in line: ${line}`);
    labels[name] = value;
    i = j + 1;
    if (line[i] === ',') i++;
    else if (line[i] !== '}') throw new Error(`metrics: expected ',' or '}' in line: ${line}`);
  }
}

export function parsePrometheusText(text: string): Map<string, MetricFamily> {
  const families = new Map<string, MetricFamily>();
  const family = (name: string): MetricFamily => {
    let f = families.get(name);
    if (!f) {
      f = { name, type: 'untyped', help: '', samples: [] };
      families.set(name, f);
    }
    return f;
  };
  /** The family a sample belongs to: its own name, or the name without a histogram/summary suffix. */
  const owner = (sampleName: string): MetricFamily => {
    for (const [name, f] of families) {
      if (sampleName === name) return f;
      if ((SUFFIXES[f.type] ?? []).some((suffix) => sampleName === name + suffix)) return f;
    }
    return family(sampleName);
  };

  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    if (line.startsWith('#')) {
      const match = /^# (HELP|TYPE) (\S+) ?(.*)$/.exec(line);
      if (!match) continue; // plain comment
      const [, kind, name = '', rest = ''] = match;
      if (!METRIC_NAME.test(name)) throw new Error(`metrics: bad metric name in line: ${line}`);
      if (kind === 'TYPE') {
        if (!TYPES.has(rest)) throw new Error(`metrics: unknown type in line: ${line}`);
        const f = family(name);
        if (f.samples.length > 0) throw new Error(`metrics: TYPE after samples in line: ${line}`);
        f.type = rest;
      } else family(name).help = rest;
      continue;
    }
    const nameEnd = line.search(/[{ ]/);
    if (nameEnd <= 0) throw new Error(`metrics: not a sample: ${line}`);
    const name = line.slice(0, nameEnd);
    if (!METRIC_NAME.test(name)) throw new Error(`metrics: bad metric name in line: ${line}`);
    let labels: Record<string, string> = {};
    let rest = line.slice(nameEnd);
    if (line[nameEnd] === '{') {
      const parsed = parseLabels(line, nameEnd);
      labels = parsed.labels;
      rest = line.slice(parsed.end);
    }
    const fields = rest.trim().split(/\s+/);
    if (fields.length < 1 || fields.length > 2) throw new Error(`metrics: bad sample in line: ${line}`);
    owner(name).samples.push({ name, labels, value: parseValue(fields[0] ?? '', line) });
  }
  return families;
}

/** The value of one sample, or undefined; `labels` must all match (others may be present). */
export function sampleValue(
  families: Map<string, MetricFamily>,
  name: string,
  labels: Record<string, string> = {},
): number | undefined {
  for (const f of families.values())
    for (const s of f.samples)
      if (s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v)) return s.value;
  return undefined;
}
