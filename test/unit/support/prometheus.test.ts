import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { parsePrometheusText, sampleValue } from '../../support/prometheus.ts';

describe('parsePrometheusText (the e2e suite reads /metrics with it)', () => {
  it('reads what prom-client writes: types, help, labels with escapes, histogram samples', async () => {
    const registry = new Registry();
    new Counter({ name: 'x_total', help: 'a counter', labelNames: ['kind'], registers: [registry] }).inc(
      { kind: 'a "quoted"\\ value' },
      3,
    );
    new Gauge({ name: 'g', help: 'a gauge', registers: [registry] }).set(-1.5);
    new Histogram({ name: 'h_seconds', help: 'h', buckets: [0.1, 1], registers: [registry] }).observe(0.5);
    const families = parsePrometheusText(await registry.metrics());
    expect(families.get('x_total')?.type).toBe('counter');
    expect(families.get('x_total')?.help).toBe('a counter');
    expect(sampleValue(families, 'x_total', { kind: 'a "quoted"\\ value' })).toBe(3);
    expect(sampleValue(families, 'g')).toBe(-1.5);
    expect(families.get('h_seconds')?.samples.map((s) => s.name)).toEqual([
      'h_seconds_bucket',
      'h_seconds_bucket',
      'h_seconds_bucket',
      'h_seconds_sum',
      'h_seconds_count',
    ]);
    expect(sampleValue(families, 'h_seconds_bucket', { le: '+Inf' })).toBe(1);
    expect(sampleValue(families, 'h_seconds_bucket', { le: '0.1' })).toBe(0);
  });

  it('refuses what Prometheus would refuse, naming the line', () => {
    expect(() => parsePrometheusText('not a metric line at all\n')).toThrow(/not a metric line/);
    expect(() => parsePrometheusText('m{a="x} 1\n')).toThrow(/unterminated/);
    expect(() => parsePrometheusText('m{1a="x"} 1\n')).toThrow(/bad label name/);
    expect(() => parsePrometheusText('m{a=x} 1\n')).toThrow(/unquoted/);
    expect(() => parsePrometheusText('m one\n')).toThrow(/bad sample value/);
    expect(() => parsePrometheusText('# TYPE m countr\n')).toThrow(/unknown type/);
    expect(() => parsePrometheusText('m{a="1",a="2"} 1\n')).toThrow(/repeated/);
  });
});
