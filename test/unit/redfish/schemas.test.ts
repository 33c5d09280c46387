// The schema copy step and what the service derives from the copied files.
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { baseRegistry, csdl, loadCsdl, odataType } from '../../../bmc-agent/src/redfish/schemas/catalog.ts';
import { CSDL_FILES, syncSchemas } from '../../../bmc-agent/src/redfish/schemas/sync-schemas.ts';

describe('Redfish schemas', () => {
  const dir = mkdtempSync(join(tmpdir(), 'redfish-schemas-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('sync copies the listed CSDL, the newest Base and ResourceEvent registries and the license', () => {
    const bundle = join(dir, 'bundle');
    mkdirSync(join(bundle, 'csdl'), { recursive: true });
    mkdirSync(join(bundle, 'registries'), { recursive: true });
    writeFileSync(join(bundle, 'LICENSE.md'), 'BSD-3');
    for (const name of [...CSDL_FILES, 'Unused'])
      writeFileSync(
        join(bundle, 'csdl', `${name}_v1.xml`),
        `<Schema xmlns="x" Namespace="${name}.v1_2_0"/><Schema xmlns="x" Namespace="${name}.v1_10_0"/><Schema xmlns="x" Namespace="${name}.v1_9_1"/>`,
      );
    for (const v of ['1.9.0', '1.22.1', '1.3.0'])
      writeFileSync(join(bundle, 'registries', `Base.${v}.json`), JSON.stringify({ v }));
    writeFileSync(join(bundle, 'registries', 'ResourceEvent.1.4.3.json'), '{}');
    const out = join(dir, 'out');
    syncSchemas(bundle, out);
    expect(readdirSync(join(out, 'csdl')).length).toBe(CSDL_FILES.length);
    expect(JSON.parse(readFileSync(join(out, 'registries', 'Base.json'), 'utf8'))).toEqual({ v: '1.22.1' });
    expect(readFileSync(join(out, 'LICENSE.md'), 'utf8')).toBe('BSD-3');
    // Version order is numeric, not lexical.
    expect(loadCsdl(join(out, 'csdl')).find((s) => s.namespace === 'ComputerSystem')?.latest).toBe(
      'ComputerSystem.v1_10_0',
    );
  });

  it('the shipped copies cover every type the service names, at their newest versions', () => {
    expect(csdl.map((s) => s.namespace).sort()).toEqual([...CSDL_FILES].sort());
    expect(odataType('ComputerSystem')).toMatch(/^#ComputerSystem\.v1_\d+_\d+\.ComputerSystem$/);
    expect(odataType('ComputerSystemCollection')).toBe('#ComputerSystemCollection.ComputerSystemCollection');
    expect(() => odataType('Processor')).toThrow(/sync-schemas/);
    expect(baseRegistry.Id).toMatch(/^Base\.1\.\d+\.\d+$/);
    for (const id of ['MalformedJSON', 'PropertyValueTypeError', 'ActionParameterValueNotInList', 'PropertyUnknown'])
      expect(baseRegistry.Messages[id]).toBeDefined();
  });
});
