import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

// Helm installs CRDs only from the chart's own crds/ folder; it must be the same file as crds/.
describe('Helm chart CRD', () => {
  it('is identical to crds/virtualbmc.yaml (run: cp crds/virtualbmc.yaml charts/qemu-bmc/crds/)', () => {
    const source = readFileSync('crds/virtualbmc.yaml', 'utf8');
    const chart = readFileSync('charts/qemu-bmc/crds/virtualbmc.yaml', 'utf8');
    expect(chart).toBe(source);
  });
});
