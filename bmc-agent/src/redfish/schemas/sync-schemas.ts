// Copies the few DMTF files the Redfish service uses (CSDL for $metadata, message registries for
// error bodies and events) from the DSP8010 bundle into the repo, so nothing reads ../shared at runtime.
// Usage: node bmc-agent/src/redfish/schemas/sync-schemas.ts [bundle-dir]
import { copyFileSync, mkdirSync, readdirSync, rmSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** CSDL files whose namespaces $metadata references (one per resource type served, plus their shared bases). */
export const CSDL_FILES = [
  'ServiceRoot',
  'ComputerSystemCollection',
  'ComputerSystem',
  'ManagerCollection',
  'Manager',
  'ChassisCollection',
  'Chassis',
  'VirtualMediaCollection',
  'VirtualMedia',
  'EthernetInterfaceCollection',
  'EthernetInterface',
  'ManagerNetworkProtocol',
  'SessionService',
  'SessionCollection',
  'Session',
  'AccountService',
  'ManagerAccountCollection',
  'ManagerAccount',
  'RoleCollection',
  'Role',
  'EventService',
  'EventDestinationCollection',
  'EventDestination',
  'Event',
  'Message',
  'Resource',
  'RedfishExtensions',
] as const;

/** Message registries: Base for error bodies, ResourceEvent for SSE events. Newest version of each is copied. */
export const REGISTRY_PREFIXES = ['Base', 'ResourceEvent'] as const;

const here = dirname(fileURLToPath(import.meta.url));

function newestRegistry(files: string[], prefix: string): string {
  const versions = files
    .map((f) => new RegExp(`^${prefix}\\.(\\d+)\\.(\\d+)\\.(\\d+)\\.json$`).exec(f))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => ({ file: m[0], v: [Number(m[1]), Number(m[2]), Number(m[3])] }));
  versions.sort((a, b) => a.v[0]! - b.v[0]! || a.v[1]! - b.v[1]! || a.v[2]! - b.v[2]!);
  const last = versions.at(-1);
  if (!last) throw new Error(`no ${prefix} registry in bundle`);
  return last.file;
}

export function syncSchemas(bundle: string, target = here): void {
  const csdlOut = join(target, 'csdl');
  const regOut = join(target, 'registries');
  rmSync(csdlOut, { recursive: true, force: true });
  rmSync(regOut, { recursive: true, force: true });
  mkdirSync(csdlOut, { recursive: true });
  mkdirSync(regOut, { recursive: true });
  for (const name of CSDL_FILES) copyFileSync(join(bundle, 'csdl', `${name}_v1.xml`), join(csdlOut, `${name}_v1.xml`));
  const registryFiles = readdirSync(join(bundle, 'registries'));
  for (const prefix of REGISTRY_PREFIXES) {
    // Stored without the version in the name so code does not change on an update; the version is inside.
    copyFileSync(join(bundle, 'registries', newestRegistry(registryFiles, prefix)), join(regOut, `${prefix}.json`));
  }
  copyFileSync(join(bundle, 'LICENSE.md'), join(target, 'LICENSE.md'));
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const bundle = resolve(process.argv[2] ?? join(here, '../../../../../shared/redfish/DSP8010-2025.4'));
  syncSchemas(bundle);
  console.log(`copied ${CSDL_FILES.length} CSDL files and ${REGISTRY_PREFIXES.length} registries from ${bundle}`);
}
