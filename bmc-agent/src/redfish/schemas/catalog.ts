// What the copied DMTF files say: the newest version namespace of each CSDL schema (so @odata.type and
// $metadata agree with the files we ship) and the message registries used for errors and events.
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));

export interface RegistryMessage {
  Message: string;
  MessageSeverity?: string;
  Severity?: string;
  NumberOfArgs?: number;
  Resolution?: string;
}

export interface MessageRegistry {
  Id: string; // e.g. Base.1.22.1
  RegistryPrefix: string;
  RegistryVersion: string;
  Messages: Record<string, RegistryMessage>;
}

export interface CsdlSchema {
  /** File name, e.g. ComputerSystem_v1.xml. */
  file: string;
  /** Unversioned namespace, e.g. ComputerSystem. */
  namespace: string;
  /** Newest versioned namespace, e.g. ComputerSystem.v1_27_0; undefined for collections. */
  latest: string | undefined;
}

function versionKey(ns: string): number[] {
  const m = /\.v(\d+)_(\d+)_(\d+)$/.exec(ns);
  return m ? [Number(m[1]), Number(m[2]), Number(m[3])] : [0, 0, 0];
}

function compareVersions(a: string, b: string): number {
  const va = versionKey(a);
  const vb = versionKey(b);
  for (let i = 0; i < 3; i++) if (va[i] !== vb[i]) return (va[i] ?? 0) - (vb[i] ?? 0);
  return 0;
}

export function loadCsdl(dir = join(here, 'csdl')): CsdlSchema[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith('_v1.xml'))
    .sort()
    .map((file) => {
      const namespace = file.replace(/_v1\.xml$/, '');
      const xml = readFileSync(join(dir, file), 'utf8');
      const versions = [...xml.matchAll(/<Schema [^>]*Namespace="([^"]+)"/g)]
        .map((m) => m[1] ?? '')
        .filter((ns) => ns.startsWith(`${namespace}.v`));
      versions.sort(compareVersions);
      const newest = versions.at(-1);
      // A regex match is a slice of the file's text and keeps all of it alive (27 files, ~2 MiB at run time):
      // keep a copy instead.
      const latest = newest === undefined ? undefined : Buffer.from(newest, 'utf8').toString('utf8');
      return { file, namespace, latest };
    });
}

function loadRegistry(prefix: string): MessageRegistry {
  const parsed: unknown = JSON.parse(readFileSync(join(here, 'registries', `${prefix}.json`), 'utf8'));
  const reg = parsed as MessageRegistry;
  if (typeof reg.Id !== 'string' || typeof reg.Messages !== 'object') throw new Error(`bad registry file ${prefix}`);
  return reg;
}

export const csdl = loadCsdl();
export const baseRegistry = loadRegistry('Base');
export const resourceEventRegistry = loadRegistry('ResourceEvent');

const latestByNamespace = new Map(csdl.map((s) => [s.namespace, s.latest]));

/** '#ComputerSystem.v1_27_0.ComputerSystem' for 'ComputerSystem'; '#XCollection.XCollection' for collections. */
export function odataType(namespace: string, typeName = namespace): string {
  if (!latestByNamespace.has(namespace))
    throw new Error(`schema ${namespace} is not in schemas/csdl (add it to sync-schemas.ts)`);
  const latest = latestByNamespace.get(namespace);
  return latest ? `#${latest}.${typeName}` : `#${namespace}.${typeName}`;
}
