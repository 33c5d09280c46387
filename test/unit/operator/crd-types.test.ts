// The hand-kept TS types (operator/src/api/types.ts) and the CRD schema must describe the same fields.
import { readFileSync } from 'node:fs';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';

interface Schema {
  type?: string;
  properties?: Record<string, Schema>;
  items?: Schema;
  required?: string[];
  default?: unknown;
  enum?: unknown[];
}

const crd = parse(readFileSync('crds/virtualbmc.yaml', 'utf8'));
const root: Schema = crd.spec.versions[0].schema.openAPIV3Schema;

/** Interface name in types.ts for each object in the schema (path: properties joined by '.', '[]' for items). */
const INTERFACES: Record<string, string> = {
  spec: 'VirtualBMCSpec',
  'spec.vm': 'VmSpec',
  'spec.vm.disks[]': 'DiskSpec',
  'spec.vm.cdrom': 'CdromSpec',
  'spec.vm.networks[]': 'NetworkSpec',
  'spec.power': 'PowerSpec',
  'spec.credentialsSecretRef': 'CredentialsSecretRef',
  'spec.service': 'ServiceSpec',
  'spec.console': 'ConsoleSpec',
  'spec.agent': 'AgentSpec',
  'spec.agent.resources': 'AgentResources',
  status: 'VirtualBMCStatus',
  'status.bootOverride': 'BootOverrideStatus',
  'status.endpoints': 'Endpoints',
  'status.conditions[]': 'Condition',
};

function objectSchemas(schema: Schema, path: string, out: Map<string, Schema>): Map<string, Schema> {
  if (schema.properties) {
    if (path) out.set(path, schema);
    for (const [name, child] of Object.entries(schema.properties)) {
      if (path === '' && (name === 'metadata' || name === 'apiVersion' || name === 'kind')) continue;
      objectSchemas(child, path ? `${path}.${name}` : name, out);
    }
  }
  if (schema.items) objectSchemas(schema.items, `${path}[]`, out);
  return out;
}

function interfaces(): Map<string, Map<string, { optional: boolean; type: string }>> {
  const file = 'operator/src/api/types.ts';
  const source = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.Latest, true);
  const out = new Map<string, Map<string, { optional: boolean; type: string }>>();
  source.forEachChild((node) => {
    if (!ts.isInterfaceDeclaration(node)) return;
    const props = new Map<string, { optional: boolean; type: string }>();
    for (const m of node.members) {
      if (ts.isPropertySignature(m) && m.name && ts.isIdentifier(m.name)) {
        props.set(m.name.text, { optional: m.questionToken !== undefined, type: m.type?.getText(source) ?? '' });
      }
    }
    out.set(node.name.text, props);
  });
  return out;
}

describe('VirtualBMC types match the CRD schema', () => {
  const schemas = objectSchemas(root, '', new Map());
  const types = interfaces();

  it('maps every object in the schema to an interface', () => {
    const unmapped = [...schemas.keys()].filter((p) => !(p in INTERFACES));
    expect(unmapped).toEqual([]);
  });

  for (const [path, name] of Object.entries(INTERFACES)) {
    it(`${path} ↔ ${name}: same fields, same required-ness`, () => {
      const schema = schemas.get(path);
      const iface = types.get(name);
      expect(schema, `schema has ${path}`).toBeDefined();
      expect(iface, `types.ts has interface ${name}`).toBeDefined();
      const schemaFields = Object.keys(schema?.properties ?? {}).sort();
      expect([...(iface?.keys() ?? [])].sort()).toEqual(schemaFields);
      for (const field of schemaFields) {
        const required = (schema?.required ?? []).includes(field);
        expect(iface?.get(field)?.optional, `${name}.${field} optional ⇔ not required in schema`).toBe(!required);
      }
    });
  }

  it('string enums in the schema equal the TS union literals', () => {
    const checks: [string, string, string][] = [
      ['spec.vm', 'firmware', 'Firmware'],
      ['spec.vm', 'accelerator', 'Accelerator'],
      ['spec.power', 'restorePolicy', 'RestorePolicy'],
      ['spec.service', 'type', 'ServiceType'],
      ['spec.agent', 'logLevel', 'AgentLogLevel'],
    ];
    const text = readFileSync('operator/src/api/types.ts', 'utf8');
    for (const [path, field, alias] of checks) {
      const values = schemas.get(path)?.properties?.[field]?.enum as string[];
      const match = new RegExp(`export type ${alias} = ([^;]+);`).exec(text);
      const literals = (match?.[1] ?? '').split('|').map((s) => s.trim().replace(/'/g, ''));
      expect(literals.sort(), `${alias}`).toEqual([...values].sort());
    }
  });
});

describe('docs/crd.md', () => {
  it('is generated from the current CRD and examples (node operator/scripts/gen-crd-docs.ts)', async () => {
    const { generate } = await import('../../../operator/scripts/gen-crd-docs.ts');
    expect(readFileSync('docs/crd.md', 'utf8')).toBe(generate());
  });

  it('documents every spec and status field', () => {
    const doc = readFileSync('docs/crd.md', 'utf8');
    const fields: string[] = [];
    const walk = (s: Schema, path: string) => {
      fields.push(path);
      const obj = s.items ?? s;
      for (const [k, v] of Object.entries(obj.properties ?? {})) walk(v, `${s.items ? `${path}[]` : path}.${k}`);
    };
    walk(root.properties?.['spec'] as Schema, 'spec');
    walk(root.properties?.['status'] as Schema, 'status');
    expect(fields.length).toBeGreaterThan(50);
    for (const f of fields) expect(doc, f).toContain(`| \`${f}\` |`);
  });
});
